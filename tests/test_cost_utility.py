"""Cost-utility tables (section 6.7) on a hand-built cohort whose answers are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.sections import cost_utility as cu
from analysis.sections import health_services as hs

END = pd.Timestamp("2024-12-31")
ACCOUNTS = pd.DataFrame(
    {"clinic": ["Oslo", "Bergen"], "year": [2024, 2024], "total_cost": [1000.0 * 457, 2000.0 * 183]}
)
#: Norwegian value set with only mobility costing anything, so utilities are easy: level 1 -> 1.0, 5 -> 0.0.
VALUES = pd.DataFrame(
    [
        (d, level, (level - 1) / 4 if d == "MO" else 0.0)
        for d in ("MO", "SC", "UA", "PD", "AD")
        for level in range(1, 6)
    ],
    columns=["dimension", "level", "decrement"],
)


def cohort():
    patients = pd.DataFrame({"patient_id": ["A", "B", "C", "D"], "clinic": ["Oslo", "Oslo", "Bergen", "Oslo"]})
    episodes = pd.DataFrame(
        {
            "patient_id": ["A", "B", "C", "D"],
            # A: 366 days (2024 is a leap year), still in treatment; B: 91 days, planned; C: 183 days, unplanned;
            # D: one answer only, so outside the sample, but its days count in Oslo's cost per day.
            "admission_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-07-01", "2024-01-01"]),
            "discharge_date": pd.to_datetime([None, "2024-03-31", "2024-12-30", "2024-01-01"]),
            "discharge_type": [None, "planned", "unplanned", "planned"],
        }
    )
    rows = [  # patient, date, mobility level (utility = 1 - (level - 1) / 4)
        ("A", "2024-01-01", 3),
        ("A", "2024-07-01", 1),
        ("A", "2024-12-31", 1),
        ("B", "2024-01-01", 5),
        ("B", "2024-03-31", 3),
        ("C", "2024-07-01", 2),
        ("C", "2024-12-30", 2),
        ("D", "2024-01-01", 1),
    ]
    q = pd.DataFrame(rows, columns=["patient_id", "questionnaire_date", "eq5d_mo"])
    q["questionnaire_date"] = pd.to_datetime(q["questionnaire_date"])
    for d in ("sc", "ua", "pd", "ad"):
        q[f"eq5d_{d}"] = 1
    return patients, episodes, q


def sample():
    patients, episodes, q = cohort()
    return cu.patient_table(episodes, patients, q, END, accounts=ACCOUNTS, values=VALUES).set_index("patient_id")


def test_program_costs_per_clinic_year_by_hand():
    patients, episodes, _ = cohort()
    days = cu.treatment_days(episodes, patients, END)
    table = cu.program_costs(days, ACCOUNTS).set_index("clinic")
    assert table.loc["Oslo", "patient_days"] == 366 + 91 + 1
    assert table.loc["Oslo", "n_patients"] == 3
    assert table.loc["Oslo", "cost_per_day"] == pytest.approx(457_000 / 458)
    assert table.loc["Bergen", "cost_per_day"] == pytest.approx(2000.0)
    total = cu.program_cost_total(days, cu.program_costs(days, ACCOUNTS))
    assert total["n_patients"] == 4 and total["patient_days"] == 458 + 183
    assert total["cost_per_patient_year"] == pytest.approx((457_000 + 366_000) / 641 * 365)


def test_a_clinic_year_without_accounts_is_an_error():
    patients, episodes, _ = cohort()
    days = cu.treatment_days(episodes, patients, END)
    with pytest.raises(ValueError, match="Bergen"):
        cu.program_costs(days, ACCOUNTS[ACCOUNTS.clinic == "Oslo"])


def test_patient_table_by_hand():
    s = sample()
    assert list(s.index) == ["A", "B", "C"]  # D has one utility: no area
    assert (
        s.loc["A", "group"] == "continued" and s.loc["B", "group"] == "planned" and s.loc["C", "group"] == "unplanned"
    )
    per_day_oslo = 457_000 / 458
    assert s.loc["A", "cost"] == pytest.approx(366 * per_day_oslo)
    assert s.loc["C", "cost"] == pytest.approx(183 * 2000.0)
    # A: utilities 0.5 -> 1 over 182 days, then 1 -> 1 over 183 days
    qalys_a = (182 * 0.75 + 183 * 1.0) / 365.25
    assert s.loc["A", "qalys"] == pytest.approx(qalys_a)
    assert s.loc["A", "follow_up_years"] == pytest.approx(366 / 365.25)
    assert s.loc["A", "annual_qalys"] == pytest.approx(qalys_a / (366 / 365.25))
    assert s.loc["B", "qalys"] == pytest.approx(90 * 0.25 / 365.25)  # 0 -> 0.5 over 90 days
    assert s.loc["C", "annual_cost"] == pytest.approx(183 * 2000.0 / (183 / 365.25))


def test_follow_up_counts_the_gap_between_episodes():
    episodes = pd.DataFrame(
        {
            "patient_id": ["A", "A"],
            "admission_date": pd.to_datetime(["2024-01-01", "2024-07-01"]),
            "discharge_date": pd.to_datetime(["2024-01-31", "2024-07-10"]),
        }
    )
    years = cu.follow_up_years(episodes, END).set_index("patient_id")["follow_up_years"]
    assert years["A"] == pytest.approx(((pd.Timestamp("2024-07-10") - pd.Timestamp("2024-01-01")).days + 1) / 365.25)


def test_accumulated_and_annualized_tables_by_hand():
    s = sample().reset_index()
    table = cu.accumulated_table(s).set_index("group")
    assert table.loc["continued", "n"] == 1 and table.loc["discontinued", "n"] == 2
    assert table.loc["discontinued", "cost_mean"] == pytest.approx((91 * 457_000 / 458 + 183 * 2000.0) / 2)
    assert table.loc["discontinued", "days_mean"] == pytest.approx((91 + 183) / 2)
    icer = cu.accumulated_icer(table.reset_index())
    assert icer["delta_cost"] == pytest.approx(
        table.loc["continued", "cost_mean"] - table.loc["discontinued", "cost_mean"]
    )
    assert icer["icer"] == pytest.approx(icer["delta_cost"] / icer["delta_qaly"])
    g = cu.annualized_comparisons(s).set_index("comparator")
    by = s.set_index("patient_id")
    assert g.loc["unplanned", "delta_cost"] == pytest.approx(by.loc["A", "annual_cost"] - by.loc["C", "annual_cost"])
    assert g.loc["unplanned", "delta_qaly"] == pytest.approx(by.loc["A", "annual_qalys"] - by.loc["C", "annual_qalys"])
    # A costs about 998 NOK a day, C 2,000: continued is cheaper per year and better: dominant, no ICER
    assert g.loc["unplanned", "status"] == "dominant" and math.isnan(g.loc["unplanned", "icer"])


def test_annualizing_by_the_measured_span_gives_the_mean_utility():
    s = cu.annualize(sample(), by="measured_span")
    assert s.loc["C", "annual_qalys"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="annualize"):
        cu.annualize(sample(), by="calendar")


def test_net_cost_subtracts_both_offsets():
    comparisons = pd.DataFrame({"comparator": ["unplanned"], "delta_cost": [103_344.0], "delta_qaly": [0.122]})
    offsets = pd.DataFrame(
        {
            "comparison": ["unplanned"] * 2,
            "category": [hs.SPECIALIST_TOTAL, hs.PRIMARY_TOTAL],
            "offset": [108_102.0, 1_782.0],
        }
    )
    out = cu.adjusted_comparisons(comparisons, offsets).iloc[0]
    assert out["net_delta_cost"] == pytest.approx(-6_540.0)  # the report's Table 6.K row
    assert out["status"] == "dominant"


def test_crime_table_by_hand():
    q = pd.DataFrame(
        {
            "patient_id": ["A", "A", "A", "B", "B", "C"],
            "questionnaire_date": pd.to_datetime(
                ["2024-01-01", "2024-04-01", "2024-07-01", "2024-01-01", "2024-07-01", "2024-01-01"]
            ),
            "crime_days_30d": [10, None, 4, 0, 2, 5],
        }
    )
    changes = cu.crime_changes(q, cost_per_day=3500).set_index("patient_id")
    assert changes.loc["A", "change"] == -6 and changes.loc["A", "annualized_change"] == -72
    assert changes.loc["C", "change"] == 0  # one answer: no change
    table = cu.crime_table(changes.reset_index()).set_index("variable")
    assert table.loc["change", "mean"] == pytest.approx((-6 + 2 + 0) / 3)
    assert table.loc["annualized_cost", "mean"] == pytest.approx(3500 * 12 * (-4 / 3))
    assert table.loc["baseline", "n"] == 3


def test_crime_cost_per_day_is_supplementary_table_c_applied_value():
    assert cu.crime_cost_per_day() == 3500
