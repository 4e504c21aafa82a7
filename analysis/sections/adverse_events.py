"""Serious adverse events (section 6.5): who had them, how many, of which kind, and how often.

Every function takes the tidy tables of :class:`analysis.data.cohort.Cohort` (``adverse_events``,
``patients``, ``episodes``) and returns a tidy frame or plain numbers. Counts per patient are an
intermediate step only: the page shows patients grouped into bands, never one patient's row.

Definitions used throughout:

* the **cohort** is every row of ``patients`` (everyone who started HAT and consented); a patient
  without any row in ``adverse_events`` had no serious adverse event;
* an **event** is one row of ``adverse_events``, whatever its category;
* **time in treatment** is the sum over all episodes of the calendar days from admission to discharge,
  both days counted (the patient-days of :mod:`analysis.sections.retention` and Table 6.C); an episode without a
  discharge date is still running on ``data_end`` (the last day the data cover). A year is 365.25 days.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

from analysis.data import schema
from analysis.presentation import charts, disclosure, linked_suppression
from analysis.sections import retention

#: Reader-facing names of the event categories, in the order of :data:`analysis.data.schema.ADVERSE_EVENT_CATEGORIES`.
CATEGORY_LABELS = {
    "nonfatal_overdose": "Non-fatal overdose",
    "seizure": "Seizure",
    "allergic_reaction": "Allergic reaction",
    "violence_acting_out_threats_self_harm": "Violence, acting out, threats or self-harm",
    "other": "Other",
}

#: The ledger keys of each category's count of events and share of all events.
CATEGORY_KEYS = {
    "nonfatal_overdose": ("s6_5_sae_nonfatal_overdose_n", "s6_5_sae_nonfatal_overdose_percent"),
    "seizure": ("s6_5_sae_seizure_n", "s6_5_sae_seizure_percent"),
    "allergic_reaction": ("s6_5_sae_allergic_reaction_n", "s6_5_sae_allergic_reaction_percent"),
    "violence_acting_out_threats_self_harm": (
        "s6_5_sae_violence_acting_out_threats_self_harm_n",
        "s6_5_sae_violence_acting_out_threats_self_harm_percent",
    ),
    "other": ("s6_5_sae_other_n", "s6_5_sae_other_percent"),
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
    return (
        counts.reindex(pd.Index(patients["patient_id"], name="patient_id"), fill_value=0).astype(int).rename("events")
    )


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
    ``person_years`` (the whole cohort's time in treatment, :func:`analysis.sections.retention.person_years`) and
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
        count_key, percent_key = CATEGORY_KEYS[row.category]
        rows.append((percent_key, row.percent))
        rows.append((count_key, row.n))
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
    the sentence says it is withheld. The words come from :func:`analysis.presentation.formats.majority_words`."""
    from analysis.presentation import formats

    if isinstance(with_event, str) or isinstance(patients, str):
        return (
            "How many patients had a serious adverse event is withheld in this edition: the counts are too "
            "small to show."
        )
    if not patients:
        return "The data hold no patients, so no share of patients with an event can be given."
    words = formats.majority_words(with_event / patients)
    return (
        f"{words[0].upper()}{words[1:]} of the patients had at least one serious adverse event between their "
        f"admission and {data_end_text}."
    )


def categories_sentence(by_category: pd.DataFrame, hidden: pd.Series | None = None) -> str:
    """The categories of :func:`events_by_category` in words, largest first, with counts and shares.

    ``hidden`` (a boolean Series aligned with ``by_category``) names the categories a rerun withholds: they
    are named at the end without their counts or rank (their rank among the others would narrow them down).
    Ties keep the schema's order. With no events at all the sentence says so."""
    from analysis.presentation import formats

    hidden = (
        pd.Series(False, index=by_category.index) if hidden is None else hidden.reindex(by_category.index).fillna(False)
    )
    total = int(by_category["n"].sum())
    if total == 0:
        return "No serious adverse event was recorded in these data."
    shown = by_category[~hidden.astype(bool)].sort_values("n", ascending=False, kind="stable")
    parts = [
        f"{CATEGORY_WORDS[row.category]} ({formats.number(row.n)}, {formats.percent(row.percent)} of all events)"
        for row in shown.itertuples()
    ]
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
    """:func:`events_by_category` of a cohort (:class:`analysis.data.cohort.Cohort`): the table the editions of
    one year protect together (every category, in the schema's order, for every cohort)."""
    return events_by_category(cohort.adverse_events)


def distribution_of(cohort) -> pd.DataFrame:
    """:func:`event_distribution` of a cohort: the bands of events per patient, the same rows for every cohort."""
    return event_distribution(cohort.adverse_events, cohort.patients)


#: The counts of patients the page states that add up from the bands of :func:`event_distribution` (row
#: positions of :data:`EVENT_BANDS`): the cohort (shown everywhere), the patients with at least one event,
#: and those with more than ten; the bands 21-30 and over 30 are cells of their own.
DISTRIBUTION_SUMS: dict[str, list[range | list[int]]] = {
    "patients": [range(0, len(EVENT_BANDS))],
    "with_event": [range(1, len(EVENT_BANDS))],
    "over_10": [[4, 5, 6]],
}


#: Which rows of a protected table are hidden, and a protected table as chart data (see analysis.presentation.linked_suppression).
hidden_rows = linked_suppression.hidden_rows
chart_data = linked_suppression.chart_values


def category_table(shown: pd.DataFrame, rates: pd.DataFrame, total_events, all_rate) -> pd.DataFrame:
    """New table 6.5.1 as a reader sees it: each category's events, share of all events and events per 100
    person-years, then the line of all events. ``shown`` is :func:`events_by_category` as protected (markers
    for hidden counts, the share withheld with them); ``rates`` the frame of :func:`event_rates`; a
    category's rate is withheld where its count is (the person-years are shown, so the rate gives the count
    back). ``total_events`` and ``all_rate`` are the last line's values as the page shows them."""
    from analysis.presentation import disclosure

    hidden = hidden_rows(shown, "n")
    rate = shown[["category"]].merge(rates[["category", "rate_per_100_py"]], on="category", how="left")[
        "rate_per_100_py"
    ]

    def one_decimal(value):
        if isinstance(value, str):
            return value
        return disclosure.NOT_ENOUGH_DATA if disclosure.is_missing(value) else round(float(value), 1)

    body = pd.DataFrame(
        {
            "Category": shown["label"].to_numpy(),
            "Events": shown["n"].to_numpy(),
            "Share of all events (%)": [one_decimal(v) for v in shown["percent"]],
            "Events per 100 person-years (new)": [
                disclosure.WITHHELD if h else one_decimal(r) for h, r in zip(hidden, rate)
            ],
        }
    )
    total = pd.DataFrame(
        {
            "Category": ["All serious adverse events"],
            "Events": [total_events],
            "Share of all events (%)": [
                100.0
                if not isinstance(total_events, str) and total_events
                else (disclosure.WITHHELD if isinstance(total_events, str) else disclosure.NOT_ENOUGH_DATA)
            ],
            "Events per 100 person-years (new)": [one_decimal(all_rate)],
        }
    )
    return pd.concat([body, total], ignore_index=True)


# --- the page: its statistics, table and charts as an edition shows them ---------------------------------

#: Why a figure of the bundled synthetic cohort may differ from the report's print (shown only where it does).
COUNT_NOTE = (
    "The synthetic cohort does not reproduce this count; see the calibration report of `python -m synthetic --check`."
)
HEAVY_NOTE = "The synthetic cohort's tail of heavily affected patients differs from the report's; see `python -m synthetic --check`."
CATEGORY_NOTE = (
    "The synthetic cohort's mix of event categories differs from the report's; see `python -m synthetic --check`."
)

#: Said under the share of patients with an event where the page compares with the report: the report's
#: rounded share does not follow from its own two counts.
REPORT_SHARE_NOTE = (
    "The report prints this share as a rounded percentage that is a little higher than its own two counts "
    "allow; the note in the table at the end of the page and the errata appendix give the arithmetic."
)


@dataclass
class ShownTables:
    """The two tables of section 6.5 as an edition shows them: in a rerun protected together with the same
    tables of the other editions of its year (both clinics = Oslo + Bergen), unchanged in the published edition.

    ``distribution`` is :func:`event_distribution` with its counts as shown; ``sums`` the shown counts of
    :data:`DISTRIBUTION_SUMS` (``patients``, ``with_event``, ``over_10``), protected with the bands;
    ``categories`` is :func:`events_by_category` as shown (markers for hidden counts, shares withheld with them)."""

    distribution: pd.DataFrame
    sums: dict
    categories: pd.DataFrame


def shown_tables(page) -> ShownTables:
    """The tables of ``page`` (:class:`analysis.presentation.edition.Page`) as its edition shows them (see :class:`ShownTables`)."""
    distribution, sums = linked_suppression.protect_linked_sums(
        page, distribution_of, count="patients", sums=DISTRIBUTION_SUMS, known=["patients"], derived=["percent"]
    )
    categories = linked_suppression.protect_linked(page, categories_of, groups=[], derived=["percent"])
    return ShownTables(distribution, sums, categories)


def share_note(page) -> str:
    """Why the share of patients with an event may differ from the report's print: the report's share does
    not follow from its own count among its participants (errata check 'sae_patients_percent')."""
    overall = patients_with_events(page.cohort.adverse_events, page.cohort.patients)
    printed = page.published["printed"]
    return (
        f"{overall['with_event']} of {overall['patients']} patients is {overall['percent']:.1f}%. The report's "
        f"{printed['s6_5_patients_with_sae_percent']} does not follow from its own count of "
        f"{printed['s6_5_patients_with_sae_n']} among its {printed['s6_1_patients_participated_total']} participants "
        "(see the errata appendix, check 'sae_patients_percent'); this edition divides by the whole cohort."
    )


def section_statistics(page, shown: ShownTables) -> pd.DataFrame:
    """Every statistic and sentence of section 6.5 for :meth:`analysis.presentation.scorecard.Card.glue_statistics`.

    Columns ``key``, ``value``, ``shown`` (what the protected tables show for it in a rerun), ``of`` and
    ``suppress`` (what a rate rests on), ``frequency`` and ``note``. The counts of patients with an event and
    of the heavy bands are shown as :func:`shown_tables` shows them; the share of patients with an event is
    withheld with its count. ``ae_person_years`` is the cohort's time in treatment (:func:`event_rates`), and
    the rates are events per 100 person-years, a category's rate withheld where its count is."""
    cohort = page.cohort
    values = ledger_statistics(cohort.adverse_events, cohort.patients).set_index("key")["value"]
    overall = patients_with_events(cohort.adverse_events, cohort.patients)
    with_event = shown.sums["with_event"]
    bands = shown.distribution.set_index("band")["patients"]
    rows = [
        {"key": "ae_cohort_patients", "value": overall["patients"], "frequency": True},
        {
            "key": "s6_5_patients_with_sae_n",
            "value": values["s6_5_patients_with_sae_n"],
            "shown": with_event,
            "note": COUNT_NOTE,
        },
        {"key": "s6_5_sae_total", "value": values["s6_5_sae_total"], "note": COUNT_NOTE},
        {
            "key": "s6_5_patients_with_sae_percent",
            "value": values["s6_5_patients_with_sae_percent"],
            "shown": disclosure.WITHHELD if isinstance(with_event, str) else values["s6_5_patients_with_sae_percent"],
            "note": share_note(page),
        },
        {
            "key": "ae_share_sentence",
            "value": share_sentence(with_event, overall["patients"], page.edition.data_end_text),
        },
        # the report's share does not follow from its own counts: said only where the page compares with the report
        {"key": "ae_share_report_note", "value": REPORT_SHARE_NOTE if page.edition.published else ""},
        {
            "key": "s6_5_patients_over_10_events_n",
            "value": values["s6_5_patients_over_10_events_n"],
            "shown": shown.sums["over_10"],
            "note": HEAVY_NOTE,
        },
        {
            "key": "s6_5_patients_over_20_events_n",
            "value": values["s6_5_patients_over_20_events_n"],
            "shown": bands["21–30"],
            "note": HEAVY_NOTE,
        },
        {
            "key": "s6_5_patients_over_30_events_n",
            "value": values["s6_5_patients_over_30_events_n"],
            "shown": bands["over 30"],
            "note": HEAVY_NOTE,
        },
    ]
    by_category = events_by_category(cohort.adverse_events)
    for category, shown_row in zip(by_category["category"], shown.categories.itertuples()):
        count_key, percent_key = CATEGORY_KEYS[category]
        rows.append({"key": count_key, "value": values[count_key], "shown": shown_row.n, "note": CATEGORY_NOTE})
        rows.append(
            {"key": percent_key, "value": values[percent_key], "shown": shown_row.percent, "note": CATEGORY_NOTE}
        )
    rates = event_rates(cohort.adverse_events, cohort.episodes, cohort.data_end).set_index("category")
    hidden = hidden_rows(shown.categories, "n").set_axis(by_category["category"])
    rows += [
        {"key": "ae_person_years", "value": float(rates["person_years"].iloc[0])},
        {"key": "ae_rate_per_100_py", "value": float(rates.loc["all", "rate_per_100_py"]), "of": overall["events"]},
        {
            "key": "ae_overdose_rate_per_100_py",
            "value": float(rates.loc["nonfatal_overdose", "rate_per_100_py"]),
            "suppress": bool(hidden["nonfatal_overdose"]),
        },
        # the ranking in words, from the categories this edition shows (withheld ones named without their rank)
        {
            "key": "ae_categories_sentence",
            "value": categories_sentence(by_category, hidden.set_axis(by_category.index)),
        },
    ]
    return pd.DataFrame(rows, columns=["key", "value", "shown", "of", "suppress", "frequency", "note"])


def one_decimal_text(value):
    """A share or rate of the category table with one decimal; a rerun's marker stays as it is."""
    return f"{value:.1f}" if isinstance(value, (int, float)) else value


def category_table_styled(page, shown: ShownTables):
    """New table 6.5.1 (:func:`category_table`) as the page shows it: the line of all events with the total
    and its rate as the card discloses them, shares and rates with one decimal."""
    cohort, card = page.cohort, page.card
    rates = event_rates(cohort.adverse_events, cohort.episodes, cohort.data_end)
    total_events = int(events_by_category(cohort.adverse_events)["n"].sum())
    all_rate = float(rates.loc[rates["category"] == "all", "rate_per_100_py"].iloc[0])
    table = category_table(
        shown.categories, rates, card.disclose(total_events, frequency=True), card.disclose(all_rate, of=[total_events])
    )
    return (
        table.style.hide(axis="index")
        .format({"Share of all events (%)": one_decimal_text, "Events per 100 person-years (new)": one_decimal_text})
        .set_table_attributes('class="hatbook-table"')
    )
