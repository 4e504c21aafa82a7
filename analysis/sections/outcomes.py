"""Self-reported outcomes (section 6.4, Supplementary Table A): first-versus-last change, hunger, crime, drug use.

Every function takes the tidy ``questionnaires`` table of :class:`analysis.data.cohort.Cohort` (one row per
patient per wave: 0, 3, 6, 12, 24, 36, 48 months; every item may be empty) and, where time matters,
``episodes``. The definitions, stated once here and again in each function:

* **Months since the first day of DAM** of a questionnaire: (``questionnaire_date`` - the patient's first
  ``admission_date`` over all episodes) in days / (365.25 / 12).
* **First versus last**: for each variable separately, the patients who answered it at two or more waves;
  *first* is the earliest wave answered, *last* the latest. "First meas." / "Last meas." are the means
  over those patients of the months of their first / last answer; percentages are of those patients.
* **Good ("positive") state**: stable living = ``stable_housing_30d`` true; occupation = ``occupation``
  other than "none"; victim / perpetrator of crime = ``crime_victim_3m`` / ``crime_perpetrator_3m``
  false; frequent use of heroin, cocaine, non-prescribed benzodiazepines = that substance's
  ``*_days_30d`` at most 12 (frequent is more than 12 of the previous 30 days); frequent polysubstance
  use: the status is defined at a wave when at least two of the five substance day items are answered,
  and is frequent when at least two substances were used on more than 12 days.
* **Change**: *positive to negative* (worsened) = good at first, bad at last; *negative to positive*
  (improved) = bad at first, good at last; *no change* otherwise. The two money items (1-5) instead
  count as improved when last - first >= 2, worsened when last - first <= -2, unchanged otherwise.
* **Days of use**: the patients with the day item answered at two or more waves; the mean days at the
  first and at the last answer, and the standard deviation (ddof 1) of the individual change
  (last - first).
* **Hunger** (Figure 6.G): share of the answers at a wave in each category (never, rarely, often,
  always); the model is a binomial GEE (logit link, exchangeable working correlation, clusters =
  patients) of frequent hunger (often or always) at waves 0-12 on access to food often or always,
  any amphetamine use in the previous 30 days and the wave (categorical).
"""

from __future__ import annotations

import warnings

import altair as alt
import numpy as np
import pandas as pd

from analysis.data import schema
from analysis.data.units import DAYS_PER_MONTH

#: Use on more than this many of the previous 30 days is frequent use.
FREQUENT_DAYS = 12
#: A change on the 1-5 money scale counts only from this many points.
MONEY_POINTS = 2
#: Waves of the first year, where hunger is followed.
FIRST_YEAR_WAVES = (0, 3, 6, 12)

#: Binary variables of Supplementary Table A: the item, and its good ("positive") answer.
BINARY_VARIABLES = {
    "stable_living": ("stable_housing_30d", "Stable living situation in previous 30 days"),
    "occupation": ("occupation", "Occupation"),
    "victim_of_crime": ("crime_victim_3m", "Victim of crime"),
    "perpetrator_of_crime": ("crime_perpetrator_3m", "Perpetrator of crime"),
}
#: The money items on the 1-5 scale.
MONEY_VARIABLES = {
    "money_food": ("money_food", "Money for food"),
    "money_other": ("money_other", "Money for other expenses"),
}
#: Substances whose frequent use and days of use are reported.
REPORTED_SUBSTANCES = {"heroin": "heroin", "cocaine": "cocaine", "benzodiazepine": "non-prescribed benzodiazepine"}
#: The rows of Supplementary Table A, in the report's order, with their labels.
TABLE_A_LABELS = {
    **{name: label for name, (_, label) in BINARY_VARIABLES.items() if name in ("stable_living", "occupation")},
    **{name: label for name, (_, label) in MONEY_VARIABLES.items()},
    **{name: label for name, (_, label) in BINARY_VARIABLES.items() if name not in ("stable_living", "occupation")},
    **{f"frequent_{s}": f"Frequent {label} use" for s, label in REPORTED_SUBSTANCES.items()},
    "frequent_polysubstance": "Frequent polysubstance user",
    **{f"days_{s}": f"Days of {label} use (last 30 days)" for s, label in REPORTED_SUBSTANCES.items()},
}
TRANSITION_COLUMNS = [
    "variable",
    "n_patients",
    "first_measurement_months",
    "last_measurement_months",
    "positive_to_negative_n",
    "positive_to_negative_percent",
    "negative_to_positive_n",
    "negative_to_positive_percent",
    "no_change_n",
    "no_change_percent",
]
DAYS_COLUMNS = [
    "variable",
    "n_patients",
    "first_measurement_months",
    "last_measurement_months",
    "mean_days_first_measurement",
    "mean_days_last_measurement",
    "mean_change",
    "sd",
]
CHANGE_LABELS = {"positive_to_negative": "Worsened", "no_change": "No change", "negative_to_positive": "Improved"}
CHANGE_COLOURS = {"Worsened": "#d9731a", "No change": "#c8c8c8", "Improved": "#1f5fa8"}
HUNGER_LABELS = {"never": "Never", "rarely": "Rarely", "often": "Often", "always": "Always"}
HUNGER_COLOURS = {"Never": "#8fb3de", "Rarely": "#1f5fa8", "Often": "#f0a868", "Always": "#b35806"}
WAVE_LABELS = {
    0: "Baseline",
    3: "3 months",
    6: "6 months",
    12: "12 months",
    24: "24 months",
    36: "36 months",
    48: "48 months",
}


def with_months(questionnaires: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """The questionnaires with ``months``: months since the patient's FIRST admission.

    months = (``questionnaire_date`` - the earliest ``admission_date`` of the patient's episodes) in
    days / (365.25 / 12). A re-admitted patient's later episodes do not restart the clock.
    """
    first = episodes.groupby("patient_id")["admission_date"].min().rename("first_admission_date")
    frame = questionnaires.merge(first, left_on="patient_id", right_index=True, how="left")
    frame["months"] = (
        (frame["questionnaire_date"] - frame["first_admission_date"]) / pd.Timedelta(days=1) / DAYS_PER_MONTH
    )
    return frame.drop(columns="first_admission_date")


def _answered(values: pd.Series) -> pd.Series:
    return values.notna().astype(bool)


def good_state(questionnaires: pd.DataFrame, variable: str) -> pd.Series:
    """Per questionnaire, whether ``variable`` is in its good ("positive") state; empty when undefined.

    stable_living: ``stable_housing_30d`` true; occupation: ``occupation`` other than "none";
    victim_of_crime / perpetrator_of_crime: the item false; frequent_<substance>: that substance's
    days in the previous 30 at most 12; frequent_polysubstance: not two or more of the five substances on
    more than 12 days, defined only when at least two of the five day items are answered.
    """
    state = pd.Series(pd.NA, index=questionnaires.index, dtype="boolean")
    if variable in BINARY_VARIABLES:
        column = questionnaires[BINARY_VARIABLES[variable][0]]
        answered = _answered(column)
        if variable == "occupation":
            good = column[answered].astype(str) != "none"
        elif variable == "stable_living":
            good = column[answered].astype(bool)
        else:
            good = ~column[answered].astype(bool)
        state[answered] = good.to_numpy()
        return state
    if variable == "frequent_polysubstance":
        days = questionnaires[[f"{s}_days_30d" for s in schema.SUBSTANCES]]
        n_answered = days.notna().sum(axis=1)
        n_frequent = (days.astype("Float64") > FREQUENT_DAYS).fillna(False).astype(bool).sum(axis=1)
        defined = n_answered >= 2
        state[defined] = (n_frequent[defined] < 2).to_numpy()
        return state
    if variable.startswith("frequent_") and variable.removeprefix("frequent_") in schema.SUBSTANCES:
        column = questionnaires[f"{variable.removeprefix('frequent_')}_days_30d"]
        answered = _answered(column)
        state[answered] = (column[answered].astype(float) <= FREQUENT_DAYS).to_numpy()
        return state
    raise KeyError(f"no good state defined for {variable!r}")


def first_and_last(frame: pd.DataFrame, values: pd.Series) -> pd.DataFrame:
    """Per patient with ``values`` answered at two or more waves: the first and last answer and their months.

    ``frame`` is the output of :func:`with_months`; ``values`` is aligned with it (empty = not answered).
    First = earliest wave answered, last = latest wave answered. Columns: patient_id, n_answers, first,
    last, first_months, last_months.
    """
    answered = frame.assign(value=values)[values.notna().to_numpy()]
    answered = answered.sort_values(["patient_id", "wave", "questionnaire_date"])
    grouped = answered.groupby("patient_id")
    out = pd.DataFrame(
        {
            "n_answers": grouped.size(),
            "first": grouped["value"].first(),
            "last": grouped["value"].last(),
            "first_months": grouped["months"].first(),
            "last_months": grouped["months"].last(),
        }
    )
    return out[out["n_answers"] >= 2].reset_index()


def _transition_row(variable: str, pairs: pd.DataFrame, worsened: pd.Series, improved: pd.Series) -> dict:
    n = len(pairs)
    unchanged = ~(worsened | improved)
    row = {
        "variable": variable,
        "n_patients": n,
        "first_measurement_months": pairs["first_months"].mean() if n else np.nan,
        "last_measurement_months": pairs["last_months"].mean() if n else np.nan,
    }
    for name, mask in (
        ("positive_to_negative", worsened),
        ("negative_to_positive", improved),
        ("no_change", unchanged),
    ):
        count = int(mask.sum())
        row[f"{name}_n"] = count
        row[f"{name}_percent"] = 100 * count / n if n else np.nan
    return row


def transition(frame: pd.DataFrame, variable: str) -> dict:
    """First-versus-last change of one variable, as one row of Supplementary Table A.

    ``frame`` is the output of :func:`with_months`. Binary variables (see :func:`good_state`):
    positive to negative = good at first and bad at last; negative to positive = bad at first and good
    at last; no change otherwise. Money items (1-5): negative to positive (improved) when last - first
    >= 2, positive to negative (worsened) when last - first <= -2, no change for 0 or 1 point.
    n_patients = patients answering at two or more waves; percentages are of them.
    """
    if variable in MONEY_VARIABLES:
        pairs = first_and_last(frame, frame[MONEY_VARIABLES[variable][0]])
        change = pairs["last"].astype(float) - pairs["first"].astype(float)
        return _transition_row(variable, pairs, change <= -MONEY_POINTS, change >= MONEY_POINTS)
    pairs = first_and_last(frame, good_state(frame, variable))
    first, last = pairs["first"].astype(bool), pairs["last"].astype(bool)
    return _transition_row(variable, pairs, first & ~last, ~first & last)


def transitions(
    questionnaires: pd.DataFrame, episodes: pd.DataFrame, variables: list[str] | None = None
) -> pd.DataFrame:
    """First-versus-last change of every binary and money variable of Supplementary Table A.

    One row per variable (default: the report's order) with the columns of :data:`TRANSITION_COLUMNS`;
    definitions in :func:`transition` and :func:`good_state`, months in :func:`with_months`.
    """
    frame = with_months(questionnaires, episodes)
    names = variables or [v for v in TABLE_A_LABELS if not v.startswith("days_")]
    return pd.DataFrame([transition(frame, v) for v in names], columns=TRANSITION_COLUMNS)


def bad_at_first(
    questionnaires: pd.DataFrame, episodes: pd.DataFrame, variables: list[str] | None = None
) -> pd.DataFrame:
    """Share of a binary variable's patients in the bad state at their FIRST measurement.

    The patients are those of :func:`transition` (answered at two or more waves); bad = not the good
    state of :func:`good_state` (a victim, a perpetrator, a frequent user, ...). Columns: variable,
    n_patients, bad_n, bad_percent.
    """
    frame = with_months(questionnaires, episodes)
    names = variables or [v for v in TABLE_A_LABELS if not v.startswith(("days_", "money_"))]
    rows = []
    for variable in names:
        pairs = first_and_last(frame, good_state(frame, variable))
        bad = int((~pairs["first"].astype(bool)).sum())
        n = len(pairs)
        rows.append(
            {"variable": variable, "n_patients": n, "bad_n": bad, "bad_percent": 100 * bad / n if n else np.nan}
        )
    return pd.DataFrame(rows, columns=["variable", "n_patients", "bad_n", "bad_percent"])


def days_of_use(
    questionnaires: pd.DataFrame, episodes: pd.DataFrame, substances: list[str] | None = None
) -> pd.DataFrame:
    """Days of use in the previous 30 days, first against last measurement, per substance.

    n_patients = patients with the day item answered at two or more waves; first / last = earliest /
    latest wave answered; mean_days_first_measurement / mean_days_last_measurement = mean days at those
    answers; mean_change = mean of (last - first) (negative: fewer days); sd = standard deviation (ddof 1)
    of (last - first). Months as in :func:`with_months`. Rows are named ``days_<substance>``.
    """
    frame = with_months(questionnaires, episodes)
    rows = []
    for substance in substances or list(REPORTED_SUBSTANCES):
        pairs = first_and_last(frame, frame[f"{substance}_days_30d"])
        first, last = pairs["first"].astype(float), pairs["last"].astype(float)
        change = last - first
        rows.append(
            {
                "variable": f"days_{substance}",
                "n_patients": len(pairs),
                "first_measurement_months": pairs["first_months"].mean(),
                "last_measurement_months": pairs["last_months"].mean(),
                "mean_days_first_measurement": first.mean(),
                "mean_days_last_measurement": last.mean(),
                "mean_change": change.mean(),
                "sd": change.std(ddof=1),
            }
        )
    return pd.DataFrame(rows, columns=DAYS_COLUMNS)


def supplementary_table_a(transition_frame: pd.DataFrame, days_frame: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table A in long form: one row per variable and statistic (the published table's layout).

    ``transition_frame`` from :func:`transitions`, ``days_frame`` from :func:`days_of_use`. Columns:
    variable, statistic, value; statistics as in ``data/published/supp_table_a_self_reported_measures.csv``.
    The change columns keep their definitions (positive to negative = worsened) in every row.
    """
    long = [
        frame.melt(id_vars="variable", value_vars=[c for c in columns if c != "variable"], var_name="statistic")
        for frame, columns in (
            (transition_frame, TRANSITION_COLUMNS),
            (days_frame, [c for c in DAYS_COLUMNS if c != "mean_change"]),
        )
    ]
    out = pd.concat(long, ignore_index=True)
    order = {v: i for i, v in enumerate(TABLE_A_LABELS)}
    return out.sort_values("variable", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def table_a_display(transition_frame: pd.DataFrame, days_frame: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table A as the report lays it out: one row per variable, "n (x%)" in the change cells.

    The days rows hold the mean days at the first and last measurement and the SD of the change in the
    three change columns, as the report does.
    """
    rows = []
    for r in transition_frame.itertuples(index=False):
        rows.append(
            {
                "Variable": TABLE_A_LABELS[r.variable],
                "N patients": r.n_patients,
                "First meas.*": f"{r.first_measurement_months:.2f}",
                "Last meas.*": f"{r.last_measurement_months:.1f}",
                "Change from positive to negative": f"{r.positive_to_negative_n} ({r.positive_to_negative_percent:.0f}%)",
                "Change from negative to positive": f"{r.negative_to_positive_n} ({r.negative_to_positive_percent:.0f}%)",
                "No change": f"{r.no_change_n} ({r.no_change_percent:.0f}%)",
            }
        )
    for r in days_frame.itertuples(index=False):
        rows.append(
            {
                "Variable": TABLE_A_LABELS[r.variable],
                "N patients": r.n_patients,
                "First meas.*": f"{r.first_measurement_months:.2f}",
                "Last meas.*": f"{r.last_measurement_months:.1f}",
                "Change from positive to negative": f"{r.mean_days_first_measurement:.2f}",
                "Change from negative to positive": f"{r.mean_days_last_measurement:.2f}",
                "No change": f"{r.sd:.2f}",
            }
        )
    return pd.DataFrame(rows)


def text_statistics(
    transition_frame: pd.DataFrame, bad_first: pd.DataFrame, days_frame: pd.DataFrame, hunger: pd.DataFrame
) -> pd.DataFrame:
    """The section 6.4 text statistics of housing, finances, hunger, crime and drug use, under ledger keys.

    ``*_changed_pct`` = worsened + improved percent; ``*_worsened_pct`` = positive to negative;
    ``*_improved_pct`` = negative to positive; ``*_baseline_pct`` / ``freq_heroin_first_pct`` = share in
    the bad state at the first measurement (:func:`bad_at_first`); heroin days: mean at first, at last,
    mean reduction (first - last, positive when fewer days) and SD of the change; hunger: share "often"
    among the answers at wave 0 and at wave 12 (:func:`hunger_distribution`). Columns: key, value.
    """
    t = transition_frame.set_index("variable")
    b = bad_first.set_index("variable")["bad_percent"]
    d = days_frame.set_index("variable")
    h = hunger.set_index(["wave", "hunger"])["percent"]
    values: dict[str, float] = {}
    prefixes = {
        "stable_living": "housing",
        "occupation": "occupation",
        "money_food": "money_food",
        "money_other": "money_other",
        "victim_of_crime": "victim",
        "perpetrator_of_crime": "perpetrator",
        "frequent_heroin": "freq_heroin",
        "frequent_polysubstance": "freq_poly",
    }
    for variable, prefix in prefixes.items():
        row = t.loc[variable]
        values[f"s6_4_{prefix}_worsened_pct"] = row["positive_to_negative_percent"]
        values[f"s6_4_{prefix}_improved_pct"] = row["negative_to_positive_percent"]
        values[f"s6_4_{prefix}_changed_pct"] = row["positive_to_negative_percent"] + row["negative_to_positive_percent"]
        values[f"s6_4_{prefix}_no_change_pct"] = row["no_change_percent"]
    values["s6_4_victim_baseline_pct"] = b["victim_of_crime"]
    values["s6_4_perpetrator_baseline_pct"] = b["perpetrator_of_crime"]
    values["s6_4_freq_heroin_first_pct"] = b["frequent_heroin"]
    values["s6_4_freq_poly_baseline_pct"] = b["frequent_polysubstance"]
    heroin = d.loc["days_heroin"]
    values["s6_4_heroin_days_first_mean"] = heroin["mean_days_first_measurement"]
    values["s6_4_heroin_days_last_mean"] = heroin["mean_days_last_measurement"]
    values["s6_4_heroin_days_change_mean"] = -heroin["mean_change"]
    values["s6_4_heroin_days_change_sd"] = heroin["sd"]
    values["s6_4_hunger_often_baseline_pct"] = h.get((0, "often"), np.nan)
    values["s6_4_hunger_often_12m_pct"] = h.get((12, "often"), np.nan)
    return pd.DataFrame({"key": list(values), "value": [float(v) for v in values.values()]})


def hunger_distribution(questionnaires: pd.DataFrame, waves: tuple[int, ...] = FIRST_YEAR_WAVES) -> pd.DataFrame:
    """Share of the answers in each hunger category at each wave (Figure 6.G).

    All questionnaires at the wave with ``hunger`` answered form the denominator. Columns: wave, hunger,
    n, denominator, percent; every category appears at every wave (n = 0 when nobody chose it).
    """
    answered = questionnaires[questionnaires["wave"].isin(waves) & questionnaires["hunger"].notna()]
    counts = answered.groupby(["wave", "hunger"]).size()
    index = pd.MultiIndex.from_product([list(waves), list(schema.FREQUENCIES)], names=["wave", "hunger"])
    frame = counts.reindex(index, fill_value=0).rename("n").reset_index()
    frame["wave"] = frame["wave"].astype(int)
    frame["denominator"] = frame.groupby("wave")["n"].transform("sum")
    frame["percent"] = 100 * frame["n"] / frame["denominator"].where(frame["denominator"] > 0)
    return frame


def hunger_model_frame(questionnaires: pd.DataFrame, waves: tuple[int, ...] = FIRST_YEAR_WAVES) -> pd.DataFrame:
    """The observations of the hunger model: questionnaires at ``waves`` with hunger, food access and
    amphetamine days all answered.

    frequent_hunger = hunger "often" or "always"; food_access = access to enough food "often" or
    "always"; amphetamine = ``amphetamine_days_30d`` > 0. Columns: patient_id, wave and the three 0/1
    variables, sorted by patient and wave.
    """
    q = questionnaires[questionnaires["wave"].isin(waves)]
    q = q[q["hunger"].notna() & q["food_access"].notna() & q["amphetamine_days_30d"].notna()]
    frame = pd.DataFrame(
        {
            "patient_id": q["patient_id"].astype(str).to_numpy(),
            "wave": q["wave"].astype(int).to_numpy(),
            "frequent_hunger": q["hunger"].astype(str).isin(["often", "always"]).astype(int).to_numpy(),
            "food_access": q["food_access"].astype(str).isin(["often", "always"]).astype(int).to_numpy(),
            "amphetamine": (q["amphetamine_days_30d"].astype(float) > 0).astype(int).to_numpy(),
        }
    )
    return frame.sort_values(["patient_id", "wave"]).reset_index(drop=True)


#: The hunger model's covariates: the id of each term (its column in :func:`hunger_model_frame`, and the ``term``
#: of :func:`hunger_gee`) and the label the table shows (for display only: code looks a term up by its id).
HUNGER_TERMS = {
    "food_access": "Access to food often or always",
    "amphetamine": "Any amphetamine use, previous 30 days",
}


def gee_term(name: str) -> tuple[str, str]:
    """The id and the display label of a term of the hunger GEE named ``name`` by statsmodels: a time point
    ``C(wave)[T.12]`` is ``("wave_12", "12 months (against baseline)")``, a covariate its column name with its
    label from :data:`HUNGER_TERMS`."""
    if name.startswith("C(wave)"):
        wave = int(float(name.split("T.")[1].rstrip("]")))
        return f"wave_{wave}", f"{WAVE_LABELS.get(wave, f'{wave} months')} (against baseline)"
    return name, HUNGER_TERMS.get(name, name)


def hunger_gee(model_frame: pd.DataFrame) -> pd.DataFrame:
    """Binomial GEE of frequent hunger (often or always) over the first year.

    statsmodels GEE, logit link, exchangeable working correlation, clusters = patients, robust
    (sandwich) standard errors; covariates: food access often/always, any amphetamine use in the
    previous 30 days, wave as a categorical variable (baseline the reference). ``model_frame`` from
    :func:`hunger_model_frame`. Returns one row per term except the intercept: term (the id of
    :func:`gee_term`, e.g. ``food_access`` or ``wave_12``, which code looks terms up by), label (its display
    name), odds_ratio, ci_low, ci_high (95%), p_value; the last four are NaN when statsmodels detects perfect
    separation (the model is then not estimable).
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    model = smf.gee(
        "frequent_hunger ~ food_access + amphetamine + C(wave)",
        groups="patient_id",
        data=model_frame,
        family=sm.families.Binomial(),
        cov_struct=sm.cov_struct.Exchangeable(),
    )
    with warnings.catch_warnings(record=True) as caught:
        # On a small subset (a rerun) the fit can be degenerate and statsmodels warns about invalid
        # variances, or about perfect separation (an answer predicts hunger exactly); a warning would
        # print into the page. Warnings are recorded instead: the page checks that the intervals and
        # p-values are finite and says "not estimable" otherwise, and a separated fit gives none.
        warnings.simplefilter("always")
        fit = model.fit()
        ci = fit.conf_int()
        pvalues = fit.pvalues
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    rows = []
    # a separated subset gives huge coefficients: their odds ratios overflow to inf, which the page
    # reports as not estimable, so numpy need not warn about it
    with np.errstate(over="ignore"):
        for term in fit.params.index:
            if term == "Intercept":
                continue
            name, label = gee_term(term)
            rows.append(
                {
                    "term": name,
                    "label": label,
                    "odds_ratio": np.nan if separated else float(np.exp(fit.params[term])),
                    "ci_low": np.nan if separated else float(np.exp(ci.loc[term, 0])),
                    "ci_high": np.nan if separated else float(np.exp(ci.loc[term, 1])),
                    "p_value": np.nan if separated else float(pvalues[term]),
                }
            )
    return pd.DataFrame(rows, columns=["term", "label", "odds_ratio", "ci_low", "ci_high", "p_value"])


# ---------------------------------------------------------------------------------------------- charts


def transition_chart(transition_frame: pd.DataFrame, variables: dict[str, str], height: int | None = None) -> alt.Chart:
    """Stacked horizontal bars: per variable, the shares that worsened, did not change and improved.

    ``transition_frame`` from :func:`transitions`; ``variables`` maps the variables to show to their
    labels, in display order (Figures 6.F and 6.K).
    """
    frame = transition_frame[transition_frame["variable"].isin(list(variables))]
    rows = []
    for r in frame.itertuples(index=False):
        for change, label in CHANGE_LABELS.items():
            rows.append(
                {
                    "Variable": variables[r.variable],
                    "Change": label,
                    "order": list(CHANGE_LABELS).index(change),
                    "percent": getattr(r, f"{change}_percent"),
                    "n": getattr(r, f"{change}_n"),
                    "patients": r.n_patients,
                }
            )
    long = pd.DataFrame(rows)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("percent:Q", title="Share of patients (%)", stack="zero", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("Variable:N", sort=list(variables.values()), title=None),
            color=alt.Color(
                "Change:N",
                scale=alt.Scale(domain=list(CHANGE_COLOURS), range=list(CHANGE_COLOURS.values())),
                title="First to last measurement",
            ),
            order=alt.Order("order:Q"),
            tooltip=["Variable", "Change", "n", "patients", alt.Tooltip("percent:Q", format=".1f")],
        )
        .properties(width=480, height=height or 45 * len(variables))
    )


def hunger_chart(distribution: pd.DataFrame) -> alt.Chart:
    """Grouped bars: share of answers in each hunger category at each wave (Figure 6.G).

    ``distribution`` from :func:`hunger_distribution`.
    """
    frame = distribution.copy()
    frame["Time point"] = frame["wave"].map(WAVE_LABELS)
    frame["Hunger"] = frame["hunger"].map(HUNGER_LABELS)
    waves = [WAVE_LABELS[w] for w in sorted(frame["wave"].unique())]
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("Time point:N", sort=waves, title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("Hunger:N", sort=list(HUNGER_COLOURS)),
            y=alt.Y("percent:Q", title="Share of respondents (%)"),
            color=alt.Color(
                "Hunger:N",
                sort=list(HUNGER_COLOURS),
                scale=alt.Scale(domain=list(HUNGER_COLOURS), range=list(HUNGER_COLOURS.values())),
                title="How often hungry",
            ),
            tooltip=["Time point", "Hunger", "n", "denominator", alt.Tooltip("percent:Q", format=".1f")],
        )
        .properties(width=480, height=280)
    )


def days_chart(days_frame: pd.DataFrame, variable: str = "days_heroin") -> alt.Chart:
    """Two bars: mean days of use in the previous 30 days at the first and at the last measurement (Figure 6.L).

    ``days_frame`` from :func:`days_of_use`.
    """
    row = days_frame.set_index("variable").loc[variable]
    frame = pd.DataFrame(
        {
            "Measurement": ["First measurement", "Last measurement"],
            "mean_days": [row["mean_days_first_measurement"], row["mean_days_last_measurement"]],
            "months": [row["first_measurement_months"], row["last_measurement_months"]],
            "patients": [int(row["n_patients"])] * 2,
        }
    )
    base = alt.Chart(frame).encode(
        x=alt.X("Measurement:N", title=None, sort=list(frame["Measurement"]), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("mean_days:Q", title="Mean days of use (of the last 30)", scale=alt.Scale(domain=[0, 30])),
    )
    bars = base.mark_bar(color="#1f5fa8", size=70).encode(
        tooltip=[
            "Measurement",
            alt.Tooltip("mean_days:Q", format=".1f", title="mean days"),
            alt.Tooltip("months:Q", format=".1f", title="mean months since first DAM"),
            "patients",
        ]
    )
    labels = base.mark_text(dy=-8, fontSize=12).encode(text=alt.Text("mean_days:Q", format=".1f"))
    return (bars + labels).properties(width=320, height=260)


# ------------------------------------------------------------------------ what an edition may estimate


def fewest_patients(threshold: int | None) -> int:
    """The fewest patients a model of this page is fitted to: the disclosure threshold of a rerun, and
    never fewer than two (the published edition has no threshold)."""
    return max(int(threshold or 0), 2)


def not_estimable_reason(
    frame: pd.DataFrame, outcome: str, threshold: int | None, *, patient: str = "patient_id"
) -> str | None:
    """Why a model of ``outcome`` cannot be fitted to ``frame`` (one row per answer), or None when it can.

    Not estimable: fewer patients than :func:`fewest_patients`, or every answer has the same outcome."""
    fewest = fewest_patients(threshold)
    if frame[patient].nunique() < fewest:
        return f"fewer than {fewest} patients have the answers the model needs"
    if frame[outcome].nunique() < 2:
        return "every answer has the same outcome"
    return None


def binary_term_reason(values: pd.Series, patients: pd.Series, threshold: int | None) -> str | None:
    """Why the odds ratio of a 0/1 covariate cannot be shown, or None: fewer than :func:`fewest_patients`
    patients with the value 1, or with the value 0 (an odds ratio that rests on one or two patients'
    answers is no estimate)."""
    fewest = fewest_patients(threshold)
    values = pd.to_numeric(values, errors="coerce")
    with_value = patients[values == 1].nunique()
    without = patients[values == 0].nunique()
    if min(with_value, without) < fewest:
        return f"fewer than {fewest} patients on one side of the comparison"
    return None


#: An interval whose upper end is this many times its lower end shows a (quasi-)separated or flat
#: likelihood: the data cannot say how large the odds ratio is.
WIDEST_RATIO = 1e4


def interval_reason(odds_ratio: float, ci_low: float, ci_high: float, p: float) -> str | None:
    """Why an odds ratio with its 95% interval and p-value is no usable estimate, or None: a value that is
    not finite, or an interval so wide (upper/lower end above :data:`WIDEST_RATIO`) that the data barely
    inform it (typically separation: an answer that predicts the outcome perfectly)."""
    values = np.array([odds_ratio, ci_low, ci_high, p], dtype=float)
    if not np.all(np.isfinite(values)) or ci_low <= 0:
        return "the fit gives no finite estimate (separation or a flat likelihood)"
    if ci_high / ci_low > WIDEST_RATIO:
        return "the confidence interval is unbounded in practice (separation)"
    return None


def hunger_model(model_frame: pd.DataFrame, threshold: int | None) -> tuple[pd.DataFrame | None, str | None]:
    """The hunger GEE of :func:`hunger_gee` with what an edition may show of it: ``(table, None)``, or
    ``(None, reason)`` when the model is not estimable (too few patients, one outcome, a covariate seen
    in too few patients, a failed or non-converging fit, separation). Term-level checks apply to the two
    covariates the text reports (access to food, amphetamine use)."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    reason = not_estimable_reason(model_frame, "frequent_hunger", threshold)
    if reason:
        return None, reason
    for term in ("food_access", "amphetamine"):
        reason = binary_term_reason(model_frame[term], model_frame["patient_id"], threshold)
        if reason:
            return None, f"{HUNGER_TERMS[term].lower()}: {reason}"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = hunger_gee(model_frame)
    except Exception as error:  # a singular design or a failed fit on small data
        return None, f"the fit fails ({type(error).__name__})"
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return None, "the fit does not converge"
    terms = table.set_index("term")
    for term in ("food_access", "amphetamine"):
        if term not in terms.index:
            return None, f"{HUNGER_TERMS[term].lower()} does not vary in the data"
        row = terms.loc[term]
        reason = interval_reason(row.odds_ratio, row.ci_low, row.ci_high, row.p_value)
        if reason:
            return None, reason
    return table, None


def gee_odds_ratio(
    model_frame: pd.DataFrame, formula: str, term: str = "food_access"
) -> tuple[float, float, float, str | None]:
    """Odds ratio of ``term`` with its robust 95% interval from a binomial GEE of ``formula`` (exchangeable
    working correlation, patients as clusters), and None, or NaNs and the reason the fit gives no
    usable estimate (it fails, does not converge, or separates; see :func:`interval_reason`)."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    nan = float("nan")
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(over="ignore"):
            warnings.simplefilter("always")
            fit = smf.gee(
                formula,
                groups="patient_id",
                data=model_frame,
                family=sm.families.Binomial(),
                cov_struct=sm.cov_struct.Exchangeable(),
            ).fit()
            low, high = np.exp(fit.conf_int().loc[term])
            odds, p = float(np.exp(fit.params[term])), float(fit.pvalues[term])
    except Exception as error:  # a singular design or a failed fit on small data
        return nan, nan, nan, f"the fit fails ({type(error).__name__})"
    if any(issubclass(w.category, PerfectSeparationWarning) for w in caught):
        return nan, nan, nan, "an answer predicts hunger perfectly (separation)"
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return nan, nan, nan, "the fit does not converge"
    reason = interval_reason(odds, float(low), float(high), p)
    if reason:
        return nan, nan, nan, reason
    return odds, float(low), float(high), None


def protected_transitions(transition_frame: pd.DataFrame, threshold: int | None) -> pd.DataFrame:
    """The transition table a rerun may chart or tabulate (:func:`transitions` layout, counts as floats).

    A variable with a cell that :func:`analysis.presentation.disclosure.bounded_suppression` hides (a small count, or
    one the others and the total would give back) loses all three counts and shares; its number of
    patients is missing too when that is itself small. With ``threshold=None`` the frame is unchanged."""
    from analysis.presentation import disclosure

    if threshold is None:
        return transition_frame
    changes = ("positive_to_negative", "negative_to_positive", "no_change")
    long = transition_frame.melt(
        id_vars=["variable", "n_patients"], value_vars=[f"{c}_n" for c in changes], var_name="cell", value_name="n"
    )
    hidden, totals = disclosure.bounded_suppression(long, "n", threshold, groups="variable", total="n_patients")
    hidden_variables = set(long.loc[hidden, "variable"])
    hidden_totals = set(long.loc[totals, "variable"])
    out = transition_frame.copy()
    drop = out["variable"].isin(hidden_variables)
    for change in changes:
        out[f"{change}_n"] = out[f"{change}_n"].astype(float).where(~drop)
        out[f"{change}_percent"] = out[f"{change}_percent"].astype(float).where(~drop)
    out["n_patients"] = out["n_patients"].astype(float).where(~out["variable"].isin(hidden_totals))
    return out


def transition_reading(shown: pd.DataFrame, names: dict[str, str]) -> str:
    """Two sentences answering exercise 6.4.1 from a (protected) transition table: which variable had the
    largest share improved, and for which more improved than worsened; says so when nothing can be read."""
    rows = (
        shown.set_index("variable")
        .loc[list(names)]
        .dropna(subset=["negative_to_positive_percent", "positive_to_negative_percent"])
    )
    if rows.empty:
        return "In this edition the shares are withheld or could not be computed."
    if rows["negative_to_positive_percent"].max() == 0:
        return "No patient improved on any of the variables that can be shown."
    better = [
        names[v]
        for v in rows.index
        if rows.loc[v, "negative_to_positive_percent"] > rows.loc[v, "positive_to_negative_percent"]
    ]
    return (
        f"The largest share improved on {names[rows['negative_to_positive_percent'].idxmax()].lower()}. "
        f"More improved than worsened on: {', '.join(better).lower() if better else 'none of the variables shown'}."
    )


def odds_ratio_text(odds_ratio: float, ci_low: float, ci_high: float, p: float) -> str:
    """An odds ratio as the prose writes it: "0.16 (95% CI 0.08 to 0.32, p < 0.001)", with two decimals,
    a true minus sign and the p-value rule of :func:`analysis.presentation.formats.p_value`."""
    from analysis.presentation import formats

    return (
        f"{formats.number(odds_ratio, 2)} (95% CI {formats.number(ci_low, 2)} to {formats.number(ci_high, 2)}, "
        f"{p_text(p)})"
    )


def p_text(p) -> str:
    """A p-value in a sentence: "p < 0.001", "p = 0.042", or "p n/a" when there is none (a protected marker
    such as "–" is kept: "p –")."""
    from analysis.presentation import formats

    text = formats.p_value(p)
    return (
        f"p {text}" if text.startswith("<") or text in (formats.NOT_AVAILABLE,) or isinstance(p, str) else f"p = {text}"
    )


# ------------------------------------------------------------------ sentences chosen from an edition's data
#
# Each function below takes the values as an edition shows them (a number in percent or days, or a
# disclosure marker such as "–", "<5" or "n/a") and returns the sentence the page places, so that no edition
# states a fact its own figures contradict. A value that is a marker or missing is unknown: the sentence
# then says the fact cannot be told, or leaves the claim out.

#: A share of patients whose status did not change at or above this (in percent) "hardly moved".
HARDLY_MOVED_PERCENT = 75.0
#: Mean days of use that move by less than this between first and last answer "hardly moved".
HARDLY_MOVED_DAYS = 2.0
#: A state held by fewer than this share (in percent) of the patients is "rare".
RARE_PERCENT = 25.0
#: Money items whose unchanged shares are all at or above this (in percent) "moved little".
MOVED_LITTLE_PERCENT = 100 * 2 / 3
#: Two unchanged shares within this many percentage points behave "in much the same way".
SAME_WAY_POINTS = 10.0
#: A share that changed below this (in percent) is introduced with "Only".
ONLY_PERCENT = 25.0


def known(value) -> float | None:
    """``value`` as a float, or None when it is a disclosure marker, missing or not finite."""
    if value is None or isinstance(value, str):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def frequent_heroin_lead(first_percent) -> str:
    """The sentence that opens the paragraph on frequent heroin use, from the share (percent) of patients who
    used heroin frequently at their first answer. Rule: the share's :func:`analysis.presentation.formats.majority_words`;
    "most", "almost all" or "all" make frequent use "the usual state at the start"; "about half" says so;
    "a minority" or fewer say it was the state of a minority; unknown says the share is not shown."""
    from analysis.presentation import formats

    share = known(first_percent)
    if share is None:
        return "How many patients used heroin frequently at the start is not shown in this edition."
    words = formats.majority_words(share / 100)
    if words in ("most", "almost all", "all"):
        return "Frequent heroin use was the usual state at the start."
    if words == "about half":
        return "About half of the patients used heroin frequently at the start."
    if words == "none":
        return "No patient used heroin frequently at the start."
    return f"Frequent heroin use was the state of {words} of the patients at the start."


def changed_lead(changed_percent) -> str:
    """The words before the share of patients whose status changed: "Only" below :data:`ONLY_PERCENT`,
    "In all," otherwise or when the share is not shown."""
    share = known(changed_percent)
    return "Only" if share is not None and share < ONLY_PERCENT else "In all,"


def occupation_sentence(none_first_percent, improved_percent, worsened_percent) -> str:
    """Whether work and education remained rare, from the share (percent) with no occupation at the first
    answer and the shares that took up and gave up an occupation by the last.

    With an occupation at first = 100 - none; at last = first - gave up + took up. Rule: both below
    :data:`RARE_PERCENT` "remained rare"; otherwise more, less or as common at the last answer as at the
    first; unknown when any of the three is not shown."""
    none_first, improved, worsened = known(none_first_percent), known(improved_percent), known(worsened_percent)
    if none_first is None or improved is None or worsened is None:
        return "Whether work and education were rare cannot be told from the shares this edition shows."
    first = 100 - none_first
    last = first - worsened + improved
    if first < RARE_PERCENT and last < RARE_PERCENT:
        return "Work and education remained rare."
    if abs(last - first) < 1e-9:
        return "Work and education were as common at the last answer as at the first."
    return (
        "Work and education became more common between the first and the last answer."
        if last > first
        else "Work and education became less common between the first and the last answer."
    )


def finances_sentence(food_unchanged_percent, other_unchanged_percent) -> str:
    """Whether finances moved little on the two-point rule: both money items unchanged for at least
    :data:`MOVED_LITTLE_PERCENT` percent of their patients; otherwise says which moved; unknown when a share
    is not shown."""
    food, other = known(food_unchanged_percent), known(other_unchanged_percent)
    if food is None or other is None:
        return "How far finances moved on the two-point rule cannot be told from the shares this edition shows."
    little = [share >= MOVED_LITTLE_PERCENT for share in (food, other)]
    if all(little):
        return "Finances moved little on the two-point rule."
    if not any(little):
        return "On the two-point rule, more than one patient in three moved on each money item."
    moved = "money for food" if not little[0] else "money for other expenses"
    return f"On the two-point rule, more than one patient in three moved on {moved}."


def same_way_words(food_unchanged_percent, other_unchanged_percent) -> str:
    """How money for other expenses compares with money for food: "behaved in much the same way" when the
    unchanged shares lie within :data:`SAME_WAY_POINTS` percentage points, "changed for more patients" or
    "changed for fewer patients" otherwise, "changed as follows" when a share is not shown."""
    food, other = known(food_unchanged_percent), known(other_unchanged_percent)
    if food is None or other is None:
        return "changed as follows"
    if abs(food - other) <= SAME_WAY_POINTS:
        return "behaved in much the same way"
    return "changed for more patients" if other < food else "changed for fewer patients"


def same_pattern_sentence(first: tuple, second: tuple, subject: str = "Offending") -> str:
    """Whether ``second`` (improved, worsened percent) followed the pattern of ``first``: the same direction
    of the net change (more improved than worsened, fewer, or as many). Unknown when a share is not shown:
    the sentence then names the subject without a comparison."""
    values = [v for v in (known(v) for v in (*first, *second)) if v is not None]
    if len(values) < 4:
        return f"{subject} was measured in the same way."
    direction = [np.sign(round(values[0] - values[1], 9)), np.sign(round(values[2] - values[3], 9))]
    if direction[0] == direction[1]:
        return f"{subject} followed the same pattern."
    return f"{subject} followed a different pattern."


def days_lead(improved_percent, worsened_percent, reduction_days, substance: str = "heroin") -> str:
    """The sentence that introduces the days of use: they "tell the same story" when the mean reduction in
    days has the direction of the net change in frequent use (more improved than worsened and fewer days,
    or the reverse), "point the other way" when not, and only introduce the figures when a value is not
    shown or either change is zero."""
    improved, worsened, reduction = known(improved_percent), known(worsened_percent), known(reduction_days)
    if improved is None or worsened is None or reduction is None or improved == worsened or reduction == 0:
        return f"The number of days of {substance} use gives the finer detail."
    if (improved > worsened) == (reduction > 0):
        return f"The number of days of {substance} use tells the same story in finer detail."
    return f"The number of days of {substance} use points the other way."


def mean_change_words(reduction_days, decimals: int = 1) -> str:
    """The mean individual change in days as words: "a mean reduction of 9.6 days", "a mean increase of
    1.2 days", "no mean change", or "a mean change that is not shown (–)" for a marker."""
    from analysis.presentation import formats

    reduction = known(reduction_days)
    if reduction is None:
        return f"a mean change that is not shown ({reduction_days if isinstance(reduction_days, str) else formats.NOT_AVAILABLE})"
    if formats.number(abs(reduction), decimals) == formats.number(0, decimals):
        return "no mean change"
    return (
        f"a mean {'reduction' if reduction > 0 else 'increase'} of {formats.number(abs(reduction), decimals)} "
        f"{'day' if formats.number(abs(reduction), decimals) == '1' else 'days'}"
    )


def hardly_moved_sentence(unchanged: dict, days: dict) -> str:
    """Which substances "hardly moved": the status of at least :data:`HARDLY_MOVED_PERCENT` percent of the
    patients unchanged and, where shown, the mean days at the first and last answer within
    :data:`HARDLY_MOVED_DAYS` of each other. ``unchanged`` maps a substance's name ("cocaine") to its
    unchanged percent, ``days`` to its (first, last) mean days. A substance without a shown share is left out."""
    verdict = {}
    for name, share in unchanged.items():
        share = known(share)
        if share is None:
            continue
        first, last = (known(v) for v in days.get(name, (None, None)))
        steady_days = first is None or last is None or abs(last - first) < HARDLY_MOVED_DAYS
        verdict[name] = share >= HARDLY_MOVED_PERCENT and steady_days
    if not verdict:
        return (
            "How far the use of "
            + " and ".join(unchanged)
            + " changed cannot be told from the shares this edition shows."
        )
    steady = [n for n, v in verdict.items() if v]
    moved = [n for n, v in verdict.items() if not v]
    if not moved:
        sentence = " and ".join(steady) + " hardly moved."
    elif not steady:
        sentence = " and ".join(moved) + " moved more than a little."
    else:
        sentence = f"{steady[0]} hardly moved; {moved[0]} moved more."
    return sentence[0].upper() + sentence[1:]


# ------------------------------------------------------------------ counts protected across the editions of a year
#
# The editions of one year (both clinics, Oslo, Bergen) show the same tables, and both clinics = Oslo + Bergen cell
# by cell: each table of counts is protected jointly with its siblings (analysis.presentation.linked_suppression), and what the
# page says or draws from a table rests on the table as shown.

#: The three change cells of a first-to-last comparison, in the order of Supplementary Table A.
CHANGES = ("positive_to_negative", "negative_to_positive", "no_change")


def is_hidden(value) -> bool:
    """Whether a value of a protected table is a marker ("<5", "–", "n/a") rather than a number."""
    return isinstance(value, str)


def as_numbers(shown: pd.DataFrame, columns) -> pd.DataFrame:
    """A protected table ready for a chart: in ``columns`` every marker becomes NaN (no bar, no point, no
    tooltip value), the numbers stay."""
    out = shown.copy()
    for column in columns:
        if out[column].map(is_hidden).any():  # a column without a marker (the published edition) stays as it is
            out[column] = pd.to_numeric(
                out[column].map(lambda v: np.nan if is_hidden(v) else v), errors="coerce"
            ).astype(float)
    return out


def self_report_cells(transition_frame: pd.DataFrame, bad_first: pd.DataFrame) -> pd.DataFrame:
    """Every count of patients behind Supplementary Table A and the shares of section 6.4, one row per cell.

    Columns: variable, part, cell, n, n_patients, percent. Part "change": the three cells of :data:`CHANGES` of
    each variable of ``transition_frame`` (:func:`transitions`), which add up to its ``n_patients``; part
    "first": the patients in the bad and in the good state at their first answer (``bad_first``,
    :func:`bad_at_first`), which add up to the same ``n_patients``. ``percent`` is ``n`` of ``n_patients``
    (NaN when there are none). The rows are the same, in the same order, for every cohort."""
    rows = []
    for r in transition_frame.itertuples(index=False):
        for change in CHANGES:
            rows.append(
                {
                    "variable": r.variable,
                    "part": "change",
                    "cell": change,
                    "n": int(getattr(r, f"{change}_n")),
                    "n_patients": int(r.n_patients),
                }
            )
    for r in bad_first.itertuples(index=False):
        for cell, n in (("bad", int(r.bad_n)), ("good", int(r.n_patients) - int(r.bad_n))):
            rows.append(
                {"variable": r.variable, "part": "first", "cell": cell, "n": n, "n_patients": int(r.n_patients)}
            )
    out = pd.DataFrame(rows, columns=["variable", "part", "cell", "n", "n_patients"])
    out["percent"] = [100 * n / t if t else np.nan for n, t in zip(out["n"], out["n_patients"])]
    return out


def cohort_self_report_cells(cohort) -> pd.DataFrame:
    """:func:`self_report_cells` of a cohort (the ``compute`` of :func:`analysis.presentation.linked_suppression.protect_linked`)."""
    questionnaires, episodes = cohort.questionnaires, cohort.episodes
    return self_report_cells(transitions(questionnaires, episodes), bad_at_first(questionnaires, episodes))


def cohort_days_patients(cohort) -> pd.DataFrame:
    """The patients of every days-of-use row of a cohort (:func:`days_of_use`; columns variable, n_patients): the
    ``compute`` of :func:`analysis.presentation.linked_suppression.protect_linked`."""
    return days_of_use(cohort.questionnaires, cohort.episodes)[["variable", "n_patients"]]


def cohort_hunger_distribution(cohort) -> pd.DataFrame:
    """:func:`hunger_distribution` of a cohort (the ``compute`` of
    :func:`analysis.presentation.linked_suppression.protect_linked`)."""
    return hunger_distribution(cohort.questionnaires)


def tie_totals(shown: pd.DataFrame, groups, total: str, threshold: int | None) -> pd.DataFrame:
    """Withhold a total wherever another row shows the same total hidden: the groups of ``groups`` that share a
    first key (the change and the first-state cells of one variable) count the same patients, so their totals
    are one number and must be shown alike. A small total keeps its "<5" only when it is "<5" everywhere."""
    if threshold is None:
        return shown
    out = shown.astype({total: object})
    key = groups[0] if isinstance(groups, (list, tuple)) else groups
    for _, index in out.groupby(key, sort=False).groups.items():
        values = list(out.loc[index, total])
        markers = {v for v in values if is_hidden(v)}
        if markers:
            from analysis.presentation import disclosure

            marker = (
                disclosure.small_marker(threshold)
                if markers == {disclosure.small_marker(threshold)}
                else disclosure.WITHHELD
            )
            out.loc[index, total] = marker
    return out


def shown_transitions(shown_cells: pd.DataFrame, transition_frame: pd.DataFrame) -> pd.DataFrame:
    """The transition table (:func:`transitions` layout) a page may chart, from the protected cells of
    :func:`self_report_cells`: a variable with a hidden change cell loses its three counts and shares (a stack
    with a gap would mislead), and its ``n_patients`` is NaN where the protected total is hidden. Counts as
    floats."""
    changes = shown_cells[shown_cells["part"] == "change"]
    hidden_variables = set(changes.loc[changes["n"].map(is_hidden), "variable"])
    hidden_totals = set(changes.loc[changes["n_patients"].map(is_hidden), "variable"])
    out = transition_frame.copy()
    drop = out["variable"].isin(hidden_variables)
    for change in CHANGES:
        out[f"{change}_n"] = out[f"{change}_n"].astype(float).where(~drop)
        out[f"{change}_percent"] = out[f"{change}_percent"].astype(float).where(~drop)
    out["n_patients"] = out["n_patients"].astype(float).where(~out["variable"].isin(hidden_totals))
    return out


def shown_patients(
    shown_cells: pd.DataFrame,
    days_shown: pd.DataFrame,
    transition_frame: pd.DataFrame,
    days_frame: pd.DataFrame,
    threshold: int | None,
) -> pd.Series:
    """The number of patients of every row of Supplementary Table A as shown (variable -> number or marker).

    ``shown_cells``: the protected :func:`self_report_cells` (its ``n_patients``); ``days_shown``: the protected
    ``variable, n_patients`` of :func:`days_of_use`. A days-of-use row and the frequent-use row of the same
    substance count the same patients (the day item answered twice): where the two numbers are equal and either
    is withheld, both are, so that one cannot give the other away."""
    from analysis.presentation import disclosure

    out = shown_cells.drop_duplicates("variable").set_index("variable")["n_patients"].astype(object)
    days = days_shown.set_index("variable")["n_patients"].astype(object)
    out = pd.concat([out, days])
    if threshold is None:
        return out
    true = pd.concat(
        [transition_frame.set_index("variable")["n_patients"], days_frame.set_index("variable")["n_patients"]]
    )
    for substance in REPORTED_SUBSTANCES:
        pair = [f"frequent_{substance}", f"days_{substance}"]
        if not all(v in out.index for v in pair) or true[pair[0]] != true[pair[1]]:
            continue
        markers = {out[v] for v in pair if is_hidden(out[v])}
        if markers:
            small = disclosure.small_marker(threshold)
            marker = (
                small if markers == {small} and disclosure.is_small(true[pair[0]], threshold) else disclosure.WITHHELD
            )
            out[pair] = marker
    return out


def count_share_text(n, percent) -> str:
    """A cell "n (x%)" of a protected table: the marker alone when the count is hidden, "n (–)" when only the
    share is (its total is withheld), "n (n/a)" without a share."""
    if is_hidden(n):
        return n
    if is_hidden(percent):
        return f"{int(n)} ({percent})"
    if pd.isna(percent):
        return f"{int(n)} (n/a)"
    return f"{int(n)} ({percent:.0f}%)"


def shown_extreme(true: pd.Series, shown: pd.Series, *, largest: bool = False):
    """The smallest (``largest``: the largest) of the counts ``true`` as a protected table shows them (``shown``,
    on the same index): the number, or the marker of its row when that row's count is withheld, so that a
    sentence "from 12 to 40 patients" does not give a withheld count back."""
    row = true.idxmax() if largest else true.idxmin()
    return shown[row] if is_hidden(shown[row]) else int(true[row])


#: The cells of :func:`threshold_line_cells`: the first answer (frequent or not) and the change to the last.
LINE_CELLS = (
    ("first", "frequent"),
    ("first", "other"),
    ("change", "improved"),
    ("change", "worsened"),
    ("change", "unchanged"),
)


def threshold_line_cells(
    questionnaires: pd.DataFrame, episodes: pd.DataFrame, cut: int, substance: str = "heroin"
) -> pd.DataFrame:
    """Frequent use of ``substance`` redefined as more than ``cut`` of the previous 30 days, from each patient's
    first and last answer to its day item (:func:`first_and_last`): the patients frequent and not at the first
    answer (part "first"), and those who improved (frequent, then not), worsened (the reverse) or stayed in their
    category (part "change"). Each part adds up to ``n_patients``, the patients of :func:`days_of_use`'s row of
    the substance. Columns part, cell, n, n_patients, percent; the rows of :data:`LINE_CELLS` for every cohort."""
    dated = with_months(questionnaires, episodes)
    pairs = first_and_last(dated, dated[f"{substance}_days_30d"])
    first, last = pairs["first"].astype(float) > cut, pairs["last"].astype(float) > cut
    total = int(len(pairs))
    counts = {
        "frequent": int(first.sum()),
        "other": int((~first).sum()),
        "improved": int((first & ~last).sum()),
        "worsened": int((~first & last).sum()),
        "unchanged": int((first == last).sum()),
    }
    out = pd.DataFrame(
        [{"part": part, "cell": cell, "n": counts[cell], "n_patients": total} for part, cell in LINE_CELLS]
    )
    out["percent"] = [100 * n / total if total else np.nan for n in out["n"]]
    return out


# --- two lines for frequent use, protected together (exercise 6.4.3) ------------------------------------------

#: Bands of days of use in the previous 30 days: at most :data:`FREQUENT_DAYS`, from FREQUENT_DAYS + 1 to the
#: stricter line, above the stricter line.
DAY_BANDS = ("at_most_12", "between_lines", "above_line")


def _band_rows(*pairs: tuple[int, int]) -> list[int]:
    """Row positions of :func:`two_lines_cells` for (first band, last band) pairs (0, 1, 2 as in :data:`DAY_BANDS`)."""
    return [3 * first + last for first, last in pairs]


_ALL = [(f, la) for f in range(3) for la in range(3)]
#: The counts of the two lines as sums of the rows of :func:`two_lines_cells` (the patients of each line frequent
#: and not at their first answer, and those who improved, worsened or stayed in their category), and the patients
#: between the lines at their first and at their last answer, which the two lines set side by side give back.
TWO_LINES_SUMS = {
    "patients": [_band_rows(*_ALL)],
    "frequent_12": [_band_rows(*[(f, la) for f, la in _ALL if f >= 1])],
    "other_12": [_band_rows(*[(f, la) for f, la in _ALL if f == 0])],
    "improved_12": [_band_rows((1, 0), (2, 0))],
    "worsened_12": [_band_rows((0, 1), (0, 2))],
    "unchanged_12": [_band_rows((0, 0), (1, 1), (1, 2), (2, 1), (2, 2))],
    "frequent_line": [_band_rows(*[(f, la) for f, la in _ALL if f == 2])],
    "other_line": [_band_rows(*[(f, la) for f, la in _ALL if f <= 1])],
    "improved_line": [_band_rows((2, 0), (2, 1))],
    "worsened_line": [_band_rows((0, 2), (1, 2))],
    "unchanged_line": [_band_rows((0, 0), (0, 1), (1, 0), (1, 1), (2, 2))],
    "between_first": [_band_rows((1, 0), (1, 1), (1, 2))],
    "between_last": [_band_rows((0, 1), (1, 1), (2, 1))],
}
#: The counts of the page's own line: Supplementary Table A shows them (as its own protection decides), so the
#: stricter line is protected as if the reader knew every one of them.
TWO_LINES_KNOWN = ("patients", "frequent_12", "other_12", "improved_12", "worsened_12", "unchanged_12")


def two_lines_cells(
    questionnaires: pd.DataFrame, episodes: pd.DataFrame, cut: int, substance: str = "heroin"
) -> pd.DataFrame:
    """The patients of :func:`threshold_line_cells` by band of days of use (:data:`DAY_BANDS`: at most
    :data:`FREQUENT_DAYS`, up to ``cut``, above ``cut``) at their first and at their last answer: nine rows, first
    band by last band, columns first, last, n. Every count of frequent use at the page's line and at the line
    ``cut`` is a sum of these rows (:data:`TWO_LINES_SUMS`), so protecting the nine with those sums protects the
    two lines together: no count of one line set against the other gives back a small count."""
    dated = with_months(questionnaires, episodes)
    pairs = first_and_last(dated, dated[f"{substance}_days_30d"])

    def band(days: pd.Series) -> pd.Series:
        days = days.astype(float)
        return (days > FREQUENT_DAYS).astype(int) + (days > cut).astype(int)

    counts = pd.crosstab(band(pairs["first"]), band(pairs["last"])).reindex(
        index=range(3), columns=range(3), fill_value=0
    )
    return pd.DataFrame([{"first": DAY_BANDS[f], "last": DAY_BANDS[la], "n": int(counts.loc[f, la])} for f, la in _ALL])


def stricter_line_counts(page, cut: int) -> dict[str, object]:
    """The counts of frequent heroin use at the line ``cut`` (more than ``cut`` of the previous 30 days) as an
    edition may show them beside the page's own line: ``frequent_line``, ``other_line``, ``improved_line``,
    ``worsened_line``, ``unchanged_line`` (and the other margins of :data:`TWO_LINES_SUMS`), each a number or its
    marker. The nine counts of :func:`two_lines_cells` are protected with these sums jointly with the other
    editions of the year (:func:`analysis.presentation.linked_suppression.protect_linked_sums`), the page's own line taken as
    known (:data:`TWO_LINES_KNOWN`), so that neither line set against the other nor against a sibling edition
    gives back a count from 1 to threshold - 1 (such as the patients between the two lines). ``page`` is an
    :class:`analysis.presentation.edition.Page`; in the published edition every count is a number."""
    from analysis.presentation import linked_suppression

    def cells_of(cohort) -> pd.DataFrame:
        return two_lines_cells(cohort.questionnaires, cohort.episodes, cut)

    _, margins = linked_suppression.protect_linked_sums(
        page,
        cells_of,
        sums=TWO_LINES_SUMS,
        known=TWO_LINES_KNOWN,
    )
    return margins


# --- Appendix 3: Supplementary Table A as the page shows it ---------------------------------------------------

#: Why a computed value differs from the report when nothing else explains it.
CALIBRATION_NOTE = "The synthetic cohort does not reproduce this figure; see `python -m synthetic --check`."
#: The report's polysubstance row has its two change columns swapped: each computed cell is compared with the
#: printed cell of the other column.
TABLE_A_SWAPPED = {
    "sta_frequent_polysubstance_positive_to_negative_n": "sta_frequent_polysubstance_negative_to_positive_n",
    "sta_frequent_polysubstance_positive_to_negative_percent": "sta_frequent_polysubstance_negative_to_positive_percent",
    "sta_frequent_polysubstance_negative_to_positive_n": "sta_frequent_polysubstance_positive_to_negative_n",
    "sta_frequent_polysubstance_negative_to_positive_percent": "sta_frequent_polysubstance_positive_to_negative_percent",
}
#: Printed shares that their own count does not give (the errata appendix): key -> (count key, patients key).
TABLE_A_OWN_COUNT = {
    "sta_money_food_negative_to_positive_percent": (
        "sta_money_food_negative_to_positive_n",
        "sta_money_food_n_patients",
    ),
    "sta_victim_of_crime_negative_to_positive_percent": (
        "sta_victim_of_crime_negative_to_positive_n",
        "sta_victim_of_crime_n_patients",
    ),
}
#: A substance's frequent-use row and its days-of-use row count the same patients at the same times by
#: definition, but the report prints different numbers for them: each cell and its twin in the other row.
TABLE_A_PAIRED = {
    f"sta_{kind}_{substance}_{cell}": f"sta_{other}_{substance}_{cell}"
    for substance in ("heroin", "cocaine", "benzodiazepine")
    for cell in ("n_patients", "first_measurement_months", "last_measurement_months")
    for kind, other in (("frequent", "days"), ("days", "frequent"))
}
TABLE_A_PAIR_NOTE = (
    "By the report's definitions this substance's frequent-use row and days-of-use row count the same "
    "patients at the same times, but it prints different patients or timings for them; one computation "
    "cannot match both rows (see the errata appendix)."
)
#: The glue name of the words of each share of Supplementary Table A ("12%", or a marker alone).
TABLE_A_TEXT_KEYS = {
    "sta_frequent_benzodiazepine_negative_to_positive_percent": "sta_frequent_benzodiazepine_negative_to_positive_percent_text",
    "sta_frequent_benzodiazepine_no_change_percent": "sta_frequent_benzodiazepine_no_change_percent_text",
    "sta_frequent_benzodiazepine_positive_to_negative_percent": "sta_frequent_benzodiazepine_positive_to_negative_percent_text",
    "sta_frequent_cocaine_negative_to_positive_percent": "sta_frequent_cocaine_negative_to_positive_percent_text",
    "sta_frequent_cocaine_no_change_percent": "sta_frequent_cocaine_no_change_percent_text",
    "sta_frequent_cocaine_positive_to_negative_percent": "sta_frequent_cocaine_positive_to_negative_percent_text",
    "sta_frequent_heroin_negative_to_positive_percent": "sta_frequent_heroin_negative_to_positive_percent_text",
    "sta_frequent_heroin_no_change_percent": "sta_frequent_heroin_no_change_percent_text",
    "sta_frequent_heroin_positive_to_negative_percent": "sta_frequent_heroin_positive_to_negative_percent_text",
    "sta_frequent_polysubstance_negative_to_positive_percent": "sta_frequent_polysubstance_negative_to_positive_percent_text",
    "sta_frequent_polysubstance_no_change_percent": "sta_frequent_polysubstance_no_change_percent_text",
    "sta_frequent_polysubstance_positive_to_negative_percent": "sta_frequent_polysubstance_positive_to_negative_percent_text",
    "sta_money_food_negative_to_positive_percent": "sta_money_food_negative_to_positive_percent_text",
    "sta_money_food_no_change_percent": "sta_money_food_no_change_percent_text",
    "sta_money_food_positive_to_negative_percent": "sta_money_food_positive_to_negative_percent_text",
    "sta_money_other_negative_to_positive_percent": "sta_money_other_negative_to_positive_percent_text",
    "sta_money_other_no_change_percent": "sta_money_other_no_change_percent_text",
    "sta_money_other_positive_to_negative_percent": "sta_money_other_positive_to_negative_percent_text",
    "sta_occupation_negative_to_positive_percent": "sta_occupation_negative_to_positive_percent_text",
    "sta_occupation_no_change_percent": "sta_occupation_no_change_percent_text",
    "sta_occupation_positive_to_negative_percent": "sta_occupation_positive_to_negative_percent_text",
    "sta_perpetrator_of_crime_negative_to_positive_percent": "sta_perpetrator_of_crime_negative_to_positive_percent_text",
    "sta_perpetrator_of_crime_no_change_percent": "sta_perpetrator_of_crime_no_change_percent_text",
    "sta_perpetrator_of_crime_positive_to_negative_percent": "sta_perpetrator_of_crime_positive_to_negative_percent_text",
    "sta_stable_living_negative_to_positive_percent": "sta_stable_living_negative_to_positive_percent_text",
    "sta_stable_living_no_change_percent": "sta_stable_living_no_change_percent_text",
    "sta_stable_living_positive_to_negative_percent": "sta_stable_living_positive_to_negative_percent_text",
    "sta_victim_of_crime_negative_to_positive_percent": "sta_victim_of_crime_negative_to_positive_percent_text",
    "sta_victim_of_crime_no_change_percent": "sta_victim_of_crime_no_change_percent_text",
    "sta_victim_of_crime_positive_to_negative_percent": "sta_victim_of_crime_positive_to_negative_percent_text",
}


def table_a_note(key: str, values: pd.Series, published: pd.DataFrame) -> str | None:
    """Why the computed cell ``key`` of Supplementary Table A (``values``: every cell by key) differs from the
    report's print (``published``: the ledger): the swapped columns, a share its own count does not give, two
    rows the report gives different patients, or calibration; None when it matches."""
    from analysis.presentation.scorecard import within_precision

    value, entry = values[key], published.loc[key]
    if within_precision(value, entry.value, entry.precision):
        return None
    if key in TABLE_A_SWAPPED:
        other = published.loc[TABLE_A_SWAPPED[key]]
        note = (
            f"The report prints this row's two change columns the wrong way round; the cell this computed value "
            f"belongs to is printed under the other heading as {other.printed} (see the errata appendix)."
        )
        if within_precision(value, other.value, entry.precision):
            return note
        if key.endswith("_percent"):  # the other cell's print may itself differ from its own count's share
            count_key = TABLE_A_SWAPPED[key][: -len("percent")] + "n"
            count, n = (float(published.loc[k, "value"]) for k in (count_key, "sta_frequent_polysubstance_n_patients"))
            if within_precision(value, 100 * count / n, entry.precision):
                return (
                    note
                    + f" That print is not what its own count gives either: {count:.0f} of {n:.0f} is {100 * count / n:.1f}%."
                )
        return note + " " + CALIBRATION_NOTE
    substance = next(
        (
            s
            for s in ("heroin", "cocaine", "benzodiazepine")
            if key.startswith((f"sta_frequent_{s}_", f"sta_days_{s}_"))
        ),
        None,
    )
    if substance:
        own, other = ("frequent", "days") if key.startswith("sta_frequent_") else ("days", "frequent")
        other_n = float(published.loc[f"sta_{other}_{substance}_n_patients", "value"])
        computed_n = values[f"sta_{own}_{substance}_n_patients"]
        if key in TABLE_A_PAIRED and within_precision(
            value, published.loc[TABLE_A_PAIRED[key], "value"], entry.precision
        ):
            return TABLE_A_PAIR_NOTE
        if key not in TABLE_A_PAIRED and computed_n == other_n != float(
            published.loc[f"sta_{own}_{substance}_n_patients", "value"]
        ):
            return TABLE_A_PAIR_NOTE + " This edition's row has the other row's number of patients."
        if key in TABLE_A_PAIRED:
            return TABLE_A_PAIR_NOTE + " " + CALIBRATION_NOTE
    if key in TABLE_A_OWN_COUNT:
        count, n = (float(published.loc[k, "value"]) for k in TABLE_A_OWN_COUNT[key])
        if within_precision(value, 100 * count / n, entry.precision):
            return (
                f"The report prints {entry.printed}, but its own count, {count:.0f} of {n:.0f} patients, "
                f"is {100 * count / n:.1f}%; see the errata appendix."
            )
    return CALIBRATION_NOTE


def statistics_frame(rows: list[dict]) -> pd.DataFrame:
    """A tidy frame of statistics for :meth:`analysis.presentation.scorecard.Card.glue_statistics` from one dict per glued
    name, every column kept as given (an int stays an int)."""
    columns = ["key", "value", "shown", "of", "suppress", "note", "frequency"]
    return pd.DataFrame({c: pd.Series([row.get(c) for row in rows], dtype=object) for c in columns})


def own_count_row(key: str, shown) -> dict:
    """A count of the edition's own (not a ledger key) as a protected table shows it: the number, or its marker."""
    return {"key": key, "value": float("nan") if is_hidden(shown) else int(shown), "shown": shown, "frequency": True}


def appendix_table_a(page) -> dict:
    """Supplementary Table A of Appendix 3 for the edition of ``page`` (:class:`analysis.presentation.edition.Page`).

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: every cell under the ledger key
    of ``data/published/supp_table_a_self_reported_measures.csv``, as the protected table shows it and with its
    note where it differs from the print; the fewest and most patients of a row, ``a3_sta_n_min`` and
    ``a3_sta_n_max``; the sentences ``a3_direction_report_note`` and ``a3_poly_report_note``) and
    ``tab-a3-supp-a`` (the table, styled).

    In a rerun the counts (the three changes of a variable, which add up to its patients, and the patients bad
    and good at their first answer) are protected jointly with the same table of the other editions of the year,
    so that no hidden count can be worked out by subtraction, within the table or as both clinics less one clinic;
    a share is withheld with its count or its total, and the means of a variable whose number of patients is
    withheld go with it."""
    from analysis.data.published import published_table
    from analysis.presentation import disclosure
    from analysis.presentation.linked_suppression import protect_linked

    cohort, sdc, published = page.cohort, page.sdc, page.published
    transitions_ = transitions(cohort.questionnaires, cohort.episodes)
    days = days_of_use(cohort.questionnaires, cohort.episodes)
    keyed = published_table("supp_table_a_self_reported_measures")[["variable", "statistic", "key"]]
    cells = supplementary_table_a(transitions_, days).merge(
        keyed, on=["variable", "statistic"], how="left", validate="one_to_one"
    )
    if cells["key"].isna().any():
        raise ValueError("a computed cell of Supplementary Table A has no ledger key")
    values = cells.set_index("key")["value"]

    shown_cells = tie_totals(
        protect_linked(
            page,
            cohort_self_report_cells,
            count="n",
            groups=["variable", "part"],
            total="n_patients",
            derived=["percent"],
        ),
        ["variable", "part"],
        "n_patients",
        sdc,
    )
    change = shown_cells[shown_cells["part"] == "change"].set_index(["variable", "cell"])
    days_shown = protect_linked(page, cohort_days_patients, count="n_patients")
    # a days-of-use row counts the patients of the frequent-use row of its substance: one number, shown alike
    patients_shown = shown_patients(shown_cells, days_shown, transitions_, days, sdc)
    patients = (
        pd.concat([transitions_, days])[["variable", "n_patients"]]
        .drop_duplicates("variable")
        .set_index("variable")["n_patients"]
    )

    rows = []
    for variable, statistic, key in cells[["variable", "statistic", "key"]].itertuples(index=False):
        row = {"key": key, "value": values[key], "note": table_a_note(key, values, published)}
        if statistic == "n_patients":
            row["shown"] = patients_shown[variable]
        elif statistic.removesuffix("_n") in CHANGES:
            row["shown"] = change.loc[(variable, statistic.removesuffix("_n")), "n"]
        elif statistic.endswith("_percent") and statistic.removesuffix("_percent") in CHANGES:
            row["shown"] = change.loc[(variable, statistic.removesuffix("_percent")), "percent"]
        else:  # a mean (months, days) or SD over the variable's patients
            row |= {"of": [patients[variable]], "suppress": is_hidden(patients_shown[variable])}
        rows.append(row)
    # the smallest and the largest number of patients, as the table shows them (the marker where that row's is withheld)
    shown_in_order = patients_shown.reindex(patients.index)
    rows.append(own_count_row("a3_sta_n_min", shown_extreme(patients, shown_in_order)))
    rows.append(own_count_row("a3_sta_n_max", shown_extreme(patients, shown_in_order, largest=True)))
    rows.append(
        {
            "key": "a3_direction_report_note",
            "value": (
                "Read that way, the headings hold in every row the report's text describes, with one exception: in the row for "
                "frequent polysubstance use the two columns are printed the wrong way round (see {doc}`appendix_errata`). This "
                "edition computes every row with one definition, positive to negative meaning *worsened*, and says below which "
                "printed cells that moves."
                if page.edition.published
                else "This edition computes every row with that definition, positive to negative meaning *worsened*."
            ),
        }
    )
    rows.append(
        {
            "key": "a3_poly_report_note",
            "value": (
                "The report prints these two cells in each other's columns; its text has them the right way round. The comparison "
                "at the end of this page therefore sets each computed cell of that row against the printed cell of the other "
                "column, as its note says."
                if page.edition.published
                else ""
            ),
        }
    )

    display = table_a_display(transitions_, days)
    if sdc is not None:
        display = display.astype(object)
        variables = list(transitions_["variable"]) + list(days["variable"])
        change_columns = ["Change from positive to negative", "Change from negative to positive", "No change"]
        for i, variable in enumerate(variables):
            display.loc[i, "N patients"] = patients_shown[variable]
            if is_hidden(patients_shown[variable]) or patients[variable] == 0:
                mark = disclosure.WITHHELD if patients[variable] else disclosure.NOT_ENOUGH_DATA
                display.loc[i, ["First meas.*", "Last meas.*", *change_columns]] = mark
            if i < len(transitions_):
                for kind, column in zip(CHANGES, change_columns):
                    cell = change.loc[(variable, kind)]
                    display.loc[i, column] = count_share_text(cell["n"], cell["percent"])
    return {
        "statistics": statistics_frame(rows),
        "tab-a3-supp-a": display.style.hide(axis="index").set_table_attributes('class="hatbook-table"'),
    }


#: Shares the prose writes with one decimal (the rest with none).
ONE_DECIMAL_SHARES = {"app3_dam_am_only_1m_pct", "app3_dam_pm_only_1m_pct"}


def unit_texts(card, text_keys: dict) -> dict[str, str]:
    """The words of glued shares and doses as the reader sees them, by glue name (``text_keys``: statistic key ->
    glue name of its words): "12%" or "1,200 mg" (shares ending in ``_pct`` or ``_percent``, doses in ``_mg``), or
    a marker alone ("–", "<5", "n/a"), never a marker with a unit after it. ``card`` holds the glued values."""
    from analysis.presentation import formats
    from analysis.presentation.scorecard import shown_value

    texts = {}
    for key, name in text_keys.items():
        shown = shown_value(card, key)
        if key.endswith(("_pct", "_percent")):
            texts[name] = formats.percent(shown, 1 if key in ONE_DECIMAL_SHARES else 0)
        else:
            texts[name] = shown if isinstance(shown, str) else f"{formats.number(shown)} mg"
    return texts


# --- hunger over the first year (section 6.4) as the page shows it ---------------------------------------------

#: The answers at each time point of the hunger question.
HUNGER_ANSWER_KEYS = {
    0: "o64_hunger_answers_0m",
    3: "o64_hunger_answers_3m",
    6: "o64_hunger_answers_6m",
    12: "o64_hunger_answers_12m",
}
#: The share answering "often" at the time points the report states (ledger keys), and the words of each.
HUNGER_REPORTED = {
    0: ("s6_4_hunger_often_baseline_pct", "s6_4_hunger_often_baseline_pct_text"),
    12: ("s6_4_hunger_often_12m_pct", "s6_4_hunger_often_12m_pct_text"),
}
#: The share answering "often" at the other time points (the edition's own), and the words of each.
HUNGER_OWN = {
    3: ("o64_hunger_often_3m_pct", "o64_hunger_often_3m_pct_text"),
    6: ("o64_hunger_often_6m_pct", "o64_hunger_often_6m_pct_text"),
}


def hunger_section(page, text_values: pd.Series) -> dict:
    """Hunger over the first year of treatment for the edition of ``page`` (:class:`analysis.presentation.edition.Page`):
    the answers in each category at baseline and 3, 6 and 12 months (:func:`hunger_distribution`), which add up
    to the time point's answers, protected jointly with the same table of the other editions of the year (both
    clinics = Oslo + Bergen); the shares in the text, the numbers answering and Figure 6.G rest on the table as
    shown. ``text_values`` holds the section's ledger statistics by key (:func:`text_statistics`).

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: the shares answering "often", the
    answers at each time point, and the sentences ``o64_hunger_peak_words`` and ``o64_hunger_course``), ``words``: the
    words of the four shares ("12%" or a marker alone) under the names of :data:`HUNGER_REPORTED` and
    :data:`HUNGER_OWN`, and ``fig-6g``. A share the report states and this edition does not match carries the calibration note."""
    from analysis.presentation import disclosure, formats
    from analysis.presentation.linked_suppression import protect_linked
    from analysis.presentation.scorecard import plain_number, within_precision

    card, sdc, published = page.card, page.sdc, page.published
    hunger = hunger_distribution(page.cohort.questionnaires)
    shown = protect_linked(
        page,
        cohort_hunger_distribution,
        count="n",
        groups="wave",
        total="denominator",
        derived=["percent"],
    )
    often = hunger[hunger["hunger"] == "often"].set_index("wave")
    often_shown = shown[shown["hunger"] == "often"].set_index("wave")

    def number(value):
        return plain_number(value) if not disclosure.is_missing(value) else float("nan")

    rows, texts = [], {}
    for wave, (key, text_key) in HUNGER_REPORTED.items():
        entry, marker = published.loc[key], often_shown.loc[wave, "percent"]
        matches = within_precision(text_values[key], float(entry.value), float(entry.precision))
        rows.append(
            {"key": key, "value": text_values[key], "shown": marker, "note": None if matches else CALIBRATION_NOTE}
        )
        seen = marker if sdc is not None and isinstance(marker, str) else card.disclose(number(text_values[key]))
        texts[text_key] = formats.percent(seen, 0)
    for wave, key in HUNGER_ANSWER_KEYS.items():
        answers = often_shown.loc[wave, "denominator"]
        rows.append(own_count_row(key, answers if is_hidden(answers) else int(often.loc[wave, "denominator"])))
    for wave, (key, text_key) in HUNGER_OWN.items():
        value, marker = often.loc[wave, "percent"], often_shown.loc[wave, "percent"]
        rows.append({"key": key, "value": value, "shown": marker})
        texts[text_key] = formats.percent(marker if is_hidden(marker) else number(value), 0)

    shown_often = pd.Series(
        {w: often.loc[w, "percent"] if sdc is None else often_shown.loc[w, "percent"] for w in (0, 3, 6, 12)}
    )
    shown_often = pd.to_numeric(shown_often, errors="coerce").dropna()
    peak_at_3m = len(shown_often) == 4 and shown_often.idxmax() == 3
    # the report's reading of its own figures is set beside this edition's only in the published edition
    rows.append(
        {
            "key": "o64_hunger_peak_words",
            "value": (
                "The report describes the three-month figure as a short-lived peak, "
                + ("and so it is in these data." if peak_at_3m else "which these data do not show.")
            )
            if page.edition.published
            else "The shares at each time point are in Figure 6.G.",
        }
    )
    if 0 in shown_often.index and 12 in shown_often.index:
        course = (
            "In other words, frequent hunger did not recede over the first year in treatment."
            if shown_often[12] >= shown_often[0]
            else "Frequent hunger was less common at twelve months than at baseline."
        )
    else:
        course = (
            "Whether frequent hunger receded over the first year cannot be told from the shares this edition shows."
        )
    rows.append({"key": "o64_hunger_course", "value": course})
    return {
        "statistics": statistics_frame(rows),
        "words": texts,
        "fig-6g": hunger_chart(as_numbers(shown, ["n", "denominator", "percent"])),
    }


#: The names the hunger model's odds ratios are glued under, by term and column of :func:`hunger_model`'s table.
HUNGER_MODEL_KEYS = {
    ("food_access", "odds_ratio"): "o64_gee_food_odds_ratio",
    ("food_access", "ci_low"): "o64_gee_food_ci_low",
    ("food_access", "ci_high"): "o64_gee_food_ci_high",
    ("food_access", "p_value"): "o64_gee_food_p_value",
    ("amphetamine", "odds_ratio"): "o64_gee_amph_odds_ratio",
    ("amphetamine", "ci_low"): "o64_gee_amph_ci_low",
    ("amphetamine", "ci_high"): "o64_gee_amph_ci_high",
    ("amphetamine", "p_value"): "o64_gee_amph_p_value",
}


def hunger_model_section(page, model_frame: pd.DataFrame, sizes_shown: pd.Series) -> dict:
    """The GEE of frequent hunger (:func:`hunger_model`) on ``model_frame`` (:func:`hunger_model_frame`) for the
    edition of ``page`` (:class:`analysis.presentation.edition.Page`); ``sizes_shown``: the page's sample sizes as protected
    jointly with the other editions of the year (:func:`analysis.sections.outcome_samples.sample_sizes`), of which the model's numbers of
    questionnaires and patients are shown. The report's conclusions: access to food protects (odds ratio below 1),
    amphetamine use does not (above 1), each significant at the 5% level.

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: ``o64_gee_n_obs``,
    ``o64_gee_n_patients``, the odds ratios of :data:`HUNGER_MODEL_KEYS`, and the sentences ``o64_gee_agreement`` and
    ``o64_gee_result``), ``tab-6-4-hunger-gee`` (the table, or the placeholder saying why it is not estimable), and
    the fitted table ``gee`` (None where not estimable) with its ``reason``."""
    from analysis.presentation import disclosure, formats

    # None, with the reason, when this edition's data cannot support the model (too few patients, a covariate
    # seen in one or two patients, a fit that fails, does not converge or separates)
    gee, reason = hunger_model(model_frame, page.sdc)
    columns = ["odds_ratio", "ci_low", "ci_high", "p_value"]
    terms = (
        gee.set_index("term")
        if gee is not None
        else pd.DataFrame(index=["food_access", "amphetamine"], columns=columns, dtype=float)
    )
    rows = [
        {"key": "o64_gee_n_obs", "value": len(model_frame), "shown": sizes_shown["gee_obs"], "frequency": True},
        {
            "key": "o64_gee_n_patients",
            "value": model_frame["patient_id"].nunique(),
            "shown": sizes_shown["gee_patients"],
            "frequency": True,
        },
    ]
    rows += [{"key": key, "value": float(terms.loc[term, column])} for (term, column), key in HUNGER_MODEL_KEYS.items()]

    def agrees(term: str, protective: bool) -> bool:
        row = terms.loc[term]
        return bool((row.odds_ratio < 1) == protective and row.p_value < 0.05)

    both = gee is not None and agrees("food_access", True) and agrees("amphetamine", False)
    rows.append(
        {
            "key": "o64_gee_agreement",
            "value": (
                "Both conclusions agree with the report's: the direction of each odds ratio and its significance at the 5% level."
                if both
                else "The model does not reproduce both of the report's conclusions (direction and significance at the "
                "5% level)."
                if gee is not None
                else f"In this edition the model is not estimable: {reason}."
            ),
        }
    )
    rows.append(
        {
            "key": "o64_gee_result",
            "value": (
                "Here the odds ratio for access to food often or always is "
                + odds_ratio_text(*terms.loc["food_access", columns])
                + ", and for any amphetamine use "
                + odds_ratio_text(*terms.loc["amphetamine", columns])
                + "; an odds ratio below 1 means less frequent hunger."
                if gee is not None
                else "No odds ratio is shown here."
            ),
        }
    )
    table = (
        pd.DataFrame(
            {
                "Term": gee["label"],
                "Odds ratio": gee["odds_ratio"],
                "95% CI": [f"{lo:.2f}–{hi:.2f}" for lo, hi in zip(gee["ci_low"], gee["ci_high"], strict=True)],
                "p": gee["p_value"],
            }
        )
        .style.hide(axis="index")
        .format({"Odds ratio": "{:.2f}", "p": formats.p_value})
        .set_table_attributes('class="hatbook-table"')
        if gee is not None
        else disclosure.placeholder_chart(f"The hunger model: not estimable in this edition ({reason}).")
    )
    return {"statistics": statistics_frame(rows), "tab-6-4-hunger-gee": table, "gee": gee, "reason": reason}
