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

import reader  # noqa: E402
import vega_offline  # noqa: E402


# --- helpers -------------------------------------------------------------------------------------------


def script(filename="", body=""):
    return SimpleNamespace(filename=filename, attributes={"body": body} if body else {})


def test_math_is_recognised_in_a_body():
    assert reader.has_math('<span class="math notranslate nohighlight">\\(x\\)</span>')
    assert reader.has_math("<div>$$a = b$$</div>")
    assert not reader.has_math("<p>Costs rose by 5% and $ signs in prose are not math.</p>")


def test_pages_without_math_drop_mathjax_and_keep_other_scripts():
    scripts = [script("_static/doctools.js"), script(body="window.MathJax = {tex: {}}"),
               script("_static/mathjax/tex-chtml.js"), script("_static/hatbook-tables.js")]
    context = {"script_files": list(scripts), "body": "<p>No formulas here.</p>"}
    reader._light(None, "book/x", "page.html", context, None)
    assert [s.filename for s in context["script_files"]] == ["_static/doctools.js", "_static/hatbook-tables.js"]
    context = {"script_files": list(scripts), "body": '<span class="math">\\(q\\)</span>'}
    reader._light(None, "book/x", "page.html", context, None)
    assert context["script_files"] == scripts


def test_the_icon_script_is_taken_out_of_the_head():
    head = ('<link href="s.css" rel="stylesheet" />\n'
            '  <script defer src="../_static/scripts/fontawesome.js?digest=55c2"></script>\n'
            '<link rel="preload" as="script" href="../_static/scripts/bootstrap.js" />')
    context = {}
    reader._light(None, "book/x", "page.html", context, None)
    cleaned = context["hatbook_without_fontawesome"](head)
    assert "fontawesome" not in cleaned and "s.css" in cleaned and "bootstrap.js" in cleaned


def test_vega_is_loaded_only_where_a_chart_is_drawn():
    scripts = [script("_static/doctools.js"), script("vega-bundle.js")]
    context = {"script_files": list(scripts), "body": "<p>Text only.</p>"}
    vega_offline._only_where_charts(None, "book/x", "page.html", context, None)
    assert [s.filename for s in context["script_files"]] == ["_static/doctools.js"]
    context = {"script_files": list(scripts), "body": '<script>vegaEmbed("#hatbook-chart-1", spec)</script>'}
    vega_offline._only_where_charts(None, "book/x", "page.html", context, None)
    assert context["script_files"] == scripts


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


def test_landing_page_opens_with_glued_and_linked_key_figures(built_html):
    page = soup(built_html / "book" / "index.html")
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
    assert any("vega-bundle.js" in s for s in loaded_scripts(charts))


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
