"""Data sets made from the bundled cohort for trying editions (hatbook/sample_data.py)."""

import pandas as pd

from analysis.data.cohort import DEFAULT_COHORT_DIR, load_cohort
from analysis.data.published import published_table
from hatbook.sample_data import _read, patient_days, replicate, subset


def test_patient_days_of_the_bundled_cohort_are_table_6c():
    tables = _read(DEFAULT_COHORT_DIR)
    days = patient_days(tables["episodes"], tables["patients"], "2025-12-31")
    published = published_table("table_6c_program_costs")
    for row in published[published.row_type == "clinic_year"].itertuples():
        assert days[(row.clinic, int(row.year))] == row.patient_days


def test_patient_days_by_hand():
    patients = pd.DataFrame({"patient_id": ["P001"], "clinic": ["Oslo"]})
    episodes = pd.DataFrame({"patient_id": ["P001"], "admission_date": ["2022-12-30"], "discharge_date": [""]})
    days = patient_days(episodes, patients, "2023-01-02")
    assert days[("Oslo", 2022)] == 2 and days[("Oslo", 2023)] == 2


def test_a_subset_is_valid_and_keeps_the_cost_per_day(tmp_path):
    folder = subset(tmp_path / "fifth", fraction=0.2, seed=7, with_accounts=True)
    cohort = load_cohort(folder)
    assert len(cohort.patients) == round(136 * 0.2)
    accounts = pd.read_csv(folder / "clinic_accounts.csv")
    days = patient_days(
        *(pd.read_csv(folder / f"{n}.csv", dtype=str, keep_default_na=False) for n in ("episodes", "patients")),
        "2025-12-31",
    )
    published = published_table("table_6c_program_costs").set_index(["clinic", "year"])
    for row in accounts.itertuples():
        per_day = row.total_cost_nok / days[(row.clinic, row.year)]
        assert abs(per_day - published.loc[(row.clinic, row.year), "cost_per_day_nok"]) < 1


def test_replicate_has_new_ids_and_is_valid(tmp_path):
    cohort = load_cohort(replicate(tmp_path / "three", times=3))
    assert len(cohort.patients) == 3 * 136
    assert cohort.patients.patient_id.is_unique
