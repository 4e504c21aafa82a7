"""Cost-utility functions on the editions a rerun makes: accounts from the data or the published record,
comparisons that cannot be made, sentences chosen from the numbers (answers worked out by hand)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.methods import cea
from analysis.sections import cost_utility as cu
from analysis.sections import markov as mk


def test_edition_accounts_prefer_the_datas_own():
    own = pd.DataFrame({"clinic": ["Oslo"], "year": [2022], "total_cost_nok": [1_000_000]})
    accounts, source = cu.edition_accounts(own)
    assert source == cu.ACCOUNTS_FROM_DATA
    assert accounts.to_dict("records") == [{"clinic": "Oslo", "year": 2022, "total_cost": 1_000_000}]


def test_edition_accounts_fall_back_to_the_published_totals():
    empty = pd.DataFrame(columns=["clinic", "year", "total_cost_nok"])
    for given in (None, empty):
        accounts, source = cu.edition_accounts(given)
        assert source == cu.ACCOUNTS_PUBLISHED
        assert accounts.equals(cu.clinic_accounts())


def test_published_patient_days_sum_the_clinic_years_asked_for():
    table = cu.published_table("table_6c_program_costs")
    rows = table[table["row_type"] == "clinic_year"]
    rows = rows[(rows["clinic"] == "Bergen") & (rows["year"].astype(int) == 2022)]
    assert len(rows) == 1
    assert cu.published_patient_days(["Bergen"], [2022]) == float(rows["patient_days"].sum())
    both = table[table["row_type"] == "clinic_year"]["patient_days"].sum()
    assert cu.published_patient_days(["Oslo", "Bergen"], [2022, 2023, 2024, 2025]) == float(both)


COSTS = pd.DataFrame(
    {"clinic": ["Oslo", "Oslo"], "year": [2022, 2023], "patient_days": [600.0, 400.0], "total_cost": [1.0, 1.0]}
)


def test_accounts_note_says_which_way_the_cost_per_day_is_wrong():
    fewer = cu.accounts_note(
        cu.ACCOUNTS_PUBLISHED, COSTS, whose="the Oslo clinic's", data_name="the data set “x”", report_days=2000
    )
    assert fewer == (
        "These costs use the Oslo clinic's published accounts for 2022–2023, since the data set “x” brings none; "
        "with fewer patient-days than the report's, they overstate the cost per day."
    )
    assert "understate" in cu.accounts_note(cu.ACCOUNTS_PUBLISHED, COSTS, whose="w", data_name="d", report_days=500)
    # 1,000 days against 1,002 is within half a percent: about the report's
    assert "about the report's" in cu.accounts_note(
        cu.ACCOUNTS_PUBLISHED, COSTS, whose="w", data_name="d", report_days=1002
    )
    assert cu.accounts_note(cu.ACCOUNTS_FROM_DATA, COSTS, whose="w", data_name="d", report_days=2000) == ""


def test_program_cost_total_without_days_is_not_a_number():
    days = pd.DataFrame(columns=["patient_id", "clinic", "year", "days"])
    costs = pd.DataFrame(columns=["clinic", "year", "n_patients", "total_cost", "patient_days", "cost_per_day"])
    total = cu.program_cost_total(days, costs)
    assert total["n_patients"] == 0 and math.isnan(total["cost_per_day"]) and math.isnan(total["cost_per_patient_year"])


def test_follow_up_ratio_needs_both_groups():
    sample = pd.DataFrame(
        {"group": ["continued", "continued", "planned", "unplanned"], "follow_up_years": [2.0, 4.0, 1.0, 2.0]}
    )
    assert cu.follow_up_ratio(sample) == 2.0  # 3 years against 1.5
    assert math.isnan(cu.follow_up_ratio(sample[sample["group"] == "continued"]))


def test_comparison_reason_in_order_empty_small_negligible_quadrant():
    sizes = {"continued": 10, "planned": 0, "unplanned": 3}
    assert "No patient" in cu.comparison_reason(sizes, ["continued", "planned"], 5)
    assert "Fewer than 5" in cu.comparison_reason(sizes, ["continued", "unplanned"], 5)
    assert cu.comparison_reason(sizes, ["continued", "unplanned"], None) == ""
    assert "too close to zero" in cu.comparison_reason(
        {"continued": 9, "unplanned": 9}, ["continued", "unplanned"], 5, 0.0004
    )
    assert "dominant" in cu.comparison_reason(
        {"continued": 9, "unplanned": 9}, ["continued", "unplanned"], 5, 0.2, cea.DOMINANT
    )


def test_no_icer_for_a_negligible_qaly_difference():
    sample = pd.DataFrame(
        {
            "patient_id": list("ABC"),
            "group": ["continued", "planned", "unplanned"],
            "annual_cost": [100.0, 50.0, 50.0],
            "annual_qalys": [0.5, 0.4999, 0.3],
        }
    )
    table = cu.annualized_comparisons(sample).set_index("comparator")
    assert math.isnan(table.at["planned", "icer"])  # 50 NOK for 0.0001 QALY: no price per QALY
    assert table.at["unplanned", "icer"] == 250.0


def test_difference_sentence_follows_the_signs():
    up = cu.difference_sentence("Patients who stayed", 1000.0, 0.25, icer=4000.0, table="6.E")
    assert (
        up
        == "Patients who stayed cost 1,000 NOK more and gained 0.250 QALYs more, a ratio of 4,000 NOK per QALY (Table 6.E)."
    )
    down = cu.difference_sentence("Continued HAT", -1000.0, -0.25, status=cea.LESS_COSTLY_LESS_EFFECTIVE)
    assert "1,000 NOK less" in down and "0.250 QALYs fewer" in down and "no ratio" in down
    assert "– NOK" in cu.difference_sentence("X", "–", "–")


def test_cost_per_day_pattern():
    falling = pd.DataFrame(
        {
            "clinic": ["Oslo", "Oslo", "Bergen", "Bergen"],
            "year": [2022, 2023, 2022, 2023],
            "cost_per_day": [5.0, 3.0, 9.0, 4.0],
        }
    )
    assert cu.cost_per_day_pattern(falling).startswith(
        "The cost per treatment day was highest in each clinic's first year"
    )
    rising = falling.assign(cost_per_day=[5.0, 6.0, 9.0, 4.0])
    assert "not highest in every clinic's first year" in cu.cost_per_day_pattern(rising)
    assert "one year of accounts" in cu.cost_per_day_pattern(falling[falling["year"] == 2022])


def test_year_span():
    assert cu.year_span([2023, 2022, 2025]) == "2022–2025"
    assert cu.year_span([2022]) == "2022"
    assert cu.year_span([]) == ""


def test_markov_hat_cost_from_an_editions_costs():
    # 1,000 NOK over 10 days is 100 NOK a day, 36,500 NOK a year of 365 treatment days
    costs = pd.DataFrame({"total_cost": [600.0, 400.0], "patient_days": [4.0, 6.0]})
    assert mk.hat_cost_per_year_from(costs) == 36_500.0
    assert np.isnan(mk.hat_cost_per_year_from(costs.assign(patient_days=0.0)))
