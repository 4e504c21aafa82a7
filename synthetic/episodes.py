"""The search for the treatment episodes (section 6.1, Table 6.C), the first table :mod:`synthetic.core` makes.

One row per treatment episode. The shape of the cohort is fixed first, then dates are drawn and
a local search moves them until every published count holds.

* Enrollment plan (Figure 6.A prints no numbers, so this is an assumption): admissions per year
  and clinic :data:`ENROLLMENTS`, of which :data:`READMISSIONS` are second episodes. Both clinics
  take in fewer patients after 2022 (Bergen's 13 of 2022 came in about ten months, so its monthly
  intake falls from 2022 to 2023 even though the yearly count stays level). Each clinic admits its
  first patient in its opening month (``table_3b_clinic_opening.csv``: Oslo January 2022, Bergen
  March 2022), and nobody earlier; admissions fall on weekdays, the last one at least 35 days
  before the data end. Patients in
  treatment at the end of each year, ``N(year) - admissions(year + 1)`` by Table 6.C, then rise
  from year to year (Figure 6.B), and :data:`OPEN_AT_END` patients per clinic are still in
  treatment on the last day of the data (76 in all).
* Discharges: 65 episodes end before the data end, 40 planned (35 transitions to OAT, 5 other
  agreed follow-up) and 25 unplanned. Time in treatment is ``discharge_date - admission_date`` in
  days; a month is 365.25 / 12 days. The discharges are split over the bands of section 6.1
  (within 6 months: up to 182 days; 6 to 12 months: 183 to 365 days; longer) by
  :data:`DISCHARGE_BANDS`; within a band, unplanned discharges are given shorter times than
  planned ones. The shortest time is 15 days and the longest 3.3 years (Summary of results); the
  median of the 65 (the 33rd) lies in 198-212 days, "just under 7 months".
* Re-admissions start in a later calendar year than the previous discharge and at least
  :data:`MIN_READMISSION_GAP_DAYS` after it; every second episode is still open at the data end.
* Calibration (a deterministic local search over admission dates, times in treatment and which
  episode gets which discharge): Table 6.C exactly, i.e. per clinic and year the number of distinct
  patients with at least one day in treatment and the patient-days, where **a patient-day is a
  calendar day inside an episode, the admission day and the discharge day both counted, an open
  episode running to the data end (31 December 2025)**; the mean time in treatment of discharged
  episodes (11 months); and Kaplan-Meier retention (:func:`synthetic.survival.kaplan_meier`), whose **unit is the
  patient's first episode, time from admission to discharge, an episode still open censored at the
  data end**: 65.7% at one year (365.25 days) and a median (first time the estimate falls below
  one half) of 2.5 years. Besides, enough patients are still in treatment 1, 12 and 24 calendar
  months after their first admission for the medication registrations Appendix 3 counts then
  (:func:`registrations_needed`; only two discharges come before one month).
* Not met on purpose (each Target carries its reason): the person-years of section 6.1, because
  Table 6.C's patient-days are kept and add up to far fewer years; and the shares leaving within 6,
  between 6 and 12 and after 12 months, and the unplanned share after 12 months, which no whole
  numbers of the 65 discharges can give together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data import schema
from synthetic.survival import km_fast
from synthetic.targets import published
from synthetic.units import CLINICS, MONTH_DAYS, YEAR_DAYS, YEARS

#: Admissions per clinic and year 2022-2025 (first episodes and re-admissions): the assumed Figure 6.A.
ENROLLMENTS = {"Oslo": (47, 19, 15, 12), "Bergen": (13, 13, 12, 10)}
#: Of the admissions above, re-admissions (second episodes), per clinic and year.
READMISSIONS = {"Oslo": (0, 1, 2, 1), "Bergen": (0, 0, 1, 0)}
#: Patients still in treatment on the last day of the data, per clinic (76 in all).
OPEN_AT_END = {"Oslo": 48, "Bergen": 28}
MIN_READMISSION_GAP_DAYS = 28

#: Discharges by band of time in treatment and type. Section 6.1's shares cannot all hold with 65
#: discharges (see synthetic.core.targets); this split is the nearest: 30/14/21 episodes, 18 of the 30 planned,
#: 5 of the 21 unplanned. Each entry: (band, type, count, shortest, longest time in days). The 6-12
#: month band is cut so that the median of all 65 (the 33rd, the 3rd of that band) falls in 198-212
#: days; only two stays are shorter than 35 days (one month).
DISCHARGE_BANDS = (
    ("within_6_months", "planned", 1, 15, 15),  # the shortest stay of the Summary of results
    ("within_6_months", "planned", 17, 45, 182),
    ("within_6_months", "unplanned", 1, 16, 34),  # with the shortest: the only stays under a month
    ("within_6_months", "unplanned", 11, 35, 150),
    ("6_to_12_months", "planned", 1, 183, 197),
    ("6_to_12_months", "unplanned", 1, 183, 197),
    ("6_to_12_months", "planned", 1, 198, 212),
    ("6_to_12_months", "planned", 4, 214, 365),
    ("6_to_12_months", "unplanned", 7, 214, 340),
    ("after_12_months", "planned", 1, 1205, 1205),  # the longest stay, 3.3 years
    ("after_12_months", "planned", 15, 366, 1200),
    ("after_12_months", "unplanned", 5, 366, 720),
)
#: Weights steering which episodes receive the planned and unplanned discharges, by (type, clinic,
#: admission year); default 1. Table 6.G's annualized costs put the unplanned terminations among the
#: cheapest patient-years (Oslo after 2022) and the planned ones slightly above the continued.
STEER_TYPES: dict[tuple[str, str, int], float] = {
    ("unplanned", "Bergen", 2022): 0.05,
    ("unplanned", "Bergen", 2023): 0.1,
    ("unplanned", "Bergen", 2024): 0.2,
    ("unplanned", "Bergen", 2025): 0.2,
    ("unplanned", "Oslo", 2022): 0.5,
}
#: Discharge reasons within each type (35 + 5 planned, 25 unplanned: mostly non-attendance or behaviour).
PLANNED_REASONS = {"transition_to_oat": 35, "agreed_other_follow_up": 5}
UNPLANNED_REASONS = {"non_attendance": 12, "behaviour_or_violence": 9, "other_unplanned": 4}


def _day(ts) -> int:
    return int((pd.Timestamp(ts) - pd.Timestamp(schema.STUDY_START)).days)


def registrations_needed() -> dict[int, int]:
    """Patients who must still be in treatment 1, 12 and 24 months after their first admission.

    Appendix 3 reports medication registrations at these times; their numbers (bridge opioids at one
    month, co-medication count over its share at one year, routes at two years) are the least number
    of patients the cohort must have in treatment then, for the medication registrations to exist.
    """
    one_month = sum(published(f"app3_bridge_{b}_1m_n") for b in schema.BRIDGE_OPIOIDS)
    one_year = published("app3_comed_any_1y_n") / published("app3_comed_any_1y_pct") * 100
    two_years = sum(published(f"app3_route_{r}_2y_n") for r in ("iv", "im", "oral"))
    return {1: round(one_month), 12: round(one_year), 24: round(two_years)}


def opening_days() -> dict[str, int]:
    """First day each clinic may admit: the first day of its opening month (Table 3.B)."""
    path = Path(__file__).resolve().parent.parent / "data" / "published" / "table_3b_clinic_opening.csv"
    opening = pd.read_csv(path).set_index("clinic")["opening_date"]
    return {c: max(0, _day(pd.Timestamp(str(opening[c]) + "-01"))) for c in CLINICS}


class EpisodeSearch:
    """The episodes as integer days since 1 January 2022, and the local search that calibrates them."""

    def __init__(self, rng: np.random.Generator, data_end: pd.Timestamp):
        self.rng = rng
        self.end = _day(data_end)
        self.weekday0 = schema.STUDY_START.weekday()  # 0 = Monday
        self.year_start = np.array([_day(f"{y}-01-01") for y in YEARS])
        self.year_end = np.minimum(np.array([_day(f"{y}-12-31") for y in YEARS]), self.end)
        self._ys, self._ye = self.year_start.tolist(), self.year_end.tolist()
        self.n_target = np.array([[published(f"t6c_{c.lower()}_{y}_n_patients") for y in YEARS] for c in CLINICS])
        self.d_target = np.array([[published(f"t6c_{c.lower()}_{y}_patient_days") for y in YEARS] for c in CLINICS])
        self.retention_target = published("s6_1_one_year_retention_percent") / 100
        self.median_target = published("s6_1_median_retention_years") * YEAR_DAYS
        self.mean_target = published("s6_1_mean_months_in_treatment")

        self._admission_slots(rng)
        m = len(self.adm)
        # outcomes: one per discharge, (band index, type, lo, hi)
        outcomes = []
        for band, kind, count, lo, hi in DISCHARGE_BANDS:
            outcomes += [(band, kind, lo, hi)] * count
        self.outcomes = outcomes
        self.out = np.full(m, -1)  # outcome index of each episode, -1 while open
        self.dur = np.zeros(m, dtype=int)
        self.locked = self.second.copy()  # second episodes stay open
        self.prev = np.full(m, -1)
        self.next = np.full(m, -1)
        free = list(range(len(outcomes)))
        rng.shuffle(free)

        self._pair_readmissions(rng, free)
        self._place_discharges(rng, free)
        self.first = ~self.second
        self.n_discharged = len(outcomes)
        # days from each possible admission day to the same date 1, 12 and 24 calendar months later
        calendar = pd.date_range(schema.STUDY_START, periods=self.end + 1, freq="D")
        self.need = registrations_needed()
        self.offset = {k: np.asarray((calendar + pd.DateOffset(months=k) - calendar).days) for k in self.need}

    def _admission_slots(self, rng: np.random.Generator) -> None:
        """The admissions of :data:`ENROLLMENTS`: clinic, year, whether a re-admission, the window of each
        (its year, after the clinic's opening, the first in the opening month, the last 35 days before the
        data end), and a weekday drawn in it."""
        opening = opening_days()
        # admission slots: clinic, year, whether a re-admission
        clinic, year, readm = [], [], []
        for ci, c in enumerate(CLINICS):
            for yi in range(len(YEARS)):
                for k in range(ENROLLMENTS[c][yi]):
                    clinic.append(ci)
                    year.append(yi)
                    readm.append(k < READMISSIONS[c][yi])
        self.clinic = np.array(clinic)
        self.year = np.array(year)
        self.second = np.array(readm)
        m = len(clinic)
        self.adm_lo = np.array([max(self.year_start[y], opening[CLINICS[c]]) for c, y in zip(clinic, year)])
        self.adm_hi = self.year_end[self.year].copy()
        # the last admissions come at least 35 days before the data end (a one-month registration)
        self.adm_hi = np.minimum(self.adm_hi, self.end - 35)
        # each clinic admits its first patient in its opening month (Oslo January 2022, Bergen March 2022)
        for ci, c in enumerate(CLINICS):
            k = int(np.nonzero((self.clinic == ci) & (self.year == 0))[0][-1])
            self.adm_hi[k] = _day(
                pd.Timestamp(schema.STUDY_START) + pd.Timedelta(days=opening[c]) + pd.offsets.MonthEnd(0)
            )
        # admissions drawn within their year (2022 slightly towards the start: the clinics filled up)
        u = rng.random(m)
        u = np.where(self.year == 0, u**1.3, u)
        self.adm = np.array(
            [
                self._weekday(int(x), lo, hi)
                for x, lo, hi in zip(self.adm_lo + u * (self.adm_hi - self.adm_lo), self.adm_lo, self.adm_hi)
            ]
        )

    def _pair_readmissions(self, rng: np.random.Generator, free: list[int]) -> None:
        """Each re-admission paired with a first episode of its clinic admitted and discharged (a short stay
        taken from ``free``) the year before, at least :data:`MIN_READMISSION_GAP_DAYS` before it."""
        outcomes = self.outcomes
        # pair each re-admission with a first episode of the same clinic admitted and discharged the year before
        for e in np.nonzero(self.second)[0]:
            cands = np.nonzero(
                (self.clinic == self.clinic[e]) & (self.year == self.year[e] - 1) & ~self.second & (self.next < 0)
            )[0]
            f = int(rng.choice(cands))
            short = [o for o in free if outcomes[o][0] == "within_6_months" and outcomes[o][2] >= 35]
            o = short[int(rng.integers(len(short)))]
            free.remove(o)
            lo, hi = outcomes[o][2], outcomes[o][3]
            d = int(rng.integers(lo, hi + 1))
            # first admission early enough in its year to be discharged that year
            self.adm[f] = self._weekday(
                int(self.adm_lo[f] + rng.random() * max(0, self.adm_hi[f] - d - 3 - self.adm_lo[f])),
                self.adm_lo[f],
                self.adm_hi[f],
            )
            self.out[f], self.dur[f] = o, d
            gap_from = max(self.adm[f] + d + MIN_READMISSION_GAP_DAYS, self.adm_lo[e])
            self.adm[e] = self._weekday(int(rng.integers(gap_from + 2, self.adm_hi[e] + 1)), gap_from, self.adm_hi[e])
            self.prev[e], self.next[f] = f, e
            self.locked[f] = True

    def _place_discharges(self, rng: np.random.Generator, free: list[int]) -> None:
        """The other discharges (``free``), longest first, each to a random open episode and a year that can
        take it, where Table 6.C still needs a discharge, the types steered by :data:`STEER_TYPES`."""
        outcomes = self.outcomes
        # discharges per clinic and year implied by Table 6.C: those in treatment on 1 January of
        # year y + 1 are N(y + 1) - admissions(y + 1), so X(y) = N(y) - that; X(last) = N(last) - open
        plan = {}
        for ci, c in enumerate(CLINICS):
            for yi in range(len(YEARS)):
                after = self.n_target[ci, yi + 1] - ENROLLMENTS[c][yi + 1] if yi + 1 < len(YEARS) else OPEN_AT_END[c]
                plan[ci, yi] = int(self.n_target[ci, yi] - after)
        for f in np.nonzero(self.next >= 0)[0]:
            plan[int(self.clinic[f]), int(self.year[f])] -= 1
        # the other discharges, longest first, each to a random episode and year that can take it
        for o in sorted(free, key=lambda o: -outcomes[o][2]):
            lo, hi = outcomes[o][2], outcomes[o][3]
            options = []
            for e in np.nonzero((self.out < 0) & ~self.locked)[0]:
                a = int(self.adm[e])
                for yi in range(int(self.year[e]), len(YEARS)):
                    first = max(a + lo, self._ys[yi])
                    last = min(a + hi, self._ye[yi], self.end - 1)
                    if first <= last:
                        options.append((e, first - a, last - a, yi))
            # a year the plan still needs, if any can take it (else the search repairs the count)
            wanted = [x for x in options if plan[int(self.clinic[x[0]]), x[3]] > 0] or options
            if not wanted:
                continue
            # steer the discharge types by clinic and admission year (Tables 6.D-6.G, see STEER_TYPES)
            kind = outcomes[o][1]
            w = np.array(
                [
                    STEER_TYPES.get((kind, CLINICS[int(self.clinic[x[0]])], YEARS[int(self.year[x[0]])]), 1.0)
                    for x in wanted
                ]
            )
            e, d_lo, d_hi, yi = wanted[int(rng.choice(len(wanted), p=w / w.sum()))]
            self.out[e], self.dur[e] = o, int(rng.integers(d_lo, d_hi + 1))
            plan[int(self.clinic[e]), yi] -= 1
            free.remove(o)
        if free:
            raise RuntimeError("could not place every discharge")

    def _clinic_years(self):
        """Each episode's days in treatment per year (:meth:`_row`), and per clinic and year the patient-days
        and the patients with a day in treatment (the cells of Table 6.C)."""
        clinic = self.clinic.tolist()
        rows = [self._row(e) for e in range(len(self.adm))]
        days = [[0] * 4 for _ in CLINICS]
        npat = [[0] * 4 for _ in CLINICS]
        for e in range(len(self.adm)):
            for y in range(4):
                days[clinic[e]][y] += rows[e][y]
                npat[clinic[e]][y] += rows[e][y] > 0
        return rows, days, npat

    def _first_episodes(self):
        """Kaplan-Meier's data: the position of each first episode, its time (to discharge, or to the data
        end while open) and whether it ended in a discharge."""
        first_idx = np.nonzero(self.first)[0]
        pos = {int(e): k for k, e in enumerate(first_idx)}
        times = np.where(self.out < 0, self.end - self.adm, self.dur)[first_idx].astype(float)
        events = (self.out >= 0)[first_idx]
        return pos, times, events

    def _proposal(self, u, m, clinic, same_clinic, unlocked):
        """The episodes one step of :meth:`run` changes, read from its uniforms ``u``: ``(e, g, touched,
        hands)`` (``g`` the second episode of a pair, ``hands`` which end of each moves when two episodes of a
        clinic trade days), or None when the draw gives no valid change."""
        r = u[0]
        g, hands = None, None
        if r < 0.6:
            e = int(u[4] * m)
            if r >= 0.25 and self.out[e] < 0:
                return None
            touched = [e]
        elif r < 0.85:  # one episode gains the days another of its clinic loses, in the same year
            e = int(u[4] * m)
            pool = same_clinic[clinic[e]]
            g = int(pool[int(u[2] * len(pool))])
            if g == e:
                return None
            hands = []
            for x, v in ((e, u[5]), (g, u[6])):
                at_end = self.out[x] >= 0 and v < 0.5
                hands.append(at_end)
                day = self.adm[x] + self.dur[x] if at_end else self.adm[x]
                if x == e:
                    year_e = np.searchsorted(self.year_start, day, side="right")
                elif np.searchsorted(self.year_start, day, side="right") != year_e:
                    hands = None
                    break
            if hands is None:
                return None
            touched = [e, g]
        else:
            e = int(u[4] * m)
            if self.locked[e]:
                return None
            pool = unlocked[clinic[e]]
            g = int(pool[int(u[2] * len(pool))])
            if g == e or (self.out[e] < 0 and self.out[g] < 0):
                return None
            touched = [e, g]
        return e, g, touched, hands

    def _move(self, r, delta, e, g, touched, hands) -> None:
        """Apply one step's change (its kind read from ``r``) by ``delta`` days."""
        if r < 0.25:  # move an episode, keeping its length
            self.adm[e] += delta
        elif r < 0.45:  # change the length of a discharged episode
            self.dur[e] += delta
        elif r < 0.6:  # move the admission, keeping the discharge date
            self.adm[e] += delta
            self.dur[e] -= delta
        elif r < 0.85:
            for x, at_end, sign in zip(touched, hands, (1, -1)):
                if at_end:
                    self.dur[x] += sign * delta
                else:
                    self.adm[x] -= sign * delta
                    if self.out[x] >= 0:
                        self.dur[x] += sign * delta
        else:  # exchange the discharges (or discharge and open status) of two episodes of a clinic
            self.out[e], self.out[g] = self.out[g], self.out[e]
            self.dur[e], self.dur[g] = self.dur[g], self.dur[e]
            for x in touched:
                o = self.out[x]
                if o >= 0:
                    lo, hi = self.outcomes[o][2], self.outcomes[o][3]
                    self.dur[x] = min(max(self.dur[x], lo), hi, self.end - 1 - self.adm[x])

    def _weekday(self, day: int, lo: int, hi: int) -> int:
        """The day itself if a weekday, else the nearest weekday within [lo, hi] (admissions on weekdays)."""
        for step in (0, -1, 1, -2, 2):
            d = day + step
            if lo <= d <= hi and (d + self.weekday0) % 7 < 5:
                return d
        raise RuntimeError("no weekday to admit on")

    # ---- constraints and cost ------------------------------------------------------------------

    def _ok(self, e: int) -> bool:
        a = self.adm[e]
        if a < self.adm_lo[e] or a > self.adm_hi[e] or (a + self.weekday0) % 7 >= 5:
            return False
        o = self.out[e]
        if o >= 0:
            lo, hi = self.outcomes[o][2], self.outcomes[o][3]
            d = self.dur[e]
            if d < lo or d > hi or a + d > self.end - 1:
                return False
            n = self.next[e]
            if n >= 0 and (a + d + MIN_READMISSION_GAP_DAYS > self.adm[n] or a + d >= self.year_start[self.year[n]]):
                return False
        p = self.prev[e]
        if p >= 0 and not self._ok(p):
            return False
        return True

    def _row(self, e: int) -> list[int]:
        """Days in treatment of episode e in each year."""
        a = int(self.adm[e])
        stop = self.end if self.out[e] < 0 else a + int(self.dur[e])
        return [max(0, min(stop, ye) - max(a, ys) + 1) for ys, ye in zip(self._ys, self._ye)]

    def _km_cost(self, one_year: float, median: float) -> float:
        c = 1e5 * max(0.0, abs(one_year - self.retention_target) - 0.0003)
        return c + (10.0 * max(0.0, abs(median - self.median_target) - 12) if median == median else 1e4)

    def _mean_cost(self, total_days: int) -> float:
        months = total_days / self.n_discharged / MONTH_DAYS
        return 2000.0 * max(0.0, abs(months - self.mean_target) - 0.3)

    # ---- the search -----------------------------------------------------------------------------

    def run(
        self,
        max_steps: int = 25000,
        temperature: float = 20.0,
        stall: int = 5000,
        heat_steps: int = 3000,
        give_up: int = 10000,
    ) -> float:
        """Greedy local search: propose a small change, keep it unless the cost grows.

        When no change has helped for ``stall`` steps, worse states are accepted for ``heat_steps``
        steps (with a tolerance falling from ``temperature``); after ``give_up`` steps without a new
        best state the search stops and returns the remaining cost."""
        rng = self.rng
        m = len(self.adm)
        clinic = self.clinic.tolist()
        rows, days, npat = self._clinic_years()
        dt, nt = self.d_target.astype(int).tolist(), self.n_target.astype(int).tolist()
        months = list(self.need)
        offset = {k: self.offset[k].tolist() for k in months}
        need = [self.need[k] for k in months]

        def covered(e):  # whether the patient of first episode e is in treatment 1, 12, 24 months on
            if self.second[e]:
                return [0] * len(months)
            a = int(self.adm[e])
            stop = self.end if self.out[e] < 0 else a + int(self.dur[e])
            n = self.next[e]  # a re-admission runs to the data end
            again = int(self.adm[n]) if n >= 0 else self.end + 1
            return [int(a + offset[k][a] <= stop or again <= a + offset[k][a] <= self.end) for k in months]

        cover = [covered(e) for e in range(m)]
        cov = [sum(c[i] for c in cover) for i in range(len(months))]

        def table_cost():
            c = sum(abs(days[c][y] - dt[c][y]) + 300 * abs(npat[c][y] - nt[c][y]) for c in range(2) for y in range(4))
            return c + 300 * sum(max(0, n - k) for n, k in zip(need, cov))

        pos, times, events = self._first_episodes()
        total = int(self.dur[self.out >= 0].sum())
        km = self._km_cost(*km_fast(times, events))
        base = table_cost() + self._mean_cost(total)
        cost = base + km
        unlocked = [np.nonzero((self.clinic == c) & ~self.locked)[0] for c in range(len(CLINICS))]
        same_clinic = [np.nonzero(self.clinic == c)[0] for c in range(len(CLINICS))]
        batch = rng.random((max_steps, 8))
        improved, heat_until = 0, -1
        best_cost, best_step = cost, 0
        for step in range(max_steps):
            if cost <= 0 or step - best_step > give_up:
                break
            u = batch[step]
            # when the search stalls, a short spell of annealing lets it leave the dead end
            if step - improved > stall:
                heat_until, improved = step + heat_steps, step
            slack = (
                temperature * (heat_until - step) / heat_steps * -np.log(u[7] * 0.999 + 0.001)
                if step < heat_until
                else 0.0
            )
            r = u[0]
            scale = 3 if u[1] < 0.5 else (30 if u[1] < 0.85 else 120)
            delta = (1 + int(u[2] * scale)) * (1 if u[3] < 0.5 else -1)
            proposal = self._proposal(u, m, clinic, same_clinic, unlocked)
            if proposal is None:
                continue
            e, g, touched, hands = proposal
            old = [(x, int(self.adm[x]), int(self.dur[x]), int(self.out[x])) for x in touched]
            self._move(r, delta, e, g, touched, hands)
            if all(self._ok(x) for x in touched):
                new_rows = {x: self._row(x) for x in touched}
                firsts = {int(self.prev[x]) if self.second[x] else x for x in touched}
                new_cover = {x: covered(x) for x in firsts}
                for x in firsts:
                    for i in range(len(months)):
                        cov[i] += new_cover[x][i] - cover[x][i]
                for x in touched:
                    c = clinic[x]
                    for y in range(4):
                        days[c][y] += new_rows[x][y] - rows[x][y]
                        npat[c][y] += (new_rows[x][y] > 0) - (rows[x][y] > 0)
                new_total = total + sum(
                    (int(self.dur[x]) if self.out[x] >= 0 else 0) - (d if o >= 0 else 0) for x, _, d, o in old
                )
                new_base = table_cost() + self._mean_cost(new_total)
                new_km = km
                if new_base <= cost + slack:
                    for x in touched:
                        if x in pos:
                            k = pos[x]
                            opened = self.out[x] < 0
                            times[k] = self.end - self.adm[x] if opened else self.dur[x]
                            events[k] = not opened
                    new_km = self._km_cost(*km_fast(times, events))
                if new_base + new_km <= cost + slack:
                    if new_base + new_km < cost:
                        improved = step
                    if new_base + new_km < best_cost:
                        best_cost, best_step = new_base + new_km, step
                    cost, base, km, total = new_base + new_km, new_base, new_km, new_total
                    for x in touched:
                        rows[x] = new_rows[x]
                    for x in firsts:
                        cover[x] = new_cover[x]
                    continue
                for x in firsts:  # undo the aggregates
                    for i in range(len(months)):
                        cov[i] -= new_cover[x][i] - cover[x][i]
                for x in touched:
                    c = clinic[x]
                    for y in range(4):
                        days[c][y] -= new_rows[x][y] - rows[x][y]
                        npat[c][y] -= (new_rows[x][y] > 0) - (rows[x][y] > 0)
            for x, a, d, o in old:
                self.adm[x], self.dur[x], self.out[x] = a, d, o
                if x in pos:
                    k = pos[x]
                    times[k] = self.end - a if o < 0 else d
                    events[k] = o >= 0
        return cost


def daily_capacity(days: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Each clinic's capacity on each of ``days`` (section 6.1): Oslo its final capacity throughout; Bergen its
    initial capacity in 2022, its intermediate one until November 2024, then its final one."""
    return {
        "Oslo": np.full(len(days), published("s6_1_capacity_oslo_final")),
        "Bergen": np.where(
            days.year == 2022,
            published("s6_1_capacity_bergen_initial"),
            np.where(
                days < pd.Timestamp("2024-11-01"),
                published("s6_1_capacity_bergen_intermediate"),
                published("s6_1_capacity_bergen_final"),
            ),
        ),
    }


def census_ok(search: EpisodeSearch) -> bool:
    """Whether the daily census of each clinic stays within its capacity of the time (as the target
    ``census_within_capacity`` checks it)."""
    days = pd.date_range(schema.STUDY_START, schema.STUDY_END, freq="D")
    capacity = daily_capacity(days)
    limits = {0: capacity["Oslo"], 1: capacity["Bergen"]}
    for c in (0, 1):
        delta = np.zeros(len(days) + 1, int)
        for e in np.flatnonzero(search.clinic == c):
            delta[search.adm[e]] += 1
            if search.out[e] >= 0:
                delta[search.adm[e] + search.dur[e]] -= 1
        if (np.cumsum(delta)[: len(days)] > limits[c]).any():
            return False
    return True
