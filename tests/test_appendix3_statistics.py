"""Appendix 3's statistics as the page glues them: the tidy frame's rows, the notes of Supplementary Table A and the
words of shares, doses and ranges as a rerun shows them (hand-built values, answers known by hand)."""

import pandas as pd
import pytest

from analysis.presentation import scorecard
from analysis.sections import medication as med
from analysis.sections import outcomes as oc


@pytest.fixture
def glued(monkeypatch):
    """What myst_nb's glue received, by name."""
    received = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=False: received.__setitem__(name, value))
    return received


def test_statistics_frame_keeps_whole_numbers_whole_and_own_counts_carry_their_marker():
    frame = oc.statistics_frame([{"key": "a", "value": 12}, oc.own_count_row("b", "<5"), oc.own_count_row("c", 7)])
    assert frame.loc[0, "value"] == 12 and isinstance(frame.loc[0, "value"], int)
    assert frame.loc[1, "shown"] == "<5" and pd.isna(frame.loc[1, "value"]) and frame.loc[1, "frequency"]
    assert frame.loc[2, "value"] == 7 and frame.loc[2, "shown"] == 7


def test_a_rerun_writes_a_marker_alone_and_a_shown_share_or_dose_with_its_unit(glued, monkeypatch):
    card = scorecard.Card(compare=False, min_cell=5)
    card.glue_statistics(
        oc.statistics_frame(
            [
                {"key": "app3_dam_am_only_1m_pct", "value": 12.34, "shown": 12.34},
                {"key": "app3_dam_pm_only_1m_pct", "value": 2.0, "shown": "–"},
                {"key": "app3_bonus_dose_min_mg", "value": 1200.0},
                {"key": "app3_bonus_dose_max_mg", "value": 3000.0, "suppress": True},
                {"key": "app3_bonus_dose_median_mg", "value": 1500.0},
            ]
        )
    )
    texts = oc.unit_texts(
        card,
        {
            k: med.UNIT_TEXT_KEYS[k]
            for k in (
                "app3_dam_am_only_1m_pct",
                "app3_dam_pm_only_1m_pct",
                "app3_bonus_dose_min_mg",
                "app3_bonus_dose_median_mg",
            )
        },
    )
    assert texts["app3_dam_am_only_1m_pct_text"] == "12.3%"  # one of the shares written with a decimal
    assert texts["app3_dam_pm_only_1m_pct_text"] == "–"  # never "–%"
    assert texts["app3_bonus_dose_min_mg_text"] == "1,200 mg"
    monkeypatch.setattr(
        med, "RANGE_TEXT_KEYS", {"app3_bonus_dose_range_text": med.RANGE_TEXT_KEYS["app3_bonus_dose_range_text"]}
    )
    assert med.range_texts(card) == {"app3_bonus_dose_range_text": "–"}  # the withheld end's marker alone, no unit
    card = scorecard.Card()
    card.glue_statistics(
        oc.statistics_frame(
            [{"key": "app3_bonus_dose_min_mg", "value": 210.0}, {"key": "app3_bonus_dose_max_mg", "value": 1430.0}]
        )
    )
    assert med.range_texts(card) == {"app3_bonus_dose_range_text": "210–1,430 mg"}


def test_the_swapped_polysubstance_cells_are_compared_with_the_other_column():
    published = scorecard.ledger()
    key = "sta_frequent_polysubstance_positive_to_negative_n"
    other = oc.TABLE_A_SWAPPED[key]
    values = pd.Series({key: float(published.loc[other, "value"]), other: float(published.loc[key, "value"])})
    if float(published.loc[key, "value"]) == float(published.loc[other, "value"]):
        pytest.skip("the two printed cells are equal")
    note = oc.table_a_note(key, values, published)
    assert note.startswith("The report prints this row's two change columns the wrong way round")
    assert str(published.loc[other, "printed"]) in note
    values[key] = float(published.loc[key, "value"])  # matches its own print: no note
    assert oc.table_a_note(key, values, published) is None
