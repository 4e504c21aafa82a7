"""Build a book as ``jupyter-book build`` does, using every core of the machine.

    python -m hatbook.book SOURCE --path-output DIR [--jobs N] [--sphinx-jobs N] [jupyter-book build options: -n -W --keep-going ...]

1. **Pages executed first, in parallel.** When the book executes its pages through the execution cache
   (``execute_notebooks: cache``), the pages whose current code the cache does not hold are
   executed before the build, in one kernel per core (:class:`hatbook.rerun.PagePool`: the libraries
   are imported once per kernel and its state is reset between pages; the longest pages first, by their
   last times), and stored in the cache (jupyter-cache) as myst-nb would store them. The build then
   finds every page executed. A page that fails here is simply not stored: the build executes it again
   and reports the error as it always does.
2. **Sphinx on several cores** (``--sphinx-jobs``, default 1). Sphinx can read and write the pages in
   several processes (its ``-j``, which the ``jupyter-book`` command does not offer; see
   ``book/_ext/parallel_build.py``). On this 2-core machine, shared with other work, two processes made
   the build slower (each process imports the chart code and starts its own chart renderer), so one is
   the default; on an idle machine with more cores it may pay.

Everything else (configuration, warnings, exit status, output folders) is ``jupyter-book build``'s own.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
import time
from pathlib import Path

import yaml


def _jobs(text: str) -> int:
    return (os.cpu_count() or 1) if text == "auto" else max(1, int(text))


def notebook_pages(source: Path) -> list[Path]:
    """The MyST pages of the book (``SOURCE/book/*.md``) that myst-nb reads as notebooks (those with a
    kernel in their front matter, with or without code cells)."""
    return [
        page for page in sorted((source / "book").glob("*.md")) if "kernelspec:" in page.read_text(encoding="utf-8")
    ]


def read_page(page: Path):
    """The notebook myst-nb reads from a MyST page (the same cells and metadata, hence the same key in
    the execution cache)."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    text = page.read_text(encoding="utf-8")
    reader = create_nb_reader(str(page), MdParserConfig(), NbParserConfig(), text)
    return reader.read(text) if reader is not None else None


def execution_cache(source: Path, output: Path) -> Path | None:
    """The execution cache the build of ``source`` into ``output`` uses, or None when the book does not
    execute through the cache."""
    config = yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8")) or {}
    execute = config.get("execute") or {}
    if execute.get("execute_notebooks", "auto") != "cache":
        return None
    return Path(execute["cache"]) if execute.get("cache") else output / "_build" / ".jupyter_cache"


def execute_into_cache(source: Path, cache_path: Path, *, jobs: int, log=print) -> dict[str, float]:
    """Execute the pages of ``source`` that the cache at ``cache_path`` does not hold, ``jobs`` at a time,
    and store them in it; return the seconds of each page executed (a failed page is left to the build)."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from hatbook.rerun import Kernel, PageFailed, PagePool, _error_text

    cache = get_cache(str(cache_path))
    # the pages' last times: kept beside the cache (they outlive it when it is cleared), then the cache's
    times_file = Path(cache_path).parent / "page-seconds.json"
    try:
        previous = {k: float(v) for k, v in json.loads(times_file.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        previous = {}
    for record in sorted(cache.list_cache_records(), key=lambda r: r.created):
        recorded = (record.data or {}).get("execution_seconds")
        if recorded is not None:
            previous[Path(record.uri).stem] = float(recorded)
    missing = {}
    for page in notebook_pages(source):
        notebook = read_page(page)
        if notebook is None:
            continue
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            if any(cell.cell_type == "code" for cell in notebook.cells):
                missing[page] = notebook
            else:  # nothing to execute (myst-nb would start a kernel for it all the same)
                cache.cache_notebook_bundle(
                    CacheBundleIn(notebook, str(page), data={"execution_seconds": 0.0}),
                    check_validity=False,
                    overwrite=True,
                )
    if not missing:
        return {}
    # the longest pages first, so that the kernels end at about the same time (a page never timed: by
    # the length of its code, a second per 2,000 characters)
    order = sorted(missing, key=lambda page: -previous.get(page.stem, code_length(missing[page]) / 2000))
    log(f"executing {len(order)} pages in {min(jobs, len(order))} kernels before the build")

    def run(page: Path, notebook, kernel: Kernel):
        from nbclient.exceptions import CellExecutionError

        started = time.perf_counter()
        try:
            kernel.execute(notebook, page.parent)
        except CellExecutionError as error:
            raise PageFailed(f"page {page.stem} failed: {_error_text(error)}") from error
        except Exception as error:
            raise PageFailed(f"page {page.stem} failed: {_error_text(error)}") from error
        return notebook, time.perf_counter() - started

    seconds: dict[str, float] = {}
    pool = PagePool(jobs, source / "book", execute=run)
    for page, outcome in pool.run([(page, missing[page]) for page in order]):
        if isinstance(outcome, PageFailed):
            log(f"{page.stem}: failed before the build (the build executes it again and reports it)")
            continue
        notebook, took = outcome
        cache.cache_notebook_bundle(
            CacheBundleIn(notebook, str(page), data={"execution_seconds": took}), check_validity=False, overwrite=True
        )
        seconds[page.stem] = round(took, 1)
        log(f"{page.stem}: executed in {took:.1f} s")
    try:
        times_file.write_text(json.dumps({**previous, **seconds}, indent=1, sort_keys=True), encoding="utf-8")
    except OSError:
        pass
    return seconds


def code_length(notebook) -> int:
    """Characters of code in ``notebook``."""
    return sum(len(cell.source) for cell in notebook.cells if cell.cell_type == "code")


#: Where a build's time goes, by the first line of its log that starts each phase: start-up (imports,
#: configuration, bibliography) until Sphinx reads, reading the pages, writing them (static files copied
#: first), then the indices, the search index and what extensions do when the build has finished.
PHASES = (
    ("execute", "executing "),
    ("start", "Running Jupyter-Book"),
    ("read", "reading sources"),
    ("write", "pickling environment"),
    ("finish", "generating indices"),
)


def run_timed(command: list[str], log_path: Path, *, cwd: Path | None = None) -> tuple[int, dict[str, float]]:
    """Run ``command`` (a build through this module) with its output written to ``log_path``; return its
    exit status and the seconds of each of its :data:`PHASES` that it went through. The command runs in a
    session of its own and is killed with its children when the caller is interrupted."""
    import signal
    import subprocess

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    marks: list[tuple[str, float]] = [("launch", started)]
    with open(log_path, "w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        assert process.stdout is not None  # stdout=PIPE
        try:
            for line in process.stdout:
                log_file.write(line)
                seen = {name for name, _ in marks}
                plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
                for name, opening in PHASES:
                    if name not in seen and plain.startswith(opening):
                        marks.append((name, time.perf_counter()))
            returncode = process.wait()
        except BaseException:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
            raise
    marks.append(("end", time.perf_counter()))
    seconds: dict[str, float] = {}
    for (name, at), (_, until) in zip(marks, marks[1:]):
        seconds["start" if name == "launch" else name] = round(seconds.get(name, 0.0) + until - at, 1)
    return returncode, seconds


def jupyter_book_build(arguments: list[str], *, jobs: int) -> int:
    """Run ``jupyter-book build ARGUMENTS`` in this process with Sphinx's ``parallel`` set to ``jobs``;
    return its exit status."""
    import jupyter_book.sphinx
    from jupyter_book.cli.main import main as command

    from hatbook import sphinx_speedups

    sphinx_speedups.install()  # work done once per build instead of once per page (output unchanged)
    if jobs > 1:
        jupyter_book.sphinx.build_sphinx = functools.partial(jupyter_book.sphinx.build_sphinx, jobs=jobs)
    try:
        command.main(args=["build", *arguments], prog_name="jupyter-book")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hatbook.book", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--path-output", type=Path, default=None)
    parser.add_argument(
        "--jobs",
        type=_jobs,
        default=_jobs("auto"),
        help="kernels executing the pages before the build (default: one per core, 'auto')",
    )
    parser.add_argument(
        "--sphinx-jobs",
        type=_jobs,
        default=1,
        help="Sphinx processes reading and writing the pages (default 1: on this shared 2-core "
        "machine two were slower, see benchmarks/build_times.json)",
    )
    parser.add_argument(
        "--execute-first",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="execute the pages the cache lacks before the build (default: yes)",
    )
    args, rest = parser.parse_known_args(argv)
    source = args.source.resolve()
    output = (args.path_output or source).resolve()
    started = time.perf_counter()
    cache = execution_cache(source, output)
    if args.execute_first and cache is not None:
        execute_into_cache(source, cache, jobs=args.jobs)
        print(f"pages executed in {time.perf_counter() - started:.1f} s", flush=True)
    arguments = [str(source), "--path-output", str(output), *rest]
    return jupyter_book_build(arguments, jobs=args.sphinx_jobs)


if __name__ == "__main__":
    sys.exit(main())
