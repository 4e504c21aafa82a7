"""Cell suppression that holds across the editions the grid publishes side by side.

Each rerun edition used to suppress its own small cells (:mod:`analysis.presentation.disclosure`). The grid, however,
builds "both clinics, 2022" beside "Oslo, 2022" and "Bergen, 2022", and every patient belongs to exactly
one clinic, so a count of both clinics is the Oslo count plus the Bergen count, cell by cell. A reader
who subtracts "Oslo" from "both clinics" gets every Bergen cell that the Bergen edition hid. This module
protects the three tables of one year *jointly*.

**What a reader is assumed to know** (the model every check below uses):

* a number that is shown is known exactly;
* ``"<5"`` (:func:`analysis.presentation.disclosure.small_marker`) is a count from 1 to threshold - 1;
* ``"–"`` (:data:`analysis.presentation.disclosure.WITHHELD`) is some count of 0 or more (it may be a zero, a small
  count or a large one: the engine uses it for all three);
* the relations: in every row, both clinics = Oslo + Bergen; inside one edition, the cells of a group add
  up to the group's total (``total`` column, or the sum shown elsewhere when only ``groups`` is given),
  less an unshown rest of 0 or more (for a yes/no item the rest is the number answering no). A group
  whose rest is 0 in all three tables is taken to be a full partition (the reader knows the rest is 0).
* the published edition (both clinics, data through 2025, the bundled cohort) shows every count: a
  sibling that is published is read as all shown and can hide nothing.

**The rule.** A *sensitive* quantity is a count from 1 to threshold - 1 (a cell, a group total, or a
rest such as the number answering no). The pattern is safe when, under the reader's knowledge, every
hidden cell and every sensitive rest can still take at least two integer values: none is recovered
exactly. The range a reader can narrow a cell to is computed as a linear programme (minimum and
maximum of the cell over every assignment that satisfies the relations and the bounds; SciPy's HiGHS).
For the structures handled here (a two-way table of editions by cells, with group totals) the
constraint matrix is totally unimodular, so the linear bounds are integers and every integer between
them is attainable: the check is exact.

**The algorithm** (deterministic: the same three tables give the same pattern whichever edition runs
it). 1. Primary suppression: every count from 1 to threshold - 1 in an unpublished table is shown as
``"<5"``. 2. Relation by relation: while one relation alone pins a hidden cell or a small rest (a
cheap test, no solver), first try showing one of the relation's ``"<5"`` cells as ``"–"`` instead (a
reader then no longer knows it is at least 1: this resolves "8 | <5 | 6 | <5" whose hidden cells add
up to 2, at almost no cost), else hide the relation's smallest shown cell as ``"–"`` (zeros included,
cells before group totals). 3. All relations together: take the first hidden cell or small rest that
the linear programme pins (in a fixed order: editions both clinics, Oslo, Bergen; rows in table
order); among the relations it takes part in, try the same two kinds of step in the same order and
keep the first that frees it; when none does alone, hide the smallest shown cell anyway and repeat.
A cell that nothing can free (all its relations are published) is left and reported in
:attr:`Pattern.exposed`.

A page calls :func:`protect_linked` once per table; the published edition gets its table unchanged.

**Year against year.** The grid also publishes each clinic choice through 2022, 2023, 2024 and 2025. A
count of nested sets (patients enrolled by the data end with a baseline characteristic, events up to
the data end) can only grow with the data end, and count(later) - count(earlier) is the number added in
between: when it is 1..threshold-1, two shown counts give a small group away. The page's functions
therefore compute the table for all twelve editions (:func:`grid_tables`) and solve them as one
problem (:func:`_link_years`): what a count grew by between any two data ends is an unknown of its own
(a *step*, at least 0), and a step of 1..threshold-1 is kept from being pinned like a small rest. The
years are linked count by count (one edition's cell, group total or rest of one row or group): a count
is linked unless it falls from one data end to a later one (a count that falls counts a state on the
data end, and a difference of two states is no group of patients). A table may hold both: the patients
of a variable with a first and a last answer only grow, while the number whose answer did not change
falls when a last answer changes; the totals are then linked and the count that falls is not. A count
that happens never to fall is linked although it may count states (the engine cannot tell, and neither
can a reader who sees no fall): that protects more, never less. Rows are matched by their names
(:func:`row_labels`). Every edition solves the same twelve tables, so all arrive at the same pattern.

**Counts printed elsewhere.** An edition whose counts another page prints in full (the published edition's
clinic columns give each clinic's counts at the study's data end) is *known*: its counts are constants for a
reader of all the pages, and nothing is hidden to protect them. Its own page still shows a small count as
``"<5"``, and that page must not give it back by itself: a second pass (:func:`_solve_known`) reads the problem
as if the known counts were only what their pages show, and frees their hidden counts and small rests by the
same steps (e.g. four ``"<5"`` of a column whose hidden cells add up to 4: each is 1, until one is ``"–"``).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from scipy import sparse

# HiGHS as scipy ships it (the solver of scipy.optimize.linprog), called directly: a view asked several questions
# in a row is set up once, and each answer starts from the last one's basis. The module is scipy's own (private;
# the minor version of scipy is pinned in pyproject.toml).
from scipy.optimize._highspy import _core as highs

from analysis.data import schema
from analysis.presentation import disclosure, kept

if TYPE_CHECKING:
    from analysis.data.cohort import Cohort

#: The editions of one year that are protected together, in the order the algorithm walks them.
EDITIONS: tuple[str, ...] = ("all",) + tuple(schema.CLINICS)
#: Status of a cell as shown.
SHOWN, SMALL, WITHHELD = "shown", "small", "withheld"

_CELL, _TOTAL, _REST = "cell", "total", "rest"

#: The folder where the patterns of the grid and the tables of the editions are kept by their inputs, so that the
#: twelve editions of a grid (and a rerun of one) compute each once (:mod:`analysis.presentation.kept`).
CACHE_ENVIRONMENT = kept.CACHE_ENVIRONMENT
#: A pattern is kept by its arguments and the code that solves it: this module and the disclosure rules.
_kept = kept.kept_by_arguments((__file__, disclosure.__file__))


#: A variable of the year-linked problem: what one count grew by from one data end to a later one.
_STEP = "step"


@dataclass
class _Var:
    edition: str
    kind: str  # cell, total or rest
    key: object  # row position (cell) or group key (total, rest)
    value: int
    suppressible: bool  # whether the engine may hide it (not in a published table, not a total shown elsewhere)
    status: str = SHOWN
    year: int | None = None  # the data end of its edition, in a problem that links the years
    # the reader knows the value although this edition's page hides it: another page prints it in full (the
    # published edition's clinic columns give every clinic's count at the study's data end)
    known: bool = False


@dataclass
class Pattern:
    """What each edition shows: for every edition, ``cells`` (status of each row's count: ``"shown"``,
    ``"small"`` for ``"<5"`` or ``"withheld"`` for ``"–"``, on the table's index) and ``totals`` (status of
    each row's group total, on the same index; ``"shown"`` everywhere when the table has no ``total``
    column). ``exposed`` lists (edition, kind, key, value) of hidden cells or sensitive rests the engine
    could not free (their relations are all published)."""

    cells: dict[str, pd.Series]
    totals: dict[str, pd.Series]
    exposed: list[tuple] = field(default_factory=list)


class _Programme:
    """A reader's view of linked tables as one linear programme: the unknown counts ``x`` with ``bounds``, the
    relations ``matrix @ x = rhs``. :meth:`minimum` minimises an objective over it; asked again with another
    objective, HiGHS starts from the basis of the last answer."""

    def __init__(self, matrix, rhs, bounds) -> None:
        lp = highs.HighsLp()
        lp.num_col_ = len(bounds)
        lp.col_cost_ = np.zeros(len(bounds))
        lp.col_lower_ = np.array([low for low, _ in bounds], dtype=float)
        lp.col_upper_ = np.array([highs.kHighsInf if high is None else high for _, high in bounds], dtype=float)
        if matrix is not None:
            rows = sparse.csr_array(matrix)
            lp.num_row_ = rows.shape[0]
            lp.row_lower_ = lp.row_upper_ = np.asarray(rhs, dtype=float)
            lp.a_matrix_.format_ = highs.MatrixFormat.kRowwise
            lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(bounds), rows.shape[0]
            lp.a_matrix_.start_ = rows.indptr.astype(np.int32)
            lp.a_matrix_.index_ = rows.indices.astype(np.int32)
            lp.a_matrix_.value_ = rows.data.astype(float)
        self.solver = highs._Highs()
        self.solver.setOptionValue("output_flag", False)
        self.solver.passModel(lp)
        self.columns = np.arange(len(bounds), dtype=np.int32)

    def minimum(self, objective: np.ndarray) -> tuple[float, np.ndarray] | None:
        """The least value of ``objective @ x`` and an ``x`` that reaches it; None when there is no least value
        (unbounded below)."""
        self.solver.changeColsCost(len(self.columns), self.columns, objective)
        self.solver.run()
        status = self.solver.getModelStatus()
        if status == highs.HighsModelStatus.kUnboundedOrInfeasible:  # presolve could not tell: ask the simplex
            self.solver.setOptionValue("presolve", "off")
            self.solver.run()
            self.solver.setOptionValue("presolve", "choose")
            status = self.solver.getModelStatus()
        if status == highs.HighsModelStatus.kUnbounded:
            return None
        if status != highs.HighsModelStatus.kOptimal:
            raise RuntimeError(
                f"the reader's view of the tables is infeasible ({self.solver.modelStatusToString(status)})"
            )
        return self.solver.getInfo().objective_function_value, np.asarray(self.solver.getSolution().col_value)


class _Problem:
    """The variables, relations and reader's bounds of three tables (see the module docstring)."""

    #: whether the variables of several data ends are linked (editions named (year, edition) then)
    years = False
    #: when a set: every variable that a solution of a linear programme of :meth:`interval` puts at least 1
    #: away from its true value (the true values are a solution too, so the reader cannot pin it)
    witnesses: set[int] | None = None
    #: the last linear programme set up, by its view (see :meth:`_system`)
    _programme: tuple[tuple, _Programme] | None = None

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        count: str,
        threshold: int,
        published: Iterable[str],
        groups,
        total: str | None,
        known: Iterable[str] = (),
    ):
        self.threshold = int(threshold)
        # edition names, or (year, edition) pairs in a problem that links the years (:func:`_link_years`)
        self.published: set[Any] = set(published)
        known = set(known)
        self.editions: list[Any] = [e for e in EDITIONS if e in tables]
        self.tables = tables
        self.vars: list[_Var] = []
        self.index: dict[tuple, int] = {}
        self.relations: list[dict[int, float]] = []
        self.group_of: dict[str, list] = {}
        keys = [groups] if isinstance(groups, str) else (list(groups) if groups is not None else None)
        n_rows = {len(t) for t in tables.values()}
        if len(n_rows) != 1:
            raise ValueError("the tables of the editions must have the same rows")

        group_rows: dict[str, dict] = {}
        rests: dict[str, dict] = {}
        for edition in self.editions:
            frame = tables[edition].reset_index(drop=True)
            open_table = edition not in self.published
            counts = pd.to_numeric(frame[count], errors="coerce").fillna(0).round().astype(int)
            for position, value in enumerate(counts):
                self._add(_Var(edition, _CELL, position, int(value), open_table, known=edition in known))
            if keys is None and total is None:
                group_rows[edition] = {}
                continue
            if keys:
                labels = [tuple(row) for row in frame[keys].itertuples(index=False)]
            else:
                labels = [()] * len(frame)
            members: dict = {}
            for position, label in enumerate(labels):
                members.setdefault(label, []).append(position)
            group_rows[edition] = members
            self.group_of[edition] = labels
            rests[edition] = {}
            for label, rows in members.items():
                cells_sum = int(counts.iloc[rows].sum())
                if total is not None:
                    given = pd.to_numeric(frame.loc[rows, total], errors="coerce").dropna()
                    group_total = int(round(float(given.iloc[0]))) if len(given) else cells_sum
                    self._add(_Var(edition, _TOTAL, label, group_total, open_table, known=edition in known))
                else:  # the group's total is shown elsewhere (a caption, the prose): known, never hidden here
                    group_total = cells_sum
                    self._add(_Var(edition, _TOTAL, label, group_total, False, known=edition in known))
                rests[edition][label] = group_total - cells_sum

        # a group whose rest is 0 in every table is a full partition: the reader knows its rest is 0
        for edition in self.editions:
            for label, rows in group_rows[edition].items():
                full = all(rests[e].get(label, 0) == 0 for e in self.editions)
                relation = {self.index[(edition, _CELL, r)]: 1.0 for r in rows}
                relation[self.index[(edition, _TOTAL, label)]] = -1.0
                if not full:
                    rest = _Var(
                        edition, _REST, label, rests[edition][label], False, status=WITHHELD, known=edition in known
                    )
                    self._add(rest)
                    relation[self.index[(edition, _REST, label)]] = 1.0
                self.relations.append(relation)

        # the hierarchy: both clinics = Oslo + Bergen, for every cell and every group total
        parts = [e for e in self.editions if e != "all"]
        if "all" in self.editions and parts:
            for (edition, kind, key), i in list(self.index.items()):
                if edition != "all" or kind == _REST:
                    continue
                relation = {i: 1.0}
                for part in parts:
                    j = self.index.get((part, kind, key))
                    if j is not None:
                        relation[j] = relation.get(j, 0.0) - 1.0
                self.relations.append(relation)
        self.relations_of: dict[int, list[int]] = {}
        for r, relation in enumerate(self.relations):
            for i in relation:
                self.relations_of.setdefault(i, []).append(r)

    def place(self, var: _Var):
        """The edition of ``var`` as named in ``editions`` and ``published``."""
        return (var.year, var.edition) if self.years else var.edition

    def _add(self, var: _Var) -> None:
        self.index[(var.edition, var.kind, var.key)] = len(self.vars)
        self.vars.append(var)

    # -- the reader's view ------------------------------------------------------------------------------

    def fixed(self, i: int) -> bool:
        """Whether the reader knows ``i`` exactly: shown here, or printed in full elsewhere."""
        return self.vars[i].status == SHOWN or self.vars[i].known

    def bounds(self, i: int) -> tuple[float, float | None]:
        var = self.vars[i]
        if self.fixed(i):
            return float(var.value), float(var.value)
        if var.status == SMALL:
            return 1.0, float(self.threshold - 1)
        return 0.0, None

    def _component(self, i: int) -> list[int]:
        """The unknowns linked to ``i`` through relations (shown values are constants and cut the links)."""
        seen, todo = {i}, [i]
        while todo:
            j = todo.pop()
            for r in self.relations_of.get(j, ()):
                for k in self.relations[r]:
                    if k not in seen and not self.fixed(k):
                        seen.add(k)
                        todo.append(k)
        return sorted(seen)

    def _system(self, unknowns: list[int]) -> tuple[dict[int, int], _Programme]:
        """The column of each of ``unknowns``, and the linear programme of the reader's view of them: their
        bounds, and the relations among them (shown values moved to the right-hand side). The view is the same
        as long as the unknowns and their bounds are (the relations among them and the shown values they hold
        are then the same): the last programme is then used again."""
        where = {k: n for n, k in enumerate(unknowns)}
        bounds = [self.bounds(k) for k in unknowns]
        key = (tuple(unknowns), tuple(bounds))
        if self._programme is not None and self._programme[0] == key:
            return where, self._programme[1]
        data: list[float] = []
        row_of: list[int] = []
        column_of: list[int] = []
        rhs: list[float] = []
        for r in sorted({r for k in unknowns for r in self.relations_of.get(k, ())}):
            constant = 0.0
            for k, coefficient in self.relations[r].items():
                if k in where:
                    data.append(coefficient)
                    row_of.append(len(rhs))
                    column_of.append(where[k])
                else:
                    constant += coefficient * self.vars[k].value
            rhs.append(-constant)
        matrix = sparse.csr_array((data, (row_of, column_of)), shape=(len(rhs), len(unknowns))) if rhs else None
        self._programme = (key, _Programme(matrix, np.array(rhs), bounds))
        return where, self._programme[1]

    def _extreme(self, unknowns, system, objective) -> float | None:
        """The least value of ``objective`` (a vector on ``unknowns``) over the reader's view (``system``, from
        :meth:`_system`); None when unbounded below. Notes the solution's witnesses."""
        found = system[1].minimum(np.asarray(objective, dtype=float))
        if found is None:  # unbounded: only upwards, since every bound from below is 0 or more
            return None
        value, solution = found
        if self.witnesses is not None:
            self.witnesses.update(k for k, x in zip(unknowns, solution) if abs(x - self.vars[k].value) > 1 - 1e-6)
        return value

    def interval(self, i: int) -> tuple[float, float]:
        """The smallest and largest value the reader can give ``i`` (``inf`` when unbounded above)."""
        unknowns = self._component(i)
        system = self._system(unknowns)
        out = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(unknowns))
            objective[system[0][i]] = sign
            found = self._extreme(unknowns, system, objective)
            out.append(-math.inf * sign if found is None else sign * found)
        return out[0], out[1]

    def sweep(self, rounds: int = 4) -> None:
        """Note the witnesses of a few linear programmes over every unknown at once (all up, all down, then
        random directions, seeded): each frees at once many counts that would otherwise each take two."""
        unknowns = sorted(i for i in range(len(self.vars)) if not self.fixed(i) and i in self.relations_of)
        if not unknowns or self.witnesses is None:
            return
        system = self._system(unknowns)
        random = np.random.default_rng(0)
        for n in range(rounds):
            direction = (1.0, -1.0)[n] if n < 2 else None
            objective = np.full(len(unknowns), direction) if direction else random.choice((-1.0, 1.0), len(unknowns))
            self._extreme(unknowns, system, objective)

    def pinned_by(self, i: int, r: int) -> bool:
        """Whether the relation ``r`` alone (with the bounds) pins ``i`` to one value (no solver needed)."""
        relation = self.relations[r]
        constant, low_rest, high_rest = 0.0, 0.0, 0.0
        for k, coefficient in relation.items():
            if k == i:
                continue
            if self.fixed(k):
                constant += coefficient * self.vars[k].value
                continue
            low, high = self.bounds(k)
            high = math.inf if high is None else high
            ends = (coefficient * low, coefficient * high)
            low_rest += min(ends)
            high_rest += max(ends)
        # a_i x_i = -(constant + rest), rest in [low_rest, high_rest]
        a = relation[i]
        solved = sorted(((-constant - low_rest) / a, (-constant - high_rest) / a))
        own_low, own_high = self.bounds(i)
        low = max(solved[0], own_low)
        high = min(solved[1], math.inf if own_high is None else own_high)
        return not math.isinf(high) and math.floor(high + 1e-6) <= math.ceil(low - 1e-6)

    def pinned(self, i: int) -> bool:
        """Whether the reader can give ``i`` one integer value only. The true value is one the reader
        allows, so ``i`` is free as soon as the least value lies 1 or more below it, or the greatest 1
        or more above (the second programme is then not needed)."""
        unknowns = self._component(i)
        system = self._system(unknowns)
        value = self.vars[i].value
        objective = np.zeros(len(unknowns))
        objective[system[0][i]] = 1.0
        low = self._extreme(unknowns, system, objective)
        if low is not None and low <= value - 1 + 1e-6:
            return False
        high = self._extreme(unknowns, system, -objective)
        if high is None or -high >= value + 1 - 1e-6:
            return False
        low = value if low is None else low
        return math.floor(-high + 1e-6) <= math.ceil(low - 1e-6)

    def sensitive(self, i: int) -> bool:
        return 0 < self.vars[i].value < self.threshold

    def targets(self) -> list[int]:
        """What must not be recovered: hidden cells and totals, rests that are small counts, and steps (what a
        count grew by between two data ends) that are small counts, even towards the published edition."""
        out = []
        for i, var in enumerate(self.vars):
            if var.kind == _STEP:
                if self.sensitive(i) and not var.known:
                    out.append(i)
                continue
            if self.place(var) in self.published or var.known:
                continue
            if var.kind == _REST:
                if self.sensitive(i):
                    out.append(i)
            elif var.status != SHOWN:
                out.append(i)
        return out


def _status_shown(value, marker: str) -> str:
    """The status a reader reads off a shown cell: a number is shown, ``marker`` ("<5") small, "–" withheld."""
    if isinstance(value, str):
        if value == marker:
            return SMALL
        if value == disclosure.WITHHELD:
            return WITHHELD
        raise ValueError(f"unknown marker {value!r}")
    return SHOWN


def _hideable(problem: _Problem, i: int) -> bool:
    return problem.vars[i].status == SHOWN and problem.vars[i].suppressible and not problem.vars[i].known


def _demotable(problem: _Problem, i: int) -> bool:
    """Whether showing ``i``'s "<5" as "–" could widen what a reader can say of it (not when it is known)."""
    return problem.vars[i].status == SMALL and not problem.vars[i].known


def _order(problem: _Problem, i: int) -> tuple:
    """Which shown cell to hide first: cells before group totals, then the smallest value, then the
    edition order and the row order (a fixed order, so that the pattern does not depend on who runs it)."""
    var = problem.vars[i]
    key = var.key if var.kind == _CELL else -1
    return (var.kind != _CELL, var.value, problem.editions.index(problem.place(var)), key, str(var.key))


def joint_pattern(
    tables: Mapping[str, pd.DataFrame],
    count: str,
    threshold: int | None,
    *,
    published: Iterable[str] = (),
    groups=None,
    total: str | None = None,
) -> Pattern:
    """The joint suppression pattern of the tables of one year (keys of ``tables``: ``"all"`` and the
    clinics; rows in the same order in every table; ``count``: the count column). ``published`` names the
    tables that show everything (the published edition). ``groups`` and ``total`` as in
    :func:`analysis.presentation.disclosure.suppression_mask`: ``groups`` names the columns of a group of cells adding
    up to a total, ``total`` the column holding it (else the total is the sum, shown elsewhere);
    ``groups=[]`` makes each table one group. With ``threshold=None`` nothing is hidden. See the module
    docstring for the reader's knowledge, the rule and the algorithm."""
    if threshold is None or int(threshold) <= 1:
        cells = {e: pd.Series(SHOWN, index=t.index) for e, t in tables.items()}
        return Pattern(cells=cells, totals={e: s.copy() for e, s in cells.items()})
    problem = _Problem(tables, count, int(threshold), published, groups, total)
    exposed = _solve(problem)
    return _pattern_of(problem, tables, total, [problem.vars[i] for i in sorted(exposed)])


def _exposed(found: Iterable[_Var]) -> list[tuple]:
    """:attr:`Pattern.exposed` of variables (the edition named with its year in a problem linking years)."""
    return [
        (var.edition if var.year is None else f"{var.edition} {var.year}", var.kind, var.key, var.value)
        for var in found
    ]


def _pattern_of(
    problem: _Problem, tables: Mapping[str, pd.DataFrame], total: str | None, exposed: list[_Var]
) -> Pattern:
    """The :class:`Pattern` of one year's tables read from their solved problem."""
    cells, totals = {}, {}
    for edition in problem.editions:
        frame = tables[edition]
        cells[edition] = pd.Series(
            [problem.vars[problem.index[(edition, _CELL, p)]].status for p in range(len(frame))], index=frame.index
        )
        if total is not None:
            labels = problem.group_of[edition]
            totals[edition] = pd.Series(
                [problem.vars[problem.index[(edition, _TOTAL, g)]].status for g in labels], index=frame.index
            )
        else:
            totals[edition] = pd.Series(SHOWN, index=frame.index)
    return Pattern(cells=cells, totals=totals, exposed=_exposed(exposed))


def _shown_column(values: pd.Series, status: pd.Series, threshold: int) -> pd.Series:
    out = values.astype(object).copy()
    out[status == SMALL] = disclosure.small_marker(threshold)
    out[status == WITHHELD] = disclosure.WITHHELD
    return out


def shown_table(
    frame: pd.DataFrame,
    cells: pd.Series,
    totals: pd.Series,
    threshold: int,
    *,
    count: str,
    total: str | None = None,
    derived: Iterable[str] = (),
) -> pd.DataFrame:
    """``frame`` as a reader sees it under a pattern: counts (and the ``total`` column) as numbers, ``"<5"``
    or ``"–"``; each ``derived`` column (a share, a mean from the row's count or total) withheld where the
    row's count or total is hidden, and ``"n/a"`` where it could not be computed."""
    out = frame.copy()
    out[count] = _shown_column(frame[count], cells, threshold)
    hidden = cells != SHOWN
    if total is not None:
        out[total] = _shown_column(frame[total], totals, threshold)
        hidden = hidden | (totals != SHOWN)
    for column in derived:
        shown = out[column].astype(object).copy()
        missing = pd.Series([disclosure.is_missing(v) for v in frame[column]], index=frame.index)
        shown[missing & ~hidden] = disclosure.NOT_ENOUGH_DATA
        shown[hidden] = disclosure.WITHHELD
        out[column] = shown
    return out


def protect_tables(
    tables: Mapping[str, pd.DataFrame],
    count: str,
    threshold: int | None,
    *,
    published: Iterable[str] = (),
    groups=None,
    total: str | None = None,
    derived: Iterable[str] = (),
) -> dict[str, pd.DataFrame]:
    """Every table of ``tables`` as shown under their :func:`joint_pattern` (published tables and
    ``threshold=None`` unchanged)."""
    if threshold is None:
        return dict(tables)
    pattern = joint_pattern(tables, count, threshold, published=published, groups=groups, total=total)
    published = set(published)
    return {
        edition: frame
        if edition in published
        else shown_table(
            frame,
            pattern.cells[edition],
            pattern.totals[edition],
            int(threshold),
            count=count,
            total=total,
            derived=derived,
        )
        for edition, frame in tables.items()
    }


# --- the reader's side: what can be recovered from what the editions show -------------------------------


def recoverable(
    shown: Mapping[str, pd.DataFrame],
    truth: Mapping[str, pd.DataFrame],
    count: str,
    threshold: int,
    *,
    groups=None,
    total: str | None = None,
    published: Iterable[str] = (),
) -> list[tuple]:
    """What a reader recovers exactly from the tables ``shown`` (numbers, ``"<5"``, ``"–"``) of the editions
    of one year, by the relations of the module docstring: an independent check, used by the tests, of what
    :func:`joint_pattern` promises. ``truth`` holds the unprotected tables: the check reads only which
    cells are shown and their values from it, and which group rests are small counts (the rest of a group,
    such as the number answering no, is never shown, so only the truth tells whether it is sensitive).

    Returns (edition, "cell", row position, value) for each hidden count pinned to one value, (edition,
    "total", group, value) for a hidden group total, and (edition, "rest", group, value) for a rest from 1
    to threshold - 1 that the reader pins, except in the ``published`` editions (public already)."""
    published = set(published)
    marker = disclosure.small_marker(threshold)
    problem = _Problem(truth, count, int(threshold), (), groups, total)

    for edition, frame in shown.items():
        for position, value in enumerate(frame[count]):
            var = problem.vars[problem.index[(edition, _CELL, position)]]
            var.status = _status_shown(value, marker)
            if var.status == SHOWN and int(round(float(value))) != var.value:
                raise ValueError(f"{edition}, row {position}: shown {value}, true {var.value}")
        if total is not None:
            for position, value in enumerate(frame[total]):
                group = problem.group_of[edition][position]
                problem.vars[problem.index[(edition, _TOTAL, group)]].status = _status_shown(value, marker)
    found = []
    for i, var in enumerate(problem.vars):
        if var.edition in published:
            continue
        if var.kind == _REST:
            if problem.sensitive(i) and problem.pinned(i):
                found.append((var.edition, _REST, var.key, var.value))
        elif var.status != SHOWN and problem.pinned(i):
            found.append((var.edition, var.kind, var.key, int(round(problem.interval(i)[0]))))
    return found


# --- the page's call ------------------------------------------------------------------------------------

_FULL_COHORTS: dict[tuple, object] = {}


def _full_cohort(folder: Path):
    """The unrestricted cohort of ``folder``, loaded once per process (keyed by the files' times)."""
    from analysis.data.cohort import load_cohort

    folder = Path(folder).resolve()
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*") if p.is_file()))
    key = (str(folder), stamp)
    if key not in _FULL_COHORTS:
        _FULL_COHORTS.clear()
        _FULL_COHORTS[key] = load_cohort(folder)
    return _FULL_COHORTS[key]


def sibling_tables(page, compute: Callable[[Cohort], pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], set[str]]:
    """``compute`` applied to the cohorts of both clinics, Oslo and Bergen for the year and data of
    ``page`` (an :class:`analysis.presentation.edition.Page`), and which of them is the published edition. The
    page's own table is computed from ``page.cohort``, the others from the unrestricted cohort of the
    same folder restricted the same way (:func:`analysis.data.cohort.restrict`)."""
    from analysis.data.cohort import YEAR_CHOICES

    year = page.edition.year if page.edition.year in YEAR_CHOICES else None
    return _year_tables(page, compute, year)


def _year_tables(page, compute: Callable[[Cohort], object], year: int | None) -> tuple[dict, set[str]]:
    """``compute`` of the three clinic choices with data through ``year`` (None: all the data) of the folder of
    ``page``, the page's own edition from ``page.cohort``, and which of them is published."""
    from analysis.data.cohort import published_edition

    edition, folder = page.edition, page.cohort.folder
    tables, published = {}, set()
    for name in EDITIONS:
        own = name == edition.clinic and year in (None, edition.year)
        tables[name] = compute(page.cohort) if own else _sibling_table(compute, folder, name, year)
        if published_edition(name, year, folder):
            published.add(name)
    return tables, published


def _sibling_table(compute: Callable[[Cohort], object], folder: Path, clinic: str, year: int | None):
    """``compute`` of the cohort of ``folder`` for one clinic choice and data end, kept by the function's code,
    the folder's content and the analysis package's code (:mod:`analysis.presentation.kept`): every edition of a
    grid computes the tables of all twelve, and each is then computed once."""
    key = kept.function_key(compute) if os.environ.get(CACHE_ENVIRONMENT) else None
    if key is None:
        return compute(_restricted(folder, clinic, year))
    digest = hashlib.sha256(kept.code_key(*kept.package_files()) + key + kept.folder_key(folder))
    digest.update(repr((clinic, year)).encode())
    return kept.load_or_compute("table", digest, lambda: compute(_restricted(folder, clinic, year)))


def protect_linked(
    page,
    compute: Callable[[Cohort], pd.DataFrame],
    *,
    count: str = "n",
    groups=None,
    total: str | None = None,
    derived: Iterable[str] = (),
) -> pd.DataFrame:
    """The page's table, protected jointly with the same table of its sibling editions: one call per table.

    ``compute(cohort)`` returns the table (a frame with the count column ``count``, the same rows in the
    same order for every cohort, e.g. :func:`analysis.sections.adverse_events.events_by_category` of
    ``cohort.adverse_events``). The table is computed for both clinics, Oslo and Bergen in the year and
    data of ``page`` (:func:`sibling_tables`), the three are protected together (:func:`joint_pattern`),
    and the page's own table comes back as shown: counts as numbers, ``"<5"`` or ``"–"``; the ``total``
    column likewise; the ``derived`` columns withheld where their row's count or total is. In the
    published edition (``page.sdc`` None) the table is returned unchanged, computed once.

    The editions of the other data ends of the grid are protected with it (:func:`joint_pattern_years`):
    no count that does not fall shows two years whose difference pins 1..threshold-1."""
    threshold = page.sdc
    if threshold is None:
        return compute(page.cohort)
    by_year = grid_tables(page, compute)
    if by_year is None:
        tables, published = sibling_tables(page, compute)
        shown = protect_tables(
            tables, count, threshold, published=published, groups=groups, total=total, derived=derived
        )
        return shown[page.edition.clinic]
    year, own = page.edition.year, page.edition.clinic
    tables, published = by_year[year]
    if own in published:
        return tables[own]
    pattern = _grid_pattern(by_year, year, count, threshold, groups, total, derived)
    return shown_table(
        tables[own], pattern.cells[own], pattern.totals[own], int(threshold), count=count, total=total, derived=derived
    )


def _grid_pattern(by_year, year, count, threshold, groups, total, derived) -> Pattern:
    """The pattern of ``year``'s tables under :func:`joint_pattern_years` of the grid's tables."""
    patterns = joint_pattern_years(
        {y: t for y, (t, _) in by_year.items()},
        count,
        threshold,
        published={y: p for y, (_, p) in by_year.items()},
        groups=groups,
        total=total,
        skip=derived,
        only=year,
    )
    return patterns[year]


def linked_hidden(
    page, compute: Callable[[Cohort], pd.DataFrame], *, count: str = "n", groups=None, total: str | None = None
) -> pd.Series:
    """Which rows of the page's table have their count hidden under the joint pattern (True: hidden), for
    a page that must also withhold a sentence or a chart value built on them. Nothing in the published
    edition."""
    threshold = page.sdc
    if threshold is None:
        own = compute(page.cohort)
        return pd.Series(False, index=own.index)
    by_year = grid_tables(page, compute)
    if by_year is None:
        tables, published = sibling_tables(page, compute)
        pattern = joint_pattern(tables, count, threshold, published=published, groups=groups, total=total)
    else:
        pattern = _grid_pattern(by_year, page.edition.year, count, threshold, groups, total, ())
    return pattern.cells[page.edition.clinic] != SHOWN


# --- several tables of one page protected together ------------------------------------------------------


def _solve(
    problem: _Problem, *, remember_free: bool = False, widen: bool = False, among: set[int] | None = None
) -> set[int]:
    """The algorithm of the module docstring on a built problem: primary suppression (of the counts still
    shown), phase 1 relation by relation, phase 2 with the linear programme. Sets the statuses and returns the
    variables nothing could free (exposed). ``among``: only these of the problem's targets are checked (the
    others are known to be free already).

    ``remember_free``: a count once found free is not checked again (hiding a count or showing "<5" as "–"
    only widens what a reader can say, so it stays free: the same pattern, without most of the linear
    programmes). ``widen``: a hidden count pinned through a chain of relations, none of its own relations
    holding a count left to hide, gets the smallest shown count of the relations linked to it hidden, instead
    of being reported as exposed."""
    for i, var in enumerate(problem.vars):
        if var.status == SHOWN and var.suppressible and problem.sensitive(i):
            var.status = SMALL

    def targets() -> list[int]:
        return [i for i in problem.targets() if among is None or i in among]

    # phase 1, relation by relation: no relation alone may pin a hidden cell or a small rest
    changed = True
    while changed:
        changed = False
        for i in targets():
            for r in problem.relations_of.get(i, ()):
                while problem.pinned_by(i, r):
                    members = sorted(problem.relations[r])
                    freeing = None
                    for k in [k for k in members if _demotable(problem, k)]:
                        problem.vars[k].status = WITHHELD
                        if not problem.pinned_by(i, r):
                            freeing = k
                            break
                        problem.vars[k].status = SMALL
                    if freeing is not None:
                        changed = True
                        break
                    hides = sorted((k for k in members if _hideable(problem, k)), key=lambda k: _order(problem, k))
                    if not hides:
                        break  # left to phase 2
                    problem.vars[hides[0]].status = WITHHELD
                    changed = True
    # phase 2, all relations at once (the linear programme)
    exposed: set[int] = set()
    free: set[int] = set()
    # remembered: the solutions of the linear programmes also free every count they put 1 or more away from
    # its value (a solution of the current view stays one when more is hidden; trials count only if kept)
    witnesses: set[int] = set()
    problem.witnesses = witnesses if remember_free else None
    if remember_free:
        problem.sweep()
        free.update(witnesses)

    def still_pinned(i: int) -> bool:
        pinned = problem.pinned(i)
        if remember_free:
            free.update(witnesses)
            if not pinned:
                free.add(i)
        return pinned

    for _ in range(10 * len(problem.vars) + 10):
        if remember_free:
            witnesses.clear()
        pinned = next((i for i in targets() if i not in exposed and i not in free and still_pinned(i)), None)
        if pinned is None:
            break
        related = sorted({k for r in problem.relations_of.get(pinned, ()) for k in problem.relations[r]})
        demotions = [k for k in related if _demotable(problem, k)]
        hides = sorted((k for k in related if _hideable(problem, k)), key=lambda k: _order(problem, k))
        chosen = None
        for k in demotions + hides:
            old = problem.vars[k].status
            problem.vars[k].status = WITHHELD
            if remember_free:
                witnesses.clear()
            if not problem.pinned(pinned):
                chosen = k
                if remember_free:
                    free.update(witnesses)
                break
            problem.vars[k].status = old
        if chosen is not None:
            continue
        if hides:
            problem.vars[hides[0]].status = WITHHELD
        elif demotions:
            problem.vars[demotions[0]].status = WITHHELD
        else:
            wider = []
            if widen:
                # a margin pinned through others (e.g. the last band of a known whole): hide the smallest
                # shown count of any relation of the unknowns linked to it
                linked = {
                    k
                    for j in problem._component(pinned)
                    for r in problem.relations_of.get(j, ())
                    for k in problem.relations[r]
                }
                wider = sorted((k for k in linked if _hideable(problem, k)), key=lambda k: _order(problem, k))
            if wider:
                problem.vars[wider[0]].status = WITHHELD
            else:
                exposed.add(pinned)
    problem.witnesses = None
    return exposed


def _solve_known(problem: _Problem, **options) -> set[int]:
    """:func:`_solve` (``options`` its keywords), and then the same again for the page of an edition whose counts
    the reader knows from another page (``known``): its own page hides its small counts all the same, and a
    reader of that page alone must not get them back from it. The second pass reads the problem as if those
    counts were unknown (only as their pages show them; a step keeps its flag) and checks only the known
    editions' hidden counts and small rests: every other target is free already, since a reader who knows less
    and sees less can say no more. What the second pass hides only widens the first pass's view. Returns the
    variables of either pass nothing could free."""
    exposed = _solve(problem, **options)
    known = [i for i, var in enumerate(problem.vars) if var.known and var.kind != _STEP]
    if not known:
        return exposed
    for i in known:
        problem.vars[i].known = False
    try:
        page_targets = set(problem.targets()) & set(known)
        if page_targets:
            exposed |= _solve(problem, among=page_targets, **options)
    finally:
        for i in known:
            problem.vars[i].known = True
    return exposed


def joint_patterns(
    blocks: Mapping[str, Mapping[str, pd.DataFrame]],
    specs: Mapping[str, Mapping],
    threshold: int | None,
    *,
    published: Iterable[str] = (),
    same: Iterable[tuple] = (),
    sums: Iterable[tuple] = (),
) -> dict[str, Pattern]:
    """The joint pattern of *several* tables of the editions of one year, protected as one problem.

    ``blocks`` maps a table's name to its tables by edition (as ``tables`` of :func:`joint_pattern`);
    ``specs`` maps the name to the keyword arguments ``count``, ``groups`` and ``total`` of that table.
    Two kinds of relation tie the tables together, in every edition alike: ``same`` lists pairs of
    references ``(table, kind, key)`` to one and the same quantity (``kind`` ``"cell"`` with the row
    position as ``key``, or ``"total"`` with the group label, a tuple, ``()`` for ``groups=[]``): the
    two are one unknown for the reader, shown or hidden together; ``sums`` lists ``(reference,
    [references])``: the first is the sum of the others (e.g. a column of a two-way table adding up to a
    total shown in another table). A table's counts then cannot be recovered from another table that
    shares its totals (one clinic's referrals in the headings of three tables). Otherwise as
    :func:`joint_pattern`; with ``threshold=None`` nothing is hidden."""
    if threshold is None or int(threshold) <= 1:
        out = {}
        for name, tables in blocks.items():
            cells = {e: pd.Series(SHOWN, index=t.index) for e, t in tables.items()}
            out[name] = Pattern(cells=cells, totals={e: s.copy() for e, s in cells.items()})
        return out
    problem, parts, find = _blocks_problem(blocks, specs, threshold, published, same, sums)
    exposed = _solve(problem)
    return _blocks_patterns(problem, parts, find, blocks, specs, [problem.vars[i] for i in sorted(exposed)])


def _blocks_problem(blocks, specs, threshold, published, same, sums, known=()):
    """The problem of :func:`joint_patterns` (one year's editions), its tables' own problems and the function
    giving the one variable a variable stands for (two references to the same quantity are one). ``known``:
    editions whose counts the reader knows from another page, as in :func:`joint_patterns_years`."""
    parts = {
        name: _Problem(
            tables,
            specs[name].get("count", "n"),
            int(threshold),
            published,
            specs[name].get("groups"),
            specs[name].get("total"),
            known,
        )
        for name, tables in blocks.items()
    }
    problem = object.__new__(_Problem)
    problem.threshold = int(threshold)
    problem.published = set(published)
    problem.editions = [e for e in EDITIONS if any(e in tables for tables in blocks.values())]
    problem.vars, problem.index, problem.relations = [], {}, []
    problem.group_of = {}
    for name, part in parts.items():
        offset = len(problem.vars)
        problem.vars.extend(part.vars)
        for (edition, kind, key), position in part.index.items():
            problem.index[(name, edition, kind, key)] = offset + position
        problem.relations.extend({offset + i: c for i, c in relation.items()} for relation in part.relations)
    alias: dict[int, int] = {}

    def find(i: int) -> int:
        while i in alias:
            i = alias[i]
        return i

    def at(reference, edition) -> int | None:
        name, kind, key = reference
        i = problem.index.get((name, edition, kind, key))
        return None if i is None else find(i)

    for first, second in same:
        for edition in problem.editions:
            i, j = at(first, edition), at(second, edition)
            if i is None or j is None or i == j:
                continue
            if problem.vars[i].value != problem.vars[j].value:
                raise ValueError(
                    f"{first} and {second} differ in {edition}: {problem.vars[i].value} and {problem.vars[j].value}"
                )
            problem.vars[i].suppressible = problem.vars[i].suppressible and problem.vars[j].suppressible
            problem.vars[j].suppressible = False
            problem.vars[i].known = problem.vars[i].known or problem.vars[j].known
            alias[j] = i
    for whole, members in sums:
        for edition in problem.editions:
            i = at(whole, edition)
            items = [at(m, edition) for m in members]
            if i is None or any(k is None for k in items):
                continue
            relation: dict[int, float] = {i: -1.0}
            for k in cast(list[int], items):  # none is None (checked above)
                relation[k] = relation.get(k, 0.0) + 1.0
            if sum(problem.vars[k].value * c for k, c in relation.items()) != 0:
                raise ValueError(f"{whole} is not the sum of its members in {edition}")
            problem.relations.append(relation)
    merged = []
    for relation in problem.relations:
        out: dict[int, float] = {}
        for i, c in relation.items():
            out[find(i)] = out.get(find(i), 0.0) + c
        out = {i: c for i, c in out.items() if c != 0}
        if out:
            merged.append(out)
    problem.relations = merged
    problem.relations_of = {}
    for r, relation in enumerate(problem.relations):
        for i in relation:
            problem.relations_of.setdefault(i, []).append(r)
    return problem, parts, find


def _blocks_patterns(problem, parts, find, blocks, specs, exposed: list[_Var]) -> dict[str, Pattern]:
    """Each table's :class:`Pattern` read from a solved problem of :func:`_blocks_problem`."""
    result = {}
    for name, tables in blocks.items():
        part, spec = parts[name], specs[name]
        cells, totals = {}, {}
        for edition in problem.editions:
            if edition not in tables:
                continue
            frame = tables[edition]
            status = [problem.vars[find(problem.index[(name, edition, _CELL, p)])].status for p in range(len(frame))]
            cells[edition] = pd.Series(status, index=frame.index)
            if spec.get("total") is not None or spec.get("groups") is not None:
                labels = part.group_of[edition]
                totals[edition] = pd.Series(
                    [problem.vars[find(problem.index[(name, edition, _TOTAL, g)])].status for g in labels],
                    index=frame.index,
                )
            else:
                totals[edition] = pd.Series(SHOWN, index=frame.index)
        result[name] = Pattern(cells=cells, totals=totals, exposed=_exposed(exposed))
    return result


# --- tables whose rows add up in more than one way (appended) ---------------------------------------------


class _SumsProblem(_Problem):
    """Like :class:`_Problem`, with named *margins* instead of groups: a margin is a count that equals the
    sum of one or more sets of rows (for instance planned discharges = the planned reasons = the planned
    discharges of every time band), so one margin can tie two tables (stacked as the rows of one frame)
    together, and a row can take part in several margins. Margins obey both clinics = Oslo + Bergen too.
    A margin in ``known`` is shown elsewhere and taken as known (never hidden); the others may be hidden
    like cells (small ones first)."""

    def __init__(
        self, tables, count, threshold, published, sums: Mapping[str, Iterable[Iterable[int]]], known: Iterable[str]
    ):
        super().__init__(tables, count, threshold, published, None, None)
        known = set(known)
        for edition in self.editions:
            open_table = edition not in self.published
            for name, rowsets in sums.items():
                rowsets = [list(rows) for rows in rowsets]
                values = {sum(self.vars[self.index[(edition, _CELL, p)]].value for p in rows) for rows in rowsets}
                if len(values) != 1:
                    raise ValueError(f"{edition}: the row sets of margin {name!r} add up to different counts {values}")
                self._add(_Var(edition, _TOTAL, name, values.pop(), open_table and name not in known))
                for rows in rowsets:
                    relation = {self.index[(edition, _CELL, p)]: 1.0 for p in rows}
                    relation[self.index[(edition, _TOTAL, name)]] = -1.0
                    self.relations.append(relation)
        parts = [e for e in self.editions if e != "all"]
        if "all" in self.editions and parts:
            for name in sums:
                relation = {self.index[("all", _TOTAL, name)]: 1.0}
                for part in parts:
                    relation[self.index[(part, _TOTAL, name)]] = -1.0
                self.relations.append(relation)
        self.relations_of = {}
        for r, relation in enumerate(self.relations):
            for i in relation:
                self.relations_of.setdefault(i, []).append(r)


def _solve_sums(problem: _Problem) -> set[int]:
    """:func:`_solve` for counts that add up to named margins in several ways: free counts remembered, and a
    count pinned through a chain of relations freed by hiding a count of a linked relation."""
    return _solve(problem, remember_free=True, widen=True)


@dataclass
class SumsPattern:
    """What each edition shows of a table with margins: ``cells`` as in :class:`Pattern`, and ``margins``
    (edition -> margin name -> status); ``exposed`` as in :class:`Pattern`."""

    cells: dict[str, pd.Series]
    margins: dict[str, dict[str, str]]
    exposed: list[tuple] = field(default_factory=list)


def joint_pattern_sums(
    tables: Mapping[str, pd.DataFrame],
    count: str,
    threshold: int | None,
    *,
    sums: Mapping[str, Iterable[Iterable[int]]],
    known: Iterable[str] = (),
    published: Iterable[str] = (),
) -> SumsPattern:
    """The joint pattern of tables whose rows add up to named margins (see :class:`_SumsProblem`):
    ``sums`` maps each margin to the sets of row positions that each add up to it (the same positions in
    every table), ``known`` names the margins shown elsewhere in full. The reader's knowledge, the rule and
    the steps are those of :func:`joint_pattern`, with every margin relation and both clinics = Oslo +
    Bergen for cells and margins. With ``threshold=None`` everything is shown."""
    sums = {name: [list(rows) for rows in rowsets] for name, rowsets in sums.items()}
    if threshold is None or int(threshold) <= 1:
        return SumsPattern(
            cells={e: pd.Series(SHOWN, index=t.index) for e, t in tables.items()},
            margins={e: {name: SHOWN for name in sums} for e in tables},
        )
    problem = _SumsProblem(tables, count, int(threshold), published, sums, known)
    exposed = _solve_sums(problem)
    cells = {
        e: pd.Series(
            [problem.vars[problem.index[(e, _CELL, p)]].status for p in range(len(tables[e]))], index=tables[e].index
        )
        for e in problem.editions
    }
    margins = {
        e: {name: problem.vars[problem.index[(e, _TOTAL, name)]].status for name in sums} for e in problem.editions
    }
    found = [
        (problem.vars[i].edition, problem.vars[i].kind, problem.vars[i].key, problem.vars[i].value)
        for i in sorted(exposed)
    ]
    return SumsPattern(cells=cells, margins=margins, exposed=found)


@_kept
def joint_pattern_sums_years(
    tables: Mapping[int, Mapping[str, pd.DataFrame]],
    count: str,
    threshold: int | None,
    *,
    sums: Mapping[str, Iterable[Iterable[int]]],
    known: Iterable[str] = (),
    published: Mapping[int, Iterable[str]] | None = None,
    skip: Iterable[str] = (),
    only: int | None = None,
) -> dict[int, SumsPattern]:
    """:func:`joint_pattern_sums` of the editions of several data ends at once (``tables``: year -> edition
    -> table; ``published``: year -> published editions), the counts and margins that do not fall followed
    from year to year as in :func:`joint_pattern_years`. Returns each year's pattern (``only``: only that
    year's)."""
    years = sorted(tables)
    if threshold is None or int(threshold) <= 1:
        return {y: joint_pattern_sums(tables[y], count, None, sums=sums) for y in years}
    sums = {name: [list(rows) for rows in rowsets] for name, rowsets in sums.items()}
    published = published or {}
    problems = {y: _SumsProblem(tables[y], count, int(threshold), published.get(y, ()), sums, known) for y in years}
    first = {y: next(iter(tables[y].values())) for y in years}
    exposed = _solve_years(problems, {(): row_labels(first, {count, *skip})}, only, widen=True)
    out = {}
    for y in [y for y in years if only is None or y == only]:
        problem = problems[y]
        cells = {
            e: pd.Series(
                [problem.vars[problem.index[(e, _CELL, p)]].status for p in range(len(tables[y][e]))],
                index=tables[y][e].index,
            )
            for e in problem.editions
        }
        margins = {
            e: {name: problem.vars[problem.index[(e, _TOTAL, name)]].status for name in sums} for e in problem.editions
        }
        out[y] = SumsPattern(cells=cells, margins=margins, exposed=_exposed(v for v in exposed if v.year == y))
    return out


def margin_value(table: pd.DataFrame, count: str, rows: Iterable[int]) -> int:
    """The count of a margin: the sum of ``count`` over the row positions ``rows``."""
    return int(pd.to_numeric(table[count], errors="coerce").fillna(0).iloc[list(rows)].sum())


def protect_linked_sums(
    page,
    compute: Callable[[Cohort], pd.DataFrame],
    *,
    count: str = "n",
    sums: Mapping[str, Iterable[Iterable[int]]],
    known: Iterable[str] = (),
    derived: Iterable[str] = (),
) -> tuple[pd.DataFrame, dict]:
    """:func:`protect_linked` for a table with margins (:func:`joint_pattern_sums`): the page's table as
    shown (counts as numbers, ``"<5"`` or ``"–"``, the ``derived`` columns withheld where their row's count
    is) and its margins as shown (name -> the count or its marker). In the published edition (``page.sdc``
    None) the table is returned unchanged and every margin as a number."""
    row_sets = {name: [list(rows) for rows in rowsets] for name, rowsets in sums.items()}
    threshold = page.sdc
    if threshold is None:
        own = compute(page.cohort)
        return own, {name: margin_value(own, count, rowsets[0]) for name, rowsets in row_sets.items()}
    by_year = grid_tables(page, compute)
    if by_year is None:
        tables, published = sibling_tables(page, compute)
        pattern = joint_pattern_sums(tables, count, threshold, sums=row_sets, known=known, published=published)
    else:
        tables, _ = by_year[page.edition.year]
        pattern = joint_pattern_sums_years(
            {y: t for y, (t, _) in by_year.items()},
            count,
            threshold,
            sums=row_sets,
            known=known,
            published={y: p for y, (_, p) in by_year.items()},
            skip=derived,
            only=page.edition.year,
        )[page.edition.year]
    clinic = page.edition.clinic
    own = tables[clinic]
    shown = shown_table(
        own, pattern.cells[clinic], pd.Series(SHOWN, index=own.index), int(threshold), count=count, derived=derived
    )
    margins = {}
    for name, rowsets in row_sets.items():
        value = margin_value(own, count, rowsets[0])
        status = pattern.margins[clinic][name]
        margins[name] = (
            value if status == SHOWN else disclosure.small_marker(threshold) if status == SMALL else disclosure.WITHHELD
        )
    return shown, margins


def recoverable_sums(
    shown: Mapping[str, pd.DataFrame],
    margins: Mapping[str, Mapping[str, object]],
    truth: Mapping[str, pd.DataFrame],
    count: str,
    threshold: int,
    *,
    sums: Mapping[str, Iterable[Iterable[int]]],
    known: Iterable[str] = (),
    published: Iterable[str] = (),
) -> list[tuple]:
    """:func:`recoverable` for tables with margins: ``shown`` the tables as shown, ``margins`` each
    edition's margins as shown (name -> number or marker; a margin in ``known`` is read as shown). Returns
    (edition, "cell", row position, value) or (edition, "total", margin, value) for every hidden count a
    reader pins to one value, except in the ``published`` editions."""
    published = set(published)
    marker = disclosure.small_marker(threshold)
    sums = {name: [list(rows) for rows in rowsets] for name, rowsets in sums.items()}
    problem = _SumsProblem(truth, count, int(threshold), (), sums, ())

    for edition, frame in shown.items():
        for position, value in enumerate(frame[count]):
            problem.vars[problem.index[(edition, _CELL, position)]].status = _status_shown(value, marker)
        for name in sums:
            value = SHOWN if name in set(known) else margins.get(edition, {}).get(name, disclosure.WITHHELD)
            problem.vars[problem.index[(edition, _TOTAL, name)]].status = (
                SHOWN if value == SHOWN else _status_shown(value, marker)
            )
    found = []
    for i, var in enumerate(problem.vars):
        if var.edition in published or var.status == SHOWN:
            continue
        if problem.pinned(i):
            found.append((var.edition, var.kind, var.key, int(round(problem.interval(i)[0]))))
    return found


def hidden_rows(shown: pd.DataFrame, count: str) -> pd.Series:
    """Which rows of a protected table show a marker ("<5", "–", "n/a") instead of their count."""
    return shown[count].map(lambda v: isinstance(v, str))


def chart_values(shown: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A protected table made ready for a chart: every marker in ``columns`` becomes NaN (no bar, nothing in
    a tooltip), so the chart carries exactly what the table shows. A column without a marker is left as it
    is (the published edition's charts do not change)."""
    out = shown.copy()
    for column in columns:
        if not out[column].map(lambda v: isinstance(v, str)).any():
            continue
        out[column] = pd.to_numeric(
            out[column].map(lambda v: float("nan") if isinstance(v, str) else v), errors="coerce"
        ).astype(float)
    return out


# --- several tables of one page from one computation (appended) ------------------------------------------


def protect_linked_blocks(
    page,
    compute: Callable[[Cohort], Mapping[str, pd.DataFrame]],
    specs: Mapping[str, Mapping],
    *,
    same: Iterable[tuple] = (),
    sums: Iterable[tuple] = (),
    derived: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`protect_linked` for several tables of one page that share counts: ``compute(cohort)`` returns the
    tables by name (each with the same rows in the same order for every cohort), ``specs`` gives each name's
    ``count``, ``groups`` and ``total``, and ``same`` and ``sums`` tie the tables as in :func:`joint_patterns`
    (e.g. the count of one table that is the total of another). Returns the page's tables as shown, by name
    (counts and totals as numbers, ``"<5"`` or ``"–"``; the ``derived`` columns of a name withheld where their
    row's count or total is). In the published edition (``page.sdc`` None) the tables come back unchanged."""
    threshold = page.sdc
    derived = derived or {}
    if threshold is None:
        return dict(compute(page.cohort))
    by_year = grid_tables(page, compute)
    if by_year is None:
        tables, published = sibling_tables(page, compute)
        blocks = {name: {edition: found[name] for edition, found in tables.items()} for name in specs}
        patterns = joint_patterns(blocks, specs, threshold, published=published, same=same, sums=sums)
    else:
        year = page.edition.year
        published = by_year[year][1]
        blocks = {name: {edition: found[name] for edition, found in by_year[year][0].items()} for name in specs}
        patterns = _joint_patterns_years(by_year, specs, threshold, same, sums, derived, only=year)[year]
    own = page.edition.clinic
    out = {}
    for name, spec in specs.items():
        frame = blocks[name][own]
        if own in published:
            out[name] = frame
            continue
        out[name] = shown_table(
            frame,
            patterns[name].cells[own],
            patterns[name].totals[own],
            int(threshold),
            count=spec.get("count", "n"),
            total=spec.get("total"),
            derived=derived.get(name, ()),
        )
    return out


# --- the grid's data ends protected together (appended) ---------------------------------------------------

#: Integer columns that name a row rather than count (a row's year, wave or month), used to match the rows
#: of two data ends' tables when their rows differ.
ROW_NAME_COLUMNS = frozenset({"year", "wave", "month", "months", "time", "registration_month", "day", "days", "band"})


def row_labels(frames: Mapping[int, pd.DataFrame], skip: Iterable[str] = (), groups=None) -> dict[int, list] | None:
    """What names each row of a table in every data end's edition (``frames``: one table per year), so
    that the same count can be followed from year to year: the index (unless it is positions), the
    columns that are not numbers, the ``groups`` columns and the integer columns of
    :data:`ROW_NAME_COLUMNS`, except ``skip`` (the counts and what is computed from them). Where these
    names are not unique the rows are matched by position if every year has the same number of rows;
    otherwise None (the table's years are not linked)."""
    skip = set(skip)
    keys = [groups] if isinstance(groups, str) else list(groups or [])
    out = {}
    for year, frame in frames.items():
        columns = [
            c
            for c in frame.columns
            if c not in skip and (c in keys or c in ROW_NAME_COLUMNS or not pd.api.types.is_numeric_dtype(frame[c]))
        ]
        index = [] if isinstance(frame.index, pd.RangeIndex) else [str(v) for v in frame.index]
        labels = [tuple(str(v) for v in row) for row in frame[columns].itertuples(index=False)]
        if index:
            labels = [(i, *label) for i, label in zip(index, labels)]
        out[year] = labels
    if all(len(set(labels)) == len(labels) for labels in out.values()):
        return out
    if len({len(labels) for labels in out.values()}) == 1:
        return {year: [("row", p) for p in range(len(labels))] for year, labels in out.items()}
    return None


def _link_years(
    problems: Mapping[int, _Problem],
    rows: Mapping[tuple, Mapping[int, list] | None],
    roots: Mapping[int, Callable[[int], int]] | None = None,
) -> _Problem | None:
    """One problem of every year's problem (``problems``: data end -> the problem of that year's editions),
    with the relations between years, or None when no count can be followed from one year to another.

    A count of the same edition, table, kind and row name (``rows``: table prefix -> year -> row names, see
    :func:`row_labels`; the prefix is ``()`` for a single table, the table's name in a problem of several)
    in years ``y1 < y2`` gets a *step* ``d = count(y2) - count(y1)``, at least 0, an unknown the reader may
    narrow like a rest, to be kept from being pinned when it is 1..threshold-1 (every pair of years, not
    only neighbours). Only counts that may be *nested* are linked, each on its own: a count (one name)
    whose value falls from one data end to a later one counts states (patients in treatment on the data
    end, patients whose last answer is unchanged), not nested sets, and gets no step at all; the other
    counts of its table (its group totals, the cells that never fall) are linked all the same. The true
    counts then satisfy every relation (no step is below 0). ``roots`` gives, per year, the variable a
    variable stands for (two references to one quantity, :func:`joint_patterns`)."""
    years = sorted(problems)
    merged = object.__new__(_Problem)
    merged.threshold = problems[years[0]].threshold
    merged.years = True
    merged.editions = [(y, e) for y in years for e in problems[y].editions]
    merged.published = {(y, e) for y in years for e in problems[y].published}
    merged.vars, merged.relations, merged.index, merged.group_of = [], [], {}, {}
    named: dict[int, dict[tuple, int]] = {}
    for year in years:
        problem = problems[year]
        offset = len(merged.vars)
        for var in problem.vars:
            var.year = year
        merged.vars.extend(problem.vars)
        merged.relations.extend({offset + i: c for i, c in relation.items()} for relation in problem.relations)
        root = (roots or {}).get(year) or (lambda i: i)
        names: dict[tuple, int] = {}
        for reference, i in problem.index.items():
            *prefix, edition, kind, key = reference
            if kind == _CELL:
                labels = (rows.get(tuple(prefix)) or {}).get(year)
                if labels is None:
                    continue
                key = labels[key]
            names.setdefault((tuple(prefix), edition, kind, key), offset + root(i))
        named[year] = names
    pairs, falling = [], set()
    for position, early in enumerate(years):
        for late in years[position + 1 :]:
            for name, i in named[early].items():
                j = named[late].get(name)
                if j is None or i == j:
                    continue
                if merged.vars[j].value < merged.vars[i].value:
                    falling.add(name)
                pairs.append((name, i, j))
    pairs = [(name, i, j) for name, i, j in pairs if name not in falling]
    if not pairs:
        return None

    def public(var: _Var) -> bool:
        return var.known or (var.year, var.edition) in merged.published

    for name, i, j in pairs:
        late_var = merged.vars[j]
        step = _Var(
            late_var.edition,
            _STEP,
            (merged.vars[i].year, name),
            late_var.value - merged.vars[i].value,
            False,
            status=WITHHELD,
            year=late_var.year,
            known=public(late_var) and public(merged.vars[i]),  # what two public counts differ by is public
        )
        merged.vars.append(step)
        merged.relations.append({j: 1.0, i: -1.0, len(merged.vars) - 1: -1.0})
    merged.relations_of = {}
    for r, relation in enumerate(merged.relations):
        for i in relation:
            merged.relations_of.setdefault(i, []).append(r)
    return merged


def _solve_years(
    problems: Mapping[int, _Problem], rows, only: int | None = None, *, roots=None, widen: bool = False
) -> list[_Var]:
    """Solve the problems of every data end together (:func:`_link_years`; the algorithm of :func:`_solve`,
    free counts remembered) when their counts can be followed from year to year, else each year's problem
    alone (``only``: just that year's, when no other is needed). Sets the statuses of the years' variables;
    returns those nothing could free."""
    merged = _link_years(problems, rows, roots) if len(problems) > 1 else None
    if merged is None:
        found = []
        for year, problem in problems.items():
            if only is None or year == only:
                found += [problem.vars[i] for i in sorted(_solve_known(problem, remember_free=widen, widen=widen))]
        return found
    return [merged.vars[i] for i in sorted(_solve_known(merged, remember_free=True, widen=widen))]


@_kept
def joint_pattern_years(
    tables: Mapping[int, Mapping[str, pd.DataFrame]],
    count: str,
    threshold: int | None,
    *,
    published: Mapping[int, Iterable[str]] | None = None,
    groups=None,
    total: str | None = None,
    skip: Iterable[str] = (),
    only: int | None = None,
    known: Mapping[int, Iterable[str]] | None = None,
) -> dict[int, Pattern]:
    """:func:`joint_pattern` of the editions of several data ends at once: ``tables`` maps a year to that
    year's tables by edition, ``published`` a year to its published editions. Every count that does not
    fall (as a count of nested sets) is followed from year to year (:func:`_link_years`; rows matched by
    :func:`row_labels`, ``skip`` naming columns that are counts or computed from them), so that no
    difference of two years' editions pins a count of 1..threshold-1 added in between, nor a hidden cell.
    Returns each year's pattern (``only``: only that year's). ``known``: editions whose counts a reader
    knows from another page, as in :func:`joint_patterns_years`."""
    years = sorted(tables)
    if threshold is None or int(threshold) <= 1:
        return {y: joint_pattern(tables[y], count, None) for y in years}
    published = published or {}
    known = known or {}
    problems = {
        y: _Problem(tables[y], count, int(threshold), published.get(y, ()), groups, total, known.get(y, ()))
        for y in years
    }
    skip = {count, *([total] if total else []), *skip}
    first = {y: next(iter(tables[y].values())) for y in years}
    exposed = _solve_years(problems, {(): row_labels(first, skip, groups)}, only)
    return {
        y: _pattern_of(problems[y], tables[y], total, [v for v in exposed if v.year in (None, y)])
        for y in years
        if only is None or y == only
    }


def recoverable_years(
    shown: Mapping[int, Mapping[str, pd.DataFrame]],
    truth: Mapping[int, Mapping[str, pd.DataFrame]],
    count: str,
    threshold: int,
    *,
    groups=None,
    total: str | None = None,
    published: Mapping[int, Iterable[str]] | None = None,
    skip: Iterable[str] = (),
    known: Mapping[int, Iterable[str]] | None = None,
) -> list[tuple]:
    """:func:`recoverable` over several data ends (year -> edition -> table, as shown and true): what a
    reader pins from all the editions together, with the relations between years of
    :func:`_link_years`. Returns (year, edition, kind, key, value) for each hidden count, small rest and
    small step (``kind`` ``"step"``, ``key`` (earlier year, name)) pinned to one value, except hidden counts
    of published editions and of ``known`` ones (year -> editions a reader knows from another page, as in
    :func:`joint_patterns_years`)."""
    years = sorted(truth)
    published = published or {}
    marker = disclosure.small_marker(threshold)
    problems = {
        y: _Problem(truth[y], count, int(threshold), (), groups, total, (known or {}).get(y, ())) for y in years
    }

    for year, problem in problems.items():
        for edition, frame in shown[year].items():
            for position, value in enumerate(frame[count]):
                problem.vars[problem.index[(edition, _CELL, position)]].status = _status_shown(value, marker)
            if total is not None:
                for position, value in enumerate(frame[total]):
                    group = problem.group_of[edition][position]
                    problem.vars[problem.index[(edition, _TOTAL, group)]].status = _status_shown(value, marker)
    skip = {count, *([total] if total else []), *skip}
    first = {y: next(iter(truth[y].values())) for y in years}
    merged = _link_years(problems, {(): row_labels(first, skip, groups)})
    found = []
    for problem in [merged] if merged is not None else [problems[y] for y in years]:
        for i, var in enumerate(problem.vars):
            assert var.year is not None  # _link_years sets every variable's year
            public = var.edition in published.get(var.year, ()) or var.known
            if var.kind in (_REST, _STEP):
                if problem.sensitive(i) and not var.known and problem.pinned(i):
                    found.append((var.year, var.edition, var.kind, var.key, var.value))
            elif var.status != SHOWN and not public and problem.pinned(i):
                found.append((var.year, var.edition, var.kind, var.key, int(round(problem.interval(i)[0]))))
    return found


_RESTRICTED: dict[tuple, object] = {}


def _restricted(folder: Path, clinic: str, year: int | None):
    """The cohort of ``folder`` for one clinic choice and data end, made once per process."""
    from analysis.data.cohort import restrict

    full = _full_cohort(folder)
    key = (id(full), clinic, year)
    if key not in _RESTRICTED:
        if any(k[0] != id(full) for k in _RESTRICTED):
            _RESTRICTED.clear()
        _RESTRICTED[key] = restrict(full, clinic=clinic, year=year)
    return _RESTRICTED[key]


def grid_tables(page, compute: Callable[[Cohort], object]) -> dict[int, tuple[dict, set[str]]] | None:
    """``compute`` applied to every edition the grid publishes of the data of ``page``: the three clinic
    choices of each data end of :data:`analysis.data.cohort.YEAR_CHOICES` (year -> (tables by edition, the
    published ones), as :func:`sibling_tables` gives for one year). The page's own table is computed from
    ``page.cohort``. None when the page's edition has no data end of the grid (then only its year's
    editions are linked)."""
    from analysis.data.cohort import YEAR_CHOICES

    if getattr(page.edition, "year", None) not in YEAR_CHOICES:
        return None
    return {year: _year_tables(page, compute, year) for year in YEAR_CHOICES}


@_kept
def _joint_patterns_years(
    by_year, specs, threshold, same, sums, derived, only=None, known=None
) -> dict[int, dict[str, Pattern]]:
    """:func:`joint_patterns` of the grid's tables of every data end at once (``by_year``: year -> (edition ->
    tables by name, published editions)), the counts that do not fall followed from year to year as in
    :func:`joint_pattern_years`. Returns each year's patterns by table name."""
    years = sorted(by_year)
    built, rows = {}, {}
    derived = derived or {}
    for y in years:
        tables, published = by_year[y]
        blocks = {name: {edition: found[name] for edition, found in tables.items()} for name in specs}
        same_y = same.get(y, ()) if isinstance(same, Mapping) else same
        sums_y = sums.get(y, ()) if isinstance(sums, Mapping) else sums
        known_y = (known or {}).get(y, ())
        built[y] = (blocks, *_blocks_problem(blocks, specs, threshold, published, same_y, sums_y, known_y))
    for name, spec in specs.items():
        skip = {spec.get("count", "n"), *([spec["total"]] if spec.get("total") else []), *derived.get(name, ())}
        first = {y: next(iter(built[y][0][name].values())) for y in years}
        rows[(name,)] = row_labels(first, skip, spec.get("groups"))
    exposed = _solve_years({y: built[y][1] for y in years}, rows, only, roots={y: built[y][3] for y in years})
    return {
        y: _blocks_patterns(
            built[y][1], built[y][2], built[y][3], built[y][0], specs, [v for v in exposed if v.year == y]
        )
        for y in years
        if only is None or y == only
    }


def joint_patterns_years(
    by_year: Mapping[int, tuple[Mapping[str, Mapping[str, pd.DataFrame]], Iterable[str]]],
    specs: Mapping[str, Mapping],
    threshold: int | None,
    *,
    same=(),
    sums=(),
    derived: Mapping[str, Iterable[str]] | None = None,
    only: int | None = None,
    known: Mapping[int, Iterable[str]] | None = None,
) -> dict[int, dict[str, Pattern]]:
    """:func:`joint_patterns` of every data end's editions at once, for a module that builds its tables
    itself: ``by_year`` as :func:`grid_tables` gives it for a ``compute`` returning tables by name (year ->
    (edition -> tables by name, published editions)); ``same`` and ``sums`` as in :func:`joint_patterns`,
    or a mapping from the year to them where they differ between years; ``derived`` names each table's
    columns computed from its counts (left out of the rows' names). The counts that do not fall are
    followed from year to year as in :func:`joint_pattern_years`. Returns each year's patterns by table name
    (``only``: that year's only). With ``threshold=None`` nothing is hidden.

    ``known`` maps a year to editions whose counts a reader knows although their own pages hide the small
    ones: another page prints them in full (the published edition's clinic columns, :func:`clinics_in_print`).
    Their counts are constants for the reader of every page, never targets; what an earlier year's count grew
    by to theirs is still kept from being pinned; and since their own pages hide the small ones all the same,
    those pages are then kept from giving them back to a reader of those pages alone (:func:`_solve_known`)."""
    if threshold is None or int(threshold) <= 1:
        out = {}
        for y, (tables, _) in by_year.items():
            blocks = {name: {edition: found[name] for edition, found in tables.items()} for name in specs}
            out[y] = joint_patterns(blocks, specs, None)
        return out
    return _joint_patterns_years(by_year, specs, int(threshold), same, sums, derived, only=only, known=known)


def clinics_in_print(by_year: Mapping[int, tuple[object, Iterable[str]]]) -> dict[int, set[str]]:
    """The editions a reader knows in full from a published page that shows the counts clinic by clinic
    (``by_year`` as :func:`grid_tables` gives it): every clinic of a year whose both-clinics edition is
    published. For the tables that the published edition prints with a column per clinic (Appendix 5)."""
    return {y: set(schema.CLINICS) for y, (_, published) in by_year.items() if "all" in set(published)}
