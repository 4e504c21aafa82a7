"""No function of the project's code runs over a page: at most 120 lines (its signature, docstring and body),
so that a newcomer can read one at a time.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("analysis", "hatbook", "synthetic", "book/_ext")
MOST_LINES = 120


def function_lengths(path: Path) -> dict[str, int]:
    """Lines of each function and method of a file (nested functions count in the one that holds them)."""
    lengths: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lengths[prefix + child.name] = child.end_lineno - child.lineno + 1
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return lengths


def too_long() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            names = [name for name, lines in function_lengths(path).items() if lines > MOST_LINES]
            if names:
                found[str(path.relative_to(ROOT))] = sorted(names)
    return found


def test_no_function_is_longer_than_a_page():
    assert too_long() == {}, f"functions over {MOST_LINES} lines (split them): {too_long()}"


def test_the_measure_counts_methods_and_leaves_nested_functions_in_their_holder(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        "def outer():\n    def inner():\n        pass\n    return inner\n\n\nclass Box:\n    def open(self):\n        pass\n",
        encoding="utf-8",
    )
    assert function_lengths(source) == {"outer": 4, "Box.open": 2}
