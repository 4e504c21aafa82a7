"""The lifetime model of the Markov appendix, as a page runs it: what it glues, and what a rerun withholds."""

import math

import pytest

from analysis.presentation import disclosure, formats
from analysis.presentation.edition import open_page
from analysis.sections.markov_appendix import lifetime_model

INPUTS = dict(
    horizon_age=100,
    discount_rate=0.04,
    comparator="out",
    death_in_treatment=None,
    death_out=None,
    death_after_leaving=None,
    tunnel_months=12,
    mortality_doubling_years=None,
    oat_exit_per_year=0.20,
    reentry_per_year=0.10,
    cost_hat_per_year=None,
    cost_oat_per_year=100_000,
    cost_out_per_year=0.0,
    utility_oat=None,
    utility_out=None,
    psa_draws=50,
    psa_seed=2026,
    psa_relative_se=0.2,
    scenario_doubling_years=8,
)


@pytest.fixture(scope="module")
def published():
    return lifetime_model(open_page("all", 2025, None, 5, glue_words=False), **INPUTS)


def test_published_model_glues_numbers_as_plain_floats_and_its_icer_is_the_ratio(published):
    glued = published.glued
    assert not published.withheld and published.sentences["markov_reason"] == " "
    assert glued["markov_horizon_age"] == 100.0 and isinstance(glued["markov_horizon_age"], float)
    assert glued["markov_discount_percent"] == pytest.approx(4.0)
    assert glued["markov_icer"] == pytest.approx(glued["markov_delta_cost"] / glued["markov_delta_qalys"])
    assert glued["markov_status"] == "more costly, more effective"
    assert glued["markov_icer_vs_wtp"] == ("above" if glued["markov_icer"] > glued["markov_wtp"] else "below")
    assert published.results_table["ICER (NOK per QALY)"].iloc[-1] == formats.nok(glued["markov_icer"])
    assert published.scenario_table["Scenario"].iloc[0] == "Base case"
    assert published.scenario_table["ICER (NOK per QALY)"].iloc[0] == formats.nok(glued["markov_icer"])


def test_a_rerun_with_a_high_threshold_withholds_every_cohort_result_but_not_the_assumptions():
    model = lifetime_model(open_page("Bergen", 2022, None, 1000, glue_words=False), **INPUTS)
    assert model.withheld and model.mark == disclosure.WITHHELD
    assert model.glued["markov_icer"] == disclosure.WITHHELD and model.glued["markov_start_age"] == disclosure.WITHHELD
    assert model.glued["markov_oat_exit_percent"] == pytest.approx(20.0)  # an assumption: always shown
    assert model.sentences["markov_reason"].startswith("Its results are withheld")
    assert set(model.results_table.iloc[:, 1]) == {disclosure.WITHHELD}
    assert not math.isnan(model.params.cost_oat)
