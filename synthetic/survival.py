"""Kaplan-Meier retention for the generator: the estimate of staying in treatment, its value at one year
and its median, the definitions of the report's section 6.1 (a year of 365.25 days; the median is the first
time the estimate falls below one half)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.units import YEAR_DAYS


def kaplan_meier(days, discharged) -> pd.DataFrame:
    """Kaplan-Meier estimate of staying in treatment.

    ``days``: time from admission to discharge (or to the data end); ``discharged``: True for an
    observed discharge, False for a censored (still open) episode. Returns one row per distinct
    discharge time: days, number at risk (time >= t), discharges at t, and the estimate just after t.
    """
    days = np.asarray(days, dtype=float)
    discharged = np.asarray(discharged, dtype=bool)
    times = np.unique(days[discharged])
    at_risk = (days[None, :] >= times[:, None]).sum(axis=1)
    events = ((days[None, :] == times[:, None]) & discharged[None, :]).sum(axis=1)
    survival = np.cumprod(1.0 - events / at_risk)
    return pd.DataFrame({"days": times, "at_risk": at_risk, "discharges": events, "survival": survival})


def km_summary(days, discharged) -> tuple[float, float]:
    """(estimate at one year = 365.25 days, median in days = first time the estimate is below 1/2)."""
    curve = kaplan_meier(days, discharged)
    before = curve[curve.days <= YEAR_DAYS]
    one_year = float(before.survival.iloc[-1]) if len(before) else 1.0
    below = curve[curve.survival < 0.5]
    median = float(below.days.iloc[0]) if len(below) else float("nan")
    return one_year, median


def km_fast(times: np.ndarray, events: np.ndarray) -> tuple[float, float]:
    """The same two numbers as :func:`km_summary`, for the search loop (one discharge at a time)."""
    everyone = np.sort(times)
    ev = np.sort(times[events])
    tied_before = np.arange(len(ev)) - ev.searchsorted(ev, side="left")
    at_risk = len(everyone) - everyone.searchsorted(ev, side="left") - tied_before
    surv = np.cumprod(1.0 - 1.0 / at_risk)
    k = int(ev.searchsorted(YEAR_DAYS, side="right"))
    one_year = float(surv[k - 1]) if k else 1.0
    # the estimate after all discharges tied at a time: last entry of each tie group
    last = np.ones(len(ev), dtype=bool)
    last[:-1] = ev[1:] != ev[:-1]
    below = np.flatnonzero(last & (surv < 0.5))
    median = float(ev[below[0]]) if len(below) else float("nan")
    return one_year, median
