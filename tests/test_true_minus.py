"""A negative number pasted into the prose gets a true minus sign (book/_ext/true_minus.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

from myst_nb.core.variables import format_plain_text  # noqa: E402
from true_minus import _true_minus  # noqa: E402


def test_negative_numbers_get_a_true_minus():
    paste = _true_minus(format_plain_text)
    assert paste("-6540.4", ",.0f") == "\u22126,540"
    assert paste("-0.25", ".1%") == "\u221225.0%"
    assert paste("6540.4", ",.0f") == "6,540"


def test_text_is_left_alone():
    paste = _true_minus(format_plain_text)
    assert paste("'-'", "") == "-"
    assert paste("'2022-2025'", "") == "2022-2025"
    assert paste("'<5'", "") == "<5"
