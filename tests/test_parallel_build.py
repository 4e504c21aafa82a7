"""The book's Sphinx build may run on several cores (book/_ext/parallel_build.py, hatbook/book.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: A small book with two numbered toctrees: the second continues the first's chapter numbers.
PAGES = {
    "index": "Home\n====\n\n.. toctree::\n   :numbered:\n\n   one\n   two\n\n.. toctree::\n   :numbered:\n\n   three\n",
    "one": "One\n===\n\nSection A\n---------\n\ntext\n\nSection B\n---------\n\ntext\n",
    "two": "Two\n===\n\nSection C\n---------\n\ntext\n",
    "three": "Three\n=====\n\nSection D\n---------\n\ntext\n",
}


def build(tmp_path: Path, extensions: list[str], name: str):
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    source = tmp_path / name
    source.mkdir()
    for page, text in PAGES.items():
        (source / f"{page}.rst").write_text(text, encoding="utf-8")
    (source / "conf.py").write_text(f"extensions = {extensions!r}\n", encoding="utf-8")
    with docutils_namespace():
        app = Sphinx(
            str(source),
            str(source),
            str(source / "_build"),
            str(source / "_doctrees"),
            "html",
            status=None,
            warning=None,
            freshenv=True,
        )
        app.build()
    numbers = {
        page: re.findall(r'<span class="section-number">([\d.]+)', (source / "_build" / f"{page}.html").read_text())
        for page in PAGES
    }
    return app, app.env.toc_secnumbers, numbers


@pytest.fixture
def restored_collector(monkeypatch):
    """Both extensions replace a method of Sphinx's toctree collector: put it back after the test."""
    from sphinx.environment.collectors.toctree import TocTreeCollector

    monkeypatch.setattr(TocTreeCollector, "assign_section_numbers", TocTreeCollector.assign_section_numbers)
    monkeypatch.syspath_prepend(str(ROOT / "book" / "_ext"))


def test_numbering_is_that_of_sphinx_multitoc_numbering(tmp_path, restored_collector):
    _, theirs, their_html = build(tmp_path, ["sphinx_multitoc_numbering"], "theirs")
    _, ours, our_html = build(tmp_path, ["parallel_build"], "ours")
    assert ours == theirs
    assert our_html == their_html
    # continuous across the two toctrees: "three" is chapter 3, not 1 again
    assert ours["three"][""] == (3,) and ours["one"][""] == (1,)
    assert "3." in our_html["three"]


def test_the_extensions_the_book_loads_allow_parallel_reading_and_writing(tmp_path, restored_collector):
    # sphinx_external_toc loads sphinx_multitoc_numbering (see _config.yml for the others)
    app, _, _ = build(
        tmp_path,
        ["sphinx_multitoc_numbering", "sphinx-mathjax-offline", "parallel_build", "sphinx_jupyterbook_latex"],
        "book",
    )
    assert "sphinx_multitoc_numbering" not in app.extensions
    assert app.is_parallel_allowed("read") and app.is_parallel_allowed("write")


def test_the_book_loads_the_extension():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "parallel_build" in config["sphinx"]["local_extensions"]


@pytest.mark.slow
def test_the_cache_key_of_a_page_is_that_of_myst_nb(tmp_path):
    """A page executed before the build is found by the build: the notebook hatbook.book stores has the key
    that myst-nb computes for the page, after execution in a shared kernel as before it."""
    from jupyter_cache import get_cache

    from hatbook.book import read_page
    from hatbook.rerun import Kernel

    page = tmp_path / "page.md"
    page.write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n"
        "  display_name: Python 3\n---\n\n# Page\n\n```{code-cell} ipython3\n:tags: [remove-input]\n1 + 1\n```\n",
        encoding="utf-8",
    )
    cache = get_cache(str(tmp_path / "cache"))
    before = cache.create_hashed_notebook(read_page(page))[1]
    notebook = read_page(page)
    kernel = Kernel(tmp_path)
    try:
        kernel.execute(notebook, tmp_path)
        kernel.execute(read_page(page), tmp_path)  # a second page in the same kernel is numbered from 1 too
    finally:
        kernel.shutdown()
    assert cache.create_hashed_notebook(notebook)[1] == before
    assert notebook.cells[1].execution_count == 1
    assert notebook.cells[1].outputs[0]["data"]["text/plain"] == "2"
