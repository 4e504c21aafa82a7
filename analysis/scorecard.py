"""Gluing computed statistics under their ledger keys, and comparing them with what the report printed.

A computed page makes one :class:`Card`, glues every statistic it computes with :meth:`Card.glue`
(under the key the statistic has in ``data/published/statistics.csv``), and ends with
:meth:`Card.show`, a table of statistic, published value, computed value and whether they match.

A computed value *matches* when it rounds to the published value at the precision the report printed
it with: ``|computed - published| <= precision / 2`` (65.66 matches a printed 65.7%, 65.64 does not).

The whole-book scorecard is collected after the build from the glue data myst-nb writes beside each
executed notebook (``<build>/jupyter_execute/**/*.glue.json``): :func:`collect` reads them, and the
Sphinx extension ``book/_ext/scorecard.py`` writes ``scorecard.csv`` into the HTML output and fills the
scorecard page.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data import published_table

#: Columns of the machine-readable scorecard.
SCORECARD_COLUMNS = ["key", "section", "published", "computed", "within_precision"]


def ledger(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The ledger of published statistics, indexed by key."""
    return published_table("statistics", data_dir).set_index("key")


def plain_number(value) -> int | float:
    """A plain Python number (glue and format specs need ``65.7``, not ``np.float64(65.7)``)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def within_precision(computed: float, published: float, precision: float) -> bool:
    """Whether ``computed`` rounds to ``published`` at the printed ``precision``."""
    if computed is None or (isinstance(computed, float) and math.isnan(computed)):
        return False
    return abs(float(computed) - float(published)) <= precision / 2 * (1 + 1e-9) + 1e-12


def format_like_print(value: float, precision: float, unit: str = "") -> str:
    """``value`` rounded to ``precision`` and written as the report writes it (``65.7%``, ``1,514,427``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    decimals = max(0, -int(math.floor(math.log10(precision) + 1e-9))) if precision < 1 else 0
    rounded = round(float(value) / precision) * precision if precision >= 1 else float(value)
    text = f"{rounded:,.{decimals}f}"
    return text + ("%" if unit == "percent" else "")


class Card:
    """The statistics one page computes, glued under their ledger keys and compared with the report."""

    def __init__(self, data_dir: str | Path | None = None, compare: bool = True):
        """``compare=False`` for a rerun (one clinic, fewer years, other data): values are glued and
        listed, but a comparison with the report's prints would mean nothing, so none is made."""
        self._ledger = ledger(data_dir)
        self.compare = compare
        self._computed: dict[str, int | float] = {}
        self._notes: dict[str, str] = {}

    def glue(self, key: str, value, *, display: bool = False, note: str | None = None):
        """Glue ``value`` under the ledger ``key`` (for ``{glue:text}`` in the prose) and record it.

        ``note`` explains, on the page, why the computed value differs from the published one.
        Returns the plain number, so that a cell can glue and use it in one line.
        """
        from myst_nb import glue as myst_glue

        if key not in self._ledger.index:
            raise KeyError(f"'{key}' is not a key of data/published/statistics.csv")
        number = plain_number(value)
        self._computed[key] = number
        if note:
            self._notes[key] = note
        myst_glue(key, number, display=display)
        return number

    def explain(self, key: str, note: str) -> None:
        """Say on the page why ``key`` does not match the report."""
        self._notes[key] = note

    def glue_frame(self, frame: pd.DataFrame, key_column: str = "key", value_column: str = "value") -> None:
        """Glue every row of a computed table that names a ledger key in ``key_column``."""
        for key, value in frame[[key_column, value_column]].dropna(subset=[key_column]).itertuples(index=False):
            self.glue(key, value)

    def table(self) -> pd.DataFrame:
        """One row per glued statistic: key, what it is, published print, computed value, match, note."""
        rows = []
        for key, number in self._computed.items():
            entry = self._ledger.loc[key]
            match = within_precision(number, entry.value, entry.precision)
            rows.append(
                {
                    "key": key,
                    "statistic": entry.description,
                    "published": entry.printed,
                    "computed": format_like_print(number, entry.precision, entry.unit),
                    "match": "yes" if match else "no",
                    # a note explains a difference; on a value that matches it would mislead
                    "note": "" if match else self._notes.get(key, ""),
                }
            )
        return pd.DataFrame(rows, columns=["key", "statistic", "published", "computed", "match", "note"])

    def show(self):
        """A styled table for the end of the page (tag the cell ``hide-output`` to make it collapsible)."""
        frame = self.table()
        if not self.compare:
            return (
                frame[["statistic", "computed"]]
                .style.hide(axis="index")
                .set_caption("Statistics computed on this page (a rerun: not compared with the report).")
                .set_table_attributes('class="hatbook-table hatbook-scorecard"')
            )
        unexplained = frame[(frame.match == "no") & (frame.note == "")]
        if len(unexplained):
            raise AssertionError(
                "computed values differ from the report without a note on the page: "
                + ", ".join(unexplained.key)
            )
        matched = int((frame.match == "yes").sum())
        caption = f"{matched} of {len(frame)} statistics on this page match the report at its printed precision."
        return (
            frame.drop(columns="key")
            .style.hide(axis="index")
            .set_caption(caption)
            .set_table_attributes('class="hatbook-table hatbook-scorecard"')
        )


def collect(execute_dir: str | Path, data_dir: str | Path | None = None) -> pd.DataFrame:
    """The whole-book scorecard from the glue data of every executed notebook under ``execute_dir``.

    Returns one row per ledger key glued anywhere in the book: key, section, published, computed,
    within_precision, and the page (``docname``) that computed it.
    """
    book = ledger(data_dir)
    rows = []
    for path in sorted(Path(execute_dir).rglob("*.glue.json")):
        docname = path.relative_to(execute_dir).as_posix().removesuffix(".glue.json")
        for key, output in json.loads(path.read_text(encoding="utf-8")).items():
            if key not in book.index:
                continue
            text = str(output.get("data", {}).get("text/plain", "")).strip("'\"")
            try:
                computed = float(text)
            except ValueError:
                continue
            entry = book.loc[key]
            rows.append(
                {
                    "key": key,
                    "section": entry.section,
                    "published": entry.value,
                    "computed": computed,
                    "within_precision": within_precision(computed, entry.value, entry.precision),
                    "page": docname,
                }
            )
    return pd.DataFrame(rows, columns=SCORECARD_COLUMNS + ["page"])
