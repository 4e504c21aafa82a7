"""Disclosure control of the referral pages (6.6, Appendix 5) against a reader who adds and subtracts.

A reader of Supplementary Tables G and H in a rerun knows: every shown cell; that "<5" is 1 to 4, that a
withheld cell ("–") is a count of at least the threshold (small ones are written "<5"), that an empty cell
is 0; each clinic's total (the total line, as :func:`analysis.sections.referrals.shown_counts` shows it); and that
Bergen and Oslo add up to both clinics in every row. An integer programme finds the smallest and largest
value each hidden small cell can take under these facts; a cell whose two bounds meet is given back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis.data.cohort import load_cohort, restrict
from analysis.presentation import disclosure
from analysis.sections import referrals as ref

THRESHOLD = 5
BIG = 100_000


def _interval(shown, threshold):
    """What a reader knows of a count from how it is shown."""
    if shown == disclosure.small_marker(threshold):
        return 1, threshold - 1
    if shown == disclosure.WITHHELD:
        return threshold, BIG
    return float(shown), float(shown)


def recovered_small_cells(
    table: pd.DataFrame, column: str, count: str, hidden: pd.Series, totals: dict, threshold: int
):
    """Hidden cells of a count below ``threshold`` that the facts above pin to one value."""
    cells = table[table["category"] != "total"].reset_index(drop=True)
    hid = hidden[(table["category"] != "total").to_numpy()].reset_index(drop=True)
    n = len(cells)
    low, high = np.zeros(n), np.zeros(n)
    for i, (value, is_hidden) in enumerate(zip(cells[count], hid)):
        shown = (
            (disclosure.small_marker(threshold) if disclosure.is_small(value, threshold) else disclosure.WITHHELD)
            if is_hidden
            else value
        )
        low[i], high[i] = _interval(shown, threshold)
    rows, lower, upper = [], [], []
    for clinic, shown in totals.items():
        rows.append((cells["clinic"] == clinic).to_numpy().astype(float))
        a, b = _interval(shown, threshold)
        lower.append(a)
        upper.append(b)
    for category in cells[column].unique():
        row = np.zeros(n)
        row[((cells[column] == category) & (cells["clinic"] == "all")).to_numpy()] = 1
        row[((cells[column] == category) & (cells["clinic"] != "all")).to_numpy()] = -1
        rows.append(row)
        lower.append(0)
        upper.append(0)
    constraints = LinearConstraint(np.array(rows), lower, upper)
    found = []
    for i in np.flatnonzero(hid.to_numpy()):
        if not disclosure.is_small(cells.loc[i, count], threshold):
            continue
        objective = np.zeros(n)
        objective[i] = 1
        least = milp(objective, constraints=constraints, integrality=np.ones(n), bounds=Bounds(low, high))
        most = milp(-objective, constraints=constraints, integrality=np.ones(n), bounds=Bounds(low, high))
        assert least.success and most.success, "the shown table must be consistent with its own data"
        if round(least.fun) == round(-most.fun):
            found.append((cells.loc[i, "clinic"], cells.loc[i, column], int(cells.loc[i, count])))
    return found


def audit(referrals: pd.DataFrame, threshold: int = THRESHOLD) -> list:
    hidden = ref.referral_suppression(referrals, threshold)
    shown = ref.shown_counts(referrals, threshold)
    return recovered_small_cells(
        ref.table_g(referrals), "referrer", "n_referrals", hidden["g"], shown["referrals"], threshold
    ) + recovered_small_cells(ref.table_h(referrals), "reason", "n_denials", hidden["h"], shown["denials"], threshold)


def register(rows) -> pd.DataFrame:
    """A hand-made referral register: rows of (clinic, referrer, decision, reason)."""
    frame = pd.DataFrame(rows, columns=["clinic", "referrer", "decision", "denial_reason"])
    frame["person_id"] = [f"P{i:03d}" for i in range(len(frame))]
    frame["referral_date"] = pd.Timestamp("2022-03-01")
    frame["age"] = 40
    frame["sex"] = "male"
    frame["referral_type"] = "secondary"
    return frame


def test_the_auditor_finds_a_cell_given_back_by_subtraction():
    # Bergen: 8 referrals from OAT, 1 from NAV, 1 from a GP; only the NAV cell hidden (no complement):
    # the total 10 minus 8 gives it back. The auditor must see that.
    rows = [("Bergen", "specialist_oat", "accepted", None)] * 8 + [
        ("Bergen", "nav", "accepted", None),
        ("Bergen", "primary_care_physician", "accepted", None),
    ]
    frame = register(rows)
    g = ref.table_g(frame)
    only_primary = pd.Series(
        [disclosure.is_small(v, THRESHOLD) and c == "nav" for v, c in zip(g["n_referrals"], g["referrer"])],
        index=g.index,
    )
    found = recovered_small_cells(
        g, "referrer", "n_referrals", only_primary, {"all": 10, "Bergen": 10, "Oslo": 0}, THRESHOLD
    )
    assert ("Bergen", "nav", 1) in found


def test_two_hidden_cells_of_one_are_given_back_where_less_than_five_means_at_least_one():
    # two "<5" cells whose sum is 2 are both 1
    rows = [("Bergen", "specialist_oat", "accepted", None)] * 8 + [
        ("Bergen", "nav", "accepted", None),
        ("Bergen", "primary_care_physician", "accepted", None),
    ]
    g = ref.table_g(register(rows))
    both_small = pd.Series([disclosure.is_small(v, THRESHOLD) for v in g["n_referrals"]], index=g.index) & (
        g["category"] != "total"
    )
    found = recovered_small_cells(
        g, "referrer", "n_referrals", both_small, {"all": 10, "Bergen": 10, "Oslo": 0}, THRESHOLD
    )
    assert {("Bergen", "nav", 1), ("Bergen", "primary_care_physician", 1)} <= set(found)


def test_a_small_clinic_is_not_given_back_by_the_other_clinic_and_the_total():
    shown = ref.shown_counts(
        register([("Bergen", "nav", "accepted", None)] * 3 + [("Oslo", "nav", "accepted", None)] * 20), THRESHOLD
    )
    assert shown["referrals"] == {"all": 23, "Bergen": "<5", "Oslo": disclosure.WITHHELD}
    # published: the counts as they are
    assert ref.shown_counts(register([("Bergen", "nav", "accepted", None)] * 3), None)["referrals"]["Bergen"] == 3


def test_a_clinics_denials_are_withheld_when_its_accepted_referrals_are_few():
    rows = [("Oslo", "nav", "denied", "other")] * 8 + [("Oslo", "nav", "accepted", None)] * 2
    shown = ref.shown_counts(register(rows), THRESHOLD)
    assert shown["denials"]["Oslo"] == disclosure.WITHHELD
    assert shown["inclusion"] == {"included": "<5", "not_included": disclosure.WITHHELD}


def test_protect_parts():
    assert ref.protect_parts({"a": 3, "b": 10, "c": 0}, 5) == {"a": "<5", "b": disclosure.WITHHELD, "c": 0}
    assert ref.protect_parts({"a": 6, "b": 10}, 5) == {"a": 6, "b": 10}
    assert ref.protect_parts({"a": 3, "b": 10}, None) == {"a": 3, "b": 10}


def test_hand_made_register_with_a_small_clinic_gives_nothing_back():
    rows = (
        [("Oslo", "specialist_oat", "accepted", None)] * 12
        + [("Oslo", "nav", "denied", "admission_pause")] * 6
        + [("Oslo", "primary_care_physician", "denied", "risk_of_violence")] * 2
        + [("Bergen", "specialist_oat", "accepted", None)] * 2
        + [("Bergen", "nav", "denied", "other")]
    )
    assert audit(register(rows)) == []


@pytest.mark.parametrize(
    "clinic, year", [("Bergen", 2022), ("Oslo", 2022), ("all", 2022), ("all", 2023), ("Bergen", 2024)]
)
def test_no_small_cell_of_tables_g_and_h_is_given_back(clinic, year):
    referrals = restrict(load_cohort(), clinic=clinic, year=year).referrals
    assert audit(referrals) == []


def test_no_small_cell_is_given_back_on_a_few_persons():
    referrals = load_cohort().referrals
    persons = referrals["person_id"].drop_duplicates().sort_values().iloc[::8]  # every eighth person
    assert audit(referrals[referrals["person_id"].isin(persons)]) == []
