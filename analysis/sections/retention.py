"""Enrollment, patients in treatment, discharges and retention (report section 6.1, Figures 6.A and 6.B).

Every function takes the tidy tables of :class:`analysis.data.cohort.Cohort` (``episodes``, ``patients``) and
the last day of the data, ``data_end``; an episode without a discharge date is still running on that
day. The definitions used throughout:

* an *enrollment* (or admission) is one treatment episode, counted in the calendar year of its admission
  date; a patient re-admitted counts once per episode. An episode's clinic is the patient's clinic
  (``patients.clinic``, the clinic of the first admission).
* a patient is *in treatment at the end of day D* when one of their episodes was admitted on or before D
  and was not discharged on or before D (an open episode counts until ``data_end``).
* *patient-days* of an episode are the calendar days from admission to discharge, both days counted; an
  open episode counts to ``data_end``. Person-years are patient-days / 365.25.
* the *duration* of an episode is the number of days from admission to discharge (discharge date minus
  admission date); in months it is days / (365.25 / 12). This is also the time used for retention.
* *retention* is estimated with Kaplan-Meier (statsmodels' ``SurvfuncRight``) on each patient's first
  episode, with time = days from admission to discharge and open episodes censored at ``data_end``.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight

from analysis.data.schema import CLINICS
from analysis.data.units import DAYS_PER_MONTH, DAYS_PER_YEAR
from analysis.presentation import charts
from analysis.presentation.charts import CLINIC_COLOURS

#: The time bands of the timing of discharge, in months of treatment: (label, lower, upper], upper included.
DISCHARGE_BANDS = (
    ("within_6_months", 0.0, 6.0),
    ("6_to_12_months", 6.0, 12.0),
    ("after_12_months", 12.0, np.inf),
)


def _end(data_end) -> pd.Timestamp:
    return pd.Timestamp(data_end).normalize()


def with_clinic(episodes: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """The episodes with the clinic of their patient (the clinic of the patient's first admission)."""
    clinic = patients.set_index("patient_id")["clinic"]
    out = episodes.copy()
    out["clinic"] = out["patient_id"].map(clinic).astype("string")
    return out


# --- enrollment -----------------------------------------------------------------------------------


def patients_by_clinic(patients: pd.DataFrame) -> pd.DataFrame:
    """Patients (one row each in ``patients``) per clinic, with their share of all patients in percent.

    Rows: one per clinic in the schema's order, then ``All``. Columns: clinic, patients, percent.
    """
    counts = patients["clinic"].value_counts().reindex(list(CLINICS), fill_value=0)
    total = int(len(patients))
    frame = pd.DataFrame({"clinic": list(CLINICS) + ["All"], "patients": [int(c) for c in counts] + [total]})
    frame["percent"] = 100 * frame["patients"] / total if total else np.nan
    return frame


def enrollment_counts(episodes: pd.DataFrame) -> dict[str, int]:
    """Episodes (enrollments, admissions), unique patients among them, and re-admissions.

    ``readmissions`` counts episodes with ``episode_number`` above 1 (a patient's second, third ... episode).
    """
    return {
        "episodes": int(len(episodes)),
        "patients": int(episodes["patient_id"].nunique()),
        "readmissions": int((episodes["episode_number"] > 1).sum()),
    }


def enrollment_by_year(episodes: pd.DataFrame, patients: pd.DataFrame, data_end) -> pd.DataFrame:
    """Admissions (episodes) per calendar year of admission and clinic (Figure 6.A).

    Every year from the first admission year to the year of ``data_end`` and every clinic appear, with 0
    where there was no admission. Columns: year, clinic, admissions.
    """
    frame = with_clinic(episodes, patients)
    first_year = int(frame["admission_date"].dt.year.min()) if len(frame) else _end(data_end).year
    years = range(first_year, _end(data_end).year + 1)
    counts = frame.groupby([frame["admission_date"].dt.year.rename("year"), "clinic"]).size()
    index = pd.MultiIndex.from_product([list(years), list(CLINICS)], names=["year", "clinic"])
    out = counts.reindex(index, fill_value=0).rename("admissions").reset_index()
    out["admissions"] = out["admissions"].astype(int)
    out["clinic"] = out["clinic"].astype(str)
    return out


# --- patients in treatment --------------------------------------------------------------------------


def in_treatment_on(episodes: pd.DataFrame, day) -> pd.Series:
    """Whether each episode is running at the end of ``day``: admitted on or before it, not discharged by it."""
    day = _end(day)
    return (episodes["admission_date"] <= day) & (
        episodes["discharge_date"].isna() | (episodes["discharge_date"] > day)
    )


def patients_in_treatment(episodes: pd.DataFrame, day) -> int:
    """Patients in treatment at the end of ``day`` (distinct patients with a running episode)."""
    return int(episodes.loc[in_treatment_on(episodes, day), "patient_id"].nunique())


def in_treatment_by_year(episodes: pd.DataFrame, patients: pd.DataFrame, data_end) -> pd.DataFrame:
    """Patients in treatment at the end of each year, per clinic (Figure 6.B).

    The count for a year is taken on 31 December, or on ``data_end`` for a year the data end within.
    Columns: year, date, clinic, patients.
    """
    end = _end(data_end)
    frame = with_clinic(episodes, patients)
    first_year = int(frame["admission_date"].dt.year.min()) if len(frame) else end.year
    rows = []
    for year in range(first_year, end.year + 1):
        day = min(pd.Timestamp(year=year, month=12, day=31), end)
        running = frame[in_treatment_on(frame, day)]
        for clinic in CLINICS:
            rows.append(
                {
                    "year": year,
                    "date": day,
                    "clinic": clinic,
                    "patients": int(running.loc[running["clinic"] == clinic, "patient_id"].nunique()),
                }
            )
    return pd.DataFrame(rows, columns=["year", "date", "clinic", "patients"])


# --- time in treatment ---------------------------------------------------------------------------------


def patient_days(episodes: pd.DataFrame, data_end) -> pd.Series:
    """Patient-days of each episode: calendar days from admission to discharge, both days counted.

    An open episode counts to ``data_end`` (inclusive).
    """
    stop = episodes["discharge_date"].fillna(_end(data_end))
    return ((stop - episodes["admission_date"]).dt.days + 1).astype(int)


def person_years(episodes: pd.DataFrame, data_end) -> float:
    """Total person-years in treatment over all episodes: the sum of patient-days / 365.25."""
    return float(patient_days(episodes, data_end).sum()) / DAYS_PER_YEAR


def duration_days(episodes: pd.DataFrame, data_end) -> pd.Series:
    """Days from admission to discharge (discharge minus admission); open episodes to ``data_end``."""
    stop = episodes["discharge_date"].fillna(_end(data_end))
    return (stop - episodes["admission_date"]).dt.days.astype(int)


def discharged_durations(episodes: pd.DataFrame) -> dict[str, float]:
    """Median, mean, shortest and longest duration of discharged episodes, in days and in months
    (days / (365.25/12)); the longest also in years (days / 365.25).

    Only episodes with a discharge date count; open episodes are left out.
    """
    closed = episodes[episodes["discharge_date"].notna()]
    days = (closed["discharge_date"] - closed["admission_date"]).dt.days.astype(float)
    return {
        "n": int(len(days)),
        "median_days": float(days.median()) if len(days) else np.nan,
        "mean_days": float(days.mean()) if len(days) else np.nan,
        "median_months": float(days.median() / DAYS_PER_MONTH) if len(days) else np.nan,
        "mean_months": float(days.mean() / DAYS_PER_MONTH) if len(days) else np.nan,
        "min_days": float(days.min()) if len(days) else np.nan,
        "max_years": float(days.max() / DAYS_PER_YEAR) if len(days) else np.nan,
    }


# --- discharges --------------------------------------------------------------------------------------


def discharges(episodes: pd.DataFrame) -> dict[str, float]:
    """Discharges (episodes with a discharge date) by type and reason.

    A discharge is counted per episode, so a patient discharged twice counts twice; ``patients`` is the
    number of distinct patients with at least one discharge. ``planned_percent`` is planned discharges as
    a share of all discharges.
    """
    closed = episodes[episodes["discharge_date"].notna()]
    n = int(len(closed))
    planned = int((closed["discharge_type"] == "planned").sum())
    return {
        "discharges": n,
        "patients": int(closed["patient_id"].nunique()),
        "planned": planned,
        "unplanned": int((closed["discharge_type"] == "unplanned").sum()),
        "planned_to_oat": int((closed["discharge_reason"] == "transition_to_oat").sum()),
        "planned_percent": 100 * planned / n if n else np.nan,
    }


def discharge_reasons(episodes: pd.DataFrame) -> pd.DataFrame:
    """Discharges per type and reason, with the share of all discharges in percent.

    Columns: discharge_type, discharge_reason, discharges, percent.
    """
    closed = episodes[episodes["discharge_date"].notna()]
    counts = closed.groupby(["discharge_type", "discharge_reason"]).size().rename("discharges").reset_index()
    counts["discharges"] = counts["discharges"].astype(int)
    counts["percent"] = 100 * counts["discharges"] / len(closed) if len(closed) else np.nan
    return counts.sort_values(["discharge_type", "discharges"], ascending=[True, False], ignore_index=True)


def discharge_timing(episodes: pd.DataFrame) -> pd.DataFrame:
    """When discharged episodes ended, by band of time in treatment and discharge type.

    The duration in months is (discharge - admission) days / (365.25/12). Bands: within 6 months
    (duration at most 6 months), 6 to 12 months (over 6, at most 12) and after 12 months (over 12).
    One row per band: discharges, percent (share of all discharges), planned, unplanned, and
    planned_percent / unplanned_percent (shares within the band).
    """
    closed = episodes[episodes["discharge_date"].notna()]
    months = (closed["discharge_date"] - closed["admission_date"]).dt.days / DAYS_PER_MONTH
    total = len(closed)
    rows = []
    for label, lower, upper in DISCHARGE_BANDS:
        inside = (months > lower) & (months <= upper) if lower > 0 else (months <= upper)
        band = closed[inside]
        n = len(band)
        planned = int((band["discharge_type"] == "planned").sum())
        unplanned = int((band["discharge_type"] == "unplanned").sum())
        rows.append(
            {
                "band": label,
                "discharges": int(n),
                "percent": 100 * n / total if total else np.nan,
                "planned": planned,
                "unplanned": unplanned,
                "planned_percent": 100 * planned / n if n else np.nan,
                "unplanned_percent": 100 * unplanned / n if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


def share_reachable(percent: float, n: int, step: float = 1.0) -> bool:
    """Whether some whole number of ``n`` gives a share that rounds to the printed ``percent``.

    ``step`` is the printed rounding step (1 for a whole percentage). With 65 discharges no count gives
    47% (30 is 46.2%, 31 is 47.7%), so a printed 47% cannot be a share of 65.
    """
    if n <= 0:
        return False
    return any(abs(100 * k / n - percent) <= step / 2 * (1 + 1e-9) for k in range(int(n) + 1))


# --- Kaplan-Meier retention ---------------------------------------------------------------------------


def first_episode_times(episodes: pd.DataFrame, data_end) -> pd.DataFrame:
    """Each patient's first episode as a survival time: days from admission, and whether it ended.

    ``days`` is discharge minus admission for a discharged episode, ``data_end`` minus admission for an
    open one (censored, ``discharged`` False). Columns: patient_id, days, discharged.
    """
    first = episodes.sort_values(["patient_id", "admission_date"]).groupby("patient_id", sort=False).head(1)
    return pd.DataFrame(
        {
            "patient_id": first["patient_id"].to_numpy(),
            "days": duration_days(first, data_end).to_numpy(),
            "discharged": first["discharge_date"].notna().to_numpy(),
        }
    )


def _survfunc(episodes: pd.DataFrame, data_end) -> SurvfuncRight:
    times = first_episode_times(episodes, data_end)
    return SurvfuncRight(times["days"].to_numpy(dtype=float), times["discharged"].to_numpy(dtype=float))


def km_curve(episodes: pd.DataFrame, data_end, alpha: float = 0.05) -> pd.DataFrame:
    """The Kaplan-Meier retention curve of first episodes, with a pointwise confidence band.

    One row per time (in days, from 0) at which the estimate changes: ``retention`` (the estimated share
    still in their first episode), its Greenwood standard error ``se`` from statsmodels, and a pointwise
    (1 - alpha) band ``lower``/``upper`` on the complementary log-log scale (the transform statsmodels
    uses for quantile intervals), which keeps the band within 0 and 1. ``n_at_risk`` and ``discharges``
    come from statsmodels too. Times are also given in years (days / 365.25).
    """
    sf = _survfunc(episodes, data_end)
    z = stats.norm.ppf(1 - alpha / 2)
    s = np.asarray(sf.surv_prob, dtype=float)
    se = np.asarray(sf.surv_prob_se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(s)
        se_g = se / (s * np.abs(log_s))
        g = np.log(-log_s)
        lower = np.exp(-np.exp(g + z * se_g))
        upper = np.exp(-np.exp(g - z * se_g))
    lower = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, lower))
    upper = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, upper))
    curve = pd.DataFrame(
        {
            "days": np.asarray(sf.surv_times, dtype=float),
            "retention": s,
            "se": se,
            "lower": lower,
            "upper": upper,
            "n_at_risk": np.asarray(sf.n_risk, dtype=float).astype(int),
            "discharges": np.asarray(sf.n_events, dtype=float).astype(int),
        }
    )
    start = pd.DataFrame(
        {
            "days": [0.0],
            "retention": [1.0],
            "se": [0.0],
            "lower": [1.0],
            "upper": [1.0],
            "n_at_risk": [len(first_episode_times(episodes, data_end))],
            "discharges": [0],
        }
    )
    if not len(curve) or curve["days"].iloc[0] > 0:
        curve = pd.concat([start, curve], ignore_index=True)
    curve["years"] = curve["days"] / DAYS_PER_YEAR
    return curve


def retention_at(episodes: pd.DataFrame, data_end, days: float = DAYS_PER_YEAR) -> float:
    """Kaplan-Meier retention of first episodes at ``days`` after admission (default one year, 365.25 days).

    The estimate at the last time of change on or before ``days``; a share between 0 and 1. NaN when no
    first episode was observed for ``days`` (every one ended or was censored before): the curve is not
    defined that far, and carrying its last value forward would report a retention nobody was followed for.
    """
    times = first_episode_times(episodes, data_end)
    if not len(times) or float(times["days"].max()) < days:
        return float("nan")
    curve = km_curve(episodes, data_end)
    return float(curve.loc[curve["days"] <= days, "retention"].iloc[-1])


def median_retention_days(episodes: pd.DataFrame, data_end) -> float:
    """Median retention time of first episodes, in days: the first time the Kaplan-Meier estimate falls
    below one half (statsmodels' ``quantile(0.5)``, the SAS convention). NaN when it never does."""
    return float(_survfunc(episodes, data_end).quantile(0.5))


def retention_summary(episodes: pd.DataFrame, data_end) -> dict[str, float]:
    """One-year retention (percent) and median retention time (days and years) of first episodes."""
    median = median_retention_days(episodes, data_end)
    return {
        "patients": int(episodes["patient_id"].nunique()),
        "one_year_retention_percent": 100 * retention_at(episodes, data_end, DAYS_PER_YEAR),
        "median_days": median,
        "median_years": median / DAYS_PER_YEAR,
    }


# --- charts ---------------------------------------------------------------------------------------------


def enrollment_chart(frame: pd.DataFrame) -> alt.Chart:
    """Figure 6.A: admissions per year, bars grouped by clinic (``frame`` from :func:`enrollment_by_year`)."""
    return charts.bars_by_clinic(frame, "year", "admissions", "Year of admission", "Admissions (episodes)")


def in_treatment_chart(frame: pd.DataFrame) -> alt.Chart:
    """Figure 6.B: patients in treatment at the end of each year, bars grouped by clinic
    (``frame`` from :func:`in_treatment_by_year`)."""
    return charts.bars_by_clinic(frame, "year", "patients", "End of year", "Patients in treatment")


def km_chart(curve: pd.DataFrame) -> alt.LayerChart:
    """The Kaplan-Meier retention curve as a step line with its pointwise confidence band
    (``curve`` from :func:`km_curve`), retention in percent against years since admission."""
    data = curve.assign(
        retention_percent=100 * curve["retention"],
        lower_percent=100 * curve["lower"],
        upper_percent=100 * curve["upper"],
    )[["years", "retention_percent", "lower_percent", "upper_percent", "n_at_risk"]]
    x = alt.X("years:Q", title="Years since admission (first episode)")
    band = (
        alt.Chart(data)
        .mark_area(interpolate="step-after", opacity=0.25, color=CLINIC_COLOURS["All"])
        .encode(
            x=x,
            y=alt.Y("lower_percent:Q", title="Still in treatment (%)", scale=alt.Scale(domain=[0, 100])),
            y2="upper_percent:Q",
        )
    )
    line = (
        alt.Chart(data)
        .mark_line(interpolate="step-after", color=CLINIC_COLOURS["All"])
        .encode(
            x=x,
            y="retention_percent:Q",
            tooltip=[
                alt.Tooltip("years:Q", format=".2f", title="Years"),
                alt.Tooltip("retention_percent:Q", format=".1f", title="Retention (%)"),
                alt.Tooltip("lower_percent:Q", format=".1f", title="95% CI, lower"),
                alt.Tooltip("upper_percent:Q", format=".1f", title="95% CI, upper"),
                alt.Tooltip("n_at_risk:Q", title="At risk"),
            ],
        )
    )
    return (band + line).properties(width=480, height=280)


# --- capacity in force ------------------------------------------------------------------------------------

#: When each capacity the report gives came into force, as far as the report dates it: (clinic, ledger key
#: of the capacity, earliest date it can have applied, latest date by which it certainly applied). The
#: opening capacities applied from the clinics' openings (Table 3.B: Oslo January 2022, Bergen March 2022);
#: Bergen's 100 places came with the move into purpose-built premises in November 2024. The report does not
#: date Oslo's increase to 65 places ("during the pilot"; certain only at the end of 2025) nor Bergen's first
#: move to 40 places (certain only before the November 2024 move): their earliest date is the opening.
CAPACITY_DATES = (
    ("Oslo", "s6_1_capacity_oslo_initial", "2022-01-01", "2022-01-01"),
    ("Oslo", "s6_1_capacity_oslo_2025", "2022-01-01", "2025-12-31"),
    ("Bergen", "s6_1_capacity_bergen_initial", "2022-03-01", "2022-03-01"),
    ("Bergen", "s6_1_capacity_bergen_intermediate", "2022-03-01", "2024-10-31"),
    ("Bergen", "s6_1_capacity_bergen_2025", "2024-11-01", "2024-11-01"),
)


def capacity_schedule(reported: pd.Series) -> pd.DataFrame:
    """The clinics' capacities with the dates the report allows (:data:`CAPACITY_DATES`).

    ``reported`` maps ledger keys to the capacities (``text_6_1_enrollment_retention.csv``). Columns:
    clinic, key, capacity, earliest, latest; rows per clinic in the order the capacities followed each
    other."""
    frame = pd.DataFrame(CAPACITY_DATES, columns=["clinic", "key", "earliest", "latest"])
    frame["capacity"] = [int(reported[key]) for key in frame["key"]]
    frame["earliest"] = pd.to_datetime(frame["earliest"])
    frame["latest"] = pd.to_datetime(frame["latest"])
    return frame[["clinic", "key", "capacity", "earliest", "latest"]]


def capacity_in_force(schedule: pd.DataFrame, day, clinics) -> tuple[int, int]:
    """The capacity in force at the end of ``day``, summed over ``clinics``, as a (lowest, highest) pair.

    Rule, per clinic, over its capacities in the order they followed each other: a capacity may be in force
    on ``day`` when it can have started (``earliest <= day``) and the next one had not certainly started
    (the next one's ``latest`` is after ``day``). When one capacity remains, lowest and highest are equal;
    when the report leaves the date of a change open, both possible capacities are kept and the pair is a
    range. A clinic not yet open on ``day`` contributes 0."""
    day = _end(day)
    low = high = 0
    for clinic in clinics:
        rows = schedule[schedule["clinic"] == clinic].reset_index(drop=True)
        possible = []
        for i, row in rows.iterrows():
            next_certain = i + 1 < len(rows) and rows.loc[i + 1, "latest"] <= day
            if row["earliest"] <= day and not next_certain:
                possible.append(int(row["capacity"]))
        if possible:
            low += min(possible)
            high += max(possible)
    return low, high


def occupancy_sentence(in_treatment, capacity: tuple[int, int], day_text: str, clinics_text: str) -> str:
    """The sentence on occupancy: patients in treatment at the data end against the capacity in force.

    ``in_treatment`` is the count as the page shows it (a string is a disclosure marker: the occupancy is
    then withheld); ``capacity`` the (lowest, highest) pair of :func:`capacity_in_force`; ``clinics_text``
    "both clinics" or "the Bergen clinic". The share is put in words by :func:`analysis.presentation.formats.share_words`
    when it is at most 1 and the capacity is certain; above 1 the sentence says the clinics held more
    patients than their places."""
    from analysis.presentation import formats

    low, high = capacity
    whose = "a combined capacity" if clinics_text == "both clinics" else f"{clinics_text}'s capacity"
    places = (
        f"{formats.number(low)} places"
        if low == high
        else f"between {formats.number(low)} and {formats.number(high)} places"
    )
    if isinstance(in_treatment, str):
        return (
            f"On {day_text}, {in_treatment} patients were in treatment against {whose} of {places}; the occupancy "
            "is withheld in this edition, since the count is too small to show."
        )
    if high == 0:
        return f"On {day_text}, no clinic of this edition had opened, so there is no occupancy to give."
    head = f"On {day_text}, {formats.number(in_treatment)} patients were in treatment against {whose} of {places}"
    if low == high:
        share = in_treatment / low
        ratio = f"{formats.number(share, 2)} ({formats.percent(100 * share)})"
        if share > 1:
            return f"{head}: an occupancy of {ratio}, more patients than places."
        holder = "the clinics" if clinics_text == "both clinics" else "the clinic"
        return f"{head}: an occupancy of {ratio}, or {formats.share_words(share)} of what {holder} could hold."
    undated = (
        "the report does not date every change of capacity, so the capacity in force on that day is known "
        "only within this range"
    )
    if low == 0:
        return f"{head} ({undated})."
    return (
        f"{head} ({undated}): an occupancy of between {formats.percent(100 * in_treatment / high)} and "
        f"{formats.percent(100 * in_treatment / low)}."
    )


# --- the Kaplan-Meier curve as an edition with disclosure control may show it ---------------------------------


def km_curve_grouped(
    episodes: pd.DataFrame, data_end, threshold: int, step_days: float = DAYS_PER_MONTH, alpha: float = 0.05
) -> pd.DataFrame:
    """The Kaplan-Meier curve of :func:`km_curve` at grid points, with no step that is fewer than
    ``threshold`` people.

    Grid points are 0, ``step_days``, 2 ``step_days`` ... (whole months by default), so no exact day of a
    discharge is shown. At a grid point t the curve takes the estimate of the last time of change on or
    before t; ``n_at_risk`` is the number of patients whose first episode was observed beyond t (still at
    risk after it), and ``discharges`` the first-episode discharges since the previous point shown. A grid
    point is shown when at least ``threshold`` discharges have accumulated since the previous point shown and
    at least ``threshold`` patients are still at risk after it; the curve stops at the first grid point with
    fewer than ``threshold`` at risk. The start (t = 0, every patient at risk) is shown when there are at
    least ``threshold`` patients. Columns as :func:`km_curve` (days, retention, se, lower, upper, n_at_risk,
    discharges, years)."""
    columns = ["days", "retention", "se", "lower", "upper", "n_at_risk", "discharges", "years"]
    times = first_episode_times(episodes, data_end)
    if len(times) < threshold:
        return pd.DataFrame(columns=columns)
    curve = km_curve(episodes, data_end, alpha)
    days = times["days"].to_numpy(dtype=float)
    ended = times["discharged"].to_numpy(dtype=bool)
    rows = [curve.iloc[0][columns].to_dict() | {"days": 0.0, "n_at_risk": len(times), "discharges": 0, "years": 0.0}]
    shown_at = 0.0
    step = 1
    while True:
        t = step * step_days
        at_risk = int((days > t).sum())
        if at_risk < threshold:
            break
        events = int((ended & (days > shown_at) & (days <= t)).sum())
        if events >= threshold:
            row = curve.loc[curve["days"] <= t].iloc[-1]
            rows.append(
                {
                    "days": t,
                    "retention": row["retention"],
                    "se": row["se"],
                    "lower": row["lower"],
                    "upper": row["upper"],
                    "n_at_risk": at_risk,
                    "discharges": events,
                    "years": t / DAYS_PER_YEAR,
                }
            )
            shown_at = t
        step += 1
    out = pd.DataFrame(rows, columns=columns)
    out["n_at_risk"] = out["n_at_risk"].astype(int)
    out["discharges"] = out["discharges"].astype(int)
    return out


# --- sentences chosen by the data ------------------------------------------------------------------------


def trend_sentence(enrolled: pd.DataFrame, year_end: pd.DataFrame, clinics, threshold: int | None) -> str:
    """What the admissions per year (:func:`enrollment_by_year`) and the patients in treatment at each
    year's end (:func:`in_treatment_by_year`) show, in words chosen from the counts.

    For each of ``clinics`` with admissions: the year with the most admissions (the first such year on a
    tie), and whether every later year had fewer. Then whether the patients in treatment at the end of the
    year (all ``clinics`` together) grew from each year to the next. A clinic whose admission counts
    include one from 1 to ``threshold`` - 1 is not described (its ranking would tell about small counts),
    nor the stock when one of its yearly totals is small. The tables may be protected ones: a count shown
    as a marker ("<5", "–") counts as hidden in the same way. With one year of data there is no trend yet."""
    from analysis.presentation.disclosure import is_small

    years = sorted(enrolled["year"].unique())
    if len(years) < 2:
        return "With one calendar year of data there is no change from year to year to describe yet."
    parts = []
    for clinic in clinics:
        own = enrolled[enrolled["clinic"] == clinic].sort_values("year")
        counts = own["admissions"].tolist()
        if not any(isinstance(c, str) for c in counts) and not sum(counts):
            continue
        if any(isinstance(c, str) or is_small(c, threshold) for c in counts):
            parts.append(f"the yearly admissions of the {clinic} clinic are too small to rank")
            continue
        peak = int(own["year"].iloc[counts.index(max(counts))])
        after = counts[counts.index(max(counts)) :]
        falling = len(after) > 1 and all(b < a for a, b in zip(after, after[1:]))
        parts.append(
            f"the {clinic} clinic admitted the most patients in {peak}"
            + (" and fewer in each year after it" if falling else "")
        )
    own_stock = year_end[year_end["clinic"].isin(list(clinics))]
    grew = None  # unsaid where a count is hidden in this edition (a marker) or a yearly total is small
    if not own_stock["patients"].map(lambda c: isinstance(c, str)).any():
        stock = own_stock.groupby("year")["patients"].sum().sort_index().tolist()
        if not any(is_small(c, threshold) for c in stock):
            grew = all(b > a for a, b in zip(stock, stock[1:]))
    sentence = ""
    if parts:
        text = "; ".join(parts)
        sentence = text[0].upper() + text[1:] + "."
    if grew is True:
        sentence += " The number of patients in treatment at the end of the year still grew from each year to the next."
    elif grew is False:
        sentence += " The number of patients in treatment at the end of the year did not grow in every year."
    return sentence.strip()


# --- the tables the editions of one year protect together (analysis.presentation.linked_suppression) -----------------
# Each takes a cohort (analysis.data.cohort.Cohort) and returns the same rows, in the same order, for every cohort.


def _years(cohort) -> list[int]:
    from analysis.data import schema

    return list(range(schema.STUDY_START.year, _end(cohort.data_end).year + 1))


def clinics_of(cohort) -> pd.DataFrame:
    """:func:`patients_by_clinic` of a cohort without its ``All`` line: one row per clinic."""
    return patients_by_clinic(cohort.patients).iloc[: len(CLINICS)].reset_index(drop=True)


def enrollment_of(cohort) -> pd.DataFrame:
    """:func:`enrollment_by_year` of a cohort, on every year from the pilot's first to the data end."""
    frame = enrollment_by_year(cohort.episodes, cohort.patients, cohort.data_end)
    index = pd.MultiIndex.from_product([_years(cohort), list(CLINICS)], names=["year", "clinic"])
    return frame.set_index(["year", "clinic"]).reindex(index, fill_value=0).reset_index()


def in_treatment_of(cohort) -> pd.DataFrame:
    """:func:`in_treatment_by_year` of a cohort on every year from the pilot's first to the data end, with
    ``year_total``: the patients in treatment at the year's end in all clinics (a patient has one clinic);
    the last year's total is the number in treatment on the last day of the data."""
    end = _end(cohort.data_end)
    frame = in_treatment_by_year(cohort.episodes, cohort.patients, cohort.data_end)
    index = pd.MultiIndex.from_product([_years(cohort), list(CLINICS)], names=["year", "clinic"])
    out = frame.set_index(["year", "clinic"])[["patients"]].reindex(index, fill_value=0).reset_index()
    out.insert(1, "date", [min(pd.Timestamp(year=int(y), month=12, day=31), end) for y in out["year"]])
    out["year_total"] = out.groupby("year")["patients"].transform("sum").astype(int)
    return out


def discharges_of(cohort) -> pd.DataFrame:
    """The discharges of a cohort in one frame of counts (column ``n``) that two tables of the page share:
    first every discharge reason of the schema (``table`` "reasons", in the schema's order, with its type),
    then every band of :data:`DISCHARGE_BANDS` split by type (``table`` "timing"). See :data:`DISCHARGE_SUMS`
    for how the rows add up."""
    from analysis.data.schema import DISCHARGE_REASONS, DISCHARGE_TYPES

    episodes = cohort.episodes
    closed = episodes[episodes["discharge_date"].notna()]
    rows = [
        (
            "reasons",
            kind,
            reason,
            int(((closed["discharge_type"] == kind) & (closed["discharge_reason"] == reason)).sum()),
        )
        for reason, kind in DISCHARGE_REASONS.items()
    ]
    timing = discharge_timing(episodes)
    for band in timing.itertuples():
        for kind in DISCHARGE_TYPES:
            rows.append(("timing", kind, band.band, int(getattr(band, kind))))
    return pd.DataFrame(rows, columns=["table", "discharge_type", "key", "n"])


def _discharge_sums() -> dict[str, list[list[int]]]:
    from analysis.data.schema import DISCHARGE_REASONS, DISCHARGE_TYPES

    reasons = list(DISCHARGE_REASONS.items())
    n_reasons = len(reasons)
    timing = [(band, kind) for band, _, _ in DISCHARGE_BANDS for kind in DISCHARGE_TYPES]
    sums = {"discharges": [list(range(n_reasons)), list(range(n_reasons, n_reasons + len(timing)))]}
    for kind in DISCHARGE_TYPES:
        sums[kind] = [
            [i for i, (_, k) in enumerate(reasons) if k == kind],
            [n_reasons + i for i, (_, k) in enumerate(timing) if k == kind],
        ]
    for band, _, _ in DISCHARGE_BANDS:
        sums[band] = [[n_reasons + i for i, (b, _) in enumerate(timing) if b == band]]
    return sums


#: How the rows of :func:`discharges_of` add up: all discharges (from the reasons and from the bands), the
#: planned and the unplanned ones (each from its reasons and from its bands), and each band.
DISCHARGE_SUMS = _discharge_sums()


def reasons_view(shown: pd.DataFrame, discharges) -> pd.DataFrame:
    """The table of discharge reasons as an edition with disclosure control shows it, from
    :func:`discharges_of` as protected: type, reason, count and share of all ``discharges`` (withheld
    where the count is hidden), every reason of the schema in its order (a ranking would place the hidden
    counts among the shown ones)."""
    from analysis.presentation import disclosure

    rows = shown[shown["table"] == "reasons"]
    share = [
        disclosure.WITHHELD
        if isinstance(n, str)
        else (round(100 * n / discharges, 1) if discharges else disclosure.NOT_ENOUGH_DATA)
        for n in rows["n"]
    ]
    return pd.DataFrame(
        {
            "Type": rows["discharge_type"].str.capitalize().to_numpy(),
            "Reason": rows["key"].str.replace("_", " ").str.capitalize().str.replace(" oat", " OAT").to_numpy(),
            "Discharges": rows["n"].to_numpy(),
            "Share of discharges (%)": share,
        }
    )


def timing_view(shown: pd.DataFrame, margins: dict, labels: dict) -> pd.DataFrame:
    """The table of discharge timing as an edition with disclosure control shows it, from
    :func:`discharges_of` as protected and its margins (:data:`DISCHARGE_SUMS`): per band the discharges and
    their share of all discharges, the planned and unplanned ones and their shares within the band, each
    withheld where a count it comes from is hidden; ``labels`` names the bands."""
    from analysis.presentation import disclosure

    def share(part, whole):
        if isinstance(part, str) or isinstance(whole, str):
            return disclosure.WITHHELD
        return round(100 * part / whole, 1) if whole else disclosure.NOT_ENOUGH_DATA

    rows = shown[shown["table"] == "timing"].set_index(["key", "discharge_type"])["n"]
    lines = []
    for band, _, _ in DISCHARGE_BANDS:
        total = margins[band]
        planned, unplanned = rows[(band, "planned")], rows[(band, "unplanned")]
        lines.append(
            (
                labels[band],
                total,
                share(total, margins["discharges"]),
                planned,
                unplanned,
                share(planned, total),
                share(unplanned, total),
            )
        )
    return pd.DataFrame(
        lines,
        columns=[
            "Time in treatment",
            "Discharges",
            "Share of discharges (%)",
            "Planned",
            "Unplanned",
            "Planned in band (%)",
            "Unplanned in band (%)",
        ],
    )


# --- the page: its statistics, tables and charts as an edition shows them -----------------------------------


@dataclass
class ShownTables:
    """The tables of section 6.1 as an edition shows them: in a rerun protected together with the same tables
    of the other editions of its year (both clinics = Oslo + Bergen, see :mod:`analysis.presentation.linked_suppression`),
    so that subtracting one edition from another gives no hidden count back; unchanged in the published edition.

    ``clinics`` (:func:`clinics_of`, by clinic), ``year_end`` (:func:`in_treatment_of`, with the year's total),
    ``enrolled`` (:func:`enrollment_of`), ``discharges`` and ``margins`` (:func:`discharges_of`, the reasons and
    the bands of time in treatment protected as one table, and the shown sums of :data:`DISCHARGE_SUMS`)."""

    clinics: pd.DataFrame
    year_end: pd.DataFrame
    enrolled: pd.DataFrame
    discharges: pd.DataFrame
    margins: dict

    @property
    def in_treatment_now(self):
        """The patients in treatment on the last day of the data, as shown."""
        return self.year_end["year_total"].iloc[-1]

    @property
    def stock(self) -> pd.DataFrame:
        """The patients in treatment at the end of each year, by clinic, as shown."""
        return self.year_end.drop(columns="year_total")


def shown_tables(page) -> ShownTables:
    """The tables of ``page`` (:class:`analysis.presentation.edition.Page`) as its edition shows them (:class:`ShownTables`)."""
    from analysis.presentation import linked_suppression

    protect = linked_suppression.protect_linked
    clinics = protect(page, clinics_of, count="patients", groups=[], derived=["percent"]).set_index("clinic")
    year_end = protect(page, in_treatment_of, count="patients", groups="year", total="year_total")
    enrolled = protect(page, enrollment_of, count="admissions", groups=[])
    discharges, margins = linked_suppression.protect_linked_sums(
        page, discharges_of, sums=DISCHARGE_SUMS, known=["discharges"]
    )
    return ShownTables(clinics, year_end, enrolled, discharges, margins)


@dataclass
class KaplanMeier:
    """The retention estimate of the page (first episodes): whether it can be made, and what it gives.

    ``estimable``: there are patients and discharges, in a rerun at least ``threshold`` of each (a curve
    whose steps are single patients is not drawn); ``followed_a_year``: a patient was followed for a whole
    year (one-year retention needs one); ``summary`` of :func:`retention_summary` (NaN when not estimable);
    ``one_year`` the curve's row at one year (its ``lower`` and ``upper`` 95% limits); ``curve`` the curve
    as drawn (a rerun's at monthly points, each step at least ``threshold`` discharges; None when not
    estimable); ``of`` the counts the estimate rests on (left within the first year, and the rest)."""

    estimable: bool
    followed_a_year: bool
    summary: dict
    one_year: dict
    curve: pd.DataFrame | None
    of: list


def kaplan_meier(episodes: pd.DataFrame, data_end, threshold: int | None) -> KaplanMeier:
    """The page's retention estimate (:class:`KaplanMeier`); ``threshold`` None for the published edition."""
    from analysis.presentation import disclosure

    first = first_episode_times(episodes, data_end)
    n_left = int(first["discharged"].sum())
    estimable = (
        len(first) > 0
        and n_left > 0
        and (threshold is None or (len(first) >= threshold and not disclosure.is_small(n_left, threshold)))
    )
    followed_a_year = len(first) > 0 and float(first["days"].max()) >= DAYS_PER_YEAR
    missing = {"lower": float("nan"), "upper": float("nan")}
    if not estimable:
        return KaplanMeier(
            False,
            followed_a_year,
            {"one_year_retention_percent": float("nan"), "median_years": float("nan")},
            missing,
            None,
            [],
        )
    curve = km_curve(episodes, data_end)
    one_year = curve.loc[curve["days"] <= DAYS_PER_YEAR].iloc[-1] if followed_a_year else missing
    if threshold is not None:
        curve = km_curve_grouped(episodes, data_end, threshold)
    left_first_year = int(((first["days"] <= DAYS_PER_YEAR) & first["discharged"].astype(bool)).sum())
    return KaplanMeier(
        True,
        followed_a_year,
        retention_summary(episodes, data_end),
        one_year,
        curve,
        [left_first_year, len(first) - left_first_year],
    )


def retention_sentence(km: KaplanMeier, card, data_end_text: str) -> str:
    """One-year retention with its interval and the median retention time, in words, from what the edition
    can estimate and show (``card`` discloses the values; a withheld or unreachable estimate is said so)."""
    from analysis.presentation import disclosure, formats

    one_year_shown = card.disclose(km.summary["one_year_retention_percent"], of=km.of)
    median_shown = card.disclose(km.summary["median_years"], of=km.of)
    if not km.estimable:
        text = (
            "There are too few patients or first-episode discharges in these data to estimate retention "
            "with the Kaplan–Meier method."
        )
    elif isinstance(one_year_shown, str) and one_year_shown != formats.NOT_AVAILABLE:
        text = "The one-year retention is withheld in this edition, since it rests on a small count."
    elif not km.followed_a_year:
        text = (
            f"No patient had yet been followed for a whole year by {data_end_text}, so the one-year "
            "retention cannot be estimated from these data."
        )
    else:
        text = (
            f"An estimated {formats.percent(one_year_shown, 1)} of patients were still in their first episode one year after "
            f"admission (95% confidence interval {formats.percent(card.disclose(100 * km.one_year['lower'], of=km.of), 1)} to "
            f"{formats.percent(card.disclose(100 * km.one_year['upper'], of=km.of), 1)})."
        )
    if km.estimable and not isinstance(median_shown, str) and not disclosure.is_missing(median_shown):
        text += f" The median retention time was {formats.number(median_shown, 1)} years."
    elif km.estimable and disclosure.is_missing(km.summary["median_years"]):
        text += (
            " The estimate had not fallen below one half by the end of follow-up, so the median retention "
            "time is not reached in these data."
        )
    return text


def km_figure(km: KaplanMeier):
    """The retention curve (:func:`km_chart`), or a placeholder that says why none is drawn."""
    from analysis.presentation import disclosure

    if km.estimable and km.curve is not None and len(km.curve) > 1:  # an estimable curve is never None
        return km_chart(km.curve)
    return disclosure.placeholder_chart("Not enough patients or discharges to draw the retention curve")


def capacity_history(reported: pd.Series, whole_pilot: bool) -> str:
    """How the clinics' capacities grew, from the capacities the report gives (``reported`` by ledger key);
    an edition that ends before the pilot did does not name the end-of-2025 figure as the final one."""
    from analysis.presentation import formats

    if whole_pilot:
        return (
            f"The report gives the clinics' capacity at the end of 2025 as {reported['s6_1_capacity_oslo_2025']:.0f} patients in "
            f"Oslo and {reported['s6_1_capacity_bergen_2025']:.0f} in Bergen. The two got there by different paths. Bergen "
            f"opened in a temporary building with room for {reported['s6_1_capacity_bergen_initial']:.0f} patients, expanded "
            f"to {reported['s6_1_capacity_bergen_intermediate']:.0f} after a move, and reached "
            f"{reported['s6_1_capacity_bergen_2025']:.0f} after "
            f"{formats.count_words(int(reported['s6_1_bergen_relocations_n']), 'relocation')} "
            f"in all, the last into purpose-built premises in November 2024. Oslo started in a larger temporary facility "
            f"with room for {reported['s6_1_capacity_oslo_initial']:.0f} and raised its ceiling to "
            f"{reported['s6_1_capacity_oslo_2025']:.0f} during the pilot, because more and more patients chose tablet "
            "formulations, which need less time under observation at the clinic."
        )
    return (
        f"Bergen opened in a temporary building with room for {reported['s6_1_capacity_bergen_initial']:.0f} patients "
        f"and later, after a move, for {reported['s6_1_capacity_bergen_intermediate']:.0f}; Oslo started in a larger "
        f"temporary facility with room for {reported['s6_1_capacity_oslo_initial']:.0f} and raised its ceiling to "
        f"{reported['s6_1_capacity_oslo_2025']:.0f} during the pilot, because more and more patients chose tablet "
        "formulations, which need less time under observation at the clinic. The report does not date every one "
        "of these changes."
    )


def capacity_total(capacity: tuple[int, int]) -> int | str:
    """The capacity in force (:func:`capacity_in_force`): one number, or a range "a–b" when the report leaves it open."""
    from analysis.presentation import formats

    low, high = capacity
    return int(low) if low == high else f"{formats.number(low)}\u2013{formats.number(high)}"


#: The report's person-years against its own Table 6.C, said where the page compares with the report.
PERSON_YEARS_REPORT_NOTE = """:::{note}
The report gives a larger total of person-years than the patient-days on which its Table 6.C allocates
the clinics' costs allow: the two figures cannot both describe the observed time in treatment. The
synthetic cohort is calibrated to the patient-days, so the person-years computed here follow Table 6.C
and fall short of the report's print. The difference is one of the findings of {doc}`appendix_errata`.
:::"""

#: Why the report's shares of discharges by time in treatment cannot all be met, said where the page compares.
BANDS_REPORT_NOTE = """:::{note}
The report's shares of discharges by time in treatment cannot all be met at once. Its three bands add up
to slightly less than the whole, and two of the printed shares are not any whole number of its
discharges once rounded. A cohort with the report's number of discharges can only come close to them,
so a band's share computed here may sit a point away from the print; the table at the end of the page
says which.
:::"""


def section_statistics(page, shown: ShownTables, km: KaplanMeier, reported: pd.Series) -> pd.DataFrame:
    """Every statistic and sentence of section 6.1 for :meth:`analysis.presentation.scorecard.Card.glue_statistics`, in the
    order the page states them.

    Columns ``key``, ``value``, ``shown`` (what the protected tables show for it in a rerun), ``of`` and
    ``suppress`` (what a derived value rests on, a value hidden with a cell), ``frequency`` and ``note``.
    ``reported`` holds the capacities the report gives (``text_6_1_enrollment_retention.csv`` by key), ``km``
    the retention estimate (:func:`kaplan_meier`). Definitions are those of the functions called: patients
    by clinic (:func:`patients_by_clinic`), durations of discharged episodes (:func:`discharged_durations`),
    enrollments (:func:`enrollment_counts`), occupancy = patients in treatment at the data end over the
    capacity in force (:func:`capacity_in_force`; none where it is only known as a range), person-years
    (:func:`person_years`), discharges (:func:`discharges`) and their timing (:func:`discharge_timing`)."""
    rows = participation_rows(page, shown)
    rows += capacity_rows(page, shown, reported)
    rows += discharge_rows(page, shown, km)
    rows += timing_rows(page, shown)
    return pd.DataFrame(rows, columns=["key", "value", "shown", "of", "suppress", "frequency", "note"])


def participation_rows(page, shown: ShownTables) -> list[dict]:
    """Patients by clinic, time in treatment, patients in treatment at the data end and enrollments, and the
    sentence on their trend (rows of :func:`section_statistics`). The summary pages restate some of them."""
    cohort, edition = page.cohort, page.edition
    by_clinic = patients_by_clinic(cohort.patients).set_index("clinic")
    durations = discharged_durations(cohort.episodes)
    now = patients_in_treatment(cohort.episodes, cohort.data_end)
    counts = enrollment_counts(cohort.episodes)
    everyone, oslo, bergen = (
        by_clinic.loc["All", "patients"],
        by_clinic.loc["Oslo", "patients"],
        by_clinic.loc["Bergen", "patients"],
    )
    shown_oslo, shown_bergen = shown.clinics.loc["Oslo", "patients"], shown.clinics.loc["Bergen", "patients"]
    enrolled = enrollment_by_year(cohort.episodes, cohort.patients, cohort.data_end)
    year_end = in_treatment_by_year(cohort.episodes, cohort.patients, cohort.data_end)
    return [
        {"key": "s6_1_patients_participated_total", "value": everyone},
        {"key": "s6_1_patients_participated_oslo", "value": oslo, "shown": shown_oslo},
        {"key": "s6_1_patients_participated_bergen", "value": bergen, "shown": shown_bergen},
        {"key": "s6_1_mean_months_in_treatment", "value": durations["mean_months"], "of": durations["n"]},
        {"key": "s6_1_patients_in_treatment_2025_12_31", "value": now, "shown": shown.in_treatment_now},
        # the same results are restated on the summary pages
        {"key": "es_patients_started", "value": everyone},
        {"key": "es_patients_started_oslo", "value": oslo, "shown": shown_oslo},
        {"key": "es_patients_started_bergen", "value": bergen, "shown": shown_bergen},
        {"key": "es_mean_treatment_length_discharged", "value": durations["mean_months"], "of": durations["n"]},
        {"key": "s6_8_patients_in_treatment_2025_12_31", "value": now, "shown": shown.in_treatment_now},
        {"key": "s6_1_patients_consented_total", "value": everyone},
        {"key": "s6_1_patients_consented_oslo", "value": oslo, "shown": shown_oslo},
        {
            "key": "s6_1_patients_consented_oslo_percent",
            "value": by_clinic.loc["Oslo", "percent"],
            "shown": shown.clinics.loc["Oslo", "percent"],
        },
        {"key": "s6_1_patients_consented_bergen", "value": bergen, "shown": shown_bergen},
        {
            "key": "s6_1_patients_consented_bergen_percent",
            "value": by_clinic.loc["Bergen", "percent"],
            "shown": shown.clinics.loc["Bergen", "percent"],
        },
        {"key": "s6_1_fig6a_enrollments_total", "value": counts["episodes"]},
        {"key": "s6_1_fig6a_unique_patients", "value": counts["patients"]},
        {
            "key": "s61_trend_sentence",
            "value": trend_sentence(
                enrolled if edition.published else shown.enrolled,
                year_end if edition.published else shown.stock,
                edition.clinic_names,
                page.sdc,
            ),
        },
        {"key": "s6_1_fig6b_admissions_total", "value": counts["episodes"]},
        {"key": "s6_1_fig6b_unique_patients", "value": counts["patients"]},
    ]


def capacity_rows(page, shown: ShownTables, reported: pd.Series) -> list[dict]:
    """The capacities the report gives, the occupancy at the data end, the time in treatment and the
    episodes (rows of :func:`section_statistics`)."""
    cohort, edition, ledger = page.cohort, page.edition, page.published
    now = patients_in_treatment(cohort.episodes, cohort.data_end)
    hidden_now = isinstance(shown.in_treatment_now, str)
    low, high = capacity = capacity_in_force(capacity_schedule(reported), cohort.data_end, edition.clinic_names)
    # an occupancy needs one capacity: none is given where the capacity in force is only known as a range
    occupancy = now / low if low == high and low else float("nan")
    counts = enrollment_counts(cohort.episodes)
    days_6c = ledger.loc["t6c_all_2022_2025_patient_days", "value"]
    person_years_note = (
        f"The report's {ledger.loc['s6_1_person_years_in_treatment', 'value']:.0f} person-years disagree with the "
        f"{days_6c:,.0f} patient-days of Table 6.C ({days_6c / 365.25:.1f} years): a cohort whose patient-days "
        "follow Table 6.C, as the synthetic one does, cannot also match the person-years (see the errata appendix)."
    )
    return [
        {"key": "s6_1_capacity_oslo_initial", "value": reported["s6_1_capacity_oslo_initial"]},
        {"key": "s6_1_capacity_oslo_2025", "value": reported["s6_1_capacity_oslo_2025"]},
        {"key": "s6_1_capacity_bergen_initial", "value": reported["s6_1_capacity_bergen_initial"]},
        {"key": "s6_1_capacity_bergen_intermediate", "value": reported["s6_1_capacity_bergen_intermediate"]},
        {"key": "s6_1_capacity_bergen_2025", "value": reported["s6_1_capacity_bergen_2025"]},
        {"key": "s6_1_bergen_relocations_n", "value": reported["s6_1_bergen_relocations_n"]},
        # the report states the end-of-2025 capacity twice in the paragraph, and again in the Summary of results
        {"key": "s6_1_capacity_oslo_final", "value": reported["s6_1_capacity_oslo_2025"]},
        {"key": "s6_1_capacity_bergen_final", "value": reported["s6_1_capacity_bergen_2025"]},
        {"key": "s6_summary_capacity_oslo", "value": reported["s6_1_capacity_oslo_2025"]},
        {"key": "s6_summary_capacity_bergen", "value": reported["s6_1_capacity_bergen_2025"]},
        {"key": "s61_capacity_history", "value": capacity_history(reported, edition.whole_pilot)},
        {"key": "s6_1_capacity_patients_enrolled_2025_12_31", "value": now, "shown": shown.in_treatment_now},
        {"key": "s6_1_enrolled_share_of_capacity", "value": occupancy, "of": now, "suppress": hidden_now},
        {"key": "s61_capacity_share_percent", "value": 100 * occupancy, "of": now, "suppress": hidden_now},
        {
            "key": "s61_occupancy_sentence",
            "value": occupancy_sentence(shown.in_treatment_now, capacity, edition.data_end_text, edition.clinics),
        },
        {"key": "s6_1_treatment_episodes_total", "value": counts["episodes"]},
        {"key": "s6_1_treatment_episodes_patients", "value": counts["patients"]},
        {"key": "s6_1_second_episodes_n", "value": counts["readmissions"]},
        {
            "key": "s6_1_person_years_in_treatment",
            "value": person_years(cohort.episodes, cohort.data_end),
            "note": person_years_note,
        },
        {"key": "s61_patient_days_total", "value": int(patient_days(cohort.episodes, cohort.data_end).sum())},
        # the report's person-years against its own Table 6.C: said only where the page compares with the report
        {"key": "s61_person_years_report_note", "value": PERSON_YEARS_REPORT_NOTE if edition.published else ""},
    ]


def discharge_rows(page, shown: ShownTables, km: KaplanMeier) -> list[dict]:
    """Discharges by type and the retention estimate with the durations of discharged episodes (rows of
    :func:`section_statistics`); a share is withheld where a count it comes from is hidden."""
    from analysis.presentation import disclosure

    cohort, card = page.cohort, page.card
    left = discharges(cohort.episodes)
    n_all = patients_by_clinic(cohort.patients).set_index("clinic").loc["All", "patients"]
    durations = discharged_durations(cohort.episodes)
    types_hidden = any(isinstance(shown.margins[kind], str) for kind in ("planned", "unplanned"))
    to_oat_shown = shown.discharges["n"].iloc[0]

    def share(part, whole):  # a rerun with no discharges gives NaN, not an error
        return 100 * part / whole if whole else float("nan")

    types = [left["planned"], left["unplanned"]]
    return [
        {"key": "s6_1_individuals_discharged", "value": left["discharges"]},
        {"key": "s6_1_discharges_planned_n", "value": left["planned"], "shown": shown.margins["planned"]},
        {
            "key": "s6_1_discharges_planned_percent",
            "value": left["planned_percent"],
            "shown": disclosure.WITHHELD if types_hidden else left["planned_percent"],
        },
        {"key": "s6_1_discharges_planned_to_oat_n", "value": left["planned_to_oat"], "shown": to_oat_shown},
        {"key": "s6_1_discharges_unplanned_n", "value": left["unplanned"], "shown": shown.margins["unplanned"]},
        # restated on the summary pages, as shares of the chapter's own counts
        {"key": "es_left_treatment_n", "value": left["discharges"]},
        {
            "key": "es_left_treatment_percent",
            "value": share(left["discharges"], n_all),
            "of": [left["discharges"], n_all - left["discharges"]],
        },
        {
            "key": "es_discharges_voluntary_percent",
            "value": left["planned_percent"],
            "of": types,
            "suppress": types_hidden,
        },
        {
            "key": "es_discharges_nonattendance_involuntary_percent",
            "value": share(left["unplanned"], left["discharges"]),
            "of": types,
            "suppress": types_hidden,
        },
        {
            "key": "s6_summary_voluntary_discharges_to_oat_percent",
            "value": share(left["planned_to_oat"], left["planned"]),
            "of": [left["planned_to_oat"], left["planned"] - left["planned_to_oat"]],
            "suppress": types_hidden or isinstance(to_oat_shown, str),
        },
        {"key": "s61_discharged_patients", "value": left["patients"], "frequency": True},
        {"key": "s6_1_one_year_retention_percent", "value": km.summary["one_year_retention_percent"], "of": km.of},
        {"key": "s6_1_median_retention_years", "value": km.summary["median_years"], "of": km.of},
        {"key": "s6_1_discharged_episodes_median_months", "value": durations["median_months"], "of": durations["n"]},
        {
            "key": "s6_summary_discharged_min_time_in_treatment_days",
            "value": durations["min_days"],
            "of": durations["n"],
        },
        {
            "key": "s6_summary_discharged_max_time_in_treatment_years",
            "value": durations["max_years"],
            "of": durations["n"],
        },
        {"key": "s61_one_year_lower", "value": 100 * km.one_year["lower"], "of": km.of},
        {"key": "s61_one_year_upper", "value": 100 * km.one_year["upper"], "of": km.of},
        {"key": "s61_retention_sentence", "value": retention_sentence(km, card, page.edition.data_end_text)},
        {
            "key": "s61_km_grouping",
            "value": ""
            if page.sdc is None or not km.estimable
            else (
                f"In this edition the curve is shown at monthly points only, each step at least {page.sdc} discharges, and "
                f"only while at least {page.sdc} patients remain at risk, so that no step is one person."
            ),
        },
    ]


def timing_notes(ledger: pd.DataFrame, timing: pd.DataFrame, n_left: int) -> tuple[str, str]:
    """Why the shares of discharges by time in treatment may differ from the report's prints: the printed
    bands add up to less than the whole and some are no whole number of ``n_left`` discharges once rounded;
    and the printed unplanned share after 12 months may be no whole number of that band's discharges
    (``timing`` of :func:`discharge_timing` by band). Returns (note of the bands, note of the late share)."""
    printed = [
        ledger.loc[key, "value"]
        for key in (
            "s6_1_left_within_6_months_percent",
            "s6_1_left_6_to_12_months_percent",
            "s6_1_left_after_12_months_percent",
        )
    ]
    out_of_reach = [f"{p:.0f}%" for p in printed if not share_reachable(p, n_left)]
    band_note = (
        f"The report's shares by time in treatment ({', '.join(f'{p:.0f}%' for p in printed)}) add up to "
        f"{sum(printed):.0f}%"
        + (
            f", and {' and '.join(out_of_reach)} {'is' if len(out_of_reach) == 1 else 'are'} no whole number of "
            f"{n_left} discharges once rounded"
            if out_of_reach
            else ""
        )
        + f": the bands of a cohort with {n_left} discharges can only come near them."
    )
    late = int(timing.loc["after_12_months", "discharges"])
    late_printed = ledger.loc["s6_1_over_12_months_unplanned_dropout_percent", "value"]
    late_note = (
        f"With {late} discharges after more than 12 months (a number set by the band shares above), "
        f"no whole number of them rounds to the printed {late_printed:.0f}%."
        if not share_reachable(late_printed, late)
        else ""
    )
    return band_note, late_note or band_note


def timing_rows(page, shown: ShownTables) -> list[dict]:
    """The shares of discharges by time in treatment and the paragraph that states them (rows of
    :func:`section_statistics`). A band's share of all discharges is withheld in a rerun where its count or the
    rest of the whole is small, or where the joint protection hides the band; a share within a band where
    its planned or unplanned count is hidden."""
    from analysis.presentation import disclosure, formats

    episodes, card, edition = page.cohort.episodes, page.card, page.edition
    timing = discharge_timing(episodes).set_index("band")
    n_left = int(discharges(episodes)["discharges"])  # a count
    band_note, late_note = timing_notes(page.published, timing, n_left)
    cells = shown.discharges[shown.discharges["table"] == "timing"].set_index(["key", "discharge_type"])["n"]

    def band_hidden(band):
        return isinstance(shown.margins[band], str) or any(
            isinstance(cells[(band, kind)], str) for kind in ("planned", "unplanned")
        )

    def of_all(band):
        return [timing.loc[band, "discharges"], n_left - timing.loc[band, "discharges"]]

    early, late = timing.loc["within_6_months"], timing.loc["after_12_months"]
    rows = [
        {
            "key": "s6_1_left_within_6_months_percent",
            "value": early["percent"],
            "note": band_note,
            "of": of_all("within_6_months"),
            "suppress": isinstance(shown.margins["within_6_months"], str),
        },
        {
            "key": "s6_1_left_within_6_months_planned_percent",
            "value": early["planned_percent"],
            "note": band_note,
            "of": early[["planned", "unplanned"]].tolist(),
            "suppress": band_hidden("within_6_months"),
        },
        {
            "key": "s6_1_left_within_6_months_dropout_percent",
            "value": early["unplanned_percent"],
            "note": band_note,
            "of": early[["planned", "unplanned"]].tolist(),
            "suppress": band_hidden("within_6_months"),
        },
        {
            "key": "s6_1_left_6_to_12_months_percent",
            "value": timing.loc["6_to_12_months", "percent"],
            "note": band_note,
            "of": of_all("6_to_12_months"),
            "suppress": isinstance(shown.margins["6_to_12_months"], str),
        },
        {
            "key": "s6_1_left_after_12_months_percent",
            "value": late["percent"],
            "note": band_note,
            "of": of_all("after_12_months"),
            "suppress": isinstance(shown.margins["after_12_months"], str),
        },
        {
            "key": "s6_1_over_12_months_unplanned_dropout_percent",
            "value": late["unplanned_percent"],
            "note": late_note,
            "of": late[["planned", "unplanned"]].tolist(),
            "suppress": band_hidden("after_12_months"),
        },
    ]
    # the paragraph on timing, from the shares as this edition shows them (none without discharges)
    said = {
        row["key"]: formats.percent(card.disclose(row["value"], of=row["of"], suppress=row["suppress"])) for row in rows
    }
    if not n_left:
        sentence = f"No episode had ended by {edition.data_end_text}, so there is no timing of discharges to describe."
    elif all(v == disclosure.WITHHELD for v in said.values()):
        sentence = "The shares of discharges by time in treatment are withheld in this edition, since they rest on small counts."
    else:
        sentence = (
            f"Of all who left, {said['s6_1_left_within_6_months_percent']} did so within the first six months; of those "
            f"early departures {said['s6_1_left_within_6_months_planned_percent']} were planned and "
            f"{said['s6_1_left_within_6_months_dropout_percent']} unplanned. Another "
            f"{said['s6_1_left_6_to_12_months_percent']} left between six and twelve months, and "
            f"{said['s6_1_left_after_12_months_percent']} after more than a year"
            + (
                f"; of those who left after more than a year, {said['s6_1_over_12_months_unplanned_dropout_percent']} "
                "dropped out unplanned."
                if int(late["discharges"])
                else "."
            )
        )
    return rows + [
        {"key": "s61_timing_sentence", "value": sentence},
        {"key": "s61_bands_report_note", "value": BANDS_REPORT_NOTE if edition.published else ""},
    ]


#: The bands of time in treatment as the timing table names them.
BAND_LABELS = {
    "within_6_months": "Up to 6 months",
    "6_to_12_months": "Over 6, up to 12 months",
    "after_12_months": "Over 12 months",
}


def reasons_table(page, shown: ShownTables) -> pd.DataFrame:
    """The discharges by reason as the page shows them: as computed in the published edition, every reason of
    the schema in its order as the joint protection shows it in a rerun (:func:`reasons_view`)."""
    episodes = page.cohort.episodes
    if not page.edition.published:
        return reasons_view(shown.discharges, discharges(episodes)["discharges"])
    reasons = discharge_reasons(episodes)
    table = reasons.assign(
        discharge_type=reasons["discharge_type"].str.capitalize(),
        discharge_reason=reasons["discharge_reason"].str.replace("_", " ").str.replace("oat", "OAT").str.capitalize(),
        percent=reasons["percent"].round(1),
    )
    table.columns = ["Type", "Reason", "Discharges", "Share of discharges (%)"]
    return table


def timing_table(page, shown: ShownTables) -> pd.DataFrame:
    """The discharges by time in treatment as the page shows them (a rerun's as protected, :func:`timing_view`)."""
    if not page.edition.published:
        table = timing_view(shown.discharges, shown.margins, BAND_LABELS)
    else:
        table = discharge_timing(page.cohort.episodes)
        table["band"] = table["band"].map(BAND_LABELS)
        table = table[["band", "discharges", "percent", "planned", "unplanned", "planned_percent", "unplanned_percent"]]
    table.columns = [
        "Time in treatment",
        "Discharges",
        "Share of discharges (%)",
        "Planned",
        "Unplanned",
        "Planned in band (%)",
        "Unplanned in band (%)",
    ]
    return table


def enrollment_figure(page, shown: ShownTables):
    """Figure 6.A: admissions by year and clinic (a rerun leaves out the bars the protected table hides)."""
    cohort = page.cohort
    if page.edition.published:
        return enrollment_chart(enrollment_by_year(cohort.episodes, cohort.patients, cohort.data_end))
    from analysis.presentation.linked_suppression import chart_values

    return enrollment_chart(chart_values(shown.enrolled, ["admissions"]))


def in_treatment_figure(page, shown: ShownTables):
    """Figure 6.B: patients in treatment at the end of each year, by clinic (a rerun's as protected)."""
    cohort = page.cohort
    if page.edition.published:
        return in_treatment_chart(in_treatment_by_year(cohort.episodes, cohort.patients, cohort.data_end))
    from analysis.presentation.linked_suppression import chart_values

    return in_treatment_chart(chart_values(shown.stock, ["patients"]))


def capacity_total_of(page, reported: pd.Series) -> int | str:
    """The capacity in force at the page's data end for its clinics (:func:`capacity_total`)."""
    schedule = capacity_schedule(reported)
    return capacity_total(capacity_in_force(schedule, page.cohort.data_end, page.edition.clinic_names))
