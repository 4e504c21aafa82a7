"""Comparing computed statistics with the report's prints: the rule, the formatting, the collection."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from analysis.presentation.scorecard import Card, collect, format_like_print, plain_number, within_precision


@pytest.mark.parametrize(
    "computed, published, precision, expected",
    [
        (65.66, 65.7, 0.1, True),
        (65.74, 65.7, 0.1, True),
        (65.64, 65.7, 0.1, False),
        (136, 136, 1, True),
        (135, 136, 1, False),
        (845_400, 845_087, 1000, True),
        (0.1224, 0.122, 0.001, True),
        (float("nan"), 1, 1, False),
    ],
)
def test_within_precision(computed, published, precision, expected):
    assert within_precision(computed, published, precision) is expected


def test_format_like_print():
    assert format_like_print(65.66, 0.1, "percent") == "65.7%"
    assert format_like_print(1514427.2, 1, "NOK") == "1,514,427"
    assert format_like_print(0.12249, 0.001) == "0.122"
    assert format_like_print(103_344, 1000) == "103,000"


def test_plain_number_unwraps_numpy():
    assert plain_number(np.float64(2.0)) == 2 and type(plain_number(np.float64(2.0))) is int
    assert type(plain_number(np.int64(3))) is int
    assert plain_number(np.float64(65.7)) == 65.7


def test_card_refuses_unknown_keys_and_unexplained_mismatches(monkeypatch):
    monkeypatch.setattr("myst_nb.glue", lambda *args, **kwargs: None)
    card = Card()
    with pytest.raises(KeyError, match="not a key"):
        card.glue("no_such_key", 1)
    card.glue("s6_1_patients_participated_total", 136)
    card.glue("s6_1_one_year_retention_percent", 64.0)
    table = card.table()
    assert table.match.tolist() == ["yes", "no"]
    with pytest.raises(AssertionError, match="s6_1_one_year_retention_percent"):
        card.show()
    card.explain("s6_1_one_year_retention_percent", "a stated reason")
    card.show()


def test_collect_reads_glue_files(tmp_path):
    page = tmp_path / "book" / "ch06_1.glue.json"
    page.parent.mkdir()
    page.write_text(
        json.dumps(
            {
                "s6_1_patients_participated_total": {"data": {"text/plain": "136"}},
                "s6_1_one_year_retention_percent": {"data": {"text/plain": "64.0"}},
                "fig-6a": {"data": {"text/html": "<div/>"}},
            }
        )
    )
    frame = collect(tmp_path)
    assert frame.set_index("key").within_precision.to_dict() == {
        "s6_1_patients_participated_total": True,
        "s6_1_one_year_retention_percent": False,
    }
    assert set(frame.page) == {"book/ch06_1"}


def test_a_rerun_card_lists_values_without_comparing(monkeypatch):
    monkeypatch.setattr("myst_nb.glue", lambda *args, **kwargs: None)
    card = Card(compare=False)
    card.glue("s6_1_one_year_retention_percent", 50.0)
    styled = card.show()  # no note needed: nothing is compared
    assert list(styled.data.columns) == ["statistic", "computed"]


def test_published_edition_is_only_the_default_parameters():
    from analysis.data.cohort import DEFAULT_COHORT_DIR, published_edition

    assert published_edition("all", 2025, None) and published_edition("all", 2025, DEFAULT_COHORT_DIR)
    assert not published_edition("Oslo", 2025, None)
    assert not published_edition("all", 2023, None)
    assert not published_edition("all", 2025, "/elsewhere")


def test_a_row_printed_as_an_upper_bound_agrees_when_below_it():
    from analysis.presentation.scorecard import UPPER_BOUNDS, agrees_with_print

    entry = pd.Series({"value": 0.001, "precision": 0.001})
    key = next(iter(UPPER_BOUNDS))
    assert agrees_with_print(key, 4.5e-10, entry)
    assert not agrees_with_print(key, 0.0012, entry)
    assert not agrees_with_print(key, float("nan"), entry)
    # an ordinary row: rounding to the print, not a bound
    assert not agrees_with_print("any_other_key", 4.5e-10, entry)


def test_calibration_notes_quote_the_generators_reason_for_missed_targets(tmp_path):
    from analysis.presentation.scorecard import calibration_notes

    assert calibration_notes(tmp_path) == {}  # real data: no calibration report, no notes
    pd.DataFrame(
        {
            "module": ["economics", "economics", "core"],
            "key": ["t6d_continued_cost_mean", "t6d_continued_n", "t6c_oslo_2022_patient_days"],
            "published": [2574079, 68, 8644],
            "achieved": [2497343, 68, 8644],
            "status": ["explained", "pass", "pass"],
            "reason": [
                "episodes fixed by the retention calibration leave too few continued patients in costly clinic-years.",
                None,
                None,
            ],
        }
    ).to_csv(tmp_path / "calibration.csv", index=False)
    notes = calibration_notes(tmp_path)
    assert list(notes) == ["t6d_continued_cost_mean"]
    assert notes["t6d_continued_cost_mean"].startswith(
        "The synthetic cohort is not calibrated to this figure: episodes fixed"
    )
    assert notes["t6d_continued_cost_mean"].endswith("clinic-years.")


def test_explain_unexplained_keeps_a_pages_own_note():
    card = Card()
    card.explain("t6d_continued_n", "own note")
    card.explain_unexplained({"t6d_continued_n": "other", "t6d_discontinued_n": "added"})
    assert card._notes == {"t6d_continued_n": "own note", "t6d_discontinued_n": "added"}


def test_the_comparison_marks_and_highlights_a_difference_and_links_the_errata(monkeypatch):
    monkeypatch.setattr("myst_nb.glue", lambda *args, **kwargs: None)
    card = Card()
    card.glue("s6_1_patients_participated_total", 136)
    card.glue("s6_1_one_year_retention_percent", 64.0, note="Printed twice (see the errata appendix) & <odd>.")
    styled = card.show()
    html = styled.to_html()
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, re.S)
    assert [h for h in re.findall(r">([^<>]+)</th>", rows[0])] == [
        "Statistic",
        "Report",
        "This edition",
        "Agrees",
        "Note",
    ]
    assert 'class="hatbook-mismatch"' not in rows[1] and ">✓</td>" in rows[1]
    assert rows[2].startswith('<tr class="hatbook-mismatch">') and ">✗</td>" in rows[2]
    assert '<a href="appendix_errata.html">the errata appendix</a>' in rows[2] and "&amp; &lt;odd&gt;" in rows[2]
    assert "1 of 2 statistics" in html


def test_a_note_without_the_errata_is_not_linked():
    from analysis.presentation.scorecard import link_errata

    assert link_errata("The synthetic cohort differs.") == "The synthetic cohort differs."
    assert link_errata("see {doc}`appendix_errata`.") == 'see <a href="appendix_errata.html">the errata appendix</a>.'
    assert link_errata("") == ""


def test_a_rerun_lists_statistic_and_value_under_plain_headings(monkeypatch):
    monkeypatch.setattr("myst_nb.glue", lambda *args, **kwargs: None)
    card = Card(compare=False)
    card.glue("s6_1_one_year_retention_percent", 50.0)
    html = card.show().to_html()
    assert re.findall(r">([^<>]+)</th>", html) == ["Statistic", "Value"] and "hatbook-mismatch" not in html
    assert "Report" not in html and "✓" not in html


def test_each_section_of_the_scorecard_page_links_to_its_page_of_the_book():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "book" / "_ext" / "scorecard.py"
    spec = importlib.util.spec_from_file_location("scorecard_extension", path)
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    docs = [
        "book/ch06_results",
        "book/ch06_1_enrollment_retention",
        "book/ch03_hat_in_norway",
        "book/appendix3_outcomes",
        "book/executive_summary",
        "book/index",
    ]
    assert extension.section_page("6", docs) == "book/ch06_results"
    assert extension.section_page("6.1", docs) == "book/ch06_1_enrollment_retention"
    assert extension.section_page("3.2", docs) == "book/ch03_hat_in_norway"
    assert extension.section_page("Appendix 3", docs) == "book/appendix3_outcomes"
    assert extension.section_page("Executive summary", docs) == "book/executive_summary"
    assert extension.section_page("6.9", docs) == "book/ch06_results" and extension.section_page("9", docs) is None
