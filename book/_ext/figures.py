"""Sphinx extension: every chart and table of a page, as the HTML book shows it.

Run on each page's body just before it is written (``html-page-context``), on what the page's code
displayed, so cached notebooks need no new execution and every edition (the published book and each
rerun) gets the same. The same pass over the page gathers each section's hidden code
(book/_ext/reading_flow.py), so that a page is parsed once:

* **Charts** (the ``hatbook-chart-*`` boxes of :mod:`analysis.presentation.charts`). The chart is drawn at build time
  as an SVG inside its box (vl-convert), so it shows at once, without JavaScript and without loading
  Vega; ``hatbook-charts.js`` loads Vega only when a reader points at, touches or tabs to the chart,
  and then redraws it at its column's width with tooltips (the specification stays in the page as a JSON data block, which the
  disclosure audit of a rerun reads). The box is named by the chart's description and described by its
  caption; below it a ``Data for this chart`` disclosure shows the chart's own data (the data embedded in
  its specification, which the page already protected: never the rows it was computed from), and a link
  downloads that data as CSV.
* **Tables**: a stable anchor (from the caption's "Table 6.D", else the caption's words, else the
  figure or section it sits in) in place of pandas' random ``T_3311f``, and a "Download CSV" link to a
  file of exactly what the table shows (its header and cells as rendered, suppression markers included).

CSV files are written under ``<html>/data/<page>/``.

**What a build keeps for the next** (the folder ``hatbook_build_cache``; by default the build's own
``_build`` folder; a rerun gives every edition the same one, see :mod:`hatbook.rerun`): each drawing,
named by its chart's specification, so that a chart the same in two editions (or two builds) is drawn
once; and each page's result with the CSV files it wrote, named by the page's name and body and by the
code that made it, so that a page the same in every edition (the prose, the pages without parameters)
is not parsed again. The folder is held to :data:`CACHE_BYTES`, the least recently used files removed
first.
"""

from __future__ import annotations

import copy
import csv
import functools
import gzip
import hashlib
import io
import json
import os
import re
import sys
import time
from pathlib import Path

import reading_flow
from bs4 import BeautifulSoup, Comment, NavigableString

ROOT = Path(__file__).resolve().parents[2]
SPEC = re.compile(r"var spec = (\{.*?\});\n\s*var options", re.DOTALL)
STYLER_ID = re.compile(r"^T_[0-9a-f]{5}$")
STYLER_TOKEN = re.compile(r"\bT_[0-9a-f]{5}(?![0-9a-f])")
TABLE_LABEL = re.compile(r"^\s*(Table\s+[A-Z0-9]+(?:\.[A-Za-z0-9]+)*)\b")
#: A chart's data is shown as a table up to this many rows; a longer one is offered as CSV only.
DATA_TABLE_ROWS = 60
SLUG_WORDS = 8
#: A number as the data table shows it (a year, a count, a share; a suppression marker counts as one).
NUMBER = re.compile(r"^([\u2212\-+]?[\d,]*\.?\d+%?|<\d+|\u2013|n/a)$")
#: Raise when :func:`static_svg` draws differently, so that no drawing kept from an earlier build is reused.
DRAWING_VERSION = 1
#: Bytes of drawings and pages a build cache keeps (each of its two folders), the least recently used
#: removed first when a build starts.
CACHE_BYTES = 48 * 2**20
DRAWINGS = "hatbook_chart_drawings"
PAGES = "hatbook_pages"
#: A date as JSON carries it ("2022-12-31T00:00:00"): the table shows the day.
DAY_AT_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?Z?$")
#: The order in which a chart's data table lists the fields its channels show.
CHANNELS = [
    "x",
    "y",
    "xOffset",
    "yOffset",
    "column",
    "row",
    "facet",
    "color",
    "shape",
    "x2",
    "y2",
    "size",
    "opacity",
    "text",
    "detail",
]
#: Attributes of an SVG drawing that hold coordinates (never the words shown).
GEOMETRY = re.compile(r'(\s(?:d|transform|x|y|x1|x2|y1|y2|width|height|points)=")([^"]*)"')


def slug(text: str, words: int = SLUG_WORDS) -> str:
    """``text`` as an id: lower case, ASCII letters and digits joined by hyphens, at most ``words`` words."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    parts = re.findall(r"[a-z0-9]+", plain)[:words]
    return "-".join(parts)


def table_anchor(caption: str, fallback: str) -> str:
    """A table's stable id: ``table-6-d`` for a caption "Table 6.D: ...", else the caption's first words,
    else ``fallback``."""
    label = TABLE_LABEL.match(caption or "")
    if label:
        return slug(label.group(1))
    return ("table-" + slug(caption)) if slug(caption) else fallback


def cell_text(cell) -> str:
    return " ".join(cell.get_text(" ").split())


def table_rows(table) -> list[list[str]]:
    """What a rendered table shows, row by row: header rows first (a header cell spanning columns is
    repeated in each), then the body, each cell's text as displayed."""
    rows = []
    for row in table.find_all("tr"):
        cells = []
        for cell in row.find_all(["th", "td"], recursive=False):
            text = cell_text(cell)
            span = int(cell.get("colspan", 1) or 1)
            cells.extend([text] * span)
        if cells:
            rows.append(cells)
    return rows


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def unique(anchor: str, taken: set[str]) -> str:
    candidate, n = anchor, 2
    while candidate in taken:
        candidate, n = f"{anchor}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _charts_module():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from analysis.presentation import charts

    return charts


# --- a chart's data --------------------------------------------------------------------------------------


def chart_datasets(spec: dict) -> list[list[dict]]:
    """The rows of every data set embedded in ``spec`` (Altair's named ``datasets`` and inline
    ``data.values`` of any view), in the order they appear, each once."""
    found, seen = [], set()

    def add(rows):
        if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows) and id(rows) not in seen:
            seen.add(id(rows))
            found.append(rows)

    for rows in (spec.get("datasets") or {}).values():
        add(rows)

    def walk(part):
        if isinstance(part, dict):
            data = part.get("data")
            if isinstance(data, dict):
                add(data.get("values"))
            for key, value in part.items():
                if key not in ("data", "datasets"):
                    walk(value)
        elif isinstance(part, list):
            for value in part:
                walk(value)

    walk(spec)
    return found


def encoded_fields(spec: dict) -> dict[str, tuple[str, str]]:
    """Field -> (title, type) as the chart's axes, legends or tooltips name them, in their order."""
    charts = _charts_module()
    found: dict[str, tuple[str, str]] = {}
    for view in charts._views(spec):
        encoding = view.get("encoding") or {}
        channels = sorted(
            (c for c in encoding if c != "tooltip"), key=lambda c: CHANNELS.index(c) if c in CHANNELS else len(CHANNELS)
        )
        entries = [encoding[channel] for channel in channels]
        tooltip = encoding.get("tooltip")
        entries += tooltip if isinstance(tooltip, list) else [tooltip]
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
                continue
            title = entry.get("title") if isinstance(entry.get("title"), str) else ""
            known = found.get(entry["field"], ("", ""))
            found[entry["field"]] = (known[0] or title, known[1] or str(entry.get("type") or ""))
    return found


def shown_value(value, quantity: bool = True) -> str:
    """A value of a chart's data as the table shows it: a quantity with thousands separators, at most
    three decimals and a true minus; a category (a year, a clinic) as it is."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float) and value != value:
        return ""
    if not quantity or not isinstance(value, (int, float)):
        return DAY_AT_MIDNIGHT.sub(r"\1", str(value))
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.3f}".rstrip("0").rstrip(".")
    return text.replace("-", "\u2212")


def data_tables(spec: dict) -> list[tuple[list[str], list[list[str]]]]:
    """Each embedded data set of ``spec`` as (header, rows): what the chart places or colours by first
    (categories), then what it measures (quantities), then any other column; titled as the chart's axes,
    legends or tooltips title them (else the field name in words)."""
    charts = _charts_module()
    encoded = encoded_fields(spec)
    tables = []
    for rows in chart_datasets(spec):
        fields: list[str] = []
        for row in rows:
            fields.extend(key for key in row if key not in fields)
        order = list(encoded)
        fields.sort(
            key=lambda f: (
                0 if f in encoded and encoded[f][1] != "quantitative" else 1 if f in encoded else 2,
                order.index(f) if f in order else 0,
            )
        )
        header = [encoded.get(field, ("", ""))[0] or charts.words(field) for field in fields]
        quantity = [encoded.get(field, ("", "quantitative"))[1] in ("quantitative", "") for field in fields]
        tables.append(
            (header, [[shown_value(row.get(field), q) for field, q in zip(fields, quantity)] for row in rows])
        )
    return tables


def only_words(spec: dict) -> bool:
    """Whether the chart only says something (a text mark: a rerun's "too few" message)."""
    charts = _charts_module()
    views = list(charts._views(spec))
    return bool(views) and all(charts._mark_type(view) == "text" for view in views)


# --- the static drawing -------------------------------------------------------------------------------------


def static_svg(spec: dict, cache: Path | None = None) -> str:
    """``spec`` drawn as SVG at its printed size, background transparent (the theme's dark mode shows
    through), scaled by its viewBox to its column; coordinates cut to one decimal and the marks' own
    accessible names left out (the drawing is hidden from screen readers: its box is named and described,
    and its data is a table), which keeps pages light. Kept in ``cache`` (a folder), by the chart's id."""
    charts = _charts_module()
    import vl_convert as vlc

    # named by the chart and by what draws it, so that a new vl-convert or a change here draws afresh
    version = f"{vlc.__version__}-{DRAWING_VERSION}" if hasattr(vlc, "__version__") else str(DRAWING_VERSION)
    stored = cache / f"{charts.chart_id(spec)}-{version}.svg" if cache is not None else None
    kept = read_kept(stored) if stored is not None else None
    if kept is not None:
        return kept

    drawn = copy.deepcopy(charts.printed(spec))
    drawn["background"] = "transparent"
    svg = vlc.vegalite_to_svg(drawn, vl_version=charts.vega_lite_version())
    svg = GEOMETRY.sub(lambda m: m.group(1) + re.sub(r"(\d+\.\d)\d+", r"\1", m.group(2)) + '"', svg)
    svg = re.sub(r'\s(?:aria-label|aria-roledescription)="[^"]*"|\srole="graphics-symbol"', "", svg)
    svg = re.sub(
        r'<svg([^>]*?)\swidth="([\d.]+)"\s+height="([\d.]+)"',
        lambda m: f'<svg{m.group(1)} width="{m.group(2)}" height="{m.group(3)}" style="max-width:100%;height:auto"',
        svg,
        count=1,
    )
    if stored is not None:
        write_whole(stored, svg)
    return svg


# --- what a build keeps for the next ----------------------------------------------------------------------


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` gzipped (a page's HTML is a tenth of its size then) and whole, renamed into
    place: builds running at once (a grid's workers) never read half a file. A cache that cannot be written is
    not an error."""
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=5, mtime=0))
        part.replace(path)
    except OSError:
        part.unlink(missing_ok=True)


def read_kept(path: Path) -> str | None:
    """The text kept at ``path``, gzipped or not (its time of use renewed, for :func:`prune`), or None."""
    try:
        data = path.read_bytes()
        os.utime(path)
        return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile):
        return None


@functools.cache
def code_digest(*files: str) -> str:
    """A digest of the source of ``files`` and of what draws the charts (the chart code, vl-convert's
    version, :data:`DRAWING_VERSION`): a page kept by other code is not reused."""
    import importlib.util

    import vl_convert as vlc

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # found, not imported: a build whose pages are all kept does without the chart code
    spec = importlib.util.find_spec("analysis.presentation.charts")
    digest = hashlib.sha256(f"{getattr(vlc, '__version__', '')}-{DRAWING_VERSION}".encode())
    for name in (*files, spec.origin if spec is not None and spec.origin else ""):
        digest.update(Path(name).read_bytes() if name else b"")
    return digest.hexdigest()


def page_key(code: str, pagename: str, body: str) -> str:
    """The key of a page's body transformed by ``code``: pandas' random table ids are read by their order of
    appearance (:func:`without_random_ids`), so a page executed again is the same page."""
    return hashlib.sha256(f"{code}\0{pagename}\0".encode() + without_random_ids(body).encode("utf-8")).hexdigest()[:32]


def without_random_ids(body: str) -> str:
    """``body`` with each of pandas' random table ids (``T_`` and five hex digits, which the table's styles and
    cells repeat) named by its order of first appearance instead: two executions of a page differ by these alone.
    What a page keeps is made whole from one body, so its ids agree with each other whichever body made it."""
    names: dict[str, str] = {}
    return STYLER_TOKEN.sub(lambda found: names.setdefault(found.group(0), f"T_{len(names):05d}"), body)


def cache_root(app) -> Path:
    """The folder where this build keeps drawings and pages (``hatbook_build_cache``, else ``_build``)."""
    configured = getattr(app.config, "hatbook_build_cache", "") or ""
    return Path(configured) if configured else Path(app.outdir).parent


def prune(folder: Path, limit: int = CACHE_BYTES) -> None:
    """Remove the least recently used files of ``folder`` until it holds at most ``limit`` bytes (and any
    half-written file that a stopped build left)."""
    try:
        files = [(p.stat().st_mtime, p.stat().st_size, p) for p in folder.iterdir() if p.is_file()]
    except OSError:
        return
    total = sum(size for _, size, _ in files)
    stale = time.time() - 3600  # a part written an hour ago is no other build's work in progress
    for mtime, size, path in sorted(files, key=lambda item: item[0]):
        part = path.name.endswith(".part")
        if (part and mtime >= stale) or (not part and total <= limit):
            continue
        try:
            path.unlink()
            total -= size
        except OSError:
            continue


def kept_transform(body: str, pagename: str, outdir: Path, cache: Path) -> str:
    """:func:`transform` of a page, taken from ``cache`` when a page of the same name and body was
    transformed by the same code before (its CSV files written again from there), else made and kept."""
    if not _has_work(body):
        return body
    code = code_digest(__file__, reading_flow.__file__)
    stored = cache / PAGES / f"figures-{page_key(code, pagename, body)}.json"
    kept = read_kept(stored)
    if kept is not None:
        try:
            record = json.loads(kept)
            for name, text in record["files"].items():
                target = outdir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            return record["body"]
        except (ValueError, KeyError, TypeError, AttributeError, OSError):
            pass  # not a record of this code: made again below
    made, written = transform(body, pagename, outdir, cache / DRAWINGS)
    files = {path.relative_to(outdir).as_posix(): path.read_text(encoding="utf-8") for path in written}
    write_whole(stored, json.dumps({"body": made, "files": files}, ensure_ascii=False))
    return made


# --- the page's body --------------------------------------------------------------------------------------


def relative(target: Path, outdir: Path, pagename: str) -> str:
    return os.path.relpath(target, (outdir / pagename).parent).replace(os.sep, "/")


def caption_of(box) -> tuple[object | None, str]:
    """The figure caption that belongs to a chart or table, and the id of the figure holding it."""
    figure = box.find_parent("figure")
    if figure is None:
        return None, ""
    return figure.find("figcaption"), figure.get("id", "")


#: A drawing's place in a page while the page is a parsed tree: the SVG goes in as text once the page is
#: written out (parsing a drawing only to write it out again took a third of a page's time).
DRAWING_MARK = "hatbook-static-drawing-"


def _has_work(body: str) -> bool:
    return "hatbook-chart-" in body or "<table" in body or reading_flow.has_hidden_code(body)


def transform(body: str, pagename: str, outdir: Path, cache: Path | None = None) -> tuple[str, list[Path]]:
    """The page's body with its charts and tables as the module docstring describes, and its hidden code
    gathered (book/_ext/reading_flow.py), in one pass over the page; and the files written for it."""
    if not _has_work(body):
        return body, []
    soup = BeautifulSoup(body, "html.parser")
    written, drawings = _charts_and_tables(soup, pagename, outdir, cache)
    if reading_flow.has_hidden_code(body):
        reading_flow.gather_in(soup)
    made = str(soup)
    for number, svg in enumerate(drawings):
        made = made.replace(f"<!--{DRAWING_MARK}{number}-->", svg, 1)
    return made, written


def _charts_and_tables(soup, pagename: str, outdir: Path, cache: Path | None) -> tuple[list[Path], list[str]]:
    """Make the charts and tables of a parsed page as the module docstring describes; return the files
    written and the drawings, each in the page as a comment ``DRAWING_MARK`` and its number."""
    taken = {tag["id"] for tag in soup.find_all(id=True)}
    written: list[Path] = []
    drawings: list[str] = []
    data_dir = outdir / "data" / pagename

    def write(path: Path, text: str) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
        return relative(path, outdir, pagename)

    for count, box in enumerate(soup.select('div.hatbook-chart[id^="hatbook-chart-"]'), start=1):
        script = box.find_next_sibling("script")
        found = SPEC.search(script.string or "") if script is not None else None
        if not found:
            continue
        spec = json.loads(found.group(1))
        charts = _charts_module()
        chart = box["id"]
        script.decompose()
        # the specification stays in the page as data (not run; hatbook-charts.js reads it when the chart is
        # redrawn), where the disclosure audit reads every chart's data
        data_block = soup.new_tag(
            "script",
            attrs={"type": "application/json", "id": chart.replace("-chart-", "-spec-"), "class": "hatbook-chart-spec"},
        )
        data_block.string = json.dumps(spec, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
        box.insert_after(data_block)
        box["data-hatbook-spec"] = data_block["id"]
        box["data-hatbook-vega"] = relative(outdir / "_static" / "vega-bundle.js", outdir, pagename)
        if not charts.is_single_view(spec):
            box["data-hatbook-grid"] = "true"
        description = str(spec.get("description") or "")
        caption, figure_id = caption_of(box)
        if caption is not None:
            caption_id = caption.get("id") or unique(f"{figure_id or chart}-caption", taken)
            caption["id"] = caption_id
            box["aria-describedby"] = caption_id
        if description:
            box["aria-label"] = description
        box["role"] = "figure"
        drawing = soup.new_tag("div", attrs={"class": "hatbook-chart-static", "aria-hidden": "true"})
        drawing.append(Comment(f"{DRAWING_MARK}{len(drawings)}"))
        drawings.append(static_svg(spec, cache))
        box.append(drawing)
        name = figure_id
        if not figure_id:
            name = unique("figure-" + (slug(description) or str(count)), taken)
            box.wrap(soup.new_tag("div", attrs={"id": name, "class": "hatbook-figure-anchor"}))
        if only_words(spec):
            continue
        tables = data_tables(spec)
        if not tables:
            continue
        details = soup.new_tag("details", attrs={"class": "hatbook-chart-data"})
        summary = soup.new_tag("summary")
        summary.string = "Data for this chart"
        details.append(summary)
        for number, (header, rows) in enumerate(tables, start=1):
            stem = name if len(tables) == 1 else f"{name}-{number}"
            if len(tables) > 1:
                part = soup.new_tag("p", attrs={"class": "hatbook-data-part"})
                part.string = f"Part {number} of {len(tables)} of the chart's data: " + ", ".join(header) + "."
                details.append(part)
            href = write(data_dir / f"{stem}.csv", csv_text([header, *rows]))
            if len(rows) <= DATA_TABLE_ROWS:
                words = [not all(NUMBER.match(row[i]) for row in rows if row[i]) for i in range(len(header))]
                details.append(_data_table(soup, header, rows, description, words))
            else:
                note = soup.new_tag("p")
                note.string = f"{len(rows):,} rows: too many to list here; the CSV file holds them all."
                details.append(note)
            details.append(
                _download(soup, href, "Download as CSV" if len(tables) > 1 else "Download this chart's data (CSV)")
            )
        (box.find_parent("div", class_="hatbook-figure-anchor") or box).insert_after(details)

    for number, table in enumerate(soup.find_all("table"), start=1):
        if table.find_parent(class_="hatbook-chart-data") or not table.find("td"):
            continue
        caption_tag = table.find("caption")
        caption = cell_text(caption_tag) if caption_tag else ""
        figure_caption, figure_id = caption_of(table)
        if not caption and figure_caption is not None:
            caption = cell_text(figure_caption)
        section = table.find_parent("section")
        fallback = (
            (figure_id + "-table")
            if figure_id
            else f"{section.get('id', 'page') if section else 'page'}-table-{number}"
        )
        old = table.get("id", "")
        anchor = unique(table_anchor(caption, fallback), taken)
        if STYLER_ID.match(old or ""):
            # pandas' styles address the table's cells by its random id: they follow the new one
            for style in soup.find_all("style"):
                if old in (style.string or ""):
                    style.string = re.sub(rf"#{old}(?![0-9a-f])", f"#{anchor}", style.string)
            for tag in table.find_all(id=re.compile(rf"^{old}_")):
                tag["id"] = anchor + tag["id"][len(old) :]
        table["id"] = anchor
        href = write(data_dir / f"{anchor}.csv", csv_text(table_rows(table)))
        link = _download(
            soup, href, "Download CSV", label=f"Download {caption.split(':')[0] if caption else 'this table'} as CSV"
        )
        paragraph = soup.new_tag("p", attrs={"class": "hatbook-download"})
        paragraph.append(link)
        table.insert_after(paragraph)
    return written, drawings


def _download(soup, href: str, text: str, label: str | None = None):
    link = soup.new_tag("a", attrs={"href": href, "download": "", "class": "hatbook-csv"})
    if label:
        link["aria-label"] = label
    link.string = text
    return link


def _data_table(soup, header: list[str], rows: list[list[str]], description: str, words: list[bool]):
    scroll = soup.new_tag(
        "div",
        attrs={"class": "hatbook-table-scroll", "role": "region", "tabindex": "0", "aria-label": "Data for this chart"},
    )
    table = soup.new_tag("table", attrs={"class": "hatbook-chart-table"})
    if description:
        caption = soup.new_tag("caption", attrs={"class": "hatbook-visually-hidden"})
        caption.string = f"Data of the chart: {description}"
        table.append(caption)
    head = soup.new_tag("thead")
    row = soup.new_tag("tr")
    for title, text in zip(header, words):
        cell = soup.new_tag("th", attrs={"scope": "col", "class": "hatbook-text"} if text else {"scope": "col"})
        cell.string = title
        row.append(cell)
    head.append(row)
    table.append(head)
    body = soup.new_tag("tbody")
    for values in rows:
        row = soup.new_tag("tr")
        for value, text in zip(values, words):
            cell = soup.new_tag("td", attrs={"class": "hatbook-text"} if text else {})
            cell.append(NavigableString(value))
            row.append(cell)
        body.append(row)
    table.append(body)
    scroll.append(table)
    return scroll


def _page(app, pagename, templatename, context, doctree) -> None:
    if app.builder.format != "html" or "body" not in context or pagename not in app.env.all_docs:
        return  # the book's pages, not the search page or the general index
    context["body"] = kept_transform(context["body"], pagename, Path(app.outdir), cache_root(app))


def _prune(app) -> None:
    # "protection": the joint protection's patterns the rerun's kernels keep (hatbook/rerun.py)
    for name in (DRAWINGS, PAGES, "protection"):
        prune(cache_root(app) / name)


def setup(app):
    # where drawings and pages are kept between builds (see the module docstring); not part of the pages
    app.add_config_value("hatbook_build_cache", "", "", [str])
    app.connect("builder-inited", _prune)
    # before the body is read by the extensions that choose what a page loads (priority 900)
    app.connect("html-page-context", _page, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
