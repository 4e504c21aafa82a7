"""The declared aims of the generator's searches (synthetic.aims): one list that the searches' losses and
the calibration report both read."""

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthetic import aims, economics
from synthetic.targets import ledger, published, tolerance

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_REPORT = ROOT / "data" / "synthetic" / "calibration.csv"


def test_every_aim_is_a_ledger_figure_declared_once_per_search():
    assert {aim.key for aim in aims.AIMS} <= set(ledger().index)
    pairs = [(aim.search, aim.key) for aim in aims.AIMS]
    assert len(pairs) == len(set(pairs))
    assert all(aim.unit > 0 for aim in aims.AIMS)


@pytest.mark.parametrize("search", sorted({aim.search for aim in aims.AIMS}))
def test_every_search_named_is_where_its_code_is(search):
    module, name = search.split(".")
    assert callable(getattr(importlib.import_module(f"synthetic.{module}"), name))


def test_a_unit_is_a_share_of_the_ledger_tolerance_unless_the_search_has_its_own_scale():
    key = "sta_stable_living_first_measurement_months"
    assert aims.unit(aims.DATES, key) == 0.8 * tolerance(key)
    assert aims.unit(aims.COST_FIT, "t6d_continued_cost_mean") == tolerance("t6d_continued_cost_mean")
    assert aims.unit(aims.SAMPLE, "t6d_continued_cost_mean") == 2000.0
    with pytest.raises(KeyError, match="does not aim at"):
        aims.unit(aims.SAMPLE, key)


def test_the_squared_miss_is_measured_in_units():
    assert aims.squared_miss(46.0, 45.0, 0.5) == 4.0
    assert aims.squared_miss(np.array([44.0, 45.0]), 45.0, 0.5).tolist() == [4.0, 0.0]
    target, unit = aims.table(aims.SYMPTOMS)["s6_4_acute_symptoms_baseline_mean"]
    assert (target, unit) == (published("s6_4_acute_symptoms_baseline_mean"), 0.02)


def test_the_level_search_aims_at_the_declared_figures():
    """qaly_aims reads its figures from the declaration; an ICER's exact QALY difference replaces the
    printed one only where it lies inside the print's rounding."""
    costs = {"t6e_delta_cost": 0.0, "t6g_cont_vs_unplanned_delta_cost": 0.0}  # far from the printed ICERs
    level_aims = economics.qaly_aims(costs)
    assert tuple(level_aims) == aims.keys(aims.LEVELS)
    assert level_aims == aims.table(aims.LEVELS)
    icer = published("t6e_icer")
    costs = {"t6e_delta_cost": icer * published("t6e_delta_qaly"), "t6g_cont_vs_unplanned_delta_cost": 0.0}
    assert economics.qaly_aims(costs)["t6e_delta_qaly"][0] == pytest.approx(published("t6e_delta_qaly"))
    assert economics.qaly_aims(costs)["t6e_delta_qaly"][1] < tolerance("t6e_delta_qaly")


def test_the_report_names_the_searches_that_aim_at_each_figure():
    """The bundled calibration report judges every declared aim, and its ``aimed_by`` column is the
    declaration's: a missed figure leads to the search to look at."""
    report = pd.read_csv(BUNDLED_REPORT, keep_default_na=False).set_index("key")
    assert {aim.key for aim in aims.AIMS} <= set(report.index)
    assert report.aimed_by.to_dict() == {key: aims.aimed_by(key) for key in report.index}
    assert report.loc["t6d_continued_cost_mean", "aimed_by"] == "costfit.CostTuner; economics.choose_sample"
    assert report.loc["s6_1_patients_participated_total", "aimed_by"] == ""


def test_the_sample_search_weighs_its_figures_by_the_declared_scales(monkeypatch):
    """Two candidate samples, one nearer each of two figures: which is chosen follows the scales declared."""
    frame = pd.DataFrame(
        {
            "group": ["continued"] * 4 + ["planned"] * 2 + ["unplanned"] * 2,
            "cost": [100.0, 100.0, 100.0, 100.0, 50.0, 50.0, 50.0, 50.0],
            "days": [300.0, 300.0, 350.0, 250.0, 200.0, 200.0, 200.0, 200.0],
            "followup": [1.0, 1.0, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0],
        },
        index=[f"p{i}" for i in range(8)],
    )
    eligible = pd.Series(True, index=frame.index)
    figures = {"t6d_continued_days_in_treatment": 325.0, "t6f_continued_followup_years": 1.0}
    counts = {"t6f_continued_n": 2, "t6f_planned_termination_n": 2, "t6f_unplanned_termination_n": 2}

    def chosen(scales):
        declared = tuple(aims.Aim(aims.SAMPLE, key, scale=scale) for key, scale in scales.items())
        monkeypatch.setattr(aims, "AIMS", declared)
        monkeypatch.setattr(aims.Aim, "target", property(lambda aim: figures[aim.key]))
        monkeypatch.setattr(economics, "published", lambda key: counts[key])
        return set(economics.choose_sample(frame, eligible)) & {"p0", "p1", "p2", "p3"}

    # days matter most: p2 (350 days, 1.5 years) joins; follow-up matters most: it stays out
    assert "p2" in chosen({"t6d_continued_days_in_treatment": 1.0, "t6f_continued_followup_years": 10.0})
    assert "p2" not in chosen({"t6d_continued_days_in_treatment": 1000.0, "t6f_continued_followup_years": 0.01})
