"""One look for every chart of the book, and charts that render with no network.

Altair's own HTML output loads Vega from a CDN. The book must render offline and in the PDF, so the
renderer defined here returns two representations of each chart:

* ``text/html``: a ``<div>`` and a short script that calls ``vegaEmbed`` once it exists. The Vega,
  Vega-Lite and Vega-Embed code itself ships with the book (``book/_ext/vega_offline.py`` writes
  vl-convert's JavaScript bundle into the HTML output's ``_static`` folder).
* ``image/png``: a static picture rendered by vl-convert, which the LaTeX/PDF builder uses
  (HTML has no use for it, so myst-nb's MIME priority picks ``text/html`` there).

Call :func:`enable` once at the top of a page.
"""

from __future__ import annotations

import base64
import hashlib
import json

import altair as alt
import pandas as pd
import vl_convert as vlc

THEME_NAME = "hatbook"
RENDERER_NAME = "hatbook"

#: Colours used for the clinics everywhere (Oslo blue, Bergen orange; colour-blind safe pair).
CLINIC_COLOURS = {"Oslo": "#1f5fa8", "Bergen": "#d9731a", "All": "#4d4d4d"}
#: Colours for comparisons of HAT with conventional OAT.
TREATMENT_COLOURS = {"HAT": "#1f5fa8", "OAT": "#9a9a9a"}

FONT = "DejaVu Sans"  # has æ, ø and å, and ships with most Linux systems and with vl-convert's fallback
WIDTH = 560
HEIGHT = 320
PNG_SCALE = 2  # PNGs at twice the CSS size stay sharp in print


def vega_lite_version() -> str:
    """The Vega-Lite version Altair writes specs for, as vl-convert wants it (e.g. ``"6.4"``)."""
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def theme() -> alt.theme.ThemeConfig:
    """The book's Altair theme: fonts, sizes and a quiet grid."""
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
            "title": {"fontSize": 14, "anchor": "start"},
            "range": {"category": list(CLINIC_COLOURS.values())},
        }
    }


def chart_id(spec: dict) -> str:
    """A stable element id for a chart: the same spec gives the same id, so cached pages do not churn."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()
    return f"hatbook-chart-{digest[:12]}"


def chart_html(spec: dict) -> str:
    """HTML that draws ``spec`` with the locally shipped ``vegaEmbed`` (no network)."""
    element = chart_id(spec)
    payload = json.dumps(spec, sort_keys=True).replace("</", "<\\/")
    return (
        f'<div id="{element}" class="hatbook-chart"></div>\n'
        '<script type="text/javascript">\n'
        "(function () {\n"
        f"  var spec = {payload};\n"
        "  function draw() {\n"
        f'    if (window.vegaEmbed) {{ window.vegaEmbed("#{element}", spec, {{actions: false}}); }}\n'
        "    else { window.setTimeout(draw, 50); }\n"
        "  }\n"
        "  draw();\n"
        "})();\n"
        "</script>"
    )


def chart_png(spec: dict) -> bytes:
    """A PNG of ``spec``, for the PDF edition."""
    return vlc.vegalite_to_png(spec, vl_version=vega_lite_version(), scale=PNG_SCALE)


def render(spec: dict, **metadata) -> dict:
    """Altair renderer: a MIME bundle with offline HTML and a PNG."""
    png = base64.b64encode(chart_png(spec)).decode("ascii")
    return {"text/html": chart_html(spec), "image/png": png, "text/plain": "<chart>"}


def enable() -> None:
    """Use the book's theme and renderer for every chart drawn after this call."""
    alt.theme.register(THEME_NAME, enable=True)(theme)
    alt.renderers.register(RENDERER_NAME, render)
    alt.renderers.enable(RENDERER_NAME)
    # Altair would otherwise refuse frames of more than 5000 rows; the book's frames are small and
    # aggregated, and a rerun on real data must not fail on that limit.
    alt.data_transformers.disable_max_rows()


def clinic_colour(field: str = "clinic") -> alt.Color:
    """Colour by clinic in the book's clinic colours, Oslo before Bergen."""
    clinics = ["Oslo", "Bergen"]
    return alt.Color(
        f"{field}:N", title="Clinic", scale=alt.Scale(domain=clinics, range=[CLINIC_COLOURS[c] for c in clinics])
    )


def bars_by_clinic(frame: pd.DataFrame, x: str, y: str, x_title: str, y_title: str) -> alt.Chart:
    """Vertical bars of ``y`` per ``x`` (e.g. year), one bar per clinic side by side."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:O", title=x_title),
            xOffset=alt.XOffset("clinic:N", sort=["Oslo", "Bergen"]),
            y=alt.Y(f"{y}:Q", title=y_title),
            color=clinic_colour(),
            tooltip=[f"{x}:O", "clinic:N", f"{y}:Q"],
        )
        .properties(width=420, height=280)
    )


def ranked_bars(frame: pd.DataFrame, value: str, label: str, title: str, tooltip: list, height: int = 200) -> alt.Chart:
    """Horizontal bars of ``value`` per ``label``, largest first, in the neutral colour."""
    return (
        alt.Chart(frame)
        .mark_bar(color=CLINIC_COLOURS["All"])
        .encode(
            x=alt.X(f"{value}:Q", title=title),
            y=alt.Y(f"{label}:N", sort="-x", title=None),
            tooltip=tooltip,
        )
        .properties(width=440, height=height)
    )
