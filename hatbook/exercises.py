"""Exercises and solutions in the book's pages (sphinx-exercise), and how the student edition drops them.

A page ends with an ``## Exercises`` section: each exercise is an ``{exercise}`` directive with a
``:label:`` (``ex-6-1-...``); its solution is folded away (``:class: dropdown``). A solution that
computes is *gated*: its text and code cells stand between ``{solution-start} <label>`` and
``{solution-end}``, so the code runs when the book is built, and a broken solution breaks the build::

    ```{solution-start} ex-6-1-censoring
    :class: dropdown
    ```

    Text of the solution.

    ```{code-cell} ipython3
    ...
    ```

    ```{solution-end}
    ```

The Sphinx side (sphinx-exercise loaded without its numbering of figures, and the
``hatbook_student_edition`` setting) is the extension ``book/_ext/exercises.py``.

:func:`strip_solutions` removes every solution from a page's MyST text; the student edition
(:mod:`hatbook.student`) and the downloadable notebooks of that edition (:mod:`hatbook.notebooks`) use it.
"""

from __future__ import annotations

import re

#: The opening line of a MyST directive: a fence of three or more backticks or colons, then ``{name}``.
_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[A-Za-z0-9_-]+)\}")


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes the directive opened at ``start`` with ``fence`` (a fence of the same
    character, at least as long, alone on its line); the last line when the block is never closed."""
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            return i
    return len(lines) - 1


def _solution_spans(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line indices of every solution of a page: a ``{solution}`` block, or everything from
    a ``{solution-start}`` line to the line that closes its ``{solution-end}``."""
    spans = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if not match:
            i += 1
            continue
        name, fence = match["name"], match["fence"]
        end: int | None
        if name == "solution":
            end = _closing(lines, i, fence)
        elif name == "solution-start":
            end = None
            for j in range(i + 1, len(lines)):
                closing = _DIRECTIVE.match(lines[j])
                if closing and closing["name"] == "solution-end":
                    end = _closing(lines, j, closing["fence"])
                    break
            if end is None:
                raise ValueError(f"a solution-start on line {i + 1} has no solution-end")
        else:
            i = _closing(lines, i, fence) + 1  # another directive (a code cell, a figure): skip its body
            continue
        spans.append((i, end))
        i = end + 1
    return spans


def solution_blocks(text: str) -> list[str]:
    """The text of each solution of a MyST page (directives, prose and code cells), in page order."""
    lines = text.splitlines(keepends=True)
    return ["".join(lines[first : last + 1]) for first, last in _solution_spans(lines)]


def strip_solutions(text: str) -> str:
    """A MyST page with every solution removed: ``{solution}`` blocks, and gated solutions from
    ``{solution-start}`` to ``{solution-end}`` with the prose and code cells between them. The exercises
    and everything else stay as they are."""
    lines = text.splitlines(keepends=True)
    keep = [True] * len(lines)
    for first, last in _solution_spans(lines):
        for i in range(first, last + 1):
            keep[i] = False
        # one blank line after a removed block goes with it, so that blank lines do not pile up
        if last + 1 < len(lines) and not lines[last + 1].strip() and (first == 0 or not lines[first - 1].strip()):
            keep[last + 1] = False
    return "".join(line for line, kept in zip(lines, keep) if kept)
