"""Patient characteristics (section 6.2, Table 6.A, Figures 6.C-6.E), on four hand-built patients."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import pytest

from analysis.data import schema
from analysis.data.published import published_table
from analysis.sections import patients as pt


def patients_frame() -> pd.DataFrame:
    rows = {
        "patient_id": ["P001", "P002", "P003", "P004"],
        "clinic": ["Oslo", "Oslo", "Bergen", "Bergen"],
        "sex": ["male", "male", "female", "male"],
        "age_at_admission": [30.0, 40.0, 50.0, 60.0],
        "born_in_norway": [True, True, False, None],
        "housing": ["rented", "rented", "other", None],
        "living_with_others": [False, False, False, True],
        "unstable_housing_30d": [None, None, None, None],
        "education": ["primary", "higher", "primary", "primary"],
        "reading_writing_difficulties": [True, False, False, False],
        "work_or_education": [False, False, False, False],
        "previous_treatment": [True, True, True, True],
        "involuntary_discharge_previous_oat": [True, None, False, False],
        "primary_income": [None, "wages", "disability_benefit", "disability_benefit"],
    }
    frame = pd.DataFrame(rows)
    return schema.pandera_schema(schema.PATIENTS).validate(frame)


def previous_oat_frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            ("P001", "methadone", "own_choice_side_effects"),
            ("P001", "buprenorphine", "own_choice_side_effects"),
            ("P002", "methadone", "involuntary_discharge"),
            ("P004", "methadone", None),
            ("P004", "levomethadone", "own_choice_little_benefit"),
            ("P004", "slow_release_oral_morphine", None),
        ],
        columns=["patient_id", "medication", "end_reason"],
    )
    return schema.pandera_schema(schema.PREVIOUS_OAT).validate(frame)


def test_percent_rounds_half_up_as_printed():
    assert pt.percent_as_printed(1, 8) == 13  # 12.5: Python's round() would give 12
    assert pt.percent_as_printed(5, 200) == 3  # 2.5
    assert pt.percent_as_printed(2, 3) == 67
    assert pt.percent_as_printed(0, 3) == 0
    assert math.isnan(pt.percent_as_printed(0, 0))


def test_table_6a_counts_over_valid_answers():
    table = pt.table_6a(patients_frame()).set_index(["item", "category"])
    # housing: 3 answers (one empty): rented 2 (67%), other 1 (33%), own home 0
    assert table.loc[("housing", "rented"), ["n_valid", "n", "percent"]].tolist() == [3, 2, 67]
    assert table.loc[("housing", "other"), ["n", "percent"]].tolist() == [1, 33]
    assert table.loc[("housing", "own_home"), ["n", "percent"]].tolist() == [0, 0]
    # yes/no items: the "yes" line, over the non-empty answers
    assert table.loc[("born_in_norway", "yes"), ["n_valid", "n", "percent"]].tolist() == [3, 2, 67]
    assert table.loc[("involuntary_discharge_previous_oat", "yes"), ["n_valid", "n", "percent"]].tolist() == [3, 1, 33]
    assert table.loc[("living_with_others", "yes"), ["n_valid", "n", "percent"]].tolist() == [4, 1, 25]
    assert table.loc[("education", "primary"), ["n_valid", "n", "percent"]].tolist() == [4, 3, 75]
    # an item nobody answered: no valid answers, no percentage
    assert table.loc[("unstable_housing_30d", "yes"), "n_valid"] == 0
    assert math.isnan(table.loc[("unstable_housing_30d", "yes"), "percent"])
    assert table.loc[("housing", "rented"), "key_percent"] == "t6a_housing_rented_percent"
    assert table.loc[("born_in_norway", "yes"), "key_n"] == "t6a_born_in_norway_n"


def test_table_6a_keys_are_exactly_the_ledgers():
    stats = pt.table_6a_statistics(pt.table_6a(patients_frame()), 4)
    ledger = published_table("statistics")
    published = set(ledger.loc[ledger["key"].str.startswith("t6a_"), "key"])
    assert set(stats["key"]) == published
    assert stats["key"].is_unique
    assert stats.set_index("key").loc["t6a_n_total", "value"] == 4
    assert stats.set_index("key").loc["t6a_housing_n_valid", "value"] == 3


def test_table_6a_display_has_a_line_per_printed_row():
    shown = pt.table_6a_display(pt.table_6a(patients_frame()), 4)
    assert len(shown) == 9 + 7 + 4  # 9 items, 7 housing and 4 education categories
    assert shown.iloc[0].tolist() == ["Born in Norway (n=3)", "2 (67%)"]


def test_sex_and_age():
    frame = patients_frame()
    sexes = pt.sex_counts(frame).set_index("sex")
    assert sexes.loc["male", "n"] == 3 and sexes.loc["male", "percent"] == 75.0
    ages = pt.age_summary(frame).set_index(["group", "value"])
    assert ages.loc[("all", "all"), ["mean", "min", "max"]].tolist() == [45.0, 30.0, 60.0]
    assert ages.loc[("sex", "male"), "mean"] == pytest.approx(130 / 3)
    assert ages.loc[("sex", "female"), "mean"] == 50.0
    assert ages.loc[("clinic", "Oslo"), "mean"] == 35.0
    assert ages.loc[("clinic", "Bergen"), "mean"] == 55.0


def test_income_distribution_over_respondents():
    income = pt.income_distribution(patients_frame()).set_index("income")
    assert income["n_valid"].iloc[0] == 3
    assert income.loc["disability_benefit", "n"] == 2
    assert income.loc["disability_benefit", "percent"] == pytest.approx(200 / 3)
    assert income.loc["pension", "n"] == 0
    assert income["percent"].sum() == pytest.approx(100)


def test_medications_per_patient_and_mean_among_those_with_previous_oat():
    kinds = pt.medications_per_patient(previous_oat_frame(), patients_frame())
    assert kinds.to_dict() == {"P001": 2, "P002": 1, "P003": 0, "P004": 3}
    # mean over the three patients who had OAT before: (2 + 1 + 3) / 3
    assert pt.mean_previous_medications(previous_oat_frame(), patients_frame()) == 2.0
    dist = pt.medications_count_distribution(previous_oat_frame(), patients_frame())
    assert dist["medications"].tolist() == [0, 1, 2, 3]
    assert dist["patients"].tolist() == [1, 1, 1, 1]


def test_medication_and_end_reason_responses_count_patients_once():
    meds = pt.medication_responses(previous_oat_frame()).set_index("medication")
    assert meds.loc["methadone", "responses"] == 3
    assert meds.loc["methadone", "percent_of_patients"] == 100.0
    assert meds.loc["depot_buprenorphine", "responses"] == 0
    reasons = pt.end_reason_responses(previous_oat_frame()).set_index("reason")
    # P001 gave side effects for two medications: one answer
    assert reasons.loc["own_choice_side_effects", "responses"] == 1
    assert reasons.loc["involuntary_discharge", "responses"] == 1
    assert reasons.loc["own_choice_little_benefit", "responses"] == 1
    assert reasons["responses"].sum() == 3
    assert reasons.loc["own_choice_other", "own_choice"] and not reasons.loc["other", "own_choice"]


def test_charts_are_altair():
    for chart in (
        pt.income_chart(pt.income_distribution(patients_frame())),
        pt.medications_chart(pt.medication_responses(previous_oat_frame())),
        pt.end_reasons_chart(pt.end_reason_responses(previous_oat_frame())),
    ):
        assert isinstance(chart, alt.Chart)
        assert "$schema" in chart.to_dict()


# --- sentences chosen by the data ------------------------------------------------------------------------


def test_mean_age_sentence_close_means_differ_little():
    # 45.1 and 46.0 are 0.9 years apart, under the 2-year rule
    assert (
        pt.mean_age_sentence("men", 45.1, "women", 46.0)
        == "Men and women differed little in mean age (45.1 and 46.0 years)."
    )


def test_mean_age_sentence_names_the_older_group_whichever_comes_first():
    assert pt.mean_age_sentence("patients in Oslo", 42.8, "patients in Bergen", 46.6) == (
        "Patients in Bergen were older on average than patients in Oslo (46.6 against 42.8 years)."
    )
    # exactly 2 years apart is no longer "little"
    assert "older" in pt.mean_age_sentence("men", 40.0, "women", 42.0)


def test_mean_age_sentence_withheld_or_missing_means():
    assert "withheld" in pt.mean_age_sentence("men", "–", "women", 46.0)
    assert "cannot both be given" in pt.mean_age_sentence("men", 45.0, "women", float("nan"))


def test_share_phrase():
    assert pt.share_phrase(51, 100) == "about half"
    assert pt.share_phrase(80, 100, words="majority") == "most"
    assert pt.share_phrase("<5", 100) is None
    assert pt.share_phrase(0, 0) is None


# --- the page's statistics as an edition shows them -------------------------------------------------------


def toy_page(published: bool, min_cell=None):
    """A page of the four hand-built patients (3 men, 1 woman; mean age 45)."""
    from types import SimpleNamespace

    from analysis.presentation import scorecard

    cohort = SimpleNamespace(patients=patients_frame(), previous_oat=previous_oat_frame())
    edition = SimpleNamespace(published=published, clinic="all")
    card = scorecard.Card(compare=published, min_cell=min_cell)
    return SimpleNamespace(cohort=cohort, edition=edition, card=card, published=scorecard.ledger(), sdc=card.min_cell)


def toy_shown() -> pt.ShownTables:
    """The page's tables unprotected (as the published edition shows them)."""
    patients, previous_oat = patients_frame(), previous_oat_frame()
    sums = {"patients": 4, "tried": 3}
    return pt.ShownTables(
        pt.sex_counts(patients).set_index("sex"),
        pt.table_6a(patients),
        pt.income_distribution(patients).set_index("income"),
        pt.previous_oat_of(SimpleCohort(patients, previous_oat)),
        sums,
        pt.medication_responses(previous_oat),
        pt.end_reason_responses(previous_oat),
    )


class SimpleCohort:
    def __init__(self, patients, previous_oat):
        self.patients, self.previous_oat = patients, previous_oat


def test_section_statistics_counted_by_hand():
    frame = pt.section_statistics(toy_page(True), toy_shown())
    assert frame["key"].is_unique
    rows = frame.set_index("key")
    assert rows.loc["s6_2_patients_started_total", "value"] == 4
    assert rows.loc["s6_2_men_n", "value"] == 3 and rows.loc["s6_2_men_percent", "value"] == 75.0
    assert rows.loc["s6_2_mean_age_years", "value"] == 45.0 and rows.loc["s6_2_mean_age_years", "of"] == 4
    # rented: 2 of 3 valid housing answers
    assert rows.loc["s6_2_rental_housing_share", "value"] == pytest.approx(2 / 3)
    assert rows.loc["s62_rented_words", "value"] == "About two in three"
    # P001, P002 and P004 tried earlier OAT, P001 and P004 two or more: 2 of 3
    assert rows.loc["s62_any_previous_oat_percent", "value"] == 75.0
    assert rows.loc["s62_two_or_more_percent", "value"] == pytest.approx(200 / 3)
    assert rows.loc["s62_table_6a_note", "value"] == pt.TABLE_6A_REPORT_NOTE
    assert set(pt.table_6a(patients_frame())["key_n"]) <= set(rows.index)


def test_section_statistics_of_a_rerun_withhold_what_a_hidden_cell_would_give_back():
    shown = toy_shown()
    shown.sexes = shown.sexes.astype(object)
    shown.sexes.loc["female", ["n", "percent"]] = ["<5", "–"]
    shown.sexes.loc["male", ["n", "percent"]] = ["<5", "–"]
    rows = pt.section_statistics(toy_page(False, min_cell=5), shown).set_index("key")
    assert rows.loc["s6_2_mean_age_men_years", "suppress"] and rows.loc["s6_2_mean_age_women_years", "suppress"]
    assert rows.loc["s62_men_sentence", "value"].startswith("The numbers of men and women are withheld")
    assert "withheld" in rows.loc["s62_age_sex_sentence", "value"]
    assert rows.loc["s62_table_6a_note", "value"] == ""
