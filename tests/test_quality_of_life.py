"""Tests of analysis/sections/quality_of_life.py on hand-built data (the Norwegian value set's check values,
LCGA on two clearly separated simulated groups)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data.published import DEFAULT_DATA_DIR
from analysis.sections import quality_of_life as qol


def states(*codes: str) -> pd.DataFrame:
    """Questionnaire rows from five-digit EQ-5D-5L states ("21345"); "." leaves a dimension empty."""
    rows = []
    for code in codes:
        rows.append(
            {f"eq5d_{d}": (pd.NA if c == "." else int(c)) for d, c in zip(("mo", "sc", "ua", "pd", "ad"), code)}
        )
    return pd.DataFrame(rows).astype("Int64")


def test_value_set_file_is_the_norwegian_set():
    values = pd.read_csv(DEFAULT_DATA_DIR / "reference" / "eq5d5l_value_set_norway.csv")
    assert list(values.columns) == ["dimension", "level", "decrement"]
    assert len(values) == 25
    assert set(values["dimension"]) == {"MO", "SC", "UA", "PD", "AD"}
    assert (values.loc[values["level"] == 1, "decrement"] == 0).all()
    # every dimension's decrement grows with the level
    for _, group in values.groupby("dimension"):
        assert group.sort_values("level")["decrement"].is_monotonic_increasing


@pytest.mark.parametrize(
    "code, expected",
    [("11111", 1.0), ("22222", 0.779144), ("21345", 0.137072), ("12345", 0.13692), ("55555", -0.453)],
)
def test_index_check_values(code, expected):
    assert qol.eq5d_index(states(code)).iloc[0] == pytest.approx(expected, abs=1e-9)


def test_index_needs_all_five_dimensions():
    index = qol.eq5d_index(states("11111", "1111.", ".1111"))
    assert index.iloc[0] == 1.0
    assert index.iloc[1:].isna().all()


def test_index_by_hand_with_a_toy_value_set():
    toy = pd.DataFrame(
        [(d, level, 0.1 * (level - 1)) for d in ("MO", "SC", "UA", "PD", "AD") for level in range(1, 6)],
        columns=["dimension", "level", "decrement"],
    )
    assert qol.eq5d_index(states("21111"), toy).iloc[0] == pytest.approx(0.9)
    assert qol.eq5d_index(states("33333"), toy).iloc[0] == pytest.approx(0.0)


def test_time_in_treatment_from_first_admission():
    episodes = pd.DataFrame(
        {"patient_id": ["P001", "P001"], "admission_date": pd.to_datetime(["2023-01-01", "2022-01-01"])}
    )
    q = pd.DataFrame({"patient_id": ["P001"], "questionnaire_date": pd.to_datetime(["2023-01-01"])})
    timed = qol.time_in_treatment(q, episodes)
    assert timed["years"].iloc[0] == pytest.approx(365 / 365.25)
    assert timed["months"].iloc[0] == pytest.approx(365 / (365.25 / 12))


def test_trajectory_sample_needs_two_values():
    index = pd.DataFrame({"patient_id": ["P001", "P001", "P002"], "eq5d_index": [0.5, 0.6, 0.7]})
    assert list(qol.trajectory_sample(index)["patient_id"]) == ["P001", "P001"]


def two_groups(seed: int = 1, n_high: int = 40, n_low: int = 10) -> tuple[pd.DataFrame, pd.Series]:
    """A stable high group (0.8, flat) and a low group improving (0.1 + 0.15 per year), SD 0.05."""
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    for i in range(n_high + n_low):
        pid = f"P{i:03d}"
        high = i < n_high
        truth[pid] = high
        for wave in (0, 3, 6, 12, 24):
            years = wave / 12
            mean = 0.8 if high else 0.1 + 0.15 * years
            rows.append({"patient_id": pid, "wave": wave, "years": years, "eq5d_index": mean + rng.normal(0, 0.05)})
    return pd.DataFrame(rows), pd.Series(truth)


def test_lcga_recovers_two_separated_groups():
    data, truth = two_groups()
    fit = qol.fit_lcga(data, 2)
    assert fit.converged
    favourable = fit.assignment == fit.favourable_class
    assert (favourable.reindex(truth.index) == truth).mean() == 1.0
    classes = fit.classes().set_index("trajectory_class")
    assert classes.loc[fit.favourable_class, "percent"] == pytest.approx(80.0)
    other = 3 - fit.favourable_class
    assert classes.loc[other, "intercept"] == pytest.approx(0.1, abs=0.03)
    assert classes.loc[other, "slope_per_year"] == pytest.approx(0.15, abs=0.03)
    assert classes.loc[fit.favourable_class, "slope_per_year"] == pytest.approx(0.0, abs=0.03)


def test_lcga_log_likelihood_never_decreases():
    data, _ = two_groups(seed=7, n_high=30, n_low=30)
    data = data.assign(eq5d_index=data["eq5d_index"] + np.random.default_rng(3).normal(0, 0.2, len(data)))
    for k in (1, 2, 3):
        path = np.array(qol.fit_lcga(data, k).loglik_path)
        assert np.all(np.diff(path) >= -1e-9 * np.abs(path[1:]))


def test_lcga_is_deterministic_and_one_class_is_least_squares():
    data, _ = two_groups()
    a, b = qol.fit_lcga(data, 2), qol.fit_lcga(data, 2)
    assert a.loglik == b.loglik
    one = qol.fit_lcga(data, 1)
    slope, intercept = np.polyfit(data["years"], data["eq5d_index"], 1)
    assert one.intercepts[0] == pytest.approx(intercept)
    assert one.slopes[0] == pytest.approx(slope)
    assert one.n_parameters == 3
    assert one.bic == pytest.approx(-2 * one.loglik + 3 * np.log(50))


def test_compare_classes_prefers_two_for_two_groups():
    data, _ = two_groups()
    table = qol.compare_classes(data, (1, 2, 3)).set_index("classes")
    assert table.loc[2, "bic"] < table.loc[1, "bic"]
    assert list(table["parameters"]) == [3, 7, 11]


def test_correlation_signs():
    q = states("11111", "11111", "22232", "33343", "44454", "11111")
    q["anxiety_depression"] = pd.array(["none", "none", "moderate", "severe", "severe", pd.NA], dtype="string")
    q["chronic_conditions"] = pd.array([0, 1, 3, 5, 8, 0], dtype="Int64")
    q["social_support"] = pd.array([5, 4, 3, 2, 1, 5], dtype="Int64")
    q["meaning_in_life"] = pd.array([5, 5, 3, 2, 1, pd.NA], dtype="Int64")
    table = qol.index_correlations(q).set_index("expected_sign", append=True)
    assert table["agrees"].all()
    assert list(table["questionnaires"]) == [5, 6, 6, 5]
    by_term = qol.index_correlations(q).set_index("term")  # keyed by the item's id; the label is for display
    assert by_term.index.is_unique and list(by_term.index) == [column for column, _, _ in qol.CORRELATES]
    assert by_term.loc["chronic_conditions", "label"] == "Chronic conditions (number)"
    assert by_term.loc["chronic_conditions", "questionnaires"] == 6 and by_term.loc["chronic_conditions", "r"] < 0


def test_trajectory_points_and_chart():
    data, _ = two_groups()
    fit = qol.fit_lcga(data, 2)
    lines, observed = qol.trajectory_points(data, fit)
    assert set(lines["trajectory_class"]) == {1, 2}
    assert observed.groupby("trajectory_class")["wave"].nunique().tolist() == [5, 5]
    favourable = observed[observed.trajectory_class == fit.favourable_class]
    assert favourable["mean_index"].mean() == pytest.approx(0.8, abs=0.03)
    labels = {k: ("Favourable" if k == fit.favourable_class else "Other") for k in (1, 2)}
    assert "layer" in qol.trajectory_chart(lines, observed, labels).to_dict()
