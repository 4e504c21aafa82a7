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
        import analysis.data.cohort as cohort_module

        folder = Path(cohort_dir) if cohort_dir is not None else cohort_module.DEFAULT_COHORT_DIR
        try:
            key = (
                str(folder.resolve()),
                tuple(
                    sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file())
                ),
            )
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
import analysis.data.cohort as _cohort_module  # noqa: E402

_cohort_module.load_cohort = _validated_once(_cohort_module.load_cohort)


#: Fixtures that build the whole book: a test that uses one is slow (make check leaves it out).
BOOK_FIXTURES = {"book_build", "built_html"}


#: Seconds each test file took in the last runs (one file per part of a split run), by which the files
#: are split between parts (see ``--part``).
TIMES_DIR = ROOT / "_build" / "test-times"


def pytest_addoption(parser):
    parser.addoption(
        "--part",
        default=None,
        metavar="K/N",
        help="run the K-th of N parts of the selected tests, split by file so that the parts take "
        "about as long as each other by the files' last times (make check runs 2 at once)",
    )


def _part(config) -> tuple[int, int] | None:
    value = config.getoption("--part")
    if not value:
        return None
    k, _, n = value.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise pytest.UsageError(f"--part takes K/N with 1 <= K <= N (got {value!r})")
    return int(k), int(n)


def split_files(weights: dict[str, float], parts: int) -> list[list[str]]:
    """The files of ``weights`` (file -> seconds) in ``parts`` parts of about equal total, the longest file
    first into the lightest part (the same split wherever it is computed from the same weights)."""
    bins: list[list[str]] = [[] for _ in range(parts)]
    totals = [0.0] * parts
    for name in sorted(weights, key=lambda f: (-weights[f], f)):
        lightest = totals.index(min(totals))
        bins[lightest].append(name)
        totals[lightest] += weights[name]
    return bins


def _last_times() -> dict[str, float]:
    import json

    times: dict[str, float] = {}
    for path in sorted(TIMES_DIR.glob("*.json")) if TIMES_DIR.is_dir() else []:
        try:
            times.update({k: float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()})
        except (OSError, ValueError, AttributeError):
            continue
    return times


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs the built book as ``slow``, wherever it is (before ``-m`` selects)."""
    for item in items:
        if BOOK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


class Generations:
    """Two generations of the synthetic cohort (``python -m synthetic``), each into a folder of its own, for the
    determinism tests of ``tests/test_synthetic.py``. They take about 200 CPU seconds each, so they are started in
    the background as soon as the tests are collected (:func:`pytest_collection_finish`), where the many tests
    that use one core leave the other free, and the tests wait for them (:meth:`folders`)."""

    def __init__(self) -> None:
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="hatbook-generations-"))
        self.outs = [self.root / name / "synthetic" for name in ("regenerated", "again")]
        self.runs = []
        for out in self.outs:
            out.parent.mkdir()
            with open(out.parent / "stdout.log", "wb") as stdout, open(out.parent / "stderr.log", "wb") as stderr:
                command = [sys.executable, "-m", "synthetic", "--out", str(out)]
                self.runs.append(subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=stderr))

    def folders(self) -> tuple[Path, Path]:
        """The two folders, once both generations have ended; fails the test if one failed."""
        for run, out in zip(self.runs, self.outs):
            if run.wait() != 0:
                log = (out.parent / "stderr.log").read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"python -m synthetic exited {run.returncode}:\n{log[-3000:]}")
        return self.outs[0], self.outs[1]

    def stop(self) -> None:
        import shutil

        for run in self.runs:
            if run.poll() is None:
                run.kill()
                run.wait()
        shutil.rmtree(self.root, ignore_errors=True)


_GENERATIONS = pytest.StashKey[Generations]()


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    if any("generations" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[_GENERATIONS] = Generations()


def pytest_unconfigure(config):
    if _GENERATIONS in config.stash:
        config.stash[_GENERATIONS].stop()


@pytest.fixture(scope="session")
def generations(request) -> tuple[Path, Path]:
    """The two generations of the cohort (see :class:`Generations`), started when the tests were collected."""
    if _GENERATIONS not in request.config.stash:
        request.config.stash[_GENERATIONS] = Generations()
    return request.config.stash[_GENERATIONS].folders()


class _Part:
    """``--part K/N``: after ``-m`` has selected the tests, keep those of the K-th part of their files, and
    time each file (see :data:`TIMES_DIR`)."""

    def __init__(self, part: tuple[int, int]):
        self.part = part
        self.times: dict[str, float] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        counts: dict[str, int] = {}
        for item in items:
            name = item.nodeid.split("::")[0]
            counts[name] = counts.get(name, 0) + 1
        last = _last_times()
        # a file not timed yet weighs its number of tests at the median seconds per test of the timed ones
        timed = sorted(last[f] / n for f, n in counts.items() if f in last)
        per_test = timed[len(timed) // 2] if timed else 1.0
        weights = {f: last.get(f, per_test * n) for f, n in counts.items()}
        mine = set(split_files(weights, self.part[1])[self.part[0] - 1])
        config.hook.pytest_deselected(items=[item for item in items if item.nodeid.split("::")[0] not in mine])
        items[:] = [item for item in items if item.nodeid.split("::")[0] in mine]

    def pytest_runtest_logreport(self, report):
        name = report.nodeid.split("::")[0]
        self.times[name] = self.times.get(name, 0.0) + report.duration

    def pytest_sessionfinish(self, session, exitstatus):
        import json

        if not self.times:
            return
        try:
            TIMES_DIR.mkdir(parents=True, exist_ok=True)
            target = TIMES_DIR / f"part-{self.part[0]}-of-{self.part[1]}.json"
            temporary = target.with_name(f"{target.name}.{os.getpid()}")
            temporary.write_text(
                json.dumps({k: round(v, 2) for k, v in sorted(self.times.items())}, indent=1), encoding="utf-8"
            )
            temporary.replace(target)
        except OSError:
            pass


def pytest_configure(config):
    part = _part(config)
    if part is not None:
        config.pluginmanager.register(_Part(part), "hatbook-part")


@pytest.fixture(scope="module")
def reruns_dir(request, tmp_path_factory):
    """A folder of the module's own where ``hatbook rerun`` writes its variants (``HATBOOK_RERUNS_DIR``) while
    the module's tests run, so that they never touch ``_build/reruns``."""
    folder = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2].removeprefix("test_"))
    previous = os.environ.get("HATBOOK_RERUNS_DIR")
    os.environ["HATBOOK_RERUNS_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("HATBOOK_RERUNS_DIR", None)
    else:
        os.environ["HATBOOK_RERUNS_DIR"] = previous


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
