"""The ``hatbook`` command: builds the book's editions and checks its data.

    hatbook rerun --clinic Bergen --year 2023 [--data DIR] [--threshold 5] [--pdf] [--jobs N]
    hatbook rerun --grid [--data DIR] [--threshold 5] [--workers N]
    hatbook rerun --overview
    hatbook audit [PATHS ...]
    hatbook pdf [--strict] [--output _build/pdf] [--check]         (also: python -m hatbook.pdf)
    hatbook student [--strict] [--output _build/student]            (also: python -m hatbook.student)
    hatbook check-data [DIR]     (also: python -m analysis.data.published --check; python -m analysis.data.cohort --check)

Exit status: 0 when everything asked for was done, 1 when something failed (each failure is listed: a
variant of a rerun with the page and the notebook's error, a finding of the audit, a problem of the
bundled published tables), 2 for bad input (an unknown clinic or year, invalid data, a folder that is not
there, a threshold below 3 without --allow-low-threshold, a missing tool, a failed PDF or student build),
130 when interrupted (Ctrl-C): staging folders are removed and every book built before is left as it was.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

#: Exit status of a command ended by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130

EXAMPLES = """\
examples:
  hatbook rerun --clinic Bergen --year 2023   the book for Bergen's patients, data through 2023
  hatbook pdf --strict                        the published edition as one PDF, in _build/pdf
  hatbook student                             the book without solutions, in _build/student/html
  hatbook check-data                          check the bundled data (what make data runs)
  hatbook check-data ~/hat-records            check your own patient-level data before a rerun

Run "hatbook COMMAND --help" for the options of one command.
"""


def _parser() -> argparse.ArgumentParser:
    from hatbook import pdf, student

    parser = argparse.ArgumentParser(
        prog="hatbook",
        description="Build the editions of the executable book (reruns, PDF, student edition), check their\n"
        "data, and audit built reruns for small counts. The published HTML book itself is built\n"
        "with make book.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rerun = commands.add_parser(
        "rerun",
        help="rerun the computed pages for one clinic and/or the data through a given year",
        description="Rerun the computed pages and build the variant's book into _build/reruns/<variant>/html.",
    )
    rerun.add_argument("--clinic", default="all", help='"all" (default), "Oslo" or "Bergen"')
    rerun.add_argument("--year", default="2025", help="last calendar year of data, 2022-2025 (default 2025)")
    rerun.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder of patient-level data with the schema (default: the bundled cohort)",
    )
    rerun.add_argument(
        "--threshold",
        type=int,
        default=5,
        help="smallest count shown as it is outside the published edition "
        "(default 5; below 3 only with --allow-low-threshold)",
    )
    rerun.add_argument(
        "--allow-low-threshold",
        action="store_true",
        help="allow a threshold below 3 (disclosure control weakened or off; every page says so "
        "and the book goes to a folder named after the threshold)",
    )
    rerun.add_argument("--pdf", action="store_true", help="also build the variant's PDF")
    rerun.add_argument("--grid", action="store_true", help="all 3 clinic choices x 4 years, then the overview page")
    rerun.add_argument(
        "--overview", action="store_true", help="only rewrite the overview page from the variants built so far"
    )
    rerun.add_argument(
        "--workers", type=int, default=None, help="worker processes of a grid (default: the number of cores)"
    )
    rerun.add_argument(
        "--jobs", type=int, default=None, help="pages executed at once in a single rerun (default: the number of cores)"
    )
    rerun.add_argument(
        "--pages",
        nargs="+",
        default=None,
        metavar="PAGE",
        help="build only the home page and these pages (e.g. ch06_1_enrollment_retention), for trying a page out",
    )
    audit = commands.add_parser(
        "audit",
        help="report counts below the threshold and hidden cells that can be recovered in built editions",
        description="Read every page, chart dataset, notebook and search index of built editions and report "
        "what a reader could learn below the disclosure threshold (exit 1 when anything is found).",
    )
    audit.add_argument("paths", nargs="*", help="an edition's folder or a folder of them (default: _build/reruns)")
    pdf.add_arguments(
        commands.add_parser(
            "pdf", help="build the book as one PDF (needs TeX Live: make pdf-deps)", description=pdf.DESCRIPTION
        )
    )
    student.add_arguments(
        commands.add_parser(
            "student", help="build the book without the solutions of its exercises", description=student.DESCRIPTION
        )
    )
    check_data = commands.add_parser(
        "check-data",
        help="check data against the schema before a build or a rerun",
        description="Check data against the schema (analysis/data/schema.py) and the rules across tables. Without "
        "DIR: the bundled data, that is the published tables with their data dictionary "
        "(data/datapackage.json) and the synthetic patient-level cohort (data/synthetic), as make "
        "data does. With DIR: a folder of patient-level data, as hatbook rerun --data DIR takes it "
        "(a folder with datapackage.json and synthetic/ inside is checked as a whole data folder). "
        "Every problem is named with its file, column, lines and rule. Exit status: 0 valid, "
        "1 a published table or the data dictionary disagrees with the schema, 2 the patient-level "
        "data break the schema or DIR is not there.",
    )
    check_data.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of patient-level CSV files (default: the bundled data)",
    )
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
            return _interrupted("hatbook: interrupted; the books built before are unchanged")
        failed = [r for r in results if not r.ok]
        print(
            f"grid: {len(results) - len(failed)} of {len(results)} variants built "
            f"in {time.perf_counter() - started:.0f} s"
        )
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
        result = rr.run_variant(
            variant, jobs=args.jobs or os.cpu_count() or 1, pdf=args.pdf, pages=args.pages, log=_progress, checked=True
        )
    except KeyboardInterrupt:
        return _interrupted(f"hatbook: interrupted; the previous book of {variant.name} (if any) is unchanged")
    rr.write_overview(rr.output_root())
    if not result.ok:
        print(
            f"hatbook: rerun {variant.name} failed; the previous book of this variant (if any) is unchanged.",
            file=sys.stderr,
        )
        print(result.error, file=sys.stderr)
        return 1
    assert result.html is not None  # a variant that was built has its book's folder
    print(f"The book '{variant.title}' is at {result.html / 'index.html'}")
    return 0


def check_data(folder: Path | None) -> int:
    """``hatbook check-data [DIR]``: the checks of ``python -m analysis.data.published --check`` and
    ``python -m analysis.data.cohort --check``, with their messages and exit statuses."""
    from analysis.data import cohort
    from analysis.data import published as data

    if folder is None:
        return data.main(["--check"]) or cohort.main(["--check"])
    if (folder / "datapackage.json").is_file() and (folder / "synthetic").is_dir():  # a whole data folder
        return data.main(["--check", "--data", str(folder)]) or cohort.main(
            ["--check", "--data", str(folder / "synthetic")]
        )
    return cohort.main(["--check", "--data", str(folder)])


def _interrupted(message: str) -> int:
    """Say ``message`` and give the exit status of an interrupted run. Nothing more is printed while Python ends:
    a kernel's client stopped mid-page may fail, in its exit callback, to shut down a kernel that is already
    gone, and its traceback is no news to a reader who pressed Ctrl-C."""
    print(message, file=sys.stderr)
    sys.unraisablehook = lambda unraisable: None
    return INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "rerun":
        try:
            return rerun(args)
        except KeyboardInterrupt:  # before or after the run (imports, the overview): nothing to clean
            return _interrupted("hatbook: interrupted")
    if args.command == "audit":
        from hatbook import disclosure_audit

        return disclosure_audit.main(args.paths)
    if args.command == "pdf":
        from hatbook import pdf

        return pdf.run(args)
    if args.command == "student":
        from hatbook import student

        return student.run(args)
    if args.command == "check-data":
        return check_data(args.folder)
    return _error(f"unknown command {args.command}", 2)


if __name__ == "__main__":
    sys.exit(main())
