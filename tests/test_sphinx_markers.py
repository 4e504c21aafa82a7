"""A rerun's pasted marks (hatbook/sphinx_markers.py): the unit after a value that is not shown goes."""

from docutils import nodes

from hatbook.sphinx_markers import drop_units_after_marks


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
