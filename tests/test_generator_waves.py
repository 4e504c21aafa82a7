"""The generator's modules run in waves (synthetic/__main__.py): a module waits only for the modules that make
the tables it reads, is given only those tables, and makes the same tables side by side as one after another."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthetic.__main__ as cli
from synthetic import core, economics, events, questionnaires, referrals, registry


def module(name: str, reads: tuple, makes: tuple, starts_workers: bool = False, fail: str = "", seen=None):
    """A module of the generator's shape: each table it makes holds three draws of its own stream plus the
    number of rows of every table it reads."""

    def generate(rng, tables, data_end):
        if seen is not None:
            seen[name] = sorted(tables)
        if fail:
            raise RuntimeError(fail)
        offset = sum(len(tables[t]) for t in reads)
        return {t: pd.DataFrame({"x": rng.integers(0, 1000, 3) + offset}) for t in makes}

    return FakeModule(f"fake.{name}", reads, makes, starts_workers, generate)


class FakeModule:
    def __init__(self, name, reads, makes, starts_workers, generate):
        self.__name__, self.READS, self.MAKES, self.STARTS_WORKERS = name, reads, makes, starts_workers
        self.generate = generate


def test_the_generators_modules_run_in_two_waves():
    assert cli.waves() == [[core, economics], [events, referrals, questionnaires, registry]]


def test_a_module_waits_for_the_modules_that_make_what_it_reads():
    a = module("a", (), ("t1",))
    b = module("b", ("t1",), ("t2",))
    c = module("c", (), ("t3",))
    d = module("d", ("t2", "t3"), ())
    e = module("e", ("t1",), ())
    assert cli.waves([a, b, c, d, e]) == [[a, c], [b, e], [d]]


def test_a_table_no_earlier_module_makes_is_an_error():
    with pytest.raises(RuntimeError, match="fake.b reads t9, which no module before it makes"):
        cli.waves([module("a", (), ("t1",)), module("b", ("t1", "t9"), ())])


@pytest.fixture
def fake_steps(monkeypatch):
    def use(*steps):
        monkeypatch.setattr(cli, "STEPS", steps)
        monkeypatch.setattr(cli.schema, "TABLES", {})  # (the fakes make none of the schema's tables)
        return steps

    return use


def one_after_another(steps, seed):
    """What the modules make when each runs in turn, given every table made before it."""
    tables = {}
    for step, stream in zip(steps, np.random.SeedSequence(seed).spawn(len(steps))):
        tables.update(step.generate(np.random.default_rng(stream), dict(tables), None))
    return tables


def test_side_by_side_the_modules_make_what_they_make_one_after_another(fake_steps):
    steps = fake_steps(
        module("a", (), ("t1", "t2")),
        module("b", ("t1",), ("t3",)),
        module("c", ("t2",), ("t4",), starts_workers=True),
        module("d", ("t1",), ("t5",)),
        module("e", ("t3", "t4"), ("t6",)),
    )
    seconds = {}
    made = cli.generate(7, seconds)
    expected = one_after_another(steps, 7)
    assert list(made) == list(expected) == ["t1", "t2", "t3", "t4", "t5", "t6"]
    for name in expected:
        pd.testing.assert_frame_equal(made[name], expected[name])
    assert set(seconds) == {"a", "b", "c", "d", "e"} and all(s >= 0 for s in seconds.values())


def test_a_module_is_given_only_the_tables_it_reads(fake_steps, monkeypatch):
    seen = {}
    fake_steps(module("a", (), ("t1", "t2"), seen=seen), module("b", ("t2",), ("t3",), seen=seen), module("c", (), ()))
    monkeypatch.setattr(cli, "results_in_order", lambda function, calls, **_: (function(*call) for call in calls))
    cli.generate(7)
    assert seen == {"a": [], "b": ["t2"]}


def test_a_module_without_a_way_through_in_a_worker_ends_the_run_with_its_message(fake_steps, tmp_path, capsys):
    fake_steps(
        module("a", (), ("t1",)),
        module("b", ("t1",), (), starts_workers=True),
        module("c", ("t1",), (), fail="Table X could not be met"),
    )
    with pytest.raises(RuntimeError, match="Table X could not be met"):
        cli.generate(7)
    assert cli.main(["--seed", "7", "--out", str(tmp_path / "cohort")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Table X could not be met" in err and "Traceback" not in err
    assert not (tmp_path / "cohort").exists()
