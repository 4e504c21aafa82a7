"""The house style: ruff (lint and format) and mypy, as configured in pyproject.toml.

Not yet the whole tree: the files in CHECKED are clean today and must stay so. The rest of analysis/,
hatbook/, book/_ext/ and tests/ was being edited when the tools came in; those files join after the
final pass that fixes their findings (``ruff check --fix``, ``ruff format``, then by hand what is left),
and then CHECKED becomes the whole tree: ``ruff check .``, ``ruff format --check .`` and ``mypy`` (whose
``files`` setting names analysis/ and hatbook/).

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

#: The files held to the house style now (see the module's docstring for the rest; tests/test_summaries.py,
#: clean when the tools came in, was being edited and joins with the rest).
CHECKED = [
    "benchmarks/bootstrap.py",
    "benchmarks/generator.py",
    "benchmarks/record.py",
    "book/_ext/exercises.py",
    "book/_ext/rerun_marks.py",
    "book/_ext/student_edition.py",
    "hatbook/cli.py",
    "hatbook/exercises.py",
    "hatbook/pdf.py",
    "hatbook/sample_data.py",
    "hatbook/student.py",
    "hatbook/summaries.py",
    "synthetic",
    "tests/fingerprint.py",
    "tests/test_accounts.py",
    "tests/test_book_build.py",
    "tests/test_cea.py",
    "tests/test_chapter3_facts.py",
    "tests/test_charts.py",
    "tests/test_checker.py",
    "tests/test_cheers.py",
    "tests/test_choices.py",
    "tests/test_cli.py",
    "tests/test_cohort.py",
    "tests/test_costfit.py",
    "tests/test_data.py",
    "tests/test_edition_checks.py",
    "tests/test_environment.py",
    "tests/test_formats.py",
    "tests/test_glue_statistics.py",
    "tests/test_health_services.py",
    "tests/test_house_style.py",
    "tests/test_level_search.py",
    "tests/test_linked_pages.py",
    "tests/test_markov.py",
    "tests/test_mcse.py",
    "tests/test_medication.py",
    "tests/test_mental_health.py",
    "tests/test_oat_context.py",
    "tests/test_own_words.py",
    "tests/test_pdf.py",
    "tests/test_primer.py",
    "tests/test_privacy.py",
    "tests/test_published_record.py",
    "tests/test_quality_of_life.py",
    "tests/test_rerun_marks.py",
    "tests/test_sample_data.py",
    "tests/test_scorecard.py",
    "tests/test_scorecard_book.py",
    "tests/test_somatic.py",
    "tests/test_student_edition.py",
    "tests/test_summaries_in_reruns.py",
    "tests/test_synthetic.py",
    "tests/test_true_minus.py",
]
#: mypy's share of CHECKED: the files of analysis/ and hatbook/ (pyproject.toml's mypy ``files``).
TYPE_CHECKED = [path for path in CHECKED if path.startswith(("analysis/", "hatbook/"))]


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


def test_the_checked_files_exist():
    missing = [path for path in CHECKED if not (ROOT / path).exists()]
    assert not missing, f"CHECKED names files that are not there (moved? renamed?): {missing}"


def test_ruff_finds_nothing():
    done = run([*tool("ruff"), "check", "--no-cache", *CHECKED])
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_leaves_the_files_as_they_are():
    done = run([*tool("ruff"), "format", "--check", "--no-cache", *CHECKED])
    assert done.returncode == 0, f"run `ruff format` on these files:\n{done.stdout}{done.stderr}"


def test_mypy_finds_nothing():
    # --follow-imports=silent: modules these files import are read for their types, but their own
    # findings are left to the final pass
    done = run([*tool("mypy"), "--follow-imports=silent", *TYPE_CHECKED])
    assert done.returncode == 0, done.stdout + done.stderr
