"""Counts of 6.4 and Appendix 3 protected across the editions of one year: the helpers that build the tables with
fixed rows and read the protected tables back (hand-built fixtures, answers known by hand)."""

import math

import pandas as pd
import pytest

from analysis.presentation import linked_suppression as ls
from analysis.sections import medication as med
from analysis.sections import outcomes as oc
from analysis.sections import somatic


def transition_row(variable, worsened, improved, same):
    n = worsened + improved + same
    return {
        "variable": variable,
        "n_patients": n,
        "first_measurement_months": 1.0,
        "last_measurement_months": 12.0,
        "positive_to_negative_n": worsened,
        "positive_to_negative_percent": 100 * worsened / n,
        "negative_to_positive_n": improved,
        "negative_to_positive_percent": 100 * improved / n,
        "no_change_n": same,
        "no_change_percent": 100 * same / n,
    }


def test_self_report_cells_lists_changes_then_first_states():
    transitions = pd.DataFrame([transition_row("occupation", 2, 3, 15)], columns=oc.TRANSITION_COLUMNS)
    first = pd.DataFrame([{"variable": "occupation", "n_patients": 20, "bad_n": 14, "bad_percent": 70.0}])
    cells = oc.self_report_cells(transitions, first)
    assert list(cells["cell"]) == ["positive_to_negative", "negative_to_positive", "no_change", "bad", "good"]
    assert list(cells["n"]) == [2, 3, 15, 14, 6]
    assert list(cells["n_patients"]) == [20] * 5
    assert cells["percent"].tolist() == [10.0, 15.0, 75.0, 70.0, 30.0]


def test_tie_totals_withholds_the_total_everywhere_it_is_one_number():
    shown = pd.DataFrame(
        {
            "variable": ["a", "a", "a", "a", "b", "b"],
            "part": ["change", "change", "first", "first", "change", "change"],
            "n": [6, 7, 8, 5, 9, 9],
            "n_patients": ["–", "–", 13, 13, 18, 18],
        }
    )
    tied = oc.tie_totals(shown, ["variable", "part"], "n_patients", 5)
    assert list(tied["n_patients"]) == ["–", "–", "–", "–", 18, 18]
    assert oc.tie_totals(shown, ["variable", "part"], "n_patients", None) is shown


def test_shown_transitions_drops_a_variable_with_a_hidden_cell():
    transitions = pd.DataFrame(
        [transition_row("occupation", 2, 3, 15), transition_row("money_food", 6, 7, 12)], columns=oc.TRANSITION_COLUMNS
    )
    cells = pd.DataFrame(
        {
            "variable": ["occupation"] * 3 + ["money_food"] * 3,
            "part": ["change"] * 6,
            "cell": list(oc.CHANGES) * 2,
            "n": ["<5", "<5", 15, 6, 7, 12],
            "n_patients": [20, 20, 20, "–", "–", "–"],
        }
    )
    out = oc.shown_transitions(cells, transitions).set_index("variable")
    assert math.isnan(out.loc["occupation", "no_change_n"]) and math.isnan(out.loc["occupation", "no_change_percent"])
    assert out.loc["occupation", "n_patients"] == 20
    assert out.loc["money_food", "no_change_n"] == 12 and math.isnan(out.loc["money_food", "n_patients"])


def test_shown_patients_ties_the_days_row_to_the_frequent_row():
    cells = pd.DataFrame(
        {
            "variable": ["frequent_heroin"] * 3,
            "part": ["change"] * 3,
            "cell": list(oc.CHANGES),
            "n": [1, 2, 3],
            "n_patients": ["–"] * 3,
        }
    )
    days_shown = pd.DataFrame({"variable": ["days_heroin"], "n_patients": [6]})
    transitions = pd.DataFrame({"variable": ["frequent_heroin"], "n_patients": [6]})
    days = pd.DataFrame({"variable": ["days_heroin"], "n_patients": [6]})
    shown = oc.shown_patients(cells, days_shown, transitions, days, 5)
    assert shown["frequent_heroin"] == "–" and shown["days_heroin"] == "–"
    # different patients: each row keeps its own protection
    days_other = pd.DataFrame({"variable": ["days_heroin"], "n_patients": [7]})
    shown = oc.shown_patients(
        cells, pd.DataFrame({"variable": ["days_heroin"], "n_patients": [7]}), transitions, days_other, 5
    )
    assert shown["days_heroin"] == 7


def test_count_share_text_and_as_numbers():
    assert oc.count_share_text(12, 40.0) == "12 (40%)"
    assert oc.count_share_text("<5", "–") == "<5"
    assert oc.count_share_text(12, "–") == "12 (–)"
    assert oc.count_share_text(0, float("nan")) == "0 (n/a)"
    frame = pd.DataFrame({"n": [3, "<5", "–"], "total": [9, 9, 9]})
    out = oc.as_numbers(frame, ["n", "total"])
    assert out["n"].iloc[0] == 3 and out["n"].iloc[1:].isna().all()
    assert (
        out["total"].tolist() == [9, 9, 9] and out["total"].dtype != float
    )  # a column without markers is left as it is


def test_shown_extreme_gives_the_marker_of_a_hidden_row():
    true = pd.Series({"a": 3, "b": 12, "c": 40})
    assert oc.shown_extreme(true, pd.Series({"a": "<5", "b": 12, "c": 40})) == "<5"
    assert oc.shown_extreme(true, pd.Series({"a": "<5", "b": 12, "c": 40}), largest=True) == 40
    assert oc.shown_extreme(true, pd.Series({"a": "–", "b": 12, "c": "–"}), largest=True) == "–"


def registrations(rows):
    return pd.DataFrame(
        rows,
        columns=[
            "patient_id",
            "registration_month",
            "dam_route",
            "route_changes_weekly",
            "bonus_doses_per_week",
            "bonus_dose_mg",
            "comedication",
            *[f"comedication_{c}" for c in med.schema.COMEDICATION_CLASSES],
        ],
    )


def test_fill_months_and_route_change_counts_have_fixed_rows():
    frame = pd.DataFrame({"registration_month": [1, 1], "route": ["oral", "intravenous"], "n": [2, 5]})
    out = med.fill_months(frame, "route", ("intravenous", "intramuscular", "oral"), [1, 12])
    assert list(zip(out["registration_month"], out["route"])) == [
        (1, "intravenous"),
        (1, "intramuscular"),
        (1, "oral"),
        (12, "intravenous"),
        (12, "intramuscular"),
        (12, "oral"),
    ]
    assert out["n"].tolist() == [5, 0, 2, 0, 0, 0] and out["denominator"].tolist() == [7, 7, 7, 0, 0, 0]
    assert math.isnan(out["percent"].iloc[-1])
    data = registrations(
        [
            ["p1", 1, "oral", True, None, None, None] + [None] * len(med.schema.COMEDICATION_CLASSES),
            ["p2", 1, "oral", False, None, None, None] + [None] * len(med.schema.COMEDICATION_CLASSES),
        ]
    )
    changes = med.route_change_counts(data, [1, 3])
    assert changes["registration_month"].tolist() == [1, 3]
    assert changes["n"].tolist() == [1, 0] and changes["denominator"].tolist() == [2, 0]


def test_bonus_counts_parts_add_up():
    patients = pd.DataFrame({"patient_id": ["b1", "b2", "b3", "o1"], "clinic": ["Bergen", "Bergen", "Bergen", "Oslo"]})
    empty = [None] * (1 + len(med.schema.COMEDICATION_CLASSES))
    data = registrations(
        [
            ["b1", 1, "oral", False, 1, 20] + empty,
            ["b1", 3, "oral", False, 2, 20] + empty,
            ["b2", 1, "oral", False, 4, 40] + empty,
            ["o1", 1, "oral", False, 3, 30] + empty,
        ]
    )
    out = med.bonus_counts(data, patients, "Bergen").set_index(["part", "cell"])
    assert out.loc[("clinic", "with"), "n"] == 2 and out.loc[("clinic", "without"), "n"] == 1
    assert (out.loc["clinic", "total"] == 3).all()
    # b1's highest is 2 a week, b2's 4 counts in the last group (3 or more)
    assert out.loc["weekly", "n"].tolist() == [0, 1, 1] and (out.loc["weekly", "total"] == 2).all()


def test_tie_class_base_withholds_the_classes_with_any_comedication():
    shown = pd.DataFrame(
        {
            "registration_month": [1, 1, 1, 12, 12, 12],
            "medication_class": ["any", "benzodiazepine", "somatic"] * 2,
            "n": ["–", 6, 7, 20, 8, 12],
            "denominator": [30, 14, 14, 25, 20, 20],
            "percent": ["–", 42.9, 50.0, 80.0, 40.0, 60.0],
        }
    )
    out = med.tie_class_base(shown)
    assert out["denominator"].tolist()[:3] == [30, "–", "–"] and out["percent"].tolist()[:3] == ["–", "–", "–"]
    assert out["n"].tolist()[1:3] == [6, 7]  # the class counts themselves stay as shown
    assert out.iloc[3:].values.tolist() == shown.iloc[3:].values.tolist()  # nothing hidden at 12 months: unchanged


def test_most_prevalent_first_ranks_withheld_shares_last():
    items = list(somatic.SOMATIC_SYMPTOMS)[:3]
    shown = pd.DataFrame({"item": items, "percent": [20.0, "–", 50.0]})
    assert somatic.most_prevalent_first(shown)["item"].tolist() == [items[2], items[0], items[1]]


def test_joint_protection_of_a_transition_row_survives_subtraction():
    """Both clinics 20 = Oslo 17 + Bergen 3 patients: Bergen's cells cannot be read off as both minus Oslo."""

    def table(worsened, improved, same):
        transitions = pd.DataFrame(
            [transition_row("occupation", worsened, improved, same)], columns=oc.TRANSITION_COLUMNS
        )
        n = worsened + improved + same
        first = pd.DataFrame([{"variable": "occupation", "n_patients": n, "bad_n": improved + 1, "bad_percent": 0.0}])
        return oc.self_report_cells(transitions, first)

    truth = {"all": table(4, 6, 10), "Oslo": table(3, 5, 9), "Bergen": table(1, 1, 1)}
    shown = ls.protect_tables(truth, "n", 5, groups=["variable", "part"], total="n_patients", derived=["percent"])
    assert ls.recoverable(shown, truth, "n", 5, groups=["variable", "part"], total="n_patients") == []
    assert all(oc.is_hidden(v) for v in shown["Bergen"]["n"])
    assert all(v == "<5" for v in shown["Bergen"]["n_patients"])


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
