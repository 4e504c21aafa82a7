"""The generator's registry cells (synthetic.registry): offsets reached where a cell's quarter weights are coarse."""

import numpy as np

from synthetic import registry

UNIT = 100.0  # NOK per contact
BEFORE = {"continued": 0.0, "planned": 0.0, "unplanned": 0.0}  # before means (per quarter), all equal here
OFFSETS = {"planned": 100.0, "unplanned": 50.0}  # aimed offsets per quarter (annualized: x4)


def _cells():
    """After cells of a hand-built block: continued and unplanned patients with 8, 7, 6, 5 and 3 quarters
    (weights 1/8 ... 1/3: totals on a lattice of UNIT / 840), planned patients with two quarters each
    (weight 1/2: totals only in steps of UNIT / 2)."""
    rows, weight, at = {}, [], 0
    for group, quarters in (
        ("continued", (8, 7, 6, 5, 3)),
        ("unplanned", (8, 7, 6, 5, 3)),
        ("planned", (2, 2, 2)),
    ):
        cell = []
        for n in quarters:
            cell += range(at, at + n)
            weight += [1.0 / n] * n
            at += n
        rows[(group, "after")] = np.array(cell)
    block = registry._Block(np.zeros((at, 1), dtype=np.int64), np.array([UNIT]), np.array(weight), np.array([40]))
    n_pat = {("continued", "after"): 5, ("unplanned", "after"): 5, ("planned", "after"): 3}
    return block, rows, n_pat


def test_offset_misses_are_annualized_differences_of_changes():
    block, rows, n_pat = _cells()
    block.counts[rows[("planned", "after")], 0] = 2  # planned mean per quarter: 2 contacts = 200 NOK
    misses = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    assert misses["planned"] == 4 * (200.0 - 0.0 - 100.0)  # continued stays at 0
    assert misses["unplanned"] == 4 * (0.0 - 0.0 - 50.0)


def test_the_cells_follow_a_planned_cell_that_cannot_reach_its_aim():
    """The planned cell's mean moves in steps of 100 / 2 / 3 = 16.67 NOK a quarter, so its aim (continued
    1,010 + 100 = 1,110) lies 6.67 NOK from the nearest reachable mean: its offset misses by 26.7 NOK a
    year. With the continued and unplanned cells aimed from the planned cell reached, both offsets hold to
    well under the printed krone."""
    block, rows, n_pat = _cells()
    rng = np.random.default_rng(7)
    shares = np.array([1.0])
    registry._solve_after(rng, block, rows, n_pat, BEFORE, OFFSETS, shares, a_continued=1010.0)
    before = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    assert abs(before["planned"]) > 26 and abs(before["unplanned"]) < 0.5
    registry._follow_planned(rng, block, rows, n_pat, BEFORE, OFFSETS, shares)
    after = registry._offset_misses(block, rows, n_pat, BEFORE, OFFSETS)
    assert abs(after["planned"]) < 0.5 and abs(after["unplanned"]) < 0.5
    assert (block.counts >= 0).all() and (block.counts <= 40).all()
