"""The consistency audit on hand-built ledgers (answers known by hand) and on the report's ledger."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data.published import published_table
from analysis.sections import audit


def ledger(**values) -> pd.DataFrame:
    """A ledger from key=(value, precision) pairs."""
    return pd.DataFrame([{"key": k, "value": str(v), "precision": str(p)} for k, (v, p) in values.items()])


def one(check, statistics) -> dict:
    return audit.run(statistics, [check]).iloc[0].to_dict()


def test_parts_against_total():
    check = audit.parts_vs_total("t", "x", "rows vs n", "n", ["a", "b"])
    assert one(check, ledger(n=(10, 1), a=(4, 1), b=(6, 1)))["flagged"] is False
    found = one(check, ledger(n=(10, 1), a=(4, 1), b=(7, 1)))
    assert found["flagged"] and found["implied"] == 11 and found["difference"] == -1


def test_percent_against_count_allows_rounding_only():
    check = audit.percent_vs_count("t", "x", "share", "pct", "n", "d")
    # 1/3 = 33.33%: printed 33 is within half a point, printed 34 is not
    assert one(check, ledger(pct=(33, 1), n=(1, 1), d=(3, 1)))["flagged"] is False
    assert one(check, ledger(pct=(34, 1), n=(1, 1), d=(3, 1)))["flagged"] is True
    # with one decimal the tolerance shrinks: 33.4 is off by 0.067 > 0.05
    assert one(check, ledger(pct=(33.4, 0.1), n=(1, 1), d=(3, 1)))["flagged"] is True


def test_ratio_tolerance_follows_the_rounding_of_its_inputs():
    check = audit.ratio_vs_inputs("t", "x", "icer", "icer", "cost", "qaly")
    # 100,000 / 0.12 = 833,333; a QALY difference rounded to 0.12 may be 0.115-0.125 (±4%)
    assert one(check, ledger(icer=(850_000, 1), cost=(100_000, 1), qaly=(0.12, 0.01)))["flagged"] is False
    assert one(check, ledger(icer=(950_000, 1), cost=(100_000, 1), qaly=(0.12, 0.01)))["flagged"] is True


def test_weighted_mean_and_same_statistic_with_sign():
    pooled = audit.weighted_mean("t", "x", "pooled", "m", ["m1", "m2"], ["n1", "n2"])
    row = one(pooled, ledger(m=(0.3, 0.001), m1=(0.4, 0.001), m2=(0.1, 0.001), n1=(2, 1), n2=(1, 1)))
    assert row["implied"] == pytest.approx(0.3) and row["flagged"] is False
    offset = audit.same_statistic("t", "x", "offset", "cost_change", "reduction", sign=-1)
    assert one(offset, ledger(cost_change=(-50, 1), reduction=(50, 1)))["flagged"] is False


def test_percents_sum_and_time_against_time():
    total = audit.percents_sum("t", "x", "sum", ["p1", "p2"])
    assert one(total, ledger(p1=(33.3, 0.1), p2=(66.7, 0.1)))["flagged"] is False
    assert one(total, ledger(p1=(30.0, 0.1), p2=(66.7, 0.1)))["flagged"] is True
    years = audit.time_vs_time("t", "x", "py", "years", "days")
    assert one(years, ledger(years=(2, 1), days=(730, 1)))["flagged"] is False


def test_unknown_key_is_named():
    check = audit.parts_vs_total("t", "x", "rows", "n", ["missing_key"])
    with pytest.raises(KeyError, match="missing_key"):
        audit.run(ledger(n=(1, 1)), [check])


def test_the_report_has_at_least_ten_findings():
    findings = audit.run(published_table("statistics"))
    flagged = set(findings.loc[findings["flagged"], "id"])
    assert len(flagged) >= 10
    # the issue names these as real inconsistencies of the report
    assert {
        "housing_rows_vs_n",
        "continued_qaly_6d_vs_6f",
        "person_years_vs_patient_days",
        "oslo_gp_share_6_6_vs_supp_g",
        "supp_h_percents_sum",
        "supp_d_base_icer_vs_6g",
    } <= flagged
    # and these agree with the report within rounding
    assert not findings.set_index("id").loc[["accumulated_icer_6e", "annualized_icer_6g"], "flagged"].any()


def test_best_split_and_nearest_share_by_hand():
    from analysis.sections.audit import best_split, nearest_share

    # 65 discharges printed as 47%, 21%, 31%: 31/14/20 is nearest (47.7, 21.5, 30.8)
    assert best_split([47, 21, 31], 65) == [31, 14, 20]
    assert best_split([50, 50], 10) == [5, 5]
    assert nearest_share(23, 20) == 25.0  # 4.6 of 20 rounds to 5
    assert round(nearest_share(23, 22), 1) == 22.7


def test_swapped_columns_flags_a_table_that_reverses_the_texts_shares():
    check = audit.swapped_columns("t", "x", "swap", (("pa", "na"), ("pb", "nb")), ("ta", "tb"))
    in_order = ledger(pa=(7, 1), na=(6, 1), pb=(35, 1), nb=(32, 1), ta=(7, 1), tb=(35, 1))
    assert one(check, in_order)["flagged"] is False
    swapped = one(check, ledger(pa=(35, 1), na=(32, 1), pb=(7, 1), nb=(6, 1), ta=(7, 1), tb=(35, 1)))
    assert swapped["flagged"] and swapped["implied"] == 7 and swapped["reported"] == 35
    # the counts printed in the swapped cells take part in the finding
    assert {"na", "nb", "pa", "pb"} <= set(swapped["inputs"].split(", "))


def test_the_report_swaps_the_polysubstance_change_columns():
    findings = audit.run(published_table("statistics")).set_index("id")
    assert findings.loc["polysubstance_columns_swapped", "flagged"]
    # the money-for-food and victim rows print a percentage their count does not give, in table and text
    assert findings.loc[
        [
            "money_for_food_percent_6_4",
            "victim_improved_percent_supp_a",
            "victim_improved_percent_6_4",
            "polysubstance_improved_percent_6_4",
        ],
        "flagged",
    ].all()


def test_same_patients_compares_one_cell_and_names_both_rows():
    check = audit.same_patients("t", "x", "rows", ["fn", "fm", "fc"], ["dn", "dm", "dd"], ("fn", "dn"))
    assert one(check, ledger(fn=(73, 1), fm=(2, 1), fc=(4, 1), dn=(73, 1), dm=(2, 1), dd=(9, 1)))["flagged"] is False
    found = one(check, ledger(fn=(56, 1), fm=(2, 1), fc=(4, 1), dn=(73, 1), dm=(2, 1), dd=(9, 1)))
    assert found["flagged"] and found["implied"] == 73
    assert set(found["inputs"].split(", ")) == {"fn", "fm", "fc", "dn", "dm", "dd"}
    flagged = audit.run(published_table("statistics")).set_index("id")["flagged"]
    assert flagged[
        ["heroin_frequent_vs_days_rows", "cocaine_frequent_vs_days_rows", "benzodiazepine_frequent_vs_days_rows"]
    ].all()


def test_sd_bound_is_reached_by_values_at_the_ends_of_the_range():
    # 0, 0, 0, 30: mean 7.5, sample variance (3 × 7.5² + 22.5²) / 3 = 225, SD 15; the bound
    # sqrt((30 − 7.5)(7.5 − 0) · 4/3) = sqrt(225) = 15 is met exactly, as Bhatia–Davis says it is at the ends
    assert audit.sd_bound(7.5, 0, 30, 4) == pytest.approx(15.0)
    assert audit.sd_bound(7.5, 0, 30, 4) == pytest.approx(pd.Series([0, 0, 0, 30]).std())
    # 0 and 1 with mean 0.5: sqrt(0.25 · 2/1) = 0.7071
    assert audit.sd_bound(0.5, 0, 1, 2) == pytest.approx(0.5**0.5)


def test_sd_within_range_is_one_sided_and_allows_the_rounding_of_the_mean():
    check = audit.sd_within_range("t", "x", "sd", "sd", "mean", "n", 0, 30)
    # n = 101, mean 3.0: bound sqrt(3 · 27 · 101/100) = 9.0449; the mean may be 3.05, where the bound is
    # sqrt(3.05 · 26.95 · 1.01) = 9.1115, so the tolerance is 0.05 + 0.0666 = 0.1166
    row = one(check, ledger(sd=(9.1, 0.1), mean=(3.0, 0.1), n=(101, 1)))
    assert row["implied"] == pytest.approx(9.0449, abs=1e-4)
    assert row["tolerance"] == pytest.approx(0.1166, abs=1e-4)
    assert row["flagged"] is False  # 0.055 above the bound at 3.0, but within what the mean's rounding allows
    assert one(check, ledger(sd=(9.2, 0.1), mean=(3.0, 0.1), n=(101, 1)))["flagged"] is True  # 0.155 > 0.1166
    # an SD far below the bound is no finding: the bound is a ceiling, not an estimate
    assert one(check, ledger(sd=(2.0, 0.1), mean=(3.0, 0.1), n=(101, 1)))["flagged"] is False
    # at the middle of the range the favourable mean is the print itself: 0/1 data, mean 0.5, n = 2
    half = audit.sd_within_range("t", "x", "sd", "sd", "mean", "n", 0, 1)
    assert one(half, ledger(sd=(0.71, 0.01), mean=(0.5, 0.1), n=(2, 1)))["flagged"] is False  # 0.0029 < 0.005
    assert one(half, ledger(sd=(0.72, 0.01), mean=(0.5, 0.1), n=(2, 1)))["flagged"] is True  # 0.0129 > 0.005


def test_pooled_sd_by_hand():
    # {1, 3} and {5, 7}: n 2 and 2, means 2 and 6, SDs sqrt(2); pooled {1, 3, 5, 7}: SS = 9 + 1 + 1 + 9 = 20,
    # SD sqrt(20/3) = 2.5820, and the formula gives (1·2 + 1·2) + 2·4 + 2·4 = 20 too
    assert audit.pooled_sd_of([2, 2], [2, 6], [2**0.5, 2**0.5]) == pytest.approx(pd.Series([1, 3, 5, 7]).std())
    check = audit.pooled_sd("t", "x", "pooled", "sd", ["n1", "n2"], ["m1", "m2"], ["s1", "s2"], pooled_n="n")
    values = dict(n=(4, 1), n1=(2, 1), n2=(2, 1), m1=(2.0, 0.1), m2=(6.0, 0.1), s1=(1.41, 0.01), s2=(1.41, 0.01))
    # with the printed 1.41: SS = 2 · 1.41² + 16 = 19.9762, SD 2.5805; first-order tolerance:
    # SDs 2 · (1 · 1.41 / (3 · 2.5805)) · 0.005 = 0.0018, means 2 · (2 · 2 / (3 · 2.5805)) · 0.05 = 0.0517, pooled 0.005
    row = one(check, ledger(sd=(2.58, 0.01), **values))
    assert row["implied"] == pytest.approx(2.5805, abs=1e-4)
    assert row["tolerance"] == pytest.approx(0.0585, abs=1e-4)
    assert row["flagged"] is False
    assert one(check, ledger(sd=(2.65, 0.01), **values))["flagged"] is True  # 0.0695 above
    assert one(check, ledger(sd=(2.51, 0.01), **values))["flagged"] is True  # two-sided: 0.0705 below
    assert set(row["inputs"].split(", ")) == {"sd", "n", "n1", "n2", "m1", "m2", "s1", "s2"}


def test_the_report_prints_sds_its_own_numbers_do_not_allow():
    findings = audit.run(published_table("statistics")).set_index("id")
    crime = findings.loc[["crime_days_baseline_sd_within_range", "crime_days_last_observation_sd_within_range"]]
    # 136 patients, days 0-30: sqrt(7.18 · 22.82 · 136/135) = 12.85 and sqrt(3.07 · 26.93 · 136/135) = 9.13
    assert crime["implied"].round(2).tolist() == [12.85, 9.13]
    assert crime["flagged"].all() and (crime["certainty"] == "high").all()
    pooled = findings.loc["discontinued_qaly_sd_6d_vs_6f"]
    # planned 32 × (0.347, 0.523) and unplanned 16 × (0.234, 0.357) pool to an SD of 0.4733, not 0.478
    assert round(pooled["implied"], 4) == 0.4733 and pooled["flagged"] and pooled["certainty"] == "medium"


def test_page_figures_count_the_checks_and_give_each_cited_figure_by_hand(monkeypatch):
    findings = pd.DataFrame(
        {
            "id": ["oslo_share_of_patients", "other"],
            "flagged": [False, True],
            "certainty": ["high", "medium"],
            "reported": [65.0, 2.0],
            "implied": [65.2, 1.0],
            "difference": [-0.2, 1.0],
            "tolerance": [0.5, 0.1],
            "inputs": ["a, b", "c, d"],
        }
    )
    cited = (
        ("errata_oslo_share_of_patients_reported", "oslo_share_of_patients", "reported"),
        ("errata_other_abs_difference", "other", "abs_difference"),
        ("errata_other_mean", "other", "mean"),
    )
    statistics = pd.DataFrame({"key": ["c", "d"], "value": [3.0, 4.5]})
    monkeypatch.setattr(audit, "CITED_FIGURES", cited)
    figures = audit.page_figures(findings, statistics).set_index("key")["value"]
    assert figures.to_dict() == {
        "errata_n_checks": 2,
        "errata_n_flagged": 1,
        "errata_n_confirmed": 1,
        "errata_n_high": 0,
        "errata_oslo_share_of_patients_reported": 65.0,
        "errata_other_abs_difference": 1.0,
        "errata_other_mean": 4.5,
    }
    assert isinstance(figures["errata_n_checks"], int) and isinstance(figures["errata_other_mean"], float)


def test_every_cited_figure_names_a_check_and_is_cited_by_the_errata_page():
    from pathlib import Path

    ids = {check.id for check in audit.CHECKS}
    page = (Path(__file__).resolve().parent.parent / "book" / "appendix_errata.md").read_text()
    for key, check, column in audit.CITED_FIGURES:
        assert check in ids and key == f"errata_{check}_{column}"
        assert f"`{key}" in page, key
