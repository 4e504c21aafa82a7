"""Serious adverse events (section 6.5) and medication registrations (Appendix 3), synthetic.

Everything is derived from the patients and episodes that :mod:`synthetic.core` made; no patient or
episode id is assumed. Medication is generated first, because the adverse events lean on it (patients
who inject are given more overdoses and allergic reactions).

Medication registrations
------------------------
A registration is planned at each of :data:`analysis.data.schema.REGISTRATION_MONTHS` after the patient's
first admission (calendar months), dated with a random jitter of at most :data:`JITTER` days; when that
day lies outside the patient's episodes the nearest day within the jitter that lies inside is used, and
without one there is no registration (episodes end at the end of the data at the latest). Of these
possible registrations some are left out, as in a real register: at the four time points the report
describes, the number kept is the report's denominator, computed from ledger figures:

* one month: the sum of the bridge-opioid counts (every patient had a bridge opioid);
* month 3 ("the subsequent three months"): the count of route changers divided by their printed share;
* one year: the count with co-medication divided by its printed share;
* two years: the sum of the route counts.

At the other months each possible registration is kept with probability :data:`KEEP_OTHER`. Where the
episodes leave fewer possible registrations at a time point than its denominator, registrations up to
:data:`LATE_WINDOW` days off the planned day are added, nearest first; if that is still too few, all are
kept, the published counts are scaled down to the registrations there are, and the targets show it.

Per registration:

* route of DAM: a per-patient Markov chain (mostly staying on the route, drifting towards oral tablets),
  with the exact published counts imposed at one month, one year and two years (the route is left empty
  for the registrations that make up the difference between the registrations and the routes printed);
* route changes several times per week: a per-patient propensity, higher for injecting patients, with
  exactly the published counts at one month and month 3 (empty when no route is recorded);
* DAM morning / afternoon: nearly always both; exactly the published numbers with only one of them at
  one month. A dose of 0 mg is written for a part of the day without DAM, so that every pooled dose range
  starts at 0 mg;
* DAM doses: log-normal around the published median of the route and time of day, with a per-patient
  level, rounded to 10 mg; then made to have exactly the published median and maximum when all
  registrations of a route are pooled;
* another opioid in place of DAM: rare; per registration month between the published fewest and most
  registrations (the month with most registrations has the most, the one with fewest the fewest);
* bridge opioid: every registration has one; exactly the published counts at one month, then kept
  with occasional switches; doses log-normal per opioid with the published pooled median and range
  (the "other" opioids are often registered at 0 mg, hence their median of 0 mg);
* bonus doses (patients of the Bergen clinic only): the published number of patients, each over one
  defined period of consecutive registrations, with the published numbers whose highest frequency is
  two and three per week; most bonus registrations are once a week; bonus dose with the published
  median and range. Registrations without bonus doses have 0 per week and no dose;
* co-medication: a per-patient propensity rising over the first year; exactly the published counts at
  one month and one year of any co-medication, benzodiazepines, somatic drugs and allergy drugs; the
  other classes at low rates; each registration with co-medication has at least one class; the class
  flags are empty exactly when ``comedication`` is empty and false when it is false.

Serious adverse events
----------------------
Exactly the published number of events in the published number of patients. Patients with events are
drawn with weights that grow with their time in treatment; their event counts have exactly the
published tail (more than 10, more than 20 but at most 30, more than 30 events) and are given to the
patients by rank of time in treatment times a random frailty. Dates are drawn inside the patient's
episodes, a third of them in the first months after admission. Categories have exactly the published
counts; overdoses and allergic reactions are more likely for patients who inject, allergic reactions
also for patients on allergy co-medication.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import schema
from synthetic.targets import Target, published

#: The tables of earlier modules that :func:`generate` reads, the tables it makes, and whether it starts
#: worker processes of its own (see :func:`synthetic.__main__.generate`).
READS = ("patients", "episodes")
MAKES = ("adverse_events", "medication")
STARTS_WORKERS = False

MONTHS = schema.REGISTRATION_MONTHS
ROUTES = schema.DAM_ROUTES
BRIDGES = schema.BRIDGE_OPIOIDS
CATEGORIES = schema.ADVERSE_EVENT_CATEGORIES
#: Ledger names of the routes.
_ROUTE_KEY = {"intravenous": "iv", "intramuscular": "im", "oral": "oral"}
#: Months of the report's time points.
ONE_MONTH, NEXT_REGISTRATION, ONE_YEAR, TWO_YEARS = 1, 3, 12, 24
#: Days a registration may lie off its planned day; the wider window is used only to reach a denominator.
JITTER, LATE_WINDOW = 3, 14
#: Share of the other possible registrations that are kept.
KEEP_OTHER = 0.9
#: Route transition from one registration to the next (rows, columns: intravenous, intramuscular, oral).
ROUTE_STEP = np.array([[0.88, 0.10, 0.02], [0.10, 0.87, 0.03], [0.03, 0.03, 0.94]])
ROUTE_START = np.array([0.57, 0.36, 0.07])
#: Log-normal spread of DAM doses around the median: between patients and within a patient.
DOSE_SPREAD_PATIENT, DOSE_SPREAD_VISIT = 0.25, 0.12
#: Bridge opioids: rounding step (mg), log-normal spread, share registered at 0 mg, median of non-zero doses.
BRIDGE_SHAPE = {
    "methadone": (5, 0.45, 0.01, None),
    "contalgin": (10, 0.45, 0.01, None),
    "dolcontin": (10, 0.40, 0.01, None),
    "levopidon": (5, 0.30, 0.03, None),
    "other": (10, 0.60, 0.60, 150.0),
}
#: Co-medication classes beyond the three the report counts: share of registrations with co-medication.
OTHER_CLASSES = {
    "antipsychotic": 0.12,
    "antidepressant": 0.15,
    "antiepileptic": 0.06,
    "laxative": 0.10,
    "analgesic": 0.03,
    "hepatitis_c": 0.03,
    "hiv": 0.01,
}
#: The three counted classes: share of those with co-medication at one month and at one year.
COUNTED_CLASSES = {"benzodiazepine": "benzodiazepines", "somatic": "somatic", "allergy": "allergy"}
#: Event tail: bands of events per patient (low, high) and the ledger key of the patient count in each.
EVENT_BANDS = (
    (31, 45, "s6_5_patients_over_30_events_n"),
    (21, 30, "s6_5_patients_over_20_events_n"),
    (11, 20, None),  # the rest of those with more than 10 events
)


# ----------------------------------------------------------------------------------------- helpers


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _fit_counts(counts, n: int) -> np.ndarray:
    """Counts that sum to ``n``: the given counts, scaled down (largest remainders) when they do not."""
    counts = np.asarray(counts, dtype=int)
    total = counts.sum()
    if total == n:
        return counts
    if total == 0:
        out = np.zeros_like(counts)
        out[0] = n
        return out
    raw = counts * n / total
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: n - out.sum()]:
        out[i] += 1
    return out


def _exact_choice(rng: np.random.Generator, weights: np.ndarray, counts) -> np.ndarray:
    """One category per row with exactly ``counts`` rows per category.

    Rows first choose freely (Gumbel trick on the log weights); then, while a category has too many
    rows, the single move from an over-full to an under-full category that costs least is made.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    n, k = weights.shape
    counts = _fit_counts(counts, n)
    score = np.log(np.clip(weights, 1e-12, None)) + rng.gumbel(size=(n, k))
    choice = score.argmax(axis=1)
    current = np.bincount(choice, minlength=k)
    while (current != counts).any():
        best = None
        for o in np.flatnonzero(current > counts):
            rows = np.flatnonzero(choice == o)
            for u in np.flatnonzero(current < counts):
                gain = score[rows, u] - score[rows, o]
                i = int(gain.argmax())
                if best is None or gain[i] > best[0]:
                    best = (gain[i], rows[i], o, u)
        _, row, o, u = best
        choice[row] = u
        current[o] -= 1
        current[u] += 1
    return choice


def _exact_flags(rng: np.random.Generator, p: np.ndarray, k: int) -> np.ndarray:
    """Booleans with exactly ``k`` true, true more likely where ``p`` is high."""
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    if len(p) == 0:
        return np.zeros(0, dtype=bool)
    k = int(min(max(k, 0), len(p)))
    return _exact_choice(rng, np.column_stack([1 - p, p]), [len(p) - k, k]) == 1


def _force_median_range(values: np.ndarray, median: float, low: float | None, high: float | None) -> np.ndarray:
    """``values`` moved as little as needed to have exactly this median, minimum and maximum.

    The middle value(s) become the median, values below it are capped at the median and values above
    it raised to it; the smallest becomes ``low`` and the largest ``high`` (None: left as it is).
    """
    v = np.asarray(values, dtype=float).copy()
    n = len(v)
    if n == 0:
        return v
    order = np.argsort(v, kind="stable")
    s = v[order]
    if low is not None:
        s = np.maximum(s, low)
    if high is not None:
        s = np.minimum(s, high)
    if n >= 3:
        if low is not None:
            s[0] = low
        if high is not None:
            s[-1] = high
    k1, k2 = (n - 1) // 2, n // 2
    s[k1] = s[k2] = median
    s[:k1] = np.minimum(s[:k1], median)
    s[k2 + 1 :] = np.maximum(s[k2 + 1 :], median)
    v[order] = s
    return v


def _recentre(values: np.ndarray, median: float) -> np.ndarray:
    """Positive ``values`` scaled so that their median is ``median`` (few patients make the sample median drift)."""
    if len(values) == 0:
        return values
    return values * (median / np.median(values))


def _spans(episodes: pd.DataFrame, data_end: pd.Timestamp) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Each patient's episodes as (admission, last day in treatment) pairs, the last day at most data_end."""
    spans: dict[str, list] = {}
    ends = pd.to_datetime(episodes.discharge_date).fillna(data_end).clip(upper=data_end)
    for pid, start, end in zip(episodes.patient_id, pd.to_datetime(episodes.admission_date), ends):
        spans.setdefault(pid, []).append((start, end))
    for pid in spans:
        spans[pid].sort()
    return spans


def _inside(spans, date) -> bool:
    return any(start <= date <= end for start, end in spans)


def _treatment_days(spans) -> int:
    return sum((end - start).days + 1 for start, end in spans)


# ------------------------------------------------------------------------------------- medication


def _denominators() -> dict[int, int]:
    """Registrations kept at the report's time points (see the module docstring)."""
    one_month = sum(published(f"app3_bridge_{b}_1m_n") for b in BRIDGES)
    month3 = published("app3_route_switch_next3m_n") / published("app3_route_switch_next3m_pct") * 100
    one_year = published("app3_comed_any_1y_n") / published("app3_comed_any_1y_pct") * 100
    two_years = sum(published(f"app3_route_{_ROUTE_KEY[r]}_2y_n") for r in ROUTES)
    return {
        ONE_MONTH: round(one_month),
        NEXT_REGISTRATION: round(month3),
        ONE_YEAR: round(one_year),
        TWO_YEARS: round(two_years),
    }


def _route_counts(month: int) -> list[int] | None:
    label = {ONE_MONTH: "1m", ONE_YEAR: "1y", TWO_YEARS: "2y"}.get(month)
    if label is None:
        return None
    return [round(published(f"app3_route_{_ROUTE_KEY[r]}_{label}_n")) for r in ROUTES]


def _plan(rng: np.random.Generator, episodes: pd.DataFrame, data_end: pd.Timestamp) -> pd.DataFrame:
    """The registrations kept: patient, month and date, sorted by patient and month.

    A registration is dated its planned day plus a random jitter of up to :data:`JITTER` days; when that
    day is outside the patient's episodes, the nearest day within the jitter that is inside is used.
    Only where the episodes then leave fewer registrations at a report time point than its denominator
    are registrations up to :data:`LATE_WINDOW` days off the planned day added, nearest first.
    """
    spans = _spans(episodes, data_end)
    first = episodes.groupby("patient_id").admission_date.min().sort_index()
    rows, spare = [], []
    for pid, start in first.items():
        start = pd.Timestamp(start)
        for month in MONTHS:
            nominal = start + pd.DateOffset(months=month)
            jitter = int(rng.integers(-JITTER, JITTER + 1))
            if _inside(spans[pid], nominal + pd.Timedelta(days=jitter)):
                rows.append((pid, month, nominal + pd.Timedelta(days=jitter), 0))
                continue
            # the nearest day inside an episode (spans end at data_end at the latest)
            shifts = [
                (s - nominal).days if nominal < s else (e - nominal).days if nominal > e else 0 for s, e in spans[pid]
            ]
            d = min(shifts, key=lambda x: (abs(x), x))
            if abs(d) <= LATE_WINDOW:
                (rows if abs(d) <= JITTER else spare).append((pid, month, nominal + pd.Timedelta(days=d), abs(d)))
    columns = ["patient_id", "registration_month", "registration_date", "off"]
    plan, spare = pd.DataFrame(rows, columns=columns), pd.DataFrame(spare, columns=columns)
    denominators = _denominators()
    extra = []
    for month, wanted in denominators.items():
        short = wanted - int((plan.registration_month == month).sum())
        if short > 0:
            extra.append(spare[spare.registration_month == month].sort_values(["off", "patient_id"]).head(short))
    plan = pd.concat([plan] + extra, ignore_index=True) if extra else plan
    keep = np.zeros(len(plan), dtype=bool)
    for month in MONTHS:
        idx = np.flatnonzero(plan.registration_month.to_numpy() == month)
        if month in denominators:
            chosen = rng.permutation(idx)[: denominators[month]]
            keep[chosen] = True
        else:
            keep[idx] = rng.random(len(idx)) < KEEP_OTHER
    plan = plan[keep].drop(columns="off")
    return plan.sort_values(["patient_id", "registration_month"]).reset_index(drop=True)


def _medication(rng: np.random.Generator, tables: dict[str, pd.DataFrame], data_end: pd.Timestamp) -> pd.DataFrame:
    """The medication registrations of Appendix 3: when each is due (:func:`_plan`), then the DAM route,
    schedule and doses, the bridge opioid and its dose, bonus doses and co-medication, each drawn to the
    published counts, medians and ranges."""
    plan = _plan(rng, tables["episodes"], data_end)
    pids = plan.patient_id.to_numpy()
    month = plan.registration_month.to_numpy()
    patients = sorted(set(tables["patients"].patient_id) | set(pids))
    pindex = {p: i for i, p in enumerate(patients)}
    pix = np.array([pindex[p] for p in pids], dtype=int)
    npat = len(patients)

    # per-patient latent traits
    z_switch = rng.normal(size=npat)
    z_dose = rng.normal(scale=DOSE_SPREAD_PATIENT, size=npat)
    z_comed = rng.normal(size=npat)
    z_class = {c: rng.normal(scale=1.5, size=npat) for c in list(COUNTED_CLASSES) + list(OTHER_CLASSES)}
    z_bridge = rng.normal(size=npat)

    route, bridge = _routes_and_bridges(rng, month, pix)
    switching = _route_switching(rng, month, route, pix, z_switch)
    schedule = _schedules(rng, month, route)
    morning = schedule != 2
    afternoon = schedule != 1
    dose = _dam_doses(rng, route, pix, z_dose, morning, afternoon)
    substituted = _substituted(rng, month)
    bridge_dose = _bridge_doses(rng, bridge, pix, z_bridge)
    # ---- bonus doses (Bergen)
    bonus_n, bonus_mg = _bonus(rng, plan, tables["patients"])

    # ---- co-medication
    comed, classes = _comedication(rng, month, route, pix, z_comed, z_class)

    frame = pd.DataFrame(
        {
            "patient_id": pd.array(pids, dtype="string"),
            "registration_month": pd.array(month, dtype="Int64"),
            "registration_date": pd.to_datetime(plan.registration_date),
            "dam_morning": pd.array(morning, dtype="boolean"),
            "dam_afternoon": pd.array(afternoon, dtype="boolean"),
            "dam_route": pd.array([ROUTES[r] if r >= 0 else pd.NA for r in route], dtype="string"),
            "route_changes_weekly": pd.array(
                [bool(s) if r >= 0 else pd.NA for s, r in zip(switching, route)], dtype="boolean"
            ),
            "dam_morning_dose_mg": pd.array(dose["am"], dtype="Float64"),
            "dam_afternoon_dose_mg": pd.array(dose["pm"], dtype="Float64"),
            "other_opioid_in_place_of_dam": pd.array(substituted, dtype="boolean"),
            "bridge_opioid": pd.array([BRIDGES[b] for b in bridge], dtype="string"),
            "bridge_dose_mg": pd.array(np.round(bridge_dose, 1), dtype="Float64"),
            "bonus_doses_per_week": pd.array(bonus_n, dtype="Int64"),
            "bonus_dose_mg": pd.array([v if v > 0 else pd.NA for v in bonus_mg], dtype="Float64"),
            "comedication": comed,
        }
    )
    for name in schema.COMEDICATION_CLASSES:
        frame[f"comedication_{name}"] = classes[name]
    return frame[schema.MEDICATION.columns]


def _routes_and_bridges(rng, month, pix) -> tuple[np.ndarray, np.ndarray]:
    """Each registration's route of the DAM dose (index into ``ROUTES``, -1 not recorded) and bridge opioid
    (index into ``BRIDGES``), month by month, each patient's state carried forward (Appendix 3's counts at
    one month and the next registration exactly)."""
    n = len(month)
    route = np.full(n, -1)  # index into ROUTES, -1: not recorded
    bridge = np.zeros(n, dtype=int)
    last_route: dict[int, int] = {}
    last_bridge: dict[int, int] = {}
    bridge_start = np.array([published(f"app3_bridge_{b}_1m_n") for b in BRIDGES], dtype=float)
    bridge_start /= bridge_start.sum()
    for m in MONTHS:
        idx = np.flatnonzero(month == m)
        if len(idx) == 0:
            continue
        probs = np.array([ROUTE_STEP[last_route[pix[i]]] if pix[i] in last_route else ROUTE_START for i in idx])
        counts = _route_counts(m)
        if counts is None:
            chosen = np.array([rng.choice(3, p=p) for p in probs])
            if m != NEXT_REGISTRATION:  # month 3 is a denominator: every route recorded
                chosen[rng.random(len(idx)) < 0.01] = -1
        else:
            weights = np.column_stack([probs, np.full(len(idx), 0.02)])
            counts = _fit_counts(counts + [max(len(idx) - sum(counts), 0)], len(idx))
            chosen = _exact_choice(rng, weights, counts)
            chosen[chosen == 3] = -1
        route[idx] = chosen
        for i, r in zip(idx, chosen):
            if r >= 0:
                last_route[pix[i]] = r
        # bridge opioid: persistent, sometimes switched
        stay = np.array([last_bridge.get(pix[i], -1) for i in idx])
        bprobs = np.tile(bridge_start, (len(idx), 1))
        has = stay >= 0
        bprobs[has] *= 0.06
        bprobs[np.flatnonzero(has), stay[has]] += 0.94
        if m == ONE_MONTH:
            bridge[idx] = _exact_choice(rng, bprobs, [round(published(f"app3_bridge_{b}_1m_n")) for b in BRIDGES])
        else:
            bridge[idx] = [rng.choice(len(BRIDGES), p=p / p.sum()) for p in bprobs]
        for i in idx:
            last_bridge[pix[i]] = bridge[i]
    return route, bridge


def _route_switching(rng, month, route, pix, z_switch) -> np.ndarray:
    """Whether the route changes several times a week (exactly Appendix 3's counts at one month and next)."""
    n = len(month)
    switching = np.zeros(n, dtype=bool)
    injecting = (route == 0) | (route == 1)
    p_switch = _sigmoid(-2.2 + 1.2 * z_switch[pix] + np.where(injecting, 0.4, -1.5))
    for m in MONTHS:
        idx = np.flatnonzero((month == m) & (route >= 0))
        if m == ONE_MONTH:
            switching[idx] = _exact_flags(rng, p_switch[idx], round(published("app3_route_switch_1m_n")))
        elif m == NEXT_REGISTRATION:
            switching[idx] = _exact_flags(rng, p_switch[idx], round(published("app3_route_switch_next3m_n")))
        else:
            switching[idx] = rng.random(len(idx)) < p_switch[idx]
    return switching


def _schedules(rng, month, route) -> np.ndarray:
    """DAM morning / afternoon: 0 both, 1 morning only, 2 afternoon only (exactly at one month), and every
    route with a registration without a morning and one without an afternoon dose."""
    n = len(month)
    schedule = np.zeros(n, dtype=int)
    for m in MONTHS:
        idx = np.flatnonzero(month == m)
        if m == ONE_MONTH:
            only = [round(published("app3_dam_am_only_1m_n")), round(published("app3_dam_pm_only_1m_n"))]
            schedule[idx] = _exact_choice(
                rng, np.tile([0.95, 0.025, 0.025], (len(idx), 1)), [max(len(idx) - sum(only), 0)] + only
            )
        else:
            schedule[idx] = rng.choice(3, size=len(idx), p=[0.95, 0.025, 0.025])
    # every route has a registration without a morning and one without an afternoon dose (dose 0 mg)
    for r in range(len(ROUTES)):
        for kind in (1, 2):
            if not ((route == r) & (schedule == kind)).any():
                pool = np.flatnonzero((route == r) & (schedule == 0) & (month != ONE_MONTH))
                if len(pool):
                    schedule[rng.choice(pool)] = kind
    return schedule


def _dam_doses(rng, route, pix, z_dose, morning, afternoon) -> dict[str, np.ndarray]:
    """DAM doses in mg, morning (``am``) and afternoon (``pm``), pooled per route and time of day to the
    published median and range (0 mg where the dose was not given)."""
    n = len(route)
    dose = {}
    noise = rng.normal(scale=DOSE_SPREAD_VISIT, size=(n, 2))
    for slot, (name, given) in enumerate((("am", morning), ("pm", afternoon))):
        values = np.zeros(n)
        for r, rname in enumerate(ROUTES):
            median, high = _dose_target(rname, name)
            rows = np.flatnonzero(route == r) if r else np.flatnonzero(route <= 0)  # unrecorded: like intravenous
            raw = _recentre(median * np.exp(z_dose[pix[rows]] + noise[rows, slot]), median)
            values[rows] = np.clip(np.round(raw / 10) * 10, 10, high)
        values[~given] = 0.0
        # pooled over the route, 0 mg registrations included: exactly the published median and maximum
        for r, rname in enumerate(ROUTES):
            median, high = _dose_target(rname, name)
            rows = np.flatnonzero(route == r)
            zero = values[rows] == 0
            fixed = _force_median_range(values[rows], median, None, high)
            fixed[zero] = 0.0
            values[rows] = fixed
        dose[name] = np.round(values, 1)
    return dose


def _substituted(rng, month) -> np.ndarray:
    """Another opioid in place of DAM: about 2.5% of registrations, the published fewest and most in a month."""
    n = len(month)
    substituted = rng.random(n) < 0.025
    most = round(published("app3_dam_substituted_n_max"))
    fewest = round(published("app3_dam_substituted_n_min"))
    present = [m for m in MONTHS if (month == m).any()]
    if present:
        sizes = {m: int((month == m).sum()) for m in present}
        busiest = max(present, key=lambda m: (sizes[m], -m))
        quietest = min(present, key=lambda m: (sizes[m], m))
        for m in present:
            idx = np.flatnonzero(month == m)
            want = most if m == busiest else fewest if m == quietest else min(int(substituted[idx].sum()), most - 1)
            want = min(want, len(idx))
            substituted[idx] = False
            substituted[rng.permutation(idx)[:want]] = True
    return substituted


def _bridge_doses(rng, bridge, pix, z_bridge) -> np.ndarray:
    """Bridge opioid doses in mg, per opioid to the published median and range."""
    n = len(bridge)
    bridge_dose = np.zeros(n)
    for b, bname in enumerate(BRIDGES):
        rows = np.flatnonzero(bridge == b)
        step, spread, zero_share, nonzero_median = BRIDGE_SHAPE[bname]
        median = published(f"app3_bridge_{bname}_dose_median_mg")
        high = published(f"app3_bridge_{bname}_dose_max_mg")
        low = published(f"app3_bridge_{bname}_dose_min_mg")
        centre = nonzero_median if nonzero_median is not None else median
        raw = _recentre(
            centre * np.exp(spread * (0.8 * z_bridge[pix[rows]] + 0.6 * rng.normal(size=len(rows)))), centre
        )
        values = np.clip(np.round(raw / step) * step, step, high)
        values[rng.random(len(rows)) < zero_share] = 0.0
        bridge_dose[rows] = _force_median_range(values, median, low, high)
    return bridge_dose


def _dose_target(route: str, slot: str) -> tuple[float, float]:
    """Published pooled median and maximum of the DAM dose for a route and time of day."""
    key = _ROUTE_KEY[route]
    if route == "intramuscular":
        median = published("app3_dam_im_am_pm_median_mg")
    else:
        median = published(f"app3_dam_{key}_{slot}_median_mg")
    if route == "oral":
        high = published("app3_dam_oral_am_pm_max_mg")
    else:
        high = published(f"app3_dam_{key}_{slot}_max_mg")
    return median, high


def _bonus(rng: np.random.Generator, plan: pd.DataFrame, patients: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Bonus doses per week and bonus dose (mg) per registration; see the module docstring."""
    n = len(plan)
    per_week = np.zeros(n, dtype=int)
    size = np.zeros(n)
    bergen = set(patients.loc[patients.clinic == "Bergen", "patient_id"])
    rows_of = {p: np.flatnonzero(plan.patient_id.to_numpy() == p) for p in sorted(bergen)}
    candidates = [p for p in sorted(rows_of) if len(rows_of[p])]
    if not candidates:
        return per_week, size
    total = min(round(published("app3_bonus_patients_n")), len(candidates))
    weight = np.array([len(rows_of[p]) for p in candidates], dtype=float)
    chosen = [candidates[i] for i in np.sort(_exact_flags(rng, weight / (weight.sum() + 1), total).nonzero()[0])]
    thrice = round(published("app3_bonus_thrice_weekly_n"))
    twice = round(published("app3_bonus_twice_weekly_n"))
    ceilings = np.array([3] * thrice + [2] * twice + [1] * max(total - thrice - twice, 0))[:total]
    ceilings = rng.permutation(ceilings)
    levels = np.array([20, 30, 40, 40, 40, 50, 60, 80])
    for pid, ceiling in zip(chosen, ceilings):
        rows = rows_of[pid]
        length = int(rng.integers(1, min(4, len(rows)) + 1))
        first = int(rng.integers(0, len(rows) - length + 1))
        period = rows[first : first + length]
        freq = np.ones(length, dtype=int)
        if ceiling > 1:
            extra = rng.random(length) < 0.25
            freq[extra] = rng.integers(1, ceiling + 1, size=int(extra.sum()))
            freq[int(rng.integers(0, length))] = ceiling
        per_week[period] = freq
        base = float(rng.choice(levels))
        size[period] = np.clip(base + 10 * rng.integers(-1, 2, size=length) * (rng.random(length) < 0.3), 20, 80)
    # once weekly is the most common frequency among registrations with bonus doses
    counts = np.bincount(per_week[per_week > 0], minlength=4)
    while counts[1] <= max(counts[2], counts[3]):
        mode = 2 if counts[2] >= counts[3] else 3
        # lower a registration that is not its patient's only one at the highest frequency
        for i in np.flatnonzero(per_week == mode):
            pid = plan.patient_id.iat[i]
            if (per_week[rows_of[pid]] == mode).sum() > 1:
                per_week[i] = 1
                break
        else:
            break
        counts = np.bincount(per_week[per_week > 0], minlength=4)
    given = np.flatnonzero(per_week > 0)
    size[given] = _force_median_range(
        size[given],
        published("app3_bonus_dose_median_mg"),
        published("app3_bonus_dose_min_mg"),
        published("app3_bonus_dose_max_mg"),
    )
    return per_week, size


def _comedication(rng, month, route, pix, z_comed, z_class):
    """``comedication`` and one flag column per class, as nullable booleans (see the module docstring)."""
    n = len(month)
    progress = np.minimum(month, 12) / 12
    later = np.maximum(month - 12, 0) / 36
    any_1m = published("app3_comed_any_1m_n") / max(1, int((month == ONE_MONTH).sum()))
    any_1y = published("app3_comed_any_1y_pct") / 100
    share = any_1m + (any_1y - any_1m) * progress + 0.03 * later
    p_any = _sigmoid(_logit(share) + 1.5 * z_comed[pix])
    recorded = rng.random(n) >= 0.02
    recorded[(month == ONE_MONTH) | (month == ONE_YEAR)] = True
    comed = rng.random(n) < p_any
    exact = {ONE_MONTH: "1m", ONE_YEAR: "1y"}
    for m, label in exact.items():
        idx = np.flatnonzero(month == m)
        comed[idx] = _exact_flags(rng, p_any[idx], round(published(f"app3_comed_any_{label}_n")))
    comed &= recorded
    flags = {}
    for cls, word in COUNTED_CLASSES.items():
        at_1m = published(f"app3_comed_{word}_1m_n") / published("app3_comed_any_1m_n")
        at_1y = published(f"app3_comed_{word}_1y_n") / published("app3_comed_any_1y_n")
        share = at_1m + (at_1y - at_1m) * progress
        bump = np.where(route == 0, 0.7, 0.0) if cls == "allergy" else 0.0
        p = _sigmoid(_logit(share) + z_class[cls][pix] + bump)
        flag = (rng.random(n) < p) & comed
        for m, label in exact.items():
            idx = np.flatnonzero((month == m) & comed)
            flag[np.flatnonzero(month == m)] = False
            flag[idx] = _exact_flags(rng, p[idx], round(published(f"app3_comed_{word}_{label}_n")))
        flags[cls] = flag
    for cls, rate in OTHER_CLASSES.items():
        p = _sigmoid(_logit(rate) + (0.0 if cls == "hepatitis_c" else z_class[cls][pix]))
        flags[cls] = (rng.random(n) < p) & comed
    # everyone on co-medication is on at least one class
    none = comed & ~np.any([flags[c] for c in flags], axis=0)
    fillers = ["antidepressant", "antipsychotic", "laxative", "antiepileptic", "analgesic"]
    fill_p = np.array([OTHER_CLASSES[c] for c in fillers])
    for i in np.flatnonzero(none):
        flags[fillers[rng.choice(len(fillers), p=fill_p / fill_p.sum())]][i] = True

    def as_nullable(values):
        return pd.array([bool(v) if r else pd.NA for v, r in zip(values, recorded)], dtype="boolean")

    return as_nullable(comed), {c: as_nullable(flags[c]) for c in schema.COMEDICATION_CLASSES}


# ------------------------------------------------------------------------------------ adverse events


def _event_counts(rng: np.random.Generator, patients: int, events: int) -> np.ndarray:
    """Events per patient with event(s), largest first, with exactly the published tail and total."""
    over_10 = round(published("s6_5_patients_over_10_events_n"))
    tail = []
    for low, high, key in EVENT_BANDS:
        k = round(published(key)) if key else over_10 - len(tail)
        tail += list(np.minimum(low + rng.geometric(0.25, size=max(k, 0)) - 1, high))
    tail = np.array(tail[:patients], dtype=int)
    rest = max(patients - len(tail), 0)
    low_counts = np.minimum(rng.geometric(0.3, size=rest), 10)
    need = events - tail.sum() - low_counts.sum()
    while need != 0 and rest:
        if need > 0:
            open_ = np.flatnonzero(low_counts < 10)
            if not len(open_):
                break
            low_counts[rng.choice(open_)] += 1
            need -= 1
        else:
            open_ = np.flatnonzero(low_counts > 1)
            if not len(open_):
                break
            low_counts[rng.choice(open_)] -= 1
            need += 1
    return np.sort(np.concatenate([tail, low_counts]))[::-1]


def _adverse_events(rng, tables, data_end, medication: pd.DataFrame) -> pd.DataFrame:
    episodes = tables["episodes"]
    spans = _spans(episodes, data_end)
    pids = sorted(spans)
    days = np.array([_treatment_days(spans[p]) for p in pids], dtype=float)
    with_events = min(round(published("s6_5_patients_with_sae_n")), len(pids))
    total = round(published("s6_5_sae_total"))
    chosen = np.flatnonzero(
        _exact_flags(rng, _sigmoid(_logit(0.78) + 0.8 * np.log(days / np.median(days))), with_events)
    )
    counts = _event_counts(rng, len(chosen), total)
    frailty = rng.gamma(1.5, size=len(chosen))
    rank = np.argsort(-(np.log(days[chosen]) + np.log(frailty)), kind="stable")
    per_patient = np.zeros(len(pids), dtype=int)
    per_patient[chosen[rank]] = counts

    # route profile of each patient from the medication registrations
    routes = medication.dropna(subset=["dam_route"]).groupby("patient_id").dam_route
    iv_share = routes.apply(lambda s: (s == "intravenous").mean()).to_dict()
    inj_share = routes.apply(lambda s: (s != "oral").mean()).to_dict()
    allergy = set(medication.loc[medication.comedication_allergy.fillna(False).astype(bool), "patient_id"])

    rows = []
    for i, pid in enumerate(pids):
        k = per_patient[i]
        if not k:
            continue
        spans_p = spans[pid]
        lengths = np.array([(end - start).days + 1 for start, end in spans_p], dtype=float)
        which = rng.choice(len(spans_p), size=k, p=lengths / lengths.sum())
        for j in which:
            start, end = spans_p[j]
            length = int(lengths[j])
            early = rng.exponential(60.0)
            offset = int(early) if rng.random() < 1 / 3 and early < length else int(rng.integers(0, length))
            rows.append((pid, start + pd.Timedelta(days=offset)))
    events = pd.DataFrame(rows, columns=["patient_id", "event_date"])

    base = np.array([published(f"s6_5_sae_{c}_n") for c in CATEGORIES])
    weights = np.tile(base / base.sum(), (len(events), 1))
    inj = events.patient_id.map(inj_share).fillna(0.9).to_numpy()
    iv = events.patient_id.map(iv_share).fillna(0.5).to_numpy()
    weights[:, 0] *= 0.4 + 0.8 * inj
    weights[:, 2] *= (0.3 + 1.2 * iv) * np.where(events.patient_id.isin(allergy), 2.0, 1.0)
    violent = dict(zip(pids, rng.gamma(2.0, 0.5, size=len(pids))))
    weights[:, 3] *= events.patient_id.map(violent).to_numpy()
    category = _exact_choice(rng, weights, base.astype(int))
    events["category"] = [CATEGORIES[c] for c in category]
    events = events.sort_values(["event_date", "patient_id", "category"], kind="stable").reset_index(drop=True)
    events.insert(0, "event_id", [f"A{i + 1:04d}" for i in range(len(events))])
    events["patient_id"] = events.patient_id.astype("string")
    events["category"] = events.category.astype("string")
    return events[schema.ADVERSE_EVENTS.columns]


# ------------------------------------------------------------------------------------------ interface


def generate(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], data_end: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """The tables ``adverse_events`` and ``medication``, from core's patients and episodes."""
    data_end = pd.Timestamp(data_end)
    medication = _medication(rng, tables, data_end)
    adverse_events = _adverse_events(rng, tables, data_end, medication)
    return {"adverse_events": adverse_events, "medication": medication}


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else float("nan")


def _outside(frame: pd.DataFrame, column: str, episodes: pd.DataFrame, data_end: pd.Timestamp) -> int:
    spans = _spans(episodes, data_end)
    return int(sum(not _inside(spans.get(p, []), d) for p, d in zip(frame.patient_id, frame[column])))


def _rule(key: str, achieved: float, description: str) -> Target:
    """A rule of the generated data that must hold exactly (not a published figure)."""
    return Target(key, achieved, target=0, tolerance=0, description=description)


def _part(key: str, part: str, achieved: float, description: str) -> Target:
    """The second half of a published figure that covers two quantities (e.g. morning and afternoon)."""
    return Target(f"{key} ({part})", achieved, target=published(key), tolerance=0.5, description=description)


def targets(tables: dict[str, pd.DataFrame]) -> list[Target]:
    """Calibration of adverse events (6.5) and medication registrations (Appendix 3, text on medication)."""
    return _event_targets(tables) + _medication_targets(tables)


SAE_PERCENT_REASON = (
    "The count is kept: on all participants, the denominator the report names, the printed count gives a "
    "share two points lower than printed (the printed share would need a denominator of 133 or 134)."
)
ROUTE_1M_REASON = (
    "The counts are kept: on the one-month registrations with a route (the sum of the three printed counts) "
    "the intravenous share rounds one point higher than printed; on all one-month registrations it would "
    "match, but then the intramuscular share would not, so no denominator fits all three shares."
)


def _event_targets(tables) -> list[Target]:
    events, patients = tables["adverse_events"], tables["patients"]
    per_patient = events.groupby("patient_id").size()
    n = len(events)
    data_end = pd.Timestamp(schema.STUDY_END)
    t = [
        Target("s6_5_sae_total", n, description="Serious adverse events (rows of adverse_events)"),
        Target("s6_5_patients_with_sae_n", len(per_patient), description="Patients with at least one event"),
        Target(
            "s6_5_patients_with_sae_percent",
            _pct(len(per_patient), len(patients)),
            description="Percent with at least one event of all patients of the cohort",
            reason=SAE_PERCENT_REASON,
        ),
        Target(
            "s6_5_patients_over_10_events_n",
            int((per_patient > 10).sum()),
            description="Patients with more than 10 events",
        ),
        Target(
            "s6_5_patients_over_20_events_n",
            int(((per_patient > 20) & (per_patient <= 30)).sum()),
            description="Patients with more than 20 and at most 30 events",
        ),
        Target(
            "s6_5_patients_over_30_events_n",
            int((per_patient > 30).sum()),
            description="Patients with more than 30 events",
        ),
    ]
    for c in CATEGORIES:
        k = int((events.category == c).sum())
        t.append(Target(f"s6_5_sae_{c}_n", k, description=f"Events of category '{c}'"))
        t.append(Target(f"s6_5_sae_{c}_percent", _pct(k, n), description=f"Percent of all events in category '{c}'"))
    outside = _outside(events, "event_date", tables["episodes"], data_end)
    t.append(
        _rule("adverse_event_dates_outside_episodes", outside, "Events dated outside every episode of the patient")
    )
    return t


def _medication_targets(tables) -> list[Target]:
    med, patients = tables["medication"], tables["patients"]
    at = {m: med[med.registration_month == m] for m in MONTHS}
    m1, m3, m12, m24 = at[ONE_MONTH], at[NEXT_REGISTRATION], at[ONE_YEAR], at[TWO_YEARS]
    return (
        _schedule_targets(at, m1)
        + _dose_targets(med)
        + _route_targets(m1, m3, m12, m24)
        + _bridge_targets(med, m1)
        + _bonus_targets(med, patients)
        + _comedication_targets(m1, m12)
        + _rule_targets(med, tables["episodes"])
    )


def _schedule_targets(at, m1) -> list[Target]:
    """DAM morning and afternoon at one month (denominator: all one-month registrations)."""
    am, pm = m1.dam_morning.fillna(False).astype(bool), m1.dam_afternoon.fillna(False).astype(bool)
    counts = {"am_pm": int((am & pm).sum()), "am_only": int((am & ~pm).sum()), "pm_only": int((~am & pm).sum())}
    words = {"am_pm": "morning and afternoon", "am_only": "the morning only", "pm_only": "the afternoon only"}
    t = []
    for part, k in counts.items():
        if part != "am_pm":
            t.append(
                Target(f"app3_dam_{part}_1m_n", k, description=f"One-month registrations with DAM in {words[part]}")
            )
        t.append(
            Target(
                f"app3_dam_{part}_1m_pct",
                _pct(k, len(m1)),
                description=f"Percent with DAM in {words[part]} of all one-month registrations",
            )
        )
    per_month = [int(at[m].other_opioid_in_place_of_dam.fillna(False).sum()) for m in MONTHS if len(at[m])]
    what = "registrations with another opioid in place of DAM, over the registration months that have registrations"
    t.append(Target("app3_dam_substituted_n_min", min(per_month), description=f"Fewest {what}"))
    t.append(Target("app3_dam_substituted_n_max", max(per_month), description=f"Most {what}"))
    return t


def _dose_targets(med) -> list[Target]:
    """DAM doses of all registrations pooled, by route (0 mg for a part of the day without DAM)."""
    t = []
    for route in ROUTES:
        key = _ROUTE_KEY[route]
        rows = med[med.dam_route == route]
        dose = {s: rows[f"dam_{w}_dose_mg"].dropna().astype(float) for s, w in (("am", "morning"), ("pm", "afternoon"))}
        word = {"am": "morning", "pm": "afternoon"}
        pooled = f"all registrations with route {route} pooled"
        if route == "intramuscular":
            both = "app3_dam_im_am_pm_median_mg"
            t.append(Target(both, dose["am"].median(), description=f"Median morning DAM dose, {pooled}"))
            t.append(_part(both, "afternoon", dose["pm"].median(), f"Median afternoon DAM dose, {pooled}"))
        else:
            for s in ("am", "pm"):
                t.append(
                    Target(
                        f"app3_dam_{key}_{s}_median_mg",
                        dose[s].median(),
                        description=f"Median {word[s]} DAM dose, {pooled}",
                    )
                )
        if route == "oral":
            both = pd.concat([dose["am"], dose["pm"]])
            for stat in ("min", "max"):
                k = f"app3_dam_oral_am_pm_{stat}_mg"
                description = f"{stat.capitalize()} of morning and afternoon DAM doses, {pooled}"
                t.append(Target(k, getattr(both, stat)(), description=description))
                for s in ("am", "pm"):
                    t.append(
                        _part(k, word[s], getattr(dose[s], stat)(), f"{stat.capitalize()} {word[s]} DAM dose, {pooled}")
                    )
        else:
            for s in ("am", "pm"):
                for stat in ("min", "max"):
                    value = getattr(dose[s], stat)()
                    description = f"{stat.capitalize()} {word[s]} DAM dose, {pooled}"
                    t.append(Target(f"app3_dam_{key}_{s}_{stat}_mg", value, description=description))
    return t


def _route_targets(m1, m3, m12, m24) -> list[Target]:
    """Routes and route changes (denominator: the registrations of that month with a route recorded)."""
    t = []
    for label, frame in (("1m", m1), ("1y", m12), ("2y", m24)):
        recorded = frame.dam_route.dropna()
        for route in ROUTES:
            key = f"app3_route_{_ROUTE_KEY[route]}_{label}"
            k = int((recorded == route).sum())
            t.append(Target(f"{key}_n", k, description=f"Registrations at {label} with route {route}"))
            t.append(
                Target(
                    f"{key}_pct",
                    _pct(k, len(recorded)),
                    description=f"Percent with route {route} of the {label} registrations with a route recorded",
                    reason=ROUTE_1M_REASON if key == "app3_route_iv_1m" else "",
                )
            )
    for key, frame, label in (("app3_route_switch_1m", m1, "one-month"), ("app3_route_switch_next3m", m3, "month-3")):
        flags = frame.route_changes_weekly.dropna().astype(bool)
        what = "route changes several times per week"
        t.append(Target(f"{key}_n", int(flags.sum()), description=f"{label.capitalize()} registrations with {what}"))
        t.append(
            Target(
                f"{key}_pct",
                _pct(flags.sum(), len(flags)),
                description=f"Percent with {what} of the {label} registrations with a route recorded",
            )
        )
    return t


def _bridge_targets(med, m1) -> list[Target]:
    """Bridge opioids at one month (denominator: one-month registrations with a bridge opioid), doses pooled."""
    t = []
    bridges = m1.bridge_opioid.dropna()
    for b in BRIDGES:
        k = int((bridges == b).sum())
        t.append(Target(f"app3_bridge_{b}_1m_n", k, description=f"One-month registrations with {b} as bridge opioid"))
        t.append(
            Target(
                f"app3_bridge_{b}_1m_pct",
                _pct(k, len(bridges)),
                description=f"Percent with {b} of the one-month registrations with a bridge opioid",
            )
        )
    for b in BRIDGES:
        values = med.loc[med.bridge_opioid == b, "bridge_dose_mg"].dropna().astype(float)
        for stat in ("median", "min", "max"):
            description = f"{stat.capitalize()} {b} bridge dose, all registrations pooled"
            t.append(Target(f"app3_bridge_{b}_dose_{stat}_mg", getattr(values, stat)(), description=description))
    return t


def _bonus_targets(med, patients) -> list[Target]:
    """Bonus doses (Bergen): frequencies, patients, dose over the registrations with bonus doses."""
    bonus = med[med.bonus_doses_per_week.fillna(0) > 0]
    per_week = bonus.bonus_doses_per_week.astype(float)
    highest = bonus.groupby("patient_id").bonus_doses_per_week.max()
    sizes = bonus.bonus_dose_mg.dropna().astype(float)
    bergen = set(patients.loc[patients.clinic == "Bergen", "patient_id"])
    with_bonus = "registrations with bonus doses"
    per = "whose highest number of bonus doses per week over their registrations"
    mode = float(per_week.mode().min()) if len(per_week) else float("nan")
    outside = int((~bonus.patient_id.isin(bergen)).sum())
    empty_dose = int((med.bonus_dose_mg.notna() != (med.bonus_doses_per_week.fillna(0) > 0)).sum())
    return [
        Target(
            "app3_bonus_freq_min_per_week",
            per_week.min(),
            description=f"Lowest bonus doses per week among {with_bonus}",
        ),
        Target(
            "app3_bonus_freq_max_per_week",
            per_week.max(),
            description=f"Highest bonus doses per week among {with_bonus}",
        ),
        Target(
            "app3_bonus_patients_n",
            bonus.patient_id.nunique(),
            description="Patients with bonus doses at some registration",
        ),
        Target(
            "app3_bonus_clinic_patients_n",
            len(bergen),
            description="Patients of the Bergen clinic (core's patients table)",
        ),
        Target("app3_bonus_twice_weekly_n", int((highest == 2).sum()), description=f"Patients {per} is 2"),
        Target("app3_bonus_thrice_weekly_n", int((highest == 3).sum()), description=f"Patients {per} is 3"),
        Target("app3_bonus_dose_median_mg", sizes.median(), description=f"Median bonus dose over {with_bonus}"),
        Target("app3_bonus_dose_min_mg", sizes.min(), description=f"Smallest bonus dose over {with_bonus}"),
        Target("app3_bonus_dose_max_mg", sizes.max(), description=f"Largest bonus dose over {with_bonus}"),
        Target(
            "bonus_most_common_per_week",
            mode,
            target=1,
            tolerance=0,
            description=f"Most common bonus doses per week among {with_bonus} (the report: once a week)",
        ),
        _rule(
            "bonus_doses_outside_bergen", outside, "Registrations with bonus doses of patients not at the Bergen clinic"
        ),
        _rule(
            "bonus_dose_without_bonus",
            empty_dose,
            "Registrations with a bonus dose but no bonus doses per week, or the reverse",
        ),
    ]


def _comedication_targets(m1, m12) -> list[Target]:
    """Co-medication: any (denominator: registrations of the month with co-medication recorded) and
    by class (denominator: those with co-medication)."""
    t = []
    for label, frame in (("1m", m1), ("1y", m12)):
        recorded = frame[frame.comedication.notna()]
        on = recorded[recorded.comedication.astype(bool)]
        t.append(
            Target(
                f"app3_comed_any_{label}_n", len(on), description=f"Registrations at {label} with regular co-medication"
            )
        )
        t.append(
            Target(
                f"app3_comed_any_{label}_pct",
                _pct(len(on), len(recorded)),
                description=f"Percent with co-medication of the {label} registrations with co-medication recorded",
            )
        )
        for cls, word in COUNTED_CLASSES.items():
            k = int(on[f"comedication_{cls}"].astype(bool).sum())
            t.append(
                Target(
                    f"app3_comed_{word}_{label}_n",
                    k,
                    description=f"Registrations at {label} with co-medication class {cls}",
                )
            )
            t.append(
                Target(
                    f"app3_comed_{word}_{label}_pct",
                    _pct(k, len(on)),
                    description=f"Percent with class {cls} of the {label} registrations with co-medication",
                )
            )
    return t


def _rule_targets(med, episodes) -> list[Target]:
    """Rules of the medication table: dates inside episodes; co-medication flags agree with comedication."""
    flags = med[[f"comedication_{c}" for c in schema.COMEDICATION_CLASSES]]
    off = med.comedication.eq(False).fillna(False).astype(bool)
    on = med.comedication.eq(True).fillna(False).astype(bool)
    any_class = flags.fillna(False).astype(bool).any(axis=1)
    bad = (flags.isna().any(axis=1) != med.comedication.isna()) | (off & any_class) | (on & ~any_class)
    outside = _outside(med, "registration_date", episodes, pd.Timestamp(schema.STUDY_END))
    return [
        _rule("medication_dates_outside_episodes", outside, "Registrations dated outside every episode of the patient"),
        _rule(
            "medication_comedication_flags_inconsistent",
            int(bad.sum()),
            "Registrations whose class flags are not empty exactly when comedication is, are true while "
            "comedication is false, or are all false while it is true",
        ),
    ]
