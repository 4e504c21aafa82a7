"""Exercises, the student edition without their solutions, and the pages as downloadable notebooks.

The published edition (the session's book build, ``book_build``) shows each exercise with its solution
folded away, and the solutions' code has run: their output is on the page. The student edition is built
once per module from the same sources with the published build's execution cache
(:mod:`hatbook.student`), and no solution's text, code or output may appear anywhere in it: not in a
page, not in the search index, not in a downloadable source or notebook. Every computed page can be
downloaded as a valid notebook from ``_notebooks/``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from hatbook import rerun
from hatbook.exercises import solution_blocks, strip_solutions
from hatbook.notebooks import FOLDER, notebook_name, page_notebook
from hatbook.student import build_student, student_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
#: The pages with exercises, the prefix of their exercise labels, and a line one of their solutions
#: prints when its check passes (the solution ran, and ran right).
EXERCISE_PAGES = {
    "ch06_1_enrollment_retention": ("ex-6-1-", "The two agree."),
    "ch06_4_outcomes": ("ex-6-4-", "The counts agree."),
}
MIN_EXERCISES = 5

PAGE = """# A page

```{exercise} 1.1: Add
:label: ex-add
:nonumber:

Add one.
```

```{solution-start} ex-add
:class: dropdown
```

Like this.

```{code-cell} ipython3
:tags: [hide-input]
secret_answer = 41 + 1
print(secret_answer)
```

```{solution-end}
```

```{exercise} 1.2: Why
:label: ex-why
:nonumber:

Why?
```

````{solution} ex-why
:class: dropdown

Because of `hidden_reason`:

```python
hidden_reason = True
```
````

## After

The end.
"""


# --- the text of the pages ---------------------------------------------------------------------------


def test_strip_solutions_removes_gated_and_plain_solutions_and_keeps_the_rest():
    stripped = strip_solutions(PAGE)
    assert "secret_answer" not in stripped and "hidden_reason" not in stripped
    assert "solution" not in stripped and "Like this." not in stripped
    assert "```{exercise} 1.1: Add" in stripped and "```{exercise} 1.2: Why" in stripped
    assert stripped.rstrip().endswith("The end.") and "## After" in stripped
    assert "\n\n\n" not in stripped


def test_solution_blocks_are_the_solutions_in_page_order():
    blocks = solution_blocks(PAGE)
    assert len(blocks) == 2
    assert blocks[0].startswith("```{solution-start} ex-add") and "secret_answer" in blocks[0]
    assert blocks[0].rstrip().endswith("```{solution-end}\n```")
    assert blocks[1].startswith("````{solution} ex-why") and blocks[1].rstrip().endswith("````")


def test_an_unclosed_gated_solution_is_refused():
    with pytest.raises(ValueError):
        strip_solutions("```{solution-start} ex-add\n:class: dropdown\n```\n\nNo end.\n")


def code_of(block: str) -> str:
    """The code of the code cells in a solution's text."""
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)\n```", block, flags=re.S)
    return "\n".join("\n".join(line for line in cell.splitlines() if not line.startswith(":")) for cell in cells)


def solution_only_names(page: str) -> list[set[str]]:
    """Per solution of ``page`` that has code: the names its code assigns that appear nowhere in the book
    outside the solutions (so their presence in a build can only come from a solution)."""
    everywhere_else = set(
        re.findall(r"\w+", "\n".join(strip_solutions(p.read_text(encoding="utf-8")) for p in BOOK.glob("*.md")))
    )
    found = []
    for block in solution_blocks((BOOK / f"{page}.md").read_text(encoding="utf-8")):
        code = code_of(block)
        if not code:
            continue
        names = {
            target.id
            for node in ast.walk(ast.parse(code))
            for target in (
                [*getattr(node, "targets", []), getattr(node, "target", None)]
                if isinstance(node, (ast.Assign, ast.AugAssign, ast.For))
                else []
            )
            if isinstance(target, ast.Name)
        } | {node.name for node in ast.walk(ast.parse(code)) if isinstance(node, ast.FunctionDef)}
        found.append({n for n in names if len(n) >= 6 and "_" in n and n not in everywhere_else})
    return found


@pytest.mark.parametrize("page", EXERCISE_PAGES)
def test_each_exercise_page_has_exercises_each_with_a_solution_that_computes(page):
    prefix, _ = EXERCISE_PAGES[page]
    text = (BOOK / f"{page}.md").read_text(encoding="utf-8")
    labels = re.findall(r"^:label: (\S+)", strip_solutions(text), flags=re.M)
    assert len(labels) >= MIN_EXERCISES and all(label.startswith(prefix) for label in labels)
    blocks = solution_blocks(text)
    targets = [re.match(r"[`:]{3,}\{solution(?:-start)?\} (\S+)", block).group(1) for block in blocks]
    assert targets == labels, "every exercise has one solution, right after it"
    assert all(":class: dropdown" in block for block in blocks)
    assert all(code_of(block) for block in blocks), "every solution of these pages computes"
    assert all(names for names in solution_only_names(page)), "each solution's code has names of its own"
    # the exercises come last, before the comparison with the report
    closing = (
        "## Checked against the report"
        if "## Checked against the report" in text
        else "```{rubric} Computed against published"
    )
    assert text.index("## Exercises") < text.index(closing)
    assert text.index("## Exercises") > text.rindex("```{glue:figure}")


def test_the_student_edition_configuration():
    config = student_config(ROOT, execution_cache=Path("/tmp/cache"))
    # the extension that removes the solutions, from the book's folder of extensions
    assert config["sphinx"]["local_extensions"]["student_edition"] == str(ROOT / "book" / "_ext")
    assert (ROOT / "book" / "_ext" / "student_edition.py").is_file()
    assert "exercises" in config["sphinx"]["local_extensions"]
    assert config["sphinx"]["config"]["hatbook_student_edition"] is True
    assert config["execute"]["cache"] == str(Path("/tmp/cache").resolve())
    assert all(Path(p).is_absolute() for p in config["sphinx"]["local_extensions"].values())
    assert "student edition" in config["title"]


# --- the published edition -----------------------------------------------------------------------------


def article(html_file: Path) -> BeautifulSoup:
    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    return soup.find("article") or soup


@pytest.mark.parametrize("page", EXERCISE_PAGES)
def test_the_published_edition_shows_the_solutions_with_their_output(built_html, page):
    prefix, check_line = EXERCISE_PAGES[page]
    html = article(built_html / "book" / f"{page}.html")
    exercises = html.select("div.exercise")
    solutions = html.select("div.solution")
    assert len(exercises) >= MIN_EXERCISES and len(solutions) == len(exercises)
    assert all("dropdown" in div["class"] for div in solutions)
    for div, names in zip(solutions, solution_only_names(page)):
        outputs = [o.get_text(" ", strip=True) for o in div.select("div.cell_output")]
        assert any(outputs), f"a solution of {page} shows no output"
        assert "Traceback" not in div.get_text() and "Warning:" not in div.get_text()
        assert names & set(re.findall(r"\w+", div.get_text(" "))), f"a solution of {page} does not show its code"
    assert check_line in html.get_text(" ")
    # sphinx-exercise switches numfig on; the book keeps it off: no "Fig. N" before the report's numbers
    assert not html.select("span.caption-number")


# --- the student edition -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def student_html(book_build, tmp_path_factory) -> Path:
    """The student edition, built once per module with the published build's execution cache."""
    if book_build.returncode != 0:
        pytest.fail(f"the book did not build (exit {book_build.returncode}):\n{book_build.log[-4000:]}")
    cache = book_build.html.parent / ".jupyter_cache"
    out = tmp_path_factory.mktemp("student")
    return build_student(
        ROOT, out, execution_cache=cache if cache.exists() else None, strict=True, log=lambda line: None
    )


def text_files(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".js", ".md", ".txt", ".ipynb", ".json"):
            yield path, path.read_text(encoding="utf-8", errors="replace")


def test_the_student_edition_has_the_exercises_and_no_solution(student_html):
    for page, (prefix, check_line) in EXERCISE_PAGES.items():
        html = article(student_html / "book" / f"{page}.html")
        exercises = html.select("div.exercise")
        assert len(exercises) >= MIN_EXERCISES
        assert all(div.get("id", "").startswith(prefix) for div in exercises)
        assert not html.select("div.solution") and "Solution to" not in html.get_text()
        assert check_line not in html.get_text(" ")
    index = (student_html / "book" / "index.html").read_text(encoding="utf-8")
    assert "student edition" in index


def test_no_solution_code_or_output_reaches_any_file_of_the_student_edition(student_html):
    names = set().union(*(n for page in EXERCISE_PAGES for n in solution_only_names(page)))
    checks = {line for _, line in EXERCISE_PAGES.values()}
    assert len(names) > 20
    for path, text in text_files(student_html):
        words = set(re.findall(r"\w+", text))
        leaked = sorted(names & words) + [line for line in checks if line in text]
        assert not leaked, f"{path.relative_to(student_html)} shows solution code or output: {leaked[:5]}"


def test_the_student_edition_reuses_the_published_editions_executed_pages(student_html):
    log = (student_html.parent / ".work" / "build.log").read_text(encoding="utf-8")
    for page in EXERCISE_PAGES:
        assert f"{page}.md: Executing notebook" not in log, f"{page} was executed again for the student edition"


def test_the_published_edition_keeps_its_solutions_after_the_student_build(built_html, student_html):
    for page in EXERCISE_PAGES:
        assert article(built_html / "book" / f"{page}.html").select("div.solution")
    assert not student_html.is_relative_to(built_html.parent.parent)


# --- notebooks to download ----------------------------------------------------------------------------


def computed_pages() -> list[str]:
    return [page.stem for page in rerun.computed_pages(BOOK)]


def test_every_computed_page_can_be_downloaded_as_a_notebook(built_html):
    pages = computed_pages()
    assert set(EXERCISE_PAGES) <= set(pages) and len(pages) >= 7
    for page in pages:
        notebook_file = built_html / FOLDER / notebook_name(f"book/{page}")
        assert notebook_file.is_file(), f"no notebook for {page}"
        notebook = nbformat.read(notebook_file, as_version=4)
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code and all(not cell.outputs for cell in code)
        assert any("parameters" in cell.metadata.get("tags", []) for cell in code)
        assert notebook.metadata["kernelspec"]["name"] == "python3"
        soup = BeautifulSoup((built_html / "book" / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        links = [a["href"] for a in soup.select("a.dropdown-item") if a["href"].endswith(".ipynb")]
        assert links == [f"../{FOLDER}/{page}.ipynb"], f"{page}: the download button does not offer its notebook"
    guide = (built_html / "book" / "course_guide.html").read_text(encoding="utf-8")
    assert all(f"../{FOLDER}/{page}.ipynb" in guide for page in pages)


def test_a_page_without_code_has_no_notebook(built_html):
    assert page_notebook(BOOK / "glossary.md") is None or (built_html / FOLDER / "glossary.ipynb").exists()
    assert not (built_html / FOLDER / "references.ipynb").exists()


def test_the_student_editions_notebooks_have_the_exercises_without_solutions(built_html, student_html):
    for page in EXERCISE_PAGES:
        published = nbformat.read(built_html / FOLDER / f"{page}.ipynb", as_version=4)
        student = nbformat.read(student_html / FOLDER / f"{page}.ipynb", as_version=4)
        nbformat.validate(student)
        source = "\n".join(cell.source for cell in student.cells)
        assert "{exercise}" in source and "{solution" not in source
        assert len([c for c in student.cells if c.cell_type == "code"]) < len(
            [c for c in published.cells if c.cell_type == "code"]
        )
