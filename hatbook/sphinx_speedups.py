"""Work Sphinx and its extensions repeat for every page of a build, done once per build instead; each
leaves the book byte for byte as it was (``tests/test_sphinx_speedups.py`` builds a book both ways).

:func:`install` applies them to the build that runs in this process (``hatbook.book`` calls it).

1. **The navigation's table of contents.** Every page carries the whole book's table of contents in its
   sidebar. Sphinx resolves it afresh for each page (about 1.5 s a build of 44 pages) although the pages
   of one folder get the same tree except for the entry of the page itself, which is marked ``current``
   (with its ancestors) and links to ``#``. :func:`local_toctree` resolves the tree once per folder for
   a name that is no page, then marks the page's own entry as Sphinx does
   (``sphinx.environment.adapters.toctree._toctree_add_classes``). It does so only where the tree cannot
   depend on the page otherwise: branches not collapsed, a positive depth, the page in the tree once or
   not at all; anything else is left to Sphinx.
2. **Bibliography plugins.** pybtex looks its plugins up among the installed packages' entry points at
   every citation a page resolves (about 145 lookups, 0.8 s a build); the packages do not change while the
   book is built.
3. **Search stems.** The search index stems every word of every page (about 25,000 stems a build); Sphinx
   remembers them for one page at a time, but a word's stem is the same on every page.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable

#: A page name no book has, in a folder: the tree resolved for it marks no page as current.
NO_PAGE = "__hatbook_no_page__"


@functools.cache
def _stem_of(word: str) -> str:
    return _porter().stemWord(word.lower())


@functools.cache
def _porter():
    import snowballstemmer

    return snowballstemmer.stemmer("porter")


def _stem_kept(_language, word: str) -> str:
    """Sphinx's English stem of ``word`` (the Porter stemmer of its :class:`SearchEnglish`), kept for the
    process."""
    return _stem_of(word)


def _marked_for(builder, tree, docname: str):
    """``tree`` (the folder's tree, resolved for no page) as Sphinx resolves it for ``docname``, or None
    when that cannot be told from ``tree`` (the page is in the book's tree more than once, or deeper than
    the tree shows)."""
    from docutils import nodes

    link = builder.get_relative_uri(posixpath.join(posixpath.dirname(docname), NO_PAGE), docname)
    own = [
        i
        for i, reference in enumerate(tree.findall(nodes.reference))
        if reference["refuri"] == link and not reference.get("anchorname")
    ]
    included = any(docname in children for children in builder.env.toctree_includes.values())
    if len(own) > 1 or (included and not own):
        return None
    marked = tree.deepcopy()  # (rendering the tree puts it into a document of its own)
    if not own:  # a page outside the tree (the home page, the search page): nothing to mark
        return marked
    reference = list(marked.findall(nodes.reference))[own[0]]
    reference["refuri"] = builder.get_relative_uri(docname, docname)
    branch = reference
    while branch:  # as Sphinx does: the whole branch is "current"
        branch["classes"].append("current")
        branch = branch.parent
    return marked


def local_toctree(builder, docname: str, collapse: bool = True, **kwargs) -> str:
    """The HTML of the book's table of contents on the page ``docname`` (the ``toctree()`` of the
    templates), as :meth:`StandaloneHTMLBuilder._get_local_toctree` makes it; see the module docstring."""
    from sphinx.environment.adapters.toctree import global_toctree_for_doc

    kwargs.setdefault("includehidden", False)
    if kwargs.get("maxdepth") == "":
        kwargs.pop("maxdepth")
    if collapse or int(kwargs.get("maxdepth") or 0) <= 0:
        return _by_sphinx(builder, docname, collapse, **kwargs)
    folder = posixpath.dirname(docname)
    kept = builder.__dict__.setdefault("_hatbook_toctrees", {})
    key = (folder, tuple(sorted(kwargs.items())))
    if key not in kept:
        kept[key] = global_toctree_for_doc(
            builder.env, posixpath.join(folder, NO_PAGE), builder, collapse=False, **kwargs
        )
    tree = kept[key]
    marked = None if tree is None else _marked_for(builder, tree, docname)
    if marked is None:
        return _by_sphinx(builder, docname, collapse, **kwargs)
    return builder.render_partial(marked)["fragment"]


#: Sphinx's own ``_get_local_toctree`` (set by :func:`install`).
_SPHINX_LOCAL_TOCTREE: Callable[..., str] | None = None


def _by_sphinx(builder, docname: str, collapse: bool, **kwargs) -> str:
    assert _SPHINX_LOCAL_TOCTREE is not None  # install() has replaced it
    return _SPHINX_LOCAL_TOCTREE(builder, docname, collapse, **kwargs)


def install() -> None:
    """Apply the speed-ups of the module docstring to the builds of this process (once)."""
    global _SPHINX_LOCAL_TOCTREE
    import pybtex.plugin
    import sphinx.search.en
    from sphinx.builders.html import StandaloneHTMLBuilder

    if _SPHINX_LOCAL_TOCTREE is not None:
        return
    _SPHINX_LOCAL_TOCTREE = StandaloneHTMLBuilder._get_local_toctree
    setattr(StandaloneHTMLBuilder, "_get_local_toctree", local_toctree)  # noqa: B010 (as below)
    pybtex.plugin._load_entry_point = functools.cache(pybtex.plugin._load_entry_point)
    setattr(sphinx.search.en.SearchEnglish, "stem", _stem_kept)  # noqa: B010 (a method replaced: mypy refuses `=`)
