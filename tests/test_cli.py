"""The ``hatbook`` command (hatbook/cli.py): its help, its refusals of bad input and what each subcommand calls.

No book is built here: the builders are replaced by recorders, and the data checks run on small folders.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hatbook import cli

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``hatbook ARGV`` in this process: (exit status, standard output, standard error)."""
    try:
        status = cli.main(list(argv))
    except SystemExit as stop:  # argparse: --help and usage errors
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


# --- help ------------------------------------------------------------------------------------------------

#: Words each command's help must contain: what it does, where it writes, and its options.
HELP_WORDS = {
    "rerun": ["--clinic", "--year", "--data", "--threshold", "_build/reruns"],
    "audit": ["threshold", "paths"],
    "pdf": ["one PDF", "TeX Live", "make pdf-deps", "--strict", "--output", "--check", "Exit status"],
    "student": ["without the solutions", "--execution-cache", "--strict", "_build/html is not touched", "Exit status"],
    "check-data": ["DIR", "schema", "hatbook rerun --data", "make data", "Exit status"],
}


def test_the_command_lists_every_subcommand_with_examples(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in HELP_WORDS:
        assert f"\n    {command}" in out, command
    assert "examples:" in out and "hatbook check-data ~/" in out


@pytest.mark.parametrize("command", HELP_WORDS)
def test_each_subcommand_explains_itself(capsys, command):
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    text = " ".join(out.split())  # argparse wraps lines
    for words in HELP_WORDS[command]:
        assert words in text, f"{command} --help lacks {words!r}"


@pytest.mark.parametrize("module, command", [("hatbook.pdf", "pdf"), ("hatbook.student", "student")])
def test_the_modules_take_the_same_options_as_the_subcommands(capsys, module, command):
    """``python -m hatbook.pdf`` and ``hatbook pdf`` are one parser: the same options, the same text."""
    status, out, _ = run(capsys, command, "--help")
    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert status == 0 and done.returncode == 0
    options = out.split("options:")[1]
    assert " ".join(options.split()) in " ".join(done.stdout.split())


# --- bad input: one message, exit 2, no traceback ----------------------------------------------------------


@pytest.mark.parametrize("command", ["pdf", "student"])
def test_a_folder_that_is_not_a_book_is_refused(capsys, tmp_path, command):
    status, out, err = run(capsys, command, "--source", str(tmp_path))
    assert status == 2
    assert err.strip() == f"error: {tmp_path}: not a book's folder (--source): no _config.yml and no _toc.yml"


def test_a_missing_execution_cache_is_refused(capsys, tmp_path):
    status, _, err = run(capsys, "student", "--source", str(ROOT), "--execution-cache", str(tmp_path / "nowhere"))
    assert status == 2
    assert err.strip() == f"error: {tmp_path / 'nowhere'}: execution cache not found (--execution-cache)"


def test_a_missing_data_folder_is_refused(capsys, tmp_path):
    status, _, err = run(capsys, "check-data", str(tmp_path / "nowhere"))
    assert status == 2
    assert err.strip() == f"error: {tmp_path / 'nowhere'}: folder of patient-level data not found"


def test_data_that_break_the_schema_are_named_without_a_traceback(tmp_path):
    """The installed command, in a process of its own: the message names file and column, exit 2."""
    folder = tmp_path / "records"
    shutil.copytree(ROOT / "data" / "synthetic", folder)
    patients = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    patients.loc[0, "age_at_admission"] = "old"
    patients.to_csv(folder / "patients.csv", index=False)
    done = subprocess.run(
        [sys.executable, "-m", "hatbook.cli", "check-data", str(folder)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2, done.stderr
    assert "patients.csv" in done.stderr and "age_at_admission" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_option_is_a_usage_error(capsys):
    status, _, err = run(capsys, "pdf", "--colour")
    assert status == 2
    assert "unrecognized arguments: --colour" in err and "Traceback" not in err


# --- dispatch ----------------------------------------------------------------------------------------------


def test_pdf_calls_the_pdf_builder_with_its_options(capsys, monkeypatch, tmp_path):
    import hatbook.pdf

    calls = []
    monkeypatch.setattr(hatbook.pdf, "build_pdf", lambda *args, **kwargs: calls.append((args, kwargs)))
    status, _, _ = run(capsys, "pdf", "--strict", "--output", str(tmp_path), "--title", "Bergen, data through 2023")
    assert status == 0
    assert calls == [((ROOT, str(tmp_path), "Bergen, data through 2023"), {"work_dir": None, "strict": True})]


def test_pdf_check_only_checks_the_tools(capsys, monkeypatch):
    import hatbook.pdf

    checked = []
    monkeypatch.setattr(hatbook.pdf, "check_tools", lambda: checked.append(True))
    monkeypatch.setattr(hatbook.pdf, "build_pdf", lambda *args, **kwargs: pytest.fail("built a PDF"))
    status, out, _ = run(capsys, "pdf", "--check")
    assert (status, checked) == (0, [True])
    assert "installed" in out


def test_a_failed_pdf_build_exits_2_with_its_message(capsys, monkeypatch):
    import hatbook.pdf

    def fail(*args, **kwargs):
        raise hatbook.pdf.PdfError("cannot build the PDF: missing xelatex.")

    monkeypatch.setattr(hatbook.pdf, "build_pdf", fail)
    status, _, err = run(capsys, "pdf")
    assert (status, err.strip()) == (2, "error: cannot build the PDF: missing xelatex.")


def test_student_calls_the_student_builder_with_its_options(capsys, monkeypatch, tmp_path):
    import hatbook.student

    calls = []
    monkeypatch.setattr(hatbook.student, "build_student", lambda *args, **kwargs: calls.append((args, kwargs)))
    status, _, _ = run(capsys, "student", "--output", str(tmp_path), "--execution-cache", str(tmp_path))
    assert status == 0
    assert calls == [((ROOT, str(tmp_path)), {"execution_cache": str(tmp_path), "strict": False})]


@pytest.fixture
def checks(monkeypatch):
    """The two data checks replaced by recorders of their arguments (each passes)."""
    import analysis.data.cohort
    import analysis.data.published

    calls = []
    monkeypatch.setattr(
        analysis.data.published, "main", lambda argv: calls.append(("analysis.data.published", argv)) or 0
    )
    monkeypatch.setattr(analysis.data.cohort, "main", lambda argv: calls.append(("analysis.data.cohort", argv)) or 0)
    return calls


def test_check_data_without_a_folder_checks_the_bundled_data(capsys, checks):
    assert run(capsys, "check-data")[0] == 0
    assert checks == [("analysis.data.published", ["--check"]), ("analysis.data.cohort", ["--check"])]


def test_check_data_of_a_folder_checks_its_patient_level_data(capsys, checks, tmp_path):
    assert run(capsys, "check-data", str(tmp_path))[0] == 0
    assert checks == [("analysis.data.cohort", ["--check", "--data", str(tmp_path)])]


def test_check_data_of_a_whole_data_folder_checks_its_tables_and_its_cohort(capsys, checks, tmp_path):
    (tmp_path / "datapackage.json").write_text("{}")
    (tmp_path / "synthetic").mkdir()
    assert run(capsys, "check-data", str(tmp_path))[0] == 0
    assert checks == [
        ("analysis.data.published", ["--check", "--data", str(tmp_path)]),
        ("analysis.data.cohort", ["--check", "--data", str(tmp_path / "synthetic")]),
    ]


def test_check_data_stops_at_the_first_failed_check_with_its_status(capsys, monkeypatch):
    import analysis.data.cohort
    import analysis.data.published

    monkeypatch.setattr(analysis.data.published, "main", lambda argv: 1)
    monkeypatch.setattr(
        analysis.data.cohort, "main", lambda argv: pytest.fail("the cohort was checked after a failure")
    )
    assert run(capsys, "check-data")[0] == 1
