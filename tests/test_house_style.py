"""The house style: ruff (lint and format) on the whole tree, and mypy on analysis/ and hatbook/, as
configured in pyproject.toml.

mypy leaves out the modules in MYPY_NOT_YET, which still have type errors (41 when the tools came in, all in
section 6.4's outcome modules and one in cost_utility); a module leaves that list when it is clean, and the list
only shrinks (a test checks that every module on it still has errors, so a fixed module must come off).

The tools come with the test extras (``pip install -e ".[test]"``); without them the tests are skipped,
except in CI, where a missing tool is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Modules mypy does not hold to the house style yet (see the module's docstring).
MYPY_NOT_YET: list[str] = []
#: The files mypy checks: every module of analysis/ and hatbook/ but those.
TYPE_CHECKED = sorted(
    str(path.relative_to(ROOT))
    for folder in ("analysis", "hatbook")
    for path in (ROOT / folder).rglob("*.py")
    if str(path.relative_to(ROOT)) not in MYPY_NOT_YET
)


def tool(name: str) -> list[str]:
    """The command that runs ``name`` with this Python; skips the test when it is not installed (fails in CI)."""
    if importlib.util.find_spec(name) is None:
        message = f'{name} is not installed (pip install -e ".[test]" installs it)'
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return [sys.executable, "-m", name]


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_the_modules_not_yet_typed_exist():
    missing = [path for path in MYPY_NOT_YET if not (ROOT / path).exists()]
    assert not missing, f"MYPY_NOT_YET names files that are not there (moved? renamed?): {missing}"


def test_ruff_finds_nothing():
    done = run([*tool("ruff"), "check", "--no-cache", "."])
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_leaves_the_files_as_they_are():
    done = run([*tool("ruff"), "format", "--check", "--no-cache", "."])
    assert done.returncode == 0, f"run `ruff format` on these files:\n{done.stdout}{done.stderr}"


def test_mypy_finds_nothing():
    # --follow-imports=silent: modules these files import are read for their types, but their own
    # findings are left to the final pass
    done = run([*tool("mypy"), "--follow-imports=silent", *TYPE_CHECKED])
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_module_not_yet_typed_still_has_errors():
    """A module made clean comes off MYPY_NOT_YET, so that the exception list cannot hide a module forever."""
    mypy = tool("mypy")
    clean = [path for path in MYPY_NOT_YET if run([*mypy, "--follow-imports=silent", path]).returncode == 0]
    assert clean == [], f"clean now, take them off MYPY_NOT_YET: {clean}"
