"""What the generator's searches aim at: one declared row per published figure that a search steers to.

A row names the search (where its code is, ``module.function``, so that a reader can go to it), the
ledger key of the figure, and the unit its miss is measured in: a share of the ledger's tolerance (half
the printed precision, the margin the calibration report judges by) or, where a search weighs figures of
different units against each other, a scale of its own. The searches read their figures, targets and
units from here (:func:`keys`, :func:`table`, :func:`unit`; a loss adds up :func:`squared_miss`), and the calibration report names, for every
figure, the searches that aim at it (its column ``aimed_by``, :func:`aimed_by`), so that a figure the
report shows as missed leads to the search to look at.

Figures that the generator meets by construction (counts drawn exactly, shares rounded to a count, dates
laid down) have no row: no search steers to them. A search may still judge a figure that is not here in
its own terms (a count reached exactly, a p-value's significance kept); its docstring says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthetic.targets import published, tolerance

#: Where each search is (``module.function``, or a class), by what it does.
AGES = "core._ages"  # the patients' ages at first admission
COST_FIT = "costfit.CostTuner"  # the episodes' dates (the tuner's moves and the integer programmes of CostFit)
SAMPLE = "economics.choose_sample"  # which eligible patients form the cost-utility sample
LEVELS = "economics.tune_levels"  # the EQ-5D-5L levels of the sample (aims: economics.qaly_aims)
DATES = "questionnaires._tune_dates"  # the questionnaires' days inside their windows
DAYS_OF_USE = "questionnaires._days_values"  # first and last days of use of a substance
CRIME_DAYS = "questionnaires._crime_days"  # first and last crime days
MENTAL_HEALTH = "questionnaires._tune_mental_p"  # swaps of mental-health answers
SYMPTOMS = "questionnaires._somatic"  # counts of acute symptoms and chronic conditions


@dataclass(frozen=True)
class Aim:
    """One published figure a search steers to, and the unit its miss is measured in."""

    search: str
    key: str  # ledger key
    share: float = 1.0  # of the ledger's tolerance: the unit, unless ``scale`` is given
    scale: float | None = None  # the search's own unit, where it weighs figures of different units

    @property
    def target(self) -> float:
        return published(self.key)

    @property
    def unit(self) -> float:
        return self.scale if self.scale is not None else self.share * tolerance(self.key)


AIMS: tuple[Aim, ...] = (
    # section 6.2: mean ages, all and by sex and clinic, well inside their rounding (the range is laid down)
    Aim(AGES, "s6_2_mean_age_years", scale=0.035),
    Aim(AGES, "s6_2_mean_age_men_years", scale=0.035),
    Aim(AGES, "s6_2_mean_age_women_years", scale=0.035),
    Aim(AGES, "s6_2_mean_age_oslo_years", scale=0.035),
    Aim(AGES, "s6_2_mean_age_bergen_years", scale=0.035),
    # Tables 6.D-6.G as far as the episodes' dates decide them: programme costs, days, follow-up years
    Aim(COST_FIT, "t6d_continued_cost_mean"),
    Aim(COST_FIT, "t6d_continued_cost_sd"),
    Aim(COST_FIT, "t6d_continued_days_in_treatment"),
    Aim(COST_FIT, "t6d_discontinued_cost_mean"),
    Aim(COST_FIT, "t6d_discontinued_cost_sd"),
    Aim(COST_FIT, "t6d_discontinued_days_in_treatment"),
    Aim(COST_FIT, "t6f_continued_followup_years"),
    Aim(COST_FIT, "t6f_planned_termination_followup_years"),
    Aim(COST_FIT, "t6f_unplanned_termination_followup_years"),
    Aim(COST_FIT, "t6g_cont_vs_planned_delta_cost"),
    Aim(COST_FIT, "t6g_cont_vs_unplanned_delta_cost"),
    Aim(COST_FIT, "t6e_delta_cost"),
    # the same figures once more, in the choice of the sample's patients: one loss in kroner, days and
    # years, so each figure has a scale of its own (a krone matters less than a day)
    Aim(SAMPLE, "t6d_continued_cost_mean", scale=2000.0),
    Aim(SAMPLE, "t6d_continued_cost_sd", scale=4000.0),
    Aim(SAMPLE, "t6d_continued_days_in_treatment", scale=1.0),
    Aim(SAMPLE, "t6d_discontinued_cost_mean", scale=2000.0),
    Aim(SAMPLE, "t6d_discontinued_cost_sd", scale=4000.0),
    Aim(SAMPLE, "t6d_discontinued_days_in_treatment", scale=1.0),
    Aim(SAMPLE, "t6f_continued_followup_years", scale=0.003),
    Aim(SAMPLE, "t6f_planned_termination_followup_years", scale=0.01),
    Aim(SAMPLE, "t6f_unplanned_termination_followup_years", scale=0.003),
    Aim(SAMPLE, "t6g_cont_vs_planned_delta_cost", scale=3000.0),
    Aim(SAMPLE, "t6g_cont_vs_unplanned_delta_cost", scale=3000.0),
    # QALYs of Tables 6.D-6.G (6.F's continued and planned means contradict 6.D, whose figures are aimed at)
    Aim(LEVELS, "t6d_continued_qaly_mean"),
    Aim(LEVELS, "t6d_continued_qaly_sd"),
    Aim(LEVELS, "t6f_continued_qaly_median"),
    Aim(LEVELS, "t6f_continued_qaly_sd"),
    Aim(LEVELS, "t6d_discontinued_qaly_mean"),
    Aim(LEVELS, "t6d_discontinued_qaly_sd"),
    Aim(LEVELS, "t6f_planned_termination_qaly_median"),
    Aim(LEVELS, "t6f_unplanned_termination_qaly_median"),
    Aim(LEVELS, "t6f_unplanned_termination_qaly_mean"),
    Aim(LEVELS, "t6f_unplanned_termination_qaly_sd"),
    Aim(LEVELS, "t6g_cont_vs_planned_delta_qaly"),
    Aim(LEVELS, "t6g_cont_vs_unplanned_delta_qaly"),
    Aim(LEVELS, "t6e_delta_qaly"),
    # Supplementary Table A: mean months of the first and last measurement, well inside the rounding
    Aim(DATES, "sta_stable_living_first_measurement_months", share=0.8),
    Aim(DATES, "sta_stable_living_last_measurement_months", share=0.8),
    Aim(DATES, "sta_occupation_first_measurement_months", share=0.8),
    Aim(DATES, "sta_occupation_last_measurement_months", share=0.8),
    Aim(DATES, "sta_victim_of_crime_first_measurement_months", share=0.8),
    Aim(DATES, "sta_victim_of_crime_last_measurement_months", share=0.8),
    Aim(DATES, "sta_perpetrator_of_crime_first_measurement_months", share=0.8),
    Aim(DATES, "sta_perpetrator_of_crime_last_measurement_months", share=0.8),
    Aim(DATES, "sta_money_food_first_measurement_months", share=0.8),
    Aim(DATES, "sta_money_food_last_measurement_months", share=0.8),
    Aim(DATES, "sta_money_other_first_measurement_months", share=0.8),
    Aim(DATES, "sta_money_other_last_measurement_months", share=0.8),
    Aim(DATES, "sta_frequent_polysubstance_first_measurement_months", share=0.8),
    Aim(DATES, "sta_frequent_polysubstance_last_measurement_months", share=0.8),
    Aim(DATES, "sta_days_heroin_first_measurement_months", share=0.8),
    Aim(DATES, "sta_days_heroin_last_measurement_months", share=0.8),
    Aim(DATES, "sta_days_cocaine_first_measurement_months", share=0.8),
    Aim(DATES, "sta_days_cocaine_last_measurement_months", share=0.8),
    Aim(DATES, "sta_days_benzodiazepine_first_measurement_months", share=0.8),
    Aim(DATES, "sta_days_benzodiazepine_last_measurement_months", share=0.8),
    # Supplementary Table A: SD of the change in days of use (the means are met exactly by their sums)
    Aim(DAYS_OF_USE, "sta_days_heroin_sd", share=0.6),
    Aim(DAYS_OF_USE, "sta_days_cocaine_sd", share=0.6),
    Aim(DAYS_OF_USE, "sta_days_benzodiazepine_sd", share=0.6),
    # Table 6.L: SD of the annualized change in crime days (the means are met exactly by their sums)
    Aim(CRIME_DAYS, "t6l_annualized_change_crime_days_sd", scale=0.004),
    # section 6.4: the p-value of mental health at 12 months (statsmodels' fit is within twice this)
    Aim(MENTAL_HEALTH, "s6_4_mental_health_12m_p_value", scale=0.0002),
    # section 6.4: baseline counts of acute symptoms and chronic conditions (quartiles pinned exactly)
    Aim(SYMPTOMS, "s6_4_acute_symptoms_baseline_mean", scale=0.02),
    Aim(SYMPTOMS, "s6_4_acute_symptoms_baseline_sd", scale=0.02),
    Aim(SYMPTOMS, "s6_4_chronic_conditions_baseline_mean", scale=0.2),
    Aim(SYMPTOMS, "s6_4_chronic_conditions_baseline_sd", scale=0.2),
)


def of(search: str) -> tuple[Aim, ...]:
    """The aims of one search, in the order declared (the order its loss adds them up)."""
    return tuple(aim for aim in AIMS if aim.search == search)


def keys(search: str) -> tuple[str, ...]:
    """The ledger keys one search aims at, in the order declared."""
    return tuple(aim.key for aim in of(search))


def unit(search: str, key: str) -> float:
    """The unit in which ``search`` measures its miss of ``key``; a figure it does not aim at is an error."""
    for aim in of(search):
        if aim.key == key:
            return aim.unit
    raise KeyError(f"{search} does not aim at {key} (synthetic.aims.AIMS)")


def table(search: str) -> dict[str, tuple[float, float]]:
    """Key -> (published target, unit of the miss) of every aim of ``search``, read once for a search's loop."""
    return {aim.key: (aim.target, aim.unit) for aim in of(search)}


def squared_miss(value, target: float, unit: float):
    """The miss of ``value`` from ``target`` in units of ``unit``, squared: the term every search's loss
    adds up (one per figure aimed at)."""
    return ((value - target) / unit) ** 2


def aimed_by(key: str) -> str:
    """The searches that aim at ``key`` ("; " between them, in the order declared), or "" for none."""
    return "; ".join(dict.fromkeys(aim.search for aim in AIMS if aim.key == key))
