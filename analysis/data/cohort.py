"""Loading the patient-level data, synthetic or real, and refusing data that break the schema.

:func:`load_cohort` reads the patient-level tables of :mod:`analysis.data.schema` from one folder (by default the
bundled synthetic cohort, ``data/synthetic/``), checks every column against the schema and then the
rules that span rows and tables. Any violation raises :class:`analysis.data.published.DataError` whose message
names the file, the column, the lines and the rule; nothing is returned half-checked.

The rules a cell's text follows before the schema's checks (:func:`_prepare`): UTF-8, comma-separated
files; no spaces or line breaks around a value; a missing value is an empty cell (``nan``, ``NA``, ``null``
... are refused, as is any text where a number or date belongs); dates are ISO calendar dates
``YYYY-MM-DD``; integers and identifiers use ASCII digits only, and an integer written with a zero decimal
part (``3.0``, as spreadsheets export whole numbers) is read as that integer. ``patients.csv`` and
``episodes.csv`` need at least one row; the other tables may hold only their header. ``cohort.json``
(optional) is a JSON object whose ``data_end`` is a date from 2022-01-01 to today.

Run ``python -m analysis.data.cohort --check [--data DIR]`` to check a folder from the command line; it
exits with status 2 and one line per problem when the data break a rule (never a traceback), and warns
about files the schema does not know.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis.data import schema
from analysis.data.published import DEFAULT_DATA_DIR, DataError

#: The bundled synthetic cohort.
DEFAULT_COHORT_DIR = DEFAULT_DATA_DIR / "synthetic"
#: Optional description of a cohort folder: {"source": "synthetic" | "real", "data_end": "YYYY-MM-DD", ...}
METADATA_FILE = "cohort.json"
#: Files a cohort folder may hold besides the tables: its description and the generator's calibration report.
KNOWN_FILES = frozenset({METADATA_FILE, "calibration.csv"})
#: Tables that need at least one data row; the others may be empty (a header line only), e.g. a data set
#: without adverse events, referrals or registry data.
NON_EMPTY_TABLES = ("patients", "episodes")
#: Line numbers listed in a message before it says "and N more".
_MAX_LINES_SHOWN = 10
#: Cell texts that mark a missing value (compared in lower case); the data mark one with an empty cell.
_MISSING_MARKERS = ("nan", "na", "n/a", "#n/a", "nat", "none", "null")
#: Cell texts of the types (ASCII digits only: "\d" would take Arabic-Indic digits too).
_INTEGER = r"[+-]?[0-9]+(?:\.0*)?"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
#: The rules of a cell's text, as the checker words them ({found}: the first offending values).
_CELL_RULES = {
    "integer": "value is not of type integer (found {found}; rule: a whole number in ASCII digits, e.g. 3 or 3.0)",
    "number": (
        "value is not of type number (found {found}; rule: a decimal number in ASCII digits with a point, e.g. 45.2)"
    ),
    "date": "value is not of type date (found {found}; rule: an ISO calendar date YYYY-MM-DD, no time)",
    "boolean": "value is not of type boolean (found {found}; rule: true or false, or an empty cell)",
    "spaced": "value has spaces or a line break around it (found {found}; rule: nothing around a value)",
}


def empty_table(table: schema.Table) -> pd.DataFrame:
    """A table of the schema with no rows: its columns, typed as the loader types them."""
    empty = pd.DataFrame({name: pd.Series(dtype="string") for name in table.columns})
    return schema.pandera_schema(table).validate(empty)


def empty_accounts() -> pd.DataFrame:
    """The ``accounts`` of a folder without ``clinic_accounts.csv``: no rows, the schema's columns."""
    return empty_table(schema.CLINIC_ACCOUNTS)


@dataclass(frozen=True)
class Cohort:
    """The patient-level tables of one data set, validated, with dates parsed."""

    patients: pd.DataFrame
    previous_oat: pd.DataFrame
    episodes: pd.DataFrame
    adverse_events: pd.DataFrame
    referrals: pd.DataFrame
    medication: pd.DataFrame
    questionnaires: pd.DataFrame
    health_service_use: pd.DataFrame
    #: Last day the data cover; episodes without a discharge date are still running on this day.
    data_end: pd.Timestamp
    #: "synthetic" for the bundled cohort, "real" for data from the research store.
    source: str
    folder: Path
    #: The clinics' yearly operating costs (``clinic_accounts.csv``: clinic, year, total_cost_nok), when the
    #: folder brings them; empty, with those columns, when it does not (pages then use the published accounts).
    accounts: pd.DataFrame = field(default_factory=empty_accounts)


def _lines(index) -> str:
    """CSV line numbers of frame rows (line 1 is the header)."""
    numbers = sorted({int(i) + 2 for i in index})
    shown = ", ".join(str(n) for n in numbers[:_MAX_LINES_SHOWN])
    more = len(numbers) - _MAX_LINES_SHOWN
    return f"line{'s' if len(numbers) > 1 else ''} {shown}" + (f" and {more} more" if more > 0 else "")


def _problem(path: Path, column: str, index, rule: str) -> str:
    return f"{path}: column '{column}', {_lines(index)}: {rule}"


def _read_csv(path: Path, table: schema.Table) -> tuple[pd.DataFrame | None, list[str]]:
    """The table's CSV file as text cells (empty cells missing), or ``None`` and the file's problems.

    File rules: the file exists, is UTF-8 (a byte-order mark is allowed), parses as comma-separated values,
    has every column of the schema, and has data rows when the table is one of :data:`NON_EMPTY_TABLES`.
    """
    if not path.is_file():
        return None, [f"{path}: file not found (table '{table.name}' of the patient-level data)"]
    try:
        raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    except OSError as error:
        return None, [f"{path}: cannot be read ({error.strerror or error})"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, [
            f"{path}: line {line}: the file is not UTF-8 (first undecodable byte 0x{raw[error.start]:02X}; "
            "rule: files are UTF-8 encoded; hint: save it as 'CSV UTF-8', not in a Windows or Latin-1 encoding)"
        ]
    if not text.strip():
        first = ", ".join(table.columns[:3])
        return None, [f"{path}: the file is empty (rule: the first line names the columns: {first}, ...)"]
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except Exception as error:  # any parser failure means the same thing to the user; pandas names the line
        message = str(error).strip()
        line_found = re.search(r"in line (\d+)", message)
        where = f"{path}: line {line_found.group(1)}" if line_found else f"{path}"
        rule = "rule: every line has the header's columns"
        return None, [f"{where}: cannot be read as comma-separated values ({message}; {rule})"]
    header = [str(c) for c in frame.columns]
    if len(header) == 1 and ";" in header[0]:
        return None, [
            f"{path}: line 1: the header is one column {header[0][:60]!r}: the file looks semicolon-delimited "
            "(rule: values are separated by commas; hint: export as comma-separated CSV)"
        ]
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        hint = " (hint: the file looks tab-delimited)" if len(header) == 1 and "\t" in header[0] else ""
        return None, [
            f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)} "
            f"(rule: every column of the schema is present){hint}"
        ]
    if frame.empty and table.name in NON_EMPTY_TABLES:
        return None, [
            f"{path}: no data rows, only the header (rule: {' and '.join(f'{n}.csv' for n in NON_EMPTY_TABLES)} "
            "have at least one row; the other tables may be empty)"
        ]
    return frame, []


def _found(values: pd.Series) -> str:
    """The first few distinct offending values, quoted so that spaces and line breaks show."""
    return ", ".join(repr(str(v)) for v in values.unique()[:3])


def _prepare(path: Path, table: schema.Table, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], dict[str, set]]:
    """Check every cell's text against its field's type; return the frame ready for pandera.

    Per-cell rules, each reported once per column with its lines: no spaces or line breaks around a value;
    a missing-value marker (``nan``, ``NA``, ``null``, ...) is not a value (a missing value is an empty cell);
    integers are ASCII digits, and a zero decimal part is accepted (``3.0`` is read as 3, as spreadsheets
    write whole numbers); numbers are ASCII decimals with a point; dates are ISO calendar dates
    ``YYYY-MM-DD`` (no time, no other order); booleans are ``true`` or ``false``. A cell that breaks one of
    them is emptied, and its rows are returned per column so that the schema's checks do not report the
    same cell again as empty.
    """
    frame = frame.copy()
    problems: list[str] = []
    bad: dict[str, set] = {}
    for f in table.fields:
        values = frame[f.name]
        present = values.notna()
        text = values[present].astype(str)
        findings: list[tuple[pd.Series, str]] = []
        spaced = text != text.str.strip()
        findings.append((spaced, _CELL_RULES["spaced"]))
        rest = text[~spaced]
        allowed = {str(a) for a in f.allowed} if f.allowed is not None else set()
        marker = rest.str.lower().isin(_MISSING_MARKERS) & ~rest.isin(allowed)
        what = "is not a number" if f.type in ("integer", "number") else "marks a missing value"
        if f.required:
            findings.append((marker, "value is required, but {found} " + what + " (rule: give the value)"))
        else:
            findings.append((marker, "{found} " + what + " (rule: an empty cell is the only way to leave a value out)"))
        rest = rest[~marker]
        if f.type == "integer":
            wrong = ~rest.str.fullmatch(_INTEGER)
            findings.append((wrong, _CELL_RULES["integer"]))
            whole = rest[~wrong].str.replace(r"\.0*$", "", regex=True).str.removeprefix("+")
            # Beyond the 64-bit range the value is certainly above the field's maximum: let that check name it.
            digits = whole.str.lstrip("+-")
            huge = digits.str.len() > 18
            whole[huge] = whole[huge].str.startswith("-").map({True: str(-(2**63) + 1), False: str(2**63 - 1)})
            frame.loc[whole.index, f.name] = whole
        elif f.type == "number":
            wrong = ~rest.str.fullmatch(_NUMBER)
            findings.append((wrong, _CELL_RULES["number"]))
        elif f.type == "date":
            iso = rest.str.fullmatch(_ISO_DATE)
            parsed = pd.to_datetime(rest.where(iso), format="%Y-%m-%d", errors="coerce")
            wrong = parsed.isna()
            findings.append((wrong, _CELL_RULES["date"]))
        elif f.type == "boolean":
            wrong = ~rest.isin(("true", "false"))
            findings.append((wrong, _CELL_RULES["boolean"]))
            as_bool = {"true": True, "false": False}
            frame[f.name] = values.map(
                lambda v, as_bool=as_bool: as_bool.get(v, v) if isinstance(v, str) else v
            ).astype(object)
        for flagged, rule in findings:
            if flagged.any():
                rows = flagged[flagged].index
                problems.append(_problem(path, f.name, rows, rule.format(found=_found(text[rows]))))
                bad.setdefault(f.name, set()).update(rows)
        if f.name in bad:
            frame.loc[sorted(bad[f.name]), f.name] = None
    return frame, problems, bad


def _validate_table(path: Path, table: schema.Table, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    frame, problems, emptied = _prepare(path, table, frame)
    try:
        return schema.pandera_schema(table).validate(frame, lazy=True), problems
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        mistyped = set(cases.loc[cases.check.astype(str).str.contains("dtype"), "column"])
        for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
            check = str(check)
            if check.startswith("coerce_dtype") or check.startswith("dtype"):
                wanted = {f.name: f.type for f in table.fields}.get(column, "?")
                rule = f"value is not of type {wanted} (found {', '.join(repr(str(v)) for v in group.failure_case.unique()[:3])})"
            elif check == "not_nullable":
                rule = "value is required but empty"
            elif check == "field_uniqueness" or check.startswith("unique") or check == "multiple_fields_uniqueness":
                rule = "value must be unique (duplicated identifier)"
            elif check == "column_in_schema":
                name = str(group.failure_case.iloc[0])
                twice = re.fullmatch(r"(.+)\.[0-9]+", name)
                named_twice = twice is not None and twice.group(1) in table.columns
                hint = (
                    f" (hint: is '{twice.group(1)}' named twice in the header?)"
                    if twice is not None and named_twice
                    else ""
                )
                problems.append(f"{path}: line 1: unexpected column {name!r} (rule: only the schema's columns){hint}")
                continue
            else:
                rule = check
            index = group["index"].dropna()
            # a cell emptied by _prepare is already reported with its real problem
            index = index[~index.isin(emptied.get(str(column), set()))]
            if not len(group["index"].dropna()) and column in mistyped:
                continue  # a range check that failed only because the column has the wrong type
            if len(index):
                problems.append(_problem(path, str(column), index, rule))
            elif not len(group["index"].dropna()):
                problems.append(f"{path}: column '{column}': {rule}")
        # a type failure is reported twice by pandera (coercion, then dtype): keep one
        return frame, list(dict.fromkeys(problems))


def _rule(problems: list[str], path: Path, column: str, bad: pd.Series, rule: str) -> None:
    if bad.any():
        problems.append(_problem(path, column, bad[bad].index, rule))


def _check_patient_links(tables: dict[str, pd.DataFrame], paths: dict[str, Path]) -> list[str]:
    """Every row of a patient's table names a patient of patients.csv (a referral may name none)."""
    problems: list[str] = []
    known = set(tables["patients"].patient_id)
    for name in ("previous_oat", "episodes", "adverse_events", "medication", "questionnaires", "health_service_use"):
        frame = tables[name]
        _rule(
            problems, paths[name], "patient_id", ~frame.patient_id.isin(known), "patient_id not found in patients.csv"
        )
    referrals = tables["referrals"]
    _rule(
        problems,
        paths["referrals"],
        "patient_id",
        referrals.patient_id.notna() & ~referrals.patient_id.isin(known),
        "patient_id not found in patients.csv",
    )
    return problems


def _check_episode_dates(episodes: pd.DataFrame, path: Path, data_end: pd.Timestamp) -> list[str]:
    """Each episode on its own: its dates lie in order within the data period, and its discharge is complete."""
    problems: list[str] = []
    start = pd.Timestamp(schema.STUDY_START)
    _rule(
        problems,
        path,
        "discharge_date",
        episodes.discharge_date < episodes.admission_date,
        "the episode ends before it starts (discharge_date is before admission_date)",
    )
    _rule(
        problems,
        path,
        "admission_date",
        (episodes.admission_date < start) | (episodes.admission_date > data_end),
        f"admission outside the data period {start.date()} to {data_end.date()}",
    )
    _rule(
        problems,
        path,
        "discharge_date",
        episodes.discharge_date > data_end,
        f"discharge after the end of the data ({data_end.date()})",
    )
    closed = episodes.discharge_date.notna()
    _rule(
        problems,
        path,
        "discharge_type",
        closed != episodes.discharge_type.notna(),
        "discharge_type is given exactly when discharge_date is",
    )
    _rule(
        problems,
        path,
        "discharge_reason",
        closed != episodes.discharge_reason.notna(),
        "discharge_reason is given exactly when discharge_date is",
    )
    expected_type = episodes.discharge_reason.map(schema.DISCHARGE_REASONS)
    _rule(
        problems,
        path,
        "discharge_reason",
        closed & (expected_type != episodes.discharge_type),
        "discharge_reason does not belong to discharge_type",
    )
    return problems


def _check_episode_sequence(patients: pd.DataFrame, episodes: pd.DataFrame, paths: dict[str, Path]) -> list[str]:
    """A patient's episodes are numbered in order of admission and do not overlap; every patient has one."""
    problems: list[str] = []
    path = paths["episodes"]
    ordered = episodes.sort_values(["patient_id", "admission_date"])
    number = ordered.groupby("patient_id").cumcount() + 1
    _rule(
        problems,
        path,
        "episode_number",
        (ordered.episode_number != number).reindex(episodes.index),
        "episode_number must count a patient's episodes 1, 2, ... in order of admission",
    )
    previous_end = ordered.groupby("patient_id").discharge_date.shift()
    has_previous = ordered.groupby("patient_id").cumcount() > 0
    overlap = has_previous & (previous_end.isna() | (ordered.admission_date <= previous_end))
    _rule(
        problems,
        path,
        "admission_date",
        overlap.reindex(episodes.index),
        "the episode starts before the patient's previous episode ended",
    )
    without = patients[~patients.patient_id.isin(set(episodes.patient_id))]
    _rule(
        problems,
        paths["patients"],
        "patient_id",
        patients.patient_id.isin(set(without.patient_id)),
        "patient has no treatment episode in episodes.csv",
    )
    return problems


def _check_inside_episodes(
    tables: dict[str, pd.DataFrame], paths: dict[str, Path], data_end: pd.Timestamp
) -> list[str]:
    """Events and registrations fall inside one of the patient's episodes (an open one runs to the data end)."""
    problems: list[str] = []
    episodes = tables["episodes"]
    spans = episodes.assign(end=episodes.discharge_date.fillna(data_end))[["patient_id", "admission_date", "end"]]
    for name, column in (
        ("adverse_events", "event_date"),
        ("medication", "registration_date"),
        ("questionnaires", "questionnaire_date"),
    ):
        frame = tables[name]
        merged = frame[["patient_id", column]].reset_index().merge(spans, on="patient_id", how="left")
        inside = (merged[column] >= merged.admission_date) & (merged[column] <= merged.end)
        ok = inside.groupby(merged["index"]).any().reindex(frame.index, fill_value=False)
        _rule(problems, paths[name], column, ~ok, "date lies outside every treatment episode of the patient")
    return problems


def _check_registry_quarters(
    use: pd.DataFrame, episodes: pd.DataFrame, path: Path, data_end: pd.Timestamp
) -> list[str]:
    """Registry quarters hang on the first admission (rule: see registry_quarter_span) and end by the data end."""
    problems: list[str] = []
    first = use.patient_id.map(episodes.groupby("patient_id").admission_date.min())
    expected_start, expected_end = registry_quarter_span(first, use.quarter)
    off = (use.quarter_start - expected_start).abs() > pd.Timedelta(days=1)
    _rule(
        problems,
        path,
        "quarter_start",
        first.notna() & off,
        "quarter_start does not match the first admission moved by the quarter's months (one day of tolerance)",
    )
    _rule(
        problems,
        path,
        "quarter",
        first.notna() & (expected_end > data_end),
        f"the quarter ends after the end of the data ({data_end.date()})",
    )
    return problems


def _check_referrals(referrals: pd.DataFrame, episodes: pd.DataFrame, path: Path, data_end: pd.Timestamp) -> list[str]:
    """Referrals lie in the data period, a denial gives its reason, and a patient is referred before admission."""
    problems: list[str] = []
    start = pd.Timestamp(schema.STUDY_START)
    _rule(
        problems,
        path,
        "referral_date",
        (referrals.referral_date < start) | (referrals.referral_date > data_end),
        f"referral outside the data period {start.date()} to {data_end.date()}",
    )
    _rule(
        problems,
        path,
        "denial_reason",
        (referrals.decision == "denied") != referrals.denial_reason.notna(),
        "denial_reason is given exactly when the referral was denied",
    )
    first_admission = episodes.groupby("patient_id").admission_date.min()
    linked = referrals[referrals.patient_id.notna()]
    first_referral = linked.groupby("patient_id").referral_date.min()
    late = first_referral[first_referral > first_admission.reindex(first_referral.index)].index
    _rule(
        problems,
        path,
        "referral_date",
        referrals.patient_id.isin(set(late)),
        "the patient's first referral comes after the first admission",
    )
    return problems


def _check_relations(tables: dict[str, pd.DataFrame], paths: dict[str, Path], data_end: pd.Timestamp) -> list[str]:
    """Rules spanning rows and tables; each problem names file, column, lines and rule.

    The checks run, and their problems are listed, in this order: the links to patients.csv, each episode's
    dates, the order of a patient's episodes, events within episodes, registry quarters, referrals.
    """
    patients, episodes = tables["patients"], tables["episodes"]
    return [
        *_check_patient_links(tables, paths),
        *_check_episode_dates(episodes, paths["episodes"], data_end),
        *_check_episode_sequence(patients, episodes, paths),
        *_check_inside_episodes(tables, paths, data_end),
        *_check_registry_quarters(tables["health_service_use"], episodes, paths["health_service_use"], data_end),
        *_check_referrals(tables["referrals"], episodes, paths["referrals"], data_end),
    ]


def registry_quarter_span(first_admission: pd.Series, quarter: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last day of each registry quarter (table ``health_service_use``), from the first admission.

    Quarter q >= 1 starts 3(q - 1) calendar months after the first admission date, quarter q <= -1 starts
    -3q months before it; each ends the day before the next one starts (quarter -1 the day before the
    admission). Months are added with ``pandas.DateOffset`` (31 January + 1 month = 28/29 February). The
    loader's rule: ``quarter_start`` lies within one day of this start (registry extracts that count from
    the day after admission, or round month ends differently, pass; a quarter shifted by more is refused),
    and a quarter is refused when it ends after the end of the data.
    """
    start = pd.Series(pd.NaT, index=quarter.index, dtype="datetime64[ns]")
    end = start.copy()
    for q in quarter.dropna().unique():
        at = (quarter == q).to_numpy()
        months = int(3 * (q - 1) if q > 0 else 3 * q)
        start[at] = first_admission[at] + pd.DateOffset(months=months)
        end[at] = first_admission[at] + pd.DateOffset(months=months + 3) - pd.Timedelta(days=1)
    return start, end


#: Sources a cohort description may name.
SOURCES = ("synthetic", "real")
_EXAMPLE_METADATA = '{"source": "real", "data_end": "2025-12-31"}'


def _metadata(folder: Path) -> tuple[pd.Timestamp, str, list[str]]:
    """The data end and source from ``cohort.json``, and one message per problem with it.

    Rules: the file is a UTF-8 JSON object; ``data_end`` (default 31 December of the study's last year) is a
    calendar date ``YYYY-MM-DD`` without time or time zone, not before the study start (1 January 2022) and
    not after today; ``source`` (default "real") is "synthetic" or "real".
    """
    path = folder / METADATA_FILE
    default = pd.Timestamp(schema.STUDY_END)
    if not path.is_file():
        return default, "real", []
    try:
        text = path.read_bytes().decode("utf-8-sig")
        meta = json.loads(text)
    except UnicodeDecodeError as error:
        return default, "real", [f"{path}: the file is not UTF-8 (byte {error.start}; rule: a UTF-8 JSON file)"]
    except json.JSONDecodeError as error:
        rule = f"rule: a JSON object such as {_EXAMPLE_METADATA}"
        return default, "real", [f"{path}: line {error.lineno}: not valid JSON ({error.msg}; {rule})"]
    if not isinstance(meta, dict):
        kinds = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}
        rule = f"rule: an object such as {_EXAMPLE_METADATA}"
        kind = kinds.get(type(meta), "null")
        return default, "real", [f"{path}: the description is {kind}, not a JSON object ({rule})"]

    def where(key: str) -> str:
        line = next((n for n, row in enumerate(text.splitlines(), 1) if f'"{key}"' in row), None)
        return f"{path}: key '{key}'" + (f", line {line}" if line else "")

    problems = []
    data_end = default
    value = meta.get("data_end", schema.STUDY_END.isoformat())
    iso = isinstance(value, str) and re.fullmatch(_ISO_DATE, value) is not None
    parsed = pd.to_datetime(value, format="%Y-%m-%d", errors="coerce") if iso else pd.NaT
    start = pd.Timestamp(schema.STUDY_START)
    today = pd.Timestamp(date.today())
    if pd.isna(parsed):
        rule = "rule: the last day of the data as YYYY-MM-DD, no time or time zone"
        problems.append(f"{where('data_end')}: {value!r} is not a date ({rule})")
    elif parsed < start:
        rule = f"rule: data_end from {start.date()} to today"
        problems.append(f"{where('data_end')}: {value} lies before the start of the data {start.date()} ({rule})")
    elif parsed > today:
        rule = f"rule: data_end from {start.date()} to today, {today.date()}"
        problems.append(f"{where('data_end')}: {value} lies in the future ({rule})")
    else:
        data_end = parsed
    source = meta.get("source", "real")
    if source not in SOURCES:
        problems.append(f"{where('source')}: {source!r} is not a known source (rule: one of {', '.join(SOURCES)})")
        source = "real"
    return data_end, str(source), problems


def folder_warnings(cohort_dir: str | Path | None = None) -> list[str]:
    """One warning per file of the folder that the schema does not know (it is ignored, not an error).

    Known: the tables of :data:`analysis.data.schema.TABLES` and :data:`analysis.data.schema.OPTIONAL_TABLES`,
    ``cohort.json`` and the generator's ``calibration.csv``. Hidden files (``.name``) are not listed.
    """
    folder = Path(cohort_dir) if cohort_dir is not None else DEFAULT_COHORT_DIR
    if not folder.is_dir():
        return []
    known = {f"{name}.csv" for name in (*schema.TABLES, *schema.OPTIONAL_TABLES)} | KNOWN_FILES
    return [
        f"{path}: {'folder' if path.is_dir() else 'file'} not known to the schema, ignored "
        "(rule: the folder holds the schema's tables, cohort.json and calibration.csv)"
        for path in sorted(folder.iterdir())
        if path.name not in known and not path.name.startswith(".")
    ]


def load_cohort(cohort_dir: str | Path | None = None) -> Cohort:
    """Read and validate the patient-level tables in ``cohort_dir`` (default: the bundled synthetic cohort).

    Raises :class:`DataError` listing every problem (file, column, lines, rule) when any table breaks the
    schema of :mod:`analysis.data.schema`, a rule across tables, or when ``cohort.json`` is malformed. Files the
    schema does not know are ignored (:func:`folder_warnings` names them).
    """
    folder = Path(cohort_dir) if cohort_dir is not None else DEFAULT_COHORT_DIR
    if not folder.is_dir():
        raise DataError(f"{folder}: folder of patient-level data not found")
    data_end, source, problems = _metadata(folder)
    paths = {name: folder / f"{name}.csv" for name in schema.TABLES}
    tables: dict[str, pd.DataFrame] = {}
    for name, table in schema.TABLES.items():
        frame, found = _read_csv(paths[name], table)
        if frame is not None:
            frame, found = _validate_table(paths[name], table, frame)
        tables[name] = frame
        problems += found
    accounts = empty_accounts()
    accounts_path = folder / f"{schema.CLINIC_ACCOUNTS.name}.csv"
    if accounts_path.is_file():
        frame, found = _read_csv(accounts_path, schema.CLINIC_ACCOUNTS)
        if frame is not None:
            frame, found = _validate_table(accounts_path, schema.CLINIC_ACCOUNTS, frame)
        problems += found
        if not found:
            assert frame is not None  # no problems means the table was read
            accounts = frame
            _rule(
                problems,
                accounts_path,
                "year",
                accounts.year > data_end.year,
                f"the accounts' year lies after the year of the data end ({data_end.date()})",
            )
    if not problems:
        try:
            problems = _check_relations(tables, paths, data_end)
        except Exception as error:  # a rule that cannot even be evaluated is still a problem of the data
            problems = [f"{folder}: the rules across tables could not be checked ({type(error).__name__}: {error})"]
    if problems:
        raise DataError("the patient-level data break the schema:\n  " + "\n  ".join(problems))
    return Cohort(**tables, data_end=data_end, source=source, folder=folder, accounts=accounts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.data.cohort", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="validate the folder and report problems (exit status 2 when it has any)"
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="folder with the patient-level CSV files (default: data/synthetic)"
    )
    args = parser.parse_args(argv)
    try:
        for warning in folder_warnings(args.data):
            print(f"warning: {warning}", file=sys.stderr)
        cohort = load_cohort(args.data)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was checked to the end", file=sys.stderr)
        return 130
    except Exception as error:  # never a traceback: name what failed
        where = args.data or DEFAULT_COHORT_DIR
        print(f"error: {where}: the data could not be checked ({type(error).__name__}: {error})", file=sys.stderr)
        return 2
    sizes = ", ".join(f"{name} {len(getattr(cohort, name))}" for name in schema.TABLES)
    if not cohort.accounts.empty:
        sizes += f", clinic_accounts {len(cohort.accounts)}"
    print(f"{cohort.folder}: valid {cohort.source} cohort through {cohort.data_end.date()} ({sizes} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())


#: Values of the ``clinic`` parameter of a computed page.
CLINIC_CHOICES = ("all",) + schema.CLINICS
#: Calendar years a rerun may end with.
YEAR_CHOICES = tuple(range(schema.STUDY_START.year, schema.STUDY_END.year + 1))


def restrict(cohort: Cohort, clinic: str = "all", year: int | None = None) -> Cohort:
    """The cohort as it would be for one clinic and/or with data through 31 December of ``year``.

    Definitions:

    * ``clinic``: the patients whose first admission was at that clinic, with all their episodes, events,
      registrations and previous OAT; the referrals sent to that clinic. ``"all"`` keeps everyone.
    * ``year``: the data end becomes 31 December of ``year``. Episodes admitted after it are left out
      (and patients left with no episode); an episode discharged after it is still running on the new
      data end (its discharge date, type and reason are emptied: censored); events, registrations,
      questionnaires and referrals dated after it are left out; registry quarters (``health_service_use``)
      that end after it are left out (the quarters before the first admission always stay); the clinic
      accounts (``accounts``) of years after its year are left out.
    * ``clinic`` also keeps only that clinic's accounts.

    ``year=None`` keeps the cohort's own data end.
    """
    if clinic not in CLINIC_CHOICES:
        raise DataError(f"clinic must be one of {', '.join(CLINIC_CHOICES)} (got {clinic!r})")
    end = cohort.data_end
    if year is not None:
        if int(year) not in YEAR_CHOICES:
            raise DataError(f"year must be one of {', '.join(map(str, YEAR_CHOICES))} (got {year!r})")
        end = min(end, pd.Timestamp(int(year), 12, 31))

    patients = cohort.patients
    if clinic != "all":
        patients = patients[patients.clinic == clinic]
    episodes = cohort.episodes[cohort.episodes.patient_id.isin(set(patients.patient_id))]
    episodes = episodes[episodes.admission_date <= end].copy()
    censored = episodes.discharge_date > end
    episodes.loc[censored, ["discharge_date"]] = pd.NaT
    episodes.loc[censored, ["discharge_type", "discharge_reason"]] = pd.NA
    kept = set(episodes.patient_id)
    patients = patients[patients.patient_id.isin(kept)]

    def dated(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        return frame[frame.patient_id.isin(kept) & (frame[column] <= end)]

    use = cohort.health_service_use
    first = use.patient_id.map(cohort.episodes.groupby("patient_id").admission_date.min())
    _, quarter_end = registry_quarter_span(first, use.quarter)

    referrals = cohort.referrals[cohort.referrals.referral_date <= end]
    accounts = cohort.accounts
    if clinic != "all":
        referrals = referrals[referrals.clinic == clinic]
        accounts = accounts[accounts.clinic == clinic]
    return Cohort(
        patients=patients,
        previous_oat=cohort.previous_oat[cohort.previous_oat.patient_id.isin(kept)],
        episodes=episodes,
        adverse_events=dated(cohort.adverse_events, "event_date"),
        referrals=referrals,
        medication=dated(cohort.medication, "registration_date"),
        questionnaires=dated(cohort.questionnaires, "questionnaire_date"),
        health_service_use=use[use.patient_id.isin(kept) & (quarter_end <= end)],
        data_end=end,
        source=cohort.source,
        folder=cohort.folder,
        accounts=accounts[accounts.year <= end.year],
    )


def published_edition(clinic: str = "all", year: int | None = None, data_dir=None) -> bool:
    """Whether page parameters give the published edition: both clinics, all years, the bundled data.

    Only then are computed values compared with the report's prints.
    """
    bundled = data_dir is None or Path(data_dir).resolve() == DEFAULT_COHORT_DIR.resolve()
    return clinic == "all" and (year is None or int(year) == schema.STUDY_END.year) and bundled
