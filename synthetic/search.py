"""The generator's search engine: local searches that move a table a small step at a time towards the
published figures.

Every search of this kind has the same parts: a state (an array of ages, days or answers), a loss that
says how far the state's figures are from their aims (:mod:`synthetic.aims` declares the aims and the
scale each miss is measured in), moves, and a rule for when to stop. Two rules choose the move:

* :func:`descend` (first improvement): a random move is drawn; it is kept when it lowers the loss;
* :func:`steepest` (best improvement): every move is judged, the best is kept while it lowers the loss.

On these two rest the searches that several modules share: :func:`climb` (one integer value up or down),
:func:`pair_moves` (a unit moved from one patient's answer to another's, both sums kept, towards a sum of
squared changes) and :func:`reach_sum` (values stepped one at a time, at random or as a search prefers,
until their sum is exact).

Solvers of other kinds stay with the figures they solve for: the integer programmes of
:mod:`synthetic.costfit` (HiGHS), the coordinate steps and linear programme of the questionnaire dates, the
exact searches over combinations of moves (Table 6.L's sum of squares, the registry cells), the EQ-5D-5L
level search (batches of moves judged many at a time, guarded by the LCGA) and the rules that set a count
in one pass.

A move is proposed as ``(loss after it, keep)``, ``keep`` being a function that makes it; a proposal the
search may not make is ``None`` (it still counts against the budget). A proposal may judge a move itself
when a check costs too much to make for every move: it returns ``None`` for a move that does not lower
the loss or breaks a rule checked only for the moves that would be kept (the cost tuner's exact figures).
The searches are deterministic for a given random generator, so the cohort stays byte-identical from one
run to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

#: A proposed move: the loss after it and the function that makes it; None when no move can be made.
Move = tuple[float, Callable[[], None]] | None


def descend(propose: Callable[[], Move], loss: float, budget: int, good_enough: Callable[[float], bool]) -> float:
    """First-improvement local search: up to ``budget`` proposals, each kept when its loss is lower than the
    present one; stops early when ``good_enough(loss)``. Returns the loss reached."""
    for _ in range(budget):
        if good_enough(loss):
            break
        move = propose()
        if move is not None and move[0] < loss:
            move[1]()
            loss = move[0]
    return loss


def steepest(
    moves: Callable[[], Iterable[tuple[float, Callable[[], None]]]],
    loss: float,
    budget: int,
    good_enough: Callable[[float], bool],
    margin: float = 1e-12,
    loss_now: Callable[[], float] | None = None,
) -> float:
    """Best-improvement local search: in each of up to ``budget`` rounds every move of ``moves()`` is judged
    and the best (the lowest loss, the first of equals) of those that lower the loss by more than ``margin``
    is kept; stops when none does or when ``good_enough(loss)``. With ``loss_now``, the present loss is
    computed from the state at each round rather than carried from the move kept (for a loss that a
    move's own figure gives only up to rounding). Returns the loss reached."""
    for _ in range(budget):
        if loss_now is not None:
            loss = loss_now()
        if good_enough(loss):
            break
        best, keep = np.inf, None
        for after, move in moves():
            if after < loss - margin and after < best:
                best, keep = after, move
        if keep is None:
            break
        keep()
        loss = best
    return loss


def climb(rng, x, lo, hi, loss, iterations=20000, stop=1e-9, steps=(-10, -3, -1, 1, 3, 10)):
    """Integer hill climbing (:func:`descend`): one element of ``x`` moved by one of ``steps``, inside its
    bounds ``lo``/``hi``, kept when it lowers ``loss(x)``; stops at a loss of ``stop`` or below. Returns a
    new array and its loss."""
    x = x.copy()
    n = len(x)

    def propose() -> Move:
        i = int(rng.integers(n))
        new = x[i] + int(steps[int(rng.integers(len(steps)))])
        if new < lo[i] or new > hi[i]:
            return None
        old = x[i]
        x[i] = new
        after = loss(x)
        x[i] = old

        def keep(i=i, new=new):
            x[i] = new

        return after, keep

    best = descend(propose, loss(x), iterations, lambda value: value <= stop)
    return x, best


def pair_moves(rng, first, last, bounds_first, bounds_last, change, square_sum, distance, done, steps, budget, among):
    """Move ``d`` units (``d`` drawn from ``steps``) from one patient's first (or last) answer to another's
    (:func:`descend`): both sums stay, the sum of squared changes moves. A move is kept when it brings
    ``distance(square_sum)`` down; the search stops when ``done(square_sum)``.

    ``first``, ``last`` and ``change`` (last - first) change in place; ``bounds_*`` are (lower, upper)
    arrays; ``among`` the patients that may move. Returns the sum of squared changes reached.
    """
    state = {"square_sum": square_sum}

    def propose() -> Move:
        on_first = rng.random() < 0.5
        i, j = among[rng.integers(len(among), size=2)]
        d = int(steps[int(rng.integers(len(steps)))])
        values, (lower, upper) = (first, bounds_first) if on_first else (last, bounds_last)
        if i == j or values[i] + d > upper[i] or values[j] - d < lower[j]:
            return None
        ci, cj = (change[i] - d, change[j] + d) if on_first else (change[i] + d, change[j] - d)
        after = state["square_sum"] - change[i] ** 2 - change[j] ** 2 + ci**2 + cj**2

        def keep():
            values[i] += d
            values[j] -= d
            change[i], change[j] = ci, cj
            state["square_sum"] = after

        return distance(after), keep

    descend(propose, distance(square_sum), budget, lambda _distance: done(state["square_sum"]))
    return state["square_sum"]


def reach_sum(rng, values, lower, upper, goal: int, movable=None, choose=None):
    """Step single values of ``values`` (in place) by one until their sum is ``goal``; returns ``values``.

    The value stepped is one of those inside their bounds (and ``movable``, when given): drawn at random,
    or ``choose(candidates, step)`` where the search has a preference (the first of equals is taken).
    """
    while values.sum() != goal:
        up = values.sum() < goal
        ok = np.flatnonzero(values < upper) if up else np.flatnonzero(values > lower)
        if movable is not None:
            ok = ok[movable[ok]]
        if not len(ok):
            raise RuntimeError(f"no values left to reach the sum {goal}")
        i = ok[int(rng.integers(len(ok)))] if choose is None else choose(ok, 1 if up else -1)
        values[i] += 1 if up else -1
    return values
