"""Time the builds of the book and of reruns on this machine, write the figures to JSON (each with the
previous run's figure beside it, under ``previous``) and print them beside the previous run's.

    .venv/bin/python benchmarks/build_times.py [--only one_variant,unit_tier] [--repeat 3] [--workers 2]
                                              [--conditions "what else ran"] [--out benchmarks/build_times.json]

Measures (all by default but ``full_suite``; ``--only`` picks some, the others keep their previous
figures, marked ``carried``), each in folders of its own under a temporary directory (the published
build in ``_build/html`` and the reruns in ``_build/reruns`` are not touched):

* ``cold_build``: the published edition from a copy of the sources, with no execution cache, as
  ``make book`` builds it (hatbook/book.py: the pages executed first in one kernel per core, then
  Sphinx), with its breakdown: seconds of each phase (pages executed, Sphinx's start-up, reading,
  writing, indices and finishing), of each page, and the CPU seconds (``--repeat-what cold`` repeats it);
* ``warm_rebuild``: the same build again with nothing changed (median of ``--repeat`` runs);
* ``prose_edit_rebuild``: the build after one sentence of a prose page was changed (median);
* ``one_variant``: Bergen, data through 2023, ``--repeat`` times in one reruns folder; the first run also
  executes the pages shared by every edition (``first_seconds``), the median is of the runs after it;
  each run's stages (check, stage, execute, build, install), the build's phases (``sphinx_start``,
  ``sphinx_read``, ``sphinx_write``, ``sphinx_finish``), the seconds of each page executed and the
  run's CPU seconds are recorded;
* ``one_variant_all_2025``: both clinics, data through 2025, after ``one_variant`` (once, or
  ``--repeat`` times with ``--repeat-what all_2025``);
* ``grid_of_4``: four variants (2022 and Bergen 2023) in a pool of ``--workers`` processes, with each
  variant's time, stages and bytes of its own (only with ``--only``; a figure of variants inside a grid);
* ``grid``: the 12 variants in a pool of ``--workers`` processes (default 2), in a fresh reruns folder
  (``--repeat-what grid`` repeats it, each run in a fresh folder; the details are those of the median run);
* ``unit_tier``: ``make check`` (``pytest -m "not slow"`` in two parts at once; ``--repeat-what unit``
  repeats it);
  ``full_suite``: ``pytest`` (``make test``);
* bytes on disk of each variant and of the reruns folder (a file hard-linked into several editions
  counted once, as ``du`` counts it).

The machine's conditions (load average before and after each measure, ``--conditions``) and the CPU
seconds each measure used are recorded with the figures:
the machine is shared, and a figure means little without them. A rerun that fails is timed all the same
and reported as failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.record import write_and_compare  # noqa: E402
from hatbook.book import run_timed  # noqa: E402

#: The page whose prose the edit benchmark changes (a page without code: only it is re-read).
PROSE_PAGE = "book/ch02_purpose.md"
MEASURES = (
    "cold_build",
    "warm_rebuild",
    "prose_edit_rebuild",
    "one_variant",
    "one_variant_all_2025",
    "grid_of_4",
    "grid",
    "unit_tier",
    "full_suite",
)
DEFAULT_MEASURES = tuple(m for m in MEASURES if m not in ("full_suite", "grid_of_4"))
#: The small grid: the four variants of 2022 and one of 2023, as the grid's workers meet them (for a
#: figure of a variant inside a grid, on a machine where the whole grid may not be run).
SMALL_GRID = (("Bergen", 2022), ("Oslo", 2022), ("all", 2022), ("Bergen", 2023))


def copy_sources(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "book", target / "book", ignore=shutil.ignore_patterns("_build", "*.ipynb", "__pycache__"))
    return target


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (kernels, builds, test runs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def build(source: Path, output: Path, sphinx_jobs: int = 1) -> tuple[float, int, dict]:
    """Build the published edition as `make book` does (hatbook/book.py); return its seconds, exit status
    and breakdown: the seconds of each phase (pages executed before the build, Sphinx's start-up, reading,
    writing, indices and finishing), each page executed, and the CPU seconds of the whole build."""
    output.mkdir(parents=True, exist_ok=True)
    started, cpu = time.perf_counter(), cpu_seconds()
    status, phases = run_timed(
        [
            sys.executable,
            "-m",
            "hatbook.book",
            str(source),
            "--path-output",
            str(output),
            "--sphinx-jobs",
            str(sphinx_jobs),
            "-n",
            "--keep-going",
        ],
        output / "build.log",
        cwd=source,
    )
    seconds = time.perf_counter() - started
    pages = {}
    for line in (output / "build.log").read_text(encoding="utf-8").splitlines():
        match = re.match(r"(\w+): executed in ([\d.]+) s$", line)
        if match:
            pages[match.group(1)] = float(match.group(2))
    return seconds, status, {"phases": phases, "pages": pages, "cpu_seconds": round(cpu_seconds() - cpu, 1)}


def disk_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder``, each file (inode) counted once, as ``du`` counts hard links."""
    seen, total = set(), 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total


def own_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` that no other edition shares: not hard-linked, or linked only
    from the shared store (``_build/reruns/_static_shared``) besides this folder."""
    return sum(
        p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and p.stat().st_nlink <= 2
    )


def shared_bytes(store: Path) -> int:
    """Bytes of the files of the shared store (``_build/reruns/_static_shared``) that two editions or more
    link (a file of one edition only is linked from the store and that edition: two links)."""
    if not store.is_dir():
        return 0
    return sum(p.stat().st_size for p in store.rglob("*") if p.is_file() and p.stat().st_nlink > 2)


def load() -> list[float]:
    return [round(x, 1) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the repeated measurements (median reported)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "build_times.json")
    parser.add_argument("--only", default=None, help=f"comma-separated measures out of {', '.join(MEASURES)}")
    parser.add_argument("--skip-grid", action="store_true", help="leave out the grid (the longest measurement)")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the builds (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the grid (default 2)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="kernels of one variant (default: cores)")
    parser.add_argument("--conditions", default="", help="what else ran on the machine (recorded with the figures)")
    parser.add_argument(
        "--sphinx-jobs", type=int, default=1, help="Sphinx processes of the published build (default 1)"
    )
    parser.add_argument(
        "--repeat-what",
        default="variant",
        help="comma-separated: which measures --repeat repeats besides the warm rebuilds "
        "(variant, cold, all_2025, grid, unit); default variant",
    )
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(DEFAULT_MEASURES)
    unknown = [m for m in chosen if m not in MEASURES]
    if unknown:
        parser.error(f"unknown measure(s): {', '.join(unknown)}")
    if args.skip_grid and "grid" in chosen:
        chosen.remove("grid")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="hatbook-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, dict] = {}
    load_before = load()

    def record(name: str, seconds: list[float], **extra) -> None:
        figures[name] = {
            "median_seconds": round(statistics.median(seconds), 1),
            "runs": [round(s, 1) for s in seconds],
            "load_average": load(),
            **extra,
        }
        print(
            f"{name:>22}: {figures[name]['median_seconds']:8.1f} s  (runs: {', '.join(f'{s:.1f}' for s in seconds)}; "
            f"load {figures[name]['load_average'][0]})",
            flush=True,
        )

    if {"cold_build", "warm_rebuild", "prose_edit_rebuild"} & set(chosen):
        source = copy_sources(work / "src")
        output = work / "published"
        if "cold_build" in chosen:
            runs, breakdowns = [], []
            for _run in range(args.repeat if "cold" in args.repeat_what else 1):
                shutil.rmtree(output, ignore_errors=True)
                seconds, status, breakdown = build(source, output, args.sphinx_jobs)
                runs.append(seconds)
                breakdowns.append({"ok": status == 0, "load_average": load(), **breakdown})
            record(
                "cold_build",
                runs,
                ok=all(b["ok"] for b in breakdowns),
                sphinx_jobs=args.sphinx_jobs,
                breakdown=breakdowns,
            )
        else:
            build(source, output, args.sphinx_jobs)
        if "warm_rebuild" in chosen:
            record("warm_rebuild", [build(source, output, args.sphinx_jobs)[0] for _ in range(args.repeat)])
        if "prose_edit_rebuild" in chosen:
            page = source / PROSE_PAGE
            original = page.read_text(encoding="utf-8")
            runs = []
            for i in range(args.repeat):
                page.write_text(
                    original.rstrip("\n") + f"\n\nA sentence added for timing run {i + 1}.\n", encoding="utf-8"
                )
                runs.append(build(source, output, args.sphinx_jobs)[0])
            page.write_text(original, encoding="utf-8")
            record("prose_edit_rebuild", runs, page=PROSE_PAGE)

    from hatbook import rerun as rr

    if "one_variant" in chosen or "one_variant_all_2025" in chosen:
        os.environ["HATBOOK_RERUNS_DIR"] = str(work / "reruns")

        def timed_variant(variant):
            started, cpu = time.perf_counter(), cpu_seconds()
            result = rr.run_variant(variant, jobs=args.jobs, log=lambda line: None)
            return time.perf_counter() - started, result, round(cpu_seconds() - cpu, 1), load()

        if "one_variant" in chosen:
            results = [timed_variant(rr.Variant("Bergen", 2023)) for _ in range(max(2, args.repeat))]
            first, rest = results[0], results[1:]
            record(
                "one_variant",
                [s for s, *_ in rest],
                variant="bergen-2023",
                jobs=args.jobs,
                ok=all(r.ok for _, r, *_ in results),
                first_seconds=round(first[0], 1),
                cpu_seconds=[c for *_, c, _ in results],
                load_averages=[a for *_, a in results],
                stages=[r.timings for _, r, *_ in results],
                error=next((r.error.splitlines()[0] for _, r, *_ in results if r.error), ""),
                bytes=disk_bytes(work / "reruns" / "bergen-2023"),
                own_bytes=own_bytes(work / "reruns" / "bergen-2023"),
            )
        if "one_variant_all_2025" in chosen:
            repeats = args.repeat if "all_2025" in args.repeat_what else 1
            results = [timed_variant(rr.Variant("all", 2025)) for _ in range(repeats)]
            record(
                "one_variant_all_2025",
                [s for s, *_ in results],
                variant="all-2025",
                jobs=args.jobs,
                ok=all(r.ok for _, r, *_ in results),
                cpu_seconds=[c for *_, c, _ in results],
                load_averages=[a for *_, a in results],
                stages=[r.timings for _, r, *_ in results],
                error=next((r.error.splitlines()[0] for _, r, *_ in results if r.error), ""),
            )

    if "grid_of_4" in chosen:
        os.environ["HATBOOK_RERUNS_DIR"] = str(work / "grid_of_4")
        folder = work / "grid_of_4"
        started = time.perf_counter()
        results = rr.run_grid(
            [rr.Variant(c, y) for c, y in SMALL_GRID],
            workers=args.workers,
            log=lambda line: print("   ", line, flush=True),
        )
        record(
            "grid_of_4",
            [time.perf_counter() - started],
            variants=len(results),
            built=sum(r.ok for r in results),
            workers=args.workers,
            bytes=disk_bytes(folder),
            variant_seconds={r.variant.name: round(r.seconds, 1) for r in results},
            variant_stages={r.variant.name: r.timings for r in results},
            variant_own_bytes={r.variant.name: own_bytes(folder / r.variant.name) for r in results if r.ok},
            shared_bytes=shared_bytes(folder / "_static_shared"),
            failed={r.variant.name: r.error.splitlines()[0] for r in results if not r.ok},
        )

    if "grid" in chosen:
        runs, details = [], []
        for run in range(args.repeat if "grid" in args.repeat_what else 1):
            folder = work / ("grid" if run == 0 else f"grid-{run + 1}")  # each run from a fresh reruns folder
            os.environ["HATBOOK_RERUNS_DIR"] = str(folder)
            started, grid_cpu = time.perf_counter(), cpu_seconds()
            results = rr.run_grid(rr.grid(), workers=args.workers, log=lambda line: print("   ", line, flush=True))
            runs.append(time.perf_counter() - started)
            details.append(
                dict(
                    variants=len(results),
                    built=sum(r.ok for r in results),
                    workers=args.workers,
                    bytes=disk_bytes(folder),
                    cpu_seconds=round(cpu_seconds() - grid_cpu, 1),
                    load_average=load(),
                    shared_bytes=shared_bytes(folder / "_static_shared"),
                    variant_seconds={r.variant.name: round(r.seconds, 1) for r in results},
                    variant_stages={r.variant.name: r.timings for r in results},
                    variant_own_bytes={r.variant.name: own_bytes(folder / r.variant.name) for r in results if r.ok},
                    failed={r.variant.name: r.error.splitlines()[0] for r in results if not r.ok},
                )
            )
        # the details of the median run (of the first of two)
        middle = sorted(range(len(runs)), key=lambda i: runs[i])[(len(runs) - 1) // 2]
        record("grid", runs, **{**details[middle], "built_in_every_run": [d["built"] for d in details]})

    for name, marker in (("unit_tier", "not slow"), ("full_suite", None)):
        if name in chosen:
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + (
                ["-m", marker] if marker else []
            )
            if name == "unit_tier":  # as `make check` runs it: two parts at once (the venv taken as installed)
                command = ["make", "-s", "-o", ".venv/.installed", "check"]
            runs, cpus, tail, status = [], [], "", 0
            for _ in range(args.repeat if name == "unit_tier" and "unit" in args.repeat_what else 1):
                started, cpu = time.perf_counter(), cpu_seconds()
                done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
                runs.append(time.perf_counter() - started)
                cpus.append(round(cpu_seconds() - cpu, 1))
                summaries = [
                    line.strip("= ") for line in done.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)
                ]
                tail, status = (
                    "; ".join(summaries) or (done.stdout.strip().splitlines() or [""])[-1],
                    max(status, done.returncode),
                )
            record(name, runs, command=" ".join(command[1:]), exit=status, summary=tail, cpu_seconds=cpus)

    previous = json.loads(args.out.read_text()).get("figures", {}) if args.out.exists() else {}
    for name, value in figures.items():  # the previous run's figure beside the new one
        old = previous.get(name)
        if isinstance(old, dict):
            value["previous"] = {
                k: old[k]
                for k in ("median_seconds", "runs", "load_average", "bytes", "cpu_seconds", "built", "summary")
                if k in old
            }
    for name, value in previous.items():  # figures not measured this time stay, marked as carried over
        if name not in figures:
            figures[name] = {**value, "carried": True} if isinstance(value, dict) else value
    order = {name: i for i, name in enumerate(MEASURES)}
    figures = dict(sorted(figures.items(), key=lambda item: order.get(item[0], len(order))))
    conditions = {
        "load_average_before": load_before,
        "load_average_after": load(),
        "note": args.conditions,
        "workdir": str(work),
        "measured": chosen,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_and_compare(args.out, {"conditions": conditions, "figures": figures})
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
