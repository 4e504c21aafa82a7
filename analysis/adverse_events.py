"""Serious adverse events (section 6.5): who had them, how many, of which kind, and how often.

Every function takes the tidy tables of :class:`analysis.cohort.Cohort` (``adverse_events``,
``patients``, ``episodes``) and returns a tidy frame or plain numbers. Counts per patient are an
intermediate step only: the page shows patients grouped into bands, never one patient's row.

Definitions used throughout:

* the **cohort** is every row of ``patients`` (everyone who started HAT and consented); a patient
  without any row in ``adverse_events`` had no serious adverse event;
* an **event** is one row of ``adverse_events``, whatever its category;
* **time in treatment** is the sum over all episodes of the calendar days from admission to discharge,
  both days counted (the patient-days of :mod:`analysis.retention` and Table 6.C); an episode without a
  discharge date is still running on ``data_end`` (the last day the data cover). A year is 365.25 days.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from analysis import charts, linked_suppression, retention, schema


#: Reader-facing names of the event categories, in the order of :data:`analysis.schema.ADVERSE_EVENT_CATEGORIES`.
CATEGORY_LABELS = {
    "nonfatal_overdose": "Non-fatal overdose",
    "seizure": "Seizure",
    "allergic_reaction": "Allergic reaction",
    "violence_acting_out_threats_self_harm": "Violence, acting out, threats or self-harm",
    "other": "Other",
}

#: Bands of events per patient for the distribution (lower, upper inclusive; None: no upper bound).
EVENT_BANDS = (
    ("none", 0, 0),
    ("1", 1, 1),
    ("2–5", 2, 5),
    ("6–10", 6, 10),
    ("11–20", 11, 20),
    ("21–30", 21, 30),
    ("over 30", 31, None),
)


def events_per_patient(adverse_events: pd.DataFrame, patients: pd.DataFrame) -> pd.Series:
    """Number of events of every patient of the cohort (0 for a patient with none), indexed by patient_id.

    Events of a patient who is not in ``patients`` are not counted (the loader refuses such data).
    """
    counts = adverse_events.groupby("patient_id").size()
    return counts.reindex(pd.Index(patients["patient_id"], name="patient_id"), fill_value=0).astype(int).rename("events")


def patients_with_events(adverse_events: pd.DataFrame, patients: pd.DataFrame) -> dict:
    """Patients with at least one event, as a count and a share of the cohort, and the total events.

    Returns ``patients`` (cohort size: rows of ``patients``), ``with_event`` (patients with at least
    one row in ``adverse_events``), ``percent`` (``100 * with_event / patients``) and ``events``
    (rows of ``adverse_events`` that belong to a cohort patient).
    """
    counts = events_per_patient(adverse_events, patients)
    cohort = len(counts)
    with_event = int((counts > 0).sum())
    return {
        "patients": cohort,
        "with_event": with_event,
        "percent": 100 * with_event / cohort if cohort else float("nan"),
        "events": int(counts.sum()),
    }


def events_by_category(adverse_events: pd.DataFrame) -> pd.DataFrame:
    """Events by category: ``category``, ``label``, ``n`` and ``percent`` of all events.

    One row per category of the schema, in the schema's order, also when a category has no event;
    ``percent`` is ``100 * n / (all events)``.
    """
    counts = adverse_events["category"].value_counts().reindex(list(schema.ADVERSE_EVENT_CATEGORIES), fill_value=0)
    total = int(counts.sum())
    return pd.DataFrame(
        {
            "category": counts.index,
            "label": [CATEGORY_LABELS[c] for c in counts.index],
            "n": counts.to_numpy().astype(int),
            "percent": 100 * counts.to_numpy() / total if total else float("nan"),
        }
    )


def event_distribution(adverse_events: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Patients of the cohort by number of events, in the bands of :data:`EVENT_BANDS`.

    Columns ``band`` (e.g. ``"11–20"``), ``lower``, ``upper`` (inclusive, empty for the open band),
    ``patients`` (count) and ``percent`` (of the cohort's patients).
    """
    counts = events_per_patient(adverse_events, patients)
    rows = []
    for band, lower, upper in EVENT_BANDS:
        inside = (counts >= lower) & ((counts <= upper) if upper is not None else True)
        rows.append({"band": band, "lower": lower, "upper": upper, "patients": int(inside.sum())})
    frame = pd.DataFrame(rows)
    frame["upper"] = frame["upper"].astype("Int64")
    frame["percent"] = 100 * frame["patients"] / len(counts) if len(counts) else float("nan")
    return frame


def heavy_event_patients(adverse_events: pd.DataFrame, patients: pd.DataFrame) -> dict:
    """Patients with many events: more than 10, and of those, 21 to 30 and more than 30.

    The report says that of the patients with more than 10 events "two had more than 20, and another
    two had more than 30". This edition reads "another two" as two *further* patients, so the first
    two are those with 21 to 30 events (``21_to_30``) and the others those with 31 or more
    (``over_30``); ``over_10`` counts patients with 11 or more events.
    """
    counts = events_per_patient(adverse_events, patients)
    return {
        "over_10": int((counts > 10).sum()),
        "21_to_30": int(((counts > 20) & (counts <= 30)).sum()),
        "over_30": int((counts > 30).sum()),
    }


def event_rates(adverse_events: pd.DataFrame, episodes: pd.DataFrame, data_end) -> pd.DataFrame:
    """Events per 100 person-years in treatment, overall and by category (new in this edition).

    Columns ``category`` (``"all"`` first, then the schema's categories), ``label``, ``events``,
    ``person_years`` (the whole cohort's time in treatment, :func:`analysis.retention.person_years`) and
    ``rate_per_100_py`` = ``100 * events / person_years``.
    """
    person_years = retention.person_years(episodes, data_end)
    by_category = events_by_category(adverse_events)
    frame = pd.concat(
        [
            pd.DataFrame({"category": ["all"], "label": ["All events"], "n": [int(by_category["n"].sum())]}),
            by_category[["category", "label", "n"]],
        ],
        ignore_index=True,
    ).rename(columns={"n": "events"})
    frame["person_years"] = person_years
    frame["rate_per_100_py"] = 100 * frame["events"] / person_years if person_years > 0 else float("nan")
    return frame


def ledger_statistics(adverse_events: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Every statistic of section 6.5 under its ledger key: columns ``key`` and ``value``.

    Percentages of patients use the cohort's patients as denominator, percentages of events all events.
    """
    overall = patients_with_events(adverse_events, patients)
    heavy = heavy_event_patients(adverse_events, patients)
    rows = [
        ("s6_5_patients_with_sae_percent", overall["percent"]),
        ("s6_5_patients_with_sae_n", overall["with_event"]),
        ("s6_5_sae_total", overall["events"]),
        ("s6_5_patients_over_10_events_n", heavy["over_10"]),
        ("s6_5_patients_over_20_events_n", heavy["21_to_30"]),
        ("s6_5_patients_over_30_events_n", heavy["over_30"]),
    ]
    for row in events_by_category(adverse_events).itertuples():
        rows.append((f"s6_5_sae_{row.category}_percent", row.percent))
        rows.append((f"s6_5_sae_{row.category}_n", row.n))
    return pd.DataFrame(rows, columns=["key", "value"])


def category_chart(by_category: pd.DataFrame) -> alt.Chart:
    """Horizontal bars: events by category (frame of :func:`events_by_category`), largest first."""
    tooltip = ["label", "n", alt.Tooltip("percent:Q", format=".1f", title="% of events")]
    return charts.ranked_bars(by_category, "n", "label", "Serious adverse events", tooltip)


def distribution_chart(distribution: pd.DataFrame) -> alt.Chart:
    """Bars: patients by number of serious adverse events (frame of :func:`event_distribution`)."""
    order = list(distribution["band"])
    return (
        alt.Chart(distribution)
        .mark_bar(color="#1f5fa8")
        .encode(
            x=alt.X("band:N", sort=order, title="Serious adverse events per patient", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("patients:Q", title="Patients"),
            tooltip=["band", "patients", alt.Tooltip("percent:Q", format=".1f", title="% of patients")],
        )
        .properties(width=480, height=260)
    )


# --- sentences chosen by the data ------------------------------------------------------------------------

#: How a category is named inside a sentence, and the noun of one event of it.
CATEGORY_WORDS = {
    "nonfatal_overdose": "non-fatal overdoses",
    "seizure": "seizures",
    "allergic_reaction": "allergic reactions",
    "violence_acting_out_threats_self_harm": "incidents of violence, acting out, threats or self-harm",
    "other": "other serious events",
}


def share_sentence(with_event, patients, data_end_text: str) -> str:
    """The sentence that says how many of the cohort had an event, in words chosen from the share.

    ``with_event`` and ``patients`` are the counts as the page may show them: a string (a disclosure
    marker such as "<5" or "–") means the share cannot be put in words without giving the count away, so
    the sentence says it is withheld. The words come from :func:`analysis.formats.majority_words`."""
    from analysis import formats

    if isinstance(with_event, str) or isinstance(patients, str):
        return ("How many patients had a serious adverse event is withheld in this edition: the counts are too "
                "small to show.")
    if not patients:
        return "The data hold no patients, so no share of patients with an event can be given."
    words = formats.majority_words(with_event / patients)
    return (f"{words[0].upper()}{words[1:]} of the patients had at least one serious adverse event between their "
            f"admission and {data_end_text}.")


def categories_sentence(by_category: pd.DataFrame, hidden: pd.Series | None = None) -> str:
    """The categories of :func:`events_by_category` in words, largest first, with counts and shares.

    ``hidden`` (a boolean Series aligned with ``by_category``) names the categories a rerun withholds: they
    are named at the end without their counts or rank (their rank among the others would narrow them down).
    Ties keep the schema's order. With no events at all the sentence says so."""
    from analysis import formats

    hidden = pd.Series(False, index=by_category.index) if hidden is None else hidden.reindex(by_category.index).fillna(False)
    total = int(by_category["n"].sum())
    if total == 0:
        return "No serious adverse event was recorded in these data."
    shown = by_category[~hidden.astype(bool)].sort_values("n", ascending=False, kind="stable")
    parts = [f"{CATEGORY_WORDS[row.category]} ({formats.number(row.n)}, {formats.percent(row.percent)} of all events)"
             for row in shown.itertuples()]
    if len(parts) > 1:
        sentence = "From the most to the least frequent: " + ", ".join(parts[:-1]) + " and " + parts[-1] + "."
    elif parts:
        sentence = parts[0][0].upper() + parts[0][1:] + "."
    else:
        sentence = ""
    withheld = [CATEGORY_WORDS[c] for c in by_category.loc[hidden.astype(bool), "category"]]
    if withheld:
        names = withheld[0] if len(withheld) == 1 else ", ".join(withheld[:-1]) + " and " + withheld[-1]
        sentence += f" The counts of {names} are withheld in this edition (too few to show, or they would give a small count away)."
    return sentence.strip()


# --- the tables as an edition with disclosure control shows them -----------------------------------------


def categories_of(cohort) -> pd.DataFrame:
    """:func:`events_by_category` of a cohort (:class:`analysis.cohort.Cohort`): the table the editions of
    one year protect together (every category, in the schema's order, for every cohort)."""
    return events_by_category(cohort.adverse_events)


def distribution_of(cohort) -> pd.DataFrame:
    """:func:`event_distribution` of a cohort: the bands of events per patient, the same rows for every cohort."""
    return event_distribution(cohort.adverse_events, cohort.patients)


#: The counts of patients the page states that add up from the bands of :func:`event_distribution` (row
#: positions of :data:`EVENT_BANDS`): the cohort (shown everywhere), the patients with at least one event,
#: and those with more than ten; the bands 21-30 and over 30 are cells of their own.
DISTRIBUTION_SUMS = {
    "patients": [range(0, len(EVENT_BANDS))],
    "with_event": [range(1, len(EVENT_BANDS))],
    "over_10": [[4, 5, 6]],
}


#: Which rows of a protected table are hidden, and a protected table as chart data (see analysis.linked_suppression).
hidden_rows = linked_suppression.hidden_rows
chart_data = linked_suppression.chart_values


def category_table(shown: pd.DataFrame, rates: pd.DataFrame, total_events, all_rate) -> pd.DataFrame:
    """New table 6.5.1 as a reader sees it: each category's events, share of all events and events per 100
    person-years, then the line of all events. ``shown`` is :func:`events_by_category` as protected (markers
    for hidden counts, the share withheld with them); ``rates`` the frame of :func:`event_rates`; a
    category's rate is withheld where its count is (the person-years are shown, so the rate gives the count
    back). ``total_events`` and ``all_rate`` are the last line's values as the page shows them."""
    from analysis import disclosure

    hidden = hidden_rows(shown, "n")
    rate = shown[["category"]].merge(rates[["category", "rate_per_100_py"]], on="category", how="left")["rate_per_100_py"]

    def one_decimal(value):
        if isinstance(value, str):
            return value
        return disclosure.NOT_ENOUGH_DATA if disclosure.is_missing(value) else round(float(value), 1)

    body = pd.DataFrame(
        {
            "Category": shown["label"].to_numpy(),
            "Events": shown["n"].to_numpy(),
            "Share of all events (%)": [one_decimal(v) for v in shown["percent"]],
            "Events per 100 person-years (new)": [disclosure.WITHHELD if h else one_decimal(r)
                                                  for h, r in zip(hidden, rate)],
        }
    )
    total = pd.DataFrame(
        {
            "Category": ["All serious adverse events"],
            "Events": [total_events],
            "Share of all events (%)": [100.0 if not isinstance(total_events, str) and total_events else
                                        (disclosure.WITHHELD if isinstance(total_events, str) else disclosure.NOT_ENOUGH_DATA)],
            "Events per 100 person-years (new)": [one_decimal(all_rate)],
        }
    )
    return pd.concat([body, total], ignore_index=True)
