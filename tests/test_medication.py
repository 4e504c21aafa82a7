"""Medication registrations (Appendix 3) on hand-built registrations whose answers are counted by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.data import schema
from analysis.presentation.scorecard import ledger
from analysis.sections import medication as med

DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean", "date": "datetime64[ns]"}


def registrations(rows: list[dict]) -> pd.DataFrame:
    """Registrations with the loader's column types; columns not given are empty (booleans false)."""
    defaults = {f.name: (False if f.type == "boolean" else None) for f in schema.MEDICATION.fields}
    defaults["registration_date"] = "2023-01-01"
    frame = pd.DataFrame([{**defaults, **row} for row in rows], columns=schema.MEDICATION.columns)
    return frame.astype({f.name: DTYPES[f.type] for f in schema.MEDICATION.fields})


def reg(pid: int, month: int, **values) -> dict:
    return {"patient_id": f"P{pid:03d}", "registration_month": month, **values}


# Month 1: four patients. P001 and P002 twice a day, P003 morning only, P004 afternoon only.
# Routes: iv, iv, im, empty. Route changes: P001 only (P004 not recorded).
SCHEDULE = registrations(
    [
        reg(1, 1, dam_morning=True, dam_afternoon=True, dam_route="intravenous", route_changes_weekly=True),
        reg(2, 1, dam_morning=True, dam_afternoon=True, dam_route="intravenous", route_changes_weekly=False),
        reg(3, 1, dam_morning=True, dam_afternoon=False, dam_route="intramuscular", route_changes_weekly=False),
        reg(4, 1, dam_morning=False, dam_afternoon=True, route_changes_weekly=None),
        reg(
            1,
            3,
            dam_morning=True,
            dam_afternoon=True,
            dam_route="oral",
            route_changes_weekly=True,
            other_opioid_in_place_of_dam=True,
        ),
        reg(
            2,
            3,
            dam_morning=None,
            dam_afternoon=True,
            dam_route="oral",
            route_changes_weekly=True,
            other_opioid_in_place_of_dam=True,
        ),
    ]
)


def test_schedule_shares_of_registrations_with_both_times_recorded():
    frame = med.dam_schedule(SCHEDULE).set_index(["registration_month", "schedule"])
    assert frame.loc[(1, "morning_and_afternoon"), "n"] == 2
    assert frame.loc[(1, "morning_only"), "n"] == 1
    assert frame.loc[(1, "afternoon_only"), "n"] == 1
    assert frame.loc[(1, "neither"), "n"] == 0
    assert frame.loc[(1, "morning_and_afternoon"), "percent"] == 50.0
    # month 3: P002's morning is not recorded, so the denominator is 1
    assert frame.loc[(3, "morning_and_afternoon"), "denominator"] == 1
    assert frame.loc[(3, "morning_and_afternoon"), "percent"] == 100.0


def test_route_shares_use_registrations_with_a_route():
    frame = med.route_shares(SCHEDULE).set_index(["registration_month", "route"])
    assert frame.loc[(1, "intravenous"), "n"] == 2
    assert frame.loc[(1, "intravenous"), "denominator"] == 3  # P004 has no route
    assert frame.loc[(1, "intravenous"), "percent"] == pytest.approx(200 / 3)
    assert frame.loc[(1, "oral"), "n"] == 0
    assert frame.loc[(3, "oral"), "percent"] == 100.0


def test_route_changes_use_registrations_with_the_answer_recorded():
    frame = med.route_changes(SCHEDULE).set_index("registration_month")
    assert frame.loc[1, "n"] == 1 and frame.loc[1, "denominator"] == 3
    assert frame.loc[1, "percent"] == pytest.approx(100 / 3)
    assert frame.loc[3, "n"] == 2 and frame.loc[3, "percent"] == 100.0


def test_substitutions_count_patients_per_month():
    frame = med.substitutions(SCHEDULE).set_index("registration_month")["n"]
    assert frame.to_dict() == {1: 0, 3: 2}


DOSES = registrations(
    [
        reg(1, 1, dam_route="intravenous", dam_morning_dose_mg=200, dam_afternoon_dose_mg=300),
        reg(2, 1, dam_route="intravenous", dam_morning_dose_mg=0, dam_afternoon_dose_mg=None),
        reg(3, 1, dam_route="intravenous", dam_morning_dose_mg=500, dam_afternoon_dose_mg=250),
        reg(1, 3, dam_route="oral", dam_morning_dose_mg=600, dam_afternoon_dose_mg=800),
        reg(2, 3, dam_route="intravenous", dam_morning_dose_mg=100, dam_afternoon_dose_mg=600),
    ]
)


def test_dam_doses_by_route_and_time_across_registrations():
    frame = med.dam_doses(DOSES).set_index(["route", "time"])
    # iv morning: 200, 0, 500, 100 -> median 150, range 0-500; a 0 mg (missed) dose counts
    assert frame.loc[("intravenous", "morning"), ["n", "median", "min", "max"]].tolist() == [4, 150.0, 0.0, 500.0]
    # iv afternoon: 300, 250, 600 (one empty) -> median 300
    assert frame.loc[("intravenous", "afternoon"), ["n", "median", "min", "max"]].tolist() == [3, 300.0, 250.0, 600.0]
    # pooled: 0, 100, 200, 250, 300, 500, 600 -> median 250
    assert frame.loc[("intravenous", "both"), "median"] == 250.0
    assert frame.loc[("oral", "both"), ["min", "max"]].tolist() == [600.0, 800.0]
    assert frame.loc[("intramuscular", "morning"), "n"] == 0
    assert math.isnan(frame.loc[("intramuscular", "morning"), "median"])


def test_dose_summaries_count_the_patients_the_doses_come_from():
    """Disclosure control counts people: four iv morning doses come from three patients (P2 twice)."""
    frame = med.dam_doses(DOSES).set_index(["route", "time"])
    assert frame.loc[("intravenous", "morning"), ["n", "patients"]].tolist() == [4, 3]
    assert frame.loc[("intravenous", "afternoon"), ["n", "patients"]].tolist() == [3, 3]  # P2's empty dose left out
    assert frame.loc[("intravenous", "both"), ["n", "patients"]].tolist() == [7, 3]
    assert frame.loc[("oral", "both"), ["n", "patients"]].tolist() == [2, 1]
    bridge = med.bridge_doses(BRIDGE).set_index("bridge_opioid")
    assert bridge.loc["methadone", ["n", "patients"]].tolist() == [3, 2]


BRIDGE = registrations(
    [
        reg(1, 1, bridge_opioid="methadone", bridge_dose_mg=40),
        reg(2, 1, bridge_opioid="methadone", bridge_dose_mg=80),
        reg(3, 1, bridge_opioid="dolcontin", bridge_dose_mg=260),
        reg(4, 1, bridge_opioid=None),
        reg(1, 3, bridge_opioid="methadone", bridge_dose_mg=0),
    ]
)


def test_bridge_opioids_at_one_month_of_registrations_with_one_recorded():
    frame = med.bridge_opioids(BRIDGE, 1).set_index("bridge_opioid")
    assert frame.loc["methadone", "n"] == 2 and frame.loc["methadone", "denominator"] == 3
    assert frame.loc["methadone", "percent"] == pytest.approx(200 / 3)
    assert frame.loc["contalgin", "n"] == 0
    assert list(frame.index) == list(schema.BRIDGE_OPIOIDS)


def test_bridge_doses_across_all_registrations():
    frame = med.bridge_doses(BRIDGE).set_index("bridge_opioid")
    assert frame.loc["methadone", ["n", "median", "min", "max"]].tolist() == [3, 40.0, 0.0, 80.0]
    assert frame.loc["dolcontin", "median"] == 260.0


def test_bonus_doses_at_one_clinic():
    people = pd.DataFrame(
        {
            "patient_id": ["P001", "P002", "P003", "P004", "P005"],
            "clinic": ["Bergen", "Bergen", "Bergen", "Oslo", "Bergen"],
        }
    )
    frame = registrations(
        [
            reg(1, 1, bonus_doses_per_week=1, bonus_dose_mg=20),
            reg(1, 3, bonus_doses_per_week=2, bonus_dose_mg=40),
            reg(2, 1, bonus_doses_per_week=3, bonus_dose_mg=80),
            reg(3, 1, bonus_doses_per_week=0),
            reg(4, 1, bonus_doses_per_week=3, bonus_dose_mg=500),  # Oslo: not counted
        ]
    )
    result = med.bonus_doses(frame, people, "Bergen")
    assert result["clinic_patients"] == 4
    assert result["patients"] == 2
    assert result["by_max_per_week"] == {2: 1, 3: 1}  # P001 up to twice, P002 up to three times
    assert (result["freq_min"], result["freq_max"]) == (1, 3)
    assert (result["dose_median"], result["dose_min"], result["dose_max"]) == (40.0, 20.0, 80.0)


def test_comedication_any_and_classes_of_those_with_comedication():
    frame = registrations(
        [
            reg(1, 1, comedication=True, comedication_benzodiazepine=True, comedication_somatic=True),
            reg(2, 1, comedication=True, comedication_somatic=True),
            reg(3, 1, comedication=False),
            reg(4, 1, comedication=None),
            reg(1, 12, comedication=True, comedication_somatic=True),
        ]
    )
    result = med.comedication(frame, (1, 12)).set_index(["registration_month", "medication_class"])
    assert result.loc[(1, "any"), ["n", "denominator"]].tolist() == [2, 3]
    assert result.loc[(1, "any"), "percent"] == pytest.approx(200 / 3)
    assert result.loc[(1, "benzodiazepine"), ["n", "denominator", "percent"]].tolist() == [1, 2, 50.0]
    assert result.loc[(1, "somatic"), "percent"] == 100.0
    assert result.loc[(12, "somatic"), "percent"] == 100.0
    assert result.loc[(12, "benzodiazepine"), "n"] == 0


def test_consistent_denominators():
    # 75 is 56% of 133 to 135 patients; 47 is 36% of 129 to 132: no denominator fits both
    assert med.consistent_denominators(75, 56, 1) == (133, 135)
    assert med.consistent_denominators(47, 36, 1) == (129, 132)
    assert med.consistent_denominators(2, 1.5, 0.1) == (130, 137)
    assert med.consistent_denominators(1, 50, 1) == (2, 2)
    assert med.consistent_denominators(0, 0, 1) is None


def test_ledger_statistics_cover_every_medication_key():
    people = pd.DataFrame({"patient_id": [f"P{i:03d}" for i in range(1, 5)], "clinic": ["Bergen"] * 4})
    rows = []
    for pid in range(1, 5):
        for month in (1, 3, 12, 24):
            rows.append(
                reg(
                    pid,
                    month,
                    dam_morning=True,
                    dam_afternoon=pid != 4,
                    dam_route="intravenous",
                    route_changes_weekly=False,
                    dam_morning_dose_mg=100 * pid,
                    dam_afternoon_dose_mg=100,
                    bridge_opioid="methadone",
                    bridge_dose_mg=40,
                    comedication=pid == 1,
                    bonus_doses_per_week=1,
                    bonus_dose_mg=40,
                )
            )
    frame = med.ledger_statistics(registrations(rows), people).set_index("key")["value"]
    keys = set(ledger()[ledger()["location"].str.startswith("Appendix 3 text, Medication")].index)
    assert set(frame.index) == keys
    assert frame["app3_dam_am_only_1m_n"] == 1
    assert frame["app3_dam_am_only_1m_pct"] == 25.0
    assert frame["app3_dam_iv_am_median_mg"] == 250.0
    assert frame["app3_route_iv_1y_pct"] == 100.0
    assert frame["app3_bridge_methadone_1m_n"] == 4
    assert frame["app3_comed_any_1m_pct"] == 25.0
    assert frame["app3_bonus_patients_n"] == 4


def test_charts_build():
    assert med.route_chart(med.route_shares(SCHEDULE), min_denominator=1).to_dict()["mark"]["type"] == "bar"
    assert med.bridge_chart(med.bridge_opioids(BRIDGE)).to_dict()["mark"]["type"] == "bar"
    comed = med.comedication(registrations([reg(1, 1, comedication=True, comedication_somatic=True)]), (1,))
    assert med.comedication_chart(comed).to_dict()["mark"]["type"] == "bar"


def test_denominator_note_states_the_reports_base_and_ours():
    note = med.denominator_note("56%", 56, 1, 75, 75, 131, "registrations at one month with a route recorded")
    assert note == (
        "The report's 56% with n=75 fits a base of 133 to 135; this edition counts 75 of 131 "
        "registrations at one month with a route recorded (57.3%)."
    )
    assert "fits a base of 2;" in med.denominator_note("50%", 50, 1, 1, 1, 2, "x")


def test_the_routes_table_of_a_small_data_set_has_the_same_rows_in_every_edition_it_is_protected_with(tmp_path):
    """In 60 patients of the bundled cohort (seed 7), Bergen has no registration at month 33 through 2024 while Oslo
    has: the route tables of 2024, which the 2023 edition protects with its own, had other rows in each clinic, and
    Appendix 3 of every edition failed ("the tables of the editions must have the same rows")."""
    from analysis.presentation.edition import open_page
    from hatbook.sample_data import subset

    folder = subset(tmp_path / "subset", patients=60, seed=7)
    page = open_page("all", 2023, folder, 5, glue_words=False)
    found = med.appendix(page)
    assert len(found["statistics"]) > 0 and "tab-a3-routes" in found
