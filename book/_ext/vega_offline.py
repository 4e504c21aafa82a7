"""Sphinx extension: ship Vega, Vega-Lite and Vega-Embed with the HTML book.

Charts made by :mod:`analysis.presentation.charts` are drawn with ``window.vegaEmbed``. This extension writes
vl-convert's JavaScript bundle (which defines ``vegaEmbed``, ``vega`` and ``vegaLite`` on ``window``) into
the output's ``_static`` folder, so the book draws its charts with no network. No page loads the bundle
up front: the pages with a chart load ``hatbook-charts.js``, which fetches the bundle's 900 KB only when
a reader points at, touches or tabs to a chart (book/_ext/figures.py puts a drawing made at build time
in each chart's box, which is what a reader who only scrolls sees); the other pages load neither.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLE_NAME = "vega-bundle.js"
LOADER_NAME = "hatbook-charts.js"
CHART_MARK = "hatbook-chart-"


def _add_bundle_script(app) -> None:
    if app.builder.format == "html":
        app.add_js_file(LOADER_NAME, loading_method="defer")


def _only_where_charts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts or CHART_MARK in context.get("body", ""):
        return
    context["script_files"] = [s for s in scripts if not str(getattr(s, "filename", "") or "").endswith(LOADER_NAME)]


def _write_bundle(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import vl_convert as vlc

    from analysis.presentation.charts import vega_lite_version

    target = Path(app.outdir) / "_static" / BUNDLE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    # The bundle declares top-level names (such as "_") that clash with Sphinx's own globals when loaded
    # as a classic script; a module would keep them apart but browsers refuse modules from file:// pages.
    # A function scope does both: it keeps the names private and works from disk. The bundle itself
    # puts vegaEmbed, vega and vegaLite on window.
    # The same bundle serves every build with the same vl-convert and Vega-Lite: it is kept beside the chart
    # drawings (figures.cache_root), so a rerun does not make it again (1.7 to 2.7 CPU s).
    from figures import cache_root

    kept = cache_root(app) / "bundles" / f"{vlc.__version__}-{vega_lite_version()}-{BUNDLE_NAME}"
    try:
        text = kept.read_text(encoding="utf-8")
    except OSError:
        bundle = vlc.javascript_bundle(vl_version=vega_lite_version())
        text = f"(function () {{\n{bundle}\n}})();\n"
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            partial = kept.with_name(f"{kept.name}.{os.getpid()}.part")
            partial.write_text(text, encoding="utf-8")
            partial.replace(kept)
        except OSError:
            pass
    target.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("builder-inited", _add_bundle_script)
    app.connect("html-page-context", _only_where_charts, priority=900)
    app.connect("build-finished", _write_bundle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
