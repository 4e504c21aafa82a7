"""Writing the synthetic tables as CSV: fixed formatting, and all-or-nothing.

Numbers and dates are formatted explicitly so that a regeneration with the same seed is byte-identical.
The files are written into a temporary folder beside the target and moved into place only when every
table has been written, so a failed run never leaves a half-written cohort.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from analysis.data import schema


def _format_column(series: pd.Series, kind: str) -> pd.Series:
    if kind == "boolean":
        return series.map(lambda v: "" if pd.isna(v) else ("true" if bool(v) else "false"))
    if kind == "date":
        return pd.to_datetime(series).dt.strftime("%Y-%m-%d").fillna("")
    if kind == "integer":
        return series.map(lambda v: "" if pd.isna(v) else str(int(v)))
    if kind == "number":
        return series.map(lambda v: "" if pd.isna(v) else f"{float(v):.1f}")
    return series.map(lambda v: "" if pd.isna(v) else str(v))


def to_csv_text(table: schema.Table, frame: pd.DataFrame) -> str:
    """The CSV text of ``frame`` in the schema's column order and formats (numbers to one decimal)."""
    out = pd.DataFrame({f.name: _format_column(frame[f.name], f.type) for f in table.fields})
    return out.to_csv(index=False, lineterminator="\n")


#: Columns of the calibration report ``calibration.csv`` written beside the cohort.
CALIBRATION_COLUMNS = (
    "module",
    "key",
    "description",
    "published",
    "tolerance",
    "achieved",
    "status",
    "aimed_by",
    "reason",
)


def calibration_csv_text(calibration: pd.DataFrame) -> str:
    """The CSV text of the calibration report: one row per target, numbers to 12 significant digits.

    ``calibration`` is :func:`synthetic.__main__.calibration` (its ``target`` column is written as
    ``published``); the text is the same for the same cohort, byte for byte.
    """
    frame = calibration.rename(columns={"target": "published"})
    out = pd.DataFrame({c: frame[c] for c in CALIBRATION_COLUMNS})
    for c in ("published", "tolerance", "achieved"):
        out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{float(v):.12g}")
    out["status"] = out["status"].str.lower()
    return out.to_csv(index=False, lineterminator="\n")


def write_cohort(
    tables: dict[str, pd.DataFrame], folder: Path, metadata: dict, calibration: pd.DataFrame | None = None
) -> None:
    """Write every table of :data:`analysis.data.schema.TABLES`, ``cohort.json`` and (when given) the
    calibration report ``calibration.csv`` into ``folder``, atomically."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, table in schema.TABLES.items():
            (staging / f"{name}.csv").write_text(to_csv_text(table, tables[name]), encoding="utf-8")
        if calibration is not None:
            (staging / "calibration.csv").write_text(calibration_csv_text(calibration), encoding="utf-8")
        (staging / "cohort.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        backup = folder.with_name(f".{folder.name}-previous")
        if backup.exists():
            shutil.rmtree(backup)
        if folder.exists():
            folder.rename(backup)
        staging.rename(folder)
        if backup.exists():
            shutil.rmtree(backup)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
