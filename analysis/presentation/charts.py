"""One look for every chart of the book, and charts that render with no network.

Altair's own HTML output loads Vega from a CDN. The book must render offline and in the PDF, so the
renderer defined here returns two representations of each chart:

* ``text/html``: a ``<div>`` and a short script that calls ``vegaEmbed`` once it exists. The Vega,
  Vega-Lite and Vega-Embed code itself ships with the book (``book/_ext/vega_offline.py`` writes
  vl-convert's JavaScript bundle into the HTML output's ``_static`` folder).
* ``image/png``: a static picture rendered by vl-convert, which the LaTeX/PDF builder uses
  (HTML has no use for it, so myst-nb's MIME priority picks ``text/html`` there). A rerun that builds
  no PDF sets :data:`PNG_ENVIRONMENT` to ``"0"`` in its kernels and goes without it (about 0.12 s a chart,
  33 charts an edition).

In the HTML book, ``book/_ext/figures.py`` then draws each chart as SVG at build time into its box, keeps
the specification in the page as data, which ``book/_static/hatbook-charts.js`` hands to Vega (loaded
only when a reader points at, touches or tabs to the chart), and adds the chart's data as a table and a
CSV file.

Call :func:`enable` once at the top of a page.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import json
import os
import re
from importlib import resources

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
#: Widest axis label, in pixels, before Vega-Lite would cut it (long row labels of the tornado and forest plots).
LABEL_LIMIT = 360


def vega_lite_version() -> str:
    """The Vega-Lite version Altair writes specs for, as vl-convert wants it (e.g. ``"6.4"``)."""
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def theme() -> alt.theme.ThemeConfig:
    """The book's Altair theme: fonts, sizes and a quiet grid."""
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            # full labels: Vega-Lite cuts axis labels at 180 px and legend labels at 160 px with an ellipsis
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "gridColor": "#e6e6e6", "labelLimit": LABEL_LIMIT},
            # a legend below the chart, one entry a line: entries side by side ran past a phone's width
            "legend": {
                "labelFontSize": 12,
                "titleFontSize": 12,
                "orient": "bottom",
                "direction": "vertical",
                "labelLimit": 0,
                "titleLimit": 0,
            },
            "title": {"fontSize": 14, "anchor": "start"},
            "range": {"category": list(CLINIC_COLOURS.values())},
        }
    }


def chart_id(spec: dict) -> str:
    """A stable element id for a chart: the same spec gives the same id, so cached pages do not churn."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()
    return f"hatbook-chart-{digest[:12]}"


def chart_fit_script() -> str:
    """The script that redraws a grid of views (concatenated or faceted) wider than its column with
    narrower panels, labels and text at full size, until the drawing fits (``chart_fit.js`` beside this
    module, its one copy: the book ships the same file and ``book/_static/hatbook-charts.js`` loads it). It
    defines ``hatbookChartFit(box, spec, drawn, options)``. A single view needs none of this: it takes its
    column's width (:func:`responsive`)."""
    return resources.files(__package__).joinpath("chart_fit.js").read_text(encoding="utf-8")


def chart_html(spec: dict) -> str:
    """HTML that draws ``spec`` with the locally shipped ``vegaEmbed`` (no network), as SVG: the drawing
    then scales with its column (book/_static/hatbook.css) and carries the chart's description as its
    accessible name. The box is a figure named by the same description. A grid of views wider than its
    column is redrawn with narrower panels (:func:`chart_fit_script`)."""
    element = chart_id(spec)
    payload = json.dumps(spec, sort_keys=True).replace("</", "<\\/")
    label = html.escape(str(spec.get("description") or ""), quote=True)
    named = f' role="figure" aria-label="{label}"' if label else ""
    grid = not is_single_view(spec)
    return (
        f'<div id="{element}" class="hatbook-chart"{named}></div>\n'
        '<script type="text/javascript">\n'
        "(function () {\n"
        f"  var spec = {payload};\n"
        '  var options = {actions: false, renderer: "svg"};\n'
        + (chart_fit_script() if grid else "")
        + "  function draw() {\n"
        f'    if (window.vegaEmbed) {{ var box = document.getElementById("{element}");\n'
        + (
            "      window.vegaEmbed(box, spec, options).then(function (drawn) {"
            " hatbookChartFit(box, spec, drawn, options); }); }\n"
            if grid
            else "      window.vegaEmbed(box, spec, options); }\n"
        )
        + "    else { window.setTimeout(draw, 50); }\n"
        "  }\n"
        "  draw();\n"
        "})();\n"
        "</script>"
    )


def chart_png(spec: dict) -> bytes:
    """A PNG of ``spec``, for the PDF edition (at the fixed width of :func:`printed`: vl-convert has no
    column to fill)."""
    return vlc.vegalite_to_png(printed(spec), vl_version=vega_lite_version(), scale=PNG_SCALE)


#: The environment variable that, set to "0", leaves the PNG for the PDF out of a chart's MIME bundle.
PNG_ENVIRONMENT = "HATBOOK_CHART_PNG"


def render(spec: dict, **metadata) -> dict:
    """Altair renderer: a MIME bundle with offline HTML (a chart that fills its column, see
    :func:`responsive`) and a PNG at a fixed size for the PDF (unless :data:`PNG_ENVIRONMENT` is "0")."""
    spec = readable(spec)
    bundle = {"text/html": chart_html(responsive(spec)), "text/plain": "<chart>"}
    if os.environ.get(PNG_ENVIRONMENT, "1") != "0":
        bundle["image/png"] = base64.b64encode(chart_png(spec)).decode("ascii")
    return bundle


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


# --- charts that fit any screen and say what they show (issue 22, item 4) --------------------------------

#: Keys of a Vega-Lite spec that compose several views; such a chart cannot take its column's width.
COMPOSITE_KEYS = ("hconcat", "vconcat", "concat", "facet", "repeat")
#: Encoding channels that split a single view into a grid of views.
FACET_CHANNELS = ("facet", "row", "column")
#: The widest a composite chart's panels may be together, in pixels, to fit a phone's column (390 px screen).
PHONE_COLUMN = 350
#: Mark types whose length encodes a quantity from zero.
ZERO_MARKS = ("bar", "area", "rect")
_CHANNELS = ("x", "y", "x2", "y2", "theta", "color", "size", "opacity", "shape", "xOffset", "yOffset")


def _mark_type(view: dict) -> str:
    mark = view.get("mark")
    return mark.get("type", "") if isinstance(mark, dict) else str(mark or "")


def _views(spec: dict):
    """Every single view (a dict with a mark) in ``spec``, however nested (layers, concatenations, facets)."""
    if not isinstance(spec, dict):
        return
    if "mark" in spec:
        yield spec
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for part in spec.get(key, []) or []:
            yield from _views(part)
    if isinstance(spec.get("spec"), dict):
        yield from _views(spec["spec"])


def is_single_view(spec: dict) -> bool:
    """Whether ``spec`` is one view (a mark, or layers over one pair of axes), not a grid of views."""
    if any(key in spec for key in COMPOSITE_KEYS):
        return False
    return not any(channel in (view.get("encoding") or {}) for view in _views(spec) for channel in FACET_CHANNELS)


def words(field: str) -> str:
    """A field name in words for a title: ``n_patients`` -> "N patients", ``total_cost`` -> "Total cost"."""
    text = re.sub(r"[_]+", " ", str(field)).strip()
    return text[:1].upper() + text[1:]


def _parse_shorthand(item) -> dict:
    if isinstance(item, dict):
        return dict(item)
    field, _, kind = str(item).partition(":")
    entry = {"field": field}
    if kind:
        entry["type"] = {"Q": "quantitative", "O": "ordinal", "N": "nominal", "T": "temporal"}.get(kind, kind)
    return entry


def _titles(view: dict) -> dict:
    """Field -> the title its axis or legend gives it, in one view."""
    titles: dict[str, str] = {}
    for channel, encoding in (view.get("encoding") or {}).items():
        if channel == "tooltip" or not isinstance(encoding, dict):
            continue
        if encoding.get("field") and isinstance(encoding.get("title"), str):
            titles.setdefault(encoding["field"], encoding["title"])
    return titles


def readable(spec: dict) -> dict:
    """``spec`` with what a reader needs and Vega-Lite leaves out: tooltips titled in words (the axis's or
    legend's title, else the field in words) with numbers formatted with thousands separators; bars,
    areas and rectangles measured from a zero on their quantitative axis; and a ``description`` (the
    chart's title, else what it plots, from its mark and axis titles), which Vega-Embed makes the drawing's
    accessible name. The input is not changed."""
    spec = copy.deepcopy(spec)
    titles = {}
    for view in _views(spec):
        titles.update({k: v for k, v in _titles(view).items() if k not in titles})
    for view in _views(spec):
        encoding = view.get("encoding") or {}
        tooltip = encoding.get("tooltip")
        if tooltip is not None:
            items = tooltip if isinstance(tooltip, list) else [tooltip]
            written = []
            for item in items:
                entry = _parse_shorthand(item)
                if "field" in entry and "title" not in entry:
                    entry["title"] = titles.get(entry["field"]) or words(entry["field"])
                if entry.get("type") == "quantitative" and "format" not in entry and "aggregate" not in entry:
                    entry["format"] = ",.3~f"
                written.append(entry)
            encoding["tooltip"] = written if isinstance(tooltip, list) else written[0]
        if _mark_type(view) in ZERO_MARKS:
            for channel in ("x", "y"):
                axis = encoding.get(channel)
                if (
                    isinstance(axis, dict)
                    and axis.get("type") == "quantitative"
                    and "x2" not in encoding
                    and "y2" not in encoding
                ):
                    scale = axis.get("scale")
                    if isinstance(scale, dict) and scale.get("zero") is False and "domain" not in scale:
                        scale.pop("zero")
    if not spec.get("description"):
        spec["description"] = describe(spec)
    return spec


def describe(spec: dict) -> str:
    """A sentence naming what ``spec`` shows: its title, else its kind of mark and what its axes measure."""
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    if title:
        return str(title)
    kinds = {
        "bar": "Bar chart",
        "line": "Line chart",
        "point": "Dot chart",
        "circle": "Dot chart",
        "area": "Area chart",
        "rule": "Chart",
        "rect": "Heat map",
        "tick": "Dot chart",
        "text": "Chart",
    }
    if all(_mark_type(v) == "text" for v in _views(spec)):
        # a chart that only says something (a rerun's "not enough data" in place of a figure) is its words
        rows = [row for values in (spec.get("datasets") or {}).values() for row in values]
        rows += list((spec.get("data") or {}).get("values") or [])
        texts = [str(v) for row in rows if isinstance(row, dict) for v in row.values() if isinstance(v, str)]
        if len(texts) == 1:
            return texts[0]
    # reference rules and labels (a line at zero, a threshold) say nothing of what the chart plots
    views = [v for v in _views(spec) if _mark_type(v) not in ("rule", "text")] or list(_views(spec))
    kind = next((kinds[_mark_type(v)] for v in views if _mark_type(v) in kinds), "Chart")
    axis = {}
    for view in views:
        for channel in ("x", "y", "color"):
            encoding = (view.get("encoding") or {}).get(channel)
            if isinstance(encoding, dict) and channel not in axis:
                text = encoding.get("title") if "title" in encoding else words(encoding.get("field") or "")
                if isinstance(text, list):
                    text = " ".join(map(str, text))
                if isinstance(text, str) and text:
                    axis[channel] = text
    if "y" in axis and "x" in axis:
        text = f"{kind}: {axis['y']} by {axis['x']}"
    elif "x" in axis or "y" in axis:
        text = f"{kind}: {axis.get('x') or axis.get('y')}"
    else:
        text = kind
    if "color" in axis:
        text += f", coloured by {axis['color']}"
    return text + "."


def responsive(spec: dict) -> dict:
    """``spec`` as the HTML book draws it: a single view takes its column's width (Vega-Lite's width
    "container", the drawing refitted when the window changes), so no phone cuts it; a grid of views keeps
    its panels' widths, each no wider than fits a phone's column together with the others in a row
    (:data:`PHONE_COLUMN`), and is scaled down with its column beyond that (book/_static/hatbook.css). The
    PNG for the PDF is drawn from the fixed-width spec (:func:`printed`)."""
    spec = copy.deepcopy(spec)
    if is_single_view(spec):
        for part in spec.get("layer", []) or []:
            part.pop("width", None)
        spec["width"] = "container"
        spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


def printed(spec: dict) -> dict:
    """``spec`` at a fixed width for vl-convert (the PDF's PNG): a width "container" becomes the width the
    chart asked for before, else the theme's :data:`WIDTH`."""
    spec = copy.deepcopy(spec)
    if spec.get("width") == "container":
        spec["width"] = WIDTH
        if spec.get("autosize") == {"type": "fit-x", "contains": "padding"}:
            spec.pop("autosize")
    return spec
