"""Generate the synthetic cohort, or print its calibration report.

    python -m synthetic                 # write data/synthetic/ (seed 20260601) and its calibration.csv
    python -m synthetic --check         # generate in memory and compare with the published targets
    python -m synthetic --out DIR --seed N

``--check`` exits with status 1 when a target fails without a stated reason; a seed whose draws leave a
search of the generator without a way through exits with status 2 and one line saying which (nothing is
written).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.data import schema
from synthetic import aims, core, economics, events, questionnaires, referrals, registry
from synthetic.parallel import results_in_order
from synthetic.targets import report
from synthetic.write import write_cohort

DEFAULT_SEED = 20260601
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "synthetic"
#: The generator's modules. Each declares the tables of the others that it reads (``READS``), the tables it
#: makes (``MAKES``) and whether it starts worker processes of its own (``STARTS_WORKERS``).
STEPS = (core, events, referrals, questionnaires, registry, economics)


def waves(steps=None) -> list[list]:
    """The modules of ``steps`` (default :data:`STEPS`) in the order they can run: a module runs in the wave
    after the last of the modules before it that make the tables it reads, so that the modules of one wave
    wait for none of each other's tables."""
    steps = STEPS if steps is None else steps
    made_in: dict[str, int] = {}
    wave_of = {}
    for step in steps:
        unknown = [name for name in step.READS if name not in made_in]
        if unknown:
            raise RuntimeError(f"{step.__name__} reads {', '.join(unknown)}, which no module before it makes")
        wave_of[step] = max((made_in[name] + 1 for name in step.READS), default=0)
        made_in.update(dict.fromkeys(step.MAKES, wave_of[step]))
    return [[step for step in steps if wave_of[step] == wave] for wave in range(max(wave_of.values()) + 1)]


def generate(
    seed: int = DEFAULT_SEED, seconds: dict[str, float] | None = None, meanwhile: Callable[[], Any] | None = None
) -> dict[str, pd.DataFrame]:
    """Every table of the cohort, deterministic for a given seed.

    Each module draws from its own random stream and is given only the tables it reads, so that changing
    one module leaves the tables of the others unchanged, and the modules of a wave (:func:`waves`) make the
    same tables whether they run one after another or side by side. They run side by side
    (:func:`synthetic.parallel.results_in_order`), those that start workers of their own first (they are the
    long ones): on two cores the questionnaires run in one worker, their level searches in workers of their
    own, while events, referrals and registry use take turns in the other. ``seconds``, when given, gets each
    module's wall-clock seconds. ``meanwhile()``, when given, is called in this process while the first wave
    runs (it only waits for that wave's workers then), as :func:`main` readies the calibration report.
    """
    streams = dict(zip(STEPS, np.random.SeedSequence(seed).spawn(len(STEPS))))
    tables: dict[str, pd.DataFrame] = {}
    data_end = pd.Timestamp(schema.STUDY_END)
    for wave in waves():
        order = sorted(wave, key=lambda step: not step.STARTS_WORKERS)  # (a stable sort: else as in STEPS)
        calls = [(step, streams[step], {name: tables[name] for name in step.READS}, data_end) for step in order]
        made = dict(zip(order, results_in_order(_step, calls, meanwhile=meanwhile)))
        meanwhile = None
        for step in wave:  # (in the order of STEPS, whichever finished first)
            step_tables, step_seconds = made[step]
            tables.update(step_tables)
            if seconds is not None:
                seconds[step.__name__.rsplit(".", 1)[-1]] = step_seconds
    missing = set(schema.TABLES) - set(tables)
    if missing:
        raise RuntimeError(f"the generator produced no table for: {', '.join(sorted(missing))}")
    return tables


def _step(step, stream: np.random.SeedSequence, tables: dict[str, pd.DataFrame], data_end) -> tuple[dict, float]:
    """The tables of one module, and the wall-clock seconds it took."""
    started = time.perf_counter()
    made = step.generate(np.random.default_rng(stream), tables, data_end)
    return made, time.perf_counter() - started


def ready_for_calibration() -> None:
    """Import the statistical models the calibration report's targets fit (statsmodels: about a second), so
    that :func:`main` can have it done while the first wave of the generator runs, when this process only
    waits. (Not in a thread: a worker forked while another thread imports could inherit a held import lock.)"""
    import statsmodels.api  # noqa: F401
    import statsmodels.formula.api  # noqa: F401
    import statsmodels.miscmodels.ordinal_model  # noqa: F401


def calibration(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The calibration report of a generated cohort: every target, achieved value, pass/fail, and the
    searches that aim at it (:mod:`synthetic.aims`; none for a figure met by construction)."""
    rows = []
    for step in STEPS:
        frame = report(step.targets(tables))
        frame.insert(0, "module", step.__name__.rsplit(".", 1)[-1])
        rows.append(frame)
    table = pd.concat(rows, ignore_index=True)
    table["aimed_by"] = table.key.map(aims.aimed_by)
    return table


def write(tables: dict[str, pd.DataFrame], out: Path, seed: int) -> pd.DataFrame:
    """Write the cohort generated with ``seed`` and its calibration report to ``out``; returns the report."""
    metadata = {
        "source": "synthetic",
        "seed": seed,
        "data_end": str(schema.STUDY_END),
        "description": (
            "Synthetic patient-level cohort generated by `python -m synthetic`, calibrated to the "
            "published figures of the report; no real patient is in it."
        ),
    }
    table = calibration(tables)
    write_cohort(tables, out, metadata, table)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print the calibration report instead of writing")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write (default: data/synthetic)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        tables = generate(args.seed, meanwhile=ready_for_calibration)
    except RuntimeError as error:  # a search found no way through with this seed's draws
        print(f"python -m synthetic: no cohort with seed {args.seed}: {error}; try another seed", file=sys.stderr)
        return 2
    if args.check:
        table = calibration(tables)
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 70):
            print(table[["module", "key", "target", "achieved", "status", "aimed_by", "reason"]].to_string(index=False))
        counts = table.status.value_counts()
        print(
            f"\n{len(table)} targets: {counts.get('pass', 0)} pass, {counts.get('explained', 0)} not met "
            f"with a stated reason, {counts.get('FAIL', 0)} fail ({time.perf_counter() - started:.1f} s)"
        )
        return 1 if counts.get("FAIL", 0) else 0
    table = write(tables, args.out, args.seed)
    counts = table.status.value_counts()
    if counts.get("FAIL", 0):
        print(
            f"warning: {counts['FAIL']} calibration targets fail without a stated reason (see calibration.csv)",
            file=sys.stderr,
        )
    sizes = ", ".join(f"{name} {len(tables[name])}" for name in schema.TABLES)
    print(f"wrote {args.out} ({sizes} rows) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
