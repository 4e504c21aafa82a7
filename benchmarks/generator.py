"""Time the synthetic generator module by module, write the figures to JSON and print them side by side.

    .venv/bin/python benchmarks/generator.py [--out benchmarks/generator.json] [--write DIR]

One run of ``python -m synthetic``'s generation in memory (default seed): each module's wall-clock seconds,
measured where it ran (``core`` includes the integer programme of ``synthetic/costfit.py``; the modules of a
wave run side by side, see ``synthetic.__main__.waves``, so their seconds overlap), the total, the CPU
seconds of the process and of the worker processes its searches ran side by side in, and the peak resident
memory of the process and of its largest worker. With ``--write DIR`` the calibration report is then
computed and the cohort written to DIR as ``python -m synthetic --out DIR`` writes it (timed as
``calibration_and_write_seconds``, outside the total; as there, the report's statistical models are imported
while the first wave runs), so that the same run can be compared byte for byte with another. Run it on a
quiet machine: the figures are wall-clock times, and on a shared one the CPU seconds are the steadier figure.
The previous figures in the output file, if any, are printed next to the new ones before it is replaced.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.record import write_and_compare  # noqa: E402
from synthetic.__main__ import DEFAULT_SEED, generate, ready_for_calibration, write  # noqa: E402


def cpu_seconds() -> float:
    """CPU seconds (user and system) of this process and of its ended worker processes."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "generator.json"))
    parser.add_argument("--conditions", default="", help="what else ran on the machine (recorded with the figures)")
    parser.add_argument("--write", type=Path, help="also write the cohort here, as python -m synthetic --out does")
    args = parser.parse_args(argv)

    seconds: dict[str, float] = {}
    start_all, cpu_all = time.perf_counter(), cpu_seconds()
    tables = generate(DEFAULT_SEED, seconds, meanwhile=ready_for_calibration if args.write else None)
    figures = {f"{module}_seconds": round(value, 1) for module, value in seconds.items()}
    figures["total_seconds"] = round(time.perf_counter() - start_all, 1)
    figures["total_cpu_seconds"] = round(cpu_seconds() - cpu_all, 1)
    if args.write:
        start = time.perf_counter()
        write(tables, args.write, DEFAULT_SEED)  # what python -m synthetic --out writes
        figures["calibration_and_write_seconds"] = round(time.perf_counter() - start, 1)
    figures["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["peak_worker_memory_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    write_and_compare(Path(args.out), {"seed": DEFAULT_SEED, "conditions": args.conditions, "figures": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
