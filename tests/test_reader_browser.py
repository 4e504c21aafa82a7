"""Every page of the built book, read in a real browser the way a reader meets it.

Headless Chromium, driven over the Chrome DevTools protocol (``--remote-debugging-pipe``: JSON messages
ended by a NUL byte on file descriptors 3 and 4; no new dependency), opens each page from disk with every
host name unresolvable, at 390 px (a phone) and at 1400 px (a desktop), and checks that

* the page is no wider than the screen at 390 px (``document.documentElement.scrollWidth <= 390``);
* every chart is drawn when the page opens (its ``hatbook-chart-*`` box holds the SVG drawn at build
  time, also with JavaScript off) and again by Vega, offline, once a reader points at it or tabs to it
  (never because it was scrolled to), and fits its column either way; in the theme's dark mode no chart
  is a white box;
* nothing is logged as an error (console errors, uncaught exceptions, failed loads).

axe-core (the npm package) is then run in the same browser on the landing page, the executive summary,
6.1, 6.4, 6.7, 4 and the scorecard: no serious or critical violation may remain.

It also measures what each page weighs: the HTML and every local file the browser loaded for it when
opened, gzipped (the size a web server sends), against the targets of 600 KB for any page and 300 KB for
a page without charts; the same once scrolled to the bottom past every chart (scrolling loads nothing,
so the weight must not change); and, reported, what it weighs once every chart was interacted with
(Vega loaded).

Needs Chromium (Debian: apt-get install chromium) and, for the accessibility check, axe-core: a copy in
``$HATBOOK_AXE_DIR`` or the user cache (``~/.cache/hatbook/axe-core``), else it is installed there with
``npm install axe-core``. On a developer machine without them the tests skip with the reason; in CI
(``CI`` set) a missing browser or axe-core is a failure.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PHONE, DESKTOP = 390, 1400
#: The pages the accessibility check reads: the landing page, the summaries and the results readers go to.
AXE_PAGES = (
    "index",
    "executive_summary",
    "ch06_1_enrollment_retention",
    "ch06_4_outcomes",
    "ch06_7_cost_utility",
    "ch04_international_context",
    "scorecard",
)
ANY_PAGE_LIMIT = 600_000
TEXT_PAGE_LIMIT = 300_000


def missing(reason: str):
    """Skip on a developer machine; fail in CI, whose script installs what the test needs."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def browser_path() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    missing("no Chromium found (Debian: apt-get install chromium)")


class Browser:
    """A headless Chromium spoken to over ``--remote-debugging-pipe``, one tab at a time."""

    def __init__(self, profile: Path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the child's ends moved above 9, so that putting them on fds 3 and 4 overwrites neither
        to_browser_r, from_browser_w = (self._above_nine(fd) for fd in (to_browser_r, from_browser_w))
        command = [
            browser_path(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--mute-audio",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no host resolves: the page must need no network
            "--remote-debugging-pipe",
            "about:blank",
        ]

        def wire():  # in the child: the browser reads commands on fd 3 and writes answers on fd 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        log = open(os.environ.get("HATBOOK_BROWSER_LOG", os.devnull), "w")
        self._process = subprocess.Popen(
            command,
            close_fds=False,
            preexec_fn=wire,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)

    @staticmethod
    def _above_nine(fd: int) -> int:
        moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
        os.close(fd)
        return moved

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, timeout: float = 60, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for i, seen in enumerate(self.events):
            if seen.get("method") == event:
                return self.events.pop(i)
        while True:
            seen = self._read(deadline)
            if seen.get("method") == event:
                return seen
            self.events.append(seen)

    def evaluate(self, expression: str, timeout: float = 60):
        result = self.call(
            "Runtime.evaluate",
            session=True,
            timeout=timeout,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("exception", {}).get("description", str(result)))
        return result["result"].get("value")

    def open(self, page: Path, width: int) -> None:
        """Load ``page`` in a viewport ``width`` px wide and wait until its charts are drawn (or 15 s)."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=844 if width < 600 else 900,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        self.events.clear()
        self.call("Page.navigate", session=True, url=page.as_uri())
        self.wait_for("Page.loadEventFired")
        self.evaluate(
            """new Promise(done => {
                 const start = Date.now();
                 (function check() {
                   const boxes = [...document.querySelectorAll('[id^="hatbook-chart-"]')];
                   const drawn = boxes.every(b => b.querySelector('svg, canvas'));
                   if ((drawn && Date.now() - start > 300) || Date.now() - start > 15000) { done(true); }
                   else { setTimeout(check, 100); }
                 })();
               })"""
        )

    def drain(self) -> None:
        """Collect the events that arrived since the last call."""
        self.evaluate("1")

    def errors(self) -> list[str]:
        self.drain()
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description") or details.get("text", ""))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"{params['entry'].get('text')} ({params['entry'].get('url', '')})")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                found.append(f"failed to load: {params.get('errorText')} ({params.get('requestId')})")
        return found

    def loaded_files(self) -> set[Path]:
        """Local files the page loaded (the page itself, scripts, styles, fonts, images, data)."""
        self.drain()
        files = set()
        for event in self.events:
            if event.get("method") == "Network.requestWillBeSent":
                url = urlparse(event["params"]["request"]["url"])
                if url.scheme == "file":
                    files.add(Path(unquote(url.path)))
        return files

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def gzipped_size(path: Path, cache: dict) -> int:
    if path not in cache:
        cache[path] = len(gzip.compress(path.read_bytes(), 6)) if path.is_file() else 0
    return cache[path]


def pages_of(html: Path) -> list[Path]:
    """The book's pages: not the theme's templates in _static, nor pages that only redirect."""
    return sorted(
        p
        for p in html.rglob("*.html")
        if "_static" not in p.parts and 'http-equiv="refresh"' not in p.read_text(encoding="utf-8")[:2000].lower()
    )


#: Point at each chart in turn (a ``pointerenter`` on its box, as a mouse moving over it sends) and wait
#: there (at most 20 s a chart) until Vega has redrawn it ("hatbook-chart-live"); the charts not redrawn.
DRAW_ALL = """(async () => {
  const boxes = [...document.querySelectorAll('[id^="hatbook-chart-"]')];
  const live = b => b.classList.contains('hatbook-chart-live') && b.querySelector('svg');
  for (const box of boxes) {
    box.scrollIntoView({block: 'center'});
    box.dispatchEvent(new PointerEvent('pointerenter', {pointerType: 'mouse'}));
    const start = Date.now();
    while (!live(box) && Date.now() - start < 20000) { await new Promise(r => setTimeout(r, 100)); }
  }
  window.scrollTo(0, 0);
  return boxes.filter(b => !live(b)).map(b => b.id);
})()"""

#: Scroll through the page as a reader does, stopping at each chart (half a second) and at the bottom; the
#: charts Vega redrew meanwhile (none may be: scrolling loads nothing).
SCROLL_ALL = """(async () => {
  const boxes = [...document.querySelectorAll('[id^="hatbook-chart-"]')];
  const pause = ms => new Promise(r => setTimeout(r, ms));
  for (const box of boxes) { box.scrollIntoView({block: 'center'}); await pause(500); }
  window.scrollTo(0, document.documentElement.scrollHeight);
  await pause(500);
  window.scrollTo(0, 0);
  return boxes.filter(b => b.classList.contains('hatbook-chart-live')).map(b => b.id);
})()"""

#: What the page measures of itself: width, charts drawn and whether each fits its column.
LAYOUT = """(() => {
  const boxes = [...document.querySelectorAll('[id^="hatbook-chart-"]')];
  return {
    scrollWidth: document.documentElement.scrollWidth,
    widest: [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .filter(e => !e.parentElement.closest('.hatbook-table-scroll, .output, .highlight, pre, .hatbook-chart'))
      .slice(-5).map(e => e.tagName + '.' + e.className),
    charts: boxes.length,
    math: !!document.querySelector('script[src*="mathjax"]'),
    undrawn: boxes.filter(b => !b.querySelector('svg, canvas')).map(b => b.id),
    overflowing: boxes.filter(b => {
      const drawn = b.querySelector('svg, canvas');
      const column = b.closest('.cell_output, .output, article') || document.body;
      return drawn && drawn.getBoundingClientRect().width > column.getBoundingClientRect().width + 1;
    }).map(b => b.id),
  };
})()"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    started = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield started
    started.close()


def read_every_page(html: Path, browser: Browser, pages: list[Path] | None = None) -> dict:
    """What every page (or ``pages``) shows at both widths, and what it weighs."""
    sizes: dict = {}
    report = {}
    for page in pages_of(html) if pages is None else pages:
        name = str(page.relative_to(html))
        entry = {}
        for width in (PHONE, DESKTOP):
            browser.open(page, width)
            layout = browser.evaluate(LAYOUT)
            if width == DESKTOP:
                files = browser.loaded_files() | {page}
                layout["bytes"] = sum(gzipped_size(f, sizes) for f in files)
                layout["largest"] = sorted(((gzipped_size(f, sizes), f.name) for f in files), reverse=True)[:4]
                layout["redrawn_by_scrolling"] = browser.evaluate(SCROLL_ALL, timeout=300)
                files = browser.loaded_files() | files
                layout["bytes_scrolled"] = sum(gzipped_size(f, sizes) for f in files)
            if layout["charts"]:
                layout["not_redrawn"] = browser.evaluate(DRAW_ALL, timeout=300)
                redrawn = browser.evaluate(LAYOUT)
                layout["overflowing"] += [f"{box} (redrawn)" for box in redrawn["overflowing"]]
                layout["scrollWidth"] = max(layout["scrollWidth"], redrawn["scrollWidth"])
                if width == DESKTOP:
                    files = browser.loaded_files() | files
                    layout["bytes_interacted"] = sum(gzipped_size(f, sizes) for f in files)
            layout["errors"] = browser.errors()
            entry[width] = layout
        report[name] = entry
    return report


@pytest.fixture(scope="module")
def every_page(built_html, browser, tmp_path_factory):
    """:func:`read_every_page` of the whole book, in two browsers at once (one a core: a page is read in one
    browser process at a time, and the book has 44), each given every second page."""
    from concurrent.futures import ThreadPoolExecutor

    second = Browser(tmp_path_factory.mktemp("chromium-profile-2"))
    pages = pages_of(built_html)
    try:
        with ThreadPoolExecutor(2) as pool:
            halves = pool.map(
                lambda reader: read_every_page(built_html, reader[0], pages[reader[1] :: 2]),
                [(browser, 0), (second, 1)],
            )
            report = {name: entry for half in halves for name, entry in half.items()}
    finally:
        second.close()
    return dict(sorted(report.items()))


def test_no_page_is_wider_than_a_phone(every_page):
    wide = {
        name: (entry[PHONE]["scrollWidth"], entry[PHONE]["widest"])
        for name, entry in every_page.items()
        if entry[PHONE]["scrollWidth"] > PHONE
    }
    assert wide == {}


def test_every_chart_is_drawn(every_page):
    undrawn = {
        f"{name} at {width} px": layout["undrawn"]
        for name, entry in every_page.items()
        for width, layout in entry.items()
        if layout["undrawn"]
    }
    assert undrawn == {}
    not_redrawn = {
        f"{name} at {width} px": layout["not_redrawn"]
        for name, entry in every_page.items()
        for width, layout in entry.items()
        if layout.get("not_redrawn")
    }
    assert not_redrawn == {}, "charts Vega did not draw, offline, once pointed at"
    assert any(entry[DESKTOP]["charts"] for entry in every_page.values()), "no page of the book has a chart"


def test_every_chart_fits_its_column(every_page):
    too_wide = {
        f"{name} at {width} px": layout["overflowing"]
        for name, entry in every_page.items()
        for width, layout in entry.items()
        if layout["overflowing"]
    }
    assert too_wide == {}


def test_no_console_errors(every_page):
    errors = {
        f"{name} at {width} px": layout["errors"]
        for name, entry in every_page.items()
        for width, layout in entry.items()
        if layout["errors"]
    }
    assert errors == {}


def heavy_pages(every_page, text_pages: bool) -> dict:
    """Pages over their limit: 300 KB for a text page (no chart, no mathematics), 600 KB for any other."""
    heavy = {}
    for name, entry in every_page.items():
        layout = entry[DESKTOP]
        is_text = not layout["charts"] and not layout["math"]
        if is_text != text_pages:
            continue
        limit = TEXT_PAGE_LIMIT if text_pages else ANY_PAGE_LIMIT
        if layout["bytes"] > limit:
            heavy[name] = (layout["bytes"], limit, layout["largest"])
    return heavy


def test_scrolling_loads_nothing(every_page):
    """A reader who scrolls past every chart reads the drawings made at build time: Vega is not loaded,
    no chart is redrawn, and the page weighs what it weighed as opened."""
    changed = {
        name: (entry[DESKTOP]["bytes"], entry[DESKTOP]["bytes_scrolled"], entry[DESKTOP]["redrawn_by_scrolling"])
        for name, entry in every_page.items()
        if entry[DESKTOP]["bytes_scrolled"] != entry[DESKTOP]["bytes"] or entry[DESKTOP]["redrawn_by_scrolling"]
    }
    assert changed == {}


def test_text_pages_are_light(every_page):
    assert heavy_pages(every_page, text_pages=True) == {}


def test_pages_with_charts_or_mathematics_are_under_600_kb(every_page):
    assert heavy_pages(every_page, text_pages=False) == {}


def test_the_book_reports_its_weight(every_page, built_html, capsys):
    """The weight of every page as opened (the acceptance's measure; also once scrolled to the bottom) and
    once every chart was interacted with, and of the whole published book on disk (gzipped, as a server
    sends it), printed for the record."""
    sizes: dict = {}
    total = sum(gzipped_size(f, sizes) for f in built_html.rglob("*") if f.is_file())
    raw = sum(f.stat().st_size for f in built_html.rglob("*") if f.is_file())
    heaviest = sorted(((entry[DESKTOP]["bytes"], name) for name, entry in every_page.items()), reverse=True)[:5]
    with capsys.disabled():
        print(f"\nThe book: {raw / 1e6:.1f} MB on disk, {total / 1e6:.1f} MB gzipped, {len(every_page)} pages.")
        # the five heaviest, and the pages with the most charts (6.7, the primer) wherever they rank
        charted = sorted(every_page, key=lambda name: -every_page[name][DESKTOP]["charts"])[:2]
        named = [name for name in charted if name not in {name for _, name in heaviest}]
        for weight, name in heaviest + [(every_page[name][DESKTOP]["bytes"], name) for name in named]:
            layout = every_page[name][DESKTOP]
            interacted = layout.get("bytes_interacted")
            print(
                f"  {name}: {weight / 1000:.0f} KB gzipped as opened, {layout['bytes_scrolled'] / 1000:.0f} KB "
                "scrolled to the bottom"
                + (f", {interacted / 1000:.0f} KB with every chart redrawn by Vega" if interacted else "")
            )
    assert heaviest and heaviest[0][0] <= ANY_PAGE_LIMIT


#: Pages with charts the dark-mode and no-JavaScript checks read.
CHART_PAGES = ("ch06_1_enrollment_retention", "ch06_7_cost_utility", "appendix_primer")

#: Elements of a chart's box painted white or near white over most of the box (a white box in dark mode),
#: and words drawn in black.
WHITE_BOXES = r"""(() => {
  const white = c => { const m = (c || '').match(/rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?/);
                       return m && +m[1] > 230 && +m[2] > 230 && +m[3] > 230 && (m[4] === undefined || +m[4] > 0.5); };
  const found = [];
  for (const box of document.querySelectorAll('[id^="hatbook-chart-"]')) {
    const area = box.getBoundingClientRect().width * box.getBoundingClientRect().height;
    for (const e of [box, ...box.querySelectorAll('*')]) {
      const r = e.getBoundingClientRect(), style = getComputedStyle(e);
      const painted = white(style.backgroundColor) || (e.tagName === 'rect' || e.tagName === 'path') && white(style.fill);
      if (painted && r.width * r.height > 0.3 * area) { found.push(box.id + ' ' + e.tagName + '.' + e.getAttribute('class')); }
      if (e.tagName === 'text' && style.fill === 'rgb(0, 0, 0)') { found.push(box.id + ' black text'); break; }
    }
  }
  return found;
})()"""


def test_charts_have_no_white_boxes_in_dark_mode(built_html, browser):
    found = {}
    for name in CHART_PAGES:
        browser.open(built_html / "book" / f"{name}.html", DESKTOP)
        browser.evaluate("document.documentElement.dataset.theme = 'dark'; true")
        before = browser.evaluate(WHITE_BOXES)  # the drawings made at build time
        browser.evaluate(DRAW_ALL, timeout=300)
        after = browser.evaluate(WHITE_BOXES)  # Vega's
        if before or after:
            found[name] = before + after
    assert found == {}


def test_charts_show_without_javascript(built_html, browser):
    browser.call("Emulation.setScriptExecutionDisabled", session=True, value=True)
    try:
        blank = {}
        for name in CHART_PAGES:
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                session=True,
                width=PHONE,
                height=844,
                deviceScaleFactor=1,
                mobile=True,
            )
            browser.events.clear()
            browser.call("Page.navigate", session=True, url=(built_html / "book" / f"{name}.html").as_uri())
            browser.wait_for("Page.loadEventFired")
            shown = browser.evaluate("""[...document.querySelectorAll('[id^="hatbook-chart-"]')].map(b => {
                const svg = b.querySelector('svg'), r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
                return [b.id, r.width > 100 && r.height > 50 && r.width <= b.getBoundingClientRect().width + 1];
              })""")
            assert shown, name
            if not all(ok for _, ok in shown):
                blank[name] = [chart for chart, ok in shown if not ok]
        assert blank == {}
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", session=True, value=False)


#: Whether the chart box ``id`` has been redrawn by Vega, waiting for it at most 20 s.
REDRAWN = """(async id => {
  const box = document.getElementById(id), start = Date.now();
  const live = () => box.classList.contains('hatbook-chart-live') && !!box.querySelector('svg');
  while (!live() && Date.now() - start < 20000) { await new Promise(r => setTimeout(r, 100)); }
  return live();
})"""


def test_a_chart_is_redrawn_when_pointed_at_or_tabbed_to_and_not_when_scrolled_past(built_html, browser):
    """Real input, as the browser receives it from a reader: scrolling past every chart loads nothing; a
    mouse moved onto a chart, or the Tab key that reaches one, has Vega redraw that chart (and no other)."""
    browser.open(built_html / "book" / "ch06_7_cost_utility.html", DESKTOP)
    boxes = browser.evaluate("""[...document.querySelectorAll('[id^="hatbook-chart-"]')].map(b => b.id)""")
    assert len(boxes) >= 2
    assert browser.evaluate(SCROLL_ALL, timeout=300) == []
    assert browser.evaluate("typeof window.vegaEmbed") == "undefined"
    assert not [f.name for f in browser.loaded_files() if f.name in {"vega-bundle.js", "chart_fit.js"}]

    # the mouse moves onto the first chart
    middle = browser.evaluate(f"""(() => {{
      const box = document.getElementById('{boxes[0]}');
      box.scrollIntoView({{block: 'center'}});
      const r = box.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    }})()""")
    browser.call("Input.dispatchMouseEvent", session=True, type="mouseMoved", x=middle[0], y=middle[1])
    assert browser.evaluate(f"{REDRAWN}('{boxes[0]}')", timeout=60)
    assert "vega-bundle.js" in {f.name for f in browser.loaded_files()}
    assert browser.evaluate("document.querySelectorAll('.hatbook-chart-live').length") == 1

    # the Tab key from just before the last chart reaches it (it is focusable) and has it redrawn
    browser.evaluate(f"""(() => {{
      const box = document.getElementById('{boxes[-1]}'), mark = document.createElement('span');
      mark.tabIndex = -1;
      box.before(mark);
      mark.focus();
      return true;
    }})()""")
    for kind in ("rawKeyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", session=True, type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9)
    assert browser.evaluate("document.activeElement.id") == boxes[-1]
    assert browser.evaluate(f"{REDRAWN}('{boxes[-1]}')", timeout=60)
    # the box keeps its accessible name and description once Vega has drawn it (Vega makes its role
    # graphics-document, from figure)
    named = browser.evaluate(f"""(() => {{ const b = document.getElementById('{boxes[-1]}');
      return [b.getAttribute('aria-label'), b.getAttribute('aria-describedby')]; }})()""")
    assert all(named), named
    assert browser.errors() == []


def test_a_grid_of_views_is_redrawn_narrower_on_a_phone(built_html, browser):
    """The narrowing script (_static/chart_fit.js, loaded with Vega for a grid) redraws each grid of views
    of 6.7 that is wider than its column at 390 px with narrower panels: without it Vega's drawing would be
    as wide as the one made at build time. (Labels keep their size, so a grid with long labels may still
    be wider than a phone's column; CSS scales what is left.)"""
    browser.open(built_html / "book" / "ch06_7_cost_utility.html", PHONE)
    measure = """[...document.querySelectorAll('[data-hatbook-grid]')].map(b =>
                   [b.id, parseFloat(b.querySelector('svg').getAttribute('width')), b.clientWidth])"""
    built = {chart: width for chart, width, room in browser.evaluate(measure) if width > room + 1}
    assert built, "6.7 has no grid of views wider than a phone's column"
    assert browser.evaluate(DRAW_ALL, timeout=300) == []
    time.sleep(1)  # the narrowing redraws (at most three)
    assert browser.evaluate("typeof window.hatbookChartFit") == "function"
    redrawn = {chart: width for chart, width, _ in browser.evaluate(measure)}
    assert {chart: (width, redrawn[chart]) for chart, width in built.items() if redrawn[chart] > 0.75 * width} == {}
    assert browser.errors() == []


# --- accessibility -------------------------------------------------------------------------------------

AXE_VERSION = "4.10.3"


def axe_source(tmp_path_factory) -> str:
    """axe-core's browser script: from HATBOOK_AXE_DIR, the user cache, or installed there by npm."""
    places = [Path(os.environ["HATBOOK_AXE_DIR"])] if os.environ.get("HATBOOK_AXE_DIR") else []
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hatbook" / "axe-core"
    places.append(cache)
    for place in places:
        script = place / "node_modules" / "axe-core" / "axe.min.js"
        if script.is_file():
            return script.read_text(encoding="utf-8")
    npm = shutil.which("npm")
    if not npm:
        missing("axe-core is not installed and npm is not available to install it (npm install axe-core)")
    cache.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--silent", f"axe-core@{AXE_VERSION}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if done.returncode != 0 or not script.is_file():
        missing(f"npm could not install axe-core: {done.stderr[-500:]}")
    return script.read_text(encoding="utf-8")


AXE_RUN = """axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').slice(0, 160))})))"""


def axe_violations(browser: Browser, page: Path, source: str, width: int = DESKTOP) -> list[dict]:
    browser.open(page, width)
    browser.evaluate(source + "\n;true")
    return browser.evaluate(AXE_RUN, timeout=120)


def test_results_pages_have_no_serious_accessibility_violation(built_html, browser, tmp_path_factory):
    source = axe_source(tmp_path_factory)
    found = {}
    for name in AXE_PAGES:
        page = built_html / "book" / f"{name}.html"
        assert page.is_file(), name
        violations = axe_violations(browser, page, source)
        if violations:
            found[name] = violations
    assert found == {}
