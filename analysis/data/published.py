"""Where the data live, and loading them with a clear error when something is wrong.

The bundled data sit in the repository's ``data/`` folder: ``data/published/`` holds the report's
tables as tidy CSV files and the ledger of its statistics (``statistics.csv``); ``data/datapackage.json``
is the data dictionary of every file. A rerun may point ``data_dir`` at another folder with the same
layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pandas as pd

#: The repository's bundled data folder.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"


class DataError(ValueError):
    """A data file is missing or breaks a rule; the message names the file and what is wrong."""


def published_table(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Read ``<data_dir>/published/<name>.csv`` as a tidy frame.

    ``data_dir`` defaults to the bundled data. A missing file raises :class:`DataError` naming the path.
    """
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    path = folder / "published" / f"{name}.csv"
    if not path.is_file():
        raise DataError(f"{path}: file not found (expected the published table '{name}')")
    return pd.read_csv(path)


def check_published(data_dir: str | Path | None = None) -> list[str]:
    """Check every CSV under ``<data_dir>/published``; return one message per problem found.

    Rules: the file parses as CSV, has at least one row, its column names are unique snake_case,
    and no column is entirely empty.
    """
    folder = (Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR) / "published"
    problems: list[str] = []
    files = sorted(folder.glob("*.csv"))
    if not files:
        problems.append(f"{folder}: no CSV files found")
    for path in files:
        try:
            frame = pd.read_csv(path)
        except Exception as error:  # pandas raises several types; all mean "not a readable CSV"
            problems.append(f"{path}: cannot be read as CSV ({error})")
            continue
        if frame.empty:
            problems.append(f"{path}: has no data rows")
        for column in frame.columns:
            if not str(column).replace("_", "").isalnum() or str(column) != str(column).lower():
                problems.append(f"{path}: column '{column}' is not a snake_case name")
            elif frame[column].isna().all():
                problems.append(f"{path}: column '{column}' is empty in every row")
    return problems


def check_dictionary(data_dir: str | Path | None = None) -> list[str]:
    """Validate every file under ``data_dir`` against the data dictionary ``datapackage.json``.

    Returns one message per problem, naming file, row, column and the rule broken; a CSV file that the
    dictionary does not describe is a problem too.
    """
    from frictionless import Package

    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    descriptor = folder / "datapackage.json"
    if not descriptor.is_file():
        return [f"{descriptor}: data dictionary not found"]
    package = Package(str(descriptor))
    # An optional table (analysis.data.schema.OPTIONAL_TABLES) is described whether or not this folder has its file.
    for resource in list(package.resources):
        assert resource.path is not None  # every resource of the data dictionary is a file
        if resource.custom.get("optional") and not (folder / resource.path).is_file():
            package.remove_resource(resource.name)
    described = {(folder / cast(str, resource.path)).resolve() for resource in package.resources}
    problems = [
        f"{path}: not described in {descriptor.name}"
        for path in sorted(folder.rglob("*.csv"))
        if path.resolve() not in described
    ]
    report = package.validate()
    for task in report.tasks:
        for error in task.errors:
            where = ", ".join(
                f"{name} {getattr(error, attribute)}"
                for name, attribute in (("row", "row_number"), ("column", "field_name"))
                if getattr(error, attribute, None) is not None
            )
            problems.append(f"{folder / task.place}: {where + ': ' if where else ''}{error.type}: {error.note}")
    return problems


def check_schema_dictionary(data_dir: str | Path | None = None) -> list[str]:
    """Compare the patient-level entries of ``datapackage.json`` with :mod:`analysis.data.schema`.

    Every table of ``schema.TABLES`` (entries ``synthetic_<table>``) and ``schema.OPTIONAL_TABLES``
    (``optional_<table>``) must be described exactly as the schema describes it (types, constraints such as
    the upper bounds, descriptions); ``python -m analysis.data.schema`` rewrites the entries.
    """
    import json

    from analysis.data import schema

    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    descriptor = folder / "datapackage.json"
    if not descriptor.is_file():
        return []  # check_dictionary names the missing file
    try:
        package = json.loads(descriptor.read_text(encoding="utf-8"))
        described = {r["name"]: r for r in package["resources"]}
    except (ValueError, KeyError, TypeError) as error:
        return [f"{descriptor}: not a readable data dictionary ({error})"]
    expected = {f"synthetic_{name}": schema.dictionary_resource(t) for name, t in schema.TABLES.items()}
    expected |= {f"optional_{name}": schema.optional_resource(t) for name, t in schema.OPTIONAL_TABLES.items()}
    problems = []
    for name, resource in expected.items():
        if name not in described:
            problems.append(f"{descriptor}: resource '{name}' missing (run `python -m analysis.data.schema`)")
            continue
        fields = {f["name"]: f for f in described[name].get("schema", {}).get("fields", [])}
        for wanted in resource["schema"]["fields"]:
            if fields.get(wanted["name"]) != wanted:
                problems.append(
                    f"{descriptor}: resource '{name}', field '{wanted['name']}' differs from analysis/data/schema.py "
                    "(run `python -m analysis.data.schema`)"
                )
        if described[name] != resource and not any(f"resource '{name}'," in p for p in problems):
            problems.append(
                f"{descriptor}: resource '{name}' differs from analysis/data/schema.py (run `python -m analysis.data.schema`)"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Check the book's data files.")
    parser.add_argument("--check", action="store_true", help="check every published table")
    parser.add_argument("--data", default=None, help="data folder (default: the bundled data)")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 0
    problems = check_published(args.data) + check_dictionary(args.data) + check_schema_dictionary(args.data)
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        return 1
    folder = Path(args.data) if args.data else DEFAULT_DATA_DIR
    published = len(list((folder / "published").glob("*.csv")))
    patient_level = len(list((folder / "synthetic").glob("*.csv")))
    print(
        f"data: {published} published tables and {patient_level} patient-level tables checked against "
        f"{folder / 'datapackage.json'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
