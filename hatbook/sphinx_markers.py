"""Sphinx extension used by rerun builds only: disclosure marks pasted whatever the format spec.

In a rerun a page glues ``"<5"`` for a small count, a dash for a withheld value and ``"n/a"`` for a value
that could not be computed (see :mod:`analysis.disclosure`). The prose pastes the same keys with
numeric format specs (``{glue:text}`key:.1f```, or ``page.md::key:.1f`` from another page), which myst-nb
cannot apply to text: it would drop the value with a warning. This extension makes ``{glue:text}`` paste such text unchanged instead. The
published edition does not load it.
"""

from __future__ import annotations

from ast import literal_eval


def _lenient(original):
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

    format_plain_text.__wrapped__ = original
    return format_plain_text


def setup(app):
    from myst_nb.ext.glue import crossref, roles

    # the role pastes a key of its own page; the cross-reference transform one of another page
    # (``{glue:text}`page.md::key:.1f```), each through its own imported name of the same function
    for module in (roles, crossref):
        if not hasattr(module.format_plain_text, "__wrapped__"):
            module.format_plain_text = _lenient(module.format_plain_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
