"""The generator's side-by-side searches (synthetic/parallel.py): results come in the order of the calls,
whatever order the workers finish them in, and leaving the loop early stops the calls not yet started."""

from __future__ import annotations

import time
from pathlib import Path

from synthetic.parallel import results_in_order


def square_after(seconds: float, x: int) -> int:
    time.sleep(seconds)
    return x * x


def mark_and_wait(folder: str, x: int, seconds: float = 0.2) -> int:
    (Path(folder) / f"{x}.started").touch()
    time.sleep(seconds)
    return x


def test_results_come_in_the_order_of_the_calls():
    # the first call is the slowest, so the workers finish them in another order
    calls = [(0.4, 1), (0.0, 2), (0.1, 3), (0.0, 4)]
    assert list(results_in_order(square_after, calls, workers=2)) == [1, 4, 9, 16]


def test_one_worker_runs_the_calls_here_only_as_far_as_they_are_read(tmp_path):
    results = results_in_order(mark_and_wait, [(str(tmp_path), x) for x in range(5)], workers=1)
    assert next(results) == 0 and next(results) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.started", "1.started"]


def test_leaving_the_loop_cancels_the_calls_not_yet_started(tmp_path):
    # the first call returns at once, every other takes a second: when the loop is left, the two workers
    # are inside a call each, perhaps with the next ones queued, but nowhere near all twenty
    calls = [(str(tmp_path), x, 0.0 if x == 0 else 1.0) for x in range(20)]
    results = results_in_order(mark_and_wait, calls, workers=2)
    assert next(results) == 0
    results.close()  # what leaving a loop over the results does
    started = len(list(tmp_path.iterdir()))
    assert 1 <= started <= 6, started
