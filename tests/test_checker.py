"""The data checker on bad copies of the bundled cohort: one message naming file, column, line(s) and rule,
exit status 2, no traceback (issue 19, item 5).

Each case edits one thing in a small copy (six patients of the bundled cohort) and runs
``python -m analysis.data.cohort --check --data DIR`` (in process through ``main``, a few cases as a subprocess).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import schema
from analysis.data.cohort import folder_warnings, load_cohort, main
from analysis.data.published import DataError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    from hatbook.sample_data import subset

    return subset(tmp_path_factory.mktemp("small") / "cohort", patients=6, seed=3)


@pytest.fixture
def copy(small, tmp_path) -> Path:
    return Path(shutil.copytree(small, tmp_path / "cohort"))


def rows(folder: Path, table: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((folder / f"{table}.csv").read_text(encoding="utf-8"))))


def write_rows(folder: Path, table: str, table_rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table_rows)
    (folder / f"{table}.csv").write_text(out.getvalue(), encoding="utf-8")


def set_cell(folder: Path, table: str, line: int, column: str, value: str) -> None:
    """Put ``value`` into ``column`` at CSV line ``line`` (line 1 is the header)."""
    table_rows = rows(folder, table)
    table_rows[line - 1][table_rows[0].index(column)] = value
    write_rows(folder, table, table_rows)


def check(folder: Path, capsys) -> tuple[int, str]:
    status = main(["--check", "--data", str(folder)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def refused(folder: Path, capsys, *words: str) -> str:
    status, output = check(folder, capsys)
    assert status == 2, output
    assert "Traceback" not in output
    for word in words:
        assert word in output, f"{word!r} not in\n{output}"
    return output


def test_the_small_copy_is_valid(small, capsys):
    status, output = check(small, capsys)
    assert status == 0 and "valid synthetic cohort" in output and "warning" not in output


def test_dates_that_pandas_cannot_convert_whole_are_reported_per_row(copy, capsys):
    set_cell(copy, "episodes", 2, "admission_date", "06.01.2022")
    set_cell(copy, "episodes", 4, "admission_date", "2023-02-04 23:59:59")
    output = refused(
        copy,
        capsys,
        "episodes.csv",
        "column 'admission_date', lines 2, 4",
        "YYYY-MM-DD",
        "'06.01.2022'",
        "'2023-02-04 23:59:59'",
    )
    assert len([line for line in output.splitlines() if "admission_date" in line]) == 1


def test_an_impossible_calendar_date_is_named(copy, capsys):
    set_cell(copy, "adverse_events", 3, "event_date", "2023-02-30")
    refused(copy, capsys, "adverse_events.csv", "column 'event_date', line 3", "type date", "'2023-02-30'")


def test_a_header_only_episodes_table_is_refused_with_the_rule(copy, capsys):
    write_rows(copy, "episodes", rows(copy, "episodes")[:1])
    refused(copy, capsys, "episodes.csv", "no data rows", "patients.csv and episodes.csv have at least one row")


@pytest.mark.parametrize("table", [t for t in schema.TABLES if t not in ("patients", "episodes")])
def test_the_other_tables_may_be_empty(copy, table):
    write_rows(copy, table, rows(copy, table)[:1])
    cohort = load_cohort(copy)
    assert getattr(cohort, table).empty and len(cohort.patients) == 6


def test_an_empty_file_is_named(copy, capsys):
    (copy / "patients.csv").write_text("", encoding="utf-8")
    refused(copy, capsys, "patients.csv", "the file is empty")


@pytest.mark.parametrize(
    "text, words",
    [
        ("[]", ["cohort.json", "is a list, not a JSON object"]),
        (
            '{"data_end": "2023-12-31T00:00:00+01:00"}',
            [
                "cohort.json",
                "key 'data_end', line 1",
                "'2023-12-31T00:00:00+01:00' is not a date",
                "no time or time zone",
            ],
        ),
        ('{"data_end": "end of 2023"}', ["cohort.json", "key 'data_end'", "'end of 2023' is not a date"]),
        ('{"data_end": 2023}', ["cohort.json", "key 'data_end'", "2023 is not a date"]),
        (
            '{\n  "source": "real",\n  "data_end": "2099-12-31"\n}',
            ["cohort.json", "key 'data_end', line 3", "2099-12-31 lies in the future"],
        ),
        (
            '{"data_end": "2021-06-30"}',
            ["cohort.json", "key 'data_end'", "2021-06-30 lies before the start of the data 2022-01-01"],
        ),
        ('{"data_end": "2025-12-31",}', ["cohort.json", "line 1: not valid JSON"]),
        ('{"data_end": "2025-12-31", "source": "registry"}', ["cohort.json", "key 'source'", "one of synthetic, real"]),
    ],
)
def test_a_malformed_cohort_description_is_named(copy, capsys, text, words):
    (copy / "cohort.json").write_text(text, encoding="utf-8")
    refused(copy, capsys, *words)


def test_a_data_end_that_censors_nothing_wrongly_still_loads(copy):
    (copy / "cohort.json").write_text(json.dumps({"data_end": "2025-12-31", "source": "real"}), encoding="utf-8")
    assert str(load_cohort(copy).data_end.date()) == "2025-12-31"


@pytest.mark.parametrize(
    "column, value, bound",
    [
        ("gp_contacts", "9223372036854775807", "at most 500"),
        ("gp_contacts", "99999999999999999999999", "at most 500"),
        ("tsb_inpatient_days", "1000000000", "at most 92"),
        ("som_day_care", "93", "at most 92"),
        ("physiotherapy_contacts", "501", "at most 500"),
    ],
)
def test_counts_and_days_have_upper_bounds(copy, capsys, column, value, bound):
    set_cell(copy, "health_service_use", 3, column, value)
    refused(copy, capsys, "health_service_use.csv", f"column '{column}', line 3", bound)


def test_every_count_and_day_field_has_an_upper_bound_shown_in_the_dictionary():
    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    for name, table in schema.TABLES.items():
        described = {f["name"]: f for f in resources[f"synthetic_{name}"]["schema"]["fields"]}
        for f in table.fields:
            if f.type in ("integer", "number") and f.allowed is None:
                assert f.maximum is not None, f"{name}.{f.name} has no upper bound"
                assert described[f.name]["constraints"]["maximum"] == f.maximum
    inpatient = next(f for f in schema.HEALTH_SERVICE_USE.fields if f.name == "som_inpatient_days")
    assert inpatient.maximum == 92 and "92 days" in inpatient.description


@pytest.mark.parametrize(
    "value, rule",
    [
        ("P١٢٣", "value must match ^P[0-9]{3,}$"),
        ("P001\n", "spaces or a line break around it"),
        ("P001 ", "spaces or a line break around it"),
        (" P001", "spaces or a line break around it"),
    ],
)
def test_ids_are_ascii_without_surrounding_whitespace(copy, capsys, value, rule):
    set_cell(copy, "patients", 3, "patient_id", value)
    refused(copy, capsys, "patients.csv", "column 'patient_id', line 3", rule)


def test_an_arabic_indic_digit_in_a_count_is_not_a_number(copy, capsys):
    set_cell(copy, "health_service_use", 2, "gp_contacts", "١٢")
    refused(
        copy, capsys, "health_service_use.csv", "column 'gp_contacts', line 2", "not of type integer", "ASCII digits"
    )


def test_nan_text_is_reported_as_not_a_number_not_as_out_of_range(copy, capsys):
    set_cell(copy, "patients", 2, "age_at_admission", "nan")
    set_cell(copy, "questionnaires", 2, "money_food", "NaN")
    output = refused(
        copy,
        capsys,
        "patients.csv: column 'age_at_admission', line 2: value is required, but 'nan' is not a number",
        "questionnaires.csv: column 'money_food', line 2: 'NaN' is not a number",
    )
    assert "at least" not in output and "at most" not in output and "required but empty" not in output


def test_nan_text_in_a_category_marks_a_missing_value(copy, capsys):
    set_cell(copy, "patients", 2, "clinic", "NA")
    output = refused(
        copy, capsys, "patients.csv: column 'clinic', line 2: value is required, but 'NA' marks a missing value"
    )
    assert "one of Oslo, Bergen" not in output


def test_an_integer_written_with_a_zero_decimal_part_is_read_as_that_integer(copy):
    table_rows = rows(copy, "questionnaires")
    column = table_rows[0].index("wave")
    expected = [int(row[column]) for row in table_rows[1:]]
    for row in table_rows[1:]:
        row[column] = f"{row[column]}.0"
    write_rows(copy, "questionnaires", table_rows)
    cohort = load_cohort(copy)
    assert cohort.questionnaires.wave.tolist() == expected and str(cohort.questionnaires.wave.dtype) == "Int64"


def test_a_fractional_integer_is_refused_once_per_column(copy, capsys):
    set_cell(copy, "questionnaires", 2, "wave", "3.5")
    set_cell(copy, "questionnaires", 3, "wave", "3,0")
    output = refused(
        copy, capsys, "questionnaires.csv: column 'wave', lines 2, 3: value is not of type integer", "'3.5'", "'3,0'"
    )
    assert len([line for line in output.splitlines() if "'wave'" in line]) == 1


def test_a_file_the_schema_does_not_know_is_a_warning_not_an_error(copy, capsys):
    (copy / "notes.txt").write_text("hello\n", encoding="utf-8")
    (copy / "Patients_old.csv").write_text("a\n1\n", encoding="utf-8")
    status, output = check(copy, capsys)
    assert status == 0, output
    assert "warning:" in output and "notes.txt: file not known to the schema" in output and "Patients_old.csv" in output
    assert folder_warnings(ROOT / "data" / "synthetic") == []  # cohort.json and calibration.csv are known


def test_a_semicolon_delimited_file_gets_a_hint(copy, capsys):
    text = (copy / "patients.csv").read_text(encoding="utf-8")
    (copy / "patients.csv").write_text(text.replace(",", ";"), encoding="utf-8")
    refused(copy, capsys, "patients.csv: line 1", "looks semicolon-delimited", "separated by commas")


def test_a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte(copy, capsys):
    table_rows = rows(copy, "referrals")
    table_rows[4][table_rows[0].index("clinic")] = "Tromsø"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table_rows)
    (copy / "referrals.csv").write_bytes(out.getvalue().encode("latin-1"))
    refused(copy, capsys, "referrals.csv: line 5", "not UTF-8", "0xF8")


def test_a_byte_order_mark_is_accepted(copy):
    text = (copy / "patients.csv").read_text(encoding="utf-8")
    (copy / "patients.csv").write_text("\ufeff" + text, encoding="utf-8")
    assert len(load_cohort(copy).patients) == 6


def test_load_cohort_raises_the_same_message(copy):
    set_cell(copy, "episodes", 2, "admission_date", "06.01.2022")
    with pytest.raises(DataError, match=r"episodes.csv: column 'admission_date', line 2: value is not of type date"):
        load_cohort(copy)


@pytest.mark.parametrize("case", ["dates", "cohort.json", "unknown file"])
def test_the_command_exits_2_without_a_traceback(copy, case):
    if case == "dates":
        set_cell(copy, "episodes", 3, "discharge_date", "2023-02-04 23:59:59")
    elif case == "cohort.json":
        (copy / "cohort.json").write_text("[]", encoding="utf-8")
    else:
        (copy / "extra.xlsx").write_bytes(b"PK\x03\x04")
    done = subprocess.run(
        [sys.executable, "-m", "analysis.data.cohort", "--check", "--data", str(copy)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "Traceback" not in done.stdout + done.stderr
    if case == "unknown file":
        assert done.returncode == 0 and "warning:" in done.stderr and "extra.xlsx" in done.stderr
    else:
        assert done.returncode == 2 and done.stderr.startswith("error:")
        assert ("discharge_date" if case == "dates" else "not a JSON object") in done.stderr


def test_loaded_values_do_not_change_for_valid_text(small):
    """The checks before the schema only blank bad cells: a valid table loads as plain pandas would read it."""
    cohort = load_cohort(small)
    raw = pd.read_csv(small / "health_service_use.csv")
    assert cohort.health_service_use.gp_contacts.tolist() == raw.gp_contacts.tolist()
    assert (
        cohort.episodes.admission_date.tolist()
        == pd.to_datetime(pd.read_csv(small / "episodes.csv").admission_date).tolist()
    )


def test_a_line_with_too_many_values_is_named(copy, capsys):
    with (copy / "patients.csv").open("a", encoding="utf-8") as out:
        out.write("P999,Oslo,male,40,,,,,,,,,,,extra\n")
    refused(copy, capsys, "patients.csv: line 8: cannot be read as comma-separated values", "header's columns")


def test_a_column_named_twice_gets_a_hint(copy, capsys):
    table_rows = rows(copy, "adverse_events")
    for row in table_rows:
        row.append(row[-1])
    write_rows(copy, "adverse_events", table_rows)
    refused(copy, capsys, "adverse_events.csv: line 1: unexpected column 'category.1'", "'category' named twice")
