"""The referral pages protected across the editions of one year (analysis.sections.referrals.linked_view, built on
analysis.presentation.linked_suppression.joint_patterns): what a reader gets by setting the three 2022 editions side by
side, and Table F's accepted referrals within one edition (analysis.sections.referrals.referral_suppression)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.presentation import linked_suppression as ls
from analysis.presentation.edition import open_page
from analysis.sections import referrals as ref

THRESHOLD = 5


def register(rows, year=2022) -> pd.DataFrame:
    """A hand-made register: rows of (clinic, referrer, decision, reason, year)."""
    frame = pd.DataFrame(rows, columns=["clinic", "referrer", "decision", "denial_reason", "year"])
    frame["person_id"] = [f"P{i:03d}" for i in range(len(frame))]
    frame["referral_date"] = pd.to_datetime(frame.pop("year").astype(str) + "-03-01")
    frame["age"], frame["sex"], frame["referral_type"] = 40, "male", "secondary"
    return frame


def test_a_year_with_few_accepted_referrals_hides_its_denials_and_a_second_year():
    # 2022: 10 referrals, 8 denied (2 accepted: 10 - 8 gives them); 2023: 12 referrals, 6 denied
    rows = (
        [("Oslo", "nav", "denied", "other", 2022)] * 8
        + [("Oslo", "nav", "accepted", None, 2022)] * 2
        + [("Oslo", "nav", "denied", "other", 2023)] * 6
        + [("Oslo", "nav", "accepted", None, 2023)] * 6
    )
    hidden = ref.referral_suppression(register(rows), THRESHOLD)
    f = ref.table_f(register(rows))
    assert list(f["year"]) == ["2022", "2023", "2022-2023"]
    assert list(hidden["f_denials"]) == [True, True, False]  # 2023's too, or the total 14 less 6 gives 8 back
    assert not hidden["f_referrals"].any()
    # with one year only, the total line is that year: its denials go too
    one = register(rows[:10])
    assert list(ref.referral_suppression(one, THRESHOLD)["f_denials"]) == [True, True]


def test_tables_sharing_a_total_show_it_alike_and_a_sum_across_tables_is_respected():
    # table "a": 6 and 2 of 8; table "b": the same 8 split 5 and 3; one edition only
    blocks = {
        "a": {"Oslo": pd.DataFrame({"n": [6, 2], "of": [8, 8]})},
        "b": {"Oslo": pd.DataFrame({"n": [5, 3], "of": [8, 8]})},
    }
    specs = {"a": {"groups": [], "total": "of"}, "b": {"groups": [], "total": "of"}}
    patterns = ls.joint_patterns(blocks, specs, THRESHOLD, same=[(("a", "total", ()), ("b", "total", ()))])
    # each table hides its small cell and the other cell of its group (the shown total would give it back)
    assert list(patterns["a"].cells["Oslo"]) == ["withheld", "small"]
    assert list(patterns["b"].cells["Oslo"]) == ["withheld", "small"]
    assert list(patterns["a"].totals["Oslo"]) == list(patterns["b"].totals["Oslo"])
    # a sum: the first cell of "a" is the sum of both cells of "b" in another reading (6 = 5 + 1 is
    # inconsistent and must be refused)
    with pytest.raises(ValueError):
        ls.joint_patterns(blocks, specs, THRESHOLD, sums=[(("a", "cell", 0), [("b", "cell", 0), ("b", "cell", 1)])])
    assert ls.joint_patterns(blocks, specs, None)["a"].cells["Oslo"].eq("shown").all()


def _shown_blocks(views: dict, years: list[int]) -> tuple[dict, dict]:
    """The Table G, H and yearly counts each 2022 edition shows (its own column), and their truth."""
    shown, truth = {}, {}
    for edition, (page, view) in views.items():
        counts = ref.linked_counts(page.cohort.referrals, years)
        g, h = ref.table_g(page.cohort.referrals), ref.table_h(page.cohort.referrals)
        own_g = [m if m is not None else n for m, n, c in zip(view["g"], g["n_referrals"], g["clinic"]) if c == "all"]
        own_h = [m if m is not None else n for m, n, c in zip(view["h"], h["n_denials"], h["clinic"]) if c == "all"]
        for name, own in (("g", own_g), ("h", own_h)):
            block = counts[counts["block"] == name].reset_index(drop=True)
            truth.setdefault(name, {})[edition] = block
            shown.setdefault(name, {})[edition] = pd.DataFrame({"n": own[:-1], "of": own[-1]})
    return shown, truth


@pytest.fixture(scope="module")
def views_2022():
    out = {}
    for clinic in ("all", "Oslo", "Bergen"):
        page = open_page(clinic, 2022, None, THRESHOLD)
        out[clinic] = (page, ref.linked_view(page))
    return out


def test_no_small_count_of_tables_g_and_h_is_recovered_across_the_2022_editions(views_2022):
    shown, truth = _shown_blocks(views_2022, [2022])
    for name in ("g", "h"):
        found = ls.recoverable(shown[name], truth[name], "n", THRESHOLD, groups=[], total="of")
        assert [f for f in found if 0 < f[3] < THRESHOLD] == []


def test_the_editions_show_one_pattern_for_a_clinics_cells(views_2022):
    # Bergen's column in the both-clinics edition is the Bergen edition's own column, cell by cell
    _, all_view = views_2022["all"]
    _, bergen_view = views_2022["Bergen"]
    g_all = ref.table_g(views_2022["all"][0].cohort.referrals)
    in_all = [m for m, c in zip(all_view["g"], g_all["clinic"]) if c == "Bergen"]
    g_bergen = ref.table_g(views_2022["Bergen"][0].cohort.referrals)
    in_bergen = [m for m, c in zip(bergen_view["g"], g_bergen["clinic"]) if c == "Bergen"]
    assert in_all == in_bergen
    assert any(m is not None for m in in_all)  # the 2022 editions do hide some of Bergen's referrers
    assert all_view["headings"]["referrals"]["Bergen"] == bergen_view["headings"]["referrals"]["all"]


def test_shares_of_a_hidden_count_are_withheld_in_the_text(views_2022):
    page, view = views_2022["all"]
    g = ref.table_g(page.cohort.referrals)
    hidden_gp = [
        m for m, c, r in zip(view["g"], g["clinic"], g["referrer"]) if r == "primary_care_physician" and c == "Bergen"
    ]
    assert hidden_gp[0] is not None and ("referrer_gp_percent", "Bergen") in view["text"]


def test_the_published_edition_marks_nothing():
    page = open_page("all", 2025, None, THRESHOLD)
    view = ref.linked_view(page)
    assert all(view[name].isna().all() for name in ("e", "f_referrals", "f_denials", "g", "h"))
    assert view["text"] == set() and view["markers"] == {}
    assert view["headings"] == ref.shown_counts(page.cohort.referrals, None)


def test_a_clinic_printed_elsewhere_does_not_give_its_small_counts_back_on_its_own_page():
    # Table G of the 2025 editions at threshold 3: the published edition prints each clinic's column in full, so a
    # reader of every page knows them and the engine need hide nothing for that reader; but each clinic's own page
    # shows its small counts as "<3", and there Bergen's four add up to 100 - 96 = 4 (so each is 1) and Oslo's one
    # is 180 - 178 = 2, unless more is hidden
    threshold = 3
    bergen = [76, 3, 6, 11, 1, 1, 1, 1, 0]
    oslo = [62, 9, 18, 20, 2, 31, 3, 35, 0]

    def frame(counts):
        return pd.DataFrame({"n": counts, "of": sum(counts)})

    tables = {"all": frame([b + o for b, o in zip(bergen, oslo)]), "Bergen": frame(bergen), "Oslo": frame(oslo)}
    by_year = {2025: ({edition: {"g": table} for edition, table in tables.items()}, {"all"})}
    specs = {"g": {"count": "n", "groups": [], "total": "of"}}
    known = {2025: {"Bergen", "Oslo"}}
    pattern = ls.joint_patterns_years(by_year, specs, threshold, known=known)[2025]["g"]
    for clinic in ("Bergen", "Oslo"):
        shown = ls.shown_table(
            tables[clinic], pattern.cells[clinic], pattern.totals[clinic], threshold, count="n", total="of"
        )
        # no small count is printed, and the page alone gives none back
        assert not any(isinstance(v, int | float) and 0 < v < threshold for v in shown["n"])
        found = ls.recoverable({clinic: shown}, {clinic: tables[clinic]}, "n", threshold, groups=[], total="of")
        assert found == [], (clinic, list(shown["n"]))
