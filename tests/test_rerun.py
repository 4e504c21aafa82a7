"""Reruns per clinic and per year (hatbook/rerun.py, hatbook/cli.py).

One small variant (Bergen, data through 2022: the clinic opened in March) is executed and built once per
module, as a book of the home page and the computed pages that take part in disclosure control; its
glued values are checked against a direct computation on the filtered data and its tables and glued
values for counts from 1 to 4. The failure tests need no build: they stop before or while executing.
Tests that execute pages are marked ``slow``; the guards (parameters, threshold, names) are quick.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from ast import literal_eval
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from analysis.data.cohort import DEFAULT_COHORT_DIR, load_cohort, restrict
from analysis.presentation.scorecard import FREQUENCY_UNITS, ledger
from analysis.sections import retention
from hatbook import cli, editions
from hatbook import rerun as rr

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "ch06_1_enrollment_retention",
    "ch06_2_patient_characteristics",
    "ch06_4_outcomes",
    "ch06_5_serious_adverse_events",
    "ch06_6_process_implementation",
    "appendix3_outcomes",
    "appendix5_referrals",
]
#: Glued values that are not ledger statistics but count people or records.
FREQUENCY_NAMES = {"ae_cohort_patients", "s61_discharged_patients"}
#: Column headings of computed tables that hold counts.
COUNT_HEADING = re.compile(
    r"(^n$|N \(%\)|Mean / n|Discharges|Events|Referrals \(n\)|Denials \(n\)|^Planned$|^Unplanned$|Patients)"
)


@pytest.fixture(scope="module")
def small_variant(reruns_dir):
    """Bergen, data through 2022, executed and built once (the executed notebooks are kept)."""
    variant = rr.Variant("Bergen", 2022)
    result = rr.run_variant(variant, jobs=2, pages=PAGES, keep_staging=True, log=lambda line: None)
    if not result.ok:
        pytest.fail(f"the variant did not build:\n{result.error}")
    notebooks = {p.stem: p for p in (reruns_dir / ".staging" / variant.name / "src" / "book").glob("*.ipynb")}
    return variant, result, notebooks


def glued(notebooks) -> dict:
    values = {}
    for path in notebooks.values():
        values.update({k: literal_eval(v) if not v.startswith("<") else v for k, v in rr.glued_values(path).items()})
    return values


def glued_tables(notebook: Path):
    """(heading, cell text) of every cell of every table a notebook glued (styled data frames)."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = data.get("application/papermill.record/text/html") or data.get("text/html")
            if not html or "<table" not in html or "vega" in html:
                continue
            for table in BeautifulSoup(html, "html.parser").find_all("table"):
                header_rows = table.find("thead").find_all("tr") if table.find("thead") else []
                headings = (
                    [th.get_text(" ", strip=True) for th in header_rows[-1].find_all("th")] if header_rows else []
                )
                for row in table.find("tbody").find_all("tr"):
                    for heading, td in zip(headings, row.find_all(["td", "th"])):
                        yield heading, td.get_text(" ", strip=True)


@pytest.mark.slow
def test_variant_book_is_built_with_its_title_and_hidden_parameters(small_variant, reruns_dir):
    variant, result, _ = small_variant
    assert result.html == reruns_dir / "bergen-2022" / "html"
    index = (result.html / "book" / "index.html").read_text(encoding="utf-8")
    assert "Bergen, data through 2022" in index
    page = (result.html / "book" / "ch06_1_enrollment_retention.html").read_text(encoding="utf-8")
    assert "Rerun: Bergen, data through 2022" in page
    assert 'clinic = "Bergen"' not in page  # the injected parameters cell is removed from the page
    # the navigation bar names the edition through the edition's script (the pages carry a common title)
    script = (result.html / "_static" / rr.EDITION_SCRIPT).read_text(encoding="utf-8")
    assert '"Bergen, data through 2022: rerun of the executable edition"' in script
    assert f"_static/{rr.EDITION_SCRIPT}" in page
    assert (reruns_dir / "bergen-2022" / "headline.json").exists()
    overview = rr.write_overview(reruns_dir).read_text(encoding="utf-8")
    assert 'href="bergen-2022/html/index.html"' in overview


@pytest.mark.slow
def test_no_warning_or_traceback_is_printed_into_a_variant_page(small_variant):
    """Small data make models degenerate; the pages say so in words, not with library warnings."""
    _, result, _ = small_variant
    for name in PAGES:
        text = (result.html / "book" / f"{name}.html").read_text(encoding="utf-8")
        assert "Warning:" not in text and "Traceback" not in text, f"{name}: a warning or traceback is shown"


@pytest.mark.slow
def test_glued_values_match_a_direct_computation_on_the_filtered_data(small_variant):
    _, _, notebooks = small_variant
    values = glued(notebooks)
    cohort = restrict(load_cohort(), clinic="Bergen", year=2022)
    assert cohort.data_end.year == 2022 and set(cohort.patients["clinic"]) == {"Bergen"}
    assert values["s6_1_patients_participated_total"] == len(cohort.patients)
    assert values["s6_1_patients_participated_oslo"] == 0
    assert values["s6_1_treatment_episodes_total"] == len(cohort.episodes)
    assert values["s6_1_patients_in_treatment_2025_12_31"] == retention.patients_in_treatment(
        cohort.episodes, cohort.data_end
    )
    assert values["s6_5_sae_total"] == len(cohort.adverse_events)
    assert values["s6_6_referrals"] == len(cohort.referrals)
    assert values["s6_2_patients_started_total"] == len(cohort.patients)
    years = retention.person_years(cohort.episodes, cohort.data_end)
    assert values["s6_1_person_years_in_treatment"] == pytest.approx(years)


@pytest.mark.slow
def test_no_count_from_1_to_4_is_shown(small_variant):
    _, _, notebooks = small_variant
    book = ledger()
    values = glued(notebooks)
    frequencies = {k for k in values if k in book.index and book.loc[k, "unit"] in FREQUENCY_UNITS} | (
        FREQUENCY_NAMES & set(values)
    )
    assert len(frequencies) > 50
    small = {k: values[k] for k in frequencies if isinstance(values[k], (int, float)) and 1 <= values[k] <= 4}
    assert not small, f"small frequencies glued: {small}"
    checked = 0
    for name, notebook in notebooks.items():
        for heading, text in glued_tables(notebook):
            if not COUNT_HEADING.search(heading):
                continue
            match = re.fullmatch(r"([\d,]+)(\s*\(.*\))?", text)
            if match:
                checked += 1
                assert not 1 <= int(match.group(1).replace(",", "")) <= 4, f"{name}: '{text}' under '{heading}'"
    assert checked > 20
    # the small variant does withhold something, and says so
    assert "<5" in values.values()


def _previous_build(reruns_dir: Path, name: str) -> Path:
    html = reruns_dir / name / "html"
    html.mkdir(parents=True, exist_ok=True)
    (html / "index.html").write_text("previous build", encoding="utf-8")
    return html / "index.html"


@pytest.mark.slow
def test_a_failing_page_fails_its_variant_and_keeps_the_previous_book(tmp_path, reruns_dir):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "book", project / "book", ignore=shutil.ignore_patterns("_build", "*.ipynb"))
    page = project / "book" / "ch06_6_process_implementation.md"
    page.write_text(
        page.read_text(encoding="utf-8")
        + '\n```{code-cell} ipython3\nraise RuntimeError("this page is broken on purpose")\n```\n',
        encoding="utf-8",
    )
    marker = _previous_build(reruns_dir, "oslo-2023")
    result = rr.run_variant(
        rr.Variant("Oslo", 2023), pages=["ch06_6_process_implementation"], source_root=project, log=lambda line: None
    )
    assert not result.ok
    assert "ch06_6_process_implementation" in result.error and "this page is broken on purpose" in result.error
    assert "RuntimeError" in result.error
    assert marker.read_text(encoding="utf-8") == "previous build"


def test_invalid_data_stop_before_any_page_runs(tmp_path, reruns_dir, capsys):
    data = tmp_path / "bad"
    shutil.copytree(DEFAULT_COHORT_DIR, data)
    episodes = (data / "episodes.csv").read_text(encoding="utf-8").splitlines()
    header = episodes[0].split(",")
    first = episodes[1].split(",")
    first[header.index("admission_date")] = "not-a-date"
    (data / "episodes.csv").write_text(
        "\n".join([episodes[0], ",".join(first), *episodes[2:]]) + "\n", encoding="utf-8"
    )
    marker = _previous_build(reruns_dir, "oslo-2023-data-bad")
    status = cli.main(["rerun", "--clinic", "Oslo", "--year", "2023", "--data", str(data)])
    err = capsys.readouterr().err
    assert status == 2
    assert "episodes.csv" in err and "admission_date" in err
    assert not (reruns_dir / ".staging" / "oslo-2023-data-bad").exists()  # nothing was executed
    assert marker.read_text(encoding="utf-8") == "previous build"


def test_data_that_passed_the_checks_are_checked_again_only_when_they_change(tmp_path, reruns_dir, monkeypatch):
    import analysis.data.cohort as cohort_module

    data = tmp_path / "good"
    shutil.copytree(DEFAULT_COHORT_DIR, data)
    calls = []
    original = cohort_module.load_cohort

    def counted(folder=None):
        calls.append(folder)
        return original(folder)

    monkeypatch.setattr(cohort_module, "load_cohort", counted)
    rr.check_data(data)
    rr.check_data(data)
    assert len(calls) == 1
    episodes = (data / "episodes.csv").read_text(encoding="utf-8").splitlines()
    header, first = episodes[0].split(","), episodes[1].split(",")
    first[header.index("admission_date")] = "not-a-date"
    (data / "episodes.csv").write_text(
        "\n".join([episodes[0], ",".join(first), *episodes[2:]]) + "\n", encoding="utf-8"
    )
    for _ in range(2):  # refused, and refused again: invalid data are never marked as checked
        with pytest.raises(rr.UsageError, match="admission_date"):
            rr.check_data(data)
    assert len(calls) == 3


@pytest.mark.slow
def test_a_variant_records_where_its_time_went_and_keeps_its_drawings_for_the_next(small_variant, reruns_dir):
    variant, result, _ = small_variant
    timings = json.loads((reruns_dir / variant.name / "timings.json").read_text(encoding="utf-8"))
    for stage in ("check", "stage", "execute", "build", "install", "sphinx_read", "sphinx_write", "cpu_seconds"):
        assert isinstance(timings[stage], (int, float)), stage
    assert set(timings["pages"]) >= set(PAGES)
    stages = sum(timings[stage] for stage in ("check", "stage", "execute", "build", "install"))
    assert stages <= timings["seconds"] + 0.5
    assert timings["cpu_seconds"] > 0
    drawings = list((reruns_dir / ".build-cache" / "hatbook_chart_drawings").glob("hatbook-chart-*.svg"))
    assert drawings, "the charts drawn for this edition are kept for the next"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--clinic", "Tromso"], "unknown clinic 'Tromso'"),
        (["--year", "2030"], "unknown year 2030"),
        (["--year", "last"], "unknown year 'last'"),
    ],
)
def test_unknown_clinic_or_year_is_refused(arguments, message, reruns_dir, capsys):
    marker = _previous_build(reruns_dir, "all-2025")
    status = cli.main(["rerun", *arguments])
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and "choose one of" in err
    assert marker.read_text(encoding="utf-8") == "previous build"


def test_every_computed_page_takes_the_rerun_parameters():
    pages = rr.computed_pages(ROOT / "book")
    assert {p.stem for p in pages} >= set(PAGES)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for name in ("clinic", "year", "data_dir"):
            assert re.search(rf"^{name} = ", text, re.M), f"{page.name} has no parameter {name}"


def test_pages_under_disclosure_control_take_the_threshold():
    for name in PAGES:
        text = (ROOT / "book" / f"{name}.md").read_text(encoding="utf-8")
        assert re.search(r"^min_cell = 5$", text, re.M), name
        assert "min_cell=min_cell" in text or re.search(r"open_page\([^)]*\bmin_cell\b", text), name


@pytest.mark.slow
def test_a_variant_page_lists_its_statistics_instead_of_comparing_them(small_variant):
    _, result, _ = small_variant
    page = (result.html / "book" / "ch06_1_enrollment_retention.html").read_text(encoding="utf-8")
    assert rr.VARIANT_RUBRIC in page and rr.COMPARISON_RUBRIC not in page
    assert "where the text names the end of" not in page  # the pages name their own data end


def test_the_comparison_rubric_is_renamed_with_its_explanation():
    cell = (
        "```{rubric} Computed against published\n```\n\nThe table compares every statistic glued on this page "
        "with the value the report printed, at the\nreport's precision.\n\nAnother paragraph."
    )
    renamed = rr._variant_rubric(cell)
    assert rr.LEGACY_RUBRIC not in renamed and f"{{rubric}} {rr.VARIANT_RUBRIC}" in renamed
    assert rr.VARIANT_RUBRIC_TEXT in renamed and "report printed" not in renamed
    assert renamed.endswith("\n\nAnother paragraph.")


def test_the_comparison_heading_is_renamed_with_its_explanation():
    cell = (
        "Exercise text.\n\n## Checked against the report\n\nThe table compares every statistic glued on this "
        "page with the value the report printed, at the\nreport's precision.\n\nAnother paragraph."
    )
    renamed = rr._variant_rubric(cell)
    assert rr.COMPARISON_RUBRIC not in renamed and f"\n## {rr.VARIANT_RUBRIC}\n" in renamed
    assert rr.VARIANT_RUBRIC_TEXT in renamed and "report printed" not in renamed
    assert renamed.startswith("Exercise text.\n\n") and renamed.endswith("\n\nAnother paragraph.")
    assert not editions.stray_in_text(renamed.replace("\n", " "), published=False)


# --- guards ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0, 1, 2])
def test_a_threshold_below_3_needs_the_explicit_flag(threshold, reruns_dir, capsys):
    marker = _previous_build(reruns_dir, "bergen-2022")
    status = cli.main(["rerun", "--clinic", "Bergen", "--year", "2022", "--threshold", str(threshold)])
    assert status == 2
    err = capsys.readouterr().err
    assert "--allow-low-threshold" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert marker.read_text(encoding="utf-8") == "previous build"


def test_a_weakened_variant_says_so_and_has_a_folder_of_its_own():
    off = rr.Variant("Bergen", 2022, threshold=0, allow_low_threshold=True)
    weakened = rr.Variant("Bergen", 2022, threshold=2, allow_low_threshold=True)
    rr.check(off, data=False)  # consent given: no error
    assert off.name == "bergen-2022-threshold-0" and weakened.name == "bergen-2022-threshold-2"
    assert rr.Variant("Bergen", 2022).name == "bergen-2022"
    assert "Disclosure control is off" in rr.banner(off) and "threshold 0" in off.title
    assert "Disclosure control is weakened" in rr.banner(weakened)
    protected = rr.banner(rr.Variant("Bergen", 2022))
    assert "Disclosure control is" not in protected and '"<5"' in protected


HOSTILE = "<img src=x onerror=alert(1)>"


def test_the_data_source_is_named_by_its_folder_name_only_and_cannot_inject_markup(tmp_path):
    from markdown_it import MarkdownIt

    variant = rr.Variant("all", 2025, tmp_path / "secret" / HOSTILE)
    for text in (variant.title, variant.name):
        assert "<" not in text and ">" not in text and str(tmp_path) not in text
    html = MarkdownIt("commonmark").render(rr.banner(variant))
    assert "<img" not in html and str(tmp_path) not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the reader still sees the folder's name
    # every punctuation character is escaped: no role, no emphasis, no link, no raw HTML
    assert re.fullmatch(r"(\\[!-/:-@\[-`{-~]|\w| )*", rr.myst_text("{glue:text}`x` **b** <i> [l](u)"))


def test_a_missing_data_folder_is_a_usage_error(tmp_path, capsys):
    status = cli.main(["rerun", "--data", str(tmp_path / "nowhere")])
    assert status == 2
    err = capsys.readouterr().err
    assert "no such data folder: nowhere" in err and str(tmp_path) not in err


@pytest.mark.slow
def test_a_hostile_data_folder_name_reaches_no_page_as_markup(tmp_path, reruns_dir):
    data = tmp_path / HOSTILE
    shutil.copytree(DEFAULT_COHORT_DIR, data)
    result = rr.run_variant(
        rr.Variant("Bergen", 2022, data), pages=["ch06_6_process_implementation"], log=lambda line: None
    )
    assert result.ok, result.error
    seen = 0
    for path in result.html.rglob("*"):
        if path.suffix in (".html", ".js", ".ipynb", ".txt", ".md", ".json") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "<img src=x" not in text, path
            assert str(tmp_path) not in text, f"{path} names the data's path"
            seen += 1
    assert seen > 5
    record = json.loads((result.html.parent / "headline.json").read_text(encoding="utf-8"))
    assert str(tmp_path) not in json.dumps(record)


# --- interrupting ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_ends_a_rerun_with_one_line_and_leaves_the_previous_book(tmp_path):
    reruns = tmp_path / "reruns"
    marker = _previous_build(reruns, "bergen-2022")
    env = dict(os.environ, HATBOOK_RERUNS_DIR=str(reruns))
    command = [
        sys.executable,
        "-m",
        "hatbook.cli",
        "rerun",
        "--clinic",
        "Bergen",
        "--year",
        "2022",
        "--jobs",
        "1",
        "--pages",
        "ch06_6_process_implementation",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()  # the rerun has started executing its pages
    assert "executing" in first
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in out + err
    assert err.strip().splitlines() == ["hatbook: interrupted; the previous book of bergen-2022 (if any) is unchanged"]
    assert not (reruns / ".staging" / "bergen-2022").exists()
    assert marker.read_text(encoding="utf-8") == "previous build"


def test_only_a_rerun_that_builds_a_pdf_draws_the_png_of_its_charts(tmp_path):
    """A variant's own pages go without the charts' PNGs unless its PDF is built; a page without parameters
    keeps them (it is shared by every edition, some of which build a PDF)."""
    from analysis.presentation import charts

    assert rr.CHART_PNG_ENVIRONMENT == charts.PNG_ENVIRONMENT
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n```{code-cell} ipython3\n:tags: [parameters]\nclinic = 'all'\n```\n", encoding="utf-8")

    class Recording:
        printed: list[bool] = []

        def execute(self, notebook, cwd=None, *, printed_charts=True):
            self.printed.append(printed_charts)

    variant = rr.Variant("Bergen", 2022)
    for pdf in (False, True):
        rr.execute_page(page, variant, Recording(), replace=False, pdf=pdf)
    rr.execute_page(page, None, Recording(), replace=False, pdf=False)
    assert Recording.printed == [False, True, True]


@pytest.mark.slow
def test_a_kernel_draws_the_charts_png_only_when_asked(tmp_path):
    import nbformat

    code = (
        "import altair as alt, pandas as pd\nfrom analysis.presentation import charts\ncharts.enable()\n"
        "alt.Chart(pd.DataFrame({'a': [1, 2]})).mark_bar().encode(x='a:O', y='a:Q')"
    )
    kernel = rr.Kernel(tmp_path)
    kinds = []
    try:
        for printed in (False, True, False):
            notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
            kernel.execute(notebook, printed_charts=printed)
            kinds.append({kind for output in notebook.cells[0].outputs for kind in output.get("data", {})})
    finally:
        kernel.shutdown()
    assert ["image/png" in k for k in kinds] == [False, True, False]
    assert all("text/html" in k for k in kinds)


@pytest.mark.slow
def test_pages_sharing_a_kernel_do_not_see_each_other(tmp_path):
    """A kernel runs a variant's pages one after another (in a grid, several variants' pages): names,
    warning filters and the working directory of one page do not reach the next."""
    import nbformat

    code = "import os, warnings\nprint('left_over' in globals(), len(warnings.filters), os.getcwd())"
    first = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import os, warnings\nleft_over = 1\nwarnings.simplefilter('error')\nos.chdir('/')"
            )
        ]
    )
    second = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    fresh = rr.Kernel(tmp_path)
    try:
        fresh.execute(probe)
    finally:
        fresh.shutdown()
    earlier = tmp_path / "earlier-variant"  # a grid worker's kernel goes on to the next variant's folder
    earlier.mkdir()
    kernel = rr.Kernel(earlier)
    try:
        kernel.execute(first, earlier)
        shutil.rmtree(earlier)  # that variant's staging folder is removed
        kernel.execute(second, tmp_path)
    finally:
        kernel.shutdown()
    seen = "".join(o.get("text", "") for o in second.cells[0].outputs)
    expected = "".join(o.get("text", "") for o in probe.cells[0].outputs)
    assert seen.startswith("False") and seen == expected


@pytest.mark.slow
def test_ctrl_c_ends_a_grid_with_one_line_and_stops_its_workers(tmp_path):
    reruns = tmp_path / "reruns"
    marker = _previous_build(reruns, "oslo-2022")
    env = dict(os.environ, HATBOOK_RERUNS_DIR=str(reruns))
    command = [
        sys.executable,
        "-m",
        "hatbook.cli",
        "rerun",
        "--grid",
        "--workers",
        "2",
        "--pages",
        "ch06_6_process_implementation",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout.readline().startswith("grid: 12 variants")
    time.sleep(4)  # the workers have started their first variants
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: to the whole process group
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in out + err
    assert err.strip().splitlines() == ["hatbook: interrupted; the books built before are unchanged"]
    staging = reruns / ".staging"
    assert not staging.exists() or not any(staging.iterdir()), list(staging.iterdir())
    assert marker.read_text(encoding="utf-8") == "previous build"


def test_editions_share_their_common_files_by_hard_links(tmp_path):
    store = tmp_path / "_static_shared"
    books = []
    for name, page in (("a", "first edition"), ("b", "second edition")):
        html = tmp_path / name / "html"
        (html / "_static").mkdir(parents=True)
        (html / "_static" / "mathjax.js").write_bytes(b"x" * 10_000)  # the same in both editions
        (html / "index.html").write_text(page * 1000, encoding="utf-8")  # different
        (html / "small.css").write_text("p {}", encoding="utf-8")  # small files are shared too
        books.append(html)
    assert rr.share_files(books[0], store) == 0  # the first edition only fills the store
    assert rr.share_files(books[1], store) == 10_000 + 4
    first, second = (b / "_static" / "mathjax.js" for b in books)
    assert first.stat().st_ino == second.stat().st_ino and second.read_bytes() == b"x" * 10_000
    assert (books[0] / "index.html").stat().st_ino != (books[1] / "index.html").stat().st_ino
    assert (books[1] / "small.css").stat().st_nlink == 3 and (books[1] / "small.css").read_text() == "p {}"
    shutil.rmtree(books[0].parent)
    shutil.rmtree(books[1].parent)
    rr.prune_store(store)  # no edition links them any more
    assert not [p for p in store.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_a_kept_kernel_imports_the_analysis_package_afresh_when_it_changed(tmp_path):
    """A grid worker's kernel runs for minutes; a module of ``analysis`` edited meanwhile is imported
    afresh by the next page, as a fresh kernel would."""
    import nbformat

    probe = (
        "import analysis.presentation.formats as f\nprint(getattr(f, 'seen_before', 'fresh'))\nf.seen_before = 'kept'"
    )
    first = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)])
    same = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)])
    after = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)])
    module = ROOT / "analysis" / "presentation" / "formats.py"
    kernel = rr.Kernel(tmp_path)
    try:
        kernel.execute(first, tmp_path)
        kernel.execute(same, tmp_path)
        stat = module.stat()
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # as an edit would
        try:
            kernel.execute(after, tmp_path)
        finally:
            os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    finally:
        kernel.shutdown()
    ids = ["".join(o.get("text", "") for o in nb.cells[0].outputs) for nb in (first, same, after)]
    assert ids == ["fresh\n", "kept\n", "fresh\n"]


def test_a_variant_leaves_out_what_no_page_loads(tmp_path):
    html = tmp_path / "html"
    maps = html / "_static" / "mathjax" / "sre" / "mathmaps"
    maps.mkdir(parents=True)
    for language in ("en", "de", "nb"):
        (maps / f"{language}.json").write_text("{}" * 100, encoding="utf-8")
    (html / "_static" / "mathjax" / "startup.js").write_text("//", encoding="utf-8")
    (html / "_static" / "scripts").mkdir()
    (html / "_static" / "scripts" / "fontawesome.js").write_text("x" * 1000, encoding="utf-8")
    (html / "index.html").write_text('<script src="_static/mathjax/startup.js"></script>', encoding="utf-8")
    removed = rr.slim_html(html)
    assert sorted(p.name for p in maps.iterdir()) == ["en.json"]
    assert not (html / "_static" / "scripts" / "fontawesome.js").exists()
    assert (html / "_static" / "mathjax" / "startup.js").exists()
    assert removed == 2 * 200 + 1000
    # a script that a page loads stays
    (html / "_static" / "scripts" / "fontawesome.js").write_text("x", encoding="utf-8")
    (html / "page.html").write_text('<script src="_static/scripts/fontawesome.js"></script>', encoding="utf-8")
    rr.slim_html(html)
    assert (html / "_static" / "scripts" / "fontawesome.js").exists()
    # the theme's templates copied into _static name every script: they are not pages
    (html / "page.html").unlink()
    (html / "_static" / "webpack-macros.html").write_text(
        '<script src="_static/scripts/fontawesome.js">', encoding="utf-8"
    )
    rr.slim_html(html)
    assert not (html / "_static" / "scripts" / "fontawesome.js").exists()


# --- what a build keeps for the next (book/_ext/figures.py, reading_flow.py) ------------------------------

TABLE_PAGE = (
    '<section id="s"><table class="hatbook-table"><caption>Table 6.D: Patients by clinic.</caption>'
    "<thead><tr><th>Clinic</th><th>Patients</th></tr></thead><tbody><tr><td>Oslo</td><td>12</td></tr>"
    "</tbody></table></section>"
)
HIDDEN_CODE_PAGE = (
    '<section id="a"><h2>A</h2><div class="cell tag_hide-input docutils container">'
    '<details class="hide above-input"><summary>Show code cell source</summary>'
    '<div class="cell_input docutils container"><pre>x = 1</pre></div></details></div><p>Prose.</p></section>'
)


def _extensions():
    import sys
    from pathlib import Path

    folder = str(Path(__file__).resolve().parent.parent / "book" / "_ext")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import figures
    import reading_flow

    return figures, reading_flow


def _counting(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_page_the_same_in_two_editions_is_transformed_once_and_its_csv_written_in_both(tmp_path, monkeypatch):
    figures, _ = _extensions()
    calls = _counting(monkeypatch, figures, "transform")
    cache, one, two = tmp_path / "cache", tmp_path / "one", tmp_path / "two"
    made = figures.kept_transform(TABLE_PAGE, "book/page", one, cache)
    assert 'id="table-6-d"' in made
    csv = (one / "data" / "book" / "page" / "table-6-d.csv").read_text(encoding="utf-8")
    assert csv == "Clinic,Patients\nOslo,12\n"
    assert figures.kept_transform(TABLE_PAGE, "book/page", two, cache) == made
    assert (two / "data" / "book" / "page" / "table-6-d.csv").read_text(encoding="utf-8") == csv
    assert len(calls) == 1
    # another body or another page is made afresh
    other = figures.kept_transform(TABLE_PAGE.replace("12", "13"), "book/page", two, cache)
    assert "<td>13</td>" in other and "<td>12</td>" not in other
    figures.kept_transform(TABLE_PAGE, "book/other", two, cache)
    assert len(calls) == 3


def test_a_page_executed_again_with_other_pandas_random_ids_is_taken_from_the_cache(tmp_path, monkeypatch):
    figures, _ = _extensions()
    calls = _counting(monkeypatch, figures, "transform")

    def styled(uuid):  # a table as pandas' Styler writes it: its random id in the table, its cells and its styles
        return f"<style>#{uuid}_row0_col1 {{color: red}}</style>" + TABLE_PAGE.replace(
            '<table class="hatbook-table">', f'<table id="{uuid}" class="hatbook-table">'
        ).replace("<td>12</td>", f'<td id="{uuid}_row0_col1">12</td>')

    first = figures.kept_transform(styled("T_1a2b3"), "book/page", tmp_path / "out", tmp_path / "cache")
    assert 'id="table-6-d"' in first and "T_1a2b3" not in first
    again = figures.kept_transform(styled("T_9f8e7"), "book/page", tmp_path / "again", tmp_path / "cache")
    assert again == first and len(calls) == 1
    assert (tmp_path / "again" / "data" / "book" / "page" / "table-6-d.csv").exists()
    # the ids are read by their order: a page whose two tables swap ids is still the same page, another is not
    assert figures.page_key("c", "p", "T_aaaaa T_bbbbb T_aaaaa") == figures.page_key(
        "c", "p", "T_bbbbb T_ccccc T_bbbbb"
    )
    assert figures.page_key("c", "p", "T_aaaaa T_bbbbb T_aaaaa") != figures.page_key(
        "c", "p", "T_aaaaa T_bbbbb T_bbbbb"
    )


def test_hidden_code_of_a_page_the_same_in_two_editions_is_gathered_once(tmp_path, monkeypatch):
    figures, reading_flow = _extensions()
    expected = reading_flow.gather_code(HIDDEN_CODE_PAGE)
    assert "How this is computed" in expected
    calls = _counting(monkeypatch, reading_flow, "gather_in")
    assert figures.kept_transform(HIDDEN_CODE_PAGE, "book/page", tmp_path / "one", tmp_path) == expected
    assert figures.kept_transform(HIDDEN_CODE_PAGE, "book/page", tmp_path / "two", tmp_path) == expected
    assert len(calls) == 1
    assert figures.kept_transform("<p>No code.</p>", "book/page", tmp_path, tmp_path) == "<p>No code.</p>"


def test_a_page_with_tables_and_hidden_code_is_parsed_once_and_made_as_by_two_passes(tmp_path, monkeypatch):
    from bs4 import BeautifulSoup

    figures, reading_flow = _extensions()
    page = HIDDEN_CODE_PAGE.replace("<p>Prose.</p>", "<p>Prose.</p>" + TABLE_PAGE)
    tables_only = BeautifulSoup(page, "html.parser")
    figures._charts_and_tables(tables_only, "book/page", tmp_path / "a", None)
    two_passes = reading_flow.gather_code(str(tables_only))
    parses = _counting(monkeypatch, figures, "BeautifulSoup")
    made, written = figures.transform(page, "book/page", tmp_path / "b")
    assert made == two_passes and len(parses) == 1 and len(written) == 1
    assert "How this is computed" in made and 'id="table-6-d"' in made


def test_the_build_cache_keeps_the_most_recently_used_files_within_its_size(tmp_path):
    import os
    import time

    figures, _ = _extensions()
    for age, name in enumerate("abcd"):
        path = tmp_path / name
        path.write_bytes(b"x" * 100)
        os.utime(path, (1_000_000 + age, 1_000_000 + age))  # a used least recently, d most
    (tmp_path / "stopped.part").write_bytes(b"")
    os.utime(tmp_path / "stopped.part", (1_000_000, 1_000_000))  # left by a build stopped long ago
    (tmp_path / "writing.part").write_bytes(b"")  # another build's work in progress
    assert figures.read_kept(tmp_path / "a") == "x" * 100  # reading renews a's time of use
    assert (tmp_path / "a").stat().st_mtime > time.time() - 60
    figures.prune(tmp_path, limit=250)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "d", "writing.part"]


@pytest.mark.slow
def test_the_course_guide_names_every_page_by_its_title_whichever_pages_ran_before_it(tmp_path, monkeypatch):
    """The course guide reads every page's title; in a rerun it runs beside the other pages, which become
    notebooks as they end: it must find each page as the published edition has it (run last here, after the
    pages it names)."""
    monkeypatch.setenv("HATBOOK_RERUNS_DIR", str(tmp_path))
    last = {"course_guide": 0.1, "ch04_international_context": 100.0, "ch06_5_serious_adverse_events": 90.0}
    (tmp_path / ".page-seconds.json").write_text(json.dumps(last), encoding="utf-8")
    result = rr.run_variant(rr.Variant("Bergen", 2022), jobs=1, pages=list(last), log=lambda line: None)
    assert result.ok, result.error
    guide = BeautifulSoup((result.html / "book" / "course_guide.html").read_text(encoding="utf-8"), "html.parser")
    names = {link.get_text(" ", strip=True) for link in guide.select("table.hatbook-table a[href$='.html']")}
    assert {"4 International context", "6.5 Serious adverse events"} <= names, names
    assert not any(name.startswith("ch0") for name in names), names


def _waits_for_ever(code: str = "") -> None:
    """What jupyter_client's ready check can do for a kernel that died while it started."""
    import threading

    threading.Event().wait()


def test_a_new_kernel_not_ready_in_time_is_killed_and_given_up():
    kernel = object.__new__(rr.Kernel)
    killed = []
    kernel._run_code = _waits_for_ever
    kernel.ended = lambda: False
    kernel.kill = lambda: killed.append(True)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="not ready in 1 s"):
        kernel.ready(timeout=1.0)
    assert 0.9 <= time.monotonic() - started < 3 and killed


def test_a_kernel_that_dies_while_it_starts_is_given_up_at_once(tmp_path):
    """A kernel killed before its first cell (its client waiting for ever) is seen to have ended at once: a
    process that ended but was not waited for still answers a signal, so its exit is asked of the process."""
    kernel = rr.Kernel(tmp_path)
    try:
        os.kill(kernel.pid, signal.SIGKILL)
        time.sleep(0.5)
        assert not rr._alive(kernel)  # (ended, though not yet waited for)
        kernel._run_code = _waits_for_ever
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="died while it started"):
            kernel.ready(timeout=60.0)
        assert time.monotonic() - started < 5
    finally:
        kernel.shutdown()


def test_the_page_pool_replaces_a_kernel_that_dies_while_it_starts(tmp_path, monkeypatch):
    made = []

    class Starting:
        pid, pages = None, 0

        def __init__(self, cwd) -> None:
            made.append(self)

        def ready(self) -> None:
            if len(made) == 1:
                raise RuntimeError("the kernel died while it started")

        def ended(self) -> bool:
            return False

        def kill(self) -> None:
            pass

        def shutdown(self) -> None:
            pass

    monkeypatch.setattr(rr, "Kernel", Starting)
    monkeypatch.setattr(rr, "_idle_kernel", lambda: None)
    pool = rr.PagePool(1, tmp_path, execute=lambda page, variant, kernel: kernel)
    ((page, ran_in),) = list(pool.run([(tmp_path / "page.md", None)]))
    assert len(made) == 2 and ran_in is made[1]
