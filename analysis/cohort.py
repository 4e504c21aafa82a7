"""Loading the patient-level data, synthetic or real, and refusing data that break the schema.

:func:`load_cohort` reads the patient-level tables of :mod:`analysis.schema` from one folder (by default the
bundled synthetic cohort, ``data/synthetic/``), checks every column against the schema and then the
rules that span rows and tables. Any violation raises :class:`analysis.data.DataError` whose message
names the file, the column, the lines and the rule; nothing is returned half-checked.

Run ``python -m analysis.cohort --check [--data DIR]`` to check a folder from the command line; it
exits with status 1 and one line per problem when the data break a rule.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis import schema
from analysis.data import DEFAULT_DATA_DIR, DataError

#: The bundled synthetic cohort.
DEFAULT_COHORT_DIR = DEFAULT_DATA_DIR / "synthetic"
#: Optional description of a cohort folder: {"source": "synthetic" | "real", "data_end": "YYYY-MM-DD", ...}
METADATA_FILE = "cohort.json"
#: Line numbers listed in a message before it says "and N more".
_MAX_LINES_SHOWN = 10


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


def _read_csv(path: Path, table: schema.Table) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: file not found (table '{table.name}' of the patient-level data)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as error:  # any parser failure means the same thing to the user
        raise DataError(f"{path}: cannot be read as CSV ({error})") from error
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)} (rule: every column of the schema is present)")
    # Booleans are written "true"/"false"; anything else is left as text so that the type check names it.
    for f in table.fields:
        if f.type == "boolean":
            frame[f.name] = frame[f.name].map(lambda v: {"true": True, "false": False}.get(v, v) if isinstance(v, str) else v).astype(object)
    return frame


def _validate_table(path: Path, table: schema.Table, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    try:
        return schema.pandera_schema(table).validate(frame, lazy=True), []
    except pa.errors.SchemaErrors as errors:
        problems = []
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
                problems.append(f"{path}: unexpected column {group.failure_case.iloc[0]!r} (rule: only the schema's columns)")
                continue
            else:
                rule = check
            index = group["index"].dropna()
            if not len(index) and column in mistyped:
                continue  # a range check that failed only because the column has the wrong type
            if len(index):
                problems.append(_problem(path, str(column), index, rule))
            else:
                problems.append(f"{path}: column '{column}': {rule}")
        # a type failure is reported twice by pandera (coercion, then dtype): keep one
        return frame, list(dict.fromkeys(problems))


def _rule(problems: list[str], path: Path, column: str, bad: pd.Series, rule: str) -> None:
    if bad.any():
        problems.append(_problem(path, column, bad[bad].index, rule))


def _check_relations(tables: dict[str, pd.DataFrame], paths: dict[str, Path], data_end: pd.Timestamp) -> list[str]:
    """Rules spanning rows and tables; each problem names file, column, lines and rule."""
    problems: list[str] = []
    patients, episodes = tables["patients"], tables["episodes"]
    start = pd.Timestamp(schema.STUDY_START)
    known = set(patients.patient_id)

    for name in ("previous_oat", "episodes", "adverse_events", "medication", "questionnaires", "health_service_use"):
        frame = tables[name]
        _rule(problems, paths[name], "patient_id", ~frame.patient_id.isin(known), "patient_id not found in patients.csv")
    referrals = tables["referrals"]
    _rule(problems, paths["referrals"], "patient_id", referrals.patient_id.notna() & ~referrals.patient_id.isin(known), "patient_id not found in patients.csv")

    path = paths["episodes"]
    _rule(problems, path, "discharge_date", episodes.discharge_date < episodes.admission_date, "the episode ends before it starts (discharge_date is before admission_date)")
    _rule(problems, path, "admission_date", (episodes.admission_date < start) | (episodes.admission_date > data_end), f"admission outside the data period {start.date()} to {data_end.date()}")
    _rule(problems, path, "discharge_date", episodes.discharge_date > data_end, f"discharge after the end of the data ({data_end.date()})")
    closed = episodes.discharge_date.notna()
    _rule(problems, path, "discharge_type", closed != episodes.discharge_type.notna(), "discharge_type is given exactly when discharge_date is")
    _rule(problems, path, "discharge_reason", closed != episodes.discharge_reason.notna(), "discharge_reason is given exactly when discharge_date is")
    expected_type = episodes.discharge_reason.map(schema.DISCHARGE_REASONS)
    _rule(problems, path, "discharge_reason", closed & (expected_type != episodes.discharge_type), "discharge_reason does not belong to discharge_type")
    ordered = episodes.sort_values(["patient_id", "admission_date"])
    number = ordered.groupby("patient_id").cumcount() + 1
    _rule(problems, path, "episode_number", (ordered.episode_number != number).reindex(episodes.index), "episode_number must count a patient's episodes 1, 2, ... in order of admission")
    previous_end = ordered.groupby("patient_id").discharge_date.shift()
    has_previous = ordered.groupby("patient_id").cumcount() > 0
    overlap = has_previous & (previous_end.isna() | (ordered.admission_date <= previous_end))
    _rule(problems, path, "admission_date", overlap.reindex(episodes.index), "the episode starts before the patient's previous episode ended")
    without = patients[~patients.patient_id.isin(set(episodes.patient_id))]
    _rule(problems, paths["patients"], "patient_id", patients.patient_id.isin(set(without.patient_id)), "patient has no treatment episode in episodes.csv")

    # Events and registrations fall inside one of the patient's episodes.
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

    # Registry quarters hang on the first admission (rule: see registry_quarter_span).
    use = tables["health_service_use"]
    first = use.patient_id.map(episodes.groupby("patient_id").admission_date.min())
    expected_start, expected_end = registry_quarter_span(first, use.quarter)
    off = (use.quarter_start - expected_start).abs() > pd.Timedelta(days=1)
    _rule(problems, paths["health_service_use"], "quarter_start", first.notna() & off,
          "quarter_start does not match the first admission moved by the quarter's months (one day of tolerance)")
    _rule(problems, paths["health_service_use"], "quarter", first.notna() & (expected_end > data_end),
          f"the quarter ends after the end of the data ({data_end.date()})")

    path = paths["referrals"]
    _rule(problems, path, "referral_date", (referrals.referral_date < start) | (referrals.referral_date > data_end), f"referral outside the data period {start.date()} to {data_end.date()}")
    _rule(problems, path, "denial_reason", (referrals.decision == "denied") != referrals.denial_reason.notna(), "denial_reason is given exactly when the referral was denied")
    first_admission = episodes.groupby("patient_id").admission_date.min()
    linked = referrals[referrals.patient_id.notna()]
    first_referral = linked.groupby("patient_id").referral_date.min()
    late = first_referral[first_referral > first_admission.reindex(first_referral.index)].index
    _rule(problems, path, "referral_date", referrals.patient_id.isin(set(late)), "the patient's first referral comes after the first admission")
    return problems


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


def _metadata(folder: Path) -> tuple[pd.Timestamp, str]:
    path = folder / METADATA_FILE
    if not path.is_file():
        return pd.Timestamp(schema.STUDY_END), "real"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        return pd.Timestamp(meta.get("data_end", str(schema.STUDY_END))), str(meta.get("source", "real"))
    except (ValueError, TypeError) as error:
        raise DataError(f"{path}: not a valid cohort description ({error})") from error


def load_cohort(cohort_dir: str | Path | None = None) -> Cohort:
    """Read and validate the patient-level tables in ``cohort_dir`` (default: the bundled synthetic cohort).

    Raises :class:`DataError` listing every problem (file, column, lines, rule) when any table breaks the
    schema of :mod:`analysis.schema` or a rule across tables.
    """
    folder = Path(cohort_dir) if cohort_dir is not None else DEFAULT_COHORT_DIR
    if not folder.is_dir():
        raise DataError(f"{folder}: folder of patient-level data not found")
    data_end, source = _metadata(folder)
    paths = {name: folder / f"{name}.csv" for name in schema.TABLES}
    tables: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    for name, table in schema.TABLES.items():
        frame, found = _validate_table(paths[name], table, _read_csv(paths[name], table))
        tables[name] = frame
        problems += found
    accounts = empty_accounts()
    accounts_path = folder / f"{schema.CLINIC_ACCOUNTS.name}.csv"
    if accounts_path.is_file():
        accounts, found = _validate_table(accounts_path, schema.CLINIC_ACCOUNTS, _read_csv(accounts_path, schema.CLINIC_ACCOUNTS))
        problems += found
        if not found:
            _rule(problems, accounts_path, "year", accounts.year > data_end.year,
                  f"the accounts' year lies after the year of the data end ({data_end.date()})")
    if not problems:
        problems = _check_relations(tables, paths, data_end)
    if problems:
        raise DataError("the patient-level data break the schema:\n  " + "\n  ".join(problems))
    return Cohort(**tables, data_end=data_end, source=source, folder=folder, accounts=accounts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.cohort", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="validate the folder and report problems")
    parser.add_argument("--data", type=Path, default=None, help="folder with the patient-level CSV files (default: data/synthetic)")
    args = parser.parse_args(argv)
    try:
        cohort = load_cohort(args.data)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    sizes = ", ".join(f"{name} {len(getattr(cohort, name))}" for name in schema.TABLES)
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
