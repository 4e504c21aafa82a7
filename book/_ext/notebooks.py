"""Sphinx extension: every page with code can be downloaded as a Jupyter notebook (``.ipynb``).

The pages are MyST-markdown notebooks. The theme's download button offers the page's source (``.md``)
and a print to PDF; it offers an ``.ipynb`` only when a launch service (Binder, JupyterHub, Colab,
Thebe) is configured, which this offline book does not use. This extension therefore writes each page
that has code cells as a notebook (:func:`hatbook.notebooks.page_notebook`: jupytext, no outputs, the
solutions removed in the student edition) to ``_notebooks/<page>.ipynb`` in the HTML output, and adds it
as ".ipynb" at the top of the page's download button.
"""

from __future__ import annotations

from pathlib import Path


def _add_notebook(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or app.builder.format != "html":
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix not in (".md", ".ipynb") or not source.exists():
        return
    import nbformat

    from hatbook.notebooks import FOLDER, notebook_name, page_notebook

    notebook = page_notebook(source, student=bool(getattr(app.config, "hatbook_student_edition", False)))
    if notebook is None:
        return
    target = Path(app.outdir) / FOLDER / notebook_name(pagename)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    url = context["pathto"](f"{FOLDER}/{notebook_name(pagename)}", 1)
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"] = [b for b in button["buttons"] if b.get("label") != "download-notebook-button"]
            button["buttons"].insert(
                0,
                {
                    "type": "link",
                    "url": url,
                    "text": ".ipynb",
                    "icon": "fas fa-code",
                    "tooltip": "Download this page as a Jupyter notebook",
                    "label": "download-notebook-button",
                },
            )


def setup(app):
    # after sphinx-book-theme has made the page's header buttons (priority 501)
    app.connect("html-page-context", _add_notebook, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
