"""Rerun the computed chapters for one clinic, for data through a given year, or on other data.

    hatbook rerun --clinic Bergen --year 2023 [--data DIR] [--threshold 5] [--pdf]
    hatbook rerun --grid [--jobs N]

A rerun never touches the published edition (``_build/html``). For one *variant* it

1. checks the parameters and validates the patient-level data (:func:`analysis.data.cohort.load_cohort`):
   bad input stops the run before any page executes (:class:`UsageError`, exit status 2);
2. copies the book's sources into a staging folder (``_build/reruns/.staging/<variant>``) and gives the
   copy the variant's title;
3. converts every computed page (a page with a cell tagged ``parameters``) from MyST to a notebook with
   jupytext, injects the parameters as Papermill does (``clinic``, ``year``, ``data_dir``, ``min_cell``:
   the disclosure threshold; the injected cell is tagged ``remove-cell``) and executes it with nbclient,
   in one kernel per worker thread that runs its pages one after another (:class:`Kernel`: the
   libraries are imported once, the page's state is reset between pages); a note saying which variant
   the page shows is put under the page's title, and the comparison with the report becomes a list of
   the page's statistics;
4. takes the pages with code but without parameters from ``_build/reruns/.shared`` (executed once for
   the current data and code, the same in every edition), or executes them and keeps them there;
5. builds the variant's book from the executed notebooks, executing nothing more;
6. stores files that editions share (MathJax, Vega, fonts) once, as hard links into
   ``_build/reruns/_static_shared``, and moves the HTML to ``_build/reruns/<variant>/html`` only when
   every page ran and the build succeeded, so a failed or interrupted run leaves the previous book of the
   variant as it was, and writes the variant's headline statistics beside it (``headline.json``), from
   which the overview page ``_build/reruns/index.html`` is made, and where its time went
   (``timings.json``: the seconds of each stage, of the build's phases and of each page, and the CPU
   seconds of the run, kernels and build included).

A grid runs the 3 clinic choices x 4 years in a pool of worker processes, reports progress, and ends
with the overview; variants that fail are listed and make the command exit non-zero, the others finish.
Ctrl-C stops every worker and kernel, removes the staging folders and leaves the books built before.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hatbook import install

ROOT = Path(__file__).resolve().parent.parent
#: Where variant books go (override with HATBOOK_RERUNS_DIR, e.g. in tests).
DEFAULT_OUTPUT = ROOT / "_build" / "reruns"
#: The marker tag of the parameters cell that a computed page carries.
PARAMETERS_TAG = "parameters"

#: Headline statistics of the overview: (column heading, ledger key, how to print it). A key that no
#: page of the variant glues is shown as "not computed"; a withheld or missing value as the page shows it.
HEADLINES = (
    ("Patients", "s6_1_patients_participated_total", "{:,.0f}"),
    ("One-year retention (%)", "s6_1_one_year_retention_percent", "{:.1f}"),
    ("Serious adverse events", "s6_5_sae_total", "{:,.0f}"),
    ("Patients with an event (%)", "s6_5_patients_with_sae_percent", "{:.0f}"),
    ("Referrals", "s6_6_referrals", "{:,.0f}"),
    ("Cost per patient-year (NOK)", "es_treatment_cost_per_patient_year", "{:,.0f}"),
    ("ICER (NOK per QALY)", "s6_7_main_icer", "{:,.0f}"),
)


class RerunError(Exception):
    """A rerun that could not be done; the message says why (shown to the user as it is)."""


class UsageError(RerunError):
    """Bad input (unknown clinic or year, invalid data, a threshold below the minimum without the flag):
    the command exits 2."""


class PageFailed(RerunError):
    """A page raised an error while it was executed for a variant."""


class Stopped(SystemExit):
    """A grid worker was told to stop (the grid was interrupted); like KeyboardInterrupt, it is not an error
    of the variant (a SystemExit, so that a worker stopped while idle ends without a traceback)."""


def output_root() -> Path:
    return Path(os.environ.get("HATBOOK_RERUNS_DIR") or DEFAULT_OUTPUT)


#: The disclosure threshold of a variant unless ``--threshold`` says otherwise.
DEFAULT_THRESHOLD = 5
#: Below this threshold disclosure control is weakened (2) or off (0, 1): only with an explicit flag.
MIN_THRESHOLD = 3


def safe_label(text: str) -> str:
    """``text`` with every character other than letters, digits, space, ``.``, ``_`` and ``-`` replaced by
    ``-``: safe in a file name, a YAML title, HTML and MyST alike."""
    return re.sub(r"[^\w .-]", "-", text, flags=re.ASCII).strip() or "data"


def myst_text(text: str) -> str:
    """``text`` as literal MyST inline text: every ASCII punctuation character backslash-escaped (CommonMark
    makes any escaped punctuation literal), so that no markup, role or raw HTML can come from it."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


@dataclass(frozen=True)
class Variant:
    """One rerun: clinic, last calendar year of data, folder of patient-level data (None: the bundled
    cohort), disclosure threshold. ``allow_low_threshold`` is the explicit consent a threshold below
    :data:`MIN_THRESHOLD` needs (it is not part of the variant's identity)."""

    clinic: str = "all"
    year: int = 2025
    data_dir: Path | None = None
    threshold: int = DEFAULT_THRESHOLD
    allow_low_threshold: bool = field(default=False, compare=False)

    @property
    def data_name(self) -> str | None:
        """The data folder's name (never its path), or None for the bundled cohort."""
        return Path(self.data_dir).name if self.data_dir is not None else None

    @property
    def name(self) -> str:
        """Folder name under ``_build/reruns``: ``bergen-2023``, ``oslo-2024-data-<folder>``, and
        ``-threshold-<n>`` for a threshold other than the default (so a weakened variant never replaces
        the protected one)."""
        base = f"{self.clinic.lower()}-{self.year}"
        if self.data_name is not None:
            base += "-data-" + "".join(c if c.isalnum() else "-" for c in self.data_name).strip("-")
        if self.threshold != DEFAULT_THRESHOLD:
            base += f"-threshold-{self.threshold}"
        return base

    @property
    def control(self) -> str:
        """ "on", "weakened" (threshold 2) or "off" (0 or 1) outside the published edition; "none" in it."""
        if self.published:
            return "none"
        if self.threshold >= MIN_THRESHOLD:
            return "on"
        return "weakened" if self.threshold == 2 else "off"

    @property
    def title(self) -> str:
        """The variant's title: "Bergen, data through 2023" ("Both clinics, ..." for ``all``), the data
        folder's name (letters, digits and ``. _ -`` only) and a weakened disclosure control."""
        who = "Both clinics" if self.clinic == "all" else self.clinic
        text = f"{who}, data through {self.year}"
        if self.data_name is not None:
            text += f", data set {safe_label(self.data_name)}"
        if self.control in ("weakened", "off"):
            text += f" (disclosure control {self.control}: threshold {self.threshold})"
        return text

    @property
    def published(self) -> bool:
        """Whether the parameters are those of the published edition (no disclosure control applies)."""
        from analysis.data.cohort import published_edition

        return published_edition(self.clinic, self.year, self.data_dir)

    def parameters(self) -> dict:
        return {
            "clinic": self.clinic,
            "year": int(self.year),
            "data_dir": str(self.data_dir) if self.data_dir is not None else None,
            "min_cell": int(self.threshold),
        }


@dataclass
class Result:
    """What one variant's run gave: where its book is, or why it failed; ``timings`` in seconds per stage
    (check, stage, execute, build, install), with the build's phases (``sphinx_start``, ``sphinx_read``,
    ``sphinx_write``, ``sphinx_finish``) and ``pages``: the seconds of each page executed."""

    variant: Variant
    ok: bool
    seconds: float
    html: Path | None = None
    error: str = ""
    headline: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


# --- checks ----------------------------------------------------------------------------------------------


def check(variant: Variant, *, data: bool = True) -> None:
    """Refuse unknown parameters, a low threshold without consent and (``data``) invalid data before
    anything runs (raises :class:`UsageError`)."""
    from analysis.data.cohort import CLINIC_CHOICES, YEAR_CHOICES

    if variant.clinic not in CLINIC_CHOICES:
        raise UsageError(f"unknown clinic {variant.clinic!r}: choose one of {', '.join(CLINIC_CHOICES)}")
    if variant.year not in YEAR_CHOICES:
        raise UsageError(f"unknown year {variant.year!r}: choose one of {', '.join(map(str, YEAR_CHOICES))}")
    if variant.threshold < 0:
        raise UsageError(f"the disclosure threshold must be 0 or more (got {variant.threshold})")
    if variant.threshold < MIN_THRESHOLD and not variant.allow_low_threshold:
        effect = "turns disclosure control off" if variant.threshold <= 1 else "weakens disclosure control"
        raise UsageError(
            f"a disclosure threshold of {variant.threshold} {effect} (small counts of "
            f"patients would be shown as they are); the smallest threshold allowed without "
            f"--allow-low-threshold is {MIN_THRESHOLD}: add that flag only for a book that stays in the "
            f"secure research store"
        )
    if data:
        check_data(variant.data_dir)


def check_data(data_dir: Path | None) -> None:
    """Validate the patient-level data in ``data_dir`` (raises :class:`UsageError` naming the problems)."""
    from analysis.data.cohort import load_cohort
    from analysis.data.published import DataError

    if data_dir is not None and not Path(data_dir).is_dir():
        raise UsageError(f"no such data folder: {Path(data_dir).name}")
    stamp = _checked_stamp(data_dir)
    if stamp is not None and stamp.exists():
        return  # these very data passed these very checks today
    try:
        load_cohort(data_dir)
    except DataError as error:
        where = Path(data_dir).name if data_dir is not None else "the bundled cohort"
        raise UsageError(f"the data in {where} cannot be used: {error}") from error
    if stamp is not None:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
        except OSError:
            pass


def _checked_stamp(data_dir: Path | None) -> Path | None:
    """The mark that data passed the checks (in :func:`build_cache`), named by the content of every file the
    checks read (the data folder, the bundled data, the analysis code) and by the day (a data end must not
    lie in the future): data or code changed in any way, or a new day, are checked again. None when the
    files cannot be read (then the data are checked)."""
    import analysis
    from analysis.data.cohort import DEFAULT_COHORT_DIR
    from analysis.data.published import DEFAULT_DATA_DIR

    folder = Path(data_dir) if data_dir is not None else Path(DEFAULT_COHORT_DIR)
    digest = hashlib.sha256(f"{time.strftime('%Y-%m-%d')}\n{folder.resolve()}\n".encode())
    try:
        for base in (folder, Path(DEFAULT_DATA_DIR), Path(analysis.__file__).parent):
            for path in sorted(base.rglob("*")):
                if path.is_file() and path.suffix != ".pyc" and "__pycache__" not in path.parts:
                    digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    except OSError:
        return None
    return build_cache() / "checked" / digest.hexdigest()[:32]


def _has_parameters(text: str) -> bool:
    for line in text.splitlines():
        if (
            line.startswith(":tags:")
            and PARAMETERS_TAG in line[len(":tags:") :].replace("[", " ").replace("]", " ").replace(",", " ").split()
        ):
            return True
    return False


def computed_pages(book_dir: Path) -> list[Path]:
    """The MyST pages with a cell tagged ``parameters``: the pages a rerun executes with its parameters."""
    return [page for page in sorted(Path(book_dir).glob("*.md")) if _has_parameters(page.read_text(encoding="utf-8"))]


def code_pages(book_dir: Path) -> list[Path]:
    """The MyST pages with code but without parameters: the same in every edition, executed once per state
    of the data and the code and shared by all variants (see :func:`shared_notebooks`)."""
    pages = []
    for page in sorted(Path(book_dir).glob("*.md")):
        text = page.read_text(encoding="utf-8")
        if "```{code-cell}" in text and not _has_parameters(text):
            pages.append(page)
    return pages


# --- staging ---------------------------------------------------------------------------------------------


def stage_sources(
    variant: Variant, staging: Path, *, source_root: Path | None = None, pages: list[str] | None = None
) -> Path:
    """Copy the book's sources into ``staging/src`` with the variant's configuration; return that folder.

    ``pages`` (page names such as ``ch06_1_enrollment_retention``) builds a book of the home page and
    those pages only: quicker, for tests and for trying a page out."""
    source_root = Path(source_root or ROOT)
    source = staging / "src"
    source.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(source_root / name, source / name)
    shutil.copytree(
        source_root / "book",
        source / "book",
        ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__", "*.ipynb"),
    )
    if pages:
        missing = [p for p in pages if not (source / "book" / f"{p}.md").exists()]
        if missing:
            raise RerunError(f"no such page: {', '.join(missing)}")
        toc = {"format": "jb-book", "root": "book/index", "chapters": [{"file": f"book/{p}"} for p in pages]}
        (source / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
        for page in (source / "book").glob("*.md"):
            if page.stem not in pages and page.stem != "index":
                page.unlink()

    config = yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8"))
    # Every page carries the book's title; with the same title in every edition, the pages that do not
    # change with the edition come out byte for byte the same, and the editions share them (see
    # share_files). The edition's own title is put into the navigation bar and the window's title by a
    # small script of the edition (the home page and every computed page also name it in their banner).
    # (The script is written into the built book after the build, so that Sphinx, not finding it, links it
    # without a checksum of its content: the link is the same in every edition.)
    config["title"] = RERUN_TITLE
    execute = config.setdefault("execute", {})
    # every page with code arrives executed (run_variant executes them before the build), so the build
    # executes nothing; "auto" would execute again every notebook with one cell without output
    execute["execute_notebooks"] = "off"
    sphinx = config.setdefault("sphinx", {})
    sphinx_config = sphinx.setdefault("config", {}) or {}
    sphinx_config["html_js_files"] = [*(sphinx_config.get("html_js_files") or []), EDITION_SCRIPT]
    # the scorecard page and scorecard.csv compare with the report only in the published edition
    sphinx_config["hatbook_compares_with_report"] = bool(variant.published)
    # chart drawings and pages kept for the next edition (book/_ext/figures.py): a chart or a page the same
    # in every edition is drawn and parsed once, not once per edition
    sphinx_config["hatbook_build_cache"] = str(build_cache())
    sphinx["config"] = sphinx_config
    local = sphinx.setdefault("local_extensions", {}) or {}
    for extension, path in list(local.items()):
        local[extension] = str((source / path).resolve())
    local["rerun_marks"] = str((source / "book" / "_ext").resolve())  # book/_ext/rerun_marks.py
    sphinx["local_extensions"] = local
    (source / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")

    if not variant.published:
        # the summaries retell the report's reading of its own figures: they keep the report's figures
        # (hatbook/summaries.py); the home page's key figures are the edition's own
        from analysis.presentation.scorecard import ledger
        from hatbook.summaries import restate_summaries

        computed = [page.stem for page in computed_pages(source / "book")]
        restate_summaries(source / "book", computed, variant.title, ledger(), keep=("index",))
    index = source / "book" / "index.md"
    if index.exists():
        index.write_text(_after_title(index.read_text(encoding="utf-8"), banner(variant, home=True)), encoding="utf-8")
    return source


#: The title every rerun's pages carry, and the script that shows the edition's own title instead.
RERUN_TITLE = "Rerun of the executable edition"
EDITION_SCRIPT = "hatbook-edition.js"


def edition_script(variant: Variant) -> str:
    """The script that names the edition in the navigation bar and the window's title (as text: the
    title is made of letters, digits and ``, . _ - :`` only, and is set with ``textContent``)."""
    title = json.dumps(f"{variant.title}: rerun of the executable edition")
    return f"""// The edition's title ({EDITION_SCRIPT}, written by hatbook/rerun.py for each rerun)
(function () {{
  var title = {title}, generic = {json.dumps(RERUN_TITLE)};
  function show() {{
    document.querySelectorAll(".logo__title").forEach(function (node) {{ node.textContent = title; }});
    document.title = document.title.split(generic).join(title);
  }}
  if (document.readyState === "loading") {{ document.addEventListener("DOMContentLoaded", show); }} else {{ show(); }}
}})();
"""


def _after_title(text: str, insert: str) -> str:
    """``text`` (a MyST page) with ``insert`` placed right after its first ``# `` heading."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "".join(lines[: i + 1]) + "\n" + insert + "\n" + "".join(lines[i + 1 :])
    return insert + "\n" + text


def banner(variant: Variant, home: bool = False) -> str:
    """The note under a page's title that says which variant the page shows and how to read it."""
    from analysis.presentation import disclosure

    title = myst_text(variant.title)
    lines = [
        f":::{{admonition}} Rerun: {title}",
        ":class: important",
        "",
        f"This {'book' if home else 'page'} was computed for **{title}**"
        + (" (the patients whose first admission was at that clinic)" if variant.clinic != "all" else "")
        + f". Admissions, events, questionnaires and referrals after 31 December {variant.year} are left out and "
        f"episodes still open then are counted as running on that day.",
    ]
    if variant.data_name is not None:
        lines += ["", f"The patient-level data come from the data folder “{myst_text(variant.data_name)}”."]
    if variant.control == "on":
        lines += [
            "",
            f"To protect patients, a count from 1 to {variant.threshold - 1} is shown as "
            f'"{disclosure.small_marker(variant.threshold)}", and a value computed from such a count (or one that '
            f'would reveal it by subtraction) is shown as "{disclosure.WITHHELD}". '
            f'"{disclosure.NOT_ENOUGH_DATA}" marks a value there are not enough data to compute. '
            "Comparisons with the report's printed figures are not made.",
        ]
    elif variant.control == "off":
        lines += [
            "",
            f"**Disclosure control is off** (threshold {variant.threshold}): counts of one patient and more are "
            "shown as they are, and so are the values computed from them. This book may identify patients: "
            "it must not leave the secure research store. Comparisons with the report's printed figures are not made.",
        ]
    elif variant.control == "weakened":
        lines += [
            "",
            f"**Disclosure control is weakened** (threshold {variant.threshold}, below the minimum of "
            f'{MIN_THRESHOLD}): only a count of 1 is shown as "{disclosure.small_marker(variant.threshold)}"; '
            "counts of 2 and more are shown as they are. This book may identify patients: it must not leave "
            "the secure research store. Comparisons with the report's printed figures are not made.",
        ]
    lines.append(":::")
    return "\n".join(lines) + "\n"


# --- executing pages --------------------------------------------------------------------------------------

#: The end-of-page heading of the comparison with the report, and what it becomes outside the published
#: edition (where the table lists the page's statistics without comparing them). LEGACY_RUBRIC: the words of
#: the earlier ``{rubric}`` a page may still end with; a variant renames it all the same.
COMPARISON_RUBRIC = "Checked against the report"
LEGACY_RUBRIC = "Computed against published"
VARIANT_RUBRIC = "Statistics computed on this page"
VARIANT_RUBRIC_TEXT = (
    "The table lists every statistic glued on this page, as computed for this edition; "
    "an edition other than the published one is not compared with the report's prints."
)
#: Seconds a single cell may run before its page fails.
CELL_TIMEOUT = 1200
#: Seconds a new kernel may take to run its first cell (imports included, on a busy machine): see
#: :meth:`Kernel.ready`.
READY_TIMEOUT = 120.0


def _error_text(error) -> str:
    """The notebook's own error, readable: exception name and message, and the lines of the page's code
    where it was raised (the last traceback frame that is a cell of the page). ``error`` has ``ename``,
    ``evalue`` and ``traceback`` (a list of blocks), as a notebook's error output has."""
    ename, evalue = getattr(error, "ename", None), getattr(error, "evalue", None)
    if not ename:
        return f"{type(error).__name__}: {error}"
    blocks = getattr(error, "traceback", None) or []
    if isinstance(blocks, str):
        blocks = [blocks]
    blocks = [re.sub(r"\x1b\[[0-9;]*m", "", block) for block in blocks]
    in_page = [block for block in blocks if "Cell In[" in block]
    where = ""
    if in_page:
        lines = [line for line in in_page[-1].splitlines() if line.strip()]
        arrow = next((i for i, line in enumerate(lines) if line.lstrip().startswith("---->")), len(lines) - 1)
        where = "\n".join([lines[0], *lines[max(1, arrow - 2) : arrow + 1]])
    return f"{ename}: {evalue}" + (f"\nin the page's code:\n{where}" if where else "")


@dataclass
class _ErrorOutput:
    ename: str
    evalue: str
    traceback: list


def _notebook_error(notebook) -> _ErrorOutput | None:
    """The first error output of an executed notebook."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return _ErrorOutput(
                    output.get("ename", ""), output.get("evalue", ""), list(output.get("traceback", []))
                )
    return None


def prepare_notebook(page: Path, variant: Variant | None):
    """The notebook of the MyST ``page``, with the variant's parameters injected (papermill's way: a cell
    tagged ``injected-parameters`` after the ``parameters`` cell); ``variant`` None: no parameters."""
    import jupytext

    notebook = jupytext.read(page)
    if variant is not None:
        from papermill.parameterize import parameterize_notebook

        for cell in notebook.cells:  # papermill reads every cell's tags and its own metadata
            cell.metadata.setdefault("tags", [])
        notebook.metadata["papermill"] = {}

        notebook = parameterize_notebook(
            notebook, variant.parameters(), report_mode=False, kernel_name="python3", language="python"
        )
    notebook.metadata.pop("papermill", None)
    return notebook


#: Run in a kernel between two pages: a page sees the kernel as a fresh one would show it (its names
#: cleared, the warning filters and working directory of the kernel's start, Altair's theme, renderer
#: and data transformer as Altair starts), while the modules already imported stay imported, which is
#: what sharing the kernel saves. Options that modules set when imported are left alone (pandas'
#: reset_option("all") would load a plotting backend); no page sets pandas or NumPy options.
#: The kernel's start is recorded before its first page; ``__CWD__`` is the folder of the next page.
#: Validating a data folder costs about a second, and every page of a variant loads the same folder: the
#: kernel validates it once and gives each page its own deep copy (keyed by the folder and the size and
#: modification time of its files; invalid data raise as before and are not kept). The modification
#: times of the analysis package are recorded too: when it changes, the reset drops it (see below).
_KERNEL_SNAPSHOT = """
def _hatbook_start():
    import copy, functools, os, sys, warnings
    from pathlib import Path

    def install():
        import analysis.data.cohort as cohort_module
        original, kept = cohort_module.load_cohort, {}

        @functools.wraps(original)
        def load_cohort(cohort_dir=None):
            folder = Path(cohort_dir) if cohort_dir is not None else cohort_module.DEFAULT_COHORT_DIR
            try:
                key = (str(folder.resolve()), tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                                                           for p in folder.iterdir() if p.is_file())))
            except OSError:
                return original(cohort_dir)
            if key not in kept:
                cohort = original(cohort_dir)
                kept.clear()
                kept[key] = cohort
            return copy.deepcopy(kept[key])

        cohort_module.load_cohort = load_cohort

    def stamp():
        import analysis
        folder = Path(analysis.__file__).parent
        return hash(tuple(sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*.py"))))

    install()
    sys._hatbook_install, sys._hatbook_stamp = install, stamp
    # what a page finds when it starts: the state after these imports, as in a fresh kernel of this runner
    sys._hatbook_start = {"filters": list(warnings.filters), "modules": set(sys.modules), "stamp": stamp()}
_hatbook_start()
del _hatbook_start
import os as _os
_os.chdir(__CWD__)
del _os
"""
_KERNEL_RESET = """
def _hatbook_reset(cwd):
    import os, sys, warnings
    start = sys._hatbook_start
    try:
        previous = os.getcwd()
    except OSError:  # the previous page's folder is gone (its variant's staging folder was removed)
        previous = cwd
    os.chdir(cwd)  # first: %reset itself needs a working directory that exists
    get_ipython().run_line_magic("reset", "-f")
    warnings.filters[:] = start["filters"]
    # the analysis package changed since the kernel imported it (edited while a grid runs): the next
    # page imports it afresh, as a fresh kernel would
    if sys._hatbook_stamp() != start["stamp"]:
        for name in list(sys.modules):
            if name == "analysis" or name.startswith("analysis."):
                del sys.modules[name]
        sys._hatbook_install()
        start["stamp"] = sys._hatbook_stamp()
    # modules of the book's own folder are imported afresh by the next page
    for name, module in list(sys.modules.items()):
        where = str(getattr(module, "__file__", "") or "")
        if name not in start["modules"] and (where.startswith(cwd) or where.startswith(previous)):
            del sys.modules[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "numpy" in sys.modules:
            sys.modules["numpy"].seterr(all="warn", under="ignore")
        if "matplotlib" in sys.modules:
            import matplotlib
            matplotlib.rcdefaults()
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
        if "altair" in sys.modules:
            alt = sys.modules["altair"]
            alt.theme.enable("default")
            alt.renderers.enable("default")
            alt.data_transformers.enable("default")
_hatbook_reset(__CWD__)  # %reset has removed the function's own name too
"""


#: analysis.presentation.charts.PNG_ENVIRONMENT (named here so that the runner need not import the chart code)
CHART_PNG_ENVIRONMENT = "HATBOOK_CHART_PNG"


class Kernel:
    """One Python kernel that executes notebooks one after another in ``cwd`` (the book's folder, as in a
    book build), its state reset between them (see ``_KERNEL_RESET``). Used from one thread; :meth:`kill`
    may be called from any thread (it stops the process, and the page being executed fails)."""

    def __init__(self, cwd: Path):
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.cwd = Path(cwd)
        self.km = AsyncKernelManager(kernel_name="python3")
        # the editions of a grid (and a rerun of one) share the patterns of the joint protection, kept by their
        # inputs (analysis.presentation.linked_suppression.CACHE_ENVIRONMENT)
        env = {**os.environ, "HATBOOK_PROTECTION_CACHE": str(build_cache() / "protection")}
        # the kernel's own log (e.g. about its transport) is not the reader's business
        run_sync(self.km.start_kernel)(cwd=str(self.cwd), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = getattr(self.km.provisioner, "pid", None)
        self.kc = None
        self.pages = 0

    def _client(self, notebook):
        from nbclient import NotebookClient

        client = NotebookClient(
            notebook,
            km=self.km,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": str(self.cwd)}},
            allow_errors=False,
            record_timing=False,
        )  # as myst-nb executes: no timing in the cells' metadata
        if self.kc is not None:
            client.kc = self.kc
        return client

    def _run_code(self, code: str) -> None:
        import nbformat

        client = self._client(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]))
        client.execute()
        self.kc = client.kc

    def ready(self, code: str = "", timeout: float | None = None) -> None:
        """Run ``code`` as the kernel's first cell, waiting :data:`READY_TIMEOUT` seconds at most (or
        ``timeout``); raises RuntimeError, the kernel killed, when its process ends first or the time runs out.
        A client can wait for ever for a kernel that died while it started (jupyter_client's ready check may
        block in a send to it), so the first cell runs in a thread of its own, left behind if need be."""
        failed: list[BaseException] = []

        def first() -> None:
            try:
                self._run_code(code)
            except BaseException as error:  # (raised here, below)
                failed.append(error)

        limit = READY_TIMEOUT if timeout is None else timeout
        thread = threading.Thread(target=first, daemon=True)
        thread.start()
        deadline = time.monotonic() + limit
        while thread.is_alive() and time.monotonic() < deadline and not self.ended():
            thread.join(0.5)
        if thread.is_alive():
            died = self.ended()
            self.kill()
            raise RuntimeError(
                "the kernel died while it started" if died else f"the kernel was not ready in {limit:.0f} s"
            )
        if failed:
            raise failed[0]

    def execute(self, notebook, cwd: Path | None = None, *, printed_charts: bool = True):
        """Execute ``notebook`` in place in the folder ``cwd`` (default: the kernel's own); raises
        nbclient's errors (CellExecutionError, DeadKernelError). ``printed_charts`` False leaves out the
        charts' PNGs, which only the PDF edition uses (:data:`analysis.presentation.charts.PNG_ENVIRONMENT`)."""
        folder = json.dumps(str(Path(cwd or self.cwd).resolve()))
        start = (_KERNEL_SNAPSHOT if self.pages == 0 else _KERNEL_RESET).replace("__CWD__", folder)
        printed = f'__import__("os").environ[{CHART_PNG_ENVIRONMENT!r}] = {"1" if printed_charts else "0"!r}\n'
        self._run_code(start + printed)
        self.pages += 1
        client = self._client(notebook)
        try:
            client.execute()
        finally:
            self.kc = client.kc
        _number_from_one(notebook)

    def ended(self) -> bool:
        """Whether the kernel's process has ended (and been reaped: a process that ended but was not waited
        for still answers a signal)."""
        process = getattr(self.km.provisioner, "process", None)
        return process is not None and process.poll() is not None

    def kill(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        try:
            if self.kc is not None:
                self.kc.stop_channels()
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # the kernel is gone already (killed): nothing to shut down
            self.kill()


def _number_from_one(notebook) -> None:
    """Number the executed cells of ``notebook`` from 1, as a kernel of its own would have (a shared
    kernel goes on counting from the pages before)."""
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.get("execution_count") is None:
            continue
        count += 1
        cell.execution_count = count
        for output in cell.get("outputs", []):
            if output.get("output_type") == "execute_result":
                output["execution_count"] = count


def finish_notebook(notebook, variant: Variant | None):
    """The executed notebook as the book shows it: the injected cell hidden, the variant's note under the
    page's title, the comparison rubric renamed outside the published edition, the data folder's path
    replaced by its name."""
    import nbformat

    if variant is None:
        return notebook
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell["metadata"]["tags"] = [*tags, "remove-cell"]
    note = nbformat.v4.new_markdown_cell(banner(variant))
    first_heading = next(
        (i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown" and c.source.lstrip().startswith("# ")),
        None,
    )
    if first_heading is not None:
        head = notebook.cells[first_heading]
        title, _, rest = head.source.lstrip().partition("\n")
        head.source = title
        extra = [nbformat.v4.new_markdown_cell(rest.strip())] if rest.strip() else []
        notebook.cells[first_heading + 1 : first_heading + 1] = [note, *extra]
    else:
        notebook.cells.insert(0, note)
    if not variant.published:
        for cell in notebook.cells:
            if cell.cell_type == "markdown" and (COMPARISON_RUBRIC in cell.source or LEGACY_RUBRIC in cell.source):
                cell.source = _variant_rubric(cell.source)
    if variant.data_dir is not None:
        notebook = _without_path(notebook, Path(variant.data_dir))
    return notebook


def _variant_rubric(source: str) -> str:
    """A markdown cell's heading ``## Checked against the report`` (or the earlier ``{rubric} Computed against
    published``), and the paragraph after it that says what the comparison is, as the heading of a variant."""
    source = source.replace(LEGACY_RUBRIC, VARIANT_RUBRIC).replace(COMPARISON_RUBRIC, VARIANT_RUBRIC)

    def explain(match: re.Match) -> str:
        paragraph = match.group(2)
        if "compare" in paragraph and "report" in paragraph:
            paragraph = VARIANT_RUBRIC_TEXT
        return match.group(1) + paragraph + match.group(3)

    opening = r"(?:```\{rubric\} " + VARIANT_RUBRIC + r"\n```|^#+ " + VARIANT_RUBRIC + r")"
    return re.sub(r"(" + opening + r"\s*?\n\s*)(\S.*?)(\n\s*\n|\s*\Z)", explain, source, count=1, flags=re.S | re.M)


def _without_path(notebook, data_dir: Path):
    """``notebook`` with the data folder's path (in the parameters, in any output) replaced by its name:
    a book names where its data come from, not where they lie."""
    import nbformat

    text = nbformat.writes(notebook)
    label = safe_label(data_dir.name)
    for path in {str(data_dir), str(data_dir.resolve())}:
        text = text.replace(json.dumps(path)[1:-1], label)
    return nbformat.reads(text, as_version=4)


def execute_page(
    page: Path, variant: Variant | None, kernel: Kernel | None = None, *, replace: bool = True, pdf: bool = True
) -> Path:
    """Convert ``page`` to a notebook, execute it with the variant's parameters (in ``kernel``, else in a
    kernel of its own) and replace the page by the executed notebook (see :func:`finish_notebook`);
    ``variant`` None executes a page without parameters as it is. ``replace`` False keeps the MyST page
    beside its notebook (the caller removes it when every page has run: a page that reads the others, as
    the course guide reads their titles, finds them all as they are, whichever have run). ``pdf`` False: no
    PDF is built from the notebook, which then goes without the charts' PNGs (a page without parameters
    keeps them: it is shared by every edition). Raises :class:`PageFailed`."""
    import nbformat
    from nbclient.exceptions import CellExecutionError

    notebook = prepare_notebook(page, variant)
    own = kernel is None
    try:
        if kernel is None:  # own
            kernel = Kernel(page.parent)
            kernel.ready()
        kernel.execute(notebook, page.parent, printed_charts=pdf or variant is None)
    except CellExecutionError as error:
        path = page.with_suffix(".ipynb")
        nbformat.write(notebook, path)
        raise PageFailed(
            f"page {page.stem} failed: {_error_text(_notebook_error(notebook) or error)}\n(executed notebook: {path})"
        ) from error
    except Exception as error:  # the kernel died, a timeout, ...: the page failed all the same
        raise PageFailed(f"page {page.stem} failed: {_error_text(error)}") from error
    finally:
        if own and kernel is not None:
            kernel.shutdown()
    path = page.with_suffix(".ipynb")
    nbformat.write(finish_notebook(notebook, variant), path)
    if replace:
        page.unlink()
    return path


def _execute_keeping_source(
    page: Path, variant: Variant | None, kernel: Kernel | None = None, *, pdf: bool = True
) -> Path:
    return execute_page(page, variant, kernel, replace=False, pdf=pdf)


class PagePool:
    """Execute pages in ``workers`` threads, each with one kernel that runs its pages one after another.

    ``run`` yields (page, notebook path or PageFailed) as pages end. On KeyboardInterrupt (or
    :class:`Stopped`) in the calling thread the kernels are killed at once and the exception goes on."""

    def __init__(self, workers: int, cwd: Path, execute=None):
        self.workers = max(1, workers)
        self.cwd = cwd
        #: what runs one page: ``execute(page, item, kernel)`` returns its result or raises PageFailed
        self.execute = execute or execute_page
        #: seconds each page took (kernel start included for the first page of a kernel)
        self.seconds: dict[str, float] = {}
        self.kernels: list[Kernel] = []
        self.lock = threading.Lock()
        self.stopping = False
        self.threads: list[threading.Thread] = []

    def _worker(self, tasks: queue.Queue, done: queue.Queue) -> None:
        kernel = _idle_kernel()
        if kernel is not None:
            with self.lock:
                self.kernels.append(kernel)
        try:
            while not self.stopping:
                try:
                    page, variant = tasks.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                try:
                    if kernel is None or kernel.pages >= 1 and not _alive(kernel):
                        kernel = self._new_kernel()
                    outcome = self.execute(page, variant, kernel)
                    self.seconds[page.stem] = round(time.perf_counter() - started, 1)
                    done.put((page, outcome))
                except PageFailed as error:
                    done.put((page, error))
                    if kernel is not None and not _alive(kernel):
                        kernel = None
                except Exception as error:  # a kernel that did not start: this page fails, the others go on
                    done.put((page, PageFailed(f"page {page.stem} failed: {_error_text(error)}")))
                    kernel = None
        finally:
            if kernel is not None and not self.stopping:
                if KEEP_KERNELS and _alive(kernel):
                    with _IDLE_LOCK:
                        _IDLE.append(kernel)
                else:
                    kernel.shutdown()

    def _new_kernel(self) -> Kernel:
        """A kernel of the pool's, ready (:meth:`Kernel.ready`); one that dies while it starts is replaced once."""
        try:
            return self._ready_kernel()
        except RuntimeError:
            if self.stopping:
                raise
            return self._ready_kernel()

    def _ready_kernel(self) -> Kernel:
        kernel = Kernel(self.cwd)
        with self.lock:
            self.kernels.append(kernel)
        kernel.ready()
        return kernel

    def run(self, pages: list[tuple[Path, Variant | None]]):
        tasks: queue.Queue = queue.Queue()
        for item in pages:
            tasks.put(item)
        done: queue.Queue = queue.Queue()
        threads = [
            threading.Thread(target=self._worker, args=(tasks, done), daemon=True)
            for _ in range(min(self.workers, len(pages)))
        ]
        self.threads = threads
        for thread in threads:
            thread.start()
        try:
            for _ in range(len(pages)):
                while True:
                    try:
                        yield done.get(timeout=0.2)
                        break
                    except queue.Empty:
                        if not any(t.is_alive() for t in threads) and done.empty():
                            return
            for thread in threads:
                thread.join()
        except BaseException:
            self.stop()
            for thread in threads:
                thread.join(timeout=5)
            raise

    def stop(self) -> None:
        """Kill every kernel at once; the pages being executed fail and no other page starts. The worker
        threads are given a few seconds to end, their kernels' clients silenced (a killed kernel is what
        the caller asked for, not news for the terminal)."""
        import logging

        self.stopping = True
        logging.getLogger("traitlets").setLevel(logging.CRITICAL + 1)
        with self.lock:
            for kernel in self.kernels:
                kernel.kill()
        for thread in self.threads:
            thread.join(timeout=5)


#: In a grid worker process, the kernels stay up from one variant to the next (the libraries imported
#: once per worker, not once per variant); elsewhere each run shuts its kernels down.
KEEP_KERNELS = False
_IDLE: list[Kernel] = []
_IDLE_LOCK = threading.Lock()


def _idle_kernel() -> Kernel | None:
    with _IDLE_LOCK:
        while _IDLE:
            kernel = _IDLE.pop()
            if _alive(kernel):
                return kernel
    return None


#: Imported in a kernel started ahead of its first page (most pages import them): the same state as a
#: kernel that has run a page before, which the reset between pages makes equal to a fresh one.
WARM_IMPORTS = "import numpy, pandas, altair, scipy.stats, analysis.data.cohort"


def warm_kernels(count: int) -> list[threading.Thread]:
    """Start kernels up to ``count`` idle ones, in the background, with :data:`WARM_IMPORTS` imported; they
    join the idle kernels that the next :class:`PagePool` takes (join the threads first: each ends within
    :data:`READY_TIMEOUT`, see :meth:`Kernel.ready`)."""
    with _IDLE_LOCK:
        missing = max(0, count - len(_IDLE))

    def start() -> None:
        kernel = None
        try:
            kernel = Kernel(ROOT / "book")
            kernel.ready(WARM_IMPORTS)
        except Exception:  # a kernel that does not start here is started (and its error reported) by the pool
            if kernel is not None:
                kernel.shutdown()
            return
        with _IDLE_LOCK:
            _IDLE.append(kernel)

    threads = [threading.Thread(target=start, daemon=True) for _ in range(missing)]
    for thread in threads:
        thread.start()
    return threads


def _shutdown_idle_kernels() -> None:
    with _IDLE_LOCK:
        kernels, _IDLE[:] = list(_IDLE), []
    for kernel in kernels:
        kernel.shutdown()


def _kill_idle_kernels() -> None:
    with _IDLE_LOCK:
        for kernel in _IDLE:
            kernel.kill()
        _IDLE.clear()


def _alive(kernel: Kernel) -> bool:
    if kernel.ended():
        return False
    if not kernel.pid:
        return True
    try:
        os.kill(kernel.pid, 0)
        return True
    except ProcessLookupError:
        return False


def glued_values(notebook: Path) -> dict[str, str]:
    """Every value a notebook glued, as the text myst-nb pastes (``repr`` of the value): key -> text."""
    import nbformat

    prefix = "application/papermill.record/"
    values = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if not name:
                continue
            data = output.get("data", {})
            text = data.get(prefix + "text/plain", data.get("text/plain"))
            if text is not None:
                values[name] = text if isinstance(text, str) else "".join(text)
    return values


def _value(text: str):
    from ast import literal_eval

    try:
        return literal_eval(text)
    except (SyntaxError, ValueError):
        return text


def headline(glued: dict[str, str]) -> dict[str, object]:
    """The overview's headline statistics from a variant's glued values (missing: None)."""
    return {key: (_value(glued[key]) if key in glued else None) for _, key, _ in HEADLINES}


# --- pages the same in every edition ----------------------------------------------------------------------

#: Bump to invalidate the shared notebooks when the way they are made changes (2: the course guide no longer
#: reads a page that had run before it as a notebook, where it found no title).
SHARED_VERSION = "2"


def inputs_digest() -> str:
    """A digest of what an executed page without parameters depends on besides its own text: the data,
    the analysis and generator code (as the Makefile's DIGEST), the Python version."""
    root = ROOT
    digest = hashlib.sha256(f"{SHARED_VERSION}\n{sys.version}\n".encode())
    for folder in ("data", "analysis", "synthetic"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix != ".pyc" and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def shared_dir() -> Path:
    return output_root() / ".shared"


def build_cache() -> Path:
    """Where the builds of all editions keep chart drawings and pages for each other (see
    book/_ext/figures.py, which holds it to a size)."""
    return output_root() / ".build-cache"


def shared_notebook(page: Path, data_digest: str) -> Path:
    """Where the executed notebook of ``page`` (a page without parameters) is kept for every variant."""
    page_digest = hashlib.sha256(page.read_bytes()).hexdigest()[:16]
    return shared_dir() / data_digest / f"{page.stem}-{page_digest}.ipynb"


def keep_shared(notebook: Path, target: Path) -> None:
    """Keep an executed notebook for the other variants (written whole, then renamed into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + f".{os.getpid()}.part")
    shutil.copy2(notebook, part)
    part.replace(target)
    for old in shared_dir().iterdir():  # notebooks of an earlier state of the data or code
        if old.is_dir() and old.name != target.parent.name:
            shutil.rmtree(old, ignore_errors=True)


# --- one variant ------------------------------------------------------------------------------------------


#: Sphinx processes of a variant's build: one (two were slower on the shared 2-core machine: see
#: hatbook/book.py), whatever the number of kernels.
SPHINX_JOBS = 1


def build_book(source: Path, staging: Path, jobs: int = 1, timings: dict | None = None) -> Path:
    """Build the staged book (Sphinx in ``jobs`` processes, see :mod:`hatbook.book`); return its HTML folder
    (raises :class:`RerunError` with the log's tail). The build runs in a session of its own and is
    stopped with the rerun when that is interrupted. ``timings`` receives the seconds of the build's
    phases (``sphinx_start``, ``sphinx_read``, ``sphinx_write``, ``sphinx_finish``)."""
    from hatbook.book import run_timed

    command = [
        sys.executable,
        "-m",
        "hatbook.book",
        str(source),
        "--path-output",
        str(staging),
        "--sphinx-jobs",
        str(jobs),
        "--no-execute-first",
        "-n",
        "--keep-going",
    ]
    log_path = staging / "build.log"
    returncode, phases = run_timed(command, log_path, cwd=source)
    if timings is not None:
        timings.update({f"sphinx_{name}": seconds for name, seconds in phases.items()})
    built = staging / "_build" / "html"
    if returncode != 0 or not (built / "index.html").exists():
        log = log_path.read_text(encoding="utf-8").strip().splitlines()
        raise RerunError(f"the book did not build (exit {returncode}):\n" + "\n".join(log[-25:]))
    return built


#: MathJax's alternative entry points (a page loads one of them, the book tex-chtml.js) and the SVG output
#: only they use: left out of a variant when no page loads them.
MATHJAX_ALTERNATIVES = (
    "tex-chtml-full.js",
    "tex-chtml-full-speech.js",
    "tex-mml-chtml.js",
    "tex-mml-svg.js",
    "tex-svg.js",
    "tex-svg-full.js",
    "mml-chtml.js",
    "mml-svg.js",
    "node-main.js",
    "latest.js",
    "output/svg.js",
    "output/svg",
)


#: Scripts of the theme that no page of the book loads (book/_ext/reader.py drops the icon script from
#: every page): left out of a variant when no page names them.
UNLOADED_SCRIPTS = ("scripts/fontawesome.js",)


def slim_html(html_dir: Path) -> int:
    """Leave out of a built variant what no page of it needs; return the bytes removed.

    * The page sources in ``_sources`` that are notebooks are offered without outputs, as the published
      edition offers its MyST sources: the outputs are on the page (and a variant's raw chart data do
      not travel in a second copy); where the page's downloadable notebook (``_notebooks``) is there,
      the source is that same file.
    * MathJax's entry points that no page loads (see :data:`MATHJAX_ALTERNATIVES`), the speech rules of
      languages other than English, scripts no page loads (:data:`UNLOADED_SCRIPTS`) and source maps
      (``*.map``, read only by a browser's developer tools) are removed.
    """
    import nbformat

    removed = 0
    for path in (html_dir / "_sources").rglob("*.ipynb"):
        before = path.stat().st_size
        download = html_dir / "_notebooks" / path.name
        if download.is_file():  # the same notebook without outputs, as the download button offers it
            shutil.copyfile(download, path)  # (the same file then: share_files stores it once)
            removed += before - path.stat().st_size
            continue
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, path)
        removed += before - path.stat().st_size
    # the book's pages (not the theme's templates copied into _static, which name every script)
    pages = [
        page.read_text(encoding="utf-8", errors="replace")
        for page in html_dir.rglob("*.html")
        if "_static" not in page.relative_to(html_dir).parts
    ]
    mathjax = html_dir / "_static" / "mathjax"
    if mathjax.is_dir():
        loaded = set()
        for text in pages:
            loaded.update(re.findall(r"_static/mathjax/([\w./-]+\.js)", text))
        for name in MATHJAX_ALTERNATIVES:
            target = mathjax / name
            if name in loaded or not target.exists() or any(item.startswith(name) for item in loaded):
                continue
            if target.is_dir():
                removed += sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
                shutil.rmtree(target)
            else:
                removed += target.stat().st_size
                target.unlink()
        # the speech rule engine's rules for other languages than English: the book loads no speech
        # component (a11y/assistive-mml needs none; only semantic enrichment loads the engine, and then
        # in the page's language)
        for path in (mathjax / "sre" / "mathmaps").glob("*.json"):
            if path.stem != "en":
                removed += path.stat().st_size
                path.unlink()
    for name in UNLOADED_SCRIPTS:
        target = html_dir / "_static" / name
        if target.is_file() and not any(name in text for text in pages):
            removed += target.stat().st_size
            target.unlink()
    for path in (html_dir / "_static").rglob("*.map"):
        removed += path.stat().st_size
        path.unlink()
    return removed


def share_files(html_dir: Path, store: Path, min_bytes: int = 1) -> int:
    """Replace every file of ``html_dir`` of at least ``min_bytes`` by a hard link to the same content in
    ``store`` (``_build/reruns/_static_shared``): MathJax, Vega, fonts and the theme are stored once for
    all editions, while each edition's folder still holds every file it needs (it opens from disk, and a
    copy of it is whole). Returns the bytes saved. Where links are not possible, files stay as they are."""
    saved = 0
    store.mkdir(parents=True, exist_ok=True)
    for path in html_dir.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        size = path.stat().st_size
        if size < min_bytes:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        kept = store / digest[:2] / f"{digest}{path.suffix[:12]}"
        try:
            if not kept.exists():
                kept.parent.mkdir(exist_ok=True)
                os.link(path, kept)
                continue
            if kept.stat().st_ino == path.stat().st_ino:
                continue
            link = path.with_name(path.name + ".link")
            os.link(kept, link)
            link.replace(path)
            saved += size
        except OSError:
            continue
    return saved


def prune_store(store: Path) -> None:
    """Remove the files of ``store`` that no edition links any more (a rebuilt variant's old files)."""
    if not store.is_dir():
        return
    for path in store.rglob("*"):
        try:
            if path.is_file() and path.stat().st_nlink == 1:
                path.unlink()
        except OSError:
            continue


@dataclass
class _VariantRun:
    """What the stages of one variant's run share: the variant, the reruns folder and the variant's staging
    folder, the kernels being warmed and the pool executing the pages (an interruption stops both), and the
    seconds of each stage so far (of each page under "pages"), each taken by :meth:`lap`."""

    variant: Variant
    root: Path
    staging: Path
    warming: list[threading.Thread]
    started: float
    timings: dict[str, float | dict[str, float]] = field(default_factory=dict)
    pool: PagePool | None = None
    last_lap: float = 0.0

    def lap(self, name: str) -> None:
        """Record the seconds since the previous stage ended (or the run started) as those of stage ``name``."""
        now = time.perf_counter()
        self.timings[name] = round(now - self.last_lap, 1)
        self.last_lap = now


@dataclass
class _StagedBook:
    """A variant's staged sources: the project folder (``source``) and its ``book``, the ``computed`` pages,
    and the pages the same in every edition that are still to be executed (``fixed``: page -> where its
    executed notebook is kept for the other editions)."""

    source: Path
    book: Path
    computed: list[Path]
    fixed: dict[Path, Path]


def _stage_book(run: _VariantRun, source_root: Path | None, pages: list[str] | None) -> _StagedBook:
    """Stage the variant's sources (:func:`stage_sources`) and take the executed notebooks of the pages without
    parameters that are kept for this state of data and code; the others are to be executed."""
    shutil.rmtree(run.staging, ignore_errors=True)
    source = stage_sources(run.variant, run.staging, source_root=source_root, pages=pages)
    book = source / "book"
    computed = computed_pages(book)
    data_digest = inputs_digest()
    fixed = {}  # pages without parameters not yet executed for this state of data and code: where to keep them
    for page in code_pages(book):
        kept = shared_notebook(page, data_digest)
        try:  # the MyST page stays until every page has run (see execute_page)
            shutil.copy2(kept, page.with_suffix(".ipynb"))
        except OSError:  # not there yet (or removed just now, the data or code having changed)
            fixed[page] = kept
    return _StagedBook(source, book, computed, fixed)


def _execute_pages(run: _VariantRun, staged: _StagedBook, *, jobs: int, pdf: bool, log, longest_last: bool) -> None:
    """Execute the computed pages and the shared pages not yet kept in ``jobs`` kernels (:class:`PagePool`),
    keep the shared ones for the other editions, and record each page's seconds; raises :class:`PageFailed`
    naming every page that failed."""
    variant, book, fixed = run.variant, staged.book, staged.fixed
    work: list[tuple[Path, Variant | None]] = [(page, variant) for page in staged.computed] + [
        (page, None) for page in fixed
    ]
    # the longest pages first (by their last times), so that the kernels end at about the same time
    last = page_seconds()
    work.sort(key=lambda item: -last.get(item[0].stem, 60.0))
    if longest_last:
        work.reverse()
    log(
        f"[{variant.name}] executing {len(staged.computed)} computed pages"
        + (f" and {len(fixed)} pages shared by every edition" if fixed else "")
    )
    failures = []
    for thread in run.warming:
        thread.join()
    run.pool = pool = PagePool(jobs, book, execute=functools.partial(_execute_keeping_source, pdf=pdf))
    for done, (page, outcome) in enumerate(pool.run(work), 1):
        if isinstance(outcome, PageFailed):
            failures.append(str(outcome))
            log(f"[{variant.name}] {done}/{len(work)} {page.stem} FAILED")
            continue
        if page in fixed:
            keep_shared(outcome, fixed[page])
        log(f"[{variant.name}] {done}/{len(work)} {page.stem} done")
    for page in book.glob("*.md"):  # each page with code is its executed notebook now (see execute_page)
        if page.with_suffix(".ipynb").exists():
            page.unlink()
    remember_page_seconds(pool.seconds)
    if not KEEP_KERNELS:
        _shutdown_idle_kernels()  # warmed kernels that had no page to run
    if failures:
        raise PageFailed("\n".join(failures))
    run.lap("execute")
    run.timings["pages"] = dict(sorted(pool.seconds.items(), key=lambda item: -item[1]))


def _build_and_install(run: _VariantRun, staged: _StagedBook, *, pdf: bool, log) -> Path:
    """Build the variant's book (and, with ``pdf``, its PDF), leave out what no page needs, share the files
    common to the editions, and move the book (and the PDF) into the variant's folder, which is returned."""
    variant, staging = run.variant, run.staging
    log(f"[{variant.name}] building the book")
    phases: dict[str, float] = {}
    built = build_book(staged.source, staging, SPHINX_JOBS, phases)
    (built / "_static" / EDITION_SCRIPT).write_text(edition_script(variant), encoding="utf-8")
    run.lap("build")
    run.timings.update(phases)
    pdf_file = None
    if pdf:
        pdf_file = build_variant_pdf(staged.source, staging, variant, log=log)
        run.lap("pdf")
    slim_html(built)
    share_files(built, run.root / "_static_shared")
    target_dir = run.root / variant.name
    install(built, target_dir / "html")
    if pdf_file is not None:
        # beside the HTML as in the published edition (_build/pdf next to _build/html), where the
        # home page's download link (../../pdf/<name>.pdf) finds it
        (target_dir / "pdf").mkdir(parents=True, exist_ok=True)
        shutil.copy2(pdf_file, target_dir / "pdf" / pdf_file.name)
    return target_dir


def _write_headline(variant: Variant, target_dir: Path, numbers: dict[str, object]) -> None:
    """``headline.json`` beside the variant's book: its parameters, when it was built and its headline
    statistics (the overview page is made from these)."""
    record = {
        "variant": variant.name,
        "title": variant.title,
        "clinic": variant.clinic,
        "year": variant.year,
        "data": variant.data_name,
        "threshold": variant.threshold,
        "published": variant.published,
        "built": time.strftime("%Y-%m-%d %H:%M:%S"),
        "headline": numbers,
    }
    (target_dir / "headline.json").write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")


def _stop_interrupted(run: _VariantRun) -> None:
    """Stop what an interrupted run started: the pool's kernels, the kernels being warmed; remove its staging
    folder."""
    if run.pool is not None:
        run.pool.stop()
    for thread in run.warming:
        thread.join(timeout=5)
    _kill_idle_kernels()
    _remove(run.staging)


def _failed(run: _VariantRun, error: Exception, log) -> Result:
    """The result of a variant that failed, once the kernels being warmed are ready and the idle ones shut
    down: a :class:`RerunError` says what failed (and is logged), any other error its type and where it
    arose."""
    for thread in run.warming:
        thread.join()
    if not KEEP_KERNELS:
        _shutdown_idle_kernels()
    seconds = time.perf_counter() - run.started
    if isinstance(error, RerunError):
        log(f"[{run.variant.name}] FAILED after {seconds:.0f} s")
        return Result(run.variant, False, seconds, error=str(error), timings=run.timings)
    return Result(
        run.variant,
        False,
        seconds,
        error=f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=4)}",
        timings=run.timings,
    )


def run_variant(
    variant: Variant,
    *,
    jobs: int = 1,
    pdf: bool = False,
    log=print,
    keep_staging: bool = False,
    pages: list[str] | None = None,
    source_root: Path | None = None,
    checked: bool = False,
    longest_last: bool = False,
) -> Result:
    """Execute and build one variant; never raises for a failure of the variant (see ``Result.error``).

    ``pages`` restricts the book to the home page and those pages (see :func:`stage_sources`);
    ``source_root`` is a project folder other than this one (tests); ``keep_staging`` keeps the
    executed notebooks in ``_build/reruns/.staging/<variant>`` after a successful run; ``checked`` says
    that the caller has run :func:`check` already (the data are not read once more); ``longest_last`` executes
    the pages shortest first (see :func:`run_grid`).

    KeyboardInterrupt (and :class:`Stopped`) are not failures of the variant: the staging folder is
    removed, the kernels stopped, the previous book left as it was, and the exception goes on."""
    started, cpu = time.perf_counter(), _cpu_seconds()
    root = output_root()
    staging = root / ".staging" / variant.name
    warming = warm_kernels(jobs)  # started while the data are checked and the sources staged
    run = _VariantRun(variant, root, staging, warming, started, last_lap=started)
    try:
        check(variant, data=not checked)
        run.lap("check")
        staged = _stage_book(run, source_root, pages)
        run.lap("stage")
        _execute_pages(run, staged, jobs=jobs, pdf=pdf, log=log, longest_last=longest_last)
        glued: dict[str, str] = {}
        for notebook in sorted(staged.book.glob("*.ipynb")):
            if notebook.stem in {p.stem for p in staged.computed}:
                glued.update(glued_values(notebook))
        target_dir = _build_and_install(run, staged, pdf=pdf, log=log)
        numbers = headline(glued)
        _write_headline(variant, target_dir, numbers)
        if not keep_staging:
            shutil.rmtree(staging, ignore_errors=True)
        prune_store(root / "_static_shared")
        run.lap("install")
        seconds = time.perf_counter() - started
        # where the variant's time went, beside its book (what benchmarks/build_times.py reads from a Result)
        run.timings["cpu_seconds"] = _cpu_seconds(cpu)
        (target_dir / "timings.json").write_text(
            json.dumps({"seconds": round(seconds, 1), **run.timings}, indent=1), encoding="utf-8"
        )
        log(f"[{variant.name}] done in {seconds:.0f} s: {target_dir / 'html' / 'index.html'}")
        return Result(variant, True, seconds, target_dir / "html", headline=numbers, timings=run.timings)
    except (KeyboardInterrupt, Stopped):
        _stop_interrupted(run)
        raise
    except Exception as error:  # a failure of this variant (a RerunError says which), not of the whole grid
        return _failed(run, error, log)


def _cpu_seconds(since: float = 0.0) -> float:
    """CPU seconds of this process and of its children that have ended (kernels, the book's build), less
    ``since``."""
    used = os.times()
    return round(used.user + used.system + used.children_user + used.children_system - since, 1)


def page_seconds() -> dict[str, float]:
    """The seconds each page took when it was last executed for a variant (``.page-seconds.json`` in the
    reruns folder; empty when there is none)."""
    try:
        return {
            k: float(v)
            for k, v in json.loads((output_root() / ".page-seconds.json").read_text(encoding="utf-8")).items()
        }
    except (OSError, ValueError, AttributeError):
        return {}


def remember_page_seconds(seconds: dict[str, float]) -> None:
    """Keep the pages' times for the order of the next run (written whole, then renamed into place)."""
    if not seconds:
        return
    path = output_root() / ".page-seconds.json"
    part = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_text(json.dumps({**page_seconds(), **seconds}, indent=1, sort_keys=True), encoding="utf-8")
        part.replace(path)
    except OSError:
        pass


def _remove(folder: Path) -> None:
    """Remove ``folder`` even while a stopped thread or process may still be writing into it."""
    for _ in range(5):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.5)


def build_variant_pdf(source: Path, staging: Path, variant: Variant, log=print) -> Path:
    """The variant's PDF, built by the PDF edition's :func:`hatbook.pdf.build_pdf` from the variant's executed
    pages (``source``), into ``staging/pdf``."""
    from hatbook.pdf import PdfError, build_pdf

    try:
        return Path(build_pdf(source, staging / "pdf", f"{variant.title}: rerun of the executable edition", log=log))
    except PdfError as error:
        raise RerunError(f"the PDF of the variant was not built: {error}") from error


# --- grid and overview ------------------------------------------------------------------------------------


def grid(
    data_dir: Path | None = None, threshold: int = DEFAULT_THRESHOLD, allow_low_threshold: bool = False
) -> list[Variant]:
    """All 3 clinic choices x 4 years."""
    from analysis.data.cohort import CLINIC_CHOICES, YEAR_CHOICES

    return [Variant(c, y, data_dir, threshold, allow_low_threshold) for c in CLINIC_CHOICES for y in YEAR_CHOICES]


def prepare_shared(*, workers: int = 1, log=print, pages: list[str] | None = None) -> None:
    """Execute the pages without parameters whose shared notebooks are missing (once, before the variants
    of a grid start, so that no two workers execute the same page)."""
    staging = output_root() / ".staging" / "_shared"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        source = stage_sources(Variant(), staging, pages=pages)
        digest = inputs_digest()
        missing = {page: shared_notebook(page, digest) for page in code_pages(source / "book")}
        missing = {page: kept for page, kept in missing.items() if not kept.exists()}
        if not missing:
            return
        log(f"grid: executing {len(missing)} pages shared by every edition")
        pool = PagePool(workers, source / "book", execute=_execute_keeping_source)
        for page, outcome in pool.run([(page, None) for page in missing]):
            if isinstance(outcome, PageFailed):
                log(f"grid: {page.stem} FAILED (each variant will report it)")
            else:
                keep_shared(outcome, missing[page])
    finally:
        _remove(staging)


def _stop_worker(signum, frame):
    raise Stopped()


def _worker_init() -> None:
    # a grid worker stops when the grid tells it to (SIGTERM), not on its own: a Ctrl-C in the terminal
    # reaches every process of the group, and only the grid's process decides what happens then
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)


def _run_in_worker(variant: Variant, pages: list[str] | None = None, longest_last: bool = False) -> Result:
    global KEEP_KERNELS
    KEEP_KERNELS = True
    try:
        return run_variant(variant, log=lambda line: None, pages=pages, checked=True, longest_last=longest_last)
    except Stopped:
        _kill_idle_kernels()
        os._exit(143)  # run_variant has removed its staging folder and killed its kernels


def run_grid(
    variants: list[Variant], *, workers: int | None = None, log=print, pages: list[str] | None = None
) -> list[Result]:
    """Run ``variants`` in a pool of ``workers`` processes (default: the number of cores), each executing
    its pages in one kernel, reporting progress as each ends, then write the overview. Failed variants are
    in the results; the others finish. Bad input raises :class:`UsageError` before anything runs.

    On KeyboardInterrupt the workers are stopped, their staging folders removed, every installed book
    left as it was, and the exception goes on."""
    for variant in variants:
        check(variant, data=False)
    for data_dir in {v.data_dir for v in variants}:  # once per data set, before any variant starts
        check_data(data_dir)
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    results: list[Result] = []
    log(f"grid: {len(variants)} variants, {workers} worker process{'es' if workers > 1 else ''}")
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
    try:
        prepare_shared(workers=workers, log=log, pages=pages)
        # every second variant executes its pages shortest first: the editions that start together then compute
        # the tables of different pages for the whole grid (analysis.presentation.kept), and read each other's
        futures = {pool.submit(_run_in_worker, v, pages, i % 2 == 1): v for i, v in enumerate(variants)}
        for future in as_completed(futures):
            variant = futures[future]
            try:
                result = future.result()
            except Exception as error:  # a worker that died
                result = Result(variant, False, 0.0, error=f"worker failed: {error}")
            results.append(result)
            elapsed = time.perf_counter() - started
            state = "ok" if result.ok else "FAILED"
            log(
                f"[{len(results)}/{len(variants)}] {variant.name}: {state} ({result.seconds:.0f} s; {elapsed:.0f} s elapsed)"
            )
    except BaseException:
        _stop_pool(pool)
        for variant in variants:
            _remove(output_root() / ".staging" / variant.name)
        raise
    pool.shutdown()
    order = {v: i for i, v in enumerate(variants)}
    results.sort(key=lambda r: order[r.variant])
    write_overview(output_root(), results)
    return results


def _stop_pool(pool: ProcessPoolExecutor, wait: float = 20.0) -> None:
    """Tell every worker to stop (each removes its staging folder and kills its kernels), then end the pool."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()


def _format(value, spec: str) -> str:
    if value is None:
        return "not computed"
    if isinstance(value, str):
        return value
    try:
        return spec.format(value)
    except (TypeError, ValueError):
        return str(value)


def write_overview(root: Path, results: list[Result] | None = None) -> Path:
    """``root/index.html``: the headline statistics of every variant built under ``root``, side by side,
    each linking to its book; variants that failed in this run are listed with their error."""
    root.mkdir(parents=True, exist_ok=True)
    records = []
    for path in sorted(root.glob("*/headline.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    clinic_order = {"all": 0, "Oslo": 1, "Bergen": 2}
    records.sort(key=lambda r: (r.get("data") or r.get("data_dir") or "", clinic_order.get(r["clinic"], 9), r["year"]))
    failed = [r for r in (results or []) if not r.ok]
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _, _ in HEADLINES)
    rows = []
    for record in records:
        link = f'<a href="{html.escape(record["variant"])}/html/index.html">{html.escape(record["title"])}</a>'
        marker = " (published parameters)" if record.get("published") else ""
        cells = "".join(
            f"<td>{html.escape(_format(record['headline'].get(key), spec))}</td>" for _, key, spec in HEADLINES
        )
        rows.append(f"<tr><td>{link}{marker}</td>{cells}<td>{html.escape(record.get('built', ''))}</td></tr>")
    failures = "".join(
        f"<li><b>{html.escape(r.variant.title)}</b>: <pre>{html.escape(r.error)}</pre></li>" for r in failed
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Reruns: overview</title>
<style>
body {{ font-family: "DejaVu Sans", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }} pre {{ white-space: pre-wrap; font-size: 0.85em; }}
</style></head>
<body>
<h1>Reruns of the executable edition: overview</h1>
<p>Each row is one variant of the book, computed for one clinic (or both) with the data through the end
of one year; follow a link to read its book. Counts from 1 to 4 appear as "&lt;5" and values withheld to
protect them as "{html.escape("–")}" (disclosure control); "not computed" marks a statistic no page of this
edition computes yet.</p>
<table class="hatbook-table">
<thead><tr><th>Variant</th>{head}<th>Built</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
{f"<h2>Variants that failed in the last run</h2><ul>{failures}</ul>" if failed else ""}
</body></html>
"""
    path = root / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
