"""Where the data live, and loading them with a clear error when something is wrong.

The bundled data sit in the repository's ``data/`` folder: ``data/published/`` holds the report's
tables as tidy CSV files. A rerun may point ``data_dir`` at another folder with the same layout.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: The repository's bundled data folder.
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


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


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Check the book's data files.")
    parser.add_argument("--check", action="store_true", help="check every published table")
    parser.add_argument("--data", default=None, help="data folder (default: the bundled data)")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 0
    problems = check_published(args.data)
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        return 1
    folder = Path(args.data) if args.data else DEFAULT_DATA_DIR
    print(f"data: {len(list((folder / 'published').glob('*.csv')))} published tables checked in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
