"""Sphinx extension: the whole-book scorecard, every computed statistic checked against the report.

Every computed page glues its statistics under their ledger keys (:class:`analysis.presentation.scorecard.Card`);
myst-nb writes each executed notebook's glue data to ``<build>/jupyter_execute/<page>.glue.json``.
This extension reads them all (:func:`analysis.presentation.scorecard.collect`):

* the directive ``{hatbook-scorecard}`` becomes, on its page, a table per report section (statistics
  in the ledger, computed, agreeing at the printed precision; each section linked to the page that
  computes it), the list of those that differ under the labels every page's own check uses (statistic,
  report, this edition, ✓ or ✗, page) and, in HTML, a link to ``scorecard.csv``;
* at the end of an HTML build it writes ``scorecard.csv`` (``key, section, published, computed,
  within_precision``) into the output folder, for machines.

The scorecard page is re-written on every build, because other pages' results feed it.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

CSV_NAME = "scorecard.csv"


class scorecard_node(nodes.General, nodes.Element):
    """Placeholder, replaced once every page has been executed."""


class ScorecardDirective(SphinxDirective):
    has_content = False

    def run(self):
        self.env.metadata[self.env.docname]["hatbook_scorecard"] = True
        return [scorecard_node()]


def _execute_dir(app) -> Path:
    return Path(app.outdir).parent / "jupyter_execute"


def _cell(cell) -> nodes.paragraph:
    """A table cell's paragraph: ``cell`` as text, or a node (a link) as it is."""
    if isinstance(cell, nodes.Node):
        return cell if isinstance(cell, nodes.paragraph) else nodes.paragraph("", "", cell)
    return nodes.paragraph(text=str(cell))


def _table(
    header: list[str], rows: list[list], classes: str = "hatbook-table", row_classes: list[str] | None = None
) -> nodes.table:
    table = nodes.table(classes=classes.split())
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    body = nodes.tbody()
    group += body
    for number, (cells, parent) in enumerate([(header, head)] + [(r, body) for r in rows]):
        row = nodes.row()
        if number and row_classes:
            row["classes"].append(row_classes[number - 1])
        for cell in cells:
            entry = nodes.entry()
            entry += _cell(cell)
            row += entry
        parent += row
    return table


def _page_link(app, fromdoc: str, page: str, text: str):
    """``text`` linked to the built page of ``page`` (a docname), where the builder makes links (HTML);
    the text alone elsewhere or when the page is not in the book."""
    if app.builder.format != "html" or page not in app.env.all_docs:
        return nodes.Text(text)
    return nodes.reference(text, text, refuri=app.builder.get_relative_uri(fromdoc, page), internal=True)


def section_page(section: str, docs) -> str | None:
    """The page of the book that holds the report's ``section`` ("6.1", "6", "Appendix 3", "Executive
    summary"), among the docnames ``docs``; None when none does."""
    section = section.strip()
    if section == "Executive summary":
        prefixes = ["book/executive_summary"]
    elif section.startswith("Appendix "):
        prefixes = [f"book/appendix{section.split()[-1]}_"]
    elif section.replace(".", "").isdigit():
        chapter, _, part = section.partition(".")
        prefixes = [f"book/ch{int(chapter):02d}_{part}_"] if part else []
        prefixes.append(f"book/ch{int(chapter):02d}_")
    else:
        return None
    for prefix in prefixes:
        # a chapter's own page ("ch06_results") before its sections' pages ("ch06_1_...")
        found = sorted(
            (d for d in docs if d.startswith(prefix) or d == prefix),
            key=lambda d: (d[len(prefix) : len(prefix) + 1].isdigit(), d),
        )
        if found:
            return found[0]
    return None


def _csv_link(docname: str) -> nodes.paragraph:
    """The paragraph that links ``scorecard.csv`` (written at the root of the HTML output)."""
    uri = "../" * docname.count("/") + CSV_NAME
    paragraph = nodes.paragraph(text="The same comparison, one row per statistic, for machines: ")
    paragraph += nodes.reference(CSV_NAME, CSV_NAME, refuri=uri)
    paragraph += nodes.Text(" (columns key, section, published, computed and within_precision).")
    return paragraph


def _section_order(section: str) -> tuple:
    parts = section.replace("Appendix ", "99.").replace("Executive summary", "0").split(".")
    return tuple(float(p) if p.replace(".", "").isdigit() else 50.0 for p in parts)


def _fill(app, doctree, docname) -> None:
    placeholders = list(doctree.findall(scorecard_node))
    if not placeholders:
        return
    from analysis.presentation.scorecard import COMPARISON_LABELS, collect, format_like_print, ledger

    if not app.config.hatbook_compares_with_report:
        text = (
            "This edition is a rerun for other data than the report's, so its figures are not compared with "
            "the report's prints; each computed page lists the statistics it computed at its end. The comparison "
            "belongs to the published edition."
        )
        for placeholder in placeholders:
            placeholder.replace_self([nodes.paragraph(text=text)])
        return
    card = collect(_execute_dir(app))
    book = ledger().reset_index()
    content: list[nodes.Node] = []
    if card.empty:
        content.append(nodes.paragraph(text="No page has glued a ledger statistic yet."))
    else:
        total = len(card)
        matched = int(card.within_precision.sum())
        content.append(
            nodes.paragraph(
                text=(
                    f"The book computes {total} of the {len(book)} statistics in the ledger; "
                    f"{matched} of them ({100 * matched / total:.1f}%) match the published value "
                    "at the precision the report printed it with."
                )
            )
        )
        per_section = card.groupby("section").agg(computed=("key", "size"), matching=("within_precision", "sum"))
        # a section is linked to its page in the book, else to the page that computes most of its statistics
        computes = card.groupby("section").page.agg(lambda pages: pages.value_counts().index[0])
        home = {section: section_page(section, app.env.all_docs) or page for section, page in computes.items()}
        in_ledger = book.groupby("section").size()
        rows = []
        for section in sorted(per_section.index, key=_section_order):
            counts = per_section.loc[section]
            rows.append(
                [
                    _page_link(app, docname, home[section], section),
                    int(in_ledger.get(section, 0)),
                    int(counts.computed),
                    int(counts.matching),
                    f"{100 * counts.matching / counts.computed:.1f}%",
                ]
            )
        content.append(
            _table(["Section", "In the ledger", "Computed", "Agree with the report", "Share agreeing"], rows)
        )
        columns = ["key", "printed", "description", "precision", "unit"]
        differ = card[~card.within_precision].merge(book[columns], on="key")
        if len(differ):
            content.append(
                nodes.paragraph(
                    text=(
                        "Statistics whose value in this edition differs from the report's print (each page's own "
                        "check, at its end, says why):"
                    )
                )
            )
            content.append(
                _table(
                    list(COMPARISON_LABELS[:4]) + ["Section"],
                    [
                        [
                            r.description,
                            r.printed,
                            format_like_print(r.computed, r.precision, r.unit),
                            "✗",
                            _page_link(app, docname, r.page, r.section),
                        ]
                        for r in differ.itertuples()
                    ],
                    classes="hatbook-table hatbook-scorecard",
                    row_classes=["hatbook-mismatch"] * len(differ),
                )
            )
        if app.builder.format == "html":
            content.append(_csv_link(docname))
    for placeholder in placeholders:
        placeholder.replace_self(content)


def _always_outdated(app, env, added, changed, removed):
    return [doc for doc, meta in env.metadata.items() if meta.get("hatbook_scorecard")]


def _write_csv(app, exception) -> None:
    if exception is not None or app.builder.format != "html" or not app.config.hatbook_compares_with_report:
        return
    from analysis.presentation.scorecard import SCORECARD_COLUMNS, collect

    card = collect(_execute_dir(app))
    card[SCORECARD_COLUMNS].to_csv(Path(app.outdir) / CSV_NAME, index=False)


def setup(app):
    # a rerun for other data (hatbook/rerun.py) sets this to False: it compares nothing with the report
    app.add_config_value("hatbook_compares_with_report", True, "env")
    app.add_node(scorecard_node)
    app.add_directive("hatbook-scorecard", ScorecardDirective)
    app.connect("doctree-resolved", _fill)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("build-finished", _write_csv)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
