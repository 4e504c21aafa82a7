"""Enrollment, time in treatment, discharges and Kaplan-Meier retention (section 6.1), on a hand-built cohort.

Four patients, data ending 31 December 2023:

* P001 (Oslo): 10 Jan 2022 to 10 Apr 2022 (90 days, planned, to OAT), re-admitted 1 Jan 2023, still in;
* P002 (Oslo): 1 Mar 2022, still in (670 days to the data end);
* P003 (Bergen): 1 Jun 2022 to 1 Aug 2023 (426 days, unplanned, non-attendance);
* P004 (Bergen): 1 Feb 2023 to 1 Jun 2023 (120 days, unplanned, behaviour).
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import pytest

from analysis.data import schema
from analysis.sections import retention

DATA_END = pd.Timestamp("2023-12-31")


def episodes_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[
            "episode_id",
            "patient_id",
            "episode_number",
            "admission_date",
            "discharge_date",
            "discharge_type",
            "discharge_reason",
        ],
    )
    return schema.pandera_schema(schema.EPISODES).validate(frame)


@pytest.fixture
def episodes() -> pd.DataFrame:
    return episodes_frame(
        [
            ("E001", "P001", 1, "2022-01-10", "2022-04-10", "planned", "transition_to_oat"),
            ("E002", "P001", 2, "2023-01-01", None, None, None),
            ("E003", "P002", 1, "2022-03-01", None, None, None),
            ("E004", "P003", 1, "2022-06-01", "2023-08-01", "unplanned", "non_attendance"),
            ("E005", "P004", 1, "2023-02-01", "2023-06-01", "unplanned", "behaviour_or_violence"),
        ]
    )


@pytest.fixture
def patients() -> pd.DataFrame:
    return pd.DataFrame(
        {"patient_id": ["P001", "P002", "P003", "P004"], "clinic": ["Oslo", "Oslo", "Bergen", "Bergen"]}
    )


def test_patients_by_clinic_counts_and_shares(patients):
    frame = retention.patients_by_clinic(patients).set_index("clinic")
    assert frame.loc["Oslo", "patients"] == 2 and frame.loc["Bergen", "patients"] == 2
    assert frame.loc["All", "patients"] == 4
    assert frame.loc["Oslo", "percent"] == 50.0


def test_enrollments_are_episodes_and_readmissions_count(episodes):
    assert retention.enrollment_counts(episodes) == {"episodes": 5, "patients": 4, "readmissions": 1}


def test_enrollment_by_year_counts_admissions_with_the_patients_clinic(episodes, patients):
    frame = retention.enrollment_by_year(episodes, patients, DATA_END).set_index(["year", "clinic"])["admissions"]
    assert frame.to_dict() == {(2022, "Oslo"): 2, (2022, "Bergen"): 1, (2023, "Oslo"): 1, (2023, "Bergen"): 1}


def test_in_treatment_counts_admission_day_but_not_discharge_day(episodes):
    # P003 is discharged on 1 Aug 2023: in treatment at the end of 31 July, not at the end of 1 August
    assert retention.in_treatment_on(episodes, "2023-07-31").tolist() == [False, True, True, True, False]
    assert retention.in_treatment_on(episodes, "2023-08-01").tolist() == [False, True, True, False, False]
    # P004 admitted on 1 Feb 2023 is in treatment that day
    assert retention.in_treatment_on(episodes, "2023-02-01").iloc[4]
    assert retention.patients_in_treatment(episodes, DATA_END) == 2


def test_in_treatment_at_each_year_end_by_clinic(episodes, patients):
    frame = retention.in_treatment_by_year(episodes, patients, DATA_END).set_index(["year", "clinic"])["patients"]
    # end of 2022: P002 (Oslo) and P003 (Bergen); end of 2023: P001 and P002 (both Oslo)
    assert frame.to_dict() == {(2022, "Oslo"): 1, (2022, "Bergen"): 1, (2023, "Oslo"): 2, (2023, "Bergen"): 0}


def test_in_treatment_stops_at_the_data_end_within_a_year(episodes, patients):
    frame = retention.in_treatment_by_year(episodes, patients, "2023-05-31")
    assert frame["date"].max() == pd.Timestamp("2023-05-31")
    # on 31 May 2023: P001 (E002), P002 in Oslo; P003, P004 in Bergen
    assert frame[frame.year == 2023].set_index("clinic")["patients"].to_dict() == {"Oslo": 2, "Bergen": 2}


def test_patient_days_count_both_ends_and_open_episodes_to_the_data_end(episodes):
    days = retention.patient_days(episodes, DATA_END).tolist()
    assert days == [91, 365, 671, 427, 121]
    assert retention.person_years(episodes, DATA_END) == pytest.approx(1675 / 365.25)


def test_discharges_by_type_and_reason_count_episodes(episodes):
    counts = retention.discharges(episodes)
    assert counts == {
        "discharges": 3,
        "patients": 3,
        "planned": 1,
        "unplanned": 2,
        "planned_to_oat": 1,
        "planned_percent": pytest.approx(100 / 3),
    }
    reasons = retention.discharge_reasons(episodes).set_index("discharge_reason")["discharges"]
    assert reasons.to_dict() == {"transition_to_oat": 1, "behaviour_or_violence": 1, "non_attendance": 1}


def test_a_patient_discharged_twice_counts_twice_as_a_discharge():
    frame = episodes_frame(
        [
            ("E001", "P001", 1, "2022-01-01", "2022-02-01", "unplanned", "non_attendance"),
            ("E002", "P001", 2, "2022-03-01", "2022-05-01", "planned", "agreed_other_follow_up"),
        ]
    )
    counts = retention.discharges(frame)
    assert counts["discharges"] == 2 and counts["patients"] == 1 and counts["planned_to_oat"] == 0


def test_durations_of_discharged_episodes(episodes):
    # discharged: 90, 426 and 120 days
    d = retention.discharged_durations(episodes)
    assert d["n"] == 3
    assert d["median_days"] == 120
    assert d["mean_days"] == pytest.approx(212)
    assert d["median_months"] == pytest.approx(120 / (365.25 / 12))
    assert d["mean_months"] == pytest.approx(212 / 30.4375)
    assert d["min_days"] == 90
    assert d["max_years"] == pytest.approx(426 / 365.25)


def test_discharge_timing_bands_and_their_split(episodes):
    t = retention.discharge_timing(episodes).set_index("band")
    assert t["discharges"].tolist() == [2, 0, 1]
    assert t.loc["within_6_months", "percent"] == pytest.approx(200 / 3)
    assert t.loc["within_6_months", "planned_percent"] == 50.0
    assert t.loc["within_6_months", "unplanned_percent"] == 50.0
    assert t.loc["after_12_months", "unplanned_percent"] == 100.0
    assert math.isnan(t.loc["6_to_12_months", "planned_percent"])


def test_six_months_is_182_625_days():
    # 182 days is 5.98 months (within 6), 183 days is 6.01 months (6 to 12)
    frame = episodes_frame(
        [
            (
                "E001",
                "P001",
                1,
                "2022-01-01",
                pd.Timestamp("2022-01-01") + pd.Timedelta(days=182),
                "planned",
                "transition_to_oat",
            ),
            (
                "E002",
                "P002",
                1,
                "2022-01-01",
                pd.Timestamp("2022-01-01") + pd.Timedelta(days=183),
                "planned",
                "transition_to_oat",
            ),
        ]
    )
    assert retention.discharge_timing(frame)["discharges"].tolist() == [1, 1, 0]


def test_first_episode_times_censor_open_episodes(episodes):
    t = retention.first_episode_times(episodes, DATA_END).set_index("patient_id")
    assert t["days"].to_dict() == {"P001": 90, "P002": 670, "P003": 426, "P004": 120}
    assert t["discharged"].to_dict() == {"P001": True, "P002": False, "P003": True, "P004": True}


def test_kaplan_meier_by_hand(episodes):
    # t=90: 4 at risk, 1 leaves -> 3/4; t=120: 3 at risk, 1 leaves -> 1/2; t=426: 2 at risk, 1 leaves -> 1/4
    curve = retention.km_curve(episodes, DATA_END)
    assert curve["days"].tolist() == [0, 90, 120, 426]
    assert curve["retention"].tolist() == pytest.approx([1, 0.75, 0.5, 0.25])
    assert curve["n_at_risk"].tolist() == [4, 4, 3, 2]
    # Greenwood: 0.75 * sqrt(1 / (4 * 3))
    assert curve.loc[1, "se"] == pytest.approx(0.75 * math.sqrt(1 / 12))
    assert (curve["lower"] <= curve["retention"]).all() and (curve["retention"] <= curve["upper"]).all()
    assert curve["lower"].min() >= 0 and curve["upper"].max() <= 1
    # one year (365.25 days): the estimate after the discharge at day 120
    assert retention.retention_at(episodes, DATA_END) == pytest.approx(0.5)


def test_median_is_first_time_strictly_below_one_half(episodes):
    # the estimate is exactly 1/2 from day 120 and falls below it at day 426
    assert retention.median_retention_days(episodes, DATA_END) == 426
    summary = retention.retention_summary(episodes, DATA_END)
    assert summary["one_year_retention_percent"] == pytest.approx(50)
    assert summary["median_years"] == pytest.approx(426 / 365.25)


def test_km_uses_only_first_episodes(episodes):
    # P001's open second episode must not add a censored time of its own
    curve = retention.km_curve(episodes, DATA_END)
    assert curve.loc[0, "n_at_risk"] == 4


def test_median_not_reached_is_nan():
    frame = episodes_frame(
        [
            ("E001", "P001", 1, "2022-01-01", None, None, None),
            ("E002", "P002", 1, "2022-01-01", "2022-03-01", "planned", "transition_to_oat"),
        ]
    )
    assert math.isnan(retention.median_retention_days(frame, DATA_END))


def test_confidence_band_is_cloglog():
    # one event among 4 at risk: S = 0.75, se = 0.75 * sqrt(1/12); cloglog band by hand
    frame = episodes_frame(
        [
            (
                f"E00{i}",
                f"P00{i}",
                1,
                "2022-01-01",
                "2022-02-01" if i == 1 else None,
                "planned" if i == 1 else None,
                "transition_to_oat" if i == 1 else None,
            )
            for i in range(1, 5)
        ]
    )
    row = retention.km_curve(frame, DATA_END).iloc[-1]
    s, se = 0.75, 0.75 * math.sqrt(1 / 12)
    se_g = se / (s * abs(math.log(s)))
    g = math.log(-math.log(s))
    assert row["lower"] == pytest.approx(math.exp(-math.exp(g + 1.959964 * se_g)), rel=1e-5)
    assert row["upper"] == pytest.approx(math.exp(-math.exp(g - 1.959964 * se_g)), rel=1e-5)


def test_charts_are_altair(episodes, patients):
    for chart in (
        retention.enrollment_chart(retention.enrollment_by_year(episodes, patients, DATA_END)),
        retention.in_treatment_chart(retention.in_treatment_by_year(episodes, patients, DATA_END)),
        retention.km_chart(retention.km_curve(episodes, DATA_END)),
    ):
        assert isinstance(chart, (alt.Chart, alt.LayerChart))
        assert chart.to_dict()["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_share_reachable_knows_which_percentages_a_count_can_give():
    # 30 of 65 is 46.2%, 31 of 65 is 47.7%: no count of 65 prints as 47%
    assert not retention.share_reachable(47, 65)
    assert retention.share_reachable(46, 65)
    assert retention.share_reachable(31, 65)  # 20 of 65 is 30.8%
    assert retention.share_reachable(65.7, 137, step=0.1)  # 90 of 137 is 65.69%
    assert not retention.share_reachable(65.7, 10, step=0.1)
    assert retention.share_reachable(50, 2)
    assert not retention.share_reachable(50, 0)


# --- one-year retention needs a year of follow-up -------------------------------------------------------------


def test_retention_at_is_nan_when_nobody_was_followed_that_long():
    # both first episodes end (or are censored) before 365.25 days: the curve is not defined at one year
    frame = episodes_frame(
        [
            ("E001", "P001", 1, "2023-03-01", None, None, None),
            ("E002", "P002", 1, "2023-01-01", "2023-03-01", "planned", "transition_to_oat"),
        ]
    )
    assert math.isnan(retention.retention_at(frame, DATA_END))
    # but at 100 days it is: P002 left on day 59, 1 of 2 -> 1/2
    assert retention.retention_at(frame, DATA_END, 100) == pytest.approx(0.5)


# --- capacity in force -------------------------------------------------------------------------------------


@pytest.fixture
def schedule() -> pd.DataFrame:
    reported = pd.Series(
        {
            "s6_1_capacity_oslo_initial": 50,
            "s6_1_capacity_oslo_2025": 65,
            "s6_1_capacity_bergen_initial": 15,
            "s6_1_capacity_bergen_intermediate": 40,
            "s6_1_capacity_bergen_2025": 100,
        }
    )
    return retention.capacity_schedule(reported)


def test_capacity_at_the_end_of_2025_is_the_final_one(schedule):
    assert retention.capacity_in_force(schedule, "2025-12-31", ["Oslo", "Bergen"]) == (165, 165)
    assert retention.capacity_in_force(schedule, "2025-12-31", ["Bergen"]) == (100, 100)


def test_capacity_after_bergens_move_in_november_2024(schedule):
    # Bergen's 100 places are dated (November 2024); Oslo's increase to 65 is not, so Oslo is 50 or 65
    assert retention.capacity_in_force(schedule, "2024-12-31", ["Bergen"]) == (100, 100)
    assert retention.capacity_in_force(schedule, "2024-12-31", ["Oslo", "Bergen"]) == (150, 165)


def test_capacity_in_2023_is_a_range_not_the_end_of_2025(schedule):
    # Oslo 50 or 65, Bergen 15 or 40: never the 165 places of the end of 2025
    assert retention.capacity_in_force(schedule, "2023-12-31", ["Oslo", "Bergen"]) == (65, 105)


def test_a_clinic_not_yet_open_has_no_capacity(schedule):
    assert retention.capacity_in_force(schedule, "2022-02-01", ["Bergen"]) == (0, 0)


def test_occupancy_sentence_words_and_ranges():
    certain = retention.occupancy_sentence(76, (165, 165), "31 December 2025", "both clinics")
    assert "0.46 (46%)" in certain and "nearly half of what the clinics could hold" in certain
    ranged = retention.occupancy_sentence(64, (65, 105), "31 December 2023", "both clinics")
    assert "between 65 and 105 places" in ranged and "between 61% and 98%" in ranged and "half" not in ranged
    over = retention.occupancy_sentence(200, (100, 100), "31 December 2025", "the Bergen clinic")
    assert "the Bergen clinic's capacity of 100 places" in over and "more patients than places" in over
    hidden = retention.occupancy_sentence("<5", (15, 40), "31 December 2022", "the Bergen clinic")
    assert "withheld" in hidden and "%" not in hidden


# --- the Kaplan-Meier curve of a rerun ------------------------------------------------------------------------


def test_grouped_curve_has_no_step_of_fewer_than_threshold_people():
    # 12 patients admitted 2022-01-01: discharged on days 10, 20, 40, 45, 50, 70, 80, 100; 4 open (censored at 729)
    stays = [10, 20, 40, 45, 50, 70, 80, 100]
    rows = [
        (
            f"E{i:03d}",
            f"P{i:03d}",
            1,
            "2022-01-01",
            (pd.Timestamp("2022-01-01") + pd.Timedelta(days=d)).date().isoformat(),
            "planned",
            "transition_to_oat",
        )
        for i, d in enumerate(stays, 1)
    ]
    rows += [(f"E{i:03d}", f"P{i:03d}", 1, "2022-01-01", None, None, None) for i in range(9, 13)]
    frame = episodes_frame(rows)
    grouped = retention.km_curve_grouped(frame, DATA_END, threshold=3, step_days=30)
    # grid 30: 2 events (10, 20) -> not shown; 60: 3 more (40, 45, 50) -> 5 since 0, shown, 7 at risk after day 60;
    # 90: 2 (70, 80) -> not shown; 120: 3 (70, 80, 100), shown, 4 at risk; 150 onwards: no more events
    assert grouped["days"].tolist() == [0, 60, 120]
    assert grouped["discharges"].tolist() == [0, 5, 3]
    assert grouped["n_at_risk"].tolist() == [12, 7, 4]
    assert grouped["retention"].tolist() == pytest.approx([1, 7 / 12, 4 / 12])
    assert (grouped["discharges"].iloc[1:] >= 3).all() and (grouped["n_at_risk"] >= 3).all()
    # a threshold above the at-risk count after the first step stops the curve at its start
    assert retention.km_curve_grouped(frame, DATA_END, threshold=8, step_days=30)["days"].tolist() == [0]
    # fewer patients than the threshold: nothing to draw
    assert retention.km_curve_grouped(frame, DATA_END, threshold=13).empty


# --- the year-to-year sentence ----------------------------------------------------------------------------


def test_trend_sentence_peak_years_and_stock():
    enrolled = pd.DataFrame(
        {
            "year": [2022, 2022, 2023, 2023, 2024, 2024],
            "clinic": ["Oslo", "Bergen"] * 3,
            "admissions": [40, 10, 20, 12, 10, 3],
        }
    )
    year_end = pd.DataFrame(
        {
            "year": [2022, 2022, 2023, 2023, 2024, 2024],
            "clinic": ["Oslo", "Bergen"] * 3,
            "patients": [30, 8, 40, 12, 45, 14],
        }
    )
    sentence = retention.trend_sentence(enrolled, year_end, ["Oslo", "Bergen"], None)
    assert sentence.startswith(
        "The Oslo clinic admitted the most patients in 2022 and fewer in each year after it; "
        "the Bergen clinic admitted the most patients in 2023 and fewer in each year after it."
    )
    assert sentence.endswith("still grew from each year to the next.")
    # with a threshold of 5, Bergen's 3 admissions in 2024 keep its years unranked
    protected = retention.trend_sentence(enrolled, year_end, ["Oslo", "Bergen"], 5)
    assert "Bergen clinic are too small to rank" in protected and "Bergen clinic admitted" not in protected
    fell = year_end.assign(patients=[30, 8, 20, 12, 45, 14])
    assert "did not grow in every year" in retention.trend_sentence(enrolled, fell, ["Oslo", "Bergen"], None)
    assert "no change from year to year" in retention.trend_sentence(
        enrolled[enrolled.year == 2022], year_end, ["Oslo"], None
    )


# --- the page's statistics as an edition shows them -------------------------------------------------------


def toy_page(episodes, patients, published: bool = True, min_cell: int | None = None):
    """A page of the hand-built cohort (published edition unless ``published`` is False)."""
    from types import SimpleNamespace

    from analysis.presentation import scorecard

    cohort = SimpleNamespace(episodes=episodes, patients=patients.astype({"patient_id": "string"}), data_end=DATA_END)
    edition = SimpleNamespace(
        published=published,
        clinic_names=["Oslo", "Bergen"],
        data_end_text="31 December 2023",
        clinics="both clinics",
        whole_pilot=False,
        clinic="all",
    )
    card = scorecard.Card(compare=published, min_cell=min_cell)
    return SimpleNamespace(cohort=cohort, edition=edition, card=card, published=scorecard.ledger(), sdc=card.min_cell)


def test_kaplan_meier_of_the_page_by_hand(episodes):
    km = retention.kaplan_meier(episodes, DATA_END, None)
    # first episodes: 90 and 120 days (left), 426 days (left), 670 days (open): two left within the year
    assert km.estimable and km.followed_a_year and km.of == [2, 2]
    assert km.summary["one_year_retention_percent"] == pytest.approx(50.0)
    # a rerun with a threshold of 5 does not estimate from four patients
    rerun = retention.kaplan_meier(episodes, DATA_END, 5)
    assert not rerun.estimable and rerun.of == [] and math.isnan(rerun.summary["median_years"])
    assert retention.retention_sentence(
        rerun, toy_page(episodes, pd.DataFrame({"patient_id": []})).card, "31 December 2023"
    ).startswith("There are too few patients")


def test_section_statistics_of_the_published_edition_by_hand(episodes, patients):
    page = toy_page(episodes, patients)
    shown = retention.shown_tables(page)
    reported = pd.Series(
        {
            "s6_1_capacity_oslo_initial": 10,
            "s6_1_capacity_oslo_2025": 20,
            "s6_1_capacity_bergen_initial": 5,
            "s6_1_capacity_bergen_intermediate": 8,
            "s6_1_capacity_bergen_2025": 12,
            "s6_1_bergen_relocations_n": 2,
        }
    )
    frame = retention.section_statistics(page, shown, retention.kaplan_meier(episodes, DATA_END, None), reported)
    assert frame["key"].is_unique
    rows = frame.set_index("key")
    assert rows.loc["s6_1_patients_participated_total", "value"] == 4
    # in treatment on 31 December 2023: P001 (second episode) and P002; the report leaves the dates of the
    # changes of capacity open, so on that day Oslo had 10 or 20 places and Bergen 5 or 8: no one occupancy
    assert rows.loc["s6_1_patients_in_treatment_2025_12_31", "value"] == 2
    assert math.isnan(rows.loc["s6_1_enrolled_share_of_capacity", "value"])
    assert retention.capacity_total_of(page, reported) == "15\u201328"
    # three discharges: one planned (to OAT), two unplanned; P001 left within 6 months (90 days), P004 too
    assert rows.loc["s6_1_individuals_discharged", "value"] == 3 and rows.loc["s6_1_discharges_planned_n", "value"] == 1
    assert rows.loc["es_discharges_nonattendance_involuntary_percent", "value"] == pytest.approx(200 / 3)
    assert rows.loc["s6_1_left_within_6_months_percent", "value"] == pytest.approx(200 / 3)
    assert rows.loc["s61_timing_sentence", "value"].startswith(
        "Of all who left, 67% did so within the first six months"
    )
    assert rows.loc["s61_bands_report_note", "value"] == retention.BANDS_REPORT_NOTE


def test_timing_sentence_without_discharges(episodes, patients):
    still_in = episodes[episodes["discharge_date"].isna()]
    page = toy_page(still_in, patients)
    rows = {row["key"]: row["value"] for row in retention.timing_rows(page, retention.shown_tables(page))}
    assert (
        rows["s61_timing_sentence"]
        == "No episode had ended by 31 December 2023, so there is no timing of discharges to describe."
    )
