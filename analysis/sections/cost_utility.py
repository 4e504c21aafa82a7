"""The cost-utility analysis of report section 6.7 from patient-level data (Tables 6.C to 6.G, 6.K, 6.L).

The report states its method in words (sections 5.4 and 6.7, Appendix 4). The definitions used here:

* **Treatment days** are calendar days inside a patient's episodes, admission and discharge day both
  counted, an open episode counted to the end of the data; they are split by calendar year, and the
  clinic is the patient's clinic. Summed over a clinic-year they are the patient-days of Table 6.C.
* **Cost per treatment day** of a clinic-year = the clinic's total cost that year (Table 6.C, from the
  clinics' accounts: not patient data) / the patient-days observed in the data that clinic-year.
* A patient's **programme cost** = the sum over clinic-years of treatment days x that cost per day.
* **Gross cost per patient-year** = total cost / total patient-days x 365.
* **Trajectory group**: *continued* when the patient's last episode is still open at the end of the data,
  else that episode's discharge type, *planned* or *unplanned* termination (as
  :func:`analysis.sections.health_services.trajectory_groups`). *Discontinued* = planned + unplanned.
* **Utility** is the EQ-5D-5L index with the Norwegian value set (:mod:`analysis.sections.quality_of_life`), for
  answers with all five dimensions. The **cost-utility sample** is every patient with two or more.
* **Accumulated QALYs** = area under the patient's utility curve (trapezoid rule, time in years of 365.25
  days) from the first to the last measurement (:func:`analysis.methods.cea.qalys_auc`). Not discounted: the
  period is short, and the report does not discount.
* **Follow-up** of a patient = from the first admission to the last discharge (or the end of the data
  when still in treatment), both days counted, in years of 365.25 days; gaps between episodes count.
* **Annualized** cost and QALYs of a patient = programme cost / follow-up and QALYs / follow-up. The
  sensitivity analysis offers QALYs / the years the measurements span instead (the mean utility).
* Table 6.D and 6.F statistics are means, SDs (n - 1) and medians over the sample's patients; the
  differences of Tables 6.E and 6.G are continued minus the other group, and an ICER is the ratio of the
  unrounded differences (:func:`analysis.methods.cea.icer`, :func:`analysis.methods.cea.dominance`).
* **Table 6.K**: net incremental cost = the annualized incremental cost minus the specialist-care and the
  primary-care offsets of Tables 6.I and 6.H (:mod:`analysis.sections.health_services`).
* **Crime** (Table 6.L): every patient with an answer on days with criminal activity in the last 30 days;
  baseline = the first answer, last observation = the last one; change = last - baseline; annualized =
  12 x change (a 30-day recall period is a twelfth of a year); cost = annualized change x the cost of a
  day with criminal activity (3,500 NOK, Supplementary Table C).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.published import published_table
from analysis.data.units import DAYS_PER_YEAR
from analysis.methods import cea
from analysis.methods import uncertainty as unc
from analysis.presentation import formats
from analysis.sections import quality_of_life
from analysis.sections.health_services import COMPARISONS, PRIMARY_TOTAL, SPECIALIST_TOTAL, trajectory_groups

CONTINUED = "continued"
DISCONTINUED = "discontinued"
GROUPS = ("continued", "planned", "unplanned")
#: Applied cost of a day with criminal activity (Supplementary Table C, 2023 NOK).
CRIME_COST_KEY = "stc_any_crime_applied_value"
#: A 30-day recall period scaled to a year.
RECALL_PERIODS_PER_YEAR = 12
ANNUALIZE_BY = ("follow_up", "measured_span")
#: Where an edition's clinic accounts come from (:func:`edition_accounts`).
ACCOUNTS_FROM_DATA = "data"
ACCOUNTS_PUBLISHED = "published"
#: A QALY difference smaller than this (it prints as 0.000) gives no ICER.
NEGLIGIBLE_QALY = cea.NEGLIGIBLE_EFFECT


# --- programme costs (Table 6.C) --------------------------------------------------------------------


def treatment_days(episodes: pd.DataFrame, patients: pd.DataFrame, data_end) -> pd.DataFrame:
    """Treatment days per patient, clinic and calendar year (both end days counted; open to ``data_end``).

    Returns ``patient_id``, ``clinic``, ``year``, ``days``.
    """
    frame = episodes.merge(patients[["patient_id", "clinic"]], on="patient_id", how="left", validate="many_to_one")
    return cea.treatment_days_by_year(
        frame, "patient_id", "admission_date", "discharge_date", keys=["clinic"], data_end=data_end
    )


def clinic_accounts(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Total cost of each clinic-year from the clinics' accounts as Table 6.C prints them (not patient
    data): ``clinic``, ``year``, ``total_cost`` (NOK)."""
    accounts = published_table("table_6c_program_costs", data_dir)
    accounts = accounts[accounts["row_type"] == "clinic_year"].astype({"year": int})
    return (
        accounts[["clinic", "year", "total_cost_nok"]]
        .rename(columns={"total_cost_nok": "total_cost"})
        .reset_index(drop=True)
    )


def edition_accounts(
    data_accounts: pd.DataFrame | None = None, data_dir: str | Path | None = None
) -> tuple[pd.DataFrame, str]:
    """The clinic accounts an edition's costs use, and where they come from.

    ``data_accounts`` is the data folder's own table of accounts (``cohort.accounts``: ``clinic``, ``year``,
    ``total_cost_nok``): when it has rows, those are used and the source is :data:`ACCOUNTS_FROM_DATA`.
    Otherwise (none, or an empty table) the published Table 6.C totals (:func:`clinic_accounts`) are used
    and the source is :data:`ACCOUNTS_PUBLISHED`. Returns ``(accounts, source)``, the accounts with
    ``clinic``, ``year``, ``total_cost``."""
    if data_accounts is not None and len(data_accounts):
        own = data_accounts.rename(columns={"total_cost_nok": "total_cost"})[["clinic", "year", "total_cost"]]
        own = own.assign(year=own["year"].astype(int), total_cost=pd.to_numeric(own["total_cost"]))
        return own.reset_index(drop=True), ACCOUNTS_FROM_DATA
    return clinic_accounts(data_dir), ACCOUNTS_PUBLISHED


def published_patient_days(clinics, years, data_dir: str | Path | None = None) -> float:
    """The patient-days Table 6.C prints for the given clinics and years (the days the published accounts
    were spread over in the report)."""
    table = published_table("table_6c_program_costs", data_dir)
    rows = table[(table["row_type"] == "clinic_year") & table["clinic"].isin(list(clinics))]
    return float(rows.loc[rows["year"].astype(int).isin([int(y) for y in years]), "patient_days"].sum())


def accounts_note(
    source: str, costs: pd.DataFrame, *, whose: str, data_name: str, report_days: float, tolerance: float = 0.005
) -> str:
    """One sentence for a reader beside a figure that rests on the clinic accounts; "" when the data
    brought their own (``source`` :data:`ACCOUNTS_FROM_DATA`).

    With the published accounts the sentence says so, names the years (those of ``costs``, the rows of
    :func:`program_costs`), and compares the data's patient-days with the report's ``report_days`` for
    the same clinic-years: fewer days (by more than ``tolerance``, a share) mean the accounts are spread
    thinner, so the cost per day is overstated; more days, understated; about equal, the report's.
    ``whose`` is the owner in words ("the clinics'", "the Bergen clinic's"); ``data_name`` names the data."""
    if source == ACCOUNTS_FROM_DATA or not len(costs):
        return ""
    first, last = int(costs["year"].min()), int(costs["year"].max())
    years = str(first) if first == last else f"{first}\u2013{last}"
    days = float(costs["patient_days"].sum())
    start = f"These costs use {whose} published accounts for {years}, since {data_name} brings none"
    if report_days > 0 and days < report_days * (1 - tolerance):
        return f"{start}; with fewer patient-days than the report's, they overstate the cost per day."
    if report_days > 0 and days > report_days * (1 + tolerance):
        return f"{start}; with more patient-days than the report's, they understate the cost per day."
    return f"{start}; its patient-days are about the report's, so the cost per day is close to the report's."


def program_costs(days: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Table 6.C: per clinic-year the patients treated, total cost, patient-days and cost per treatment day.

    ``days`` is :func:`treatment_days`; ``accounts`` is :func:`clinic_accounts` (or any frame with
    ``clinic``, ``year``, ``total_cost``). Patients and patient-days are counted in the data; only
    clinic-years with treatment days appear, and each must have a cost. Returns ``clinic``, ``year``,
    ``n_patients``, ``total_cost``, ``patient_days``, ``cost_per_day``; :func:`program_cost_total` gives
    the total row.
    """
    observed = (
        days[days["days"] > 0]
        .groupby(["clinic", "year"], as_index=False)
        .agg(n_patients=("patient_id", "nunique"), patient_days=("days", "sum"))
    )
    out = observed.merge(
        accounts[["clinic", "year", "total_cost"]], on=["clinic", "year"], how="left", validate="one_to_one"
    )
    missing = out["total_cost"].isna()
    if missing.any():
        raise ValueError(
            f"no clinic cost for the clinic-years {out.loc[missing, ['clinic', 'year']].to_dict('records')}"
        )
    out = cea.cost_per_treatment_day(out, total_cost="total_cost").merge(
        out[["clinic", "year", "n_patients"]], on=["clinic", "year"]
    )
    return (
        out[["clinic", "year", "n_patients", "total_cost", "patient_days", "cost_per_day"]]
        .sort_values(["clinic", "year"])
        .reset_index(drop=True)
    )


def program_cost_total(days: pd.DataFrame, costs: pd.DataFrame) -> dict[str, float]:
    """Total row of Table 6.C: distinct patients, summed cost and patient-days, cost per day, and the
    gross cost per patient-year (:func:`analysis.methods.cea.gross_cost_per_patient_year`)."""
    total_cost = float(costs["total_cost"].sum())
    patient_days = float(costs["patient_days"].sum())
    return {
        "n_patients": int(days.loc[days["days"] > 0, "patient_id"].nunique()),
        "total_cost": total_cost,
        "patient_days": patient_days,
        "cost_per_day": total_cost / patient_days if patient_days > 0 else np.nan,
        "cost_per_patient_year": cea.gross_cost_per_patient_year(total_cost, patient_days)
        if patient_days > 0
        else np.nan,
    }


def year_span(years) -> str:
    """The calendar years of ``years`` as a period: "2022–2025", or "2022" for one year ("" for none)."""
    years = sorted({int(y) for y in years})
    if not years:
        return ""
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}\u2013{years[-1]}"


def cost_per_day_pattern(costs: pd.DataFrame) -> str:
    """What Table 6.C's costs per day show over the years, as a sentence chosen from the numbers.

    The claim "highest in each clinic's first year" is made only when, for every clinic with two or more
    years, the first year's cost per day is its highest; with one year per clinic nothing is said about a
    trend."""
    rows = costs.dropna(subset=["cost_per_day"]).sort_values(["clinic", "year"])
    several = [frame for _, frame in rows.groupby("clinic") if len(frame) >= 2]
    if not several:
        return "With one year of accounts per clinic, the cost per day cannot show how it changed as the clinics filled up."
    one = len(several) == 1
    if all(frame["cost_per_day"].iloc[0] == frame["cost_per_day"].max() for frame in several):
        return (
            "The cost per treatment day was highest in "
            + ("the clinic's" if one else "each clinic's")
            + " first year, when "
            "few patients carried the fixed cost of a newly opened clinic, and lower once "
            + ("it" if one else "the clinics")
            + " filled up."
        )
    return (
        "The cost per treatment day was not highest in "
        + ("the clinic's" if one else "every clinic's")
        + " first year in these data."
    )


def patient_costs(days: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Programme cost and treatment days of every patient: ``patient_id``, ``days``, ``cost``."""
    return cea.program_cost_per_patient(days, costs)


def follow_up_years(episodes: pd.DataFrame, data_end) -> pd.DataFrame:
    """Follow-up of each patient, first admission to last discharge (or ``data_end`` when the last episode
    is open), both days counted, in years of 365.25 days. Returns ``patient_id``, ``follow_up_years``."""
    ordered = episodes.sort_values(["patient_id", "admission_date"], kind="stable")
    first = ordered.groupby("patient_id")["admission_date"].min()
    last = ordered.groupby("patient_id").tail(1).set_index("patient_id")["discharge_date"]
    end = last.fillna(pd.Timestamp(data_end).normalize())
    years = ((end - first).dt.days + 1) / DAYS_PER_YEAR
    return years.rename("follow_up_years").reset_index()


# --- the cost-utility sample -------------------------------------------------------------------------


def utilities(questionnaires: pd.DataFrame, values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Utility of every answer with all five EQ-5D-5L dimensions: ``patient_id``, ``questionnaire_date``,
    ``utility`` (Norwegian value set unless ``values`` is given)."""
    index = quality_of_life.eq5d_index(questionnaires, values)
    out = questionnaires[["patient_id", "questionnaire_date"]].assign(utility=index)
    return out.dropna(subset=["utility"]).reset_index(drop=True)


def patient_table(
    episodes: pd.DataFrame,
    patients: pd.DataFrame,
    questionnaires: pd.DataFrame,
    data_end,
    accounts: pd.DataFrame | None = None,
    values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per patient of the cost-utility sample (two or more utilities) with everything the tables use.

    Columns: ``patient_id``, ``group`` (continued, planned, unplanned), ``n_measurements``, ``qalys``
    (accumulated), ``measured_years`` (years the measurements span), ``days`` (treatment days), ``cost``
    (programme cost), ``follow_up_years``, ``annual_cost`` and ``annual_qalys`` (per year of follow-up).
    ``accounts`` defaults to :func:`clinic_accounts`, ``values`` to the Norwegian value set. Never shown on a
    page: it holds patient-level rows.
    """
    days = treatment_days(episodes, patients, data_end)
    accounts = clinic_accounts() if accounts is None else accounts
    costs = patient_costs(days, program_costs(days, accounts))
    qalys = cea.qalys_auc(utilities(questionnaires, values), "patient_id", "questionnaire_date", "utility")
    qalys = qalys[qalys["n_measurements"] >= 2].rename(columns={"years": "measured_years"})
    out = (
        qalys.drop(columns="annualized_qalys")
        .merge(trajectory_groups(episodes), on="patient_id", how="left", validate="one_to_one")
        .merge(costs, on="patient_id", how="left", validate="one_to_one")
        .merge(follow_up_years(episodes, data_end), on="patient_id", how="left", validate="one_to_one")
    )
    out["annual_cost"] = out["cost"] / out["follow_up_years"]
    out["annual_qalys"] = out["qalys"] / out["follow_up_years"]
    columns = [
        "patient_id",
        "group",
        "n_measurements",
        "qalys",
        "measured_years",
        "days",
        "cost",
        "follow_up_years",
        "annual_cost",
        "annual_qalys",
    ]
    return out[columns].sort_values("patient_id").reset_index(drop=True)


def annualize(sample: pd.DataFrame, by: str = "follow_up") -> pd.DataFrame:
    """The sample with ``annual_qalys`` recomputed: QALYs per year of follow-up (``by="follow_up"``, the
    base case) or per year the measurements span (``"measured_span"``: the mean utility)."""
    if by not in ANNUALIZE_BY:
        raise ValueError(f"annualize by one of {ANNUALIZE_BY}, not {by!r}")
    years = sample["follow_up_years"] if by == "follow_up" else sample["measured_years"]
    return sample.assign(annual_qalys=sample["qalys"] / years.where(years > 0))


# --- Tables 6.D to 6.G -------------------------------------------------------------------------------


def _two_groups(sample: pd.DataFrame) -> pd.Series:
    return sample["group"].where(sample["group"] == CONTINUED, DISCONTINUED)


def accumulated_table(sample: pd.DataFrame) -> pd.DataFrame:
    """Table 6.D: continued vs discontinued: ``n``, mean and SD of programme cost and of accumulated QALYs,
    mean treatment days. One row per group (continued first)."""
    grouped = sample.assign(group=_two_groups(sample)).groupby("group")
    out = grouped.agg(
        n=("patient_id", "size"),
        cost_mean=("cost", "mean"),
        cost_sd=("cost", "std"),
        qaly_mean=("qalys", "mean"),
        qaly_sd=("qalys", "std"),
        days_mean=("days", "mean"),
    )
    out = out.reindex([CONTINUED, DISCONTINUED])
    out["n"] = out["n"].fillna(0).astype(int)
    return out.rename_axis("group").reset_index()


def accumulated_icer(table: pd.DataFrame) -> dict[str, float]:
    """Table 6.E from Table 6.D: ``delta_cost``, ``delta_qaly`` (continued minus discontinued) and ``icer``."""
    by = table.set_index("group")
    delta_cost = float(by.at[CONTINUED, "cost_mean"] - by.at[DISCONTINUED, "cost_mean"])
    delta_qaly = float(by.at[CONTINUED, "qaly_mean"] - by.at[DISCONTINUED, "qaly_mean"])
    return {"delta_cost": delta_cost, "delta_qaly": delta_qaly, **cea.comparison(delta_cost, delta_qaly)}


def follow_up_ratio(sample: pd.DataFrame) -> float:
    """Mean years of follow-up of the continued group over the mean of all discontinued patients (planned
    and unplanned together); NaN when either group has no patient."""
    years = sample.groupby(_two_groups(sample))["follow_up_years"].mean()
    continued, discontinued = years.get(CONTINUED, np.nan), years.get(DISCONTINUED, np.nan)
    if not (np.isfinite(continued) and np.isfinite(discontinued)) or discontinued <= 0:
        return np.nan
    return float(continued / discontinued)


#: How each group is named in a sentence about a comparison.
GROUP_WORDS = {
    CONTINUED: "continued treatment",
    DISCONTINUED: "left treatment",
    "planned": "a planned termination",
    "unplanned": "an unplanned termination",
}


def comparison_reason(
    sizes, groups, threshold: int | None = None, delta_qaly: float | None = None, status: str | None = None
) -> str:
    """Why a comparison (its means, differences and ICER) cannot be shown, as a sentence; "" when it can.

    ``sizes`` maps each group to its patients in the sample; ``groups`` are the groups the comparison
    needs. In order: a group without patients ("n/a"); a group below the disclosure ``threshold`` of a
    rerun (withheld, "–"); a QALY difference below :data:`NEGLIGIBLE_QALY`, or a ``status`` other than
    more costly and more effective, for which no ICER is given (the differences are shown)."""
    for group in groups:
        n = int(sizes.get(group, 0))
        if n == 0:
            return f"No patient of the cost-utility sample had {GROUP_WORDS[group]}, so this comparison cannot be made (n/a)."
    for group in groups:
        n = int(sizes.get(group, 0))
        if threshold is not None and n < threshold:
            return (
                f"Fewer than {threshold} patients of the cost-utility sample had {GROUP_WORDS[group]}, so this "
                "comparison is withheld (–)."
            )
    if delta_qaly is not None and np.isfinite(delta_qaly) and abs(delta_qaly) < NEGLIGIBLE_QALY:
        return (
            "The QALY difference is too close to zero for a cost per QALY to mean anything, so no ICER is given (n/a)."
        )
    if status and status != cea.MORE_COSTLY_MORE_EFFECTIVE:
        return f"Continued treatment is *{status}* in this comparison, where a cost per QALY has no meaning, so no ICER is given (n/a)."
    return ""


def follow_up_table(sample: pd.DataFrame) -> pd.DataFrame:
    """Table 6.F: per trajectory group ``n``, mean, SD and median accumulated QALYs, mean follow-up years,
    and (for Table 6.G) mean annualized cost and QALYs."""
    out = sample.groupby("group").agg(
        n=("patient_id", "size"),
        qaly_mean=("qalys", "mean"),
        qaly_sd=("qalys", "std"),
        qaly_median=("qalys", "median"),
        follow_up_years=("follow_up_years", "mean"),
        annual_cost=("annual_cost", "mean"),
        annual_qalys=("annual_qalys", "mean"),
    )
    out = out.reindex(list(GROUPS))
    out["n"] = out["n"].fillna(0).astype(int)
    return out.rename_axis("group").reset_index()


def annualized_comparisons(sample: pd.DataFrame, comparators=COMPARISONS) -> pd.DataFrame:
    """Table 6.G: continued against each other group, on annualized costs and QALYs.

    Returns ``comparator``, ``delta_cost``, ``delta_qaly`` (continued minus comparator, group means of the
    patients' annual values), ``icer`` (NaN unless both differences are positive) and ``status``
    (:func:`analysis.methods.cea.dominance`).
    """
    means = sample.groupby("group")[["annual_cost", "annual_qalys"]].mean().reindex(list(GROUPS))
    rows = []
    for other in comparators:
        dc = float(means.at[CONTINUED, "annual_cost"] - means.at[other, "annual_cost"])
        dq = float(means.at[CONTINUED, "annual_qalys"] - means.at[other, "annual_qalys"])
        rows.append({"comparator": other, "delta_cost": dc, "delta_qaly": dq, **cea.comparison(dc, dq)})
    return pd.DataFrame(rows, columns=["comparator", "delta_cost", "delta_qaly", "icer", "status"])


def adjusted_comparisons(comparisons: pd.DataFrame, offsets: pd.DataFrame) -> pd.DataFrame:
    """Table 6.K: the annualized comparisons net of health-service offsets.

    ``offsets`` is :func:`analysis.sections.health_services.cost_offsets` (columns ``comparison``, ``category``,
    ``offset``; categories ``specialist_total`` and ``primary_total`` are used). Net delta cost = delta cost
    - specialist offset - primary offset. Returns ``comparator``, ``delta_cost``, ``specialist_offset``,
    ``primary_offset``, ``net_delta_cost``, ``delta_qaly``, ``status`` (of the net cost).
    """
    wide = offsets.pivot(index="comparison", columns="category", values="offset")
    out = comparisons[["comparator", "delta_cost", "delta_qaly"]].copy()
    out["specialist_offset"] = out["comparator"].map(wide["specialist_total"])
    out["primary_offset"] = out["comparator"].map(wide["primary_total"])
    out["net_delta_cost"] = out["delta_cost"] - out["specialist_offset"] - out["primary_offset"]
    out["status"] = [cea.comparison(c, q)["status"] for c, q in zip(out["net_delta_cost"], out["delta_qaly"])]
    return out[
        ["comparator", "delta_cost", "specialist_offset", "primary_offset", "net_delta_cost", "delta_qaly", "status"]
    ]


# --- crime (Table 6.L) -------------------------------------------------------------------------------


def difference_sentence(
    subject: str, delta_cost, delta_qaly, *, per: str = "", icer=None, status: str = "", table: str = ""
) -> str:
    """A sentence stating a comparison's differences in the direction the numbers have.

    ``delta_cost`` and ``delta_qaly`` are numbers or the marks a rerun shows instead ("–", "n/a"), in
    which case the sentence gives the marks without a direction. ``icer`` (a number, a mark or None) is
    added as "a ratio of ... NOK per QALY" when it is a finite number; otherwise the ``status`` (the
    quadrant) is named. ``per`` qualifies the cost ("per patient-year"), ``table`` is cited at the end."""

    def part(value, unit, decimals, up, down):
        if isinstance(value, str) or not np.isfinite(value):
            from analysis.presentation.formats import number

            return f"{number(value, decimals)} {unit} {up}"
        from analysis.presentation.formats import number

        return f"{number(abs(value), decimals)} {unit} {up if value >= 0 else down}"

    cost = part(delta_cost, "NOK", 0, "more", "less")
    qalys = part(delta_qaly, "QALYs", 3, "more", "fewer")
    text = f"{subject} cost {cost}{(' ' + per) if per else ''} and gained {qalys}"
    where = f" (Table {table})" if table else ""
    if icer is not None and not isinstance(icer, str) and np.isfinite(icer):
        from analysis.presentation.formats import nok as _nok

        return f"{text}, a ratio of {_nok(icer)} NOK per QALY{where}."
    if isinstance(icer, str):
        return f"{text}; the ratio is {icer}{where}."
    if status:
        return f"{text}{where}: continued treatment is *{status}* here, so no ratio is given."
    return f"{text}{where}."


def decimals(places: int):
    """A table cell formatter: numbers to ``places`` decimals (:func:`analysis.presentation.formats.number`), disclosure
    marks and "n/a" as they are."""
    from analysis.presentation.formats import number

    return lambda value: number(value, places)


def status_words(status: str, sizes: dict, comparator: str, withheld: bool, threshold) -> str:
    """The quadrant of continued treatment against ``comparator`` in words: "n/a" when either group has no
    patient (``sizes``), the withheld mark when a rerun (a ``threshold``) withholds the comparison, "not
    computable" when there is no quadrant."""
    from analysis.presentation.disclosure import WITHHELD
    from analysis.presentation.formats import NOT_AVAILABLE

    if min(sizes[CONTINUED], sizes[comparator]) == 0:
        return NOT_AVAILABLE
    return WITHHELD if withheld and threshold is not None else (status or "not computable")


def crime_cost_per_day(data_dir: str | Path | None = None) -> float:
    """The applied cost of one day with criminal activity (Supplementary Table C), from the ledger."""
    from analysis.presentation.scorecard import ledger

    return float(ledger(data_dir).at[CRIME_COST_KEY, "value"])


def crime_changes(questionnaires: pd.DataFrame, cost_per_day: float) -> pd.DataFrame:
    """Per patient with a crime-days answer: ``baseline``, ``last``, ``change``, ``annualized_change``
    (12 x change) and ``annualized_cost`` (x ``cost_per_day``). Patient-level: never shown on a page."""
    answered = questionnaires.dropna(subset=["crime_days_30d"]).sort_values(
        ["patient_id", "questionnaire_date"], kind="stable"
    )
    days = answered.groupby("patient_id")["crime_days_30d"]
    out = pd.DataFrame({"baseline": days.first().astype(float), "last": days.last().astype(float)})
    out["change"] = out["last"] - out["baseline"]
    out["annualized_change"] = RECALL_PERIODS_PER_YEAR * out["change"]
    out["annualized_cost"] = cost_per_day * out["annualized_change"]
    return out.reset_index()


def crime_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Table 6.L: mean and SD (n - 1) of each column of :func:`crime_changes`, with ``n``."""
    columns = ["baseline", "last", "change", "annualized_change", "annualized_cost"]
    return pd.DataFrame(
        {
            "variable": columns,
            "mean": [changes[c].mean() for c in columns],
            "sd": [changes[c].std() for c in columns],
            "n": len(changes),
        }
    )


def crime_offsets(changes: pd.DataFrame, groups: pd.DataFrame, comparators=COMPARISONS) -> pd.DataFrame:
    """Crime-cost offset of continued treatment against each other group: the comparator's mean annualized
    crime-cost change minus the continued group's (a difference-in-differences of first and last answers,
    as Supplementary Table D describes; positive = a larger fall in the continued group). An extension of
    this edition: the report's Table 6.L is for the whole cohort. Returns ``comparator``, ``offset``."""
    data = changes.merge(groups, on="patient_id", how="inner", validate="one_to_one")
    means = data.groupby("group")["annualized_cost"].mean().reindex(list(GROUPS))
    return pd.DataFrame(
        {"comparator": list(comparators), "offset": [float(means[c] - means[CONTINUED]) for c in comparators]}
    )


def incremental_net_benefit(
    delta_cost: float,
    delta_qaly: float,
    wtp: float,
    *,
    specialist_offset: float = 0.0,
    primary_offset: float = 0.0,
    crime_offset: float = 0.0,
    programme_factor: float = 1.0,
    specialist_factor: float = 1.0,
    primary_factor: float = 1.0,
    crime_factor: float = 1.0,
) -> float:
    """Incremental net monetary benefit per patient-year of continued treatment in a scenario:
    ``wtp x delta_qaly - (programme_factor x delta_cost - specialist_factor x specialist_offset -
    primary_factor x primary_offset - crime_factor x crime_offset)``. The factors scale one cost input at
    a time (e.g. 1.25 for unit costs 25% higher), which is how the one-way sensitivity analysis varies them."""
    net_cost = (
        programme_factor * delta_cost
        - specialist_factor * specialist_offset
        - primary_factor * primary_offset
        - crime_factor * crime_offset
    )
    return float(cea.net_monetary_benefit(net_cost, delta_qaly, wtp))


def group_counts(sample: pd.DataFrame) -> pd.DataFrame:
    """The counts of Tables 6.D and 6.F for one cost-utility sample (:func:`patient_table`), long, with fixed
    rows: ``block`` ``"f"`` (continued, planned, unplanned: Table 6.F's groups) and ``"d"`` (continued,
    discontinued: Table 6.D's), ``key`` the group, ``n`` its patients and ``of`` the sample's size."""
    sizes = sample["group"].value_counts().reindex(list(GROUPS), fill_value=0).astype(int)
    size = int(len(sample))
    rows = [("f", g, int(sizes[g]), size) for g in GROUPS]
    rows += [("d", CONTINUED, int(sizes[CONTINUED]), size), ("d", DISCONTINUED, size - int(sizes[CONTINUED]), size)]
    return pd.DataFrame(rows, columns=["block", "key", "n", "of"])


def linked_group_marks(page, sample_of) -> dict[str, str | None]:
    """What the edition of ``page`` prints for the group sizes of Tables 6.D-6.G and the sample's size:
    ``{"sample", "continued", "planned", "unplanned", "discontinued"} -> mark or None`` (None: the count).

    The sizes of the three editions of the year (both clinics, Oslo, Bergen; ``sample_of(cohort)`` gives a
    cohort's sample) are protected together (:func:`analysis.presentation.linked_suppression.joint_patterns`): a group is
    a part of the sample, the discontinued are the planned and unplanned together, and both clinics' group
    is Oslo's and Bergen's, so that neither the sample less the other groups nor both clinics less one
    clinic gives back a group of 1 to threshold - 1 patients. A value built on a marked group (a mean, a
    difference, an ICER) is withheld with it. Nothing is marked in the published edition."""
    from analysis.presentation import linked_suppression as ls

    names = ("sample", *GROUPS, DISCONTINUED)
    if page.sdc is None:
        return dict.fromkeys(names)

    def tables_of(cohort) -> dict[str, pd.DataFrame]:
        counts = group_counts(sample_of(cohort))
        return {b: counts[counts["block"] == b].reset_index(drop=True) for b in ("f", "d")}

    specs = {b: {"count": "n", "groups": [], "total": "of"} for b in ("f", "d")}
    same = [(("d", "total", ()), ("f", "total", ())), (("d", "cell", 0), ("f", "cell", 0))]
    sums = [(("d", "cell", 1), [("f", "cell", 1), ("f", "cell", 2)])]
    # protected with every edition the grid publishes (three clinic choices of each data end), so that neither
    # another clinic nor another data end gives a group back; an edition outside the grid's data ends, with its year's
    by_year = ls.grid_tables(page, tables_of)
    if by_year is None:
        tables, published = ls.sibling_tables(page, tables_of)
        blocks = {b: {e: found[b] for e, found in tables.items()} for b in specs}
        patterns = ls.joint_patterns(blocks, specs, page.sdc, published=published, same=same, sums=sums)
    else:
        patterns = ls.joint_patterns_years(by_year, specs, page.sdc, same=same, sums=sums, only=page.edition.year)[
            page.edition.year
        ]
    own = page.edition.clinic

    def mark(status):
        if status == ls.SHOWN:
            return None
        return f"<{int(page.sdc)}" if status == ls.SMALL else "–"

    f, d = patterns["f"], patterns["d"]
    marks = {"sample": mark(f.totals[own].iloc[0])}
    marks.update({g: mark(f.cells[own].iloc[i]) for i, g in enumerate(GROUPS)})
    marks[DISCONTINUED] = mark(d.cells[own].iloc[1])
    return marks


def mark_groups(shown: pd.DataFrame, marks: dict, derived) -> pd.DataFrame:
    """A Table 6.D or 6.F as shown (``group`` and ``n`` columns) with the marks of
    :func:`linked_group_marks`: a marked group's ``n`` becomes its mark and its ``derived`` columns the
    withheld mark. Unmarked rows are left as they are."""
    out = shown.copy()
    out["n"] = out["n"].astype(object)
    for column in derived:
        out[column] = out[column].astype(object)
    for index, group in out["group"].items():
        mark = marks.get(group)
        if mark is not None:
            out.at[index, "n"] = mark
            for column in derived:
                out.at[index, column] = "–"
    return out


# --- Table 6.C protected across the editions of one year --------------------------------------------

#: The row label of Table 6.C's total line in :func:`program_count_table`.
TOTAL_ROW = "Total"


def program_count_table(days: pd.DataFrame, years) -> pd.DataFrame:
    """The counts of Table 6.C for one cohort, with fixed rows: every clinic of :data:`analysis.data.schema.CLINICS`
    (in that order) times every year of ``years``, then the total line (``clinic`` :data:`TOTAL_ROW`,
    ``year`` None). ``n_patients`` = the patients with treatment days in the clinic-year (the total: each
    patient once), ``patient_days`` = their treatment days; 0 for a clinic-year the cohort has no days in.
    ``days`` is :func:`treatment_days`."""
    from analysis.data import schema

    observed = days[days["days"] > 0]
    counted = observed.groupby(["clinic", "year"]).agg(
        n_patients=("patient_id", "nunique"), patient_days=("days", "sum")
    )
    rows: list[tuple[str, int | None, int, float]] = []
    for clinic in schema.CLINICS:
        for year in years:
            key = (clinic, int(year))
            n = int(counted.at[key, "n_patients"]) if key in counted.index else 0
            d = float(counted.at[key, "patient_days"]) if key in counted.index else 0.0
            rows.append((clinic, int(year), n, d))
    rows.append((TOTAL_ROW, None, int(observed["patient_id"].nunique()), float(observed["days"].sum())))
    return pd.DataFrame(rows, columns=["clinic", "year", "n_patients", "patient_days"])


def _count_problem(tables, column: str, threshold: int, published, *, rest: bool):
    """The reader's view (:class:`analysis.presentation.linked_suppression._Problem`) of one column of the
    :func:`program_count_table` of the editions of one year (``tables``: edition -> table).

    Unknowns: every clinic-year and total of every edition. A clinic-year row that an edition does not print
    (Bergen's rows in the Oslo edition) is a known 0 that cannot be hidden. Relations: both clinics = Oslo +
    Bergen row by row (so the both-clinics edition's Oslo row is the Oslo edition's); in each edition the
    clinic-years add up to the total plus ``rest`` (``rest=True``, patients: a patient treated in several
    years is counted once in the total, so the rest is the repeats, 0 or more and never shown; it is known
    to be 0 when it is 0 in every edition, as in a one-year edition), or exactly to the total
    (``rest=False``, patient-days)."""
    from analysis.presentation import linked_suppression as ls

    problem = object.__new__(ls._Problem)
    problem.threshold = int(threshold)
    problem.published = set(published)
    problem.editions = [e for e in ls.EDITIONS if e in tables]
    problem.vars, problem.index, problem.relations, problem.group_of = [], {}, [], {}
    frames = {e: tables[e].reset_index(drop=True) for e in problem.editions}
    lengths = {len(f) for f in frames.values()}
    if len(lengths) != 1:
        raise ValueError("the tables of the editions must have the same rows")
    for edition, frame in frames.items():
        for position, (clinic, value) in enumerate(zip(frame["clinic"], frame[column])):
            printed = clinic == TOTAL_ROW or edition in ("all", clinic)
            problem._add(
                ls._Var(
                    edition, ls._CELL, position, int(round(float(value))), printed and edition not in problem.published
                )
            )
    total_at = {e: int(frames[e].index[frames[e]["clinic"] == TOTAL_ROW][0]) for e in problem.editions}
    rests = {
        e: sum(problem.vars[problem.index[(e, ls._CELL, p)]].value for p in range(len(f)) if p != total_at[e])
        - problem.vars[problem.index[(e, ls._CELL, total_at[e])]].value
        for e, f in frames.items()
    }
    known = not rest or all(v == 0 for v in rests.values())
    for edition, frame in frames.items():
        relation = {problem.index[(edition, ls._CELL, p)]: 1.0 for p in range(len(frame)) if p != total_at[edition]}
        relation[problem.index[(edition, ls._CELL, total_at[edition])]] = -1.0
        if not known:
            problem._add(ls._Var(edition, ls._REST, (), rests[edition], False, status=ls.WITHHELD))
            relation[problem.index[(edition, ls._REST, ())]] = -1.0
        problem.relations.append(relation)
    parts = [e for e in problem.editions if e != "all"]
    if "all" in problem.editions and parts:
        for position in range(lengths.pop()):
            relation = {problem.index[("all", ls._CELL, position)]: 1.0}
            for part in parts:
                relation[problem.index[(part, ls._CELL, position)]] = -1.0
            problem.relations.append(relation)
    problem.relations_of = {}
    for r, relation in enumerate(problem.relations):
        for i in relation:
            problem.relations_of.setdefault(i, []).append(r)
    return problem


def program_count_pattern(tables, threshold: int | None, *, published=()) -> dict[str, pd.DataFrame]:
    """What each edition of one year prints for the counts of Table 6.C (``tables``: edition -> its
    :func:`program_count_table`): per edition, the table's ``clinic`` and ``year`` with ``n_patients`` and
    ``patient_days`` statuses (:data:`analysis.presentation.linked_suppression.SHOWN`, ``SMALL`` for "<5", ``WITHHELD``).

    Patients first (:func:`analysis.presentation.linked_suppression.joint_pattern`'s rule and steps on the relations of
    :func:`_count_problem`): no hidden clinic-year or total, nor a small number of repeats, is recovered from
    the three editions together. Then patient-days: a clinic-year whose patients are hidden has its days
    hidden too (they are a few patients' days), and more days are hidden until no hidden days are recovered
    from the days of the other rows and editions (days add up exactly). The cost per day goes with the days
    (the cost is printed, so cost / cost per day would give them back). Published tables are all shown;
    ``threshold=None`` shows everything."""
    from analysis.presentation import linked_suppression as ls

    out = {e: t[["clinic", "year"]].assign(n_patients=ls.SHOWN, patient_days=ls.SHOWN) for e, t in tables.items()}
    if threshold is None or int(threshold) <= 1:
        return out
    # the engine hides the smallest cell first; here that is often a clinic-year the both-clinics edition shares
    # with a one-clinic edition, which then has to hide its own total too. Hiding the both-clinics total alone
    # is often enough, so both starts are tried and the one that hides fewer printed numbers is kept (the
    # plain one on a tie): a fixed rule, the same pattern in every edition
    best = None
    for start in ([], [("all", TOTAL_ROW)]):
        people = _count_problem(tables, "n_patients", threshold, published, rest=True)
        days = _count_problem(tables, "patient_days", threshold, published, rest=False)
        for edition, clinic in start:
            if edition in people.editions:
                position = int(
                    tables[edition].reset_index(drop=True).index[tables[edition]["clinic"].to_numpy() == clinic][0]
                )
                var = people.vars[people.index[(edition, ls._CELL, position)]]
                if var.suppressible:
                    var.status = ls.WITHHELD
        ls._solve(people)
        for i, var in enumerate(days.vars):
            if var.suppressible and people.vars[i].status != ls.SHOWN:
                var.status = ls.WITHHELD
        ls._solve(days)
        hidden = sum(v.suppressible and v.status != ls.SHOWN for v in people.vars + days.vars if v.kind == ls._CELL)
        if best is None or hidden < best[0]:
            best = (hidden, people, days)
    assert best is not None  # the loop tries two starts
    _, people, days = best
    for edition, frame in out.items():
        for position in range(len(frame)):
            n = people.vars[people.index[(edition, ls._CELL, position)]].status
            d = days.vars[days.index[(edition, ls._CELL, position)]].status
            frame.iat[position, 2] = n
            frame.iat[position, 3] = ls.SHOWN if d == ls.SHOWN else ls.WITHHELD  # days are never printed as "<5"
    return out


def linked_program_marks(page) -> pd.DataFrame:
    """What the edition of ``page`` prints for Table 6.C's patients and patient-days, protected with the other
    editions of its year (:func:`program_count_pattern`): rows ``clinic``, ``year`` (None for the total), and
    ``n_patients`` and ``patient_days`` each the mark ("<5", "–") or None (the number). The edition's own
    clinic-years only (Bergen's rows are not in the Oslo edition). Nothing is marked in the published edition."""
    from analysis.presentation import linked_suppression as ls

    years = page.edition.years

    def compute(cohort):
        return program_count_table(treatment_days(cohort.episodes, cohort.patients, cohort.data_end), years)  # noqa: E731

    own = page.edition.clinic
    if page.sdc is None:
        marks = compute(page.cohort)[["clinic", "year"]]
        marks = marks.assign(
            n_patients=pd.Series([None] * len(marks), index=marks.index, dtype=object),
            patient_days=pd.Series([None] * len(marks), index=marks.index, dtype=object),
        )
    else:
        tables, published = ls.sibling_tables(page, compute)
        pattern = program_count_pattern(tables, page.sdc, published=published)[own]
        words = {ls.SHOWN: None, ls.SMALL: f"<{int(page.sdc)}", ls.WITHHELD: "–"}
        marks = pattern.assign(
            n_patients=pd.Series([words[v] for v in pattern["n_patients"]], index=pattern.index, dtype=object),
            patient_days=pd.Series([words[v] for v in pattern["patient_days"]], index=pattern.index, dtype=object),
        )
    keep = (marks["clinic"] == TOTAL_ROW) | (own == "all") | (marks["clinic"] == own)
    return marks[keep].reset_index(drop=True)


def cost_per_day_sentence(costs: pd.DataFrame, hidden: bool) -> str:
    """:func:`cost_per_day_pattern`, unless a clinic-year's cost per day is withheld (``hidden``): then a
    sentence that says so, since the course over the years would rest on values the table does not show."""
    if hidden:
        return "The cost per treatment day of some clinic-years is withheld (–) in this edition, so its course over the years is not described."
    return cost_per_day_pattern(costs)


# --- group sizes of the whole cohort (Tables 6.H-6.I) and single counts, protected jointly -------------


def trajectory_counts(groups: pd.DataFrame) -> pd.DataFrame:
    """Patients of each trajectory group (:func:`analysis.sections.health_services.trajectory_groups`), with fixed rows
    (continued, planned, unplanned): ``group``, ``n``."""
    sizes = groups["group"].value_counts().reindex(list(GROUPS), fill_value=0).astype(int)
    return pd.DataFrame({"group": list(GROUPS), "n": sizes.to_numpy()})


def linked_trajectory_hidden(page) -> dict[str, bool]:
    """Which trajectory groups of the whole cohort (the groups of the health-service offsets, Tables 6.H and
    6.I, and of the crime offsets) the edition of ``page`` must treat as hidden: their sizes protected
    together with the other editions of the year (:func:`analysis.presentation.linked_suppression.joint_pattern`; the
    groups add up to the cohort's patients, which other pages show), so that both clinics less Oslo does
    not give back a small group of Bergen's. An offset resting on a hidden group is withheld. Nothing is
    hidden in the published edition."""
    from analysis.presentation import linked_suppression as ls
    from analysis.sections.health_services import trajectory_groups as groups_of

    def counts_of(cohort) -> pd.DataFrame:
        return trajectory_counts(groups_of(cohort.episodes))

    hidden = ls.linked_hidden(page, counts_of, groups=[])
    return {group: bool(flag) for group, flag in zip(GROUPS, hidden)}


def single_count(n: int) -> pd.DataFrame:
    """A one-row count table (``n``) for a count a page prints alone, to protect it with
    :func:`analysis.presentation.linked_suppression.protect_linked`."""
    return pd.DataFrame({"n": [int(n)]})


def linked_count(page, count_of):
    """A count the page prints alone (``count_of(cohort)``, e.g. the patients answering on crime), as the
    edition of ``page`` shows it when protected with the other editions of the year: the number, "<5" or
    "–" (both clinics less Oslo would give back a small count of Bergen's). The number in the published
    edition."""
    from analysis.presentation import linked_suppression as ls

    shown = ls.protect_linked(page, lambda cohort: single_count(count_of(cohort)))
    value = shown["n"].iloc[0]
    return value if isinstance(value, str) else int(value)


def edition_sample(cohort) -> pd.DataFrame:
    """The cost-utility sample (:func:`patient_table`) of a cohort, with the accounts its edition uses
    (:func:`edition_accounts`: the data's own when the folder brings them): for another edition of the year
    (:func:`linked_group_marks`)."""
    accounts = edition_accounts(getattr(cohort, "accounts", None))[0]
    return patient_table(cohort.episodes, cohort.patients, cohort.questionnaires, cohort.data_end, accounts=accounts)


# --- section 6.7's statistics, as tidy frames for Card.glue_statistics -------------------------------
# Every key is written out in full, so that grep finds the line a number on the page comes from. A row's
# ``shown`` is the mark the joint protection of the group sizes chose (None: the card decides), ``of`` the
# counts a derived value rests on, ``suppress`` whether the joint protection hides it with its group.


def _statistics(rows: list[dict]) -> pd.DataFrame:
    """Rows as a tidy frame that keeps each value as it is (a count stays an integer beside a missing mark)."""
    return pd.DataFrame(rows, columns=["key", "value", "shown", "of", "suppress", "note"], dtype=object)


def from_report(ledger: pd.DataFrame, *keys: str) -> pd.DataFrame:
    """Figures the report states that patient data cannot give (a policy reference, a citation), as printed."""
    return _statistics([{"key": key, "value": ledger.at[key, "value"]} for key in keys])


#: Why the report's ratio of follow-up differs from this edition's, on the page.
DURATION_RATIO_NOTE = (
    "Mean years of follow-up of the continued group over the mean of all discontinued patients "
    "(Table 6.F's planned and unplanned groups together); it follows this cohort's follow-up times, "
    "so it moves with Table 6.F's planned follow-up (see that row)."
)


def accumulated_statistics(sample: pd.DataFrame, t6d: pd.DataFrame, t6e: dict, marks: dict) -> pd.DataFrame:
    """Tables 6.D and 6.E and the accumulated step of the text: the sample's size, each group's size, mean
    and SD of cost and QALYs and mean days, the differences and the ICER, and the ratio of follow-up
    (:func:`follow_up_ratio`). ``marks`` is :func:`linked_group_marks` (group -> the mark its size shows, or None)."""
    by = t6d.set_index("group")
    c, d = by.loc[CONTINUED], by.loc[DISCONTINUED]
    c_hidden, d_hidden = marks[CONTINUED] is not None, marks[DISCONTINUED] is not None
    both, either = [c["n"], d["n"]], c_hidden or d_hidden
    return _statistics(
        [
            {"key": "s6_7_step1_n_two_eq5d", "value": len(sample), "shown": marks["sample"]},
            {"key": "t6d_continued_n", "value": c["n"], "shown": marks[CONTINUED]},
            {"key": "t6d_continued_cost_mean", "value": c["cost_mean"], "of": c["n"], "suppress": c_hidden},
            {"key": "t6d_continued_cost_sd", "value": c["cost_sd"], "of": c["n"], "suppress": c_hidden},
            {"key": "t6d_continued_qaly_mean", "value": c["qaly_mean"], "of": c["n"], "suppress": c_hidden},
            {"key": "t6d_continued_qaly_sd", "value": c["qaly_sd"], "of": c["n"], "suppress": c_hidden},
            {"key": "t6d_continued_days_in_treatment", "value": c["days_mean"], "of": c["n"], "suppress": c_hidden},
            {"key": "t6d_discontinued_n", "value": d["n"], "shown": marks[DISCONTINUED]},
            {"key": "t6d_discontinued_cost_mean", "value": d["cost_mean"], "of": d["n"], "suppress": d_hidden},
            {"key": "t6d_discontinued_cost_sd", "value": d["cost_sd"], "of": d["n"], "suppress": d_hidden},
            {"key": "t6d_discontinued_qaly_mean", "value": d["qaly_mean"], "of": d["n"], "suppress": d_hidden},
            {"key": "t6d_discontinued_qaly_sd", "value": d["qaly_sd"], "of": d["n"], "suppress": d_hidden},
            {"key": "t6d_discontinued_days_in_treatment", "value": d["days_mean"], "of": d["n"], "suppress": d_hidden},
            {"key": "t6e_delta_cost", "value": t6e["delta_cost"], "of": both, "suppress": either},
            {"key": "t6e_delta_qaly", "value": t6e["delta_qaly"], "of": both, "suppress": either},
            {"key": "t6e_icer", "value": t6e["icer"], "of": both, "suppress": either},
            {"key": "s6_7_step1_delta_cost", "value": t6e["delta_cost"], "of": both, "suppress": either},
            {"key": "s6_7_step1_delta_qaly", "value": t6e["delta_qaly"], "of": both, "suppress": either},
            {"key": "s6_7_step1_icer", "value": t6e["icer"], "of": both, "suppress": either},
            # the report's "nearly 2.5 times" refers to Table 6.F: mean follow-up, continued against all who left
            {
                "key": "s6_7_annual_duration_ratio",
                "value": follow_up_ratio(sample),
                "of": both,
                "suppress": either,
                "note": DURATION_RATIO_NOTE,
            },
        ]
    )


#: Why two of Table 6.F's means differ from the report's, on the page.
T6F_NOTES = {
    "continued_qaly_mean": "The report prints the continued group's mean QALYs as 1.190 in Table 6.D and 1.214 here, for "
    "the same 68 patients and measure; this edition follows Table 6.D, whose difference 0.883 "
    "Table 6.E uses (see the errata appendix).",
    "planned_qaly_mean": "Table 6.F's planned and unplanned means do not recombine into Table 6.D's mean for the "
    "discontinued (32 × 0.347 + 16 × 0.234 gives 0.309 over 48, not 0.307); this edition "
    "keeps Table 6.D's and the unplanned group's, so this one must differ (see the errata appendix).",
}


def annual_statistics(t6f: pd.DataFrame, t6g: pd.DataFrame, marks: dict) -> pd.DataFrame:
    """Tables 6.F and 6.G: the number of groups compared, each trajectory group's size, mean, SD and median
    QALYs and mean follow-up, and continued treatment's annualised differences against each other group, with
    the ICER against unplanned termination. ``marks`` as in :func:`accumulated_statistics`."""
    f = t6f.set_index("group")
    g = t6g.set_index("comparator")
    hidden = {group: marks[group] is not None for group in GROUPS}
    # the groups with patients, unless a group is withheld ("–" may be 0): then the three groups the analysis forms
    from analysis.presentation.disclosure import WITHHELD

    n_groups = len(GROUPS) if any(marks[group] == WITHHELD for group in GROUPS) else int((t6f["n"] > 0).sum())

    def group(name):
        return {"value": None, "of": f.at[name, "n"], "suppress": hidden[name]}

    cont, plan, unpl = group(CONTINUED), group("planned"), group("unplanned")
    vs_planned = {
        "of": [f.at[CONTINUED, "n"], f.at["planned", "n"]],
        "suppress": hidden[CONTINUED] or hidden["planned"],
    }
    vs_unplanned = {
        "of": [f.at[CONTINUED, "n"], f.at["unplanned", "n"]],
        "suppress": hidden[CONTINUED] or hidden["unplanned"],
    }
    return _statistics(
        [
            {"key": "s6_7_annual_n_groups", "value": n_groups},
            {"key": "t6f_continued_n", "value": f.at[CONTINUED, "n"], "shown": marks[CONTINUED]},
            {
                **cont,
                "key": "t6f_continued_qaly_mean",
                "value": f.at[CONTINUED, "qaly_mean"],
                "note": T6F_NOTES["continued_qaly_mean"],
            },
            {**cont, "key": "t6f_continued_qaly_sd", "value": f.at[CONTINUED, "qaly_sd"]},
            {**cont, "key": "t6f_continued_qaly_median", "value": f.at[CONTINUED, "qaly_median"]},
            {**cont, "key": "t6f_continued_followup_years", "value": f.at[CONTINUED, "follow_up_years"]},
            {"key": "t6f_planned_termination_n", "value": f.at["planned", "n"], "shown": marks["planned"]},
            {
                **plan,
                "key": "t6f_planned_termination_qaly_mean",
                "value": f.at["planned", "qaly_mean"],
                "note": T6F_NOTES["planned_qaly_mean"],
            },
            {**plan, "key": "t6f_planned_termination_qaly_sd", "value": f.at["planned", "qaly_sd"]},
            {**plan, "key": "t6f_planned_termination_qaly_median", "value": f.at["planned", "qaly_median"]},
            {**plan, "key": "t6f_planned_termination_followup_years", "value": f.at["planned", "follow_up_years"]},
            {"key": "t6f_unplanned_termination_n", "value": f.at["unplanned", "n"], "shown": marks["unplanned"]},
            {**unpl, "key": "t6f_unplanned_termination_qaly_mean", "value": f.at["unplanned", "qaly_mean"]},
            {**unpl, "key": "t6f_unplanned_termination_qaly_sd", "value": f.at["unplanned", "qaly_sd"]},
            {**unpl, "key": "t6f_unplanned_termination_qaly_median", "value": f.at["unplanned", "qaly_median"]},
            {**unpl, "key": "t6f_unplanned_termination_followup_years", "value": f.at["unplanned", "follow_up_years"]},
            {**vs_planned, "key": "t6g_cont_vs_planned_delta_cost", "value": g.at["planned", "delta_cost"]},
            {**vs_planned, "key": "t6g_cont_vs_planned_delta_qaly", "value": g.at["planned", "delta_qaly"]},
            {**vs_unplanned, "key": "t6g_cont_vs_unplanned_delta_cost", "value": g.at["unplanned", "delta_cost"]},
            {**vs_unplanned, "key": "t6g_cont_vs_unplanned_delta_qaly", "value": g.at["unplanned", "delta_qaly"]},
            {**vs_unplanned, "key": "t6g_cont_vs_unplanned_icer", "value": g.at["unplanned", "icer"]},
        ]
    )


def adjusted_statistics(t6k: pd.DataFrame, sizes: dict, sample_hidden: dict, offset_hidden: dict) -> pd.DataFrame:
    """Table 6.K and the scenario and summary figures of the text built on it. ``sizes`` are the trajectory
    groups of the cost-utility sample; a row is withheld when a group of the sample or, through its offsets,
    of the cohort is hidden (``sample_hidden``, ``offset_hidden``: comparator -> hidden)."""
    k = t6k.set_index("comparator")

    def pair(c, hidden):
        return {"of": [sizes[CONTINUED], sizes[c]], "suppress": hidden[c]}

    row_hidden = {c: sample_hidden[c] or offset_hidden[c] for c in COMPARISONS}
    planned, unplanned = pair("planned", row_hidden), pair("unplanned", row_hidden)
    return _statistics(
        [
            {**planned, "key": "t6k_cont_vs_planned_delta_cost_before", "value": k.at["planned", "delta_cost"]},
            {
                **planned,
                "key": "t6k_cont_vs_planned_reduction_specialist",
                "value": k.at["planned", "specialist_offset"],
            },
            {**planned, "key": "t6k_cont_vs_planned_reduction_primary", "value": k.at["planned", "primary_offset"]},
            {**planned, "key": "t6k_cont_vs_planned_net_delta_cost", "value": k.at["planned", "net_delta_cost"]},
            {**planned, "key": "t6k_cont_vs_planned_delta_qaly", "value": k.at["planned", "delta_qaly"]},
            {**unplanned, "key": "t6k_cont_vs_unplanned_delta_cost_before", "value": k.at["unplanned", "delta_cost"]},
            {
                **unplanned,
                "key": "t6k_cont_vs_unplanned_reduction_specialist",
                "value": k.at["unplanned", "specialist_offset"],
            },
            {
                **unplanned,
                "key": "t6k_cont_vs_unplanned_reduction_primary",
                "value": k.at["unplanned", "primary_offset"],
            },
            {**unplanned, "key": "t6k_cont_vs_unplanned_net_delta_cost", "value": k.at["unplanned", "net_delta_cost"]},
            {**unplanned, "key": "t6k_cont_vs_unplanned_delta_qaly", "value": k.at["unplanned", "delta_qaly"]},
            {**unplanned, "key": "s6_7_scenario_delta_cost_unplanned", "value": k.at["unplanned", "delta_cost"]},
            {**unplanned, "key": "s6_7_scenario_delta_qaly_unplanned", "value": k.at["unplanned", "delta_qaly"]},
            {
                **unplanned,
                "key": "s6_7_scenario_net_delta_cost_unplanned",
                "value": k.at["unplanned", "net_delta_cost"],
            },
            {
                **pair("unplanned", sample_hidden),
                "key": "s6_7_summary_delta_cost",
                "value": k.at["unplanned", "delta_cost"],
            },
            {
                **pair("unplanned", sample_hidden),
                "key": "s6_7_summary_delta_qaly",
                "value": k.at["unplanned", "delta_qaly"],
            },
        ]
    )


#: Why Table 6.L's SDs differ from the report's, on the page.
CRIME_CAP_NOTE = (
    "Days are counted in a 30-day window (0 to 30, the schema's rule); with this mean, no such answers reach the "
    "printed SD, which implies answers above 30 days in the report's data."
)
CRIME_COST_SD_NOTE = (
    "The synthetic cohort is calibrated to Table 6.L's SD in days (191.56 a year, printed to 0.01); at "
    "3,500 NOK a day that fixes the SD in kroner only to within about 20 NOK."
)


def crime_statistics(t6l: pd.DataFrame, n_shown, ledger: pd.DataFrame) -> pd.DataFrame:
    """Table 6.L and the figures of the text built on it: the patients answering (``n_shown``: the number or
    the mark its joint protection chose), each row's mean and SD, the yearly reductions in crime days and
    their cost, and the report's lower bound for the latter."""
    t = t6l.set_index("variable")
    n = int(t6l["n"].iloc[0]) if len(t6l) else 0
    of = {"of": n, "suppress": isinstance(n_shown, str)}
    return pd.concat(
        [
            _statistics(
                [
                    {
                        "key": "s6_7_crime_n_patients",
                        "value": n,
                        "shown": n_shown if isinstance(n_shown, str) else None,
                    },
                    {**of, "key": "t6l_baseline_crime_days_mean", "value": t.at["baseline", "mean"]},
                    {
                        **of,
                        "key": "t6l_baseline_crime_days_sd",
                        "value": t.at["baseline", "sd"],
                        "note": CRIME_CAP_NOTE,
                    },
                    {**of, "key": "t6l_last_observation_crime_days_mean", "value": t.at["last", "mean"]},
                    {
                        **of,
                        "key": "t6l_last_observation_crime_days_sd",
                        "value": t.at["last", "sd"],
                        "note": CRIME_CAP_NOTE,
                    },
                    {**of, "key": "t6l_change_crime_days_mean", "value": t.at["change", "mean"]},
                    {**of, "key": "t6l_change_crime_days_sd", "value": t.at["change", "sd"]},
                    {**of, "key": "t6l_annualized_change_crime_days_mean", "value": t.at["annualized_change", "mean"]},
                    {**of, "key": "t6l_annualized_change_crime_days_sd", "value": t.at["annualized_change", "sd"]},
                    {**of, "key": "t6l_annualized_change_cost_nok_mean", "value": t.at["annualized_cost", "mean"]},
                    {
                        **of,
                        "key": "t6l_annualized_change_cost_nok_sd",
                        "value": t.at["annualized_cost", "sd"],
                        "note": CRIME_COST_SD_NOTE,
                    },
                    {**of, "key": "s6_7_crime_days_reduction", "value": -t.at["annualized_change", "mean"]},
                    {**of, "key": "s6_7_crime_cost_reduction", "value": -t.at["annualized_cost", "mean"]},
                    {**of, "key": "s6_7_main_crime_reduction", "value": -t.at["annualized_cost", "mean"]},
                ]
            ),
            from_report(ledger, "s6_7_societal_crime_reduction_lower_bound"),
        ],
        ignore_index=True,
    )


# --- section 6.7: programme costs (Table 6.C) as a page shows them ------------------------------------


@dataclass
class ProgramCosts:
    """Table 6.C of an edition: ``statistics`` (a tidy frame for Card.glue_statistics), ``table`` (as shown,
    protected), ``accounts`` and where they come from (``accounts_source``), the clinic-years' ``costs``, and
    ``accounts_note`` (a rerun's sentence on its accounts; "" in the published edition)."""

    statistics: pd.DataFrame
    table: pd.DataFrame
    accounts: pd.DataFrame
    accounts_source: str
    costs: pd.DataFrame
    accounts_note: str


def _program_texts(edition, costs: pd.DataFrame, accounts_source: str) -> tuple[str, str]:
    """A rerun's sentence on its accounts (:func:`accounts_note`) and its caveat that the section's reading is
    the report's, of its own data; both "" in the published edition."""
    whose = "the clinics'" if edition.clinic == "all" else f"the {edition.clinic} clinic's"
    note = (
        ""
        if edition.published
        else accounts_note(
            accounts_source,
            costs,
            whose=whose,
            data_name=edition.source_text,
            report_days=published_patient_days(edition.clinic_names, costs["year"].unique()),
        )
    )
    reading = (
        ""
        if edition.published
        else (
            f"*The reading in this section is the report's, of its own data; in this edition the figures are computed from "
            f"{edition.source_text} ({edition.clinics}, data through {edition.data_end_text}), and where they differ the tables "
            f"below, not these words, are the evidence.* {note}".strip()
        )
    )
    return note, reading


def _program_marks(page) -> dict[tuple[str, int | None], tuple]:
    """The marks of Table 6.C's patients and patient-days (None: shown) by clinic and year (the total row:
    (``TOTAL_ROW``, None)), as the joint protection of the year's editions gives them (:func:`linked_program_marks`)."""
    marks = linked_program_marks(page)
    return {
        (r.clinic, None if r.clinic == TOTAL_ROW else int(r.year)): (r.n_patients, r.patient_days)
        for r in marks.itertuples()
    }


def _clinic_year_rows(edition, costs: pd.DataFrame, mark_of: dict) -> list[dict[str, object]]:
    """The statistics of every clinic-year of Table 6.C under the published table's keys: its patients (with
    their mark), total cost, and patient-days and cost per day (withheld with hidden days); a clinic-year
    outside a rerun's edition has none."""
    t6c = published_table("table_6c_program_costs")
    key_columns = ["clinic", "year", "key_n_patients", "key_total_cost_nok", "key_patient_days", "key_cost_per_day_nok"]
    cells = (
        t6c.loc[t6c["row_type"] == "clinic_year", key_columns]
        .astype({"year": int})
        .merge(costs, on=["clinic", "year"], how="left")
    )
    rows: list[dict[str, object]] = []
    for cell in cells.itertuples():
        if pd.isna(cell.n_patients) and not edition.published:
            continue  # a clinic-year outside this edition
        n_mark, days_mark = mark_of.get((cell.clinic, int(cell.year)), (None, None))
        per_patient: dict[str, object] = {"of": [cell.n_patients], "suppress": days_mark is not None}
        rows += [
            {"key": cell.key_n_patients, "value": cell.n_patients, "shown": n_mark},
            {"key": cell.key_total_cost_nok, "value": cell.total_cost},
            {**per_patient, "key": cell.key_patient_days, "value": cell.patient_days},
            {**per_patient, "key": cell.key_cost_per_day_nok, "value": cell.cost_per_day},
        ]
    return rows


def _total_rows(
    edition,
    ledger: pd.DataFrame,
    costs: pd.DataFrame,
    total: dict,
    total_marks: tuple,
    any_days_hidden: bool,
    note: str,
) -> list[dict[str, object]]:
    """The statistics of Table 6.C's total row (with the marks ``total_marks`` of its patients and days) and of
    the text: the gross operating cost and its periods, the cost per patient-year, the treatment days of a
    year, and the sentences on the total and on the pattern of costs per day."""
    from analysis.presentation.formats import nok as _nok

    n_total_mark, days_total_mark = total_marks
    per_patient = {"of": total["n_patients"], "suppress": days_total_mark is not None}
    years_text = year_span(costs["year"])
    if edition.published:  # the report dates its total from an earlier year than Table 6.C's first
        gross_text = (
            f"The report puts their total operating costs at {_nok(total['total_cost'])} NOK for the period it dates "
            f"from {ledger.at['s6_7_gross_period_start', 'value']:.0f} to {costs['year'].max()}, the years of "
            f"Table 6.C being {years_text}."
        )
    else:
        gross_text = f"Their accounts total {_nok(total['total_cost'])} NOK for {years_text}. {note}".strip()
    return [
        {"key": "t6c_all_2022_2025_n_patients", "value": total["n_patients"], "shown": n_total_mark},
        {"key": "t6c_all_2022_2025_total_cost", "value": total["total_cost"]},
        {**per_patient, "key": "t6c_all_2022_2025_patient_days", "value": total["patient_days"]},
        {**per_patient, "key": "t6c_all_2022_2025_cost_per_day", "value": total["cost_per_day"]},
        {"key": "s6_7_gross_total_operating_cost", "value": total["total_cost"]},
        {**per_patient, "key": "s6_7_main_annual_cost_per_patient", "value": total["cost_per_patient_year"]},
        {"key": "s6_7_gross_period_start", "value": ledger.at["s6_7_gross_period_start", "value"]},  # the report's
        {"key": "s6_7_gross_period_end", "value": costs["year"].max()},
        {"key": "s6_7_societal_period_start", "value": costs["year"].min()},
        {"key": "s6_7_societal_period_end", "value": costs["year"].max()},
        {"key": "cu_days_per_year", "value": cea.TREATMENT_DAYS_PER_YEAR},
        {"key": "cu_gross_text", "value": gross_text},
        {"key": "cu_cost_day_pattern", "value": cost_per_day_sentence(costs, any_days_hidden)},
    ]


def _program_table(costs: pd.DataFrame, total: dict, marks: list[tuple]) -> pd.DataFrame:
    """Table 6.C as the page shows it: a row per clinic-year and the total row, each with its ``marks`` (of
    patients and of days) as the joint pattern gives them: a hidden count as "<5" or "–", hidden days
    withheld with their cost per day; amounts in NOK."""
    from analysis.presentation.disclosure import WITHHELD
    from analysis.presentation.formats import nok as _nok

    shown = pd.concat(
        [
            costs.assign(year=costs["year"].astype(str)),
            pd.DataFrame([{"clinic": "Total", "year": year_span(costs["year"]), **total}]),
        ],
        ignore_index=True,
    )
    for column in ("n_patients", "patient_days", "cost_per_day"):
        shown[column] = shown[column].astype(object)
    for position, (n_mark, days_mark) in enumerate(marks):
        if n_mark is not None:
            shown.at[position, "n_patients"] = n_mark
        if days_mark is not None:
            shown.at[position, "patient_days"] = shown.at[position, "cost_per_day"] = WITHHELD
    for column in ("total_cost", "patient_days", "cost_per_day"):
        shown[column] = shown[column].map(_nok)
    return shown[["clinic", "year", "n_patients", "total_cost", "patient_days", "cost_per_day"]].rename(
        columns={
            "clinic": "Clinic",
            "year": "Year",
            "n_patients": "Patients",
            "total_cost": "Total cost (NOK)",
            "patient_days": "Patient-days",
            "cost_per_day": "Cost per day (NOK)",
        }
    )


def edition_program_costs(page) -> ProgramCosts:
    """Table 6.C for the edition of ``page`` (:class:`analysis.presentation.edition.Page`): every clinic-year's patients,
    total cost, patient-days and cost per day (keys from ``table_6c_program_costs.csv``), the total row, the
    periods and the gross cost per patient-year of the text, and its sentences.

    Patients and patient-days of every clinic-year and of the total are protected together with the other
    editions of the year (:func:`linked_program_marks`): a hidden count shows its mark, hidden days take their
    cost per day with them; a clinic-year's days and cost per day rest on its patients."""
    cohort, edition = page.cohort, page.edition
    days = treatment_days(cohort.episodes, cohort.patients, cohort.data_end)
    # the data's own clinic accounts when the folder brings them, otherwise the published Table 6.C totals
    accounts, accounts_source = edition_accounts(getattr(cohort, "accounts", None))
    costs = program_costs(days, accounts)
    total = program_cost_total(days, costs)
    note, reading = _program_texts(edition, costs, accounts_source)
    mark_of = _program_marks(page)
    # the marks of the table's rows: each clinic-year's, then the total's
    table_marks = [mark_of.get((c, int(y)), (None, None)) for c, y in zip(costs["clinic"], costs["year"])]
    total_marks = mark_of[(TOTAL_ROW, None)]
    any_days_hidden = any(days_mark is not None for _, days_mark in table_marks)
    rows: list[dict[str, object]] = [
        {"key": "cu_accounts_note", "value": note or " "},
        {"key": "cu_report_reading", "value": reading or " "},
        *_clinic_year_rows(edition, costs, mark_of),
        *_total_rows(edition, page.published, costs, total, total_marks, any_days_hidden, note),
    ]
    return ProgramCosts(
        statistics=_statistics(rows),
        table=_program_table(costs, total, [*table_marks, total_marks]),
        accounts=accounts,
        accounts_source=accounts_source,
        costs=costs,
        accounts_note=note,
    )


# --- section 6.7: health-service offsets (Tables 6.H and 6.I) as a page shows them -------------------

#: Tables 6.H and 6.I: their columns (published category -> heading) and the published tables holding their keys.
T6H_COLUMNS = {
    "primary_care_physician": "Primary care physician",
    "physiotherapy": "Physiotherapy",
    "emergency_room": "Emergency room",
    "total_primary_care": "Total primary care",
}
T6I_COLUMNS = {"som": "SOM", "phv": "PHV", "tsb_sud": "TSB", "total_specialist": "Total specialist care"}
_OFFSET_TABLES = {"6H": "table_6h_primary_care_offsets", "6I": "table_6i_specialist_care_reductions"}
_COMPARISON_LABELS = {
    "continued_vs_planned_termination": "Continued vs planned termination",
    "continued_vs_unplanned_termination": "Continued vs unplanned termination",
}


@dataclass
class Offsets:
    """The health-service offsets of an edition: ``offsets`` (:func:`health_services.cost_offsets`), ``wide``
    (comparison x category), ``hidden`` (comparator -> withheld with a group the joint protection hides),
    ``shown`` (every comparison may be shown), ``statistics`` for Card.glue_statistics, and Tables 6.H and
    6.I as shown."""

    offsets: pd.DataFrame
    wide: pd.DataFrame
    hidden: dict
    shown: bool
    statistics: pd.DataFrame
    table_6h: pd.DataFrame
    table_6i: pd.DataFrame


def _offset_sentences(wide: pd.DataFrame, shown: bool, threshold) -> tuple[str, str]:
    """The sentences on the primary-care and the specialist-care offsets, in the direction the numbers have."""
    from analysis.presentation.formats import nok

    if not shown:
        text = (
            "The offsets are withheld (–) in this edition: a trajectory group of the cohort has "
            + (f"fewer than {threshold} patients" if threshold is not None else "no patients")
            + (
                ", or would give a small group back when set against the other editions of its year."
                if threshold is not None
                else "."
            )
        )
        return text, text
    at = lambda comparison, category: nok(wide.at[comparison, category])  # noqa: E731
    primary_total = wide.at["unplanned", PRIMARY_TOTAL]
    primary = f"Against unplanned termination the total is {at('unplanned', PRIMARY_TOTAL)} NOK a year" + (
        ", so primary care hardly moves the cost-effectiveness estimates."
        if abs(primary_total) < 0.1 * max(abs(wide.at["unplanned", SPECIALIST_TOTAL]), 1)
        else "."
    )
    total_u, som_u = wide.at["unplanned", SPECIALIST_TOTAL], wide.at["unplanned", "som"]
    specialist = (
        f"Against unplanned termination, specialist-care costs {'fall' if total_u > 0 else 'do not fall; they change'} by "
        f"{nok(abs(total_u)) if total_u > 0 else at('unplanned', SPECIALIST_TOTAL)} NOK per patient-year"
    )
    if total_u > 0 and som_u > total_u / 2:
        specialist += (
            f", most of it in somatic care ({nok(som_u)} NOK). This is consistent with continued HAT helping to "
            "stabilise patients and reducing their need for somatic hospital treatment."
        )
    else:
        specialist += f" (somatic care {nok(som_u)} NOK)."
    if (wide["phv"] < 0).all():
        specialist += (
            " Mental health care shows negative values, which suggests that the need for psychiatric follow-up "
            "persists rather than shrinks."
        )
    else:
        specialist += (
            f" Mental health care shows offsets of {at('planned', 'phv')} and "
            f"{at('unplanned', 'phv')} NOK against planned and unplanned termination."
        )
    if wide.at["unplanned", "tsb"] > 0 and wide.at["planned", "tsb"] <= 0:
        specialist += (
            f" Addiction treatment costs fall clearly against unplanned termination ({at('unplanned', 'tsb')} "
            "NOK) but not against planned termination, possibly because most patients in the latter group stayed in "
            "addiction treatment when they moved on to OAT."
        )
    else:
        specialist += (
            f" Addiction treatment shows offsets of {at('unplanned', 'tsb')} NOK against unplanned and "
            f"{at('planned', 'tsb')} NOK against planned termination."
        )
    return primary, specialist


def health_service_offsets(page, periods: pd.DataFrame, groups: pd.DataFrame) -> Offsets:
    """Tables 6.H and 6.I and the specialist-care figures of the text for the edition of ``page``: each
    offset of continued treatment against a comparison (keys from the published tables' key columns) rests on
    the two trajectory groups of the cohort, and is withheld with a group that the joint protection of the
    year's editions hides (:func:`linked_trajectory_hidden`)."""
    from analysis.presentation import disclosure
    from analysis.presentation.formats import nok
    from analysis.sections.health_services import COMPARISON_NAMES, cost_offsets, published_layout

    offsets = cost_offsets(periods, groups)
    sizes = groups["group"].value_counts().reindex(list(GROUPS), fill_value=0).to_dict()
    cohort_hidden = linked_trajectory_hidden(page)
    hidden = {c: cohort_hidden[CONTINUED] or cohort_hidden[c] for c in COMPARISONS}
    comparator_of = {name: c for c, name in COMPARISON_NAMES.items()}
    rows = []
    for offset_table, name in _OFFSET_TABLES.items():
        layout = published_table(name)[["comparison", "category", "key"]]
        for cell in (
            published_layout(offsets, offset_table)
            .merge(layout, on=["comparison", "category"], how="left")
            .itertuples()
        ):
            comparator = comparator_of[cell.comparison]
            rows.append(
                {
                    "key": cell.key,
                    "value": cell.value,
                    "of": [sizes[CONTINUED], sizes[comparator]],
                    "suppress": hidden[comparator],
                }
            )
    wide = offsets.pivot(index="comparison", columns="category", values="offset")
    unplanned = {"of": [sizes[CONTINUED], sizes["unplanned"]], "suppress": hidden["unplanned"]}
    shown = not any(
        disclosure.any_small([sizes[CONTINUED], sizes[c]], page.sdc)
        or sizes[c] == 0
        or sizes[CONTINUED] == 0
        or hidden[c]
        for c in COMPARISONS
    )
    primary_text, specialist_text = _offset_sentences(wide, shown, page.sdc)
    rows += [
        {
            **unplanned,
            "key": "s6_7_specialist_total_reduction_unplanned",
            "value": wide.at["unplanned", SPECIALIST_TOTAL],
        },
        {**unplanned, "key": "s6_7_specialist_som_reduction_unplanned", "value": wide.at["unplanned", "som"]},
        {**unplanned, "key": "s6_7_specialist_tsb_reduction_unplanned", "value": wide.at["unplanned", "tsb"]},
        {**unplanned, "key": "s6_7_scenario_primary_reduction_unplanned", "value": wide.at["unplanned", PRIMARY_TOTAL]},
        {"key": "cu_primary_text", "value": primary_text},
        {"key": "cu_specialist_text", "value": specialist_text},
    ]

    def table(name, columns):
        frame = (
            published_layout(offsets, name)
            .pivot(index="comparison", columns="category", values="value")
            .reindex(columns=list(columns))
        )
        frame = frame.apply(
            lambda column: pd.Series(
                [
                    nok(
                        page.card.disclose(
                            v,
                            of=[sizes[CONTINUED], sizes[comparator_of[comparison]]],
                            suppress=hidden[comparator_of[comparison]],
                        )
                    )
                    for comparison, v in column.items()
                ],
                index=column.index,
            )
        )
        frame.index = [_COMPARISON_LABELS[i] for i in frame.index]
        return frame.rename_axis("Comparison").reset_index().rename(columns=columns)

    return Offsets(
        offsets=offsets,
        wide=wide,
        hidden=hidden,
        shown=shown,
        statistics=_statistics(rows),
        table_6h=table("6H", T6H_COLUMNS),
        table_6i=table("6I", T6I_COLUMNS),
    )


# --- section 6.7: the bootstrap of the annualised comparisons (an extension of this edition) ---------

#: Replicates and seed of the bootstrap of section 6.7.
BOOTSTRAP_REPLICATES = 5000
BOOTSTRAP_SEED = 2026


@dataclass
class Bootstrap:
    """The bootstrap of Table 6.G: ``enough`` (every group large enough and none hidden), ``statistics`` for
    Card.glue_statistics, ``icer_interval`` (words), the replicates' differences against each comparator
    (``deltas``), the acceptability curves (``curve``) and the running probability (``running``)."""

    enough: bool
    statistics: pd.DataFrame
    icer_interval: str
    deltas: dict
    curve: pd.DataFrame | None
    running: pd.DataFrame | None


def bootstrap_comparisons(
    sample: pd.DataFrame, sizes: dict, hidden: dict, threshold, wtp_conventional: float
) -> Bootstrap:
    """Resample each trajectory group's patients (:func:`analysis.methods.uncertainty.bootstrap_means`) and summarise
    continued treatment against each other group: 95% intervals of the differences against unplanned
    termination and of its ICER, the probabilities of being cost-effective at the reference levels, and the
    Monte Carlo error of each figure (:func:`analysis.methods.uncertainty.bootstrap_mcse`).

    Not run (n/a) when a group has fewer than ``max(threshold, 2)`` patients (``sizes``) or its size is hidden
    by the joint protection of the year's editions (``hidden``: group -> bool)."""
    from analysis.methods import uncertainty as unc
    from analysis.presentation.disclosure import NOT_ENOUGH_DATA
    from analysis.presentation.formats import nok

    smallest = max(threshold or 2, 2)
    few = not all(sizes[g] >= smallest for g in GROUPS)
    # a group size the joint protection hides takes the resampling (which shows each group's results) with it
    enough = not few and not any(hidden.values())
    deltas, curve, running, mcse, mcse_text = {}, None, None, {}, ""
    values = dict.fromkeys(
        (
            "delta_cost_lower",
            "delta_cost_upper",
            "delta_effect_lower",
            "delta_effect_upper",
            "severe",
            "conventional",
            "planned_severe",
            "cheaper",
            "icer_lower",
            "icer_upper",
        ),
        np.nan,
    )
    if enough:
        replicates = unc.bootstrap_means(
            sample, "group", "annual_cost", "annual_qalys", n_replicates=BOOTSTRAP_REPLICATES, seed=BOOTSTRAP_SEED
        )
        deltas = {c: unc.replicate_deltas(replicates, CONTINUED, c) for c in ("planned", "unplanned")}
        intervals = unc.bootstrap_summary(deltas["unplanned"]).set_index("statistic")
        curve = pd.concat([unc.ceac(d).assign(strategy=f"Continued vs {c} termination") for c, d in deltas.items()])
        at = lambda c, w: float(unc.ceac(deltas[c], [w])["probability"].iloc[0])  # noqa: E731
        values = {
            "delta_cost_lower": intervals.at["delta_cost", "ci_lower"],
            "delta_cost_upper": intervals.at["delta_cost", "ci_upper"],
            "delta_effect_lower": intervals.at["delta_effect", "ci_lower"],
            "delta_effect_upper": intervals.at["delta_effect", "ci_upper"],
            "severe": 100 * at("unplanned", unc.WTP_SEVERE),
            "conventional": 100 * at("unplanned", wtp_conventional),
            "planned_severe": 100 * at("planned", unc.WTP_SEVERE),
            "cheaper": 100 * at("unplanned", 0.0),
            "icer_lower": intervals.at["icer", "ci_lower"],
            "icer_upper": intervals.at["icer", "ci_upper"],
        }
        # the Monte Carlo error of every figure, and the running estimate of the probability the stopping rule watches
        mcse = unc.bootstrap_mcse(deltas["unplanned"])
        mcse_text = mcse_sentences(mcse, at("unplanned", unc.WTP_SEVERE), BOOTSTRAP_SEED)
        running = unc.running_probability(deltas["unplanned"])
    reason = (
        ""
        if enough
        else (
            f"The bootstrap needs at least {smallest} patients in each trajectory group of the cost-utility sample, and this edition "
            f"has fewer in some group, so its results show n/a."
            if few
            else "The bootstrap's results show n/a in this edition: a group size it rests on is withheld, since set against the other "
            "editions of its year it would give a small group back."
        )
    )
    statistics = _statistics(
        [
            {"key": "cu_boot_dc_lo", "value": values["delta_cost_lower"]},
            {"key": "cu_boot_dc_hi", "value": values["delta_cost_upper"]},
            {"key": "cu_boot_dq_lo", "value": values["delta_effect_lower"]},
            {"key": "cu_boot_dq_hi", "value": values["delta_effect_upper"]},
            {"key": "cu_prob_unplanned_severe", "value": values["severe"]},
            {"key": "cu_prob_unplanned_conventional", "value": values["conventional"]},
            {"key": "cu_prob_planned_severe", "value": values["planned_severe"]},
            {"key": "cu_prob_unplanned_cheaper", "value": values["cheaper"]},
            {"key": "cu_replicates", "value": BOOTSTRAP_REPLICATES},
            {"key": "cu_mcse_text", "value": mcse_text or " "},
            {"key": "cu_mcse_prob", "value": 100 * mcse.get("probability", np.nan)},
            {"key": "cu_mcse_dc_lo", "value": mcse.get("delta_cost_lower", np.nan)},
            {"key": "cu_mcse_dc_hi", "value": mcse.get("delta_cost_upper", np.nan)},
            {"key": "cu_mcse_dq_lo", "value": mcse.get("delta_effect_lower", np.nan)},
            {"key": "cu_mcse_dq_hi", "value": mcse.get("delta_effect_upper", np.nan)},
            {"key": "cu_mcse_evpi", "value": mcse.get("evpi", np.nan)},
            {"key": "cu_boot_reason", "value": reason or " "},
        ]
    )
    icer_interval = (
        NOT_ENOUGH_DATA
        if not enough
        else f"{nok(values['icer_lower'])} to {nok(values['icer_upper'])} NOK per QALY"
        if np.isfinite(values["icer_lower"])
        else "not defined, because some replicates gain no QALYs (a ratio changes meaning there; the acceptability curve is the summary to use)"
    )
    return Bootstrap(
        enough=enough, statistics=statistics, icer_interval=icer_interval, deltas=deltas, curve=curve, running=running
    )


# --- section 6.7: one-way sensitivity of the net monetary benefit (an extension of this edition) -----


def net_benefit_sensitivity(
    cohort,
    accounts: pd.DataFrame,
    groups: pd.DataFrame,
    changes: pd.DataFrame,
    wide: pd.DataFrame,
    ledger: pd.DataFrame,
) -> pd.DataFrame:
    """One-way sensitivity of the incremental net monetary benefit of continued treatment against unplanned
    termination at 825,000 NOK per QALY, per patient-year, net of the health-service offsets (``wide``, as
    :class:`Offsets`) and of the crime offset (:func:`crime_offsets` of ``changes``).

    Each input is set to a low and a high value in turn (:func:`analysis.methods.uncertainty.one_way_sensitivity`):
    clinic costs and the unit costs of specialist and primary care ±25%; the cost of a crime day over
    Supplementary Table C's range; the EQ-5D-5L value set (the lowest and the highest of the other countries'
    results against Norway's); QALYs per year of follow-up or of the answers' span. Returns the tornado frame,
    widest bar first."""
    from analysis.methods import uncertainty as unc

    crime_cost = crime_cost_per_day()
    crime = crime_offsets(changes, groups).set_index("comparator")["offset"]
    annual = {}
    for name in quality_of_life.value_set_names():
        sample = patient_table(
            cohort.episodes,
            cohort.patients,
            cohort.questionnaires,
            cohort.data_end,
            accounts=accounts,
            values=quality_of_life.value_set(country=name),
        )
        for by in ANNUALIZE_BY:
            row = annualized_comparisons(annualize(sample, by)).set_index("comparator").loc["unplanned"]
            annual[(name, by)] = (row["delta_cost"], row["delta_qaly"])

    def inmb(
        programme=1.0,
        specialist=1.0,
        primary=1.0,
        crime_cost_per_day=crime_cost,
        value_set="Norway",
        annualize="follow_up",
    ):
        delta_cost, delta_qaly = annual[(value_set, annualize)]
        return incremental_net_benefit(
            delta_cost,
            delta_qaly,
            unc.WTP_SEVERE,
            specialist_offset=wide.at["unplanned", SPECIALIST_TOTAL],
            primary_offset=wide.at["unplanned", PRIMARY_TOTAL],
            crime_offset=crime["unplanned"],
            programme_factor=programme,
            specialist_factor=specialist,
            primary_factor=primary,
            crime_factor=crime_cost_per_day / crime_cost,
        )

    by_set = {name: inmb(value_set=name) for name in quality_of_life.value_set_names()}
    others = sorted((name for name in by_set if name != "Norway"), key=lambda name: by_set[name])
    ranges = pd.DataFrame(
        [
            ("programme", "Clinic costs ±25%", 0.75, 1.25),
            ("specialist", "Specialist-care unit costs ±25%", 0.75, 1.25),
            ("primary", "Primary-care unit costs ±25%", 0.75, 1.25),
            (
                "crime_cost_per_day",
                "Cost of a crime day 3,000–5,000 NOK",
                ledger.at["stc_any_crime_unit_cost_low", "value"],
                ledger.at["stc_any_crime_unit_cost_high", "value"],
            ),
            ("value_set", f"Value set ({others[0]} to {others[-1]})", others[0], others[-1]),
            ("annualize", "QALYs per year of follow-up or of answers", "follow_up", "measured_span"),
        ],
        columns=["parameter", "label", "low", "high"],
    )
    base = {
        "programme": 1.0,
        "specialist": 1.0,
        "primary": 1.0,
        "crime_cost_per_day": crime_cost,
        "value_set": "Norway",
        "annualize": "follow_up",
    }
    return unc.one_way_sensitivity(inmb, base, ranges)


def sign_words(tornado: pd.DataFrame) -> str:
    """Whether the net benefit "stays positive", "stays negative" or "changes sign" across a tornado's ranges."""
    ends = tornado[["outcome_low", "outcome_high"]]
    return (
        "stays positive" if (ends > 0).all().all() else "stays negative" if (ends < 0).all().all() else "changes sign"
    )


# --- section 6.7: the whole cohort's specialist care before and after admission (Table 6.J) -----------

#: Table 6.J's columns: computed column -> the published table's key column, and the headings shown.
T6J_KEY_COLUMNS = {
    "before": "key_cost_1y_before_nok",
    "after": "key_cost_2y_after_nok",
    "change": "key_change_nok",
    "annualized_change": "key_annualized_change_nok",
}
T6J_HEADINGS = {
    "category": "Area",
    "before": "Per quarter, year before (NOK)",
    "after": "Per quarter, two years after (NOK)",
    "change": "Change (NOK)",
    "annualized_change": "Change per year (NOK)",
}


def _cohort_with_quarters_before(cohort) -> int:
    """An edition's patients with registry quarters before the first admission (Table 6.J's cohort)."""
    from analysis.sections.health_services import before_after, registry_periods

    found = before_after(registry_periods(cohort.health_service_use))
    return int(found["n_before"].max()) if len(found) else 0


def specialist_care_change(page, periods: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 6.J for the edition of ``page``: the whole cohort's specialist-care cost per quarter in the year
    before and the two years after the first admission, the change and the change per year (keys from the
    published table's key columns), the cohort's size and window, the reductions of the text, and its
    sentence. The cohort's size is protected with the other editions of the year (:func:`linked_count`);
    its means go with it when it is hidden. Returns the statistics and the table as shown."""
    from analysis.data import schema
    from analysis.presentation import disclosure
    from analysis.presentation.formats import nok
    from analysis.sections.health_services import QUARTERS_PER_YEAR, TABLE_6J_CATEGORIES, before_after

    t6j = before_after(periods)
    n_cohort = int(t6j["n_before"].max()) if len(t6j) else 0
    n_shown = linked_count(page, _cohort_with_quarters_before)
    hidden = isinstance(n_shown, str)
    quarters = pd.Series(schema.REGISTRY_QUARTERS)
    rows = [
        {"key": "s6_7_overall_n_cohort", "value": n_cohort, "shown": n_shown if hidden else None},
        {"key": "s6_7_overall_window_before", "value": (quarters < 0).sum() / QUARTERS_PER_YEAR},
        {"key": "s6_7_overall_window_after", "value": (quarters > 0).sum() / QUARTERS_PER_YEAR},
    ]
    keys = published_table("table_6j_specialist_care_change").set_index("category")
    for cell in t6j.itertuples():
        for column, key_column in T6J_KEY_COLUMNS.items():
            rows.append(
                {
                    "key": keys.at[TABLE_6J_CATEGORIES[cell.category], key_column],
                    "value": getattr(cell, column),
                    "of": [cell.n_before, cell.n_after],
                    "suppress": hidden,
                }
            )
    change = t6j.set_index("category")["annualized_change"]
    whole = {"of": n_cohort, "suppress": hidden}
    if (
        n_cohort == 0
        or hidden
        or disclosure.any_small(t6j[["n_before", "n_after"]].to_numpy().ravel().tolist(), page.sdc)
    ):
        text = "The whole-cohort change is withheld (–) or not computable (n/a) here: too few patients have quarters before and after."
    else:
        fell = -change[SPECIALIST_TOTAL]
        drivers = [
            f"{name} ({nok(-change[c])} NOK)"
            for c, name in {"som": "somatic care", "tsb": "addiction treatment"}.items()
            if -change[c] > 0
        ]
        text = (
            f"Across the cohort, specialist-care costs {'fell' if fell > 0 else 'rose'} by {nok(abs(fell))} NOK per patient-year"
            + (f", driven by {' and '.join(drivers)}" if fell > 0 and drivers else "")
            + f", while mental health care {'rose' if change['phv'] > 0 else 'fell'} ({nok(abs(change['phv']))} NOK)."
        )
    rows += [
        {**whole, "key": "s6_7_overall_total_reduction", "value": -change[SPECIALIST_TOTAL]},
        {**whole, "key": "s6_7_overall_som_reduction", "value": -change["som"]},
        {**whole, "key": "s6_7_overall_tsb_reduction", "value": -change["tsb"]},
        {**whole, "key": "s6_7_overall_phv_increase", "value": change["phv"]},
        {"key": "cu_cohort_text", "value": text},
    ]
    shown = t6j.assign(
        category=t6j["category"].map(
            {"som": "SOM", "phv": "PHV", "tsb": "TSB", SPECIALIST_TOTAL: "Total specialist care"}
        )
    )
    for column in T6J_KEY_COLUMNS:
        shown[column] = [
            nok(page.card.disclose(v, of=[a, b], suppress=hidden))
            for v, a, b in zip(shown[column], shown["n_before"], shown["n_after"])
        ]
    return _statistics(rows), shown[list(T6J_HEADINGS)].rename(columns=T6J_HEADINGS)


# --- section 6.7: the words and shown tables of Tables 6.K and 6.L -------------------------------------

#: Table 6.K's columns as shown.
T6K_HEADINGS = {
    "Comparison": "Comparison",
    "delta_cost": "Δ cost before offsets",
    "specialist_offset": "Specialist-care offset",
    "primary_offset": "Primary-care offset",
    "net_delta_cost": "Net Δ cost",
    "delta_qaly": "Δ QALY",
    "status": "Reading",
}
#: Table 6.L's rows as shown.
T6L_ROWS = {
    "baseline": "Crime days, first answer",
    "last": "Crime days, last answer",
    "change": "Change (days per 30 days)",
    "annualized_change": "Change per year (days)",
    "annualized_cost": "Change in cost per year (NOK)",
}


def adjusted_words(t6k: pd.DataFrame, withheld: dict, offsets_shown: bool, wide: pd.DataFrame) -> tuple[str, str]:
    """The sentences on Table 6.K: the net comparison against each termination, in the direction its numbers
    have (withheld when a comparison or the offsets are: ``withheld`` comparator -> bool, ``offsets_shown``),
    and the reading that part of HAT's cost comes back when the specialist-care saving is mostly somatic care
    ("" otherwise)."""
    from analysis.presentation.formats import nok, number

    k = t6k.set_index("comparator")
    unplanned = k.loc["unplanned"]
    planned_status = k.at["planned", "status"] or "not computable"
    if withheld["unplanned"] or not offsets_shown:
        text = (
            "The net comparison against unplanned termination is withheld (–) or not computable (n/a) here, since a group "
            "it rests on is too small or empty."
        )
    else:
        offsets = unplanned["specialist_offset"], unplanned["primary_offset"]
        text = (
            f"Against unplanned termination the yearly {'extra' if unplanned['delta_cost'] >= 0 else 'lower'} programme cost of "
            f"{nok(abs(unplanned['delta_cost']))} NOK meets "
            + " and ".join(
                f"{'savings' if v >= 0 else 'extra costs'} of {nok(abs(v))} NOK in {where} care"
                for v, where in zip(offsets, ("specialist", "primary"))
            )
            + f", leaving a net incremental cost of {nok(unplanned['net_delta_cost'])} NOK for "
            f"{number(unplanned['delta_qaly'], 3)} QALYs a year: *{unplanned['status'] or 'not computable'}*."
        )
    if withheld["planned"] or not offsets_shown:
        text += " Against planned termination the net result is withheld (–) or not computable (n/a)."
    else:
        text += f" Against planned termination the net result is *{planned_status}*" + (
            " as well." if planned_status == unplanned["status"] else "."
        )
    specialist = wide.at["unplanned", SPECIALIST_TOTAL]
    reading = (
        "They do indicate that part of the high cost of HAT may be recovered through less use of other services, "
        "especially somatic specialist care."
        if offsets_shown
        and not withheld["unplanned"]
        and specialist > 0
        and wide.at["unplanned", "som"] > specialist / 2
        else ""
    )
    return text, reading


def adjusted_table(t6k: pd.DataFrame, card, sizes: dict, hidden: dict) -> pd.DataFrame:
    """Table 6.K as shown: each row's values as ``card`` may show them (withheld with a ``hidden`` comparison,
    resting on the two groups' ``sizes``)."""
    from analysis.presentation.formats import nok

    shown = t6k.copy()
    shown["Comparison"] = [
        "Continued vs " + {"planned": "planned termination", "unplanned": "unplanned termination"}[c]
        for c in shown["comparator"]
    ]
    for column in ("delta_cost", "specialist_offset", "primary_offset", "net_delta_cost", "delta_qaly"):
        values = [
            card.disclose(v, of=[sizes[CONTINUED], sizes[c]], suppress=hidden[c])
            for v, c in zip(shown[column], shown["comparator"])
        ]
        shown[column] = pd.Series(values, index=shown.index).map(decimals(3) if column == "delta_qaly" else nok)
    return shown[list(T6K_HEADINGS)].rename(columns=T6K_HEADINGS)


def crime_words(t6l: pd.DataFrame, hidden: bool, threshold, lower_bound: float | None) -> str:
    """The sentence on Table 6.L: the mean yearly change in crime days and its cost, in the direction it has;
    withheld (–) or not computable (n/a) with fewer than ``max(threshold, 2)`` patients or a ``hidden`` count.
    ``lower_bound`` (the published edition) adds the report's reading."""
    from analysis.presentation import disclosure
    from analysis.presentation.formats import count_words, nok, number

    n = int(t6l["n"].iloc[0]) if len(t6l) else 0
    means = t6l.set_index("variable")["mean"]
    if disclosure.any_small([n], threshold) or n < 2:
        return (
            f"Fewer than {max(threshold or 2, 2)} patients answered the question on crime days, so the change is "
            + ("withheld (–)." if n else "not computable (n/a).")
        )
    if hidden:
        return (
            "The number of patients who answered the question on crime days, and the change, are withheld (–) in this "
            "edition: set against the other editions of its year, they would give a small number back."
        )
    fewer = -means["annualized_change"]
    text = (
        f"On average, the {count_words(n, 'patient')} reported {number(abs(fewer))} "
        f"{'fewer' if fewer >= 0 else 'more'} crime days a year, "
        f"{'worth' if fewer >= 0 else 'costing'} {nok(abs(-means['annualized_cost']))} NOK to society per patient-year"
    )
    if lower_bound is not None:
        text += f"; the report describes this as well above {nok(lower_bound)} NOK"
    return text + "."


def crime_table_shown(t6l: pd.DataFrame, card, hidden: bool) -> pd.DataFrame:
    """Table 6.L as shown: means and SDs as ``card`` may show them (withheld with a ``hidden`` count)."""
    from analysis.presentation.formats import nok, number

    n = int(t6l["n"].iloc[0]) if len(t6l) else 0
    shown = t6l.assign(variable=t6l["variable"].map(T6L_ROWS))
    for column in ("mean", "sd"):
        values = [card.disclose(v, of=n, suppress=hidden) for v in shown[column]]
        shown[column] = [nok(v) if "NOK" in name else number(v, 2) for v, name in zip(values, shown["variable"])]
    return shown[["variable", "mean", "sd"]].rename(columns={"variable": "", "mean": "Mean", "sd": "SD"})


# --- section 6.7: the words and shown tables of Tables 6.F and 6.G -------------------------------------

_VERSUS = {"planned": "planned termination", "unplanned": "unplanned termination"}
T6F_HEADINGS = {
    "group": "Group",
    "n": "N",
    "qaly_mean": "QALYs",
    "qaly_sd": "SD",
    "qaly_median": "Median",
    "follow_up_years": "Follow-up (years)",
}


def annual_words(
    t6g: pd.DataFrame, card, sizes: dict, reasons: dict, published: bool, wtp: float, severe_level: float
) -> tuple[str, str, str]:
    """The words on Table 6.G: whether the ICER against unplanned termination is "above" or "below" the
    willingness to pay ``wtp`` ("not comparable with" it when there is none), and the sentences on the two
    comparisons, in the direction their numbers have, the values as ``card`` may show them (resting on the two
    groups' ``sizes``). In a rerun a comparison with a ``reasons`` entry (:func:`comparison_reason`) is
    replaced by the reason. ``severe_level`` is the reference level the report cites."""
    from analysis.presentation.formats import nok, number

    g = t6g.set_index("comparator")
    unplanned, planned = g.loc["unplanned"], g.loc["planned"]
    icer = unplanned["icer"]
    icer_words = "not comparable with" if not np.isfinite(icer) else "above" if icer > wtp else "below"
    threshold_text = f"{nok(severe_level)} NOK commonly cited for severe conditions in Norway"
    pair = {c: [sizes[CONTINUED], sizes[c]] for c in ("planned", "unplanned")}
    if published or not reasons["unplanned"]:
        text = difference_sentence(
            "Continued HAT",
            card.disclose(unplanned["delta_cost"], of=pair["unplanned"]),
            card.disclose(unplanned["delta_qaly"], of=pair["unplanned"]),
            per="per patient-year",
        )
        unplanned_text = text.rstrip(".") + (
            f" per year: the comparison is *{unplanned['status']}*, at {nok(icer)} NOK per QALY, {icer_words} the "
            f"{threshold_text}"
            if np.isfinite(icer)
            else f" per year: the comparison is *{unplanned['status']}*, so no ICER is set against the {threshold_text}"
        )
    else:
        unplanned_text = (
            reasons["unplanned"].rstrip(".") + ", nor set against the reference level for severe conditions"
        )
    if published or not reasons["planned"]:
        planned_text = (
            "Against planned termination the difference in cost is "
            f"{nok(card.disclose(planned['delta_cost'], of=pair['planned']))} NOK per year and in QALYs "
            f"{number(card.disclose(planned['delta_qaly'], of=pair['planned']), 3)}, so continued HAT is "
            f"*{planned['status']}*."
        )
    else:
        planned_text = "Against planned termination: " + reasons["planned"][0].lower() + reasons["planned"][1:]
    return icer_words, unplanned_text.rstrip("."), planned_text


def follow_up_table_shown(t6f: pd.DataFrame, marks: dict) -> pd.DataFrame:
    """Table 6.F as shown: the group sizes as the joint protection marks them (:func:`mark_groups`), the rest
    to three decimals."""
    columns = ["qaly_mean", "qaly_sd", "qaly_median", "follow_up_years"]
    shown = mark_groups(t6f[["group", "n", *columns]], marks, columns)
    for column in columns:
        shown[column] = shown[column].map(decimals(3))
    return shown.rename(columns=T6F_HEADINGS)


def annual_table(t6g: pd.DataFrame, card, sizes: dict, withheld: dict, threshold) -> pd.DataFrame:
    """Table 6.G as shown: the differences and the ICER as ``card`` may show them, withheld with a comparison
    a rerun (a ``threshold``) withholds; the quadrant where there is no ICER."""
    from analysis.presentation.formats import nok

    def shown(value, comparator):
        return card.disclose(
            value, of=[sizes[CONTINUED], sizes[comparator]], suppress=withheld[comparator] and threshold is not None
        )

    table = pd.DataFrame(
        {
            "Comparison": ["Continued vs " + _VERSUS[c] for c in t6g["comparator"]],
            "Δ cost (NOK per year)": [shown(v, c) for v, c in zip(t6g["delta_cost"], t6g["comparator"])],
            "Δ QALY per year": [shown(v, c) for v, c in zip(t6g["delta_qaly"], t6g["comparator"])],
            "ICER (NOK per QALY)": [
                nok(shown(v, c)) if np.isfinite(v) or withheld[c] else (s or "n/a")
                for v, s, c in zip(t6g["icer"], t6g["status"], t6g["comparator"])
            ],
        }
    )
    table["Δ cost (NOK per year)"] = table["Δ cost (NOK per year)"].map(nok)
    table["Δ QALY per year"] = table["Δ QALY per year"].map(decimals(3))
    return table


def mcse_sentences(
    mcse: dict,
    probability: float,
    seed,
    wtp: float = unc.WTP_SEVERE,
    target: float = unc.MCSE_TARGET,
    batches: int = 20,
    comparison: str = "against unplanned termination",
    what: str = "The bootstrap",
    unit: str = "replicates",
    subject: str = "continued treatment",
    cost_words: str = "the yearly extra cost",
    qaly_words: str = "the yearly QALY gain",
) -> str:
    """How many replicates (``unit``) ``what`` used, the stopping rule and whether the count meets it, and the
    MCSE of each figure (:func:`analysis.methods.uncertainty.bootstrap_mcse`), as Markdown for a reader (numbers by
    :mod:`analysis.presentation.formats`)."""
    n = int(mcse["n"])
    needed = unc.replicates_needed(probability, target)
    meets = mcse["probability"] <= target
    text = (
        f"**Monte Carlo error.** {what} used {formats.number(n)} {unit} (seed {seed}). The rule for their number: "
        f"{unit} are added in batches of {formats.number(unc.MCSE_BATCH)} until the Monte Carlo standard error (MCSE) of the "
        f"probability that {subject} is cost-effective at {formats.nok(wtp)} NOK per QALY {comparison} is at most "
        f"{formats.number(100 * target, 1)} percentage points, up to {formats.number(unc.MCSE_CAP)}. With "
        f"{formats.number(n)} {unit} that MCSE is {formats.number(100 * mcse['probability'], 2)} percentage points, so "
    )
    text += (
        "the count meets the rule. "
        if meets
        else f"the rule would ask for {formats.number(needed)}; the figures keep the count of the edition's first release so that "
        f"they do not move, and carry their MCSE instead. "
    )
    text += (
        f"The MCSEs of the 95% bounds (batch means: {batches} batches of {formats.number(n // batches)} {unit}, the "
        f"percentile in each, their standard deviation over the square root of {batches}) are "
        f"{formats.nok(mcse['delta_cost_lower'])} and {formats.nok(mcse['delta_cost_upper'])} NOK for {cost_words}, "
        f"{formats.number(mcse['delta_effect_lower'], 4)} and {formats.number(mcse['delta_effect_upper'], 4)} for {qaly_words}; "
        f"the MCSE of the EVPI per patient at {formats.nok(wtp)} NOK is {formats.nok(mcse['evpi'])} NOK (batch means)."
    )
    return text
