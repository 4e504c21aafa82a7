"""The generator's registry cells (synthetic.registry): offsets reached where a cell's quarter weights are coarse."""

import numpy as np

from synthetic import registry

UNIT = 100.0  # NOK per contact
BEFORE = {"continued": 0.0, "planned": 0.0, "unplanned": 0.0}  # before means (per quarter), all equal here
OFFSETS = {"planned": 100.0, "unplanned": 50.0}  # aimed offsets per quarter (annualized: x4)
#: Tolerances (NOK a year) of each offset and of the total's, as printed to the krone; no miss from other services.
WITHIN = {"planned": 0.5, "unplanned": 0.5, ("total", "planned"): 0.5, ("total", "unplanned"): 0.5}
NOTHING_CARRIED = {"planned": 0.0, "unplanned": 0.0}


def _cells(coarse=("planned",)):
    """After cells of a hand-built block: continued patients, and those of a comparison group not in
    ``coarse``, with 8, 7, 6, 5 and 3 quarters (weights 1/8 ... 1/3: totals on a lattice of UNIT / 840); the
    three patients of a ``coarse`` group with two quarters each (planned) or three (unplanned): totals only
    in steps of UNIT / 2 or UNIT / 3."""
    rows, weight, at = {}, [], 0
    for group in ("continued", "planned", "unplanned"):
        quarters = ({"planned": 2, "unplanned": 3}[group],) * 3 if group in coarse else (8, 7, 6, 5, 3)
        cell = []
        for n in quarters:
            cell += range(at, at + n)
            weight += [1.0 / n] * n
            at += n
        rows[(group, "after")] = np.array(cell)
    block = registry._Block(np.zeros((at, 1), dtype=np.int64), np.array([UNIT]), np.array(weight), np.array([40]))
    n_pat = {key: 3 if key[0] in coarse else 5 for key in rows}
    return block, rows, n_pat


def test_offset_misses_are_annualized_differences_of_changes():
    block, rows, n_pat = _cells()
    block.counts[rows[("planned", "after")], 0] = 2  # planned mean per quarter: 2 contacts = 200 NOK
    misses = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    assert misses["planned"] == 4 * (200.0 - 0.0 - 100.0)  # continued stays at 0
    assert misses["unplanned"] == 4 * (0.0 - 0.0 - 50.0)


def test_a_cells_totals_move_in_steps_of_the_unit_cost_over_the_lcm_of_its_quarters():
    block, rows, _ = _cells()
    assert registry._lattice_step(block, rows[("continued", "after")]) == UNIT / 840  # quarters 8, 7, 6, 5, 3
    assert registry._lattice_step(block, rows[("planned", "after")]) == UNIT / 2
    block.weight[:] = 1 / 7
    block.weight[:4] = [1 / 8, 1 / 6, 1 / 4, 1 / 3]
    assert registry._lattice_step(block, np.arange(6)) == UNIT / 168  # no fifth: lcm(8, 7, 6, 4, 3)


def test_the_cells_are_settled_together_when_a_planned_cell_cannot_reach_its_aim():
    """The planned cell's mean moves in steps of 100 / 2 / 3 = 16.67 NOK a quarter, so its aim (continued
    1,010 + 100 = 1,110) lies 6.67 NOK from the nearest reachable mean: its offset misses by 26.7 NOK a
    year. Settled together, both offsets hold to well under the printed krone."""
    block, rows, n_pat = _cells(("planned",))
    rng = np.random.default_rng(7)
    shares = np.array([1.0])
    registry._solve_after(rng, block, rows, n_pat, BEFORE, OFFSETS, shares, a_continued=1010.0)
    before = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    assert abs(before["planned"]) > 26 and abs(before["unplanned"]) < 0.5
    registry._settle_together(rng, block, rows, n_pat, BEFORE, OFFSETS, shares, WITHIN, NOTHING_CARRIED)
    after = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    assert abs(after["planned"]) < 0.5 and abs(after["unplanned"]) < 0.5
    assert (block.counts >= 0).all() and (block.counts <= 40).all()


def test_the_cells_are_settled_together_when_both_comparison_cells_are_coarse():
    """Planned means move in steps of 16.67 NOK a quarter, unplanned means in steps of 11.11: the continued
    cell cannot follow both one at a time, but a continued mean exists whose two comparison means both
    lie on their steps (their aims 100 and 50 above it)."""
    block, rows, n_pat = _cells(("planned", "unplanned"))
    rng = np.random.default_rng(8)
    shares = np.array([1.0])
    registry._solve_after(rng, block, rows, n_pat, BEFORE, OFFSETS, shares, a_continued=1010.0)
    before = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    assert max(abs(before["planned"]), abs(before["unplanned"])) > 10
    registry._settle_together(rng, block, rows, n_pat, BEFORE, OFFSETS, shares, WITHIN, NOTHING_CARRIED)
    after = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    assert abs(after["planned"]) < 0.5 and abs(after["unplanned"]) < 0.5


def test_settling_together_makes_up_for_the_misses_of_the_other_services():
    """The other services left the total's planned offset 0.45 NOK a year above its print (inside its
    tolerance of 0.5, with little room for this service's miss): the cells are settled so that this
    service's offsets and the total's both hold (the planned one by a miss between -0.5 and 0.05)."""
    block, rows, n_pat = _cells(("planned",))
    rng = np.random.default_rng(9)
    shares = np.array([1.0])
    registry._solve_after(rng, block, rows, n_pat, BEFORE, OFFSETS, shares, a_continued=1010.0)
    carried = {"planned": 0.45, "unplanned": -0.3}
    registry._settle_together(rng, block, rows, n_pat, BEFORE, OFFSETS, shares, WITHIN, carried)
    after = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    for c in OFFSETS:
        assert abs(after[c]) <= 0.5 and abs(carried[c] + after[c]) <= 0.5
    assert after["planned"] < 0.05
