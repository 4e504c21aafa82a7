"""Tests of analysis/sections/somatic.py on hand-built questionnaires."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data.schema import SOMATIC_SYMPTOMS
from analysis.sections import somatic


def questionnaire(patient: str, wave: int, ratings, chronic=None, date="2023-01-01") -> dict:
    """One questionnaire row; ``ratings`` is a list of 18 ratings (None = unanswered)."""
    row = {"patient_id": patient, "wave": wave, "questionnaire_date": pd.Timestamp(date), "chronic_conditions": chronic}
    row.update({f"symptom_{name}": r for name, r in zip(SOMATIC_SYMPTOMS, ratings)})
    return row


def frame(rows) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    for column in somatic.SYMPTOM_COLUMNS + ["chronic_conditions"]:
        out[column] = out[column].astype("Int64")
    return out


def ratings_with_score(score: int) -> list[int]:
    """18 ratings summing to ``score`` (3s first)."""
    out = []
    for _ in range(18):
        r = min(3, score)
        out.append(r)
        score -= r
    return out


def test_count_and_score_by_hand():
    ratings = [3, 2, 1, 0] + [0] * 13 + [1]  # 4 items rated >= 1; sum 7
    scores = somatic.symptom_scores(frame([questionnaire("P001", 0, ratings)]))
    assert scores.loc[0, "acute_symptoms"] == 4
    assert scores.loc[0, "burden_score"] == 7
    assert not scores.loc[0, "severe"]


def test_incomplete_questionnaires_do_not_count():
    ratings = [1] * 17 + [None]
    assert somatic.symptom_scores(frame([questionnaire("P001", 0, ratings)])).empty


def test_cutoff_fourteen_is_severe_thirteen_is_low():
    rows = [questionnaire("P001", 0, ratings_with_score(14)), questionnaire("P002", 0, ratings_with_score(13))]
    scores = somatic.symptom_scores(frame(rows)).set_index("patient_id")
    assert scores.loc["P001", "burden_score"] == 14 and scores.loc["P001", "severe"]
    assert scores.loc["P002", "burden_score"] == 13 and not scores.loc["P002", "severe"]


def test_shares_by_wave():
    rows = [
        questionnaire("P001", 0, ratings_with_score(20)),
        questionnaire("P002", 0, ratings_with_score(14)),
        questionnaire("P003", 0, ratings_with_score(5)),
        questionnaire("P004", 0, ratings_with_score(0)),
        questionnaire("P001", 12, ratings_with_score(13)),
        questionnaire("P002", 12, ratings_with_score(30)),
        questionnaire("P003", 12, [1] * 17 + [None]),  # incomplete: left out
    ]
    shares = somatic.burden_shares(somatic.symptom_scores(frame(rows))).set_index("wave")
    assert shares.loc[0, "severe_pct"] == 50.0 and shares.loc[0, "low_pct"] == 50.0
    assert shares.loc[12, "questionnaires"] == 2 and shares.loc[12, "severe_pct"] == 50.0
    assert shares.loc[24, "questionnaires"] == 0 and np.isnan(shares.loc[24, "severe_pct"])


def test_baseline_summary_by_hand():
    # acute counts 2, 4, 6, 8 at baseline; chronic 1, 2, 3, (missing)
    rows = [
        questionnaire(f"P00{i}", 0, [1] * k + [0] * (18 - k), chronic=c)
        for i, (k, c) in enumerate([(2, 1), (4, 2), (6, 3), (8, None)])
    ]
    rows.append(questionnaire("P009", 12, [1] * 18, chronic=10))  # not baseline
    table = somatic.baseline_summary(frame(rows)).set_index("measure")
    acute = table.loc["acute_symptoms"]
    assert (acute["n"], acute["mean"], acute["median"], acute["q25"], acute["q75"]) == (4, 5.0, 5.0, 3.5, 6.5)
    assert acute.sd == pytest.approx(np.std([2, 4, 6, 8], ddof=1))
    chronic = table.loc["chronic_conditions"]
    assert (chronic["n"], chronic["mean"], chronic["sd"]) == (3, 2.0, 1.0)


def test_item_prevalence_counts_two_and_three_among_answers():
    base = [0] * 18
    a = list(base)
    a[0] = 2
    a[1] = 3
    b = list(base)
    b[0] = 1
    b[1] = 3
    c = list(base)
    c[0] = 3
    c[1] = None
    prevalence = somatic.item_prevalence(
        frame([questionnaire("P1", 0, a), questionnaire("P2", 0, b), questionnaire("P3", 0, c)])
    )
    top = prevalence.set_index("item")
    assert top.loc["dental_gum", "answered"] == 2 and top.loc["dental_gum", "percent"] == 100.0
    assert top.loc["sleep_problems", "percent"] == pytest.approx(200 / 3)
    assert list(prevalence["item"][:2]) == ["dental_gum", "sleep_problems"]  # sorted, largest first
    assert prevalence["percent"].is_monotonic_decreasing


def test_mixed_model_slope_sign_on_a_built_example():
    rng = np.random.default_rng(2)
    rows, years = [], []
    for i in range(30):
        start = 18 + rng.normal(0, 3)
        slope = -2 + rng.normal(0, 0.5)
        for t in (0.0, 0.25, 0.5, 1.0, 2.0):
            score = int(np.clip(round(start + slope * t + rng.normal(0, 1)), 0, 54))
            rows.append({"patient_id": f"P{i:03d}", "wave": int(t * 12), "burden_score": score})
            years.append(t)
    scores = pd.DataFrame(rows)
    fit = somatic.burden_mixed_model(scores, pd.Series(years, index=scores.index))
    assert fit["coefficient"] < 0
    assert fit["coefficient"] == pytest.approx(-2, abs=0.5)
    assert fit["p"] < 0.001
    assert fit["patients"] == 30 and fit["questionnaires"] == 150
    assert fit["structure"] in ("random intercept and slope", "random intercept only")


def test_simple_fractions_behind_verbal_shares():
    assert somatic.simple_fraction(0.53, 2) == 0.5
    assert somatic.simple_fraction(0.39, 3) == pytest.approx(1 / 3)
    assert somatic.simple_fraction(0.63, 3) == pytest.approx(2 / 3)
    assert somatic.simple_fraction(0.419, 5) == pytest.approx(0.4)
    assert somatic.fraction_words(0.63, 3) == "two in three"
    assert somatic.fraction_words(0.419, 5) == "two in five"


def test_charts_build():
    rows = [questionnaire("P001", w, ratings_with_score(s)) for w, s in ((0, 20), (12, 10), (24, 5))]
    q = frame(rows)
    shares = somatic.burden_shares(somatic.symptom_scores(q))
    assert somatic.burden_chart(shares).to_dict()["mark"]["type"] == "bar"
    assert somatic.prevalence_chart(somatic.item_prevalence(q)).to_dict()["mark"]["type"] == "bar"


def test_mixed_model_falls_back_to_random_intercept(monkeypatch):
    """When the random-slope fit reports a problem, the model is refitted with a random intercept only."""
    real_fit = somatic._fit
    seen = []

    def flaky(data, re_formula):
        seen.append(re_formula)
        result, problems = real_fit(data, re_formula)
        return (result, ["optimizer did not converge"]) if re_formula == "~years" else (result, problems)

    monkeypatch.setattr(somatic, "_fit", flaky)
    rng = np.random.default_rng(4)
    rows, years = [], []
    for i in range(20):
        start = 20 + rng.normal(0, 3)
        for t in (0.0, 1.0, 2.0):
            rows.append(
                {"patient_id": f"P{i:03d}", "wave": int(t * 12), "burden_score": start - 3 * t + rng.normal(0, 1)}
            )
            years.append(t)
    scores = pd.DataFrame(rows)
    fit = somatic.burden_mixed_model(scores, pd.Series(years, index=scores.index))
    assert seen == ["~years", "1"]
    assert fit["structure"] == "random intercept only"
    assert fit["fallback_reason"] == "optimizer did not converge"
    assert fit["coefficient"] == pytest.approx(-3, abs=0.5)


def test_mixed_model_section_agrees_on_a_built_fall_and_says_why_a_small_rerun_has_no_model(monkeypatch):
    from types import SimpleNamespace

    import myst_nb

    from analysis.presentation import scorecard
    from analysis.sections import quality_of_life

    monkeypatch.setattr(myst_nb, "glue", lambda *args, **kwargs: None)
    rng = np.random.default_rng(2)
    rows = []
    for i in range(30):
        start, slope = 18 + rng.normal(0, 3), -2 + rng.normal(0, 0.5)
        for t in (0.0, 0.25, 0.5, 1.0, 2.0):
            score = int(np.clip(round(start + slope * t + rng.normal(0, 1)), 0, 54))
            rows.append({"patient_id": f"P{i:03d}", "wave": int(t * 12), "burden_score": score, "years": t})
    scores = pd.DataFrame(rows)
    # the years in treatment are given with the scores (time_in_treatment is tested in test_quality_of_life)
    monkeypatch.setattr(quality_of_life, "time_in_treatment", lambda questionnaires, episodes: questionnaires)
    sizes = pd.Series({"lmm_patients": 30, "lmm_questionnaires": 150})
    page = SimpleNamespace(card=scorecard.Card(), sdc=None, cohort=SimpleNamespace(episodes=None))
    values = page.card.glue_statistics(somatic.mixed_model_section(page, scores, sizes)["statistics"])
    assert values["h64_lmm_slope"] == pytest.approx(-2, abs=0.5) and values["h64_lmm_ci_high"] < 0
    assert values["h64_lmm_patients"] == 30 and values["h64_lmm_questionnaires"] == 150
    assert values["h64_lmm_agreement"] == "agrees with the report: the burden falls over time and p is below .001"
    assert values["h64_lmm_p_text"] == "p < 0.001"
    # three patients in a rerun with threshold 5: not estimable, every figure empty, the words say why
    small = scores[scores["patient_id"].isin(["P000", "P001", "P002"])]
    rerun = SimpleNamespace(
        card=scorecard.Card(compare=False, min_cell=5), sdc=5, cohort=SimpleNamespace(episodes=None)
    )
    values = rerun.card.glue_statistics(somatic.mixed_model_section(rerun, small, sizes)["statistics"])
    assert np.isnan(values["h64_lmm_slope"])
    assert values["h64_lmm_structure"].startswith("a random intercept and a random slope per patient (the model is not")
    assert values["h64_lmm_agreement"].startswith("cannot be compared with the report")
