"""Serious adverse events (section 6.5) on a hand-built cohort whose answers are counted by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.presentation.scorecard import ledger
from analysis.sections import adverse_events as ae
from analysis.sections import retention


def patients(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": pd.array([f"P{i:03d}" for i in range(1, n + 1)], dtype="string")})


def events(per_patient: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(pid, category) for pid, categories in per_patient.items() for category in categories]
    frame = pd.DataFrame(rows, columns=["patient_id", "category"])
    frame.insert(0, "event_id", [f"A{i:03d}" for i in range(1, len(frame) + 1)])
    frame["event_date"] = pd.Timestamp("2023-01-01")
    return frame.astype({"patient_id": "string", "category": "string", "event_id": "string"})


# P001: 3 events, P002: 1 event, P003 and P004: none, P005: 1 event -> 3 of 5 patients, 5 events
TOY = events(
    {
        "P001": ["nonfatal_overdose", "nonfatal_overdose", "seizure"],
        "P002": ["other"],
        "P005": ["nonfatal_overdose"],
    }
)


def test_patients_with_events_share_of_cohort():
    result = ae.patients_with_events(TOY, patients(5))
    assert result == {"patients": 5, "with_event": 3, "percent": 60.0, "events": 5}


def test_events_per_patient_fills_zero_for_patients_without_events():
    counts = ae.events_per_patient(TOY, patients(5))
    assert counts.to_dict() == {"P001": 3, "P002": 1, "P003": 0, "P004": 0, "P005": 1}


def test_events_by_category_lists_every_category_with_share_of_all_events():
    frame = ae.events_by_category(TOY).set_index("category")
    assert list(frame.index) == [
        "nonfatal_overdose",
        "seizure",
        "allergic_reaction",
        "violence_acting_out_threats_self_harm",
        "other",
    ]
    assert frame.loc["nonfatal_overdose", "n"] == 3 and frame.loc["nonfatal_overdose", "percent"] == 60.0
    assert frame.loc["seizure", "percent"] == 20.0
    assert frame.loc["allergic_reaction", "n"] == 0 and frame.loc["allergic_reaction", "percent"] == 0.0
    assert frame["percent"].sum() == pytest.approx(100.0)


def test_heavy_patients_read_another_two_as_further_patients():
    # counts 11, 20, 21, 30, 31, 45: over 10 -> 6; 21-30 -> 2 (21 and 30); over 30 -> 2 (31 and 45)
    counts = {f"P{i:03d}": ["other"] * k for i, k in enumerate([11, 20, 21, 30, 31, 45, 10], start=1)}
    result = ae.heavy_event_patients(events(counts), patients(8))
    assert result == {"over_10": 6, "21_to_30": 2, "over_30": 2}


def test_event_distribution_bands_cover_every_patient_once():
    counts = {f"P{i:03d}": ["other"] * k for i, k in enumerate([1, 2, 5, 6, 11, 21, 31], start=1)}
    frame = ae.event_distribution(events(counts), patients(9)).set_index("band")
    assert frame["patients"].to_dict() == {"none": 2, "1": 1, "2–5": 2, "6–10": 1, "11–20": 1, "21–30": 1, "over 30": 1}
    assert frame["patients"].sum() == 9
    assert frame.loc["none", "percent"] == pytest.approx(200 / 9)


def test_time_in_treatment_counts_open_episodes_to_data_end():
    episodes = pd.DataFrame(
        {
            "admission_date": pd.to_datetime(["2024-01-01", "2025-01-01"]),
            "discharge_date": pd.to_datetime(["2024-12-31", None]),
        }
    )
    # both days counted: 2024 is a leap year, 2024-01-01 to 2024-12-31 is 366 days; the open episode
    # runs 2025-01-01 to the data end 2025-12-31, 365 days -> 731 / 365.25 years
    assert retention.person_years(episodes, "2025-12-31") == pytest.approx(731 / 365.25)


def test_event_rates_per_100_person_years():
    episodes = pd.DataFrame({"admission_date": pd.to_datetime(["2024-01-01"]), "discharge_date": [pd.NaT]})
    rates = ae.event_rates(TOY, episodes, "2026-01-01").set_index("category")
    years = ((pd.Timestamp("2026-01-01") - pd.Timestamp("2024-01-01")).days + 1) / 365.25
    assert rates.loc["all", "events"] == 5
    assert rates.loc["all", "rate_per_100_py"] == pytest.approx(500 / years)
    assert rates.loc["seizure", "rate_per_100_py"] == pytest.approx(100 / years)


def test_ledger_statistics_cover_every_key_of_section_6_5():
    frame = ae.ledger_statistics(TOY, patients(5)).set_index("key")["value"]
    keys = set(ledger().query("section == '6.5'").index)
    assert set(frame.index) == keys
    assert frame["s6_5_patients_with_sae_percent"] == 60.0
    assert frame["s6_5_sae_total"] == 5
    assert frame["s6_5_sae_nonfatal_overdose_n"] == 3
    assert frame["s6_5_sae_other_percent"] == 20.0


def test_no_events_gives_zero_counts_not_errors():
    empty = events({})
    assert ae.patients_with_events(empty, patients(3))["with_event"] == 0
    assert math.isnan(ae.events_by_category(empty)["percent"].iloc[0])


def test_charts_build():
    assert ae.category_chart(ae.events_by_category(TOY)).to_dict()["mark"]["type"] == "bar"
    assert ae.distribution_chart(ae.event_distribution(TOY, patients(5))).to_dict()["mark"]["type"] == "bar"


# --- sentences chosen by the data ------------------------------------------------------------------------


def test_share_sentence_words_follow_the_share():
    # 3 of 5 is 60%: "most"; 2 of 5 is 40%: "a minority"; 0 of 5: "none"
    assert ae.share_sentence(3, 5, "31 December 2023").startswith("Most of the patients had at least one")
    assert "31 December 2023" in ae.share_sentence(3, 5, "31 December 2023")
    assert ae.share_sentence(2, 5, "31 December 2023").startswith("A minority of the patients")
    assert ae.share_sentence(0, 5, "31 December 2023").startswith("None of the patients")


def test_share_sentence_withholds_words_for_a_hidden_count():
    sentence = ae.share_sentence("<5", 12, "31 December 2022")
    assert "withheld" in sentence and "most" not in sentence.lower()


def test_categories_sentence_ranks_largest_first():
    by_category = ae.events_by_category(TOY)  # overdose 3 (60%), seizure 1 (20%), other 1 (20%), two with 0
    sentence = ae.categories_sentence(by_category)
    assert sentence.startswith(
        "From the most to the least frequent: non-fatal overdoses (3, 60% of all events), seizures (1, 20%"
    )
    assert sentence.index("seizures") < sentence.index("other serious events") < sentence.index("allergic reactions")


def test_categories_sentence_names_hidden_categories_without_counts_or_rank():
    by_category = ae.events_by_category(TOY)
    hidden = by_category["n"].eq(1)  # seizure and other
    sentence = ae.categories_sentence(by_category, hidden)
    assert "seizures (" not in sentence and "other serious events (" not in sentence
    assert sentence.endswith("withheld in this edition (too few to show, or they would give a small count away).")
    assert "The counts of seizures and other serious events are withheld" in sentence


def test_categories_sentence_without_events():
    assert (
        ae.categories_sentence(ae.events_by_category(events({})))
        == "No serious adverse event was recorded in these data."
    )


# --- the page's statistics as an edition shows them -------------------------------------------------------


def toy_page(published: bool):
    """A page of the toy cohort: 5 patients, 5 events, one episode of 1 year from 2024-01-01."""
    from types import SimpleNamespace

    from analysis.presentation import scorecard

    episodes = pd.DataFrame(
        {"admission_date": pd.to_datetime(["2024-01-01"]), "discharge_date": pd.to_datetime(["2024-12-31"])}
    )
    cohort = SimpleNamespace(
        adverse_events=TOY, patients=patients(5), episodes=episodes, data_end=pd.Timestamp("2025-12-31")
    )
    edition = SimpleNamespace(published=published, data_end_text="31 December 2025")
    return SimpleNamespace(cohort=cohort, edition=edition, published=scorecard.ledger())


def toy_shown(hide_seizure: bool = False) -> ae.ShownTables:
    distribution = ae.event_distribution(TOY, patients(5))
    categories = ae.events_by_category(TOY).astype({"n": object, "percent": object})
    if hide_seizure:
        categories.loc[categories["category"] == "seizure", ["n", "percent"]] = ["<5", "–"]
    return ae.ShownTables(distribution, {"patients": 5, "with_event": 3, "over_10": 0}, categories)


def test_section_statistics_give_every_ledger_key_once_with_its_shown_value():
    frame = ae.section_statistics(toy_page(True), toy_shown())
    rows = frame.set_index("key")
    assert set(ledger().query("section == '6.5'").index) <= set(rows.index)
    assert frame["key"].is_unique
    assert rows.loc["ae_cohort_patients", "value"] == 5 and rows.loc["ae_cohort_patients", "frequency"]
    assert rows.loc["s6_5_patients_with_sae_percent", "value"] == 60.0
    assert rows.loc["s6_5_patients_with_sae_percent", "note"].startswith("3 of 5 patients is 60.0%.")
    # 366 days in 2024 -> 5 events in 366/365.25 years
    assert rows.loc["ae_rate_per_100_py", "value"] == pytest.approx(500 / (366 / 365.25))
    assert rows.loc["ae_rate_per_100_py", "of"] == 5
    assert rows.loc["ae_share_sentence", "value"].startswith("Most of the patients")
    assert rows.loc["ae_share_report_note", "value"] == ae.REPORT_SHARE_NOTE


def test_section_statistics_of_a_rerun_follow_the_protected_tables():
    frame = ae.section_statistics(toy_page(False), toy_shown(hide_seizure=True)).set_index("key")
    assert frame.loc["s6_5_sae_seizure_n", "shown"] == "<5" and frame.loc["s6_5_sae_seizure_n", "value"] == 1
    assert frame.loc["s6_5_sae_seizure_percent", "shown"] == "–"
    assert (
        frame.loc["ae_share_report_note", "value"] == ""
    )  # no comparison with the report outside the published edition
    assert "seizures (" not in frame.loc["ae_categories_sentence", "value"]
    assert not frame.loc["ae_overdose_rate_per_100_py", "suppress"]


def test_section_statistics_withhold_the_share_with_its_count():
    shown = toy_shown()
    shown.sums["with_event"] = "<5"
    frame = ae.section_statistics(toy_page(False), shown).set_index("key")
    assert frame.loc["s6_5_patients_with_sae_percent", "shown"] == "–"
    assert "withheld" in frame.loc["ae_share_sentence", "value"]
