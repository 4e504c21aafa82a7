"""Uncertainty in the cost-utility results: bootstrap, cost-effectiveness plane, acceptability curve, EVPI,
one-way sensitivity (tornado). An extension of the edition: the report itself gives no intervals.

Definitions:

* the *bootstrap* resamples patients with replacement within each group (the group's own size, every draw
  a whole patient with their cost and effect together), and takes each group's mean cost and mean effect
  in each replicate. A replicate's *deltas* are the intervention's means minus the comparator's.
  Replicates are drawn with a seeded :class:`numpy.random.Generator`, so the same seed gives the same
  replicates.
* the *cost-effectiveness plane* plots each replicate's delta_effect (x) against delta_cost (y); the
  willingness-to-pay (WTP) line ``delta_cost = wtp * delta_effect`` separates replicates that are cost-
  effective at that WTP (below and to the right) from those that are not.
* the *cost-effectiveness acceptability curve* (CEAC) is, at each WTP, the share of replicates with
  positive incremental net monetary benefit ``wtp * delta_effect - delta_cost``. At WTP 0 it is the
  share of replicates in which the intervention is cheaper.
* the *expected value of perfect information* (EVPI) per patient, at one WTP, is the mean over replicates
  of the best strategy's net benefit minus the net benefit of the strategy best on average:
  ``mean_r max_k NMB[r, k] - max_k mean_r NMB[r, k]``. It is zero when one strategy is best in every
  replicate. For two strategies it equals ``mean(max(0, INMB)) - max(0, mean(INMB))``.
* a *one-way sensitivity analysis* reruns a model with one parameter at a time set to its low and its
  high value, the others at their base values; the tornado ranks parameters by the width of the resulting
  outcome range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis import cea

#: The WTP grid of the acceptability curve in the issue: 0 to 2,000,000 NOK per QALY in steps of 10,000.
WTP_GRID = np.arange(0, 2_000_001, 10_000, dtype=float)
#: The reference WTP for severe conditions in Norway (NOK per QALY), a policy threshold named as such.
WTP_SEVERE = 825_000.0
DEFAULT_SEED = 2026


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def bootstrap_means(frame: pd.DataFrame, group: str, cost: str, effect: str, n_replicates: int = 5000,
                    seed: int | np.random.Generator | None = DEFAULT_SEED) -> pd.DataFrame:
    """Bootstrap replicates of each group's mean cost and mean effect (patients resampled within groups).

    ``frame`` has one row per patient with a ``group``, a ``cost`` and an ``effect`` (rows with either
    empty are dropped). Groups are drawn in sorted order from one generator, so a seed fixes every
    group's replicates. Returns a long frame: ``replicate`` (0..n-1), ``group``, ``cost``, ``effect``.
    """
    rng = _rng(seed)
    data = frame[[group, cost, effect]].dropna()
    parts = []
    for name in sorted(data[group].unique().tolist()):
        one = data[data[group] == name]
        c = one[cost].to_numpy(dtype=float)
        e = one[effect].to_numpy(dtype=float)
        draw = rng.integers(0, len(one), size=(n_replicates, len(one)))
        parts.append(pd.DataFrame({"replicate": np.arange(n_replicates), "group": name,
                                   "cost": c[draw].mean(axis=1), "effect": e[draw].mean(axis=1)}))
    return pd.concat(parts, ignore_index=True)


def replicate_deltas(means: pd.DataFrame, intervention, comparator) -> pd.DataFrame:
    """Per replicate, the intervention's mean cost and effect minus the comparator's.

    ``means`` is the output of :func:`bootstrap_means`. Returns ``replicate``, ``delta_cost``, ``delta_effect``.
    """
    wide = means.pivot(index="replicate", columns="group", values=["cost", "effect"])
    return pd.DataFrame({
        "replicate": wide.index.to_numpy(),
        "delta_cost": (wide["cost", intervention] - wide["cost", comparator]).to_numpy(),
        "delta_effect": (wide["effect", intervention] - wide["effect", comparator]).to_numpy(),
    })


def bootstrap_deltas(frame: pd.DataFrame, group: str, cost: str, effect: str, intervention, comparator, n_replicates: int = 5000,
                     seed: int | np.random.Generator | None = DEFAULT_SEED) -> pd.DataFrame:
    """Bootstrap replicates of delta_cost and delta_effect, intervention minus comparator.

    :func:`bootstrap_means` then :func:`replicate_deltas`; the other groups in ``frame`` are drawn too, so
    different comparisons from the same frame and seed share their replicates.
    """
    return replicate_deltas(bootstrap_means(frame, group, cost, effect, n_replicates, seed), intervention, comparator)


def bootstrap_summary(deltas: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Percentile intervals of delta_cost, delta_effect and the ICER over bootstrap replicates.

    Rows ``delta_cost``, ``delta_effect``, ``icer``; columns ``statistic``, ``mean``, ``ci_lower``,
    ``ci_upper``. The ICER's percentile interval is only meaningful when every replicate gains effect
    (a ratio changes meaning across delta_effect = 0); otherwise its interval is NaN and the acceptability
    curve is the summary to use.
    """
    alpha = (1 - level) / 2
    rows = []
    for name in ("delta_cost", "delta_effect"):
        values = deltas[name].to_numpy(dtype=float)
        lo, hi = np.quantile(values, [alpha, 1 - alpha])
        rows.append((name, float(values.mean()), float(lo), float(hi)))
    dc, de = deltas["delta_cost"].to_numpy(dtype=float), deltas["delta_effect"].to_numpy(dtype=float)
    ratio_of_means = float(dc.mean() / de.mean()) if de.mean() != 0 else np.nan
    if (de > 0).all():
        lo, hi = np.quantile(dc / de, [alpha, 1 - alpha])
    else:
        lo = hi = np.nan
    rows.append(("icer", ratio_of_means, float(lo), float(hi)))
    return pd.DataFrame(rows, columns=["statistic", "mean", "ci_lower", "ci_upper"])


QUADRANTS = {
    "NE": cea.MORE_COSTLY_MORE_EFFECTIVE,
    "NW": cea.DOMINATED,
    "SE": cea.DOMINANT,
    "SW": cea.LESS_COSTLY_LESS_EFFECTIVE,
}


def ce_plane(deltas: pd.DataFrame, wtp: float = WTP_SEVERE) -> pd.DataFrame:
    """The replicates on the cost-effectiveness plane, with their quadrant and cost-effectiveness at ``wtp``.

    Adds ``quadrant`` (NE: more costly and more effective; NW: more costly, less effective, dominated;
    SE: cheaper and more effective, dominant; SW: cheaper and less effective; points on an axis go to
    the quadrant on the side of the intervention: zero cost counts as cheaper, zero effect as less
    effective), ``inmb`` at ``wtp`` and ``cost_effective`` (inmb > 0).
    """
    out = deltas.copy()
    dc, de = out["delta_cost"].to_numpy(dtype=float), out["delta_effect"].to_numpy(dtype=float)
    out["quadrant"] = np.select([(dc > 0) & (de > 0), (dc > 0) & (de <= 0), (dc <= 0) & (de > 0)], ["NE", "NW", "SE"], "SW")
    out["inmb"] = wtp * de - dc
    out["cost_effective"] = out["inmb"] > 0
    return out


def quadrant_shares(deltas: pd.DataFrame) -> pd.DataFrame:
    """Share of replicates in each quadrant of the plane (see :func:`ce_plane`): ``quadrant``, ``label``, ``share``."""
    plane = ce_plane(deltas)
    shares = plane["quadrant"].value_counts(normalize=True).reindex(list(QUADRANTS), fill_value=0.0)
    return pd.DataFrame({"quadrant": list(QUADRANTS), "label": list(QUADRANTS.values()), "share": shares.to_numpy()})


def ceac(deltas: pd.DataFrame, wtp_grid: Sequence[float] = WTP_GRID) -> pd.DataFrame:
    """Cost-effectiveness acceptability curve: at each WTP, the share of replicates with INMB > 0.

    Returns ``wtp`` and ``probability``.
    """
    wtp = np.asarray(wtp_grid, dtype=float)
    dc, de = deltas["delta_cost"].to_numpy(dtype=float), deltas["delta_effect"].to_numpy(dtype=float)
    inmb = wtp[:, None] * de[None, :] - dc[None, :]
    return pd.DataFrame({"wtp": wtp, "probability": (inmb > 0).mean(axis=1)})


def _nmb_cube(replicates: pd.DataFrame, wtp: np.ndarray) -> tuple[list, np.ndarray]:
    cost = replicates.pivot(index="replicate", columns="group", values="cost")
    effect = replicates.pivot(index="replicate", columns="group", values="effect")[cost.columns]
    # shape (wtp, replicate, strategy)
    nmb = wtp[:, None, None] * effect.to_numpy()[None, :, :] - cost.to_numpy()[None, :, :]
    return list(cost.columns), nmb


def ceac_strategies(replicates: pd.DataFrame, wtp_grid: Sequence[float] = WTP_GRID) -> pd.DataFrame:
    """Acceptability curves of several strategies: the share of replicates in which each has the highest NMB.

    ``replicates`` is the long output of :func:`bootstrap_means`. Ties go to the strategy first in sort
    order. Returns ``wtp``, ``strategy``, ``probability`` (the probabilities at one WTP sum to 1).
    """
    wtp = np.asarray(wtp_grid, dtype=float)
    names, nmb = _nmb_cube(replicates, wtp)
    best = nmb.argmax(axis=2)
    share = np.stack([(best == k).mean(axis=1) for k in range(len(names))], axis=1)
    return pd.DataFrame({"wtp": np.repeat(wtp, len(names)), "strategy": np.tile(names, len(wtp)), "probability": share.ravel()})


def evpi(deltas: pd.DataFrame, wtp_grid: Sequence[float] = WTP_GRID) -> pd.DataFrame:
    """EVPI per patient at each WTP, for two strategies, from replicate deltas.

    ``mean(max(0, INMB)) - max(0, mean(INMB))`` with ``INMB = wtp * delta_effect - delta_cost``: the
    expected loss from choosing on the means instead of knowing the truth. Returns ``wtp`` and ``evpi``.
    """
    wtp = np.asarray(wtp_grid, dtype=float)
    dc, de = deltas["delta_cost"].to_numpy(dtype=float), deltas["delta_effect"].to_numpy(dtype=float)
    inmb = wtp[:, None] * de[None, :] - dc[None, :]
    value = np.maximum(inmb, 0).mean(axis=1) - np.maximum(inmb.mean(axis=1), 0)
    return pd.DataFrame({"wtp": wtp, "evpi": value})


def evpi_strategies(replicates: pd.DataFrame, wtp_grid: Sequence[float] = WTP_GRID) -> pd.DataFrame:
    """EVPI per patient at each WTP over any number of strategies: mean of max NMB minus max of mean NMB.

    ``replicates`` is the long output of :func:`bootstrap_means`. Returns ``wtp`` and ``evpi``.
    """
    wtp = np.asarray(wtp_grid, dtype=float)
    _, nmb = _nmb_cube(replicates, wtp)
    return pd.DataFrame({"wtp": wtp, "evpi": nmb.max(axis=2).mean(axis=1) - nmb.mean(axis=1).max(axis=1)})


def population_evpi(evpi_per_patient, patients_per_year: float, years: int = 1, discount_rate: float = 0.0):
    """EVPI of a population: per-patient EVPI times the patients affected, summed over ``years`` years.

    Year ``t`` (0, 1, ...) is discounted by ``(1 + discount_rate) ** t``. Works on numbers and arrays.
    """
    factor = sum(1.0 / (1.0 + discount_rate) ** t for t in range(years))
    value = np.asarray(evpi_per_patient, dtype=float) * patients_per_year * factor
    return float(value) if value.ndim == 0 else value


def one_way_sensitivity(model: Callable[..., float], base: Mapping[str, object], ranges: Mapping[str, tuple] | pd.DataFrame,
                        labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One-way sensitivity analysis: the model rerun with each parameter at its low and its high value.

    ``model(**params)`` returns one number (e.g. an ICER or a net cost); ``base`` holds every parameter's
    base value; ``ranges`` maps a parameter to ``(low, high)`` (or is a frame with columns ``parameter``,
    ``low``, ``high`` and optionally ``label``). The values may be anything the model accepts (e.g. the
    name of a value set). Returns one row per parameter, widest range first: ``parameter``, ``label``,
    ``low``, ``high``, ``base_outcome``, ``outcome_low``, ``outcome_high``, ``range`` (absolute
    difference of the two outcomes).
    """
    if isinstance(ranges, pd.DataFrame):
        if labels is None and "label" in ranges:
            labels = dict(zip(ranges["parameter"], ranges["label"]))
        ranges = {row.parameter: (row.low, row.high) for row in ranges.itertuples(index=False)}
    labels = dict(labels or {})
    unknown = set(ranges) - set(base)
    if unknown:
        raise ValueError(f"parameters without a base value: {sorted(unknown)}")
    base_outcome = float(model(**base))
    rows = []
    for name, (low, high) in ranges.items():
        out_low = float(model(**{**base, name: low}))
        out_high = float(model(**{**base, name: high}))
        rows.append((name, labels.get(name, name), low, high, base_outcome, out_low, out_high, abs(out_high - out_low)))
    frame = pd.DataFrame(rows, columns=["parameter", "label", "low", "high", "base_outcome", "outcome_low", "outcome_high", "range"])
    return frame.sort_values("range", ascending=False, kind="stable").reset_index(drop=True)
