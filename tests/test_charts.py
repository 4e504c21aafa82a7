"""The book's chart renderer: offline HTML plus a PNG for the PDF."""

from __future__ import annotations

import base64

import altair as alt
import pandas as pd

from analysis.presentation import charts


def small_chart() -> alt.Chart:
    frame = pd.DataFrame({"clinic": ["Oslo", "Bergen"], "patients": [2, 1]})
    return alt.Chart(frame).mark_bar().encode(x="clinic", y="patients", color="clinic")


def test_bundle_has_offline_html_and_png():
    charts.enable()
    bundle = small_chart()._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert set(bundle) >= {"text/html", "image/png"}
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    html = bundle["text/html"]
    assert "window.vegaEmbed" in html
    assert "http://" not in html and "https://" not in html.replace("https://vega.github.io/schema", "")
    assert "<script src" not in html


def test_a_rerun_without_pdf_goes_without_the_png(monkeypatch):
    charts.enable()
    printed = small_chart()._repr_mimebundle_()
    monkeypatch.setenv(charts.PNG_ENVIRONMENT, "0")
    screen = small_chart()._repr_mimebundle_()
    printed, screen = (b[0] if isinstance(b, tuple) else b for b in (printed, screen))
    assert "image/png" in printed and "image/png" not in screen
    assert screen["text/html"] == printed["text/html"]


def test_chart_id_is_stable_and_distinguishes_specs():
    a = {"mark": "bar", "data": {"values": [{"x": 1}]}}
    b = {"mark": "point", "data": {"values": [{"x": 1}]}}
    assert charts.chart_id(a) == charts.chart_id(dict(reversed(list(a.items()))))
    assert charts.chart_id(a) != charts.chart_id(b)


def test_html_cannot_be_closed_by_data():
    spec = {"mark": "text", "data": {"values": [{"t": "</script><script>alert(1)"}]}}
    assert "</script><script>" not in charts.chart_html(spec)


def test_theme_gives_the_clinics_their_colours():
    config = charts.theme()["config"]
    assert config["range"]["category"][:2] == [charts.CLINIC_COLOURS["Oslo"], charts.CLINIC_COLOURS["Bergen"]]
    assert config["font"] == charts.FONT


def bar_spec(**encoding) -> dict:
    frame = pd.DataFrame({"year": [2022, 2023], "n_patients": [1234.5, 20.0]})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year"),
            y=alt.Y("n_patients:Q", title="Patients", scale=alt.Scale(zero=False)),
            tooltip=["year:O", "n_patients:Q"],
            **encoding,
        )
        .properties(width=420)
    )
    return chart.to_dict()


def test_a_single_view_fills_its_column_and_the_png_keeps_its_width():
    spec = charts.readable(bar_spec())
    shown = charts.responsive(spec)
    assert shown["width"] == "container" and shown["autosize"]["type"] == "fit-x"
    assert spec["width"] == 420 and charts.printed(shown)["width"] == charts.WIDTH
    assert charts.printed(spec)["width"] == 420  # a fixed width is printed as it is
    png = charts.chart_png(shown)  # vl-convert draws a container-width chart at the fallback width
    width = int.from_bytes(png[16:20], "big")
    assert charts.WIDTH * charts.PNG_SCALE <= width <= (charts.WIDTH + 200) * charts.PNG_SCALE


def test_a_layered_view_fills_its_column_and_a_grid_keeps_its_panels():
    frame = pd.DataFrame({"x": [1, 2], "y": [3, 4], "g": ["a", "b"]})
    base = alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q").properties(width=300)
    layered = charts.responsive((base + base.mark_point()).to_dict())
    assert layered["width"] == "container" and all("width" not in part for part in layered["layer"])
    faceted = base.encode(column="g:N").to_dict()
    assert not charts.is_single_view(faceted) and charts.responsive(faceted) == faceted
    assert not charts.is_single_view(alt.hconcat(base, base).to_dict())


def test_tooltips_are_titled_in_words_and_formatted():
    spec = charts.readable(bar_spec(color=alt.Color("clinic_name:N", title="Clinic")))
    tooltip = spec["encoding"]["tooltip"]
    assert [t["title"] for t in tooltip] == ["Year", "Patients"]  # the axes' titles, not field names
    assert tooltip[1]["format"] == ",.3~f" and "format" not in tooltip[0]
    assert charts.words("n_patients") == "N patients"


def test_bars_start_at_zero_and_the_chart_is_described():
    spec = charts.readable(bar_spec())
    assert "zero" not in spec["encoding"]["y"].get("scale", {})
    assert spec["description"] == "Bar chart: Patients by Year."
    titled = charts.readable({**bar_spec(), "title": "Patients per year"})
    assert titled["description"] == "Patients per year"
    html = charts.chart_html(charts.responsive(spec))
    assert 'aria-label="Bar chart: Patients by Year."' in html and 'renderer: "svg"' in html


def test_labels_and_legends_are_not_cut():
    config = charts.theme()["config"]
    assert config["legend"]["labelLimit"] == 0 and config["axis"]["labelLimit"] >= 300


def test_a_chart_that_only_says_something_is_described_by_its_words():
    from analysis.presentation import disclosure

    spec = charts.readable(disclosure.placeholder_chart("Not enough patients to draw this figure").to_dict())
    assert spec["description"] == "Not enough patients to draw this figure"


def test_only_a_grid_of_views_is_redrawn_narrower_when_its_column_is_narrow():
    frame = pd.DataFrame({"x": [1, 2], "y": [3, 4]})
    base = alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q").properties(width=300)
    grid = charts.chart_html(charts.responsive(alt.hconcat(base, base).to_dict()))
    single = charts.chart_html(charts.responsive(base.to_dict()))
    assert charts.chart_fit_script() in grid and "hatbookChartFit(box, spec, drawn, options)" in grid
    assert "narrower" not in single and '"width": "container"' in single


def test_the_chart_fitting_script_has_one_copy_which_the_book_ships():
    """The narrowing of a grid of views is written once, in analysis/presentation/chart_fit.js: a notebook's
    chart runs it inline (chart_html), the book ships the same file (book/_static/chart_fit.js links to it)
    and its loader calls it, without a copy of its own."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = charts.chart_fit_script()
    assert "function narrower" in script and "var hatbookChartFit" in script
    static = root / "book" / "_static"
    assert (static / "chart_fit.js").read_text(encoding="utf-8") == script
    loader = (static / "hatbook-charts.js").read_text(encoding="utf-8")
    assert '"chart_fit.js"' in loader and "window.hatbookChartFit(" in loader
    needle = "function " + "narrower("  # not written out here, so that this file is no copy
    copies = [
        str(path.relative_to(root))
        for folder in ("analysis", "book", "hatbook", "tests")
        for path in (root / folder).rglob("*")
        if path.suffix in {".js", ".py"}
        and not path.is_symlink()
        and "_build" not in path.parts
        and needle in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert copies == ["analysis/presentation/chart_fit.js"]
