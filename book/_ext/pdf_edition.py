"""Sphinx extension: the PDF edition (Jupyter Book's LaTeX builder, xelatex).

Every change is made for the LaTeX builder only; the HTML book is untouched.

* **Tables.** The computed tables are pandas ``Styler`` objects: HTML. LaTeX cannot use raw HTML, and
  without help their plain-text stand-in ("<pandas.io.formats.style.Styler at 0x...>") would be
  printed instead. ``_config.yml`` lets the LaTeX builder pick ``text/html`` before ``text/plain``, and
  this extension turns each HTML ``<table>`` of a notebook output into a docutils table (header rows,
  spans, caption), with column widths from its content and a smaller font when it is wide. A table
  placed with ``{glue:figure}`` becomes a captioned table instead of a figure, keeping its label, so
  that ``{ref}`` links still work. An HTML-only output that is not a table is reported with a
  warning (the book builds with warnings as errors), so nothing vanishes silently.
* **Charts.** Each chart carries a PNG drawn at ``PNG_SCALE`` times its size on screen; it is printed
  at its on-screen size (96 CSS pixels to the inch), never wider than the text.
* **Comparison tables.** The "computed against published" tables that the HTML book folds away
  (cells tagged ``hide-output``) are printed, since the text before them refers to them; set
  ``hatbook_pdf_show_hidden_output = False`` to leave them out.
* **LaTeX files.** ``book/_static/latex/`` holds ``hatbook.sty`` and a stand-in ``bbm.sty``; both are
  copied into the LaTeX build folder.
* **Title page.** ``hatbook.sty`` draws the title page, which names the
  edition (``hatbook_pdf_edition``: the published edition, or a rerun's clinic and year) and the
  source of the data (``hatbook_pdf_data_source``). It also hides LaTeX's running "Figure 1:"
  labels: captions carry the report's own numbering ("Figure 6.A"), as in the HTML book.
"""

from __future__ import annotations

import re
import struct
from html.parser import HTMLParser
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

LATEX_DIR = Path(__file__).resolve().parent.parent / "_static" / "latex"
#: Copied into the LaTeX build folder: the book's style, and a stand-in for the bbm package (see there).
LATEX_FILES = [LATEX_DIR / "hatbook.sty", LATEX_DIR / "bbm.sty"]
PNG_SCALE = 2  # analysis.presentation.charts.PNG_SCALE: the PNG of a chart is drawn at twice its screen size
CSS_PX_PER_INCH = 96

DEFAULT_EDITION = "Published edition"
DEFAULT_DATA_SOURCE = (
    "Statistics are computed by the book's code from the report's published tables (data/published) "
    "and from a synthetic patient-level cohort (data/synthetic), an artificial data set with the schema "
    "of the evaluation's confidential records and calibrated to the figures the report publishes. "
    "No real patient's data are in this edition."
)


# --------------------------------------------------------------------------------------------------
# HTML tables to docutils tables


class Cell:
    __slots__ = ("text", "header", "colspan", "rowspan")

    def __init__(self, header: bool, colspan: int, rowspan: int):
        self.text = ""
        self.header = header
        self.colspan = max(1, colspan)
        self.rowspan = max(1, rowspan)


class HtmlTable:
    def __init__(self):
        self.classes: list[str] = []
        self.caption = ""
        self.head: list[list[Cell]] = []
        self.body: list[list[Cell]] = []


class TableParser(HTMLParser):
    """The tables of an HTML fragment: caption, header rows and body rows of text cells.

    Enough HTML for what pandas (``DataFrame.to_html``, ``Styler.to_html``) writes: ``thead``,
    ``tbody``, ``th``/``td`` with ``colspan``/``rowspan``, ``caption``; markup inside cells is reduced to
    its text, ``<br>`` to a space; ``<style>`` and ``<script>`` are skipped.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[HtmlTable] = []
        self._table: HtmlTable | None = None
        self._section = "body"
        self._row: list[Cell] | None = None
        self._cell: Cell | None = None
        self._in_caption = False
        self._skip = 0
        self.other_text = []

    @staticmethod
    def _span(attrs, name):
        try:
            return int(dict(attrs).get(name) or 1)
        except ValueError:
            return 1

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self._table = HtmlTable()
            self._table.classes = (dict(attrs).get("class") or "").split()
            self._section = "body"
        elif self._table is None:
            return
        elif tag == "thead":
            self._section = "head"
        elif tag in ("tbody", "tfoot"):
            self._section = "body"
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = Cell(tag == "th", self._span(attrs, "colspan"), self._span(attrs, "rowspan"))
        elif tag == "br":
            self.handle_data(" ")

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.handle_data(" ")

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        elif self._table is None:
            return
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._cell.text = " ".join(self._cell.text.split())
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            (self._table.head if self._section == "head" else self._table.body).append(self._row)
            self._row = None
        elif tag == "caption":
            self._in_caption = False
            self._table.caption = " ".join(self._table.caption.split())
        elif tag == "thead":
            self._section = "body"
        elif tag == "table":
            table = self._table
            # tables without <thead>: leading rows made only of <th> are the header
            if not table.head:
                while table.body and all(cell.header for cell in table.body[0]):
                    table.head.append(table.body.pop(0))
            self.tables.append(table)
            self._table = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._cell is not None:
            self._cell.text += data
        elif self._in_caption and self._table is not None:
            self._table.caption += data
        elif self._table is None and data.strip():
            self.other_text.append(data.strip())


def parse_tables(html: str) -> TableParser:
    parser = TableParser()
    parser.feed(html)
    parser.close()
    return parser


def _layout(rows: list[list[Cell]], start: set | None = None) -> tuple[list[list[tuple[int, Cell]]], int, set]:
    """Place the cells of ``rows`` on a grid: for each row, (column, cell); the number of columns.

    ``start`` holds grid slots already taken by row spans from rows above (as (row, column) pairs).
    """
    taken = set(start or ())
    placed = []
    width = 0
    for r, row in enumerate(rows):
        column = 0
        line = []
        for cell in row:
            while (r, column) in taken:
                column += 1
            line.append((column, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, column + dc))
            column += cell.colspan
        width = max(width, column, max((c + 1 for (rr, c) in taken if rr == r), default=0))
        placed.append(line)
    return placed, width, taken


class Need:
    """What a column needs, in characters: ``least`` (its longest word) and ``most`` (its longest cell)."""

    def __init__(self, ncols: int):
        self.least = [2] * ncols
        self.most = [2] * ncols

    def add(self, column: int, text: str, header: bool) -> None:
        if column >= len(self.least):
            return
        # a line may break at white space and, in tables, after "_" (see _sized)
        words = re.split(r"[\s_]+", text)
        # header words are set in bold sans serif: a little wider than their letters
        longest = max((len(w) + (2 if header else 0) for w in words), default=0)
        self.least[column] = max(self.least[column], min(longest + 1, 30))
        self.most[column] = max(self.most[column], longest, 0 if header else len(text))


def html_needs(table: HtmlTable, ncols: int) -> Need:
    need = Need(ncols)
    for rows, header in ((table.head, True), (table.body, False)):
        placed, _, _ = _layout(rows)
        for line in placed:
            for column, cell in line:
                if cell.colspan == 1:
                    need.add(column, cell.text, header or cell.header)
    return need


def docutils_needs(table: nodes.table) -> Need:
    group = next(iter(table.findall(nodes.tgroup)))
    need = Need(int(group["cols"]))
    for part, header in ((nodes.thead, True), (nodes.tbody, False)):
        for section in group.findall(part):
            for row in section.findall(nodes.row):
                column = 0
                for entry in row.children:
                    if not isinstance(entry, nodes.entry):
                        continue
                    if not entry.get("morecols"):
                        need.add(column, " ".join(entry.astext().split()), header)
                    column += 1 + entry.get("morecols", 0)
    return need


#: Tables whose cells need more characters a line than this keep LaTeX's natural layout (tabulary);
#: wider ones get column widths from :func:`allocate`.
NATURAL_WIDTH_LIMIT = 90
#: Characters a line of the text width holds, roughly, at each table font size.
LINE_CHARACTERS = {r"\small": 100, r"\footnotesize": 112, r"\scriptsize": 128}


def font_for(need: Need, classes=()) -> tuple[str, str]:
    """LaTeX size command and column separation for a table."""
    ncols, total = len(need.most), sum(need.most)
    if "hatbook-scorecard" in classes or ncols >= 9 or total > 320:
        return r"\scriptsize", "3pt"
    if ncols >= 6 or total > 160:
        return r"\footnotesize", "4pt"
    return r"\small", "5pt"


def allocate(need: Need, line: int) -> list[int]:
    """Column widths (in characters) for a line of ``line`` characters.

    Every column gets at least its longest word; what is left of the line goes to the columns in
    proportion to how much more their longest cell needs; a column never gets more than it needs.
    """
    least, most = need.least, [max(high, low) for high, low in zip(need.most, need.least)]
    line = line - 2 * len(least)  # the space between columns
    if sum(most) <= line or sum(least) >= line:
        return most if sum(most) <= line else least
    spare = line - sum(least)
    wants = [high - low for high, low in zip(most, least)]
    total = sum(wants)
    return [low + round(spare * w / total) for low, w in zip(least, wants)]


def fit_widths(table: nodes.table, need: Need, classes=()) -> None:
    """Column widths and font size of a docutils table: proportional widths for wide tables."""
    group = next(iter(table.findall(nodes.tgroup)))
    specs = [c for c in group.children if isinstance(c, nodes.colspec)]
    font = font_for(need, classes)
    table["hatbook_font"] = font
    if len(specs) != len(need.most):
        return
    if sum(need.most) > NATURAL_WIDTH_LIMIT:
        # Sphinx takes each column's share of the line and then subtracts the space between columns
        # from it: give that space (about two characters) back to every column
        for spec, width in zip(specs, allocate(need, LINE_CHARACTERS[font[0]])):
            spec["colwidth"] = max(width, 1) + 2
        if "colwidths-given" not in table["classes"]:
            table["classes"].append("colwidths-given")
    elif "colwidths-given" in table["classes"]:
        table["classes"].remove("colwidths-given")


def to_docutils(table: HtmlTable, classes: list[str]) -> nodes.table | None:
    head, ncols_head, taken = _layout(table.head)
    body, ncols_body, _ = _layout(table.body)
    ncols = max(ncols_head, ncols_body)
    if ncols == 0 or not table.body:
        return None
    node = nodes.table(classes=["hatbook-table", *classes])
    group = nodes.tgroup(cols=ncols)
    node += group
    for _ in range(ncols):
        group += nodes.colspec(colwidth=1)
    for rows, parent_cls in ((head, nodes.thead), (body, nodes.tbody)):
        if not rows:
            continue
        parent = parent_cls()
        group += parent
        for index, line in enumerate(rows):
            row = nodes.row()
            for column, cell in line:
                entry = nodes.entry()
                # spans may not run past the table's edge
                if cell.colspan > 1:
                    entry["morecols"] = min(cell.colspan, ncols - column) - 1
                if cell.rowspan > 1:
                    entry["morerows"] = min(cell.rowspan, len(rows) - index) - 1
                if cell.text:
                    entry += nodes.paragraph(cell.text, cell.text)
                row += entry
            parent += row
    fit_widths(node, html_needs(table, ncols), table.classes)
    return node


def _sized(table: nodes.table) -> list[nodes.Node]:
    size, sep = table.get("hatbook_font", (r"\small", "5pt"))
    # long identifiers (ledger keys such as s6_1_patients_participated_total) may break after "_"
    begin = nodes.raw(
        "",
        f"\\begingroup{size}\\setlength{{\\tabcolsep}}{{{sep}}}\\renewcommand{{\\_}}{{\\textunderscore\\allowbreak}}\n",
        format="latex",
    )
    end = nodes.raw("", "\\endgroup\n", format="latex")
    return [begin, table, end]


# --------------------------------------------------------------------------------------------------
# Chart images


def png_width(path: Path) -> int | None:
    """Pixel width of a PNG file (from its IHDR chunk), or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">I", head[16:20])[0]


def _image_path(app, node: nodes.image) -> Path | None:
    uri = node.get("candidates", {}).get("image/png") or node.get("uri", "")
    if not uri or "://" in uri:
        return None
    path = Path(uri)
    if not path.is_absolute():
        path = Path(app.srcdir) / uri.lstrip("/")
    return path if path.exists() else None


# --------------------------------------------------------------------------------------------------
# The post-transform


def _is_hidden(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if type(parent).__name__ == "HiddenCellNode":
            return True
        parent = parent.parent
    return False


def _in_output(node: nodes.Node) -> bool:
    return "output" in node.get("classes", []) or "text_html" in node.get("classes", [])


class PdfEditionTransform(SphinxPostTransform):
    """Tables from HTML outputs, printed chart sizes, folded outputs shown (LaTeX builder only)."""

    # after myst-nb picks a MIME type (priority 4) and before sphinx-jupyterbook-latex drops hidden
    # cells (priority 400)
    default_priority = 300
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        if self.config.hatbook_pdf_show_hidden_output:
            for container in self.document.findall(nodes.container):
                if "tag_hide-output" in container["classes"]:
                    container["classes"].remove("tag_hide-output")
        self._tables()
        self._figures_of_tables()
        self._other_tables()
        self._images()

    def _tables(self) -> None:
        for raw in list(self.document.findall(nodes.raw)):
            if raw.get("format") != "html" or not _in_output(raw) or _is_hidden(raw):
                continue
            parsed = parse_tables(raw.astext())
            replacement: list[nodes.Node] = []
            in_figure = isinstance(raw.parent, nodes.figure) or any(
                isinstance(a, nodes.figure) for a in _ancestors(raw)
            )
            for html_table in parsed.tables:
                table = to_docutils(html_table, [])
                if table is None:
                    continue
                if html_table.caption and not in_figure:
                    table.insert(0, nodes.title(html_table.caption, html_table.caption))
                replacement.append(table)
            if not replacement:
                snippet = " ".join(raw.astext().split())[:80]
                logger.warning(
                    "an output has only an HTML form and no table; it is left out of the PDF: %s",
                    snippet,
                    location=raw,
                    type="hatbook",
                    subtype="pdf",
                )
                raw.parent.remove(raw)
                continue
            if not in_figure:
                replacement = [n for t in replacement for n in _sized(t)]
            raw.replace_self(replacement)

    def _figures_of_tables(self) -> None:
        """A figure whose content is a table becomes a table with the figure's caption as its title."""
        for figure in list(self.document.findall(nodes.figure)):
            tables = list(figure.findall(nodes.table))
            if not tables or list(figure.findall(nodes.image)):
                continue
            caption = next(iter(figure.findall(nodes.caption)), None)
            legend = next(iter(figure.findall(nodes.legend)), None)
            replacement: list[nodes.Node] = []
            for i, table in enumerate(tables):
                table.parent.remove(table)
                if i == 0:
                    if caption is not None:
                        table.insert(0, nodes.title(caption.rawsource, "", *caption.children))
                    table["ids"] = figure["ids"] + table["ids"]
                    table["names"] = figure["names"] + table["names"]
                replacement.extend(_sized(table))
            if legend is not None:
                replacement.extend(legend.children)
            figure.replace_self(replacement)

    def _other_tables(self) -> None:
        fit_other_tables(self.document)

    def _images(self) -> None:
        for image in self.document.findall(nodes.image):
            if "width" in image or "scale" in image:
                continue
            path = _image_path(self.app, image)
            pixels = png_width(path) if path else None
            if pixels:
                image["width"] = f"{pixels / PNG_SCALE / CSS_PX_PER_INCH:.2f}in"


def fit_other_tables(document: nodes.Node) -> None:
    """Tables written in the pages or by extensions: widths from content, font by width."""
    for table in list(document.findall(nodes.table)):
        if "hatbook_font" in table or _is_hidden(table) or not list(table.findall(nodes.tgroup)):
            continue
        fit_widths(table, docutils_needs(table), table["classes"])
        table.replace_self(_sized(table))


def _late_tables(app, doctree, docname) -> None:
    """Tables added after the post-transforms (the scorecard page fills its tables at doctree-resolved)."""
    if app.builder.format == "latex":
        fit_other_tables(doctree)


def _ancestors(node: nodes.Node):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


# --------------------------------------------------------------------------------------------------
# Title page and LaTeX setup


def tex_escape(text: str) -> str:
    """Text for LaTeX: special characters escaped."""
    replace = {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "_": r"\_",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
    return "".join(replace.get(ch, ch) for ch in text)


def _configure_latex(app, config) -> None:
    elements = config.latex_elements
    macros = (
        "\n% hatbook: the edition and the source of its data, for the title page (pdf_edition.py)\n"
        f"\\newcommand{{\\hatbookedition}}{{{tex_escape(config.hatbook_pdf_edition)}}}\n"
        f"\\newcommand{{\\hatbookdatasource}}{{{tex_escape(config.hatbook_pdf_data_source)}}}\n"
        "\\usepackage{hatbook}\n"
    )
    elements["preamble"] = elements.get("preamble", "") + macros
    elements.setdefault("maketitle", r"\hatbookmaketitle")
    files = list(config.latex_additional_files or [])
    files += [str(path) for path in LATEX_FILES if str(path) not in files]
    config.latex_additional_files = files


def setup(app):
    app.add_config_value("hatbook_pdf_edition", DEFAULT_EDITION, "env", [str])
    app.add_config_value("hatbook_pdf_data_source", DEFAULT_DATA_SOURCE, "env", [str])
    app.add_config_value("hatbook_pdf_show_hidden_output", True, "env", [bool])
    # after sphinx-jupyterbook-latex has set its own preamble (its handler has the default priority)
    app.connect("config-inited", _configure_latex, priority=800)
    app.add_post_transform(PdfEditionTransform)
    app.connect("doctree-resolved", _late_tables, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
