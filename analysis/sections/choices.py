"""The analytic choices of report section 6.7 that its text leaves open, as data, and the specification curve.

Each :class:`Choice` names one decision an analyst must take to compute the annualised ICER of continued
treatment against unplanned termination (Table 6.G) or its net incremental cost (Table 6.K), its options,
the report's wording {cite}`eide2026` (paraphrased) that allows each option, and the edition's default: the reading that
reproduces the print (ICER 845,087 NOK per QALY on the bundled cohort). The options:

* ``qaly_curve``: the utility curve joins every pair of consecutive EQ-5D-5L answers (``interpolated``,
  default), or only answers inside the same treatment episode, so that no QALYs are counted across a gap
  between episodes (``within_episodes``).
* ``annual_cost``: programme cost per year of follow-up (``follow_up``, default) or per year actually in
  HAT, treatment days / year length (``in_treatment``).
* ``annual_qalys``: QALYs per year of follow-up (``follow_up``, default) or per year the answers span
  (``measured_span``, the mean utility).
* ``averaging``: the mean over patients of their yearly values (``mean_of_ratios``, default) or the
  group's summed cost and QALYs over its summed years (``ratio_of_means``).
* ``year_days``: the length of a year in days for every annualisation, 365.25 (default) or 365 (the
  report's gross cost per patient-year uses 365).
* ``value_set``: the EQ-5D-5L value set, Norway's (default) or another of
  :func:`analysis.sections.quality_of_life.value_set_names`.
* ``offset_sample`` (net incremental cost only): the health-service offsets over all patients of the
  trajectory groups (``all``, default), only those with registry data after admission (``after``), or
  only the cost-utility sample (``qaly_sample``).

:func:`specification_curve` computes every combination of the options (the offsets sample crossed only
with the net cost).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.units import DAYS_PER_YEAR, TREATMENT_DAYS_PER_YEAR
from analysis.methods import cea
from analysis.sections import cost_utility as cu
from analysis.sections import health_services as hs
from analysis.sections import quality_of_life

#: The year length of the follow-up and QALY columns of :func:`analysis.sections.cost_utility.patient_table`.
BASE_YEAR_DAYS = cea.DAYS_PER_YEAR


@dataclass(frozen=True)
class Choice:
    """One open analytic choice: ``name`` (the keyword argument), ``label`` (for a reader), ``options``
    (option -> short description), ``words`` (option -> the report's words that allow it) and ``default``
    (the option that reproduces the print)."""

    name: str
    label: str
    options: dict
    words: dict
    default: object


CHOICES = (
    Choice(
        "qaly_curve",
        "QALY curve",
        {"interpolated": "joined across gaps", "within_episodes": "within episodes only"},
        {
            "interpolated": "QALYs are the area under the utility curve between the measurements",
            "within_episodes": "QALYs accumulated during treatment",
        },
        "interpolated",
    ),
    Choice(
        "annual_cost",
        "Cost per year of",
        {"follow_up": "follow-up", "in_treatment": "time in HAT"},
        {
            "follow_up": "annualised over each patient's observation period",
            "in_treatment": "the cost per patient-year of treatment",
        },
        "follow_up",
    ),
    Choice(
        "annual_qalys",
        "QALYs per year of",
        {"follow_up": "follow-up", "measured_span": "span of the answers"},
        {
            "follow_up": "annualised over each patient's observation period",
            "measured_span": "QALYs per year between the first and last EQ-5D-5L measurement",
        },
        "follow_up",
    ),
    Choice(
        "averaging",
        "Averaging",
        {"mean_of_ratios": "mean of patients' yearly values", "ratio_of_means": "group totals over group years"},
        {
            "mean_of_ratios": "mean annual cost and QALYs per patient",
            "ratio_of_means": "costs and QALYs per patient-year in each group",
        },
        "mean_of_ratios",
    ),
    Choice(
        "year_days",
        "Days in a year",
        {DAYS_PER_YEAR: "365.25", float(TREATMENT_DAYS_PER_YEAR): "365"},
        {
            DAYS_PER_YEAR: "QALYs in years of 365.25 days",
            float(TREATMENT_DAYS_PER_YEAR): "a patient-year of 365 treatment days",
        },
        DAYS_PER_YEAR,
    ),
    Choice(
        "value_set",
        "EQ-5D-5L value set",
        {"Norway": "Norway", "England": "England", "Denmark": "Denmark", "Sweden": "Sweden"},
        {
            "Norway": "valued with the Norwegian value set",
            "England": "no value set other than Norway's is named",
            "Denmark": "no value set other than Norway's is named",
            "Sweden": "no value set other than Norway's is named",
        },
        "Norway",
    ),
    Choice(
        "offset_sample",
        "Offsets from",
        {"all": "all patients", "after": "patients with data after admission", "qaly_sample": "the QALY sample"},
        {
            "all": "differences in other health service costs between the groups",
            "after": "costs in the period after admission",
            "qaly_sample": "the patients of the cost-utility analysis",
        },
        "all",
    ),
)
BY_NAME = {c.name: c for c in CHOICES}
#: The choices that move the ICER (the offsets sample moves only the net incremental cost).
ICER_CHOICES = tuple(c.name for c in CHOICES if c.name != "offset_sample")


def defaults() -> dict:
    """The published reading: every choice at its default."""
    return {c.name: c.default for c in CHOICES}


def episode_qalys(
    questionnaires: pd.DataFrame, episodes: pd.DataFrame, data_end, values: pd.DataFrame | None = None
) -> pd.DataFrame:
    """QALYs of each patient with the utility curve drawn only inside treatment episodes: the trapezoid
    between two consecutive answers counts only when both fall in the same episode (admission to discharge,
    both days, an open episode to ``data_end``); a segment across a gap, or with an answer outside every
    episode, adds nothing. Time in years of 365.25 days. Returns ``patient_id``, ``qalys_within``."""
    answers = cu.utilities(questionnaires, values)
    spells = episodes.sort_values(["patient_id", "admission_date"], kind="stable").assign(
        episode=lambda d: d.groupby("patient_id").cumcount(),
        until=lambda d: d["discharge_date"].fillna(pd.Timestamp(data_end).normalize()),
    )
    joined = answers.reset_index().merge(
        spells[["patient_id", "admission_date", "until", "episode"]], on="patient_id", how="left"
    )
    inside = (joined["questionnaire_date"] >= joined["admission_date"]) & (
        joined["questionnaire_date"] <= joined["until"]
    )
    first = joined[inside].groupby("index")["episode"].min()
    answers = answers.assign(episode=first.reindex(answers.index).fillna(-1).to_numpy())
    answers = answers.groupby(["patient_id", "questionnaire_date"], as_index=False).agg(
        utility=("utility", "mean"), episode=("episode", "max")
    )
    rows = []
    for patient, one in answers.sort_values(["patient_id", "questionnaire_date"]).groupby("patient_id", sort=True):
        t = (one["questionnaire_date"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy() / BASE_YEAR_DAYS
        u, e = one["utility"].to_numpy(float), one["episode"].to_numpy()
        same = (e[1:] == e[:-1]) & (e[1:] >= 0)
        rows.append((patient, float(np.sum(np.where(same, np.diff(t) * (u[1:] + u[:-1]) / 2, 0.0)))))
    return pd.DataFrame(rows, columns=["patient_id", "qalys_within"])


def annual_values(
    sample: pd.DataFrame,
    *,
    qaly_curve="interpolated",
    annual_cost="follow_up",
    annual_qalys="follow_up",
    year_days=DAYS_PER_YEAR,
) -> pd.DataFrame:
    """The sample (:func:`analysis.sections.cost_utility.patient_table`, with ``qalys_within`` from
    :func:`episode_qalys` when ``qaly_curve="within_episodes"``) with ``qalys``, ``cost_years``,
    ``qaly_years``, ``annual_cost`` and ``annual_qalys`` set by the choices (see the module docstring).
    Years are of ``year_days`` days, QALYs in such years too."""
    scale = BASE_YEAR_DAYS / float(year_days)  # years of 365.25 days -> years of year_days
    qalys = sample["qalys_within"] if qaly_curve == "within_episodes" else sample["qalys"]
    cost_years = (
        sample["days"] / float(year_days) if annual_cost == "in_treatment" else sample["follow_up_years"] * scale
    )
    qaly_years = (sample["measured_years"] if annual_qalys == "measured_span" else sample["follow_up_years"]) * scale
    out = sample.assign(qalys=qalys * scale, cost_years=cost_years, qaly_years=qaly_years)
    out["annual_cost"] = out["cost"] / out["cost_years"].where(out["cost_years"] > 0)
    out["annual_qalys"] = out["qalys"] / out["qaly_years"].where(out["qaly_years"] > 0)
    return out


def comparison(values: pd.DataFrame, *, averaging="mean_of_ratios", comparator="unplanned") -> dict:
    """Continued against ``comparator`` on :func:`annual_values`: ``delta_cost``, ``delta_qaly``, ``icer``
    and ``status`` (:func:`analysis.methods.cea.comparison`). ``mean_of_ratios`` averages the patients' yearly
    values; ``ratio_of_means`` divides each group's summed cost (QALYs) by its summed years."""
    groups = values.groupby("group")
    if averaging == "ratio_of_means":
        sums = groups[["cost", "qalys", "cost_years", "qaly_years"]].sum()
        cost, qaly = sums["cost"] / sums["cost_years"], sums["qalys"] / sums["qaly_years"]
    else:
        cost, qaly = groups["annual_cost"].mean(), groups["annual_qalys"].mean()
    dc = float(cost.get(cu.CONTINUED, np.nan) - cost.get(comparator, np.nan))
    dq = float(qaly.get(cu.CONTINUED, np.nan) - qaly.get(comparator, np.nan))
    return {"delta_cost": dc, "delta_qaly": dq, **cea.comparison(dc, dq)}


def cost_utility(
    sample: pd.DataFrame,
    *,
    qaly_curve="interpolated",
    annual_cost="follow_up",
    annual_qalys="follow_up",
    averaging="mean_of_ratios",
    year_days=DAYS_PER_YEAR,
    comparator="unplanned",
) -> dict:
    """The annualised comparison of Table 6.G under the given choices (all defaults: the published reading)."""
    values = annual_values(
        sample, qaly_curve=qaly_curve, annual_cost=annual_cost, annual_qalys=annual_qalys, year_days=year_days
    )
    return comparison(values, averaging=averaging, comparator=comparator)


def offset_samples(periods: pd.DataFrame, sample_ids) -> dict[str, pd.DataFrame]:
    """The registry periods (:func:`analysis.sections.health_services.registry_periods`) each ``offset_sample``
    option uses: all, the patients with quarters after admission, the cost-utility sample's patients."""
    after = set(periods.loc[periods["period"] == "after", "patient_id"])
    return {
        "all": periods,
        "after": periods[periods["patient_id"].isin(after)],
        "qaly_sample": periods[periods["patient_id"].isin(set(sample_ids))],
    }


def net_offset(periods: pd.DataFrame, groups: pd.DataFrame, comparator="unplanned") -> float:
    """Specialist plus primary care offset of continued treatment against ``comparator`` (NOK per
    patient-year, :func:`analysis.sections.health_services.cost_offsets`)."""
    offsets = hs.cost_offsets(
        periods, groups, categories=(hs.SPECIALIST_TOTAL, hs.PRIMARY_TOTAL), comparisons=(comparator,)
    )
    return float(offsets["offset"].sum())


def offset_group_sizes(periods: pd.DataFrame, groups: pd.DataFrame, comparator="unplanned") -> int:
    """The smallest number of patients in any cell (group x period) the offset of ``comparator`` rests on."""
    data = periods.merge(groups, on="patient_id")
    data = data[data["group"].isin([cu.CONTINUED, comparator])]
    sizes = (
        data.groupby(["group", "period"])
        .size()
        .reindex(pd.MultiIndex.from_product([[cu.CONTINUED, comparator], ["before", "after"]]), fill_value=0)
    )
    return int(sizes.min())


def specification_curve(
    samples: dict,
    periods: pd.DataFrame | None = None,
    groups: pd.DataFrame | None = None,
    *,
    comparator="unplanned",
    min_offset_n: int = 1,
) -> pd.DataFrame:
    """Every combination of the options of :data:`CHOICES`, one row each.

    ``samples`` maps each value set name to its cost-utility sample with ``qalys_within`` (see
    :func:`samples_by_value_set`). ``periods`` and ``groups`` (registry periods and trajectory groups of the
    whole cohort) give the net incremental cost per offsets sample; an offsets sample with a cell below
    ``min_offset_n`` patients gives NaN. Returns one column per choice, ``delta_cost``, ``delta_qaly``,
    ``icer``, ``status``, ``net_delta_cost``, ``published`` (every choice at its default), sorted by ICER
    (specifications without one last)."""
    offsets = {}
    if periods is not None and groups is not None:
        ids = next(iter(samples.values()))["patient_id"]
        for name, part in offset_samples(periods, ids).items():
            enough = offset_group_sizes(part, groups, comparator) >= min_offset_n
            offsets[name] = net_offset(part, groups, comparator) if enough else np.nan
    names = [c for c in ICER_CHOICES]
    options = [list(BY_NAME[c].options) for c in names]
    rows = []
    for combo in itertools.product(*options):
        chosen = dict(zip(names, combo))
        sample = samples[chosen["value_set"]]
        result = cost_utility(sample, comparator=comparator, **{k: v for k, v in chosen.items() if k != "value_set"})
        for offset_name in BY_NAME["offset_sample"].options:
            net = result["delta_cost"] - offsets[offset_name] if offset_name in offsets else np.nan
            rows.append({**chosen, "offset_sample": offset_name, **result, "net_delta_cost": net})
    out = pd.DataFrame(rows)
    base = defaults()
    out["published"] = np.logical_and.reduce([out[c.name] == c.default for c in CHOICES])
    out["icer_published_offsets"] = out["offset_sample"] == base["offset_sample"]
    return out.sort_values(["icer", "net_delta_cost"], na_position="last").reset_index(drop=True)


def samples_by_value_set(cohort, accounts: pd.DataFrame, names=None) -> dict[str, pd.DataFrame]:
    """The cost-utility sample of ``cohort`` (:func:`analysis.sections.cost_utility.patient_table`) under each value
    set of ``names`` (default: all of :data:`CHOICES`'s ``value_set``), with ``qalys_within``."""
    names = list(BY_NAME["value_set"].options) if names is None else names
    out = {}
    for name in names:
        values = quality_of_life.value_set(country=name)
        sample = cu.patient_table(
            cohort.episodes, cohort.patients, cohort.questionnaires, cohort.data_end, accounts=accounts, values=values
        )
        within = episode_qalys(cohort.questionnaires, cohort.episodes, cohort.data_end, values)
        out[name] = sample.merge(within, on="patient_id", how="left").fillna({"qalys_within": 0.0})
    return out


def icer_curve(curve: pd.DataFrame) -> pd.DataFrame:
    """The ICER specifications of :func:`specification_curve` (offsets at their default; the offsets sample
    does not move the ICER), sorted by ICER, with ``rank`` from 1."""
    out = (
        curve[curve["icer_published_offsets"]]
        .sort_values(["icer", "delta_cost"], na_position="last")
        .reset_index(drop=True)
    )
    return out.assign(rank=np.arange(1, len(out) + 1))


def curve_summary(curve: pd.DataFrame, thresholds=(825_000.0, 479_000.0)) -> dict:
    """Range, median and shares of the ICER specifications (:func:`icer_curve`): ``n``, ``n_icer`` (with an
    ICER), ``icer_min``, ``icer_max``, ``icer_median`` (over those with an ICER), ``share_under_<t>`` (of all
    specifications; one without an ICER because continued treatment dominates counts as under, one that is
    dominated or less costly and less effective as not), ``statuses`` (status -> count), ``net_min``,
    ``net_max`` (net incremental cost over every row of ``curve``), ``net_negative`` (share below 0)."""
    icers = icer_curve(curve)
    finite = icers["icer"].dropna()
    out = {
        "n": len(icers),
        "n_icer": len(finite),
        "icer_min": float(finite.min()) if len(finite) else np.nan,
        "icer_max": float(finite.max()) if len(finite) else np.nan,
        "icer_median": float(finite.median()) if len(finite) else np.nan,
        "statuses": icers["status"].value_counts().to_dict(),
    }
    dominant = icers["status"] == cea.DOMINANT
    for t in thresholds:
        under = (icers["icer"] < t) | dominant
        out[f"share_under_{int(t)}"] = float(under.mean()) if len(icers) else np.nan
    net = curve["net_delta_cost"].dropna()
    out["icers"] = finite.to_numpy()
    out["n_net"] = len(net)
    out["net_min"] = float(net.min()) if len(net) else np.nan
    out["net_max"] = float(net.max()) if len(net) else np.nan
    out["net_negative"] = float((net < 0).mean()) if len(net) else np.nan
    return out


def curve_sentences(summary: dict, published_icer: float, severe: float = 825_000.0, other: float = 479_000.0) -> str:
    """The specification curve in words for a reader (:func:`curve_summary`), every number from the values
    (:mod:`analysis.presentation.formats`): how many specifications, the range and median of the ICER, the shares under
    ``severe`` and ``other`` NOK per QALY, where the published reading lies, whether the quadrant changes,
    and the range of the net incremental cost with the share below zero."""
    from analysis.presentation import formats

    n, n_icer = summary["n"], summary["n_icer"]
    text = (
        f"Crossing the open choices gives {formats.count_words(n, 'specification')}. "
        if n
        else "No specification could be computed. "
    )
    if n_icer:
        text += (
            f"Their ICERs run from {formats.nok(summary['icer_min'])} to {formats.nok(summary['icer_max'])} NOK per QALY "
            f"(median {formats.nok(summary['icer_median'])}). "
        )
        for t, label in ((severe, "the reference level for severe conditions"), (other, None)):
            share = summary[f"share_under_{int(t)}"]
            words = formats.share_words(share)
            text += (
                f"{words[0].upper() + words[1:]} of them ({formats.percent(100 * share)}) lie under {formats.nok(t)} NOK"
                + (f", {label}" if label else "")
                + ". "
            )
        if np.isfinite(published_icer):
            below = int((summary.get("icers", np.array([])) < published_icer).sum()) if "icers" in summary else None
            side = "below" if published_icer < severe else "above"
            text += f"The default reading, {formats.nok(published_icer)} NOK, lies {side} {formats.nok(severe)} NOK"
            text += (
                f", with {formats.count_words(below, 'specification')} giving a lower ICER. "
                if below is not None
                else ". "
            )
    statuses = {k: v for k, v in summary["statuses"].items() if k}
    if len(statuses) > 1 or (statuses and cea.MORE_COSTLY_MORE_EFFECTIVE not in statuses):
        parts = [f"*{k}* in {formats.count_words(v, 'specification')}" for k, v in statuses.items()]
        text += (
            "The quadrant changes with the choices: continued treatment is "
            + ", ".join(parts)
            + f"; only *{cea.MORE_COSTLY_MORE_EFFECTIVE}* has a meaningful ICER. "
        )
    elif statuses:
        text += "In every specification continued treatment costs more and gains more QALYs: the sign of the ICER does not change. "
    if np.isfinite(summary["net_min"]):
        text += (
            f"Net of the health-service offsets, the yearly extra cost runs from {formats.nok(summary['net_min'])} to "
            f"{formats.nok(summary['net_max'])} NOK; {formats.share_words(summary['net_negative'])} of the "
            f"{formats.number(summary['n_net'])} specifications crossed with the three offset samples "
            f"({formats.percent(100 * summary['net_negative'])}) make continued treatment cost-saving once the offsets are counted."
        )
    return text.strip()
