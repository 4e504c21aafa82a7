"""Every page with code as a Jupyter notebook (``.ipynb``) a reader can download: what the notebook of a page
is and where the HTML book keeps it. The Sphinx extension that writes them and offers them on each page's
download button is ``book/_ext/notebooks.py``; the course guide names them with :func:`notebook_name`.

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
