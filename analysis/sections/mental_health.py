"""Self-rated mental health and anxiety/depression over the first year (report section 6.4, Figures 6.H, 6.I).

Definitions used throughout (for one item, ``mental_health`` or ``anxiety_depression``):

* the *first-year sample* is every patient with an answer to the item at wave 0 (baseline) and at least
  one answer to it at wave 3, 6 or 12;
* the *shares by wave* are the percentages of each response category among the sample's answers to the
  item at waves 0, 3, 6 and 12;
* the *relative change* of a category at 12 months is (share at wave 12 / share at wave 0 - 1) x 100, a
  percentage of the baseline share (not percentage points);
* the *model* is a proportional-odds (cumulative logit) model, statsmodels ``OrderedModel`` with
  ``distr="logit"``, of the item ordered from worst to best (bad < fair < good; severe < moderate <
  none), fitted to the sample's answers at waves 0, 3, 6 and 12. Covariates: wave as dummies (3, 6
  and 12 months against baseline), age at admission (years), female sex, clinic Bergen (against
  Oslo) and ever having attempted suicide (the patient's baseline answer, or their first answer when
  the baseline one is missing). Rows with a missing covariate are left out. Standard errors are
  cluster-robust by patient. An odds ratio above 1 means higher odds of a *better* rating.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import altair as alt
import numpy as np
import pandas as pd
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from analysis.data.schema import ANXIETY_DEPRESSION, MENTAL_HEALTH
from analysis.presentation import formats

#: The waves of the first-year analysis and their labels.
FIRST_YEAR_WAVES = (0, 3, 6, 12)
WAVE_LABELS = {0: "Baseline", 3: "3 months", 6: "6 months", 12: "12 months"}
#: Response categories of each item ordered from worst to best (the model's outcome order).
WORST_TO_BEST = {
    "mental_health": tuple(MENTAL_HEALTH),  # bad, fair, good
    "anxiety_depression": tuple(reversed(ANXIETY_DEPRESSION)),  # severe, moderate, none
}
#: Model terms: the id of each term (the model's column, and the ``term`` of :func:`odds_ratio_table`) and the
#: label the table shows (its ``label`` column, for display only: code looks a term up by its id).
TERMS = {
    "wave_3": "3 months (vs baseline)",
    "wave_6": "6 months (vs baseline)",
    "wave_12": "12 months (vs baseline)",
    "age": "Age at admission (per year)",
    "female": "Female (vs male)",
    "bergen": "Bergen (vs Oslo)",
    "suicide_attempt": "Ever attempted suicide",
}
#: Significance level used to say whether a term is significant.
ALPHA = 0.05


def first_year_sample(questionnaires: pd.DataFrame, item: str) -> pd.Index:
    """Patients answering ``item`` at wave 0 and at least once at wave 3, 6 or 12 (sorted ids)."""
    answered = questionnaires[questionnaires[item].notna()]
    baseline = set(answered.loc[answered["wave"] == 0, "patient_id"])
    follow_up = set(answered.loc[answered["wave"].isin([3, 6, 12]), "patient_id"])
    return pd.Index(sorted(baseline & follow_up), name="patient_id")


def sample_answers(questionnaires: pd.DataFrame, item: str) -> pd.DataFrame:
    """The sample's answers to ``item`` at waves 0, 3, 6 and 12."""
    sample = first_year_sample(questionnaires, item)
    keep = (
        questionnaires["patient_id"].isin(sample)
        & questionnaires["wave"].isin(FIRST_YEAR_WAVES)
        & questionnaires[item].notna()
    )
    return questionnaires[keep]


def shares_by_wave(questionnaires: pd.DataFrame, item: str) -> pd.DataFrame:
    """Percent of the sample's answers in each category at waves 0, 3, 6, 12.

    Columns: wave, category, answers (in that category), total (answers at that wave), percent.
    Categories run from worst to best.
    """
    answers = sample_answers(questionnaires, item)
    categories = list(WORST_TO_BEST[item])
    counts = pd.crosstab(answers["wave"], answers[item].astype(str)).reindex(
        index=list(FIRST_YEAR_WAVES), columns=categories, fill_value=0
    )
    frame = counts.stack().rename("answers").reset_index()
    frame.columns = ["wave", "category", "answers"]
    frame["total"] = frame["wave"].map(counts.sum(axis=1))
    frame["percent"] = 100 * frame["answers"] / frame["total"].replace(0, np.nan)
    return frame


def relative_change(shares: pd.DataFrame, category: str, start: int = 0, end: int = 12) -> float:
    """Relative change of a category's share from wave ``start`` to wave ``end``, in percent:
    (share at end / share at start - 1) x 100. A fall gives a negative number."""
    at = shares.set_index(["wave", "category"])["percent"]
    with np.errstate(divide="ignore", invalid="ignore"):  # no share at the start: no relative change (NaN or inf)
        return float((np.float64(at[(end, category)]) / np.float64(at[(start, category)]) - 1) * 100)


def model_frame(questionnaires: pd.DataFrame, patients: pd.DataFrame, item: str) -> pd.DataFrame:
    """The rows of the proportional-odds model: the sample's answers with outcome and covariates.

    Columns: patient_id, wave, outcome (ordered categorical, worst to best), wave_3, wave_6, wave_12,
    age, female, bergen, suicide_attempt. Rows with a missing covariate are dropped.
    """
    answers = sample_answers(questionnaires, item)
    suicide = (
        questionnaires[questionnaires["suicide_attempt_ever"].notna()]
        .sort_values(["patient_id", "wave"])
        .groupby("patient_id")["suicide_attempt_ever"]
        .first()
    )  # the baseline answer when given (wave 0 sorts first), else the first one
    people = patients.set_index("patient_id")
    frame = pd.DataFrame(
        {
            "patient_id": answers["patient_id"].to_numpy(),
            "wave": answers["wave"].astype(int).to_numpy(),
            "outcome": pd.Categorical(answers[item].astype(str), categories=list(WORST_TO_BEST[item]), ordered=True),
        }
    )
    for wave in (3, 6, 12):
        frame[f"wave_{wave}"] = (frame["wave"] == wave).astype(float)
    frame["age"] = frame["patient_id"].map(people["age_at_admission"]).astype(float)
    frame["female"] = (frame["patient_id"].map(people["sex"]) == "female").astype(float)
    frame["bergen"] = (frame["patient_id"].map(people["clinic"]) == "Bergen").astype(float)
    frame["suicide_attempt"] = frame["patient_id"].map(suicide).astype("Float64").astype(float)
    return frame.dropna().reset_index(drop=True)


def proportional_odds(frame: pd.DataFrame):
    """Fit the proportional-odds model to :func:`model_frame` rows (BFGS; cluster-robust SEs by patient).

    A covariate that takes one value in every row (clinic when the data hold one clinic) cannot be
    estimated and is left out of the model; :func:`odds_ratio_table` shows it as not estimable. A fit
    that does not converge, or whose standard errors cannot be computed (a small rerun), raises
    ValueError; statsmodels' warnings about it are kept out of the page.
    """
    exog = frame[[term for term in TERMS if frame[term].nunique() > 1]]
    groups = pd.factorize(frame["patient_id"])[0]
    model = OrderedModel(frame["outcome"], exog, distr="logit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(method="bfgs", maxiter=2000, disp=False, cov_type="cluster", cov_kwds={"groups": groups})
    trouble = [w for w in caught if issubclass(w.category, (ConvergenceWarning, HessianInversionWarning))]
    if trouble or not result.mle_retvals.get("converged", True):
        raise ValueError("the model did not converge or its standard errors cannot be computed")
    return result


def odds_ratio_table(result) -> pd.DataFrame:
    """Readable table of a fitted model: ``term`` (the id of :data:`TERMS`, which code looks terms up by),
    ``label`` (its display name), odds ratio, 95% CI (low, high), p; covariates only (the cut-points are
    left out)."""
    ci = result.conf_int()
    rows = [
        {
            "term": name,
            "label": label,
            "odds_ratio": float(np.exp(result.params[name])) if name in result.params else np.nan,
            "ci_low": float(np.exp(ci.loc[name, 0])) if name in ci.index else np.nan,
            "ci_high": float(np.exp(ci.loc[name, 1])) if name in ci.index else np.nan,
            "p": float(result.pvalues[name]) if name in result.params else np.nan,
        }
        for name, label in TERMS.items()
    ]  # a term left out of the model (constant in the data) has empty cells
    return pd.DataFrame(rows)


#: What the report says about each term (by the id of :data:`TERMS`): (significant at 5%, direction or None
#: when not stated). Direction +1: better ratings (odds ratio above 1). Terms the report does not mention are
#: absent.
REPORTED: dict[str, dict[str, tuple[bool, int | None]]] = {
    "mental_health": {
        "wave_12": (True, +1),
        "age": (True, None),
        "female": (False, None),
        "bergen": (True, None),
        "suicide_attempt": (True, None),
    },
    "anxiety_depression": {
        "wave_3": (False, None),
        "wave_6": (False, None),
        "wave_12": (False, None),
        "age": (True, None),
        "female": (True, None),
        "bergen": (False, None),
        "suicide_attempt": (True, None),
    },
}


def compare_with_report(table: pd.DataFrame, item: str, alpha: float = ALPHA) -> pd.DataFrame:
    """The odds-ratio table with what the report says and whether this fit agrees.

    A term agrees when it is significant (p < ``alpha``) exactly when the report says so and, where the
    report states a direction, the odds ratio lies on that side of 1. Terms the report does not mention
    get "not stated", and terms not estimable in the data an empty "agrees"; both count neither way.
    """
    out = table.copy()
    reported, agrees = [], []
    for term, odds, p in out[["term", "odds_ratio", "p"]].itertuples(index=False):
        if term not in REPORTED[item]:
            reported.append("not stated")
            agrees.append("")
            continue
        significant, direction = REPORTED[item][term]
        text = "significant" if significant else "not significant"
        if direction is not None:
            text += ", better" if direction > 0 else ", worse"
        reported.append(text)
        if np.isnan(p):  # not estimable in these data: neither agrees nor disagrees
            agrees.append("")
            continue
        ok = (p < alpha) == significant
        if direction is not None:
            ok = ok and np.sign(np.log(odds)) == direction
        agrees.append("yes" if ok else "no")
    out["report"] = reported
    out["agrees"] = agrees
    return out


def shares_chart(shares: pd.DataFrame, item: str, title: str) -> alt.Chart:
    """Stacked bars: percent of answers in each category (worst at the bottom) at each wave."""
    categories = list(WORST_TO_BEST[item])
    palette = ["#b2182b", "#f4a582", "#4393c3"]  # worst red ... best blue
    frame = shares.assign(
        time=shares["wave"].map(WAVE_LABELS),
        order=shares["category"].map({c: i for i, c in enumerate(categories)}),
    )
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("time:N", sort=[WAVE_LABELS[w] for w in FIRST_YEAR_WAVES], title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("percent:Q", stack="normalize", title="Share of answers", axis=alt.Axis(format="%")),
            color=alt.Color(
                "category:N", sort=categories, scale=alt.Scale(domain=categories, range=palette), title="Response"
            ),
            order=alt.Order("order:Q"),
            tooltip=["time:N", "category:N", alt.Tooltip("percent:Q", format=".1f"), "answers:Q", "total:Q"],
        )
        .properties(width=420)
    )


def agreement_summary(compared: pd.DataFrame) -> str:
    """One sentence on how a :func:`compare_with_report` table agrees with the report's statements."""
    judged = compared[compared["agrees"] != ""]
    differ = judged[judged["agrees"] == "no"]
    if differ.empty:
        return f"agrees with the report on all {len(judged)} statements the report makes about it"
    parts = [
        f"{row.label} (report: {row.report}; here odds ratio {formats.number(row.odds_ratio, 2)}, "
        f"{'p < 0.001' if row.p < 0.001 else f'p = {row.p:.3f}'})"
        for row in differ.itertuples(index=False)
    ]
    return (
        f"agrees with the report on {len(judged) - len(differ)} of the {len(judged)} statements the report "
        f"makes about it, and differs on {'; '.join(parts)}"
    )


def fit_model(
    frame: pd.DataFrame, item: str, threshold: int | None
) -> tuple[pd.DataFrame | None, dict[str, str], str | None]:
    """The proportional-odds model of ``item`` with what an edition may show of it.

    Returns ``(table, term_reasons, reason)``: ``table`` is :func:`compare_with_report` of the fit, or None
    with ``reason`` when the model is not estimable (fewer patients than the threshold, one outcome, a
    fit that fails or does not converge). ``term_reasons`` maps a term's id to why its odds ratio is not
    shown (the term's cells are emptied and it is not compared with the report): a 0/1 covariate seen in
    fewer patients than the threshold on one side (a time point answered by one or two patients), or an
    interval without finite or bounded ends (separation); see :mod:`analysis.sections.outcomes`."""
    from analysis.sections import outcomes as oc

    reason = oc.not_estimable_reason(frame, "outcome", threshold)
    if reason:
        return None, {}, reason
    try:
        table = odds_ratio_table(proportional_odds(frame))
    except Exception:  # proportional_odds raises ValueError when the fit does not converge
        return None, {}, "the fit does not converge or its standard errors cannot be computed"
    term_reasons: dict[str, str] = {}
    for name in TERMS:
        row = table.set_index("term").loc[name]
        if np.isnan(row.odds_ratio):
            term_reasons[name] = "the covariate takes one value in these data"
            continue
        why = None if name == "age" else oc.binary_term_reason(frame[name], frame["patient_id"], threshold)
        why = why or oc.interval_reason(row.odds_ratio, row.ci_low, row.ci_high, row.p)
        if why:
            term_reasons[name] = why
    hide = table["term"].isin(list(term_reasons))
    table.loc[hide, ["odds_ratio", "ci_low", "ci_high", "p"]] = np.nan
    return compare_with_report(table, item), term_reasons, None


def term_notes(term_reasons: dict[str, str]) -> str:
    """One sentence naming (by their labels in :data:`TERMS`) the terms whose odds ratios are not shown, and why;
    ``term_reasons`` maps a term's id to the reason (see :func:`fit_model`)."""
    if not term_reasons:
        return "Every term of the model could be estimated."
    parts = [f"{TERMS[term]} ({why})" for term, why in term_reasons.items()]
    return "Not estimable in these data: " + "; ".join(parts) + "."


def category_shift_sentence(severe: tuple, moderate: tuple) -> str:
    """What happened between the worst and the middle category of a three-point item from baseline to 12
    months, from the shares (percent) ``severe`` = (baseline, 12 months) and ``moderate`` likewise.

    Rule: the worst share fell and the middle one rose: answers moved up the scale, and the worst end is
    "not emptied" unless its 12-month share is 0; the worst share fell without a rise in the middle: said
    so; the worst share did not fall: said so; a share not shown: the shift cannot be told."""
    from analysis.sections.outcomes import known

    s0, s12, m0, m12 = (known(v) for v in (*severe, *moderate))
    if s0 is None or s12 is None or m0 is None or m12 is None:
        return "How answers moved between the categories cannot be told from the shares this edition shows."
    if s12 >= s0:
        return "The share of severe symptoms did not fall between baseline and 12 months."
    if m12 <= m0:
        return "The share of severe symptoms fell without a rise in the moderate category."
    if s12 == 0:
        return "The fall in the severe category came with a rise in the moderate one, and no answer was severe at 12 months."
    return (
        "The fall in the severe category came with a rise in the moderate one: answers moved within the scale "
        "without emptying its worse end."
    )


def twelve_month_sentence(
    table: pd.DataFrame | None, term_reasons: dict[str, str], reason: str | None, p_text: str
) -> str:
    """The sentence on the 12-month odds ratio of the proportional-odds model (see :func:`fit_model`):
    "At 12 months the odds of a better rating differ from baseline with {p_text};" when the term was
    estimated, else why it is not (the model, or the term, not estimable in this edition)."""
    if table is None:
        return f"At 12 months no odds ratio against baseline can be estimated in this edition ({reason});"
    if "wave_12" in term_reasons:
        return (
            f"At 12 months no odds ratio against baseline can be estimated in this edition ({term_reasons['wave_12']});"
        )
    p = table.set_index("term").loc["wave_12", "p"]
    if p is None or (not isinstance(p, str) and np.isnan(float(p))):
        return "At 12 months no odds ratio against baseline can be estimated in this edition;"
    return f"At 12 months the odds of a better rating differ from baseline with {p_text};"


def drawable_shares(shown: pd.DataFrame) -> pd.DataFrame:
    """A (protected) table of :func:`shares_by_wave` made ready for :func:`shares_chart`: every marker ("<5", "–",
    "n/a") becomes NaN, and a time point with any category withheld loses all its shares (the chart stacks the
    shares to 100%, so the shown part of a time point would be drawn as the whole). A table without markers (the
    published edition) comes back as it is."""
    columns = ["answers", "total", "percent"]
    hidden = shown[columns].apply(lambda column: column.map(lambda v: isinstance(v, str)))
    if not hidden.to_numpy().any():
        return shown
    out = shown.copy()
    for column in columns:
        out[column] = pd.to_numeric(out[column].where(~hidden[column]), errors="coerce").astype(float)
    gaps = shown.loc[hidden["answers"] | hidden["percent"], "wave"].unique()
    out.loc[out["wave"].isin(gaps), "percent"] = np.nan
    return out


#: The ledger keys of the relative changes at 12 months: item, category, and the sign that makes a fall a positive
#: "decline" as the ledger counts it, with the name of the words in the prose.
RELATIVE_CHANGE_KEYS = {
    "s6_4_mental_health_good_12m_increase_pct": (
        "mental_health",
        "good",
        1,
        "s6_4_mental_health_good_12m_increase_pct_text",
    ),
    "s6_4_mental_health_bad_12m_decline_pct": (
        "mental_health",
        "bad",
        -1,
        "s6_4_mental_health_bad_12m_decline_pct_text",
    ),
    "s6_4_anxdep_severe_12m_decline_pct": (
        "anxiety_depression",
        "severe",
        -1,
        "s6_4_anxdep_severe_12m_decline_pct_text",
    ),
    "s6_4_anxdep_moderate_12m_increase_pct": (
        "anxiety_depression",
        "moderate",
        1,
        "s6_4_anxdep_moderate_12m_increase_pct_text",
    ),
}
#: The shares of each category at baseline and 12 months (figures of the edition's own), with their words.
SHARE_KEYS = {
    ("mental_health", "bad", 0): ("h64_mh_bad_0_pct", "h64_mh_bad_0_pct_text"),
    ("mental_health", "bad", 12): ("h64_mh_bad_12_pct", "h64_mh_bad_12_pct_text"),
    ("mental_health", "fair", 0): ("h64_mh_fair_0_pct", "h64_mh_fair_0_pct_text"),
    ("mental_health", "fair", 12): ("h64_mh_fair_12_pct", "h64_mh_fair_12_pct_text"),
    ("mental_health", "good", 0): ("h64_mh_good_0_pct", "h64_mh_good_0_pct_text"),
    ("mental_health", "good", 12): ("h64_mh_good_12_pct", "h64_mh_good_12_pct_text"),
    ("anxiety_depression", "severe", 0): ("h64_ad_severe_0_pct", "h64_ad_severe_0_pct_text"),
    ("anxiety_depression", "severe", 12): ("h64_ad_severe_12_pct", "h64_ad_severe_12_pct_text"),
    ("anxiety_depression", "moderate", 0): ("h64_ad_moderate_0_pct", "h64_ad_moderate_0_pct_text"),
    ("anxiety_depression", "moderate", 12): ("h64_ad_moderate_12_pct", "h64_ad_moderate_12_pct_text"),
    ("anxiety_depression", "none", 0): ("h64_ad_none_0_pct", "h64_ad_none_0_pct_text"),
    ("anxiety_depression", "none", 12): ("h64_ad_none_12_pct", "h64_ad_none_12_pct_text"),
}
#: The ledger key of each item's first-year sample size.
SAMPLE_KEYS = {"mental_health": "s6_4_fig_6h_n", "anxiety_depression": "s6_4_fig_6i_n"}


def finite(value) -> float:
    """``value`` as a float, with an infinite ratio (a share of 0 at baseline) as NaN."""
    value = float(value)
    return value if np.isfinite(value) else float("nan")


def shares_section(page, calibration_note: str) -> dict:
    """The first-year sample's self-rated mental health and anxiety/depression for the edition of ``page``
    (:class:`analysis.presentation.edition.Page`): the answers in each category at each time point (:func:`shares_by_wave`,
    adding up to the time point's answers) are protected jointly with the same tables of the other editions of
    the year; the shares, their relative changes, the sentence and Figures 6.H and 6.I rest on the tables as
    shown. Every patient of the sample answered at baseline, once, so the sample's size is the baseline total of
    its table and is shown as the table shows it. A relative change rests on its two shares: withheld where
    either is.

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: the sample sizes, the relative
    changes of :data:`RELATIVE_CHANGE_KEYS` with ``calibration_note``, the shares of :data:`SHARE_KEYS` and the
    sentence ``h64_ad_shift_sentence``), ``words`` (each percentage as the reader sees it, "12%" or a marker alone,
    by the names of the two tables), and the charts ``fig_6h`` and ``fig_6i``."""
    from analysis.presentation import disclosure
    from analysis.presentation.linked_suppression import protect_linked
    from analysis.presentation.scorecard import plain_number

    card, questionnaires = page.card, page.cohort.questionnaires
    rerun = card.min_cell is not None

    def number(value):
        return plain_number(value) if not disclosure.is_missing(value) else float("nan")

    def shares_of(item: str) -> Callable[[object], pd.DataFrame]:
        """The shares of ``item`` by wave of any edition's cohort, for protecting them jointly."""

        def compute(cohort) -> pd.DataFrame:
            return shares_by_wave(cohort.questionnaires, item)

        return compute

    shares = {item: shares_by_wave(questionnaires, item) for item in SAMPLE_KEYS}
    shown = {
        item: protect_linked(
            page,
            shares_of(item),
            count="answers",
            groups="wave",
            total="total",
            derived=["percent"],
        )
        for item in SAMPLE_KEYS
    }
    at = {item: shares[item].set_index(["wave", "category"]) for item in SAMPLE_KEYS}
    shown_at = {item: shown[item].set_index(["wave", "category"]) for item in SAMPLE_KEYS}
    rows, words = [], {}
    for item, key in SAMPLE_KEYS.items():
        baseline_total = shown[item].set_index("wave")["total"].loc[0]
        baseline_total = baseline_total.iloc[0] if isinstance(baseline_total, pd.Series) else baseline_total
        rows.append(
            {
                "key": key,
                "value": len(first_year_sample(questionnaires, item)),
                "shown": baseline_total,
                "note": calibration_note,
            }
        )
    for key, (item, category, sign, words_key) in RELATIVE_CHANGE_KEYS.items():
        value = finite(sign * relative_change(shares[item], category))
        hidden = any(isinstance(shown_at[item].loc[(wave, category), "percent"], str) for wave in (0, 12))
        marker = disclosure.WITHHELD if hidden else value
        rows.append({"key": key, "value": value, "shown": marker, "note": calibration_note})
        seen = marker if rerun and isinstance(marker, str) else card.disclose(number(value))
        words[words_key] = formats.percent(seen, 0, sign=key.endswith("_increase_pct"))
    for (item, category, wave), (key, words_key) in SHARE_KEYS.items():
        value, marker = at[item].loc[(wave, category), "percent"], shown_at[item].loc[(wave, category), "percent"]
        rows.append({"key": key, "value": value, "shown": marker})
        words[words_key] = formats.percent(marker if isinstance(marker, str) else number(value), 0)

    def share_as_shown(wave: int, category: str):
        marker = shown_at["anxiety_depression"].loc[(wave, category), "percent"]
        return (
            marker
            if isinstance(marker, str)
            else card.disclose(at["anxiety_depression"].loc[(wave, category), "percent"])
        )

    rows.append(
        {
            "key": "h64_ad_shift_sentence",
            "value": category_shift_sentence(
                *[tuple(share_as_shown(wave, category) for wave in (0, 12)) for category in ("severe", "moderate")]
            ),
        }
    )
    statistics = pd.DataFrame(
        {c: pd.Series([row.get(c) for row in rows], dtype=object) for c in ["key", "value", "shown", "note"]}
    )
    # the charts draw the tables as shown: a time point with a withheld count has no bars (the bars are stacked to 100%)
    return {
        "statistics": statistics,
        "words": words,
        "fig_6h": shares_chart(drawable_shares(shown["mental_health"]), "mental_health", "Self-rated mental health"),
        "fig_6i": shares_chart(
            drawable_shares(shown["anxiety_depression"]), "anxiety_depression", "Self-rated anxiety and depression"
        ),
    }


def glue_words(words: dict) -> None:
    """Glue each text of ``words`` (name -> the words a reader sees, e.g. "12%") for ``{glue:text}``."""
    from myst_nb import glue

    for name, text in words.items():
        glue(name, text, display=False)


#: The names each item's model is glued under: its numbers of answers and patients, the words on its agreement with
#: the report and on the terms left empty, and its table with the table's caption.
MODEL_KEYS = {
    "mental_health": {
        "answers": "h64_mh_model_answers",
        "patients": "h64_mh_model_patients",
        "agreement": "h64_mh_model_agreement",
        "terms": "h64_mh_model_terms",
        "table": "table_h64_mh_model",
        "caption": "Self-rated mental health (better = higher)",
    },
    "anxiety_depression": {
        "answers": "h64_ad_model_answers",
        "patients": "h64_ad_model_patients",
        "agreement": "h64_ad_model_agreement",
        "terms": "h64_ad_model_terms",
        "table": "table_h64_ad_model",
        "caption": "Self-rated anxiety and depression (better = milder)",
    },
}


def model_table(model: dict, caption: str):
    """A fitted model's table (:func:`fit_model`) styled for the page, or the placeholder saying why it is not
    estimable in this edition."""
    from analysis.presentation import disclosure

    if model["table"] is None:
        what = f"The model of {caption.split(' (')[0].lower()}"
        return disclosure.placeholder_chart(f"{what}: not estimable in this edition ({model['reason']}).")
    two_decimals = formats.formatter(2)
    shown = (
        model["table"]
        .drop(columns="term")
        .rename(
            columns={
                "label": "Term",
                "odds_ratio": "Odds ratio",
                "ci_low": "95% CI, low",
                "ci_high": "95% CI, high",
                "p": "p",
                "report": "Report",
                "agrees": "Agrees",
            }
        )
    )
    return (
        shown.style.hide(axis="index")
        .format(
            {
                "Odds ratio": two_decimals,
                "95% CI, low": two_decimals,
                "95% CI, high": two_decimals,
                "p": formats.p_value,
            }
        )
        .set_caption(caption)
        .set_table_attributes('class="hatbook-table"')
    )


def models_section(page, sizes_shown: pd.Series) -> dict:
    """The proportional-odds models of self-rated mental health and of anxiety/depression (:func:`fit_model`) for
    the edition of ``page`` (:class:`analysis.presentation.edition.Page`). ``sizes_shown``: the page's sample sizes as protected
    jointly with the other editions of the year (:func:`analysis.sections.outcome_samples.sample_sizes`, shown by name), of which
    each model's numbers of answers and patients are shown.

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: the names of :data:`MODEL_KEYS`,
    the 12-month p-value of the mental-health model ``s6_4_mental_health_12m_p_value`` with a note on how it
    compares with the report, its words ``h64_mh_12m_p_text`` and the sentence ``h64_mh_12m_sentence``, which names
    a p-value only where the 12-month term was estimated and otherwise says why not), ``models`` (by item: the
    model's data ``frame``, its ``table`` or None, the ``reason`` it is not estimable and the ``term_reasons`` of
    terms left empty) and the styled tables under the names of :data:`MODEL_KEYS`."""
    from analysis.sections.outcomes import p_text

    card, rows, models, tables = page.card, [], {}, {}
    for item, keys in MODEL_KEYS.items():
        frame = model_frame(page.cohort.questionnaires, page.cohort.patients, item)
        # table is None (with the reason) when the model is not estimable in this edition; terms resting on too
        # few patients, or without a bounded interval, are emptied and named in term_reasons
        table, term_reasons, reason = fit_model(frame, item, page.sdc)
        models[item] = {"frame": frame, "table": table, "reason": reason, "term_reasons": term_reasons}
        for size, value in (("answers", len(frame)), ("patients", frame["patient_id"].nunique())):
            name = keys[size]
            marker = sizes_shown[name.removeprefix("h64_")]
            rows.append({"key": name, "value": value, "shown": marker, "frequency": True})
        rows.append(
            {
                "key": keys["agreement"],
                "value": agreement_summary(table)
                if table is not None
                else f"is not estimable in this edition ({reason})",
            }
        )
        rows.append(
            {
                "key": keys["terms"],
                "value": term_notes(term_reasons) if table is not None else "No odds ratio is shown.",
            }
        )
        tables[keys["table"]] = model_table(models[item], keys["caption"])

    table = models["mental_health"]["table"]
    if table is not None and not table.set_index("term")["p"].isna()["wave_12"]:
        twelve = table.set_index("term").loc["wave_12"]
        note = (
            f"The report's p-value comes from its model on the real questionnaires; the synthetic cohort is not "
            f"calibrated to reproduce it. Here the 12-month odds ratio is {twelve.odds_ratio:.2f} with "
            f"p = {twelve.p:.3f}, so the conclusion (a significant improvement at the 5% level) "
            + ("agrees with the report." if twelve.agrees == "yes" else "does not agree with the report.")
        )
        rows.append({"key": "s6_4_mental_health_12m_p_value", "value": twelve.p, "note": note})
    else:
        rows.append(
            {
                "key": "s6_4_mental_health_12m_p_value",
                "value": float("nan"),
                "note": "The model is not estimable in this edition.",
            }
        )
    p_words = p_text(card.disclose(table.set_index("term").loc["wave_12", "p"]) if table is not None else float("nan"))
    rows.append({"key": "h64_mh_12m_p_text", "value": p_words})
    rows.append(
        {
            "key": "h64_mh_12m_sentence",
            "value": twelve_month_sentence(
                table, models["mental_health"]["term_reasons"], models["mental_health"]["reason"], p_words
            ),
        }
    )
    statistics = pd.DataFrame(
        {
            c: pd.Series([row.get(c) for row in rows], dtype=object)
            for c in ["key", "value", "shown", "note", "frequency"]
        }
    )
    return {"statistics": statistics, "models": models, **tables}
