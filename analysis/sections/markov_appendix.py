"""The appendix "A lifetime model": the Markov cohort model of :mod:`analysis.sections.markov` fed by an edition's
data, run in its base case, its probabilistic sensitivity analysis and its scenarios.

:func:`lifetime_model` takes the page's inputs (its parameters cell) and returns everything the page
shows and glues (:class:`LifetimeModel`). The definitions:

* three inputs come from the cohort: the monthly probability of leaving HAT and the planned share of
  discharges (:func:`markov.hat_exits`), the utility in HAT (:func:`markov.hat_utility`); the cost of a
  year of HAT follows Table 6.C's rule (the clinics' accounts over the treatment days in the data); the
  starting age is the cohort's mean age at admission;
* an input left ``None`` takes its default: mortality from the Norwegian OAT registry
  (:func:`markov.registry_mortality`), the utilities of OAT and of no treatment as HAT's less the report's
  annualised QALY gains over planned and unplanned termination (Table 6.G);
* in a rerun the results are *withheld* ("–") when a count they rest on (patients, planned or unplanned
  discharges, patients with a utility) is below the threshold, or would give a small count back set
  against the other editions of the year (and so, when the cost of HAT comes from the data, its treatment
  days); they are "n/a" when the cohort has no discharge or no follow-up answer to estimate from. Inputs
  that do not depend on the patients (assumptions, published figures) are always shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.data.published import published_table
from analysis.methods import uncertainty as unc
from analysis.presentation import disclosure, formats
from analysis.presentation import linked_suppression as ls
from analysis.presentation.edition import BUNDLED_COHORT
from analysis.sections import cost_utility as cu
from analysis.sections import markov as mk

#: Months in the five years after which the trace's shares are stated.
FIVE_YEARS = 60


@dataclass
class LifetimeModel:
    """What the appendix shows: ``glued`` (key -> a plain number or a word, glued as it is), ``sentences``
    (key -> Markdown), the three tables, the inputs of the charts and of the exercises."""

    params: mk.Parameters
    n_cycles: int
    withheld: bool
    mark: str
    placeholder_text: str
    traces: pd.DataFrame
    result: pd.Series
    plane: pd.DataFrame
    running: pd.DataFrame
    glued: dict
    sentences: dict
    inputs_table: pd.DataFrame
    results_table: pd.DataFrame
    scenario_table: pd.DataFrame

    def icer_cell(self, row) -> str:
        """The ICER as a table shows it: a price per QALY, the quadrant when there is no meaningful ratio,
        the disclosure mark when the results are withheld."""
        if self.withheld:
            return self.mark
        return formats.nok(row["icer"]) if np.isfinite(row["icer"]) else row["status"]


def _withholding(page, exits: dict, utility: dict, cost_from_data: bool) -> tuple[bool, str, str]:
    """Whether the model's results are withheld, the mark shown instead ("–" or "n/a") and why, in words."""
    cohort, sdc = page.cohort, page.sdc
    # in a rerun, a model fed by a handful of patients or discharges would give them back: its results are withheld
    few = disclosure.any_small([len(cohort.patients), exits["planned"], exits["unplanned"], utility["patients"]], sdc)
    # so it is when a count it rests on, or the treatment days behind its cost of HAT (Table 6.C's total), must be hidden
    # to protect the other editions of the year: both clinics less Oslo would give a small one of Bergen's back
    linked = bool(ls.linked_hidden(page, mk.model_counts).any()) or (
        cost_from_data and cu.linked_program_marks(page)["patient_days"].iloc[-1] is not None
    )
    withheld = few or linked
    # without a discharge or a follow-up answer the model has no rate of leaving or no utility in HAT to run on
    if exits["discharges"] == 0:
        missing_reason = "No patient of this edition has left HAT, so the rate of leaving cannot be estimated"
    elif not np.isfinite(utility["mean"]):
        missing_reason = (
            "No patient of this edition answered a follow-up questionnaire, so the utility in HAT cannot be estimated"
        )
    else:
        missing_reason = ""
    mark = disclosure.WITHHELD if withheld else formats.NOT_AVAILABLE
    withheld = withheld or bool(missing_reason)  # without the model's inputs its results are not shown ("n/a")
    reason = (
        f"{missing_reason}: the model's results show n/a."
        if missing_reason and mark == formats.NOT_AVAILABLE
        else "Its results are withheld (–) in this edition: too few patients or discharges."
        if withheld and few
        else "Its results are withheld (–) in this edition: set against the other editions of its year, the numbers of "
        "patients, discharges or treatment days it rests on would give a small one back."
        if withheld
        else ""
    )
    return withheld, mark, reason


class _ModelPart(NamedTuple):
    """What every part of :func:`lifetime_model` uses: the helpers that glue a number or make a table cell (the
    mark of a rerun where results are withheld), whether they are withheld, and the model's number of cycles."""

    put: Callable
    shown: Callable
    compared: Callable
    withheld: bool
    mark: str
    n_cycles: int


def lifetime_model(
    page,
    *,
    horizon_age,
    discount_rate,
    comparator,
    death_in_treatment,
    death_out,
    death_after_leaving,
    tunnel_months,
    mortality_doubling_years,
    oat_exit_per_year,
    reentry_per_year,
    cost_hat_per_year,
    cost_oat_per_year,
    cost_out_per_year,
    utility_oat,
    utility_out,
    psa_draws,
    psa_seed,
    psa_relative_se,
    scenario_doubling_years,
) -> LifetimeModel:
    """The model of the edition of ``page`` (:class:`analysis.presentation.edition.Page`) with the page's inputs (see the
    appendix's parameters cell): base case, probabilistic sensitivity analysis and scenarios."""
    cohort, edition, sdc = page.cohort, page.edition, page.sdc
    exits = mk.hat_exits(cohort.episodes, cohort.data_end)
    utility = mk.hat_utility(cohort.questionnaires, cohort.episodes)
    start_age = float(pd.to_numeric(cohort.patients["age_at_admission"], errors="coerce").astype(float).mean())
    n_cycles = mk.horizon_cycles(start_age, horizon_age)
    withheld, mark, reason = _withholding(page, exits, utility, cost_hat_per_year is None)
    glued: dict = {}

    def put(key, value, cohort=True):
        """A number as a plain Python number, or the mark a rerun shows instead; ``cohort=False``: a value that
        does not depend on the patients (an assumption, a published figure), shown even when results are withheld."""
        if isinstance(value, str):
            glued[key] = value
        elif withheld and cohort:
            glued[key] = mark
        elif disclosure.is_missing(value):  # e.g. no follow-up answers, no discharges: nothing to compute from
            glued[key] = formats.NOT_AVAILABLE
        else:
            glued[key] = disclosure.derived(float(value), [], sdc)

    def shown(value, decimals):
        """A table cell: the value formatted, or the disclosure mark of a rerun."""
        if withheld:
            return mark
        if disclosure.is_missing(value):
            return formats.NOT_AVAILABLE
        value = disclosure.derived(float(value), [], sdc)
        return value if isinstance(value, str) else formats.number(value, decimals)

    def compared(value, reference):
        """'above' or 'below' ``reference`` (the disclosure mark in a withheld rerun, 'not comparable' for NaN)."""
        if withheld:
            return mark
        return "not comparable with" if not np.isfinite(value) else ("above" if value > reference else "below")

    put("markov_start_age", start_age)
    put("markov_horizon_age", float(horizon_age), cohort=False)
    put("markov_horizon_years", n_cycles / 12)
    put("markov_discount_percent", 100 * discount_rate, cohort=False)
    put("markov_hat_exit_monthly_percent", 100 * exits["probability"])
    put("markov_hat_mean_stay_years", 1 / exits["rate"] / 12 if exits["rate"] > 0 else math.nan)
    put("markov_planned_percent", 100 * exits["planned_share"])
    put("markov_utility_hat", utility["mean"])

    part = _ModelPart(put, shown, compared, withheld, mark, n_cycles)
    options = {
        "horizon_age": horizon_age,
        "discount_rate": discount_rate,
        "comparator": comparator,
        "death_in_treatment": death_in_treatment,
        "death_out": death_out,
        "death_after_leaving": death_after_leaving,
        "tunnel_months": tunnel_months,
        "mortality_doubling_years": mortality_doubling_years,
        "oat_exit_per_year": oat_exit_per_year,
        "reentry_per_year": reentry_per_year,
        "cost_hat_per_year": cost_hat_per_year,
        "cost_oat_per_year": cost_oat_per_year,
        "cost_out_per_year": cost_out_per_year,
        "utility_oat": utility_oat,
        "utility_out": utility_out,
        "psa_draws": psa_draws,
        "psa_seed": psa_seed,
        "psa_relative_se": psa_relative_se,
        "scenario_doubling_years": scenario_doubling_years,
    }
    params, accounts_note, data_words, inputs_table = _model_inputs(part, cohort, edition, exits, utility, options)
    model, comparator_name, report_comparison = _base_case(part, params, glued, reason, inputs_table, edition, options)
    mcse_text = _probabilistic(part, model, params, exits, utility, comparator_name, options)
    _scenarios(part, model, params, options)
    model.sentences = {
        "markov_reason": reason or " ",  # a space: an empty output is dropped
        "markov_accounts_note": accounts_note or " ",
        "markov_data_words": data_words,
        "markov_report_comparison": report_comparison,
        "markov_psa_mcse_text": mcse_text,
    }
    return model


def _model_inputs(part: _ModelPart, cohort, edition, exits, utility, options: dict):
    """The model's inputs: the registry's mortality, the report's utility gaps, the cost of HAT from the clinics'
    accounts over the data's treatment days (or as set), and the page's assumptions; glued, and as the inputs
    table. Returns the parameters, the note on the accounts, the words on the data and the table."""
    put = part.put
    death_in_treatment = options["death_in_treatment"]
    death_out = options["death_out"]
    death_after_leaving = options["death_after_leaving"]
    tunnel_months = options["tunnel_months"]
    mortality_doubling_years = options["mortality_doubling_years"]
    oat_exit_per_year = options["oat_exit_per_year"]
    reentry_per_year = options["reentry_per_year"]
    cost_hat_per_year = options["cost_hat_per_year"]
    cost_oat_per_year = options["cost_oat_per_year"]
    cost_out_per_year = options["cost_out_per_year"]
    utility_oat = options["utility_oat"]
    utility_out = options["utility_out"]
    # --- inputs ---
    mortality = mk.registry_mortality(published_table("oat_registry_2015"))
    gaps = mk.report_utility_gaps(published_table("table_6g_annualized_icer"))
    # the clinics' accounts over the treatment days in the data (Table 6.C's rule): the data's own accounts when the
    # folder brings them, otherwise the published totals
    accounts, accounts_source = cu.edition_accounts(getattr(cohort, "accounts", None))
    hat_costs = cu.program_costs(cu.treatment_days(cohort.episodes, cohort.patients, cohort.data_end), accounts)
    whose = "the clinics'" if edition.clinic == "all" else f"the {edition.clinic} clinic's"
    accounts_note = (
        ""
        if edition.published or cost_hat_per_year is not None
        else cu.accounts_note(
            accounts_source,
            hat_costs,
            whose=whose,
            data_name=edition.source_text,
            report_days=cu.published_patient_days(edition.clinic_names, hat_costs["year"].unique()),
        )
    )
    if edition.data_source != "synthetic":
        data_words = f"In this edition the cohort is {edition.source_text}; the three cohort-based inputs, and every result, come from it."
    else:
        data_words = (
            "In this edition the cohort is synthetic"
            + ("" if edition.data_name == BUNDLED_COHORT else f" ({edition.source_text})")
            + "; with the evaluation's real records the three cohort-based inputs, and every result, would be recomputed."
        )
    cost_hat = cost_hat_per_year if cost_hat_per_year is not None else mk.hat_cost_per_year_from(hat_costs)
    params = mk.Parameters(
        hat_exit_rate=exits["rate"],
        planned_share=exits["planned_share"],
        oat_exit=oat_exit_per_year,
        reentry=reentry_per_year,
        death_treatment=death_in_treatment if death_in_treatment is not None else mortality["in_treatment"],
        death_out=death_out if death_out is not None else mortality["waiting_list"],
        death_after_leaving=death_after_leaving if death_after_leaving is not None else mortality["after_leaving"],
        cost_hat=cost_hat,
        cost_oat=cost_oat_per_year,
        cost_out=cost_out_per_year,
        utility_hat=utility["mean"],
        utility_oat=utility_oat if utility_oat is not None else utility["mean"] - gaps["oat"],
        utility_out=utility_out if utility_out is not None else utility["mean"] - gaps["out"],
        tunnel_months=tunnel_months,
        mortality_doubling_years=mortality_doubling_years,
    )
    put("markov_death_treatment_percent", 100 * params.death_treatment, cohort=False)
    put("markov_death_out_percent", 100 * params.death_out, cohort=False)
    put("markov_death_after_percent", 100 * params.death_after_leaving, cohort=False)
    put("markov_tunnel_months", float(tunnel_months), cohort=False)
    put("markov_oat_exit_percent", 100 * oat_exit_per_year, cohort=False)
    put("markov_reentry_percent", 100 * reentry_per_year, cohort=False)
    put("markov_cost_hat", cost_hat, cohort=cost_hat_per_year is None)  # from the data's treatment days unless set
    put("markov_cost_oat", cost_oat_per_year, cohort=False)
    put("markov_utility_oat", params.utility_oat)
    put("markov_utility_out", params.utility_out)
    inputs_table = _inputs_table(part.shown, exits, params, cost_hat, options)
    return params, accounts_note, data_words, inputs_table


def _inputs_table(shown, exits, params, cost_hat, options: dict) -> pd.DataFrame:
    """The model's inputs as a table: each input, its base-case value (a rerun's mark where results are
    withheld), its source and its distribution in the probabilistic analysis."""
    oat_exit_per_year = options["oat_exit_per_year"]
    reentry_per_year = options["reentry_per_year"]
    tunnel_months = options["tunnel_months"]
    cost_hat_per_year = options["cost_hat_per_year"]
    cost_oat_per_year = options["cost_oat_per_year"]
    cost_out_per_year = options["cost_out_per_year"]
    utility_oat = options["utility_oat"]
    utility_out = options["utility_out"]
    return pd.DataFrame(
        [
            (
                "Leaving HAT, per month (probability)",
                shown(exits["probability"], 4),
                "Cohort: discharges / person-months in HAT",
                "Gamma (discharges, person-months)",
            ),
            (
                "Planned share of discharges (to OAT)",
                shown(exits["planned_share"], 3),
                "Cohort: discharge type",
                "Beta (planned, unplanned)",
            ),
            ("Leaving OAT, per year", format(oat_exit_per_year, ".3f"), "Assumption", "Beta"),
            ("Entering OAT when out, per year", format(reentry_per_year, ".3f"), "Assumption", "Beta"),
            (
                "Death in HAT or OAT, per year",
                format(params.death_treatment, ".3f"),
                "OAT registry 1997–2003 (review of OMT outcomes)",
                "Beta",
            ),
            (
                "Death out of treatment, per year",
                format(params.death_out, ".3f"),
                "OAT registry 1997–2003 (waiting for OAT)",
                "Beta",
            ),
            (
                "Death after leaving treatment, per year",
                format(params.death_after_leaving, ".3f"),
                "OAT registry 1997–2003 (after leaving OAT)",
                "Beta",
            ),
            ("Months of higher risk after leaving", str(int(tunnel_months)), "Assumption", "Fixed"),
            (
                "Cost of HAT, NOK per year",
                shown(cost_hat, 0),
                "Clinic accounts over the treatment days in the data (Table 6.C's rule)"
                if cost_hat_per_year is None
                else "Assumption",
                "Gamma",
            ),
            ("Cost of OAT, NOK per year", format(cost_oat_per_year, ",.0f"), "Assumption", "Gamma"),
            (
                "Cost out of treatment, NOK per year",
                format(cost_out_per_year, ",.0f"),
                "Programme costs only",
                "Gamma (fixed when zero)",
            ),
            (
                "Utility in HAT",
                shown(params.utility_hat, 3),
                "Cohort: EQ-5D-5L after admission",
                "Beta (cohort mean and standard error)",
            ),
            (
                "Utility in OAT",
                shown(params.utility_oat, 3),
                "HAT less the Table 6.G gain over planned termination" if utility_oat is None else "Assumption",
                "HAT less a beta difference",
            ),
            (
                "Utility out of treatment",
                shown(params.utility_out, 3),
                "HAT less the Table 6.G gain over unplanned termination" if utility_out is None else "Assumption",
                "HAT less a beta difference",
            ),
        ],
        columns=["Input", "Base case", "Source", "Probabilistic analysis"],
    )


def _base_case(part: _ModelPart, params, glued, reason, inputs_table, edition, options: dict):
    """The trace and the base case: the strategies' life-years, costs and QALYs, the increments and the ICER
    against the report's and the threshold. Returns the model (its other tables still empty), the comparator's
    name and the sentence comparing the ICER with the report's."""
    put = part.put
    shown = part.shown
    compared = part.compared
    withheld = part.withheld
    mark = part.mark
    n_cycles = part.n_cycles
    discount_rate = options["discount_rate"]
    comparator = options["comparator"]
    mortality_doubling_years = options["mortality_doubling_years"]
    # --- the trace and the base case ---
    traces = mk.strategy_traces(params, n_cycles, comparator)
    at = traces.set_index(["start", "cycle", "state"])["share"]  # strategies by id: "hat" is HAT available
    put(
        "markov_hat_after_5y_percent",
        100 * at["hat", FIVE_YEARS, "hat"] if n_cycles >= FIVE_YEARS else math.nan,
    )
    put(
        "markov_oat_after_5y_percent",
        100 * at["hat", FIVE_YEARS, "oat"] if n_cycles >= FIVE_YEARS else math.nan,
    )
    put("markov_alive_at_horizon_percent", 100 * (1 - at["hat", n_cycles, "dead"]))
    put(
        "markov_mortality_rule",
        "does not change with age"
        if mortality_doubling_years is None
        else f"doubles every {mortality_doubling_years:g} years of age",
    )
    strategies = mk.compare_strategies(params, n_cycles, discount_rate, comparator)
    result = mk.incremental(strategies).iloc[0]
    by = strategies.set_index("start")  # strategies by id: "hat" is HAT available, the comparator's is comparator
    comparator_name = mk.COMPARATORS[comparator]
    put("markov_ly_hat", by.loc["hat", "life_years"])
    put("markov_ly_comparator", by.loc[comparator, "life_years"])
    put("markov_qalys_hat", by.loc["hat", "qalys"])
    put("markov_qalys_comparator", by.loc[comparator, "qalys"])
    put("markov_cost_hat_arm", by.loc["hat", "costs"])
    put("markov_cost_comparator", by.loc[comparator, "costs"])
    put("markov_delta_cost", result["delta_cost"])
    put("markov_delta_qalys", result["delta_effect"])
    put("markov_delta_ly", result["delta_life_years"])
    put("markov_status", mark if withheld else result["status"])
    put("markov_icer", result["icer"])
    put("markov_wtp", unc.WTP_SEVERE, cohort=False)
    report_icer = float(
        published_table("table_6g_annualized_icer")
        .set_index("comparison")
        .loc["continued_vs_unplanned_termination", "icer_nok_per_qaly"]
    )
    put("markov_report_icer", report_icer, cohort=False)

    put("markov_icer_vs_wtp", compared(result["icer"], unc.WTP_SEVERE))
    put("markov_icer_vs_report", compared(result["icer"], report_icer))
    if edition.published:  # a comparison with the report's print
        report_comparison = (
            f", and {compared(result['icer'], report_icer)} the report's annualised ICER of {formats.nok(report_icer)} "
            "NOK per QALY for continued HAT against unplanned termination (Table 6.G). The two answer different questions."
        )
    else:
        report_comparison = (
            ". It answers a different question from the annualised ICER of continued HAT against unplanned termination in "
            "section 6.7."
        )
    model = LifetimeModel(
        params=params,
        n_cycles=n_cycles,
        withheld=withheld,
        mark=mark,
        placeholder_text=reason or "Withheld in this edition: too few patients or discharges.",
        traces=traces,
        result=result,
        plane=pd.DataFrame(),
        running=pd.DataFrame(),
        glued=glued,
        sentences={},
        inputs_table=inputs_table,
        results_table=pd.DataFrame(),
        scenario_table=pd.DataFrame(),
    )
    model.results_table = pd.DataFrame(
        {
            "Strategy": [mk.HAT_AVAILABLE, comparator_name, "Difference"],
            "Life-years (undiscounted)": [
                shown(by.loc["hat", "life_years"], 2),
                shown(by.loc[comparator, "life_years"], 2),
                shown(result["delta_life_years"], 2),
            ],
            "Costs (NOK, discounted)": [
                shown(by.loc["hat", "costs"], 0),
                shown(by.loc[comparator, "costs"], 0),
                shown(result["delta_cost"], 0),
            ],
            "QALYs (discounted)": [
                shown(by.loc["hat", "qalys"], 3),
                shown(by.loc[comparator, "qalys"], 3),
                shown(result["delta_effect"], 3),
            ],
            "ICER (NOK per QALY)": ["", "", model.icer_cell(result)],
        }
    )
    return model, comparator_name, report_comparison


def _probabilistic(part: _ModelPart, model, params, exits, utility, comparator_name, options: dict) -> str:
    """The probabilistic sensitivity analysis: intervals, the cost-effectiveness plane, the Monte Carlo error of
    its figures and the running estimate (set on ``model``). Returns the sentences on the Monte Carlo error."""
    put = part.put
    withheld = part.withheld
    mark = part.mark
    n_cycles = part.n_cycles
    discount_rate = options["discount_rate"]
    comparator = options["comparator"]
    psa_draws = options["psa_draws"]
    psa_seed = options["psa_seed"]
    psa_relative_se = options["psa_relative_se"]
    # --- probabilistic sensitivity analysis ---
    draws = mk.psa(
        params,
        n_cycles,
        discount_rate,
        exits,
        utility,
        n_draws=psa_draws,
        seed=psa_seed,
        relative_se=psa_relative_se,
        comparator=comparator,
    )
    interval = unc.bootstrap_summary(draws).set_index("statistic")
    model.plane = unc.ce_plane(draws, unc.WTP_SEVERE)
    put("markov_psa_draws", float(psa_draws), cohort=False)
    put("markov_psa_relative_se_percent", 100 * psa_relative_se, cohort=False)
    put("markov_psa_cost_lower", interval.loc["delta_cost", "ci_lower"])
    put("markov_psa_cost_upper", interval.loc["delta_cost", "ci_upper"])
    put("markov_psa_qalys_lower", interval.loc["delta_effect", "ci_lower"])
    put("markov_psa_qalys_upper", interval.loc["delta_effect", "ci_upper"])
    put("markov_psa_cost_effective_percent", 100 * model.plane["cost_effective"].mean())
    if withheld:
        icer_interval = mark
    elif np.isfinite(interval.loc["icer", "ci_lower"]):
        icer_interval = (
            f"runs from {interval.loc['icer', 'ci_lower']:,.0f} to {interval.loc['icer', 'ci_upper']:,.0f} NOK per QALY"
        )
    else:
        icer_interval = "is not given here, since some draws lose QALYs and a ratio changes meaning across zero"
    put("markov_psa_icer_interval", icer_interval)
    put("markov_psa_more_effective_percent", 100 * (draws["delta_effect"] > 0).mean())
    # the Monte Carlo error of the draws' figures, the replicate rule and the running estimate it watches
    psa_mcse = unc.bootstrap_mcse(draws, unc.WTP_SEVERE)
    put("markov_psa_mcse_prob", 100 * psa_mcse["probability"])
    put("markov_psa_mcse_cost_lower", psa_mcse["delta_cost_lower"])
    put("markov_psa_mcse_cost_upper", psa_mcse["delta_cost_upper"])
    put("markov_psa_mcse_qalys_lower", psa_mcse["delta_effect_lower"])
    put("markov_psa_mcse_qalys_upper", psa_mcse["delta_effect_upper"])
    put("markov_psa_mcse_evpi", psa_mcse["evpi"])
    mcse_text = (
        mark
        if withheld
        else cu.mcse_sentences(
            psa_mcse,
            float(model.plane["cost_effective"].mean()),
            psa_seed,
            comparison=f"against the comparator ({comparator_name.lower()})",
            what="The probabilistic analysis",
            unit="draws",
            subject="HAT available",
            cost_words="the incremental cost",
            qaly_words="the QALY gain",
        )
    )
    model.running = unc.running_probability(draws, unc.WTP_SEVERE, step=20)
    return mcse_text


def _scenarios(part: _ModelPart, model, params, options: dict) -> None:
    """The scenarios, each switching one thing away from the base case; their table is set on ``model``."""
    put = part.put
    shown = part.shown
    n_cycles = part.n_cycles
    discount_rate = options["discount_rate"]
    comparator = options["comparator"]
    mortality_doubling_years = options["mortality_doubling_years"]
    scenario_doubling_years = options["scenario_doubling_years"]
    # --- scenarios: each switches one thing away from the base case, whatever the base case is ---
    care = published_table("table_6i_specialist_care_reductions").set_index("key")[
        "cost_reduction_nok_per_patient_year"
    ]
    extra_care = float(care["t6i_cont_vs_unplanned_total_specialist"])
    put("markov_extra_care_cost", extra_care, cohort=False)
    other_start = "oat" if comparator == "out" else "out"
    start_label = {
        "oat": "the comparison world starts in conventional OAT",
        "out": "the comparison world starts out of treatment",
    }[other_start]
    if mortality_doubling_years is None:
        ageing_params = mk.with_inputs(params, mortality_doubling_years=scenario_doubling_years)
        ageing_label = f"every death hazard doubles over {scenario_doubling_years:g} years of age, a typical pace for adult human mortality"
    else:
        ageing_params = mk.with_inputs(params, mortality_doubling_years=None)
        ageing_label = "mortality stays constant with age, as the registry figures are"
    put("markov_scenario_start", start_label)
    put("markov_scenario_ageing", ageing_label)
    scenarios = [
        ("base", "Base case", params, comparator, discount_rate),
        (
            "care",
            "Other specialist care out of treatment (Table 6.I)",
            mk.with_inputs(params, cost_out=params.cost_out + extra_care),
            comparator,
            discount_rate,
        ),
        ("start", start_label[0].upper() + start_label[1:], params, other_start, discount_rate),
        ("ageing", ageing_label[0].upper() + ageing_label[1:].split(",")[0], ageing_params, comparator, discount_rate),
        (
            "no_tunnel",
            "No extra risk after leaving treatment",
            mk.with_inputs(params, death_after_leaving=params.death_out),
            comparator,
            discount_rate,
        ),
        ("undiscounted", "No discounting", params, comparator, 0.0),
    ]
    rows = []
    for name, label, scenario_params, start, rate in scenarios:
        one = mk.incremental(mk.compare_strategies(scenario_params, n_cycles, rate, start)).iloc[0]
        rows.append({"name": name, "label": label, **one.to_dict()})
    scenario_results = pd.DataFrame(rows).set_index("name")
    put("markov_icer_extra_care", scenario_results.loc["care", "icer"])
    put("markov_icer_other_start", scenario_results.loc["start", "icer"])
    put("markov_icer_ageing", scenario_results.loc["ageing", "icer"])
    put("markov_delta_ly_ageing", scenario_results.loc["ageing", "delta_life_years"])
    model.scenario_table = pd.DataFrame(
        {
            "Scenario": scenario_results["label"],
            "Incremental cost (NOK)": [shown(v, 0) for v in scenario_results["delta_cost"]],
            "Incremental QALYs": [shown(v, 3) for v in scenario_results["delta_effect"]],
            "Incremental life-years": [shown(v, 2) for v in scenario_results["delta_life_years"]],
            "ICER (NOK per QALY)": [model.icer_cell(row) for _, row in scenario_results.iterrows()],
        }
    )
