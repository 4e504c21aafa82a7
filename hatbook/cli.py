"""The ``hatbook`` command.

    hatbook rerun --clinic Bergen --year 2023 [--data DIR] [--threshold 5] [--pdf] [--jobs N]
    hatbook rerun --grid [--data DIR] [--threshold 5] [--workers N]
    hatbook rerun --overview
    hatbook audit [PATHS ...]

Exit status: 0 when every requested variant was built, 1 when any failed (each failure is listed with
the page and the notebook's error), 2 for a usage error (unknown clinic or year, invalid data, a
threshold below 3 without --allow-low-threshold), 130 when interrupted (Ctrl-C): the staging folders
are removed and every book built before is left as it was.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

#: Exit status of a command ended by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hatbook", description="Build tooling of the executable edition.")
    commands = parser.add_subparsers(dest="command", required=True)
    rerun = commands.add_parser(
        "rerun",
        help="rerun the computed pages for one clinic and/or the data through a given year",
        description="Rerun the computed pages and build the variant's book into _build/reruns/<variant>/html.",
    )
    rerun.add_argument("--clinic", default="all", help='"all" (default), "Oslo" or "Bergen"')
    rerun.add_argument("--year", default="2025", help="last calendar year of data, 2022-2025 (default 2025)")
    rerun.add_argument("--data", type=Path, default=None, help="folder of patient-level data with the schema (default: the bundled cohort)")
    rerun.add_argument("--threshold", type=int, default=5, help="smallest count shown as it is outside the published edition (default 5; below 3 only with --allow-low-threshold)")
    rerun.add_argument("--allow-low-threshold", action="store_true", help="allow a threshold below 3 (disclosure control weakened or off; every page says so and the book goes to a folder named after the threshold)")
    rerun.add_argument("--pdf", action="store_true", help="also build the variant's PDF")
    rerun.add_argument("--grid", action="store_true", help="all 3 clinic choices x 4 years, then the overview page")
    rerun.add_argument("--overview", action="store_true", help="only rewrite the overview page from the variants built so far")
    rerun.add_argument("--workers", type=int, default=None, help="worker processes of a grid (default: the number of cores)")
    rerun.add_argument("--jobs", type=int, default=None, help="pages executed at once in a single rerun (default: the number of cores)")
    rerun.add_argument("--pages", nargs="+", default=None, metavar="PAGE", help="build only the home page and these pages (e.g. ch06_1_enrollment_retention), for trying a page out")
    audit = commands.add_parser(
        "audit",
        help="report counts below the threshold and hidden cells that can be recovered in built editions",
        description="Read every page, chart dataset, notebook and search index of built editions and report "
                    "what a reader could learn below the disclosure threshold (exit 1 when anything is found).",
    )
    audit.add_argument("paths", nargs="*", help="an edition's folder or a folder of them (default: _build/reruns)")
    return parser


def _progress(line: str) -> None:
    print(line, flush=True)  # progress lines reach a pipe (CI, a log) as they happen


def _error(message: str, status: int) -> int:
    print(f"hatbook: error: {message}", file=sys.stderr)
    return status


def rerun(args) -> int:
    from hatbook import rerun as rr

    data_dir = args.data.resolve() if args.data is not None else None
    if args.overview:
        print(f"overview: {rr.write_overview(rr.output_root())}")
        return 0
    if args.grid:
        if args.pdf:
            return _error("--pdf is not available with --grid (build the PDF of one variant at a time)", 2)
        variants = rr.grid(data_dir, args.threshold, args.allow_low_threshold)
        started = time.perf_counter()
        try:
            results = rr.run_grid(variants, workers=args.workers, pages=args.pages, log=_progress)
        except rr.UsageError as error:
            return _error(str(error), 2)
        except KeyboardInterrupt:
            print("hatbook: interrupted; the books built before are unchanged", file=sys.stderr)
            return INTERRUPTED
        failed = [r for r in results if not r.ok]
        print(f"grid: {len(results) - len(failed)} of {len(results)} variants built in {time.perf_counter() - started:.0f} s")
        print(f"overview: {rr.output_root() / 'index.html'}")
        if failed:
            print(f"hatbook: {len(failed)} variant(s) failed:", file=sys.stderr)
            for result in failed:
                print(f"  {result.variant.name}: {result.error}", file=sys.stderr)
            return 1
        return 0

    try:
        year = int(args.year)
    except ValueError:
        return _error(f"unknown year {args.year!r}: choose one of 2022, 2023, 2024, 2025", 2)
    variant = rr.Variant(args.clinic, year, data_dir, args.threshold, args.allow_low_threshold)
    try:
        rr.check(variant)  # unknown parameters and invalid data stop here, before any page runs
    except rr.UsageError as error:
        return _error(str(error), 2)
    try:
        result = rr.run_variant(variant, jobs=args.jobs or os.cpu_count() or 1, pdf=args.pdf, pages=args.pages,
                                log=_progress, checked=True)
    except KeyboardInterrupt:
        print(f"hatbook: interrupted; the previous book of {variant.name} (if any) is unchanged", file=sys.stderr)
        return INTERRUPTED
    rr.write_overview(rr.output_root())
    if not result.ok:
        print(f"hatbook: rerun {variant.name} failed; the previous book of this variant (if any) is unchanged.", file=sys.stderr)
        print(result.error, file=sys.stderr)
        return 1
    print(f"The book '{variant.title}' is at {result.html / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "rerun":
        try:
            return rerun(args)
        except KeyboardInterrupt:  # before or after the run (imports, the overview): nothing to clean
            print("hatbook: interrupted", file=sys.stderr)
            return INTERRUPTED
    if args.command == "audit":
        from hatbook import disclosure_audit

        return disclosure_audit.main(args.paths)
    return _error(f"unknown command {args.command}", 2)


if __name__ == "__main__":
    sys.exit(main())
