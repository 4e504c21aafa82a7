"""Helpers of the cost-effectiveness primer (book/appendix_primer.md): several EQ-5D-5L value sets, small
worked examples and their charts, and the exact answers for normally distributed (delta cost, delta QALY).

Definitions used throughout:

* a *value set* turns an EQ-5D-5L answer profile (one level 1-5 on each of mobility MO, self-care SC, usual
  activities UA, pain/discomfort PD and anxiety/depression AD) into an index: 1 minus the sum of the five
  decrements the set gives for those levels (:func:`analysis.sections.quality_of_life.eq5d_index`). The sets read here
  are additive, with no intercept and no interaction term. The book's set is the Norwegian one
  (``data/reference/eq5d5l_value_set_norway.csv``); the others (England, Denmark, Sweden) come from a file of
  several sets with columns ``value_set, dimension, level, decrement``.
* a *trapezoid* of a utility path is the area between two consecutive measurements: the interval's width in
  years times the mean of the utilities at its two ends. Their sum is the area under the curve
  (:func:`analysis.methods.cea.auc_trapezoid`).
* for a draw of incremental cost ``dC`` and incremental QALYs ``dQ`` from a bivariate normal distribution
  (means ``mc, mq``, standard deviations ``sc, sq``, correlation ``rho``), the incremental net monetary
  benefit at a willingness to pay ``w`` is normal with mean ``w*mq - mc`` and variance
  ``w^2 sq^2 + sc^2 - 2 w rho sq sc``. The probability that it is positive is the acceptability curve and
  ``E[max(0, INMB)] - max(0, E[INMB])`` is the EVPI, both in closed form (:func:`normal_ceac`,
  :func:`normal_evpi`); a seeded sample of the same distribution (:func:`normal_draws`) approaches them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import cast  # alt.layer is typed LayerChart | FacetChart; layers without facet encodings give a LayerChart

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from analysis.data.published import DEFAULT_DATA_DIR
from analysis.data.schema import EQ5D_DIMENSIONS
from analysis.methods import cea
from analysis.presentation.cea_charts import ACCENT, LIGHT, NEUTRAL, NOK, THRESHOLD_COLOUR
from analysis.sections import quality_of_life as qol

#: Where the other countries' value sets are looked for: the repository's reference data (the file
#: :func:`analysis.sections.quality_of_life.value_set` reads too; sources in data/reference/README.md).
VALUE_SETS_CANDIDATES = (DEFAULT_DATA_DIR / qol.OTHER_VALUE_SETS_PATH,)
#: The book's own value set.
BOOK_SET = "Norway"
DIMENSIONS = [d.upper() for d in EQ5D_DIMENSIONS]  # MO, SC, UA, PD, AD


# --- value sets -------------------------------------------------------------------------------------


def _check_value_set(name: str, frame: pd.DataFrame) -> None:
    expected = {(d, level) for d in DIMENSIONS for level in range(1, 6)}
    found = set(zip(frame["dimension"], frame["level"]))
    if found != expected or len(frame) != 25:
        raise ValueError(f"value set {name!r}: needs one decrement for each of the 5 dimensions x 5 levels")
    if not (frame.loc[frame["level"] == 1, "decrement"] == 0).all():
        raise ValueError(f"value set {name!r}: level 1 (no problems) must have decrement 0")


def value_sets(path: str | Path | None = None, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Every EQ-5D-5L value set available, long: ``value_set``, ``dimension``, ``level``, ``decrement``.

    The Norwegian set is always the book's file (``<data_dir>/reference/eq5d5l_value_set_norway.csv``).
    Other sets are read from ``path`` or, when it is None, from the first file of
    :data:`VALUE_SETS_CANDIDATES` that exists; with no such file only Norway is returned. A Norwegian set in
    that file must agree with the book's file (a ValueError otherwise). Every set needs 25 rows (5
    dimensions x 5 levels) with decrement 0 at level 1. Norway comes first, the others in file order.
    """
    norway = qol.value_set(data_dir).assign(value_set=BOOK_SET)
    norway["dimension"] = norway["dimension"].str.upper()
    parts = [norway[["value_set", "dimension", "level", "decrement"]]]
    if path is None:
        path = next((p for p in VALUE_SETS_CANDIDATES if Path(p).is_file()), None)
    if path is not None:
        other = pd.read_csv(path)
        other["dimension"] = other["dimension"].str.upper()
        other["level"] = other["level"].astype(int)
        if (other["value_set"] == BOOK_SET).any():
            theirs = other[other["value_set"] == BOOK_SET].set_index(["dimension", "level"])["decrement"]
            ours = norway.set_index(["dimension", "level"])["decrement"]
            if not np.allclose(
                theirs.reindex(ours.index).to_numpy(dtype=float), ours.to_numpy(dtype=float), atol=1e-12
            ):
                raise ValueError(f"{path}: its Norwegian set differs from the book's value set")
        for name in dict.fromkeys(other["value_set"]):
            if name != BOOK_SET:
                parts.append(other.loc[other["value_set"] == name, ["value_set", "dimension", "level", "decrement"]])
    out = pd.concat(parts, ignore_index=True)
    for name, one in out.groupby("value_set", sort=False):
        _check_value_set(name, one)
    return out


def one_set(sets: pd.DataFrame, name: str) -> pd.DataFrame:
    """One value set out of :func:`value_sets`, in the layout :func:`analysis.sections.quality_of_life.eq5d_index` takes."""
    chosen = sets[sets["value_set"] == name]
    if chosen.empty:
        raise KeyError(f"no value set {name!r}; available: {list(dict.fromkeys(sets['value_set']))}")
    return chosen[["dimension", "level", "decrement"]].reset_index(drop=True)


def parse_profile(profile) -> tuple[int, ...]:
    """An answer profile as five levels (MO, SC, UA, PD, AD): from ``"23142"``, ``"2-3-1-4-2"`` or a sequence."""
    if isinstance(profile, str):
        levels = [int(c) for c in re.sub(r"[^0-9]", "", profile)]
    else:
        levels = [int(x) for x in profile]
    if len(levels) != 5 or not all(1 <= x <= 5 for x in levels):
        raise ValueError(f"an EQ-5D-5L profile is five levels from 1 to 5, got {profile!r}")
    return tuple(levels)


def profile_label(profile) -> str:
    """``"2-3-1-4-2"`` for a profile in any form :func:`parse_profile` reads."""
    return "-".join(str(x) for x in parse_profile(profile))


def profile_questionnaires(profiles: Sequence) -> pd.DataFrame:
    """Questionnaire-like rows (columns ``eq5d_mo`` ... ``eq5d_ad`` and ``profile``) for answer profiles."""
    rows = [dict(zip(qol.EQ5D_COLUMNS, parse_profile(p)), profile=profile_label(p)) for p in profiles]
    return pd.DataFrame(rows, columns=[*qol.EQ5D_COLUMNS, "profile"])


def value_profiles(profiles: Sequence, sets: pd.DataFrame) -> pd.DataFrame:
    """Each profile valued with each set: one row per profile and set, with the five decrements and the index.

    Columns ``profile``, ``value_set``, ``MO`` ... ``AD`` (the decrement of the profile's level on that
    dimension) and ``index`` (1 minus their sum, computed by :func:`analysis.sections.quality_of_life.eq5d_index`).
    """
    answers = profile_questionnaires(profiles)
    rows = []
    for name in dict.fromkeys(sets["value_set"]):
        values = one_set(sets, name)
        lookup = values.set_index(["dimension", "level"])["decrement"]
        index = qol.eq5d_index(answers, values)
        for i, answer in answers.iterrows():
            row = {"profile": answer["profile"], "value_set": name}
            row.update({d: float(lookup[(d, int(answer[f"eq5d_{d.lower()}"]))]) for d in DIMENSIONS})
            row["index"] = float(index.iloc[i])
            rows.append(row)
    return pd.DataFrame(rows, columns=["profile", "value_set", *DIMENSIONS, "index"])


def index_summary(questionnaires: pd.DataFrame, sets: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the EQ-5D-5L index of all complete questionnaires, under each value set.

    One row per value set: ``value_set``, ``questionnaires`` (rows with all five dimensions answered),
    ``patients`` (distinct patient_id among them), ``mean``, ``sd`` (ddof = 1), ``p25``, ``median``, ``p75``
    and ``percent_below_zero`` (share of those questionnaires valued worse than dead, 0-100). No row of
    the data is returned, only these statistics.
    """
    rows = []
    for name in dict.fromkeys(sets["value_set"]):
        index = qol.eq5d_index(questionnaires, one_set(sets, name))
        complete = index.notna()
        values = index[complete].to_numpy(dtype=float)
        patients = questionnaires.loc[complete, "patient_id"].nunique() if "patient_id" in questionnaires else np.nan
        if len(values):
            p25, median, p75 = np.quantile(values, [0.25, 0.5, 0.75])
            sd = float(values.std(ddof=1)) if len(values) > 1 else np.nan
            rows.append(
                (
                    name,
                    len(values),
                    patients,
                    float(values.mean()),
                    sd,
                    p25,
                    median,
                    p75,
                    100 * float((values < 0).mean()),
                )
            )
        else:
            rows.append((name, 0, patients, *([np.nan] * 6)))
    return pd.DataFrame(
        rows,
        columns=["value_set", "questionnaires", "patients", "mean", "sd", "p25", "median", "p75", "percent_below_zero"],
    )


# --- area under the curve ---------------------------------------------------------------------------


def trapezoids(times: Sequence[float], values: Sequence[float]) -> pd.DataFrame:
    """The trapezoids between consecutive measurements of one utility path (times in years, sorted).

    One row per interval: ``start``, ``end``, ``width`` (years), ``u_start``, ``u_end``, ``mean_utility``
    (their average) and ``qalys`` = width x mean_utility. The column sum of ``qalys`` is the area of
    :func:`analysis.methods.cea.auc_trapezoid` over the whole path.
    """
    t = np.asarray(times, dtype=float)
    u = np.asarray(values, dtype=float)
    if len(t) != len(u):
        raise ValueError("times and values must have the same length")
    if np.any(np.diff(t) <= 0):
        raise ValueError("times must be sorted and distinct")
    out = pd.DataFrame({"start": t[:-1], "end": t[1:], "u_start": u[:-1], "u_end": u[1:]})
    out.insert(2, "width", out["end"] - out["start"])
    out["mean_utility"] = (out["u_start"] + out["u_end"]) / 2
    out["qalys"] = out["width"] * out["mean_utility"]
    return out


def utility_area_chart(times: Sequence[float], values: Sequence[float], title: str | None = None) -> alt.LayerChart:
    """A utility path (points joined by straight lines) with the area under it shaded, time in years.

    Dashed rules mark the measurement times, so that uneven intervals show as trapezoids of unequal width.
    """
    path = pd.DataFrame({"years": np.asarray(times, dtype=float), "utility": np.asarray(values, dtype=float)})
    path["floor"] = 0.0
    x = alt.X("years:Q", title="Years since the first measurement")
    y = alt.Y(
        "utility:Q",
        title="Utility (EQ-5D-5L index)",
        scale=alt.Scale(domain=[min(0.0, float(path["utility"].min())), 1.0]),
    )
    tooltip = [alt.Tooltip("years:Q", format=".2f"), alt.Tooltip("utility:Q", format=".3f")]
    area = alt.Chart(path).mark_area(color=ACCENT, opacity=0.25, interpolate="linear").encode(x=x, y=y)
    rules = (
        alt.Chart(path)
        .mark_rule(color=NEUTRAL, strokeDash=[3, 3], opacity=0.6)
        .encode(x=x, y=alt.Y("floor:Q"), y2="utility:Q")
    )
    line = alt.Chart(path).mark_line(color=ACCENT, strokeWidth=2.5).encode(x=x, y=y)
    points = alt.Chart(path).mark_point(color=ACCENT, filled=True, size=70).encode(x=x, y=y, tooltip=tooltip)
    chart = cast(alt.LayerChart, alt.layer(area, rules, line, points))
    return chart.properties(title=title) if title else chart


# --- strategies and net benefit -----------------------------------------------------------------------

STATUS_COLOURS = {
    cea.REFERENCE: NEUTRAL,
    cea.NON_DOMINATED: ACCENT,
    cea.EXTENDEDLY_DOMINATED: "#d9731a",
    cea.DOMINATED: THRESHOLD_COLOUR,
}


def frontier_chart(table: pd.DataFrame, title: str | None = None) -> alt.LayerChart:
    """Strategies on the cost-effectiveness plane (effect x, cost y), coloured by status, with the frontier.

    ``table`` is the output of :func:`analysis.methods.cea.icers`; the frontier joins the reference and the
    non-dominated strategies in order of cost.
    """
    data = table[["strategy", "cost", "effect", "status"]].copy()
    frontier = data[data["status"].isin([cea.REFERENCE, cea.NON_DOMINATED])].sort_values("cost")
    x = alt.X("effect:Q", title="QALYs per patient-year", scale=alt.Scale(zero=False, padding=40))
    y = alt.Y(
        "cost:Q",
        title="Cost per patient-year (NOK)",
        axis=alt.Axis(format=NOK),
        scale=alt.Scale(zero=False, padding=20),
    )
    statuses = [s for s in STATUS_COLOURS if s in set(data["status"])]
    colour = alt.Color(
        "status:N", title="Status", scale=alt.Scale(domain=statuses, range=[STATUS_COLOURS[s] for s in statuses])
    )
    line = alt.Chart(frontier).mark_line(color=ACCENT, strokeWidth=2).encode(x=x, y=y, order="cost:Q")
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=110)
        .encode(
            x=x,
            y=y,
            color=colour,
            tooltip=[
                "strategy:N",
                "status:N",
                alt.Tooltip("cost:Q", format=NOK),
                alt.Tooltip("effect:Q", format=".3f"),
            ],
        )
    )
    labels = (
        alt.Chart(data)
        .mark_text(align="left", dx=9, dy=-7, fontSize=12, color=NEUTRAL)
        .encode(x=x, y=y, text="strategy:N")
    )
    chart = cast(alt.LayerChart, alt.layer(line, points, labels))
    return chart.properties(title=title) if title else chart


def nmb_chart(curve: pd.DataFrame, wtp: float | None = None, title: str | None = None) -> alt.LayerChart:
    """Incremental net monetary benefit against willingness to pay (``curve``: ``wtp``, ``inmb``, e.g. from
    :func:`analysis.methods.cea.nmb_curve`), with the zero line and a dashed rule at ``wtp``."""
    x = alt.X("wtp:Q", title="Willingness to pay (NOK per QALY)", axis=alt.Axis(format=NOK))
    y = alt.Y("inmb:Q", title="Incremental net monetary benefit (NOK)", axis=alt.Axis(format=NOK))
    layers = [
        alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color=NEUTRAL).encode(y="zero:Q"),
        alt.Chart(curve)
        .mark_line(color=ACCENT, strokeWidth=2.5)
        .encode(x=x, y=y, tooltip=[alt.Tooltip("wtp:Q", format=NOK), alt.Tooltip("inmb:Q", format=NOK)]),
    ]
    if wtp is not None:
        rule = pd.DataFrame({"wtp": [float(wtp)], "what": [f"{float(wtp):,.0f} NOK per QALY"]})
        layers.append(
            alt.Chart(rule).mark_rule(color=THRESHOLD_COLOUR, strokeDash=[6, 4]).encode(x="wtp:Q", tooltip=["what:N"])
        )
    chart = cast(alt.LayerChart, alt.layer(*layers))
    return chart.properties(title=title) if title else chart


def compare_curves_chart(
    simulated: pd.DataFrame,
    exact: pd.DataFrame,
    value: str,
    value_title: str,
    value_format: str,
    wtp: float | None = None,
    domain: tuple[float, float] | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """A curve computed from draws (solid) and its closed form (dashed) against willingness to pay.

    Both frames have ``wtp`` and the column ``value`` (e.g. ``probability`` or ``evpi``); ``domain`` fixes
    the value axis (e.g. ``(0, 1)`` for a probability).
    """
    long = pd.concat(
        [
            simulated[["wtp", value]].assign(source="from the draws"),
            exact[["wtp", value]].assign(source="exact (normal distribution)"),
        ],
        ignore_index=True,
    )
    x = alt.X("wtp:Q", title="Willingness to pay (NOK per QALY)", axis=alt.Axis(format=NOK))
    y = alt.Y(
        f"{value}:Q",
        title=value_title,
        axis=alt.Axis(format=value_format),
        scale=alt.Scale(domain=list(domain)) if domain is not None else alt.Undefined,
    )
    sources = ["from the draws", "exact (normal distribution)"]
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "source:N",
                title=None,
                scale=alt.Scale(domain=sources, range=[ACCENT, LIGHT]),
                legend=alt.Legend(labelLimit=400),
            ),
            strokeDash=alt.StrokeDash("source:N", title=None, scale=alt.Scale(domain=sources, range=[[1, 0], [6, 4]])),
            tooltip=["source:N", alt.Tooltip("wtp:Q", format=NOK), alt.Tooltip(f"{value}:Q", format=value_format)],
        )
    )
    layers = [lines]
    if wtp is not None:
        rule = pd.DataFrame({"wtp": [float(wtp)], "what": [f"{float(wtp):,.0f} NOK per QALY"]})
        layers.append(
            alt.Chart(rule).mark_rule(color=THRESHOLD_COLOUR, strokeDash=[2, 3]).encode(x="wtp:Q", tooltip=["what:N"])
        )
    chart = cast(alt.LayerChart, alt.layer(*layers))
    return chart.properties(title=title) if title else chart


# --- a known distribution of (delta cost, delta QALY) --------------------------------------------------


def normal_draws(
    mean_cost: float,
    mean_effect: float,
    sd_cost: float,
    sd_effect: float,
    correlation: float = 0.0,
    n: int = 2000,
    seed: int | None = 2026,
) -> pd.DataFrame:
    """``n`` seeded draws of (delta_cost, delta_effect) from a bivariate normal distribution.

    Returns ``replicate`` (0..n-1), ``delta_cost`` and ``delta_effect``, the layout of
    :func:`analysis.methods.uncertainty.bootstrap_deltas`, so the uncertainty functions take it as it is.
    """
    if not -1 <= correlation <= 1:
        raise ValueError("correlation must lie between -1 and 1")
    cov = [[sd_cost**2, correlation * sd_cost * sd_effect], [correlation * sd_cost * sd_effect, sd_effect**2]]
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal([mean_cost, mean_effect], cov, size=int(n), method="cholesky")
    return pd.DataFrame({"replicate": np.arange(int(n)), "delta_cost": draws[:, 0], "delta_effect": draws[:, 1]})


def _inmb_moments(wtp, mean_cost, mean_effect, sd_cost, sd_effect, correlation):
    w = np.asarray(wtp, dtype=float)
    mu = w * mean_effect - mean_cost
    var = (w * sd_effect) ** 2 + sd_cost**2 - 2 * w * correlation * sd_effect * sd_cost
    return w, mu, np.sqrt(np.maximum(var, 0.0))


def normal_ceac(
    mean_cost: float,
    mean_effect: float,
    sd_cost: float,
    sd_effect: float,
    correlation: float = 0.0,
    wtp_grid: Sequence[float] = (),
) -> pd.DataFrame:
    """Exact acceptability curve for normal (delta_cost, delta_effect): P(INMB > 0) = Phi(mu / sigma).

    ``mu`` and ``sigma`` are the mean and SD of INMB at each WTP (see the module docstring); where sigma
    is 0 the probability is 1 if mu > 0 else 0. Returns ``wtp`` and ``probability``.
    """
    w, mu, sigma = _inmb_moments(wtp_grid, mean_cost, mean_effect, sd_cost, sd_effect, correlation)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(sigma > 0, stats.norm.cdf(mu / np.where(sigma > 0, sigma, 1.0)), (mu > 0).astype(float))
    return pd.DataFrame({"wtp": w, "probability": p})


def normal_evpi(
    mean_cost: float,
    mean_effect: float,
    sd_cost: float,
    sd_effect: float,
    correlation: float = 0.0,
    wtp_grid: Sequence[float] = (),
) -> pd.DataFrame:
    """Exact per-patient EVPI for normal (delta_cost, delta_effect), two strategies.

    ``E[max(0, INMB)] - max(0, mu) = mu * Phi(mu/sigma) + sigma * phi(mu/sigma) - max(0, mu)``; 0 where
    sigma is 0. Returns ``wtp`` and ``evpi`` (NOK per patient).
    """
    w, mu, sigma = _inmb_moments(wtp_grid, mean_cost, mean_effect, sd_cost, sd_effect, correlation)
    safe = np.where(sigma > 0, sigma, 1.0)
    z = mu / safe
    value = np.where(sigma > 0, mu * stats.norm.cdf(z) + sigma * stats.norm.pdf(z) - np.maximum(mu, 0.0), 0.0)
    return pd.DataFrame({"wtp": w, "evpi": value})


def first_positive(curve: pd.DataFrame, value: str = "inmb") -> float:
    """The smallest ``wtp`` of a grid at which ``value`` is positive (NaN if none is)."""
    hit = curve.loc[curve[value] > 0, "wtp"]
    return float(hit.min()) if len(hit) else float("nan")
