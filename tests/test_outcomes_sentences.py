"""The sentences of section 6.4 that are chosen from an edition's values: each rule at and around its edges,
and a marker ("–", "<5", "n/a") or a missing value giving the sentence that says the fact cannot be told."""

import numpy as np
import pandas as pd
import pytest

from analysis.sections import mental_health as mh
from analysis.sections import outcomes as oc
from analysis.sections import somatic


@pytest.mark.parametrize("value", ["–", "<5", "n/a", None, float("nan")])
def test_markers_and_missing_values_are_unknown(value):
    assert oc.known(value) is None


def test_known_numbers_pass_as_floats():
    assert oc.known(np.int64(3)) == 3.0 and oc.known(71.2) == 71.2


def test_frequent_heroin_lead_follows_the_majority_words():
    # the published edition: 52 of 73 patients (71%) used heroin frequently at their first answer
    assert oc.frequent_heroin_lead(100 * 52 / 73) == "Frequent heroin use was the usual state at the start."
    assert oc.frequent_heroin_lead(50.0) == "About half of the patients used heroin frequently at the start."
    assert (
        oc.frequent_heroin_lead(30.0) == "Frequent heroin use was the state of a minority of the patients at the start."
    )
    assert oc.frequent_heroin_lead(0.0) == "No patient used heroin frequently at the start."
    assert "not shown" in oc.frequent_heroin_lead("–")


def test_changed_lead_says_only_below_a_quarter():
    assert oc.changed_lead(12.7) == "Only"
    assert oc.changed_lead(25.0) == "In all,"
    assert oc.changed_lead("–") == "In all,"


def test_occupation_is_rare_only_when_rare_at_both_ends():
    # 101 patients: 93 without an occupation at first (8 with one, 7.9%); 3 gave it up, 11 took it up: 16 (15.8%) at last
    assert oc.occupation_sentence(100 * 93 / 101, 100 * 11 / 101, 100 * 3 / 101) == "Work and education remained rare."
    # 80% without at first (20% with), 10% took it up, none gave it up: 30% at last
    assert (
        oc.occupation_sentence(80, 10, 0)
        == "Work and education became more common between the first and the last answer."
    )
    # 50% with at first, 20% gave it up, 5% took it up: 35%
    assert (
        oc.occupation_sentence(50, 5, 20)
        == "Work and education became less common between the first and the last answer."
    )
    assert oc.occupation_sentence(50, 10, 10) == "Work and education were as common at the last answer as at the first."
    # Bergen 2022: every one of 7 patients without an occupation, nobody changed
    assert oc.occupation_sentence(100, 0, 0) == "Work and education remained rare."
    assert "cannot be told" in oc.occupation_sentence(100, "–", 0)


def test_finances_move_little_only_when_both_items_stay_for_two_in_three():
    assert oc.finances_sentence(100 * 70 / 98, 100 * 62 / 90) == "Finances moved little on the two-point rule."
    assert (
        oc.finances_sentence(60, 70) == "On the two-point rule, more than one patient in three moved on money for food."
    )
    assert (
        oc.finances_sentence(70, 60)
        == "On the two-point rule, more than one patient in three moved on money for other expenses."
    )
    assert (
        oc.finances_sentence(60, 60)
        == "On the two-point rule, more than one patient in three moved on each money item."
    )
    assert "cannot be told" in oc.finances_sentence("–", 100)


def test_same_way_within_ten_points():
    assert oc.same_way_words(71.4, 68.9) == "behaved in much the same way"
    assert oc.same_way_words(80, 60) == "changed for more patients"
    assert oc.same_way_words(60, 80) == "changed for fewer patients"
    assert oc.same_way_words("–", 100) == "changed as follows"


def test_same_pattern_compares_the_direction_of_the_net_change():
    victim, offending = (24.5, 12.7), (29.4, 7.8)  # both: more improved than worsened
    assert oc.same_pattern_sentence(victim, offending) == "Offending followed the same pattern."
    assert oc.same_pattern_sentence(victim, (5.0, 10.0)) == "Offending followed a different pattern."
    assert oc.same_pattern_sentence((10.0, 10.0), (3.0, 3.0)) == "Offending followed the same pattern."
    assert oc.same_pattern_sentence(victim, ("–", 7.8)) == "Offending was measured in the same way."


def test_days_tell_the_same_story_only_in_the_same_direction():
    assert oc.days_lead(46.6, 5.5, 9.6) == "The number of days of heroin use tells the same story in finer detail."
    assert oc.days_lead(5.0, 20.0, -3.0) == "The number of days of heroin use tells the same story in finer detail."
    assert oc.days_lead(46.6, 5.5, -2.0) == "The number of days of heroin use points the other way."
    assert oc.days_lead(10.0, 10.0, 2.0) == "The number of days of heroin use gives the finer detail."
    assert oc.days_lead("–", 5.5, 9.6) == "The number of days of heroin use gives the finer detail."


def test_mean_change_words_name_the_direction():
    assert oc.mean_change_words(9.6027) == "a mean reduction of 9.6 days"
    assert oc.mean_change_words(-1.25) == "a mean increase of 1.2 days"
    assert oc.mean_change_words(-1.0) == "a mean increase of 1.0 days"
    assert oc.mean_change_words(0.04) == "no mean change"
    assert oc.mean_change_words("–") == "a mean change that is not shown (–)"
    assert oc.mean_change_words(float("nan")) == "a mean change that is not shown (n/a)"


def test_hardly_moved_needs_three_quarters_unchanged_and_steady_days():
    both = {"cocaine": 88.0, "non-prescribed benzodiazepines": 100 * 55 / 73}  # 75.3%
    days = {"cocaine": (4.48, 4.76), "non-prescribed benzodiazepines": (18.49, 18.30)}
    assert oc.hardly_moved_sentence(both, days) == "Cocaine and non-prescribed benzodiazepines hardly moved."
    assert (
        oc.hardly_moved_sentence({**both, "cocaine": 74.0}, days)
        == "Non-prescribed benzodiazepines hardly moved; cocaine moved more."
    )
    # three quarters unchanged, but the mean days fell from 18 to 10: not "hardly"
    fell = {**days, "non-prescribed benzodiazepines": (18.0, 10.0)}
    assert oc.hardly_moved_sentence(both, fell) == "Cocaine hardly moved; non-prescribed benzodiazepines moved more."
    assert oc.hardly_moved_sentence({"cocaine": 50.0, "x": 10.0}, {}) == "Cocaine and x moved more than a little."
    # withheld days do not decide; a withheld share leaves the substance out
    assert oc.hardly_moved_sentence({"cocaine": 90.0, "x": "–"}, {"cocaine": ("–", "–")}) == "Cocaine hardly moved."
    assert "cannot be told" in oc.hardly_moved_sentence({"cocaine": "–", "x": "n/a"}, {})


def test_burden_is_heavy_above_one_half_severe():
    assert somatic.burden_lead(100 * 60 / 113) == "At baseline the burden was heavy."
    assert somatic.burden_lead(50.0) == "At baseline a severe burden was not the rule."
    assert "cannot be told" in somatic.burden_lead("–")
    assert "cannot be told" in somatic.burden_lead(float("nan"))


def test_category_shift_sentence():
    # published: severe 5.1% -> 2.6%, moderate 72.2% -> 84.2%
    assert mh.category_shift_sentence((5.1, 2.6), (72.2, 84.2)).endswith("without emptying its worse end.")
    assert "no answer was severe at 12 months" in mh.category_shift_sentence((5.1, 0.0), (72.2, 84.2))
    assert mh.category_shift_sentence((5.1, 2.6), (72.2, 70.0)) == (
        "The share of severe symptoms fell without a rise in the moderate category."
    )
    assert mh.category_shift_sentence((0.0, 0.0), (72.2, 84.2)) == (
        "The share of severe symptoms did not fall between baseline and 12 months."
    )
    assert "cannot be told" in mh.category_shift_sentence((0.0, "n/a"), ("–", 84.2))


def test_twelve_month_sentence_names_a_p_value_only_for_an_estimated_term():
    table = pd.DataFrame({"term": ["wave_12", "other"], "label": [mh.TERMS["wave_12"], "Other"], "p": [0.012, 0.5]})
    assert mh.twelve_month_sentence(table, {}, None, "p = 0.012") == (
        "At 12 months the odds of a better rating differ from baseline with p = 0.012;"
    )
    assert "(the covariate takes one value in these data)" in mh.twelve_month_sentence(
        table.assign(p=[np.nan, 0.5]), {"wave_12": "the covariate takes one value in these data"}, None, "p n/a"
    )
    assert "p n/a" not in mh.twelve_month_sentence(
        None, {}, "fewer than 5 patients have the answers the model needs", "p n/a"
    )
    assert "can be estimated" in mh.twelve_month_sentence(table.assign(p=[np.nan, 0.5]), {}, None, "p n/a")
