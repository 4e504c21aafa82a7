"""Group sizes of Tables 6.D-6.G protected across the editions of one year (cost_utility.linked_group_marks)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.presentation.edition import open_page
from analysis.sections import cost_utility as cu


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


# --- Table 6.C, the cohort's trajectory groups and single counts (joint protection) -------------------

import itertools  # noqa: E402

from analysis.presentation import linked_suppression as ls


def _t6c(rows):
    return pd.DataFrame(rows, columns=["clinic", "year", "n_patients", "patient_days"])


def _one_year(oslo, bergen, oslo_days=700.0, bergen_days=300.0):
    total, days = oslo + bergen, oslo_days + bergen_days
    return {
        "all": _t6c(
            [("Oslo", 2022, oslo, oslo_days), ("Bergen", 2022, bergen, bergen_days), ("Total", None, total, days)]
        ),
        "Oslo": _t6c([("Oslo", 2022, oslo, oslo_days), ("Bergen", 2022, 0, 0.0), ("Total", None, oslo, oslo_days)]),
        "Bergen": _t6c(
            [("Oslo", 2022, 0, 0.0), ("Bergen", 2022, bergen, bergen_days), ("Total", None, bergen, bergen_days)]
        ),
    }


def _solutions(tables, pattern, column, threshold=5, cap=40):
    """Every assignment of the hidden counts (printed rows only) that fits what the editions show: both clinics =
    Oslo + Bergen row by row, a one-year edition's rows add up to its total; "<5" is 1..4, "–" 0..cap."""
    hidden = [
        (e, p) for e, f in pattern.items() for p in range(len(f)) if f.iat[p, f.columns.get_loc(column)] != ls.SHOWN
    ]
    ranges = [
        range(1, threshold) if pattern[e].iat[p, pattern[e].columns.get_loc(column)] == ls.SMALL else range(cap + 1)
        for e, p in hidden
    ]
    found = []
    for values in itertools.product(*ranges):
        table = {e: [int(v) for v in tables[e][column]] for e in tables}
        for (e, p), v in zip(hidden, values):
            table[e][p] = v
        if any(table["all"][p] != table["Oslo"][p] + table["Bergen"][p] for p in range(3)):
            continue
        if any(t[0] + t[1] != t[2] for t in table.values()):
            continue
        found.append(dict(zip(hidden, values)))
    return hidden, found


def test_program_count_table_has_fixed_rows_with_zeros_for_the_other_clinic():
    days = pd.DataFrame(
        {
            "patient_id": [1, 1, 2, 3],
            "clinic": ["Oslo", "Oslo", "Oslo", "Oslo"],
            "year": [2022, 2023, 2023, 2023],
            "days": [10, 20, 5, 0],
        }
    )
    table = cu.program_count_table(days, [2022, 2023])
    assert table["clinic"].tolist() == ["Oslo", "Oslo", "Bergen", "Bergen", cu.TOTAL_ROW]
    assert table["n_patients"].tolist() == [1, 2, 0, 0, 2]  # patient 3 has no days; the total counts each patient once
    assert table["patient_days"].tolist() == [10.0, 25.0, 0.0, 0.0, 35.0]


def test_both_clinics_less_oslo_does_not_give_bergens_small_clinic_year_back():
    tables = _one_year(7, 3, 14.0, 6.0)  # few days, so that every solution can be listed
    pattern = cu.program_count_pattern(tables, 5)
    assert pattern["Bergen"]["n_patients"].tolist()[1:] == [ls.SMALL, ls.SMALL]
    for column in ("n_patients", "patient_days"):
        hidden, found = _solutions(tables, pattern, column, cap=21)
        assert found, "the true tables must fit what is shown"
        for cell in hidden:  # no hidden count or days is pinned to one value
            assert len({f[cell] for f in found}) >= 2, (column, cell)
    # the cheap pattern: the both-clinics total goes, Oslo's edition keeps every number
    assert pattern["all"]["n_patients"].tolist() == [ls.SHOWN, ls.SMALL, ls.WITHHELD]
    assert set(pattern["Oslo"]["n_patients"]) == {ls.SHOWN}


def test_single_edition_suppression_alone_would_leak_the_bergen_count():
    # the check above can fail: with only Bergen's own cells marked, both clinics less Oslo pins them
    tables = _one_year(7, 3)
    naive = {e: t[["clinic", "year"]].assign(n_patients=ls.SHOWN) for e, t in tables.items()}
    naive["Bergen"].loc[[1, 2], "n_patients"] = ls.SMALL
    naive["all"].loc[1, "n_patients"] = ls.SMALL
    hidden, found = _solutions(tables, naive, "n_patients")
    assert {f[("Bergen", 1)] for f in found} == {3}


def test_nothing_is_hidden_without_a_threshold():
    pattern = cu.program_count_pattern(_one_year(7, 3), None)
    assert all(set(f["n_patients"]) == {ls.SHOWN} for f in pattern.values())


def test_repeats_of_a_multi_year_total_are_protected_when_few():
    # Bergen: 9 patients in 2022, 9 in 2023, 10 in all: a single patient treated in both years, a small rest
    tables = {
        "all": _t6c(
            [
                ("Oslo", 2022, 30, 1.0e4),
                ("Oslo", 2023, 35, 1.2e4),
                ("Bergen", 2022, 9, 2.0e3),
                ("Bergen", 2023, 9, 3.0e3),
                ("Total", None, 50, 2.7e4),
            ]
        ),
        "Oslo": _t6c(
            [
                ("Oslo", 2022, 30, 1.0e4),
                ("Oslo", 2023, 35, 1.2e4),
                ("Bergen", 2022, 0, 0.0),
                ("Bergen", 2023, 0, 0.0),
                ("Total", None, 40, 2.2e4),
            ]
        ),
        "Bergen": _t6c(
            [
                ("Oslo", 2022, 0, 0.0),
                ("Oslo", 2023, 0, 0.0),
                ("Bergen", 2022, 9, 2.0e3),
                ("Bergen", 2023, 9, 3.0e3),
                ("Total", None, 17, 5.0e3),
            ]
        ),
    }
    tables["all"].loc[4, "n_patients"] = 57
    pattern = cu.program_count_pattern(tables, 5)
    # 9 + 9 - 17 = 1 repeat: some Bergen number must go, in Bergen's edition and in both clinics'
    assert (pattern["Bergen"]["n_patients"].iloc[2:] != ls.SHOWN).any()
    assert (pattern["all"]["n_patients"] != ls.SHOWN).any()


def test_linked_program_marks_on_a_tiny_data_set_and_the_published_edition():
    marks = (
        cu.linked_program_marks(open_page("all", 2022, "/tmp/d6", 5))
        if __import__("os").path.isdir("/tmp/d6")
        else None
    )
    if marks is not None:
        assert set(marks["n_patients"]) <= {"<5", "–"}
    published = cu.linked_program_marks(open_page("all", 2025, None, 5))
    assert published["n_patients"].isna().all() and published["patient_days"].isna().all()


def test_trajectory_counts_have_fixed_rows():
    counts = cu.trajectory_counts(
        pd.DataFrame({"patient_id": [1, 2, 3], "group": ["unplanned", "continued", "unplanned"]})
    )
    assert counts["group"].tolist() == ["continued", "planned", "unplanned"] and counts["n"].tolist() == [1, 0, 2]


def test_the_cohorts_small_unplanned_group_is_not_given_back_by_the_other_editions():
    # 2023: unplanned terminations of the whole cohort: both clinics 10, Oslo 8, Bergen 2
    hidden = {c: cu.linked_trajectory_hidden(open_page(c, 2023, None, 5)) for c in ("all", "Oslo", "Bergen")}
    assert hidden["Bergen"]["unplanned"]
    assert hidden["all"]["unplanned"] or hidden["Oslo"]["unplanned"]
    assert not any(cu.linked_trajectory_hidden(open_page("all", 2025, None, 5)).values())


def test_single_count_is_marked_when_small_or_when_it_would_give_a_small_one_back(monkeypatch):
    counts = {"all": 12, "Oslo": 9, "Bergen": 3}
    monkeypatch.setattr(ls, "sibling_tables", lambda page, compute: ({e: compute(n) for e, n in counts.items()}, set()))

    class Page:
        sdc = 5

        def __init__(self, clinic):
            self.edition = type("E", (), {"clinic": clinic})()
            self.cohort = counts[clinic]

    shown = {c: cu.linked_count(Page(c), lambda n: n) for c in counts}
    assert shown["Bergen"] == "<5"
    assert isinstance(shown["all"], str) or isinstance(shown["Oslo"], str)
    assert cu.single_count(7)["n"].tolist() == [7]
