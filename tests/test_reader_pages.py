"""What a reader meets: key figures first, light pages, citation and link-preview tags.

The helpers of book/_ext/reader.py and vega_offline.py are tested on hand-made input; the rest reads a
built book (slow).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from docutils import nodes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import figures  # noqa: E402
import reader  # noqa: E402
import reading_flow  # noqa: E402
import vega_offline  # noqa: E402

# --- helpers -------------------------------------------------------------------------------------------


def script(filename="", body=""):
    return SimpleNamespace(filename=filename, attributes={"body": body} if body else {})


def test_math_is_recognised_in_a_body():
    assert reader.has_math('<span class="math notranslate nohighlight">\\(x\\)</span>')
    assert reader.has_math("<div>$$a = b$$</div>")
    assert not reader.has_math("<p>Costs rose by 5% and $ signs in prose are not math.</p>")


def test_pages_without_math_drop_mathjax_and_keep_other_scripts():
    scripts = [
        script("_static/doctools.js"),
        script(body="window.MathJax = {tex: {}}"),
        script("_static/mathjax/tex-chtml.js"),
        script("_static/hatbook-tables.js"),
    ]
    context = {"script_files": list(scripts), "body": "<p>No formulas here.</p>"}
    reader._light(None, "book/x", "page.html", context, None)
    assert [s.filename for s in context["script_files"]] == ["_static/doctools.js", "_static/hatbook-tables.js"]
    context = {"script_files": list(scripts), "body": '<span class="math">\\(q\\)</span>'}
    reader._light(None, "book/x", "page.html", context, None)
    assert context["script_files"] == scripts


def test_the_icon_script_is_taken_out_of_the_head():
    head = (
        '<link href="s.css" rel="stylesheet" />\n'
        '  <script defer src="../_static/scripts/fontawesome.js?digest=55c2"></script>\n'
        '<link rel="preload" as="script" href="../_static/scripts/bootstrap.js" />'
    )
    context = {}
    reader._light(None, "book/x", "page.html", context, None)
    cleaned = context["hatbook_without_fontawesome"](head)
    assert "fontawesome" not in cleaned and "s.css" in cleaned and "bootstrap.js" in cleaned


def test_the_chart_loader_is_loaded_only_where_a_chart_is_drawn():
    scripts = [script("_static/doctools.js"), script("hatbook-charts.js")]
    context = {"script_files": list(scripts), "body": "<p>Text only.</p>"}
    vega_offline._only_where_charts(None, "book/x", "page.html", context, None)
    assert [s.filename for s in context["script_files"]] == ["_static/doctools.js"]
    context = {"script_files": list(scripts), "body": '<div id="hatbook-chart-1" class="hatbook-chart"></div>'}
    vega_offline._only_where_charts(None, "book/x", "page.html", context, None)
    assert context["script_files"] == scripts


def test_mathjax_is_its_loader_and_the_components_the_book_needs():
    app = SimpleNamespace(
        builder=SimpleNamespace(format="html"),
        config=SimpleNamespace(
            mathjax_path="mathjax/tex-chtml.js", mathjax3_config={"options": {"processHtmlClass": "math"}}
        ),
    )
    reader._light_mathjax(app)
    assert app.config.mathjax_path == "mathjax/startup.js"
    assert app.config.mathjax3_config == {
        "options": {"processHtmlClass": "math"},
        "loader": {"load": ["input/tex", "output/chtml", "a11y/assistive-mml"]},
    }
    shipped = ROOT / ".venv" / "lib"
    for component in ["startup", *reader.MATHJAX_COMPONENTS]:  # each is a file of the offline MathJax
        assert list(shipped.glob(f"python*/site-packages/sphinx-mathjax-offline/static/mathjax/{component}.js")), (
            component
        )


def test_description_is_the_first_paragraph_of_prose_cut_at_a_word():
    document = nodes.document(None, None)
    note = nodes.admonition()
    note += nodes.paragraph(text="A note that is long enough to be taken but sits in an admonition box.")
    document += note
    document += nodes.paragraph(text="Short.")
    document += nodes.paragraph(text="word " * 60)
    text = reader.description(document, limit=30)
    assert text == "word word word word word word…"
    assert reader.description(None) == ""


def test_the_pdf_is_linked_only_when_the_build_has_one(tmp_path):
    html = tmp_path / "_build" / "html"
    html.mkdir(parents=True)
    app = SimpleNamespace(outdir=str(html), builder=SimpleNamespace(format="html"))
    assert "make pdf" in reader.pdf_paragraph(app, "book/index").astext()
    assert not list(reader.pdf_paragraph(app, "book/index").findall(nodes.reference))
    (tmp_path / "_build" / "pdf").mkdir()
    (tmp_path / "_build" / "pdf" / "hat-evaluation.pdf").write_bytes(b"%PDF-1.5\n")
    links = list(reader.pdf_paragraph(app, "book/index").findall(nodes.reference))
    assert [link["refuri"] for link in links] == ["../../pdf/hat-evaluation.pdf"]


def test_citation_names_version_and_build_day(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # 2026-05-28
    app = SimpleNamespace(config=SimpleNamespace(html_baseurl=""))
    plain, bibtex = reader.citation_texts(app)
    assert "built 2026-05-28" in plain and "version 0.1.0" in plain and "SERAF" in plain
    assert bibtex.startswith("@misc{") and "year         = {2026}" in bibtex and bibtex.endswith("}")
    assert bibtex.count("{") == bibtex.count("}")


# --- the built book ------------------------------------------------------------------------------------


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def loaded_scripts(page: BeautifulSoup) -> list[str]:
    return [tag["src"] for tag in page.find_all("script", src=True)]


@pytest.mark.parametrize("name", ["index", "executive_summary"])
def test_landing_page_and_summary_open_with_glued_and_linked_key_figures(built_html, name):
    page = soup(built_html / "book" / f"{name}.html")
    first = page.select_one("article h1").find_next(
        lambda tag: (
            (tag.name == "h2" and "Key figures" not in tag.get_text()) or "hatbook-key-figures" in tag.get("class", [])
        )
    )
    assert first is not None and "hatbook-key-figures" in first.get("class", []), "the cards come first"
    cards = page.select(".hatbook-key-figures .hatbook-card")
    assert len(cards) >= 5
    for card in cards:
        value = card.select_one(".hatbook-card-value").get_text(" ", strip=True)
        assert re.search(r"\d", value), f"a key figure without a number: {card.get_text(' ', strip=True)}"
        assert card.select(".sd-badge"), "a key figure without its source badge"
        assert card.find("a", href=re.compile(r"\.html")), "a key figure without a link to its page"
    text = page.get_text(" ")
    assert "come next" not in text
    assert "hat-evaluation.pdf" not in text or (built_html.parent / "pdf" / "hat-evaluation.pdf").is_file()


def test_text_pages_load_neither_vega_nor_mathjax_and_no_page_loads_the_icon_script(built_html):
    glossary = soup(built_html / "book" / "glossary.html")
    assert not [s for s in loaded_scripts(glossary) if "vega" in s or "mathjax" in s.lower()]
    for path in built_html.rglob("*.html"):
        if "_static" not in path.parts:  # the theme's own templates are copied there; pages are not
            assert "fontawesome.js" not in path.read_text(encoding="utf-8"), path
    charts = soup(built_html / "book" / "ch06_1_enrollment_retention.html")
    # Vega itself is fetched by the chart loader when a reader points at, touches or tabs to a chart
    # (book/_static/hatbook-charts.js)
    assert any("hatbook-charts.js" in s for s in loaded_scripts(charts))
    assert not any("vega-bundle.js" in s for s in loaded_scripts(charts))


def test_every_icon_class_is_in_the_icon_subset(built_html):
    kept = set(json.loads((ROOT / "book" / "_static" / "fonts" / "icons.json").read_text())["classes"])
    used = set()
    for path in built_html.rglob("*.html"):
        for classes in re.findall(r'class="([^"]*)"', path.read_text(encoding="utf-8")):
            used |= set(re.findall(r"\bfa-[a-z0-9-]+", classes))
    import icon_subset

    missing = used - icon_subset.MODIFIERS - kept
    assert not missing, f"icons not in book/_static/fonts (run book/_ext/icon_subset.py): {sorted(missing)}"


def test_pages_carry_description_and_link_preview_tags_and_the_footer_stamp(built_html):
    page = soup(built_html / "book" / "ch06_1_enrollment_retention.html")
    description = page.find("meta", attrs={"name": "description"})
    assert description and len(description["content"]) > 40
    assert page.find("meta", property="og:title")["content"].startswith("6.1")
    footer = page.select_one(".hatbook-footer").get_text(" ", strip=True)
    assert "Version" in footer and "built" in footer and "MIT" in footer and "SERAF" in footer
    cite = soup(built_html / "book" / "cite.html").get_text("")
    assert "@misc{" in cite and "Plain text" in cite


# --- charts and tables of a page (book/_ext/figures.py) --------------------------------------------------

CHART_SPEC = {
    "$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json",
    "description": "Bar chart: Admissions by Year, coloured by Clinic.",
    "datasets": {
        "data-1": [
            {"year": 2024, "clinic": "Oslo", "admissions": 12},
            {"year": 2024, "clinic": "Bergen", "admissions": "<5"},
            {"year": 2025, "clinic": "Oslo", "admissions": -1.23456},
        ]
    },
    "data": {"name": "data-1"},
    "mark": {"type": "bar"},
    "encoding": {
        "x": {"field": "year", "type": "ordinal", "title": "Year of admission"},
        "y": {"field": "admissions", "type": "quantitative", "title": "Admissions"},
        "color": {"field": "clinic", "type": "nominal", "title": "Clinic"},
    },
    "width": "container",
    "height": 200,
}


def chart_body(spec=CHART_SPEC, caption="Figure 6.A: Admissions per year."):
    from analysis.presentation.charts import chart_html

    return (
        f'<section id="s"><figure id="fig-6a"><div class="output text_html">{chart_html(spec)}</div>'
        f"<figcaption><p>{caption}</p></figcaption></figure></section>"
    )


def test_a_chart_is_drawn_at_build_time_with_its_data_as_table_and_csv(tmp_path):
    body, written = figures.transform(chart_body(), "book/page", tmp_path)
    page = BeautifulSoup(body, "html.parser")
    box = page.select_one(".hatbook-chart")
    assert not page.find("script", type=lambda t: t != "application/json"), "no script runs the chart"
    assert box.select_one(".hatbook-chart-static svg"), "the drawing made at build time is in the box"
    assert box["aria-label"] == CHART_SPEC["description"]
    assert page.find(id=box["aria-describedby"]).get_text(strip=True).startswith("Figure 6.A")
    # the specification stays in the page as data, where the rerun's disclosure audit reads it
    block = page.find(id=box["data-hatbook-spec"])
    assert block.name == "script" and block["type"] == "application/json"
    assert not block["id"].startswith("hatbook-chart-")
    assert json.loads(block.string) == CHART_SPEC
    assert box["data-hatbook-vega"] == "../_static/vega-bundle.js"
    data = page.select_one("details.hatbook-chart-data")
    assert data.summary.get_text() == "Data for this chart"
    cells = [[c.get_text() for c in row.find_all(["th", "td"])] for row in data.find_all("tr")]
    assert cells == [
        ["Year of admission", "Clinic", "Admissions"],
        ["2024", "Oslo", "12"],
        ["2024", "Bergen", "<5"],
        ["2025", "Oslo", "\u22121.235"],
    ]
    assert data.find("th", string="Clinic")["class"] == ["hatbook-text"], "words left-aligned"
    assert not data.find("th", string="Admissions").get("class"), "numbers (and markers) right-aligned"
    csv_path = tmp_path / "data" / "book" / "page" / "fig-6a.csv"
    assert csv_path in written and data.find("a", href="../data/book/page/fig-6a.csv")
    assert csv_path.read_text().splitlines()[0] == "Year of admission,Clinic,Admissions"
    # the CSV holds the rows as the table shows them
    assert "<5" in csv_path.read_text(), "a suppression marker stays as the chart shows it"


def test_the_disclosure_audit_still_reads_a_charts_data(tmp_path):
    from hatbook.disclosure_audit import audit_html

    small = {
        **CHART_SPEC,
        "datasets": {"data-1": [{"year": 2024, "clinic": "Oslo", "patients": 2}]},
        "encoding": {**CHART_SPEC["encoding"], "y": {"field": "patients", "type": "quantitative"}},
    }
    body, _ = figures.transform(chart_body(small), "book/page", tmp_path)
    findings, _ = audit_html("p.html", body, 5)
    assert [value for _, where, _, value in findings if where.startswith("chart data")] == ["2"]


def test_a_chart_that_only_says_something_gets_no_data_table(tmp_path):
    spec = {
        "description": "Too few patients for this chart.",
        "data": {"values": [{"text": "Too few patients."}]},
        "mark": {"type": "text"},
        "encoding": {"text": {"field": "text", "type": "nominal"}},
    }
    body, _ = figures.transform(chart_body(spec), "book/page", tmp_path)
    page = BeautifulSoup(body, "html.parser")
    assert page.select_one(".hatbook-chart-static svg") and not page.select("details.hatbook-chart-data")


def test_the_static_drawing_keeps_its_words_and_rounds_only_coordinates():
    from analysis.presentation.charts import readable

    spec = readable({**CHART_SPEC, "width": 300})
    svg = figures.static_svg(spec)
    assert "<svg" in svg and "max-width:100%" in svg and "aria-roledescription" not in svg
    assert re.search(r'\sd="[^"]*\d\.\d{2,}', svg) is None
    assert "Year of admission" in svg and "Admissions" in svg


STYLED_TABLE = """<section id="sec-a"><style type="text/css">
#T_ab12f_row0_col1 { color: red; }
#T_ab12f th { text-align: left; }
</style>
<table id="T_ab12f" class="hatbook-table"><caption>Table 6.D: Days in treatment, by group.</caption>
<thead><tr><th id="T_ab12f_level0_col0" class="col_heading">Group</th><th colspan="2">Days</th></tr></thead>
<tbody><tr><th id="T_ab12f_level0_row0">Continued</th><td id="T_ab12f_row0_col1">1,234</td><td>&lt;5</td></tr>
<tr><th>Discontinued</th><td>\u22121.5</td><td>–</td></tr></tbody></table>
<table><tbody><tr><td>a</td></tr></tbody></table></section>"""


def test_tables_get_a_stable_anchor_and_a_csv_of_what_they_show(tmp_path):
    body, written = figures.transform(STYLED_TABLE, "book/ch06_7", tmp_path)
    page = BeautifulSoup(body, "html.parser")
    first, second = page.find_all("table")
    assert first["id"] == "table-6-d" and "T_ab12f" not in body, "the random id is gone, styles follow"
    assert "#table-6-d_row0_col1" in page.style.string and page.find(id="table-6-d_row0_col1")
    assert second["id"] == "sec-a-table-2"
    link = first.find_next_sibling("p", class_="hatbook-download").a
    assert link.get_text() == "Download CSV" and "Table 6.D" in link["aria-label"]
    rows = (tmp_path / "data" / "book" / "ch06_7" / "table-6-d.csv").read_text().splitlines()
    assert rows == ["Group,Days,Days", 'Continued,"1,234",<5', "Discontinued,\u22121.5,–"]
    again, _ = figures.transform(STYLED_TABLE, "book/ch06_7", tmp_path)
    assert BeautifulSoup(again, "html.parser").find("table")["id"] == "table-6-d", "the same anchor each build"


def test_a_date_of_a_charts_data_is_shown_as_its_day():
    assert figures.shown_value("2022-12-31T00:00:00", quantity=False) == "2022-12-31"
    assert figures.shown_value(1234567.0) == "1,234,567" and figures.shown_value(-0.5) == "\u22120.5"
    assert figures.shown_value(2022, quantity=False) == "2022"


def test_slugs_and_anchors():
    assert figures.table_anchor("Table 4.1: Trials of HAT", "x") == "table-4-1"
    assert (
        figures.table_anchor("Costs per patient-year (NOK), by clinic and year", "x")
        == "table-costs-per-patient-year-nok-by-clinic-and"
    )
    assert figures.table_anchor("", "fallback") == "fallback"
    assert figures.slug("Behandling på Ålesund") == "behandling-pa-alesund"


# --- reading flow (book/_ext/reading_flow.py) ------------------------------------------------------------


def hidden_cell(code: str, output: str = "") -> str:
    return (
        f'<div class="cell tag_hide-input docutils container"><details class="hide above-input">'
        f'<summary>Show code cell source</summary><div class="cell_input docutils container"><pre>{code}</pre>'
        f"</div></details>{output and f'<div class=cell_output>{output}</div>'}</div>"
    )


def test_hidden_code_of_a_section_is_one_disclosure_after_its_text():
    body = (
        '<section id="a"><h2>A</h2>'
        + hidden_cell("x = 1")
        + "<p>Prose one.</p>"
        + hidden_cell("show(x)", "<p>Out one</p>")
        + '<div class="solution"><div class="cell tag_hide-input">'
        + hidden_cell("answer()")
        + "</div></div>"
        + '<section id="b"><h3>B</h3>'
        + hidden_cell("y = 2", "<p>Out two</p>")
        + "</section></section>"
    )
    page = BeautifulSoup(reading_flow.gather_code(body), "html.parser")
    outer, inner = page.find(id="a"), page.find(id="b")
    how = outer.find("details", class_="hatbook-how", recursive=False)
    assert how.summary.get_text() == "How this is computed"
    assert [pre.get_text() for pre in how.find_all("pre")] == ["x = 1", "show(x)"]
    assert how.find_next_sibling("section") is inner, "before the subsections"
    assert [p.get_text() for p in outer.find_all("p", recursive=True)][:2] == ["Prose one.", "Out one"]
    assert [pre.get_text() for pre in inner.find("details", class_="hatbook-how").find_all("pre")] == ["y = 2"]
    assert len(page.select("details.hatbook-how")) == 2
    assert page.select_one(".solution details.above-input"), "code of an exercise's solution stays"
    assert reading_flow.gather_code("<p>No code.</p>") == "<p>No code.</p>"


def test_the_search_index_skips_code():
    cell = nodes.container(classes=["cell_input"])
    output = nodes.container(classes=["cell_output"])
    dump = nodes.literal_block(text="<chart>")
    output += dump
    assert reading_flow.is_code(cell) and reading_flow.is_code(dump)
    assert not reading_flow.is_code(nodes.paragraph(text="prose")) and not reading_flow.is_code(nodes.Text("x"))
    reading_flow._index_prose_only()
    from docutils.utils import new_document
    from sphinx.search import IndexBuilder

    document = new_document("page")
    document += nodes.paragraph(text="retention improved")
    code = nodes.container(classes=["cell_input"])
    code += nodes.literal_block(text="secret_variable = compute()")
    document += code
    builder = IndexBuilder.__new__(IndexBuilder)
    builder.lang = SimpleNamespace(split=lambda text: text.split(), lang="en")
    words = builder._word_collector(document).words
    assert words == ["retention", "improved"]
    assert "secret_variable" in document.astext(), "the page itself keeps its code"


def test_a_drawing_is_kept_by_chart_and_drawer_and_reused(tmp_path):
    from analysis.presentation.charts import readable

    spec = readable({**CHART_SPEC, "width": 300})
    first = figures.static_svg(spec, tmp_path)
    kept = list(tmp_path.iterdir())
    assert len(kept) == 1 and kept[0].name.endswith(f"-{figures.DRAWING_VERSION}.svg")
    assert figures.static_svg(spec, tmp_path) == first  # read back from the kept file, which is gzipped
    kept[0].write_text("<svg>kept</svg>", encoding="utf-8")
    assert figures.static_svg(spec, tmp_path) == "<svg>kept</svg>" and first.startswith("<svg")
