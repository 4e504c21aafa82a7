"""The Markov cohort model (analysis.sections.markov) on cases whose answer is known by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.data.published import published_table
from analysis.methods import cea
from analysis.methods import uncertainty as unc
from analysis.sections import markov as mk


def base(**changes) -> mk.Parameters:
    """A fixture of plausible inputs (not the cohort's)."""
    values = dict(
        hat_exit_rate=0.02,
        planned_share=0.6,
        oat_exit=0.2,
        reentry=0.1,
        death_treatment=0.014,
        death_out=0.024,
        death_after_leaving=0.034,
        cost_hat=900_000.0,
        cost_oat=100_000.0,
        cost_out=0.0,
        utility_hat=0.62,
        utility_oat=0.55,
        utility_out=0.50,
        tunnel_months=6,
    )
    values.update(changes)
    return mk.Parameters(**values)


EXITS = {"discharges": 60, "planned": 36, "unplanned": 24, "person_months": 3000.0}
UTILITY = {"mean": 0.62, "se": 0.02}


# --- conversions and the transition matrix -------------------------------------------------------------


def test_conversions_by_hand():
    assert mk.annual_probability_to_monthly_rate(0.024) == pytest.approx(-math.log(0.976) / 12)
    assert mk.rate_to_probability(0.5) == pytest.approx(1 - math.exp(-0.5))
    # twelve months at the monthly rate give back the annual probability
    rate = mk.annual_probability_to_monthly_rate(0.034)
    assert 1 - math.exp(-12 * rate) == pytest.approx(0.034)


def test_rows_sum_to_one_and_competing_hazards_split_by_hand():
    params = base()
    matrix = mk.transition_matrix(params)[0]
    names = mk.state_names(params.tunnel_months)
    assert names == ["hat", "oat", "left_1", "left_2", "left_3", "left_4", "left_5", "left_6", "out", "dead"]
    assert np.allclose(matrix.sum(axis=1), 1.0)
    at = {n: i for i, n in enumerate(names)}
    mu = -math.log(1 - 0.014) / 12
    total = mu + 0.02
    leave = 1 - math.exp(-total)
    assert matrix[at["hat"], at["hat"]] == pytest.approx(math.exp(-total))
    assert matrix[at["hat"], at["dead"]] == pytest.approx(leave * mu / total)
    assert matrix[at["hat"], at["oat"]] == pytest.approx(leave * 0.02 * 0.6 / total)
    assert matrix[at["hat"], at["left_1"]] == pytest.approx(leave * 0.02 * 0.4 / total)
    # a tunnel state leads to the next one, the last to out; nobody goes back to HAT
    assert matrix[at["left_3"], at["left_4"]] > 0.9 and matrix[at["left_6"], at["out"]] > 0.9
    assert matrix[:, at["hat"]].sum() == pytest.approx(matrix[at["hat"], at["hat"]])
    assert matrix[at["dead"], at["dead"]] == 1.0


def test_without_a_tunnel_leavers_go_straight_out():
    params = base(tunnel_months=0)
    names = mk.state_names(0)
    assert names == ["hat", "oat", "out", "dead"]
    matrix = mk.transition_matrix(params)[0]
    assert matrix[0, 2] > 0 and np.allclose(matrix.sum(axis=1), 1.0)


def test_tunnel_mortality_applies_for_exactly_the_tunnel_months():
    # start just after leaving, no re-entry: k months at the after-leaving hazard, then the out hazard
    params = base(tunnel_months=3, reentry=0.0)
    names = mk.state_names(3)
    trace = mk.run_cohort(mk.transition_matrix(params), names, "left_1", 5)
    alive = 1 - trace[trace.state == "dead"].set_index("cycle")["share"]
    mu_left = -math.log(1 - 0.034) / 12
    mu_out = -math.log(1 - 0.024) / 12
    assert alive[3] == pytest.approx(math.exp(-3 * mu_left))
    assert alive[5] == pytest.approx(math.exp(-3 * mu_left - 2 * mu_out))
    at_3 = trace[trace.cycle == 3].set_index("state")["share"]
    assert at_3["out"] == pytest.approx(alive[3])


def test_mortality_rising_with_age_doubles_over_the_doubling_time():
    params = base(mortality_doubling_years=8)
    assert mk.mortality_factor(params, 0) == 1.0
    assert mk.mortality_factor(params, 96) == pytest.approx(2.0)
    assert mk.mortality_factor(base(), 500) == 1.0
    early, late = mk.transition_matrix(params, 0)[0], mk.transition_matrix(params, 96)[0]
    dead = mk.state_names(params.tunnel_months).index("dead")
    mu = -math.log(1 - 0.024) / 12
    assert 1 - late[-2, -2] - late[-2, 1] == pytest.approx(late[-2, dead])
    # out: death and re-entry compete; with the hazard doubled the death share of leavers doubles relative to re-entry
    assert late[-2, dead] / late[-2, 1] == pytest.approx(2 * early[-2, dead] / early[-2, 1])
    assert early[-2, dead] / early[-2, 1] == pytest.approx(mu / (-math.log(0.9) / 12))


# --- the trace ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["hat", "oat", "out"])
@pytest.mark.parametrize("doubling", [None, 8.0])
def test_trace_sums_to_one_in_every_cycle(start, doubling):
    params = base(mortality_doubling_years=doubling)
    trace = mk.run_cohort(mk.model_matrices(params), mk.state_names(params.tunnel_months), start, 240)
    sums = trace.groupby("cycle")["share"].sum()
    assert len(sums) == 241
    assert np.allclose(sums, 1.0, atol=1e-12)
    shown = mk.occupancy(trace)
    assert set(shown["state"]) == set(mk.STATES)
    assert np.allclose(shown.groupby("cycle")["share"].sum(), 1.0, atol=1e-12)


def test_run_cohort_is_tidy_by_cycle_and_state():
    trace = mk.run_cohort(np.array([[0.9, 0.1], [0.0, 1.0]]), ["alive", "dead"], "alive", 2)
    assert list(trace.columns) == ["cycle", "years", "state", "share"]
    assert trace["share"].tolist() == pytest.approx([1.0, 0.0, 0.9, 0.1, 0.81, 0.19])
    assert trace["years"].tolist() == pytest.approx([0, 0, 1 / 12, 1 / 12, 2 / 12, 2 / 12])


def closed_form_life_years(p: float, n_cycles: int) -> float:
    """Alive share (1 - p)^t at boundaries t = 0..T, trapezoid weights: sum_t s^t - (1 + s^T) / 2, over 12."""
    s = 1 - p
    return ((1 - s ** (n_cycles + 1)) / (1 - s) - (1 + s**n_cycles) / 2) / 12


def test_two_state_life_years_match_the_closed_form():
    p, n_cycles = 0.004, 600
    trace = mk.run_cohort(np.array([[1 - p, p], [0.0, 1.0]]), ["alive", "dead"], "alive", n_cycles)
    alive = trace[trace.state == "alive"].sort_values("cycle")["share"].to_numpy()
    assert mk.cycle_weights(n_cycles) @ alive / 12 == pytest.approx(closed_form_life_years(p, n_cycles), abs=1e-9)


def test_the_model_reduced_to_alive_and_dead_matches_the_closed_form():
    # nobody leaves HAT: the model is alive (in HAT) / dead with monthly death probability p
    q = 0.05
    p = 1 - (1 - q) ** (1 / 12)
    params = base(hat_exit_rate=0.0, death_treatment=q)
    n_cycles = 480
    trace = mk.run_cohort(mk.transition_matrix(params), mk.state_names(params.tunnel_months), "hat", n_cycles)
    summary = mk.summarise(trace, params, 0.04)
    assert summary["life_years"] == pytest.approx(closed_form_life_years(p, n_cycles), abs=1e-9)
    vectorised = mk.totals(params, "hat", n_cycles, 0.04).iloc[0]
    assert vectorised["life_years"] == pytest.approx(summary["life_years"], abs=1e-9)
    assert vectorised["costs"] == pytest.approx(summary["costs"], rel=1e-12)
    assert vectorised["qalys"] == pytest.approx(summary["qalys"], rel=1e-12)


def test_discounting_a_constant_stream_matches_the_annuity_formula():
    # everyone alive in HAT for 20 years, 1 NOK and 1/12 QALY per month (cost 12 per year, utility 1)
    r, n_cycles = 0.04, 240
    params = base(hat_exit_rate=0.0, death_treatment=0.0, cost_hat=12.0, utility_hat=1.0)
    v = (1 + r) ** (-1 / 12)
    # annuity-due of T monthly payments, less half the difference between the first and the (T+1)-th payment
    annuity = (1 - v**n_cycles) / (1 - v) - (1 - v**n_cycles) / 2
    result = mk.totals(params, "hat", n_cycles, r).iloc[0]
    assert result["costs"] == pytest.approx(annuity, abs=1e-9)
    assert result["qalys"] == pytest.approx(annuity / 12, abs=1e-9)
    assert result["life_years"] == pytest.approx(n_cycles / 12, abs=1e-9)
    summary = mk.summarise(mk.run_cohort(mk.transition_matrix(params), mk.state_names(6), "hat", n_cycles), params, r)
    assert summary["costs"] == pytest.approx(annuity, abs=1e-9)
    assert summary["costs_undiscounted"] == pytest.approx(n_cycles, abs=1e-9)
    assert mk.cycle_weights(n_cycles, r).sum() == pytest.approx(annuity, abs=1e-9)


def test_cycle_weights_halve_the_first_and_last_boundary():
    assert mk.cycle_weights(3).tolist() == [0.5, 1.0, 1.0, 0.5]
    weights = mk.cycle_weights(12, 0.04)
    assert weights[12] == pytest.approx(0.5 / 1.04)


def test_horizon_in_cycles():
    assert mk.horizon_cycles(45.25, 100) == 657
    assert mk.horizon_cycles(100, 100) == 1


# --- strategies and the ICER ---------------------------------------------------------------------


def test_strategy_comparison_gives_icer_and_quadrant():
    params = base()
    strategies = mk.compare_strategies(params, 240, 0.04)
    assert strategies["strategy"].tolist() == [mk.HAT_AVAILABLE, mk.COMPARATORS["out"]]
    result = mk.incremental(strategies).iloc[0]
    costs = strategies.set_index("strategy")["costs"]
    qalys = strategies.set_index("strategy")["qalys"]
    dc = costs[mk.HAT_AVAILABLE] - costs[mk.COMPARATORS["out"]]
    de = qalys[mk.HAT_AVAILABLE] - qalys[mk.COMPARATORS["out"]]
    assert dc > 0 and de > 0
    assert result["status"] == cea.MORE_COSTLY_MORE_EFFECTIVE
    assert result["icer"] == pytest.approx(dc / de)
    assert result["delta_life_years"] > 0  # HAT and OAT carry lower mortality than being out


def test_a_cheaper_and_better_hat_is_dominant_without_an_icer():
    # out of treatment costs more than HAT: HAT saves money and gains QALYs
    params = base(cost_hat=50_000.0, cost_oat=50_000.0, cost_out=200_000.0)
    result = mk.incremental(mk.compare_strategies(params, 240, 0.04)).iloc[0]
    assert result["status"] == cea.DOMINANT
    assert math.isnan(result["icer"])


def test_comparator_starting_in_oat():
    strategies = mk.compare_strategies(base(), 120, 0.04, comparator="oat")
    assert strategies["strategy"].tolist() == [mk.HAT_AVAILABLE, "Conventional OAT"]
    with pytest.raises(ValueError):
        mk.compare_strategies(base(), 120, 0.04, comparator="hat")


def test_vectorised_evaluation_equals_one_draw_at_a_time():
    draws = mk.draw_parameters(base(), 3, 7, EXITS, UTILITY, 0.2)
    together = mk.evaluate(mk.parameters_from_draws(draws, base()), 120, 0.04)
    for i in range(3):
        one = mk.parameters_from_draws(draws.iloc[[i]], base())
        alone = mk.incremental(
            mk.compare_strategies(mk.with_inputs(one, **{n: float(getattr(one, n)[0]) for n in mk.DRAWN}), 120, 0.04)
        )
        assert together.loc[i, "delta_cost"] == pytest.approx(alone.loc[0, "delta_cost"], rel=1e-12)
        assert together.loc[i, "delta_effect"] == pytest.approx(alone.loc[0, "delta_effect"], rel=1e-12)


# --- probabilistic sensitivity analysis --------------------------------------------------------------


def test_psa_is_identical_for_the_same_seed_and_differs_for_another():
    first = mk.psa(base(), 120, 0.04, EXITS, UTILITY, n_draws=50, seed=11)
    again = mk.psa(base(), 120, 0.04, EXITS, UTILITY, n_draws=50, seed=11)
    other = mk.psa(base(), 120, 0.04, EXITS, UTILITY, n_draws=50, seed=12)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["delta_cost"], other["delta_cost"])
    assert len(first) == 50 and first["draw"].tolist() == list(range(50))
    assert {"delta_cost", "delta_effect", "replicate", *mk.DRAWN} <= set(first.columns)


def test_psa_icer_interval_brackets_the_deterministic_icer():
    params = base()
    deterministic = mk.incremental(mk.compare_strategies(params, 240, 0.04)).iloc[0]["icer"]
    draws = mk.psa(params, 240, 0.04, EXITS, UTILITY, n_draws=400, seed=2026)
    summary = unc.bootstrap_summary(draws).set_index("statistic")
    assert (draws["delta_effect"] > 0).all()
    assert summary.loc["icer", "ci_lower"] < deterministic < summary.loc["icer", "ci_upper"]


def test_draws_follow_their_definitions():
    draws = mk.draw_parameters(base(), 20_000, 3, EXITS, UTILITY, 0.2)
    # the exit rate is gamma(discharges, person-months): mean 60 / 3000
    assert draws["hat_exit_rate"].mean() == pytest.approx(0.02, rel=0.01)
    assert draws["planned_share"].mean() == pytest.approx(0.6, abs=0.005)
    assert draws["cost_hat"].mean() == pytest.approx(900_000, rel=0.01)
    assert draws["cost_hat"].std() == pytest.approx(180_000, rel=0.03)
    assert (draws["cost_out"] == 0).all()  # a zero cost stays zero
    assert draws["death_out"].mean() == pytest.approx(0.024, rel=0.01)
    assert draws["utility_hat"].std() == pytest.approx(0.02, rel=0.03)
    # OAT and out lie below HAT by their drawn (positive) differences
    assert (draws["utility_oat"] < draws["utility_hat"]).all() and (draws["utility_out"] < draws["utility_hat"]).all()
    assert (draws["utility_hat"] - draws["utility_out"]).mean() == pytest.approx(0.12, rel=0.01)


def test_no_discharges_keep_the_exit_inputs_fixed():
    exits = {"discharges": 0, "planned": 0, "unplanned": 0, "person_months": 100.0}
    draws = mk.draw_parameters(base(hat_exit_rate=0.0, planned_share=0.0), 10, 1, exits, UTILITY, 0.2)
    assert (draws["hat_exit_rate"] == 0).all() and (draws["planned_share"] == 0).all()


def test_beta_and_gamma_draws_match_their_moments():
    rng = np.random.default_rng(5)
    b = mk.beta_draws(0.3, 0.05, 50_000, rng)
    g = mk.gamma_draws(100.0, 20.0, 50_000, rng)
    assert b.mean() == pytest.approx(0.3, rel=0.01) and b.std() == pytest.approx(0.05, rel=0.03)
    assert g.mean() == pytest.approx(100.0, rel=0.01) and g.std() == pytest.approx(20.0, rel=0.03)
    assert (mk.beta_draws(0.3, float("nan"), 3, rng) == 0.3).all()
    with pytest.raises(ValueError):
        mk.beta_draws(0.5, 0.6, 3, rng)


# --- inputs from the cohort and the published record ---------------------------------------------------


def episodes_fixture() -> pd.DataFrame:
    d = pd.to_datetime
    return pd.DataFrame(
        {
            "episode_id": ["E001", "E002", "E003", "E004"],
            "patient_id": ["P001", "P002", "P003", "P004"],
            "episode_number": [1, 1, 1, 1],
            "admission_date": d(["2024-01-01", "2024-01-01", "2024-07-01", "2025-01-01"]),
            "discharge_date": d(["2024-12-31", "2024-04-10", pd.NaT, pd.NaT]),
            "discharge_type": ["planned", "unplanned", None, None],
            "discharge_reason": ["transition_to_oat", "non_attendance", None, None],
        }
    )


def test_hat_exits_by_hand():
    out = mk.hat_exits(episodes_fixture(), "2025-12-31")
    days = 365 + 100 + 548 + 364  # admission to discharge (or data end) per episode
    assert out["discharges"] == 2 and out["planned"] == 1 and out["unplanned"] == 1
    assert out["person_months"] == pytest.approx(days / (365.25 / 12))
    assert out["rate"] == pytest.approx(2 / (days / (365.25 / 12)))
    assert out["probability"] == pytest.approx(1 - math.exp(-out["rate"]))
    assert out["planned_share"] == 0.5


def test_hat_utility_counts_each_patient_once_and_skips_admission():
    d = pd.to_datetime
    levels = {"11111": (1, 1, 1, 1, 1), "55555": (5, 5, 5, 5, 5)}
    rows = [
        ("P001", 0, "2024-01-02", "55555"),
        ("P001", 3, "2024-04-01", "11111"),
        ("P001", 6, "2024-07-01", "11111"),
        ("P002", 0, "2024-01-02", "11111"),
        ("P002", 3, "2024-04-01", "55555"),
    ]
    frame = pd.DataFrame(
        [
            {
                "patient_id": p,
                "wave": w,
                "questionnaire_date": d(date),
                **{f"eq5d_{k}": v for k, v in zip(("mo", "sc", "ua", "pd", "ad"), levels[code])},
            }
            for p, w, date, code in rows
        ]
    )
    out = mk.hat_utility(frame, episodes_fixture())
    # P001 follow-up mean 1.0, P002 follow-up -0.453 (55555 in the Norwegian value set): mean of the two
    assert out["patients"] == 2 and out["answers"] == 3
    assert out["mean"] == pytest.approx((1.0 - 0.453) / 2, abs=1e-3)
    assert out["se"] == pytest.approx(np.std([1.0, -0.453], ddof=1) / math.sqrt(2), abs=1e-3)


def test_registry_mortality_is_read_from_the_published_table():
    mortality = mk.registry_mortality(published_table("oat_registry_2015"))
    assert mortality == pytest.approx({"waiting_list": 0.024, "in_treatment": 0.014, "after_leaving": 0.034})


def test_hat_cost_per_year_from_table_6c():
    table = published_table("table_6c_program_costs")
    total = table[table.row_type == "total"].iloc[0]
    assert mk.hat_cost_per_year(table) == pytest.approx(total.total_cost_nok / total.patient_days * 365)
    oslo = table[(table.clinic == "Oslo") & (table.year <= 2023)]
    assert mk.hat_cost_per_year(table, "Oslo", 2023) == pytest.approx(
        oslo.total_cost_nok.sum() / oslo.patient_days.sum() * 365
    )


def test_report_utility_gaps_from_table_6g():
    gaps = mk.report_utility_gaps(published_table("table_6g_annualized_icer"))
    assert gaps == pytest.approx({"oat": 0.069, "out": 0.122})


def test_trace_chart_is_a_stacked_area_per_strategy():
    chart = mk.trace_chart(mk.strategy_traces(base(), 36))
    spec = chart.to_dict()
    assert spec["spec"]["mark"]["type"] == "area"
    assert spec["facet"]["column"]["field"] == "strategy"
    years = {row["years"] for row in spec["datasets"][next(iter(spec["datasets"]))]}
    assert years == {0.0, 1.0, 2.0, 3.0}


def test_model_counts_list_patients_discharges_and_answering_patients(monkeypatch):
    episodes = pd.DataFrame(
        {
            "patient_id": [1, 2, 3, 3],
            "admission_date": pd.to_datetime(["2022-01-01", "2022-02-01", "2022-03-01", "2022-09-01"]),
            "discharge_date": pd.to_datetime([None, "2022-06-30", "2022-05-31", None]),
            "discharge_type": [None, "planned", "unplanned", None],
        }
    )
    cohort = type(
        "Cohort",
        (),
        {
            "episodes": episodes,
            "patients": pd.DataFrame({"patient_id": [1, 2, 3]}),
            "questionnaires": None,
            "data_end": pd.Timestamp("2022-12-31"),
        },
    )()
    monkeypatch.setattr(mk, "hat_utility", lambda questionnaires, episodes: {"patients": 2})
    counts = mk.model_counts(cohort)
    assert counts["count"].tolist() == ["patients", "planned", "unplanned", "utility_patients"]
    assert counts["n"].tolist() == [3, 1, 1, 2]


def test_a_small_count_of_bergens_withholds_a_sibling_editions_model_too():
    from analysis.presentation import linked_suppression as ls
    from analysis.presentation.edition import open_page

    # 2023: unplanned discharges both clinics 11, Oslo 9, Bergen 2: Bergen's model goes, and Oslo's or both clinics'
    hidden = {
        c: bool(ls.linked_hidden(open_page(c, 2023, None, 5), mk.model_counts).any()) for c in ("all", "Oslo", "Bergen")
    }
    assert hidden["Bergen"] and (hidden["all"] or hidden["Oslo"])
