"""Charts draw in a real browser from a page opened from disk, with every network address refused.

Needs Chromium (Debian: apt-get install chromium). Skipped on a developer machine without it; in CI
(CI=true) a missing browser is a failure, because .ci/run installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("no Chromium found; .ci/run should have installed it")
    pytest.skip("no Chromium on this machine")


#: Console messages that mean something went wrong on the page (Chromium logs console output to stderr).
CONSOLE_ERROR = re.compile(r'CONSOLE[^\]]*\] "(.*(?:Uncaught|Error|Failed to load|Refused).*)", source: (\S+)')


def rendered(page, profile) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and the console errors it logged."""
    command = [
        browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no host resolves: the page must need no network
        "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    errors = [f"{message} ({source})" for message, source in CONSOLE_ERROR.findall(done.stderr)]
    return done.stdout, errors


#: Pages computed from the patient-level data; each must have charts.
COMPUTED_PAGES = (
    "ch06_1_enrollment_retention",
    "ch06_2_patient_characteristics",
    "ch06_5_serious_adverse_events",
    "appendix3_outcomes",
    "appendix5_referrals",
)


def test_every_chart_is_drawn_offline_without_console_errors(built_html, tmp_path):
    pages = [p for p in sorted(built_html.rglob("*.html")) if "hatbook-chart-" in p.read_text(encoding="utf-8")]
    assert pages, "no page of the book has a chart"
    missing = [name for name in COMPUTED_PAGES if built_html / "book" / f"{name}.html" not in pages]
    assert not missing, f"computed pages without a chart: {missing}"
    for page in pages:
        dom, errors = rendered(page, tmp_path / page.stem)
        assert not errors, f"{page.name}: console errors: {errors}"
        soup = BeautifulSoup(dom, "html.parser")
        containers = [div for div in soup.find_all("div") if div.get("id", "").startswith("hatbook-chart-")]
        assert containers, page
        for div in containers:
            drawn = "vega-embed" in div.get("class", []) and (div.find("svg") or div.find("canvas"))
            assert drawn, f"{page.name}: chart {div['id']} was not drawn"
