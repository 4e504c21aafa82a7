"""What an edition may show of section 6.4: secondary suppression with bounds, protected chart data, model guards.

Every answer below is worked out by hand from the fixture."""

import numpy as np
import pandas as pd
import pytest

from analysis.presentation import disclosure
from analysis.sections import mental_health as mh
from analysis.sections import outcomes as oc


def test_two_small_cells_that_add_up_to_two_are_protected_by_a_third():
    # Bergen, stable housing: 8 patients, 1 worsened, 6 unchanged, 1 improved. Hiding the two 1s alone leaves
    # them summing to 2, and each "<5" is at least 1: both would be 1. The 6 must go too.
    frame = pd.DataFrame({"variable": ["housing"] * 3, "n": [1, 6, 1], "total": [8] * 3})
    before = disclosure.suppression_mask(frame, "n", 5, groups="variable", total="total")
    assert list(before) == [True, False, True]  # the old rule: the leak
    cells, totals = disclosure.bounded_suppression(frame, "n", 5, groups="variable", total="total")
    assert list(cells) == [True, True, True]
    assert not totals.any()


def test_hidden_cells_that_cannot_be_pinned_stay_as_they_are():
    # 2 and 3 hidden (sum 5 from a total of 15): 2 could be 1..4, so nothing more is needed
    frame = pd.DataFrame({"n": [2, 3, 10], "total": [15] * 3})
    cells, totals = disclosure.bounded_suppression(frame, "n", 5, groups=[], total="total")
    assert list(cells) == [True, True, False] and not totals.any()


def test_one_hidden_cell_with_only_zeros_beside_it_hides_the_total():
    # 0, 0, 6 of 6 is fine; 0, 0, 3 of 3 is a small total: the whole group and its total go
    frame = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 3, "n": [0, 0, 6, 0, 0, 3], "total": [6] * 3 + [3] * 3})
    cells, totals = disclosure.bounded_suppression(frame, "n", 5, groups="g", total="total")
    assert list(cells) == [False] * 3 + [True] * 3
    assert list(totals) == [False] * 3 + [True] * 3


def test_a_hidden_cell_beside_zeros_and_a_shown_total_is_pinned_so_the_total_goes():
    # 0, 6 and a 4 hidden of 10: with the zero hidden too the 4 is still 10 - 6 = 4 unless the 6 goes; then the
    # group has nothing left to hide and the bounds no longer pin anything
    frame = pd.DataFrame({"n": [0, 6, 4], "total": [10] * 3})
    cells, totals = disclosure.bounded_suppression(frame, "n", 5, groups=[], total="total")
    assert cells[2] and cells[1]
    assert not totals.any()


def test_no_threshold_hides_nothing():
    frame = pd.DataFrame({"n": [1, 6, 1], "total": [8] * 3})
    cells, totals = disclosure.bounded_suppression(frame, "n", None, groups=[], total="total")
    assert not cells.any() and not totals.any()
    assert disclosure.chart_counts(frame, {"n": []}, None, groups=[], total="total") is frame


def test_chart_counts_leave_no_small_count_or_denominator():
    # the mental-health chart at 6 months: one answer ("good"), bad 0 and fair 0
    shares = pd.DataFrame({"wave": [6, 6, 6, 0, 0, 0], "answers": [0, 0, 1, 2, 3, 5], "total": [1, 1, 1, 10, 10, 10]})
    shares["percent"] = 100 * shares["answers"] / shares["total"]
    shown = disclosure.chart_counts(shares, {"answers": ["percent"]}, 5, groups="wave", total="total")
    assert shown.loc[shown["wave"] == 6, ["answers", "percent", "total"]].isna().all().all()
    # at baseline 2 and 3 are small and pinned only if the 5 is shown: 2 + 3 = 5 could be 1 + 4, 4 + 1, ...
    assert shown.loc[3:5, "answers"].isna().tolist() == [True, True, False]
    values = pd.concat([shown["answers"], shown["total"]]).dropna()
    assert not any(disclosure.is_small(v, 5) for v in values)


def transitions_fixture() -> pd.DataFrame:
    rows = [
        ("stable_living", 8, 1, 1, 6),
        ("occupation", 7, 0, 0, 7),
        ("money_food", 4, 0, 1, 3),
        ("money_other", 12, 5, 0, 7),
    ]
    frame = pd.DataFrame(
        rows, columns=["variable", "n_patients", "positive_to_negative_n", "negative_to_positive_n", "no_change_n"]
    )
    for change in ("positive_to_negative", "negative_to_positive", "no_change"):
        frame[f"{change}_percent"] = 100 * frame[f"{change}_n"] / frame["n_patients"]
    return frame


def test_protected_transitions_hide_variables_and_small_patient_counts():
    shown = oc.protected_transitions(transitions_fixture(), 5).set_index("variable")
    assert (
        shown.loc["stable_living", ["positive_to_negative_n", "no_change_n", "negative_to_positive_percent"]]
        .isna()
        .all()
    )
    assert shown.loc["stable_living", "n_patients"] == 8
    assert shown.loc["occupation", "no_change_n"] == 7 and shown.loc["occupation", "no_change_percent"] == 100
    assert np.isnan(shown.loc["money_food", "n_patients"])  # "Money for food: patients 4" no longer in the chart
    assert shown.loc["money_other", "positive_to_negative_n"] == 5
    assert oc.protected_transitions(transitions_fixture(), None).equals(transitions_fixture())


def test_transition_reading_follows_the_shown_values():
    names = {"occupation": "Occupation", "money_other": "Money for other expenses"}
    text = oc.transition_reading(oc.protected_transitions(transitions_fixture(), 5), names)
    assert text == "No patient improved on any of the variables that can be shown."
    frame = transitions_fixture()
    frame.loc[1, ["negative_to_positive_percent", "positive_to_negative_percent"]] = [30.0, 10.0]
    text = oc.transition_reading(frame, names)
    assert text.startswith("The largest share improved on occupation.") and "on: occupation." in text


def test_model_guards():
    frame = pd.DataFrame({"patient_id": list("aabbc"), "outcome": [0, 1, 0, 1, 0]})
    assert oc.not_estimable_reason(frame, "outcome", 5) == "fewer than 5 patients have the answers the model needs"
    assert oc.not_estimable_reason(frame, "outcome", None) is None  # published: at least two patients
    assert oc.not_estimable_reason(frame.assign(outcome=1), "outcome", None) == "every answer has the same outcome"
    patients = pd.Series(list("abcdefg"))
    assert oc.binary_term_reason(pd.Series([1, 1, 0, 0, 0, 0, 0]), patients, 5) is not None  # two patients with 1
    assert oc.binary_term_reason(pd.Series([1, 1, 0, 0, 0, 0, 0]), patients, None) is None
    assert oc.interval_reason(1.6e9, 0.4, 6e12, 0.9) == "the confidence interval is unbounded in practice (separation)"
    assert oc.interval_reason(np.inf, 1.0, np.inf, np.nan) is not None
    assert oc.interval_reason(0.16, 0.08, 0.32, 4e-7) is None


def test_p_and_odds_ratio_text():
    assert oc.p_text(4e-7) == "p < 0.001"
    assert oc.p_text(0.0417) == "p = 0.042"
    assert oc.p_text(float("nan")) == "p n/a"
    assert oc.odds_ratio_text(0.1593, 0.0783, 0.3244, 4e-7) == "0.16 (95% CI 0.08 to 0.32, p < 0.001)"
    assert oc.odds_ratio_text(-0.5, -1.0, 0.25, 0.2) == "\u22120.50 (95% CI \u22121.00 to 0.25, p = 0.200)"


def test_mental_health_model_not_estimable_on_few_patients():
    frame = pd.DataFrame(
        {
            "patient_id": list("aabbcc"),
            "wave": [0, 3] * 3,
            "outcome": pd.Categorical(
                ["bad", "fair", "fair", "good", "bad", "good"], categories=["bad", "fair", "good"], ordered=True
            ),
        }
    )
    for term in mh.TERMS:
        frame[term] = 0.0
    table, term_reasons, reason = mh.fit_model(frame, "mental_health", 5)
    assert table is None and term_reasons == {} and reason.startswith("fewer than 5 patients")
    assert mh.term_notes({}) == "Every term of the model could be estimated."
    assert mh.term_notes({"wave_6": "why"}) == "Not estimable in these data: 6 months (vs baseline) (why)."


@pytest.mark.parametrize("threshold", [5, None])
def test_hunger_model_refuses_a_covariate_of_two_patients(threshold):
    rng = np.random.default_rng(1)
    ids = [f"p{i}" for i in range(30)]
    frame = pd.DataFrame(
        {
            "patient_id": np.repeat(ids, 2),
            "wave": [0, 3] * 30,
            "frequent_hunger": rng.integers(0, 2, 60),
            "food_access": rng.integers(0, 2, 60),
            "amphetamine": [1, 1, 1, 1] + [0] * 56,
        }
    )  # amphetamine use by two patients only
    table, reason = oc.hunger_model(frame, threshold)
    if threshold:
        assert table is None and reason.startswith("any amphetamine use")
    else:
        assert reason is None or table is None  # published: two patients are allowed, the fit decides
