"""Group sizes of Tables 6.D-6.G protected across the editions of one year (cost_utility.linked_group_marks)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import cost_utility as cu
from analysis.edition import open_page


def _sample_of(cohort):
    accounts = cu.edition_accounts(getattr(cohort, "accounts", None))[0]
    return cu.patient_table(cohort.episodes, cohort.patients, cohort.questionnaires, cohort.data_end, accounts=accounts)


def test_group_counts_have_fixed_rows_and_the_discontinued_are_planned_and_unplanned():
    sample = pd.DataFrame({"group": ["continued"] * 7 + ["planned"] * 3 + ["unplanned"] * 2})
    counts = cu.group_counts(sample)
    assert counts["key"].tolist() == ["continued", "planned", "unplanned", "continued", "discontinued"]
    assert counts["n"].tolist() == [7, 3, 2, 7, 5] and set(counts["of"]) == {12}
    empty = cu.group_counts(pd.DataFrame({"group": pd.Series([], dtype=object)}))
    assert empty["n"].tolist() == [0, 0, 0, 0, 0]


def test_mark_groups_withholds_what_a_marked_group_gives():
    shown = pd.DataFrame({"group": ["continued", "planned"], "n": [20, 4], "qaly_mean": [1.2, 0.4]})
    out = cu.mark_groups(shown, {"continued": None, "planned": "<5"}, ["qaly_mean"])
    assert out["n"].tolist() == [20, "<5"] and out["qaly_mean"].tolist() == [1.2, "–"]


@pytest.fixture(scope="module")
def marks_2023():
    return {c: cu.linked_group_marks(open_page(c, 2023, None, 5), _sample_of) for c in ("all", "Oslo", "Bergen")}


def test_both_clinics_less_oslo_does_not_give_bergens_small_groups_back(marks_2023):
    # 2023: Bergen's planned (4) and unplanned (1) groups are small; both clinics show 12 and 7, Oslo 8 and 6
    assert marks_2023["Bergen"]["planned"] == "<5" and marks_2023["Bergen"]["unplanned"] == "<5"
    for group in ("planned", "unplanned"):
        assert marks_2023["all"][group] is not None or marks_2023["Oslo"][group] is not None


def test_the_sample_less_the_other_groups_does_not_give_a_small_group_back():
    # both clinics 2022: 40 patients, 34 continued, 5 planned, 1 unplanned: the planned must go with it
    marks = cu.linked_group_marks(open_page("all", 2022, None, 5), _sample_of)
    assert marks["unplanned"] == "<5" and marks["planned"] is not None


def test_nothing_is_marked_in_the_published_edition():
    assert set(cu.linked_group_marks(open_page("all", 2025, None, 5), _sample_of).values()) == {None}
