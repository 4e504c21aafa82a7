"""The international evidence (report section 4): the randomised trials of heroin-assisted treatment.

Sources, kept as tidy data in ``data/published/``:

* ``hat_trials.csv``: trial-level results as the trials' abstracts and reports state them;
* ``hat_meta_analyses.csv``: pooled estimates published by the Cochrane review (Ferri et al. 2011, and its
  2010 version) and the pooled Dutch trials;
* ``evidence_mortality.csv``: the crude pooled death counts of the Cochrane review, from the Findings analysis;
* ``evidence_dutch_followup.csv``: the counts and percentages of the Dutch four-year follow-up
  (Blanken et al. 2010), from the Findings analysis.

Risk ratios are computed on the log scale: log RR = log(a/n1) - log(c/n2), with the usual large-sample
standard error sqrt(1/a - 1/n1 + 1/c - 1/n2) and a 95% interval exp(log RR +/- 1.96 SE) (Katz et al. 1978).
Pooling is random-effects with the DerSimonian-Laird estimate of the between-trial variance (statsmodels
``combine_effects``, ``method_re="dl"``).
"""

from __future__ import annotations

import math
import warnings

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

#: Two-sided 95% normal quantile.
Z95 = float(stats.norm.ppf(0.975))

#: Trials pooled by the Cochrane review's retention estimate for supervised injected heroin that are in our rows.
SUPERVISED_INJECTED = ["Haasen 2007", "NAOMI 2009", "RIOTT 2010"]


# --------------------------------------------------------------------------------------------------
# counts


def count_from_percent(percent: float, n: int, decimals: int = 1) -> int:
    """The number of events among ``n`` that a percentage printed with ``decimals`` decimals implies.

    The count is the integer k with round(100 k / n, decimals) equal to ``percent``; when a source gives
    only a percentage and a denominator, this recovers the count. Raises ``ValueError`` when no integer
    or more than one integer fits (the percentage does not pin the count down).
    """
    step = 10.0**-decimals
    candidates = [k for k in range(int(n) + 1) if abs(100 * k / n - percent) <= step / 2 + 1e-9]
    if len(candidates) != 1:
        raise ValueError(f"{percent}% of {n} fits {len(candidates)} counts: {candidates}")
    return candidates[0]


def retention_arms(trials: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    """One row per trial arm with a retention outcome: n randomised, retained, retention percent.

    ``retained`` is the stated count where the source gives one; where it gives a percentage only, it is
    the count implied by the percentage and n (:func:`count_from_percent`), and ``count_stated`` is False.
    ``percent`` is 100 * retained / n. ``arm_type`` is "heroin" for the heroin arm and "control" for any
    comparison arm (methadone or conventional treatment).
    """
    rows = trials[trials["outcome"] == "retention"].copy()
    rows["count_stated"] = rows["events"].notna()
    retained = []
    for row in rows.itertuples():
        if not pd.isna(row.events):
            retained.append(int(row.events))
        elif not pd.isna(row.percent) and not pd.isna(row.n_randomised):
            retained.append(count_from_percent(float(row.percent), int(row.n_randomised), decimals))
        else:
            retained.append(pd.NA)
    rows["retained"] = pd.array(retained, dtype="Int64")
    rows["n_randomised"] = rows["n_randomised"].astype("Int64")
    rows["percent"] = 100 * rows["retained"].astype(float) / rows["n_randomised"].astype(float)
    rows["arm_type"] = np.where(rows["arm"] == "heroin", "heroin", "control")
    return rows[
        [
            "study",
            "country",
            "arm",
            "arm_type",
            "n_randomised",
            "retained",
            "percent",
            "count_stated",
            "follow_up_months",
            "definition",
        ]
    ].reset_index(drop=True)


def trial_table(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per trial (study): country, years, arms with their sizes, follow-up and outcomes reported.

    ``arms`` lists each arm with the number randomised, as the sources give it (retention rows first,
    then any other outcome that gives a size); ``outcomes`` lists the outcomes the rows report;
    ``retention_definition`` is the heroin arm's definition of retention, where the trial reports one.
    """
    out = []
    for study, rows in trials.groupby("study", sort=False):
        sizes = {}
        for row in rows.sort_values("outcome", key=lambda s: s != "retention").itertuples():
            if row.arm not in sizes and not pd.isna(row.n_randomised):
                sizes[row.arm] = int(row.n_randomised)
        arms = sorted(set(rows["arm"]), key=lambda a: a != "heroin")
        retention = rows[(rows["outcome"] == "retention") & (rows["arm"] == "heroin")]
        out.append(
            {
                "study": study,
                "country": rows["country"].iloc[0],
                "period": rows["period"].iloc[0],
                "arms": "; ".join(f"{a} ({sizes[a]})" if a in sizes else a for a in arms),
                "follow_up_months": int(rows["follow_up_months"].max()),
                "outcomes": "; ".join(dict.fromkeys(rows["outcome"])),
                "retention_definition": retention["definition"].iloc[0] if len(retention) else "",
            }
        )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------------
# risk ratios and pooling


def risk_ratio(a: int, n1: int, c: int, n2: int) -> dict:
    """Risk ratio of group 1 (a events of n1) against group 2 (c of n2), with its 95% CI on the log scale.

    RR = (a/n1) / (c/n2); SE(log RR) = sqrt(1/a - 1/n1 + 1/c - 1/n2); CI = exp(log RR -/+ 1.96 SE).
    Returns rr, ci_low, ci_high, log_rr, se_log_rr and the two risks.
    """
    if min(a, c) <= 0:
        raise ValueError("a risk ratio on the log scale needs at least one event in each group")
    log_rr = math.log(a / n1) - math.log(c / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return {
        "risk_1": a / n1,
        "risk_2": c / n2,
        "rr": math.exp(log_rr),
        "ci_low": math.exp(log_rr - Z95 * se),
        "ci_high": math.exp(log_rr + Z95 * se),
        "log_rr": log_rr,
        "se_log_rr": se,
    }


def retention_risk_ratios(arms: pd.DataFrame) -> pd.DataFrame:
    """Per trial with retention counts in both a heroin and a control arm: the risk ratio of retention.

    RR = retention in the heroin arm / retention in the control arm (RR > 1 favours heroin), with the
    95% CI of :func:`risk_ratio`. ``counts_stated`` is True only when both counts are stated in the source.
    """
    out = []
    for study, rows in arms.groupby("study", sort=False):
        heroin = rows[rows["arm_type"] == "heroin"]
        control = rows[rows["arm_type"] == "control"]
        if len(heroin) != 1 or len(control) != 1:
            continue
        h, c = heroin.iloc[0], control.iloc[0]
        if pd.isna(h.retained) or pd.isna(c.retained):
            continue
        rr = risk_ratio(int(h.retained), int(h.n_randomised), int(c.retained), int(c.n_randomised))
        out.append(
            {
                "study": study,
                "country": h.country,
                "follow_up_months": int(h.follow_up_months),
                "heroin_retained": int(h.retained),
                "heroin_n": int(h.n_randomised),
                "control_retained": int(c.retained),
                "control_n": int(c.n_randomised),
                "counts_stated": bool(h.count_stated and c.count_stated),
                **{k: rr[k] for k in ("rr", "ci_low", "ci_high", "log_rr", "se_log_rr")},
            }
        )
    return pd.DataFrame(out)


def pool_random_effects(log_effects, standard_errors) -> dict:
    """DerSimonian-Laird random-effects pooling of log risk ratios (statsmodels ``combine_effects``).

    Fixed-effect weights w = 1/SE²; Q = Σ w (y - ȳ_FE)²; τ² = max(0, (Q - (k-1)) / (Σw - Σw²/Σw));
    random-effects weights 1/(SE² + τ²); pooled log RR is their weighted mean, with SE = sqrt(1/Σw_RE) and a
    normal 95% CI. I² = max(0, (Q - (k-1)) / Q) in percent. Returns the pooled risk ratio and CI (back on the
    ratio scale), tau2, q, df, the homogeneity p-value, i2_percent and k. statsmodels does not truncate
    τ² at zero; when its DL τ² is negative the random-effects result is the fixed-effect one.
    """
    y = np.asarray(log_effects, dtype=float)
    variance = np.asarray(standard_errors, dtype=float) ** 2
    with warnings.catch_warnings():  # identical effects give Q = 0, and statsmodels divides by it for I²
        warnings.simplefilter("ignore", RuntimeWarning)
        result = combine_effects(y, variance, method_re="dl")
    q, df = float(result.q), int(result.k) - 1
    if float(result.tau2) > 0:
        tau2, mean, se = float(result.tau2), float(result.mean_effect_re), float(result.sd_eff_w_re)
    else:
        tau2, mean, se = 0.0, float(result.mean_effect_fe), float(result.sd_eff_w_fe)
    return {
        "k": int(result.k),
        "rr": math.exp(mean),
        "ci_low": math.exp(mean - Z95 * se),
        "ci_high": math.exp(mean + Z95 * se),
        "log_rr": mean,
        "se_log_rr": se,
        "tau2": tau2,
        "q": q,
        "df": df,
        "q_p_value": float(stats.chi2.sf(q, df)) if df > 0 else float("nan"),
        "i2_percent": max(0.0, (q - df) / q) * 100 if q > 0 else 0.0,
        "fixed_rr": math.exp(float(result.mean_effect_fe)),
    }


def pooled_mortality(mortality: pd.DataFrame) -> pd.DataFrame:
    """Crude pooled mortality per comparison: deaths summed over the trials in each arm, and their RR.

    The crude RR adds deaths and patients across trials as if they were one trial (no weighting by trial),
    RR = (deaths_heroin / n_heroin) / (deaths_control / n_control) with the CI of :func:`risk_ratio`.
    """
    out = []
    for comparison, rows in mortality.groupby("comparison", sort=False):
        h = rows[rows["arm"] == "heroin"].iloc[0]
        c = rows[rows["arm"] == "control"].iloc[0]
        rr = risk_ratio(int(h.deaths), int(h.n_patients), int(c.deaths), int(c.n_patients))
        out.append(
            {
                "comparison": comparison,
                "studies": int(h.studies),
                "heroin_deaths": int(h.deaths),
                "heroin_n": int(h.n_patients),
                "control_deaths": int(c.deaths),
                "control_n": int(c.n_patients),
                "heroin_percent": 100 * rr["risk_1"],
                "control_percent": 100 * rr["risk_2"],
                **{k: rr[k] for k in ("rr", "ci_low", "ci_high")},
            }
        )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------------
# the Dutch long-term follow-up


def dutch_followup(followup: pd.DataFrame) -> dict:
    """The Dutch four-year follow-up (Blanken et al. 2010) as counts, from what the Findings analysis states.

    Offered = patients offered resumed heroin after deteriorating on methadone alone. Not retained = those
    who did not resume plus those who left before four years; retained = offered - not retained.
    Responders (multi-domain response at four years, last assessment carried forward for those not
    re-assessed) in each group are the counts implied by the stated percentages
    (:func:`count_from_percent`, whole percent), and the overall response is their sum over offered.
    The RR compares response among retained with response among not retained (:func:`risk_ratio`).
    Full recovery among the continuously retained: counts implied by the stated 12% and 25% of 83.
    """
    rows = followup.set_index(["item", "group"])

    def count(item, group):
        return int(rows.loc[(item, group), "count"])

    def percent(item, group):
        return float(rows.loc[(item, group), "percent"])

    offered = count("offered resumed treatment", "all offered")
    not_resumed = count("did not resume treatment", "all offered")
    left = count("left treatment before four years", "all offered")
    not_retained = not_resumed + left
    retained = offered - not_retained
    responders_retained = count_from_percent(percent("responded well at four years", "retained"), retained, 0)
    responders_not = count_from_percent(percent("responded well at four years", "not retained"), not_retained, 0)
    responders = responders_retained + responders_not
    continuous = int(
        rows.loc[("extensively and completely recovered at four years", "retained continuously"), "denominator"]
    )
    recovered_start = count_from_percent(
        percent("extensively and completely recovered at the start of resumed treatment", "retained continuously"),
        continuous,
        0,
    )
    recovered_end = count_from_percent(
        percent("extensively and completely recovered at four years", "retained continuously"), continuous, 0
    )
    rr = risk_ratio(responders_retained, retained, responders_not, not_retained)
    return {
        "offered": offered,
        "not_resumed": not_resumed,
        "left": left,
        "not_retained": not_retained,
        "retained": retained,
        "retained_percent": 100 * retained / offered,
        "retained_percent_stated": percent("retained in treatment", "all offered"),
        "reassessed_not_retained": count("re-assessed at four years", "not retained"),
        "responders_retained": responders_retained,
        "responders_retained_percent": 100 * responders_retained / retained,
        "responders_not_retained": responders_not,
        "responders_not_retained_percent": 100 * responders_not / not_retained,
        "responders": responders,
        "responders_percent": 100 * responders / offered,
        "responders_percent_stated": percent("responded well at four years", "all offered"),
        "response_rr": rr["rr"],
        "response_rr_ci_low": rr["ci_low"],
        "response_rr_ci_high": rr["ci_high"],
        "response_difference_pp": 100 * (rr["risk_1"] - rr["risk_2"]),
        "continuous": continuous,
        "recovered_start": recovered_start,
        "recovered_end": recovered_end,
        "recovered_start_percent": 100 * recovered_start / continuous,
        "recovered_end_percent": 100 * recovered_end / continuous,
    }


# --------------------------------------------------------------------------------------------------
# Norway among the trials


def position_among_trials(arms: pd.DataFrame, norway_percent: float, months: int = 12) -> dict:
    """Where a retention percentage sits among the trial arms with the same follow-up (``months``).

    Counts the heroin arms and the control arms with that follow-up, and how many of each retained a
    larger share than ``norway_percent``; also the range of each. A descriptive comparison only: the
    trials are randomised and define retention their own way, the Norwegian figure is observational.
    """
    same = arms[(arms["follow_up_months"] == months) & arms["percent"].notna()]
    heroin = same[same["arm_type"] == "heroin"]["percent"]
    control = same[same["arm_type"] == "control"]["percent"]
    return {
        "months": months,
        "heroin_arms": len(heroin),
        "heroin_above": int((heroin > norway_percent).sum()),
        "heroin_min": float(heroin.min()),
        "heroin_max": float(heroin.max()),
        "control_arms": len(control),
        "control_above": int((control > norway_percent).sum()),
        "control_min": float(control.min()),
        "control_max": float(control.max()),
    }


# --------------------------------------------------------------------------------------------------
# chart


def forest_chart(rows: pd.DataFrame, colours: dict[str, str] | None = None) -> alt.Chart:
    """A forest plot: one line per row of ``rows`` with columns label, kind, rr, ci_low, ci_high.

    ``kind`` is "trial" (a square and its interval), or a pooled kind ("re-pooled", "published", ...)
    drawn as a diamond. The x axis is logarithmic with a reference line at RR = 1.
    """
    colours = colours or {"trial": "#4d4d4d", "re-pooled": "#1f5fa8", "published": "#d9731a"}
    order = list(rows["label"])
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    x_scale = alt.Scale(type="log", domain=[0.5, 4], nice=False)
    colour = alt.Color("kind:N", title=None, scale=alt.Scale(domain=list(colours), range=list(colours.values())))
    tooltip = [
        "label:N",
        alt.Tooltip("rr:Q", format=".2f"),
        alt.Tooltip("ci_low:Q", format=".2f"),
        alt.Tooltip("ci_high:Q", format=".2f"),
    ]
    base = alt.Chart(rows)
    rules = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", scale=x_scale, title="Risk ratio of retention (log scale)"),
        x2="ci_high:Q",
        y=y,
        color=colour,
    )
    squares = (
        base.transform_filter(alt.datum.kind == "trial")
        .mark_point(shape="square", filled=True, size=90)
        .encode(x=alt.X("rr:Q", scale=x_scale), y=y, color=colour, tooltip=tooltip)
    )
    diamonds = (
        base.transform_filter(alt.datum.kind != "trial")
        .mark_point(shape="diamond", filled=True, size=260, opacity=1)
        .encode(x=alt.X("rr:Q", scale=x_scale), y=y, color=colour, tooltip=tooltip)
    )
    one = (
        alt.Chart(pd.DataFrame({"rr": [1.0]}))
        .mark_rule(strokeDash=[4, 4], color="#888888")
        .encode(x=alt.X("rr:Q", scale=x_scale))
    )
    return (one + rules + squares + diamonds).properties(width=280, height=28 * len(rows))


# --- chapter 4: its figures and tables, from the published tables of trials and reviews ------------------

#: The glue names of each trial's retention risk ratio and its 95% interval, by the first word of the study.
RATIO_KEYS = {
    "haasen": ("ev_rr_haasen", "ev_rr_haasen_low", "ev_rr_haasen_high"),
    "naomi": ("ev_rr_naomi", "ev_rr_naomi_low", "ev_rr_naomi_high"),
    "riott": ("ev_rr_riott", "ev_rr_riott_low", "ev_rr_riott_high"),
    "van": ("ev_rr_van", "ev_rr_van_low", "ev_rr_van_high"),
}


def retention_pooling(trials: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """Retention risk ratios of the trials (:func:`retention_risk_ratios`), those of the supervised injected
    trials (:data:`SUPERVISED_INJECTED`), and the random-effects pool of these (:func:`pool_random_effects`)
    and of all trials with retention in both arms (adding the Dutch inhalable trial)."""
    ratios = retention_risk_ratios(retention_arms(trials))
    main = ratios[ratios["study"].isin(SUPERVISED_INJECTED)]
    return (
        ratios,
        main,
        pool_random_effects(main["log_rr"], main["se_log_rr"]),
        pool_random_effects(ratios["log_rr"], ratios["se_log_rr"]),
    )


def cochrane_reviews(reviews: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The Cochrane reviews' retention estimates: Ferri 2011 (supervised injected heroin against oral
    methadone, retention in treatment) and the 2010 review (any route, retention to the end of the study)."""
    cochrane = reviews[
        reviews["review"].str.startswith("Ferri 2011") & (reviews["outcome"] == "retention in treatment")
    ].iloc[0]
    earlier = reviews[
        reviews["review"].str.contains("2010") & (reviews["outcome"] == "retention to end of study")
    ].iloc[0]
    return cochrane, earlier


def _retention_values(table: pd.DataFrame, ratios: pd.DataFrame, pooled: dict, with_dutch: dict) -> dict[str, object]:
    """The trials of :func:`trial_table` (how many, from how many countries, their follow-up), the re-pooled
    retention of the supervised injected trials (``pooled``) and of all trials (``with_dutch``), and each
    trial's risk ratio with its interval (``ratios``, under :data:`RATIO_KEYS`)."""
    values: dict[str, object] = {
        "ev_n_trials": len(table),
        "ev_n_countries": table["country"].nunique(),
        "ev_min_follow_up": int(table["follow_up_months"].min()),
        "ev_max_follow_up": int(table["follow_up_months"].max()),
        "ev_k_main": pooled["k"],
        "ev_k_all": with_dutch["k"],
        "ev_pool_k": pooled["k"],
        "ev_pool_rr": pooled["rr"],
        "ev_pool_ci_low": pooled["ci_low"],
        "ev_pool_ci_high": pooled["ci_high"],
        "ev_pool_log_rr": pooled["log_rr"],
        "ev_pool_se_log_rr": pooled["se_log_rr"],
        "ev_pool_q": pooled["q"],
        "ev_pool_df": pooled["df"],
        "ev_pool_q_p_value": pooled["q_p_value"],
        "ev_pool_i2_percent": pooled["i2_percent"],
        "ev_pool_tau2": pooled["tau2"],
        "ev_pool_fixed_rr": pooled["fixed_rr"],
        "ev_pool_dutch_rr": with_dutch["rr"],
        "ev_pool_dutch_ci_low": with_dutch["ci_low"],
        "ev_pool_dutch_ci_high": with_dutch["ci_high"],
        "ev_pool_dutch_i2_percent": with_dutch["i2_percent"],
        "ev_pool_dutch_tau2": with_dutch["tau2"],
    }
    for row in ratios.itertuples():
        rr, low, high = RATIO_KEYS[row.study.split()[0].lower()]
        values.update({rr: row.rr, low: row.ci_low, high: row.ci_high})
    return values


def _cochrane_values(reviews: pd.DataFrame, main: pd.DataFrame, pooled: dict) -> dict[str, object]:
    """The Cochrane reviews' retention estimates (:func:`cochrane_reviews`) and the patients and trials the
    re-pooling of the supervised injected trials (``main``, ``pooled``) lacks against Ferri 2011."""
    cochrane, earlier = cochrane_reviews(reviews)
    main_patients = int((main["heroin_n"] + main["control_n"]).sum())
    return {
        "ev_cochrane_rr": float(cochrane.estimate),
        "ev_cochrane_low": float(cochrane.ci_low),
        "ev_cochrane_high": float(cochrane.ci_high),
        "ev_cochrane_studies": int(cochrane.studies),
        "ev_cochrane_participants": int(cochrane.participants),
        "ev_cochrane2010_rr": float(earlier.estimate),
        "ev_cochrane2010_low": float(earlier.ci_low),
        "ev_cochrane2010_high": float(earlier.ci_high),
        "ev_cochrane2010_studies": int(earlier.studies),
        "ev_cochrane2010_participants": int(earlier.participants),
        "ev_cochrane_heterogeneity": cochrane.note,
        "ev_main_patients": main_patients,
        "ev_missing_patients": int(cochrane.participants) - main_patients,
        "ev_missing_trials": int(cochrane.studies) - pooled["k"],
        "ev_n_recovered": int((~main["counts_stated"]).sum()),
    }


def _mortality_values(mortality: pd.DataFrame, reviews: pd.DataFrame) -> dict[str, object]:
    """Deaths pooled over all routes (``any``) and over the injected trials (``inj``) by
    :func:`pooled_mortality`, beside the Cochrane review's published estimate."""
    deaths = pooled_mortality(mortality)
    any_route, injected = list(deaths.itertuples())[:2]
    published = reviews[reviews["outcome"] == "mortality"].iloc[0]
    return {
        "ev_mort_any_studies": any_route.studies,
        "ev_mort_any_heroin_deaths": any_route.heroin_deaths,
        "ev_mort_any_heroin_n": any_route.heroin_n,
        "ev_mort_any_control_deaths": any_route.control_deaths,
        "ev_mort_any_control_n": any_route.control_n,
        "ev_mort_any_heroin_percent": float(any_route.heroin_percent),
        "ev_mort_any_control_percent": float(any_route.control_percent),
        "ev_mort_any_rr": float(any_route.rr),
        "ev_mort_any_ci_low": float(any_route.ci_low),
        "ev_mort_any_ci_high": float(any_route.ci_high),
        "ev_mort_inj_studies": injected.studies,
        "ev_mort_inj_heroin_deaths": injected.heroin_deaths,
        "ev_mort_inj_heroin_n": injected.heroin_n,
        "ev_mort_inj_control_deaths": injected.control_deaths,
        "ev_mort_inj_control_n": injected.control_n,
        "ev_mort_inj_heroin_percent": float(injected.heroin_percent),
        "ev_mort_inj_control_percent": float(injected.control_percent),
        "ev_mort_inj_rr": float(injected.rr),
        "ev_mort_inj_ci_low": float(injected.ci_low),
        "ev_mort_inj_ci_high": float(injected.ci_high),
        "ev_mort_cochrane_rr": float(published.estimate),
        "ev_mort_cochrane_low": float(published.ci_low),
        "ev_mort_cochrane_high": float(published.ci_high),
        "ev_mort_cochrane_participants": int(published.participants),
        "ev_mort_inj_total": int(deaths.iloc[1].heroin_n + deaths.iloc[1].control_n),
    }


def _dutch_followup_values(dutch: pd.DataFrame) -> dict[str, object]:
    """The Dutch four-year follow-up (:func:`dutch_followup`): the patients offered resumed heroin, those
    retained and not, the responders in each group and their risk ratio, and full recovery among the
    continuously retained."""
    nl = dutch_followup(dutch)
    return {
        "ev_nl_offered": nl["offered"],
        "ev_nl_not_resumed": nl["not_resumed"],
        "ev_nl_left": nl["left"],
        "ev_nl_not_retained": nl["not_retained"],
        "ev_nl_retained": nl["retained"],
        "ev_nl_retained_percent": nl["retained_percent"],
        "ev_nl_retained_percent_stated": nl["retained_percent_stated"],
        "ev_nl_responders": nl["responders"],
        "ev_nl_responders_percent": nl["responders_percent"],
        "ev_nl_responders_percent_stated": nl["responders_percent_stated"],
        "ev_nl_responders_retained": nl["responders_retained"],
        "ev_nl_responders_retained_percent": nl["responders_retained_percent"],
        "ev_nl_responders_not_retained": nl["responders_not_retained"],
        "ev_nl_responders_not_retained_percent": nl["responders_not_retained_percent"],
        "ev_nl_response_rr": nl["response_rr"],
        "ev_nl_response_rr_ci_low": nl["response_rr_ci_low"],
        "ev_nl_response_rr_ci_high": nl["response_rr_ci_high"],
        "ev_nl_response_difference_pp": nl["response_difference_pp"],
        "ev_nl_continuous": nl["continuous"],
        "ev_nl_reassessed_not_retained": nl["reassessed_not_retained"],
        "ev_nl_recovered_start": nl["recovered_start"],
        "ev_nl_recovered_start_percent": nl["recovered_start_percent"],
        "ev_nl_recovered_end": nl["recovered_end"],
        "ev_nl_recovered_end_percent": nl["recovered_end_percent"],
    }


def _position_values(trials: pd.DataFrame, norway_retention: float) -> dict[str, object]:
    """Where Norway's one-year retention lies among the trials' heroin and control arms at 12 months
    (:func:`position_among_trials`)."""
    place = position_among_trials(retention_arms(trials), norway_retention, months=12)
    return {
        "ev_norway_retention": norway_retention,
        "ev_place_months": place["months"],
        "ev_place_heroin_arms": place["heroin_arms"],
        "ev_place_heroin_above": place["heroin_above"],
        "ev_place_heroin_min": place["heroin_min"],
        "ev_place_heroin_max": place["heroin_max"],
        "ev_place_control_arms": place["control_arms"],
        "ev_place_control_above": place["control_above"],
        "ev_place_control_min": place["control_min"],
        "ev_place_control_max": place["control_max"],
    }


def chapter_statistics(
    trials: pd.DataFrame, reviews: pd.DataFrame, mortality: pd.DataFrame, dutch: pd.DataFrame, norway_retention: float
) -> pd.DataFrame:
    """Every figure chapter 4 glues (columns ``key``, ``value``; values as computed, not converted): the trials
    (:func:`trial_table`), the re-pooled retention (:func:`retention_pooling`) beside the Cochrane reviews, the
    patients and trials the re-pooling lacks against Ferri 2011, mortality (:func:`pooled_mortality`: all
    routes ``any``, injected ``inj``), the Dutch follow-up (:func:`dutch_followup`) and where Norway's
    one-year retention ``norway_retention`` lies among the trials' arms (:func:`position_among_trials`)."""
    table = trial_table(trials)
    ratios, main, pooled, with_dutch = retention_pooling(trials)
    values = {
        **_retention_values(table, ratios, pooled, with_dutch),
        **_cochrane_values(reviews, main, pooled),
        **_mortality_values(mortality, reviews),
        **_dutch_followup_values(dutch),
        **_position_values(trials, norway_retention),
    }
    return pd.DataFrame({"key": list(values), "value": pd.Series(list(values.values()), dtype=object)})


def trial_table_shown(trials: pd.DataFrame) -> pd.DataFrame:
    """:func:`trial_table` with the column headings the page shows."""
    return trial_table(trials).rename(
        columns={
            "study": "Trial",
            "country": "Country",
            "period": "Years",
            "arms": "Arms (n randomised)",
            "follow_up_months": "Follow-up (months)",
            "outcomes": "Outcomes in this edition's rows",
            "retention_definition": "Retention as defined by the trial",
        }
    )


def forest_rows(trials: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """The rows of the forest chart (:func:`forest_chart`): each trial's retention risk ratio, labelled with its
    retained/randomised counts, then the two re-pooled estimates and the two Cochrane reviews' estimates."""
    ratios, _, pooled, with_dutch = retention_pooling(trials)
    cochrane, earlier = cochrane_reviews(reviews)
    labels = [
        f"{r.study} ({r.heroin_retained}/{r.heroin_n} vs {r.control_retained}/{r.control_n})"
        for r in ratios.itertuples()
    ]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "label": labels,
                    "kind": "trial",
                    "rr": ratios["rr"],
                    "ci_low": ratios["ci_low"],
                    "ci_high": ratios["ci_high"],
                }
            ),
            pd.DataFrame(
                [
                    {
                        "label": f"Re-pooled here, {pooled['k']} supervised injected trials",
                        "kind": "re-pooled",
                        "rr": pooled["rr"],
                        "ci_low": pooled["ci_low"],
                        "ci_high": pooled["ci_high"],
                    },
                    {
                        "label": f"Re-pooled here, all {with_dutch['k']} trials with both arms",
                        "kind": "re-pooled",
                        "rr": with_dutch["rr"],
                        "ci_low": with_dutch["ci_low"],
                        "ci_high": with_dutch["ci_high"],
                    },
                    {
                        "label": f"Cochrane 2011, {cochrane.studies} supervised injected trials",
                        "kind": "published",
                        "rr": cochrane.estimate,
                        "ci_low": cochrane.ci_low,
                        "ci_high": cochrane.ci_high,
                    },
                    {
                        "label": f"Cochrane 2010, {earlier.studies} trials, any route",
                        "kind": "published",
                        "rr": earlier.estimate,
                        "ci_low": earlier.ci_low,
                        "ci_high": earlier.ci_high,
                    },
                ]
            ),
        ],
        ignore_index=True,
    )


def p_text(p: float) -> str:
    """A p-value as reviews print it."""
    return "P < 0.001" if p < 0.001 else f"P = {p:.2f}"


def pooled_comparison(trials: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """The table that sets the re-pooled retention risk ratios beside the Cochrane reviews' (trials,
    patients, risk ratio with 95% interval, heterogeneity)."""
    ratios, main, pooled, with_dutch = retention_pooling(trials)
    cochrane, earlier = cochrane_reviews(reviews)
    return pd.DataFrame(
        [
            {
                "Estimate": "Cochrane review 2011, supervised injected heroin vs oral methadone (published)",
                "Trials": int(cochrane.studies),
                "Patients": int(cochrane.participants),
                "Risk ratio (95% CI)": f"{cochrane.estimate:.2f} ({cochrane.ci_low:.2f} to {cochrane.ci_high:.2f})",
                "Heterogeneity": cochrane.note,
            },
            {
                "Estimate": "Re-pooled here, supervised injected heroin vs oral methadone",
                "Trials": pooled["k"],
                "Patients": int((main["heroin_n"] + main["control_n"]).sum()),
                "Risk ratio (95% CI)": f"{pooled['rr']:.2f} ({pooled['ci_low']:.2f} to {pooled['ci_high']:.2f})",
                "Heterogeneity": f"Q = {pooled['q']:.2f} ({p_text(pooled['q_p_value'])}), I² = {pooled['i2_percent']:.0f}%, "
                f"τ² = {pooled['tau2']:.4f}",
            },
            {
                "Estimate": "Cochrane review 2010, heroin by any route vs any control (published)",
                "Trials": int(earlier.studies),
                "Patients": int(earlier.participants),
                "Risk ratio (95% CI)": f"{earlier.estimate:.2f} ({earlier.ci_low:.2f} to {earlier.ci_high:.2f})",
                "Heterogeneity": earlier.note,
            },
            {
                "Estimate": "Re-pooled here, all trials with retention in both arms (adds the Dutch inhalable trial)",
                "Trials": with_dutch["k"],
                "Patients": int((ratios["heroin_n"] + ratios["control_n"]).sum()),
                "Risk ratio (95% CI)": f"{with_dutch['rr']:.2f} ({with_dutch['ci_low']:.2f} to {with_dutch['ci_high']:.2f})",
                "Heterogeneity": f"Q = {with_dutch['q']:.1f} ({p_text(with_dutch['q_p_value'])}), "
                f"I² = {with_dutch['i2_percent']:.0f}%, τ² = {with_dutch['tau2']:.3f}",
            },
        ]
    )
