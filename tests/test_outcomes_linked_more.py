"""Tables of 6.4 and Appendix 3 protected across the editions of one year, second part: the fixed-row tables of the
hunger, mental-health and somatic figures, the stricter line of exercise 6.4.3, the substitutions and the ties of
bonus doses and co-medication (hand-built fixtures, answers known by hand)."""

import math

import numpy as np
import pandas as pd
from test_outcomes import episodes, q, questionnaires

from analysis.presentation import linked_suppression as ls
from analysis.sections import medication as med
from analysis.sections import mental_health as mh
from analysis.sections import outcomes as oc
from analysis.sections import somatic


def test_burden_counts_is_long_with_fixed_rows_and_back():
    scores = pd.DataFrame(
        {"patient_id": ["a", "b", "c", "d"], "wave": [0, 0, 0, 12], "severe": [True, False, False, True]}
    )
    long = somatic.burden_counts(scores)
    assert list(zip(long["wave"], long["burden"])) == [
        (0, "severe"),
        (0, "low"),
        (12, "severe"),
        (12, "low"),
        (24, "severe"),
        (24, "low"),
    ]
    assert long["n"].tolist() == [1, 2, 1, 0, 0, 0] and long["questionnaires"].tolist() == [3, 3, 1, 1, 0, 0]
    assert math.isnan(long["percent"].iloc[-1])
    shown = long.astype(object)
    shown.loc[0, "n"], shown.loc[0, "percent"] = "<5", "–"
    wide = somatic.burden_wide(shown).set_index("wave")
    assert wide.loc[0, "severe"] == "<5" and wide.loc[0, "severe_pct"] == "–" and wide.loc[0, "low"] == 2
    assert wide.loc[12, "questionnaires"] == 1 and wide.loc[12, "severe_pct"] == 100.0


def test_top_items_words():
    top = ["sleep_problems", "dental_gum"]
    assert (
        somatic.top_items_words(top, ["dental_gum", "sleep_problems"])
        == "the same six complaints lead the list in the data"
    )
    assert somatic.top_items_words(top, ["memory", "sleep_problems"]).endswith("which is not the report's six")
    withheld = somatic.top_items_words(top, top, some_withheld=True)
    assert withheld.startswith("some complaints' shares are withheld") and "same" not in withheld
    assert somatic.top_items_words([], top, some_withheld=True) == "no complaint's share is shown in this edition"


def test_drawable_shares_drops_a_time_point_with_a_withheld_category():
    shown = pd.DataFrame(
        {
            "wave": [0, 0, 0, 3, 3, 3],
            "category": ["bad", "fair", "good"] * 2,
            "answers": [6, 7, 8, "<5", 9, "–"],
            "total": [21, 21, 21, 15, 15, 15],
            "percent": [6 / 21 * 100, 7 / 21 * 100, 8 / 21 * 100, "–", 60.0, "–"],
        }
    )
    out = mh.drawable_shares(shown)
    assert out.loc[out["wave"] == 3, "percent"].isna().all()  # no bar of a partial stack
    assert out.loc[out["wave"] == 3, "answers"].tolist()[1] == 9 and np.isnan(out["answers"].iloc[3])
    assert out.loc[out["wave"] == 0, "percent"].round(1).tolist() == [28.6, 33.3, 38.1]
    plain = shown.iloc[:3].copy()
    assert mh.drawable_shares(plain) is plain  # nothing withheld (the published edition): unchanged


def test_threshold_line_cells_by_hand():
    dates = {0: "2023-01-01", 12: "2024-01-01"}
    rows = []
    for pid, (first, last) in enumerate([(25, 5), (25, 22), (15, 25), (15, 0), (0, 0)], 1):
        rows += [q(pid, w, dates[w], heroin_days_30d=d) for w, d in ((0, first), (12, last))]
    rows.append(q(6, 0, dates[0], heroin_days_30d=30))  # one answer: not counted
    data = questionnaires(rows)
    eps = episodes([(f"P{i:03d}", "2023-01-01") for i in range(1, 7)])
    at20 = oc.threshold_line_cells(data, eps, 20).set_index("cell")
    # first answers above 20: P1, P2; improved P1 (25 -> 5); worsened P3 (15 -> 25); unchanged P2, P4, P5
    assert at20["n"].to_dict() == {"frequent": 2, "other": 3, "improved": 1, "worsened": 1, "unchanged": 3}
    assert (at20["n_patients"] == 5).all() and at20.loc["frequent", "percent"] == 40.0
    at12 = oc.threshold_line_cells(data, eps, 12).set_index("cell")
    assert at12["n"].to_dict() == {"frequent": 4, "other": 1, "improved": 2, "worsened": 0, "unchanged": 3}
    days = oc.days_of_use(data, eps).set_index("variable")
    assert days.loc["days_heroin", "n_patients"] == 5  # the same patients as the days of heroin use


def test_substitution_counts_fill_every_month():
    registrations = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "a"],
            "registration_month": [1, 1, 3, 3],
            "other_opioid_in_place_of_dam": [True, False, True, True],
        }
    )
    out = med.substitution_counts(registrations, [6, 1, 3])
    assert out["registration_month"].tolist() == [1, 3, 6] and out["n"].tolist() == [1, 2, 0]


def test_comedication_ties_name_each_class_base():
    table = pd.DataFrame(
        {"registration_month": [1, 1, 1, 12, 12, 12], "medication_class": ["any", "benzodiazepine", "somatic"] * 2}
    )
    assert med.comedication_ties(table) == [
        (("comed", "cell", 0), ("comed", "total", (1, "benzodiazepine"))),
        (("comed", "cell", 0), ("comed", "total", (1, "somatic"))),
        (("comed", "cell", 3), ("comed", "total", (12, "benzodiazepine"))),
        (("comed", "cell", 3), ("comed", "total", (12, "somatic"))),
    ]


def bonus_table(with_bonus, everyone, weekly):
    rows = [
        {"part": "clinic", "cell": "with", "n": with_bonus, "total": everyone},
        {"part": "clinic", "cell": "without", "n": everyone - with_bonus, "total": everyone},
    ]
    rows += [{"part": "weekly", "cell": str(k), "n": n, "total": with_bonus} for k, n in enumerate(weekly, 1)]
    return pd.DataFrame(rows)


def test_bonus_ties_show_the_patients_with_bonus_doses_alike():
    """Bergen's 3 patients with bonus doses are one count in both parts: hidden in one, hidden in the other."""
    tables = {
        "all": bonus_table(3, 20, [1, 2, 0]),
        "Oslo": bonus_table(0, 0, [0, 0, 0]),
        "Bergen": bonus_table(3, 20, [1, 2, 0]),
    }
    specs = {"bonus": {"count": "n", "groups": "part", "total": "total"}}
    pattern = ls.joint_patterns({"bonus": tables}, specs, 5, same=med.BONUS_TIES)["bonus"]
    for edition in ("all", "Bergen"):
        assert pattern.cells[edition].iloc[0] != ls.SHOWN
        assert pattern.totals[edition].iloc[2] == pattern.cells[edition].iloc[0]  # the weekly total goes with it
        assert pattern.cells[edition].iloc[1] != ls.SHOWN  # else 20 less the patients without gives it back
