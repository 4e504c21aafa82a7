"""Disclosure control (analysis/presentation/disclosure.py), on small frames worked out by hand."""

from __future__ import annotations

import math

import pandas as pd

from analysis.presentation import disclosure as d


def test_small_counts_are_marked_and_zero_is_shown():
    assert d.count(3, 5) == "<5"
    assert d.count(0, 5) == 0
    assert d.count(5, 5) == 5
    assert d.count(3, None) == 3  # the published edition
    assert d.count(3, 0) == 3  # threshold 0: control off
    assert d.small_marker(10) == "<10"


def test_a_count_whose_rest_is_small_is_withheld():
    # 47 of 50 shown would tell that 3 answered no
    assert d.count(47, 5, total=50) == d.WITHHELD
    assert d.count(40, 5, total=50) == 40
    assert d.count(50, 5, total=50) == 50  # the rest is 0: nobody is revealed


def test_derived_values_follow_their_counts():
    assert d.derived(66.7, [2, 1], 5) == d.WITHHELD
    assert d.derived(30.0, [6, 14], 5) == 30.0
    assert d.derived(float("nan"), [0], 5) == d.NOT_ENOUGH_DATA
    assert math.isnan(d.derived(float("nan"), [0], None))


def test_primary_and_complementary_suppression_in_a_group():
    # housing: 3 + 10 + 20 = 33 valid answers; hiding only the 3 lets 33 - 10 - 20 give it back,
    # so the next smallest cell (10) goes too; the yes/no item has 47 of 50: the 3 "no" are implied
    frame = pd.DataFrame(
        {
            "item": ["housing", "housing", "housing", "born"],
            "n": [3, 10, 20, 47],
            "n_valid": [33, 33, 33, 50],
            "percent": [9.1, 30.3, 60.6, 94.0],
        }
    )
    mask = d.suppression_mask(frame, "n", 5, groups="item", total="n_valid")
    assert mask.tolist() == [True, True, False, True]
    shown = d.protect(frame, {"n": ["percent"]}, 5, groups="item", total="n_valid")
    assert shown["n"].tolist() == ["<5", d.WITHHELD, 20, d.WITHHELD]
    assert shown["percent"].tolist() == [d.WITHHELD, d.WITHHELD, 60.6, d.WITHHELD]
    assert d.protect(frame, {"n": ["percent"]}, None, groups="item", total="n_valid") is frame


def test_two_small_cells_need_no_third():
    frame = pd.DataFrame({"n": [2, 3, 20, 0]})
    assert d.suppression_mask(frame, "n", 5, groups=[]).tolist() == [True, True, False, False]
    # without a group every cell is judged alone
    assert d.suppression_mask(pd.DataFrame({"n": [2, 30, 20]}), "n", 5).tolist() == [True, False, False]


def test_zero_cells_are_never_chosen_for_complementary_suppression():
    frame = pd.DataFrame({"n": [0, 4, 0, 12]})
    assert d.suppression_mask(frame, "n", 5, groups=[]).tolist() == [False, True, False, True]


def test_protect_across_columns_of_a_row():
    frame = pd.DataFrame(
        {"discharges": [30, 12], "planned": [10, 2], "unplanned": [20, 10], "pp": [33.3, 16.7], "up": [66.7, 83.3]}
    )
    shown = d.protect_across(frame, {"planned": ["pp"], "unplanned": ["up"]}, 5, total="discharges")
    assert shown["planned"].tolist() == [10, "<5"]
    assert shown["unplanned"].tolist() == [20, d.WITHHELD]
    assert shown["up"].tolist() == [66.7, d.WITHHELD]


def test_mask_for_charts_turns_withheld_values_into_gaps():
    frame = pd.DataFrame({"n": [1, 6, 9], "percent": [6.25, 37.5, 56.25]})
    masked = d.mask(frame, {"n": ["percent"]}, 5, groups=[])
    assert masked["n"].isna().tolist() == [True, True, False]
    assert masked["percent"].isna().tolist() == [True, True, False]


def test_two_way_tables_hide_across_clinics():
    # Bergen has 2 self-referrals; all = Bergen + Oslo, so Oslo's and all's cells must go as well, and
    # within each clinic a second cell so that the clinic's total does not give the first back
    table = pd.DataFrame(
        {
            "clinic": ["all", "all", "all", "Bergen", "Bergen", "Bergen", "Oslo", "Oslo", "Oslo"],
            "referrer": ["nav", "self", "total", "nav", "self", "total", "nav", "self", "total"],
            "category": ["referrer", "referrer", "total"] * 3,
            "n": [30, 12, 42, 10, 2, 12, 20, 10, 30],
        }
    )
    from analysis.sections import referrals

    hidden = referrals._two_way_mask(table, "referrer", "n", 5)
    assert hidden.tolist() == [True, True, False, True, True, False, True, True, False]


def test_card_withholds_in_a_rerun_only(monkeypatch):
    from analysis.presentation.scorecard import Card

    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda key, value, display=False: glued.__setitem__(key, value))
    rerun = Card(compare=False)
    rerun.glue("s6_1_patients_participated_bergen", 3)
    rerun.glue("s6_1_patients_participated_oslo", 40, total=43)
    rerun.glue("s6_1_patients_consented_bergen_percent", 7.0, of=[3, 40])
    rerun.glue("s6_1_mean_months_in_treatment", float("nan"))
    assert glued == {
        "s6_1_patients_participated_bergen": "<5",
        "s6_1_patients_participated_oslo": d.WITHHELD,
        "s6_1_patients_consented_bergen_percent": d.WITHHELD,
        "s6_1_mean_months_in_treatment": d.NOT_ENOUGH_DATA,
    }
    assert rerun.show().data["computed"].tolist() == ["<5", d.WITHHELD, d.WITHHELD, d.NOT_ENOUGH_DATA]
    published = Card()
    published.glue("s6_1_patients_participated_bergen", 3, of=[3])
    assert glued["s6_1_patients_participated_bergen"] == 3
    assert Card(compare=False, min_cell=0).disclose(3, frequency=True) == 3
