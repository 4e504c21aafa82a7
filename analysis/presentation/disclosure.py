"""Statistical disclosure control for reruns: no small count of patients leaves a page.

A rerun for one clinic, for fewer years or on other data can make a table so small that a count of one
to four patients (episodes, events, referrals) points at identifiable people. In every edition other
than the published one the computed pages therefore pass what they show through this module:

* **primary suppression**: a frequency ``n`` with ``0 < n < threshold`` (default 5) is shown as
  ``"<5"``; zero is shown, since it reveals nobody;
* **derived values**: a percentage, mean, rate or chart value computed from a suppressed count is
  withheld (shown as :data:`WITHHELD`), since it would give the count back;
* **complementary suppression**: where the cells of a group add up to a total that is shown, one
  suppressed cell could be recovered by subtraction, so a second cell of the group (the smallest
  remaining positive one) is withheld too; where only part of a total is shown (``n`` of ``n_valid``
  answered yes), the implied rest ``n_valid - n`` counts as a cell of its own.

The functions take and return tidy frames; ``threshold=None`` (the published edition) turns every one
of them into a no-op, so a page calls them unconditionally. :class:`analysis.presentation.scorecard.Card` applies
the same rules to glued statistics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

#: Smallest frequency shown as it is in a rerun.
DEFAULT_THRESHOLD = 5
#: Shown in place of a value derived from (or revealing) a suppressed count.
WITHHELD = "–"
#: Shown in place of a value that cannot be computed on the data (too few patients, no events, ...).
NOT_ENOUGH_DATA = "n/a"


def small_marker(threshold: int) -> str:
    """The text shown for a suppressed count: ``"<5"`` for the default threshold."""
    return f"<{int(threshold)}"


def is_small(n, threshold: int | None) -> bool:
    """Whether the frequency ``n`` must be suppressed: ``0 < n < threshold`` (never when threshold is None)."""
    if threshold is None or n is None:
        return False
    try:
        value = float(n)
    except (TypeError, ValueError):
        return False
    return not math.isnan(value) and 0 < value < threshold


def is_missing(value) -> bool:
    """Whether ``value`` is no number at all (None, NaN, NA)."""
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def count(n, threshold: int | None, *, total=None):
    """One frequency as a page may show it: ``n``, ``"<5"`` when it is small, or :data:`WITHHELD` when
    ``total`` is shown beside it and the rest ``total - n`` is small (it would be revealed)."""
    if is_small(n, threshold):
        assert threshold is not None  # is_small is never true without a threshold
        return small_marker(threshold)
    if total is not None and is_small(float(total) - float(n), threshold):
        return WITHHELD
    return n


def derived(value, counts: Iterable, threshold: int | None):
    """A value computed from ``counts`` (a percentage, mean, rate): withheld when any of the counts is
    small, :data:`NOT_ENOUGH_DATA` when it could not be computed (NaN) in a rerun, else ``value``."""
    if threshold is None:
        return value
    if any(is_small(n, threshold) for n in counts):
        return WITHHELD
    if is_missing(value):
        return NOT_ENOUGH_DATA
    return value


def suppression_mask(
    frame: pd.DataFrame,
    column: str,
    threshold: int | None,
    *,
    groups: list[str] | str | None = None,
    total: str | None = None,
) -> pd.Series:
    """Which cells of the count ``column`` a page must not show (True: suppress).

    Primary suppression marks every ``0 < n < threshold``. ``groups`` (columns naming the cells that
    add up to one total, e.g. the categories of one item) turns on complementary suppression within each
    group; ``total`` names a column holding the group's shown total (e.g. ``n_valid``), otherwise the
    group's total is taken to be shown and equal to the sum of its cells. The rest ``total - sum(cells)``
    is what no cell shows (for a yes/no item: the number answering no). One more cell, the smallest
    remaining positive one, is marked when the rest is 0 and exactly one cell is suppressed (subtraction
    would give it back), or when the rest is itself small and no cell is suppressed (subtraction would
    give the rest). Without ``groups`` and ``total`` cells are judged one by one; ``groups=[]`` makes the
    whole frame one group (its total shown elsewhere, e.g. in a caption).
    """
    counts = pd.to_numeric(frame[column], errors="coerce")
    primary = counts.gt(0) & counts.lt(threshold) if threshold is not None else pd.Series(False, index=frame.index)
    mask = primary.fillna(False).astype(bool)
    if threshold is None or (groups is None and total is None):
        return mask
    keys = [groups] if isinstance(groups, str) else list(groups or [])
    grouped = (
        frame.groupby(keys[0] if len(keys) == 1 else keys, sort=False, dropna=False).groups.values()
        if keys
        else [frame.index]
    )
    for index in grouped:
        cells = counts.loc[index].fillna(0)
        hidden = mask.loc[index].copy()
        # the rest of the group's total that no cell shows: 0 when the cells are exhaustive (or when the
        # total is the sum of the cells and shown elsewhere)
        rest = 0.0
        if total is not None:
            totals = pd.to_numeric(frame.loc[index, total], errors="coerce").dropna()
            if len(totals):
                rest = float(totals.iloc[0]) - float(cells.sum())
        # a small rest is revealed by subtraction unless some cell is hidden; with a rest of 0 a single
        # hidden cell is revealed by subtraction unless a second one is hidden
        needs_one_more = (is_small(rest, threshold) and not hidden.any()) or (rest == 0 and int(hidden.sum()) == 1)
        if needs_one_more:
            candidates = cells[~hidden & cells.gt(0)].sort_values(kind="stable")
            if len(candidates):
                hidden.loc[candidates.index[0]] = True
        mask.loc[index] = hidden
    return mask


def protect(
    frame: pd.DataFrame,
    counts: Mapping[str, Iterable[str]] | Iterable[str],
    threshold: int | None,
    *,
    groups: list[str] | str | None = None,
    total: str | None = None,
) -> pd.DataFrame:
    """A copy of ``frame`` ready to show: small counts as ``"<5"``, cells withheld for complementary
    suppression and the values derived from them as :data:`WITHHELD`.

    ``counts`` maps each count column to the columns derived from it (percentages, means), or lists
    count columns without derived ones. ``groups`` and ``total`` as in :func:`suppression_mask`. A
    derived column listed under several counts is withheld when any of them is. NaN in a derived column
    becomes :data:`NOT_ENOUGH_DATA`. With ``threshold=None`` the frame is returned unchanged.
    """
    if threshold is None:
        return frame
    out = frame.copy()
    withheld: dict[str, pd.Series] = {}
    for column, derived_columns in _count_mapping(counts).items():
        mask = suppression_mask(frame, column, threshold, groups=groups, total=total)
        out[column] = _shown_count(out[column], frame[column], mask, threshold)
        for d in derived_columns:
            withheld[d] = withheld.get(d, pd.Series(False, index=frame.index)) | mask
    for column, hidden in withheld.items():
        out[column] = _shown_derived(out[column], frame[column], hidden)
    return out


def _count_mapping(counts: Mapping[str, Iterable[str]] | Iterable[str]) -> dict[str, Iterable[str]]:
    """Count column -> the columns derived from it (none when ``counts`` only lists count columns)."""
    return dict(counts) if isinstance(counts, Mapping) else {c: () for c in counts}


def _shown_count(current: pd.Series, original: pd.Series, hidden: pd.Series, threshold: int) -> pd.Series:
    """A count column as shown: a hidden small count as ``"<5"``, another hidden count as withheld
    (``current``: the column as shown so far; ``original``: its counts)."""
    small = pd.to_numeric(original, errors="coerce").pipe(lambda s: s.gt(0) & s.lt(threshold)).fillna(False)
    shown = current.astype(object).copy()
    shown[hidden & small] = small_marker(threshold)
    shown[hidden & ~small] = WITHHELD
    return shown


def _shown_derived(current: pd.Series, original: pd.Series, hidden: pd.Series) -> pd.Series:
    """A column derived from counts as shown: withheld where its count is, "not enough data" where the
    original value is missing (``current``: the column as shown so far)."""
    shown = current.astype(object).copy()
    missing = pd.Series([is_missing(v) for v in original], index=original.index)
    shown[missing & ~hidden] = NOT_ENOUGH_DATA
    shown[hidden] = WITHHELD
    return shown


def mask(
    frame: pd.DataFrame,
    counts: Mapping[str, Iterable[str]] | Iterable[str],
    threshold: int | None,
    *,
    groups: list[str] | str | None = None,
    total: str | None = None,
) -> pd.DataFrame:
    """Like :func:`protect`, but for charts: suppressed counts and what derives from them become NaN (no
    bar, no point), other values stay numbers."""
    if threshold is None:
        return frame
    out = frame.copy()
    for column, derived_columns in _count_mapping(counts).items():
        hidden = suppression_mask(frame, column, threshold, groups=groups, total=total)
        for c in (column, *derived_columns):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float).where(~hidden, np.nan)
    return out


def protect_across(
    frame: pd.DataFrame,
    parts: Mapping[str, Iterable[str]],
    threshold: int | None,
    *,
    total: str,
) -> pd.DataFrame:
    """Like :func:`protect` for counts that add up *across columns*: in each row the columns of ``parts``
    (e.g. planned and unplanned discharges of one band) are the cells of a group whose shown total is
    the row's ``total`` column. ``parts`` maps each part to the columns derived from it. Returns a copy
    with only the part columns and their derived columns replaced (protect ``total`` itself with
    :func:`protect`)."""
    if threshold is None:
        return frame
    long = (
        frame[list(parts)]
        .assign(_total=pd.to_numeric(frame[total], errors="coerce"))
        .reset_index(drop=True)
        .rename_axis("_row")
        .reset_index()
        .melt(id_vars=["_row", "_total"], var_name="_part", value_name="_n")
    )
    hidden = suppression_mask(long, "_n", threshold, groups="_row", total="_total")
    out = frame.copy()
    for part, derived_columns in parts.items():
        rows = long["_part"] == part
        part_hidden = pd.Series(hidden[rows].to_numpy(), index=frame.index)
        out[part] = _shown_count(out[part], frame[part], part_hidden, threshold)
        for d in derived_columns:
            out[d] = _shown_derived(out[d], frame[d], part_hidden)
    return out


def placeholder_chart(message: str):
    """A chart that only says ``message`` (e.g. "Not enough data ..."), put where a rerun cannot draw a
    figure without showing too few patients."""
    import altair as alt

    return (
        alt.Chart(pd.DataFrame({"text": [message]}))
        .mark_text(fontSize=14, color="#555555")
        .encode(text="text:N")
        .properties(width=480, height=60)
    )


def any_small(values: Iterable, threshold: int | None) -> bool:
    """Whether any of ``values`` is a frequency that must be suppressed."""
    return any(is_small(v, threshold) for v in values)


def shown_frequencies(frame: pd.DataFrame, columns: Iterable[str]) -> list[float]:
    """The numeric values of ``columns`` that a shown frame still contains (markers are skipped):
    what a test checks for small counts."""
    found = []
    for column in columns:
        for value in frame[column]:
            if isinstance(value, str):
                continue
            if not is_missing(value):
                found.append(float(value))
    return found


# --- secondary suppression that knows what a reader knows of a hidden cell ------------------------------


def bounded_suppression(
    frame: pd.DataFrame,
    column: str,
    threshold: int | None,
    *,
    groups: list[str] | str | None = None,
    total: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Which cells of ``column`` and which group totals a page must not show, such that no hidden cell can
    be recovered exactly from the shown cells, the shown total and what the markers say.

    Starts from :func:`suppression_mask`. A reader knows that a "<5" cell lies between 1 and threshold-1
    and that a withheld cell ("–") lies between 0 and the total; the hidden cells of a group add up to the
    shown total minus the shown cells (the rest of a ``total`` that no cell shows counts as one more hidden
    part, between 0 and the total). Whenever these bounds pin a hidden cell to one value (for example two
    "<5" cells that must add up to 2, so both are 1), one more cell is hidden (the smallest shown positive
    one, else the smallest shown one) and the check repeats; when no cell is left to hide, the group's total
    is hidden instead. A group whose total is itself a small count (1..threshold-1) is hidden whole, total
    included. Returns ``(cells, totals)``: boolean Series on ``frame``'s index, True = do not show (``totals``
    is True on every row of a group whose total must not be shown). With ``threshold=None`` nothing is hidden.
    """
    cells_hidden = suppression_mask(frame, column, threshold, groups=groups, total=total)
    totals_hidden = pd.Series(False, index=frame.index)
    if threshold is None:
        return cells_hidden, totals_hidden
    counts = pd.to_numeric(frame[column], errors="coerce").fillna(0)
    keys = [groups] if isinstance(groups, str) else list(groups or [])
    grouped = (
        frame.groupby(keys[0] if len(keys) == 1 else keys, sort=False, dropna=False).groups.values()
        if keys
        else [frame.index]
    )
    if groups is None and total is None:
        return cells_hidden, totals_hidden  # cells judged one by one: no total to subtract from
    for index in grouped:
        cells = counts.loc[index]
        group_total = float(cells.sum())
        if total is not None:
            given = pd.to_numeric(frame.loc[index, total], errors="coerce").dropna()
            if len(given):
                group_total = float(given.iloc[0])
        if is_small(group_total, threshold):
            cells_hidden.loc[index] = cells.gt(0) | cells.eq(0)
            totals_hidden.loc[index] = True
            continue
        hidden = cells_hidden.loc[index].copy()
        rest = group_total - float(cells.sum())
        while hidden.any():
            small = cells.gt(0) & cells.lt(threshold)
            lows = [1.0 if small[i] else 0.0 for i in hidden.index[hidden]] + ([0.0] if rest else [])
            highs = [float(threshold - 1) if small[i] else group_total for i in hidden.index[hidden]] + (
                [group_total] if rest else []
            )
            missing = group_total - float(cells[~hidden].sum())  # what the hidden cells (and the rest) add up to
            pinned = any(
                max(low, missing - (sum(highs) - high)) >= min(high, missing - (sum(lows) - low))
                for low, high in zip(lows, highs)
            )
            if not pinned:
                break
            shown = cells[~hidden]
            if shown.empty:
                totals_hidden.loc[index] = True
                break
            positive = shown[shown.gt(0)].sort_values(kind="stable")
            pick = positive.index[0] if len(positive) else shown.sort_values(kind="stable").index[0]
            hidden.loc[pick] = True
        cells_hidden.loc[index] = hidden
    return cells_hidden, totals_hidden


def chart_counts(
    frame: pd.DataFrame,
    counts: Mapping[str, Iterable[str]],
    threshold: int | None,
    *,
    groups: list[str] | str | None = None,
    total: str | None = None,
) -> pd.DataFrame:
    """The data a chart of a rerun may carry: like :func:`mask`, with :func:`bounded_suppression` deciding,
    and the ``total`` column (a denominator shown in tooltips) also missing where the group's total is
    hidden. Nothing below the threshold is left in the frame's count columns or its total. With
    ``threshold=None`` the frame is returned unchanged."""
    if threshold is None:
        return frame
    out = frame.copy()
    totals_any = pd.Series(False, index=frame.index)
    for column, derived_columns in _count_mapping(counts).items():
        hidden, totals = bounded_suppression(frame, column, threshold, groups=groups, total=total)
        totals_any |= totals
        for c in (column, *derived_columns):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float).where(~hidden, np.nan)
    if total is not None:
        out[total] = pd.to_numeric(out[total], errors="coerce").astype(float).where(~totals_any, np.nan)
    return out
