"""Tests of analysis/sections/mental_health.py on hand-built questionnaires."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sections import mental_health as mh


def answers(rows) -> pd.DataFrame:
    """(patient_id, wave, mental_health) triples as a questionnaires frame."""
    frame = pd.DataFrame(rows, columns=["patient_id", "wave", "mental_health"])
    frame["mental_health"] = frame["mental_health"].astype("string")
    frame["wave"] = frame["wave"].astype("Int64")
    return frame


def test_sample_needs_baseline_and_a_first_year_follow_up():
    q = answers(
        [
            ("P001", 0, "bad"),
            ("P001", 3, "fair"),  # in
            ("P002", 0, "bad"),
            ("P002", 24, "good"),  # follow-up only after the first year: out
            ("P003", 3, "fair"),
            ("P003", 12, "good"),  # no baseline: out
            ("P004", 0, None),
            ("P004", 6, "good"),  # baseline unanswered: out
            ("P005", 0, "good"),
            ("P005", 3, None),
            ("P005", 12, "good"),  # in (answered at 12)
            ("P006", 0, "fair"),  # no follow-up: out
        ]
    )
    assert list(mh.first_year_sample(q, "mental_health")) == ["P001", "P005"]


def test_shares_and_relative_change_by_hand():
    # baseline: 2 bad, 1 fair, 1 good (4 answers); 12 months: 1 bad, 1 fair, 2 good (4 answers)
    q = answers(
        [
            ("P001", 0, "bad"),
            ("P001", 12, "good"),
            ("P002", 0, "bad"),
            ("P002", 12, "bad"),
            ("P003", 0, "fair"),
            ("P003", 12, "fair"),
            ("P004", 0, "good"),
            ("P004", 12, "good"),
            ("P009", 12, "bad"),  # not in the sample (no baseline): not counted
        ]
    )
    shares = mh.shares_by_wave(q, "mental_health")
    at = shares.set_index(["wave", "category"])
    assert at.loc[(0, "bad"), "percent"] == 50.0
    assert at.loc[(12, "good"), "percent"] == 50.0
    assert at.loc[(3, "bad"), "total"] == 0
    assert list(shares.loc[shares.wave == 0, "category"]) == ["bad", "fair", "good"]
    # good: 25% -> 50% is +100%; bad: 50% -> 25% is -50%
    assert mh.relative_change(shares, "good") == pytest.approx(100.0)
    assert mh.relative_change(shares, "bad") == pytest.approx(-50.0)
    assert mh.relative_change(shares, "fair") == pytest.approx(0.0)


def test_anxiety_depression_runs_worst_to_best():
    assert mh.WORST_TO_BEST["anxiety_depression"] == ("severe", "moderate", "none")
    assert mh.WORST_TO_BEST["mental_health"] == ("bad", "fair", "good")


def simulated(n: int = 120, effect: float = 1.5, seed: int = 0):
    """Patients answering at 0, 3, 6, 12; the 12-month latent shift is ``effect`` (better)."""
    rng = np.random.default_rng(seed)
    rows, people = [], []
    for i in range(n):
        pid = f"P{i:03d}"
        female = i % 3 == 0
        people.append(
            {
                "patient_id": pid,
                "age_at_admission": 30 + i % 25,
                "sex": "female" if female else "male",
                "clinic": "Bergen" if i % 2 else "Oslo",
            }
        )
        frailty = rng.normal(0, 0.5)
        suicide = bool(i % 4 == 0)
        for wave in (0, 3, 6, 12):
            latent = frailty + (effect if wave == 12 else 0.0) - (1.0 if suicide else 0.0) + rng.logistic()
            category = "bad" if latent < -0.7 else ("fair" if latent < 0.7 else "good")
            rows.append(
                {
                    "patient_id": pid,
                    "wave": wave,
                    "mental_health": category,
                    "suicide_attempt_ever": (suicide if wave == 0 else pd.NA),
                }
            )
    q = pd.DataFrame(rows)
    q["mental_health"] = q["mental_health"].astype("string")
    q["suicide_attempt_ever"] = q["suicide_attempt_ever"].astype("boolean")
    return q, pd.DataFrame(people)


def test_model_frame_codes_covariates():
    q, people = simulated(n=8)
    q.loc[(q.patient_id == "P001") & (q.wave == 0), "suicide_attempt_ever"] = pd.NA
    q.loc[(q.patient_id == "P001") & (q.wave == 3), "suicide_attempt_ever"] = True  # first answer used
    frame = mh.model_frame(q, people, "mental_health")
    first = frame[frame.patient_id == "P000"].iloc[0]
    assert (first.age, first.female, first.bergen, first.suicide_attempt) == (30.0, 1.0, 0.0, 1.0)
    assert frame.loc[frame.patient_id == "P001", "suicide_attempt"].eq(1.0).all()
    assert frame.loc[frame.wave == 12, ["wave_3", "wave_6", "wave_12"]].eq([0, 0, 1]).all().all()
    assert list(frame["outcome"].cat.categories) == ["bad", "fair", "good"]


def test_proportional_odds_finds_a_built_in_improvement():
    q, people = simulated()
    result = mh.proportional_odds(mh.model_frame(q, people, "mental_health"))
    table = mh.odds_ratio_table(result).set_index("term")
    assert table.loc["wave_12", "odds_ratio"] > 2
    assert table.loc["wave_12", "p"] < 0.001
    assert table.loc["suicide_attempt", "odds_ratio"] < 1
    assert (table["ci_low"] < table["odds_ratio"]).all() and (table["odds_ratio"] < table["ci_high"]).all()
    assert result.cov_type == "cluster"


def test_compare_with_report():
    table = pd.DataFrame(
        {
            "term": list(mh.TERMS),
            "label": list(mh.TERMS.values()),
            "odds_ratio": [1.1, 1.2, 1.8, 0.97, 1.0, 0.6, 0.5],
            "p": [0.5, 0.3, 0.01, 0.02, 0.9, 0.04, 0.001],
        }
    )
    out = mh.compare_with_report(table, "mental_health").set_index("term")
    assert out.loc["wave_3", "report"] == "not stated"
    assert out.loc["wave_12", "agrees"] == "yes"
    assert (out["agrees"].isin(["yes", ""])).all()
    worse = table.assign(odds_ratio=[1.1, 1.2, 0.6, 0.97, 1.0, 0.6, 0.5])  # significant but worse
    assert mh.compare_with_report(worse, "mental_health").set_index("term").loc["wave_12", "agrees"] == "no"
    anx = mh.compare_with_report(table, "anxiety_depression").set_index("term")
    assert anx.loc["wave_12", "agrees"] == "no"
    assert anx.loc["female", "agrees"] == "no"


def test_model_tables_are_keyed_by_term_ids_and_labels_only_display(monkeypatch):
    """The model's table carries the term's id (``term``) and its display name (``label``) apart: ids are unique
    and are the model's columns, and renaming every label changes the label column and the words that name a
    term, never a lookup (the report's statements, the terms left empty, the 12-month sentence)."""
    q, people = simulated(n=60)
    people["clinic"] = "Bergen"  # the clinic term is not estimable: fit_model names it in term_reasons
    frame = mh.model_frame(q, people, "mental_health")
    table, term_reasons, reason = mh.fit_model(frame, "mental_health", None)
    assert reason is None and table is not None
    assert list(table.columns[:2]) == ["term", "label"] and table["term"].is_unique
    assert list(table["term"]) == list(mh.TERMS) and list(table["label"]) == list(mh.TERMS.values())
    assert set(mh.REPORTED["mental_health"]) <= set(mh.TERMS) and set(mh.REPORTED["anxiety_depression"]) <= set(
        mh.TERMS
    )
    assert list(term_reasons) == ["bergen"]
    twelve = table.set_index("term").loc["wave_12"]
    assert twelve["label"] == "12 months (vs baseline)" and twelve["agrees"] == "yes"

    monkeypatch.setattr(mh, "TERMS", {name: f"Renamed: {label}" for name, label in mh.TERMS.items()})
    relabelled, relabelled_reasons, _ = mh.fit_model(frame, "mental_health", None)
    assert relabelled is not None
    assert relabelled.drop(columns="label").equals(table.drop(columns="label"))
    assert relabelled["label"].str.startswith("Renamed: ").all() and relabelled_reasons == term_reasons
    assert mh.term_notes(relabelled_reasons).startswith("Not estimable in these data: Renamed: Bergen (vs Oslo) (")
    assert mh.twelve_month_sentence(relabelled, relabelled_reasons, None, "p < 0.001") == mh.twelve_month_sentence(
        table, term_reasons, None, "p < 0.001"
    )
    shown = mh.model_table({"table": relabelled, "reason": None}, "Caption").data
    assert list(shown.columns[:2]) == ["Term", "Odds ratio"] and shown["Term"].str.startswith("Renamed: ").all()


def test_agreement_summary_counts_judged_terms_only():
    compared = pd.DataFrame(
        {
            "term": ["a", "b", "c"],
            "label": ["Term A", "Term B", "Term C"],
            "odds_ratio": [1.0, 2.0, 0.5],
            "p": [0.5, 0.01, 0.2],
            "report": ["not stated", "significant", "significant"],
            "agrees": ["", "yes", "no"],
        }
    )
    text = mh.agreement_summary(compared)
    assert text.startswith("agrees with the report on 1 of the 2 statements")
    assert "Term C (report: significant; here odds ratio 0.50, p = 0.200)" in text
    assert "all 1" in mh.agreement_summary(compared.iloc[:2])


def test_shares_chart_builds():
    q = answers([("P001", 0, "bad"), ("P001", 12, "good")])
    spec = mh.shares_chart(mh.shares_by_wave(q, "mental_health"), "mental_health", "t").to_dict()
    assert spec["mark"]["type"] == "bar"


def test_a_constant_covariate_is_left_out():
    q, people = simulated(n=60)
    people["clinic"] = "Bergen"  # one clinic only: the clinic term cannot be estimated
    table = mh.odds_ratio_table(mh.proportional_odds(mh.model_frame(q, people, "mental_health"))).set_index("term")
    assert np.isnan(table.loc["bergen", "odds_ratio"])
    assert table.drop(index="bergen")["p"].notna().all()
    compared = mh.compare_with_report(table.reset_index(), "mental_health").set_index("term")
    assert compared.loc["bergen", "agrees"] == ""


def test_shares_section_by_hand(monkeypatch):
    """The section's statistics on hand-built answers: the sample sizes, the shares and their words, the relative
    changes (a fall counted as a positive decline) and an infinite change (a share of 0 at baseline) as NaN."""
    from types import SimpleNamespace

    import myst_nb

    from analysis.presentation import scorecard

    monkeypatch.setattr(myst_nb, "glue", lambda *args, **kwargs: None)
    # mental health as in test_shares_and_relative_change_by_hand; anxiety/depression: baseline 1 severe, 3 none;
    # 12 months 1 moderate, 3 none (moderate goes from 0% to 25%)
    rows = [
        ("P001", 0, "bad", "severe"),
        ("P001", 12, "good", "moderate"),
        ("P002", 0, "bad", "none"),
        ("P002", 12, "bad", "none"),
        ("P003", 0, "fair", "none"),
        ("P003", 12, "fair", "none"),
        ("P004", 0, "good", "none"),
        ("P004", 12, "good", "none"),
    ]
    frame = pd.DataFrame(rows, columns=["patient_id", "wave", "mental_health", "anxiety_depression"])
    frame[["mental_health", "anxiety_depression"]] = frame[["mental_health", "anxiety_depression"]].astype("string")
    frame["wave"] = frame["wave"].astype("Int64")
    page = SimpleNamespace(card=scorecard.Card(), sdc=None, cohort=SimpleNamespace(questionnaires=frame))
    section = mh.shares_section(page, "calibration")
    values = page.card.glue_statistics(section["statistics"])
    assert values["s6_4_fig_6h_n"] == 4 and values["s6_4_fig_6i_n"] == 4
    assert values["h64_mh_bad_0_pct"] == 50 and values["h64_mh_good_12_pct"] == 50
    assert section["words"]["h64_mh_bad_12_pct_text"] == "25%"
    assert values["s6_4_mental_health_good_12m_increase_pct"] == pytest.approx(100.0)
    assert section["words"]["s6_4_mental_health_good_12m_increase_pct_text"] == "+100%"
    assert values["s6_4_mental_health_bad_12m_decline_pct"] == pytest.approx(50.0)  # 50% -> 25%
    assert values["s6_4_anxdep_severe_12m_decline_pct"] == pytest.approx(100.0)  # 25% -> 0%
    assert np.isnan(values["s6_4_anxdep_moderate_12m_increase_pct"])  # 0% -> 25%: no relative change
    assert isinstance(values["h64_ad_shift_sentence"], str)
    assert set(section) == {"statistics", "words", "fig_6h", "fig_6i"}


def test_models_section_glues_a_fitted_model_and_says_why_the_other_is_not(monkeypatch):
    """The mental-health model of a built-in improvement is fitted and its 12-month p-value glued; an
    anxiety/depression item that every answer rates the same cannot be modelled, and the page says so."""
    from types import SimpleNamespace

    import myst_nb

    from analysis.presentation import scorecard

    monkeypatch.setattr(myst_nb, "glue", lambda *args, **kwargs: None)
    q, people = simulated()
    q["anxiety_depression"] = pd.Series("none", index=q.index, dtype="string")
    sizes = pd.Series({"mh_model_answers": 7, "mh_model_patients": 3, "ad_model_answers": 7, "ad_model_patients": 3})
    page = SimpleNamespace(card=scorecard.Card(), sdc=None, cohort=SimpleNamespace(questionnaires=q, patients=people))
    section = mh.models_section(page, sizes)
    values = page.card.glue_statistics(section["statistics"])
    assert values["h64_mh_model_answers"] == len(mh.model_frame(q, people, "mental_health"))
    assert values["h64_mh_model_patients"] == q["patient_id"].nunique()
    assert values["s6_4_mental_health_12m_p_value"] < 0.001
    assert values["h64_mh_12m_p_text"] == "p < 0.001"
    assert section["models"]["anxiety_depression"]["table"] is None
    assert values["h64_ad_model_agreement"].startswith("is not estimable in this edition (")
    assert values["h64_ad_model_terms"] == "No odds ratio is shown."
    assert hasattr(section["table_h64_mh_model"], "to_html")
