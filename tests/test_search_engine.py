"""The generator's search engine (synthetic.search) on small hand-built states whose answers are known."""

import numpy as np
import pytest

from synthetic.search import climb, descend, pair_moves, reach_sum, steepest


def test_descend_keeps_only_moves_that_lower_the_loss_and_counts_refused_proposals():
    # proposals in order: a worse move, a refused one, a better one, a better one still
    proposals = iter([(5.0, "worse"), None, (3.0, "better"), (1.0, "best")])
    kept = []

    def propose():
        move = next(proposals)
        return None if move is None else (move[0], lambda name=move[1]: kept.append(name))

    assert descend(propose, 4.0, budget=4, good_enough=lambda loss: False) == 1.0
    assert kept == ["better", "best"]


def test_descend_stops_when_good_enough_and_when_the_budget_is_spent():
    calls = []

    def propose():
        calls.append(1)
        return 10.0 - len(calls), lambda: None

    assert descend(propose, 10.0, budget=100, good_enough=lambda loss: loss <= 7) == 7.0
    assert len(calls) == 3
    calls.clear()
    assert descend(propose, 10.0, budget=2, good_enough=lambda loss: False) == 8.0
    assert len(calls) == 2


def test_steepest_keeps_the_best_move_first_of_equals_and_stops_when_none_helps():
    x = [3]
    kept = []

    def moves():  # x - 1 and x + 1 with loss |x|; at 0 neither helps
        for step in (-1, 1, -1):  # the second -1 equals the first: the first is kept
            after = abs(x[0] + step)

            def keep(step=step):
                kept.append(step)
                x[0] += step

            yield float(after), keep

    assert steepest(moves, 3.0, budget=100, good_enough=lambda loss: False) == 0.0
    assert x == [0] and kept == [-1, -1, -1]


def test_steepest_needs_more_than_the_margin_and_stops_at_good_enough():
    def moves():
        yield 1.0 - 1e-13, lambda: pytest.fail("a move within the margin is kept")

    assert steepest(moves, 1.0, budget=10, good_enough=lambda loss: False) == 1.0
    assert steepest(moves, 1.0, budget=10, good_enough=lambda loss: True) == 1.0


def test_climb_reaches_an_integer_sum_inside_the_bounds():
    rng = np.random.default_rng(1)
    x = np.array([0, 0, 0, 0])
    lo, hi = np.zeros(4, int), np.array([3, 3, 3, 3])
    found, loss = climb(rng, x, lo, hi, lambda v: float((v.sum() - 10) ** 2), iterations=2000, stop=0, steps=(-1, 1))
    assert loss == 0 and found.sum() == 10
    assert (found >= lo).all() and (found <= hi).all()
    assert x.sum() == 0  # the start is not changed


def test_reach_sum_steps_inside_bounds_and_only_movable_values():
    rng = np.random.default_rng(2)
    values = np.array([0, 5, 2, 9])
    movable = np.array([True, False, True, True])
    out = reach_sum(rng, values, np.zeros(4, int), np.array([4, 9, 4, 9]), 20, movable=movable)
    assert out is values and values.sum() == 20
    assert values[1] == 5  # not movable
    assert values[0] <= 4 and values[2] <= 4
    values = np.array([3, 3])
    reach_sum(rng, values, np.array([1, 2]), np.array([9, 9]), 3)
    assert values.tolist() == [1, 2]


def test_reach_sum_says_when_the_sum_cannot_be_reached():
    with pytest.raises(RuntimeError, match="sum 30"):
        reach_sum(np.random.default_rng(0), np.array([1, 2]), np.zeros(2, int), np.array([9, 9]), 30)


def _pair_search(seed, start, goal, steps, among):
    """Pair moves from answers all equal to ``start`` (first and last; bounds 0-30) towards a sum of squared
    changes of ``goal``; returns first, last, change and the sum reached."""
    first, last = np.array(start), np.array(start)
    change = last - first
    bounds = (np.zeros(len(start), int), np.full(len(start), 30))
    distance, done = (lambda s: abs(s - goal)), (lambda s: s == goal)
    reached = pair_moves(
        np.random.default_rng(seed), first, last, bounds, bounds, change, 0.0, distance, done, steps, 5000, among
    )
    return first, last, change, reached


def test_pair_moves_keep_both_sums_and_reach_the_sum_of_squared_changes():
    # e.g. changes (5, -5, 0, 0, 0, 0): moves of 5 reach 50 exactly
    first, last, change, reached = _pair_search(3, [10] * 6, 50, (1, 5), np.arange(6))
    assert reached == 50
    assert first.sum() == 60 and last.sum() == 60
    assert (change == last - first).all() and (change**2).sum() == 50
    assert (first >= 0).all() and (last <= 30).all()


def test_pair_moves_leave_patients_outside_among_as_they_were():
    first, last, change, _ = _pair_search(4, [5] * 4, 8, (1, 2), np.array([0, 2]))
    assert first[[1, 3]].tolist() == [5, 5] and last[[1, 3]].tolist() == [5, 5]
    assert (change**2).sum() == 8  # (2, -2) between patients 0 and 2


def test_reach_sum_takes_the_value_a_search_prefers():
    """With ``choose``, the preferred value is stepped (here the largest when going down, the smallest when
    going up) and no random draw is made."""
    values = np.array([4, 1, 7, 3])

    def extreme(candidates, step):
        return candidates[np.argmax(values[candidates])] if step < 0 else candidates[np.argmin(values[candidates])]

    state = np.random.default_rng(5).bit_generator.state
    rng = np.random.default_rng(5)
    reach_sum(rng, values, np.zeros(4, int), np.full(4, 9), 11, choose=extreme)
    assert values.tolist() == [3, 1, 4, 3]  # 15 -> 11: 7 -> 6 -> 5 -> 4, then the first of the 4s
    assert rng.bit_generator.state == state
    reach_sum(rng, values, np.zeros(4, int), np.full(4, 9), 14, choose=extreme)
    assert values.tolist() == [4, 3, 4, 3]  # 11 -> 14: 1 -> 2 -> 3, then the first of the 3s


def test_steepest_can_read_the_present_loss_from_the_state():
    """A move whose own figure is too hopeful (it says 0; one step is made): carried over, that figure ends
    the search after one move; read from the state (``loss_now``), the search goes on to the end."""
    x = [10]

    def moves():
        yield 0.0, lambda: x.__setitem__(0, x[0] - 1)

    steepest(moves, 10.0, budget=100, good_enough=lambda loss: loss <= 0, margin=0.0)
    assert x == [9]
    x[0] = 10
    steepest(moves, 10.0, budget=100, good_enough=lambda loss: loss <= 0, margin=0.0, loss_now=lambda: float(x[0]))
    assert x == [0]
