"""Time the builds of the book and of reruns on this machine, write the figures to JSON and print them.

    .venv/bin/python benchmarks/build_times.py [--repeat 3] [--out benchmarks/build_times.json] [--skip-grid]

Measured, each in folders of its own under a temporary directory (the published build in
``_build/html`` and the reruns in ``_build/reruns`` are not touched):

* ``cold_build``: the published edition from a copy of the sources, with no execution cache;
* ``warm_rebuild``: the same build again with nothing changed (median of ``--repeat`` runs);
* ``prose_edit_rebuild``: the build after one sentence of a prose page was changed (median);
* ``one_variant``: ``hatbook rerun --clinic Bergen --year 2023`` (the whole book);
* ``grid``: ``hatbook rerun --grid`` (12 variants in a pool of ``--workers`` processes, default: cores).

A rerun that fails (a page raising an error) is timed all the same and reported as failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hatbook import jupyter_book_command  # noqa: E402

#: The page whose prose the edit benchmark changes (a page without code: only it is re-read).
PROSE_PAGE = "book/ch02_purpose.md"




def copy_sources(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "book", target / "book", ignore=shutil.ignore_patterns("_build", "*.ipynb", "__pycache__"))
    return target


def build(source: Path, output: Path) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([jupyter_book_command(), "build", str(source), "--path-output", str(output), "-n", "--keep-going"],
                          capture_output=True, text=True, cwd=source)
    return time.perf_counter() - started, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the cheap measurements (median reported)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "build_times.json")
    parser.add_argument("--skip-grid", action="store_true", help="leave out the grid (the longest measurement)")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the builds (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes of the grid (default: the number of cores)")
    args = parser.parse_args(argv)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="hatbook-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, dict] = {}

    def record(name: str, seconds: list[float], **extra) -> None:
        figures[name] = {"median_seconds": round(statistics.median(seconds), 1), "runs": [round(s, 1) for s in seconds], **extra}
        print(f"{name:>20}: {figures[name]['median_seconds']:8.1f} s  (runs: {', '.join(f'{s:.1f}' for s in seconds)})", flush=True)

    source = copy_sources(work / "src")
    output = work / "published"
    seconds, status = build(source, output)
    record("cold_build", [seconds], ok=status == 0)

    runs = [build(source, output)[0] for _ in range(args.repeat)]
    record("warm_rebuild", runs)

    page = source / PROSE_PAGE
    original = page.read_text(encoding="utf-8")
    runs = []
    for i in range(args.repeat):
        page.write_text(original.rstrip("\n") + f"\n\nA sentence added for timing run {i + 1}.\n", encoding="utf-8")
        runs.append(build(source, output)[0])
    page.write_text(original, encoding="utf-8")
    record("prose_edit_rebuild", runs, page=PROSE_PAGE)

    os.environ["HATBOOK_RERUNS_DIR"] = str(work / "reruns")
    from hatbook import rerun as rr

    started = time.perf_counter()
    result = rr.run_variant(rr.Variant("Bergen", 2023), jobs=os.cpu_count() or 1, log=lambda line: None)
    record("one_variant", [time.perf_counter() - started], variant="bergen-2023", ok=result.ok,
           error=result.error.splitlines()[0] if result.error else "")

    if not args.skip_grid:
        started = time.perf_counter()
        results = rr.run_grid(rr.grid(), workers=args.workers, log=lambda line: print("   ", line, flush=True))
        record("grid", [time.perf_counter() - started], variants=len(results), built=sum(r.ok for r in results),
               workers=args.workers or os.cpu_count(),
               failed={r.variant.name: r.error.splitlines()[0] for r in results if not r.ok})

    report = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "workdir": str(work),
        "figures": figures,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
