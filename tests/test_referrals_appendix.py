"""Appendix 5's tables as a rerun shows them: the marks the protection chose go into the laid-out tables."""

import pandas as pd

from analysis.presentation import disclosure
from analysis.sections import referrals as ref


def headings(**referrals):
    """Heading counts as :func:`analysis.sections.referrals.shown_counts` gives them."""
    return {
        "referrals": {"all": 30, "Bergen": "<5", "Oslo": "–", **referrals},
        "denials": {"all": 12, "Bergen": "<5", "Oslo": 9},
        "inclusion": {"included": 18, "not_included": 12},
    }


def test_counts_in_headings_follow_the_protected_counts():
    frame = pd.DataFrame([[1, 2, 3]])
    frame.columns = pd.MultiIndex.from_tuples(
        [("HAT total denials: 12/30", "n"), ("HABiB (Bergen) (n=3)", "n"), ("Not included (n=12)", "n")]
    )
    shown = ref.counts_in_headings(frame, headings())
    assert [c[0] for c in shown.columns] == ["HAT total denials: 12/30", "HABiB (Bergen) (n=<5)", "Not included (n=12)"]
    assert shown.iloc[0].tolist() == [1, 2, 3]


def test_protected_f_withholds_a_rate_with_either_count_and_a_share_with_its_total():
    table = ref.table_f(
        pd.DataFrame(
            {
                "referral_date": pd.to_datetime(["2022-03-01"] * 8 + ["2023-03-01"] * 3),
                "decision": ["denied"] * 4 + ["accepted"] * 4 + ["denied", "accepted", "accepted"],
                "clinic": "Oslo",
                "person_id": range(11),
            }
        )
    )
    # 2022: 8 referrals, 4 denials; 2023: 3 referrals (small), 1 denial (small); total 11 and 5
    view = {
        "f_referrals": pd.Series([None, "<5", None], dtype=object),
        "f_denials": pd.Series(["–", "<5", None], dtype=object),
    }
    shown = ref.protected_f(table, view)
    assert shown.iloc[1, 1] == "<5" and shown.iloc[1, 3] == "<5"
    assert shown.iloc[0, 3] == "–"  # the complementary cell
    assert shown.iloc[0, 1] == "8"  # a count left as it is
    assert shown.iloc[0, 4] == disclosure.WITHHELD  # the rate of a year whose denials are withheld
    assert shown.iloc[1, 2] == disclosure.WITHHELD  # the share of a withheld count
    assert shown.iloc[0, 2] == "72.7"  # 8 of 11: both counts shown


def test_a_chart_has_no_bar_for_a_withheld_cell_nor_for_a_clinic_whose_total_is_withheld():
    table = pd.DataFrame(
        {
            "clinic": ["Bergen", "Bergen", "Oslo", "Oslo", "Oslo"],
            "referrer": ["gp", "total", "gp", "self", "total"],
            "n_referrals": [2, 2, 6, 3, 9],
            "percent": [100.0, 100.0, 66.7, 33.3, 100.0],
        }
    )
    marks = pd.Series([None, "<5", None, "<5", None], dtype=object)
    bars = ref.without_hidden_bars(table, marks, "referrer", "n_referrals", "percent")
    assert bars["n_referrals"].isna().tolist() == [True, True, False, True, False]
    assert bars.loc[2, "percent"] == 66.7
