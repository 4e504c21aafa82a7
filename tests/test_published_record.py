"""The published record: the ledger of every statistic, the tidy tables, and the data dictionary."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.data.published import DEFAULT_DATA_DIR, check_dictionary

PUBLISHED = DEFAULT_DATA_DIR / "published"
REPORT = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "001_f7a6c150d88da14a.txt"
NOT_TABLES = {"statistics.csv", "report_contents.csv"}
NUMBER = re.compile(r"-?\d+(\.\d+)?")
# columns that identify a cell (a year, a time point, a footnote mark) rather than hold a statistic
IDENTIFIER = re.compile(r"year|period|month|order|time|week|level|rank|wave|footnote")

NUMBER_WORDS = {
    "none": 0,
    "no": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "half": 0.5,
    "twice": 2,
}


def ledger() -> pd.DataFrame:
    return pd.read_csv(PUBLISHED / "statistics.csv", dtype=str, keep_default_na=False)


def readings(printed: str) -> set[float]:
    """Every number a printed statistic can be read as.

    '845,087' → 845087; '65.7%' → 65.7; '8-10' → 8 or 10; 'one in three' → 1/3; 'Forty-four per cent' → 44;
    'one million' → 1e6; '1,190' → 1190 or 1.190 (the report uses a decimal comma once).
    """
    text = printed.lower().replace("\u2009", "").replace("\u00a0", " ").replace("−", "-")
    values: set[float] = set()
    for token in re.findall(r"[-–]?\d[\d, ]*(?:\.\d+)?|[-–]?\.\d+", text):
        token = token.strip(" ,").replace("–", "-")
        number = float(re.sub(r"(?<=\d)[, ](?=\d{3}\b)", "", token))
        values |= {number, abs(number)}  # '8-10' reads as 8 and -10: keep 10 too
        if re.fullmatch(r"-?\d+,\d+", token):
            values.add(float(token.replace(",", ".")))
    words = re.findall(r"[a-z]+", text)
    total = 0.0
    for word in words:
        if word in NUMBER_WORDS:
            total += NUMBER_WORDS[word]
            values.add(NUMBER_WORDS[word])
    if total:
        values.add(total)
    if "and a half" in text:
        values |= {value + 0.5 for value in list(values)}
    fraction = re.search(r"(\w+) in (\w+)", text)
    if fraction:
        top, bottom = (NUMBER_WORDS.get(w, None) or (float(w) if w.isdigit() else None) for w in fraction.groups())
        if top is not None and bottom:
            values.add(top / bottom)
    if "million" in text:
        values |= {value * 1e6 for value in list(values)}
    return values


def agrees(value: float, printed: str, precision: float) -> bool:
    tolerance = max(precision / 2, 1e-9 * abs(value)) + 1e-9
    return any(abs(value - reading) <= tolerance for reading in readings(printed))


def test_readings_of_printed_numbers():
    assert agrees(845087, "845,087", 1)
    assert agrees(65.7, "65.7%", 0.1)
    assert agrees(10, "8-10", 1) and agrees(8, "8-10", 1)
    assert agrees(0.333, "one in three", 0.001)
    assert agrees(44, "Forty-four per cent", 1)
    assert agrees(1_000_000, "one million", 1)
    assert agrees(1.19, "1,190", 0.001)
    assert agrees(1.5, "one and a half", 0.1)
    assert not agrees(846087, "845,087", 1)
    assert not agrees(65.8, "65.7%", 0.1)
    assert agrees(-6500, "-6,500", 100) and not agrees(6500, "+6,165", 1)


def test_ledger_keys_are_unique_snake_case():
    keys = ledger()["key"]
    assert keys.is_unique, keys[keys.duplicated()].tolist()
    assert keys.str.fullmatch(r"[a-z][a-z0-9_]*").all()


def test_ledger_is_complete_enough():
    assert len(ledger()) > 1000


def test_every_value_parses_and_agrees_with_its_print():
    rows = ledger()
    values = pd.to_numeric(rows["value"], errors="coerce")
    assert values.notna().all(), rows.loc[values.isna(), "key"].tolist()
    precision = pd.to_numeric(rows["precision"], errors="coerce")
    assert precision.notna().all()
    wrong = [
        (key, printed, value)
        for key, printed, value, step in zip(rows["key"], rows["printed"], values, precision)
        if not agrees(value, printed, step)
    ]
    assert wrong == []


@pytest.mark.skipif(not REPORT.is_file(), reason="the report's text is not next to this checkout")
def test_every_printed_string_occurs_in_the_report():
    text = REPORT.read_text(encoding="utf-8")
    flat = " ".join(text.split())
    missing = [
        (key, printed)
        for key, printed in zip(ledger()["key"], ledger()["printed"])
        if printed not in text and " ".join(printed.split()) not in flat
    ]
    assert missing == []


def other_sources() -> set[str]:
    """Published files that transcribe other documents than the report (trials, reviews): the ledger
    records the report's statistics only, so their cells have no ledger keys."""
    import json

    package = json.loads((PUBLISHED.parent / "datapackage.json").read_text(encoding="utf-8"))
    return {
        Path(r["path"]).name
        for r in package["resources"]
        if r["path"].startswith("published/")
        and not any(s.get("title", "").startswith("Report") for s in r.get("sources", []))
    }


def tidy_tables() -> list[Path]:
    excluded = NOT_TABLES | other_sources()
    return [p for p in sorted(PUBLISHED.glob("*.csv")) if p.name not in excluded]


def test_other_sources_are_only_the_outside_documents():
    # a report table whose resource lost its "Report, ..." source would otherwise escape the ledger test
    assert other_sources() - NOT_TABLES == {
        "hat_trials.csv",
        "hat_meta_analyses.csv",
        "evidence_mortality.csv",
        "evidence_dutch_followup.csv",
        "oat_registry_2015.csv",
    }


@pytest.mark.parametrize("path", tidy_tables(), ids=lambda p: p.stem)
def test_every_cell_of_a_table_is_in_the_ledger(path):
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    key_columns = [c for c in table.columns if c.startswith("key")]
    has_numbers = table.drop(columns=key_columns).apply(lambda c: c.str.fullmatch(NUMBER)).any().any()
    if not has_numbers:
        return  # a qualitative table (e.g. Table 6.B) holds no statistics
    assert key_columns, f"{path.name} has numbers but no key column"
    known = ledger().set_index("key")["value"].astype(float)
    for number, row in table.iterrows():
        keys = [row[c] for c in key_columns if row[c]]
        for key in keys:
            assert key in known.index, f"{path.name} row {number + 2}: key {key!r} not in the ledger"
        keyed = {known[key] for key in keys}
        for column, cell in row.items():
            if column in key_columns or IDENTIFIER.search(column) or not NUMBER.fullmatch(cell):
                continue
            assert any(abs(float(cell) - v) <= 1e-9 * max(1, abs(v)) for v in keyed), (
                f"{path.name} row {number + 2}, column {column}: {cell} is not the value of a ledger key of its row"
            )


def test_data_dictionary_describes_and_validates_every_file():
    assert check_dictionary() == []


def test_dictionary_errors_name_file_row_and_column(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    costs = folder / "published" / "table_6c_program_costs.csv"
    lines = costs.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("Oslo", "Tromsø", 1).replace("Bergen", "Tromsø", 1)
    costs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "published" / "stray.csv").write_text("a\n1\n", encoding="utf-8")
    problems = check_dictionary(folder)
    assert any("stray.csv: not described" in p for p in problems)
    assert any("table_6c_program_costs.csv" in p and "row 3" in p and "column clinic" in p for p in problems), problems


def test_dictionary_gives_units_and_sources():
    package = json.loads((DEFAULT_DATA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        assert resource.get("sources"), resource["name"]
        assert resource.get("description"), resource["name"]
