"""Cost-utility analysis (report section 6.7 and Appendix 4): QALYs, programme costs, ICERs, net benefit,
difference-in-differences.

Every function takes tidy pandas frames or plain numbers and returns tidy frames or numbers. The
definitions used throughout:

* *utility* is an EQ-5D-5L index value (1 = full health, 0 = dead, negative = worse than dead), and *time*
  is in years. A *QALY* total is the area under a patient's utility curve, the curve being the straight
  lines joining consecutive measurements (the trapezoid rule); nothing is extrapolated before the first or
  after the last measurement. *Annualized* QALYs are that area divided by the years it spans, i.e. the
  mean utility over the observed time.
* the *cost per treatment day* of a clinic-year is the clinic's total cost that year divided by the
  treatment days (patient-days) observed there that year; a patient's *programme cost* is the sum over the
  clinic-years of their treatment days times that cost per day.
* an *ICER* (incremental cost-effectiveness ratio) is an incremental cost divided by an incremental effect,
  both taken against the next cheaper strategy on the cost-effectiveness frontier. A strategy is
  *dominated* (strongly) when another costs no more and gives at least as much effect; it is *extendedly
  dominated* when a mix of two other strategies would give more effect for the same cost, which shows as
  its ICER being larger than that of the next more effective strategy on the frontier.
* *net monetary benefit* at a willingness to pay ``wtp`` (NOK per QALY) is ``wtp * effect - cost``; the
  incremental NMB of one strategy over another is ``wtp * delta_effect - delta_cost``.
* a *difference-in-differences* (DiD) is the mean change from before to after in the treated group minus
  the mean change in the comparison group. The report calls the negative of a cost DiD a *cost offset*
  (a positive offset is a saving in the treated group).

The ICER algorithm follows the one documented for the R package dampack (``calculate_icers``; Alarid-
Escudero, Enns, Knowlton et al., DARTH workgroup); this is our own implementation, checked against the
package's documented example (see ``tests/test_cea.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.data.units import DAYS_PER_YEAR, TREATMENT_DAYS_PER_YEAR

#: Status labels of :func:`icers`.
REFERENCE = "reference"
NON_DOMINATED = "non-dominated"
DOMINATED = "dominated"
EXTENDEDLY_DOMINATED = "extendedly dominated"

#: Labels of a two-strategy comparison (:func:`dominance`).
DOMINANT = "dominant"
MORE_COSTLY_MORE_EFFECTIVE = "more costly, more effective"
LESS_COSTLY_LESS_EFFECTIVE = "less costly, less effective"
EQUIVALENT = "equivalent"


# --- QALYs ----------------------------------------------------------------------------------------


def _as_years(values: pd.Series, origin: pd.Timestamp | None) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values):
        return ((values - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float) / DAYS_PER_YEAR
    return values.to_numpy(dtype=float)


def _bound_years(bound, origin: pd.Timestamp | None) -> float | None:
    if bound is None:
        return None
    if origin is not None:
        return (pd.Timestamp(bound) - origin) / pd.Timedelta(days=1) / DAYS_PER_YEAR
    return float(bound)


def auc_trapezoid(
    times: Sequence[float], values: Sequence[float], start: float | None = None, end: float | None = None
) -> tuple[float, float]:
    """Area under the straight-line curve through ``(times, values)`` and the time it spans.

    ``times`` must be sorted and distinct. With ``start`` or ``end`` the curve is cut to that window; the
    value at a cut is linearly interpolated between the measurements either side. The window is never
    extended beyond the first or last measurement. Returns ``(area, span)``; both are NaN when fewer than
    two measurements fall in or around the window (no curve to integrate).
    """
    t = np.asarray(times, dtype=float)
    u = np.asarray(values, dtype=float)
    if len(t) < 2:
        return math.nan, math.nan
    lo = t[0] if start is None else max(float(start), t[0])
    hi = t[-1] if end is None else min(float(end), t[-1])
    if hi < lo:
        return math.nan, math.nan
    inside = (t > lo) & (t < hi)
    grid = np.concatenate(([lo], t[inside], [hi]))
    curve = np.interp(grid, t, u)
    area = float(np.sum(np.diff(grid) * (curve[1:] + curve[:-1]) / 2))
    return area, float(hi - lo)


def qalys_auc(frame: pd.DataFrame, id: str, time: str, utility: str, start=None, end=None) -> pd.DataFrame:
    """QALYs per patient by the area under the utility curve (trapezoid rule between measurements).

    ``frame`` has one row per measurement: a patient identifier ``id``, the time ``time`` in years (or as
    dates, then converted to years of 365.25 days) and a utility ``utility``. Rows with an empty utility
    are ignored; measurements at the same time are averaged. The curve joins consecutive measurements
    with straight lines; with ``start``/``end`` it is cut to that window (same unit as ``time``), the value
    at a cut interpolated linearly. Nothing is extrapolated beyond a patient's first or last measurement.

    Returns one row per patient: ``id``, ``n_measurements`` (distinct times with a utility), ``qalys`` (the
    area, in quality-adjusted life years), ``years`` (the time the area spans) and ``annualized_qalys`` =
    qalys / years (the mean utility over the observed time; NaN when years is 0). Patients with fewer than
    two measurements get NaN: one point has no area. The report's accumulated analysis keeps patients
    with two or more measurements.
    """
    data = frame[[id, time, utility]].dropna(subset=[utility, time])
    origin = None
    if pd.api.types.is_datetime64_any_dtype(data[time]):
        origin = pd.Timestamp("1970-01-01")
    data = data.assign(_t=_as_years(data[time], origin), _u=data[utility].astype(float))
    data = data.groupby([id, "_t"], as_index=False, sort=True)["_u"].mean()
    lo, hi = _bound_years(start, origin), _bound_years(end, origin)
    rows = []
    for patient, one in data.groupby(id, sort=True):
        area, span = auc_trapezoid(one["_t"].to_numpy(), one["_u"].to_numpy(), lo, hi)
        rows.append((patient, len(one), area, span))
    out = pd.DataFrame(rows, columns=[id, "n_measurements", "qalys", "years"])
    out["annualized_qalys"] = np.where(out["years"] > 0, out["qalys"] / out["years"].where(out["years"] > 0), np.nan)
    return out


# --- programme costs -------------------------------------------------------------------------------


def cost_per_treatment_day(
    program_costs: pd.DataFrame,
    total_cost: str = "total_cost_nok",
    patient_days: str = "patient_days",
    by: Sequence[str] = ("clinic", "year"),
) -> pd.DataFrame:
    """Cost per treatment day of each clinic-year: total clinic cost / observed patient-days.

    ``program_costs`` has one row per clinic-year (the layout of Table 6.C). Returns the columns ``by``,
    ``total_cost``, ``patient_days`` and ``cost_per_day`` (unrounded; Table 6.C prints it to the krone).
    """
    by = list(by)
    out = program_costs[by + [total_cost, patient_days]].copy()
    out["cost_per_day"] = out[total_cost] / out[patient_days]
    return out.reset_index(drop=True)


def gross_cost_per_patient_year(
    total_cost: float, patient_days: float, days_per_year: float = TREATMENT_DAYS_PER_YEAR
) -> float:
    """Gross programme cost of one patient-year: (total cost / patient-days) * days in a year.

    A patient-year is ``days_per_year`` treatment days (365 by default, which is how the report's
    per-patient-year figure follows from Table 6.C's totals).
    """
    return float(total_cost) / float(patient_days) * float(days_per_year)


def program_cost_per_patient(
    days_per_patient_year: pd.DataFrame,
    clinic_cost_per_day: pd.DataFrame,
    id: str = "patient_id",
    days: str = "days",
    cost_per_day: str = "cost_per_day",
    by: Sequence[str] = ("clinic", "year"),
) -> pd.DataFrame:
    """Programme cost per patient: the sum over clinic-years of treatment days times that clinic-year's cost per day.

    ``days_per_patient_year`` has one row per patient per clinic-year with the treatment days ``days``
    (e.g. from :func:`treatment_days_by_year`); ``clinic_cost_per_day`` one row per clinic-year with
    ``cost_per_day`` (e.g. from :func:`cost_per_treatment_day`). Every clinic-year with days must have a
    cost. Returns one row per patient: ``id``, ``days`` (total treatment days), ``cost`` (NOK).
    """
    by = list(by)
    merged = days_per_patient_year[[id, *by, days]].merge(
        clinic_cost_per_day[[*by, cost_per_day]], on=by, how="left", validate="many_to_one"
    )
    missing = merged[cost_per_day].isna() & (merged[days] > 0)
    if missing.any():
        gaps = merged.loc[missing, by].drop_duplicates().to_dict("records")
        raise ValueError(f"no cost per day for {gaps}")
    merged["cost"] = merged[days] * merged[cost_per_day].fillna(0.0)
    return merged.groupby(id, as_index=False, sort=True).agg(**{days: (days, "sum"), "cost": ("cost", "sum")})


def treatment_days_by_year(
    frame: pd.DataFrame, id: str, start: str, end: str, keys: Sequence[str] = (), data_end=None
) -> pd.DataFrame:
    """Treatment days per patient per calendar year from episodes ``[start, end]``, both days counted.

    An empty ``end`` means the episode is still running at ``data_end`` (required then). Extra columns
    ``keys`` (e.g. ``clinic``) are carried along. Returns one row per ``id``, keys, ``year`` with ``days``.
    """
    keys = list(keys)
    starts = pd.to_datetime(frame[start]).dt.normalize()
    ends = pd.to_datetime(frame[end]).dt.normalize()
    if ends.isna().any():
        if data_end is None:
            raise ValueError("an episode has no end date: give data_end")
        ends = ends.fillna(pd.Timestamp(data_end).normalize())
    rows = []
    for i, (s, e) in enumerate(zip(starts, ends)):
        if e < s:
            continue
        for year in range(s.year, e.year + 1):
            a = max(s, pd.Timestamp(year=year, month=1, day=1))
            b = min(e, pd.Timestamp(year=year, month=12, day=31))
            rows.append((i, year, int((b - a).days) + 1))
    spans = pd.DataFrame(rows, columns=["_row", "year", "days"])
    carried = frame[[id, *keys]].reset_index(drop=True)
    spans = spans.join(carried, on="_row")
    return spans.groupby([id, *keys, "year"], as_index=False, sort=True)["days"].sum()


# --- ICERs and dominance ---------------------------------------------------------------------------


def icers(frame: pd.DataFrame, strategy: str, cost: str, effect: str) -> pd.DataFrame:
    """ICERs along the cost-effectiveness frontier, with dominance labels (the dampack algorithm).

    1. Order the strategies by cost, and by effect (highest first) among equal costs.
    2. *Dominated*: a strategy with at least the cost and at most the effect of another strategy earlier
       in that order. (Of two identical strategies, the one listed first is kept.)
    3. *Extendedly dominated*: among the rest, in cost order, compute each strategy's ICER against the one
       before it; a strategy whose ICER exceeds the next strategy's ICER is removed. Repeat until none is.
    4. The cheapest survivor is the *reference*; each other survivor is *non-dominated* and gets
       ``inc_cost``, ``inc_effect`` and ``icer`` against the survivor before it. Strategies on one straight
       line (equal ICERs) all stay on the frontier.

    Returns one row per strategy with ``strategy``, ``cost``, ``effect``, ``inc_cost``, ``inc_effect``,
    ``icer`` and ``status``, ordered: reference, non-dominated by cost, extendedly dominated, dominated.
    Incremental columns are NaN for the reference and for dominated strategies.
    """
    data = pd.DataFrame(
        {
            "strategy": frame[strategy].to_numpy(),
            "cost": frame[cost].to_numpy(dtype=float),
            "effect": frame[effect].to_numpy(dtype=float),
        }
    )
    if data["strategy"].duplicated().any():
        raise ValueError("strategy names must be unique")
    if data[["cost", "effect"]].isna().any().any():
        raise ValueError("cost and effect must not be empty")
    data["_order"] = np.arange(len(data))
    data = data.sort_values(["cost", "effect", "_order"], ascending=[True, False, True], kind="stable").reset_index(
        drop=True
    )
    best_so_far = data["effect"].cummax().shift(1)
    dominated = (data["effect"] <= best_so_far).to_numpy()
    status = np.where(dominated, DOMINATED, NON_DOMINATED).astype(object)

    frontier = list(np.flatnonzero(~dominated))
    while len(frontier) > 2:
        c = data.loc[frontier, "cost"].to_numpy()
        e = data.loc[frontier, "effect"].to_numpy()
        ratio = np.diff(c) / np.diff(e)  # ratio[k] is the ICER of frontier[k + 1]
        worse = np.flatnonzero(ratio[:-1] > ratio[1:]) + 1
        if len(worse) == 0:
            break
        for k in worse:
            status[frontier[k]] = EXTENDEDLY_DOMINATED
        frontier = [f for k, f in enumerate(frontier) if k not in set(worse)]

    data["status"] = status
    data["inc_cost"] = np.nan
    data["inc_effect"] = np.nan
    data["icer"] = np.nan
    if frontier:
        data.loc[frontier[0], "status"] = REFERENCE
        for prev, cur in zip(frontier[:-1], frontier[1:]):
            dc = data.at[cur, "cost"] - data.at[prev, "cost"]
            de = data.at[cur, "effect"] - data.at[prev, "effect"]
            data.loc[cur, ["inc_cost", "inc_effect", "icer"]] = [dc, de, dc / de]
    rank = {REFERENCE: 0, NON_DOMINATED: 1, EXTENDEDLY_DOMINATED: 2, DOMINATED: 3}
    data["_rank"] = data["status"].map(rank)
    data = data.sort_values(["_rank", "cost", "effect"], ascending=[True, True, False], kind="stable")
    return data[["strategy", "cost", "effect", "inc_cost", "inc_effect", "icer", "status"]].reset_index(drop=True)


def dominance(delta_cost: float, delta_effect: float) -> str:
    """The quadrant of the cost-effectiveness plane of one strategy against another.

    ``dominant``: no more costly and at least as effective (not both equal); ``dominated``: no less costly
    and at most as effective (not both equal); ``equivalent``: both differences zero; otherwise ``more
    costly, more effective`` (north-east, where an ICER is a price per QALY gained) or ``less costly, less
    effective`` (south-west, where an ICER is the saving per QALY given up).
    """
    dc, de = float(delta_cost), float(delta_effect)
    if dc == 0 and de == 0:
        return EQUIVALENT
    if dc <= 0 and de >= 0:
        return DOMINANT
    if dc >= 0 and de <= 0:
        return DOMINATED
    return MORE_COSTLY_MORE_EFFECTIVE if dc > 0 else LESS_COSTLY_LESS_EFFECTIVE


#: An effect difference smaller than this gives no ICER: it prints as 0.000 QALYs, and a cost divided by almost
#: nothing has no meaning as a price.
NEGLIGIBLE_EFFECT = 0.0005


def icer(delta_cost: float, delta_effect: float) -> float:
    """The incremental cost-effectiveness ratio of an intervention against a comparator, ``delta_cost /
    delta_effect`` (NOK per QALY), or NaN. This is the book's one rule for when an ICER is given.

    The ratio is given only when the intervention is more costly and more effective (north-east, see
    :func:`dominance`) by at least :data:`NEGLIGIBLE_EFFECT`: it is then the price of the QALYs gained, and the
    ICER that :func:`icers` (dampack) gives the intervention on a two-strategy frontier. NaN otherwise:

    * *dominant* or *dominated* (or *equivalent*): no trade-off, the label says it all; on the frontier the
      dominated strategy has no ICER and a dominant intervention is the reference;
    * *less costly, less effective* (south-west): the intervention is then the frontier's reference and the
      ratio belongs to the comparator, as a saving per QALY given up, which the report never prints;
    * a negligible or missing difference.
    """
    dc, de = float(delta_cost), float(delta_effect)
    if (
        math.isnan(dc)
        or math.isnan(de)
        or dominance(dc, de) != MORE_COSTLY_MORE_EFFECTIVE
        or abs(de) < NEGLIGIBLE_EFFECT
    ):
        return math.nan
    return dc / de


def comparison(delta_cost: float, delta_effect: float) -> dict:
    """One two-strategy comparison: ``icer`` (:func:`icer`) and ``status`` (:func:`dominance`; "" when a
    difference is missing)."""
    if math.isnan(float(delta_cost)) or math.isnan(float(delta_effect)):
        return {"icer": math.nan, "status": ""}
    return {"icer": icer(delta_cost, delta_effect), "status": dominance(delta_cost, delta_effect)}


def compare(
    frame: pd.DataFrame, strategy: str, cost: str, effect: str, intervention, comparators: Sequence | None = None
) -> pd.DataFrame:
    """Two-strategy comparisons of ``intervention`` against each comparator (Tables 6.E and 6.G).

    ``frame`` has one row per strategy (e.g. group means of cost and QALYs). For each comparator: the
    intervention's cost and effect minus the comparator's (``delta_cost``, ``delta_effect``), the ICER
    (:func:`icer`) and the quadrant label (:func:`dominance`). ``comparators`` defaults to every other
    strategy, in frame order.
    """
    values = frame.set_index(strategy)[[cost, effect]].astype(float)
    if comparators is None:
        comparators = [s for s in values.index if s != intervention]
    rows = []
    for other in comparators:
        dc = values.at[intervention, cost] - values.at[other, cost]
        de = values.at[intervention, effect] - values.at[other, effect]
        rows.append((intervention, other, dc, de, *comparison(dc, de).values()))
    return pd.DataFrame(rows, columns=["intervention", "comparator", "delta_cost", "delta_effect", "icer", "status"])


def icer_range_from_rounded(
    delta_cost: float, delta_effect: float, effect_decimals: int, cost_decimals: int = 0
) -> tuple[float, float]:
    """The interval of ICERs consistent with a cost and an effect rounded to the given decimals.

    A printed ICER computed from unrounded inputs can differ from the ratio of the printed inputs; it is
    consistent with them when it lies in this interval (both differences assumed positive).
    """
    half_c, half_e = 0.5 * 10.0**-cost_decimals, 0.5 * 10.0**-effect_decimals
    return (delta_cost - half_c) / (delta_effect + half_e), (delta_cost + half_c) / (delta_effect - half_e)


# --- net monetary benefit --------------------------------------------------------------------------


def net_monetary_benefit(delta_cost, delta_effect, wtp):
    """Incremental net monetary benefit ``wtp * delta_effect - delta_cost`` (NOK).

    Positive means the intervention is worth its extra cost at that willingness to pay. Numbers or numpy
    arrays (broadcast together).
    """
    result = np.multiply(wtp, delta_effect) - np.asarray(delta_cost, dtype=float)
    return float(result) if np.ndim(result) == 0 else result


def nmb_curve(delta_cost: float, delta_effect: float, wtp_grid: Sequence[float]) -> pd.DataFrame:
    """Incremental NMB over a grid of willingness-to-pay values: columns ``wtp`` and ``inmb``.

    The line crosses zero at the ICER (when the intervention is more costly and more effective).
    """
    wtp = np.asarray(wtp_grid, dtype=float)
    return pd.DataFrame({"wtp": wtp, "inmb": wtp * float(delta_effect) - float(delta_cost)})


# --- difference-in-differences ---------------------------------------------------------------------


def _two_levels(values: pd.Series, chosen, name: str):
    levels = sorted(values.dropna().unique().tolist())
    if chosen is not None:
        if chosen not in levels:
            raise ValueError(f"{name} {chosen!r} not found among {levels}")
        return chosen
    if len(levels) != 2:
        raise ValueError(f"{name} must be given when there are not exactly two levels ({levels})")
    return levels[1]


def did_cells(frame: pd.DataFrame, group: str, period: str, outcome: str, treated=None, after=None) -> pd.DataFrame:
    """The four cells of a difference-in-differences: mean ``outcome`` and count per group and period.

    Returns columns ``group`` (``treated``/``comparison``), ``period`` (``before``/``after``), ``mean``, ``n``.
    ``treated`` and ``after`` name the treated group and the later period; with exactly two levels they
    default to the larger (``True``, 1, the later label in sort order). Rows with an empty outcome are
    ignored.
    """
    data = frame[[group, period, outcome]].dropna(subset=[outcome])
    treated = _two_levels(frame[group], treated, "treated")
    after = _two_levels(frame[period], after, "after")
    data = data.assign(
        _g=np.where(data[group] == treated, "treated", "comparison"),
        _p=np.where(data[period] == after, "after", "before"),
    )
    cells = data.groupby(["_g", "_p"])[outcome].agg(["mean", "count"]).rename(columns={"count": "n"})
    index = pd.MultiIndex.from_product([["treated", "comparison"], ["before", "after"]], names=["group", "period"])
    cells = cells.rename_axis(["group", "period"]).reindex(index).reset_index()
    cells["n"] = cells["n"].fillna(0).astype(int)
    return cells


def difference_in_differences(
    frame: pd.DataFrame, group: str, period: str, outcome: str, treated=None, after=None
) -> float:
    """Mean change in the treated group minus mean change in the comparison group.

    ``(treated after - treated before) - (comparison after - comparison before)``, each a mean of
    ``outcome`` over the rows of that group and period (see :func:`did_cells` for ``treated``/``after``).
    For costs, a negative DiD means costs fell more (or rose less) in the treated group; the report's
    *cost offset* is the negative of it. With one row per patient per period and no missing rows this
    equals the mean of the patients' own changes, treated minus comparison.
    """
    cells = did_cells(frame, group, period, outcome, treated, after).set_index(["group", "period"])["mean"]
    return float(
        (cells["treated", "after"] - cells["treated", "before"])
        - (cells["comparison", "after"] - cells["comparison", "before"])
    )


def bootstrap_did(
    frame: pd.DataFrame,
    group: str,
    period: str,
    outcome: str,
    unit: str | None = None,
    treated=None,
    after=None,
    n_replicates: int = 5000,
    seed: int | np.random.Generator | None = 2026,
    level: float = 0.95,
) -> pd.DataFrame:
    """Non-parametric bootstrap confidence interval of :func:`difference_in_differences`.

    Units (``unit``, e.g. the patient; each row is its own unit when ``None``) are resampled with
    replacement within each group, keeping all of a unit's rows together; each replicate's DiD is
    computed from the resampled cell means. The interval is the percentile interval at ``level``.
    Returns one row: ``estimate``, ``ci_lower``, ``ci_upper``, ``se`` (standard deviation of the
    replicates), ``n_replicates``. Seeded: the same seed gives the same result.
    """
    rng = np.random.default_rng(seed)
    data = frame.dropna(subset=[outcome]).copy()
    treated = _two_levels(frame[group], treated, "treated")
    after = _two_levels(frame[period], after, "after")
    data["_unit"] = data[unit] if unit is not None else np.arange(len(data))
    data["_after"] = data[period] == after
    data["_y"] = data[outcome].astype(float)
    estimate = difference_in_differences(frame, group, period, outcome, treated, after)
    changes = np.zeros(n_replicates)
    for name, sign in ((True, 1.0), (False, -1.0)):
        part = data[(data[group] == treated) == name]
        per_unit = part.groupby(["_unit", "_after"])["_y"].agg(["sum", "count"]).unstack("_after", fill_value=0)
        sums = per_unit["sum"].reindex(columns=[False, True], fill_value=0).to_numpy(dtype=float)
        counts = per_unit["count"].reindex(columns=[False, True], fill_value=0).to_numpy(dtype=float)
        draw = rng.integers(0, len(per_unit), size=(n_replicates, len(per_unit)))
        s = sums[draw].sum(axis=1)
        n = counts[draw].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = s / n
        changes += sign * (means[:, 1] - means[:, 0])
    alpha = (1 - level) / 2
    lower, upper = np.nanquantile(changes, [alpha, 1 - alpha])
    return pd.DataFrame(
        {
            "estimate": [estimate],
            "ci_lower": [lower],
            "ci_upper": [upper],
            "se": [float(np.nanstd(changes, ddof=1))],
            "n_replicates": [n_replicates],
        }
    )
