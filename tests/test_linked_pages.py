"""The joint protection as pages 6.1, 6.2 and 6.5 use it: tables with margins (two tables sharing totals),
the views built on protected tables, and the real 2022 editions of the discharges."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.presentation import linked_suppression as ls
from analysis.presentation.edition import open_page
from analysis.sections import adverse_events, patients, retention


def editions(oslo: list[int], bergen: list[int]) -> dict[str, pd.DataFrame]:
    return {
        "all": pd.DataFrame({"n": [o + b for o, b in zip(oslo, bergen)]}),
        "Oslo": pd.DataFrame({"n": oslo}),
        "Bergen": pd.DataFrame({"n": bergen}),
    }


def markers(pattern: ls.SumsPattern, tables, threshold=5):
    shown = {
        e: ls.shown_table(t, pattern.cells[e], pd.Series(ls.SHOWN, index=t.index), threshold, count="n")
        for e, t in tables.items()
    }
    word = {ls.SHOWN: ls.SHOWN, ls.SMALL: "<5", ls.WITHHELD: "–"}
    return shown, {e: {k: word[v] for k, v in m.items()} for e, m in pattern.margins.items()}


def test_a_margin_shared_by_two_tables_gives_nothing_back():
    # rows 0-1: reasons A, B (type P) and C (type U); rows 3-6: two bands x (P, U)
    tables = editions([20, 6, 10, 14, 5, 12, 5], [6, 1, 4, 4, 2, 3, 2])
    sums = {"D": [[0, 1, 2], [3, 4, 5, 6]], "P": [[0, 1], [3, 5]], "U": [[2], [4, 6]], "B1": [[3, 4]], "B2": [[5, 6]]}
    pattern = ls.joint_pattern_sums(tables, "n", 5, sums=sums, known=["D"])
    shown, margins = markers(pattern, tables)
    assert ls.recoverable_sums(shown, margins, tables, "n", 5, sums=sums, known=["D"]) == []
    # Bergen's B = 1 is hidden, and U = 4 (one reason, shown as a margin too) must not be shown either
    assert shown["Bergen"]["n"][1] in ("<5", "–")
    assert margins["Bergen"]["U"] != ls.SHOWN
    # the check finds the leak when the same tables are protected each on its own (each table alone)
    alone = {
        e: ls.protect_tables({e: pd.DataFrame({"n": t["n"][:3]})}, "n", 5, groups=[])[e] for e, t in tables.items()
    }
    bands = {e: pd.DataFrame({"n": t["n"][3:]}) for e, t in tables.items()}
    bands = {e: ls.protect_tables({e: b}, "n", 5, groups=[])[e] for e, b in bands.items()}
    naive = {e: pd.concat([alone[e], bands[e]], ignore_index=True) for e in tables}
    known = {e: {"P": "–", "U": "–", "B1": "–", "B2": "–"} for e in tables}
    assert ls.recoverable_sums(naive, known, tables, "n", 5, sums=sums, known=["D"]) != []


def test_a_margin_pinned_through_a_chain_of_relations_is_freed():
    # D = B1 + B2 + B3 with D known: hiding B3 alone leaves it to subtraction
    tables = editions([8, 9, 7, 5, 8, 4], [2, 3, 3, 2, 2, 1])
    sums = {"D": [range(6)], "B1": [[0, 1]], "B2": [[2, 3]], "B3": [[4, 5]]}
    pattern = ls.joint_pattern_sums(tables, "n", 5, sums=sums, known=["D"])
    shown, margins = markers(pattern, tables)
    assert pattern.exposed == []
    assert ls.recoverable_sums(shown, margins, tables, "n", 5, sums=sums, known=["D"]) == []


def test_no_threshold_shows_everything():
    tables = editions([1, 2], [3, 4])
    pattern = ls.joint_pattern_sums(tables, "n", None, sums={"D": [[0, 1]]})
    assert all((c == ls.SHOWN).all() for c in pattern.cells.values())
    assert pattern.margins["Bergen"] == {"D": ls.SHOWN}


@pytest.mark.parametrize("clinic", ["all", "Oslo", "Bergen"])
def test_discharges_2022_nothing_recovered(clinic):
    page = open_page(clinic, 2022, None, 5, glue_words=False)
    tables, published = ls.sibling_tables(page, retention.discharges_of)
    for table in tables.values():  # the reasons and the bands add up to the same totals
        for rowsets in retention.DISCHARGE_SUMS.values():
            assert len({ls.margin_value(table, "n", rows) for rows in rowsets}) == 1
    pattern = ls.joint_pattern_sums(tables, "n", 5, sums=retention.DISCHARGE_SUMS, known=["discharges"])
    shown, margins = markers(pattern, tables)
    found = ls.recoverable_sums(shown, margins, tables, "n", 5, sums=retention.DISCHARGE_SUMS, known=["discharges"])
    # only zeros of an edition without discharges are pinned (its known total of 0 says so): no count is given back
    assert all(value == 0 and ls.margin_value(tables[e], "n", range(5)) == 0 for e, _, _, value in found)
    own, own_margins = ls.protect_linked_sums(
        page, retention.discharges_of, sums=retention.DISCHARGE_SUMS, known=["discharges"]
    )
    assert list(own["n"]) == list(shown[clinic]["n"])


def test_timing_and_reasons_views_withhold_what_rests_on_hidden_counts():
    shown = pd.DataFrame(
        {
            "table": ["reasons"] * 5 + ["timing"] * 6,
            "discharge_type": ["planned", "planned", "unplanned", "unplanned", "unplanned"]
            + ["planned", "unplanned"] * 3,
            "key": [
                "transition_to_oat",
                "agreed_other_follow_up",
                "non_attendance",
                "behaviour_or_violence",
                "other_unplanned",
                "within_6_months",
                "within_6_months",
                "6_to_12_months",
                "6_to_12_months",
                "after_12_months",
                "after_12_months",
            ],
            "n": [10, "<5", 6, "–", 5, 8, 6, "<5", "–", 5, 5],
        }
    )
    margins = {
        "discharges": 40,
        "planned": "–",
        "unplanned": "–",
        "within_6_months": 14,
        "6_to_12_months": "–",
        "after_12_months": 10,
    }
    reasons = retention.reasons_view(shown, 40)
    assert list(reasons["Share of discharges (%)"]) == [25.0, "–", 15.0, "–", 12.5]
    assert list(reasons["Reason"])[0] == "Transition to OAT"
    timing = retention.timing_view(
        shown, margins, {"within_6_months": "a", "6_to_12_months": "b", "after_12_months": "c"}
    )
    assert list(timing["Share of discharges (%)"]) == [35.0, "–", 25.0]
    assert list(timing["Planned in band (%)"]) == [57.1, "–", 50.0]


def test_trend_sentence_does_not_rank_hidden_counts():
    enrolled = pd.DataFrame(
        {"year": [2022, 2022, 2023, 2023], "clinic": ["Oslo", "Bergen"] * 2, "admissions": [30, "–", 20, 12]}
    )
    stock = pd.DataFrame(
        {"year": [2022, 2022, 2023, 2023], "clinic": ["Oslo", "Bergen"] * 2, "patients": [25, 9, 30, "<5"]}
    )
    text = retention.trend_sentence(enrolled, stock, ("Oslo", "Bergen"), 5)
    assert "Oslo clinic admitted the most patients in 2022 and fewer in each year after it" in text
    assert "Bergen clinic are too small to rank" in text and "grew" not in text and "grow" not in text


def test_own_choice_counts_only_when_every_reason_is_shown():
    frame = pd.DataFrame(
        {
            "reason": ["own_choice_side_effects", "involuntary_discharge", "still_on_medication"],
            "own_choice": [True, False, False],
            "responses": [12, 7, "<5"],
        }
    )
    assert patients.own_choice_counts(frame) == (12, 7)
    assert patients.own_choice_counts(frame.assign(responses=[12, "–", 3])) is None


def test_table_6a_display_shows_markers_as_they_are():
    table = pd.DataFrame(
        {
            "item": ["x", "y", "y"],
            "item_label": ["X", "Y", "Y"],
            "category": ["yes", "a", "b"],
            "category_label": ["yes", "A", "B"],
            "n_valid": [20, "–", "–"],
            "n": [17, "<5", "–"],
            "percent": [85, "–", "–"],
        }
    )
    shown = patients.table_6a_display(table, 30)
    assert list(shown.iloc[:, 1]) == ["17 (85%)", "", "<5 (–)", "– (–)"]
    assert shown.iloc[1, 0] == "Y (n=–)"


def test_category_table_withholds_the_rate_of_a_hidden_category():
    shown = pd.DataFrame(
        {
            "category": ["nonfatal_overdose", "seizure"],
            "label": ["Non-fatal overdose", "Seizure"],
            "n": [20, "<5"],
            "percent": [80.0, "–"],
        }
    )
    rates = pd.DataFrame({"category": ["all", "nonfatal_overdose", "seizure"], "rate_per_100_py": [50.0, 40.0, 10.0]})
    table = adverse_events.category_table(shown, rates, 25, 50.0)
    assert list(table["Events per 100 person-years (new)"]) == [40.0, "–", 50.0]
    assert list(table["Share of all events (%)"]) == [80.0, "–", 100.0]
    assert list(adverse_events.chart_data(shown, ["n"])["n"].isna()) == [False, True]
