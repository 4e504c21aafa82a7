"""Sphinx extension: every page with code can be downloaded as a Jupyter notebook (``.ipynb``).

The pages are MyST-markdown notebooks. The theme's download button offers the page's source (``.md``)
and a print to PDF; it offers an ``.ipynb`` only when a launch service (Binder, JupyterHub, Colab,
Thebe) is configured, which this offline book does not use. This extension therefore converts each
page that has code cells into a notebook with jupytext, writes it to ``_notebooks/<page>.ipynb`` in the
HTML output, and adds it as ".ipynb" at the top of the page's download button.

The notebooks have no outputs: they are the page's text and code, to be run with the project installed
(``pip install -e .`` in the repository; see the course guide). In the student edition
(``hatbook_student_edition``, see :mod:`hatbook.student`) the solutions are removed first
(:func:`hatbook.exercises.strip_solutions`). A page that is already a notebook (a rerun's executed page)
is offered with its outputs cleared.
"""

from __future__ import annotations

from pathlib import Path

#: The folder of the HTML output that holds the notebooks.
FOLDER = "_notebooks"


def page_notebook(source: str | Path, *, student: bool = False):
    """The notebook of one page (an ``nbformat`` notebook without outputs), or None when the page has no
    code cell. ``student`` removes the solutions first."""
    import jupytext
    import nbformat

    from hatbook.exercises import strip_solutions

    source = Path(source)
    if source.suffix == ".ipynb":
        notebook = nbformat.read(source, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
    else:
        text = source.read_text(encoding="utf-8")
        if student:
            text = strip_solutions(text)
        notebook = jupytext.reads(text, fmt="md:myst")
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        return None
    notebook.metadata.pop("jupytext", None)  # a plain notebook, not paired with a text file
    return notebook


def notebook_name(pagename: str) -> str:
    """The file name of a page's notebook: ``ch06_1_enrollment_retention.ipynb`` for
    ``book/ch06_1_enrollment_retention``."""
    return f"{Path(pagename).name}.ipynb"


def _add_notebook(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or app.builder.format != "html":
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix not in (".md", ".ipynb") or not source.exists():
        return
    import nbformat

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
