"""The consistency audit: what the report's own numbers imply, set against what it prints.

Every check reads the ledger (``data/published/statistics.csv``), recomputes one number from others the
report prints, and compares. A check *flags* a finding when the printed and the implied number differ by
more than the rounding of the printed inputs allows; the tolerance is stated for every check, so a reader
can see why a difference counts. The rules:

* ``parts_vs_total``: rows of a table against the total or n they are said to add up to.
* ``percent_vs_count``: a printed percentage against 100 × count / denominator.
* ``percents_sum``: percentages of mutually exclusive categories against 100.
* ``same_statistic``: one statistic printed in two places.
* ``ratio_vs_inputs``: a ratio (an ICER) against the quotient of its printed inputs.
* ``weighted_mean``: a pooled mean against the size-weighted mean of its subgroups.
* ``time_vs_time``: person-years against patient-days.
* ``percent_vs_parts``: a printed percentage against 100 × count / the sum of the printed counts it is one of.
* ``shares_of_count``: printed shares of a whole count of people against the nearest shares whole numbers
  that add up to the count can give (the implied value is the first share's in the best such split).
* ``percent_of_subgroup``: a percentage of a subgroup whose size is itself a printed share of a count,
  against the nearest percentage a whole number of that subgroup can give.
* ``swapped_columns``: a table's "n (x%)" cell against the share the text gives for the change its
  column is headed with; a finding whose printed value is the text's *other* share means the table's
  two change columns are swapped, count and percentage together.
* ``same_patients``: two rows of a table that count the same patients by the report's definitions, one
  cell of each against the other; a finding takes in every cell of both rows, each being computed over
  the row's patients.
* ``sd_within_range``: a standard deviation against the largest one values confined to a known range
  [lo, hi] can have at their printed mean (the Bhatia–Davis inequality: a variance is at most
  (hi − mean)(mean − lo), times n / (n − 1) for the sample SD). The implied value is that bound at the
  printed mean; the tolerance adds to the SD's half-step the gain in the bound from moving the mean to
  its most favourable value within its rounding. The check is one-sided: only an SD *above* the bound is
  a finding, an SD below it is what most data give.
* ``pooled_sd``: the SD of a pooled group against the SD its subgroups imply (total sum of squares =
  Σ(n_i − 1)s_i² + Σ n_i(m_i − m)², m the size-weighted mean of the subgroup means, SD = √(SS / (N − 1)),
  N = Σ n_i). The tolerance is first-order: each printed subgroup mean and SD moved by its half-step,
  times the partial derivative of the implied SD, plus the pooled SD's half-step.

A check is two-sided (a finding when |printed − implied| > tolerance) unless ``one_sided`` is set, as for
``sd_within_range``, where the implied value is a ceiling: a finding when printed − implied > tolerance.

``certainty`` says how sure the finding is that the report is wrong rather than using an unstated
definition: ``high`` where no reading of the definitions reconciles the numbers, ``medium`` where an
unstated definition could.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analysis.data.units import DAYS_PER_YEAR


@dataclass(frozen=True)
class Check:
    """One audit check: how to get the printed and the implied value from the ledger."""

    id: str
    rule: str
    section: str
    what: str
    reported_key: str
    implied: Callable[[Ledger], float]
    tolerance: Callable[[Ledger], float]
    certainty: str
    inputs: tuple[str, ...]
    #: True where the implied value is a ceiling (``sd_within_range``): only a print above it is a finding.
    one_sided: bool = False


class Ledger:
    """The ledger as lookups: value and rounding step of a key."""

    def __init__(self, statistics: pd.DataFrame):
        indexed = statistics.set_index("key")
        self._values = pd.to_numeric(indexed["value"]).to_dict()
        self._steps = pd.to_numeric(indexed["precision"]).to_dict()

    def value(self, key: str) -> float:
        try:
            return float(self._values[key])
        except KeyError:
            raise KeyError(f"statistics.csv has no key {key!r}") from None

    def half_step(self, key: str) -> float:
        """Half the rounding step of a printed value: how far the true value can be from the print."""
        return float(self._steps[key]) / 2


def _sum(keys):
    return lambda ledger: sum(ledger.value(k) for k in keys)


def _half_steps(*keys):
    return lambda ledger: sum(ledger.half_step(k) for k in keys)


def parts_vs_total(id, section, what, total, parts, certainty="high") -> Check:
    # counts are exact: any difference is a finding
    return Check(
        id, "parts_vs_total", section, what, total, _sum(parts), lambda ledger: 0.0, certainty, (total, *parts)
    )


def percent_vs_count(id, section, what, percent, count, denominator, certainty="high") -> Check:
    return Check(
        id,
        "percent_vs_count",
        section,
        what,
        percent,
        lambda ledger: 100 * ledger.value(count) / ledger.value(denominator),
        _half_steps(percent),
        certainty,
        (percent, count, denominator),
    )


def percents_sum(id, section, what, percents, certainty="high") -> Check:
    # the reported value is 100 by definition; each printed percentage may be off by half its step
    return Check(
        id,
        "percents_sum",
        section,
        what,
        percents[0],
        _sum(percents),
        _half_steps(*percents),
        certainty,
        tuple(percents),
    )


def same_statistic(id, section, what, printed_here, printed_there, certainty="high", sign=1) -> Check:
    """``sign=-1`` where one place prints a reduction and the other the same thing as a cost change."""
    return Check(
        id,
        "same_statistic",
        section,
        what,
        printed_here,
        lambda ledger: sign * ledger.value(printed_there),
        _half_steps(printed_here, printed_there),
        certainty,
        (printed_here, printed_there),
    )


def ratio_vs_inputs(id, section, what, ratio, numerator, denominator, certainty="high") -> Check:
    def implied(ledger):
        return ledger.value(numerator) / ledger.value(denominator)

    def tolerance(ledger):
        # relative rounding errors of a quotient add up
        relative = ledger.half_step(numerator) / abs(ledger.value(numerator)) + ledger.half_step(denominator) / abs(
            ledger.value(denominator)
        )
        return abs(implied(ledger)) * relative + ledger.half_step(ratio)

    return Check(
        id, "ratio_vs_inputs", section, what, ratio, implied, tolerance, certainty, (ratio, numerator, denominator)
    )


def weighted_mean(id, section, what, pooled, means, sizes, certainty="medium") -> Check:
    def implied(ledger):
        total = sum(ledger.value(n) for n in sizes)
        return sum(ledger.value(m) * ledger.value(n) for m, n in zip(means, sizes)) / total

    def tolerance(ledger):
        total = sum(ledger.value(n) for n in sizes)
        return sum(ledger.half_step(m) * ledger.value(n) for m, n in zip(means, sizes)) / total + ledger.half_step(
            pooled
        )

    return Check(id, "weighted_mean", section, what, pooled, implied, tolerance, certainty, (pooled, *means, *sizes))


def percent_vs_parts(id, section, what, percent, count, parts, certainty="high") -> Check:
    return Check(
        id,
        "percent_vs_parts",
        section,
        what,
        percent,
        lambda ledger: 100 * ledger.value(count) / sum(ledger.value(k) for k in parts),
        _half_steps(percent),
        certainty,
        (percent, count, *parts),
    )


def nearest_share(percent: float, whole: int) -> float:
    """The percentage k / whole (k a whole number) nearest to ``percent``."""
    return 100 * round(percent * whole / 100) / whole


def best_split(percents: list[float], whole: int) -> list[int]:
    """Whole numbers adding up to ``whole`` whose shares come nearest the printed ``percents``.

    "Nearest" minimises the largest distance between a share and its print; each part is tried within
    two of its print, which is enough for printed percentages.
    """
    from itertools import product

    centres = [round(p * whole / 100) for p in percents[:-1]]
    best, best_gap = None, float("inf")
    for head in product(*[range(max(0, c - 2), c + 3) for c in centres]):
        last = whole - sum(head)
        if last < 0:
            continue
        parts = [*head, last]
        gap = max(abs(100 * k / whole - p) for k, p in zip(parts, percents))
        if gap < best_gap:
            best, best_gap = parts, gap
    assert best is not None, "no split of the whole is within two of every print"
    return best


def shares_of_count(id, section, what, percents, whole, certainty="high") -> Check:
    def implied(ledger):
        n = int(ledger.value(whole))
        return 100 * best_split([ledger.value(k) for k in percents], n)[0] / n

    return Check(
        id,
        "shares_of_count",
        section,
        what,
        percents[0],
        implied,
        _half_steps(percents[0]),
        certainty,
        (*percents, whole),
    )


def percent_of_subgroup(id, section, what, percent, subgroup_percent, whole, certainty="high") -> Check:
    def implied(ledger):
        subgroup = round(ledger.value(subgroup_percent) * ledger.value(whole) / 100)
        return nearest_share(ledger.value(percent), subgroup)

    return Check(
        id,
        "percent_of_subgroup",
        section,
        what,
        percent,
        implied,
        _half_steps(percent),
        certainty,
        (percent, subgroup_percent, whole),
    )


def swapped_columns(id, section, what, table_cells, text_shares, certainty="high") -> Check:
    """A table's two change columns against the text's two shares of the same changes.

    ``table_cells`` = ((percent_a, count_a), (percent_b, count_b)): the table's "n (x%)" cells in its column
    order; ``text_shares`` = (share_a, share_b): the percentages the text gives for the changes the two
    columns are headed with. Printed is the table's percent_a, implied the text's share_a. Each cell is
    printed as one "n (x%)", so a finding takes in the counts with their percentages.
    """
    (percent_a, count_a), (percent_b, count_b) = table_cells
    share_a, share_b = text_shares
    return Check(
        id,
        "swapped_columns",
        section,
        what,
        percent_a,
        lambda ledger: ledger.value(share_a),
        _half_steps(percent_a, share_a),
        certainty,
        (percent_a, count_a, percent_b, count_b, share_a, share_b),
    )


def same_patients(id, section, what, row_a, row_b, compared, certainty="medium") -> Check:
    """Two table rows over the same patients by definition: ``compared`` = (a key of row_a, the same cell of row_b)."""
    a, b = compared
    rest = tuple(k for k in (*row_a, *row_b) if k not in compared)
    return Check(
        id,
        "same_patients",
        section,
        what,
        a,
        lambda ledger: ledger.value(b),
        _half_steps(a, b),
        certainty,
        (a, b, *rest),
    )


def time_vs_time(id, section, what, person_years, patient_days, certainty="medium") -> Check:
    return Check(
        id,
        "time_vs_time",
        section,
        what,
        person_years,
        lambda ledger: ledger.value(patient_days) / DAYS_PER_YEAR,
        lambda ledger: ledger.half_step(person_years) + ledger.half_step(patient_days) / DAYS_PER_YEAR,
        certainty,
        (person_years, patient_days),
    )


def sd_bound(mean: float, lo: float, hi: float, n: float) -> float:
    """The largest sample SD (ddof=1) that ``n`` values in [lo, hi] with this mean can have (Bhatia–Davis)."""
    spread = max((hi - mean) * (mean - lo), 0.0)
    return (spread * n / (n - 1)) ** 0.5


def sd_within_range(id, section, what, sd, mean, n, lo, hi, certainty="high") -> Check:
    """A printed SD of values in [``lo``, ``hi``] against the Bhatia–Davis bound at its printed mean.

    ``sd``, ``mean`` and ``n`` are ledger keys; ``lo`` and ``hi`` are the range, known from the measure
    (e.g. 0 and 30 for days in the previous 30 days). One-sided: only an SD above the bound is a finding.
    """

    def implied(ledger):
        return sd_bound(ledger.value(mean), lo, hi, ledger.value(n))

    def tolerance(ledger):
        # the bound is largest at the mean nearest the middle of the range that still rounds to the print
        m, h = ledger.value(mean), ledger.half_step(mean)
        favourable = min(max((lo + hi) / 2, m - h), m + h)
        return ledger.half_step(sd) + sd_bound(favourable, lo, hi, ledger.value(n)) - implied(ledger)

    return Check(id, "sd_within_range", section, what, sd, implied, tolerance, certainty, (sd, mean, n), one_sided=True)


def pooled_sd_of(sizes: list[float], means: list[float], sds: list[float]) -> float:
    """The SD (ddof=1) of subgroups pooled into one group, from their sizes, means and SDs."""
    total = sum(sizes)
    grand = sum(n * m for n, m in zip(sizes, means)) / total
    squares = sum((n - 1) * s**2 + n * (m - grand) ** 2 for n, m, s in zip(sizes, means, sds))
    return (squares / (total - 1)) ** 0.5


def pooled_sd(id, section, what, pooled, sizes, means, sds, pooled_n=None, certainty="medium") -> Check:
    """A pooled group's printed SD against the SD its subgroups' printed n, means and SDs imply.

    ``sizes``, ``means`` and ``sds`` are ledger keys, one per subgroup; ``pooled_n`` (optional) names the
    pooled group's printed n, listed among the inputs (the formula uses the sum of the subgroup sizes).
    Tolerance, to first order: Σ |∂SD/∂s_i|·half-step(s_i) + Σ |∂SD/∂m_i|·half-step(m_i) + half-step(pooled),
    with ∂SD/∂s_i = (n_i − 1)s_i / ((N − 1)·SD) and ∂SD/∂m_i = n_i(m_i − m) / ((N − 1)·SD).
    """

    def values(ledger):
        return ([ledger.value(k) for k in sizes], [ledger.value(k) for k in means], [ledger.value(k) for k in sds])

    def implied(ledger):
        return pooled_sd_of(*values(ledger))

    def tolerance(ledger):
        n, m, s = values(ledger)
        sd, total = pooled_sd_of(n, m, s), sum(n)
        grand = sum(a * b for a, b in zip(n, m)) / total
        scale = (total - 1) * sd
        through_sds = sum((ni - 1) * si / scale * ledger.half_step(k) for ni, si, k in zip(n, s, sds))
        through_means = sum(abs(ni * (mi - grand)) / scale * ledger.half_step(k) for ni, mi, k in zip(n, m, means))
        return through_sds + through_means + ledger.half_step(pooled)

    extra = (pooled_n,) if pooled_n else ()
    return Check(
        id, "pooled_sd", section, what, pooled, implied, tolerance, certainty, (pooled, *extra, *sizes, *means, *sds)
    )


H_REASONS = [
    "other_treatment_more_suitable",
    "severe_mental_disorder",
    "risk_of_violence",
    "severe_somatic_disorder",
    "not_in_target_group",
    "new_medications_in_oat",
    "other",
    "not_attended_assessment",
    "reduced_cognitive_function",
    "patient_own_request",
    "admission_pause",
    "risk_of_violence_and_severe_mental_disorder",
    "not_able_to_attend",
]
HOUSING = ["own_home", "rented", "temporary", "municipal_institution", "street", "friends_family_partner", "other"]

#: The cells of a change row and of a days-of-use row of Supplementary Table A (key suffixes).
SUPP_A_CHANGE_CELLS = (
    "n_patients",
    "first_measurement_months",
    "last_measurement_months",
    *(
        f"{change}_{unit}"
        for change in ("positive_to_negative", "negative_to_positive", "no_change")
        for unit in ("n", "percent")
    ),
)
SUPP_A_DAYS_CELLS = (
    "n_patients",
    "first_measurement_months",
    "last_measurement_months",
    "mean_days_first_measurement",
    "mean_days_last_measurement",
    "sd",
)

CHECKS: list[Check] = [
    parts_vs_total(
        "housing_rows_vs_n",
        "6.2",
        "Table 6.A, housing: the categories against the number who answered",
        "t6a_housing_n_valid",
        [f"t6a_housing_{c}_n" for c in HOUSING],
    ),
    percent_vs_count(
        "housing_other_percent",
        "6.2",
        "Table 6.A, housing 'Other': printed percentage against its count",
        "t6a_housing_other_percent",
        "t6a_housing_other_n",
        "t6a_housing_n_valid",
    ),
    percent_vs_count(
        "education_higher_percent",
        "6.2",
        "Table 6.A, higher education: printed percentage against its count",
        "t6a_education_higher_percent",
        "t6a_education_higher_n",
        "t6a_education_n_valid",
    ),
    percent_vs_count(
        "sae_patients_percent",
        "6.5",
        "Share of patients with a serious adverse event against 104 of 136",
        "s6_5_patients_with_sae_percent",
        "s6_5_patients_with_sae_n",
        "s6_1_patients_participated_total",
    ),
    parts_vs_total(
        "in_treatment_vs_started_minus_left",
        "6.1",
        "Patients who started against those in treatment at the end of 2025 plus those who had left",
        "s6_1_patients_participated_total",
        ["s6_1_patients_in_treatment_2025_12_31", "es_left_treatment_n"],
        certainty="medium",
    ),
    time_vs_time(
        "person_years_vs_patient_days",
        "6.1 / 6.7",
        "Person-years in treatment (6.1) against the patient-days of Table 6.C",
        "s6_1_person_years_in_treatment",
        "t6c_all_2022_2025_patient_days",
    ),
    same_statistic(
        "continued_qaly_6d_vs_6f",
        "6.7",
        "QALYs of the continued group (68 patients): Table 6.D against Table 6.F",
        "t6d_continued_qaly_mean",
        "t6f_continued_qaly_mean",
    ),
    weighted_mean(
        "discontinued_qaly_6d_vs_6f",
        "6.7",
        "QALYs of the discontinued group (Table 6.D) against the size-weighted planned and unplanned groups of Table 6.F",
        "t6d_discontinued_qaly_mean",
        ["t6f_planned_termination_qaly_mean", "t6f_unplanned_termination_qaly_mean"],
        ["t6f_planned_termination_n", "t6f_unplanned_termination_n"],
    ),
    pooled_sd(
        "discontinued_qaly_sd_6d_vs_6f",
        "6.7",
        "SD of the discontinued group's QALYs (Table 6.D) against the SD the planned and unplanned groups of "
        "Table 6.F imply when pooled (medium: Table 6.F may compute QALYs another way, as its continued mean "
        "differing from Table 6.D's suggests)",
        "t6d_discontinued_qaly_sd",
        ["t6f_planned_termination_n", "t6f_unplanned_termination_n"],
        ["t6f_planned_termination_qaly_mean", "t6f_unplanned_termination_qaly_mean"],
        ["t6f_planned_termination_qaly_sd", "t6f_unplanned_termination_qaly_sd"],
        pooled_n="t6d_discontinued_n",
    ),
    *(
        sd_within_range(
            f"crime_days_{row}_sd_within_range",
            "6.7",
            f"Table 6.L, crime days at {label}: the SD against the largest SD counts of days between 0 and 30 can "
            f"have at the printed mean. The report does not state the recall period of the crime days, but the "
            f"table's annualized change is twelve times its change, in mean and in SD, so they count days of one month",
            f"t6l_{row}_crime_days_sd",
            f"t6l_{row}_crime_days_mean",
            "s6_7_crime_n_patients",
            0,
            30,
        )
        for row, label in (("baseline", "baseline"), ("last_observation", "the last observation"))
    ),
    ratio_vs_inputs(
        "accumulated_icer_6e",
        "6.7",
        "Accumulated ICER of Table 6.E against its incremental cost and QALYs",
        "t6e_icer",
        "t6e_delta_cost",
        "t6e_delta_qaly",
    ),
    ratio_vs_inputs(
        "annualized_icer_6g",
        "6.7",
        "Annualized ICER of Table 6.G against its incremental cost and QALYs",
        "t6g_cont_vs_unplanned_icer",
        "t6g_cont_vs_unplanned_delta_cost",
        "t6g_cont_vs_unplanned_delta_qaly",
    ),
    same_statistic(
        "supp_d_base_icer_vs_6g",
        "Appendix 4",
        "Base-case ICER of Supplementary Table D against Table 6.G",
        "std_icer_base_case",
        "t6g_cont_vs_unplanned_icer",
    ),
    same_statistic(
        "supp_d_qaly_vs_6g",
        "Appendix 4",
        "Incremental QALYs of Supplementary Table D against Table 6.G",
        "std_incremental_qaly",
        "t6g_cont_vs_unplanned_delta_qaly",
    ),
    same_statistic(
        "supp_d_specialist_offset_vs_6k",
        "Appendix 4",
        "Specialist-care offset of Supplementary Table D against the reduction of Table 6.K (as a cost change)",
        "std_specialist_offset",
        "t6k_cont_vs_unplanned_reduction_specialist",
        sign=-1,
    ),
    same_statistic(
        "summary_somatic_offset_vs_6i",
        "Executive summary",
        "The summary's reduction 'particularly within somatic specialist care' against the somatic row of Table 6.I",
        "es_reduction_other_health_services_per_patient_year",
        "t6i_cont_vs_unplanned_som",
        certainty="medium",
    ),
    same_statistic(
        "oslo_gp_share_6_6_vs_supp_g",
        "6.6",
        "Oslo's primary-care-physician share of referrals: 6.6 against Supplementary Table G",
        "s6_6_referrer_gp_percent_oslo",
        "stg_oslo_primary_care_physician_percent",
    ),
    percent_vs_count(
        "bergen_violence_percent_supp_h",
        "Appendix 5",
        "Supplementary Table H, Bergen, risk of violence: percentage against its count",
        "sth_bergen_risk_of_violence_valid_percent",
        "sth_bergen_risk_of_violence_n",
        "sth_bergen_total_n",
    ),
    percents_sum(
        "supp_h_percents_sum",
        "Appendix 5",
        "Supplementary Table H, both clinics: the reasons' percentages against 100",
        [f"sth_all_{r}_valid_percent" for r in H_REASONS],
    ),
    percents_sum(
        "somatic_burden_24m_sum",
        "6.4",
        "Physical health: severe and low symptom burden at 24 months against 100",
        ["s6_4_somatic_severe_24m_pct", "s6_4_somatic_low_24m_pct"],
    ),
    percent_vs_count(
        "money_for_food_percent_supp_a",
        "Appendix 3",
        "Supplementary Table A, money for food improved: percentage against its count",
        "sta_money_food_negative_to_positive_percent",
        "sta_money_food_negative_to_positive_n",
        "sta_money_food_n_patients",
    ),
    shares_of_count(
        "discharge_timing_shares",
        "6.1",
        "Shares of the 65 discharges leaving within 6 months, at 6-12 months and after 12 months: "
        "within 6 months, printed against its share in the nearest split of 65 whole discharges",
        ["s6_1_left_within_6_months_percent", "s6_1_left_6_to_12_months_percent", "s6_1_left_after_12_months_percent"],
        "s6_1_individuals_discharged",
    ),
    percent_of_subgroup(
        "unplanned_after_12_months",
        "6.1",
        "Unplanned share among those leaving after 12 months (31% of 65 discharges) against the nearest whole-number share",
        "s6_1_over_12_months_unplanned_dropout_percent",
        "s6_1_left_after_12_months_percent",
        "s6_1_individuals_discharged",
    ),
    percent_vs_parts(
        "route_iv_one_month",
        "Appendix 3",
        "Intravenous share of DAM routes at one month against its count out of the three route counts",
        "app3_route_iv_1m_pct",
        "app3_route_iv_1m_n",
        ["app3_route_iv_1m_n", "app3_route_im_1m_n", "app3_route_oral_1m_n"],
    ),
    percent_vs_count(
        "oslo_gp_share_app5_vs_supp_g",
        "Appendix 5",
        "Oslo's primary-care-physician share of referrals in the Appendix 5 text against its count in Supplementary Table G",
        "app5_referrer_gp_percent_oslo",
        "stg_oslo_primary_care_physician_n",
        "stg_oslo_total_n",
    ),
    percent_vs_count(
        "bergen_violence_percent_6_6",
        "6.6",
        "Bergen's share of denials for risk of violence in 6.6 against its count in Supplementary Table H",
        "s6_6_denial_risk_of_violence_percent_bergen",
        "sth_bergen_risk_of_violence_n",
        "sth_bergen_total_n",
    ),
    percent_vs_count(
        "bergen_violence_percent_app5",
        "Appendix 5",
        "Bergen's share of denials for risk of violence in the Appendix 5 text against its count in Supplementary Table H",
        "app5_denial_risk_of_violence_percent_bergen",
        "sth_bergen_risk_of_violence_n",
        "sth_bergen_total_n",
    ),
    percent_vs_count(
        "highest_denial_rate_6_6",
        "6.6",
        "Highest yearly denial rate in 6.6 against 2024's denials and referrals in Supplementary Table F",
        "s6_6_annual_denial_rate_max",
        "stf_2024_denials_n",
        "stf_2024_referrals_n",
    ),
    percent_vs_count(
        "highest_denial_rate_app5",
        "Appendix 5",
        "Highest yearly denial rate in the Appendix 5 text against 2024's denials and referrals in Supplementary Table F",
        "app5_annual_denial_rate_max",
        "stf_2024_denials_n",
        "stf_2024_referrals_n",
    ),
    percent_vs_count(
        "oslo_share_of_patients",
        "6.1",
        "Oslo's share of the patients: percentage against 89 of 136",
        "s6_1_patients_consented_oslo_percent",
        "s6_1_patients_consented_oslo",
        "s6_1_patients_consented_total",
    ),
    swapped_columns(
        "polysubstance_columns_swapped",
        "Appendix 3",
        "Supplementary Table A, frequent polysubstance use: the 'positive to negative' cell against the share "
        "the 6.4 text says became frequent users (the table's two change columns are the other way round)",
        (
            (
                "sta_frequent_polysubstance_positive_to_negative_percent",
                "sta_frequent_polysubstance_positive_to_negative_n",
            ),
            (
                "sta_frequent_polysubstance_negative_to_positive_percent",
                "sta_frequent_polysubstance_negative_to_positive_n",
            ),
        ),
        ("s6_4_freq_poly_worsened_pct", "s6_4_freq_poly_improved_pct"),
    ),
    percent_vs_count(
        "polysubstance_improved_percent_6_4",
        "6.4",
        "Share who stopped frequent polysubstance use in the 6.4 text against its count in Supplementary Table A "
        "(printed in the swapped 'positive to negative' column)",
        "s6_4_freq_poly_improved_pct",
        "sta_frequent_polysubstance_positive_to_negative_n",
        "sta_frequent_polysubstance_n_patients",
    ),
    percent_vs_count(
        "victim_improved_percent_supp_a",
        "Appendix 3",
        "Supplementary Table A, no longer a victim of crime: percentage against its count",
        "sta_victim_of_crime_negative_to_positive_percent",
        "sta_victim_of_crime_negative_to_positive_n",
        "sta_victim_of_crime_n_patients",
    ),
    percent_vs_count(
        "victim_improved_percent_6_4",
        "6.4",
        "Share no longer a victim of crime in the 6.4 text against its count in Supplementary Table A",
        "s6_4_victim_improved_pct",
        "sta_victim_of_crime_negative_to_positive_n",
        "sta_victim_of_crime_n_patients",
    ),
    percent_vs_count(
        "money_for_food_percent_6_4",
        "6.4",
        "Share with more money for food in the 6.4 text against its count in Supplementary Table A",
        "s6_4_money_food_improved_pct",
        "sta_money_food_negative_to_positive_n",
        "sta_money_food_n_patients",
    ),
    *(
        same_patients(
            f"{substance}_frequent_vs_days_rows",
            "Appendix 3",
            f"Supplementary Table A, {substance}: the frequent-use row against the days-of-use row, both over the "
            f"patients who answered the days of {substance} use at two or more waves ({label})",
            [f"sta_frequent_{substance}_{cell}" for cell in SUPP_A_CHANGE_CELLS],
            [f"sta_days_{substance}_{cell}" for cell in SUPP_A_DAYS_CELLS],
            (f"sta_frequent_{substance}_{compared}", f"sta_days_{substance}_{compared}"),
        )
        for substance, compared, label in (
            ("heroin", "first_measurement_months", "months to the first measurement"),
            (
                "cocaine",
                "last_measurement_months",
                "months to the last measurement; the rows also print 26 and 25 patients",
            ),
            ("benzodiazepine", "n_patients", "number of patients"),
        )
    ),
]


def run(statistics: pd.DataFrame, checks: list[Check] | None = None) -> pd.DataFrame:
    """Run the checks on the ledger; one row per check, flagged or not.

    Columns: ``id``, ``rule``, ``section``, ``what``, ``reported`` (as printed, a number), ``implied``
    (recomputed from the other printed numbers; for a one-sided check the ceiling), ``difference``
    (reported − implied), ``tolerance`` (largest difference rounding can explain), ``flagged`` (for a
    one-sided check only a difference above the tolerance), ``certainty``, ``inputs`` (ledger keys).
    """
    ledger = Ledger(statistics)
    rows = []
    for check in checks if checks is not None else CHECKS:
        implied = check.implied(ledger)
        reported = 100.0 if check.rule == "percents_sum" else ledger.value(check.reported_key)
        tolerance = check.tolerance(ledger)
        difference = reported - implied
        rows.append(
            {
                "id": check.id,
                "rule": check.rule,
                "section": check.section,
                "what": check.what,
                "reported": reported,
                "implied": implied,
                "difference": difference,
                "tolerance": tolerance,
                "flagged": (difference if check.one_sided else abs(difference)) > tolerance + 1e-9,
                "certainty": check.certainty,
                "inputs": ", ".join(check.inputs),
            }
        )
    return pd.DataFrame(rows)


# --- the errata page: the figures its prose cites, and the table of all checks --------------------------

#: The figures of the checks that the errata page cites in its prose, under their glue names: (glue name,
#: check id, column of :func:`run`; ``abs_difference`` is the size of the difference, ``mean`` the printed mean
#: with which an SD-against-range check caps the SD).
CITED_FIGURES = (
    ("errata_oslo_share_of_patients_reported", "oslo_share_of_patients", "reported"),
    ("errata_oslo_share_of_patients_implied", "oslo_share_of_patients", "implied"),
    ("errata_housing_rows_vs_n_implied", "housing_rows_vs_n", "implied"),
    ("errata_housing_rows_vs_n_reported", "housing_rows_vs_n", "reported"),
    ("errata_housing_other_percent_reported", "housing_other_percent", "reported"),
    ("errata_housing_other_percent_implied", "housing_other_percent", "implied"),
    ("errata_education_higher_percent_reported", "education_higher_percent", "reported"),
    ("errata_education_higher_percent_implied", "education_higher_percent", "implied"),
    ("errata_sae_patients_percent_reported", "sae_patients_percent", "reported"),
    ("errata_sae_patients_percent_implied", "sae_patients_percent", "implied"),
    ("errata_in_treatment_vs_started_minus_left_implied", "in_treatment_vs_started_minus_left", "implied"),
    ("errata_in_treatment_vs_started_minus_left_reported", "in_treatment_vs_started_minus_left", "reported"),
    ("errata_person_years_vs_patient_days_reported", "person_years_vs_patient_days", "reported"),
    ("errata_person_years_vs_patient_days_implied", "person_years_vs_patient_days", "implied"),
    ("errata_discharge_timing_shares_implied", "discharge_timing_shares", "implied"),
    ("errata_discharge_timing_shares_reported", "discharge_timing_shares", "reported"),
    ("errata_unplanned_after_12_months_reported", "unplanned_after_12_months", "reported"),
    ("errata_unplanned_after_12_months_implied", "unplanned_after_12_months", "implied"),
    ("errata_route_iv_one_month_implied", "route_iv_one_month", "implied"),
    ("errata_route_iv_one_month_reported", "route_iv_one_month", "reported"),
    ("errata_continued_qaly_6d_vs_6f_reported", "continued_qaly_6d_vs_6f", "reported"),
    ("errata_continued_qaly_6d_vs_6f_implied", "continued_qaly_6d_vs_6f", "implied"),
    ("errata_discontinued_qaly_6d_vs_6f_reported", "discontinued_qaly_6d_vs_6f", "reported"),
    ("errata_discontinued_qaly_6d_vs_6f_implied", "discontinued_qaly_6d_vs_6f", "implied"),
    ("errata_discontinued_qaly_sd_6d_vs_6f_implied", "discontinued_qaly_sd_6d_vs_6f", "implied"),
    ("errata_discontinued_qaly_sd_6d_vs_6f_reported", "discontinued_qaly_sd_6d_vs_6f", "reported"),
    ("errata_discontinued_qaly_sd_6d_vs_6f_tolerance", "discontinued_qaly_sd_6d_vs_6f", "tolerance"),
    ("errata_crime_days_baseline_sd_within_range_mean", "crime_days_baseline_sd_within_range", "mean"),
    ("errata_crime_days_baseline_sd_within_range_implied", "crime_days_baseline_sd_within_range", "implied"),
    ("errata_crime_days_baseline_sd_within_range_reported", "crime_days_baseline_sd_within_range", "reported"),
    ("errata_crime_days_last_observation_sd_within_range_mean", "crime_days_last_observation_sd_within_range", "mean"),
    (
        "errata_crime_days_last_observation_sd_within_range_implied",
        "crime_days_last_observation_sd_within_range",
        "implied",
    ),
    (
        "errata_crime_days_last_observation_sd_within_range_reported",
        "crime_days_last_observation_sd_within_range",
        "reported",
    ),
    ("errata_accumulated_icer_6e_reported", "accumulated_icer_6e", "reported"),
    ("errata_annualized_icer_6g_reported", "annualized_icer_6g", "reported"),
    ("errata_accumulated_icer_6e_abs_difference", "accumulated_icer_6e", "abs_difference"),
    ("errata_annualized_icer_6g_abs_difference", "annualized_icer_6g", "abs_difference"),
    ("errata_supp_d_base_icer_vs_6g_reported", "supp_d_base_icer_vs_6g", "reported"),
    ("errata_supp_d_qaly_vs_6g_reported", "supp_d_qaly_vs_6g", "reported"),
    ("errata_supp_d_base_icer_vs_6g_implied", "supp_d_base_icer_vs_6g", "implied"),
    ("errata_supp_d_qaly_vs_6g_implied", "supp_d_qaly_vs_6g", "implied"),
    ("errata_supp_d_specialist_offset_vs_6k_reported", "supp_d_specialist_offset_vs_6k", "reported"),
    ("errata_supp_d_specialist_offset_vs_6k_implied", "supp_d_specialist_offset_vs_6k", "implied"),
    ("errata_summary_somatic_offset_vs_6i_reported", "summary_somatic_offset_vs_6i", "reported"),
    ("errata_summary_somatic_offset_vs_6i_implied", "summary_somatic_offset_vs_6i", "implied"),
    ("errata_oslo_gp_share_6_6_vs_supp_g_reported", "oslo_gp_share_6_6_vs_supp_g", "reported"),
    ("errata_oslo_gp_share_6_6_vs_supp_g_implied", "oslo_gp_share_6_6_vs_supp_g", "implied"),
    ("errata_oslo_gp_share_app5_vs_supp_g_reported", "oslo_gp_share_app5_vs_supp_g", "reported"),
    ("errata_highest_denial_rate_6_6_reported", "highest_denial_rate_6_6", "reported"),
    ("errata_highest_denial_rate_6_6_implied", "highest_denial_rate_6_6", "implied"),
    ("errata_bergen_violence_percent_supp_h_reported", "bergen_violence_percent_supp_h", "reported"),
    ("errata_bergen_violence_percent_supp_h_implied", "bergen_violence_percent_supp_h", "implied"),
    ("errata_supp_h_percents_sum_implied", "supp_h_percents_sum", "implied"),
    ("errata_bergen_violence_percent_6_6_reported", "bergen_violence_percent_6_6", "reported"),
    ("errata_money_for_food_percent_supp_a_reported", "money_for_food_percent_supp_a", "reported"),
    ("errata_money_for_food_percent_supp_a_implied", "money_for_food_percent_supp_a", "implied"),
    ("errata_money_for_food_percent_6_4_reported", "money_for_food_percent_6_4", "reported"),
    ("errata_victim_improved_percent_supp_a_reported", "victim_improved_percent_supp_a", "reported"),
    ("errata_victim_improved_percent_supp_a_implied", "victim_improved_percent_supp_a", "implied"),
    ("errata_polysubstance_columns_swapped_reported", "polysubstance_columns_swapped", "reported"),
    ("errata_polysubstance_columns_swapped_implied", "polysubstance_columns_swapped", "implied"),
    ("errata_polysubstance_improved_percent_6_4_implied", "polysubstance_improved_percent_6_4", "implied"),
    ("errata_polysubstance_improved_percent_6_4_reported", "polysubstance_improved_percent_6_4", "reported"),
    ("errata_benzodiazepine_frequent_vs_days_rows_reported", "benzodiazepine_frequent_vs_days_rows", "reported"),
    ("errata_benzodiazepine_frequent_vs_days_rows_implied", "benzodiazepine_frequent_vs_days_rows", "implied"),
    ("errata_heroin_frequent_vs_days_rows_reported", "heroin_frequent_vs_days_rows", "reported"),
    ("errata_heroin_frequent_vs_days_rows_implied", "heroin_frequent_vs_days_rows", "implied"),
    ("errata_cocaine_frequent_vs_days_rows_reported", "cocaine_frequent_vs_days_rows", "reported"),
    ("errata_cocaine_frequent_vs_days_rows_implied", "cocaine_frequent_vs_days_rows", "implied"),
    ("errata_somatic_burden_24m_sum_implied", "somatic_burden_24m_sum", "implied"),
)


def page_figures(findings: pd.DataFrame, statistics: pd.DataFrame) -> pd.DataFrame:
    """What the errata page glues (columns ``key``, ``value``): the number of checks, of findings, of
    findings with high certainty and of checks that confirm the report, then every figure of
    :data:`CITED_FIGURES` from ``findings`` (:func:`run` of the ledger ``statistics``) as a float."""
    flagged = findings[findings["flagged"]]
    rows: list[tuple[str, float]] = [
        ("errata_n_checks", len(findings)),
        ("errata_n_flagged", len(flagged)),
        ("errata_n_confirmed", int((~findings["flagged"]).sum())),
        ("errata_n_high", int((flagged["certainty"] == "high").sum())),
    ]
    by_id = findings.set_index("id")
    printed = statistics.set_index("key")["value"]
    for key, check, column in CITED_FIGURES:
        finding = by_id.loc[check]
        if column == "abs_difference":
            value = abs(float(finding["difference"]))
        elif column == "mean":
            value = float(printed[finding["inputs"].split(", ")[1]])  # sd_within_range's inputs: sd, mean, n, lo, hi
        else:
            value = float(finding[column])
        rows.append((key, value))
    return pd.DataFrame(rows, columns=["key", "value"], dtype=object)  # counts stay integers, figures floats


def findings_table(findings: pd.DataFrame):
    """The table of all checks as a reader wants it (a Styler): one line per check, numbers rounded, no index."""
    shown = findings[["section", "what", "rule", "reported", "implied", "tolerance", "flagged", "certainty"]].copy()
    for column in ("reported", "implied", "tolerance"):
        shown[column] = shown[column].map(lambda v: f"{v:,.3f}".rstrip("0").rstrip("."))
    shown["flagged"] = shown["flagged"].map({True: "finding", False: "agrees"})
    shown["rule"] = shown["rule"].str.replace("_", " ")
    shown.columns = ["Section", "Check", "Rule", "Printed", "Implied", "Tolerance", "Result", "Certainty"]
    return shown.style.hide(axis="index").set_table_attributes('class="hatbook-table"')
