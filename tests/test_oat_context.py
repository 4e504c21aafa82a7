"""HAT against the whole OAT population (Table 3.A), on a hand-built table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.data.published import published_table
from analysis.sections import oat_context


def toy_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["overdose", "overdose", "housing", "housing", "housing"],
            "item_label": ["Overdose", "Overdose", "Housing", "Housing", "Housing"],
            "category": ["overdose", "overdose", "own home", "own home", "with parents"],
            "group": ["HAT", "OAT", "HAT", "OAT", "OAT"],
            "group_n": [10, 100, 10, 100, 100],
            "percent": [20.0, 5.0, 60.0, 80.0, 3.0],
        }
    )


def test_side_by_side_and_difference_in_points():
    wide = oat_context.hat_vs_oat(toy_table()).set_index("category")
    assert wide.loc["overdose", "difference_pp"] == 15.0
    assert wide.loc["own home", "difference_pp"] == -20.0
    # reported for OAT only: no HAT value, so no difference (not a zero)
    assert math.isnan(wide.loc["with parents", "HAT"])
    assert math.isnan(wide.loc["with parents", "difference_pp"])


def test_hat_share_of_oat_by_hand():
    table = pd.DataFrame(
        {
            "item": ["sex", "sex", "sex"],
            "group": ["HAT", "HAT", "OAT"],
            "group_n": [40, 40, 960],
            "category": ["women", "men", "women"],
        }
    )
    assert oat_context.hat_share_of_oat(table, 1000) == pytest.approx(4.0)


def test_percent_of_finds_one_cell_or_says_what_is_missing():
    assert oat_context.percent_of(toy_table(), "overdose", "overdose", "OAT") == 5.0
    with pytest.raises(KeyError, match="item='overdose', category='none'"):
        oat_context.percent_of(toy_table(), "overdose", "none", "HAT")


def test_published_table_3a_matches_the_report():
    table = published_table("table_3a_hat_vs_oat")
    # side effects of OAT medication were recorded only by units using two record systems (footnote: n=4031)
    assert set(table["group_n"]) == {71, 4031, 5551}
    assert set(table.loc[table["item"] == "side_effects", "group_n"]) == {71, 4031}
    assert oat_context.percent_of(table, "overdose", "overdose", "HAT") == 12.9
    assert oat_context.percent_of(table, "treatment_goal", "rehabilitation with abstinence", "OAT") == 68.1


# --- Table 3.B ---------------------------------------------------------------------------------------------


def toy_clinics() -> pd.DataFrame:
    rows = [
        ("Oslo", "catchment_population", "exact", 200000),
        ("Bergen", "catchment_population", "exact", 100000),
        ("Oslo", "oat_patients_excl_hat", "exact", 380),
        ("Bergen", "oat_patients_excl_hat", "exact", 190),
        ("Oslo", "hat_patients", "exact", 20),
        ("Bergen", "hat_patients", "exact", 10),
        ("Oslo", "fte_staff", "exact", 10.0),
        ("Bergen", "fte_staff", "exact", 4.0),
        ("Oslo", "weekday_clinicians", "exact", 12),
        ("Bergen", "weekday_clinicians", "min", 8),
        ("Bergen", "weekday_clinicians", "max", 10),
        ("Oslo", "psychologist_coverage_percent", "exact", 0),
        ("Bergen", "psychologist_coverage_percent", "exact", 20),
        ("Oslo", "weekend_support_workers", "exact", 1),
    ]
    return pd.DataFrame(rows, columns=["clinic", "characteristic", "bound", "value"])


def test_clinic_comparison_side_by_side_with_ranges_and_gaps():
    table = oat_context.clinic_comparison(toy_clinics()).set_index("characteristic")
    assert table.loc["fte_staff", "Oslo"] == "10" and table.loc["fte_staff", "bergen_to_oslo"] == 0.4
    assert table.loc["catchment_population", "Oslo"] == "200,000"
    # a printed range is shown as a range and measured at its midpoint
    assert table.loc["weekday_clinicians", "Bergen"] == "8–10"
    assert table.loc["weekday_clinicians", "bergen_value"] == 9
    assert table.loc["weekday_clinicians", "bergen_to_oslo"] == 0.75
    # not given for Bergen: empty, not zero; Oslo's zero gives no ratio
    assert table.loc["weekend_support_workers", "Bergen"] == ""
    assert math.isnan(table.loc["weekend_support_workers", "bergen_value"])
    assert math.isnan(table.loc["psychologist_coverage_percent", "bergen_to_oslo"])


def test_clinic_ratios_by_hand():
    ratios = oat_context.clinic_ratios(toy_clinics()).set_index("clinic")
    assert ratios.loc["Oslo", "fte_per_hat_patient"] == 0.5  # 10 / 20
    assert ratios.loc["Bergen", "fte_per_hat_patient"] == 0.4  # 4 / 10
    assert ratios.loc["Oslo", "hat_patients_per_100k"] == 10  # 20 / 200,000 * 100,000
    assert ratios.loc["Bergen", "hat_share_of_oat_percent"] == 5  # 10 / (10 + 190)
    assert ratios.loc["Oslo", "oat_patients_per_100k"] == 190


def test_clinic_value_names_what_is_missing():
    assert oat_context.clinic_value(toy_clinics(), "Bergen", "weekday_clinicians", "max") == 10
    with pytest.raises(KeyError, match="clinic='Bergen', characteristic='weekday_clinicians', bound='exact'"):
        oat_context.clinic_value(toy_clinics(), "Bergen", "weekday_clinicians")


def toy_opening() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "clinic": ["Oslo", "Bergen"],
            "morning_open": ["08:00", "08:30"],
            "morning_close": ["11:00", "11:00"],
            "morning_observation_until": ["12:00", None],
            "midday_closed_from": ["12:00", "12:00"],
            "midday_closed_to": ["14:00", "14:00"],
            "afternoon_injection_open": ["14:00", "14:00"],
            "afternoon_injection_close": ["16:00", "16:30"],
            "afternoon_tablets_until": ["17:00", "17:00"],
        }
    )


def test_opening_sessions_and_hours_open_for_dosing():
    sessions = oat_context.opening_sessions(toy_opening())
    assert list(sessions.loc[sessions.clinic == "Oslo", "part"]) == [
        "morning",
        "observation",
        "closed",
        "injection",
        "tablets only",
    ]
    assert "observation" not in set(sessions.loc[sessions.clinic == "Bergen", "part"])
    hours = oat_context.open_hours_per_day(toy_opening()).set_index("clinic")["open_hours"]
    assert hours["Oslo"] == 3 + 2 + 1  # observation and the midday break do not count
    assert hours["Bergen"] == 2.5 + 2.5 + 0.5


def test_published_table_3b_ratios():
    ratios = oat_context.clinic_ratios(published_table("table_3b_clinic_characteristics")).set_index("clinic")
    assert ratios.loc["Oslo", "fte_per_hat_patient"] == pytest.approx(19.2 / 47)
    assert ratios.loc["Bergen", "hat_patients_per_100k"] == pytest.approx(31 / 465200 * 100_000)
    assert ratios.loc["Bergen", "hat_share_of_oat_percent"] == pytest.approx(100 * 31 / 1140)


# --- The 2015 review ---------------------------------------------------------------------------------------


def toy_registry() -> pd.DataFrame:
    rows = [
        ("mortality", "all_cause_mortality", "waiting_list", 1997, None, 2.0),
        ("mortality", "all_cause_mortality", "in_treatment", 1997, None, 1.0),
        ("mortality", "all_cause_mortality", "after_leaving", 1997, None, 4.0),
        ("mortality", "all_cause_mortality", "in_treatment", 2003, None, 0.9),
        ("mortality", "all_cause_mortality_reduction", "in_treatment", 1997, 1000, 50),
        ("mortality", "overdose_mortality_reduction", "in_treatment", 1997, 1000, 75),
        ("somatic_morbidity", "morbidity_reduction", "in_treatment", None, 100, 20),
        ("somatic_morbidity", "substance_use_related_morbidity_reduction", "in_treatment", None, 100, 90),
        ("crime", "criminal_behaviour_reduction", "in_treatment", None, 400, 60),
        ("crime", "convicted_crimes_per_year", "before_entry", None, 500, 1000),
        ("crime", "persons_contributing_to_convictions", "before_entry", None, 500, 40),
        ("crime", "all_offences_reduction", "in_treatment", None, None, 60),
        ("crime", "crime_category_a", "before_entry", None, 500, 70),
        ("crime", "crime_category_b", "before_entry", None, 500, 30),
    ]
    return pd.DataFrame(rows, columns=["domain", "measure", "group", "period_start", "study_n", "value"])


def test_mortality_by_phase_in_deaths_per_1000_person_years():
    phases = oat_context.mortality_by_phase(toy_registry()).set_index("phase")
    assert list(phases.index) == ["waiting_list", "in_treatment", "after_leaving"]
    # the 1997-2003 row is chosen, not the later 'in treatment' figure
    assert phases.loc["in_treatment", "percent_per_year"] == 1.0
    assert phases.loc["after_leaving", "deaths_per_1000_person_years"] == 40


def test_mortality_rate_ratios_by_hand():
    ratios = oat_context.mortality_rate_ratios(toy_registry()).set_index(["phase", "reference"])
    in_vs_wait = ratios.loc[("in_treatment", "waiting_list")]
    assert in_vs_wait["rate_ratio"] == 0.5  # 1 / 2
    assert in_vs_wait["relative_reduction_percent"] == 50
    assert in_vs_wait["deaths_fewer_per_1000_person_years"] == 10  # 20 - 10
    assert ratios.loc[("in_treatment", "after_leaving"), "rate_ratio"] == 0.25  # 1 / 4
    after = ratios.loc[("after_leaving", "waiting_list")]
    assert after["rate_ratio"] == 2 and after["relative_reduction_percent"] == -100
    assert after["deaths_fewer_per_1000_person_years"] == -20


def test_reductions_as_ratios_by_hand():
    table = oat_context.reductions(toy_registry()).set_index("outcome")
    assert list(table.index) == [label for _, _, label in oat_context.REDUCTION_TABLE]
    assert table.loc["Mortality, overdose-related", "ratio_in_vs_out"] == 0.25
    assert table.loc["Mortality, overdose-related", "fold_higher_outside"] == 4
    assert table.loc["Somatic morbidity, total", "ratio_in_vs_out"] == pytest.approx(0.8)
    assert table.loc["Criminal behaviour", "study_n"] == 400


def test_convictions_per_person_by_hand():
    figures = oat_context.convictions(toy_registry())
    assert figures["per_person_year"] == 2  # 1000 / 500
    assert figures["per_contributor_year"] == 5  # 1000 / (500 * 0.4)
    assert figures["expected_in_treatment_per_person_year"] == pytest.approx(0.8)  # 2 * (1 - 0.6)
    assert figures["category_total_percent"] == 100


def test_published_review_figures():
    registry = published_table("oat_registry_2015")
    assert set(registry["source"]) == {"omtreview_norway"}
    assert registry["location"].str.len().gt(0).all()
    ratios = oat_context.mortality_rate_ratios(registry).set_index(["phase", "reference"])["rate_ratio"]
    assert ratios[("in_treatment", "waiting_list")] == pytest.approx(1.4 / 2.4)
    assert ratios[("in_treatment", "after_leaving")] == pytest.approx(1.4 / 3.4)
    table = oat_context.reductions(registry).set_index("outcome")
    assert table.loc["Mortality, total", "study_n"] == 3789
    assert table.loc["Criminal behaviour", "reduction_percent"] == 60
    assert oat_context.convictions(registry)["category_total_percent"] == 100


def test_methadone_deaths_before_the_increase_by_hand():
    registry = pd.DataFrame(
        {
            "measure": ["methadone_related_deaths", "methadone_related_deaths_increase"],
            "group": ["all", "all"],
            "value": [30.0, 50.0],
        }
    )
    assert oat_context.methadone_deaths_before(registry) == 20  # 30 / 1.5


def test_chapter_statistics_name_every_figure_chapter_3_cites():
    import re
    from pathlib import Path

    from analysis.presentation.scorecard import ledger

    frame = oat_context.chapter_statistics(
        ledger(),
        published_table("table_3a_hat_vs_oat"),
        published_table("table_3a_hat_vs_oat_age"),
        published_table("oat_registry_2015"),
        published_table("table_3b_clinic_characteristics"),
        published_table("table_3b_clinic_opening").set_index("clinic"),
    )
    assert frame["key"].is_unique
    values = frame.set_index("key")["value"]
    page = (Path(__file__).resolve().parent.parent / "book" / "ch03_hat_in_norway.md").read_text()
    cited = set(re.findall(r"\{glue:text\}`([a-z0-9_]+)", page))
    assert cited and cited <= set(values.index)
    # the report's bound "fewer than 1%" is the share rounded up to a whole percent
    assert values["s3_2_hat_share_of_oat_max"] == math.ceil(values["s3_2_hat_share_of_oat"])
    assert values["oat2015_increase_after_vs_waiting"] == -values["oat2015_reduction_after_vs_waiting"]
    assert values["s8_rec1_oslo_fte_staff"] == values["s3_3_oslo_fte_staff"]


def test_table_3b_sets_the_clinics_side_by_side():
    opening = published_table("table_3b_clinic_opening").set_index("clinic")
    table = oat_context.table_3b(published_table("table_3b_clinic_characteristics"), opening)
    assert list(table.columns) == ["Characteristic", "Oslo (HABiO)", "Bergen (HABiB)"]
    assert list(table["Characteristic"][:3]) == ["Opened", "Host hospital", "Premises"]
    assert table["Characteristic"].is_unique
