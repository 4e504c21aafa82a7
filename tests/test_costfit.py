"""The cost stage of the generator (synthetic/costfit.py): what its moves do, and what it achieved."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from synthetic import costfit

ROOT = Path(__file__).resolve().parent.parent


def episode(adm, dur, out):
    return SimpleNamespace(adm=np.array([adm]), dur=np.array([dur]), out=np.array([out]))


def test_a_discharge_shift_moves_only_the_discharge():
    s = episode(100, 50, 3)
    costfit._shift(s, 0, "dis", 4)
    assert (s.adm[0], s.dur[0]) == (100, 54)


@pytest.mark.parametrize("kind, units, adm, dur", [("adm", 1, 107, 43), ("adm", -2, 86, 64), ("adm1", 1, 101, 49)])
def test_an_admission_shift_keeps_the_discharge_date(kind, units, adm, dur):
    s = episode(100, 50, 3)
    costfit._shift(s, 0, kind, units)
    assert (s.adm[0], s.dur[0]) == (adm, dur)
    assert s.adm[0] + s.dur[0] == 150  # the discharge day stays
    assert units * costfit.UNIT_DAYS[kind] == -(s.adm[0] - 100)  # days gained = admission moved earlier


def test_an_open_episode_moves_with_its_admission():
    s = episode(100, 0, -1)  # open: runs to the data end
    costfit._shift(s, 0, "adm", -1)
    assert (s.adm[0], s.dur[0]) == (93, 0)


def test_highs_output_is_silenced_and_the_stdout_restored(capfd):
    import os

    with costfit._quiet():
        os.write(1, b"from the solver\n")
    print("after")
    out = capfd.readouterr().out
    assert "from the solver" not in out and "after" in out


#: Figures of Tables 6.D-6.G the integer programme brings to the print in the committed cohort.
REACHED = [
    "t6d_continued_cost_sd",
    "t6d_continued_days_in_treatment",
    "t6d_discontinued_cost_mean",
    "t6d_discontinued_cost_sd",
    "t6f_continued_followup_years",
    "t6f_unplanned_termination_followup_years",
    "t6g_cont_vs_unplanned_delta_cost",
    "t6g_cont_vs_planned_delta_cost",
    "t6g_cont_vs_unplanned_icer",
]


def test_the_committed_cohort_reproduces_the_cost_figures_it_was_fitted_to():
    cal = pd.read_csv(ROOT / "data" / "synthetic" / "calibration.csv").set_index("key")
    for key in REACHED:
        row = cal.loc[key]
        assert row.status == "pass", f"{key}: {row.achieved} against {row.published}"
        assert abs(row.achieved - row.published) <= row.tolerance


def test_the_figures_left_out_of_the_programme_carry_their_reason():
    cal = pd.read_csv(ROOT / "data" / "synthetic" / "calibration.csv").set_index("key")
    for key in costfit.UNREACHABLE:
        assert cal.loc[key, "status"] in ("pass", "explained")
        if cal.loc[key, "status"] == "explained":
            assert "one episode" in cal.loc[key, "reason"]


def _rows(rule):
    rows = rule.A.shape[0]
    return [(float(lo), float(hi)) for lo, hi in zip(np.broadcast_to(rule.lb, rows), np.broadcast_to(rule.ub, rows))]


def test_a_rule_row_that_shuts_out_the_present_state_is_widened_to_allow_it():
    from scipy.optimize import LinearConstraint

    rule = LinearConstraint(np.eye(4), [1, -4, -2, -np.inf], [0, -1, 3, -5])
    assert _rows(costfit._present_allowed(rule)) == [(0, 0), (-4, 0), (-2, 3), (-np.inf, 0)]
    scalar = LinearConstraint(np.ones((2, 3)), 2, 5)  # (bounds given once for every row)
    assert _rows(costfit._present_allowed(scalar)) == [(0, 5), (0, 5)]


def test_scipy_says_infeasible_with_the_status_the_fit_reads_and_the_widened_programme_keeps_the_present_state():
    from scipy.optimize import Bounds, LinearConstraint, milp

    # one shift x in [-3, 3] whose rule asks 1 <= x <= 0: no answer at all; widened, x = 0 (the present
    # state) is the answer of the least |x|
    rule = LinearConstraint(np.array([[1.0, 0.0, 0.0]]), 1, 0)
    link = LinearConstraint(np.array([[1.0, -1.0, 1.0]]), 0, 0)  # x = positive part - negative part
    bounds = Bounds([-3, 0, 0], [3, 3, 3])
    cost = np.array([0.0, 1.0, 1.0])
    assert milp(cost, constraints=[rule, link], bounds=bounds, integrality=np.ones(3)).status == costfit.INFEASIBLE
    widened = milp(cost, constraints=[costfit._present_allowed(rule), link], bounds=bounds, integrality=np.ones(3))
    assert widened.status == 0 and list(widened.x) == [0, 0, 0]


class _RoundStub:
    """What CostFit.round reads of a fit: a programme per call of _programme, and what it applies."""

    ahead: list = []
    planned: dict = {}
    time_limit = 1.0

    def __init__(self):
        self.made, self.applied = [], []

    def _programme_key(self):
        return ("state",)

    def _programme(self, present_allowed=False):
        self.made.append(present_allowed)
        return f"programme {len(self.made)} (present allowed: {present_allowed})"

    def _node_limit(self):
        return 10

    def _apply(self, x, programme):
        self.applied.append((list(x), programme))


@pytest.mark.parametrize("first_status, solves, applied", [(2, 2, True), (1, 1, False), (0, 1, True)])
def test_only_a_programme_without_any_solution_is_made_again_with_the_present_state_allowed(
    monkeypatch, first_status, solves, applied
):
    """status 2 (infeasible): made again with the rules widened, solved, applied; status 1 (stopped at its
    node limit without an answer): given up, as before; status 0: applied as it is."""
    solved = []

    def solve(programme, node_limit, time_limit):
        solved.append(programme)
        if len(solved) == 1:
            return SimpleNamespace(status=first_status, x=[1.0] if first_status == 0 else None, message="first")
        return SimpleNamespace(status=0, x=[0.0], message="widened")

    monkeypatch.setattr(costfit, "_solve", solve)
    fit = _RoundStub()
    assert costfit.CostFit.round(fit) is applied
    assert len(solved) == solves
    assert fit.made == [False, True][:solves]
    if first_status == 2:
        assert fit.applied == [([0.0], "programme 2 (present allowed: True)")]


@pytest.mark.parametrize(
    "misses, one_off",
    [
        ({}, True),
        ({"a": 2.99, "b": -2.5}, True),
        ({"a": 3.0}, False),  # 1.5 digits off rounds two away from the print (or exactly between)
        ({"a": -1.2, "left_out": 500.0}, True),  # a figure left out of the programme does not count
    ],
)
def test_the_rounds_stop_when_every_figure_is_at_most_one_off_in_its_last_digit(misses, one_off):
    fit = SimpleNamespace(misses=lambda: misses)
    assert costfit.CostFit.one_off(fit, ["a", "b"]) is one_off


@pytest.mark.parametrize(
    "key, achieved, reason",
    [
        ("t6d_continued_cost_mean", 2574079 - 0.56, "ended 0.6 NOK from the print"),
        ("t6d_continued_cost_mean", 2574079 + 2.9, "ended 2.9 NOK from the print"),
        ("t6d_continued_cost_mean", 2574079 + 3.5, ""),  # over three kroner off: the fit failed
        ("t6d_continued_days_in_treatment", 946.5 - 0.2, "ended 0.20 days from the print"),
        ("t6d_continued_days_in_treatment", 946.5 - 1.04, ""),  # seed 2 after the widening: a day off
        ("t6e_delta_cost", 1514427 + 16142, ""),
    ],
)
def test_the_cost_fit_explains_a_figure_only_a_few_last_digits_off(key, achieved, reason):
    from synthetic import economics
    from synthetic.targets import Target

    assert economics.published(key) in (2574079, 946.5, 1514427)
    explained = economics._cost_reason(key, achieved)
    if reason:
        assert explained.endswith(reason + ".") and explained.startswith("Programme costs")
        assert Target(key, achieved, reason=explained).resolved()["status"] == "explained"
    else:
        assert explained == ""
        assert Target(key, achieved, reason=explained).resolved()["status"] == "FAIL"
