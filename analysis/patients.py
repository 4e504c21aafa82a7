"""Patient characteristics at admission (report section 6.2: Table 6.A, Figures 6.C-6.E).

Functions take the tidy tables ``patients`` and ``previous_oat`` of :class:`analysis.cohort.Cohort`.
Baseline questionnaire items may be empty (the patient did not answer): every share of an item is a
share of its *valid answers*, the patients with a non-empty value, and the number of valid answers is
returned with it. Percentages in Table 6.A are rounded to whole numbers half up, as the report prints
them.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from analysis.charts import CLINIC_COLOURS
from analysis.schema import CLINICS, EDUCATION, HOUSING, INCOME, OAT_END_REASONS, OAT_MEDICATIONS, SEXES

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
                rows.append((item, label, category, category_label, n_valid, n, f"t6a_{item}_{category}_n", f"t6a_{item}_{category}_percent"))
    frame = pd.DataFrame(rows, columns=["item", "item_label", "category", "category_label", "n_valid", "n", "key_n", "key_percent"])
    frame["percent"] = [percent_as_printed(n, v) for n, v in zip(frame["n"], frame["n_valid"])]
    frame["key_n_valid"] = "t6a_" + frame["item"] + "_n_valid"
    return frame[["item", "item_label", "category", "category_label", "n_valid", "n", "percent", "key_n_valid", "key_n", "key_percent"]]


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
    for item, group in table.groupby("item", sort=False):
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
    return pd.DataFrame({"sex": list(SEXES), "n": [int(c) for c in counts], "percent": [100 * c / total if total else np.nan for c in counts]})


def age_summary(patients: pd.DataFrame) -> pd.DataFrame:
    """Age at (first) admission: n, mean, min and max, overall, by sex and by clinic.

    Columns: group (``all``, ``sex``, ``clinic``), value (``all``, a sex or a clinic), n, mean, min, max.
    """
    rows = []

    def add(group, value, ages):
        rows.append({"group": group, "value": value, "n": int(ages.notna().sum()), "mean": float(ages.mean()), "min": float(ages.min()), "max": float(ages.max())})

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
        {"medications": full.index.astype(int), "patients": full.to_numpy(dtype=int), "percent": 100 * full.to_numpy() / max(len(kinds), 1)}
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
    return _bars(frame, "percent", "Share of respondents (%)", ["label:N", "n:Q", alt.Tooltip("percent:Q", format=".1f")])


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
                scale=alt.Scale(domain=["Patient's own choice", "Other reason"], range=[CLINIC_COLOURS["Oslo"], "#9a9a9a"]),
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
    from analysis import disclosure, formats

    def shown(value):
        return formats.number(value, 1)

    def capital(text):
        return text[:1].upper() + text[1:]

    if any(isinstance(v, str) for v in (mean_a, mean_b)):
        return (f"The mean ages of {label_a} and {label_b} are withheld in this edition, since one of the groups "
                "is too small to show.")
    if any(disclosure.is_missing(v) for v in (mean_a, mean_b)):
        return f"The mean ages of {label_a} and {label_b} cannot both be given: one of the groups has no patients in these data."
    if abs(float(mean_a) - float(mean_b)) < close:
        return f"{capital(label_a)} and {label_b} differed little in mean age ({shown(mean_a)} and {shown(mean_b)} years)."
    (older, old_mean), (younger, young_mean) = sorted(((label_a, mean_a), (label_b, mean_b)), key=lambda p: -float(p[1]))
    return f"{capital(older)} were older on average than {younger} ({shown(old_mean)} against {shown(young_mean)} years)."


def share_phrase(part, whole, *, words: str = "share") -> str | None:
    """The share ``part / whole`` in words (:func:`analysis.formats.share_words`, or ``majority_words`` with
    ``words="majority"``), or None when it cannot be said: a count is a disclosure marker (a string), or
    the whole is 0."""
    from analysis import formats

    if isinstance(part, str) or isinstance(whole, str) or not whole:
        return None
    share = float(part) / float(whole)
    return formats.majority_words(share) if words == "majority" else formats.share_words(share)


# --- the tables the editions of one year protect together (analysis.linked_suppression) -----------------
# Each takes a cohort (analysis.cohort.Cohort) and returns the same rows, in the same order, for every cohort.


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
    return pd.DataFrame({"medications": ["none", "one", "two_or_more"],
                         "n": [int((kinds == 0).sum()), int((kinds == 1).sum()), int((kinds >= 2).sum())]})


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
