"""Section 6.7's statistics frames (Tables 6.D to 6.G, 6.K, 6.L): every key written out, each value the
table's cell, and the counts and protection a rerun needs, on small samples worked by hand."""

import math

import pandas as pd
import pytest

from analysis.presentation.scorecard import ledger
from analysis.sections import cost_utility as cu

NO_MARKS = {"sample": None, "continued": None, "discontinued": None, "planned": None, "unplanned": None}


def sample() -> pd.DataFrame:
    # continued: costs 300 and 500, QALYs 1.0 and 2.0; discontinued (planned, unplanned, unplanned): 100, 200, 300 and 0.5 each
    return pd.DataFrame(
        {
            "patient_id": [1, 2, 3, 4, 5],
            "group": ["continued", "continued", "planned", "unplanned", "unplanned"],
            "cost": [300.0, 500.0, 100.0, 200.0, 300.0],
            "qalys": [1.0, 2.0, 0.5, 0.5, 0.5],
            "days": [100.0, 200.0, 50.0, 60.0, 70.0],
            "follow_up_years": [2.0, 4.0, 1.0, 1.0, 1.0],
        }
    )


def as_dict(statistics: pd.DataFrame) -> dict:
    assert statistics["key"].is_unique
    return statistics.set_index("key").to_dict("index")


def test_accumulated_statistics_by_hand():
    data = sample()
    t6d = cu.accumulated_table(data)
    rows = as_dict(cu.accumulated_statistics(data, t6d, cu.accumulated_icer(t6d), NO_MARKS))
    assert rows["s6_7_step1_n_two_eq5d"]["value"] == 5
    assert rows["t6d_continued_n"]["value"] == 2 and rows["t6d_discontinued_n"]["value"] == 3
    assert rows["t6d_continued_cost_mean"]["value"] == 400.0 and rows["t6d_discontinued_cost_mean"]["value"] == 200.0
    assert rows["t6d_continued_days_in_treatment"]["value"] == 150.0
    # 400 - 200 = 200 NOK for 1.5 - 0.5 = 1 QALY
    assert rows["t6e_delta_cost"]["value"] == 200.0 and rows["t6e_delta_qaly"]["value"] == 1.0
    assert rows["t6e_icer"]["value"] == 200.0 == rows["s6_7_step1_icer"]["value"]
    assert rows["s6_7_annual_duration_ratio"]["value"] == 3.0  # 3 years of follow-up against 1
    assert rows["t6e_icer"]["of"] == [2, 3]
    assert set(rows) <= set(ledger().index)


def test_accumulated_statistics_carry_the_joint_protection():
    data = sample()
    t6d = cu.accumulated_table(data)
    marks = {**NO_MARKS, "discontinued": "<5"}
    rows = as_dict(cu.accumulated_statistics(data, t6d, cu.accumulated_icer(t6d), marks))
    assert rows["t6d_discontinued_n"]["shown"] == "<5"
    assert rows["t6d_discontinued_cost_mean"]["suppress"] and not rows["t6d_continued_cost_mean"]["suppress"]
    assert rows["t6e_delta_cost"]["suppress"] and rows["s6_7_annual_duration_ratio"]["suppress"]


def test_annual_statistics_by_hand():
    data = sample()
    data = data.assign(
        annual_cost=data["cost"] / data["follow_up_years"], annual_qalys=data["qalys"] / data["follow_up_years"]
    )
    t6f, t6g = cu.follow_up_table(data), cu.annualized_comparisons(data)
    rows = as_dict(cu.annual_statistics(t6f, t6g, NO_MARKS))
    assert rows["s6_7_annual_n_groups"]["value"] == 3
    assert rows["t6f_unplanned_termination_n"]["value"] == 2
    assert rows["t6f_continued_followup_years"]["value"] == 3.0
    # continued: (150 + 125) / 2 = 137.5 NOK and (0.5 + 0.5) / 2 = 0.5 QALY a year; unplanned 250 NOK and 0.5
    assert rows["t6g_cont_vs_unplanned_delta_cost"]["value"] == -112.5
    assert rows["t6g_cont_vs_unplanned_delta_qaly"]["value"] == 0.0
    assert math.isnan(rows["t6g_cont_vs_unplanned_icer"]["value"])  # dominant: no ICER
    assert rows["t6g_cont_vs_planned_delta_cost"]["of"] == [2, 1]
    assert rows["t6f_continued_qaly_mean"]["note"] == cu.T6F_NOTES["continued_qaly_mean"]
    assert set(rows) <= set(ledger().index)
    # a withheld group ("–" may stand for no patients): the three groups the analysis forms
    no_planned = data[data["group"] != "planned"]
    empty = as_dict(
        cu.annual_statistics(cu.follow_up_table(no_planned), cu.annualized_comparisons(no_planned), NO_MARKS)
    )
    assert empty["s6_7_annual_n_groups"]["value"] == 2
    hidden = as_dict(
        cu.annual_statistics(
            cu.follow_up_table(no_planned), cu.annualized_comparisons(no_planned), {**NO_MARKS, "planned": "–"}
        )
    )
    assert hidden["s6_7_annual_n_groups"]["value"] == 3 and hidden["t6g_cont_vs_planned_delta_qaly"]["suppress"]


def test_adjusted_statistics_by_hand():
    t6k = pd.DataFrame(
        {
            "comparator": ["planned", "unplanned"],
            "delta_cost": [-100.0, 1000.0],
            "specialist_offset": [50.0, 800.0],
            "primary_offset": [10.0, 300.0],
            "net_delta_cost": [-160.0, -100.0],
            "delta_qaly": [0.1, 0.2],
            "status": ["dominant", "dominant"],
        }
    )
    rows = as_dict(
        cu.adjusted_statistics(
            t6k,
            {"continued": 10, "planned": 6, "unplanned": 7},
            {"planned": False, "unplanned": False},
            {"planned": False, "unplanned": True},
        )
    )
    assert rows["t6k_cont_vs_unplanned_net_delta_cost"]["value"] == -100.0
    assert rows["t6k_cont_vs_unplanned_reduction_specialist"]["value"] == 800.0
    assert rows["t6k_cont_vs_unplanned_net_delta_cost"]["of"] == [10, 7]
    # an offset resting on a hidden cohort group withholds the net row, not the summary of the sample's own figures
    assert (
        rows["s6_7_scenario_net_delta_cost_unplanned"]["suppress"] and not rows["s6_7_summary_delta_cost"]["suppress"]
    )
    assert not rows["t6k_cont_vs_planned_delta_qaly"]["suppress"]
    assert set(rows) <= set(ledger().index)


def test_crime_statistics_by_hand():
    changes = pd.DataFrame({"baseline": [10.0, 20.0], "last": [4.0, 6.0]})
    changes["change"] = changes["last"] - changes["baseline"]
    changes["annualized_change"] = 12 * changes["change"]
    changes["annualized_cost"] = 3500 * changes["annualized_change"]
    t6l = cu.crime_table(changes)
    rows = as_dict(cu.crime_statistics(t6l, 2, ledger()))
    assert rows["s6_7_crime_n_patients"]["value"] == 2
    assert rows["t6l_change_crime_days_mean"]["value"] == -10.0
    assert rows["s6_7_crime_days_reduction"]["value"] == 120.0  # 10 fewer days a month, twelve months
    assert rows["s6_7_crime_cost_reduction"]["value"] == 420_000.0 == rows["s6_7_main_crime_reduction"]["value"]
    assert rows["t6l_baseline_crime_days_sd"]["note"] == cu.CRIME_CAP_NOTE
    assert (
        rows["s6_7_societal_crime_reduction_lower_bound"]["value"]
        == ledger().at["s6_7_societal_crime_reduction_lower_bound", "value"]
    )
    withheld = as_dict(cu.crime_statistics(t6l, "–", ledger()))
    assert withheld["s6_7_crime_n_patients"]["shown"] == "–" and withheld["t6l_change_crime_days_mean"]["suppress"]
    assert set(rows) <= set(ledger().index)


@pytest.mark.parametrize(
    "keys", [("s6_7_gross_period_start",), ("s6_7_societal_target_share_low", "s6_7_societal_target_share_high")]
)
def test_from_report_gives_the_printed_figures(keys):
    book = ledger()
    rows = as_dict(cu.from_report(book, *keys))
    assert {key: row["value"] for key, row in rows.items()} == {key: book.at[key, "value"] for key in keys}


def test_edition_program_costs_total_row_and_its_protection():
    from analysis.presentation.edition import open_page

    program = cu.edition_program_costs(open_page("all", 2025, None, 5, glue_words=False))
    rows = as_dict(program.statistics)
    total_cost, patient_days = (
        rows["t6c_all_2022_2025_total_cost"]["value"],
        rows["t6c_all_2022_2025_patient_days"]["value"],
    )
    assert rows["t6c_all_2022_2025_cost_per_day"]["value"] == pytest.approx(total_cost / patient_days)
    assert rows["s6_7_main_annual_cost_per_patient"]["value"] == pytest.approx(365 * total_cost / patient_days)
    assert (
        rows["cu_accounts_note"]["value"] == " " and program.accounts_note == ""
    )  # nothing to say in the published edition
    assert program.table["Clinic"].iloc[-1] == "Total" and len(program.table) == len(program.costs) + 1
    # a rerun whose threshold no group reaches: every count shows its mark, and the days go with it
    small = cu.edition_program_costs(open_page("Bergen", 2022, None, 1000, glue_words=False))
    rows = as_dict(small.statistics)
    assert (
        rows["t6c_all_2022_2025_n_patients"]["shown"] == "<1000" and rows["t6c_all_2022_2025_cost_per_day"]["suppress"]
    )
    assert set(small.table["Patients"]) == {"<1000"} and set(small.table["Patient-days"]) == {"–"}


def test_offset_sentences_follow_the_signs_by_hand():
    wide = pd.DataFrame(
        {
            "som": [10.0, 700.0],
            "phv": [-5.0, -50.0],
            "tsb": [-20.0, 200.0],
            "specialist_total": [-15.0, 850.0],
            "primary_total": [1.0, 30.0],
        },
        index=["planned", "unplanned"],
    )
    primary, specialist = cu._offset_sentences(wide, True, None)
    assert (
        primary
        == "Against unplanned termination the total is 30 NOK a year, so primary care hardly moves the cost-effectiveness estimates."
    )
    assert specialist.startswith(
        "Against unplanned termination, specialist-care costs fall by 850 NOK per patient-year, most of it in somatic care (700 NOK)."
    )
    assert (
        "Mental health care shows negative values" in specialist
        and "fall clearly against unplanned termination (200" in specialist
    )
    withheld, _ = cu._offset_sentences(wide, False, 5)
    assert withheld.startswith("The offsets are withheld (–)") and "fewer than 5 patients" in withheld


def test_health_service_offsets_statistics_are_the_tables_cells():
    from analysis.presentation.edition import open_page
    from analysis.sections import health_services as hs

    page = open_page("all", 2025, None, 5, glue_words=False)
    cohort = page.cohort
    result = cu.health_service_offsets(
        page, hs.registry_periods(cohort.health_service_use), hs.trajectory_groups(cohort.episodes)
    )
    rows = as_dict(result.statistics)
    assert rows["s6_7_specialist_total_reduction_unplanned"]["value"] == result.wide.at["unplanned", "specialist_total"]
    assert rows["t6i_cont_vs_unplanned_total_specialist"]["value"] == result.wide.at["unplanned", "specialist_total"]
    assert set(rows) - {"cu_primary_text", "cu_specialist_text"} <= set(ledger().index)
    assert result.shown and list(result.table_6i["Comparison"]) == [
        "Continued vs planned termination",
        "Continued vs unplanned termination",
    ]


def annual_sample(n_per_group: int) -> pd.DataFrame:
    """Each group's patients with the same yearly cost and QALYs but one, so the bootstrap has some spread."""
    rows = []
    for group, cost, qalys in (("continued", 500.0, 0.7), ("planned", 300.0, 0.6), ("unplanned", 200.0, 0.5)):
        for i in range(n_per_group):
            rows.append(
                {
                    "patient_id": f"{group}{i}",
                    "group": group,
                    "annual_cost": cost + 10 * i,
                    "annual_qalys": qalys + 0.01 * i,
                }
            )
    return pd.DataFrame(rows)


def test_bootstrap_is_not_run_for_a_small_or_hidden_group():
    sizes = {"continued": 6, "planned": 6, "unplanned": 3}
    small = cu.bootstrap_comparisons(annual_sample(3), sizes, dict.fromkeys(sizes, False), 5, 825_000.0)
    rows = as_dict(small.statistics)
    assert not small.enough and math.isnan(rows["cu_boot_dc_lo"]["value"]) and small.icer_interval == "n/a"
    assert rows["cu_boot_reason"]["value"].startswith("The bootstrap needs at least 5 patients")
    hidden = cu.bootstrap_comparisons(
        annual_sample(6), dict.fromkeys(sizes, 6), {**dict.fromkeys(sizes, False), "planned": True}, 5, 825_000.0
    )
    assert not hidden.enough and as_dict(hidden.statistics)["cu_boot_reason"]["value"].startswith(
        "The bootstrap's results show n/a"
    )


def test_bootstrap_brackets_the_difference_worked_by_hand():
    # continued against unplanned: 300 NOK and 0.2 QALY more a year in every patient pair, whatever the draw
    data = annual_sample(6)
    result = cu.bootstrap_comparisons(
        data,
        dict.fromkeys(("continued", "planned", "unplanned"), 6),
        dict.fromkeys(("continued", "planned", "unplanned"), False),
        5,
        825_000.0,
    )
    rows = as_dict(result.statistics)
    assert result.enough and rows["cu_replicates"]["value"] == 5000
    assert rows["cu_boot_dc_lo"]["value"] <= 300.0 <= rows["cu_boot_dc_hi"]["value"]
    assert rows["cu_boot_dq_lo"]["value"] <= 0.2 <= rows["cu_boot_dq_hi"]["value"]
    # 1,500 NOK per QALY: cost-effective at 825,000 in every replicate, at 0 NOK in none
    assert rows["cu_prob_unplanned_severe"]["value"] == 100.0 and rows["cu_prob_unplanned_cheaper"]["value"] == 0.0
    assert result.icer_interval.endswith("NOK per QALY")


def test_sign_words():
    tornado = pd.DataFrame({"outcome_low": [1.0, 2.0], "outcome_high": [3.0, 4.0]})
    assert cu.sign_words(tornado) == "stays positive"
    assert cu.sign_words(-tornado) == "stays negative"
    assert cu.sign_words(tornado.assign(outcome_low=[-1.0, 2.0])) == "changes sign"


def test_specialist_care_change_glues_table_6j_and_its_reductions():
    from analysis.presentation.edition import open_page
    from analysis.sections import health_services as hs

    page = open_page("all", 2025, None, 5, glue_words=False)
    periods = hs.registry_periods(page.cohort.health_service_use)
    statistics, shown = cu.specialist_care_change(page, periods)
    rows = as_dict(statistics)
    change = hs.before_after(periods).set_index("category")["annualized_change"]
    assert rows["s6_7_overall_total_reduction"]["value"] == -change["specialist_total"]
    assert rows["s6_7_overall_phv_increase"]["value"] == change["phv"]
    assert (rows["s6_7_overall_window_before"]["value"], rows["s6_7_overall_window_after"]["value"]) == (1, 2)
    assert set(rows) - {"cu_cohort_text"} <= set(ledger().index)
    assert list(shown.columns) == list(cu.T6J_HEADINGS.values()) and len(shown) == 4


def test_net_benefit_sensitivity_varies_each_input_around_one_base_case():
    from analysis.presentation.edition import open_page
    from analysis.sections import health_services as hs

    page = open_page("all", 2025, None, 5, glue_words=False)
    cohort = page.cohort
    groups = hs.trajectory_groups(cohort.episodes)
    wide = hs.cost_offsets(hs.registry_periods(cohort.health_service_use), groups).pivot(
        index="comparison", columns="category", values="offset"
    )
    changes = cu.crime_changes(cohort.questionnaires, cu.crime_cost_per_day())
    accounts = cu.edition_accounts(None)[0]
    tornado = cu.net_benefit_sensitivity(cohort, accounts, groups, changes, wide, ledger())
    assert len(tornado) == 6 and tornado["base_outcome"].nunique() == 1
    # clinic costs +25% can only lower the net benefit of the dearer treatment
    programme = tornado.set_index("parameter").loc["programme"]
    assert programme["outcome_high"] < programme["base_outcome"] < programme["outcome_low"]


def test_status_words_and_decimals():
    sizes = {"continued": 10, "planned": 0, "unplanned": 3}
    assert cu.status_words("dominant", sizes, "planned", False, None) == "n/a"  # no patient to compare with
    assert cu.status_words("dominant", sizes, "unplanned", True, 5) == "–"  # a rerun withholds it
    assert cu.status_words("dominant", sizes, "unplanned", True, None) == "dominant"  # the published edition shows it
    assert cu.status_words("", sizes, "unplanned", False, 5) == "not computable"
    assert cu.decimals(3)(0.12345) == "0.123" and cu.decimals(1)("<5") == "<5" and cu.decimals(2)(float("nan")) == "n/a"


class _PublishedCard:
    """A card of the published edition: shows every value as it is."""

    @staticmethod
    def disclose(value, **_):
        return value


def t6k_by_hand() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "comparator": ["planned", "unplanned"],
            "delta_cost": [-100.0, 1000.0],
            "specialist_offset": [50.0, 800.0],
            "primary_offset": [10.0, -300.0],
            "net_delta_cost": [-160.0, 500.0],
            "delta_qaly": [0.1, 0.2],
            "status": ["dominant", "more costly, more effective"],
        }
    )


def test_adjusted_words_by_hand():
    wide = pd.DataFrame({"som": [0.0, 700.0], "specialist_total": [0.0, 800.0]}, index=["planned", "unplanned"])
    text, reading = cu.adjusted_words(t6k_by_hand(), {"planned": False, "unplanned": False}, True, wide)
    assert text == (
        "Against unplanned termination the yearly extra programme cost of 1,000 NOK meets savings of 800 NOK in "
        "specialist care and extra costs of 300 NOK in primary care, leaving a net incremental cost of 500 NOK for "
        "0.200 QALYs a year: *more costly, more effective*. Against planned termination the net result is *dominant*."
    )
    assert reading.startswith("They do indicate")
    withheld, none = cu.adjusted_words(t6k_by_hand(), {"planned": True, "unplanned": False}, False, wide)
    assert withheld.startswith("The net comparison against unplanned termination is withheld") and none == ""


def test_adjusted_and_crime_tables_as_shown():
    table = cu.adjusted_table(
        t6k_by_hand(),
        _PublishedCard,
        {"continued": 10, "planned": 6, "unplanned": 7},
        {"planned": False, "unplanned": False},
    )
    assert list(table.columns) == list(cu.T6K_HEADINGS.values())
    assert table.iloc[1].tolist() == [
        "Continued vs unplanned termination",
        "1,000",
        "800",
        "−300",
        "500",
        "0.200",
        "more costly, more effective",
    ]
    changes = pd.DataFrame(
        {
            "baseline": [10.0, 20.0],
            "last": [4.0, 6.0],
            "change": [-6.0, -14.0],
            "annualized_change": [-72.0, -168.0],
            "annualized_cost": [-252_000.0, -588_000.0],
        }
    )
    t6l = cu.crime_table(changes)
    shown = cu.crime_table_shown(t6l, _PublishedCard, False)
    assert shown["Mean"].tolist() == ["15.00", "5.00", "−10.00", "−120.00", "−420,000"]
    assert cu.crime_words(t6l, False, None, None) == (
        "On average, the 2 patients reported 120 fewer crime days a year, "
        "worth 420,000 NOK to society per patient-year."
    )
    assert cu.crime_words(t6l, False, 5, None).startswith("Fewer than 5 patients answered")
    assert cu.crime_words(t6l, True, None, None).startswith("The number of patients who answered")


def test_annual_words_and_tables_by_hand():
    t6g = pd.DataFrame(
        {
            "comparator": ["planned", "unplanned"],
            "delta_cost": [-33_749.0, 103_344.0],
            "delta_qaly": [0.069, 0.122],
            "icer": [float("nan"), 103_344.0 / 0.122],
            "status": ["dominant", "more costly, more effective"],
        }
    )
    sizes = {"continued": 68, "planned": 32, "unplanned": 16}
    words, unplanned, planned = cu.annual_words(
        t6g, _PublishedCard, sizes, {"planned": "", "unplanned": ""}, True, 825_000.0, 825_000.0
    )
    assert words == "above"  # 847,082 NOK per QALY
    assert unplanned.endswith(
        "at 847,082 NOK per QALY, above the 825,000 NOK commonly cited for severe conditions in Norway"
    )
    assert planned == (
        "Against planned termination the difference in cost is −33,749 NOK per year and in QALYs 0.069, so "
        "continued HAT is *dominant*."
    )
    reasons = {
        "planned": "Fewer than 5 patients had a planned termination, so this comparison is withheld (–).",
        "unplanned": "",
    }
    assert cu.annual_words(t6g, _PublishedCard, sizes, reasons, False, 825_000.0, 825_000.0)[2] == (
        "Against planned termination: fewer than 5 patients had a planned termination, so this comparison is withheld (–)."
    )
    table = cu.annual_table(t6g, _PublishedCard, sizes, {"planned": False, "unplanned": False}, None)
    assert table["ICER (NOK per QALY)"].tolist() == ["dominant", "847,082"]
    assert table["Δ QALY per year"].tolist() == ["0.069", "0.122"]
    t6f = pd.DataFrame(
        {
            "group": ["continued", "planned", "unplanned"],
            "n": [68, 32, 16],
            "qaly_mean": [1.2, 0.35, 0.2345],
            "qaly_sd": [0.5, 0.2, 0.1],
            "qaly_median": [1.1, 0.3, 0.2],
            "follow_up_years": [3.0, 1.2, 1.0],
        }
    )
    shown = cu.follow_up_table_shown(t6f, {"continued": None, "planned": None, "unplanned": "<5"})
    assert shown["N"].tolist()[-1] == "<5" and shown.columns.tolist() == list(cu.T6F_HEADINGS.values())
