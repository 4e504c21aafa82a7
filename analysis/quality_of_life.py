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

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from analysis.data import DEFAULT_DATA_DIR
from analysis.outcomes import with_months
from analysis.schema import EQ5D_DIMENSIONS

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
    lookup = {(str(d).lower(), int(l)): float(x) for d, l, x in values[["dimension", "level", "decrement"]].itertuples(index=False)}
    total = pd.Series(0.0, index=questionnaires.index)
    complete = pd.Series(True, index=questionnaires.index)
    for dimension in EQ5D_DIMENSIONS:
        levels = questionnaires[f"eq5d_{dimension}"]
        complete &= levels.notna()
        decrement = levels.map(lambda level: lookup[(dimension, int(level))] if pd.notna(level) else np.nan)
        total = total + decrement.astype(float).fillna(0.0)
    return (1.0 - total).where(complete, np.nan).rename("eq5d_index")


def index_values(questionnaires: pd.DataFrame, episodes: pd.DataFrame, values: pd.DataFrame | None = None) -> pd.DataFrame:
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


def trajectory_points(frame: pd.DataFrame, fit: LCGAFit, *, time_column: str = "years", value_column: str = "eq5d_index") -> tuple[pd.DataFrame, pd.DataFrame]:
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
    support and meaning in life with a higher one) and whether the computed sign agrees.
    """
    frame = pd.DataFrame({"eq5d_index": eq5d_index(questionnaires, values)})
    anxdep = questionnaires["anxiety_depression"]
    frame["anxiety_depression_moderate_or_severe"] = anxdep.isin(["moderate", "severe"]).astype(float).where(anxdep.notna())
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
                "correlate": label,
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
                sizes = {"favourable": int(classes.loc[classes["favourable"], "patients"].iloc[0]),
                         "other": int(classes.loc[~classes["favourable"], "patients"].iloc[0])}
            except Exception:  # a degenerate class or a failed fit: no class is described
                pass
        _CLASS_SIZES[key] = pd.DataFrame({"trajectory_class": list(sizes), "n": list(sizes.values())})
    return _CLASS_SIZES[key].copy()


def shown_class_sizes(page, fewest: int) -> pd.Series:
    """The class sizes of :func:`class_sizes` as the edition of ``page`` (:class:`analysis.edition.Page`) may
    show them, by class: a number, ``"<5"`` or ``"–"``.

    Each edition fits its own classes, but where the fits of both clinics, Oslo and Bergen of one data end
    agree (both clinics' class = Oslo's + Bergen's, as in the bundled cohort), a reader can subtract one
    edition's class from another's: the sizes are then protected jointly with the other editions of the year
    (:func:`analysis.linked_suppression.protect_linked`; the two classes add up to the trajectory sample, which
    the page shows). Where the fits do not add up, a subtraction gives no class
    size, but it may come close: both classes are withheld in every edition of a year with a small class.
    In the published edition the sizes are shown."""
    from analysis import disclosure
    from analysis import linked_suppression as ls

    def sizes_of(cohort):
        return class_sizes(cohort.questionnaires, cohort.episodes, fewest)

    own = sizes_of(page.cohort)
    if page.sdc is None:
        return own.set_index("trajectory_class")["n"]
    tables, published = ls.sibling_tables(page, sizes_of)
    if (tables["all"]["n"].to_numpy() == tables["Oslo"]["n"].to_numpy() + tables["Bergen"]["n"].to_numpy()).all():
        return ls.protect_linked(page, sizes_of, count="n", groups=[]).set_index("trajectory_class")["n"]
    if page.edition.clinic in published:
        return own.set_index("trajectory_class")["n"]
    small = any(disclosure.any_small(t["n"], page.sdc) for t in tables.values())
    marks = [disclosure.count(n, page.sdc) if small and disclosure.is_small(n, page.sdc) else
             disclosure.WITHHELD if small else n for n in own["n"]]
    return pd.Series(marks, index=own["trajectory_class"], name="n", dtype=object)
