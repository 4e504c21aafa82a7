"""Somatic (physical) health: acute symptoms, symptom burden and chronic conditions (report section 6.4,
Figure 6.J, Supplementary Figure A).

Definitions used throughout:

* a questionnaire is *complete* for the symptom list when all 18 symptom items
  (``symptom_sleep_problems`` ... ``symptom_numbness``, each rated 0 not at all, 1 a little, 2 quite,
  3 very troublesome) are answered; only complete questionnaires give a symptom count or a score;
* the *acute symptom count* is the number of the 18 items rated 1 or more;
* the *burden score* is the sum of the 18 ratings (0-54). A burden is *severe* when the score is 14 or
  more and *low* when it is below 14;
* *shares severe/low* at a wave are percentages of the complete questionnaires at that wave;
* *baseline* summaries use wave 0: the acute symptom count of complete questionnaires, and
  ``chronic_conditions`` where answered. SD with n - 1; median and quartiles are numpy's default
  (linear) percentiles 25, 50 and 75;
* an item's *prevalence* (Supplementary Figure A) is the percentage rating it 2 or 3 (quite or very
  troublesome) among the patients who answered that item at wave 0;
* the *mixed model* is a linear mixed model (statsmodels ``MixedLM``, REML) of the burden score on
  years since the patient's first admission, with a random intercept and a random slope on time per
  patient, over every complete questionnaire at every wave. When that fit does not converge (or ends
  on the boundary, a singular random-effects covariance), the model is refitted with a random
  intercept only, and the result says so.
"""

from __future__ import annotations

import warnings

import altair as alt
import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis.data.schema import SOMATIC_SYMPTOMS

SYMPTOM_COLUMNS = [f"symptom_{name}" for name in SOMATIC_SYMPTOMS]
#: A burden score at or above this is "severe"; below it "low".
SEVERE_CUTOFF = 14
#: Waves of the severe/low comparison (Figure 6.J).
BURDEN_WAVES = (0, 12, 24)
#: How the symptom items are named in tables and charts.
SYMPTOM_LABELS = {
    "sleep_problems": "Sleep problems",
    "dental_gum": "Dental and gum problems",
    "joint_pain": "Joint pain",
    "memory": "Memory problems",
    "digestive": "Digestive complaints",
    "constipation": "Constipation",
    "headache": "Headache",
    "back_pain": "Back pain",
    "breathing": "Breathing problems",
    "skin_wounds": "Skin and wounds",
    "dizziness": "Dizziness",
    "weight_loss": "Weight loss",
    "poor_appetite": "Poor appetite",
    "sweating": "Sweating",
    "fatigue": "Fatigue",
    "nausea": "Nausea",
    "chest_pain": "Chest pain",
    "numbness": "Numbness",
}


def symptom_scores(questionnaires: pd.DataFrame) -> pd.DataFrame:
    """One row per complete questionnaire: patient_id, wave, questionnaire_date, acute_symptoms,
    burden_score, severe (score >= 14)."""
    items = questionnaires[SYMPTOM_COLUMNS]
    complete = items.notna().all(axis=1)
    ratings = items[complete].astype(int)
    out = questionnaires.loc[complete, ["patient_id", "wave", "questionnaire_date"]].copy()
    out["acute_symptoms"] = (ratings >= 1).sum(axis=1).astype(int)
    out["burden_score"] = ratings.sum(axis=1).astype(int)
    out["severe"] = out["burden_score"] >= SEVERE_CUTOFF
    return out.reset_index(drop=True)


def burden_shares(scores: pd.DataFrame, waves=BURDEN_WAVES) -> pd.DataFrame:
    """Per wave: complete questionnaires, severe and low counts, and their percentages."""
    rows = []
    for wave in waves:
        at = scores[scores["wave"] == wave]
        n = len(at)
        severe = int(at["severe"].sum())
        rows.append(
            {
                "wave": int(wave),
                "questionnaires": n,
                "severe": severe,
                "low": n - severe,
                "severe_pct": 100 * severe / n if n else np.nan,
                "low_pct": 100 * (n - severe) / n if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


def describe(values: pd.Series) -> dict[str, float]:
    """n, mean, SD (n - 1), median, 25th and 75th percentiles (numpy's linear rule) of the non-missing values."""
    x = values.dropna().astype(float).to_numpy()
    if len(x) == 0:
        return {"n": 0, "mean": np.nan, "sd": np.nan, "median": np.nan, "q25": np.nan, "q75": np.nan}
    q25, median, q75 = np.percentile(x, [25, 50, 75])
    return {
        "n": int(len(x)),
        "mean": float(x.mean()),
        "sd": float(x.std(ddof=1)) if len(x) > 1 else np.nan,
        "median": float(median),
        "q25": float(q25),
        "q75": float(q75),
    }


def baseline_summary(questionnaires: pd.DataFrame) -> pd.DataFrame:
    """Baseline (wave 0) summaries: acute symptom count (complete questionnaires) and chronic conditions
    (answered). One row per measure with n, mean, sd, median, q25, q75."""
    scores = symptom_scores(questionnaires)
    acute = describe(scores.loc[scores["wave"] == 0, "acute_symptoms"])
    chronic = describe(questionnaires.loc[questionnaires["wave"] == 0, "chronic_conditions"])
    return pd.DataFrame([{"measure": "acute_symptoms", **acute}, {"measure": "chronic_conditions", **chronic}])


def item_prevalence(questionnaires: pd.DataFrame, wave: int = 0) -> pd.DataFrame:
    """Per symptom item at ``wave``: patients answering, patients rating it 2 or 3, and that percentage.

    Sorted from the most to the least prevalent (ties in the schema's order).
    """
    at = questionnaires[questionnaires["wave"] == wave]
    rows = []
    for order, name in enumerate(SOMATIC_SYMPTOMS):
        answers = at[f"symptom_{name}"].dropna().astype(int)
        high = int((answers >= 2).sum())
        rows.append(
            {
                "item": name,
                "symptom": SYMPTOM_LABELS[name],
                "answered": int(len(answers)),
                "quite_or_very": high,
                "percent": 100 * high / len(answers) if len(answers) else np.nan,
                "order": order,
            }
        )
    frame = pd.DataFrame(rows).sort_values(["percent", "order"], ascending=[False, True], kind="stable")
    return frame.drop(columns="order").reset_index(drop=True)


def _fit(data: pd.DataFrame, re_formula: str):
    """Fit the mixed model; return (result, problems) where problems lists what went wrong, if anything."""
    problems: list[str] = []
    model = smf.mixedlm("burden_score ~ years", data, groups=data["patient_id"], re_formula=re_formula)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = model.fit(reml=True)  # statsmodels tries bfgs, lbfgs and cg in turn
        except (np.linalg.LinAlgError, ValueError) as error:
            return None, [f"the fit failed ({type(error).__name__})"]
    # statsmodels' own messages ("Maximum Likelihood optimization failed to converge. Check mle_retvals",
    # "|grad| = ...") are for a developer; the reason shown to a reader is one of these phrases
    for w in caught:
        message = str(w.message).lower()
        if "singular" in message or "boundary" in message:
            problems.append("the random-effects covariance is singular (the fit is on the boundary)")
        elif issubclass(w.category, ConvergenceWarning):
            problems.append("optimizer did not converge")
    if not result.converged:
        problems.append("optimizer did not converge")
    cov_re = np.asarray(result.cov_re, dtype=float)
    if cov_re.shape[0] > 1:
        eigen = np.linalg.eigvalsh(cov_re)
        if eigen.min() <= 1e-6 * max(eigen.max(), 1e-12):
            problems.append("the random-effects covariance is singular (the fit is on the boundary)")
    if not np.all(np.isfinite(result.bse.get("years", np.nan))):
        problems.append("no standard error for time")
    return result, problems


def burden_mixed_model(scores: pd.DataFrame, years: pd.Series) -> dict:
    """Linear mixed model of the burden score on years since first admission (see module docstring).

    ``scores`` is :func:`symptom_scores`; ``years`` gives each row's years since first admission (same
    index). Returns a dict: structure (which random effects were used), fallback_reason (why the random
    slope was dropped, or ""), coefficient (points per year), se, ci_low, ci_high, p, patients,
    questionnaires, and result (the statsmodels result).
    """
    data = scores.assign(years=years.astype(float)).dropna(subset=["years", "burden_score"])
    data = data.assign(burden_score=data["burden_score"].astype(float))
    result, problems = _fit(data, "~years")
    structure, reason = "random intercept and slope", ""
    if result is None or problems:
        reason = "; ".join(dict.fromkeys(problems))
        result, problems_int = _fit(data, "1")
        structure = "random intercept only"
        if result is None or problems_int:  # no reliable fit at all: the page says the model is not estimable
            raise RuntimeError(f"the mixed model could not be fitted: {'; '.join(dict.fromkeys(problems_int))}")
    ci = result.conf_int().loc["years"]
    return {
        "structure": structure,
        "fallback_reason": reason,
        "coefficient": float(result.params["years"]),
        "se": float(result.bse["years"]),
        "ci_low": float(ci[0]),
        "ci_high": float(ci[1]),
        "p": float(result.pvalues["years"]),
        "patients": int(data["patient_id"].nunique()),
        "questionnaires": int(len(data)),
        "result": result,
    }


def burden_chart(shares: pd.DataFrame) -> alt.Chart:
    """Stacked bars: percent severe and low burden at each wave of :func:`burden_shares`."""
    labels = {0: "Baseline", 12: "12 months", 24: "24 months"}
    long = pd.concat(
        [
            shares.assign(
                burden="Severe (score 14 or more)", percent=shares["severe_pct"], count=shares["severe"], order=0
            ),
            shares.assign(burden="Low (score under 14)", percent=shares["low_pct"], count=shares["low"], order=1),
        ],
        ignore_index=True,
    )
    long["time"] = long["wave"].map(lambda w: labels.get(int(w), f"{int(w)} months"))
    long = long[["time", "wave", "burden", "percent", "count", "questionnaires", "order"]]
    categories = ["Severe (score 14 or more)", "Low (score under 14)"]
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(
                "time:N",
                sort=[labels.get(int(w), f"{int(w)} months") for w in shares["wave"]],
                title=None,
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("percent:Q", title="Share of complete questionnaires (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "burden:N",
                sort=categories,
                scale=alt.Scale(domain=categories, range=["#b2182b", "#4393c3"]),
                title="Symptom burden",
            ),
            order=alt.Order("order:Q"),
            tooltip=["time:N", "burden:N", alt.Tooltip("percent:Q", format=".1f"), "count:Q", "questionnaires:Q"],
        )
        .properties(width=380)
    )


def prevalence_chart(prevalence: pd.DataFrame) -> alt.Chart:
    """Horizontal bars: percent rating each symptom quite or very troublesome, most prevalent on top."""
    return (
        alt.Chart(prevalence)
        .mark_bar(color="#1f5fa8")
        .encode(
            y=alt.Y("symptom:N", sort=list(prevalence["symptom"]), title=None),
            x=alt.X("percent:Q", title="Rated quite or very troublesome at baseline (%)"),
            tooltip=["symptom:N", alt.Tooltip("percent:Q", format=".1f"), "quite_or_very:Q", "answered:Q"],
        )
        .properties(height=alt.Step(18))
    )


def simple_fraction(share: float, denominator: int) -> float:
    """The share (0-1) rounded to the nearest multiple of 1/``denominator`` (0.53 with 2 -> 0.5; 0.39 with
    3 -> 1/3): the number behind a wording such as "one in two" or "two in five". NaN stays NaN."""
    if np.isnan(share):
        return float("nan")
    return round(share * denominator) / denominator


def fraction_words(share: float, denominator: int) -> str:
    """The rounded share of :func:`simple_fraction` in words: "one in two", "two in three", "two in five"."""
    if np.isnan(share):
        return "(no answers)"
    words = {0: "none", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    numerator = int(round(share * denominator))
    if numerator == denominator:
        return "all"
    return f"{words.get(numerator, str(numerator))} in {words.get(denominator, str(denominator))}"


def burden_lead(severe_baseline_percent) -> str:
    """The sentence that opens the description of the baseline burden, from the share (percent) of complete
    baseline questionnaires with a severe burden (score 14 or more). Rule: above one half "the burden was
    heavy"; at or below one half a severe burden "was not the rule"; a marker or a missing share (no or too
    few questionnaires) says the weight of the burden is not shown."""
    from analysis.sections.outcomes import known

    share = known(severe_baseline_percent)
    if share is None:
        return "How heavy the burden was at baseline cannot be told from the shares this edition shows."
    if share > 50:
        return "At baseline the burden was heavy."
    return "At baseline a severe burden was not the rule."


def item_counts(questionnaires: pd.DataFrame, wave: int = 0) -> pd.DataFrame:
    """:func:`item_prevalence` with its rows in the schema's order of the complaints, the same rows for every
    cohort: the table :func:`analysis.presentation.linked_suppression.protect_linked` protects (the patients rating a
    complaint quite or very troublesome, of those answering it)."""
    frame = item_prevalence(questionnaires, wave)
    return frame.set_index("item").loc[list(SOMATIC_SYMPTOMS)].reset_index()


def most_prevalent_first(shown: pd.DataFrame) -> pd.DataFrame:
    """The rows of a (protected) table of :func:`item_counts` from the most to the least prevalent complaint by
    the shares as shown, ties and withheld shares in the schema's order (a withheld share is ranked last, so
    that the order gives nothing away); in the published edition the order of :func:`item_prevalence`."""
    order = {name: i for i, name in enumerate(SOMATIC_SYMPTOMS)}
    percent = pd.to_numeric(shown["percent"].map(lambda v: np.nan if isinstance(v, str) else v), errors="coerce")
    key = pd.DataFrame({"percent": percent, "order": shown["item"].map(order)})
    ranked = key.sort_values(["percent", "order"], ascending=[False, True], na_position="last", kind="stable").index
    return shown.loc[ranked].reset_index(drop=True)


def burden_counts(scores: pd.DataFrame, waves=BURDEN_WAVES) -> pd.DataFrame:
    """:func:`burden_shares` long, with fixed rows (every wave of ``waves``, then ``"severe"`` and ``"low"``): the
    table :func:`analysis.presentation.linked_suppression.protect_linked` protects. Columns: wave, burden, n (complete
    questionnaires with that burden), questionnaires (the wave's complete questionnaires, which the two burdens
    split), percent (NaN without questionnaires)."""
    wide = burden_shares(scores, waves)
    rows = [
        {
            "wave": int(r.wave),
            "burden": burden,
            "n": int(getattr(r, burden)),
            "questionnaires": int(r.questionnaires),
            "percent": getattr(r, f"{burden}_pct"),
        }
        for r in wide.itertuples(index=False)
        for burden in ("severe", "low")
    ]
    return pd.DataFrame(rows, columns=["wave", "burden", "n", "questionnaires", "percent"])


def burden_wide(shown: pd.DataFrame) -> pd.DataFrame:
    """A (protected) table of :func:`burden_counts` back in the layout of :func:`burden_shares` (one row per wave:
    questionnaires, severe, low, severe_pct, low_pct), markers kept; for the chart and the prose."""
    rows = []
    for wave, at in shown.groupby("wave", sort=False):
        by = at.set_index("burden")
        rows.append(
            {
                "wave": int(wave),
                "questionnaires": by["questionnaires"].iloc[0],
                "severe": by.loc["severe", "n"],
                "low": by.loc["low", "n"],
                "severe_pct": by.loc["severe", "percent"],
                "low_pct": by.loc["low", "percent"],
            }
        )
    return pd.DataFrame(rows, columns=["wave", "questionnaires", "severe", "low", "severe_pct", "low_pct"])


def top_items_words(computed_top, report_top, some_withheld: bool = False) -> str:
    """The clause comparing the most common complaints of the data (``computed_top``, items of
    :data:`SOMATIC_SYMPTOMS` from the most common, as many as the report names) with the report's
    (``report_top``). When some shares are withheld (``some_withheld``), the ranking covers only the shares
    shown, so no comparison with the report is claimed."""
    names = ", ".join(SYMPTOM_LABELS[i].lower() for i in computed_top)
    if some_withheld:
        if not computed_top:
            return "no complaint's share is shown in this edition"
        return f"some complaints' shares are withheld in this edition; of those shown, the most common are {names}"
    if set(computed_top) == set(report_top):
        return "the same six complaints lead the list in the data"
    return f"the six most common complaints in the data are {names}, which is not the report's six"


def supplementary_figure_a(page) -> dict:
    """Supplementary Figure A of Appendix 3 for the edition of ``page`` (:class:`analysis.presentation.edition.Page`): the
    patients rating each complaint quite or very troublesome at baseline, of those answering it, protected
    jointly with the other editions of the year (as on the page of section 6.4); a share whose count, or whose
    rest (the others answering), is withheld is left out of the chart.

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: the fewest and the most patients
    answering a complaint, ``app3_sfig_a_answers_min`` and ``app3_sfig_a_answers_max``, the marker of that row
    where its number is withheld) and ``sfig_a`` (the chart)."""
    from analysis.presentation.linked_suppression import protect_linked
    from analysis.sections import outcomes as oc

    def baseline_counts(cohort) -> pd.DataFrame:
        return item_counts(cohort.questionnaires, wave=0)

    prevalence = most_prevalent_first(
        protect_linked(
            page,
            baseline_counts,
            count="quite_or_very",
            groups="item",
            total="answered",
            derived=["percent"],
        )
    )
    answered = prevalence.set_index("item")["answered"]
    answered_true = item_counts(page.cohort.questionnaires, wave=0).set_index("item")["answered"]
    rows = [
        oc.own_count_row("app3_sfig_a_answers_min", oc.shown_extreme(answered_true, answered)),
        oc.own_count_row("app3_sfig_a_answers_max", oc.shown_extreme(answered_true, answered, largest=True)),
    ]
    return {
        "statistics": oc.statistics_frame(rows),
        "sfig_a": prevalence_chart(oc.as_numbers(prevalence, ["answered", "quite_or_very", "percent"])),
    }


def mixed_model_section(page, scores: pd.DataFrame, sizes_shown: pd.Series) -> dict:
    """The mixed model of the somatic burden score over years in treatment (:func:`burden_mixed_model`) on
    ``scores`` (:func:`symptom_scores`) for the edition of ``page`` (:class:`analysis.presentation.edition.Page`);
    ``sizes_shown``: the page's sample sizes as protected jointly with the other editions of the year
    (:func:`analysis.sections.outcome_samples.sample_sizes`), of which the model's numbers of patients and questionnaires are shown.
    Where the data cannot support the model (too few patients, or no version of it converges) every figure is
    empty and the words say why. The report's conclusion: the burden falls, with p below .001.

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: ``h64_lmm_slope``,
    ``h64_lmm_ci_low``, ``h64_lmm_ci_high``, ``h64_lmm_patients``, ``h64_lmm_questionnaires``, the ledger's
    ``s6_4_somatic_burden_lmm_p_value`` and the words ``h64_lmm_structure``, ``h64_lmm_agreement`` and
    ``h64_lmm_p_text``)."""
    from analysis.sections.outcomes import not_estimable_reason, p_text, statistics_frame
    from analysis.sections.quality_of_life import time_in_treatment

    timed = time_in_treatment(scores, page.cohort.episodes)
    model = None  # stays None when a rerun has too few patients for the model, or the fit fails
    reason = not_estimable_reason(
        scores.assign(years=timed["years"]).dropna(subset=["years"]), "burden_score", page.sdc
    )
    if reason is None:
        try:
            model = burden_mixed_model(scores, timed["years"])
        except Exception:  # no fit converges on a small rerun
            reason = "no version of the model converges on these data"
    if model is None:
        data = scores.assign(years=timed["years"]).dropna(subset=["years", "burden_score"])
        model = {
            "coefficient": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "p": float("nan"),
            "patients": data["patient_id"].nunique(),
            "questionnaires": len(data),
            "structure": None,
        }
    if model["structure"] is None:
        structure = (
            f"a random intercept and a random slope per patient (the model is not estimable in this edition: {reason})"
        )
    elif model["structure"] == "random intercept and slope":
        structure = "a random intercept and a random slope per patient"
    else:
        structure = (
            "a random intercept per patient only: the model with random slopes could not be fitted reliably "
            f"({model['fallback_reason']})"
        )
    agrees = model["coefficient"] < 0 and model["p"] < 0.001
    agreement = (
        "cannot be compared with the report, as the model is not estimable in this edition"
        if model["structure"] is None
        else "agrees with the report: the burden falls over time and p is below .001"
        if agrees
        else "does not agree with the report's significant fall (p < .001)"
    )
    rows = [
        {"key": "h64_lmm_slope", "value": model["coefficient"], "of": model["patients"]},
        {"key": "h64_lmm_ci_low", "value": model["ci_low"], "of": model["patients"]},
        {"key": "h64_lmm_ci_high", "value": model["ci_high"], "of": model["patients"]},
        {
            "key": "h64_lmm_patients",
            "value": model["patients"],
            "shown": sizes_shown["lmm_patients"],
            "frequency": True,
        },
        {
            "key": "h64_lmm_questionnaires",
            "value": model["questionnaires"],
            "shown": sizes_shown["lmm_questionnaires"],
            "frequency": True,
        },
        {"key": "h64_lmm_structure", "value": structure},
        {"key": "h64_lmm_agreement", "value": agreement},
        # The report prints "p < .001": the scorecard counts a computed p below the bound as agreeing
        # (analysis.presentation.scorecard.UPPER_BOUNDS).
        {
            "key": "s6_4_somatic_burden_lmm_p_value",
            "value": model["p"],
            "note": "The report prints p < .001; the computed p is not below that bound (see `python -m synthetic --check`).",
        },
        {"key": "h64_lmm_p_text", "value": p_text(model["p"])},
    ]
    return {"statistics": statistics_frame(rows)}
