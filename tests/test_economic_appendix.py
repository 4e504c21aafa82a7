"""Appendix 4: the arithmetic of Supplementary Table D and the statistics of the unit-cost tables."""

import pytest

from analysis.presentation.scorecard import ledger
from analysis.sections import economic_appendix as ea


def test_recompute_reads_the_operation_from_the_printed_calculation():
    assert ea.recompute("721,665 / 0.73", 721_665, 0.73) == pytest.approx(988_582.19, abs=0.01)
    assert ea.recompute("a + b", 100.0, -25.0) == 75.0
    assert ea.recompute("a – b", 100.0, 25.0) == 75.0  # an en dash is a minus
    assert ea.recompute("a - b", 100.0, 25.0) == 75.0


def test_price_range_is_open_when_the_report_leaves_it_open():
    assert ea.price_range(3000, 5000, False) == "3,000–5,000"
    assert ea.price_range(10_000, float("nan"), True) == "10,000 or more"


def test_table_d_statistics_recompute_each_derived_row_from_its_operands():
    statistics, shown, arithmetic = ea.sequential_offsets(ledger(), published=True)
    values = statistics.set_index("key")["value"]
    # every derived row is its two operands combined, and each agrees with the print
    assert values["std_icer_base_case"] == pytest.approx(
        values["std_icer_base_case_calc_operand_1"] / values["std_icer_base_case_calc_operand_2"]
    )
    assert values["std_total_healthcare_offset"] == pytest.approx(
        values["std_total_healthcare_offset_calc_operand_1"] + values["std_total_healthcare_offset_calc_operand_2"]
    )
    assert values["app4_d_rows_checked"] == len(arithmetic) == 6
    assert values["app4_d_rows_agree"] == (arithmetic["Agrees"] == "yes").sum()
    assert values["app4_d_text"].startswith(f"All {values['app4_d_rows_agree']} of its 6 calculations")
    assert list(shown.columns) == ["Step", "Component", "Value", "Calculation"]
    rerun = ea.sequential_offsets(ledger(), published=False)[0].set_index("key")["value"]
    assert "errata" not in rerun["app4_d_conclusion"]


def test_crime_unit_costs_glue_only_ledger_keys_row_by_row():
    book = ledger()
    statistics, shown = ea.crime_unit_costs(book)
    keys = statistics["key"].tolist()
    assert keys[:3] == ["stc_any_crime_unit_cost_low", "stc_any_crime_unit_cost_high", "stc_any_crime_applied_value"]
    assert keys[-1] == "stc_note_applied_cost_per_day"
    assert set(keys[:-1]) <= set(book.index)
    values = statistics.set_index("key")["value"]
    assert values["stc_note_applied_cost_per_day"] == values["stc_any_crime_applied_value"]
    assert len(shown) == 4


def test_health_unit_costs_add_the_assumed_physiotherapy_row():
    statistics, physiotherapy, shown = ea.health_unit_costs()
    assert (
        physiotherapy
        == 0.6 * statistics.set_index("key").at["stb_primary_care_physician_consultation_unit_cost", "value"]
    )
    assert shown.iloc[-1]["Service"] == "Physiotherapy (assumed by this edition)"
    assert len(shown) == len(statistics)  # table B's rows plus the price year; shown: its rows plus physiotherapy


def test_limitation_statistics_one_year_before_two_after_three_groups():
    values = ea.limitation_statistics().set_index("key")["value"]
    assert values.to_dict() == {
        "app4_limitations_window_before": 1,
        "app4_limitations_window_after": 2,
        "app4_selected_outcomes_n_groups": 3,
    }
