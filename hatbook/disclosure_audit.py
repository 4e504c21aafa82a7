"""Audit built editions for disclosure leaks: what a reader who reads, adds and subtracts can learn.

    python -m hatbook.disclosure_audit                          # every edition under _build/reruns
    python -m hatbook.disclosure_audit _build/reruns            # the same, named
    python -m hatbook.disclosure_audit _build/reruns/oslo-2022  # one edition (its folder holds headline.json)

An edition is a folder ``<variant>/`` holding ``html/`` (the built book) and ``headline.json`` (clinic, year,
data_dir, threshold, published, as :mod:`hatbook.rerun` writes it). The published edition (``published``
true or ``threshold`` null) is skipped: it compares with aggregates that are already public. In the other
editions the auditor reads every HTML page, every chart specification embedded in them, every executed
notebook served with the book (``*.ipynb`` with a ``parameters`` cell: a page without one reads no patient
data and is the same in every edition) and the search index (``searchindex.js``), and reports:

a. **shown counts** from 1 to threshold - 1 (``t`` below):

   * in a *count column* of a table: a column whose header names a count (a word of :data:`COUNT_WORDS`,
     e.g. "n", "Patients", "Number at risk", "Referrals", "Total") and no quantity that is not one (a word
     of :data:`NOT_COUNT_WORDS`, e.g. "%", "share", "mean", "days", "NOK"), or any column holding a hidden
     marker ``"<t"`` (the page itself treats it as counts). Tables read are the computed ones: those with
     the ``hatbook-table`` class or inside a cell's output (static tables reprint the report);
   * in chart data (Vega-Lite ``datasets`` and inline ``data.values``): a field whose name is a count by
     the same words (``patients``, ``n``, ``total``, ``at_risk``, ``number_at_risk``, ``events``, ...);
     and a survival curve's step of 1..t-1 patients: the number at risk falling by so few from one row
     to the next (one row per discharge tells who left on which day);
   * in a glued value of a notebook whose name is a count by the same words (``s6_5_patients_with_sae_n``);
   * in prose (page text outside tables and code, notebook text outputs, titles of the search index): a
     number written in digits followed by a noun of :data:`PROSE_NOUNS` ("3 patients"). The search index
     keeps every other word only as a single term with no context, which cannot be judged;

b. **hidden cells recovered within a table**: a hidden cell (``"<t"``: at least 1 and at most t - 1;
   ``"–"``: withheld, at least 0) is recovered when the table's linear relations leave it one value. The
   relations used are the ones a reader sees (see :func:`relations`): a column that is the sum of a block
   of count columns beside it (its header names a total, e.g. "Patients", or a row shown in full confirms
   it) and a row labelled as a total ("Total", "All", "Both clinics") that is the sum of the rows above or
   below it up to the previous total row. A relation is used only if no row or column shown in full
   contradicts it. Each hidden cell's least and greatest value are found by integer programming
   (:func:`scipy.optimize.milp`); equal bounds recover it;

c. **hidden cells recovered between editions**: for editions of the same year and data, a table that
   appears in the both-clinics edition and a one-clinic edition (same page, anchor and headers; captions
   may carry an edition's words), and a row and count column with the same labels, satisfies
   all = Oslo + Bergen. A clinic's cell that this pins down is a leak when its edition hides it, or when
   that edition was not built (or lacks the cell) and the value lies in 1..t-1 (the edition must hide it).

d. **hidden cells and small groups recovered between years**: for editions of the same clinic and data
   with different data ends (the published edition included: what it shows is public), a count of
   *nested sets* (patients enrolled by the data end with a baseline characteristic, events up to the data
   end, patients ever discharged) can only grow with the data end, and count(later) - count(earlier) is
   the number of patients or events added in between. A table (same page, anchor and headers, with
   group sizes such as "(n=60)" and "45/124" read as the same text) is taken to count nested sets when
   none of its shown counts, in any clinic's editions, falls from an earlier data end to a later one (a
   state at the data end, such as patients in treatment on that day, falls somewhere and is left out).
   A few tables count states although their shown counts may happen never to fall (the fall is hidden):
   they are listed in :data:`STATE_CELLS` and left out.
   In such a table each count cell (same row and column labels) is followed from year to year: what a
   reader knows of it in one edition (a number, ``"<t"``, ``"–"``) bounds it in the others (no later
   value is smaller, no earlier one larger). A finding is a hidden cell this pins to one value, and a
   pair of editions whose difference it pins to 1..t-1 (a group of so few added between the two data
   ends; any two years, not only neighbours). The group sizes printed in labels ("Born in Norway
   (n=51)", a header's "(n=124)") are followed as cells of their own. The relation is used only inside
   one table and cell: sums across rows are left to rules b and c.

e. **hidden cells recovered with the prose of the page**: a clause of the page's text (cut at full stops,
   colons, semicolons and commas) that names a group of a table's rows (a label repeated down a label
   column, such as "Planned" over the reasons of a planned discharge) and gives a number states that
   group's sum ("41 of them were planned"). Each such sum is added to the table's own relations (rule b) on
   its own; a sum that cannot hold is no relation; a hidden cell it pins to 1..t-1 that the table alone
   does not is a finding (the relation is read from words, so a pinned 0 or large count is not claimed).

Not covered: relations between the tables of a page other than the sums above, and between the prose of
different years.

Output: one line per finding, tab-separated: edition, page, where, what, value. Exit status 1 when
anything is found, 0 when nothing is, 2 for bad input (no such folder, no edition in it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
from bs4 import BeautifulSoup

#: Words of a header, field or glue name that say its values count people or things (plural: "Event" or
#: "Patient" heads a column of labels).
COUNT_WORDS = frozenset(
    "n count counts number patients people persons individuals respondents answered answers responses "
    "questionnaires denominator events referrals episodes discharges admissions deaths cases total risk "
    "at_risk number_at_risk".split()
)
#: Words that say a value is some other quantity even when a count word is there ("Patients (%)").
NOT_COUNT_WORDS = frozenset(
    "% percent pct share proportion mean median average sd se range min max lowest highest rate ratio per "
    "cost costs nok years months days weeks age score ci lower upper p qaly qalys utility "
    # counts of things that are no people
    "relocations groups clinics places capacity length period window".split()
)
#: Nouns after a number in prose that make it a count ("3 patients").
PROSE_NOUNS = (
    "patients?|people|persons?|individuals|respondents|women|men|discharges?|deaths?|events?|referrals?|"
    "episodes?|admissions?|cases"
)
_PROSE_COUNT = re.compile(rf"(?<![\w.,/])(\d{{1,6}})\s+(?:{PROSE_NOUNS})\b(?!-)")
#: Words of a row label that make the row a total of the rows beside it.
TOTAL_ROW = re.compile(r"\b(total|all|both clinics|sum|overall)\b", re.IGNORECASE)
#: Words of a column header that make the column a total of the integer columns beside it.
TOTAL_WORDS = frozenset("total all sum n patients number answered respondents".split())
WITHHELD = "–"
#: Upper bound of a withheld value in the integer programmes (any count of a book is far below it).
BIG = 10**7


@dataclass(frozen=True, order=True)
class Finding:
    edition: str
    page: str
    where: str
    what: str
    value: str

    def line(self) -> str:
        return "\t".join((self.edition, self.page, self.where, self.what, self.value))


@dataclass
class Edition:
    name: str
    html: Path
    clinic: str
    year: int
    threshold: int | None
    data_dir: str | None
    published: bool


@dataclass
class Table:
    """A table as a reader sees it: header texts and the text of every body cell, spans expanded."""

    key: str
    headers: list[str]
    rows: list[list[str]]
    counts: list[bool] = field(default_factory=list)  # which columns are count columns (rule a)
    #: a table of statistics, one a row ("statistic | computed"): a cell is a count when its row's name says so
    by_row: bool = False
    anchor: str = ""

    def is_count(self, row: list[str], column: int) -> bool:
        if self.by_row:
            return self.headers[column].lower() in ("computed", "value") and is_count_name(row[0])
        return self.counts[column]


# --- reading cells ------------------------------------------------------------------------------------------


def words(text: str) -> set[str]:
    # "(n=92)" in a group header says how many the group has, not what the column counts
    text = re.sub(r"\(\s*n\s*=\s*[\d,]+\s*\)", "", text.lower())
    return set(re.findall(r"[a-zæøå_]+|%", text.replace("_", " "))) | {text.strip()}


def is_count_name(text: str) -> bool:
    """Whether a header, field or glue name names a count (see the module's rule a)."""
    found = words(text)
    return bool(found & COUNT_WORDS) and not found & NOT_COUNT_WORDS


def number(text) -> int | None:
    """The non-negative integer a cell or value shows (``"1,234"``, ``3``, ``3.0``), else None."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float)):
        return int(text) if float(text).is_integer() and text >= 0 else None
    cleaned = re.sub(r"[,\s\u00a0\u202f\u2009]", "", str(text))
    return int(cleaned) if re.fullmatch(r"\d+", cleaned) else None


def cell(text: str) -> str:
    """A table cell's count without the share or base printed with it: ``"7 (41%)"``, ``"<5 of 45"``."""
    text = " ".join(str(text).split())
    match = re.fullmatch(r"(\S+)\s*(\([^()]*\)|of [\d,]+)", text)
    return match.group(1) if match else text


def hidden(text, threshold: int) -> tuple[int, int] | None:
    """Bounds of a hidden cell: ``"<5"`` is 1..4, ``"–"`` (withheld) is 0..BIG; None for anything else."""
    text = cell(text)
    marker = re.fullmatch(r"<\s*(\d+)", text)
    if marker:
        return 1, int(marker.group(1)) - 1
    return (0, BIG) if text == WITHHELD else None


def small(value, threshold: int) -> bool:
    n = number(value)
    return n is not None and 0 < n < threshold


def prose_counts(text: str, threshold: int) -> list[str]:
    """Counts 1..threshold-1 written in prose as "3 patients"."""
    return [m.group(0) for m in _PROSE_COUNT.finditer(text) if 0 < int(m.group(1)) < threshold]


# --- reading pages -----------------------------------------------------------------------------------------


def _grid(rows) -> list[list[str]]:
    """The cells of ``rows`` (``<tr>`` tags) as a rectangle of texts, row and column spans expanded."""
    grid: list[list[str]] = []
    pending: dict[int, tuple[int, str]] = {}  # column -> (rows still to fill, text) of a rowspan
    for tr in rows:
        row: list[str] = []
        cells = iter(tr.find_all(["th", "td"], recursive=False))
        column = 0
        while True:
            if column in pending:
                left, text = pending.pop(column)
                row.append(text)
                if left > 1:
                    pending[column] = (left - 1, text)
                column += 1
                continue
            cell = next(cells, None)
            if cell is None:
                break
            text = " ".join(cell.get_text(" ", strip=True).split())
            for _ in range(int(cell.get("colspan", 1) or 1)):
                if int(cell.get("rowspan", 1) or 1) > 1:
                    pending[column] = (int(cell["rowspan"]) - 1, text)
                row.append(text)
                column += 1
        grid.append(row)
    return grid


def _anchor(tag) -> str:
    """The nearest id around a table that names it across editions (not the random ids of a Styler)."""
    for parent in tag.parents:
        ident = parent.get("id") if hasattr(parent, "get") else None
        if ident and not re.match(r"(T_|hatbook-chart-)", ident):
            return ident
    return ""


def tables(soup, threshold: int, *, computed_only: bool = True) -> list[Table]:
    """The computed tables of a page (``hatbook-table`` class or inside a cell's output)."""
    found: list[Table] = []
    seen: dict[str, int] = defaultdict(int)
    for tag in soup.find_all("table"):
        in_output = tag.find_parent(class_=re.compile(r"(cell_output|output)")) is not None
        if computed_only and "hatbook-table" not in (tag.get("class") or []) and not in_output:
            continue
        header_rows = tag.thead.find_all("tr") if tag.thead else []
        body = tag.tbody.find_all("tr") if tag.tbody else [tr for tr in tag.find_all("tr") if tr not in header_rows]
        head = _grid(header_rows)
        rows = [row for row in _grid(body) if row]
        width = max([len(r) for r in rows + head] or [0])
        headers = [" / ".join(dict.fromkeys(h[i] for h in head if i < len(h) and h[i])) for i in range(width)]
        rows = [row + [""] * (width - len(row)) for row in rows]
        caption = tag.caption.get_text(" ", strip=True) if tag.caption else ""
        figure = tag.find_parent(["figure", "div"], class_=re.compile("figure|table"))
        if not caption and figure is not None and figure.find(["figcaption", "caption"]):
            caption = figure.find(["figcaption", "caption"]).get_text(" ", strip=True)
        # the anchor (with its rank among the tables under it) names the table across editions; the caption
        # is for the reader of a finding (it may carry an edition's words)
        anchor = _anchor(tag)
        seen[anchor] += 1
        anchor = f"{anchor} #{seen[anchor]}" if seen[anchor] > 1 else anchor
        key = anchor + (f" '{caption}'" if caption else "")
        counts = [
            is_count_name(h) or any(hidden(r[i], threshold) and cell(r[i]) != WITHHELD for r in rows)
            for i, h in enumerate(headers)
        ]
        classes = tag.get("class") or []
        by_row = "hatbook-scorecard" in classes or bool(headers) and headers[0].lower() in ("statistic", "key")
        if by_row and headers[0].lower() == "key" and len(headers) > 1:  # the scorecard page: key, statistic, ...
            rows = [row[1:] for row in rows]
            headers, counts = headers[1:], counts[1:]
        found.append(Table(key.strip() or "table", headers, rows, counts, by_row, anchor))
    return found


def chart_specs(html: str) -> list[dict]:
    """Vega-Lite specifications embedded in scripts (``var spec = {...}`` or a whole JSON script)."""
    specs = []
    decoder = json.JSONDecoder()
    for script in re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.DOTALL | re.IGNORECASE):
        position = 0
        while True:
            start = script.find("{", position)
            if start < 0:
                break
            try:
                value, end = decoder.raw_decode(script, start)  # "<\/" in a spec is JSON's escape of "/"
            except json.JSONDecodeError:
                position = start + 1
                continue
            if isinstance(value, dict) and ("$schema" in value or "datasets" in value or "data" in value):
                specs.append(value)
            position = end
    return specs


def datasets(spec) -> Iterator[tuple[str, list]]:
    """Every table of values in a chart specification: named ``datasets`` and inline ``data.values``."""
    if isinstance(spec, dict):
        for name, rows in (spec.get("datasets") or {}).items():
            if isinstance(rows, list):
                yield name, rows
        data = spec.get("data")
        if isinstance(data, dict) and isinstance(data.get("values"), list):
            yield data.get("name", "values"), data["values"]
        for key, value in spec.items():
            if key not in ("datasets", "data"):
                yield from datasets(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from datasets(item)


# --- rule a: shown counts ----------------------------------------------------------------------------------


def _row_label(table: Table, row: list[str]) -> str:
    """Texts of the cells left of the first count column: what names the row."""
    first = 1 if table.by_row else next((i for i, c in enumerate(table.counts) if c), len(row))
    return " / ".join(text for text in row[:first] if text) or "?"


def shown_in_table(table: Table, threshold: int) -> Iterator[tuple[str, str]]:
    for row in table.rows:
        for i, text in enumerate(row):
            if table.is_count(row, i) and small(cell(text), threshold):
                yield f"{table.key}: row '{_row_label(table, row)}', column '{table.headers[i]}'", text


#: Fields that place a row of chart data in time (shown beside a finding).
TIME_FIELDS = ("years", "days", "months", "time", "date", "day")


def shown_in_chart(spec: dict, threshold: int) -> Iterator[tuple[str, str, str]]:
    """Counts 1..t-1 in a chart's data, and survival steps of fewer than t patients: where a field of the
    number at risk falls by 1..t-1 from one row to the next of the same series (rows with the same text
    fields), that row is a step of so few patients (with its day, who left when)."""
    for name, rows in datasets(spec):
        previous: dict[tuple, dict] = {}
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                continue
            series = tuple((k, v) for k, v in row.items() if isinstance(v, str) and k not in TIME_FIELDS)
            label = ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in row.items()
                if isinstance(v, str) or k in TIME_FIELDS
            )[:80]
            for key, value in row.items():
                if is_count_name(key) and small(value, threshold):
                    yield f"chart data {name} row {index} ({label}) field '{key}'", "shown count", str(value)
                if "risk" in key and series in previous:
                    before, now = number(previous[series].get(key)), number(value)
                    if before is not None and now is not None and 0 < before - now < threshold:
                        what = f"survival step of fewer than {threshold} patients ({before} to {now} at risk)"
                        yield f"chart data {name} row {index} ({label}) field '{key}'", what, str(before - now)
            previous[series] = row


# --- rule b: recovery within a table -----------------------------------------------------------------------


def _bounds(text: str, threshold: int) -> tuple[int, int] | None:
    """What a reader knows of a count cell: (least, greatest); an empty cell is unknown (0..BIG)."""
    if not str(text).strip():
        return 0, BIG
    n = number(cell(text))
    return (n, n) if n is not None else hidden(text, threshold)


def _integer_columns(table: Table, threshold: int) -> list[bool]:
    """Columns that may be summed: a whole number, a ``"<5"`` or a ``"–"`` in some cell and no header of another
    quantity ("%", "mean", "SD", ...). A column of ``"–"`` only is read as counts all withheld: skipped, it would
    leave out of a sum the counts it holds and give the hidden cells beside it values they do not have (a share
    column says so in its header). The first column names the row (a year) and is never summed. Rows where such
    a column holds anything else (a mean under a count) make no relation."""

    def countable(text: str) -> bool:
        bounds = _bounds(text, threshold) if str(text).strip() else None
        return bounds is not None and (bounds[1] < BIG or cell(text) == WITHHELD)

    return [
        i > 0  # the first column names the row (a year is a label, not a count)
        and not table.by_row
        and not words(header) & NOT_COUNT_WORDS
        and any(countable(row[i]) for row in table.rows)
        for i, header in enumerate(table.headers)
    ]


def relations(table: Table, threshold: int) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
    """The table's sums a reader sees: (total cell, part cells), each cell as (row, column).

    A column ``t`` of counts may be the sum of a block of count columns beside it (count columns taken in
    order, skipping others): the block of all count columns after it (or before it) when its header names a
    total or a row shown in full confirms it, any shorter block only when a row confirms it, and never a
    block inside a longer confirmed one (zeros confirm both). A row labelled as a total may be the sum of
    the rows above (or below) it up to the previous total row, column by column. No row or column shown in
    full may contradict a relation used."""
    ints = _integer_columns(table, threshold)
    found = []

    def judge(instances) -> tuple[bool, bool]:
        """(contradicted, confirmed) by the instances shown in full."""
        confirmed = False
        for total, parts in instances:
            values = [number(cell(table.rows[r][c])) for r, c in [total, *parts]]
            if all(v is not None for v in values):
                counts = cast(list[int], values)  # all shown in full (checked above)
                if counts[0] != sum(counts[1:]):
                    return True, False
                confirmed = confirmed or counts[0] > 0
        return False, confirmed

    def usable(instances):
        # rows whose cells are not all counts (a mean in a count column) are left out
        return [(t, p) for t, p in instances if all(_bounds(table.rows[r][c], threshold) for r, c in [t, *p])]

    for t, header in enumerate(table.headers):
        if not ints[t]:
            continue
        accepted: list[set[int]] = []
        for side in ([c for c in range(t + 1, len(ints)) if ints[c]], [c for c in range(t - 1, -1, -1) if ints[c]]):
            blocks = [side[i:j] for i in range(len(side)) for j in range(len(side), i + 1, -1)]
            for block in sorted(blocks, key=len, reverse=True):
                if any(set(block) <= other for other in accepted):
                    continue
                instances = usable([((r, t), [(r, c) for c in block]) for r in range(len(table.rows))])
                contradicted, confirmed = judge(instances)
                named = len(block) == len(side) and bool(words(header) & TOTAL_WORDS)
                if instances and not contradicted and (confirmed or named):
                    accepted.append(set(block))
                    found += instances
    totals = [r for r, row in enumerate(table.rows) if TOTAL_ROW.search(_row_label(table, row))]
    for r in totals:
        for neighbours in (range(r - 1, -1, -1), range(r + 1, len(table.rows))):
            rows = []
            for other in neighbours:
                if other in totals:
                    break
                rows.append(other)
            if len(rows) < 2:
                continue
            for c in range(len(table.headers)):
                if ints[c] and table.counts[c]:
                    instances = usable([((r, c), [(other, c) for other in rows])])
                    if instances and not judge(instances)[0]:
                        found += instances
    return found


def recovered(
    table: Table, threshold: int, stated: Iterable[tuple[int, list[tuple[int, int]]]] = ()
) -> dict[tuple[int, int], int] | None:
    """Hidden cells the table's relations pin to one value: {(row, column): value}; None when the relations
    cannot all hold (then they are not the table's).

    Unknowns are the cells not shown exactly, with their bounds; each relation is one equation. ``stated``
    adds sums the prose states (value, part cells), as :func:`prose_sums` reads them. A cell is recovered
    when its least and greatest value over the integer solutions agree."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    known: dict[tuple[int, int], tuple[int, int]] = {}
    equations: list[tuple[list[tuple[tuple[int, int], float]], float]] = []
    sums = [
        ([total, *parts], [(total, -1.0)] + [(spot, 1.0) for spot in parts], 0.0)
        for total, parts in relations(table, threshold)
    ]
    sums += [(parts, [(spot, 1.0) for spot in parts], float(value)) for value, parts in stated]
    for spots, terms, constant in sums:
        # relations() and prose_sums() use only cells with bounds
        bounds = cast(list[tuple[int, int]], [_bounds(table.rows[r][c], threshold) for r, c in spots])
        if any(lo != hi for lo, hi in bounds):
            known.update(zip(spots, bounds))
            equations.append((terms, constant))
        elif sum(lo * sign for (lo, _), (_, sign) in zip(bounds, terms)) != constant:
            return None  # shown in full and not adding up
    unknown = [spot for spot, (lo, hi) in known.items() if lo != hi]
    if not unknown:
        return {}
    index = {spot: i for i, spot in enumerate(unknown)}
    matrix = np.zeros((len(equations), len(unknown)))
    rhs = np.zeros(len(equations))
    for k, (terms, constant) in enumerate(equations):
        rhs[k] = constant
        for spot, sign in terms:
            if spot in index:
                matrix[k, index[spot]] += sign
            else:
                rhs[k] -= sign * known[spot][0]
    bounds = Bounds([known[spot][0] for spot in unknown], [known[spot][1] for spot in unknown])
    constraint = LinearConstraint(matrix, rhs, rhs)
    result = {}
    for spot, i in index.items():
        ends = []
        for sense in (1.0, -1.0):
            objective = np.zeros(len(unknown))
            objective[i] = sense
            solution = milp(objective, constraints=constraint, integrality=np.ones(len(unknown)), bounds=bounds)
            if solution.status != 0:
                return None  # infeasible: the relations read are not the table's; claim nothing
            ends.append(round(solution.x[i]))
        if ends[0] == ends[1]:
            result[spot] = ends[0]
    return result


# --- rule e: a table and the prose of its page ------------------------------------------------------------

#: A whole number in prose that may be a count: not part of a decimal, a share or a range of years.
_PROSE_NUMBER = re.compile(r"(?<![\w.,/%-])(\d{1,3}(?:,\d{3})+|\d+)(?![\w.,/%]|\s*%|\s*per\b)")


def clauses(text: str) -> list[str]:
    """The prose of a page cut where a statement ends: at a full stop, colon, semicolon or comma."""
    return [c.strip() for c in re.split(r"(?<=[.;:!?])\s+|,\s+|\s+[–—]\s+", text) if c.strip()]


#: Two numbers that bound a range ("between 80 and 82", "80 to 82", "80–82"): neither is a count of a group.
_RANGE = re.compile(r"\bbetween\s+\d[\d,]*\s+and\s+\d[\d,]*|\d[\d,]*\s*(?:to|[–-])\s*\d[\d,]*")


def _prose_numbers(clause: str) -> list[int]:
    """Whole numbers of a clause that may count a group: not years, not the ends of a range, not a rate."""
    clause = _RANGE.sub(" ", clause)
    found = [number(m.group(1)) for m in _PROSE_NUMBER.finditer(clause)]
    return [n for n in found if n is not None and not 1900 <= n <= 2100]


def _label_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-zæøå]+", text.lower()) if len(w) > 2]


def _mentions(clause: str, label: str) -> bool:
    """Whether every word of ``label`` (three letters or more) is a word of ``clause``."""
    wanted = _label_words(label)
    return bool(wanted) and set(wanted) <= set(_label_words(clause))


def prose_sums(table: Table, texts: Iterable[str], threshold: int) -> list[tuple[int, list[tuple[int, int]], str]]:
    """Sums of the table's count cells that the prose may state: (value, part cells, clause).

    Read as a reader would: a clause naming a group of rows (a label repeated down a label column, such as
    "Planned" over the reasons of a planned discharge) and giving a number states that group's sum in a
    count column ("41 of them were planned"): the rows of such a group are the parts of what the label
    names. A number followed by a count column's name ("36 patients") is not read as the column's sum: a
    page states many such numbers of other groups (the patients who answered another question), and
    nothing on the page says which rows, if any, add up to it. Every candidate is tried on its own by
    :func:`recovered` (one that cannot hold is no relation)."""
    if table.by_row or not table.rows:
        return []
    first = next((i for i, c in enumerate(table.counts) if c), None)
    if not first:
        return []
    columns = [c for c in range(first, len(table.headers)) if table.counts[c]]
    groups: list[tuple[str, list[int]]] = []
    for g in range(first - 1):  # a label column left of the last one groups rows
        start = 0
        for r in range(1, len(table.rows) + 1):
            if r == len(table.rows) or table.rows[r][g] != table.rows[start][g]:
                if r - start > 1 and table.rows[start][g].strip():
                    groups.append((table.rows[start][g], list(range(start, r))))
                start = r
    found = []
    for clause in texts:
        numbers = _prose_numbers(clause)
        if not numbers:
            continue
        for label, rows in groups:
            if not _mentions(clause, label):
                continue
            for c in columns:
                parts = [(r, c) for r in rows]
                if all(_bounds(table.rows[r][c], threshold) for r, _ in parts):
                    found += [(n, parts, clause) for n in numbers]
    return found


def recovered_with_prose(table: Table, texts: Iterable[str], threshold: int) -> dict[tuple[int, int], tuple[int, str]]:
    """Hidden cells that a sum stated in the prose pins to a small count (1..threshold-1), beyond what the
    table alone gives: {(row, column): (value, clause)}. A cell pinned to 0 or to threshold or more is left
    out: the relation is read from words and cannot be confirmed, and such a value is no small group."""
    alone = recovered(table, threshold) or {}
    out: dict[tuple[int, int], tuple[int, str]] = {}
    for value, parts, clause in prose_sums(table, texts, threshold):
        with_prose = recovered(table, threshold, [(value, parts)])
        for spot, found in (with_prose or {}).items():
            fresh = spot not in alone and spot not in out and hidden(table.rows[spot[0]][spot[1]], threshold)
            if fresh and 0 < found < threshold:
                out[spot] = (found, clause)
    return out


# --- rule c: recovery between editions ---------------------------------------------------------------------


def _cells(table: Table) -> dict[tuple[str, str], str]:
    """The count cells of a table by (row label, column header): what rule c compares across editions."""
    if table.by_row:
        return {}
    return {
        (_row_label(table, row), table.headers[i]): cell(text)
        for row in table.rows
        for i, text in enumerate(row)
        if table.counts[i]
    }


def across(whole: dict, parts: dict[str, dict], threshold: int) -> Iterator[tuple[str, str, tuple, tuple, int]]:
    """Cells of one clinic pinned down by all = Oslo + Bergen: (clinic, text it shows there, table, cell, value).

    ``whole`` and ``parts`` map (page, anchor, headers) to (table's name, its cells by (row, column)); a
    clinic whose edition is missing, or whose table lacks the cell, is unseen (0..BIG). A cell is reported
    when it is hidden in its edition, or unseen and small."""
    for table_key, (_, cells) in whole.items():
        for cell, text in cells.items():
            shown_whole = _bounds(text, threshold)
            if shown_whole is None:
                continue
            terms = {}
            for clinic, tables_ in parts.items():
                seen = tables_.get(table_key, (None, {}))[1].get(cell)
                terms[clinic] = (seen, _bounds(seen, threshold) if seen is not None else (0, BIG))
            if any(b is None for _, b in terms.values()) or not any(seen is not None for seen, _ in terms.values()):
                continue
            # every term has bounds (checked above)
            bounded = cast(dict[str, tuple[str | None, tuple[int, int]]], terms)
            for clinic, (seen, (lo, hi)) in bounded.items():
                if lo == hi:
                    continue
                others = [b for k, (_, b) in bounded.items() if k != clinic]
                low = max(lo, shown_whole[0] - sum(b[1] for b in others))
                high = min(hi, shown_whole[1] - sum(b[0] for b in others))
                if low == high and (hidden(seen, threshold) if seen is not None else 0 < low < threshold):
                    yield clinic, seen if seen is not None else "not shown", table_key, cell, low


# --- rule d: recovery between years -------------------------------------------------------------------------

#: Counts of the book that are no nested sets although their shown values may happen never to fall (the
#: fall is in a hidden cell, or in another table of the same quantity): (page, anchor's start, row, column;
#: regular expressions, None for any) and why. Each was checked on the unprotected tables of the grid, where
#: some of its counts fall from one data end to a later one.
STATE_CELLS = (
    (
        "ch06_5_serious_adverse_events",
        "fig-6-5-distribution",
        None,
        None,
        "patients by their number of events: a patient moves to a higher row as events are added",
    ),
    (
        "ch06_7_cost_utility",
        "accumulated-comparison",
        r"continued",
        None,
        "patients still in treatment on the data end",
    ),
    (
        "ch06_7_cost_utility",
        "annualised-three-group-comparison",
        r"continued",
        None,
        "patients still in treatment on the data end",
    ),
    (
        "ch06_4_outcomes",
        "fig-6f",
        None,
        r"Patients",
        "patients with a first and a last answer: the last answer moves with the data end",
    ),
    (
        "ch06_4_outcomes",
        "fig-6k",
        None,
        r"Patients",
        "patients with a first and a last answer: the last answer moves with the data end",
    ),
    (
        "ch06_4_outcomes",
        "solution-content",
        None,
        r"Patients",
        "patients with a first and a last answer: the last answer moves with the data end",
    ),
)


def is_state(key: tuple, spot: tuple[str, str]) -> bool:
    """Whether a cell (``key`` of :func:`year_key`, ``spot`` (row, column)) is one of :data:`STATE_CELLS`."""
    page, anchor = Path(key[0]).stem, key[1]
    return any(
        page == p
        and anchor.startswith(a)
        and (r is None or re.fullmatch(r, spot[0]))
        and (c is None or re.fullmatch(c, spot[1]))
        for p, a, r, c, _ in STATE_CELLS
    )


_GROUP_SIZE = re.compile(r"\(\s*n\s*=\s*([\d,]+)\s*\)")
_FRACTION = re.compile(r"(?<![\w/])([\d,]+)/([\d,]+)(?![\w/])")


def year_free(text: str) -> str:
    """A label as it reads in every year's edition: group sizes ``"(n=60)"`` and fractions ``"45/124"``
    (which grow with the data end) replaced by ``#``."""
    return _FRACTION.sub("#/#", _GROUP_SIZE.sub("(n=#)", text))


def year_cells(table: Table) -> dict[tuple[str, str], str]:
    """The count cells of a table by year-free (row label, column header), and the group sizes its labels
    print (``"Born in Norway (n=51)"``: row label, column ``"(n)"``; a header's ``"(n=124)"`` or
    ``"45/124"``: row ``"(header)"``, column the header, ``"(n)"``, ``"(part)"`` and ``"(of)"``)."""
    if table.by_row:
        return {}
    out: dict[tuple[str, str], str] = {}
    for row in table.rows:
        label = _row_label(table, row)
        sizes = _GROUP_SIZE.findall(label)
        if len(sizes) == 1:
            out[(year_free(label), "(n)")] = sizes[0]
        for i, text in enumerate(row):
            if table.counts[i]:
                out[(year_free(label), year_free(table.headers[i]))] = cell(text)
    for header in dict.fromkeys(table.headers):
        sizes, fractions = _GROUP_SIZE.findall(header), _FRACTION.findall(header)
        if len(sizes) == 1:
            out[("(header)", year_free(header) + " (n)")] = sizes[0]
        if len(fractions) == 1:
            out[("(header)", year_free(header) + " (part)")] = fractions[0][0]
            out[("(header)", year_free(header) + " (of)")] = fractions[0][1]
    return out


def year_key(page: str, table: Table) -> tuple:
    """What names a table in every year's edition: page, anchor and year-free headers."""
    return page, table.anchor, tuple(year_free(h) for h in table.headers)


def falling_tables(series: Iterable[dict[int, dict]]) -> set:
    """Tables that do not count nested sets: some shown count of theirs falls from an earlier data end to a
    later one in some clinic's editions. ``series``: for each clinic, year -> {table key: (name, cells)}."""
    falling = set()
    for by_year in series:
        years = sorted(by_year)
        for position, early in enumerate(years):
            for late in years[position + 1 :]:
                for key, (_, cells) in by_year[early].items():
                    later = by_year[late].get(key)
                    if later is None or key in falling:
                        continue
                    for spot, text in cells.items():
                        before, after = number(text), number(later[1].get(spot))
                        if before is not None and after is not None and after < before:
                            falling.add(key)
                            break
    return falling


def between_years(by_year: dict[int, dict], threshold: int, falling: Collection = frozenset()) -> Iterator[tuple]:
    """Rule d on the editions of one clinic and data: ``by_year`` maps a data end to {table key: (name,
    cells)} (:func:`year_cells`). Yields (year the finding belongs to, table key, cell, what, value, other
    year) for a hidden cell pinned by the other years' editions (other year None) and for a pair of years
    whose difference is pinned to 1..threshold-1 (the later year, the earlier as other year)."""
    years = sorted(by_year)
    keys = sorted({key for tables_ in by_year.values() for key in tables_} - set(falling))
    for key in keys:
        spots = sorted({spot for y in years for spot in by_year[y].get(key, (None, {}))[1]})
        for spot in [spot for spot in spots if not is_state(key, spot)]:
            texts = {y: by_year[y][key][1][spot] for y in years if spot in by_year[y].get(key, (None, {}))[1]}
            bounds = {y: _bounds(text, threshold) for y, text in texts.items()}
            known = {y: b for y, b in bounds.items() if b is not None}
            present = sorted(known)
            if len(present) < 2:
                continue
            low = {y: max(known[x][0] for x in present if x <= y) for y in present}
            high = {y: min(known[x][1] for x in present if x >= y) for y in present}
            if any(low[y] > high[y] for y in present):
                continue  # the cell does not grow with the data end: no relation to use
            for y in present:
                if hidden(texts[y], threshold) is not None and low[y] == high[y]:
                    what = f"hidden cell '{texts[y]}' recovered from the other years' editions"
                    yield y, key, spot, what, low[y], None
            for position, early in enumerate(present):
                for late in present[position + 1 :]:
                    least = max(0, low[late] - high[early])
                    most = high[late] - low[early]
                    if least == most and 0 < least < threshold:
                        what = (
                            f"difference with the {early} edition ({texts[early]} to {texts[late]}): "
                            f"{least} added between the data ends"
                        )
                        yield late, key, spot, what, least, early


def _year_findings(members: list[tuple[Edition, dict]], falling: set) -> list[Finding]:
    """Rule d's findings on the editions of one clinic and data (``members``: each edition with its tables by
    year key); a finding in a published edition's year is reported in the other edition of the pair."""
    by_year = {edition.year: tables_ for edition, tables_ in members}
    names = {edition.year: edition for edition, _ in members}
    thresholds = [e.threshold for e, _ in members if not e.published and e.threshold]
    if not thresholds or len(by_year) < 2:
        return []
    found = []
    for year, key, (label, header), what, value, other in between_years(by_year, max(thresholds), falling):
        owner = names[year]
        if owner.published:
            if other is None or names[other].published:
                continue
            owner = names[other]
            what = what.replace(f"with the {other} edition", f"with the {year} edition")
        name = by_year[year][key][0] if key in by_year[year] else key[1]
        found.append(Finding(owner.name, key[0], f"{name}: row '{label}', column '{header}'", what, str(value)))
    return found


# --- one edition -------------------------------------------------------------------------------------------


def audit_html(page: str, html: str, threshold: int) -> tuple[list[tuple[str, str, str, str]], list[Table]]:
    """Findings of rules a and b on one page: (page, where, what, value), and its tables (for rule c)."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    page_tables = tables(soup, threshold)
    for table in page_tables:
        found += [(page, where, "shown count", value) for where, value in shown_in_table(table, threshold)]
        for (r, c), value in sorted((recovered(table, threshold) or {}).items()):
            if hidden(table.rows[r][c], threshold) is None:
                continue  # an empty cell pinned down (often to 0) hides nothing
            where = f"{table.key}: row '{_row_label(table, table.rows[r])}', column '{table.headers[c]}'"
            found.append((page, where, f"hidden cell '{table.rows[r][c]}' recovered within the table", str(value)))
    for spec in chart_specs(html):
        found += [(page, where, what, value) for where, what, value in shown_in_chart(spec, threshold)]
    for tag in soup(["script", "style", "table", "pre", "code", "nav"]):
        tag.decompose()
    for tag in soup.find_all(class_=re.compile(r"cell_input|highlight")):
        tag.decompose()
    text = " ".join(soup.get_text(" ").split())
    found += [(page, "prose", "shown count", phrase) for phrase in prose_counts(text, threshold)]
    for tag in soup(["svg"]):  # a chart's drawing: its ticks and labels are no sentences (rule a reads its data)
        tag.decompose()
    statements = clauses(" ".join(soup.get_text(" ").split()))
    for table in page_tables:
        for (r, c), (value, clause) in sorted(recovered_with_prose(table, statements, threshold).items()):
            where = f"{table.key}: row '{_row_label(table, table.rows[r])}', column '{table.headers[c]}'"
            what = f"hidden cell '{table.rows[r][c]}' recovered with the prose ('{clause}')"
            found.append((page, where, what, str(value)))
    return found, page_tables


def audit_notebook(page: str, notebook: dict, threshold: int) -> list[tuple[str, str, str, str]]:
    """Rule a and b on the outputs of an executed notebook (tables, charts, glued values, text)."""
    found = []
    for number_, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []):
            name = (output.get("metadata") or {}).get("scrapbook", {}).get("name")
            where = f"cell {number_}" + (f" glue '{name}'" if name else "")
            if "text" in output:  # a stream
                text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
                found += [(page, where, "shown count", p) for p in prose_counts(text, threshold)]
            for mime, data in (output.get("data") or {}).items():
                text = "".join(data) if isinstance(data, list) else data
                if mime.endswith("text/html"):
                    inner, _ = audit_html(page, f"<div class='output'>{text}</div>", threshold)
                    found += [(page, f"{where}: {w}", what, v) for _, w, what, v in inner]
                elif "vegalite" in mime or "vnd.vega" in mime:
                    spec = data if isinstance(data, dict) else json.loads(text)
                    found += [(page, f"{where}: {w}", what, v) for w, what, v in shown_in_chart(spec, threshold)]
                elif mime.endswith("text/plain") and name:
                    if is_count_name(name) and small(text.strip().strip("'\""), threshold):
                        found.append((page, where, "shown count (glued value)", text.strip()))
                elif mime.endswith(("text/plain", "text/markdown")):
                    found += [(page, where, "shown count", p) for p in prose_counts(text, threshold)]
    return found


def audit_searchindex(text: str, threshold: int) -> list[tuple[str, str, str, str]]:
    """Rule a on the titles of the search index (its other words are single terms without context)."""
    start, end = text.find("{"), text.rfind("}")
    index = json.loads(text[start : end + 1]) if start >= 0 else {}
    names = index.get("docnames", [])
    found = []
    for i, title in enumerate(index.get("titles", [])):
        page = str(names[i] if i < len(names) else i)
        found += [(page, "search index title", "shown count", p) for p in prose_counts(title, threshold)]
    for title in list(index.get("alltitles", {})) + list(index.get("indexentries", {})):
        where = f"search index entry '{title}'"
        found += [("searchindex.js", where, "shown count", p) for p in prose_counts(title, threshold)]
    return found


def audit_edition(edition: Edition) -> tuple[list[Finding], dict]:
    """Rules a and b on one edition, and its tables by (page, key, headers) for rule c."""
    findings, by_key, _ = _audit_edition(edition)
    return findings, by_key


def _audit_edition(edition: Edition) -> tuple[list[Finding], dict, dict]:
    """:func:`audit_edition`, and the edition's tables by :func:`year_key` for rule d. A published edition's
    pages are read for rule d only (what it shows is public)."""
    findings: list[tuple[str, str, str, str]] = []
    by_key: dict = {}
    by_year_key: dict = {}
    t = edition.threshold if edition.threshold is not None else 0
    for path in sorted(edition.html.rglob("*.html")):
        page = path.relative_to(edition.html).as_posix()
        found, page_tables = audit_html(page, path.read_text(encoding="utf-8", errors="replace"), t)
        findings += found
        for table in page_tables:
            by_key[(page, table.anchor, tuple(table.headers))] = (table.key, _cells(table))
            by_year_key[year_key(page, table)] = (table.key, year_cells(table))
    if edition.published:
        return [], by_key, by_year_key
    for path in sorted(edition.html.rglob("*.ipynb")):
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not any("parameters" in (c.get("metadata") or {}).get("tags", []) for c in notebook.get("cells", [])):
            continue  # a page without edition parameters reads no patient data: the same in every edition
        findings += audit_notebook(path.relative_to(edition.html).as_posix(), notebook, t)
    index = edition.html / "searchindex.js"
    if index.exists():
        findings += audit_searchindex(index.read_text(encoding="utf-8"), t)
    return [Finding(edition.name, *f) for f in findings], by_key, by_year_key


# --- editions ----------------------------------------------------------------------------------------------


class BadInput(Exception):
    pass


def editions(paths: Iterable[Path]) -> list[Edition]:
    """The editions under ``paths`` (an edition folder with ``headline.json`` and ``html/``, or a folder of them)."""
    found = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise BadInput(f"no such folder: {path}")
        if (path / "headline.json").exists():
            folders = [path]
        else:
            folders = sorted(p.parent for p in path.glob("*/headline.json"))
        if not folders:
            raise BadInput(f"no edition in {path} (an edition's folder holds headline.json and html/)")
        for folder in folders:
            record = json.loads((folder / "headline.json").read_text(encoding="utf-8"))
            if not (folder / "html").is_dir():
                raise BadInput(f"{folder} has headline.json but no html/")
            found.append(
                Edition(
                    name=record.get("variant") or folder.name,
                    html=folder / "html",
                    clinic=str(record.get("clinic", "all")),
                    year=int(record.get("year", 0)),
                    threshold=record.get("threshold"),
                    # the data an edition was computed from: only editions of the same data are compared
                    data_dir=record.get("data", record.get("data_dir")),
                    published=bool(record.get("published")) or record.get("threshold") is None,
                )
            )
    return found


def audit(paths: Iterable[Path], *, years: bool = True, read=None) -> list[Finding]:
    """Every finding of rules a, b, c, e and (``years``) d on the editions under ``paths`` (published editions
    are not audited; rule d reads them as public values). ``read``: what reads one edition (by default
    :func:`_audit_edition`; a caller that audits the same editions twice may pass one that remembers)."""
    read = read or _audit_edition
    findings: list[Finding] = []
    groups: dict = defaultdict(dict)  # (year, data, threshold) -> clinic -> (edition, tables)
    clinics: dict = defaultdict(list)  # (clinic, data) -> [(edition, tables by year key)]
    for edition in editions(paths):
        if edition.published and not years:
            continue
        found, by_key, by_year_key = read(edition)
        clinics[(edition.clinic.lower(), edition.data_dir)].append((edition, by_year_key))
        if edition.published:
            continue
        findings += found
        groups[(edition.year, edition.data_dir, edition.threshold)][edition.clinic.lower()] = (edition, by_key)
    if years:
        findings += year_findings(clinics)
    for (year, _, threshold), members in groups.items():
        if "all" not in members or not ({"oslo", "bergen"} & set(members)):
            continue
        whole_edition, whole = members["all"]
        parts = {clinic: members[clinic][1] if clinic in members else {} for clinic in ("oslo", "bergen")}
        for clinic, seen, table_key, (label, header), value in across(whole, parts, threshold):
            page, key = table_key[0], whole[table_key][0]
            # reported in the edition the value belongs to (named even when it was not built)
            owner = members[clinic][0].name if clinic in members else f"{clinic}-{year} (not built)"
            others = " and ".join(members[c][0].name for c in members if c not in ("all", clinic))
            how = f"as {whole_edition.name} minus {others}" if others else f"from {whole_edition.name} alone"
            findings.append(
                Finding(
                    owner,
                    page,
                    f"{key}: row '{label}', column '{header}'",
                    f"cell '{seen}' recovered {how}",
                    str(value),
                )
            )
    return sorted(set(findings))


def year_findings(clinics: dict) -> list[Finding]:
    """Rule d on editions grouped by (clinic, data): each unpublished threshold's editions with the published
    ones of the same clinic and data."""
    series = []
    for members in clinics.values():
        by_year: dict = {}
        for edition, tables_ in members:
            by_year.setdefault(edition.year, {}).update(tables_)
        series.append(by_year)
    falling = falling_tables(series)
    found = []
    for members in clinics.values():
        public = [(e, t) for e, t in members if e.published]
        for threshold in sorted({e.threshold for e, _ in members if not e.published}):
            chosen = public + [(e, t) for e, t in members if not e.published and e.threshold == threshold]
            chosen = list({e.year: (e, t) for e, t in sorted(chosen, key=lambda m: m[0].published)}.values())
            found += _year_findings(chosen, falling)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hatbook.disclosure_audit",
        description="Report counts below the threshold, and hidden cells a reader can recover, in built editions.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="an edition's folder (with headline.json and html/) or a folder of them (default: _build/reruns)",
    )
    args = parser.parse_args(argv)
    if not args.paths:
        from hatbook.rerun import output_root

        args.paths = [output_root()]
    try:
        findings = audit(args.paths)
    except BadInput as error:
        print(f"disclosure audit: {error}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding.line())
    print(f"disclosure audit: {len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
