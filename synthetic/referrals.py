"""Referrals to the two HAT clinics: the table ``referrals`` (Appendix 5, Supplementary Tables E-H, 6.6).

Every count the report publishes about referrals is reproduced exactly (read from the ledger); means,
standard errors and percentages round to the printed figures. Each step draws at random and then
adjusts deterministically until the published counts hold:

1. **The cohort's referrals.** Each cohort patient is one referred person with an accepted referral
   at the clinic of the first admission, 0-120 days before it: a lag drawn from a gamma distribution
   (shape 2, scale 20 days), never before the clinic opened (``table_3b_clinic_opening.csv``). A
   patient admitted a second time also gets an accepted referral between discharge and re-admission.
   Where a year would hold more accepted referrals than Supplementary Table F leaves (referrals minus
   denials), patients admitted early in the next year get a lag that puts the referral in the year
   before.
2. **Cohort patients denied first.** A few Oslo patients admitted after the admission pause were
   first denied during it; a few others (either clinic) were denied once or twice, 30 days to 18 months
   before the accepted referral, for a reason that can change (own request, not attending the
   assessment, new OAT medication, other treatment tried first, other).
3. **The other persons.** The rest of the 224 persons (``s6_6_referred_patients``) never started HAT
   in the evaluation (accepted but not started, or denied). Numbers of referrals per person follow
   6.6: 39 persons with two, 8 with three or more (the surplus of the 280 referrals goes to one person
   with four), the rest one; a person's referrals go to one clinic. Their clinics and decisions fill
   Supplementary Table E (180 Oslo, 100 Bergen; 71 and 36 denied); persons referred several times are
   denied more often.
4. **Admission pauses and dates.** Each clinic has one pause, placed where it admitted the fewest
   cohort patients: in Oslo six months across the turn of 2022/2023, in Bergen three months in 2022.
   Denials for ``admission_pause`` fall inside it, the published 71% in the first year and the rest in
   2023. The other referrals get years that complete the yearly referrals and denials of Supplementary
   Table F, and a uniform day in the year (Bergen from its opening; accepted ones outside the pause;
   a person's referrals at least 30 days apart).
5. **Sex.** Cohort persons keep the patient's sex. The other persons' sexes give the male referrals of
   Supplementary Table E by clinic and by decision (135 Oslo, 75 Bergen; 132 accepted, 78 denied),
   and among persons the male share also rounds to the 75% of 6.6.
6. **Age.** A person's age at each referral follows from the dates (whole years). For a cohort
   patient it is the whole years of age at first admission, or one less when the referral came before
   the last birthday; a few lags are moved across the birthday so that the cohort's accepted referrals
   get the published accepted mean and no more than its spread. The other persons: extreme ages are
   pinned to the minima and maxima of every column of Table E; persons referred several times get a
   normal age near what their clinic needs; the ages of persons referred once are solved per cell
   (clinic x decision): targets for each cell's sum and sum of squares that make every mean exact and
   every SE (SD/sqrt(n), SD with n-1) fall on its printed value, then a normal draw corrected by one-year
   moves (a few redraws when a correction falls short).
7. **Type, referrer, denial reason.** Referrers are dealt per clinic in the counts of Supplementary
   Table G; referrals from OAT services (``specialist_oat``, ``low_threshold_oat``, an addiction/OAT
   service of another trust) are secondary, and the remaining secondary referrals of Table E come from
   other referrers; patients still on OAT at admission (``previous_oat``) are preferred for secondary
   referrals, patients never on OAT for primary ones. Denial reasons are dealt per clinic in the counts
   of Supplementary Table H.

Where the report contradicts itself (errata appendix), counts are reproduced and the contradicting
percentage carries a ``reason``; so does a Table E minimum age that a cohort patient's age makes
impossible. :func:`targets` also checks the link to the cohort (every patient has a matching accepted
referral) and the rules of dates, persons and pauses.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from analysis.data import schema
from synthetic.search import reach_sum, steepest
from synthetic.targets import Target, ledger, published
from synthetic.units import CLINICS, YEARS

#: The tables of earlier modules that :func:`generate` reads, the tables it makes, and whether it starts
#: worker processes of its own (see :func:`synthetic.__main__.generate`).
READS = ("patients", "episodes", "previous_oat")
MAKES = ("referrals",)
STARTS_WORKERS = False

_TAG = {"Oslo": "oslo", "Bergen": "bergen", "all": "all"}
OPENING_FILE = Path(__file__).resolve().parent.parent / "data" / "published" / "table_3b_clinic_opening.csv"

#: Referrers counted as conventional OAT services: their referrals are secondary.
OAT_REFERRERS = ("specialist_oat", "low_threshold_oat", "specialist_addiction_other_trust")
#: Denial reasons after which a later referral of the same person may be accepted.
REVERSIBLE_REASONS = (
    "patient_own_request",
    "not_attended_assessment",
    "new_medications_in_oat",
    "other_treatment_more_suitable",
    "other",
)
MAX_LAG_DAYS = 120
#: Cohort persons with one (and with two) denied referrals before the accepted one, besides the pause.
COHORT_EARLIER_DENIED = 8
COHORT_TWICE_DENIED = 2
#: Oslo cohort persons first denied during the admission pause, then referred again and admitted.
COHORT_PAUSE_DENIED = 6
MIN_GAP_DAYS = 30
#: Referrals of persons referred once kept in each clinic and decision (free ages for calibration).
MIN_SINGLES = 10


# --------------------------------------------------------------------------------------------------
# Published inputs


def _pub(key: str, default: float = 0.0) -> float:
    return published(key) if key in ledger().index else default


def _n(key: str) -> int:
    return int(round(_pub(key)))


@lru_cache(maxsize=1)
def _openings() -> Mapping[str, pd.Timestamp]:
    table = pd.read_csv(OPENING_FILE)
    return MappingProxyType({row.clinic: pd.Timestamp(f"{row.opening_date}-01") for row in table.itertuples()})


def _opening(clinic: str) -> pd.Timestamp:
    return max(_openings()[clinic], pd.Timestamp(schema.STUDY_START))


def _plan() -> dict:
    """The published counts the table must reproduce."""
    plan = {
        "n": {c: _n(f"ste_clinic_{_TAG[c]}_referrals_n") for c in CLINICS},
        "male": {c: _n(f"ste_clinic_{_TAG[c]}_male_n") for c in CLINICS},
        "secondary": {c: _n(f"ste_clinic_{_TAG[c]}_secondary_n") for c in CLINICS},
        "denied": {c: _n(f"ste_clinic_{_TAG[c]}_not_included_n") for c in CLINICS},
        "male_accepted": _n("ste_incl_included_male_n"),
        "male_denied": _n("ste_incl_not_included_male_n"),
        "year_referrals": {y: _n(f"stf_{y}_referrals_n") for y in YEARS},
        "year_denials": {y: _n(f"stf_{y}_denials_n") for y in YEARS},
        "referrers": {c: {r: _n(f"stg_{_TAG[c]}_{r}_n") for r in schema.REFERRERS} for c in CLINICS},
        "reasons": {c: {r: _n(f"sth_{_TAG[c]}_{r}_n") for r in schema.DENIAL_REASONS} for c in CLINICS},
        "persons": _n("s6_6_referred_patients"),
        "two": _n("s6_6_patients_two_referrals"),
        "three_plus": _n("s6_6_patients_three_plus_referrals"),
    }
    pauses = sum(plan["reasons"][c]["admission_pause"] for c in CLINICS)
    share = _pub("s6_6_admission_pause_first_year_percent")
    # the whole number of first-year pause denials whose share rounds to the published percent
    plan["pause_first_year"] = min(range(pauses + 1), key=lambda k: abs(100 * k / pauses - share))
    plan["age"] = {}
    for group, prefix in (
        ("Oslo", "ste_clinic_oslo"),
        ("Bergen", "ste_clinic_bergen"),
        ("accepted", "ste_incl_included"),
        ("denied", "ste_incl_not_included"),
        ("all", "ste_clinic_all"),
    ):
        plan["age"][group] = {s: _pub(f"{prefix}_age_{s}") for s in ("mean", "se", "min", "max")}
    return plan


# --------------------------------------------------------------------------------------------------
# Helpers


def _day(rng: np.random.Generator, start: pd.Timestamp, end: pd.Timestamp) -> pd.Timestamp:
    """A uniform random day in [start, end]."""
    span = max(int((end - start).days), 0)
    return start + pd.Timedelta(days=int(rng.integers(0, span + 1)))


def _year_span(year: int, clinic: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return max(pd.Timestamp(f"{year}-01-01"), _opening(clinic)), pd.Timestamp(f"{year}-12-31")


def _pause_windows(first_admission: pd.DataFrame) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """One admission pause per clinic, where the clinic admitted the fewest cohort patients.

    Oslo: six months across the turn of 2022/2023 (its pause denials fall in both years); Bergen: three
    months in 2022, from three months after opening.
    """
    windows = {}
    for clinic, starts, months in (
        ("Oslo", pd.date_range("2022-08-01", "2022-12-01", freq="MS"), 6),
        ("Bergen", pd.date_range(_opening("Bergen") + pd.DateOffset(months=3), "2022-10-01", freq="MS"), 3),
    ):
        dates = first_admission.loc[first_admission.clinic == clinic, "admission_date"]
        best = None
        for start in starts:
            end = start + pd.DateOffset(months=months) - pd.Timedelta(days=1)
            inside = int(((dates >= start) & (dates <= end)).sum())
            if best is None or inside < best[0]:
                best = (inside, start, end)
        windows[clinic] = (best[1], best[2])
    return windows


# --------------------------------------------------------------------------------------------------
# Generation


def generate(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], data_end: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """The referrals table, calibrated to Appendix 5 and 6.6 and linked to the cohort's patients."""
    plan = _plan()
    patients = tables["patients"].reset_index(drop=True)
    episodes = tables["episodes"].sort_values(["patient_id", "admission_date"])
    first = episodes.groupby("patient_id").admission_date.min()
    cohort = patients[["patient_id", "clinic", "sex", "age_at_admission"]].copy()
    cohort["admission_date"] = cohort.patient_id.map(first)
    cohort = cohort.sort_values(["admission_date", "patient_id"]).reset_index(drop=True)
    pause = _pause_windows(cohort)
    end_of_data = min(pd.Timestamp(data_end), pd.Timestamp(schema.STUDY_END))
    draft = _Draft(rng, plan, pause, end_of_data)
    draft.cohort_accepted(cohort, episodes)
    draft.cohort_denied()
    draft.non_cohort_persons()
    draft.non_cohort_dates()
    draft.sexes()
    # step 6: ages
    _tune_lags(rng, plan, draft.persons, draft.refs, draft.first_other)
    ages = _ages(rng, plan, draft.persons, draft.refs, draft.first_other)
    draft.referrers_and_reasons(tables, patients)
    return {"referrals": _frame(draft.persons, draft.refs, ages)}


class _Draft:
    """The referrals being drawn (:func:`generate`): one dict per referred person (``persons``) and one per
    referral (``refs``, its person, clinic, decision, kind, date and reason), filled in step by step; the
    denial reasons (``reasons_left``) and Oslo's pause denials per year (``oslo_pause_left``) still to place."""

    def __init__(self, rng: np.random.Generator, plan: dict, pause: dict, end_of_data: pd.Timestamp) -> None:
        self.rng, self.plan, self.pause, self.end_of_data = rng, plan, pause, end_of_data
        self.persons: list[dict] = []
        self.refs: list[dict] = []
        self.reasons_left = {c: dict(plan["reasons"][c]) for c in CLINICS}
        self.oslo_pause_left: dict[int, int] = {}
        self.first_other = 0  # the first person outside the cohort
        self.accepted_budget = {y: plan["year_referrals"][y] - plan["year_denials"][y] for y in YEARS}

    def add_ref(self, person: dict, decision: str | None, date, kind: str, reason: str | None = None) -> None:
        person["refs"].append(len(self.refs))
        self.refs.append(
            {
                "person": person["pid"],
                "clinic": person["clinic"],
                "decision": decision,
                "kind": kind,
                "date": date,
                "reason": reason,
            }
        )

    def admission_ref(self, person: dict) -> dict:
        return next(self.refs[i] for i in person["refs"] if self.refs[i]["kind"] == "admission")

    def year_count(self, kind_filter) -> dict[int, int]:
        """Referrals per year among those ``kind_filter`` picks."""
        counts = dict.fromkeys(YEARS, 0)
        for r in self.refs:
            if kind_filter(r):
                counts[r["date"].year] += 1
        return counts

    def cohort_accepted(self, cohort: pd.DataFrame, episodes: pd.DataFrame) -> None:
        """Step 1: each patient's accepted referral before the admission (and before a re-admission), some
        moved into the year before where a year is full."""
        rng, plan, persons, refs = self.rng, self.plan, self.persons, self.refs
        accepted_budget, year_count = self.accepted_budget, self.year_count
        accepted_bound = plan["age"]["accepted"]["min"]
        for row in cohort.itertuples():
            person = {
                "pid": len(persons),
                "clinic": row.clinic,
                "sex": row.sex,
                "patient_id": row.patient_id,
                "age_adm": float(round(row.age_at_admission, 1)),
                "admission": row.admission_date,
                "refs": [],
            }
            persons.append(person)
            lower = max(accepted_bound, plan["age"][row.clinic]["min"])
            frac = person["age_adm"] - np.floor(person["age_adm"] + 1e-9)
            # keep the age at referral at or above the published minimum when one year less would break it
            cap_age = (
                int(np.floor(frac * 365.25 + 1e-9)) if np.floor(person["age_adm"] + 1e-9) - 1 < lower else MAX_LAG_DAYS
            )
            cap = min(MAX_LAG_DAYS, cap_age, int((row.admission_date - _opening(row.clinic)).days))
            person["lag_cap"] = max(cap, 0)
            lag = int(min(rng.gamma(2.0, 20.0), person["lag_cap"]))
            slot = {
                "person": person["pid"],
                "clinic": row.clinic,
                "decision": "accepted",
                "kind": "admission",
                "date": row.admission_date - pd.Timedelta(days=lag),
            }
            person["refs"].append(len(refs))
            refs.append(slot)
        # re-admissions: an accepted referral between discharge and re-admission
        by_patient = {p["patient_id"]: p for p in persons}
        for pid, group in episodes.groupby("patient_id", sort=True):
            group = group.sort_values("admission_date")
            for previous, current in zip(group.iloc[:-1].itertuples(), group.iloc[1:].itertuples()):
                person = by_patient.get(pid)
                if person is None:
                    continue
                low = max(current.admission_date - pd.Timedelta(days=MAX_LAG_DAYS), _opening(person["clinic"]))
                if pd.notna(previous.discharge_date):
                    low = max(low, previous.discharge_date)
                slot = {
                    "person": person["pid"],
                    "clinic": person["clinic"],
                    "decision": "accepted",
                    "kind": "readmission",
                    "date": _day(rng, min(low, current.admission_date), current.admission_date),
                }
                person["refs"].append(len(refs))
                refs.append(slot)

        # move referrals of patients admitted early in a year into the year before, where a year is full
        for year in YEARS[:0:-1]:
            fixed = year_count(lambda r: r["decision"] == "accepted")
            excess = fixed[year] - accepted_budget[year]
            if excess <= 0:
                continue
            jan1 = pd.Timestamp(f"{year}-01-01")
            movable = [
                r
                for r in refs
                if r["kind"] == "admission"
                and r["date"].year == year
                and (persons[r["person"]]["admission"] - jan1).days + 1 <= persons[r["person"]]["lag_cap"]
            ]
            order = rng.permutation(len(movable))
            for i in order[:excess]:
                r = movable[i]
                person = persons[r["person"]]
                need = (person["admission"] - jan1).days + 1
                lag = int(rng.integers(need, person["lag_cap"] + 1))
                r["date"] = person["admission"] - pd.Timedelta(days=lag)

    def cohort_denied(self) -> None:
        """Step 2: cohort patients denied before they were accepted (Oslo's pause; a reason that can change)."""
        rng, plan, persons = self.rng, self.plan, self.persons
        pause, reasons_left, add_ref, admission_ref = self.pause, self.reasons_left, self.add_ref, self.admission_ref
        pause_year_left = {
            YEARS[0]: plan["pause_first_year"],
            YEARS[1]: sum(plan["reasons"][c]["admission_pause"] for c in CLINICS) - plan["pause_first_year"],
        }
        # Bergen's pause lies in the first year: its pause denials are reserved there
        pause_year_left[YEARS[0]] -= plan["reasons"]["Bergen"]["admission_pause"]
        oslo_pause_left = {YEARS[0]: pause_year_left[YEARS[0]], YEARS[1]: pause_year_left[YEARS[1]]}

        # (a) Oslo patients denied during the pause and admitted after it
        w_start, w_end = pause["Oslo"]
        eligible = [
            p
            for p in persons
            if p["clinic"] == "Oslo"
            and len(p["refs"]) == 1
            and admission_ref(p)["date"] > w_end + pd.Timedelta(days=MIN_GAP_DAYS)
            and admission_ref(p)["date"].year <= YEARS[2]
        ]
        for i in rng.permutation(len(eligible))[:COHORT_PAUSE_DENIED]:
            person = eligible[i]
            year = max(
                (y for y in oslo_pause_left if oslo_pause_left[y] > 0), key=lambda y: oslo_pause_left[y], default=None
            )
            if year is None or reasons_left["Oslo"]["admission_pause"] <= 0:
                break
            lo, hi = max(w_start, pd.Timestamp(f"{year}-01-01")), min(w_end, pd.Timestamp(f"{year}-12-31"))
            add_ref(person, "denied", _day(rng, lo, hi), "cohort_pause", "admission_pause")
            oslo_pause_left[year] -= 1
            reasons_left["Oslo"]["admission_pause"] -= 1

        # (b) patients denied for a reason that can change, once or twice, then accepted
        def age_at(person: dict, date: pd.Timestamp) -> int:
            return int(np.floor(person["age_adm"] - (person["admission"] - date).days / 365.25 + 1e-9))

        eligible = [
            p
            for p in persons
            if len(p["refs"]) == 1 and (admission_ref(p)["date"] - _opening(p["clinic"])).days >= 2 * MIN_GAP_DAYS + 30
        ]
        order = rng.permutation(len(eligible))
        chosen = 0
        for i in order:
            if chosen >= COHORT_EARLIER_DENIED + COHORT_TWICE_DENIED:
                break
            person = eligible[i]
            times = 2 if chosen < COHORT_TWICE_DENIED else 1
            clinic = person["clinic"]
            latest = admission_ref(person)["date"] - pd.Timedelta(days=MIN_GAP_DAYS)
            earliest = max(_opening(clinic), latest - pd.Timedelta(days=540))
            options = [r for r in REVERSIBLE_REASONS if reasons_left[clinic][r] > 0]
            if len(options) == 0 or (latest - earliest).days < MIN_GAP_DAYS * times:
                continue
            dates = sorted(_day(rng, earliest, latest) for _ in range(times))
            if times == 2 and (dates[1] - dates[0]).days < MIN_GAP_DAYS:
                dates[0] = max(earliest, dates[1] - pd.Timedelta(days=MIN_GAP_DAYS + int(rng.integers(0, 60))))
                if (dates[1] - dates[0]).days < MIN_GAP_DAYS:
                    continue
            if any(age_at(person, d) < plan["age"][clinic]["min"] for d in dates):
                continue
            for date in dates:
                options = [r for r in REVERSIBLE_REASONS if reasons_left[clinic][r] > 0]
                weights = np.array([reasons_left[clinic][r] for r in options], dtype=float)
                reason = options[int(rng.choice(len(options), p=weights / weights.sum()))]
                reasons_left[clinic][reason] -= 1
                add_ref(person, "denied", date, "cohort_denied", reason)
            chosen += 1
        self.oslo_pause_left = oslo_pause_left

    def non_cohort_persons(self) -> None:
        """Step 3: persons outside the cohort, their number of referrals, clinic and decisions."""
        rng, plan, persons, refs = self.rng, self.plan, self.persons, self.refs
        reasons_left, add_ref = self.reasons_left, self.add_ref
        total_n = sum(plan["n"].values())
        n_persons, n_two, n_three = plan["persons"], plan["two"], plan["three_plus"]
        surplus = total_n - (n_persons - n_two - n_three) - 2 * n_two - 3 * n_three
        sizes_three = [3 + surplus // n_three + (1 if i < surplus % n_three else 0) for i in range(n_three)]
        cohort_sizes = [len(p["refs"]) for p in persons]
        need_two = n_two - sum(1 for k in cohort_sizes if k == 2)
        need_three = sorted(sizes_three, reverse=True)
        for k in sorted((k for k in cohort_sizes if k >= 3), reverse=True):
            need_three.remove(min((s for s in need_three if s >= k), default=need_three[-1]))
        n_other = n_persons - len(persons)
        sizes = [2] * need_two + need_three
        sizes += [1] * (n_other - len(sizes))

        cohort_by_clinic = {c: sum(len(p["refs"]) for p in persons if p["clinic"] == c) for c in CLINICS}
        other_refs = {c: plan["n"][c] - cohort_by_clinic[c] for c in CLINICS}
        multi = [k for k in sizes if k > 1]
        singles = len(sizes) - len(multi)
        for _ in range(200):
            clinics_multi = [
                "Oslo" if rng.random() < other_refs["Oslo"] / sum(other_refs.values()) else "Bergen" for _ in multi
            ]
            single_o = other_refs["Oslo"] - sum(k for k, c in zip(multi, clinics_multi) if c == "Oslo")
            single_b = other_refs["Bergen"] - sum(k for k, c in zip(multi, clinics_multi) if c == "Bergen")
            if min(single_o, single_b) >= 2 * MIN_SINGLES + 4 and single_o + single_b == singles:
                break
        clinic_list = clinics_multi + ["Oslo"] * single_o + ["Bergen"] * single_b
        first_other = len(persons)
        for k, clinic in zip(multi + [1] * singles, clinic_list):
            person = {"pid": len(persons), "clinic": clinic, "sex": None, "patient_id": None, "refs": []}
            persons.append(person)
            for _ in range(k):
                add_ref(person, None, None, "other")

        # decisions of non-cohort referrals, per clinic
        for clinic in CLINICS:
            slots = [i for i, r in enumerate(refs) if r["kind"] == "other" and r["clinic"] == clinic]
            denied_fixed = sum(1 for r in refs if r["clinic"] == clinic and r["decision"] == "denied")
            n_denied = plan["denied"][clinic] - denied_fixed
            # persons referred several times are more often denied; at least MIN_SINGLES referrals of
            # persons referred once are left in each decision (their ages calibrate Table E)
            single = np.array([len(persons[refs[i]["person"]]["refs"]) == 1 for i in slots])
            order = rng.permutation(np.flatnonzero(single))
            keep_denied = order[:MIN_SINGLES].tolist()
            keep_accepted = set(order[MIN_SINGLES : 2 * MIN_SINGLES].tolist())
            rest = [j for j in range(len(slots)) if j not in keep_accepted and j not in keep_denied]
            weight = np.array([1.0 if single[j] else 3.0 for j in rest])
            more = rng.choice(len(rest), size=n_denied - len(keep_denied), replace=False, p=weight / weight.sum())
            pick = set(keep_denied) | {rest[j] for j in more}
            for j, i in enumerate(slots):
                refs[i]["decision"] = "denied" if j in pick else "accepted"
        # the pause denials still to place go to non-cohort denied referrals
        for clinic in CLINICS:
            slots = [
                i
                for i, r in enumerate(refs)
                if r["kind"] == "other" and r["clinic"] == clinic and r["decision"] == "denied"
            ]
            n_pause = reasons_left[clinic]["admission_pause"]
            for i in rng.permutation(slots)[:n_pause]:
                refs[int(i)]["reason"] = "admission_pause"
            reasons_left[clinic]["admission_pause"] = 0
        self.first_other = first_other

    def non_cohort_dates(self) -> None:
        """Step 4: the dates of the referrals outside the cohort."""
        rng, plan, persons, refs = self.rng, self.plan, self.persons, self.refs
        pause, end_of_data, year_count = self.pause, self.end_of_data, self.year_count
        oslo_pause_left, accepted_budget, others = (
            self.oslo_pause_left,
            self.accepted_budget,
            persons[self.first_other :],
        )
        pause_left = {YEARS[0]: oslo_pause_left[YEARS[0]], YEARS[1]: oslo_pause_left[YEARS[1]]}
        for r in refs:
            if r["kind"] == "other" and r.get("reason") == "admission_pause":
                start, stop = pause[r["clinic"]]
                if r["clinic"] == "Oslo":
                    year = YEARS[0] if pause_left[YEARS[0]] > 0 else YEARS[1]
                    pause_left[year] -= 1
                    start, stop = max(start, pd.Timestamp(f"{year}-01-01")), min(stop, pd.Timestamp(f"{year}-12-31"))
                r["date"] = _day(rng, start, stop)
        fixed_acc = year_count(lambda r: r["date"] is not None and r["decision"] == "accepted")
        fixed_den = year_count(lambda r: r["date"] is not None and r["decision"] == "denied")
        for decision, fixed, budget in (
            ("accepted", fixed_acc, accepted_budget),
            ("denied", fixed_den, plan["year_denials"]),
        ):
            years = [y for y in YEARS for _ in range(max(budget[y] - fixed[y], 0))]
            slots = [r for r in refs if r["date"] is None and r["decision"] == decision]
            years = list(rng.permutation(years))
            if len(years) != len(slots):
                raise RuntimeError(
                    f"the {decision} referrals fixed by the cohort do not fit Supplementary Table F's years"
                )
            for r, year in zip(slots, years):
                r["year"] = int(year)
        for person in others:
            mine = [refs[i] for i in person["refs"] if refs[i]["date"] is None]
            for _ in range(100):
                for r in mine:
                    start, stop = _year_span(r["year"], r["clinic"])
                    date = _day(rng, start, stop)
                    if r["decision"] == "accepted" and r["clinic"] in pause:
                        p0, p1 = pause[r["clinic"]]
                        tries = 0
                        while p0 <= date <= p1 and tries < 50:
                            date = _day(rng, start, stop)
                            tries += 1
                    r["date"] = date
                dates = sorted(refs[i]["date"] for i in person["refs"])
                if all((b - a).days >= MIN_GAP_DAYS for a, b in zip(dates[:-1], dates[1:])):
                    break
        for r in refs:
            r["date"] = min(r["date"], end_of_data)

    def sexes(self) -> None:
        """Step 5: the sex of each person outside the cohort."""
        rng, plan, persons, refs = self.rng, self.plan, self.persons, self.refs
        first_other, others, n_persons = self.first_other, persons[self.first_other :], plan["persons"]
        cells = [(c, d) for c in CLINICS for d in ("accepted", "denied")]
        male_cells = _male_cells(plan, persons, refs)
        fixed_male = dict.fromkeys(cells, 0)
        for p in persons[:first_other]:
            for i in p["refs"]:
                if p["sex"] == "male":
                    fixed_male[(refs[i]["clinic"], refs[i]["decision"])] += 1
        multi_others = [p for p in others if len(p["refs"]) > 1]
        single_others = [p for p in others if len(p["refs"]) == 1]
        male_refs = sum(plan["male"].values())
        best = None
        for _ in range(500):
            sexes = rng.random(len(multi_others)) < 0.75
            counts = dict(fixed_male)
            for p, is_male in zip(multi_others, sexes):
                if is_male:
                    for i in p["refs"]:
                        counts[(refs[i]["clinic"], refs[i]["decision"])] += 1
            need = {cell: male_cells[cell] - counts[cell] for cell in cells}
            avail = {
                cell: sum(1 for p in single_others if (p["clinic"], refs[p["refs"][0]]["decision"]) == cell)
                for cell in cells
            }
            if any(need[cell] < 0 or need[cell] > avail[cell] for cell in cells):
                continue
            male_extra = sum(len(p["refs"]) - 1 for p in persons[:first_other] if p["sex"] == "male")
            male_extra += sum(len(p["refs"]) - 1 for p, m in zip(multi_others, sexes) if m)
            person_share = 100 * (male_refs - male_extra) / n_persons
            score = abs(person_share - _pub("s6_6_male_percent", 75.0))
            if best is None or score < best[0]:
                best = (score, sexes, need)
            if score <= 0.45:
                break
        _, sexes, need = best
        for p, is_male in zip(multi_others, sexes):
            p["sex"] = "male" if is_male else "female"
        for cell in cells:
            group = [p for p in single_others if (p["clinic"], refs[p["refs"][0]]["decision"]) == cell]
            males = set(rng.permutation(len(group))[: need[cell]].tolist())
            for j, p in enumerate(group):
                p["sex"] = "male" if j in males else "female"

    def referrers_and_reasons(self, tables: dict[str, pd.DataFrame], patients: pd.DataFrame) -> None:
        """Step 7: each referral's type and referrer, and the denial reasons still to place."""
        rng, plan, persons, refs = self.rng, self.plan, self.persons, self.refs
        reasons_left = self.reasons_left
        still_on_oat, never_oat = _oat_status(tables, patients)
        for clinic in CLINICS:
            idx = [i for i, r in enumerate(refs) if r["clinic"] == clinic]
            score = []
            for i in idx:
                pid = persons[refs[i]["person"]]["patient_id"]
                base = 1.0 if pid in still_on_oat else (-1.0 if pid in never_oat else 0.0)
                score.append(base + rng.random())
            ranked = [idx[j] for j in np.argsort(-np.array(score), kind="stable")]
            n_sec = plan["secondary"][clinic]
            secondary, primary = ranked[:n_sec], ranked[n_sec:]
            pool = [r for r, k in plan["referrers"][clinic].items() for _ in range(k)]
            oat = [r for r in pool if r in OAT_REFERRERS]
            rest = [r for r in pool if r not in OAT_REFERRERS]
            rest = [rest[j] for j in rng.permutation(len(rest))]
            if len(oat) >= n_sec:
                sec_pool, pri_pool = oat[:n_sec], oat[n_sec:] + rest
            else:
                sec_pool, pri_pool = oat + rest[: n_sec - len(oat)], rest[n_sec - len(oat) :]
            for slots, types, kind in ((secondary, sec_pool, "secondary"), (primary, pri_pool, "primary")):
                types = [types[j] for j in rng.permutation(len(types))]
                for i, referrer in zip(slots, types):
                    refs[i]["referrer"] = referrer
                    refs[i]["type"] = kind
            open_slots = [i for i in idx if refs[i]["decision"] == "denied" and refs[i].get("reason") is None]
            pool = [r for r, k in reasons_left[clinic].items() for _ in range(k)]
            pool = [pool[j] for j in rng.permutation(len(pool))]
            for i, reason in zip(open_slots, pool):
                refs[i]["reason"] = reason


def _male_cells(plan: dict, persons: list[dict], refs: list[dict]) -> dict[tuple[str, str], int]:
    """Male referrals per clinic and decision: Table E's margins, split as evenly as the cohort allows."""
    n_cell = {(c, d): 0 for c in CLINICS for d in ("accepted", "denied")}
    fixed = {cell: [0, 0] for cell in n_cell}  # cohort male, cohort female referrals
    for r in refs:
        n_cell[(r["clinic"], r["decision"])] += 1
        sex = persons[r["person"]]["sex"]
        if sex is not None:
            fixed[(r["clinic"], r["decision"])][0 if sex == "male" else 1] += 1
    o, b = CLINICS
    best = None
    for oa in range(n_cell[(o, "accepted")] + 1):
        cell = {(o, "accepted"): oa, (b, "accepted"): plan["male_accepted"] - oa, (o, "denied"): plan["male"][o] - oa}
        cell[(b, "denied")] = plan["male_denied"] - cell[(o, "denied")]
        ok = all(fixed[k][0] <= v <= n_cell[k] - fixed[k][1] for k, v in cell.items())
        if not ok:
            continue
        spread = sum(abs(v / n_cell[k] - 0.75) for k, v in cell.items() if n_cell[k])
        if best is None or spread < best[0]:
            best = (spread, cell)
    if best is None:
        raise RuntimeError("the cohort's sexes make the male counts of Supplementary Table E impossible")
    return best[1]


def _oat_status(tables: dict[str, pd.DataFrame], patients: pd.DataFrame) -> tuple[set, set]:
    """Patients still on OAT at admission (prefer secondary) and patients without previous OAT."""
    previous = tables.get("previous_oat")
    if previous is None or len(previous) == 0 or "end_reason" not in previous:
        return set(), set()
    still = set(previous.loc[previous.end_reason == "still_on_medication", "patient_id"])
    never = set(patients.patient_id) - set(previous.patient_id)
    return still, never


def _tune_lags(rng: np.random.Generator, plan: dict, persons: list[dict], refs: list[dict], first_other: int) -> None:
    """Move a few cohort lags across a birthday so the cohort's accepted ages suit Table E's accepted column.

    A cohort patient's age at referral is the whole years of age at admission when the referral came
    after the last birthday, one less otherwise. The cohort makes up most accepted referrals, so their
    mean and spread largely fix the accepted column of Table E (mean 45.29, SE 0.710). Greedily, lags
    are moved across the birthday (keeping the calendar year, 0-120 days, 30 days to the person's other
    referrals) while that brings the cohort's accepted mean closer to the published one and its SD
    below the published SD less a margin (so that the other accepted referrals keep an ordinary spread).
    """

    def age_at(p: dict, date: pd.Timestamp) -> int:
        return int(np.floor(p["age_adm"] - (p["admission"] - date).days / 365.25 + 1e-9))

    entries = []  # (ref, options: {age: [dates]})
    for p in persons[:first_other]:
        for i in p["refs"]:
            r = refs[i]
            if r["decision"] != "accepted":
                continue
            options = {age_at(p, r["date"]): [r["date"]]}
            if r["kind"] == "admission" and r["date"].year == p["admission"].year:
                others = [refs[j]["date"] for j in p["refs"] if j != i and refs[j]["date"] < p["admission"]]
                for lag in range(0, p["lag_cap"] + 1):
                    d = p["admission"] - pd.Timedelta(days=lag)
                    if d.year == r["date"].year and all(abs((d - o).days) >= MIN_GAP_DAYS for o in others):
                        options.setdefault(age_at(p, d), []).append(d)
            entries.append((r, options, age_at(p, r["date"])))
    ages = np.array([e[2] for e in entries], dtype=float)
    goal_mean = plan["age"]["accepted"]["mean"]
    n_acc = sum(1 for r in refs if r["decision"] == "accepted")
    goal_sd = plan["age"]["accepted"]["se"] * np.sqrt(n_acc) - 0.3

    def cost(values: np.ndarray) -> float:
        return abs(values.mean() - goal_mean) * len(values) + 4.0 * max(values.std(ddof=1) - goal_sd, 0.0) * len(values)

    def moves():  # one accepted referral's age changed to another it can have
        for j, (_r, options, _) in enumerate(entries):
            for age in options:
                if age == ages[j]:
                    continue
                trial = ages.copy()
                trial[j] = age

                def keep(j=j, age=age):
                    ages[j] = age

                yield cost(trial), keep

    steepest(moves, cost(ages), len(entries), lambda _: False, margin=1e-9)
    for (r, options, _), age in zip(entries, ages):
        dates = options[int(age)]
        if r["date"] not in dates:
            r["date"] = dates[int(rng.integers(len(dates)))]


def _ages(rng: np.random.Generator, plan: dict, persons: list[dict], refs: list[dict], first_other: int) -> np.ndarray:
    """Whole-year age at every referral, calibrated to Supplementary Table E (see the module docstring)."""
    n_refs = len(refs)
    ages = np.zeros(n_refs, dtype=np.int64)
    groups = ("Oslo", "Bergen", "accepted", "denied", "all")
    member = np.zeros((n_refs, len(groups)), dtype=np.int64)
    for i, r in enumerate(refs):
        member[i, groups.index(r["clinic"])] = 1
        member[i, groups.index(r["decision"])] = 1
        member[i, 4] = 1
    lower = np.array([max(plan["age"][r["clinic"]]["min"], plan["age"][r["decision"]]["min"]) for r in refs])
    upper = np.array([min(plan["age"][r["clinic"]]["max"], plan["age"][r["decision"]]["max"]) for r in refs])
    # cohort persons: age from the age at first admission and the time before it
    for p in persons[:first_other]:
        for i in p["refs"]:
            years_before = (p["admission"] - refs[i]["date"]).days / 365.25
            ages[i] = int(np.floor(p["age_adm"] - years_before + 1e-9))
    # non-cohort persons: offset in years from the first referral, fractional part of age drawn
    others = persons[first_other:]
    offsets = {}
    for p in others:
        d0 = min(refs[i]["date"] for i in p["refs"])
        frac = rng.random()
        offsets[p["pid"]] = [(i, int(np.floor(frac + (refs[i]["date"] - d0).days / 365.25))) for i in p["refs"]]
    # targets per group
    n_g = member.sum(axis=0)
    target_s = np.array([int(round(plan["age"][g]["mean"] * n_g[k])) for k, g in enumerate(groups)])
    # the sums must round to the printed means; choose the integer nearest to mean*n that does
    for k, g in enumerate(groups):
        cand = sorted(range(target_s[k] - 2, target_s[k] + 3), key=lambda s: abs(s / n_g[k] - plan["age"][g]["mean"]))
        target_s[k] = cand[0]
    target_s[4] = target_s[0] + target_s[1]
    target_s[3] = target_s[4] - target_s[2]
    se = np.array([plan["age"][g]["se"] for g in groups])
    tol = 0.0005 * 0.98
    q_lo = target_s**2 / n_g + n_g * (n_g - 1) * (se - tol) ** 2
    q_hi = target_s**2 / n_g + n_g * (n_g - 1) * (se + tol) ** 2
    cohort_ages = ages.copy()
    is_cohort = np.zeros(n_refs, dtype=bool)
    is_cohort[[i for p in persons[:first_other] for i in p["refs"]]] = True

    def attempt() -> np.ndarray:
        ages = cohort_ages.copy()
        # pins: extreme ages on single-referral non-cohort persons
        fixed_ids = {i for p in persons[:first_other] for i in p["refs"]}
        singles = [p for p in others if len(p["refs"]) == 1]
        singles = [singles[j] for j in rng.permutation(len(singles))]
        pins: dict[int, int] = {}

        def pin(clinic: str | None, decision: str | None, age: int) -> None:
            present = any(
                ages[i] == age
                and (clinic is None or refs[i]["clinic"] == clinic)
                and (decision is None or refs[i]["decision"] == decision)
                for i in fixed_ids | set(pins)
            )
            if present:
                return
            for p in singles:
                i = p["refs"][0]
                if i in pins:
                    continue
                if (
                    (clinic is None or refs[i]["clinic"] == clinic)
                    and (decision is None or refs[i]["decision"] == decision)
                    and lower[i] <= age <= upper[i]
                ):
                    pins[i] = age
                    ages[i] = age
                    return

        age_all = plan["age"]
        pin("Oslo", "denied", int(age_all["denied"]["min"]))
        pin(None, "accepted", int(age_all["accepted"]["min"]))
        pin("Bergen", None, int(age_all["Bergen"]["min"]))
        pin("Oslo", "denied", int(age_all["Oslo"]["max"]))
        pin("Bergen", "accepted", int(age_all["Bergen"]["max"]))
        pin("Oslo", None, int(age_all["Oslo"]["max"]))
        pin("Bergen", None, int(age_all["Bergen"]["max"]))
        pin(None, "accepted", int(age_all["accepted"]["max"]))
        pin(None, "denied", int(age_all["denied"]["max"]))
        pin(None, None, int(age_all["all"]["min"]))
        # non-cohort persons with several referrals: an age near what their clinic still needs, then fixed
        multi = [p for p in others if len(p["refs"]) > 1]
        singles_free = [p["refs"][0] for p in singles if p["refs"][0] not in pins]
        fixed_now = np.array(sorted(fixed_ids | set(pins)), dtype=np.int64)
        for clinic in CLINICS:
            k = groups.index(clinic)
            n_left = member[:, k].sum() - member[fixed_now, k].sum()
            mean = (target_s[k] - (member[fixed_now, k] * ages[fixed_now]).sum()) / max(n_left, 1)
            for p in multi:
                if p["clinic"] != clinic:
                    continue
                lo = max(lower[i] - off for i, off in offsets[p["pid"]])
                hi = min(upper[i] - off for i, off in offsets[p["pid"]])
                base = int(np.clip(round(rng.normal(mean, 9.0)), lo, hi))
                for i, off in offsets[p["pid"]]:
                    ages[i] = base + off
        fixed = np.array(sorted(set(range(n_refs)) - set(singles_free)), dtype=np.int64)
        return _fit_cells(
            rng, ages, refs, fixed, np.array(singles_free, dtype=np.int64), lower, upper, target_s, q_lo, q_hi, plan
        )

    best = None
    for _ in range(12):
        trial = attempt()
        value = _age_score(trial, plan, groups, member, target_s, n_g, se, cohort_ages, is_cohort)
        if best is None or value < best[0]:
            best = (value, trial)
        if value == 0:
            break
    return best[1]


def _age_score(trial, plan, groups, member, target_s, n_g, se, cohort_ages, is_cohort) -> float:
    """How far the ages ``trial`` are from Supplementary Table E: per group (``member``'s columns), a
    thousand per year off the sum the printed mean needs, a hundred per year off the printed youngest and
    oldest (or the cohort's own, where it goes beyond), and the sum of squares outside what the printed
    standard error allows; 0 when all hold."""
    s = (member * trial[:, None]).sum(axis=0)
    q = (member * (trial[:, None].astype(float) ** 2)).sum(axis=0)
    exact_lo = target_s**2 / n_g + n_g * (n_g - 1) * (se - 0.0005) ** 2
    exact_hi = target_s**2 / n_g + n_g * (n_g - 1) * (se + 0.0005) ** 2
    extremes = 0
    for k, g in enumerate(groups):
        values = trial[member[:, k] == 1]
        in_cohort = cohort_ages[(member[:, k] == 1) & is_cohort]
        low = min(plan["age"][g]["min"], in_cohort.min()) if len(in_cohort) else plan["age"][g]["min"]
        high = max(plan["age"][g]["max"], in_cohort.max()) if len(in_cohort) else plan["age"][g]["max"]
        extremes += abs(values.min() - low) + abs(values.max() - high)
    return float(
        1000 * np.abs(s - target_s).sum()
        + 100 * extremes
        + (np.maximum(exact_lo - q, 0) + np.maximum(q - exact_hi, 0)).sum()
    )


def _fit_cells(rng, ages, refs, fixed, free, lower, upper, target_s, q_lo, q_hi, plan) -> np.ndarray:
    """Ages of the single-referral non-cohort persons, so that every sum and sum of squares holds.

    The four cells (clinic x decision) share the groups of Table E: Oslo = OA + OD, Bergen = BA + BD,
    accepted = OA + BA, denied = OD + BD, all = the four. Targets for the free part of each group's sum
    of squares are put where every window has the widest margin; the split between cells (one free
    parameter for the sums, one for the sums of squares) is chosen so that each cell's free ages have
    a standard deviation near 10 years and a mean near the clinic's. Each cell is then drawn from a
    normal distribution with that mean and SD and corrected: single one-year moves until its sum is
    exact, then pairs (one person a year older, one a year younger) until its sum of squares is within
    a quarter of the margin.
    """
    cells = [(c, d) for c in CLINICS for d in ("accepted", "denied")]
    cell_of = np.array([cells.index((r["clinic"], r["decision"])) for r in refs])
    a = ages.astype(float)
    fs = np.array([a[fixed][cell_of[fixed] == k].sum() for k in range(4)])
    fq = np.array([(a[fixed][cell_of[fixed] == k] ** 2).sum() for k in range(4)])
    members = [free[cell_of[free] == k] for k in range(4)]
    n = np.array([len(m) for m in members], dtype=float)
    lo = np.array([max(plan["age"][c]["min"], plan["age"][d]["min"]) for c, d in cells], dtype=float)
    hi = np.array([min(plan["age"][c]["max"], plan["age"][d]["max"]) for c, d in cells], dtype=float)
    # group order of target_s / q_lo: Oslo, Bergen, accepted, denied, all
    in_group = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 1, 1]], dtype=float)
    i_lo = q_lo - in_group @ fq
    i_hi = q_hi - in_group @ fq
    # 1. free sums of squares per group: the widest margin inside every window
    grid = [np.linspace(i_lo[g], i_hi[g], 21) for g in range(3)]
    g_o, g_b, g_a = np.meshgrid(*grid, indexing="ij")
    g_d, g_t = g_o + g_b - g_a, g_o + g_b
    values = [g_o, g_b, g_a, g_d, g_t]
    margin = np.minimum.reduce([np.minimum(v - i_lo[g], i_hi[g] - v) for g, v in enumerate(values)])
    best = np.unravel_index(np.argmax(margin), margin.shape)
    goal = np.array([v[best] for v in values])
    tol = max(float(margin[best]) / 4.0 - 1e-6, 0.5)
    # 2. split between cells: x = free sum of Oslo-accepted, u = its free sum of squares
    r_o = target_s[0] - fs[0] - fs[1]
    r_b = target_s[1] - fs[2] - fs[3]
    r_a = target_s[2] - fs[0] - fs[2]
    xs = np.arange(np.ceil(n[0] * lo[0]), np.floor(n[0] * hi[0]) + 1)
    sums = np.stack([xs, r_o - xs, r_a - xs, r_b - r_a + xs], axis=1)  # (X, 4)
    mean = np.where(n > 0, sums / np.maximum(n, 1), 0.0)
    ok = np.all((n == 0) & (sums == 0) | (n > 0) & (mean >= lo + 1) & (mean <= hi - 1), axis=1)
    base = np.where(n > 0, sums**2 / np.maximum(n, 1), 0.0)
    us = np.linspace(base[:, 0].min(), base[:, 0].max() + n[0] * 400, 400)
    q = np.stack(
        [
            np.broadcast_to(us[None, :], (len(xs), len(us))),
            goal[0] - us[None, :] + 0 * xs[:, None],
            goal[2] - us[None, :] + 0 * xs[:, None],
            goal[1] - goal[2] + us[None, :] + 0 * xs[:, None],
        ],
        axis=2,
    )  # (X, U, 4)
    spread = q - base[:, None, :]
    var = np.where(n > 0, spread / np.maximum(n, 1), 0.0)
    floor = np.where(n >= 6, 4.0, 1.0)
    shortfall = np.where(n > 0, np.maximum(floor - var, 0.0), 0.0).sum(axis=2)
    sd = np.sqrt(np.maximum(var, floor))
    overall = target_s[4] / len(refs)
    score = ((np.where(n > 0, sd - 10.0, 0.0)) ** 2).sum(axis=2) + 0.2 * (
        (np.where(n > 0, mean - overall, 0.0)) ** 2
    ).sum(axis=1)[:, None]
    # where no split gives every cell a spread, take the one that misses least (the SEs then fail)
    score = score + 1e6 * shortfall
    score[~ok] = np.inf
    if not np.isfinite(score).any():
        return ages
    xi, ui = np.unravel_index(np.argmin(score), score.shape)
    cell_sum = sums[xi].round().astype(np.int64)
    cell_q = q[xi, ui]
    # 3. draw and correct each cell
    for k in range(4):
        idx = members[k]
        if len(idx) == 0:
            continue
        draw = np.clip(np.round(rng.normal(mean[xi, k], sd[xi, ui, k], size=len(idx))), lo[k], hi[k]).astype(np.int64)
        target_q = cell_q[k]

        def nearest_square_sum(candidates, step, draw=draw, target_q=target_q):  # of a one-year step
            after = np.abs((draw.astype(float) ** 2).sum() + 2 * step * draw[candidates] + 1 - target_q)
            return candidates[int(np.argmin(after))]

        reach_sum(rng, draw, lo[k], hi[k], cell_sum[k], choose=nearest_square_sum)

        def gap(draw=draw, target_q=target_q):
            return target_q - float((draw.astype(float) ** 2).sum())

        def pairs(draw=draw, gap=gap, k=k):  # one a year older, one a year younger: the best, ties drawn
            d = draw.astype(float)
            delta = 2 * (d[:, None] - d[None, :]) + 2  # row a year older, column a year younger
            miss = np.abs(gap() - delta)
            bad = ~((draw + 1 <= hi[k])[:, None] & (draw - 1 >= lo[k])[None, :])
            miss[bad] = np.inf
            np.fill_diagonal(miss, np.inf)
            if miss.min() >= abs(gap()):
                return
            ties = np.argwhere(miss == miss.min())
            r, c = ties[rng.integers(len(ties))]

            def keep():
                draw[r] += 1
                draw[c] -= 1

            yield float(miss.min()), keep

        steepest(pairs, abs(gap()), 2000, lambda miss: miss <= tol, margin=0.0, loss_now=lambda gap=gap: abs(gap()))
        ages[idx] = draw
    return ages


def _frame(persons: list[dict], refs: list[dict], ages: np.ndarray) -> pd.DataFrame:
    """The table in the schema's columns; ids in order of (first) referral date."""
    frame = pd.DataFrame(
        {
            "person": [r["person"] for r in refs],
            "patient_id": [persons[r["person"]]["patient_id"] for r in refs],
            "clinic": [r["clinic"] for r in refs],
            "referral_date": pd.to_datetime([r["date"] for r in refs]),
            "age": ages.astype(np.int64),
            "sex": [persons[r["person"]]["sex"] for r in refs],
            "referral_type": [r["type"] for r in refs],
            "referrer": [r["referrer"] for r in refs],
            "decision": [r["decision"] for r in refs],
            "denial_reason": [r.get("reason") if r["decision"] == "denied" else None for r in refs],
        }
    )
    frame = frame.sort_values(["referral_date", "person"], kind="stable").reset_index(drop=True)
    order = frame.drop_duplicates("person").person.tolist()
    numbers = {p: k + 1 for k, p in enumerate(order)}
    frame.insert(0, "referral_id", [f"R{k + 1:03d}" for k in range(len(frame))])
    frame.insert(1, "person_id", [f"Q{numbers[p]:03d}" for p in frame.person])
    frame = frame.drop(columns="person")
    frame["age"] = frame["age"].astype("Int64")
    for column in ("patient_id", "denial_reason"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame[schema.REFERRALS.columns]


# --------------------------------------------------------------------------------------------------
# Calibration targets

#: Published percentages that contradict their own counts or a table (errata appendix); the counts win.
CONTRADICTIONS = {
    "sth_bergen_risk_of_violence_valid_percent": (
        "Supplementary Table H prints 4.0% for Bergen's 4 denials for risk of violence, but 4 of Bergen's "
        "36 denials are 11.1%; the count is reproduced"
    ),
    "sth_all_risk_of_violence_and_severe_mental_disorder_valid_percent": (
        "Supplementary Table H prints 0.7% for 2 of 107 denials (that is 2 of the 280 referrals); 2 of 107 "
        "denials are 1.9%; the count is reproduced"
    ),
    "sth_all_not_able_to_attend_valid_percent": (
        "Supplementary Table H prints 1.4% for 4 of 107 denials (that is 4 of the 280 referrals); 4 of 107 "
        "denials are 3.7%; the count is reproduced"
    ),
    "app5_referrer_gp_percent_oslo": (
        "the text gives 18% for Oslo's primary-care physicians, which is their count; Supplementary Table G's "
        "18 of 180 referrals are 10.0%, and the table's count is reproduced"
    ),
    "s6_6_referrer_gp_percent_oslo": (
        "6.6 gives 18% for Oslo's primary-care physicians, which is their count; Supplementary Table G's "
        "18 of 180 referrals are 10.0%, and the table's count is reproduced"
    ),
    "app5_denial_risk_of_violence_percent_bergen": (
        "the text repeats Supplementary Table H's misprinted 4% for Bergen; its 4 of 36 denials are 11%"
    ),
    "s6_6_denial_risk_of_violence_percent_bergen": (
        "6.6 repeats Supplementary Table H's misprinted 4% for Bergen; its 4 of 36 denials are 11%"
    ),
    "app5_annual_denial_rate_max": (
        "the text's highest yearly denial rate, 43%, truncates Supplementary Table F's 2024 rate of 43.6% "
        "(24 of 55), which rounds to 44%; the table's counts are reproduced"
    ),
    "s6_6_annual_denial_rate_max": (
        "6.6's highest yearly denial rate, 43%, truncates Supplementary Table F's 2024 rate of 43.6% "
        "(24 of 55), which rounds to 44%; the table's counts are reproduced"
    ),
}

_TEXT_REFERRERS = {
    "oat": ("specialist_oat",),
    "nav": ("nav",),
    "low_threshold": ("low_threshold_addiction",),
    "gp": ("primary_care_physician",),
}
_TEXT_REASONS = {
    "admission_pause": "admission_pause",
    "not_target_group": "not_in_target_group",
    "other_treatment": "other_treatment_more_suitable",
    "risk_of_violence": "risk_of_violence",
    "new_medications": "new_medications_in_oat",
}


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else float("nan")


def _statistics(ref: pd.DataFrame) -> dict[str, float]:
    """Every Appendix 5 / 6.6 statistic of a referrals table, keyed as in the ledger."""
    ref = ref.copy()
    ref["age"] = ref["age"].astype(float)
    ref["year"] = pd.to_datetime(ref.referral_date).dt.year
    denied = ref.decision == "denied"
    groups = {"all": ref, "oslo": ref[ref.clinic == "Oslo"], "bergen": ref[ref.clinic == "Bergen"]}
    out: dict[str, float] = {}

    def describe(prefix: str, frame: pd.DataFrame) -> None:
        n = len(frame)
        out[f"{prefix}_referrals_n"] = n
        out[f"{prefix}_age_mean"] = frame.age.mean()
        out[f"{prefix}_age_se"] = frame.age.std(ddof=1) / np.sqrt(n)
        out[f"{prefix}_age_min"] = frame.age.min()
        out[f"{prefix}_age_max"] = frame.age.max()
        out[f"{prefix}_male_n"] = int((frame.sex == "male").sum())
        out[f"{prefix}_male_percent"] = _pct((frame.sex == "male").sum(), n)
        out[f"{prefix}_secondary_n"] = int((frame.referral_type == "secondary").sum())
        out[f"{prefix}_secondary_percent"] = _pct((frame.referral_type == "secondary").sum(), n)
        out[f"{prefix}_not_included_n"] = int((frame.decision == "denied").sum())
        out[f"{prefix}_not_included_percent"] = _pct((frame.decision == "denied").sum(), n)

    for tag, frame in groups.items():
        describe(f"ste_clinic_{tag}", frame)
    describe("ste_incl_total", ref)
    describe("ste_incl_included", ref[~denied])
    describe("ste_incl_not_included", ref[denied])

    total, total_denied = len(ref), int(denied.sum())
    rates = []
    for year in YEARS:
        n, d = int((ref.year == year).sum()), int((denied & (ref.year == year)).sum())
        out[f"stf_{year}_referrals_n"] = n
        out[f"stf_{year}_referrals_percent_of_total"] = _pct(n, total)
        out[f"stf_{year}_denials_n"] = d
        out[f"stf_{year}_denial_rate_percent"] = _pct(d, n)
        out[f"stf_{year}_denials_percent_of_total"] = _pct(d, total_denied)
        rates.append(_pct(d, n))
    within = ref.year.between(YEARS[0], YEARS[-1])
    out["stf_2022_2025_referrals_n"] = int(within.sum())
    out["stf_2022_2025_referrals_percent_of_total"] = _pct(within.sum(), total)
    out["stf_2022_2025_denials_n"] = int((denied & within).sum())
    out["stf_2022_2025_denial_rate_percent"] = _pct((denied & within).sum(), within.sum())
    out["stf_2022_2025_denials_percent_of_total"] = _pct((denied & within).sum(), total_denied)
    out["stf_header_referrals_n"] = total
    out["stf_header_denials_n"] = total_denied

    for tag, frame in groups.items():
        n, den = len(frame), frame[frame.decision == "denied"]
        for referrer in schema.REFERRERS:
            k = int((frame.referrer == referrer).sum())
            out[f"stg_{tag}_{referrer}_n"] = k
            out[f"stg_{tag}_{referrer}_percent"] = _pct(k, n)
        out[f"stg_{tag}_total_n"] = n
        out[f"stg_{tag}_total_percent"] = _pct(frame.referrer.isin(schema.REFERRERS).sum(), n)
        out[f"stg_header_{tag}_referrals_n"] = n
        for reason in schema.DENIAL_REASONS:
            k = int((den.denial_reason == reason).sum())
            out[f"sth_{tag}_{reason}_n"] = k
            out[f"sth_{tag}_{reason}_valid_percent"] = _pct(k, den.denial_reason.notna().sum())
        out[f"sth_{tag}_total_n"] = len(den)
        out[f"sth_{tag}_total_valid_percent"] = _pct(den.denial_reason.notna().sum(), len(den))
        out[f"sth_header_{tag}_denials_n"] = len(den)
        out[f"sth_header_{tag}_referrals_n"] = n

    # the text of Appendix 5 and 6.6 (same statistics under both prefixes)
    counts = ref.groupby("person_id").size()
    pause = ref[ref.denial_reason == "admission_pause"]
    text: dict[str, float] = {
        "referrals": total,
        "mp_referrals": total,
        "mf_referrals": total,
        "referred_patients": ref.person_id.nunique(),
        "patients_two_referrals": int((counts == 2).sum()),
        "patients_three_plus_referrals": int((counts >= 3).sum()),
        "mean_age": ref.age.mean(),
        "denied_mean_age": ref.age[denied].mean(),
        "denied_male_percent": _pct((ref.sex[denied] == "male").sum(), denied.sum()),
        "first_year_referrals_percent": _pct((ref.year == YEARS[0]).sum(), total),
        "mp_first_year_referrals_percent": _pct((ref.year == YEARS[0]).sum(), total),
        "first_year_denials_percent": _pct((denied & (ref.year == YEARS[0])).sum(), total_denied),
        "mp_first_year_denials_percent": _pct((denied & (ref.year == YEARS[0])).sum(), total_denied),
        # the average yearly rate as in Table F's total row: denials over referrals, 2022-2025 pooled
        "annual_denial_rate_average": _pct(total_denied, total),
        "annual_denial_rate_min": min(rates),
        "annual_denial_rate_max": max(rates),
        "admission_pause_first_year_percent": _pct((pause.year == YEARS[0]).sum(), len(pause)),
        # calendar years in which referrals were received
        "mp_referral_period": ref.year.nunique(),
        "mf_referral_period": ref.year.nunique(),
    }
    for tag, frame in groups.items():
        suffix = "" if tag == "all" else f"_{tag}"
        n, den = len(frame), frame[frame.decision == "denied"]
        if tag != "all":
            text[f"referrals{suffix}"] = n
            text[f"mean_age{suffix}"] = frame.age.mean()
        text[f"male_percent{suffix}"] = _pct((frame.sex == "male").sum(), n)
        text[f"secondary_percent{suffix}"] = _pct((frame.referral_type == "secondary").sum(), n)
        text[f"denied_percent{suffix}"] = _pct(len(den), n)
        for name, referrers in _TEXT_REFERRERS.items():
            text[f"referrer_{name}_percent{suffix}"] = _pct(frame.referrer.isin(referrers).sum(), n)
        for name, reason in _TEXT_REASONS.items():
            text[f"denial_{name}_percent{suffix}"] = _pct((den.denial_reason == reason).sum(), len(den))
    for name, value in text.items():
        out[f"app5_{name}"] = value
        out[f"s6_6_{name}"] = value
    return out


def _problems(tables: dict[str, pd.DataFrame], ref: pd.DataFrame) -> list[str]:
    """Referrals that break a rule of the calendar or of a person's referrals, one line each."""
    problems = []
    openings = ref.clinic.map(_opening)
    outside = (ref.referral_date < openings) | (ref.referral_date > pd.Timestamp(schema.STUDY_END))
    problems += [f"{r}: date outside the clinic's open period" for r in ref.referral_id[outside]]
    for person, group in ref.sort_values(["person_id", "referral_date"]).groupby("person_id"):
        for column in ("clinic", "sex", "patient_id"):
            if group[column].nunique(dropna=False) > 1:
                problems.append(f"{person}: more than one {column}")
        if len(group) > 1:
            gaps = group.referral_date.diff().dt.days.iloc[1:].to_numpy()
            steps = group.age.astype(float).diff().iloc[1:].to_numpy()
            full = np.floor(gaps / 365.25)
            if ((steps < full) | (steps > full + 1)).any():
                problems.append(f"{person}: ages do not match the dates")
    patients, episodes = tables["patients"], tables["episodes"]
    first = episodes.groupby("patient_id").admission_date.min()
    linked = ref[ref.patient_id.notna()]
    early = linked.groupby("patient_id").referral_date.min()
    late = early[early > first.reindex(early.index)]
    problems += [f"{p}: first referral after the first admission" for p in late.index]
    cohort = patients[["patient_id", "clinic"]].assign(admission_date=lambda f: f.patient_id.map(first))
    pause = ref[ref.denial_reason == "admission_pause"]
    for clinic, (start, stop) in _pause_windows(cohort).items():
        at = pause[pause.clinic == clinic]
        problems += [
            f"{r}: admission-pause denial outside the pause"
            for r in at.referral_id[(at.referral_date < start) | (at.referral_date > stop)]
        ]
    return problems


def _consistency(tables: dict[str, pd.DataFrame]) -> list[Target]:
    """Checks that tie the referrals to the cohort and to the calendar (not ledger figures)."""
    ref = tables["referrals"].copy()
    ref["referral_date"] = pd.to_datetime(ref.referral_date)
    patients = tables["patients"]
    episodes = tables["episodes"]
    first = episodes.groupby("patient_id").admission_date.min()
    accepted = ref[(ref.decision == "accepted") & ref.patient_id.notna()].merge(
        patients[["patient_id", "clinic", "sex", "age_at_admission"]], on="patient_id", suffixes=("", "_patient")
    )
    accepted["lag"] = (accepted.patient_id.map(first) - accepted.referral_date).dt.days
    whole = np.floor(accepted.age_at_admission.astype(float).round(1) + 1e-9)
    good = accepted[
        (accepted.clinic == accepted.clinic_patient)
        & (accepted.sex == accepted.sex_patient)
        & accepted.lag.between(0, MAX_LAG_DAYS)
        & ((accepted.age.astype(float) == whole) | (accepted.age.astype(float) == whole - 1))
    ]
    linked = good.patient_id.nunique()

    problems = _problems(tables, ref)
    persons = ref.drop_duplicates("person_id")
    return [
        Target(
            "referrals_cohort_patients_linked",
            linked,
            target=float(len(patients)),
            tolerance=0.0,
            description="Cohort patients with an accepted referral at their clinic, same sex, age at "
            "referral the whole years of age at first admission (or one less), 0-120 days before it",
        ),
        Target(
            "referrals_inconsistencies",
            len(problems),
            target=0.0,
            tolerance=0.0,
            description="Referrals breaking a rule: date outside the clinic's open period, a person's "
            "referrals to two clinics or with two sexes, ages not matching the dates, an "
            "admission-pause denial outside the clinic's pause",
        ),
        Target(
            "referrals_persons_male_percent",
            _pct((persons.sex == "male").sum(), len(persons)),
            target=_pub("s6_6_male_percent", 75.0),
            tolerance=0.5,
            description="Percent male among referred persons (6.6 says 'referred patients'; Table E counts referrals)",
        ),
    ]


def targets(tables: dict[str, pd.DataFrame]) -> list[Target]:
    """Every ledger key of Appendix 5 and every s6_6_* key, plus consistency with the cohort."""
    stats = _statistics(tables["referrals"])
    book = ledger()
    keys = [k for k in book.index if book.loc[k, "section"] == "Appendix 5" or str(k).startswith("s6_6_")]
    out = []
    for key in keys:
        if key not in stats:
            raise KeyError(f"no statistic computed for ledger key {key}")
        reason = CONTRADICTIONS.get(key, "") or _cohort_minimum_reason(tables, key, stats[key])
        out.append(Target(key, float(stats[key]), reason=reason))
    return out + _consistency(tables)


_AGE_GROUPS = {
    "ste_clinic_all": lambda f: f.index == f.index,
    "ste_clinic_oslo": lambda f: f.clinic == "Oslo",
    "ste_clinic_bergen": lambda f: f.clinic == "Bergen",
    "ste_incl_total": lambda f: f.index == f.index,
    "ste_incl_included": lambda f: f.decision == "accepted",
    "ste_incl_not_included": lambda f: f.decision == "denied",
}


def _cohort_minimum_reason(tables: dict[str, pd.DataFrame], key: str, achieved: float) -> str:
    """A reason when a Table E minimum age is missed because of a cohort patient's age at admission.

    The cohort (synthetic/core.py) fixes its patients' ages; a patient's referral age is the whole
    years of age at admission or one less, so a patient younger than the published minimum of a column
    makes that minimum impossible.
    """
    prefix = key.removesuffix("_age_min")
    if prefix == key or prefix not in _AGE_GROUPS or achieved >= published(key):
        return ""
    ref = tables["referrals"]
    rows = ref[_AGE_GROUPS[prefix](ref) & (ref.age.astype(float) == achieved) & ref.patient_id.notna()]
    patients = tables["patients"].set_index("patient_id")
    young = [
        pid
        for pid in rows.patient_id.unique()
        if np.floor(float(patients.loc[pid, "age_at_admission"]) + 1e-9) < published(key)
    ]
    if not young:
        return ""
    pid = young[0]
    return (
        f"the cohort's patient {pid} ({patients.loc[pid, 'clinic']}) is "
        f"{float(patients.loc[pid, 'age_at_admission']):.1f} at first admission, so at most "
        f"{int(np.floor(float(patients.loc[pid, 'age_at_admission']) + 1e-9))} when referred; Table E's "
        f"minimum of {published(key):.0f} for this column needs that patient aged at least "
        f"{published(key):.1f} (or, for Bergen, admitted in Oslo); set by synthetic/core.py"
    )
