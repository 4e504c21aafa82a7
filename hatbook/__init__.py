"""Build tooling of the executable edition: reruns per clinic and per year (:mod:`hatbook.rerun`) and the
``hatbook`` command (:mod:`hatbook.cli`).

The analysis itself lives in :mod:`analysis`; this package only runs the book's pages and builds books.
"""

import shutil
import sys
from pathlib import Path


def jupyter_book_command() -> str:
    """The ``jupyter-book`` executable of this Python environment (else the one on PATH)."""
    candidate = Path(sys.executable).with_name("jupyter-book")
    return str(candidate) if candidate.exists() else (shutil.which("jupyter-book") or "jupyter-book")


def install(built: Path, target: Path, *, copy: bool = False) -> None:
    """Put the built HTML folder ``built`` at ``target``, replacing the previous one only once the new one is
    in place (``copy=True`` copies ``built`` rather than moving it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(target.name + ".incoming")
    previous = target.with_name(target.name + ".previous")
    for leftover in (incoming, previous):
        shutil.rmtree(leftover, ignore_errors=True)
    if copy:
        shutil.copytree(built, incoming)
    else:
        shutil.move(str(built), str(incoming))
    if target.exists():
        target.rename(previous)
    incoming.rename(target)
    shutil.rmtree(previous, ignore_errors=True)
