"""Sphinx extension: drop repeated inline scripts from a page.

sphinx-thebe, which Jupyter Book always loads, adds its inline configuration script twice; the second
copy re-declares ``const THEBE_JS_URL`` and the browser logs an error on every page. Keeping the first
of identical scripts removes the error without changing what the page does.
"""

from __future__ import annotations


def _dedupe(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        body = getattr(script, "attributes", {}).get("body", "")
        key = (getattr(script, "filename", None) or "", body)
        if body and key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
