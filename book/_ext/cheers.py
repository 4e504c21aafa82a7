"""Sphinx extension: the CHEERS 2022 checklist of the cost-utility analysis, built from data.

The 28 items of the CHEERS 2022 statement (Husereau et al., 2022) and where this edition reports each one
are kept as data, ``book/_data/cheers2022.csv``, one row an item:

``item``
    the item's number, 1 to 28, in the statement's order;
``section``, ``topic``
    the statement's section (Title, Abstract, Introduction, Methods, Results, Discussion, Other relevant
    information) and the item's topic;
``requirement``
    what the item asks for, in this edition's words;
``target``
    where the book reports it: targets separated by spaces, each ``ref:<label>`` (a label of a section,
    table or figure) or ``doc:<page>`` (a page, named relative to the page that shows the checklist);
``reported``
    what the targets report (required with a target);
``absence``
    what is not reported, and why (required without a target; with one, it says what is missing).

The directive ``{cheers-checklist} <csv path relative to the page>`` shows the table. The links are made
once every page has been read, from the labels and pages the book actually has, and their text is the
title the book gives the target (a section's heading, a page's title), so nothing is typed twice. A target
that no longer exists gives a warning naming the item, which the book's ``-W`` build turns into an error;
a malformed row (a number out of place, an item with neither a target nor a stated absence, a target
that is neither ``ref:`` nor ``doc:``) gives one too.
"""

from __future__ import annotations

import csv
import posixpath
from dataclasses import dataclass
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

ITEMS = 28
COLUMNS = ("item", "section", "topic", "requirement", "target", "reported", "absence")
SECTIONS = ("Title", "Abstract", "Introduction", "Methods", "Results", "Discussion", "Other relevant information")
KINDS = ("ref", "doc")
#: Link texts longer than this are cut at their first colon or sentence end (figure and table captions).
SHORT_TITLE = 60


@dataclass(frozen=True)
class Target:
    """One place in the book: ``kind`` "ref" (a label) or "doc" (a page), and its name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Item:
    number: int
    section: str
    topic: str
    requirement: str
    targets: tuple[Target, ...]
    reported: str
    absence: str

    @property
    def status(self) -> str:
        """ "reported", "in part" (a target and something missing) or "not reported" (no target)."""
        if not self.targets:
            return "not reported"
        return "in part" if self.absence else "reported"


def parse_targets(text: str) -> tuple[Target, ...]:
    """The targets of a ``target`` cell: space-separated ``ref:<label>`` or ``doc:<page>``.

    Raises ValueError for a target of another kind or without a name."""
    targets = []
    for word in text.split():
        kind, _, name = word.partition(":")
        if kind not in KINDS or not name:
            raise ValueError(f"target {word!r} is neither ref:<label> nor doc:<page>")
        targets.append(Target(kind, name))
    return tuple(targets)


def check_rows(rows: list[dict]) -> list[str]:
    """Problems of the checklist's rows, one message each (empty when the checklist is complete).

    The rules: the columns of :data:`COLUMNS`; exactly :data:`ITEMS` rows numbered 1 to 28 in order; a
    known section and a topic and requirement for each; every item with a target or a stated absence;
    a target with the text of what it reports; targets of a known kind."""
    problems = []
    if rows and set(COLUMNS) - set(rows[0]):
        return [f"columns missing: {', '.join(sorted(set(COLUMNS) - set(rows[0])))}"]
    numbers = [str(row["item"]).strip() for row in rows]
    if numbers != [str(n) for n in range(1, ITEMS + 1)]:
        problems.append(f"the items must be numbered 1 to {ITEMS} in order, found: {', '.join(numbers) or 'none'}")
    for row in rows:
        label = f"item {str(row['item']).strip()}"
        text = {column: (row.get(column) or "").strip() for column in COLUMNS}
        if text["section"] not in SECTIONS:
            problems.append(f"{label}: unknown section {text['section']!r}")
        for column in ("topic", "requirement"):
            if not text[column]:
                problems.append(f"{label}: no {column}")
        try:
            targets = parse_targets(text["target"])
        except ValueError as error:
            problems.append(f"{label}: {error}")
            continue
        if not targets and not text["absence"]:
            problems.append(f"{label}: neither a target nor a stated absence")
        if targets and not text["reported"]:
            problems.append(f"{label}: a target without the text of what it reports")
    return problems


def read_rows(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load(path: str | Path) -> list[Item]:
    """The checklist of the CSV file at ``path``; ValueError listing every problem if it is incomplete."""
    rows = read_rows(path)
    problems = check_rows(rows)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return [
        Item(
            number=int(row["item"]),
            section=row["section"].strip(),
            topic=row["topic"].strip(),
            requirement=row["requirement"].strip(),
            targets=parse_targets(row["target"]),
            reported=row["reported"].strip(),
            absence=row["absence"].strip(),
        )
        for row in rows
    ]


def docname_of(target: Target, fromdocname: str) -> str:
    """The Sphinx document name a ``doc:`` target means, read relative to the page that shows the list."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(fromdocname), target.name))


def missing_targets(
    items: list[Item], labels: set[str], docs: set[str], fromdocname: str = ""
) -> list[tuple[int, Target]]:
    """The (item number, target) pairs whose label is not among ``labels`` or whose page is not among ``docs``."""
    missing = []
    for item in items:
        for target in item.targets:
            found = target.name in labels if target.kind == "ref" else docname_of(target, fromdocname) in docs
            if not found:
                missing.append((item.number, target))
    return missing


def short_title(title: str) -> str:
    """A caption as link text: up to its first colon or full stop when it is long ("Table M.1: ...")."""
    title = " ".join(title.split())
    if len(title) <= SHORT_TITLE:
        return title
    for mark in (": ", ". "):
        head = title.split(mark, 1)[0]
        if len(head) <= SHORT_TITLE:
            return head
    return title[: SHORT_TITLE - 1].rstrip() + "…"


def summary(items: list[Item]) -> str:
    """One sentence counting the items by status."""
    statuses = ("reported", "in part", "not reported")
    counts = {status: sum(item.status == status for item in items) for status in statuses}

    def are(n: int) -> str:
        return f"{n} is" if n == 1 else f"{n} are"

    return (
        f"Of the {len(items)} items, {are(counts['reported'])} reported, {are(counts['in part'])} reported in part "
        f"and {are(counts['not reported'])} not reported by the report or by this edition."
    )


# --- Sphinx ----------------------------------------------------------------------------------------------


class cheers_node(nodes.General, nodes.Element):
    """Placeholder for the checklist, filled once every page's labels are known."""


class CheersDirective(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        relative, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(relative)
        self.env.metadata[self.env.docname]["hatbook_cheers"] = True
        try:
            rows = read_rows(path)
        except OSError as error:
            logger.warning(f"CHEERS checklist: cannot read {relative} ({error})", location=self.get_location())
            return []
        for problem in check_rows(rows):
            logger.warning(f"CHEERS checklist {relative}: {problem}", location=self.get_location())
        node = cheers_node()
        node["rows"] = [{column: (row.get(column) or "").strip() for column in COLUMNS} for row in rows]
        node["source_path"] = relative
        self.set_source_info(node)
        return [node]


def _items(rows: list[dict]) -> list[Item]:
    """The rows as items, leaving out a target that cannot be parsed (already warned about when read)."""
    items = []
    for row in rows:
        try:
            targets = parse_targets(row["target"])
        except ValueError:
            targets = ()
        number = int(row["item"]) if row["item"].isdigit() else 0
        items.append(
            Item(number, row["section"], row["topic"], row["requirement"], targets, row["reported"], row["absence"])
        )
    return items


def _paragraph(*children: nodes.Node) -> nodes.paragraph:
    paragraph = nodes.paragraph()
    paragraph.extend(children)
    return paragraph


def _link(app, fromdocname: str, target: Target) -> nodes.Node | None:
    """A reference to the target with the book's own title for it; None when the book has no such target."""
    env = app.env
    std = env.get_domain("std")
    if target.kind == "ref":
        if target.name not in std.anonlabels:
            return None
        docname, labelid = std.anonlabels[target.name]
        # a section's heading, or the start of a table's or figure's caption
        title = short_title(std.labels.get(target.name, (None, None, ""))[2] or env.titles[docname].astext())
    else:
        docname, labelid = docname_of(target, fromdocname), ""
        if docname not in env.all_docs:
            return None
        title = env.titles[docname].astext()
    text = nodes.inline("", title, classes=["std", "std-ref" if target.kind == "ref" else "std-doc"])
    return make_refnode(app.builder, fromdocname, docname, labelid, text, title)


TABLE_TITLE = "The CHEERS 2022 items and where this edition reports them"


def _table(app, fromdocname: str, items: list[Item]) -> nodes.table:
    header = ["Item and what it asks", "Where this edition reports it", "What is not reported"]
    # longtable: the PDF edition breaks the table across pages; colwidths-given: it keeps the widths below
    classes = ["hatbook-table", "hatbook-cheers", "longtable", "colwidths-given"]
    table = nodes.table(classes=classes, ids=["cheers-2022-items"])
    table += nodes.title(text=TABLE_TITLE)
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in (5, 7, 5):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for cell in header:
        row += nodes.entry("", nodes.paragraph(text=cell))
    head += row
    body = nodes.tbody()
    group += body
    section = None
    for item in items:
        if item.section != section:
            section = item.section
            row = nodes.row(classes=["hatbook-cheers-section"])
            row += nodes.entry("", _paragraph(nodes.strong(text=section)), morecols=len(header) - 1)
            body += row
        row = nodes.row()
        heading = _paragraph(nodes.strong(text=f"{item.number}. {item.topic}"))
        row += nodes.entry("", heading, nodes.paragraph(text=item.requirement))
        where = nodes.entry()
        links = []
        for target in item.targets:
            link = _link(app, fromdocname, target)
            if link is None:
                logger.warning(
                    f"CHEERS checklist: item {item.number} ({item.topic}) maps to {target}, "
                    "which the book no longer has",
                    location=(fromdocname, None),
                )
                link = nodes.emphasis(text=f"missing: {target}")
            links.append(link)
        if links:
            paragraph = nodes.paragraph()
            for index, link in enumerate(links):
                if index:
                    paragraph += nodes.Text("; ")
                paragraph += link
            where += paragraph
            where += nodes.paragraph(text=item.reported)
        else:
            where += nodes.paragraph(text="–")
        row += where
        row += nodes.entry("", nodes.paragraph(text=item.absence or "–"))
        body += row
    return table


def _fill(app, doctree, fromdocname) -> None:
    for placeholder in list(doctree.findall(cheers_node)):
        items = _items(placeholder["rows"])
        placeholder.replace_self([nodes.paragraph(text=summary(items)), _table(app, fromdocname, items)])


def _always_outdated(app, env, added, changed, removed):
    """The checklist's page is read again on every build: a target on another page may have gone."""
    return [doc for doc, meta in env.metadata.items() if meta.get("hatbook_cheers")]


def setup(app):
    app.add_node(cheers_node)
    app.add_directive("cheers-checklist", CheersDirective)
    app.connect("doctree-resolved", _fill)
    app.connect("env-get-outdated", _always_outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
