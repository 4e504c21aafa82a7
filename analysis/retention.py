"""Enrollment, patients in treatment, discharges and retention (report section 6.1, Figures 6.A and 6.B).

Every function takes the tidy tables of :class:`analysis.cohort.Cohort` (``episodes``, ``patients``) and
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

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight

from analysis import charts
from analysis.charts import CLINIC_COLOURS
from analysis.schema import CLINICS

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
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
    return (episodes["admission_date"] <= day) & (episodes["discharge_date"].isna() | (episodes["discharge_date"] > day))


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
            rows.append({"year": year, "date": day, "clinic": clinic, "patients": int(running.loc[running["clinic"] == clinic, "patient_id"].nunique())})
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
    start = pd.DataFrame({"days": [0.0], "retention": [1.0], "se": [0.0], "lower": [1.0], "upper": [1.0],
                          "n_at_risk": [len(first_episode_times(episodes, data_end))], "discharges": [0]})
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
    band = alt.Chart(data).mark_area(interpolate="step-after", opacity=0.25, color=CLINIC_COLOURS["All"]).encode(
        x=x,
        y=alt.Y("lower_percent:Q", title="Still in treatment (%)", scale=alt.Scale(domain=[0, 100])),
        y2="upper_percent:Q",
    )
    line = alt.Chart(data).mark_line(interpolate="step-after", color=CLINIC_COLOURS["All"]).encode(
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
    "both clinics" or "the Bergen clinic". The share is put in words by :func:`analysis.formats.share_words`
    when it is at most 1 and the capacity is certain; above 1 the sentence says the clinics held more
    patients than their places."""
    from analysis import formats

    low, high = capacity
    whose = "a combined capacity" if clinics_text == "both clinics" else f"{clinics_text}'s capacity"
    places = f"{formats.number(low)} places" if low == high else f"between {formats.number(low)} and {formats.number(high)} places"
    if isinstance(in_treatment, str):
        return (f"On {day_text}, {in_treatment} patients were in treatment against {whose} of {places}; the occupancy "
                "is withheld in this edition, since the count is too small to show.")
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
    undated = ("the report does not date every change of capacity, so the capacity in force on that day is known "
               "only within this range")
    if low == 0:
        return f"{head} ({undated})."
    return (f"{head} ({undated}): an occupancy of between {formats.percent(100 * in_treatment / high)} and "
            f"{formats.percent(100 * in_treatment / low)}.")


# --- the Kaplan-Meier curve as an edition with disclosure control may show it ---------------------------------


def km_curve_grouped(episodes: pd.DataFrame, data_end, threshold: int, step_days: float = DAYS_PER_MONTH,
                     alpha: float = 0.05) -> pd.DataFrame:
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
            rows.append({"days": t, "retention": row["retention"], "se": row["se"], "lower": row["lower"],
                         "upper": row["upper"], "n_at_risk": at_risk, "discharges": events, "years": t / DAYS_PER_YEAR})
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
    from analysis.disclosure import is_small

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
        after = counts[counts.index(max(counts)):]
        falling = len(after) > 1 and all(b < a for a, b in zip(after, after[1:]))
        parts.append(f"the {clinic} clinic admitted the most patients in {peak}"
                     + (" and fewer in each year after it" if falling else ""))
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


# --- the tables the editions of one year protect together (analysis.linked_suppression) -----------------
# Each takes a cohort (analysis.cohort.Cohort) and returns the same rows, in the same order, for every cohort.


def _years(cohort) -> list[int]:
    from analysis import schema

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
    from analysis.schema import DISCHARGE_REASONS, DISCHARGE_TYPES

    episodes = cohort.episodes
    closed = episodes[episodes["discharge_date"].notna()]
    rows = [("reasons", kind, reason, int(((closed["discharge_type"] == kind) & (closed["discharge_reason"] == reason)).sum()))
            for reason, kind in DISCHARGE_REASONS.items()]
    timing = discharge_timing(episodes)
    for band in timing.itertuples():
        for kind in DISCHARGE_TYPES:
            rows.append(("timing", kind, band.band, int(getattr(band, kind))))
    return pd.DataFrame(rows, columns=["table", "discharge_type", "key", "n"])


def _discharge_sums() -> dict[str, list[list[int]]]:
    from analysis.schema import DISCHARGE_REASONS, DISCHARGE_TYPES

    reasons = list(DISCHARGE_REASONS.items())
    n_reasons = len(reasons)
    timing = [(band, kind) for band, _, _ in DISCHARGE_BANDS for kind in DISCHARGE_TYPES]
    sums = {"discharges": [list(range(n_reasons)), list(range(n_reasons, n_reasons + len(timing)))]}
    for kind in DISCHARGE_TYPES:
        sums[kind] = [[i for i, (_, k) in enumerate(reasons) if k == kind],
                      [n_reasons + i for i, (_, k) in enumerate(timing) if k == kind]]
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
    from analysis import disclosure

    rows = shown[shown["table"] == "reasons"]
    share = [disclosure.WITHHELD if isinstance(n, str) else (round(100 * n / discharges, 1) if discharges else
             disclosure.NOT_ENOUGH_DATA) for n in rows["n"]]
    return pd.DataFrame({
        "Type": rows["discharge_type"].str.capitalize().to_numpy(),
        "Reason": rows["key"].str.replace("_", " ").str.capitalize().str.replace(" oat", " OAT").to_numpy(),
        "Discharges": rows["n"].to_numpy(),
        "Share of discharges (%)": share,
    })


def timing_view(shown: pd.DataFrame, margins: dict, labels: dict) -> pd.DataFrame:
    """The table of discharge timing as an edition with disclosure control shows it, from
    :func:`discharges_of` as protected and its margins (:data:`DISCHARGE_SUMS`): per band the discharges and
    their share of all discharges, the planned and unplanned ones and their shares within the band, each
    withheld where a count it comes from is hidden; ``labels`` names the bands."""
    from analysis import disclosure

    def share(part, whole):
        if isinstance(part, str) or isinstance(whole, str):
            return disclosure.WITHHELD
        return round(100 * part / whole, 1) if whole else disclosure.NOT_ENOUGH_DATA

    rows = shown[shown["table"] == "timing"].set_index(["key", "discharge_type"])["n"]
    lines = []
    for band, _, _ in DISCHARGE_BANDS:
        total = margins[band]
        planned, unplanned = rows[(band, "planned")], rows[(band, "unplanned")]
        lines.append((labels[band], total, share(total, margins["discharges"]), planned, unplanned,
                      share(planned, total), share(unplanned, total)))
    return pd.DataFrame(lines, columns=["Time in treatment", "Discharges", "Share of discharges (%)", "Planned", "Unplanned",
                                        "Planned in band (%)", "Unplanned in band (%)"])
