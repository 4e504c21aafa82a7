"""The CHEERS 2022 checklist (book/_data/cheers2022.csv, rendered by book/_ext/cheers.py).

The checklist lists the statement's 28 items in order, each with a target in the book or a stated absence;
a row that breaks this, and a target the book no longer has, give a warning that fails the book's build.
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import cheers  # noqa: E402

CSV = ROOT / "book" / "_data" / "cheers2022.csv"

# The statement's items in its order (Husereau et al. 2022, Table 1), to catch a renumbered or renamed row.
TOPICS = [
    "Title",
    "Abstract",
    "Background and objectives",
    "Health economic analysis plan",
    "Study population",
    "Setting and location",
    "Comparators",
    "Perspective",
    "Time horizon",
    "Discount rate",
    "Selection of outcomes",
    "Measurement of outcomes",
    "Valuation of outcomes",
    "Measurement and valuation of resources and costs",
    "Currency, price date, and conversion",
    "Rationale and description of model",
    "Analytics and assumptions",
    "Characterising heterogeneity",
    "Characterising distributional effects",
    "Characterising uncertainty",
    "Approach to engagement with patients and others affected by the study",
    "Study parameters",
    "Summary of main results",
    "Effect of uncertainty",
    "Effect of engagement with patients and others affected by the study",
    "Study findings, limitations, generalisability, and current knowledge",
    "Source of funding",
    "Conflicts of interest",
]


def rows() -> list[dict]:
    return cheers.read_rows(CSV)


def as_csv(table: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=cheers.COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


# --- the book's checklist --------------------------------------------------------------------------------


def test_the_checklist_lists_the_28_items_in_order():
    items = cheers.load(CSV)
    assert [item.number for item in items] == list(range(1, 29))
    assert [item.topic for item in items] == TOPICS
    assert cheers.check_rows(rows()) == []


def test_every_item_has_a_target_or_a_stated_absence():
    for item in cheers.load(CSV):
        assert item.targets or item.absence, f"item {item.number}"
        if not item.targets:
            assert item.absence.startswith("Not reported by the report or this edition:"), f"item {item.number}"


def test_the_sections_follow_the_statement():
    sections = {item.number: item.section for item in cheers.load(CSV)}
    assert sections[1] == "Title" and sections[2] == "Abstract" and sections[3] == "Introduction"
    assert {sections[n] for n in range(4, 22)} == {"Methods"}
    assert {sections[n] for n in range(22, 26)} == {"Results"}
    assert sections[26] == "Discussion"
    assert sections[27] == sections[28] == "Other relevant information"


def test_every_target_exists_in_the_sources():
    """Each ref: label is defined on some page, each doc: page exists (the build checks the same on the built book)."""
    book = ROOT / "book"
    text = "\n".join(path.read_text(encoding="utf-8") for path in book.glob("*.md"))
    labels = {line[1:-2] for line in text.splitlines() if line.startswith("(") and line.endswith(")=")}
    labels |= {line.split(":name:", 1)[1].strip() for line in text.splitlines() if line.startswith(":name:")}
    docs = {f"book/{path.stem}" for path in book.glob("*.md")}
    assert cheers.missing_targets(cheers.load(CSV), labels, docs, "book/cheers_checklist") == []


# --- the rules, on hand-made rows ------------------------------------------------------------------------


def row(number, target="doc:page", reported="what it shows", absence="", section="Methods") -> dict:
    return {
        "item": str(number),
        "section": section,
        "topic": f"topic {number}",
        "requirement": "asks",
        "target": target,
        "reported": reported,
        "absence": absence,
    }


def full() -> list[dict]:
    return [row(n) for n in range(1, 29)]


def test_an_item_with_neither_target_nor_absence_fails():
    table = full()
    table[17] = row(18, target="", reported="")
    assert cheers.check_rows(table) == ["item 18: neither a target nor a stated absence"]
    table[17] = row(18, target="", reported="", absence="Not reported by the report or this edition: why")
    assert cheers.check_rows(table) == []


def test_a_missing_or_duplicated_number_fails():
    table = full()
    del table[5]
    assert cheers.check_rows(table)[0].startswith("the items must be numbered 1 to 28")
    table = full()
    table[5] = row(5)
    assert cheers.check_rows(table)[0].startswith("the items must be numbered 1 to 28")


def test_a_target_needs_a_known_kind_and_the_text_of_what_it_reports():
    table = full()
    table[0] = row(1, target="sec-5-4-cost-utility")
    assert cheers.check_rows(table) == ["item 1: target 'sec-5-4-cost-utility' is neither ref:<label> nor doc:<page>"]
    table[0] = row(1, target="ref:sec-5-4-cost-utility", reported="")
    assert cheers.check_rows(table) == ["item 1: a target without the text of what it reports"]


def test_load_raises_with_every_problem(tmp_path):
    table = full()
    table[2] = row(3, target="", reported="")
    table[3] = row(4, section="Preface")
    path = tmp_path / "checklist.csv"
    path.write_text(as_csv(table), encoding="utf-8")
    with pytest.raises(ValueError, match="item 3: neither.*item 4: unknown section"):
        cheers.load(path)


def test_status_and_summary():
    items = [
        cheers.Item(1, "Title", "t", "r", (cheers.Target("doc", "a"),), "shown", ""),
        cheers.Item(2, "Title", "t", "r", (cheers.Target("doc", "a"),), "shown", "but not this"),
        cheers.Item(3, "Title", "t", "r", (), "", "Not reported by the report or this edition: why"),
        cheers.Item(4, "Title", "t", "r", (), "", "Not reported by the report or this edition: why"),
    ]
    assert [item.status for item in items] == ["reported", "in part", "not reported", "not reported"]
    assert cheers.summary(items) == (
        "Of the 4 items, 1 is reported, 1 is reported in part and 2 are not reported by the report or by this edition."
    )


def test_missing_targets_against_given_labels_and_pages():
    items = [
        cheers.Item(1, "Title", "t", "r", cheers.parse_targets("ref:here doc:ch06_7_cost_utility"), "x", ""),
        cheers.Item(2, "Title", "t", "r", cheers.parse_targets("ref:gone doc:no_such_page"), "x", ""),
    ]
    labels, docs = {"here"}, {"book/ch06_7_cost_utility"}
    assert cheers.missing_targets(items, labels, docs, "book/cheers_checklist") == [
        (2, cheers.Target("ref", "gone")),
        (2, cheers.Target("doc", "no_such_page")),
    ]
    # a page is named relative to the page that shows the checklist
    assert cheers.missing_targets(items[:1], labels, docs, "cheers_checklist") == [
        (1, cheers.Target("doc", "ch06_7_cost_utility")),
    ]


def test_short_title_cuts_long_captions():
    assert cheers.short_title("5.4 Cost-utility analysis") == "5.4 Cost-utility analysis"
    caption = "Table M.1: The model's inputs, their values and sources, and the distribution each is drawn from."
    assert cheers.short_title(caption) == "Table M.1"


# --- a tiny Sphinx project: links are made, a target that disappears gives a warning ---------------------


def build(tmp_path: Path, index: str, other: str, table: list[dict], builder: str = "html") -> tuple[str, str]:
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    src = tmp_path / "src"
    (src / "_data").mkdir(parents=True)
    (src / "_data" / "cheers.csv").write_text(as_csv(table), encoding="utf-8")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\nextensions = ['myst_parser', 'cheers']\n",
        encoding="utf-8",
    )
    (src / "index.md").write_text(index, encoding="utf-8")
    (src / "other.md").write_text(other, encoding="utf-8")
    warnings = io.StringIO()
    # each build registers its nodes and directives afresh, as a new process would
    with docutils_namespace():
        app = Sphinx(
            str(src),
            str(src),
            str(tmp_path / "out"),
            str(tmp_path / "doctrees"),
            builder,
            status=io.StringIO(),
            warning=warnings,
            freshenv=True,
        )
        app.build()
    page = next((tmp_path / "out").glob("index.html" if builder == "html" else "*.tex"))
    output = page.read_text(encoding="utf-8")
    shutil.rmtree(tmp_path / "out")
    return output, warnings.getvalue()


INDEX = """# Checklist

```{toctree}
other
```

```{cheers-checklist} _data/cheers.csv
```
"""
OTHER = """# The other page

(sec-costs)=
## Costs of the clinics

Text.
"""


def small_table() -> list[dict]:
    table = [
        row(n, target="", reported="", absence="Not reported by the report or this edition: none") for n in range(1, 29)
    ]
    table[0] = row(1, target="ref:sec-costs doc:other", reported="The costs.")
    return table


def test_a_tiny_book_links_to_its_targets_with_their_titles(tmp_path):
    html, warnings = build(tmp_path, INDEX, OTHER, small_table())
    assert "WARNING" not in warnings, warnings
    assert 'href="other.html#sec-costs"' in html
    assert "Costs of the clinics" in html and "The other page" in html
    assert "Of the 28 items, 1 is reported, 0 are reported in part and 27 are not reported" in html


def test_a_target_that_disappears_gives_a_warning(tmp_path):
    _, warnings = build(tmp_path, INDEX, OTHER.replace("(sec-costs)=\n", ""), small_table())
    assert "item 1 (topic 1) maps to ref:sec-costs, which the book no longer has" in warnings


def test_a_malformed_row_gives_a_warning(tmp_path):
    table = small_table()
    table[4] = row(5, target="", reported="", absence="")
    _, warnings = build(tmp_path, INDEX, OTHER, table)
    assert "item 5: neither a target nor a stated absence" in warnings


def test_the_pdf_gets_a_table_that_breaks_across_pages(tmp_path):
    tex, warnings = build(tmp_path, INDEX, OTHER, small_table(), builder="latex")
    assert "WARNING" not in warnings, warnings
    assert r"\begin{longtable}" in tex
    assert r"\hyperref[\detokenize{other:sec-costs}]" in tex
