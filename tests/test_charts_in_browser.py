"""Charts draw in a real browser from a page opened from disk, with every network address refused.

Each chart's box holds the drawing made at build time (book/_ext/figures.py); once a reader points at it
(a ``pointerenter`` on its box), Vega (shipped with the book, loaded by book/_static/hatbook-charts.js only
then) must redraw it with no network and no console error. Needs Chromium (Debian: apt-get install chromium); skipped on a developer machine
without it, a failure in CI (CI=true), whose script installs it.
"""

from __future__ import annotations

import pytest
from test_reader_browser import DESKTOP, DRAW_ALL, Browser

pytestmark = pytest.mark.slow

#: Pages computed from the patient-level data; each must have charts.
COMPUTED_PAGES = (
    "ch06_1_enrollment_retention",
    "ch06_2_patient_characteristics",
    "ch06_5_serious_adverse_events",
    "appendix3_outcomes",
    "appendix5_referrals",
)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    started = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield started
    started.close()


def test_every_chart_is_drawn_offline_without_console_errors(built_html, chromium):
    pages = [p for p in sorted(built_html.rglob("*.html")) if "hatbook-chart-" in p.read_text(encoding="utf-8")]
    assert pages, "no page of the book has a chart"
    missing = [name for name in COMPUTED_PAGES if built_html / "book" / f"{name}.html" not in pages]
    assert not missing, f"computed pages without a chart: {missing}"
    failures = {}
    for page in pages:
        chromium.open(page, DESKTOP)
        charts = chromium.evaluate("document.querySelectorAll('[id^=\"hatbook-chart-\"]').length")
        not_drawn = chromium.evaluate(DRAW_ALL, timeout=300)
        drawn_by_vega = chromium.evaluate(
            """[...document.querySelectorAll('[id^="hatbook-chart-"]')]
                 .filter(b => b.classList.contains('vega-embed') && b.querySelector('svg, canvas')).length"""
        )
        errors = chromium.errors()
        if not charts or not_drawn or drawn_by_vega != charts or errors:
            failures[page.name] = {"charts": charts, "not drawn": not_drawn, "errors": errors}
    assert failures == {}
