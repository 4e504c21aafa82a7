"""Sphinx extension of the student edition (``hatbook student``, see hatbook/student.py): no solutions.

* every solution is removed from the pages: a transform drops the solution nodes after sphinx-exercise
  has gathered each gated solution, with its code cells and their outputs, into one node, so neither the
  solution's text nor its code nor its output reaches the HTML or the search index;
* the page sources the HTML offers for download (``_sources/``) are rewritten without the solutions
  (:func:`hatbook.exercises.strip_solutions`).

Only the student edition's build loads it (hatbook/student.py adds it to the configuration).
"""

from __future__ import annotations

from pathlib import Path


def _remove_solutions(app, doctree) -> None:
    from sphinx_exercise.nodes import solution_node

    for node in list(doctree.findall(solution_node)):
        node.parent.remove(node)


def _strip_copied_sources(app, exception) -> None:
    """Rewrite the page sources Sphinx copied into ``_sources`` without their solutions."""
    if exception is not None or app.builder.format != "html":
        return
    from hatbook.exercises import strip_solutions

    for path in (Path(app.outdir) / "_sources").rglob("*"):
        if path.is_file() and path.suffix in (".md", ".txt"):
            text = path.read_text(encoding="utf-8")
            if "{solution" in text:
                path.write_text(strip_solutions(text), encoding="utf-8")


def setup(app):
    from sphinx.transforms import SphinxTransform

    class RemoveSolutions(SphinxTransform):
        """Drop every solution node; after sphinx-exercise's MergeGatedSolutions (priority 10)."""

        default_priority = 15

        def apply(self, **kwargs) -> None:
            _remove_solutions(self.app, self.document)

    app.setup_extension("exercises")
    app.add_transform(RemoveSolutions)
    app.connect("build-finished", _strip_copied_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
