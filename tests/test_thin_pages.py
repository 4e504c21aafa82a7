"""Pages load, call, show and glue (issue 24): the code of a computed page is short, defines no functions, and
writes every glue name out in full, so that a reader can find with grep the line that makes a number.

Code a reader is meant to read is left out of the measure: the primer, the course guide, and the
"Exercises" section of a page (its solutions and the cell they share)."""

import re
import statistics
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
#: Pages whose code is itself the lesson.
TEACHING = {"appendix_primer", "course_guide"}
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def page_code(path: Path) -> str:
    """The code of a page's cells before its "Exercises" section (if any)."""
    text = path.read_text(encoding="utf-8")
    text = re.split(r"^## Exercises\s*$", text, maxsplit=1, flags=re.M)[0]
    return "\n".join(CODE_CELL.findall(text))


def code_lines(code: str) -> list[str]:
    """Non-blank, non-comment lines, cell options (``:tags:``) aside."""
    return [
        line
        for line in code.splitlines()
        if line.strip() and not line.strip().startswith("#") and not line.startswith(":")
    ]


def computed_pages() -> list[Path]:
    return sorted(path for path in BOOK.glob("*.md") if path.stem not in TEACHING and code_lines(page_code(path)))


def test_the_median_computed_page_has_at_most_sixty_lines_of_code():
    lengths = {path.stem: len(code_lines(page_code(path))) for path in computed_pages()}
    assert len(lengths) >= 10
    assert statistics.median(lengths.values()) <= 60, lengths


def test_computed_pages_define_at_most_five_functions_in_all():
    defined = {path.stem: len(re.findall(r"^\s*(?:def|class) ", page_code(path), re.M)) for path in computed_pages()}
    assert sum(defined.values()) <= 5, {page: n for page, n in defined.items() if n}


@pytest.mark.parametrize("path", computed_pages(), ids=lambda path: path.stem)
def test_no_glue_name_is_assembled_from_parts(path):
    """A glue name is a literal string: not an f-string, not a concatenation, not a loop variable."""
    code = "\n".join(CODE_CELL.findall(path.read_text(encoding="utf-8")))
    built = re.findall(r"\bglue\w*\(\s*(?:card,\s*)?(?:f[\"']|[\"'][^\"']*[\"']\s*\+)", code)
    assert built == [], f"{path.stem}: glue names built from parts: {built}"


def test_the_measure_finds_what_it_counts():
    """The rules on a page made by hand: one function before the exercises, an f-string glue name."""
    page = (
        '```{code-cell} ipython3\n:tags: [hide-input]\n# a comment\ndef f():\n    return 1\nglue(f"x_{n}", 1)\n```\n'
        "## Exercises\n```{code-cell} ipython3\ndef g():\n    pass\n```\n"
    )
    code = "\n".join(CODE_CELL.findall(re.split(r"^## Exercises\s*$", page, maxsplit=1, flags=re.M)[0]))
    assert len(code_lines(code)) == 3
    assert len(re.findall(r"^\s*(?:def|class) ", code, re.M)) == 1
    assert re.findall(r"\bglue\w*\(\s*(?:card,\s*)?(?:f[\"']|[\"'][^\"']*[\"']\s*\+)", code)
