"""The PDF edition (`make pdf`): the whole book as one PDF, checked page count, contents, charts and numbers.

The PDF is built once per test session by :func:`hatbook.pdf.build_pdf` (what ``make pdf`` runs) into
``_build/pdf`` beside the session's HTML build (``book_build`` in conftest.py; HATBOOK_TEST_BUILD_DIR
keeps it between runs), reusing that build's executed notebooks, so the pages are not executed twice.
It needs TeX Live (``make pdf-deps``): without xelatex the tests of the PDF are skipped, except in CI
(CI set), where a missing TeX Live is a failure.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from hatbook.pdf import PdfError, build_pdf, document_name, install_hint, missing_tools, prepare_work

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
IN_CI = bool(os.environ.get("CI"))
GLUE_TEXT = re.compile(r"\{glue:text\}`([^`]+)`")


# --- helpers, tested on their own ------------------------------------------------------------------------


def toc_pages() -> list[str]:
    """The pages of _toc.yml in reading order (the root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries:
            pages.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part["chapters"])
    walk(toc.get("chapters", []))
    return pages


def page_title(page: str) -> str:
    """The first ``# `` heading of a page's MyST source."""
    for line in (ROOT / f"{page}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{page} has no title")


def normalise(text: str) -> str:
    """Text for comparison: ligatures, quotes, dashes and spaces made plain, case folded."""
    replace = {
        "ﬁ": "fi",
        "ﬂ": "fl",
        "ﬀ": "ff",
        "ﬃ": "ffi",
        "ﬄ": "ffl",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u00ad": "",
    }
    text = "".join(replace.get(ch, ch) for ch in text)
    return " ".join(text.split()).casefold()


def glued_pastes(page: str) -> list[tuple[str, str]]:
    """``(key, format spec)`` of every ``{glue:text}`` role in a page (keys of other pages left out)."""
    found = []
    for match in GLUE_TEXT.finditer((ROOT / f"{page}.md").read_text(encoding="utf-8")):
        text = match.group(1)
        if "::" in text:
            continue
        key, _, spec = text.rpartition(":") if ":" in text else (text, "", "")
        found.append((key, spec or "s") if key else (text, "s"))
    return found


def expected_text(glue: dict, key: str, spec: str) -> str | None:
    """The text myst-nb pastes for ``key`` with ``spec`` (None when the page glued no plain text for it)."""
    from myst_nb.core.variables import format_plain_text

    plain = glue.get(key, {}).get("data", {}).get("text/plain")
    if plain is None:
        return None
    try:
        return format_plain_text(plain, spec)
    except (ValueError, TypeError):
        return None


def compact(text: str) -> str:
    """Normalised text without any white space: text extracted from a PDF loses some spaces and not others."""
    return re.sub(r"\s+", "", normalise(text))


def contains_number(text: str, value: str) -> bool:
    """Whether ``value`` occurs in the compacted ``text`` as a whole (not inside a longer number).

    A comma just before it is allowed unless a digit precedes that comma ("6.F, 0.3093" compacts to
    "6.F,0.3093"; in "1,234" the 234 is part of a longer number)."""
    return re.search(r"(?<![\d.])(?<!\d,)" + re.escape(compact(value)) + r"(?![\d]|[.,]\d)", text) is not None


def test_missing_tex_live_says_what_to_install(monkeypatch):
    import hatbook.pdf as pdf_module

    monkeypatch.setattr(pdf_module.shutil, "which", lambda tool: None)
    with pytest.raises(PdfError) as error:
        pdf_module.check_tools()
    message = str(error.value)
    assert "xelatex" in message and "make pdf-deps" in message
    assert all(package in message for package in pdf_module.DEBIAN_PACKAGES)


def test_changed_inputs_clear_the_saved_pages_as_well_as_the_executed_notebooks(tmp_path):
    """Sphinx re-executes only the pages it re-reads: a stale saved environment would keep old numbers."""
    source, work = tmp_path / "source", tmp_path / "work"
    (source / "data").mkdir(parents=True)
    (source / "data" / "table.csv").write_text("a\n1\n")
    for kept in (".jupyter_cache", ".doctrees"):
        (work / "_build" / kept).mkdir(parents=True)
    (work / ".inputs-digest").write_text("digest of other inputs")
    _config, digest_file, digest = prepare_work(work, {}, "_config.yml", source, None, lambda _m: None, "the test's")
    assert not (work / "_build" / ".jupyter_cache").exists() and not (work / "_build" / ".doctrees").exists()
    # unchanged inputs keep both
    digest_file.write_text(digest)
    for kept in (".jupyter_cache", ".doctrees"):
        (work / "_build" / kept).mkdir()
    prepare_work(work, {}, "_config.yml", source, None, lambda _m: None, "the test's")
    assert (work / "_build" / ".jupyter_cache").exists() and (work / "_build" / ".doctrees").exists()


def test_title_page_settings_name_the_edition(tmp_path):
    from hatbook.pdf import PUBLISHED_EDITION, pdf_config

    published = pdf_config(ROOT, title=None, edition=None, data_source=None, execution_cache=None)
    settings = published["sphinx"]["config"]
    assert settings["hatbook_pdf_edition"] == PUBLISHED_EDITION
    assert "hatbook_pdf_data_source" not in settings  # the extension's note on the bundled data
    assert published["latex"]["latex_documents"]["title"] == page_title("book/index")
    assert all(Path(path).is_absolute() for path in published["sphinx"]["local_extensions"].values())
    rerun = pdf_config(
        ROOT, title="Bergen, data through 2023", edition=None, data_source=None, execution_cache=tmp_path
    )
    assert rerun["sphinx"]["config"]["hatbook_pdf_edition"] == "Bergen, data through 2023"
    assert "rerun" in rerun["sphinx"]["config"]["hatbook_pdf_data_source"]
    assert rerun["execute"]["cache"] == str(tmp_path)


def test_html_tables_become_latex_tables():
    """The extension's reading of a pandas Styler table: header, spans, caption, widths."""
    import sys

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import pdf_edition

    html = (
        '<style>td {color: red}</style><table class="hatbook-table"><caption>Counts</caption>'
        '<thead><tr><th colspan="2">Clinic</th><th>N</th></tr></thead>'
        '<tbody><tr><td rowspan="2">Oslo</td><td>2022</td><td>&lt;5</td></tr>'
        "<tr><td>2023</td><td>12</td></tr></tbody></table>"
    )
    parsed = pdf_edition.parse_tables(html)
    assert len(parsed.tables) == 1 and parsed.tables[0].caption == "Counts"
    table = pdf_edition.to_docutils(parsed.tables[0], [])
    assert table is not None
    group = next(iter(table.findall(pdf_edition.nodes.tgroup)))
    assert group["cols"] == 3
    entries = [e for e in table.findall(pdf_edition.nodes.entry)]
    assert entries[0]["morecols"] == 1 and entries[2]["morerows"] == 1
    assert [e.astext() for e in entries] == ["Clinic", "N", "Oslo", "2022", "<5", "2023", "12"]
    wide = pdf_edition.Need(3)
    for column, text in enumerate(["Advantages", "word " * 40, "longer " * 30]):
        wide.add(column, text, header=False)
    widths = pdf_edition.allocate(wide, 112)
    assert widths[0] >= len("Advantages") and sum(widths) <= 112


def test_helpers():
    assert normalise("Fig\u00a06.A – “ﬁne”") == 'fig 6.a - "fine"'
    assert compact("6.1 Patient\nenrollment") == "6.1patientenrollment"
    assert contains_number("of136patients", "136")
    assert not contains_number("of1136patients", "136")
    assert not contains_number("of136.5patients", "136")
    assert contains_number("(78%)", "78")
    assert contains_number("about5,551people", "5,551")
    assert toc_pages()[0] == "book/index"
    assert page_title("book/ch06_5_serious_adverse_events") == "6.5 Serious adverse events"


# --- the build ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pdf(book_build) -> dict:
    """Build the PDF once: its path, the work folder (notebooks, LaTeX) and the PDF's text per page."""
    missing = missing_tools()
    if missing and not IN_CI:
        pytest.skip(f"no TeX Live here (missing {', '.join(missing)}). {install_hint()}")
    # beside the HTML book, as `make pdf` puts it (_build/pdf next to _build/html)
    base = book_build.html.parent / "pdf"
    cache = book_build.html.parent / ".jupyter_cache"  # the HTML build's executed notebooks
    try:
        # not strict, so that the checks below run even when a page warns; the warnings are a test of their own
        path = build_pdf(
            ROOT,
            base,
            work_dir=base / "work",
            execution_cache=cache if cache.is_dir() else None,
            strict=False,
            log=lambda message: None,
        )
    except PdfError as error:
        pytest.fail(f"make pdf would fail:\n{error}")
    from pypdf import PdfReader

    reader = PdfReader(path)
    return {
        "path": path,
        "work": base / "work",
        "reader": reader,
        "pages": [compact(page.extract_text() or "") for page in reader.pages],
    }


def outline_titles(reader) -> list[str]:
    titles = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(compact(item.title))

    walk(reader.outline)
    return titles


def test_pdf_build_has_no_warnings(pdf):
    """`make pdf` treats warnings as errors, as `make book` does (e.g. an HTML-only output left out)."""
    log = (pdf["work"] / "sphinx.log").read_text(encoding="utf-8")
    warnings = [line for line in log.splitlines() if re.search(r"\b(WARNING|ERROR):", line)]
    assert warnings == []


def test_pdf_is_named_after_the_configured_document(pdf):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert pdf["path"].name == f"{document_name(config)}.pdf" == "hat-evaluation.pdf"


def test_page_count_is_that_of_a_whole_book(pdf):
    pages = len(pdf["reader"].pages)
    # every page of the book starts on a page of its own, and a page is rarely shorter than one sheet
    assert len(toc_pages()) <= pages < 1000, pages


def test_title_page_names_the_edition_and_the_data(pdf):
    first = pdf["pages"][0]
    assert compact(page_title("book/index")) in first
    assert "publishededition" in first
    assert "synthetic" in first and "data/published" in first
    assert pdf["reader"].metadata.subject == "Published edition"


def test_contents_lists_every_chapter(pdf):
    outline = outline_titles(pdf["reader"])
    contents = " ".join(pdf["pages"][1:6])
    missing_outline = [page for page in toc_pages()[1:] if compact(page_title(page)) not in outline]
    assert missing_outline == [], "chapters missing from the PDF's bookmarks"
    assert "contents" in contents
    missing_contents = [page for page in toc_pages()[1:] if compact(page_title(page))[:30] not in contents]
    assert missing_contents == [], "chapters missing from the table of contents"


def test_every_chapter_title_is_in_the_text(pdf):
    text = " ".join(pdf["pages"])
    missing = [page for page in toc_pages()[1:] if compact(page_title(page)) not in text]
    assert missing == []


def test_no_running_figure_or_table_numbers(pdf):
    # captions carry the report's labels; LaTeX's own "Figure 1:" / "Table 3.1" numbering is switched off
    text = " ".join(pdf["pages"])
    assert re.findall(r"(?:fig\.|figure|table)\d+(?:\.\d+)?:", text) == []
    assert re.findall(r"table\d+\.\d+-continued", text) == []


GLUE_FIGURE = re.compile(r"^```\{glue(?::figure)?\}\s+(\S+)", re.MULTILINE)


def charts_in_book(execute: Path) -> int:
    """Charts the book shows: pasted glue outputs that carry a PNG, and notebook outputs with a PNG."""
    count = 0
    for page in toc_pages():
        glue_file = execute / f"{page}.glue.json"
        glue = json.loads(glue_file.read_text(encoding="utf-8")) if glue_file.exists() else {}
        source = (ROOT / f"{page}.md").read_text(encoding="utf-8")
        count += sum(1 for key in GLUE_FIGURE.findall(source) if "image/png" in glue.get(key, {}).get("data", {}))
        notebook = execute / f"{page}.ipynb"
        if notebook.exists():
            for cell in json.loads(notebook.read_text(encoding="utf-8")).get("cells", []):
                tags = set(cell.get("metadata", {}).get("tags", []))
                if tags & {"remove-output", "remove-cell"}:
                    continue
                for output in cell.get("outputs", []):
                    glued = "scrapbook" in output.get("metadata", {})
                    if not glued and "image/png" in output.get("data", {}):
                        count += 1
    return count


def test_every_chart_is_an_image_in_the_pdf(pdf):
    charts = charts_in_book(pdf["work"] / "_build" / "jupyter_execute")
    images = sum(len(page.images) for page in pdf["reader"].pages)
    assert charts > 0
    assert images >= charts, f"{images} images in the PDF for {charts} charts in the book"


def test_glued_values_are_in_the_text(pdf):
    """A sample of the numbers glued into the prose, from every computed page, appears in the PDF."""
    text = " ".join(pdf["pages"])
    execute = pdf["work"] / "_build" / "jupyter_execute"
    checked, missing = 0, []
    for page in toc_pages():
        glue_file = execute / f"{page}.glue.json"
        if not glue_file.exists():
            continue
        glue = json.loads(glue_file.read_text(encoding="utf-8"))
        pastes = glued_pastes(page)
        for key, spec in pastes[:: max(1, len(pastes) // 8)]:  # about eight per page, spread over it
            value = expected_text(glue, key, spec)
            if value is None or not re.search(r"\d", value):
                continue
            checked += 1
            if not contains_number(text, value):
                missing.append(f"{page}: {key} = {value}")
    assert checked >= 20, f"only {checked} glued numbers found to check"
    assert missing == [], f"{len(missing)} of {checked} glued numbers not found in the PDF"


def test_html_book_links_the_pdf_or_says_how_to_make_it(pdf, built_html):
    """The home page links the PDF when it was built before the HTML book, and otherwise says how to make it
    (here the HTML book is built first, as by `make book` before `make pdf`); a link always finds the PDF."""
    from bs4 import BeautifulSoup

    index = built_html / "book" / "index.html"
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    links = [a["href"] for a in soup.find_all("a", href=True) if a["href"].endswith(".pdf")]
    text = " ".join(soup.get_text(" ").split())
    assert links or "make pdf" in text, "the home page neither links the PDF nor says how to make it"
    assert all((index.parent / link).resolve() == pdf["path"].resolve() for link in links), links


def test_norwegian_letters_survive(pdf):
    text = " ".join(pdf["pages"])
    for word in ("bjørnstad", "haukeland"):
        assert word in text
    assert re.search(r"[æøå]", text)
