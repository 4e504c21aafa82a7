"""Section 6.6's figures and sentences (analysis.sections.process), on hand-built figures."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from analysis.sections import process


def edition(published: bool, data_end: str):
    return SimpleNamespace(
        published=published,
        data_end=pd.Timestamp(data_end),
        data_end_text="31 December 2023",
        clinics="the two clinics",
    )


FIGURES = pd.DataFrame({"item": ["referral_period"], "clinic": ["all"], "value": [3]})
KEYED = pd.DataFrame({"key": ["s6_6_annual_denial_rate_max", "s6_6_referrer_gp_percent_oslo"], "value": [27.9, 40.0]})
PARAGRAPHS = {name: f"Paragraph {name}." for name in process.PARAGRAPH_KEYS}


def test_every_paragraph_and_figure_under_its_name():
    rows = process.section_statistics(
        edition(True, "2025-12-31"), FIGURES, KEYED, {"s6_6_referrer_gp_percent_oslo"}, PARAGRAPHS, 212
    ).set_index("key")
    assert rows.loc["s6_6_text_years", "value"] == "Paragraph years."
    assert rows.loc["s6_6_main_findings", "value"] == (
        "Over 3 calendar years of referral data to 31 December 2023, "
        "the two clinics received 212 referrals. Paragraph main_referrers."
    )
    assert rows.loc["s6_6_premises_move", "value"] == "in November 2024"
    assert (
        rows.loc["s6_6_referrer_gp_percent_oslo", "suppress"]
        and not rows.loc["s6_6_annual_denial_rate_max", "suppress"]
    )
    assert rows.loc["s6_6_annual_denial_rate_max", "note"] == process.NOTES["s6_6_annual_denial_rate_max"]
    assert rows.loc["s6_6_errata_note", "value"] == process.ERRATA_NOTE and rows.loc["s6_6_scope", "value"] == ""


def test_a_rerun_ending_before_the_move_does_not_name_it_and_says_its_scope():
    rows = process.section_statistics(edition(False, "2023-12-31"), FIGURES, KEYED, set(), PARAGRAPHS, 40).set_index(
        "key"
    )
    assert rows.loc["s6_6_premises_move", "value"] == "after the end of this edition's data"
    assert rows.loc["s6_6_scope", "value"].endswith("(the two clinics, data to 31 December 2023).")
    assert rows.loc["s6_6_errata_note", "value"] == "" and rows.loc["s6_6_text_report_average", "value"] == ""
