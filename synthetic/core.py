"""Patients, their previous OAT and their treatment episodes (sections 6.1 and 6.2, Table 6.C).

Three tables of :mod:`analysis.data.schema` are made here, before any other module runs:

``episodes``
    One row per treatment episode, found by the search of :mod:`synthetic.episodes` and then steered to the
    cost-utility tables by :mod:`synthetic.costfit`.

``patients``
    136 patients (clinic and age refer to the first admission): 109 men; ages drawn around the clinic
    means and then shifted and nudged by 0.1 year until the mean ages overall, by sex and by clinic and
    the range round to section 6.2 (the youngest in Oslo, nobody in Bergen under
    :data:`BERGEN_MIN_AGE`, as Bergen's referrals in Appendix 5 are older). The baseline items of Table 6.A
    are assigned with exactly the
    published counts of valid answers and of each answer; the other patients have an empty cell.
    Thirteen patients answered no baseline item; a few more skipped single items. The involuntary
    discharge item is answered by exactly the patients with previous treatment. Housing "other" is 1,
    not the printed 3 (see :func:`targets`). Answers hang together: living with friends, family or a
    partner implies living with others, unstable housing is drawn mostly among those in temporary
    housing or on the street. Primary income (Figure 6.C, 121 respondents) is mostly disability
    benefit or social assistance, with few wages (:data:`INCOME_COUNTS`, an assumption: the figure's
    shares are not printed).

``previous_oat``
    Almost all patients with previous treatment list OAT medications (Figure 6.D), on average about
    two kinds each; methadone and buprenorphine the most often. Each medication ended mostly by the
    patient's own choice (Figure 6.E); a patient has a medication ended by involuntary discharge
    exactly when the patient answered yes to involuntary discharge from previous OAT (Table 6.A).

Everything is drawn from the generator passed in and then repaired deterministically; a search that stalls
starts again from a fresh draw, at most ten times. Most of the module's time is the cost fit's integer
programmes (:mod:`synthetic.costfit`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import schema
from synthetic import aims, costfit
from synthetic.episodes import (
    MIN_READMISSION_GAP_DAYS,
    PLANNED_REASONS,
    UNPLANNED_REASONS,
    EpisodeSearch,
    census_ok,
    daily_capacity,
    opening_days,
    registrations_needed,
)
from synthetic.search import steepest
from synthetic.survival import km_summary
from synthetic.targets import Target, published
from synthetic.units import CLINICS, MONTH_DAYS, YEAR_DAYS, YEARS

#: The tables of earlier modules that :func:`generate` reads, the tables it makes, and whether it starts
#: worker processes of its own (see :func:`synthetic.__main__.generate`).
READS = ()
MAKES = ("patients", "previous_oat", "episodes", "cost_sample")
STARTS_WORKERS = True

#: Primary income of the 121 respondents (Figure 6.C; shares not printed, an assumption).
INCOME_COUNTS = {
    "disability_benefit": 52,
    "social_assistance": 37,
    "work_assessment_allowance": 17,
    "wages": 3,
    "pension": 5,
    "other": 4,
    "none": 3,
}
#: How often each OAT medication is chosen when drawing a patient's previous medications (Figure 6.D).
MEDICATION_WEIGHTS = {
    "methadone": 0.90,
    "buprenorphine": 0.60,
    "buprenorphine_naloxone": 0.35,
    "slow_release_oral_morphine": 0.30,
    "depot_buprenorphine": 0.15,
    "levomethadone": 0.15,
    "other": 0.05,
}
#: Number of different OAT medications per patient with OAT history: 1, 2, 3, 4, 5 (mean about 2.1).
N_MEDICATIONS_P = (0.30, 0.40, 0.20, 0.08, 0.02)
#: Reasons a previous medication ended (Figure 6.E), for patients never discharged involuntarily.
END_REASON_WEIGHTS = {
    "own_choice_dissatisfied_with_medication": 0.30,
    "own_choice_side_effects": 0.22,
    "own_choice_little_benefit": 0.22,
    "own_choice_other": 0.08,
    "moved_or_transferred": 0.06,
    "still_on_medication": 0.04,
    "other": 0.05,
    "": 0.03,  # not answered
}
#: Patients with previous treatment but no OAT medication listed ("almost all" tried OAT).
NO_OAT_AMONG_PREVIOUS = 6
#: Youngest age at admission in Bergen: its youngest referral was 26 (Supplementary Table E), and the
#: referral comes before the admission.
BERGEN_MIN_AGE = 27.0
#: Patients who answered no baseline item (housing has the most valid answers, 123 of 136).
FULL_NONRESPONSE = 13


# --------------------------------------------------------------------------------------------------
# Episodes
# --------------------------------------------------------------------------------------------------


def _episodes(
    rng: np.random.Generator, data_end: pd.Timestamp, tune_costs: bool = True
) -> tuple[pd.DataFrame, np.ndarray]:
    """The episodes table, and the clinic of each patient (in patient order)."""
    problem = ""
    for _attempt in range(10):  # a search that ends in a dead end starts again from a fresh draw
        search = EpisodeSearch(rng, data_end)
        remaining = search.run()
        if remaining > 0:
            problem = f"episode calibration did not converge (remaining cost {remaining:.1f})"
            continue
        if not tune_costs:
            break
        try:  # Tables 6.D-6.G: costs of the cost-utility sample (see CostTuner, then synthetic.costfit)
            tuner = costfit.CostTuner(search, rng)
            tuner.run(focus_steps=0)
            fit = costfit.CostFit(tuner, tuner.choose(), census_ok)
            fit.drop = set(costfit.UNREACHABLE)
            fit.run()
            fit.finish()
            sample = fit.member
            break
        except RuntimeError as error:  # too few patients of a group can answer twice: draw again
            problem = str(error)
    else:
        raise RuntimeError(problem)
    m = len(search.adm)
    # patients: every first episode is a new patient; a second episode belongs to its first's patient
    firsts = np.nonzero(search.first)[0]
    firsts = firsts[np.lexsort((firsts, search.adm[firsts]))]
    patient_of = np.full(m, -1)
    patient_of[firsts] = np.arange(len(firsts))
    for e in np.nonzero(search.second)[0]:
        patient_of[e] = patient_of[search.prev[e]]

    day0 = pd.Timestamp(schema.STUDY_START)
    kinds = [search.outcomes[o][1] if o >= 0 else None for o in search.out]
    reasons = np.array([None] * m, dtype=object)
    for kind, table in (("planned", PLANNED_REASONS), ("unplanned", UNPLANNED_REASONS)):
        idx = [e for e in range(m) if kinds[e] == kind]
        pool = [r for r, n in table.items() for _ in range(n)]
        if len(pool) != len(idx):
            raise RuntimeError(f"{kind} discharges: {len(idx)} episodes but {len(pool)} reasons")
        reasons[idx] = list(rng.permutation(pool))
    order = np.lexsort((patient_of, search.adm))
    rows = []
    for k, e in enumerate(order):
        closed = search.out[e] >= 0
        rows.append(
            {
                "episode_id": f"E{k + 1:03d}",
                "patient_id": f"P{patient_of[e] + 1:03d}",
                "episode_number": 2 if search.second[e] else 1,
                "admission_date": day0 + pd.Timedelta(days=int(search.adm[e])),
                "discharge_date": day0 + pd.Timedelta(days=int(search.adm[e] + search.dur[e])) if closed else pd.NaT,
                "discharge_type": kinds[e] if closed else None,
                "discharge_reason": reasons[e] if closed else None,
            }
        )
    episodes = pd.DataFrame(rows)
    episodes["episode_number"] = episodes["episode_number"].astype("int64")
    for col in ("discharge_type", "discharge_reason"):
        episodes[col] = episodes[col].astype(object).where(episodes[col].notna(), None)
    clinic = np.array([CLINICS[c] for c in search.clinic[firsts]])
    # the cost-utility sample, by patient: the tuner numbers patients by its first episodes' order
    if tune_costs:
        position = {int(f): k for k, f in enumerate(tuner.firsts)}
        sample = sorted(f"P{patient_of[f] + 1:03d}" for f in tuner.firsts if sample[position[int(f)]])
    else:
        sample = []
    return episodes, clinic, sample


# --------------------------------------------------------------------------------------------------
# Patients
# --------------------------------------------------------------------------------------------------


def _ages(rng: np.random.Generator, clinic: np.ndarray, male: np.ndarray) -> np.ndarray:
    """Ages at first admission whose means (all, by sex, by clinic) and range round as published."""
    n = len(clinic)
    groups = {
        "s6_2_mean_age_years": np.ones(n, bool),
        "s6_2_mean_age_men_years": male,
        "s6_2_mean_age_women_years": ~male,
        "s6_2_mean_age_oslo_years": clinic == "Oslo",
        "s6_2_mean_age_bergen_years": clinic == "Bergen",
    }
    goal = {k: published(k) for k in groups}
    within = {k: aims.unit(aims.AGES, k) for k in groups}  # well inside the rounding (0.05)
    youngest, oldest = published("s6_2_age_min_years"), published("s6_2_age_max_years")
    age = np.where(clinic == "Oslo", goal["s6_2_mean_age_oslo_years"], goal["s6_2_mean_age_bergen_years"]) + rng.normal(
        0, 9.0, n
    )
    # the youngest is an Oslo patient: Bergen's youngest referral was older (Supplementary Table E)
    oslo = np.nonzero(clinic == "Oslo")[0]
    first_young = int(rng.choice(oslo))
    ends = [first_young, int(rng.choice(np.setdiff1d(np.arange(n), [first_young])))]
    free = np.ones(n, bool)
    free[ends] = False
    age[ends] = (youngest, oldest)
    floor = np.where(clinic == "Bergen", BERGEN_MIN_AGE, youngest + 0.6)
    for _ in range(60):  # shift each group towards its mean, the extremes kept in place
        for key in (
            "s6_2_mean_age_oslo_years",
            "s6_2_mean_age_bergen_years",
            "s6_2_mean_age_men_years",
            "s6_2_mean_age_women_years",
        ):
            g = groups[key]
            shift = (goal[key] * g.sum() - age[g].sum()) / (g & free).sum()
            age[g & free] += shift
        age[free] = np.clip(age[free], floor[free], oldest - 0.6)
    age = np.round(age, 1)

    def badness(a):
        return sum(
            max(0.0, abs(a[g].mean() - goal[k]) - within[k]) + 1e-3 * abs(a[g].mean() - goal[k])
            for k, g in groups.items()
        )

    def nudges():  # single ages moved by 0.1, the extremes and each clinic's floor kept
        for i in np.nonzero(free)[0]:
            for step in (0.1, -0.1):
                trial = age.copy()
                trial[i] = round(trial[i] + step, 1)
                if not max(youngest, floor[i] - 0.05) < trial[i] < oldest:
                    continue

                def keep(i=i, step=step):
                    age[i] = round(age[i] + step, 1)

                yield badness(trial), keep

    # until every mean is well inside its rounding
    steepest(
        nudges, badness(age), 400, lambda _: all(abs(age[g].mean() - goal[k]) <= within[k] for k, g in groups.items())
    )
    return age


def _choose(rng: np.random.Generator, pool: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    """k distinct members of pool, drawn with the given weights."""
    if weights is None:
        weights = np.ones(len(pool))
    p = np.asarray(weights, float) / np.sum(weights)
    return rng.choice(pool, size=k, replace=False, p=p)


def _t6a(key: str) -> int:
    return int(published(key))


def _patients(rng: np.random.Generator, clinic: np.ndarray) -> pd.DataFrame:
    n = len(clinic)
    idx = np.arange(n)
    male = np.zeros(n, bool)
    male[_choose(rng, idx, int(published("s6_2_men_n")))] = True
    age = _ages(rng, clinic, male)

    # who answered: a core of non-responders, then single skipped items among the others
    silent = np.zeros(n, bool)
    silent[_choose(rng, idx, FULL_NONRESPONSE)] = True
    responders = idx[~silent]

    def valid(n_valid: int) -> np.ndarray:
        extra = len(responders) - n_valid
        skipped = _choose(rng, responders, extra) if extra > 0 else np.array([], int)
        ok = np.zeros(n, bool)
        ok[responders] = True
        ok[skipped] = False
        return ok

    def yes_no(n_valid: int, n_yes: int, weights=None) -> tuple[pd.Series, np.ndarray]:
        ok = valid(n_valid)
        pool = idx[ok]
        w = None if weights is None else np.asarray(weights)[ok]
        yes = np.zeros(n, bool)
        yes[_choose(rng, pool, n_yes, w)] = True
        return pd.Series([bool(yes[i]) if ok[i] else pd.NA for i in idx], dtype="boolean"), yes

    def categories(n_valid: int, counts: dict[str, int]) -> pd.Series:
        ok = valid(n_valid)
        values = [c for c, k in counts.items() for _ in range(k)]
        if len(values) != ok.sum():
            raise RuntimeError(f"{sum(counts.values())} answers for {ok.sum()} valid cells")
        out = np.array([None] * n, dtype=object)
        out[idx[ok]] = rng.permutation(values)
        return pd.Series(out, dtype=object)

    housing_counts = {h: _t6a(f"t6a_housing_{h}_n") for h in schema.HOUSING}
    housing_counts["other"] = _t6a("t6a_housing_n_valid") - sum(v for h, v in housing_counts.items() if h != "other")
    housing = categories(_t6a("t6a_housing_n_valid"), housing_counts)
    born, _ = yes_no(_t6a("t6a_born_in_norway_n_valid"), _t6a("t6a_born_in_norway_n"))
    with_family = (housing == "friends_family_partner").to_numpy()
    living, _ = yes_no(
        _t6a("t6a_living_with_others_n_valid"), _t6a("t6a_living_with_others_n"), np.where(with_family, 1e6, 1.0)
    )
    unstable_w = (
        housing.map({"street": 50.0, "temporary": 8.0, "friends_family_partner": 3.0}).fillna(0.3).to_numpy(float)
    )
    unstable, _ = yes_no(_t6a("t6a_unstable_housing_30d_n_valid"), _t6a("t6a_unstable_housing_30d_n"), unstable_w)
    education = categories(_t6a("t6a_education_n_valid"), {e: _t6a(f"t6a_education_{e}_n") for e in schema.EDUCATION})
    low_education = education.isin(["primary_not_completed", "primary"]).to_numpy()
    reading, _ = yes_no(
        _t6a("t6a_reading_writing_difficulties_n_valid"),
        _t6a("t6a_reading_writing_difficulties_n"),
        np.where(low_education, 2.5, 1.0),
    )
    work, _ = yes_no(_t6a("t6a_work_or_education_n_valid"), _t6a("t6a_work_or_education_n"))
    previous, prev_yes = yes_no(_t6a("t6a_previous_treatment_n_valid"), _t6a("t6a_previous_treatment_n"))
    # the involuntary-discharge item is asked of exactly those with previous treatment
    if _t6a("t6a_involuntary_discharge_previous_oat_n_valid") != prev_yes.sum():
        raise RuntimeError("involuntary discharge is answered by those with previous treatment")
    invol_yes = np.zeros(n, bool)
    invol_yes[_choose(rng, idx[prev_yes], _t6a("t6a_involuntary_discharge_previous_oat_n"))] = True
    involuntary = pd.Series([bool(invol_yes[i]) if prev_yes[i] else pd.NA for i in idx], dtype="boolean")
    income_counts = dict(INCOME_COUNTS)
    work_yes = work.fillna(False).to_numpy(bool)
    income = categories(int(published("s6_2_fig6c_n_respondents")), income_counts)
    # wages go to those in work where possible
    wage_idx = np.nonzero((income == "wages").to_numpy())[0]
    workers = [i for i in np.nonzero(work_yes)[0] if income[i] is not None and income[i] != "wages"]
    for w, i in zip(wage_idx, workers):
        if not work_yes[w]:
            income[w], income[i] = income[i], income[w]
    return pd.DataFrame(
        {
            "patient_id": [f"P{i + 1:03d}" for i in idx],
            "clinic": clinic,
            "sex": np.where(male, "male", "female"),
            "age_at_admission": age,
            "born_in_norway": born,
            "housing": housing,
            "living_with_others": living,
            "unstable_housing_30d": unstable,
            "education": education,
            "reading_writing_difficulties": reading,
            "work_or_education": work,
            "previous_treatment": previous,
            "involuntary_discharge_previous_oat": involuntary,
            "primary_income": income,
        }
    )


def _previous_oat(rng: np.random.Generator, patients: pd.DataFrame) -> pd.DataFrame:
    previous = patients.previous_treatment.fillna(False).to_numpy(bool)
    involuntary = patients.involuntary_discharge_previous_oat.fillna(False).to_numpy(bool)
    candidates = np.nonzero(previous & ~involuntary)[0]
    no_oat = set(_choose(rng, candidates, NO_OAT_AMONG_PREVIOUS).tolist())
    meds = np.array(list(MEDICATION_WEIGHTS))
    med_w = np.array(list(MEDICATION_WEIGHTS.values()))
    reasons = [r for r in END_REASON_WEIGHTS]
    reason_w = np.array(list(END_REASON_WEIGHTS.values()))
    rows = []
    for i in np.nonzero(previous)[0]:
        if i in no_oat:
            continue
        k = int(rng.choice(len(N_MEDICATIONS_P), p=N_MEDICATIONS_P)) + 1
        chosen = _choose(rng, meds, k, med_w)
        ends = list(rng.choice(reasons, size=k, p=reason_w / reason_w.sum()))
        # at most one medication is still ongoing, and it is the last one listed
        ends = [r if r != "still_on_medication" or j == k - 1 else "own_choice_other" for j, r in enumerate(ends)]
        if involuntary[i]:
            for j in _choose(rng, np.arange(k), 1 + int(k > 2 and rng.random() < 0.3)):
                ends[j] = "involuntary_discharge"
        for med, end in zip(chosen, ends):
            rows.append({"patient_id": patients.patient_id.iloc[i], "medication": str(med), "end_reason": end or None})
    frame = pd.DataFrame(rows, columns=[f.name for f in schema.PREVIOUS_OAT.fields])
    frame["end_reason"] = frame["end_reason"].astype(object).where(frame["end_reason"].notna(), None)
    return frame


def generate(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], data_end: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """The tables patients, previous_oat and episodes (see the module docstring)."""
    episodes, clinic, sample = _episodes(rng, pd.Timestamp(data_end))
    patients = _patients(rng, clinic)
    previous_oat = _previous_oat(rng, patients)
    # the cost-utility sample the episodes were calibrated for (not a table of the schema: it tells
    # synthetic.questionnaires who answers EQ-5D-5L twice or more)
    return {
        "patients": patients,
        "previous_oat": previous_oat,
        "episodes": episodes,
        "cost_sample": pd.DataFrame({"patient_id": sample}),
    }


# --------------------------------------------------------------------------------------------------
# Calibration targets
# --------------------------------------------------------------------------------------------------


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else float("nan")


def _flag(condition) -> float:
    return 1.0 if bool(condition) else 0.0


def _rule(key: str, ok, description: str) -> Target:
    """A rule without a ledger key: achieved 1 when it holds."""
    return Target(key, _flag(ok), target=1.0, tolerance=0.0, description=description)


def _treatment_days(
    episodes: pd.DataFrame, data_end: pd.Timestamp, start: pd.Timestamp, stop: pd.Timestamp
) -> pd.Series:
    """Patient-days of each episode between start and stop: calendar days in the episode, both ends
    counted, an open episode running to the data end."""
    last = episodes.discharge_date.fillna(data_end).clip(upper=min(stop, data_end))
    first = episodes.admission_date.clip(lower=start)
    return ((last - first).dt.days + 1).clip(lower=0)


def _in_treatment(episodes: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """In treatment at the end of ``day``: admitted on or before it and not discharged on or before it."""
    return (episodes.admission_date <= day) & (episodes.discharge_date.isna() | (episodes.discharge_date > day))


def targets(tables: dict[str, pd.DataFrame]) -> list[Target]:
    """Calibration checks of patients, previous_oat and episodes, computed here from the tables.

    Definitions: a patient-day is a calendar day inside an episode (admission and discharge day both
    counted; open episodes run to the data end); time in treatment of a discharged episode is
    ``discharge_date - admission_date`` in days, a month 365.25 / 12 days; Kaplan-Meier retention uses
    each patient's first episode, time from admission to discharge, an open episode censored at the
    data end; the median is the first time the estimate falls below one half.
    """
    patients, previous_oat, episodes = tables["patients"], tables["previous_oat"], tables["episodes"]
    data_end = pd.Timestamp(schema.STUDY_END)
    ep = episodes.merge(patients[["patient_id", "clinic"]], on="patient_id", how="left")
    for col in ("admission_date", "discharge_date"):
        ep[col] = pd.to_datetime(ep[col])
    return [
        *_enrolment_targets(patients, ep, data_end),
        *_discharge_targets(patients, ep, data_end),
        *_retention_targets(ep, data_end),
        *_patient_day_targets(ep, data_end),
        *_demographic_targets(patients),
        *_table_6a_targets(patients),
        *_income_and_previous_oat_targets(patients, previous_oat),
    ]


def _enrolment_targets(patients, ep, data_end) -> list[Target]:
    """6.1: enrolment per clinic and year, patients in treatment at each year end, the clinics' openings, the
    study period and the daily census within capacity."""
    out: list[Target] = []
    add = out.append
    n = len(patients)
    by_clinic = patients.clinic.value_counts()
    for key in (
        "s6_1_patients_participated_total",
        "s6_1_patients_consented_total",
        "s6_1_fig6a_unique_patients",
        "s6_1_fig6b_unique_patients",
        "s6_1_treatment_episodes_patients",
        "s6_2_patients_started_total",
        "t6a_n_total",
    ):
        add(Target(key, n))
    for c in CLINICS:
        low = c.lower()
        add(Target(f"s6_1_patients_participated_{low}", by_clinic.get(c, 0)))
        add(Target(f"s6_1_patients_consented_{low}", by_clinic.get(c, 0)))
        add(Target(f"s6_1_patients_consented_{low}_percent", _pct(by_clinic.get(c, 0), n)))
    for key in ("s6_1_fig6a_enrollments_total", "s6_1_fig6b_admissions_total", "s6_1_treatment_episodes_total"):
        add(Target(key, len(ep)))
    add(Target("s6_1_second_episodes_n", int((ep.episode_number >= 2).sum())))

    # enrollments per year and clinic (Figure 6.A) and patients in treatment at each year end (6.B)
    ep["year"] = ep.admission_date.dt.year
    counts = ep.groupby(["clinic", "year"]).size().unstack(fill_value=0).reindex(columns=list(YEARS), fill_value=0)
    declining = all(
        (counts.loc[c, YEARS[1:]] <= counts.loc[c, YEARS[0]]).all()
        and counts.loc[c, YEARS[-1]] < counts.loc[c, YEARS[0]]
        and counts.loc[c, list(YEARS[2:])].sum() < counts.loc[c, list(YEARS[:2])].sum()
        for c in CLINICS
    )
    shown = "; ".join(f"{c} " + "/".join(str(int(v)) for v in counts.loc[c]) for c in CLINICS)
    add(
        _rule(
            "enrollment_declines_after_2022",
            declining,
            f"Admissions per year 2022-2025 ({shown}): no later year above 2022, 2025 below it, 2024-25 below 2022-23",
        )
    )
    year_end = [min(pd.Timestamp(f"{y}-12-31"), data_end) for y in YEARS]
    census = [int(_in_treatment(ep, d).sum()) for d in year_end]
    add(
        _rule(
            "in_treatment_end_of_year_rising",
            all(a < b for a, b in zip(census, census[1:])),
            f"Patients in treatment at the end of each year rise steadily (Figure 6.B): {'/'.join(map(str, census))}",
        )
    )
    opening = opening_days()
    day0 = pd.Timestamp(schema.STUDY_START)
    first_adm = ep.groupby("clinic").admission_date.min()
    for c in CLINICS:
        month = day0 + pd.Timedelta(days=opening[c])
        add(
            _rule(
                f"{c.lower()}_first_admission_in_opening_month",
                first_adm[c].to_period("M") == month.to_period("M"),
                f"{c}'s first admission ({first_adm[c].date()}) falls in its opening month {month:%Y-%m} (Table 3.B)",
            )
        )
    add(
        _rule(
            "admissions_on_weekdays", (ep.admission_date.dt.day_of_week < 5).all(), "Patients are admitted on weekdays"
        )
    )
    inside = (ep.admission_date >= day0) & (ep.discharge_date.fillna(data_end) <= data_end)
    add(_rule("episodes_within_study_period", inside.all(), "Every episode lies within 2022-01-01 to 2025-12-31"))
    # daily census within the clinics' capacity (Oslo 65 at most; Bergen 15 in 2022, 40 until November 2024)
    days = pd.date_range(day0, data_end, freq="D")
    limits = {c: pd.Series(limit, index=days) for c, limit in daily_capacity(days).items()}
    peaks = {}
    within = True
    for c in CLINICS:
        sub = ep[ep.clinic == c]
        delta = pd.Series(0, index=days)
        for a, d in zip(sub.admission_date, sub.discharge_date):
            delta[a] += 1
            if pd.notna(d):
                delta[d] -= 1
        daily = delta.cumsum()
        peaks[c] = int(daily.max())
        within &= bool((daily <= limits[c]).all())
    add(
        _rule(
            "census_within_capacity",
            within,
            "Patients in treatment never exceed the clinic's capacity of the time "
            f"(peaks: Oslo {peaks['Oslo']}, Bergen {peaks['Bergen']})",
        )
    )
    return out


def _discharge_targets(patients, ep, data_end) -> list[Target]:
    """6.1: status at the data end, discharges by type and reason, time in treatment of the discharged, their
    coverage of 1, 12 and 24 months, re-admissions."""
    out: list[Target] = []
    add = out.append
    n, closed = len(patients), ep.discharge_date.notna()
    open_at_end = int(_in_treatment(ep, data_end).sum())
    add(Target("s6_1_patients_in_treatment_2025_12_31", open_at_end))
    add(Target("s6_1_capacity_patients_enrolled_2025_12_31", open_at_end))
    capacity = published("s6_1_capacity_oslo_2025") + published("s6_1_capacity_bergen_2025")
    add(Target("s6_1_enrolled_share_of_capacity", open_at_end / capacity))
    add(
        _rule(
            "one_open_episode_per_patient_in_treatment",
            (~closed).groupby(ep.patient_id).sum().max() <= 1 and ep[~closed].patient_id.nunique() == open_at_end,
            "Every patient still in treatment has exactly one open episode",
        )
    )
    dis = ep[closed].copy()
    n_dis = len(dis)
    planned = dis.discharge_type == "planned"
    for key in ("s6_1_individuals_discharged", "s6_summary_left_treatment_n"):
        add(Target(key, dis.patient_id.nunique()))
    add(Target("s6_summary_left_treatment_percent", _pct(dis.patient_id.nunique(), n)))
    add(Target("s6_1_discharges_planned_n", int(planned.sum())))
    for key in ("s6_1_discharges_planned_percent", "s6_summary_discharges_voluntary_percent"):
        add(Target(key, _pct(planned.sum(), n_dis)))
    add(Target("s6_summary_discharges_nonattendance_involuntary_percent", _pct((~planned).sum(), n_dis)))
    to_oat = int((dis.discharge_reason == "transition_to_oat").sum())
    add(Target("s6_1_discharges_planned_to_oat_n", to_oat))
    add(Target("s6_summary_voluntary_discharges_to_oat_percent", _pct(to_oat, planned.sum())))
    add(Target("s6_1_discharges_unplanned_n", int((~planned).sum())))
    main = dis.discharge_reason.isin(["non_attendance", "behaviour_or_violence"])[~planned].mean()
    add(
        _rule(
            "unplanned_mostly_nonattendance_or_behaviour",
            main > 0.5,
            f"Unplanned discharges are mostly for non-attendance or behaviour ({_pct(main, 1):.0f}%)",
        )
    )

    # time in treatment of discharged episodes
    dis["days"] = (dis.discharge_date - dis.admission_date).dt.days
    months = dis.days / MONTH_DAYS
    for key in ("s6_1_mean_months_in_treatment", "s6_summary_discharged_mean_months_in_treatment"):
        add(Target(key, months.mean()))
    add(Target("s6_1_discharged_episodes_median_months", months.median()))
    add(
        _rule(
            "discharged_median_just_under_7_months",
            6.5 <= months.median() < 7.0,
            f"Median time in treatment of discharged episodes is just under 7 months ({months.median():.2f})",
        )
    )
    add(Target("s6_summary_discharged_min_time_in_treatment_days", dis.days.min()))
    add(Target("s6_summary_discharged_max_time_in_treatment_years", dis.days.max() / YEAR_DAYS))
    med_unplanned, med_planned = dis.days[~planned].median(), dis.days[planned].median()
    add(
        _rule(
            "unplanned_discharges_shorter",
            med_unplanned < med_planned,
            "Unplanned discharges come sooner than planned ones "
            f"(median {med_unplanned:.0f} vs {med_planned:.0f} days)",
        )
    )
    band = np.select([months <= 6, months <= 12], ["within_6_months", "6_to_12_months"], "after_12_months")
    k6, k12, k_late = ((band == b).sum() for b in ("within_6_months", "6_to_12_months", "after_12_months"))
    split = (
        f"With {n_dis} discharges no whole counts give 47%, 21% and 31% together (e.g. 30 or 31 of {n_dis} are "
        f"{_pct(30, n_dis):.1f}% or {_pct(31, n_dis):.1f}%); the discharge count is kept and the nearest split "
        f"{k6}/{k12}/{k_late} is used, which keeps the 60/40 split of the early leavers exact"
    )
    add(Target("s6_1_left_within_6_months_percent", _pct(k6, n_dis), reason=split))
    add(Target("s6_1_left_6_to_12_months_percent", _pct(k12, n_dis), reason=split))
    add(Target("s6_1_left_after_12_months_percent", _pct(k_late, n_dis), reason=split))
    early = band == "within_6_months"
    add(Target("s6_1_left_within_6_months_planned_percent", _pct((early & planned.to_numpy()).sum(), k6)))
    add(Target("s6_1_left_within_6_months_dropout_percent", _pct((early & ~planned.to_numpy()).sum(), k6)))
    late = band == "after_12_months"
    add(
        Target(
            "s6_1_over_12_months_unplanned_dropout_percent",
            _pct((late & ~planned.to_numpy()).sum(), k_late),
            reason=f"23% of {k_late} is not a whole number of patients; "
            f"{(late & ~planned.to_numpy()).sum()} of {k_late} is the nearest",
        )
    )

    # still in treatment 1, 12 and 24 months after the first admission (Appendix 3 registrations)
    first_day = ep.groupby("patient_id").admission_date.transform("min")
    stop = ep.discharge_date.fillna(data_end)
    for k, wanted in registrations_needed().items():
        when = first_day + pd.DateOffset(months=k)
        n_in = ep.patient_id[(ep.admission_date <= when) & (when <= stop)].nunique()
        add(
            _rule(
                f"in_treatment_{k}_months_after_first_admission",
                n_in >= wanted,
                f"Patients in treatment {k} months after their first admission ({n_in}) are at least the "
                f"{wanted} medication registrations Appendix 3 reports then",
            )
        )

    # re-admissions
    ordered = ep.sort_values(["patient_id", "admission_date"])
    prev_end = ordered.groupby("patient_id").discharge_date.shift()
    readm = ordered[ordered.groupby("patient_id").cumcount() > 0]
    gaps = (readm.admission_date - prev_end[readm.index]).dt.days
    later_year = (readm.admission_date.dt.year > prev_end[readm.index].dt.year).all()
    add(
        _rule(
            "readmission_after_previous_discharge",
            len(gaps) and gaps.notna().all() and gaps.min() >= MIN_READMISSION_GAP_DAYS and later_year,
            f"Re-admissions start at least {MIN_READMISSION_GAP_DAYS} days after the previous discharge, in a later "
            f"year (shortest gap {gaps.min():.0f} days)",
        )
    )
    return out


def _retention_targets(ep, data_end) -> list[Target]:
    """6.1: Kaplan-Meier retention of first episodes."""
    out: list[Target] = []
    add = out.append
    firsts = ep[ep.episode_number == 1]
    t = (firsts.discharge_date.fillna(data_end) - firsts.admission_date).dt.days
    one_year, median = km_summary(t, firsts.discharge_date.notna())
    add(Target("s6_1_one_year_retention_percent", 100 * one_year))
    add(Target("s6_1_median_retention_years", median / YEAR_DAYS))
    return out


def _patient_day_targets(ep, data_end) -> list[Target]:
    """Table 6.C: patients and patient-days per clinic and year."""
    out: list[Target] = []
    add = out.append
    day0 = pd.Timestamp(schema.STUDY_START)
    total_days = 0
    for c in CLINICS:
        sub = ep[ep.clinic == c]
        for y in YEARS:
            d = _treatment_days(sub, data_end, pd.Timestamp(f"{y}-01-01"), pd.Timestamp(f"{y}-12-31"))
            add(Target(f"t6c_{c.lower()}_{y}_n_patients", sub.patient_id[d > 0].nunique()))
            add(Target(f"t6c_{c.lower()}_{y}_patient_days", int(d.sum())))
    all_days = _treatment_days(ep, data_end, day0, data_end)
    total_days = int(all_days.sum())
    add(Target("t6c_all_2022_2025_n_patients", ep.patient_id[all_days > 0].nunique()))
    add(Target("t6c_all_2022_2025_patient_days", total_days))
    add(
        Target(
            "s6_1_person_years_in_treatment",
            total_days / YEAR_DAYS,
            reason=f"Table 6.C's patient-days ({total_days}) are kept; they make {total_days / YEAR_DAYS:.1f} "
            "person-years, so the printed person-years cannot hold as well",
        )
    )
    return out


def _demographic_targets(patients) -> list[Target]:
    """6.2: sex and age."""
    out: list[Target] = []
    add = out.append
    n = len(patients)
    male = patients.sex == "male"
    age = patients.age_at_admission.astype(float)
    add(Target("s6_2_men_n", int(male.sum())))
    add(Target("s6_2_men_percent", _pct(male.sum(), n)))
    add(Target("s6_2_mean_age_years", age.mean()))
    add(Target("s6_2_age_min_years", age.min()))
    add(Target("s6_2_age_max_years", age.max()))
    add(Target("s6_2_mean_age_men_years", age[male].mean()))
    add(Target("s6_2_mean_age_women_years", age[~male].mean()))
    add(Target("s6_2_mean_age_oslo_years", age[patients.clinic == "Oslo"].mean()))
    add(Target("s6_2_mean_age_bergen_years", age[patients.clinic == "Bergen"].mean()))
    bergen_min = age[patients.clinic == "Bergen"].min()
    add(
        _rule(
            "bergen_patients_not_younger_than_referrals",
            bergen_min >= BERGEN_MIN_AGE,
            f"Bergen's youngest patient ({bergen_min:.1f}) is older than its youngest referral (Supplementary Table E)",
        )
    )
    return out


def _table_6a_targets(patients) -> list[Target]:
    """Table 6.A: the patients' characteristics at admission."""
    out: list[Target] = []
    add = out.append
    for item in (
        "born_in_norway",
        "living_with_others",
        "unstable_housing_30d",
        "reading_writing_difficulties",
        "work_or_education",
        "previous_treatment",
        "involuntary_discharge_previous_oat",
    ):
        col = patients[item]
        valid = int(col.notna().sum())
        yes = int((col.astype("boolean") == True).sum())  # noqa: E712
        add(Target(f"t6a_{item}_n_valid", valid))
        add(Target(f"t6a_{item}_n", yes))
        add(Target(f"t6a_{item}_percent", _pct(yes, valid)))
    for item, levels in (("housing", schema.HOUSING), ("education", schema.EDUCATION)):
        col = patients[item]
        valid = int(col.notna().sum())
        add(Target(f"t6a_{item}_n_valid", valid))
        for level in levels:
            k = int((col == level).sum())
            reason_n = reason_pct = ""
            if item == "housing" and level == "other":
                reason_n = (
                    f"The printed housing counts sum to {sum(_t6a(f't6a_housing_{h}_n') for h in schema.HOUSING)}, "
                    f"not the {valid} valid answers; the printed 1% (and the valid n) fit 1 patient, so other = {k}"
                )
            if item == "education" and level == "higher":
                reason_pct = (
                    f"{k} of {valid} is {_pct(k, valid):.1f}%; the report prints 16% (its two higher-education "
                    "levels were probably rounded one by one); the printed count is kept"
                )
            add(Target(f"t6a_{item}_{level}_n", k, reason=reason_n))
            add(Target(f"t6a_{item}_{level}_percent", _pct(k, valid), reason=reason_pct))
    add(Target("s6_2_rental_housing_share", (patients.housing == "rented").sum() / patients.housing.notna().sum()))
    return out


def _income_and_previous_oat_targets(patients, previous_oat) -> list[Target]:
    """6.2: income and previous opioid agonist treatment."""
    out: list[Target] = []
    add = out.append
    income = patients.primary_income.dropna()
    add(Target("s6_2_fig6c_n_respondents", len(income)))
    main_income = income.isin(["disability_benefit", "social_assistance"]).mean()
    add(
        _rule(
            "income_mostly_disability_or_social_assistance",
            main_income > 0.6,
            "Disability benefit or social assistance is the primary income of most respondents "
            f"({_pct(main_income, 1):.0f}%)",
        )
    )
    wages = (income == "wages").mean()
    add(_rule("income_few_wages", 0 < wages <= 0.05, f"Very few live on wages ({_pct(wages, 1):.1f}%)"))
    kinds = previous_oat.groupby("patient_id").medication.nunique()
    add(Target("s6_2_fig6d_mean_oat_medication_types", kinds.mean()))
    prev_yes = set(patients.patient_id[patients.previous_treatment.astype("boolean") == True])  # noqa: E712
    with_oat = set(kinds.index)
    share = len(with_oat & prev_yes) / len(prev_yes)
    add(
        _rule(
            "previous_oat_almost_all_with_previous_treatment",
            share >= 0.9 and with_oat <= prev_yes,
            f"Almost all with previous treatment list OAT medications ({_pct(share, 1):.0f}%), nobody else does",
        )
    )
    invol_rows = set(previous_oat.patient_id[previous_oat.end_reason == "involuntary_discharge"])
    invol_yes = set(patients.patient_id[patients.involuntary_discharge_previous_oat.astype("boolean") == True])  # noqa: E712
    add(
        _rule(
            "previous_oat_involuntary_matches_table_6a",
            invol_rows == invol_yes,
            "A medication ended by involuntary discharge exactly for the patients answering yes in Table 6.A",
        )
    )
    answered = previous_oat.end_reason.dropna()
    own = answered.str.startswith("own_choice").mean()
    add(
        _rule(
            "previous_oat_ended_mostly_by_own_choice",
            own > 0.5,
            f"Most previous medications ended by the patient's own choice ({_pct(own, 1):.0f}% of answers)",
        )
    )
    return out
