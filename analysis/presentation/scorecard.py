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

import html
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from analysis.data.published import published_table
from analysis.presentation import disclosure

#: Ledger units that are frequencies of people or records: in a rerun a glued value with one of these
#: units between 1 and the disclosure threshold is shown as "<5" (see :mod:`analysis.presentation.disclosure`).
FREQUENCY_UNITS = frozenset({"patients", "referrals", "events", "episodes", "enrollments", "admissions"})

#: Columns of the machine-readable scorecard.
SCORECARD_COLUMNS = ["key", "section", "published", "computed", "within_precision"]


def ledger(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The ledger of published statistics, indexed by key. ``printed`` is the report's print as text,
    exactly (a print such as "None" stays that word, not a missing value)."""
    frame = published_table("statistics", data_dir)
    path = Path(data_dir or Path(__file__).resolve().parents[2] / "data") / "published" / "statistics.csv"
    frame["printed"] = pd.read_csv(path, usecols=["printed"], dtype=str, keep_default_na=False)["printed"]
    return frame.set_index("key")


#: The synthetic generator's calibration report, written beside the bundled cohort by ``python -m synthetic``.
CALIBRATION_FILE = "calibration.csv"


def calibration_notes(cohort_dir: str | Path | None = None) -> dict[str, str]:
    """Why the synthetic cohort misses a published figure, by ledger key: the generator's own reason for
    every calibration target it reports as not met (``calibration.csv`` beside the cohort; empty when the
    folder has none, as real data would not). A page uses it to explain a difference that comes from the
    synthetic data rather than from the analysis."""
    from analysis.data.cohort import DEFAULT_COHORT_DIR

    path = (Path(cohort_dir) if cohort_dir is not None else DEFAULT_COHORT_DIR) / CALIBRATION_FILE
    if not path.is_file():
        return {}
    report = pd.read_csv(path)
    missed = report[(report["status"] != "pass") & report["reason"].notna()]
    return {
        key: f"The synthetic cohort is not calibrated to this figure: {reason.rstrip('.')}."
        for key, reason in zip(missed["key"], missed["reason"])
    }


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


#: Ledger rows printed as a bound ("p < .001"): the ledger holds the bound, and a computed value agrees
#: with the print when it lies below it.
UPPER_BOUNDS = frozenset({"s6_4_somatic_burden_lmm_p_value"})


def agrees_with_print(key: str, computed: float, entry) -> bool:
    """Whether a computed value agrees with the ledger row ``entry`` (value, precision) of ``key``:
    it rounds to the print, or, for a row printed as an upper bound, it lies below the bound."""
    if key in UPPER_BOUNDS and computed is not None and not (isinstance(computed, float) and math.isnan(computed)):
        return float(computed) < float(entry.value)
    return within_precision(computed, entry.value, entry.precision)


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

    def __init__(
        self, data_dir: str | Path | None = None, compare: bool = True, min_cell: int | None = None, edition=None
    ):
        """``compare=False`` for a rerun (one clinic, fewer years, other data): values are glued and
        listed, but a comparison with the report's prints would mean nothing, so none is made.

        A rerun also applies disclosure control (:mod:`analysis.presentation.disclosure`) to what it glues, with
        ``min_cell`` as the threshold (default 5; 0 turns it off): a frequency (a ledger unit in
        :data:`FREQUENCY_UNITS`) between 1 and ``min_cell - 1`` is glued as ``"<5"``, a value glued with
        ``of=`` counts one of which is small is withheld, and a value that could not be computed (NaN)
        is glued as "n/a". The published edition (``compare=True``) glues every value as computed."""
        self._ledger = ledger(data_dir)
        #: key -> the keys of the ledger that restate it (its column ``restates``): glued with it, never on their own
        restating = self._ledger["restates"].dropna() if "restates" in self._ledger else pd.Series(dtype=str)
        self._restated_by = restating[restating != ""].groupby(restating).groups
        self.compare = compare
        #: The edition (analysis.presentation.edition.Edition) a rerun's list of statistics is described for.
        self.edition = edition
        #: Disclosure threshold in force (None: the published edition, nothing suppressed).
        self.min_cell = None if compare else (disclosure.DEFAULT_THRESHOLD if min_cell is None else int(min_cell))
        self._computed: dict[str, int | float] = {}
        self._shown: dict[str, str] = {}
        self._notes: dict[str, str] = {}

    def disclose(self, value, *, frequency: bool = False, of=None, total=None, suppress: bool = False):
        """What a page may show for ``value`` under this card's disclosure control: the value itself,
        ``"<5"`` for a small frequency, the withheld mark when it derives from a small count in ``of``
        (or when ``total`` is shown and the rest ``total - value`` is small), "n/a" for NaN in a rerun.
        ``suppress=True`` withholds the value in a rerun whatever it is (a cell that complementary
        suppression chose, see :func:`analysis.presentation.disclosure.suppression_mask`)."""
        if self.min_cell is None:
            return value
        if suppress:
            return (
                disclosure.small_marker(self.min_cell)
                if frequency and disclosure.is_small(value, self.min_cell)
                else disclosure.WITHHELD
            )
        counts = (
            [of] if of is not None and not isinstance(of, (list, tuple, set, pd.Series, np.ndarray)) else list(of or [])
        )
        if frequency:
            shown = disclosure.count(value, self.min_cell, total=total)
            if shown is not value:
                return shown
        return disclosure.derived(value, counts, self.min_cell)

    def glue(
        self,
        key: str,
        value,
        *,
        display: bool = False,
        note: str | None = None,
        of=None,
        total=None,
        suppress: bool = False,
    ):
        """Glue ``value`` under the ledger ``key`` (for ``{glue:text}`` in the prose) and record it.

        ``note`` explains, on the page, why the computed value differs from the published one.
        ``of`` lists the counts a derived value (a percentage, a mean) is computed from and ``total`` a
        shown total a count is part of; in a rerun they decide whether the value must be withheld
        (see :meth:`disclose`). Returns the plain number, so that a cell can glue and use it in one line.
        """
        if key not in self._ledger.index:
            raise KeyError(f"'{key}' is not a key of data/published/statistics.csv")
        number = plain_number(value) if not disclosure.is_missing(value) else float("nan")
        shown = self.disclose(
            number, frequency=self._ledger.loc[key, "unit"] in FREQUENCY_UNITS, of=of, total=total, suppress=suppress
        )
        self._record(key, number, shown, note, display)
        return number

    def _record(self, key: str, number, shown, note: str | None, display: bool) -> None:
        """Glue ``key`` as ``shown`` (``number`` when nothing is hidden), and every key that restates it
        (the ledger's column ``restates``) with it, recording each for the comparison with the report."""
        from myst_nb import glue as myst_glue

        for name in [key, *self._restated_by.get(key, [])]:
            self._computed[name] = number
            if note:
                self._notes[name] = note
            if shown is not number:
                self._shown[name] = shown
            else:
                self._shown.pop(name, None)
            myst_glue(name, shown, display=display if name == key else False)

    def glue_value(
        self,
        name: str,
        value,
        *,
        display: bool = False,
        frequency: bool = False,
        of=None,
        total=None,
        suppress: bool = False,
    ):
        """Glue a value that is not a ledger statistic (a figure of this edition's own), under the same
        disclosure control as :meth:`glue`; ``frequency=True`` marks a count of people or records."""
        from myst_nb import glue as myst_glue

        number = plain_number(value) if not disclosure.is_missing(value) else float("nan")
        myst_glue(
            name, self.disclose(number, frequency=frequency, of=of, total=total, suppress=suppress), display=display
        )
        return number

    def explain(self, key: str, note: str) -> None:
        """Say on the page why ``key`` does not match the report."""
        self._notes[key] = note

    def explain_unexplained(self, notes: dict[str, str]) -> None:
        """Add ``notes`` (key -> note, e.g. :func:`calibration_notes`) to the keys that have no note yet."""
        for key, note in notes.items():
            self._notes.setdefault(key, note)

    def glue_frame(
        self, frame: pd.DataFrame, key_column: str = "key", value_column: str = "value", of_column: str | None = None
    ) -> None:
        """Glue every row of a computed table that names a ledger key in ``key_column``; ``of_column``
        optionally names a column holding, per row, the counts the value derives from (see :meth:`glue`)."""
        rows = frame.dropna(subset=[key_column])
        for _, row in rows.iterrows():
            self.glue(row[key_column], row[value_column], of=row[of_column] if of_column else None)

    def glue_statistics(self, statistics: pd.DataFrame) -> pd.Series:
        """Glue a section's statistics in one call, from the tidy frame its module returns.

        One row per glued name. Columns (only ``key`` and ``value`` are required):

        * ``key``: the glue name, written out in full in the module that builds the frame (so that
          ``grep`` finds it); a key of ``data/published/statistics.csv`` is compared with the report;
        * ``value``: the computed number, or a sentence (a string, glued as Markdown for ``{glue:md}``);
        * ``shown``: what a protected table shows for it in a rerun (a number or the marker the
          protection chose, see :func:`glue_shown`); missing: decided by the card's own rule;
        * ``of``, ``total``, ``suppress``: the counts a derived value rests on, the shown total a count is
          part of, and a cell that secondary suppression hides (see :meth:`disclose`);
        * ``frequency``: for a name that is not a ledger key, whether it is a count of people or records;
        * ``note``: why the value may differ from the report's print (shown only where it differs).

        Returns the computed values by key, so that the page can use them in the same cell."""
        from IPython.display import Markdown
        from myst_nb import glue as myst_glue

        def given(row, column, default=None):
            value = row.get(column, default)
            if value is None or (not isinstance(value, (list, tuple, set, np.ndarray, pd.Series)) and pd.isna(value)):
                return default
            return value

        values: dict[str, object] = {}
        for row in statistics.to_dict("records"):
            key, value = row["key"], row["value"]
            if isinstance(value, str):
                myst_glue(key, Markdown(value), display=False)
                values[key] = value
                continue
            options = {
                "of": given(row, "of"),
                "total": given(row, "total"),
                "suppress": bool(given(row, "suppress", False)),
            }
            if key in self._ledger.index:
                shown = given(row, "shown")
                note = given(row, "note")
                if shown is not None:
                    values[key] = glue_shown(self, key, value, shown, note=note)
                else:
                    values[key] = self.glue(key, value, note=note, **options)
            elif self.min_cell is not None and isinstance(given(row, "shown"), str):
                # an edition's own figure that the protected table hides: the same marker as the table
                myst_glue(key, given(row, "shown"), display=False)
                values[key] = plain_number(value) if not disclosure.is_missing(value) else float("nan")
            else:
                values[key] = self.glue_value(key, value, frequency=bool(given(row, "frequency", False)), **options)
        return pd.Series(values, dtype=object)

    def table(self) -> pd.DataFrame:
        """One row per glued statistic: key, what it is, published print, computed value, match, note."""
        rows = []
        for key, number in self._computed.items():
            entry = self._ledger.loc[key]
            match = agrees_with_print(key, number, entry)
            rows.append(
                {
                    "key": key,
                    "statistic": entry.description,
                    "published": entry.printed,
                    "computed": self._shown[key]
                    if key in self._shown
                    else format_like_print(number, entry.precision, entry.unit),
                    "match": "yes" if match else "no",
                    # a note explains a difference; on a value that matches it would mislead
                    "note": "" if match else self._notes.get(key, ""),
                }
            )
        return pd.DataFrame(rows, columns=["key", "statistic", "published", "computed", "match", "note"])

    def show(self):
        """The table that ends a computed page, under its heading "Checked against the report": one row per
        statistic in words, the report's print, this edition's value, ✓ or ✗ and the note that explains a
        difference (a note that names the errata appendix links to it); a row that differs carries the class
        ``hatbook-mismatch``. In a rerun: statistic and value only, nothing compared."""
        frame = self.table()
        if not self.compare:
            if self.edition is not None:
                # the ledger describes the report's data: say the edition's dates instead, and leave out
                # the statistics of years after the edition's data end (they are not computed in it)
                frame = frame.assign(statistic=frame.statistic.map(self.edition.describe))
                frame = frame[~frame.statistic.map(self.edition.names_a_later_year)]
            return (
                ScorecardStyler(frame[["statistic", "computed"]])
                .hide(axis="index")
                .relabel_index(list(VARIANT_LABELS), axis="columns")
                .set_caption("Statistics computed on this page (a rerun: not compared with the report).")
                .set_table_attributes('class="hatbook-table hatbook-scorecard"')
            )
        unexplained = frame[(frame.match == "no") & (frame.note == "")]
        if len(unexplained):
            raise AssertionError(
                "computed values differ from the report without a note on the page: " + ", ".join(unexplained.key)
            )
        matched = int((frame.match == "yes").sum())
        caption = (
            f"{matched} of {len(frame)} statistics on this page agree with the report at its printed precision"
            + ("; rows marked ✗ differ, and their note says why." if matched < len(frame) else ".")
        )
        shown = frame.assign(match=frame.match.map({"yes": "✓", "no": "✗"}), note=frame.note.map(link_errata))
        styler = ScorecardStyler(shown.drop(columns="key"))
        styler.mismatched_rows = [i for i, match in enumerate(frame.match) if match == "no"]
        return (
            styler.hide(axis="index")
            .relabel_index(list(COMPARISON_LABELS), axis="columns")
            .set_caption(caption)
            .set_table_attributes('class="hatbook-table hatbook-scorecard"')
        )


#: Column headings of a page's comparison with the report (statistic, published, computed, match, note);
#: the scorecard page uses the same words.
COMPARISON_LABELS = ("Statistic", "Report", "This edition", "Agrees", "Note")
#: Column headings of a rerun's list of statistics (statistic, computed).
VARIANT_LABELS = ("Statistic", "Value")
#: The page that lists the report's own inconsistencies, as the built HTML names it (pages are side by side).
ERRATA_PAGE = "appendix_errata.html"
_ERRATA_WORDS = re.compile(r"\{doc\}`appendix_errata`|\bthe errata (appendix|page)\b")


def link_errata(note: str) -> str:
    """``note`` with its mention of the errata ("the errata appendix", "the errata page" or a ``{doc}`` role
    naming it) as a link to that page; a note that names no erratum is returned as it is."""
    if not note:
        return note
    escaped = html.escape(note, quote=False)

    def link(match: re.Match) -> str:
        words = "the errata appendix" if match.group(0).startswith("{doc}") else match.group(0)
        return f'<a href="{ERRATA_PAGE}">{words}</a>'

    return _ERRATA_WORDS.sub(link, escaped)


class ScorecardStyler(Styler):
    """A pandas Styler whose rendered rows listed in ``mismatched_rows`` carry ``class="hatbook-mismatch"``
    (Styler itself classes cells only, and the highlight belongs to the row)."""

    mismatched_rows: list[int] = []

    def to_html(self, *args, **kwargs):
        text = super().to_html(*args, **kwargs)
        if not self.mismatched_rows or not isinstance(text, str):
            return text
        wanted = set(self.mismatched_rows)

        def mark(match: re.Match) -> str:
            return '<tr class="hatbook-mismatch">' + match.group(1) if int(match.group(2)) in wanted else match.group(0)

        return re.sub(r"<tr>(\s*<td[^>]*class=\"data row(\d+) col0)", mark, text)


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
                    "within_precision": agrees_with_print(key, computed, entry),
                    "page": docname,
                }
            )
    return pd.DataFrame(rows, columns=SCORECARD_COLUMNS + ["page"])


def shown_value(card: Card, key: str):
    """What ``card`` glued for the ledger ``key``: the computed number, or the marker a rerun shows in its
    place ("<5", "–", "n/a"); for prose that writes the value in its own words (e.g. with its unit)."""
    return card._shown.get(key, card._computed[key])


def glue_shown(card: Card, key: str, value, shown, *, note: str | None = None, display: bool = False):
    """Glue the ledger ``key`` as a table protected elsewhere shows it (e.g. by
    :func:`analysis.presentation.linked_suppression.protect_linked`): the computed ``value`` is recorded for the comparison
    with the report, and a rerun shows ``shown``, the number or the very marker the protection chose ("<5",
    "–", "n/a"), so that prose and table agree. In the published edition ``shown`` is not used. Returns the
    plain number."""
    if card.min_cell is None or not isinstance(shown, str):
        return card.glue(key, value, note=note, display=display)
    if key not in card._ledger.index:
        raise KeyError(f"'{key}' is not a key of data/published/statistics.csv")
    number = plain_number(value) if not disclosure.is_missing(value) else float("nan")
    card._record(key, number, shown, note, display)
    return number
