"""Sphinx extension: a negative number pasted with ``{glue:text}`` gets a true minus sign.

Python's ``format`` writes ``-6,540`` with a hyphen-minus; typeset text wants U+2212 (−), which screen
readers read as "minus" and which does not break a line. The pasted text is otherwise what myst-nb makes.
"""

from __future__ import annotations

import re

_NEGATIVE = re.compile(r"^-(?=[\d.,]+(%|[eE][-+]?\d+)?$)")


def _true_minus(original):
    def format_plain_text(text: str, fmt_spec: str) -> str:
        return _NEGATIVE.sub("\u2212", original(text, fmt_spec))

    format_plain_text.__true_minus__ = True
    return format_plain_text


def setup(app):
    from myst_nb.ext.glue import crossref, roles

    # a paste from the page's own glue (the role) and from another page (the cross-reference transform)
    for module in (roles, crossref):
        if not getattr(module.format_plain_text, "__true_minus__", False):
            module.format_plain_text = _true_minus(module.format_plain_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
