"""The student edition: the HTML book without the solutions of its exercises.

    python -m hatbook.student [--strict] [--output _build/student] [--execution-cache DIR]

(``make student``, ``hatbook student``) builds the book from the same sources as the published edition,
with the Sphinx extension ``book/_ext/student_edition.py`` loaded and ``hatbook_student_edition`` set,
into ``<output>/html``:

* every solution is removed from the pages (a transform drops the solution nodes after sphinx-exercise
  has gathered each gated solution, with its code cells and their outputs, into one node), so neither
  the solution's text nor its code nor its output reaches the HTML or the search index;
* the page sources the HTML offers for download (``_sources/``) and the notebooks of
  :mod:`hatbook.notebooks` (``_notebooks/``) are written without the solutions
  (:func:`hatbook.exercises.strip_solutions`).

sphinx-exercise's own ``hide_solutions`` option is not used: it drops the ``{solution}`` and
``{solution-start}`` directives only, which would leave a gated solution's prose and code cells (with
their output) on the page; and the ``{solution-end}`` it leaves behind stops the HTML writer ("unknown
node type: solution_end_node").

The pages are not changed, so their code is the code the published edition executed: pointed at the
published edition's execution cache (``--execution-cache``; ``make student`` does so when the cache was
made from the current data and analysis code), the build executes nothing again. Without it the build
keeps a cache of its own under ``<output>/.work``, cleared when the data or the analysis code change.

The build runs in a work folder (``<output>/.work``); the HTML replaces the previous student edition
only when the build succeeded, so a failed build leaves the last good one in place. The published
edition (``_build/html``) is never touched.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from hatbook import install, jupyter_book_command

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "_build" / "student"
#: The Sphinx extension that removes the solutions (book/_ext/student_edition.py).
EXTENSION = "student_edition"
EXTENSIONS_FOLDER = Path("book") / "_ext"


class StudentEditionError(RuntimeError):
    """The student edition could not be built; the message says why."""


# --- build ----------------------------------------------------------------------------------------------


def student_config(source_dir: Path, *, execution_cache: Path | None = None) -> dict:
    """The source's ``_config.yml`` with the student edition's settings."""
    config = yaml.safe_load((source_dir / "_config.yml").read_text(encoding="utf-8")) or {}
    config["title"] = f"{config.get('title', '').strip()} (student edition, without solutions)".strip()
    sphinx = config.setdefault("sphinx", {}) or {}
    config["sphinx"] = sphinx
    # the configuration is written elsewhere, and Jupyter Book reads extension folders relative to it
    local = sphinx.get("local_extensions") or {}
    for extension, path in list(local.items()):
        local[extension] = str((source_dir / path).resolve())
    local[EXTENSION] = str((source_dir / EXTENSIONS_FOLDER).resolve())
    sphinx["local_extensions"] = local
    settings = sphinx.setdefault("config", {}) or {}
    sphinx["config"] = settings
    settings["hatbook_student_edition"] = True
    if execution_cache is not None:
        config.setdefault("execute", {})["cache"] = str(Path(execution_cache).resolve())
    return config


def build_student(
    source_dir: str | Path = ROOT,
    output_dir: str | Path = DEFAULT_OUTPUT,
    *,
    execution_cache: str | Path | None = None,
    strict: bool = False,
    log=print,
) -> Path:
    """Build the student edition of the book in ``source_dir`` into ``output_dir/html``; return that folder.

    ``execution_cache`` is another build's notebook cache to use (the published edition's, so that no
    page is executed again); ``strict`` treats Sphinx warnings as errors, as ``make book`` does. Raises
    :class:`StudentEditionError` when the build fails; the previous student edition stays in place then.
    """
    from hatbook.pdf import prepare_work

    source_dir = Path(source_dir).resolve()
    output_dir = Path(output_dir).resolve()
    work = output_dir / ".work"
    work.mkdir(parents=True, exist_ok=True)
    config = student_config(source_dir, execution_cache=Path(execution_cache) if execution_cache else None)
    config_file, digest_file, digest = prepare_work(
        work, config, "_config.student.yml", source_dir, execution_cache, log, "the student edition's"
    )

    started = time.perf_counter()
    command = [
        jupyter_book_command(),
        "build",
        str(source_dir),
        "--config",
        str(config_file),
        "--path-output",
        str(work),
        "-n",
        "--keep-going",
    ]
    if strict:
        command.append("-W")
    log("building the student edition (Jupyter Book, solutions removed)")
    shutil.rmtree(work / "_build" / "html", ignore_errors=True)  # no page of an earlier build survives
    done = subprocess.run(command, cwd=source_dir, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    (work / "build.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    built = work / "_build" / "html"
    if done.returncode != 0 or not (built / "index.html").exists():
        problems = [
            line for line in (done.stdout + done.stderr).splitlines() if re.search(r"\b(WARNING|ERROR):|Error", line)
        ]
        raise StudentEditionError(
            f"the student edition did not build (exit {done.returncode}); log: {work / 'build.log'}\n"
            + "\n".join(problems[-25:])
        )
    if execution_cache is None:
        digest_file.write_text(digest + "\n")
    target = output_dir / "html"
    install(built, target, copy=True)
    log(f"student edition built in {time.perf_counter() - started:.0f} s: {target / 'index.html'}")
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``hatbook student`` (and ``python -m hatbook.student``)."""
    parser.add_argument(
        "--source",
        default=str(ROOT),
        metavar="DIR",
        help="the book's folder, with _config.yml and _toc.yml (default: this repository)",
    )
    parser.add_argument(
        "--output",
        default=str(DEFAULT_OUTPUT),
        metavar="DIR",
        help="folder the edition is written to, as OUTPUT/html (default: _build/student)",
    )
    parser.add_argument(
        "--execution-cache",
        default=None,
        metavar="DIR",
        help="the notebook cache of another build to reuse, so no page runs again "
        "(e.g. _build/staging/_build/.jupyter_cache after make book)",
    )
    parser.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors, as make book does")


DESCRIPTION = (
    "Build the HTML book without the solutions of its exercises (their text, code and output are removed "
    "from the pages, the search index, the page sources and the notebooks offered for download), into "
    "OUTPUT/html. The published edition in _build/html is not touched; the previous student edition is "
    "replaced only when the build succeeds. Exit status: 0 built, 2 when the book's folder or the cache is "
    "not found or the build fails (the message says which)."
)


def run(args: argparse.Namespace) -> int:
    """Carry out ``hatbook student`` with parsed options; the exit status."""
    from hatbook.pdf import book_folder

    try:
        source = book_folder(args.source, StudentEditionError)
        if args.execution_cache is not None and not Path(args.execution_cache).is_dir():
            raise StudentEditionError(
                f"{Path(args.execution_cache).resolve()}: execution cache not found (--execution-cache)"
            )
        build_student(source, args.output, execution_cache=args.execution_cache, strict=args.strict)
    except StudentEditionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m hatbook.student``: the same as ``hatbook student``."""
    parser = argparse.ArgumentParser(prog="python -m hatbook.student", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
