"""Sphinx extension: lets Sphinx read and write the book on several cores (``-j``, see :mod:`hatbook.book`).

Sphinx reads in parallel only when every extension declares that it may. Three that the book loads do
not declare it, although their work is safe in parallel:

* ``sphinx_multitoc_numbering`` (loaded by ``sphinx_external_toc`` whatever the configuration) numbers
  the sections of numbered toctrees continuously across the parts of the table of contents. This
  extension numbers them the same way (:func:`assign_section_numbers`, its algorithm) and takes its
  place. The book's own toctrees are not numbered (a page's number is part of its title, as in the
  report), so no page carries a generated number either way.
* ``sphinx-mathjax-offline`` copies MathJax into the output when the build has finished (in the main
  process).
* ``sphinx_jupyterbook_latex`` changes the configuration once and otherwise transforms only the
  document it is given, and only for the LaTeX builder.

Numbering happens after the pages have been read and merged, in the main process (Sphinx's
``env-get-updated``), so it is parallel-safe as it is.
"""

from __future__ import annotations

from typing import cast

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import __
from sphinx.util import logging, url_re

logger = logging.getLogger(__name__)

#: Extensions that do not declare whether they are safe in parallel, checked to be (see above).
CHECKED_SAFE = ("sphinx-mathjax-offline", "sphinx_jupyterbook_latex")
#: The extension whose place this one takes.
REPLACED = "sphinx_multitoc_numbering"


def assign_section_numbers(self, env) -> list[str]:
    """Number the headings under numbered toctrees, continuing the chapter number from one numbered
    toctree to the next (the first numbered toctree's chapters are 1, 2, 3; a later toctree's first
    chapter is 4). Returns the documents whose numbers changed. Stores ``env.toc_secnumbers`` as
    Sphinx does; a method of Sphinx's ``TocTreeCollector`` (``self``)."""
    rewrite_needed = []
    assigned: set[str] = set()
    old_secnumbers = env.toc_secnumbers
    env.toc_secnumbers = {}
    last_chapter = [0]
    numstack: list[int] = []

    def walk_toc(node, secnums: dict, depth: int, titlenode=None) -> None:
        # the title of the document gets a number too (for the links to the next and previous pages)
        for subnode in node.children:
            if isinstance(subnode, nodes.bullet_list):
                numstack.append(0)
                walk_toc(subnode, secnums, depth - 1, titlenode)
                numstack.pop()
                titlenode = None
            elif isinstance(subnode, (nodes.list_item, addnodes.only)):
                walk_toc(subnode, secnums, depth, titlenode)
                titlenode = None
            elif isinstance(subnode, addnodes.compact_paragraph):
                numstack[-1] += 1
                reference = cast(nodes.reference, subnode[0])
                if len(numstack) == 1:  # a chapter
                    last_chapter[0] += 1
                number = list(numstack) if depth > 0 else None
                secnums[reference["anchorname"]] = tuple(numstack) if depth > 0 else None
                reference["secnumber"] = number
                if titlenode:
                    titlenode["secnumber"] = number
                    titlenode = None
            elif isinstance(subnode, addnodes.toctree):
                walk_toctree(subnode, depth)

    def walk_toctree(toctreenode, depth: int) -> None:
        if depth == 0:
            return
        for _title, ref in toctreenode["entries"]:
            if url_re.match(ref) or ref == "self":
                continue
            if ref in assigned:
                logger.warning(
                    __("%s is already assigned section numbers (nested numbered toctree?)"),
                    ref,
                    location=toctreenode,
                    type="toc",
                    subtype="secnum",
                )
            elif ref in env.tocs:
                secnums: dict = {}
                env.toc_secnumbers[ref] = secnums
                assigned.add(ref)
                walk_toc(env.tocs[ref], secnums, depth, env.titles.get(ref))
                if secnums != old_secnumbers.get(ref):
                    rewrite_needed.append(ref)

    # the documents with numbered toctrees in the order of the table of contents (env.tocs)
    for docname in [doc for doc in env.tocs if doc in env.numbered_toctrees]:
        assigned.add(docname)
        for toctreenode in env.get_doctree(docname).findall(addnodes.toctree):
            depth = toctreenode.get("numbered", 0)
            if depth:
                numstack[:] = [last_chapter[0]]  # every numbered toctree continues the numbering
                walk_toctree(toctreenode, depth)
    return rewrite_needed


def _take_place(app) -> None:
    from sphinx.environment.collectors.toctree import TocTreeCollector

    TocTreeCollector.assign_section_numbers = assign_section_numbers
    app.extensions.pop(REPLACED, None)


def _declare(app) -> None:
    _take_place(app)  # again, in case the numbering extension was loaded after this one
    for name in CHECKED_SAFE:
        extension = app.extensions.get(name)
        if extension is not None:
            if extension.parallel_read_safe is None:
                extension.parallel_read_safe = True
            if extension.parallel_write_safe is None:
                extension.parallel_write_safe = True


def setup(app):
    _take_place(app)
    # before the sources are read (the last extension, sphinx_jupyterbook_latex, is loaded after this one)
    app.connect("builder-inited", _declare, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
