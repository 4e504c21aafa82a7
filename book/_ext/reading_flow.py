"""Sphinx extension: pages read as prose, their code one click away, and a search of the prose.

* **How this is computed.** myst-nb gives every code cell whose input is hidden its own "Show code cell
  source" bar, so a results page had 15 to 21 of them, sometimes two before its first finding. Here the
  hidden inputs of a section are gathered, in their order, into one "How this is computed" disclosure at
  the end of that section's own text (before its subsections); what the cells display stays where it
  was. Cells inside exercises and solutions are left as they are (the student reads those as code).
* **Search indexes prose.** The words of code cells' inputs, and of the plain-text dumps of outputs,
  are kept out of Sphinx's search index, so a search finds the page that says something, not the page
  whose code names a variable.

The code is gathered in the same pass over a page's HTML as its charts and tables are made
(book/_ext/figures.py, which keeps the result between builds, so that a page the same in every edition is
parsed once).
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from docutils import nodes

HOW = "How this is computed"
#: Containers whose code cells stay as they are.
KEEP_INSIDE = re.compile(r"\b(solution|exercise|admonition-exercise|dropdown)\b")


def _own_section(tag):
    return tag.find_parent("section")


def _kept(cell) -> bool:
    for parent in cell.parents:
        classes = " ".join(parent.get("class", []) or []) if hasattr(parent, "get") else ""
        if KEEP_INSIDE.search(classes):
            return True
    return False


def gather_code(body: str) -> str:
    """``body`` with each section's hidden code inputs in one disclosure (see the module docstring)."""
    if not has_hidden_code(body):
        return body
    soup = BeautifulSoup(body, "html.parser")
    gather_in(soup)
    return str(soup)


def has_hidden_code(body: str) -> bool:
    """Whether ``body`` (a page's HTML) may hold hidden code inputs to gather."""
    return "tag_hide-input" in body


def gather_in(soup) -> None:
    """:func:`gather_code` on a page already parsed (book/_ext/figures.py parses each page once for both)."""
    by_section: dict[int, tuple[object, list]] = {}
    for cell in soup.select("div.cell.tag_hide-input"):
        if _kept(cell):
            continue
        toggle = cell.find("details", class_="above-input", recursive=False)
        if toggle is None or toggle.find("div", class_="cell_input") is None:
            continue
        section = _own_section(cell)
        by_section.setdefault(id(section), (section, []))[1].append(cell)
    for section, cells in by_section.values():
        disclosure = soup.new_tag("details", attrs={"class": "hatbook-how"})
        summary = soup.new_tag("summary")
        summary.string = HOW
        disclosure.append(summary)
        for cell in cells:
            toggle = cell.find("details", class_="above-input", recursive=False)
            disclosure.append(toggle.find("div", class_="cell_input").extract())
            toggle.decompose()
            if not cell.find(True):
                cell.decompose()
        parent = section if section is not None else soup
        subsection = section.find("section", recursive=False) if section is not None else None
        if subsection is not None:
            subsection.insert_before(disclosure)
        else:
            parent.append(disclosure)


def is_code(node) -> bool:
    """Whether a node of a page's tree is code: a cell's input, or a plain-text dump of a cell's output."""
    if not isinstance(node, nodes.Element):
        return False
    classes = node.get("classes", [])
    if "cell_input" in classes:
        return True
    if isinstance(node, nodes.literal_block) and any(
        "cell_output" in parent.get("classes", []) for parent in _parents(node)
    ):
        return True
    return False


def _parents(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def prose_only(doctree):
    """A copy of a page's tree without its code (:func:`is_code`), for the search index."""
    copy = doctree.deepcopy()
    for node in list(copy.findall(is_code)):
        if node.parent is not None:
            node.parent.remove(node)
    return copy


def _index_prose_only() -> None:
    """Sphinx's search index reads each page's tree without its code."""
    from sphinx.search import IndexBuilder

    if getattr(IndexBuilder, "_hatbook_prose_only", False):
        return
    collect = IndexBuilder._word_collector

    def _word_collector(self, doctree):
        return collect(self, prose_only(doctree))

    IndexBuilder._word_collector = _word_collector
    IndexBuilder._hatbook_prose_only = True


def setup(app):
    _index_prose_only()  # the code is gathered by book/_ext/figures.py, in its pass over each page
    return {"parallel_read_safe": True, "parallel_write_safe": True}
