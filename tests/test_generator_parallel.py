"""The generator's side-by-side searches (synthetic/parallel.py): results come in the order of the calls,
whatever order the workers finish them in, and leaving the loop early ends the calls under way; calls
solved ahead (Ahead) give the results the calls give here, read in any order, and stop when asked. And the
cost fit's steps taken when a round brings no gain, which it has solved ahead (synthetic/costfit.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from synthetic import costfit, parallel
from synthetic.parallel import Ahead, results_in_order


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


def test_leaving_the_loop_ends_the_calls_under_way_and_drops_the_others(tmp_path):
    # the first call returns at once, every other takes two seconds: when the loop is left, the two workers
    # are inside a call each; those calls are ended, not waited for, and no other starts
    calls = [(str(tmp_path), x, 0.0 if x == 0 else 2.0) for x in range(20)]
    results = results_in_order(started_in, calls, workers=2)
    assert next(results) == 0
    left = time.monotonic()
    results.close()  # what leaving a loop over the results does
    assert time.monotonic() - left < 1.5
    time.sleep(0.3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "0.done" in names and not [n for n in names if n.endswith(".done") and n != "0.done"], names
    assert 1 <= len([n for n in names if n.endswith(".started")]) <= 3, names


def started_in(folder: str, x: int, seconds: float) -> int:
    (Path(folder) / f"{x}.started").touch()
    time.sleep(seconds)
    (Path(folder) / f"{x}.done").touch()
    return x * x


def wait_for(paths: list[Path], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not all(p.exists() for p in paths):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_meanwhile_is_called_here_once_while_the_workers_run(tmp_path):
    """``meanwhile`` runs in this process after the first workers have started: it sees both calls under
    way (each waits for a file it writes only then) before it returns."""
    seen = []

    def meanwhile():
        seen.append((os.getpid(), wait_for([tmp_path / "0.started", tmp_path / "1.started"])))
        (tmp_path / "go").touch()

    calls = [(str(tmp_path), x) for x in range(3)]
    assert list(results_in_order(started_then_wait_for_go, calls, workers=2, meanwhile=meanwhile)) == [0, 1, 4]
    assert seen == [(os.getpid(), True)]


def test_with_one_worker_meanwhile_is_called_before_the_first_call(tmp_path):
    seen = []
    calls = [(str(tmp_path), x) for x in range(2)]
    meanwhile = lambda: seen.append(sorted(p.name for p in tmp_path.iterdir()))  # noqa: E731
    results = results_in_order(mark_and_wait, calls, workers=1, meanwhile=meanwhile)
    assert list(results) == [0, 1] and seen == [[]]


def started_then_wait_for_go(folder: str, x: int) -> int:
    (Path(folder) / f"{x}.started").touch()
    if x < 2 and not wait_for([Path(folder) / "go"]):
        raise RuntimeError("meanwhile was not called while this call ran")
    return x * x


@pytest.mark.parametrize("niceness", [19, 10])
def test_a_worker_solving_ahead_runs_at_the_niceness_given(niceness):
    own = os.nice(0)  # (os.nice(0) returns the present niceness and changes nothing)
    ahead = Ahead({"n": (os.nice, (0,))}, niceness=niceness)
    assert ahead.result("n") == min(own + niceness, 19)
    ahead.stop()


def test_calls_solved_ahead_are_read_in_any_order(tmp_path):
    ahead = Ahead({"a": (started_in, (str(tmp_path), 2, 0.0)), "b": (started_in, (str(tmp_path), 3, 0.0))})
    assert "a" in ahead and "c" not in ahead
    assert ahead.result("b") == 9 and ahead.result("a") == 4 and ahead.result("b") == 9
    ahead.stop()


def test_stopping_drops_the_calls_not_yet_done(tmp_path):
    ahead = Ahead({x: (started_in, (str(tmp_path), x, 5.0)) for x in range(3)})
    deadline = time.time() + 5
    while not (tmp_path / "0.started").exists() and time.time() < deadline:
        time.sleep(0.01)
    worker = ahead.process.pid
    ahead.stop()
    with pytest.raises(ProcessLookupError):  # ended and reaped, not left to finish its calls
        os.kill(worker, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.started"]


def test_a_call_whose_worker_is_gone_is_made_here(tmp_path):
    ahead = Ahead({x: (started_in, (str(tmp_path), x, 0.0 if x == 0 else 1.0)) for x in range(2)})
    assert ahead.result(0) == 0
    os.kill(ahead.process.pid, 9)  # killed from outside while in the second call
    assert ahead.result(1) == 1 and ahead.process is None


def square_and_the_cube(folder: str, x: int):
    """What follows from ``x * x`` (the ``then`` of Ahead): the cube, under the key ("cube", x)."""
    return lambda square: {("cube", x): (started_in, (folder, square * x, 0.0))}


def test_a_call_that_follows_from_a_result_is_made_next_by_the_same_worker(tmp_path):
    ahead = Ahead({2: (started_in, (str(tmp_path), 2, 0.0), square_and_the_cube(str(tmp_path), 2))})
    assert ("cube", 2) not in ahead  # its key comes with the result it follows from
    assert ahead.result(2) == 4
    assert ("cube", 2) in ahead and ahead.result(("cube", 2)) == 64
    ahead.stop()


def test_a_call_that_follows_is_none_when_its_worker_is_gone_without_it(tmp_path):
    calls = {2: (started_in, (str(tmp_path), 2, 0.0), lambda square: {"slow": (started_in, (str(tmp_path), 9, 5.0))})}
    ahead = Ahead(calls)
    assert ahead.result(2) == 4 and "slow" in ahead
    os.kill(ahead.process.pid, 9)
    assert ahead.result("slow") is None and ahead.process is None


def test_without_fork_the_calls_run_here_when_read(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    ahead = Ahead({x: (started_in, (str(tmp_path), x, 0.0)) for x in range(3)})
    assert list(tmp_path.iterdir()) == []
    assert ahead.result(1) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.done", "1.started"]


@pytest.mark.parametrize(
    ("exact", "kicks", "expected"),
    [
        (False, 2, ["exact", "kick"]),  # a first-stage round without gain: the last stage, then a kick
        (False, 1, ["exact", "kick"]),
        (False, 0, ["exact", "finish"]),
        (True, 2, ["kick"]),  # a last-stage round that stalls: a kick; another may follow
        (True, 1, ["kick", "finish"]),  # the last kick, then (if it is undone) the finishing programme
        (True, 0, ["finish"]),
    ],
)
def test_the_cost_fit_solves_ahead_the_steps_a_round_without_gain_leads_to(exact, kicks, expected):
    fit = object.__new__(costfit.CostFit)
    fit.exact = exact
    best = (np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1, bool))

    def name(values):
        return "finish" if values.get("finishing") else "kick" if "reach" in values else "exact"

    steps = fit._steps_without_gain(kicks, best)
    assert [name(values) for values, _state in steps] == expected
    # the finishing programme starts from the best state; the others from the state of the round
    assert all((state is best) == (name(values) == "finish") for values, state in steps)


class _Answer:
    def __init__(self, x):
        self.x = x


@pytest.mark.parametrize(
    ("x", "rejected", "follows"), [(None, False, False), ([1.0], True, False), ([1.0], False, True)]
)
def test_after_a_kick_the_worker_solves_the_exact_round_of_its_outcome_only_when_the_kick_is_kept(x, rejected, follows):
    """The cost fit's worker that solved a kick applies its answer to its own copy of the fit and, when the kick
    is kept (solved, not rejected), offers the exact round of the outcome, under the key of that round."""
    fit = object.__new__(costfit.CostFit)
    fit.exact, fit.swaps, fit.exchanges, fit.reach = False, True, True, 0.25  # the kick's settings
    fit.exact_node_limit, fit.node_limit, fit.time_limit = 2000, 300, 900.0
    applied = []

    def apply(answer, programme):
        applied.append((answer, programme))
        fit.rejected = rejected

    fit._apply = apply
    fit._programme_key = lambda: ("key", fit.exact, fit.swaps, fit.exchanges, fit.reach)
    fit._programme = lambda: "the exact round's programme"
    following = fit._exact_round_after("the kick's programme", _Answer(x))
    assert applied == ([] if x is None else [(x, "the kick's programme")])
    if not follows:
        assert following == {}
        return
    # the exact round keeps the kick's reach, as CostFit.run leaves it when it sets EXACT after a kick
    ((key, (solve, args)),) = following.items()
    assert key == ("key", True, False, False, 0.25)
    assert solve is costfit._solve and args == ("the exact round's programme", 2000, 900.0)


def sized_after(seconds: float, payload: np.ndarray) -> int:
    time.sleep(seconds)
    return int(payload.size)


def test_leaving_early_does_not_hang_on_calls_with_large_arguments():
    """Calls whose arguments are larger than a pipe holds (8 MB each here), more of them than workers: when
    the loop is left after the first result, the ending must not wait for a call still on its way to a
    worker (multiprocessing.Pool.terminate could: its task thread blocked writing to a pipe nobody read)."""
    payload = np.zeros(1_000_000)
    calls = [(0.0 if x == 0 else 1.0, payload) for x in range(8)]
    for _attempt in range(5):
        results = results_in_order(sized_after, calls, workers=2)
        assert next(results) == payload.size
        left = time.monotonic()
        results.close()
        assert time.monotonic() - left < 5


def raise_or_square(x: int) -> int:
    if x == 2:
        raise RuntimeError("no way through for 2")
    if x == 3:
        os._exit(7)  # a worker that dies without an answer
    return x * x


def test_a_calls_exception_is_raised_here_when_its_turn_comes():
    results = results_in_order(raise_or_square, [(0,), (1,), (2,), (4,)], workers=2)
    assert next(results) == 0 and next(results) == 1
    with pytest.raises(RuntimeError, match="no way through for 2"):
        next(results)


def test_a_worker_that_dies_is_reported_not_waited_for():
    with pytest.raises(RuntimeError, match="ended without an answer"):
        list(results_in_order(raise_or_square, [(1,), (3,)], workers=2))


def test_no_thread_of_this_process_writes_to_the_workers():
    """The calls' arguments go with the forked workers and the answers come back on pipes read here: no
    thread is started (multiprocessing.Pool's task thread is what could block the ending of the calls)."""
    import threading

    before = threading.active_count()
    results = results_in_order(square_after, [(0.1, x) for x in range(4)], workers=2)
    assert next(results) == 0
    assert threading.active_count() == before
    results.close()


def squares_side_by_side(n: int) -> list[int]:
    return list(results_in_order(square_after, [(0.05, x) for x in range(n)], workers=2))


def test_a_call_may_start_workers_of_its_own():
    """The generator runs its modules side by side, and a module runs its searches side by side in turn."""
    assert list(results_in_order(squares_side_by_side, [(3,), (2,)], workers=2)) == [[0, 1, 4], [0, 1]]


def test_the_cost_fit_solves_a_kick_ahead_before_the_other_steps(monkeypatch):
    """Of the steps solved ahead on the free core, a kick's worker (which goes on to the exact round of its
    outcome, the longest chain) runs at a lower niceness than the others."""
    started = []

    class Recorder:
        def __init__(self, calls, niceness=None):
            self.calls, self.niceness = calls, niceness
            started.append(self)

        def __contains__(self, key):
            return key in self.calls

    monkeypatch.setattr(costfit, "Ahead", Recorder)
    monkeypatch.setattr(costfit, "cores", lambda: 2)
    fit = object.__new__(costfit.CostFit)
    fit.s = type("Episodes", (), {"adm": np.zeros(2), "dur": np.zeros(2), "out": np.zeros(2)})()
    fit.member = np.zeros(2, bool)
    fit.exact, fit.swaps, fit.exchanges, fit.reach = False, True, True, 1.0
    fit.exact_node_limit, fit.node_limit, fit.time_limit = 2000, 300, 900.0
    fit.ahead, fit.planned = [], {}
    fit._programme_key = lambda: (fit.exact, fit.swaps, fit.reach)
    fit._programme = lambda: "programme"
    fit.look_ahead([(costfit.EXACT, None), (costfit.KICK, None)])
    assert [worker.niceness for worker in started] == [costfit.AHEAD_NICENESS, costfit.KICK_NICENESS]
    assert costfit.KICK_NICENESS < costfit.AHEAD_NICENESS == 19
