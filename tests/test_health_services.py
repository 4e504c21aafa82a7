"""Registry health-service costs (section 6.7): unit costs, costs per quarter, Table 6.J, offsets by DiD."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data import schema
from analysis.sections import health_services as hs

COUNT_COLUMNS = [c for c in schema.HEALTH_SERVICE_USE.columns if c not in ("patient_id", "quarter", "quarter_start")]

#: Round unit costs so that the hand computations below are easy to follow.
UNITS = pd.DataFrame(
    [(f"{a}_{k}", a, cost) for a in hs.SPECIALIST for k, cost in zip(schema.SPECIALIST_CONTACTS, (1000.0, 100.0, 10.0))]
    + [
        ("gp_contacts", "gp", 1.0),
        ("emergency_primary_care_contacts", "emergency_primary_care", 2.0),
        ("physiotherapy_contacts", "physiotherapy", 3.0),
    ],
    columns=["column", "category", "unit_cost_nok"],
)


def use_rows(*rows: tuple) -> pd.DataFrame:
    """Registry rows (patient, quarter, {column: count}); every other count is 0."""
    records = []
    for patient, quarter, counts in rows:
        record = {"patient_id": patient, "quarter": quarter, "quarter_start": pd.Timestamp("2022-01-01")}
        record.update({c: counts.get(c, 0) for c in COUNT_COLUMNS})
        records.append(record)
    return pd.DataFrame(records)


def test_unit_costs_come_from_supplementary_table_b_and_the_physiotherapy_assumption():
    units = hs.unit_costs().set_index("column")
    assert sorted(units.index) == sorted(COUNT_COLUMNS)
    assert units.loc["som_inpatient_days", "unit_cost_nok"] == 9500
    assert units.loc["tsb_outpatient", "unit_cost_nok"] == 1200
    assert units.loc["phv_day_care", "unit_cost_nok"] == 1800
    assert units.loc["gp_contacts", "unit_cost_nok"] == 1000
    assert units.loc["emergency_primary_care_contacts", "unit_cost_nok"] == 3350
    assert units.loc["physiotherapy_contacts", "source"] == "assumption of this edition"
    assert 0 < units.loc["physiotherapy_contacts", "unit_cost_nok"] < units.loc["gp_contacts", "unit_cost_nok"]


def test_quarter_costs_are_counts_times_unit_costs():
    use = use_rows(
        (
            "P1",
            -1,
            {
                "som_inpatient_days": 2,
                "som_outpatient": 3,
                "tsb_day_care": 1,
                "gp_contacts": 4,
                "physiotherapy_contacts": 1,
            },
        ),
        ("P1", 1, {"phv_outpatient": 5, "emergency_primary_care_contacts": 2}),
    )
    costs = hs.quarter_costs(use, UNITS).set_index("quarter")
    assert costs.loc[-1, "period"] == "before" and costs.loc[1, "period"] == "after"
    assert costs.loc[-1, "som"] == 2 * 1000 + 3 * 10
    assert costs.loc[-1, "tsb"] == 100 and costs.loc[-1, "phv"] == 0
    assert costs.loc[-1, hs.SPECIALIST_TOTAL] == 2030 + 100
    assert costs.loc[-1, hs.PRIMARY_TOTAL] == 4 * 1 + 1 * 3
    assert costs.loc[1, "phv"] == 50 and costs.loc[1, "emergency_primary_care"] == 4


def test_before_after_is_a_mean_per_patient_quarter_and_annualizes_by_four():
    # P1: before quarters 1000, 3000 (mean 2000); after 500, 0 (mean 250).
    # P2: before 4000 (mean 4000); no quarter after (admitted at the end of the data).
    use = use_rows(
        ("P1", -2, {"som_inpatient_days": 1}),
        ("P1", -1, {"som_inpatient_days": 3}),
        ("P1", 1, {"som_day_care": 5}),
        ("P1", 2, {}),
        ("P2", -1, {"som_inpatient_days": 4}),
    )
    table = hs.before_after(hs.period_costs(hs.quarter_costs(use, UNITS)), categories=("som",)).iloc[0]
    assert table["before"] == pytest.approx((2000 + 4000) / 2)
    assert table["after"] == pytest.approx(250)
    assert table["change"] == pytest.approx(250 - 3000)
    assert table["annualized_change"] == pytest.approx(4 * (250 - 3000))
    assert (table["n_before"], table["n_after"]) == (2, 1)


def test_trajectory_groups_follow_the_last_episode():
    episodes = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2", "P3", "P4", "P4"],
            "admission_date": pd.to_datetime(
                ["2022-01-01", "2023-01-01", "2022-02-01", "2022-03-01", "2022-01-01", "2022-06-01"]
            ),
            "discharge_date": pd.to_datetime(
                ["2022-06-01", None, "2023-01-01", "2022-09-01", "2022-03-01", "2024-01-01"]
            ),
            "discharge_type": ["planned", None, "planned", "unplanned", "planned", "unplanned"],
        }
    )
    groups = hs.trajectory_groups(episodes).set_index("patient_id")["group"]
    # P1 was discharged, then re-admitted and is still in treatment: continued
    assert groups.to_dict() == {"P1": "continued", "P2": "planned", "P3": "unplanned", "P4": "unplanned"}


def test_offsets_are_a_hand_computed_difference_in_differences():
    # Cost per quarter (som, via inpatient days at 1000): continued C1 4000 -> 1000, C2 2000 -> 1000 (change -2000);
    # planned P1 3000 -> 2000 (change -1000); unplanned U1 1000 -> 2000 (change +1000).
    use = use_rows(
        ("C1", -1, {"som_inpatient_days": 4}),
        ("C1", 1, {"som_inpatient_days": 1}),
        ("C2", -1, {"som_inpatient_days": 2}),
        ("C2", 1, {"som_inpatient_days": 1}),
        ("P1", -1, {"som_inpatient_days": 3}),
        ("P1", 1, {"som_inpatient_days": 2}),
        ("U1", -1, {"som_inpatient_days": 1}),
        ("U1", 1, {"som_inpatient_days": 2}),
    )
    groups = pd.DataFrame(
        {"patient_id": ["C1", "C2", "P1", "U1"], "group": ["continued", "continued", "planned", "unplanned"]}
    )
    periods = hs.period_costs(hs.quarter_costs(use, UNITS))
    offsets = hs.cost_offsets(periods, groups, categories=("som", hs.SPECIALIST_TOTAL)).set_index(
        ["comparison", "category"]
    )
    # annualized: continued change 4 x -2000 = -8000; planned 4 x -1000 = -4000; unplanned 4 x 1000 = 4000
    assert offsets.loc[("planned", "som"), "offset"] == pytest.approx(-4000 - (-8000))
    assert offsets.loc[("unplanned", "som"), "offset"] == pytest.approx(4000 - (-8000))
    assert offsets.loc[("planned", "som"), "did"] == pytest.approx(-4000)
    assert offsets.loc[("unplanned", hs.SPECIALIST_TOTAL), "offset"] == pytest.approx(12000)
    changes = hs.group_changes(periods, groups, categories=("som",)).set_index("group")
    assert changes.loc["continued", "change"] == pytest.approx(-8000)
    assert changes.loc["continued", "before"] == pytest.approx(4 * 3000)


def test_published_layout_uses_the_tables_names():
    offsets = pd.DataFrame(
        {
            "comparison": ["planned", "unplanned"],
            "category": ["tsb", hs.PRIMARY_TOTAL],
            "offset": [1.0, 2.0],
            "did": [-1.0, -2.0],
        }
    )
    six_i = hs.published_layout(offsets, "6I")
    assert six_i.to_dict("records") == [
        {"comparison": "continued_vs_planned_termination", "category": "tsb_sud", "value": 1.0}
    ]
    six_h = hs.published_layout(offsets, "6H")
    assert six_h.category.tolist() == ["total_primary_care"]
