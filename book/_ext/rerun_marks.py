"""Sphinx extension used by rerun builds only: disclosure marks pasted whatever the format spec.

In a rerun a page glues ``"<5"`` for a small count, a dash for a withheld value and ``"n/a"`` for a value
that could not be computed (see :mod:`analysis.presentation.disclosure`). The prose pastes the same keys with
numeric format specs (``{glue:text}`key:.1f```, or ``page.md::key:.1f`` from another page), which myst-nb
cannot apply to text: it would drop the value with a warning. This extension makes ``{glue:text}`` paste
such text unchanged instead. hatbook/rerun.py adds it to a rerun's configuration; the published edition
does not load it (so its presence tells a rerun build, see ``is_rerun`` in reader.py).

A mark pasted where the prose writes a unit after the number ("{glue:text}`key:.0f`%") would read "– %" or
"n/a %": the unit of a value that is not there. The unit right after a pasted mark is dropped.
"""

from __future__ import annotations

import functools
import re
from ast import literal_eval

#: Pasted text that stands for a value not shown (analysis.presentation.disclosure's WITHHELD and NOT_ENOUGH_DATA).
MARKS = {"\u2013", "n/a"}
_UNIT = re.compile(r"^\s?(%|percentage points|percent)")


def _lenient(original):
    @functools.wraps(original)  # (also sets __wrapped__, which marks the function as patched)
    def format_plain_text(text: str, fmt_spec: str) -> str:
        try:
            return original(text, fmt_spec)
        except (TypeError, ValueError):
            try:
                value = literal_eval(text)
            except (SyntaxError, ValueError):
                value = text
            if isinstance(value, str):
                return value
            raise

    return format_plain_text


def drop_units_after_marks(app, doctree, docname) -> None:
    """Remove the unit written right after a pasted mark ("– %" becomes "–")."""
    from docutils import nodes

    for node in list(doctree.findall(nodes.inline)):
        if "pasted-text" not in node.get("classes", []) or node.astext().strip() not in MARKS:
            continue
        following = node.next_node(descend=False, siblings=True)
        if isinstance(following, nodes.Text) and _UNIT.match(str(following)):
            following.parent.replace(following, nodes.Text(_UNIT.sub("", str(following), count=1)))


def setup(app):
    app.connect("doctree-resolved", drop_units_after_marks)
    from myst_nb.ext.glue import crossref, roles

    # the role pastes a key of its own page; the cross-reference transform one of another page
    # (``{glue:text}`page.md::key:.1f```), each through its own imported name of the same function
    for module in (roles, crossref):
        if not hasattr(module.format_plain_text, "__wrapped__"):
            module.format_plain_text = _lenient(module.format_plain_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
