"""Sphinx extension: the whole-book scorecard of computed against published statistics.

Every computed page glues its statistics under their ledger keys (:class:`analysis.scorecard.Card`);
myst-nb writes each executed notebook's glue data to ``<build>/jupyter_execute/<page>.glue.json``.
This extension reads them all (:func:`analysis.scorecard.collect`):

* the directive ``{hatbook-scorecard}`` becomes, on its page, a table per report section (statistics
  in the ledger, computed, matching at the printed precision) and the list of those that differ;
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


def _table(header: list[str], rows: list[list[str]], classes: str = "hatbook-table") -> nodes.table:
    table = nodes.table(classes=[classes])
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    body = nodes.tbody()
    group += body
    for cells, parent in [(header, head)] + [(r, body) for r in rows]:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=str(cell))
            row += entry
        parent += row
    return table


def _section_order(section: str) -> tuple:
    parts = section.replace("Appendix ", "99.").replace("Executive summary", "0").split(".")
    return tuple(float(p) if p.replace(".", "").isdigit() else 50.0 for p in parts)


def _fill(app, doctree, docname) -> None:
    placeholders = list(doctree.findall(scorecard_node))
    if not placeholders:
        return
    from analysis.scorecard import collect, ledger

    if not app.config.hatbook_compares_with_report:
        text = ("This edition is a rerun for other data than the report's, so its figures are not compared with "
                "the report's prints; each computed page lists the statistics it computed at its end. The comparison "
                "belongs to the published edition.")
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
        in_ledger = book.groupby("section").size()
        rows = []
        for section in sorted(per_section.index, key=_section_order):
            counts = per_section.loc[section]
            rows.append(
                [
                    section,
                    int(in_ledger.get(section, 0)),
                    int(counts.computed),
                    int(counts.matching),
                    f"{100 * counts.matching / counts.computed:.1f}%",
                ]
            )
        content.append(_table(["Section", "In the ledger", "Computed", "Match", "Share matching"], rows))
        differ = card[~card.within_precision].merge(book[["key", "printed", "description"]], on="key")
        if len(differ):
            content.append(nodes.paragraph(text="Statistics whose computed value differs from the print:"))
            content.append(
                _table(
                    ["Key", "Statistic", "Published", "Computed", "Page"],
                    [
                        [r.key, r.description, r.printed, f"{r.computed:g}", r.page]
                        for r in differ.itertuples()
                    ],
                )
            )
    for placeholder in placeholders:
        placeholder.replace_self(content)


def _always_outdated(app, env, added, changed, removed):
    return [doc for doc, meta in env.metadata.items() if meta.get("hatbook_scorecard")]


def _write_csv(app, exception) -> None:
    if exception is not None or app.builder.format != "html" or not app.config.hatbook_compares_with_report:
        return
    from analysis.scorecard import SCORECARD_COLUMNS, collect

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
