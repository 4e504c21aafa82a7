"""Sphinx extension: exercises and solutions (sphinx-exercise) without sphinx-exercise's figure numbers.

It loads sphinx-exercise and undoes one of its side effects: sphinx-exercise switches Sphinx's ``numfig``
on to number exercises, which would put "Fig. N" before every caption of the book (the captions carry the
report's own numbers, "Figure 6.A"). The book's own ``numfig`` setting is kept, and exercises are titled
with ``:nonumber:`` and the number written in the title ("6.1.3: ..."). It also forgets a page's gated
directives when the page is read again (sphinx-exercise keeps them across incremental builds).

It declares ``hatbook_student_edition``: true in the student edition (``hatbook student``, which adds
``student_edition.py``), where no solution is shown or offered for download. How exercises and solutions
are written in a page, and how a page's solutions are removed, is in ``hatbook/exercises.py``.
"""

from __future__ import annotations


def _remember_numfig(app, config) -> None:
    app._hatbook_numfig = config.numfig


def _restore_numfig(app, config) -> None:
    config.numfig = getattr(app, "_hatbook_numfig", config.numfig)


def _forget_gated_directives(app, env, docname: str) -> None:
    registry = getattr(env, "sphinx_exercise_gated_registry", None)
    if registry is not None:
        registry.pop(docname, None)


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.add_config_value("hatbook_student_edition", False, "env")
    # sphinx-exercise sets numfig = True at config-inited (default priority 500): remember the book's
    # setting before it and put it back after it
    app.connect("config-inited", _remember_numfig, priority=100)
    app.connect("config-inited", _restore_numfig, priority=900)
    app.connect("env-purge-doc", _forget_gated_directives)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
