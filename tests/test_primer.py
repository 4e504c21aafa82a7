"""Tests of analysis/teaching/primer.py on hand-built inputs whose answers are known by hand."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from analysis.methods import cea
from analysis.methods import uncertainty as unc
from analysis.teaching import primer

HAVE_OTHER_SETS = any(p.is_file() for p in primer.VALUE_SETS_CANDIDATES)
needs_other_sets = pytest.mark.skipif(not HAVE_OTHER_SETS, reason="no file of several value sets on this machine")


def tiny_sets(tmp_path, extra_decrement=0.1, norway_shift=0.0):
    """A file with the book's Norwegian set (optionally shifted) and a made-up set 'Flat' whose every
    level above 1 costs ``extra_decrement``."""
    norway = primer.value_sets(path=None).query("value_set == 'Norway'")
    norway = norway.assign(decrement=norway["decrement"] + np.where(norway["level"] > 1, norway_shift, 0.0))
    rows = [
        ("Flat", d, level, 0.0 if level == 1 else extra_decrement) for d in primer.DIMENSIONS for level in range(1, 6)
    ]
    flat = pd.DataFrame(rows, columns=["value_set", "dimension", "level", "decrement"])
    path = tmp_path / "sets.csv"
    pd.concat([norway, flat]).to_csv(path, index=False)
    return path


# --- value sets -------------------------------------------------------------------------------------


def test_norway_is_first_and_is_the_books_set(tmp_path):
    sets = primer.value_sets(tiny_sets(tmp_path))
    assert list(dict.fromkeys(sets["value_set"])) == ["Norway", "Flat"]
    assert len(sets) == 50


def test_a_different_norwegian_set_is_refused(tmp_path):
    with pytest.raises(ValueError, match="differs"):
        primer.value_sets(tiny_sets(tmp_path, norway_shift=0.01))


def test_an_incomplete_set_is_refused(tmp_path):
    path = tiny_sets(tmp_path)
    frame = pd.read_csv(path)
    frame = frame[~((frame["value_set"] == "Flat") & (frame["dimension"] == "AD") & (frame["level"] == 5))]
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="5 dimensions"):
        primer.value_sets(path)


@pytest.mark.parametrize("profile", ["23142", "2-3-1-4-2", (2, 3, 1, 4, 2), [2, 3, 1, 4, 2]])
def test_profiles_are_read_in_any_spelling(profile):
    assert primer.parse_profile(profile) == (2, 3, 1, 4, 2)
    assert primer.profile_label(profile) == "2-3-1-4-2"


@pytest.mark.parametrize("profile", ["2314", "231426", "23162", (0, 1, 1, 1, 1)])
def test_a_wrong_profile_is_refused(profile):
    with pytest.raises(ValueError):
        primer.parse_profile(profile)


def test_value_profiles_by_hand(tmp_path):
    sets = primer.value_sets(tiny_sets(tmp_path, extra_decrement=0.1))
    out = primer.value_profiles(["11111", "2-3-1-4-2", "55555"], sets).set_index(["profile", "value_set"])
    # the made-up set: 0.1 for each dimension above level 1
    assert out.loc[("1-1-1-1-1", "Flat"), "index"] == pytest.approx(1.0)
    assert out.loc[("2-3-1-4-2", "Flat"), "index"] == pytest.approx(0.6)
    assert out.loc[("5-5-5-5-5", "Flat"), "index"] == pytest.approx(0.5)
    # Norway: the published check value and the decrements of 2-3-1-4-2 read off the file
    assert out.loc[("5-5-5-5-5", "Norway"), "index"] == pytest.approx(-0.453)
    row = out.loc[("2-3-1-4-2", "Norway")]
    assert row[["MO", "SC", "UA", "PD", "AD"]].tolist() == pytest.approx([0.03116, 0.065302, 0.0, 0.303025, 0.071744])
    assert row["index"] == pytest.approx(1 - row[["MO", "SC", "UA", "PD", "AD"]].sum())


@needs_other_sets
def test_the_shared_sets_give_their_published_check_values():
    sets = primer.value_sets()
    assert {"Norway", "England", "Denmark", "Sweden"} <= set(sets["value_set"])
    out = primer.value_profiles(["22222", "55555"], sets).set_index(["profile", "value_set"])["index"]
    assert out[("2-2-2-2-2", "Norway")] == pytest.approx(0.779144)
    assert out[("5-5-5-5-5", "England")] == pytest.approx(-0.285)


def test_index_summary_by_hand(tmp_path):
    sets = primer.value_sets(tiny_sets(tmp_path, extra_decrement=0.1))
    answers = primer.profile_questionnaires(["11111", "21111", "22111", "22211"])
    answers["patient_id"] = ["a", "a", "b", "c"]
    incomplete = answers.iloc[[0]].assign(eq5d_ad=pd.NA, patient_id="d")
    frame = pd.concat([answers, incomplete], ignore_index=True)
    out = primer.index_summary(frame, sets).set_index("value_set")
    flat = out.loc["Flat"]
    assert flat["questionnaires"] == 4 and flat["patients"] == 3
    assert flat["mean"] == pytest.approx(np.mean([1.0, 0.9, 0.8, 0.7]))
    assert flat["median"] == pytest.approx(0.85)
    assert flat["sd"] == pytest.approx(np.std([1.0, 0.9, 0.8, 0.7], ddof=1))
    assert flat["percent_below_zero"] == 0
    assert list(out.columns) == [
        "questionnaires",
        "patients",
        "mean",
        "sd",
        "p25",
        "median",
        "p75",
        "percent_below_zero",
    ]


def test_index_summary_counts_states_worse_than_dead(tmp_path):
    sets = primer.value_sets(tiny_sets(tmp_path))
    frame = primer.profile_questionnaires(["55555", "11111"]).assign(patient_id=["a", "b"])
    assert primer.index_summary(frame, sets).set_index("value_set").loc["Norway", "percent_below_zero"] == 50


# --- area under the curve ---------------------------------------------------------------------------


def test_trapezoids_by_hand_and_sum_to_the_auc():
    times, values = [0.0, 0.25, 1.0, 2.0], [0.4, 0.6, 0.6, 0.8]
    out = primer.trapezoids(times, values)
    assert out["width"].tolist() == pytest.approx([0.25, 0.75, 1.0])
    assert out["qalys"].tolist() == pytest.approx([0.125, 0.45, 0.7])
    area, span = cea.auc_trapezoid(times, values)
    assert out["qalys"].sum() == pytest.approx(area) and span == pytest.approx(2.0)


def test_trapezoids_need_sorted_times():
    with pytest.raises(ValueError):
        primer.trapezoids([0, 1, 1], [0.5, 0.6, 0.7])


# --- a known distribution ---------------------------------------------------------------------------


def test_normal_draws_are_seeded_and_have_the_asked_moments():
    a = primer.normal_draws(100_000, 0.2, 50_000, 0.05, 0.4, n=20_000, seed=1)
    b = primer.normal_draws(100_000, 0.2, 50_000, 0.05, 0.4, n=20_000, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["replicate", "delta_cost", "delta_effect"]
    assert a["delta_cost"].mean() == pytest.approx(100_000, rel=0.02)
    assert a["delta_effect"].std() == pytest.approx(0.05, rel=0.03)
    assert np.corrcoef(a["delta_cost"], a["delta_effect"])[0, 1] == pytest.approx(0.4, abs=0.03)


def test_normal_ceac_by_hand():
    # at the WTP where the mean INMB is 0 the probability is one half; no uncertainty gives 0 or 1
    out = primer.normal_ceac(100_000, 0.2, 30_000, 0.05, 0.0, [0.0, 500_000.0])
    assert out["probability"].iloc[1] == pytest.approx(0.5)
    assert out["probability"].iloc[0] == pytest.approx(1 - 0.9995709, abs=1e-6)  # P(dC < 0) = Phi(-10/3)
    fixed = primer.normal_ceac(100_000, 0.2, 0.0, 0.0, 0.0, [400_000.0, 600_000.0])
    assert fixed["probability"].tolist() == [0.0, 1.0]


def test_normal_evpi_by_hand():
    # mean INMB 0: EVPI = sigma * phi(0) = sigma / sqrt(2 pi); with only cost uncertain, sigma = sd_cost
    out = primer.normal_evpi(100_000, 0.2, 30_000, 0.0, 0.0, [500_000.0])
    assert out["evpi"].iloc[0] == pytest.approx(30_000 / np.sqrt(2 * np.pi))
    assert primer.normal_evpi(100_000, 0.2, 0.0, 0.0, 0.0, [500_000.0])["evpi"].iloc[0] == 0


def test_closed_forms_agree_with_the_projects_functions_on_many_draws():
    args = (150_000, 0.25, 60_000, 0.08, 0.3)
    draws = primer.normal_draws(*args, n=100_000, seed=7)
    grid = [0.0, 400_000.0, 825_000.0, 1_500_000.0]
    simulated = unc.ceac(draws, grid)["probability"].to_numpy()
    exact = primer.normal_ceac(*args, wtp_grid=grid)["probability"].to_numpy()
    assert simulated == pytest.approx(exact, abs=0.01)
    sim_evpi = unc.evpi(draws, grid)["evpi"].to_numpy()
    exact_evpi = primer.normal_evpi(*args, wtp_grid=grid)["evpi"].to_numpy()
    assert sim_evpi == pytest.approx(exact_evpi, rel=0.05, abs=100)


def test_first_positive():
    curve = cea.nmb_curve(100_000, 0.2, np.arange(0, 1_000_001, 10_000))
    assert primer.first_positive(curve) == 510_000  # the ICER is 500,000; at exactly 500,000 INMB is 0
    assert np.isnan(primer.first_positive(cea.nmb_curve(100_000, -0.1, [0, 1e6])))


# --- charts -----------------------------------------------------------------------------------------


def test_charts_build():
    table = cea.icers(pd.DataFrame({"s": ["A", "B", "C"], "c": [1.0, 2.0, 3.0], "e": [1.0, 0.5, 2.0]}), "s", "c", "e")
    curve = cea.nmb_curve(100_000, 0.2, [0, 1e6])
    exact = primer.normal_ceac(1, 1, 1, 1, 0, [0, 1])
    charts = [
        primer.utility_area_chart([0, 0.5, 2], [0.5, 0.6, 0.7]),
        primer.frontier_chart(table),
        primer.nmb_chart(curve, 825_000),
        primer.compare_curves_chart(exact, exact, "probability", "P", "%", 0.5),
    ]
    for chart in charts:
        assert isinstance(chart, alt.LayerChart)
        chart.to_dict()
