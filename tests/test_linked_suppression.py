"""Suppression across editions (analysis/presentation/linked_suppression.py): hand-built tables whose leaks and
protection are worked out by hand, and the real 2022 tables of sections 6.5 and 6.2."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from analysis.presentation import disclosure
from analysis.presentation import linked_suppression as ls
from analysis.presentation.edition import open_page
from analysis.sections import adverse_events, patients


def editions(oslo: list[int], bergen: list[int]) -> dict[str, pd.DataFrame]:
    """Both clinics, Oslo and Bergen: one table of categories A, B, ... with both = Oslo + Bergen."""
    labels = list("ABCDEFGH")[: len(oslo)]
    return {
        "all": pd.DataFrame({"category": labels, "n": [o + b for o, b in zip(oslo, bergen)]}),
        "Oslo": pd.DataFrame({"category": labels, "n": oslo}),
        "Bergen": pd.DataFrame({"category": labels, "n": bergen}),
    }


def test_today_both_clinics_minus_oslo_gives_the_hidden_bergen_cell_and_not_after():
    tables = editions([20, 10, 15, 12], [8, 3, 6, 9])
    today = {e: disclosure.protect(t, ["n"], 5) for e, t in tables.items()}
    assert list(today["Bergen"]["n"]) == [8, "<5", 6, 9]
    assert list(today["Oslo"]["n"]) == [20, 10, 15, 12] and list(today["all"]["n"]) == [28, 13, 21, 21]
    # 13 - 10 = 3: the reader has the hidden Bergen cell
    assert ls.recoverable(today, tables, "n", 5) == [("Bergen", "cell", 1, 3)]

    after = ls.protect_tables(tables, "n", 5)
    assert ls.recoverable(after, tables, "n", 5) == []
    # one more cell hides, the smaller of the two that give it away (Oslo's 10, not both clinics' 13)
    assert list(after["Bergen"]["n"]) == [8, "<5", 6, 9]
    assert list(after["Oslo"]["n"]) == [20, "–", 15, 12]
    assert list(after["all"]["n"]) == [28, 13, 21, 21]


def test_two_small_cells_adding_up_to_two_are_both_one_unless_one_is_shown_as_withheld():
    # "8 | <5 | 6 | <5" with the group's total 16 shown elsewhere: the hidden cells add up to 2 and
    # "<5" means at least 1, so both are 1 (within Bergen alone, and again from both clinics - Oslo)
    tables = editions([20, 10, 15, 12], [8, 1, 6, 1])
    today = {e: disclosure.protect(t, ["n"], 5, groups=[]) for e, t in tables.items()}
    assert list(today["Bergen"]["n"]) == [8, "<5", 6, "<5"]
    assert ls.recoverable(today, tables, "n", 5, groups=[]) == [("Bergen", "cell", 1, 1), ("Bergen", "cell", 3, 1)]

    after = ls.protect_tables(tables, "n", 5, groups=[])
    assert ls.recoverable(after, tables, "n", 5, groups=[]) == []
    # Bergen B shows "–" (0 or more) instead of "<5", so B + D = 2 leaves D at 1 or 2; Oslo hides B
    # and D, whose sum 22 (Oslo's total less 20 and 15) leaves each between 0 and 22
    assert list(after["Bergen"]["n"]) == [8, "–", 6, "<5"]
    assert list(after["Oslo"]["n"]) == [20, "–", 15, "–"]
    assert list(after["all"]["n"]) == [28, 11, 21, 13]


def test_a_published_sibling_is_all_shown_and_the_others_protect_around_it():
    # both clinics through 2025 is the published edition: it shows 3 = 0 + 3, so Oslo's 0 must go too
    tables = editions([0, 30, 12], [3, 20, 9])
    after = ls.protect_tables(tables, "n", 5, published={"all"})
    assert after["all"] is tables["all"]
    assert list(after["Bergen"]["n"])[0] == "<5"
    assert list(after["Oslo"]["n"])[0] == "–"
    assert ls.recoverable(after, tables, "n", 5, published={"all"}) == []
    # each clinic protected on its own: Oslo shows its 0, and the published 3 gives Bergen's 3
    alone = {"all": tables["all"], **{e: disclosure.protect(tables[e], ["n"], 5) for e in ("Oslo", "Bergen")}}
    assert ls.recoverable(alone, tables, "n", 5, published={"all"}) == [("Bergen", "cell", 0, 3)]
    # published total 2 = 1 + 1: two "<5" would both be 1; one of them shows "–"
    tables = editions([1, 30], [1, 20])
    after = ls.protect_tables(tables, "n", 5, published={"all"})
    assert sorted([after["Oslo"]["n"][0], after["Bergen"]["n"][0]]) == sorted(["–", "<5"])
    assert ls.recoverable(after, tables, "n", 5) == []


def test_a_small_rest_of_a_yes_no_item_is_protected_with_the_group_totals():
    # 47 of 50 answered yes in Oslo: 3 answered no; Bergen 10 of 10; both clinics 57 of 60
    tables = {
        e: pd.DataFrame({"item": ["x"], "category": ["yes"], "n_valid": [v], "n": [n]})
        for e, v, n in (("all", 60, 57), ("Oslo", 50, 47), ("Bergen", 10, 10))
    }
    shown = {e: t.assign(n=t["n"].astype(object)) for e, t in tables.items()}
    assert ls.recoverable(shown, tables, "n", 5, groups="item", total="n_valid") == [
        ("all", "rest", ("x",), 3),
        ("Oslo", "rest", ("x",), 3),
    ]
    after = ls.protect_tables(tables, "n", 5, groups="item", total="n_valid", derived=())
    assert ls.recoverable(after, tables, "n", 5, groups="item", total="n_valid") == []
    assert after["Oslo"]["n"][0] == "–" and after["all"]["n"][0] == "–" and after["Bergen"]["n"][0] == 10


def test_derived_columns_follow_hidden_counts_and_missing_values_are_not_available():
    tables = editions([20, 10, 0], [8, 3, 0])
    for t in tables.values():
        t["percent"] = [100 * n / t["n"].sum() for n in t["n"]]
        t.loc[2, "percent"] = float("nan")
    after = ls.protect_tables(tables, "n", 5, derived=["percent"])
    assert after["Bergen"]["percent"][1] == "–"
    assert after["Oslo"]["percent"][1] == "–"
    assert after["Bergen"]["percent"][2] == "n/a"


def test_no_threshold_changes_nothing_and_the_pattern_is_deterministic():
    tables = editions([20, 10, 15, 12, 2], [8, 1, 6, 1, 7])
    assert ls.protect_tables(tables, "n", None) == tables
    first = ls.joint_pattern(tables, "n", 5, groups=[])
    again = ls.joint_pattern({e: tables[e] for e in ("Bergen", "Oslo", "all")}, "n", 5, groups=[])
    for e in tables:
        assert list(first.cells[e]) == list(again.cells[e])


def test_a_table_is_protected_in_well_under_a_second():
    tables = editions([20, 10, 15, 12, 2, 0, 3, 40], [8, 1, 6, 1, 7, 2, 0, 4])
    start = time.perf_counter()
    after = ls.protect_tables(tables, "n", 5, groups=[])
    assert time.perf_counter() - start < 0.5
    assert ls.recoverable(after, tables, "n", 5, groups=[]) == []


# --- the real tables of 2022: both clinics, Oslo and Bergen, each built as its own edition ---------------


def _events(cohort):
    return adverse_events.events_by_category(cohort.adverse_events)


def _table_6a(cohort):
    return patients.table_6a(cohort.patients)


@pytest.fixture(scope="module")
def pages_2022():
    return {clinic: open_page(clinic, 2022, None, 5, glue_words=False) for clinic in ls.EDITIONS}


def test_event_categories_2022_leak_today_and_not_after(pages_2022):
    tables, published = ls.sibling_tables(pages_2022["Bergen"], _events)
    assert published == set()
    today = {e: disclosure.protect(t, {"n": ["percent"]}, 5, groups=[]) for e, t in tables.items()}
    leaks = ls.recoverable(today, tables, "n", 5, groups=[])
    seizure, allergic = (list(tables["Bergen"]["category"]).index(c) for c in ("seizure", "allergic_reaction"))
    assert {(e, row) for e, _, row, _ in leaks} >= {("Bergen", seizure), ("Bergen", allergic)}

    shown = {e: ls.protect_linked(page, _events, groups=[], derived=["percent"]) for e, page in pages_2022.items()}
    assert ls.recoverable(shown, tables, "n", 5, groups=[]) == []
    assert not any(disclosure.is_small(v, 5) for t in shown.values() for v in t["n"] if not isinstance(v, str))


def test_table_6a_2022_leaks_today_and_not_after(pages_2022):
    tables, _ = ls.sibling_tables(pages_2022["Oslo"], _table_6a)
    today = {}
    for e, t in tables.items():
        today[e] = disclosure.protect(t, ["n"], 5, groups="item", total="n_valid")
        today[e]["n_valid"] = [disclosure.count(v, 5) for v in t["n_valid"]]
    leaks = ls.recoverable(today, tables, "n", 5, groups="item", total="n_valid")
    bergen = {(row, value) for e, kind, row, value in leaks if e == "Bergen" and kind == "cell"}
    rows = tables["Bergen"].reset_index(drop=True)
    temporary = rows.index[rows["category"] == "temporary"][0]
    assert (temporary, 1) in bergen  # Bergen's one patient in temporary housing, as the issue found

    # each edition protects on its own page; all three arrive at the same pattern, the grid's pattern of
    # every data end solved at once
    shown = {
        e: ls.protect_linked(page, _table_6a, groups="item", total="n_valid", derived=["percent"])
        for e, page in pages_2022.items()
    }
    assert ls.recoverable(shown, tables, "n", 5, groups="item", total="n_valid") == []
    grid = ls.grid_tables(pages_2022["Oslo"], _table_6a)
    patterns = ls.joint_pattern_years(
        {y: t for y, (t, _) in grid.items()},
        "n",
        5,
        groups="item",
        total="n_valid",
        published={y: p for y, (_, p) in grid.items()},
        skip=["percent"],
    )
    for e in tables:
        joint = ls.shown_table(
            tables[e], patterns[2022].cells[e], patterns[2022].totals[e], 5, count="n", total="n_valid"
        )
        assert list(shown[e]["n"]) == list(joint["n"])


def test_the_published_edition_gets_its_table_unchanged():
    page = open_page("all", 2025, None, 5, glue_words=False)
    assert page.sdc is None
    pd.testing.assert_frame_equal(ls.protect_linked(page, _events, groups=[]), _events(page.cohort))


def test_the_linear_check_agrees_with_counting_every_integer_solution():
    # "8 | – | 6 | <5" in Bergen, Oslo's B and D withheld, both clinics all shown (the pattern above):
    # enumerate every integer assignment of the four hidden cells that a reader would accept
    tables = editions([20, 10, 15, 12], [8, 1, 6, 1])
    after = ls.protect_tables(tables, "n", 5, groups=[])
    oslo_total, bergen_total = sum(tables["Oslo"]["n"]), sum(tables["Bergen"]["n"])
    solutions = []
    for ob in range(0, 40):
        for od in range(0, 40):
            for bb in range(0, 40):
                bd = bergen_total - 8 - 6 - bb
                if not 1 <= bd <= 4:  # Bergen D is "<5"; Bergen B is "–" (0 or more)
                    continue
                if ob + bb == 11 and od + bd == 13 and 20 + ob + 15 + od == oslo_total:
                    solutions.append((ob, od, bb, bd))
    assert {s[3] for s in solutions} == {1, 2}  # Bergen D: 1 or 2, as the linear programme says
    assert {s[2] for s in solutions} == {0, 1}
    assert ls.recoverable(after, tables, "n", 5, groups=[]) == []


# --- year against year ----------------------------------------------------------------------------------


def _years(values: dict[int, list[int]]) -> dict[int, dict[str, pd.DataFrame]]:
    """One clinic's table of categories A, B, ... for each data end."""
    return {y: {"Oslo": pd.DataFrame({"category": list("ABCDEFGH")[: len(v)], "n": v})} for y, v in values.items()}


def _shown(tables, patterns, threshold=5):
    return {
        y: {
            e: ls.shown_table(t, patterns[y].cells[e], patterns[y].totals[e], threshold, count="n")
            for e, t in by_edition.items()
        }
        for y, by_edition in tables.items()
    }


def test_two_years_whose_difference_is_two_leak_before_and_not_after():
    # 10 events of A by the end of 2022, 12 by the end of 2023: each year alone shows both (no small cell),
    # and the reader subtracts: two events in 2023
    tables = _years({2022: [10, 7], 2023: [12, 20]})
    alone = {y: ls.protect_tables(t, "n", 5) for y, t in tables.items()}
    assert [list(alone[y]["Oslo"]["n"]) for y in (2022, 2023)] == [[10, 7], [12, 20]]
    leaks = ls.recoverable_years(alone, tables, "n", 5)
    assert [(y, e, kind, value) for y, e, kind, _, value in leaks] == [(2023, "Oslo", "step", 2)]

    patterns = ls.joint_pattern_years(tables, "n", 5)
    after = _shown(tables, patterns)
    assert ls.recoverable_years(after, tables, "n", 5) == []
    # the smaller of the two counts that give it away is hidden: 2022's 10; B (7 to 20) is no small group
    assert list(after[2022]["Oslo"]["n"]) == ["–", 7]
    assert list(after[2023]["Oslo"]["n"]) == [12, 20]


def test_counts_that_do_not_grow_stay_as_they_are():
    # A stays 10 and B stays 1 ("<5"): no patient is added, no step of 1..4 to hide
    tables = _years({2022: [10, 1], 2023: [10, 1], 2024: [10, 1]})
    patterns = ls.joint_pattern_years(tables, "n", 5)
    after = _shown(tables, patterns)
    assert ls.recoverable_years(after, tables, "n", 5) == []
    assert all(list(after[y]["Oslo"]["n"])[1] == "<5" for y in tables)


def test_a_count_that_falls_is_not_linked_between_years_and_one_that_grows_is():
    # A falls from 10 to 8: it counts states on the data end, not nested sets, and both years show it; B,
    # which does not fall, is followed on its own (its 8 to 10 may be two patients added) and hides a year
    tables = _years({2022: [10, 8], 2023: [8, 10]})
    patterns = ls.joint_pattern_years(tables, "n", 5)
    after = _shown(tables, patterns)
    assert [list(after[y]["Oslo"]["n"]) for y in (2022, 2023)] == [[10, "–"], [8, 10]]
    assert ls.recoverable_years(after, tables, "n", 5) == []


def _answers(cells: list[int]) -> pd.DataFrame:
    """One clinic's changes of one variable (no change, positive to negative, negative to positive) and its
    patients, the sum of the three (a Supplementary Table A in small)."""
    return pd.DataFrame(
        {
            "variable": ["Victim of crime"] * 3,
            "cell": ["no_change", "positive_to_negative", "negative_to_positive"],
            "n": cells,
            "n_patients": [sum(cells)] * 3,
        }
    )


def test_nested_totals_are_linked_between_years_although_a_cell_of_their_table_falls():
    # 23 patients with a first and a last answer by 2022, 25 by 2023 (two added); one patient's last answer
    # changes, so "positive to negative" falls from 6 to 5. Each year alone shows everything (no count below
    # 5), and the totals give the two patients away. The count that falls must not keep the totals apart
    tables = {2022: {"Oslo": _answers([10, 6, 7])}, 2023: {"Oslo": _answers([13, 5, 7])}}
    table = {"groups": ["variable"], "total": "n_patients"}
    alone = {y: ls.protect_tables(t, "n", 5, **table) for y, t in tables.items()}
    assert [list(alone[y]["Oslo"]["n_patients"]) for y in (2022, 2023)] == [[23] * 3, [25] * 3]
    leaks = ls.recoverable_years(alone, tables, "n", 5, **table)
    steps = {(y, key[1][2], key[1][3], value) for y, e, kind, key, value in leaks if kind == "step"}
    assert (2023, "total", ("Victim of crime",), 2) in steps  # the two patients added
    assert (2023, "cell", ("Victim of crime", "no_change"), 3) in steps  # a count that never falls: followed too

    patterns = ls.joint_pattern_years(tables, "n", 5, **table)
    after = {
        y: {
            e: ls.shown_table(t, patterns[y].cells[e], patterns[y].totals[e], 5, count="n", total="n_patients")
            for e, t in by_edition.items()
        }
        for y, by_edition in tables.items()
    }
    assert ls.recoverable_years(after, tables, "n", 5, **table) == []
    # not both years' totals shown as numbers (their difference is the two patients)
    totals = [after[y]["Oslo"]["n_patients"].iloc[0] for y in (2022, 2023)]
    assert any(isinstance(t, str) for t in totals), totals
    # the count that falls is no group of patients: shown in both years
    assert [after[y]["Oslo"]["n"].iloc[1] for y in (2022, 2023)] == [6, 5]


def test_the_published_edition_stays_whole_and_the_year_before_hides_instead():
    tables = {y: editions([20, 10], [8, 9]) for y in (2024, 2025)}
    tables[2025] = editions([21, 10], [8, 9])  # one more A in Oslo in 2025
    published = {2025: {"all"}}
    patterns = ls.joint_pattern_years(tables, "n", 5, published=published)
    after = _shown(tables, patterns)
    assert list(after[2025]["all"]["n"]) == [29, 19]
    assert ls.recoverable_years(after, tables, "n", 5, published=published) == []
    assert after[2024]["all"]["n"].iloc[0] == "–" and after[2024]["Oslo"]["n"].iloc[0] == "–"


def test_rows_are_matched_by_name_when_a_year_adds_rows():
    frames = {
        2022: pd.DataFrame({"year": [2022], "clinic": ["Oslo"], "n": [3]}),
        2023: pd.DataFrame({"year": [2022, 2023], "clinic": ["Oslo", "Oslo"], "n": [3, 4]}),
    }
    assert ls.row_labels(frames, {"n"}) == {2022: [("2022", "Oslo")], 2023: [("2022", "Oslo"), ("2023", "Oslo")]}
    assert ls.row_labels({2022: frames[2022], 2023: frames[2023].assign(year=1)}, {"n"}) is None


def test_event_categories_of_the_grid_leak_nothing_between_years(pages_2022):
    grid = ls.grid_tables(pages_2022["Bergen"], _events)
    tables = {y: t for y, (t, _) in grid.items()}
    published = {y: p for y, (_, p) in grid.items()}
    alone = {y: ls.protect_tables(t, "n", 5, published=published[y], groups=[]) for y, t in tables.items()}
    before = ls.recoverable_years(alone, tables, "n", 5, groups=[], published=published)
    assert any(kind == "step" and y == 2025 and e == "Bergen" for y, e, kind, _, _ in before)
    patterns = ls.joint_pattern_years(tables, "n", 5, published=published, groups=[], skip=["percent"])
    after = {
        y: {
            e: ls.shown_table(t, patterns[y].cells[e], patterns[y].totals[e], 5, count="n")
            for e, t in by_edition.items()
        }
        for y, by_edition in tables.items()
    }
    assert ls.recoverable_years(after, tables, "n", 5, groups=[], published=published) == []
    # the page's call gives its year's table of that pattern
    shown = ls.protect_linked(pages_2022["Bergen"], _events, groups=[], derived=["percent"])
    assert list(shown["n"]) == list(after[2022]["Bergen"]["n"])


def test_several_tables_of_a_module_are_protected_across_years():
    by_year = {y: ({"Oslo": {"t": t["Oslo"]}}, set()) for y, t in _years({2022: [10, 7], 2023: [12, 20]}).items()}
    patterns = ls.joint_patterns_years(by_year, {"t": {"count": "n"}}, 5)
    assert list(patterns[2022]["t"].cells["Oslo"]) == [ls.WITHHELD, ls.SHOWN]
    assert list(patterns[2023]["t"].cells["Oslo"]) == [ls.SHOWN, ls.SHOWN]
    assert ls.joint_patterns_years(by_year, {"t": {"count": "n"}}, 5, only=2023).keys() == {2023}


def test_clinic_counts_the_published_edition_prints_are_known_to_the_reader():
    # the published edition (both clinics, 2025) prints Bergen's and Oslo's columns in full (Appendix 5), so a
    # reader knows Bergen 2025: B = 1. Bergen 2024 showing B as "<5" (1..4) then gives it away (it cannot
    # fall: 1), and with it Oslo's hidden B (both clinics' 10 less 1)
    tables = {2024: editions([20, 9], [10, 1]), 2025: editions([26, 9], [12, 1])}
    published, known = {2025: {"all"}}, {2025: {"Oslo", "Bergen"}}
    blind = _shown(tables, ls.joint_pattern_years(tables, "n", 5, published=published))
    assert list(blind[2024]["Bergen"]["n"]) == ["–", "<5"]
    leaks = ls.recoverable_years(blind, tables, "n", 5, published=published, known=known)
    assert {(y, e, kind, value) for y, e, kind, _, value in leaks} == {
        (2024, "Bergen", "cell", 1),
        (2024, "Oslo", "cell", 9),
    }

    patterns = ls.joint_pattern_years(tables, "n", 5, published=published, known=known)
    after = _shown(tables, patterns)
    assert ls.recoverable_years(after, tables, "n", 5, published=published, known=known) == []
    # the Bergen 2025 variant still hides its own small count (rule a), though a reader knows it
    assert list(after[2025]["Bergen"]["n"]) == [12, "<5"]
    assert list(after[2025]["all"]["n"]) == [38, 10]
    # 2024 hides instead: B as "–" (0 or more), and one of the counts that give the step of 2 away
    assert after[2024]["Bergen"]["n"].iloc[1] == "–"
    assert after[2024]["Bergen"]["n"].iloc[0] == "–"


def test_a_kept_pattern_is_the_one_computed_and_new_inputs_are_solved_anew(tmp_path, monkeypatch):
    tables = _years({2022: [10, 7], 2023: [12, 20]})
    fresh = ls.joint_pattern_years(tables, "n", 5)
    monkeypatch.setenv(ls.CACHE_ENVIRONMENT, str(tmp_path))
    first = ls.joint_pattern_years(tables, "n", 5)
    assert len(list(tmp_path.glob("joint_pattern_years-*.pickle"))) == 1
    again = ls.joint_pattern_years(_years({2022: [10, 7], 2023: [12, 20]}), "n", 5)  # equal frames, made anew
    assert len(list(tmp_path.glob("*.pickle"))) == 1
    for patterns in (first, again):
        assert {y: list(p.cells["Oslo"]) for y, p in patterns.items()} == {
            y: list(p.cells["Oslo"]) for y, p in fresh.items()
        }
    # another count, another threshold or another argument is another problem
    ls.joint_pattern_years(_years({2022: [10, 7], 2023: [13, 20]}), "n", 5)
    ls.joint_pattern_years(tables, "n", 6)
    ls.joint_pattern_years(tables, "n", 5, only=2023)
    assert len(list(tmp_path.glob("*.pickle"))) == 4
    # a kept file that cannot be read is solved again and rewritten
    for path in tmp_path.glob("*.pickle"):
        path.write_bytes(b"not a pickle")
    assert list(ls.joint_pattern_years(tables, "n", 5)[2022].cells["Oslo"]) == list(fresh[2022].cells["Oslo"])


def test_a_readers_view_as_a_linear_programme_answers_by_hand():
    """x + y = 5 with x from 1 to 4 and y from 0 up: x lies in [1, 4], y in [1, 4]; asked again with other
    objectives (each starting from the last basis), the same programme still answers right. With x - z = 0 and
    both from 0 up, z has no greatest value."""
    from scipy import sparse

    view = ls._Programme(sparse.csr_array([[1.0, 1.0]]), [5.0], [(1.0, 4.0), (0.0, None)])
    answers = [view.minimum(pd.Series(objective).to_numpy(float)) for objective in ([1, 0], [-1, 0], [0, 1], [0, -1])]
    assert [round(value, 9) for value, _ in answers] == [1, -4, 1, -4]
    low_x, solution = answers[0]
    assert list(solution) == pytest.approx([1, 4])
    open_above = ls._Programme(sparse.csr_array([[1.0, -1.0]]), [0.0], [(0.0, None), (0.0, None)])
    assert open_above.minimum(pd.Series([0.0, -1.0]).to_numpy(float)) is None
    assert open_above.minimum(pd.Series([0.0, 1.0]).to_numpy(float))[0] == pytest.approx(0)
    no_relation = ls._Programme(None, [], [(2.0, 3.0)])
    assert no_relation.minimum(pd.Series([-1.0]).to_numpy(float))[0] == pytest.approx(-3)
    # counts of 0 and more cannot sum to -5: a view no table can give is an error, not an answer
    with pytest.raises(RuntimeError, match="infeasible"):
        ls._Programme(sparse.csr_array([[1.0, 1.0]]), [-5.0], [(0.0, None), (0.0, None)]).minimum(
            pd.Series([1.0, 0.0]).to_numpy(float)
        )
