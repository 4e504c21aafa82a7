"""Rerun the computed chapters for one clinic, for data through a given year, or on other data.

    hatbook rerun --clinic Bergen --year 2023 [--data DIR] [--threshold 5] [--pdf]
    hatbook rerun --grid [--jobs N]

A rerun never touches the published edition (``_build/html``). For one *variant* it

1. checks the parameters and validates the patient-level data (:func:`analysis.cohort.load_cohort`):
   invalid data stop the run before any page executes;
2. copies the book's sources into a staging folder (``_build/reruns/.staging/<variant>``) and gives the
   copy the variant's title;
3. converts every computed page (a page with a cell tagged ``parameters``) from MyST to a notebook with
   jupytext and executes it with Papermill, setting ``clinic``, ``year``, ``data_dir`` and ``min_cell``
   (the disclosure threshold); the cell Papermill injects is tagged ``remove-cell`` and a note saying
   which variant the page shows is put under the page's title;
4. builds the variant's book from the executed notebooks (pages without parameters are executed by the
   build as usual);
5. moves the HTML to ``_build/reruns/<variant>/html`` only when every page ran and the build succeeded,
   so a failed run leaves the previous book of the variant as it was, and writes the variant's headline
   statistics beside it (``headline.json``), from which the overview page ``_build/reruns/index.html``
   is made.

A grid runs the 3 clinic choices x 4 years in a pool of worker processes, reports progress, and ends
with the overview; variants that fail are listed and make the command exit non-zero, the others finish.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from hatbook import install, jupyter_book_command

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


class PageFailed(RerunError):
    """A page raised an error while it was executed for a variant."""


def output_root() -> Path:
    return Path(os.environ.get("HATBOOK_RERUNS_DIR") or DEFAULT_OUTPUT)


@dataclass(frozen=True)
class Variant:
    """One rerun: clinic, last calendar year of data, folder of patient-level data (None: the bundled
    cohort), disclosure threshold."""

    clinic: str = "all"
    year: int = 2025
    data_dir: Path | None = None
    threshold: int = 5

    @property
    def name(self) -> str:
        """Folder name under ``_build/reruns``: ``bergen-2023``, ``all-2025``, ``oslo-2024-data-<folder>``."""
        base = f"{self.clinic.lower()}-{self.year}"
        if self.data_dir is not None:
            base += "-data-" + "".join(c if c.isalnum() else "-" for c in Path(self.data_dir).name).strip("-")
        return base

    @property
    def title(self) -> str:
        """The variant's title: "Bergen, data through 2023" ("Both clinics, ..." for ``all``)."""
        who = "Both clinics" if self.clinic == "all" else self.clinic
        text = f"{who}, data through {self.year}"
        return text + (f" (data from {self.data_dir})" if self.data_dir is not None else "")

    @property
    def published(self) -> bool:
        """Whether the parameters are those of the published edition (no disclosure control applies)."""
        from analysis.cohort import published_edition

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
    """What one variant's run gave: where its book is, or why it failed."""

    variant: Variant
    ok: bool
    seconds: float
    html: Path | None = None
    error: str = ""
    headline: dict = field(default_factory=dict)


# --- checks ----------------------------------------------------------------------------------------------


def check(variant: Variant) -> None:
    """Refuse unknown parameters and invalid data before anything runs (raises :class:`RerunError`)."""
    from analysis.cohort import CLINIC_CHOICES, YEAR_CHOICES, load_cohort
    from analysis.data import DataError

    if variant.clinic not in CLINIC_CHOICES:
        raise RerunError(f"unknown clinic {variant.clinic!r}: choose one of {', '.join(CLINIC_CHOICES)}")
    if variant.year not in YEAR_CHOICES:
        raise RerunError(f"unknown year {variant.year!r}: choose one of {', '.join(map(str, YEAR_CHOICES))}")
    if variant.threshold < 0:
        raise RerunError(f"the disclosure threshold must be 0 or more (got {variant.threshold})")
    try:
        load_cohort(variant.data_dir)
    except DataError as error:
        raise RerunError(f"the data in {variant.data_dir or 'the bundled cohort'} cannot be used: {error}") from error


def computed_pages(book_dir: Path) -> list[Path]:
    """The MyST pages with a cell tagged ``parameters``: the pages a rerun executes with its parameters."""
    pages = []
    for page in sorted(Path(book_dir).glob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith(":tags:") and PARAMETERS_TAG in line[len(":tags:"):].replace("[", " ").replace("]", " ").replace(",", " ").split():
                pages.append(page)
                break
    return pages


# --- staging ---------------------------------------------------------------------------------------------


def stage_sources(variant: Variant, staging: Path, *, source_root: Path | None = None, pages: list[str] | None = None) -> Path:
    """Copy the book's sources into ``staging/src`` with the variant's configuration; return that folder.

    ``pages`` (page names such as ``ch06_1_enrollment_retention``) builds a book of the home page and
    those pages only: quicker, for tests and for trying a page out."""
    source_root = Path(source_root or ROOT)
    source = staging / "src"
    source.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(source_root / name, source / name)
    shutil.copytree(source_root / "book", source / "book", ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__", "*.ipynb"))
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
    config["title"] = f"{variant.title}: rerun of the executable edition"
    execute = config.setdefault("execute", {})
    # the computed pages arrive executed (they keep their outputs); the build executes the others
    execute["execute_notebooks"] = "auto"
    sphinx = config.setdefault("sphinx", {})
    local = sphinx.setdefault("local_extensions", {}) or {}
    for extension, path in list(local.items()):
        local[extension] = str((source / path).resolve())
    local["hatbook.sphinx_markers"] = str(ROOT)
    sphinx["local_extensions"] = local
    (source / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")

    index = source / "book" / "index.md"
    if index.exists():
        index.write_text(_after_title(index.read_text(encoding="utf-8"), banner(variant, home=True)), encoding="utf-8")
    return source


def _after_title(text: str, insert: str) -> str:
    """``text`` (a MyST page) with ``insert`` placed right after its first ``# `` heading."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "".join(lines[: i + 1]) + "\n" + insert + "\n" + "".join(lines[i + 1 :])
    return insert + "\n" + text


def banner(variant: Variant, home: bool = False) -> str:
    """The note under a page's title that says which variant the page shows and how to read it."""
    from analysis import disclosure

    lines = [
        f":::{{admonition}} Rerun: {variant.title}",
        ":class: important",
        "",
        f"This {'book' if home else 'page'} was computed for **{variant.title}**"
        + (" (the patients whose first admission was at that clinic)" if variant.clinic != "all" else "")
        + f". Admissions, events, questionnaires and referrals after 31 December {variant.year} are left out and "
        f"episodes still open then are counted as running on that day; where the text names the end of "
        f"2025 or the years 2022–2025, read 31 December {variant.year}.",
    ]
    if not variant.published and variant.threshold > 0:
        lines += [
            "",
            f"To protect patients, a count from 1 to {variant.threshold - 1} is shown as "
            f"\"{disclosure.small_marker(variant.threshold)}\", and a value computed from such a count (or one that "
            f"would reveal it by subtraction) is shown as \"{disclosure.WITHHELD}\". "
            f"\"{disclosure.NOT_ENOUGH_DATA}\" marks a value there are not enough data to compute. "
            "Comparisons with the report's printed figures are not made.",
        ]
    lines.append(":::")
    return "\n".join(lines) + "\n"


# --- executing pages --------------------------------------------------------------------------------------


def _error_text(error: Exception) -> str:
    """The notebook's own error, readable: exception name and message, and the lines of the page's code
    where it was raised (the last traceback frame that is a cell of the page)."""
    import re

    ename, evalue = getattr(error, "ename", None), getattr(error, "evalue", None)
    if not ename:
        return f"{type(error).__name__}: {error}"
    blocks = [re.sub(r"\x1b\[[0-9;]*m", "", block) for block in (getattr(error, "traceback", None) or [])]
    in_page = [block for block in blocks if "Cell In[" in block]
    where = ""
    if in_page:
        lines = [line for line in in_page[-1].splitlines() if line.strip()]
        arrow = next((i for i, line in enumerate(lines) if line.lstrip().startswith("---->")), len(lines) - 1)
        where = "\n".join([lines[0], *lines[max(1, arrow - 2) : arrow + 1]])
    return f"{ename}: {evalue}" + (f"\nin the page's code:\n{where}" if where else "")


def execute_page(page: Path, variant: Variant) -> Path:
    """Convert ``page`` to a notebook, execute it with the variant's parameters, and replace the page by
    the executed notebook (its injected cell hidden, the variant's note under its title)."""
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = page.with_suffix(".ipynb")
    jupytext.write(jupytext.read(page), notebook)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(notebook),
            parameters=variant.parameters(),
            # the kernel starts in the page's folder, as in a book build; papermill's own ``cwd``
            # would change the working directory of this whole process, which pages executed in
            # parallel threads share
            resources={"metadata": {"path": str(page.parent)}},
            progress_bar=False,
            kernel_name="python3",
            log_output=False,
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as error:
        raise PageFailed(f"page {page.stem} failed: {_error_text(error)}\n(executed notebook: {notebook})") from error
    except Exception as error:  # the kernel died, a timeout, ...: the page failed all the same
        raise PageFailed(f"page {page.stem} failed: {_error_text(error)}") from error

    executed = nbformat.read(notebook, as_version=4)
    for cell in executed.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell["metadata"]["tags"] = [*tags, "remove-cell"]
    note = nbformat.v4.new_markdown_cell(banner(variant))
    first_heading = next((i for i, c in enumerate(executed.cells) if c.cell_type == "markdown" and c.source.lstrip().startswith("# ")), None)
    if first_heading is not None:
        head = executed.cells[first_heading]
        title, _, rest = head.source.lstrip().partition("\n")
        head.source = title
        extra = [nbformat.v4.new_markdown_cell(rest.strip())] if rest.strip() else []
        executed.cells[first_heading + 1 : first_heading + 1] = [note, *extra]
    else:
        executed.cells.insert(0, note)
    nbformat.write(executed, notebook)
    page.unlink()
    return notebook


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


# --- one variant ------------------------------------------------------------------------------------------




def build_book(source: Path, staging: Path) -> Path:
    """Build the staged book; return its HTML folder (raises :class:`RerunError` with the log's tail)."""
    command = [jupyter_book_command(), "build", str(source), "--path-output", str(staging), "-n", "--keep-going"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=source)
    (staging / "build.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    built = staging / "_build" / "html"
    if done.returncode != 0 or not (built / "index.html").exists():
        log = (done.stdout + done.stderr).strip().splitlines()
        raise RerunError("the book did not build (exit %d):\n%s" % (done.returncode, "\n".join(log[-25:])))
    return built




def run_variant(
    variant: Variant,
    *,
    jobs: int = 1,
    pdf: bool = False,
    log=print,
    keep_staging: bool = False,
    pages: list[str] | None = None,
    source_root: Path | None = None,
) -> Result:
    """Execute and build one variant; never raises for a failure of the variant (see ``Result.error``).

    ``pages`` restricts the book to the home page and those pages (see :func:`stage_sources`);
    ``source_root`` is a project folder other than this one (tests); ``keep_staging`` keeps the
    executed notebooks in ``_build/reruns/.staging/<variant>`` after a successful run."""
    started = time.perf_counter()
    root = output_root()
    staging = root / ".staging" / variant.name
    try:
        check(variant)
        shutil.rmtree(staging, ignore_errors=True)
        source = stage_sources(variant, staging, source_root=source_root, pages=pages)
        pages = computed_pages(source / "book")
        log(f"[{variant.name}] executing {len(pages)} computed pages")
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(execute_page, page, variant): page for page in pages}
            failures = []
            for done, future in enumerate(as_completed(futures), 1):
                page = futures[future]
                try:
                    future.result()
                    log(f"[{variant.name}] {done}/{len(pages)} {page.stem} done")
                except PageFailed as error:
                    failures.append(str(error))
                    log(f"[{variant.name}] {done}/{len(pages)} {page.stem} FAILED")
        if failures:
            raise PageFailed("\n".join(failures))
        glued: dict[str, str] = {}
        for notebook in sorted((source / "book").glob("*.ipynb")):
            glued.update(glued_values(notebook))
        log(f"[{variant.name}] building the book")
        built = build_book(source, staging)
        pdf_file = None
        if pdf:
            pdf_file = build_variant_pdf(source, staging, variant, log=log)
        target_dir = root / variant.name
        install(built, target_dir / "html")
        if pdf_file is not None:
            # beside the HTML as in the published edition (_build/pdf next to _build/html), where the
            # home page's download link (../../pdf/<name>.pdf) finds it
            (target_dir / "pdf").mkdir(parents=True, exist_ok=True)
            shutil.copy2(pdf_file, target_dir / "pdf" / pdf_file.name)
        numbers = headline(glued)
        record = {
            "variant": variant.name,
            "title": variant.title,
            "clinic": variant.clinic,
            "year": variant.year,
            "data_dir": str(variant.data_dir) if variant.data_dir else None,
            "threshold": variant.threshold,
            "published": variant.published,
            "built": time.strftime("%Y-%m-%d %H:%M:%S"),
            "headline": numbers,
        }
        (target_dir / "headline.json").write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        if not keep_staging:
            shutil.rmtree(staging, ignore_errors=True)
        seconds = time.perf_counter() - started
        log(f"[{variant.name}] done in {seconds:.0f} s: {target_dir / 'html' / 'index.html'}")
        return Result(variant, True, seconds, target_dir / "html", headline=numbers)
    except RerunError as error:
        seconds = time.perf_counter() - started
        log(f"[{variant.name}] FAILED after {seconds:.0f} s")
        return Result(variant, False, seconds, error=str(error))
    except Exception as error:  # anything else is a failure of this variant, not of the whole grid
        seconds = time.perf_counter() - started
        return Result(variant, False, seconds, error=f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}")


def build_variant_pdf(source: Path, staging: Path, variant: Variant, log=print) -> Path:
    """The variant's PDF, through :func:`hatbook.pdf.build_pdf` of the PDF edition."""
    try:
        from hatbook.pdf import PdfError, build_pdf
    except ImportError as error:
        raise RerunError("--pdf is not yet available: the PDF edition (hatbook.pdf.build_pdf) is not there yet") from error
    try:
        return Path(build_pdf(source, staging / "pdf", f"{variant.title}: rerun of the executable edition", log=log))
    except PdfError as error:
        raise RerunError(f"the PDF of the variant was not built: {error}") from error


# --- grid and overview ------------------------------------------------------------------------------------


def grid(data_dir: Path | None = None, threshold: int = 5) -> list[Variant]:
    """All 3 clinic choices x 4 years."""
    from analysis.cohort import CLINIC_CHOICES, YEAR_CHOICES

    return [Variant(c, y, data_dir, threshold) for c in CLINIC_CHOICES for y in YEAR_CHOICES]


def _run_in_worker(variant: Variant, pages: list[str] | None = None) -> Result:
    return run_variant(variant, log=lambda line: None, pages=pages)


def run_grid(variants: list[Variant], *, workers: int | None = None, log=print, pages: list[str] | None = None) -> list[Result]:
    """Run ``variants`` in a pool of ``workers`` processes (default: the number of cores), reporting
    progress as each ends, then write the overview. Failed variants are in the results; the others finish."""
    from analysis.cohort import load_cohort
    from analysis.data import DataError

    data_dirs = {v.data_dir for v in variants}
    for data_dir in data_dirs:  # once per data set, before any variant starts
        try:
            load_cohort(data_dir)
        except DataError as error:
            raise RerunError(f"the data in {data_dir or 'the bundled cohort'} cannot be used: {error}") from error
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    results: list[Result] = []
    log(f"grid: {len(variants)} variants, {workers} worker process{'es' if workers > 1 else ''}")
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_run_in_worker, v, pages): v for v in variants}
        for future in as_completed(futures):
            variant = futures[future]
            try:
                result = future.result()
            except Exception as error:  # a worker that died
                result = Result(variant, False, 0.0, error=f"worker failed: {error}")
            results.append(result)
            elapsed = time.perf_counter() - started
            state = "ok" if result.ok else "FAILED"
            log(f"[{len(results)}/{len(variants)}] {variant.name}: {state} ({result.seconds:.0f} s; {elapsed:.0f} s elapsed)")
    order = {v: i for i, v in enumerate(variants)}
    results.sort(key=lambda r: order[r.variant])
    write_overview(output_root(), results)
    return results


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
    records.sort(key=lambda r: (r.get("data_dir") or "", clinic_order.get(r["clinic"], 9), r["year"]))
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
protect them as "{html.escape('–')}" (disclosure control); "not computed" marks a statistic no page of this
edition computes yet.</p>
<table class="hatbook-table">
<thead><tr><th>Variant</th>{head}<th>Built</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
{f'<h2>Variants that failed in the last run</h2><ul>{failures}</ul>' if failed else ''}
</body></html>
"""
    path = root / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
