"""Shared fixtures. The whole-book fixture builds the HTML book once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BookBuild:
    returncode: int
    log: str
    html: Path


def _validated_once(load_cohort):
    """``load_cohort`` that reads and validates each state of a data folder once per test session and gives
    every caller its own deep copy (as the rerun kernels do: hatbook/rerun.py). A folder's state is its
    path and the name, size and modification time of each file, so a test that writes other data, even
    into the same folder, has them read and validated afresh; invalid data raise every time."""
    import copy
    import functools

    kept: dict = {}

    @functools.wraps(load_cohort)
    def cached(cohort_dir=None):
        import analysis.cohort as cohort_module

        folder = Path(cohort_dir) if cohort_dir is not None else cohort_module.DEFAULT_COHORT_DIR
        try:
            key = (str(folder.resolve()), tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                                                       for p in folder.rglob("*") if p.is_file())))
        except OSError:
            return load_cohort(cohort_dir)
        if key not in kept:
            kept[key] = load_cohort(cohort_dir)
        return copy.deepcopy(kept[key])

    cached.uncached = load_cohort
    return cached


# Validating the bundled cohort takes about a second, and hundreds of unit tests compute from it: before
# any test module or analysis module imports the function by name, it is replaced by one that validates
# each state of a folder once (the tests of validation write data of their own, which are validated).
import analysis.cohort as _cohort_module  # noqa: E402

_cohort_module.load_cohort = _validated_once(_cohort_module.load_cohort)


#: Fixtures that build the whole book: a test that uses one is slow (make check leaves it out).
BOOK_FIXTURES = {"book_build", "built_html"}


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs the built book as ``slow``, wherever it is."""
    for item in items:
        if BOOK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def book_build(tmp_path_factory) -> BookBuild:
    """Build the book from the sources, as `make book` does, into a temporary folder.

    Set HATBOOK_TEST_BUILD_DIR to reuse a folder between runs (its notebook cache makes reruns fast).
    """
    out = Path(os.environ.get("HATBOOK_TEST_BUILD_DIR") or tmp_path_factory.mktemp("book"))
    # as `make book` builds it: pages executed first on every core, Sphinx in parallel (hatbook/book.py)
    command = [sys.executable, "-m", "hatbook.book", str(ROOT), "--path-output", str(out), "-n", "-W", "--keep-going"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return BookBuild(done.returncode, done.stdout + done.stderr, out / "_build" / "html")


@pytest.fixture(scope="session")
def built_html(book_build: BookBuild) -> Path:
    """The built HTML folder; fails the requesting test if the build failed."""
    if book_build.returncode != 0:
        pytest.fail(f"the book did not build (exit {book_build.returncode}):\n{book_build.log[-4000:]}")
    return book_build.html
