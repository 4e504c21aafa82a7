"""Shared fixtures. The whole-book fixture builds the HTML book once per test session."""

from __future__ import annotations

import os
import signal
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


#: Seconds each test took in the last runs (one file per part of a split run, test id -> seconds), by which
#: the test files are split between parts (see ``--part``).
TIMES_DIR = ROOT / "_build" / "test-times"
#: The same, from a full run (make test) on the project's 2-core machine: the weights of a fresh checkout.
#: Refreshed by merging the files of TIMES_DIR after a full run.
COMMITTED_TIMES = ROOT / "tests" / "durations.json"


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
    """Test id -> seconds: the committed times, updated by those of the last runs on this machine."""
    import json

    times: dict[str, float] = {}
    local = sorted(TIMES_DIR.glob("*.json")) if TIMES_DIR.is_dir() else []
    for path in [COMMITTED_TIMES, *local]:
        try:
            read = json.loads(path.read_text(encoding="utf-8"))
            times.update({k: float(v) for k, v in read.items() if "::" in k})  # (older files: by file)
        except (OSError, ValueError, AttributeError):
            continue
    return times


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs the built book as ``slow``, wherever it is (before ``-m`` selects)."""
    for item in items:
        if BOOK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


class Background:
    """The commands that some slow tests need the result of, started in the background as soon as the tests are
    collected (:func:`pytest_collection_finish`), each only when a selected test needs it: while the many tests
    that use one core run, they have the other. A generation of the synthetic cohort (``python -m synthetic``,
    about 105 CPU seconds, for ``tests/test_synthetic.py``), the book's build (for every test of the built
    book) and the grid of twelve variants (``tests/test_editions.py``). A fixture waits for its command
    (:meth:`wait`); what still runs when pytest ends is stopped, and the folder removed.

    With ``HATBOOK_TEST_SHARED`` set to a folder (``make test`` sets it for its two pytest processes), the
    commands are shared: the first process that needs one starts it there, the other waits for its exit
    status in the same folder, and a process that ends lets its commands finish (the other may still need
    them) unless it was interrupted; whoever set the folder removes it.
    """

    def __init__(self) -> None:
        import tempfile

        shared = os.environ.get("HATBOOK_TEST_SHARED")
        self.shared = bool(shared)
        self.root = Path(shared) if shared else Path(tempfile.mkdtemp(prefix="hatbook-tests-"))
        self.runs: dict[str, subprocess.Popen] = {}
        self.book_html = self.root / "book-build" / "_build" / "html"  # where the book's build writes

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        folder = self.root / name
        try:
            folder.mkdir(parents=True)
        except FileExistsError:  # another process of a shared run started it
            return
        # the exit status is written to a file, so that another process can wait for it too
        script = 'out=$1; shift; "$@" > "$out/output.log" 2>&1; echo $? > "$out/status.tmp"; mv "$out/status.tmp" "$out/status"'
        self.runs[name] = subprocess.Popen(
            ["sh", "-c", script, "sh", str(folder), *command],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        # for a process that waits for it: a command whose runner is gone without a status was killed
        (folder / "pid").write_text(f"{self.runs[name].pid}\n")

    def wait(self, name: str) -> tuple[int, str]:
        """The exit status and output of the command ``name``, once it has ended."""
        import time

        folder = self.root / name
        if name in self.runs:
            self.runs[name].wait()
        while not (folder / "status").exists():  # started by the other process of a shared run
            if not _alive(folder / "pid") and not (folder / "status").exists():
                (folder / "status").write_text("-9\n")  # killed outright (SIGKILL): it will write nothing
                break
            time.sleep(0.5)
        returncode = int((folder / "status").read_text().strip() or 1)
        log = folder / "output.log"
        return returncode, log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""

    def stop(self, interrupted: bool = False) -> None:
        import shutil

        for run in self.runs.values():
            if run.poll() is None and self.shared and not interrupted:
                run.wait()  # the other process may need it
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        for name in self.runs:  # a process waiting for a stopped command reads that it was stopped
            status = self.root / name / "status"
            if not status.exists():
                status.write_text("-9\n")
        if not self.shared:
            shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid_file: Path) -> bool:
    """Whether the process named in ``pid_file`` still runs (True while the file is not yet written)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


_BACKGROUND = pytest.StashKey[Background]()
#: The generations of the cohort: the first starts when the tests are collected, the second only when the
#: determinism test needs it (tests/test_synthetic.py).
GENERATIONS = ("regenerated", "again")


def _background(config) -> Background:
    if _BACKGROUND not in config.stash:
        config.stash[_BACKGROUND] = Background()
    return config.stash[_BACKGROUND]


def _start_generation(background: Background, name: str) -> None:
    background.start(name, [sys.executable, "-m", "synthetic", "--out", str(background.root / f"{name}-cohort")])


def _start_book(background: Background) -> None:
    out = Path(os.environ.get("HATBOOK_TEST_BUILD_DIR") or background.root / "book-build")
    # as `make book` builds it: pages executed first on every core, then Sphinx (hatbook/book.py)
    command = [sys.executable, "-m", "hatbook.book", str(ROOT), "--path-output", str(out), "-n", "-W", "--keep-going"]
    background.start("book", command)
    background.book_html = out / "_build" / "html"


@dataclass
class GridBuild:
    returncode: int
    log: str
    folder: Path


#: The grids the tests build in the background: name -> threshold (None: the default).
GRIDS = {"grid": None, "grid-threshold-10": 10}


def _grid_folder(background: Background, name: str = "grid") -> Path:
    return background.root / f"{name}-reruns"


def _start_grid(background: Background, name: str = "grid") -> None:
    # the twelve variants as `hatbook rerun --grid` builds them (at the grid's threshold), into a folder of their own
    threshold = GRIDS[name]
    command = [sys.executable, "-m", "hatbook.cli", "rerun", "--grid", "--workers", "2"]
    command += ["--threshold", str(threshold)] if threshold is not None else []
    background.start(name, command, env={"HATBOOK_RERUNS_DIR": str(_grid_folder(background, name))})


def _grid(request, name: str) -> GridBuild:
    background = _background(request.config)
    if name not in background.runs:
        _start_grid(background, name)
    returncode, log = background.wait(name)
    return GridBuild(returncode, log, _grid_folder(background, name))


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    needed = set().union(*(getattr(item, "fixturenames", ()) for item in session.items)) if session.items else set()
    if "generation" in needed:
        _start_generation(_background(session.config), GENERATIONS[0])
    if BOOK_FIXTURES & needed:
        _start_book(_background(session.config))
    if "grid_build" in needed:
        _start_grid(_background(session.config))
    if "grid_build_at_10" in needed:
        _start_grid(_background(session.config), "grid-threshold-10")


def pytest_sessionfinish(session, exitstatus):
    session.config.stash[_INTERRUPTED] = exitstatus == pytest.ExitCode.INTERRUPTED


_INTERRUPTED = pytest.StashKey[bool]()


def pytest_unconfigure(config):
    if _BACKGROUND in config.stash:
        config.stash[_BACKGROUND].stop(interrupted=config.stash.get(_INTERRUPTED, True))


def _generated(background: Background, name: str) -> Path:
    if name not in background.runs:
        _start_generation(background, name)
    returncode, output = background.wait(name)
    if returncode != 0:
        pytest.fail(f"python -m synthetic exited {returncode}:\n{output[-3000:]}")
    return background.root / f"{name}-cohort"


@pytest.fixture(scope="session")
def generation(request) -> Path:
    """A generation of the cohort into a folder of its own, started when the tests were collected."""
    return _generated(_background(request.config), GENERATIONS[0])


@pytest.fixture(scope="session")
def generate_again(request):
    """A function that makes a second generation of the cohort, into a folder of its own, and returns it."""
    return lambda: _generated(_background(request.config), GENERATIONS[1])


class _Part:
    """``--part K/N``: after ``-m`` has selected the tests, keep those of the K-th part of their files, and
    time each test (see :data:`TIMES_DIR`)."""

    def __init__(self, part: tuple[int, int]):
        self.part = part
        self.times: dict[str, float] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        last = _last_times()
        # a file weighs the last seconds of its selected tests; a test not timed yet, the median of the others
        timed = sorted(last[item.nodeid] for item in items if item.nodeid in last)
        per_test = timed[len(timed) // 2] if timed else 1.0
        weights: dict[str, float] = {}
        for item in items:
            name = item.nodeid.split("::")[0]
            weights[name] = weights.get(name, 0.0) + last.get(item.nodeid, per_test)
        mine = set(split_files(weights, self.part[1])[self.part[0] - 1])
        config.hook.pytest_deselected(items=[item for item in items if item.nodeid.split("::")[0] not in mine])
        items[:] = [item for item in items if item.nodeid.split("::")[0] in mine]

    def pytest_runtest_logreport(self, report):
        self.times[report.nodeid] = self.times.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self, session, exitstatus):
        import json

        if not self.times:
            return
        try:
            TIMES_DIR.mkdir(parents=True, exist_ok=True)
            target = TIMES_DIR / f"part-{self.part[0]}-of-{self.part[1]}.json"
            try:  # the tests of the other tier (or of another split) keep their times
                kept = {k: v for k, v in json.loads(target.read_text(encoding="utf-8")).items() if "::" in k}
            except (OSError, ValueError, AttributeError):
                kept = {}
            kept.update({k: round(v, 2) for k, v in self.times.items()})
            temporary = target.with_name(f"{target.name}.{os.getpid()}")
            temporary.write_text(json.dumps(dict(sorted(kept.items())), indent=1), encoding="utf-8")
            temporary.replace(target)
        except OSError:
            pass


def pytest_configure(config):
    # a pytest that a shell without job control starts in the background (make test's first part) inherits
    # SIGINT ignored, and every process it starts would too: Ctrl-C, and the tests that send it, need it heard
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    part = _part(config)
    if part is not None:
        config.pluginmanager.register(_Part(part), "hatbook-part")


@pytest.fixture(scope="module")
def reruns_folder(request, tmp_path_factory) -> Path:
    """The folder of :func:`reruns_dir`: a new one of the module's own (a module may give another)."""
    return tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2].removeprefix("test_"))


@pytest.fixture(scope="module")
def reruns_dir(reruns_folder):
    """A folder of the module's own where ``hatbook rerun`` writes its variants (``HATBOOK_RERUNS_DIR``) while
    the module's tests run, so that they never touch ``_build/reruns``."""
    folder = reruns_folder
    previous = os.environ.get("HATBOOK_RERUNS_DIR")
    os.environ["HATBOOK_RERUNS_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("HATBOOK_RERUNS_DIR", None)
    else:
        os.environ["HATBOOK_RERUNS_DIR"] = previous


@pytest.fixture(scope="session")
def book_build(request) -> BookBuild:
    """The book built from the sources, as `make book` builds it, into a temporary folder: started when the
    tests were collected (:class:`Background`).

    Set HATBOOK_TEST_BUILD_DIR to reuse a folder between runs (its notebook cache makes reruns fast).
    """
    background = _background(request.config)
    if "book" not in background.runs:
        _start_book(background)
    returncode, log = background.wait("book")
    return BookBuild(returncode, log, background.book_html)


@pytest.fixture(scope="session")
def grid_build(request) -> GridBuild:
    """The whole grid (3 clinic choices x 4 data ends) built by ``hatbook rerun --grid --workers 2`` into a
    folder of its own: started when the tests were collected (:class:`Background`), beside everything else."""
    return _grid(request, "grid")


@pytest.fixture(scope="session")
def grid_build_at_10(request) -> GridBuild:
    """The whole grid at threshold 10 (``hatbook rerun --grid --threshold 10 --workers 2``), into a folder of its
    own, started when the tests were collected."""
    return _grid(request, "grid-threshold-10")


@pytest.fixture(scope="session")
def built_html(book_build: BookBuild) -> Path:
    """The built HTML folder; fails the requesting test if the build failed."""
    if book_build.returncode != 0:
        pytest.fail(f"the book did not build (exit {book_build.returncode}):\n{book_build.log[-4000:]}")
    return book_build.html
