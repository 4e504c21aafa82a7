"""Health-related quality of life: the EQ-5D-5L index and its trajectories (report section 6.4).

Definitions used throughout:

* *time in treatment* of a questionnaire is the time from the patient's first admission date
  (``episodes.admission_date`` of their earliest episode) to ``questionnaire_date``: in months it is
  days / (365.25 / 12), in years days / 365.25.
* the *EQ-5D-5L index* of a questionnaire is 1 minus the sum of the Norwegian value set's decrements
  for the five answered dimensions (mobility, self-care, usual activities, pain/discomfort,
  anxiety/depression; levels 1-5). It is defined only when all five dimensions are answered. The value
  set (Garratt et al. 2025) is ``data/reference/eq5d5l_value_set_norway.csv``; 11111 gives 1 and 55555
  gives -0.453.
* the *trajectory sample* is every patient with at least two index values (at any waves).
* *trajectory groups* are estimated by latent class growth analysis (LCGA), also called group-based
  trajectory modelling (Nagin 1999; Nagin 2005): a finite mixture of K classes in which a patient of
  class k has index values ``a_k + b_k * years + e`` with independent normal residuals of
  class-specific SD ``s_k``; there is no random variation around the class line other than the
  residual. It is fitted by maximum likelihood with the EM algorithm (:func:`fit_lcga`), started
  deterministically from the quantile groups of the patients' mean index. A patient is assigned to
  the class with the largest posterior probability. BIC = -2 log-likelihood + p ln(N), with
  p = 4K - 1 parameters and N the number of patients (as in Nagin's group-based models). The
  *favourable* class is the one with the higher mean fitted index over the observed times of the
  whole sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from analysis.data.published import DEFAULT_DATA_DIR
from analysis.data.schema import EQ5D_DIMENSIONS
from analysis.sections.outcomes import with_months

#: The value set's file, under the data folder.
VALUE_SET_PATH = Path("reference") / "eq5d5l_value_set_norway.csv"
#: The value sets of other countries (England, Denmark, Sweden) for sensitivity analyses and teaching.
OTHER_VALUE_SETS_PATH = Path("reference") / "eq5d5l_value_sets_other.csv"
NORWAY = "Norway"
EQ5D_COLUMNS = [f"eq5d_{d}" for d in EQ5D_DIMENSIONS]


# --- time and index ---------------------------------------------------------------------------------


def time_in_treatment(questionnaires: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """The questionnaires with ``months`` and ``years`` since the patient's first admission date.

    months = (questionnaire_date - first admission_date) in days / (365.25 / 12); years = days / 365.25.
    """
    out = with_months(questionnaires, episodes)
    out["years"] = out["months"] / 12
    return out


def value_set(data_dir: str | Path | None = None, country: str = NORWAY) -> pd.DataFrame:
    """An EQ-5D-5L value set: one row per dimension (MO, SC, UA, PD, AD) and level (1-5), with its decrement.

    Norway's (the report's) by default; ``country`` may name one of :func:`value_set_names`.
    """
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if country == NORWAY:
        return pd.read_csv(folder / VALUE_SET_PATH)
    others = pd.read_csv(folder / OTHER_VALUE_SETS_PATH)
    if country not in set(others["value_set"]):
        raise ValueError(f"no EQ-5D-5L value set for {country!r}; available: {value_set_names(data_dir)}")
    return others.loc[others["value_set"] == country, ["dimension", "level", "decrement"]].reset_index(drop=True)


def value_set_names(data_dir: str | Path | None = None) -> list[str]:
    """The countries whose value sets are bundled, Norway first."""
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    return [NORWAY, *pd.read_csv(folder / OTHER_VALUE_SETS_PATH)["value_set"].drop_duplicates().tolist()]


def eq5d_index(questionnaires: pd.DataFrame, values: pd.DataFrame | None = None) -> pd.Series:
    """EQ-5D-5L index of each questionnaire: 1 - sum of the five dimensions' decrements.

    ``values`` is a value set (columns dimension, level, decrement; default the Norwegian set). The
    index is missing (NaN) unless all five dimensions (``eq5d_mo`` ... ``eq5d_ad``) are answered.
    """
    values = value_set() if values is None else values
    lookup = {
        (str(d).lower(), int(level)): float(x)
        for d, level, x in values[["dimension", "level", "decrement"]].itertuples(index=False)
    }
    total = pd.Series(0.0, index=questionnaires.index)
    complete = pd.Series(True, index=questionnaires.index)
    for dimension in EQ5D_DIMENSIONS:
        levels = questionnaires[f"eq5d_{dimension}"]
        complete &= levels.notna()
        decrement = levels.map(
            lambda level, dimension=dimension: lookup[(dimension, int(level))] if pd.notna(level) else np.nan
        )
        total = total + decrement.astype(float).fillna(0.0)
    return (1.0 - total).where(complete, np.nan).rename("eq5d_index")


def index_values(
    questionnaires: pd.DataFrame, episodes: pd.DataFrame, values: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per questionnaire with a defined index: patient_id, wave, months, years, eq5d_index."""
    timed = time_in_treatment(questionnaires, episodes)
    timed["eq5d_index"] = eq5d_index(questionnaires, values)
    out = timed.loc[timed["eq5d_index"].notna(), ["patient_id", "wave", "months", "years", "eq5d_index"]]
    return out.reset_index(drop=True)


def trajectory_sample(index: pd.DataFrame, minimum: int = 2) -> pd.DataFrame:
    """The index values of patients with at least ``minimum`` index values (the trajectory sample)."""
    counts = index.groupby("patient_id")["eq5d_index"].transform("size")
    return index[counts >= minimum].reset_index(drop=True)


# --- latent class growth analysis -------------------------------------------------------------------


@dataclass(frozen=True)
class LCGAFit:
    """A fitted latent class growth model. Classes are numbered 1..K by increasing mean fitted index."""

    intercepts: np.ndarray
    slopes: np.ndarray
    sds: np.ndarray
    weights: np.ndarray
    posterior: pd.DataFrame  # one row per patient (index patient_id), one column per class 1..K
    loglik_path: tuple[float, ...]
    converged: bool
    n_observations: int
    mean_years: float  # mean observed time of the sample, for the favourable-class rule

    @property
    def n_classes(self) -> int:
        return len(self.weights)

    @property
    def loglik(self) -> float:
        return self.loglik_path[-1]

    @property
    def n_patients(self) -> int:
        return len(self.posterior)

    @property
    def n_parameters(self) -> int:
        return 4 * self.n_classes - 1

    @property
    def bic(self) -> float:
        return -2 * self.loglik + self.n_parameters * np.log(self.n_patients)

    @property
    def assignment(self) -> pd.Series:
        """The class with the largest posterior probability, per patient."""
        return self.posterior.idxmax(axis=1).rename("trajectory_class")

    @property
    def favourable_class(self) -> int:
        """The class with the highest mean fitted index over the sample's observed times."""
        fitted = self.intercepts + self.slopes * self.mean_years
        return int(np.argmax(fitted)) + 1

    def classes(self) -> pd.DataFrame:
        """One row per class: intercept, slope (per year), residual SD, weight, assigned patients, share %."""
        counts = self.assignment.value_counts().reindex(range(1, self.n_classes + 1), fill_value=0)
        return pd.DataFrame(
            {
                "trajectory_class": range(1, self.n_classes + 1),
                "intercept": self.intercepts,
                "slope_per_year": self.slopes,
                "residual_sd": self.sds,
                "mixing_weight": self.weights,
                "patients": counts.to_numpy(),
                "percent": 100 * counts.to_numpy() / self.n_patients,
                "favourable": [k + 1 == self.favourable_class for k in range(self.n_classes)],
            }
        )


def _class_loglik(y, t, codes, n_patients, intercept, slope, sd) -> np.ndarray:
    """Per-patient log-likelihood under one class line."""
    resid = y - intercept - slope * t
    logpdf = -0.5 * np.log(2 * np.pi * sd**2) - resid**2 / (2 * sd**2)
    return np.bincount(codes, weights=logpdf, minlength=n_patients)


def fit_lcga(
    frame: pd.DataFrame,
    n_classes: int = 2,
    *,
    id_column: str = "patient_id",
    time_column: str = "years",
    value_column: str = "eq5d_index",
    max_iter: int = 2000,
    tol: float = 1e-9,
    min_sd: float = 1e-3,
) -> LCGAFit:
    """Latent class growth analysis (group-based trajectory model) with linear class trajectories, by EM.

    Model: patient i belongs to class k with probability ``w_k``; given class k, each of the patient's
    values is ``a_k + b_k * t + e`` with ``e ~ N(0, s_k^2)`` independent. EM alternates the posterior
    class probabilities of each patient (E-step) with weighted least squares for ``a_k, b_k``, the
    weighted residual variance for ``s_k^2`` (not below ``min_sd^2``, which keeps a class from
    collapsing on one patient) and the mean posterior for ``w_k`` (M-step). Every M-step maximises
    the expected complete-data log-likelihood exactly, so the log-likelihood never decreases.

    Start: patients are sorted by their mean value and cut into ``n_classes`` groups of (nearly) equal
    size; the first M-step uses these groups as hard posteriors. There is no randomness. Stops when
    the log-likelihood rises by less than ``tol`` times its size, or after ``max_iter`` iterations.
    """
    data = frame[[id_column, time_column, value_column]].dropna()
    codes, patients = pd.factorize(data[id_column], sort=True)
    y = data[value_column].to_numpy(float)
    t = data[time_column].to_numpy(float)
    n = len(patients)
    K = int(n_classes)
    if n < K:
        raise ValueError(f"{n} patients cannot be split into {K} classes")

    means = np.bincount(codes, weights=y, minlength=n) / np.bincount(codes, minlength=n)
    ranks = np.argsort(np.argsort(means, kind="stable"), kind="stable")
    start = np.minimum(ranks * K // n, K - 1)
    tau = np.zeros((n, K))
    tau[np.arange(n), start] = 1.0

    X = np.column_stack([np.ones_like(t), t])
    a = np.zeros(K)
    b = np.zeros(K)
    s = np.ones(K)
    w = np.full(K, 1.0 / K)
    path: list[float] = []
    converged = False
    for _ in range(max_iter):
        # M-step
        w = tau.mean(axis=0)
        for k in range(K):
            weight = tau[codes, k]
            if weight.sum() <= 0:
                continue
            xtwx = X.T @ (X * weight[:, None])
            xtwy = X.T @ (weight * y)
            a[k], b[k] = np.linalg.lstsq(xtwx, xtwy, rcond=None)[0]
            resid = y - a[k] - b[k] * t
            s[k] = max(np.sqrt((weight * resid**2).sum() / weight.sum()), min_sd)
        # E-step
        logjoint = np.column_stack(
            [np.log(max(w[k], 1e-300)) + _class_loglik(y, t, codes, n, a[k], b[k], s[k]) for k in range(K)]
        )
        top = logjoint.max(axis=1, keepdims=True)
        lognorm = top[:, 0] + np.log(np.exp(logjoint - top).sum(axis=1))
        tau = np.exp(logjoint - lognorm[:, None])
        path.append(float(lognorm.sum()))
        if len(path) > 1 and path[-1] - path[-2] < tol * max(1.0, abs(path[-1])):
            converged = True
            break

    mean_years = float(t.mean())
    order = np.argsort(a + b * mean_years, kind="stable")  # class 1 = lowest mean fitted index
    posterior = pd.DataFrame(tau[:, order], index=pd.Index(patients, name=id_column), columns=range(1, K + 1))
    return LCGAFit(
        intercepts=a[order].copy(),
        slopes=b[order].copy(),
        sds=s[order].copy(),
        weights=w[order].copy(),
        posterior=posterior,
        loglik_path=tuple(path),
        converged=converged,
        n_observations=int(len(y)),
        mean_years=mean_years,
    )


def compare_classes(frame: pd.DataFrame, counts=(1, 2, 3), **kwargs) -> pd.DataFrame:
    """Fit LCGA with each number of classes; one row each: classes, log-likelihood, parameters, BIC,
    smallest class share (%), converged."""
    rows = []
    for k in counts:
        fit = fit_lcga(frame, k, **kwargs)
        rows.append(
            {
                "classes": k,
                "log_likelihood": fit.loglik,
                "parameters": fit.n_parameters,
                "bic": fit.bic,
                "smallest_class_percent": fit.classes()["percent"].min(),
                "converged": fit.converged,
            }
        )
    return pd.DataFrame(rows)


def trajectory_points(
    frame: pd.DataFrame, fit: LCGAFit, *, time_column: str = "years", value_column: str = "eq5d_index"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The class lines and the observed class means, for the trajectory chart.

    Returns (lines, observed): ``lines`` has trajectory_class, years, fitted over the observed range of
    time; ``observed`` has trajectory_class, wave, years (mean time of that wave's answers), mean index
    and patients, for the patients assigned to each class.
    """
    grid = np.linspace(frame[time_column].min(), frame[time_column].max(), 25)
    lines = pd.concat(
        [
            pd.DataFrame({"trajectory_class": k + 1, "years": grid, "fitted": fit.intercepts[k] + fit.slopes[k] * grid})
            for k in range(fit.n_classes)
        ],
        ignore_index=True,
    )
    assigned = frame.assign(trajectory_class=frame["patient_id"].map(fit.assignment))
    observed = (
        assigned.groupby(["trajectory_class", "wave"])
        .agg(years=(time_column, "mean"), mean_index=(value_column, "mean"), patients=("patient_id", "nunique"))
        .reset_index()
    )
    return lines, observed


def trajectory_chart(lines: pd.DataFrame, observed: pd.DataFrame, labels: dict[int, str]) -> alt.LayerChart:
    """Class lines (fitted) and observed class means by wave (points sized by patients)."""
    lines = lines.assign(group=lines["trajectory_class"].map(labels))
    observed = observed.assign(group=observed["trajectory_class"].map(labels))
    groups = sorted(set(labels.values()), key=lambda g: (g != "Favourable", g))  # favourable first
    palette = ["#1f5fa8", "#b2182b", "#4d4d4d"][: len(groups)]
    colour = alt.Color("group:N", title="Trajectory group", sort=groups, scale=alt.Scale(domain=groups, range=palette))
    x = alt.X("years:Q", title="Years since first admission")
    y = alt.Y("fitted:Q", title="EQ-5D-5L index (Norwegian value set)")
    line = alt.Chart(lines).mark_line(strokeWidth=2.5).encode(x=x, y=y, color=colour)
    points = (
        alt.Chart(observed)
        .mark_circle(opacity=0.8)
        .encode(
            x="years:Q",
            y=alt.Y("mean_index:Q"),
            color=colour,
            size=alt.Size("patients:Q", title="Patients (observed mean)"),
            tooltip=["group:N", "wave:O", alt.Tooltip("mean_index:Q", format=".3f"), "patients:Q"],
        )
    )
    return line + points


# --- correlates of the index -------------------------------------------------------------------------

#: The correlates of the index, with the sign of correlation the report describes.
CORRELATES = (
    ("anxiety_depression_moderate_or_severe", "Anxiety/depression moderate or severe (yes = 1)", -1),
    ("chronic_conditions", "Chronic conditions (number)", -1),
    ("social_support", "Social support (1-5)", 1),
    ("meaning_in_life", "Meaning in life (1-5)", 1),
)


def index_correlations(questionnaires: pd.DataFrame, values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pearson correlation of the index with four items, per questionnaire over all waves.

    For each item: the questionnaires with both the index and the item answered (n), Pearson's r
    with its 95% confidence interval (Fisher z) and two-sided p, the sign the report describes
    (anxiety/depression moderate or severe and more chronic conditions with a lower index; social
    support and meaning in life with a higher one) and whether the computed sign agrees. Rows are keyed by
    ``term``, the item's id in :data:`CORRELATES` (code looks an item up by it); ``label`` is for display only.
    """
    frame = pd.DataFrame({"eq5d_index": eq5d_index(questionnaires, values)})
    anxdep = questionnaires["anxiety_depression"]
    frame["anxiety_depression_moderate_or_severe"] = (
        anxdep.isin(["moderate", "severe"]).astype(float).where(anxdep.notna())
    )
    for column in ("chronic_conditions", "social_support", "meaning_in_life"):
        frame[column] = questionnaires[column].astype(float)
    rows = []
    for column, label, sign in CORRELATES:
        pair = frame[["eq5d_index", column]].dropna()
        n = len(pair)
        if n < 3 or pair[column].nunique() < 2:
            r, p, low, high = (np.nan,) * 4
        else:
            r, p = stats.pearsonr(pair["eq5d_index"], pair[column])
            z, half = np.arctanh(r), 1.959964 / np.sqrt(n - 3)
            low, high = np.tanh(z - half), np.tanh(z + half)
        rows.append(
            {
                "term": column,
                "label": label,
                "questionnaires": n,
                "r": float(r),
                "ci_low": float(low),
                "ci_high": float(high),
                "p": float(p),
                "expected_sign": "negative" if sign < 0 else "positive",
                "agrees": bool(np.sign(r) == sign) if not np.isnan(r) else False,
            }
        )
    return pd.DataFrame(rows)


# --- the class sizes as an edition shows them -------------------------------------------------------

#: Fitted class sizes by the trajectory sample they were fitted to (a hash of its rows): the grid's editions are
#: fitted once per process, however many times a page asks.
_CLASS_SIZES: dict[tuple, pd.DataFrame] = {}


def class_sizes(questionnaires: pd.DataFrame, episodes: pd.DataFrame, fewest: int) -> pd.DataFrame:
    """The patients of the favourable and of the other class of the two-class LCGA of the EQ-5D-5L index
    (:func:`fit_lcga` of :func:`trajectory_sample`), as on the page: rows ``favourable``, ``other``; columns
    ``trajectory_class``, ``n``. Both counts are 0 when fewer than ``fewest`` patients have two or more index
    values or the fit fails (the page then describes no class)."""
    sample = trajectory_sample(index_values(questionnaires, episodes))
    key = (len(sample), int(pd.util.hash_pandas_object(sample, index=False).sum()) if len(sample) else 0, fewest)
    if key not in _CLASS_SIZES:
        sizes = {"favourable": 0, "other": 0}
        if sample["patient_id"].nunique() >= fewest:
            try:
                classes = fit_lcga(sample, 2).classes()
                sizes = {
                    "favourable": int(classes.loc[classes["favourable"], "patients"].iloc[0]),
                    "other": int(classes.loc[~classes["favourable"], "patients"].iloc[0]),
                }
            except Exception:  # a degenerate class or a failed fit: no class is described
                pass
        _CLASS_SIZES[key] = pd.DataFrame({"trajectory_class": list(sizes), "n": list(sizes.values())})
    return _CLASS_SIZES[key].copy()


def _clinics_add_up(tables: dict[str, pd.DataFrame]) -> bool:
    """Whether both clinics' class sizes are Oslo's plus Bergen's (``tables``: edition -> :func:`class_sizes`)."""
    return bool(
        (tables["all"]["n"].to_numpy() == tables["Oslo"]["n"].to_numpy() + tables["Bergen"]["n"].to_numpy()).all()
    )


def shown_class_sizes(page, fewest: int) -> pd.Series:
    """The class sizes of :func:`class_sizes` as the edition of ``page`` (:class:`analysis.presentation.edition.Page`) may
    show them, by class: a number, ``"<5"`` or ``"–"``.

    Each edition fits its own classes, but where the fits of both clinics, Oslo and Bergen of one data end
    agree (both clinics' class = Oslo's + Bergen's, as in the bundled cohort), a reader can subtract one
    edition's class from another's: the sizes are then protected jointly with the other editions of the year
    (:func:`analysis.presentation.linked_suppression.protect_linked`; the two classes add up to the trajectory sample, which
    the page shows), and with the other data ends' editions when their fits add up too (otherwise with this
    year's only). Where the fits do not add up, a subtraction gives no class
    size, but it may come close: both classes are withheld in every edition of a year with a small class.
    In the published edition the sizes are shown."""
    from analysis.presentation import disclosure
    from analysis.presentation import linked_suppression as ls

    def sizes_of(cohort):
        return class_sizes(cohort.questionnaires, cohort.episodes, fewest)

    own = sizes_of(page.cohort)
    if page.sdc is None:
        return own.set_index("trajectory_class")["n"]
    tables, published = ls.sibling_tables(page, sizes_of)
    if _clinics_add_up(tables):
        grid = ls.grid_tables(page, sizes_of)
        if grid is None or all(_clinics_add_up(year_tables) for year_tables, _ in grid.values()):
            return ls.protect_linked(page, sizes_of, count="n", groups=[]).set_index("trajectory_class")["n"]
        # another data end's fits do not add up (there a clinic had too few patients to fit): its editions
        # cannot be protected with this year's as one system of sums, and a difference between data ends of
        # classes fitted apart counts no set of patients, so this year's editions are protected together
        shown = ls.protect_tables(tables, "n", page.sdc, published=published, groups=[])
        return shown[page.edition.clinic].set_index("trajectory_class")["n"]
    if page.edition.clinic in published:
        return own.set_index("trajectory_class")["n"]
    small = any(disclosure.any_small(t["n"], page.sdc) for t in tables.values())
    marks = [
        disclosure.count(n, page.sdc)
        if small and disclosure.is_small(n, page.sdc)
        else disclosure.WITHHELD
        if small
        else n
        for n in own["n"]
    ]
    return pd.Series(marks, index=own["trajectory_class"], name="n", dtype=object)


# --- the trajectory classes of section 6.4 as the page shows them ---------------------------------------

#: Why the favourable class's share may differ from the report's print.
CLASS_SHARE_NOTE = (
    "The synthetic questionnaires do not reproduce the report's share; the trajectory model finds the "
    "groups in the data it is given, see the calibration report of `python -m synthetic --check`."
)


class _TrajectoryFit(NamedTuple):
    """The models of :func:`trajectory_section` fitted to an edition's trajectory sample: the BIC of one to three
    classes (``bic``), the two-class fit (``fit``) with its ``classes`` table and the ``favourable`` and ``other``
    class rows, and the one-class fit (``one``); all None when nothing is fitted, and ``reason`` says why."""

    fit: LCGAFit | None
    bic: pd.DataFrame | None
    one: LCGAFit | None
    classes: pd.DataFrame | None
    favourable: pd.Series | None
    other: pd.Series | None
    reason: str


def trajectory_section(page, sizes_shown: pd.Series) -> dict:
    """The EQ-5D-5L trajectory classes of section 6.4 for the edition of ``page`` (:class:`analysis.presentation.edition.Page`):
    a two-class LCGA (:func:`fit_lcga`) of the patients with two or more index values, the one-class line, and the
    BIC of one to three classes. ``sizes_shown`` holds the sample sizes as the page shows them
    (``qol_patients``, ``qol_values``: a number or its marker).

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: the sample, the classes' lines and
    shares, the one-class slope, the best number of classes by BIC, ``s6_4_qol_favorable_group_pct`` and the
    sentence ``h64_qol_agreement`` on the report's description), the words of the two shares
    (``h64_qol_other_pct_text``, ``s6_4_qol_favorable_group_pct_text``: "81%" or a marker alone) and the displays
    ``table_h64_qol_bic``, ``table_h64_qol_classes`` and ``fig_h64_qol_trajectories``. Nothing is fitted below the
    disclosure threshold (and never below three patients); in a rerun the class sizes are protected with the other
    editions of the year (:func:`shown_class_sizes`), and a class withheld withholds every figure of both classes."""
    from analysis.sections import outcomes as oc

    card, sdc = page.card, page.sdc
    sample = trajectory_sample(index_values(page.cohort.questionnaires, page.cohort.episodes))
    n = sample["patient_id"].nunique()
    fewest = max(oc.fewest_patients(sdc), 3)
    fitted = _fit_trajectories(sample, n, fewest)
    rows = [
        oc.own_count_row(
            "h64_qol_patients", n if not oc.is_hidden(sizes_shown["qol_patients"]) else sizes_shown["qol_patients"]
        ),
        oc.own_count_row(
            "h64_qol_values", len(sample) if not oc.is_hidden(sizes_shown["qol_values"]) else sizes_shown["qol_values"]
        ),
    ]
    if fitted.fit is None:
        return _not_estimated_section(card, rows, fitted.reason)

    # the comparison of classes and the one-class line are fitted with the two-class model and kept only with it
    assert fitted.bic is not None and fitted.one is not None
    assert fitted.classes is not None and fitted.favourable is not None and fitted.other is not None
    favourable, other = fitted.favourable, fitted.other
    class_counts = [favourable.patients, other.patients]
    # the class sizes as this edition shows them, protected jointly with the other editions of this year (where
    # their fits agree, both clinics' class less Oslo's is Bergen's); a class withheld withholds both classes' figures
    sizes = shown_class_sizes(page, fewest)
    hidden = oc.is_hidden(sizes["favourable"]) or oc.is_hidden(sizes["other"])
    rows += _class_rows(fitted, n, class_counts, hidden)
    return {
        "statistics": oc.statistics_frame(rows),
        "h64_qol_other_pct_text": _share_text(card, other.percent, class_counts, hidden),
        "s6_4_qol_favorable_group_pct_text": _share_text(card, favourable.percent, class_counts, hidden),
        "table_h64_qol_bic": _bic_table(fitted.bic, n, sdc, hidden),
        "table_h64_qol_classes": _classes_table(fitted.classes, sizes, sizes_shown, sdc, hidden),
        "fig_h64_qol_trajectories": _trajectory_figure(sample, fitted.fit, fitted.classes, sdc, hidden),
    }


def _fit_trajectories(sample: pd.DataFrame, n: int, fewest: int) -> _TrajectoryFit:
    """The BIC of one to three classes, the two-class and the one-class fit of ``sample`` (``n`` patients), or
    nothing, with the reason, when fewer than ``fewest`` patients have two or more index values or a fit fails."""
    fit = bic = one = classes = favourable = other = None  # stay None when a rerun has too few patients, or a fit fails
    reason = f"fewer than {fewest} patients have two or more index values"
    if n >= fewest:
        try:
            bic = compare_classes(sample, (1, 2, 3))
            fit = fit_lcga(sample, 2)
            one = fit_lcga(sample, 1)
            classes = fit.classes()
            favourable = classes.set_index("trajectory_class").loc[fit.favourable_class]
            other = classes[~classes["favourable"]].iloc[0]
        except Exception as error:  # a degenerate class or a failed fit on a small rerun
            reason = f"the fit fails ({type(error).__name__})"
            fit = None
    return _TrajectoryFit(fit, bic, one, classes, favourable, other, reason)


def _not_estimated(why: str):
    """The chart that stands in for a display of the classes that this edition cannot show."""
    from analysis.presentation import disclosure

    return disclosure.placeholder_chart(f"The trajectory classes: not estimable in this edition ({why}).")


def _share_text(card, value, of=None, suppress: bool = False) -> str:
    """A class's share as the reader sees it: "81%", or a marker alone."""
    from analysis.presentation import disclosure, formats
    from analysis.presentation.scorecard import plain_number

    return formats.percent(
        card.disclose(
            plain_number(value) if not disclosure.is_missing(value) else float("nan"), of=of, suppress=suppress
        ),
        0,
    )


def _not_estimated_section(card, rows: list[dict], reason: str) -> dict:
    """The section of an edition without classes: the sample's rows, every class figure missing, and the displays
    saying why (``reason``)."""
    from analysis.sections import outcomes as oc

    rows += [
        {"key": key, "value": float("nan")}
        for key in (
            "h64_qol_bic_best",
            "h64_qol_favourable_start",
            "h64_qol_favourable_slope",
            "h64_qol_other_pct",
            "h64_qol_other_start",
            "h64_qol_other_slope",
            "h64_qol_one_class_slope",
        )
    ]
    rows.append({"key": "h64_qol_agreement", "value": f"is not estimable in this edition ({reason})"})
    rows.append({"key": "s6_4_qol_favorable_group_pct", "value": float("nan"), "note": CLASS_SHARE_NOTE})
    return {
        "statistics": oc.statistics_frame(rows),
        "h64_qol_other_pct_text": _share_text(card, float("nan")),
        "s6_4_qol_favorable_group_pct_text": _share_text(card, float("nan")),
        "table_h64_qol_bic": _not_estimated(reason),
        "table_h64_qol_classes": _not_estimated(reason),
        "fig_h64_qol_trajectories": _not_estimated(reason),
    }


def _class_rows(fitted: _TrajectoryFit, n: int, class_counts: list, hidden: bool) -> list[dict]:
    """The statistics of the classes: the best number of classes by BIC, each class's start and slope, the other
    class's and the favourable class's share, the one-class slope, and the sentence on the report's description
    (``hidden``: the class sizes are withheld, and every figure of both classes with them)."""
    favourable, other = fitted.favourable, fitted.other
    assert fitted.bic is not None and fitted.one is not None and favourable is not None and other is not None
    agrees = favourable.percent > 50 and other.slope_per_year > 0 and other.intercept < favourable.intercept
    return [
        {"key": "h64_qol_bic_best", "value": int(fitted.bic.loc[fitted.bic["bic"].idxmin(), "classes"])},
        {"key": "h64_qol_favourable_start", "value": favourable.intercept, "of": class_counts, "suppress": hidden},
        {"key": "h64_qol_favourable_slope", "value": favourable.slope_per_year, "of": class_counts, "suppress": hidden},
        {"key": "h64_qol_other_pct", "value": other.percent, "of": class_counts, "suppress": hidden},
        {"key": "h64_qol_other_start", "value": other.intercept, "of": class_counts, "suppress": hidden},
        {"key": "h64_qol_other_slope", "value": other.slope_per_year, "of": class_counts, "suppress": hidden},
        {"key": "h64_qol_one_class_slope", "value": fitted.one.slopes[0], "of": n},
        {
            "key": "h64_qol_agreement",
            "value": (
                "cannot be compared with the report's description here, as the class sizes are withheld in this "
                "edition (a class is small here, or in an edition of the same year it could be worked out from)"
                if hidden
                else "agrees with the report's description: the favourable class holds the majority, and the other "
                "class starts lower and rises"
                if agrees
                else "does not match the report's description (a favourable majority class, and a smaller class that "
                "starts lower and rises) in every respect; see the class table"
            ),
        },
        {
            "key": "s6_4_qol_favorable_group_pct",
            "value": favourable.percent,
            "note": CLASS_SHARE_NOTE,
            "of": class_counts,
            "suppress": hidden,
        },
    ]


def _bic_table(bic: pd.DataFrame, n: int, sdc, hidden: bool):
    """The table of one to three classes (styled): a smallest class of fewer than the threshold's patients withheld,
    and the two-class model's when the class sizes are (``hidden``)."""
    from analysis.presentation import disclosure, formats

    smallest = (bic["smallest_class_percent"] * n / 100).round()
    shown_bic = disclosure.protect(bic.assign(smallest=smallest), {"smallest": ["smallest_class_percent"]}, sdc).drop(
        columns="smallest"
    )
    if hidden:  # the two-class model's smallest class is the class the edition withholds
        shown_bic = shown_bic.astype({"smallest_class_percent": object})
        shown_bic.loc[shown_bic["classes"] == 2, "smallest_class_percent"] = disclosure.WITHHELD
    shown_bic = shown_bic.rename(
        columns={
            "classes": "Classes",
            "log_likelihood": "Log-likelihood",
            "parameters": "Parameters",
            "bic": "BIC",
            "smallest_class_percent": "Smallest class (% of patients)",
            "converged": "Converged",
        }
    )
    one_decimal = formats.formatter(1)
    return (
        shown_bic.style.hide(axis="index")
        .format({"Log-likelihood": one_decimal, "BIC": one_decimal, "Smallest class (% of patients)": one_decimal})
        .set_table_attributes('class="hatbook-table"')
    )


def _classes_table(classes: pd.DataFrame, sizes: pd.Series, sizes_shown: pd.Series, sdc, hidden: bool):
    """The table of the two classes (styled), as the edition may describe them: ``sizes`` the class sizes as shown,
    ``sizes_shown`` the page's sample sizes as shown, ``hidden`` whether the class sizes are withheld."""
    from analysis.presentation import disclosure, formats
    from analysis.sections import outcomes as oc

    one_decimal, three_decimals = formats.formatter(1), formats.formatter(3)
    shown_classes = classes.assign(group=classes["favourable"].map({True: "Favourable", False: "Other"}))[
        ["group", "intercept", "slope_per_year", "residual_sd", "patients", "percent"]
    ]
    # a class of fewer than min_cell patients is not described in a rerun (nor the other, as the total is shown)
    shown_classes = disclosure.protect(
        shown_classes, {"patients": ["percent", "intercept", "slope_per_year", "residual_sd"]}, sdc, groups=[]
    )
    if hidden:  # as protected with the other editions of this year: sizes as shown, and no class described
        shown_classes = shown_classes.astype(object)
        shown_classes["patients"] = [
            sizes["favourable" if g == "Favourable" else "other"] for g in shown_classes["group"]
        ]
        shown_classes[["intercept", "slope_per_year", "residual_sd", "percent"]] = disclosure.WITHHELD
    if oc.is_hidden(sizes_shown["qol_patients"]):  # the two classes add up to the sample's size, which is withheld
        shown_classes["patients"] = [v if oc.is_hidden(v) else disclosure.WITHHELD for v in shown_classes["patients"]]
    shown_classes = shown_classes.rename(
        columns={
            "group": "Class",
            "intercept": "Index at first admission",
            "slope_per_year": "Change per year",
            "residual_sd": "Residual SD",
            "patients": "Patients",
            "percent": "% of patients",
        }
    )
    return (
        shown_classes.style.hide(axis="index")
        .format(
            {
                "Index at first admission": three_decimals,
                "Change per year": lambda v: formats.number(v, 3, sign=True),
                "Residual SD": three_decimals,
                "% of patients": one_decimal,
            }
        )
        .set_table_attributes('class="hatbook-table"')
    )


def _trajectory_figure(sample: pd.DataFrame, fit: LCGAFit, classes: pd.DataFrame, sdc, hidden: bool):
    """The classes' lines and the observed class means by wave, or a placeholder when the class sizes are withheld
    (``hidden``)."""
    from analysis.presentation import disclosure

    lines, observed = trajectory_points(sample, fit)
    labels = {k: ("Favourable" if k == fit.favourable_class else "Other") for k in classes["trajectory_class"]}
    # a point (class mean at a wave) of fewer than min_cell patients is left out in a rerun
    observed = disclosure.mask(observed, {"patients": ["mean_index"]}, sdc).dropna(subset=["patients"])
    return (
        trajectory_chart(lines, observed, labels)
        if not hidden
        else _not_estimated("the class sizes are withheld in this edition")
    )


def correlation_section(page) -> dict:
    """The correlations of the EQ-5D-5L index with the items the report links to quality of life
    (:func:`index_correlations`), for the edition of ``page`` (:class:`analysis.presentation.edition.Page`).

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: the sentence
    ``h64_qol_correlation_agreement``, how many correlations have the sign the report describes) and
    ``table_h64_qol_correlations`` (styled; a correlation over fewer questionnaires than the threshold is withheld
    in a rerun)."""
    import warnings

    from analysis.presentation import disclosure, formats
    from analysis.sections import outcomes as oc

    with warnings.catch_warnings():  # a correlation of exactly 1 over a handful of answers (a tiny rerun): its interval
        warnings.simplefilter(
            "ignore", RuntimeWarning
        )  # is unbounded, and the row is withheld below for its few answers
        correlations = index_correlations(page.cohort.questionnaires)
    sentence = f"{int(correlations['agrees'].sum())} of the {len(correlations)} correlations have the sign the report describes"
    shown = correlations.assign(agrees=correlations["agrees"].map({True: "yes", False: "no"})).drop(columns="term")
    shown = shown.rename(
        columns={
            "label": "Item",
            "questionnaires": "Questionnaires",
            "r": "Pearson r",
            "ci_low": "95% CI, low",
            "ci_high": "95% CI, high",
            "p": "p",
            "expected_sign": "Report's direction",
            "agrees": "Agrees",
        }
    )
    shown = disclosure.protect(shown, {"Questionnaires": ["Pearson r", "95% CI, low", "95% CI, high", "p"]}, page.sdc)
    two_decimals = formats.formatter(2)
    return {
        "statistics": oc.statistics_frame([{"key": "h64_qol_correlation_agreement", "value": sentence}]),
        "table_h64_qol_correlations": shown.style.hide(axis="index")
        .format(
            {"Pearson r": two_decimals, "95% CI, low": two_decimals, "95% CI, high": two_decimals, "p": formats.p_value}
        )
        .set_table_attributes('class="hatbook-table"'),
    }
