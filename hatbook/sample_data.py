"""Data sets of the schema that are not the bundled cohort, made from it: for trying editions out.

    python -m hatbook.sample_data subset --fraction 0.6 --seed 1 OUT
    python -m hatbook.sample_data replicate --times 10 OUT
    python -m hatbook.sample_data subset --patients 6 --seed 3 OUT
    python -m hatbook.sample_data subset --fraction 0.6 --with-accounts OUT


``subset`` keeps a random share (or number) of the bundled patients with everything that belongs to them
(episodes, events, registrations, questionnaires, registry quarters, previous OAT, and their referrals;
referrals of people who never became patients are kept in the same share). ``replicate`` stacks the
cohort ``times`` times, each copy with new identifiers, so a data set of tens of thousands of rows can be
made. Both write a ``cohort.json`` that calls the data synthetic and keeps the bundled data end.

``--with-accounts`` also writes the clinics' accounts of the subset (``clinic_accounts.csv``), as real data
would bring them: each clinic-year's published total cost (Table 6.C) times the subset's share of that
clinic-year's patient-days, so the cost per treatment day stays that of the report.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.cohort import DEFAULT_COHORT_DIR, METADATA_FILE

#: The tables of a cohort folder and their identifier columns (prefix letter, column).
TABLES = (
    "patients",
    "previous_oat",
    "episodes",
    "adverse_events",
    "referrals",
    "medication",
    "questionnaires",
    "health_service_use",
)
ID_COLUMNS = {"patient_id": "P", "episode_id": "E", "event_id": "A", "referral_id": "R", "person_id": "Q"}


def _read(source: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(source / f"{name}.csv", dtype=str, keep_default_na=False) for name in TABLES}


def _write(tables: dict[str, pd.DataFrame], out: Path, description: str, source: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    meta = json.loads((source / METADATA_FILE).read_text(encoding="utf-8"))
    meta = {"data_end": meta["data_end"], "source": "synthetic", "description": description}
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def patient_days(episodes: pd.DataFrame, patients: pd.DataFrame, data_end: str) -> pd.Series:
    """Days in treatment per (clinic, calendar year): admission day to discharge day (or the data end)
    counted inclusive, each day in its year; the clinic is the patient's (first admission's) clinic."""
    clinic = patients.set_index("patient_id").clinic
    counts: dict[tuple[str, int], int] = {}
    for row in episodes.itertuples():
        start = pd.Timestamp(row.admission_date)
        end = pd.Timestamp(row.discharge_date or data_end)
        for year in range(start.year, end.year + 1):
            first, last = max(start, pd.Timestamp(year, 1, 1)), min(end, pd.Timestamp(year, 12, 31))
            key = (clinic[row.patient_id], year)
            counts[key] = counts.get(key, 0) + (last - first).days + 1
    return pd.Series(counts, dtype=float)


def accounts_for(kept: dict[str, pd.DataFrame], full: dict[str, pd.DataFrame], data_end: str) -> pd.DataFrame:
    """The clinics' accounts of a subset: the published totals scaled by its share of the patient-days."""
    from analysis.data.published import published_table

    published = published_table("table_6c_program_costs")
    published = published[published.row_type == "clinic_year"]
    share = patient_days(kept["episodes"], kept["patients"], data_end) / patient_days(
        full["episodes"], full["patients"], data_end
    )
    rows = []
    for row in published.itertuples():
        key = (row.clinic, int(row.year))
        if key in share.index and share[key] > 0:
            rows.append(
                {"clinic": row.clinic, "year": int(row.year), "total_cost_nok": round(row.total_cost_nok * share[key])}
            )
    return pd.DataFrame(rows, columns=["clinic", "year", "total_cost_nok"])


def subset(
    out: Path,
    *,
    fraction: float | None = None,
    patients: int | None = None,
    seed: int = 1,
    source: Path = DEFAULT_COHORT_DIR,
    with_accounts: bool = False,
) -> Path:
    """A random ``fraction`` (or number ``patients``) of the patients of ``source``, written to ``out``."""
    tables = _read(source)
    ids = tables["patients"].patient_id.to_numpy()
    rng = np.random.default_rng(seed)
    if patients is not None:
        size = patients
    elif fraction is not None:
        size = max(1, round(len(ids) * fraction))
    else:
        raise ValueError("subset: give the fraction or the number of patients to keep")
    kept = set(rng.choice(ids, size=min(size, len(ids)), replace=False))
    result = {}
    for name, frame in tables.items():
        if name == "referrals":
            persons = frame[frame.patient_id == ""].person_id.unique()
            share = len(kept) / len(ids)
            persons = (
                set(rng.choice(persons, size=round(len(persons) * share), replace=False)) if len(persons) else set()
            )
            result[name] = frame[frame.patient_id.isin(kept) | frame.person_id.isin(persons)]
        else:
            result[name] = frame[frame.patient_id.isin(kept)]
    path = _write(result, out, f"A random {len(kept)} of the bundled synthetic patients (seed {seed}).", source)
    if with_accounts:
        data_end = json.loads((source / METADATA_FILE).read_text(encoding="utf-8"))["data_end"]
        accounts_for(result, tables, data_end).to_csv(path / "clinic_accounts.csv", index=False)
    return path


def replicate(out: Path, *, times: int = 10, source: Path = DEFAULT_COHORT_DIR) -> Path:
    """The cohort of ``source`` stacked ``times`` times, every copy with new identifiers."""
    tables = _read(source)
    width = {column: len(str(times)) + 4 for column in ID_COLUMNS}
    copies: dict[str, list[pd.DataFrame]] = {name: [] for name in tables}
    for copy in range(times):
        for name, frame in tables.items():
            frame = frame.copy()
            for column, prefix in ID_COLUMNS.items():
                if column in frame:
                    present = frame[column] != ""
                    digits = frame.loc[present, column].str[1:].astype(int)
                    frame.loc[present, column] = prefix + (copy * 10_000 + digits).astype(str).str.zfill(width[column])
            copies[name].append(frame)
    result = {name: pd.concat(frames, ignore_index=True) for name, frames in copies.items()}
    return _write(result, out, f"The bundled synthetic cohort {times} times over, with new identifiers.", source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hatbook.sample_data", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("subset", help="a random share or number of the bundled patients")
    group = one.add_mutually_exclusive_group(required=True)
    group.add_argument("--fraction", type=float)
    group.add_argument("--patients", type=int)
    one.add_argument("--seed", type=int, default=1)
    one.add_argument("--with-accounts", action="store_true", help="also write the subset's clinic accounts")
    one.add_argument("out", type=Path)
    many = sub.add_parser("replicate", help="the bundled cohort several times over, with new identifiers")
    many.add_argument("--times", type=int, default=10)
    many.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "subset":
        path = subset(
            args.out, fraction=args.fraction, patients=args.patients, seed=args.seed, with_accounts=args.with_accounts
        )
    else:
        path = replicate(args.out, times=args.times)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
