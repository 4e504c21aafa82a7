"""Health-economics functions (analysis.methods.cea, analysis.methods.uncertainty, analysis.presentation.cea_charts) on cases known by hand.

Published examples used as references:

* the ICER example of the R package dampack's tests and vignette (``calculate_icers``; originally the
  VA Health Economics Resource Center's cost-effectiveness course example): strategies UC, A-E with
  costs 5,000-55,000 and effects 1-5; the expected statuses and ICERs are the package's.
* dampack's three-strategy reference test (No Treat / Treat all / Test & treat), where one strategy is
  cheapest and ties for the highest effect.
* the report's own numbers (Tables 6.C, 6.E, 6.G and 6.K).
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc

from analysis.data.published import published_table
from analysis.methods import cea
from analysis.methods import uncertainty as unc
from analysis.presentation import cea_charts, charts

# --- QALYs by area under the curve ----------------------------------------------------------------


def utility_rows() -> pd.DataFrame:
    # P1: uneven intervals 0, 0.25, 1.0 years; P2: two points; P3: a single measurement; P4: an empty utility
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P2", "P2", "P3", "P4", "P4", "P4"],
            "years": [0.0, 0.25, 1.0, 0.0, 0.5, 0.0, 0.0, 0.5, 1.0],
            "utility": [0.4, 0.6, 0.8, 0.5, 0.5, 0.7, 0.2, None, 0.6],
        }
    )


def test_trapezoid_with_uneven_intervals_by_hand():
    out = cea.qalys_auc(utility_rows(), "patient_id", "years", "utility").set_index("patient_id")
    # P1: 0.25 * (0.4 + 0.6) / 2 + 0.75 * (0.6 + 0.8) / 2 = 0.125 + 0.525
    assert out.at["P1", "qalys"] == pytest.approx(0.65)
    assert out.at["P1", "years"] == pytest.approx(1.0)
    assert out.at["P1", "annualized_qalys"] == pytest.approx(0.65)
    assert out.at["P2", "qalys"] == pytest.approx(0.25)
    assert out.at["P2", "annualized_qalys"] == pytest.approx(0.5)
    # P4's empty middle utility is skipped: one straight line from 0.2 to 0.6 over a year
    assert out.at["P4", "qalys"] == pytest.approx(0.4)
    assert out.at["P4", "n_measurements"] == 2


def test_one_measurement_has_no_area():
    out = cea.qalys_auc(utility_rows(), "patient_id", "years", "utility").set_index("patient_id")
    assert out.at["P3", "n_measurements"] == 1
    assert math.isnan(out.at["P3", "qalys"]) and math.isnan(out.at["P3", "annualized_qalys"])


def test_truncation_interpolates_at_the_cuts():
    out = cea.qalys_auc(utility_rows(), "patient_id", "years", "utility", start=0.1, end=0.5).set_index("patient_id")
    # P1: u(0.1) = 0.48, u(0.25) = 0.6, u(0.5) = 0.6 + 0.2 / 3; area 0.15 * 1.08 / 2 + 0.25 * (0.6 + 0.6667) / 2
    expected = 0.15 * (0.48 + 0.6) / 2 + 0.25 * (0.6 + 0.6 + 0.2 / 3) / 2
    assert out.at["P1", "qalys"] == pytest.approx(expected)
    assert out.at["P1", "years"] == pytest.approx(0.4)
    assert out.at["P1", "annualized_qalys"] == pytest.approx(expected / 0.4)


def test_truncation_never_extrapolates():
    out = cea.qalys_auc(utility_rows(), "patient_id", "years", "utility", start=-1.0, end=5.0).set_index("patient_id")
    assert out.at["P1", "qalys"] == pytest.approx(0.65) and out.at["P1", "years"] == pytest.approx(1.0)
    beyond = cea.qalys_auc(utility_rows(), "patient_id", "years", "utility", start=2.0).set_index("patient_id")
    assert math.isnan(beyond.at["P1", "qalys"])


def test_dates_are_converted_to_years_and_repeated_times_averaged():
    rows = pd.DataFrame(
        {
            "patient_id": ["P1"] * 4,
            "date": pd.to_datetime(["2023-01-01", "2023-01-01", "2023-07-02", "2024-01-01"]),
            "utility": [0.3, 0.5, 0.6, 0.8],
        }
    )
    out = cea.qalys_auc(rows, "patient_id", "date", "utility").iloc[0]
    first, second = 182 / 365.25, 183 / 365.25
    assert out["n_measurements"] == 3
    assert out["qalys"] == pytest.approx(first * (0.4 + 0.6) / 2 + second * (0.6 + 0.8) / 2)
    assert out["years"] == pytest.approx(365 / 365.25)


# --- programme costs ------------------------------------------------------------------------------


def test_cost_per_day_reproduces_table_6c():
    table = published_table("table_6c_program_costs")
    per_day = cea.cost_per_treatment_day(table[table["row_type"] == "clinic_year"])
    printed = table[table["row_type"] == "clinic_year"]["cost_per_day_nok"].to_numpy()
    assert np.abs(per_day["cost_per_day"].to_numpy() - printed).max() <= 0.5
    total = table[table["row_type"] == "total"].iloc[0]
    assert round(total["total_cost_nok"] / total["patient_days"]) == total["cost_per_day_nok"]


def test_gross_cost_per_patient_year_is_the_reports_986000_with_365_days():
    table = published_table("table_6c_program_costs")
    total = table[table["row_type"] == "total"].iloc[0]
    per_year = cea.gross_cost_per_patient_year(total["total_cost_nok"], total["patient_days"])
    assert round(per_year, -3) == 986_000
    # with 365.25 days the figure would print as 987,000: the report counted 365 treatment days a year
    assert round(cea.gross_cost_per_patient_year(total["total_cost_nok"], total["patient_days"], 365.25), -3) == 987_000


def test_program_cost_per_patient_by_hand():
    days = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2"],
            "clinic": ["Oslo", "Oslo", "Bergen"],
            "year": [2022, 2023, 2023],
            "days": [100, 200, 10],
        }
    )
    prices = pd.DataFrame(
        {"clinic": ["Oslo", "Oslo", "Bergen"], "year": [2022, 2023, 2023], "cost_per_day": [10.0, 20.0, 7.5]}
    )
    out = cea.program_cost_per_patient(days, prices).set_index("patient_id")
    assert out.at["P1", "days"] == 300 and out.at["P1", "cost"] == pytest.approx(100 * 10 + 200 * 20)
    assert out.at["P2", "cost"] == pytest.approx(75.0)
    with pytest.raises(ValueError, match="no cost per day"):
        cea.program_cost_per_patient(days, prices.iloc[:1])


def test_treatment_days_split_by_calendar_year():
    episodes = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2"],
            "clinic": ["Oslo", "Oslo", "Bergen"],
            "admission_date": ["2022-12-30", "2023-06-01", "2024-01-01"],
            "discharge_date": ["2023-01-02", "2023-06-10", None],
        }
    )
    out = cea.treatment_days_by_year(
        episodes, "patient_id", "admission_date", "discharge_date", keys=["clinic"], data_end="2025-01-01"
    )
    got = {(r.patient_id, r.year): r.days for r in out.itertuples()}
    # P1: 30-31 Dec 2022 (2 days); 1-2 Jan 2023 (2) + 1-10 June 2023 (10); P2: all of leap year 2024, then 1 Jan 2025
    assert got == {("P1", 2022): 2, ("P1", 2023): 12, ("P2", 2024): 366, ("P2", 2025): 1}
    with pytest.raises(ValueError, match="data_end"):
        cea.treatment_days_by_year(episodes, "patient_id", "admission_date", "discharge_date")


# --- ICERs ----------------------------------------------------------------------------------------


def strategies(names, costs, effects) -> pd.DataFrame:
    return pd.DataFrame({"name": names, "cost": costs, "qalys": effects})


def test_icers_dampack_documented_example():
    frame = strategies(["E", "D", "C", "B", "A", "UC"], [55000, 35000, 25000, 10000, 12000, 5000], [5, 4, 3, 2, 1.5, 1])
    out = cea.icers(frame, "name", "cost", "qalys")
    assert out["strategy"].tolist() == ["UC", "B", "D", "E", "C", "A"]
    assert out["status"].tolist() == [
        "reference",
        "non-dominated",
        "non-dominated",
        "non-dominated",
        "extendedly dominated",
        "dominated",
    ]
    assert out["icer"].iloc[1:4].tolist() == [5000, 12500, 20000]
    assert out["inc_cost"].iloc[1:4].tolist() == [5000, 25000, 20000]
    assert out["inc_effect"].iloc[1:4].tolist() == [1, 2, 1]
    assert out.loc[[0, 4, 5], ["inc_cost", "inc_effect", "icer"]].isna().all().all()


def test_icers_dampack_reference_example_with_tied_effects():
    frame = strategies(
        ["No Treat", "Treat all", "Test & treat"], [163771.0, 164848.7, 163765.1], [6.48273, 6.52861, 6.52861]
    )
    out = cea.icers(frame, "name", "cost", "qalys")
    assert out["strategy"].tolist()[0] == "Test & treat"
    assert out.set_index("strategy")["status"].to_dict() == {
        "Test & treat": "reference",
        "No Treat": "dominated",
        "Treat all": "dominated",
    }


def test_icers_three_strategies_extended_dominance_by_hand():
    # A: 0 NOK, 0 QALY; B: 10,000 NOK, 0.1 QALY (ICER vs A 100,000); C: 30,000 NOK, 0.4 QALY (ICER vs B 66,667).
    # B's ICER exceeds C's, so B is extendedly dominated; C against A: 30,000 / 0.4 = 75,000.
    out = cea.icers(
        strategies(["A", "B", "C"], [0, 10_000, 30_000], [0.0, 0.1, 0.4]), "name", "cost", "qalys"
    ).set_index("strategy")
    assert out.at["A", "status"] == "reference"
    assert out.at["B", "status"] == "extendedly dominated"
    assert out.at["C", "status"] == "non-dominated"
    assert out.at["C", "icer"] == pytest.approx(75_000)
    assert out.at["C", "inc_cost"] == 30_000 and out.at["C", "inc_effect"] == pytest.approx(0.4)


def test_extended_dominance_is_repeated_until_none_is_left():
    # ICERs in cost order: B 10, C 11, D 8 -> C goes; then D against B is 19 / 2 = 9.5 < 10 -> B goes too.
    out = cea.icers(strategies(list("ABCD"), [0, 10, 21, 29], [0, 1, 2, 3]), "name", "cost", "qalys").set_index(
        "strategy"
    )
    assert out["status"].to_dict() == {
        "A": "reference",
        "D": "non-dominated",
        "B": "extendedly dominated",
        "C": "extendedly dominated",
    }
    assert out.at["D", "icer"] == pytest.approx(29 / 3)


def test_collinear_strategies_stay_on_the_frontier():
    # B's ICER (10) equals C's (10): not larger, so B is kept, as in dampack
    out = cea.icers(strategies(list("ABC"), [0, 10, 20], [0, 1, 2]), "name", "cost", "qalys").set_index("strategy")
    assert out["status"].to_dict() == {"A": "reference", "B": "non-dominated", "C": "non-dominated"}
    assert out["icer"].dropna().tolist() == [10.0, 10.0]


def test_icers_ties_single_strategy_and_all_dominated():
    single = cea.icers(strategies(["only"], [5.0], [1.0]), "name", "cost", "qalys")
    assert single["status"].tolist() == ["reference"] and single[["inc_cost", "inc_effect", "icer"]].isna().all().all()
    # the cheapest strategy is also the most effective: every other one is dominated
    out = cea.icers(strategies(["X", "Y", "Z"], [100, 200, 300], [2.0, 1.0, 2.0]), "name", "cost", "qalys").set_index(
        "strategy"
    )
    assert out["status"].to_dict() == {"X": "reference", "Y": "dominated", "Z": "dominated"}
    # equal cost: the less effective is dominated; identical strategies: the one listed first is kept
    same_cost = cea.icers(strategies(["P", "Q"], [100, 100], [1.0, 2.0]), "name", "cost", "qalys").set_index("strategy")
    assert same_cost["status"].to_dict() == {"Q": "reference", "P": "dominated"}
    twins = cea.icers(strategies(["first", "second"], [100, 100], [1.0, 1.0]), "name", "cost", "qalys").set_index(
        "strategy"
    )
    assert twins["status"].to_dict() == {"first": "reference", "second": "dominated"}
    with pytest.raises(ValueError, match="unique"):
        cea.icers(strategies(["P", "P"], [1, 2], [1, 2]), "name", "cost", "qalys")


def test_frontier_strategies_are_exactly_those_best_at_some_willingness_to_pay():
    """Independent check on random sets: each frontier strategy maximizes NMB between its ICER and the next."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        frame = strategies([f"s{i}" for i in range(n)], rng.uniform(0, 100, n).round(1), rng.uniform(0, 10, n).round(2))
        out = cea.icers(frame, "name", "cost", "qalys")
        frontier = out[out["status"].isin(["reference", "non-dominated"])].reset_index(drop=True)
        bounds = [0.0, *frontier["icer"].iloc[1:].tolist(), math.inf]
        assert all(np.diff(bounds) >= 0), "ICERs along the frontier must not decrease"
        for k, row in frontier.iterrows():
            lo, hi = bounds[k], bounds[k + 1]
            wtp = (lo + hi) / 2 if math.isfinite(hi) else 2 * lo + 1
            nmb = wtp * frame["qalys"] - frame["cost"]
            assert nmb.max() == pytest.approx(wtp * row["effect"] - row["cost"])
        # the off-frontier strategies are never strictly best at any of those points or at the ICERs
        for wtp in [b for b in bounds if math.isfinite(b)] + [(a + b) / 2 for a, b in zip(bounds[:-2], bounds[1:-1])]:
            nmb = wtp * frame["qalys"] - frame["cost"]
            best_on_frontier = (wtp * frontier["effect"] - frontier["cost"]).max()
            assert nmb.max() <= best_on_frontier + 1e-9


def test_two_strategy_labels_on_the_reports_comparisons():
    # Table 6.G: continued vs planned termination -33,749 NOK and +0.069 QALY per year: dominant
    assert cea.dominance(-33_749, 0.069) == "dominant"
    assert math.isnan(cea.icer(-33_749, 0.069))
    # continued vs unplanned termination: 103,344 / 0.122 = 847,082, printed 845,087 (from unrounded inputs)
    assert cea.dominance(103_344, 0.122) == "more costly, more effective"
    assert round(cea.icer(103_344, 0.122)) == 847_082
    lo, hi = cea.icer_range_from_rounded(103_344, 0.122, effect_decimals=3)
    assert lo <= 845_087 <= hi
    assert round(103_344 / 845_087, 3) == 0.122  # the QALY gain implied by the printed ICER rounds to the print
    # Table 6.E: 1,514,427 / 0.883 = 1,715,093 against the printed 1,714,495, again within rounding of the 0.883
    assert round(cea.icer(1_514_427, 0.883)) == 1_715_093
    lo, hi = cea.icer_range_from_rounded(1_514_427, 0.883, effect_decimals=3)
    assert lo <= 1_714_495 <= hi
    # Table 6.K: net cost after offsets, then dominant in both comparisons
    assert -33_749 - 20_750 - 2_443 == -56_942 and cea.dominance(-56_942, 0.069) == "dominant"
    assert 103_344 - 108_102 - 1_782 == -6_540 and cea.dominance(-6_540, 0.122) == "dominant"


def test_other_quadrants_and_ties():
    assert cea.dominance(100, -0.1) == "dominated"
    assert cea.dominance(0, -0.1) == "dominated"
    assert cea.dominance(-100, 0.0) == "dominant"
    assert cea.dominance(0, 0) == "equivalent"
    assert cea.dominance(-100, -0.1) == "less costly, less effective"
    # south-west: the ratio 1,000 NOK per QALY belongs to the comparator (the saving per QALY given up), not printed
    assert math.isnan(cea.icer(-100, -0.1))


# --- the one ICER rule (cea.icer, used by cea.compare and by the tables of section 6.7) -----------------


@pytest.mark.parametrize(
    "delta_cost, delta_effect, status, ratio",
    [
        (100_000, 0.125, "more costly, more effective", 800_000.0),  # 100,000 / 0.125 by hand
        (-50_000, 0.2, "dominant", None),  # cheaper and better: no price to pay
        (0, 0.2, "dominant", None),  # the same cost, more QALYs
        (50_000, -0.2, "dominated", None),  # dearer and worse
        (50_000, 0.0, "dominated", None),  # dearer, no gain
        (-50_000, -0.2, "less costly, less effective", None),  # south-west: the ratio is the comparator's
        (0, 0, "equivalent", None),
        (100, 0.0004, "more costly, more effective", None),  # 0.0004 QALY prints as 0.000: no ICER
        (100, 0.0005, "more costly, more effective", 200_000.0),  # 100 / 0.0005, the smallest difference with one
        (math.nan, 0.1, "", None),
    ],
)
def test_icer_rule_by_hand(delta_cost, delta_effect, status, ratio):
    result = cea.comparison(delta_cost, delta_effect)
    assert result["status"] == status
    if ratio is None:
        assert math.isnan(result["icer"]) and math.isnan(cea.icer(delta_cost, delta_effect))
    else:
        assert result["icer"] == pytest.approx(ratio) and cea.icer(delta_cost, delta_effect) == pytest.approx(ratio)


@pytest.mark.parametrize(
    "delta_cost, delta_effect", [(100_000, 0.125), (-50_000, 0.2), (50_000, -0.2), (-50_000, -0.2), (30, 3.0)]
)
def test_icer_rule_is_the_intervention_s_icer_on_a_two_strategy_frontier(delta_cost, delta_effect):
    # dampack: an intervention gets an ICER only as the dearer non-dominated strategy, against the reference
    frame = strategies(["comparator", "intervention"], [1_000_000, 1_000_000 + delta_cost], [1.0, 1.0 + delta_effect])
    frontier = cea.icers(frame, "name", "cost", "qalys").set_index("strategy")
    expected = frontier.at["intervention", "icer"]
    got = cea.icer(delta_cost, delta_effect)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)
    # and the labels agree: a dominated intervention is "dominated" there, a dominant one the reference
    label = cea.dominance(delta_cost, delta_effect)
    if label == "dominated":
        assert frontier.at["intervention", "status"] == "dominated"
    if label == "dominant":
        assert (
            frontier.at["intervention", "status"] == "reference" and frontier.at["comparator", "status"] == "dominated"
        )


def test_compare_and_the_cost_utility_tables_apply_the_same_rule():
    from analysis.sections import cost_utility as cu

    means = pd.DataFrame(
        {
            "group": ["continued", "planned", "unplanned"],
            "cost": [500_000.0, 600_000.0, 450_000.0],
            "qalys": [0.600, 0.700, 0.5998],
        }
    )
    out = cea.compare(means, "group", "cost", "qalys", "continued").set_index("comparator")
    # dearer planned group with more QALYs: south-west for continued, no ICER; a 0.0002 QALY gap: no ICER
    assert out.at["planned", "status"] == "less costly, less effective" and math.isnan(out.at["planned", "icer"])
    assert out.at["unplanned", "status"] == "more costly, more effective" and math.isnan(out.at["unplanned", "icer"])
    table = pd.DataFrame(
        {"group": ["continued", "discontinued"], "cost_mean": [300_000.0, 100_000.0], "qaly_mean": [1.5, 1.25]}
    )
    assert cu.accumulated_icer(table) == {
        "delta_cost": 200_000.0,
        "delta_qaly": 0.25,
        "icer": 800_000.0,
        "status": "more costly, more effective",
    }


def test_compare_group_means_like_table_6g():
    means = pd.DataFrame(
        {
            "group": ["continued", "planned", "unplanned"],
            "cost": [500_000.0, 533_749.0, 396_656.0],
            "qalys": [0.600, 0.531, 0.478],
        }
    )
    out = cea.compare(means, "group", "cost", "qalys", "continued").set_index("comparator")
    assert out.at["planned", "delta_cost"] == pytest.approx(-33_749) and out.at["planned", "status"] == "dominant"
    assert out.at["unplanned", "delta_cost"] == pytest.approx(103_344)
    assert out.at["unplanned", "delta_effect"] == pytest.approx(0.122)
    assert out.at["unplanned", "icer"] == pytest.approx(103_344 / 0.122)


# --- net monetary benefit --------------------------------------------------------------------------


def test_net_monetary_benefit_sign():
    assert cea.net_monetary_benefit(103_344, 0.122, 825_000) == pytest.approx(0.122 * 825_000 - 103_344)
    assert cea.net_monetary_benefit(103_344, 0.122, 825_000) < 0  # the ICER exceeds the threshold
    assert cea.net_monetary_benefit(103_344, 0.122, 900_000) > 0
    assert cea.net_monetary_benefit(-33_749, 0.069, 0) > 0  # a dominant option gains at any WTP
    grid = np.array([0.0, 100.0])
    assert np.allclose(
        cea.net_monetary_benefit(np.array([10.0, -5.0]), np.array([1.0, 0.5]), grid[:, None]),
        [[-10.0, 5.0], [90.0, 55.0]],
    )


def test_nmb_curve_crosses_zero_at_the_icer():
    curve = cea.nmb_curve(100_000, 0.2, [0, 250_000, 500_000, 1_000_000])
    assert curve["inmb"].tolist() == pytest.approx([-100_000, -50_000, 0, 100_000])


# --- difference-in-differences --------------------------------------------------------------------


def did_rows() -> pd.DataFrame:
    # treated: 12 and 8 before (mean 10), 5 and 3 after (mean 4); comparison: 9 and 11 before (10), 8 and 8 after (8)
    return pd.DataFrame(
        {
            "patient": ["T1", "T2", "T1", "T2", "C1", "C2", "C1", "C2"],
            "continued": [True, True, True, True, False, False, False, False],
            "period": ["before", "before", "after", "after"] * 2,
            "cost": [12.0, 8.0, 5.0, 3.0, 9.0, 11.0, 8.0, 8.0],
        }
    )


def test_did_on_a_two_by_two():
    frame = did_rows()
    # (4 - 10) - (8 - 10) = -4: costs fell by 4 more in the treated group; the report's offset would be +4
    assert cea.difference_in_differences(frame, "continued", "period", "cost", after="after") == pytest.approx(-4.0)
    cells = cea.did_cells(frame, "continued", "period", "cost", after="after").set_index(["group", "period"])
    assert cells.at[("treated", "before"), "mean"] == 10 and cells.at[("comparison", "after"), "mean"] == 8
    assert (cells["n"] == 2).all()


def test_did_needs_named_levels_when_ambiguous():
    frame = did_rows()
    frame.loc[0, "period"] = "during"
    with pytest.raises(ValueError, match="after"):
        cea.difference_in_differences(frame, "continued", "period", "cost")


def test_bootstrap_did_is_seeded_and_brackets_the_estimate():
    frame = did_rows()
    a = cea.bootstrap_did(
        frame, "continued", "period", "cost", unit="patient", after="after", n_replicates=2000, seed=3
    )
    b = cea.bootstrap_did(
        frame, "continued", "period", "cost", unit="patient", after="after", n_replicates=2000, seed=3
    )
    pd.testing.assert_frame_equal(a, b)
    row = a.iloc[0]
    assert row["estimate"] == pytest.approx(-4.0)
    assert row["ci_lower"] <= -4.0 <= row["ci_upper"]
    # with every patient changing by the same amount within a group there is nothing to resample
    flat = pd.DataFrame(
        {
            "patient": ["T1", "T2", "T1", "T2", "C1", "C2", "C1", "C2"],
            "g": [1, 1, 1, 1, 0, 0, 0, 0],
            "p": [0, 0, 1, 1, 0, 0, 1, 1],
            "y": [10.0, 20.0, 4.0, 14.0, 10.0, 20.0, 8.0, 18.0],
        }
    )
    out = cea.bootstrap_did(flat, "g", "p", "y", unit="patient", n_replicates=500, seed=1).iloc[0]
    assert out["estimate"] == pytest.approx(-4.0)
    # a resample may hold T1 twice: its before and after means still change by exactly -6 and -2
    assert out["ci_lower"] == pytest.approx(-4.0) and out["ci_upper"] == pytest.approx(-4.0)


# --- bootstrap, CE plane, CEAC, EVPI ---------------------------------------------------------------


def patients(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = {"continued": 68, "planned": 32, "unplanned": 16}
    rows = []
    for group, n in sizes.items():
        base = {"continued": (1_000_000, 0.60), "planned": (950_000, 0.52), "unplanned": (900_000, 0.47)}[group]
        rows.append(
            pd.DataFrame(
                {"group": group, "cost": rng.normal(base[0], 200_000, n), "qalys": rng.normal(base[1], 0.2, n)}
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_bootstrap_is_reproducible_and_centred():
    frame = patients()
    a = unc.bootstrap_deltas(frame, "group", "cost", "qalys", "continued", "unplanned", n_replicates=5000, seed=42)
    b = unc.bootstrap_deltas(frame, "group", "cost", "qalys", "continued", "unplanned", n_replicates=5000, seed=42)
    c = unc.bootstrap_deltas(frame, "group", "cost", "qalys", "continued", "unplanned", n_replicates=5000, seed=43)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert len(a) == 5000 and a["replicate"].tolist() == list(range(5000))
    means = frame.groupby("group")[["cost", "qalys"]].mean()
    observed = means.loc["continued"] - means.loc["unplanned"]
    se_cost = (
        frame.groupby("group")["cost"]
        .std()
        .pow(2)
        .div(frame.groupby("group").size())
        .loc[["continued", "unplanned"]]
        .sum()
        ** 0.5
    )
    assert abs(a["delta_cost"].mean() - observed["cost"]) < 0.1 * se_cost
    assert a["delta_cost"].std() == pytest.approx(se_cost, rel=0.1)


def test_bootstrap_of_constant_groups_is_constant():
    frame = pd.DataFrame(
        {"group": ["a"] * 3 + ["b"] * 2, "cost": [5.0] * 3 + [2.0] * 2, "qalys": [0.5] * 3 + [0.25] * 2}
    )
    deltas = unc.bootstrap_deltas(frame, "group", "cost", "qalys", "a", "b", n_replicates=100, seed=1)
    assert np.allclose(deltas["delta_cost"], 3.0) and np.allclose(deltas["delta_effect"], 0.25)
    summary = unc.bootstrap_summary(deltas).set_index("statistic")
    assert summary.at["icer", "mean"] == pytest.approx(12.0)
    assert summary.at["icer", "ci_lower"] == pytest.approx(12.0) and summary.at["icer", "ci_upper"] == pytest.approx(
        12.0
    )


def test_icer_interval_is_withheld_when_replicates_cross_zero_effect():
    deltas = pd.DataFrame({"replicate": [0, 1], "delta_cost": [10.0, 10.0], "delta_effect": [0.1, -0.1]})
    summary = unc.bootstrap_summary(deltas).set_index("statistic")
    assert math.isnan(summary.at["icer", "ci_lower"])


def known_deltas() -> pd.DataFrame:
    # four replicates, one in each quadrant
    return pd.DataFrame(
        {"replicate": [0, 1, 2, 3], "delta_cost": [100.0, -50.0, 200.0, -10.0], "delta_effect": [1.0, 0.5, -1.0, -0.2]}
    )


def test_ce_plane_quadrants_and_shares():
    plane = unc.ce_plane(known_deltas(), wtp=150)
    assert plane["quadrant"].tolist() == ["NE", "SE", "NW", "SW"]
    assert plane["inmb"].tolist() == pytest.approx([50.0, 125.0, -350.0, -20.0])
    assert plane["cost_effective"].tolist() == [True, True, False, False]
    shares = unc.quadrant_shares(known_deltas()).set_index("quadrant")["share"]
    assert shares.tolist() == [0.25] * 4


def test_ceac_at_zero_is_the_share_cheaper():
    deltas = known_deltas()
    curve = unc.ceac(deltas, [0, 100, 1e9])
    assert curve["probability"].iloc[0] == pytest.approx((deltas["delta_cost"] < 0).mean())
    # at WTP 100: INMB = 0, 100, -300, -10 -> one of four positive (0 is not a gain)
    assert curve["probability"].iloc[1] == pytest.approx(0.25)
    # at a huge WTP only the effect counts
    assert curve["probability"].iloc[2] == pytest.approx((deltas["delta_effect"] > 0).mean())
    frame = patients()
    boot = unc.bootstrap_deltas(frame, "group", "cost", "qalys", "continued", "planned", n_replicates=2000, seed=5)
    assert unc.ceac(boot, [0.0])["probability"].iloc[0] == pytest.approx((boot["delta_cost"] < 0).mean())


def test_ceac_of_several_strategies_sums_to_one():
    replicates = unc.bootstrap_means(patients(), "group", "cost", "qalys", n_replicates=1000, seed=9)
    curves = unc.ceac_strategies(replicates, [0, 500_000, 2_000_000])
    assert curves.groupby("wtp")["probability"].sum().tolist() == pytest.approx([1.0, 1.0, 1.0])
    # at WTP 0 the cheapest strategy on average (unplanned, by construction) wins most often
    at_zero = curves[curves["wtp"] == 0].set_index("strategy")["probability"]
    assert at_zero.idxmax() == "unplanned"


def test_evpi_on_a_small_known_distribution():
    # two equally likely states: (cost +100, QALY +1) and (cost +100, QALY -1)
    deltas = pd.DataFrame({"replicate": [0, 1], "delta_cost": [100.0, 100.0], "delta_effect": [1.0, -1.0]})
    out = unc.evpi(deltas, [0.0, 300.0]).set_index("wtp")["evpi"]
    # WTP 0: INMB -100 in both states, the comparator always wins: nothing to learn
    assert out[0.0] == pytest.approx(0.0)
    # WTP 300: INMB +200 or -400; choosing on the mean (-100) keeps the comparator, perfect information gains
    # 200 half the time
    assert out[300.0] == pytest.approx(100.0)
    # the same from per-strategy net benefits: mean of max minus max of mean, and dampack's min expected loss
    long = pd.DataFrame(
        {
            "replicate": [0, 1, 0, 1],
            "group": ["new", "new", "old", "old"],
            "cost": [100.0, 100.0, 0.0, 0.0],
            "effect": [1.0, -1.0, 0.0, 0.0],
        }
    )
    assert unc.evpi_strategies(long, [300.0])["evpi"].iloc[0] == pytest.approx(100.0)
    nmb = np.array([[200.0, 0.0], [-400.0, 0.0]])
    expected_loss = (nmb.max(axis=1, keepdims=True) - nmb).mean(axis=0)
    assert expected_loss.min() == pytest.approx(100.0)


def test_evpi_is_zero_when_one_strategy_always_wins():
    dominant = pd.DataFrame(
        {"replicate": range(50), "delta_cost": np.linspace(-1000, -10, 50), "delta_effect": np.linspace(0.01, 0.5, 50)}
    )
    assert np.allclose(unc.evpi(dominant)["evpi"], 0.0)
    boot = unc.bootstrap_means(patients(), "group", "cost", "qalys", n_replicates=500, seed=2)
    assert (unc.evpi_strategies(boot, [0, 825_000])["evpi"] >= -1e-9).all()


def test_population_evpi():
    assert unc.population_evpi(100.0, 50) == pytest.approx(5000.0)
    assert unc.population_evpi(100.0, 50, years=2, discount_rate=0.04) == pytest.approx(5000.0 * (1 + 1 / 1.04))
    assert unc.population_evpi(np.array([1.0, 2.0]), 10).tolist() == [10.0, 20.0]


# --- one-way sensitivity -------------------------------------------------------------------------


def test_tornado_ranks_by_range():
    def model(a, b, value_set):
        return 2 * a + b + {"Norway": 0.0, "England": 3.0}[value_set]

    base = {"a": 1.0, "b": 1.0, "value_set": "Norway"}
    out = unc.one_way_sensitivity(
        model,
        base,
        {"a": (0.0, 2.0), "b": (0.0, 10.0), "value_set": ("Norway", "England")},
        labels={"value_set": "EQ-5D value set"},
    )
    assert out["parameter"].tolist() == ["b", "a", "value_set"]
    assert out["range"].tolist() == pytest.approx([10.0, 4.0, 3.0])
    row = out.set_index("parameter").loc["a"]
    assert row["outcome_low"] == pytest.approx(1.0) and row["outcome_high"] == pytest.approx(5.0)
    assert (out["base_outcome"] == 3.0).all()
    assert out.set_index("parameter").at["value_set", "label"] == "EQ-5D value set"
    as_frame = unc.one_way_sensitivity(
        model, base, pd.DataFrame({"parameter": ["a"], "low": [0.0], "high": [2.0], "label": ["A"]})
    )
    assert as_frame["label"].tolist() == ["A"]
    with pytest.raises(ValueError, match="base value"):
        unc.one_way_sensitivity(model, base, {"c": (0, 1)})


# --- charts ---------------------------------------------------------------------------------------


def compiles(chart: alt.TopLevelMixin) -> dict:
    spec = chart.to_dict()
    vlc.vegalite_to_vega(spec, vl_version=charts.vega_lite_version())  # raises on an invalid spec
    return spec


def test_charts_build_valid_specs():
    charts.enable()
    deltas = unc.bootstrap_deltas(
        patients(), "group", "cost", "qalys", "continued", "unplanned", n_replicates=300, seed=1
    )
    plane = compiles(cea_charts.ce_plane_chart(unc.ce_plane(deltas), estimate=(0.1, 50_000), max_points=200))
    assert len(plane["layer"]) == 5
    compiles(cea_charts.ceac_chart(unc.ceac(deltas)))
    replicates = unc.bootstrap_means(patients(), "group", "cost", "qalys", n_replicates=100, seed=1)
    compiles(cea_charts.ceac_chart(unc.ceac_strategies(replicates, [0, 1e6])))
    compiles(cea_charts.evpi_chart(unc.evpi(deltas)))
    tornado = unc.one_way_sensitivity(lambda a, b: a * b, {"a": 1.0, "b": 2.0}, {"a": (0.5, 1.5), "b": (1.0, 4.0)})
    compiles(cea_charts.tornado_chart(tornado, "ICER (NOK per QALY)"))


def test_nmb_chart_has_a_willingness_to_pay_slider():
    comparisons = pd.DataFrame(
        {"comparison": ["vs planned", "vs unplanned"], "delta_cost": [-33_749, 103_344], "delta_effect": [0.069, 0.122]}
    )
    spec = compiles(cea_charts.nmb_slider_chart(comparisons))
    params = spec["params"]
    assert params[0]["name"] == "wtp" and params[0]["value"] == 825_000
    assert params[0]["bind"]["input"] == "range"
