"""The book's chart renderer: offline HTML plus a PNG for the PDF."""

from __future__ import annotations

import base64

import altair as alt
import pandas as pd

from analysis import charts


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
