"""A rerun's pasted marks (book/_ext/rerun_marks.py): the unit after a value that is not shown goes."""

import sys
from pathlib import Path

from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

from rerun_marks import _lenient, drop_units_after_marks


def _paragraph(pasted: str, after: str) -> nodes.paragraph:
    paragraph = nodes.paragraph()
    paragraph += nodes.Text("a share of ")
    paragraph += nodes.inline(pasted, pasted, classes=["pasted-text"])
    paragraph += nodes.Text(after)
    return paragraph


def test_the_unit_after_a_mark_is_dropped():
    document = nodes.section()
    document += _paragraph("\u2013", "% lived alone")
    document += _paragraph("n/a", " % of replicates")
    drop_units_after_marks(None, document, "page")
    assert [p.astext() for p in document.children] == ["a share of \u2013 lived alone", "a share of n/a of replicates"]


def test_the_unit_after_a_number_stays():
    document = nodes.section()
    document += _paragraph("61", "% lived alone")
    document += _paragraph("<5", " patients")
    drop_units_after_marks(None, document, "page")
    assert [p.astext() for p in document.children] == ["a share of 61% lived alone", "a share of <5 patients"]


def test_a_mark_is_pasted_whatever_the_format_spec():
    def strict(text: str, fmt_spec: str) -> str:
        return format(float(text), fmt_spec)

    paste = _lenient(strict)
    assert paste("12.345", ".1f") == "12.3"
    assert paste("'<5'", ".1f") == "<5"  # glue data hold a text's repr
    assert paste("'\u2013'", ".0f") == "\u2013"
    assert paste.__wrapped__ is strict  # patched once: setup() does not wrap it again
