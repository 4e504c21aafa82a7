"""The loader refuses patient-level data that break the schema, naming file, column, lines and rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import schema
from analysis.data.cohort import load_cohort
from analysis.data.published import DataError

ROOT = Path(__file__).resolve().parent.parent

MEDICATION_COLUMNS = [f.name for f in schema.MEDICATION.fields]
QUESTIONNAIRE_COLUMNS = schema.QUESTIONNAIRES.columns


def questionnaire_row(patient: str, wave: str, date: str, **answers: str) -> str:
    """One questionnaire line: every item empty (unanswered) except those given."""
    values = {"patient_id": patient, "wave": wave, "questionnaire_date": date, **answers}
    return ",".join(values.get(column, "") for column in QUESTIONNAIRE_COLUMNS)


VALID = {
    "patients": """patient_id,clinic,sex,age_at_admission,born_in_norway,housing,living_with_others,unstable_housing_30d,education,reading_writing_difficulties,work_or_education,previous_treatment,involuntary_discharge_previous_oat,primary_income
P001,Oslo,male,45.2,true,rented,false,false,primary,false,false,true,false,disability_benefit
P002,Bergen,female,30.1,,,,,,,,,,
""",  # noqa: E501 (a CSV header is one line)
    "previous_oat": """patient_id,medication,end_reason
P001,methadone,own_choice_side_effects
""",
    "episodes": """episode_id,patient_id,episode_number,admission_date,discharge_date,discharge_type,discharge_reason
E001,P001,1,2022-02-01,2022-08-01,planned,transition_to_oat
E002,P001,2,2023-01-01,,,
E003,P002,1,2022-04-01,,,
""",
    "adverse_events": """event_id,patient_id,event_date,category
A001,P001,2022-03-01,seizure
A002,P002,2024-05-06,nonfatal_overdose
""",
    "referrals": """referral_id,person_id,patient_id,clinic,referral_date,age,sex,referral_type,referrer,decision,denial_reason
R001,Q001,P001,Oslo,2022-01-10,45,male,secondary,specialist_oat,accepted,
R002,Q002,,Bergen,2022-03-10,33,female,primary,nav,denied,admission_pause
""",  # noqa: E501 (a CSV header is one line)
    "medication": ",".join(MEDICATION_COLUMNS)
    + "\n"
    + ",".join(
        {
            "patient_id": "P001",
            "registration_month": "1",
            "registration_date": "2022-03-01",
            "dam_route": "intravenous",
            "dam_morning_dose_mg": "250.0",
            "dam_afternoon_dose_mg": "260.0",
            "bridge_opioid": "methadone",
            "bridge_dose_mg": "40.0",
            "bonus_doses_per_week": "0",
            "bonus_dose_mg": "",
        }.get(column, "false")
        for column in MEDICATION_COLUMNS
    )
    + "\n",
    "questionnaires": "\n".join(
        [
            ",".join(QUESTIONNAIRE_COLUMNS),
            questionnaire_row("P001", "0", "2022-02-10", heroin_days_30d="20", hunger="often", eq5d_mo="2"),
            questionnaire_row("P001", "3", "2022-05-03", heroin_days_30d="8", mental_health="fair"),
            questionnaire_row("P002", "0", "2022-04-05", stable_housing_30d="true", money_food="3"),
        ]
    )
    + "\n",
    # P001 first admitted 2022-02-01, P002 2022-04-01: quarters -4..-1 before, 1.. after (registry use)
    "health_service_use": ",".join(schema.HEALTH_SERVICE_USE.columns)
    + "\n"
    + "\n".join(
        f"{patient},{quarter},{start}," + ",".join(counts)
        for patient, quarter, start, counts in (
            ("P001", "-1", "2021-11-01", ["2", "0", "1", "0", "0", "0", "5", "0", "2", "1", "0", "1"]),
            ("P001", "1", "2022-02-01", ["0", "0", "1", "0", "0", "1", "0", "0", "3", "2", "1", "0"]),
            ("P001", "4", "2022-11-01", ["0"] * 12),
            ("P002", "-4", "2021-04-01", ["0", "1", "0", "0", "0", "0", "0", "0", "0", "1", "0", "0"]),
            ("P002", "2", "2022-07-01", ["0"] * 11 + ["2"]),
        )
    )
    + "\n",
}


def write_cohort(folder: Path, changes: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**VALID, **(changes or {})}.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def corrupt(table: str, old: str, new: str) -> dict[str, str]:
    assert old in VALID[table], old
    return {table: VALID[table].replace(old, new)}


def test_valid_fixture_loads_with_parsed_types(tmp_path):
    cohort = load_cohort(write_cohort(tmp_path))
    assert len(cohort.patients) == 2 and len(cohort.episodes) == 3
    assert cohort.episodes.admission_date.dtype.kind == "M"
    assert cohort.patients.born_in_norway.tolist()[0] is True or cohort.patients.born_in_norway.iloc[0]
    assert cohort.episodes.discharge_date.isna().sum() == 2
    assert cohort.source == "real" and str(cohort.data_end.date()) == "2025-12-31"


# (table, change, words the message must contain): each a rule the issue names, and a few more.
CORRUPTIONS = {
    "wrong type": (
        corrupt("patients", "45.2", "forty"),
        ["patients.csv", "age_at_admission", "line 2", "type number", "forty"],
    ),
    "unknown clinic": (
        corrupt("patients", "P002,Bergen", "P002,Tromsø"),
        ["patients.csv", "clinic", "line 3", "one of Oslo, Bergen"],
    ),
    "episode ends before it starts": (
        corrupt("episodes", "2022-02-01,2022-08-01", "2022-02-01,2022-01-15"),
        ["episodes.csv", "discharge_date", "line 2", "ends before it starts"],
    ),
    "duplicated id": (
        corrupt("patients", "P002,Bergen", "P001,Bergen"),
        ["patients.csv", "patient_id", "lines 2, 3", "unique"],
    ),
    "missing column": (
        {"episodes": "\n".join(",".join(line.split(",")[:-1]) for line in VALID["episodes"].splitlines()) + "\n"},
        ["episodes.csv", "missing column", "discharge_reason"],
    ),
    "event outside every episode": (
        corrupt("adverse_events", "A001,P001,2022-03-01", "A001,P001,2022-10-01"),
        ["adverse_events.csv", "event_date", "line 2", "outside every treatment episode"],
    ),
    "unknown patient": (
        corrupt("adverse_events", "A002,P002", "A002,P999"),
        ["adverse_events.csv", "patient_id", "line 3", "not found in patients.csv"],
    ),
    "overlapping episodes": (
        corrupt("episodes", "E002,P001,2,2023-01-01", "E002,P001,2,2022-05-01"),
        ["episodes.csv", "admission_date", "previous episode"],
    ),
    "denial without reason": (
        corrupt("referrals", "denied,admission_pause", "denied,"),
        ["referrals.csv", "denial_reason", "line 3"],
    ),
    "referral after admission": (
        corrupt("referrals", "P001,Oslo,2022-01-10", "P001,Oslo,2022-03-10"),
        ["referrals.csv", "referral_date", "after the first admission"],
    ),
    "bad date": (
        corrupt("episodes", "2022-04-01", "2022-13-01"),
        ["episodes.csv", "admission_date", "line 4", "type date"],
    ),
    "questionnaire outside every episode": (
        corrupt("questionnaires", "P001,3,2022-05-03", "P001,3,2022-09-03"),
        ["questionnaires.csv", "questionnaire_date", "line 3", "outside every treatment episode"],
    ),
    "unknown wave": (
        corrupt("questionnaires", "P001,3,", "P001,4,"),
        ["questionnaires.csv", "wave", "line 3", "one of 0, 3, 6, 12"],
    ),
    "item out of range": (
        corrupt("questionnaires", ",20,", ",31,"),
        ["questionnaires.csv", "heroin_days_30d", "line 2", "at most 30"],
    ),
    "wave answered twice": (
        corrupt("questionnaires", "P001,3,2022-05-03", "P001,0,2022-05-03"),
        ["questionnaires.csv", "patient_id", "wave"],
    ),
    "registry quarter not hanging on the first admission": (
        corrupt("health_service_use", "P001,1,2022-02-01", "P001,1,2022-02-05"),
        ["health_service_use.csv", "quarter_start", "line 3", "first admission"],
    ),
    "registry quarter 0": (
        corrupt("health_service_use", "P002,2,", "P002,0,"),
        ["health_service_use.csv", "quarter", "line 6", "one of -4"],
    ),
}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_corrupted_input_is_refused_with_a_message_naming_it(tmp_path, name):
    changes, expected = CORRUPTIONS[name]
    folder = write_cohort(tmp_path / "cohort", changes)
    with pytest.raises(DataError) as raised:
        load_cohort(folder)
    message = str(raised.value)
    for words in expected:
        assert words in message, f"{name}: {words!r} not in\n{message}"


@pytest.mark.parametrize("name", ["wrong type", "event outside every episode", "missing column"])
def test_command_line_check_exits_non_zero_and_writes_nothing(tmp_path, name):
    changes, expected = CORRUPTIONS[name]
    folder = write_cohort(tmp_path / "cohort", changes)
    before = sorted(p.name for p in folder.iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "analysis.data.cohort", "--check", "--data", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert expected[0] in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == before


def test_missing_file_and_folder_are_named(tmp_path):
    folder = write_cohort(tmp_path / "cohort")
    (folder / "referrals.csv").unlink()
    with pytest.raises(DataError, match="referrals.csv: file not found"):
        load_cohort(folder)
    with pytest.raises(DataError, match="not found"):
        load_cohort(tmp_path / "nowhere")


def test_bundled_cohort_is_valid_and_synthetic():
    cohort = load_cohort()
    assert cohort.source == "synthetic"
    assert set(cohort.patients.clinic) <= set(schema.CLINICS)
    assert isinstance(cohort.patients, pd.DataFrame)


def test_restrict_to_a_clinic_and_a_year_censors_and_drops_by_the_stated_rules(tmp_path):
    from analysis.data.cohort import restrict

    cohort = load_cohort(write_cohort(tmp_path))
    bergen = restrict(cohort, clinic="Bergen")
    assert bergen.patients.patient_id.tolist() == ["P002"]
    assert bergen.episodes.episode_id.tolist() == ["E003"]
    assert bergen.referrals.referral_id.tolist() == ["R002"] and bergen.medication.empty
    assert bergen.questionnaires.patient_id.tolist() == ["P002"]

    through_2022 = restrict(cohort, year=2022)
    assert str(through_2022.data_end.date()) == "2022-12-31"
    # E002 (admitted 2023) is left out; E001 ended in 2022 and keeps its discharge
    assert through_2022.episodes.episode_id.tolist() == ["E001", "E003"]
    assert through_2022.adverse_events.event_id.tolist() == ["A001"]  # A002 is from 2024
    assert len(through_2022.questionnaires) == 3  # all three were answered in 2022
    without_2023_answer = restrict(
        load_cohort(write_cohort(tmp_path / "c", corrupt("questionnaires", "P001,3,2022-05-03", "P001,3,2023-01-03"))),
        year=2022,
    )
    assert without_2023_answer.questionnaires.wave.tolist() == [0, 0]  # the 2023 answer is left out

    # an episode discharged after the new data end is censored there
    changes = corrupt(
        "episodes", "E003,P002,1,2022-04-01,,,", "E003,P002,1,2022-04-01,2024-06-01,unplanned,non_attendance"
    )
    censored = restrict(load_cohort(write_cohort(tmp_path / "b", changes)), year=2022)
    row = censored.episodes.set_index("episode_id").loc["E003"]
    assert pd.isna(row.discharge_date) and pd.isna(row.discharge_type) and pd.isna(row.discharge_reason)


def test_restrict_keeps_registry_quarters_of_the_clinic_that_end_by_the_data_end(tmp_path):
    from analysis.data.cohort import restrict

    cohort = load_cohort(write_cohort(tmp_path))
    assert len(cohort.health_service_use) == 5 and cohort.health_service_use.quarter_start.dtype.kind == "M"
    assert restrict(cohort, clinic="Bergen").health_service_use.patient_id.unique().tolist() == ["P002"]
    # P001's quarter 4 runs 2022-11-01 to 2023-01-31: left out through 2022; quarters before always stay
    through_2022 = restrict(cohort, year=2022).health_service_use
    assert through_2022[["patient_id", "quarter"]].values.tolist() == [
        ["P001", -1],
        ["P001", 1],
        ["P002", -4],
        ["P002", 2],
    ]


def test_restrict_refuses_unknown_parameters(tmp_path):
    from analysis.data.cohort import restrict

    cohort = load_cohort(write_cohort(tmp_path))
    with pytest.raises(DataError, match="clinic must be one of all, Oslo, Bergen"):
        restrict(cohort, clinic="Tromsø")
    with pytest.raises(DataError, match="year must be one of 2022"):
        restrict(cohort, year=2030)
