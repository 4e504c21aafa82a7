"""The built book renders with no network: no script or stylesheet from another host."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow


def external_assets(html: str) -> list[str]:
    """Addresses of scripts, stylesheets and preloads that point to another host."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for tag in soup.find_all("script", src=True):
        found.append(tag["src"])
    for tag in soup.find_all("link", href=True):
        rel = {value.lower() for value in tag.get("rel", [])}
        if rel & {"stylesheet", "preload", "modulepreload", "prefetch", "icon"}:
            found.append(tag["href"])
    return [address for address in found if urlparse(address).netloc or address.startswith("//")]


def test_checker_finds_a_cdn_script():
    page = '<script src="https://cdn.example.org/vega.js"></script><script src="_static/x.js"></script>'
    assert external_assets(page) == ["https://cdn.example.org/vega.js"]
    assert external_assets('<link rel="stylesheet" href="//fonts.example.org/a.css">') == ["//fonts.example.org/a.css"]


def test_no_page_loads_assets_from_another_host(built_html):
    offenders = {}
    for page in sorted(built_html.rglob("*.html")):
        found = external_assets(page.read_text(encoding="utf-8"))
        if found:
            offenders[str(page.relative_to(built_html))] = found
    assert offenders == {}


def test_vega_ships_with_the_book(built_html):
    bundle = built_html / "_static" / "vega-bundle.js"
    assert bundle.is_file() and bundle.stat().st_size > 100_000
    assert "window.vegaEmbed" in bundle.read_text(encoding="utf-8")
    # the pages that draw a chart name the bundle, which their loader fetches when a reader interacts with a chart
    chart_page = (built_html / "book" / "ch06_1_enrollment_retention.html").read_text(encoding="utf-8")
    assert 'data-hatbook-vega="../_static/vega-bundle.js"' in chart_page
    assert "_static/hatbook-charts.js" in chart_page
    assert "window.vegaEmbed" in (built_html / "_static" / "hatbook-charts.js").read_text(encoding="utf-8")


def test_the_book_ships_the_one_chart_fitting_script(built_html):
    """The script that narrows a grid of views is the package's chart_fit.js, which a notebook's chart also
    runs (analysis/presentation/charts.py): the book's copy is that file, and the loader calls it."""
    from analysis.presentation import charts

    shipped = built_html / "_static" / "chart_fit.js"
    assert shipped.is_file() and not shipped.is_symlink()
    assert shipped.read_text(encoding="utf-8") == charts.chart_fit_script()
    assert "function narrower" in charts.chart_fit_script()
    loader = (built_html / "_static" / "hatbook-charts.js").read_text(encoding="utf-8")
    assert '"chart_fit.js"' in loader and "window.hatbookChartFit(" in loader
    assert "function narrower" not in loader


def test_math_renders_offline(built_html):
    mathjax = built_html / "_static" / "mathjax"
    assert (mathjax / "startup.js").is_file()
    for component in ("core", "input/tex", "output/chtml", "output/chtml/fonts/tex", "a11y/assistive-mml"):
        assert (mathjax / f"{component}.js").is_file(), component


def test_charts_are_drawn_from_the_local_bundle_and_their_specification_in_the_page(built_html):
    pages = [p for p in built_html.rglob("*.html") if "hatbook-chart-" in p.read_text(encoding="utf-8")]
    assert pages, "no page of the book has a chart"
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for box in soup.select('div[id^="hatbook-chart-"]'):
            spec = soup.find("script", id=box["data-hatbook-spec"], type="application/json")
            assert spec is not None and json.loads(spec.string).get("$schema"), (page.name, box["id"])
            assert (page.parent / box["data-hatbook-vega"]).resolve() == built_html / "_static" / "vega-bundle.js"
            assert box.select_one(".hatbook-chart-static svg"), (page.name, box["id"])
