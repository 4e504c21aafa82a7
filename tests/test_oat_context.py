"""HAT against the whole OAT population (Table 3.A), on a hand-built table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import oat_context
from analysis.data import published_table


def toy_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["overdose", "overdose", "housing", "housing", "housing"],
            "item_label": ["Overdose", "Overdose", "Housing", "Housing", "Housing"],
            "category": ["overdose", "overdose", "own home", "own home", "with parents"],
            "group": ["HAT", "OAT", "HAT", "OAT", "OAT"],
            "group_n": [10, 100, 10, 100, 100],
            "percent": [20.0, 5.0, 60.0, 80.0, 3.0],
        }
    )


def test_side_by_side_and_difference_in_points():
    wide = oat_context.hat_vs_oat(toy_table()).set_index("category")
    assert wide.loc["overdose", "difference_pp"] == 15.0
    assert wide.loc["own home", "difference_pp"] == -20.0
    # reported for OAT only: no HAT value, so no difference (not a zero)
    assert math.isnan(wide.loc["with parents", "HAT"])
    assert math.isnan(wide.loc["with parents", "difference_pp"])


def test_percent_of_finds_one_cell_or_says_what_is_missing():
    assert oat_context.percent_of(toy_table(), "overdose", "overdose", "OAT") == 5.0
    with pytest.raises(KeyError, match="item='overdose', category='none'"):
        oat_context.percent_of(toy_table(), "overdose", "none", "HAT")


def test_published_table_3a_matches_the_report():
    table = published_table("table_3a_hat_vs_oat")
    # side effects of OAT medication were recorded only by units using two record systems (footnote: n=4031)
    assert set(table["group_n"]) == {71, 4031, 5551}
    assert set(table.loc[table["item"] == "side_effects", "group_n"]) == {71, 4031}
    assert oat_context.percent_of(table, "overdose", "overdose", "HAT") == 12.9
    assert oat_context.percent_of(table, "treatment_goal", "rehabilitation with abstinence", "OAT") == 68.1
