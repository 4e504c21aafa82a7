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

from analysis.methods import cea

#: The WTP grid of the acceptability curve in the issue: 0 to 2,000,000 NOK per QALY in steps of 10,000.
WTP_GRID = np.arange(0, 2_000_001, 10_000, dtype=float)
#: The reference WTP for severe conditions in Norway (NOK per QALY), a policy threshold named as such.
WTP_SEVERE = 825_000.0
DEFAULT_SEED = 2026


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def bootstrap_means(
    frame: pd.DataFrame,
    group: str,
    cost: str,
    effect: str,
    n_replicates: int = 5000,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
) -> pd.DataFrame:
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
        parts.append(
            pd.DataFrame(
                {
                    "replicate": np.arange(n_replicates),
                    "group": name,
                    "cost": c[draw].mean(axis=1),
                    "effect": e[draw].mean(axis=1),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def replicate_deltas(means: pd.DataFrame, intervention, comparator) -> pd.DataFrame:
    """Per replicate, the intervention's mean cost and effect minus the comparator's.

    ``means`` is the output of :func:`bootstrap_means`. Returns ``replicate``, ``delta_cost``, ``delta_effect``.
    """
    wide = means.pivot(index="replicate", columns="group", values=["cost", "effect"])
    return pd.DataFrame(
        {
            "replicate": wide.index.to_numpy(),
            "delta_cost": (wide["cost", intervention] - wide["cost", comparator]).to_numpy(),
            "delta_effect": (wide["effect", intervention] - wide["effect", comparator]).to_numpy(),
        }
    )


def bootstrap_deltas(
    frame: pd.DataFrame,
    group: str,
    cost: str,
    effect: str,
    intervention,
    comparator,
    n_replicates: int = 5000,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
) -> pd.DataFrame:
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
    out["quadrant"] = np.select(
        [(dc > 0) & (de > 0), (dc > 0) & (de <= 0), (dc <= 0) & (de > 0)], ["NE", "NW", "SE"], "SW"
    )
    out["inmb"] = wtp * de - dc
    out["cost_effective"] = out["inmb"] > 0
    return out


def quadrant_shares(deltas: pd.DataFrame) -> pd.DataFrame:
    """Share of replicates in each quadrant of the plane (see :func:`ce_plane`): ``quadrant``, ``label``, ``share``."""
    plane = ce_plane(deltas)
    shares = plane["quadrant"].value_counts(normalize=True).reindex(list(QUADRANTS), fill_value=0.0)
    return pd.DataFrame({"quadrant": list(QUADRANTS), "label": list(QUADRANTS.values()), "share": shares.to_numpy()})


def ceac(deltas: pd.DataFrame, wtp_grid: Sequence[float] | np.ndarray = WTP_GRID) -> pd.DataFrame:
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


def ceac_strategies(replicates: pd.DataFrame, wtp_grid: Sequence[float] | np.ndarray = WTP_GRID) -> pd.DataFrame:
    """Acceptability curves of several strategies: the share of replicates in which each has the highest NMB.

    ``replicates`` is the long output of :func:`bootstrap_means`. Ties go to the strategy first in sort
    order. Returns ``wtp``, ``strategy``, ``probability`` (the probabilities at one WTP sum to 1).
    """
    wtp = np.asarray(wtp_grid, dtype=float)
    names, nmb = _nmb_cube(replicates, wtp)
    best = nmb.argmax(axis=2)
    share = np.stack([(best == k).mean(axis=1) for k in range(len(names))], axis=1)
    return pd.DataFrame(
        {"wtp": np.repeat(wtp, len(names)), "strategy": np.tile(names, len(wtp)), "probability": share.ravel()}
    )


def evpi(deltas: pd.DataFrame, wtp_grid: Sequence[float] | np.ndarray = WTP_GRID) -> pd.DataFrame:
    """EVPI per patient at each WTP, for two strategies, from replicate deltas.

    ``mean(max(0, INMB)) - max(0, mean(INMB))`` with ``INMB = wtp * delta_effect - delta_cost``: the
    expected loss from choosing on the means instead of knowing the truth. Returns ``wtp`` and ``evpi``.
    """
    wtp = np.asarray(wtp_grid, dtype=float)
    dc, de = deltas["delta_cost"].to_numpy(dtype=float), deltas["delta_effect"].to_numpy(dtype=float)
    inmb = wtp[:, None] * de[None, :] - dc[None, :]
    value = np.maximum(inmb, 0).mean(axis=1) - np.maximum(inmb.mean(axis=1), 0)
    return pd.DataFrame({"wtp": wtp, "evpi": value})


def evpi_strategies(replicates: pd.DataFrame, wtp_grid: Sequence[float] | np.ndarray = WTP_GRID) -> pd.DataFrame:
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


def one_way_sensitivity(
    model: Callable[..., float],
    base: Mapping[str, object],
    ranges: Mapping[str, tuple] | pd.DataFrame,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
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
    frame = pd.DataFrame(
        rows, columns=["parameter", "label", "low", "high", "base_outcome", "outcome_low", "outcome_high", "range"]
    )
    return frame.sort_values("range", ascending=False, kind="stable").reset_index(drop=True)


# --- Monte Carlo error ----------------------------------------------------------------------------------
#
# A figure computed from a finite number of replicates varies with the seed. Its Monte Carlo standard error
# (MCSE) is the standard deviation of that variation:
#
# * of a proportion p (a probability of cost-effectiveness) from n independent replicates: sqrt(p(1-p)/n);
# * of a mean of draws x: sd(x)/sqrt(n);
# * of any other statistic (a percentile, EVPI): by *batch means*, the replicates split in order into
#   ``batches`` equal batches, the statistic computed in each, and MCSE = sd(batch values)/sqrt(batches):
#   the batch values are independent estimates each from n/batches replicates, and the estimate from all n
#   has about 1/batches of their variance (for a percentile, approximately; batch means is the method
#   stated on the page).
#
# The replicate count follows a stated rule (:func:`replicates_needed`): enough replicates for the MCSE of
# the probability of cost-effectiveness at the threshold to be below a target (0.005), in whole batches
# of 1,000, with a cap.

#: The stopping rule of the bootstrap: MCSE of the probability of cost-effectiveness below this.
MCSE_TARGET = 0.005
#: Replicates are added in batches of this size, up to the cap.
MCSE_BATCH = 1000
MCSE_CAP = 50_000


def mcse_proportion(p, n: int) -> float:
    """MCSE of a proportion ``p`` estimated from ``n`` independent draws: sqrt(p(1 - p)/n)."""
    p = float(p)
    return float(np.sqrt(p * (1 - p) / n)) if n > 0 and 0 <= p <= 1 else float("nan")


def mcse_mean(values) -> float:
    """MCSE of the mean of independent draws ``values``: sd (n - 1) / sqrt(n)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) >= 2 else float("nan")


def mcse_batch(values, statistic: Callable[[np.ndarray], float], batches: int = 20) -> float:
    """MCSE of ``statistic(values)`` by batch means: the draws split in order into ``batches`` equal batches
    (a remainder dropped), the statistic in each; MCSE = sd of the batch values / sqrt(batches). ``values``
    may be an array of draws or of rows (the first axis is the draws)."""
    x = np.asarray(values, dtype=float)
    size = len(x) // batches
    if batches < 2 or size < 1:
        return float("nan")
    estimates = np.array([statistic(x[b * size : (b + 1) * size]) for b in range(batches)], dtype=float)
    return float(estimates.std(ddof=1) / np.sqrt(batches))


def replicates_needed(p, target: float = MCSE_TARGET, batch: int = MCSE_BATCH, cap: int = MCSE_CAP) -> int:
    """The replicates the stopping rule asks for: the smallest whole number of batches of ``batch`` with
    sqrt(p(1 - p)/n) <= ``target``, at most ``cap`` (a probability near 0.5 needs the most)."""
    p = float(p)
    if not 0 <= p <= 1:
        return cap
    exact = p * (1 - p) / target**2
    return int(min(cap, max(batch, int(np.ceil(exact / batch)) * batch)))


def running_probability(deltas: pd.DataFrame, wtp: float = WTP_SEVERE, step: int = 100) -> pd.DataFrame:
    """The probability of cost-effectiveness at ``wtp`` after the first n replicates, every ``step``
    replicates (the convergence of the estimate): ``n``, ``probability``, ``mcse``, ``lower`` and ``upper``
    (probability -/+ 1.96 MCSE)."""
    inmb = wtp * deltas["delta_effect"].to_numpy(dtype=float) - deltas["delta_cost"].to_numpy(dtype=float)
    hits = np.cumsum(inmb > 0)
    n = np.arange(step, len(inmb) + 1, step)
    p = hits[n - 1] / n
    mcse = np.sqrt(p * (1 - p) / n)
    return pd.DataFrame({"n": n, "probability": p, "mcse": mcse, "lower": p - 1.96 * mcse, "upper": p + 1.96 * mcse})


def bootstrap_mcse(deltas: pd.DataFrame, wtp: float = WTP_SEVERE, level: float = 0.95, batches: int = 20) -> dict:
    """The Monte Carlo standard errors of the bootstrap's figures from replicate ``deltas``: ``probability``
    (of cost-effectiveness at ``wtp``, closed form), ``delta_cost_lower``/``_upper`` and
    ``delta_effect_lower``/``_upper`` (the percentile bounds of ``level``, batch means), ``evpi`` (at
    ``wtp``, batch means), and ``n`` (replicates)."""
    dc, de = deltas["delta_cost"].to_numpy(dtype=float), deltas["delta_effect"].to_numpy(dtype=float)
    lo, hi = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    inmb = wtp * de - dc
    p = float((inmb > 0).mean())
    evpi_of = lambda x: float(np.maximum(x, 0).mean() - max(x.mean(), 0.0))  # noqa: E731
    return {
        "n": len(dc),
        "probability": mcse_proportion(p, len(dc)),
        "delta_cost_lower": mcse_batch(dc, lambda x: np.percentile(x, lo), batches),
        "delta_cost_upper": mcse_batch(dc, lambda x: np.percentile(x, hi), batches),
        "delta_effect_lower": mcse_batch(de, lambda x: np.percentile(x, lo), batches),
        "delta_effect_upper": mcse_batch(de, lambda x: np.percentile(x, hi), batches),
        "evpi": mcse_batch(inmb, evpi_of, batches),
    }
