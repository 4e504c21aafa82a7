"""Charts draw in a real browser from a page opened from disk, with every network address refused.

Needs Chromium (Debian: apt-get install chromium). Skipped on a developer machine without it; in CI
(CI=true) a missing browser is a failure, because .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("no Chromium found; .ci/run should have installed it")
    pytest.skip("no Chromium on this machine")


def rendered_dom(page, profile) -> str:
    command = [
        browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no host resolves: the page must need no network
        "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_chart_is_drawn_offline(built_html, tmp_path):
    pages = [p for p in sorted(built_html.rglob("*.html")) if "hatbook-chart-" in p.read_text(encoding="utf-8")]
    assert pages, "no page of the book has a chart"
    for page in pages:
        soup = BeautifulSoup(rendered_dom(page, tmp_path / page.stem), "html.parser")
        containers = [div for div in soup.find_all("div") if div.get("id", "").startswith("hatbook-chart-")]
        assert containers, page
        for div in containers:
            drawn = "vega-embed" in div.get("class", []) and (div.find("svg") or div.find("canvas"))
            assert drawn, f"{page.name}: chart {div['id']} was not drawn"
