"""Patient characteristics at admission (report section 6.2: Table 6.A, Figures 6.C-6.E).

Functions take the tidy tables ``patients`` and ``previous_oat`` of :class:`analysis.data.cohort.Cohort`.
Baseline questionnaire items may be empty (the patient did not answer): every share of an item is a
share of its *valid answers*, the patients with a non-empty value, and the number of valid answers is
returned with it. Percentages in Table 6.A are rounded to whole numbers half up, as the report prints
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from analysis.data.schema import CLINICS, EDUCATION, HOUSING, INCOME, OAT_END_REASONS, OAT_MEDICATIONS, SEXES
from analysis.presentation import disclosure, formats, linked_suppression
from analysis.presentation.charts import CLINIC_COLOURS

#: Table 6.A's rows in the report's order: item (a column of ``patients``), its label, and for a
#: categorical item its categories with labels; a yes/no item has one row for "yes".
TABLE_6A_ITEMS: tuple[tuple[str, str, tuple[tuple[str, str], ...] | None], ...] = (
    ("born_in_norway", "Born in Norway", None),
    (
        "housing",
        "Housing",
        (
            ("own_home", "Own home"),
            ("rented", "Rented housing"),
            ("temporary", "Temporary housing"),
            ("municipal_institution", "Municipal substance use institution / apartment"),
            ("street", "Street / outdoors / parking garage"),
            ("friends_family_partner", "Living with friends / family / partner"),
            ("other", "Other"),
        ),
    ),
    ("living_with_others", "Living with other people (yes)", None),
    ("unstable_housing_30d", "Unstable housing in the previous 30 days (yes)", None),
    (
        "education",
        "Highest education level",
        (
            ("primary_not_completed", "Did not complete primary school"),
            ("primary", "Primary school"),
            ("upper_secondary", "Upper secondary school"),
            ("higher", "Higher education (≤ 3 years / ≥ 4 years)"),
        ),
    ),
    ("reading_writing_difficulties", "Self-reported reading and writing difficulties (yes)", None),
    ("work_or_education", "Full-time or part-time job, or in education (yes)", None),
    ("previous_treatment", "Previous treatment (yes)", None),
    ("involuntary_discharge_previous_oat", "Involuntary discharge from previous OAT (yes)", None),
)
assert {c for _, _, cats in TABLE_6A_ITEMS if cats for c, _ in cats} == set(HOUSING) | set(EDUCATION)

INCOME_LABELS = {
    "disability_benefit": "Disability benefit",
    "social_assistance": "Social assistance",
    "work_assessment_allowance": "Work assessment allowance",
    "wages": "Wages",
    "pension": "Pension",
    "other": "Other",
    "none": "No income",
}
MEDICATION_LABELS = {
    "methadone": "Methadone",
    "buprenorphine": "Buprenorphine",
    "buprenorphine_naloxone": "Buprenorphine-naloxone",
    "depot_buprenorphine": "Depot buprenorphine",
    "slow_release_oral_morphine": "Slow-release oral morphine",
    "levomethadone": "Levomethadone",
    "other": "Other",
}
END_REASON_LABELS = {
    "own_choice_dissatisfied_with_medication": "Own choice: dissatisfied with the medication",
    "own_choice_side_effects": "Own choice: side effects",
    "own_choice_little_benefit": "Own choice: little benefit",
    "own_choice_other": "Own choice: other reason",
    "involuntary_discharge": "Involuntary discharge",
    "moved_or_transferred": "Moved or transferred",
    "still_on_medication": "Still on the medication",
    "other": "Other",
}
assert set(INCOME_LABELS) == set(INCOME) and set(MEDICATION_LABELS) == set(OAT_MEDICATIONS)
assert set(END_REASON_LABELS) == set(OAT_END_REASONS)


def percent_as_printed(n: int, n_valid: int) -> int | float:
    """100 * n / n_valid rounded to a whole number, halves up (how Table 6.A prints a share)."""
    if not n_valid:
        return np.nan
    return int(math.floor(100 * n / n_valid + 0.5))


def table_6a(patients: pd.DataFrame) -> pd.DataFrame:
    """Table 6.A: characteristics at admission, counted over each item's valid answers.

    One row per printed line: item, item_label, category (``yes`` for a yes/no item), category_label,
    n_valid (non-empty answers to the item), n (answers in the category), percent (100 * n / n_valid,
    rounded half up to a whole number as printed) and the ledger keys of the three numbers
    (key_n_valid, key_n, key_percent; ``t6a_<item>_...``).
    """
    rows = []
    for item, label, categories in TABLE_6A_ITEMS:
        answers = patients[item].dropna()
        n_valid = int(len(answers))
        if categories is None:
            n = int((answers.astype(bool)).sum())
            rows.append((item, label, "yes", "yes", n_valid, n, f"t6a_{item}_n", f"t6a_{item}_percent"))
        else:
            for category, category_label in categories:
                n = int((answers == category).sum())
                rows.append(
                    (
                        item,
                        label,
                        category,
                        category_label,
                        n_valid,
                        n,
                        f"t6a_{item}_{category}_n",
                        f"t6a_{item}_{category}_percent",
                    )
                )
    frame = pd.DataFrame(
        rows, columns=["item", "item_label", "category", "category_label", "n_valid", "n", "key_n", "key_percent"]
    )
    frame["percent"] = [percent_as_printed(n, v) for n, v in zip(frame["n"], frame["n_valid"])]
    frame["key_n_valid"] = "t6a_" + frame["item"] + "_n_valid"
    return frame[
        [
            "item",
            "item_label",
            "category",
            "category_label",
            "n_valid",
            "n",
            "percent",
            "key_n_valid",
            "key_n",
            "key_percent",
        ]
    ]


def table_6a_statistics(table: pd.DataFrame, n_total: int) -> pd.DataFrame:
    """Table 6.A as ledger rows (key, value): the cohort size ``t6a_n_total``, then each item's number of
    valid answers once and each line's n and percent (``table`` from :func:`table_6a`)."""
    rows = [("t6a_n_total", int(n_total))]
    seen = set()
    for row in table.itertuples(index=False):
        if row.key_n_valid not in seen:
            seen.add(row.key_n_valid)
            rows.append((row.key_n_valid, row.n_valid))
        rows.append((row.key_n, row.n))
        rows.append((row.key_percent, row.percent))
    return pd.DataFrame(rows, columns=["key", "value"])


def table_6a_display(table: pd.DataFrame, n_total: int) -> pd.DataFrame:
    """Table 6.A laid out as the report prints it: a characteristic column (valid answers in parentheses)
    and an "N (%)" column; categorical items get a header line and one indented line per category. Counts
    and percentages may be the markers of a protected table ("<5", "–", "n/a"), shown as they are."""

    def cell(n, percent):
        if isinstance(percent, str):  # a marker of a protected table: "–" withheld, "n/a" no valid answer
            return f"{n} ({percent})"
        return f"{n} (–)" if pd.isna(percent) else f"{n} ({int(percent)}%)"

    lines = []
    for _item, group in table.groupby("item", sort=False):
        first = group.iloc[0]
        if first["category"] == "yes":
            lines.append((f"{first['item_label']} (n={first['n_valid']})", cell(first["n"], first["percent"])))
        else:
            lines.append((f"{first['item_label']} (n={first['n_valid']})", ""))
            for row in group.itertuples(index=False):
                lines.append((f"\u2003{row.category_label}", cell(row.n, row.percent)))
    return pd.DataFrame(lines, columns=[f"Characteristics of the research cohort (n={n_total})", "N (%)"])


def sex_counts(patients: pd.DataFrame) -> pd.DataFrame:
    """Patients by sex: n and percent of all patients. Columns: sex, n, percent."""
    counts = patients["sex"].value_counts().reindex(list(SEXES), fill_value=0)
    total = len(patients)
    return pd.DataFrame(
        {
            "sex": list(SEXES),
            "n": [int(c) for c in counts],
            "percent": [100 * c / total if total else np.nan for c in counts],
        }
    )


def age_summary(patients: pd.DataFrame) -> pd.DataFrame:
    """Age at (first) admission: n, mean, min and max, overall, by sex and by clinic.

    Columns: group (``all``, ``sex``, ``clinic``), value (``all``, a sex or a clinic), n, mean, min, max.
    """
    rows = []

    def add(group, value, ages):
        rows.append(
            {
                "group": group,
                "value": value,
                "n": int(ages.notna().sum()),
                "mean": float(ages.mean()),
                "min": float(ages.min()),
                "max": float(ages.max()),
            }
        )

    ages = patients["age_at_admission"].astype(float)
    add("all", "all", ages)
    for sex in SEXES:
        add("sex", sex, ages[patients["sex"] == sex])
    for clinic in CLINICS:
        add("clinic", clinic, ages[patients["clinic"] == clinic])
    return pd.DataFrame(rows)


def income_distribution(patients: pd.DataFrame) -> pd.DataFrame:
    """Primary source of income at admission (Figure 6.C): n and percent of those who answered.

    Every income category of the schema appears (0 where nobody chose it). Columns: income, label, n,
    n_valid, percent.
    """
    answers = patients["primary_income"].dropna()
    counts = answers.value_counts().reindex(list(INCOME), fill_value=0)
    n_valid = int(len(answers))
    return pd.DataFrame(
        {
            "income": list(INCOME),
            "label": [INCOME_LABELS[i] for i in INCOME],
            "n": [int(c) for c in counts],
            "n_valid": n_valid,
            "percent": [100 * c / n_valid if n_valid else np.nan for c in counts],
        }
    )


def medications_per_patient(previous_oat: pd.DataFrame, patients: pd.DataFrame) -> pd.Series:
    """Number of different OAT medications each patient was prescribed before HAT (0 when none),
    indexed by patient_id, for every patient in ``patients``."""
    kinds = previous_oat.groupby("patient_id")["medication"].nunique()
    return kinds.reindex(patients["patient_id"], fill_value=0).astype(int).rename("medications")


def mean_previous_medications(previous_oat: pd.DataFrame, patients: pd.DataFrame) -> float:
    """Mean number of different OAT medications tried before HAT, among patients who had any previous OAT
    (at least one row in ``previous_oat``)."""
    kinds = medications_per_patient(previous_oat, patients)
    tried = kinds[kinds > 0]
    return float(tried.mean()) if len(tried) else np.nan


def medications_count_distribution(previous_oat: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Patients by the number of different OAT medications tried before HAT (0, 1, 2, ...).

    Columns: medications, patients, percent (of all patients).
    """
    kinds = medications_per_patient(previous_oat, patients)
    counts = kinds.value_counts().sort_index()
    full = counts.reindex(range(0, int(kinds.max()) + 1 if len(kinds) else 1), fill_value=0)
    return pd.DataFrame(
        {
            "medications": full.index.astype(int),
            "patients": full.to_numpy(dtype=int),
            "percent": 100 * full.to_numpy() / max(len(kinds), 1),
        }
    )


def medication_responses(previous_oat: pd.DataFrame) -> pd.DataFrame:
    """Positive answers per OAT medication prescribed before HAT (Figure 6.D; several answers per patient).

    A patient counts once per medication. Columns: medication, label, responses, percent_of_patients
    (share of the patients with any previous OAT who named it).
    """
    pairs = previous_oat[["patient_id", "medication"]].drop_duplicates()
    respondents = pairs["patient_id"].nunique()
    counts = pairs["medication"].value_counts().reindex(list(OAT_MEDICATIONS), fill_value=0)
    return pd.DataFrame(
        {
            "medication": list(OAT_MEDICATIONS),
            "label": [MEDICATION_LABELS[m] for m in OAT_MEDICATIONS],
            "responses": [int(c) for c in counts],
            "percent_of_patients": [100 * c / respondents if respondents else np.nan for c in counts],
        }
    )


def end_reason_responses(previous_oat: pd.DataFrame) -> pd.DataFrame:
    """Reasons previous OAT ended (Figure 6.E): positive answers per reason, several per patient possible.

    A patient counts once per reason, however many medications ended for it; rows without a reason are
    left out. Columns: reason, label, own_choice (the patient's own decision), responses.
    """
    pairs = previous_oat.dropna(subset=["end_reason"])[["patient_id", "end_reason"]].drop_duplicates()
    counts = pairs["end_reason"].value_counts().reindex(list(OAT_END_REASONS), fill_value=0)
    return pd.DataFrame(
        {
            "reason": list(OAT_END_REASONS),
            "label": [END_REASON_LABELS[r] for r in OAT_END_REASONS],
            "own_choice": [r.startswith("own_choice") for r in OAT_END_REASONS],
            "responses": [int(c) for c in counts],
        }
    )


# --- charts ---------------------------------------------------------------------------------------------


def _bars(frame: pd.DataFrame, value: str, title: str, tooltip: list) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar(color=CLINIC_COLOURS["All"])
        .encode(
            y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=360)),
            x=alt.X(f"{value}:Q", title=title),
            tooltip=tooltip,
        )
        .properties(width=420, height=alt.Step(26))
    )


def income_chart(frame: pd.DataFrame) -> alt.Chart:
    """Figure 6.C: share of respondents per primary source of income (``frame`` from
    :func:`income_distribution`)."""
    return _bars(
        frame, "percent", "Share of respondents (%)", ["label:N", "n:Q", alt.Tooltip("percent:Q", format=".1f")]
    )


def medications_chart(frame: pd.DataFrame) -> alt.Chart:
    """Figure 6.D: positive answers per OAT medication prescribed before HAT (``frame`` from
    :func:`medication_responses`)."""
    return _bars(frame, "responses", "Positive answers (patients)", ["label:N", "responses:Q"])


def end_reasons_chart(frame: pd.DataFrame) -> alt.Chart:
    """Figure 6.E: positive answers per reason previous OAT ended, own choices set apart by shade
    (``frame`` from :func:`end_reason_responses`)."""
    data = frame.assign(decided_by=np.where(frame["own_choice"], "Patient's own choice", "Other reason"))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=360)),
            x=alt.X("responses:Q", title="Positive answers (patients)"),
            color=alt.Color(
                "decided_by:N",
                title=None,
                scale=alt.Scale(
                    domain=["Patient's own choice", "Other reason"], range=[CLINIC_COLOURS["Oslo"], "#9a9a9a"]
                ),
            ),
            tooltip=["label:N", "responses:Q"],
        )
        .properties(width=420, height=alt.Step(26))
    )


# --- sentences chosen by the data ------------------------------------------------------------------------

#: Two mean ages closer than this (in years) are said to differ little.
MEAN_AGE_CLOSE = 2.0


def mean_age_sentence(label_a: str, mean_a, label_b: str, mean_b, *, close: float = MEAN_AGE_CLOSE) -> str:
    """A sentence comparing two groups' mean ages (``label_a`` "men", ``label_b`` "women"), chosen by rule:
    under ``close`` years apart they "differed little"; otherwise the older group is named. A mean that is
    a disclosure marker (a string) makes the sentence say the means are withheld; a missing mean (a group
    without patients) that they cannot both be given."""
    from analysis.presentation import disclosure, formats

    def shown(value):
        return formats.number(value, 1)

    def capital(text):
        return text[:1].upper() + text[1:]

    if any(isinstance(v, str) for v in (mean_a, mean_b)):
        return (
            f"The mean ages of {label_a} and {label_b} are withheld in this edition, since one of the groups "
            "is too small to show."
        )
    if any(disclosure.is_missing(v) for v in (mean_a, mean_b)):
        return f"The mean ages of {label_a} and {label_b} cannot both be given: one of the groups has no patients in these data."
    if abs(float(mean_a) - float(mean_b)) < close:
        return (
            f"{capital(label_a)} and {label_b} differed little in mean age ({shown(mean_a)} and {shown(mean_b)} years)."
        )
    (older, old_mean), (younger, young_mean) = sorted(
        ((label_a, mean_a), (label_b, mean_b)), key=lambda p: -float(p[1])
    )
    return (
        f"{capital(older)} were older on average than {younger} ({shown(old_mean)} against {shown(young_mean)} years)."
    )


def share_phrase(part, whole, *, words: str = "share") -> str | None:
    """The share ``part / whole`` in words (:func:`analysis.presentation.formats.share_words`, or ``majority_words`` with
    ``words="majority"``), or None when it cannot be said: a count is a disclosure marker (a string), or
    the whole is 0."""
    from analysis.presentation import formats

    if isinstance(part, str) or isinstance(whole, str) or not whole:
        return None
    share = float(part) / float(whole)
    return formats.majority_words(share) if words == "majority" else formats.share_words(share)


# --- the tables the editions of one year protect together (analysis.presentation.linked_suppression) -----------------
# Each takes a cohort (analysis.data.cohort.Cohort) and returns the same rows, in the same order, for every cohort.


def sex_of(cohort) -> pd.DataFrame:
    """:func:`sex_counts` of a cohort's patients."""
    return sex_counts(cohort.patients)


def table_6a_of(cohort) -> pd.DataFrame:
    """:func:`table_6a` of a cohort's patients."""
    return table_6a(cohort.patients)


def income_of(cohort) -> pd.DataFrame:
    """:func:`income_distribution` of a cohort's patients."""
    return income_distribution(cohort.patients)


def medications_of(cohort) -> pd.DataFrame:
    """:func:`medication_responses` of a cohort's previous OAT."""
    return medication_responses(cohort.previous_oat)


def end_reasons_of(cohort) -> pd.DataFrame:
    """:func:`end_reason_responses` of a cohort's previous OAT."""
    return end_reason_responses(cohort.previous_oat)


def previous_oat_of(cohort) -> pd.DataFrame:
    """Patients by the number of different OAT medications tried before HAT, in three rows: ``none``, ``one``
    and ``two_or_more`` (column ``n``; from :func:`medications_per_patient`)."""
    kinds = medications_per_patient(cohort.previous_oat, cohort.patients)
    return pd.DataFrame(
        {
            "medications": ["none", "one", "two_or_more"],
            "n": [int((kinds == 0).sum()), int((kinds == 1).sum()), int((kinds >= 2).sum())],
        }
    )


#: The counts that add up from the rows of :func:`previous_oat_of`: all patients (shown everywhere) and the
#: patients who had tried any OAT medication.
PREVIOUS_OAT_SUMS = {"patients": [[0, 1, 2]], "tried": [[1, 2]]}


def own_choice_counts(shown: pd.DataFrame) -> tuple[int, int] | None:
    """The answers naming the patient's own choice and the other answers naming a reason (not "still on the
    medication"), from :func:`end_reason_responses` as protected; None when one of the counts they add up is
    hidden (the share would narrow it down)."""
    given = shown[shown["reason"] != "still_on_medication"]
    if given["responses"].map(lambda v: isinstance(v, str)).any():
        return None
    own = int(given.loc[given["own_choice"], "responses"].sum())
    return own, int(given.loc[~given["own_choice"], "responses"].sum())


# --- the page: its statistics and tables as an edition shows them -----------------------------------------


@dataclass
class ShownTables:
    """The tables of section 6.2 as an edition shows them: in a rerun each protected together with the same
    table of the other editions of its year (both clinics = Oslo + Bergen, see
    :mod:`analysis.presentation.linked_suppression`), unchanged in the published edition.

    ``sexes`` (:func:`sex_counts`, by sex), ``table_6a`` (:func:`table_6a`, hidden where an item's valid
    answers would give a small count back by subtraction), ``income`` (:func:`income_distribution`, by
    income), ``previous_oat`` and ``previous_oat_sums`` (:func:`previous_oat_of` and the shown sums of
    :data:`PREVIOUS_OAT_SUMS`), ``medications`` (:func:`medication_responses`) and ``end_reasons``
    (:func:`end_reason_responses`)."""

    sexes: pd.DataFrame
    table_6a: pd.DataFrame
    income: pd.DataFrame
    previous_oat: pd.DataFrame
    previous_oat_sums: dict
    medications: pd.DataFrame
    end_reasons: pd.DataFrame


def shown_tables(page) -> ShownTables:
    """The tables of ``page`` (:class:`analysis.presentation.edition.Page`) as its edition shows them (:class:`ShownTables`)."""
    protect = linked_suppression.protect_linked
    sexes = protect(page, sex_of, groups=[], derived=["percent"]).set_index("sex")
    table = protect(page, table_6a_of, groups="item", total="n_valid", derived=["percent"])
    income = protect(page, income_of, groups=[], total="n_valid", derived=["percent"]).set_index("income")
    kinds, kind_sums = linked_suppression.protect_linked_sums(
        page, previous_oat_of, sums=PREVIOUS_OAT_SUMS, known=["patients"]
    )
    medications = protect(page, medications_of, count="responses", derived=["percent_of_patients"])
    reasons = protect(page, end_reasons_of, count="responses")
    return ShownTables(sexes, table, income, kinds, kind_sums, medications, reasons)


def table_6a_notes(published: pd.DataFrame, table: pd.DataFrame) -> dict[str, str]:
    """Why cells of Table 6.A cannot match the report's print, by ledger key: the housing rows add up to
    more patients than the valid answers printed, and the printed percentages of 'other' housing and of
    higher education do not follow from their printed counts (``published`` is the ledger, ``table`` from
    :func:`table_6a`). The card shows a note only where the cell differs."""
    value = published["value"]
    housing = table[table["item"] == "housing"]
    housing_parts = sum(value[key] for key in housing["key_n"])
    housing_valid = value["t6a_housing_n_valid"]
    other_n, other_printed = value["t6a_housing_other_n"], value["t6a_housing_other_percent"]
    housing_note = (
        f"Table 6.A's housing rows add up to {housing_parts:.0f} patients against {housing_valid:.0f} valid answers, "
        f"and it prints {other_printed:.0f}% for {other_n:.0f} 'other' answers, which is {100 * other_n / housing_valid:.1f}%; "
        "no set of answers reproduces every housing cell (see the errata appendix)."
    )
    higher_n, education_valid = value["t6a_education_higher_n"], value["t6a_education_n_valid"]
    higher_note = (
        f"Table 6.A prints {value['t6a_education_higher_percent']:.0f}% for {higher_n:.0f} of {education_valid:.0f} "
        f"valid answers, which is {100 * higher_n / education_valid:.1f}%: the printed percentage does not follow "
        "from the printed count (see the errata appendix)."
    )
    notes = {key: housing_note for key in [*housing["key_n"], *housing["key_percent"], "t6a_housing_n_valid"]}
    notes["t6a_education_higher_percent"] = higher_note
    return notes


#: The report's own inconsistencies in Table 6.A, said under the table where the page compares with the report.
TABLE_6A_REPORT_NOTE = """:::{note}
Two parts of the printed Table 6.A cannot be reproduced exactly by any set of answers. Its housing
categories add up to more patients than the number it gives as answering the question, and the
percentages printed for *other* housing and for higher education do not follow from the counts printed
beside them. The computed table takes each percentage from its own count, so a cell or two of these
rows differs from the print; the table at the end of the page names them. Both inconsistencies are
listed in {doc}`appendix_errata`.
:::"""


def _age_and_sex_rows(page, shown: ShownTables) -> list[dict]:
    """The patients, men among them (as the protected table of sexes shows them), ages and mean ages (of all,
    by sex and by clinic: :func:`age_summary`), and the sentences on sex and on age by sex and by clinic."""
    card = page.card
    patients = page.cohort.patients
    sexes = sex_counts(patients).set_index("sex")
    ages = age_summary(patients).set_index(["group", "value"])
    sex_n = sexes["n"].tolist()
    sex_hidden = bool(linked_suppression.hidden_rows(shown.sexes, "n").any())
    everyone, oslo, bergen = ages.loc[("all", "all")], ages.loc[("clinic", "Oslo")], ages.loc[("clinic", "Bergen")]
    men_mean, women_mean = ages.loc[("sex", "male"), "mean"], ages.loc[("sex", "female"), "mean"]
    shown_men, shown_men_percent = shown.sexes.loc["male", "n"], shown.sexes.loc["male", "percent"]
    men_words = share_phrase(shown_men, len(patients), words="majority")
    return [
        {"key": "s6_2_patients_started_total", "value": len(patients)},
        {"key": "s6_2_men_n", "value": sexes.loc["male", "n"], "shown": shown_men},
        {"key": "s6_2_men_percent", "value": sexes.loc["male", "percent"], "shown": shown_men_percent},
        # a mean, youngest or oldest age of fewer than min_cell patients is withheld in a rerun
        {"key": "s6_2_mean_age_years", "value": everyone["mean"], "of": everyone["n"]},
        {"key": "s6_2_age_min_years", "value": everyone["min"], "of": everyone["n"]},
        {"key": "s6_2_age_max_years", "value": everyone["max"], "of": everyone["n"]},
        {"key": "s6_2_mean_age_men_years", "value": men_mean, "of": sex_n, "suppress": sex_hidden},
        {"key": "s6_2_mean_age_women_years", "value": women_mean, "of": sex_n, "suppress": sex_hidden},
        {"key": "s6_2_mean_age_oslo_years", "value": oslo["mean"], "of": oslo["n"]},
        {"key": "s6_2_mean_age_bergen_years", "value": bergen["mean"], "of": bergen["n"]},
        {
            "key": "s62_men_sentence",
            "value": f"{men_words[:1].upper()}{men_words[1:]} of the patients were men ({formats.number(shown_men)} patients, "
            f"{formats.percent(shown_men_percent)})."
            if men_words and not isinstance(shown_men_percent, str)
            else "The numbers of men and women are withheld in this edition, since one of them is too small to show.",
        },
        {
            "key": "s62_age_sex_sentence",
            "value": mean_age_sentence(
                "men",
                card.disclose(men_mean, of=sex_n, suppress=sex_hidden),
                "women",
                card.disclose(women_mean, of=sex_n, suppress=sex_hidden),
            ),
        },
        {
            "key": "s62_age_clinic_sentence",
            "value": ""
            if page.edition.clinic != "all"
            else mean_age_sentence(
                "patients in Oslo",
                card.disclose(oslo["mean"], of=oslo["n"]),
                "patients in Bergen",
                card.disclose(bergen["mean"], of=bergen["n"]),
            ),
        },
    ]


def _income_rows(patients: pd.DataFrame, shown: ShownTables) -> list[dict]:
    """The respondents on income and the shares of disability benefit, social assistance and wages among
    them (:func:`income_distribution`), each withheld with its count."""
    income = income_distribution(patients).set_index("income")
    respondents_shown = shown.income["n_valid"].iloc[0]
    return [
        {"key": "s6_2_fig6c_n_respondents", "value": income["n_valid"].iloc[0], "shown": respondents_shown},
        {
            "key": "s62_income_disability_percent",
            "value": income.loc["disability_benefit", "percent"],
            "suppress": isinstance(shown.income.loc["disability_benefit", "n"], str),
        },
        {
            "key": "s62_income_social_assistance_percent",
            "value": income.loc["social_assistance", "percent"],
            "suppress": isinstance(shown.income.loc["social_assistance", "n"], str),
        },
        {
            "key": "s62_income_wages_percent",
            "value": income.loc["wages", "percent"],
            "suppress": isinstance(shown.income.loc["wages", "n"], str),
        },
    ]


def _previous_oat_rows(cohort, shown: ShownTables) -> list[dict]:
    """The earlier OAT: the mean number of medications of those who tried any, the shares of patients who
    tried any and who tried two or more (:func:`medications_per_patient`), and the share of the patient's
    own choice among the reasons an earlier OAT ended (:func:`end_reason_responses`)."""
    patients, previous_oat = cohort.patients, cohort.previous_oat
    kinds = medications_per_patient(previous_oat, patients)
    tried, none, several = int((kinds > 0).sum()), int((kinds == 0).sum()), int((kinds >= 2).sum())
    # a share is withheld where a count it would give back is hidden
    tried_hidden = isinstance(shown.previous_oat_sums["tried"], str)
    several_hidden = tried_hidden or bool(linked_suppression.hidden_rows(shown.previous_oat, "n").iloc[1:].any())
    reasons = end_reason_responses(previous_oat)
    given = reasons[reasons["reason"] != "still_on_medication"]
    own, other = (
        int(given.loc[given["own_choice"], "responses"].sum()),
        int(given.loc[~given["own_choice"], "responses"].sum()),
    )
    return [
        {
            "key": "s6_2_fig6d_mean_oat_medication_types",
            "value": mean_previous_medications(previous_oat, patients),
            "of": tried,
        },
        {
            "key": "s62_any_previous_oat_percent",
            "value": 100 * (kinds > 0).mean() if len(kinds) else float("nan"),
            "of": [tried, none],
            "suppress": tried_hidden,
        },
        {
            "key": "s62_two_or_more_percent",
            "value": 100 * several / tried if tried else float("nan"),
            "of": [several, tried - several],
            "suppress": several_hidden,
        },
        # withheld where one of the counts it adds up is hidden
        {
            "key": "s62_own_choice_share_percent",
            "value": 100 * own / (own + other) if own + other else float("nan"),
            "of": [own, other],
            "suppress": own_choice_counts(shown.end_reasons) is None,
        },
    ]


def section_statistics(page, shown: ShownTables) -> pd.DataFrame:
    """Every statistic and sentence of section 6.2 for :meth:`analysis.presentation.scorecard.Card.glue_statistics`.

    Columns ``key``, ``value``, ``shown`` (what a protected table shows for it in a rerun), ``of`` and
    ``suppress`` (what a derived value rests on, a value hidden with a cell), ``note``. Definitions: ages
    and their means from :func:`age_summary` (a mean of men or women withheld where their counts are, since
    with the overall mean it would give them back); Table 6.A from :func:`table_6a_statistics`; the share of
    rented housing of the housing item's valid answers; income shares of the respondents
    (:func:`income_distribution`); the earlier OAT medications per patient (:func:`medications_per_patient`),
    the share of patients with two or more of those who tried any; the share of the patient's own choice
    among the answers naming why an earlier OAT ended (answers "still on the medication" aside). Sentences
    put shares in words from the values as the edition shows them."""
    rows = _age_and_sex_rows(page, shown)
    rows += table_6a_rows(page, shown)
    rows += _income_rows(page.cohort.patients, shown)
    rows += _previous_oat_rows(page.cohort, shown)
    return pd.DataFrame(rows, columns=["key", "value", "shown", "of", "suppress", "note"])


def table_6a_rows(page, shown: ShownTables) -> list[dict]:
    """The statistics of Table 6.A and the sentences drawn from it (rows of :func:`section_statistics`):
    every cell as the protected table shows it, the share of rented housing, and shares in words, left out
    where a cell they rest on is withheld."""
    patients = page.cohort.patients
    table = table_6a(patients)
    hidden = (
        linked_suppression.hidden_rows(shown.table_6a, "n") | linked_suppression.hidden_rows(shown.table_6a, "n_valid")
    ).to_numpy()
    shown_of = {}
    for row, shown_row in zip(table.itertuples(index=False), shown.table_6a.itertuples(index=False)):
        shown_of.update(
            {row.key_n_valid: shown_row.n_valid, row.key_n: shown_row.n, row.key_percent: shown_row.percent}
        )
    notes = table_6a_notes(page.published, table)
    rows = [
        {"key": key, "value": value, "shown": shown_of.get(key, value), "note": notes.get(key)}
        for key, value in table_6a_statistics(table, len(patients)).itertuples(index=False)
    ]
    cells = table.assign(hidden=hidden).set_index(["item", "category"])

    def share_in_words(item: str, categories: list[str], words: str = "share") -> str | None:
        chosen = cells.loc[[(item, c) for c in categories]]
        return (
            None
            if chosen["hidden"].any()
            else share_phrase(int(chosen["n"].sum()), int(chosen["n_valid"].iloc[0]), words=words)
        )

    rented = cells.loc[("housing", "rented")]
    rented_words = share_in_words("housing", ["rented"])
    born_words = share_in_words("born_in_norway", ["yes"])
    schooling_words = share_in_words("education", ["primary_not_completed", "primary", "upper_secondary"], "majority")
    return rows + [
        {
            "key": "s6_2_rental_housing_share",
            "value": rented["n"] / rented["n_valid"] if rented["n_valid"] else float("nan"),
            "suppress": bool(rented["hidden"]),
        },
        {"key": "s62_rented_percent", "value": rented["percent"], "suppress": bool(rented["hidden"])},
        {
            "key": "s62_rented_words",
            "value": f"{rented_words[:1].upper()}{rented_words[1:]}" if rented_words else "A share",
        },
        {"key": "s62_born_clause", "value": f", so {born_words} were Norwegian-born" if born_words else ""},
        {
            "key": "s62_schooling_clause",
            "value": f", so {schooling_words} had no more than upper secondary schooling" if schooling_words else "",
        },
        # the report's own inconsistencies in Table 6.A: said only where the page compares with the report
        {"key": "s62_table_6a_note", "value": TABLE_6A_REPORT_NOTE if page.edition.published else ""},
    ]


def table_6a_styled(page, shown: ShownTables):
    """Table 6.A as the page shows it (:func:`table_6a_display` of the protected table, the cohort's size as
    disclosed)."""
    display = table_6a_display(shown.table_6a, disclosure.count(len(page.cohort.patients), page.sdc))
    return display.style.hide(axis="index").set_table_attributes('class="hatbook-table"')
