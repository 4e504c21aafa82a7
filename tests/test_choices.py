"""The open choices of 6.7 as data (analysis.sections.choices): each option computed on a hand-built sample."""

import numpy as np
import pandas as pd
import pytest

from analysis.sections import choices as ch
from analysis.sections.quality_of_life import EQ5D_COLUMNS


def sample():
    # two continued patients, two unplanned; follow-up and spans in years of 365.25 days
    return pd.DataFrame(
        {
            "patient_id": [1, 2, 3, 4],
            "group": ["continued", "continued", "unplanned", "unplanned"],
            "qalys": [1.0, 0.5, 0.2, 0.3],
            "qalys_within": [0.8, 0.5, 0.2, 0.1],
            "measured_years": [1.0, 0.5, 0.5, 1.0],
            "follow_up_years": [2.0, 1.0, 1.0, 2.0],
            "days": [730.5, 365.25, 182.625, 365.25],
            "cost": [200.0, 100.0, 50.0, 100.0],
        }
    )


def test_defaults_give_the_mean_of_ratios_per_follow_up_year():
    r = ch.cost_utility(sample())
    # continued: costs 100 and 100 a year, QALYs 0.5 and 0.5; unplanned: 50 and 50, 0.2 and 0.15
    assert r["delta_cost"] == pytest.approx(50.0)
    assert r["delta_qaly"] == pytest.approx(0.5 - 0.175)
    assert r["icer"] == pytest.approx(50.0 / 0.325)


def test_each_option_moves_what_it_should():
    s = sample()
    assert ch.cost_utility(s, qaly_curve="within_episodes")["delta_qaly"] == pytest.approx(
        (0.4 + 0.5) / 2 - (0.2 + 0.05) / 2
    )
    # per year in HAT: 200/2, 100/1 against 50/0.5, 100/1
    assert ch.cost_utility(s, annual_cost="in_treatment")["delta_cost"] == pytest.approx(100.0 - 100.0)
    assert ch.cost_utility(s, annual_qalys="measured_span")["delta_qaly"] == pytest.approx(1.0 - 0.35)
    # group totals: 300/3 - 150/3 and 1.5/3 - 0.5/3
    r = ch.cost_utility(s, averaging="ratio_of_means")
    assert (r["delta_cost"], r["delta_qaly"]) == (pytest.approx(50.0), pytest.approx(1 / 3))
    # a year of 365 days: the cost per year falls by 365/365.25, QALYs per year are unchanged
    r = ch.cost_utility(s, year_days=365.0)
    assert r["delta_cost"] == pytest.approx(50.0 * 365 / 365.25)
    assert r["delta_qaly"] == pytest.approx(0.325)


def test_choices_have_a_default_among_their_options_and_words_for_each():
    for choice in ch.CHOICES:
        assert choice.default in choice.options
        assert set(choice.words) == set(choice.options)


def test_curve_crosses_every_option_and_marks_one_published_row():
    samples = {name: sample() for name in ch.BY_NAME["value_set"].options}
    curve = ch.specification_curve(samples)
    n = int(np.prod([len(c.options) for c in ch.CHOICES]))
    assert len(curve) == n
    assert curve["published"].sum() == 1
    assert curve.loc[curve["published"], "icer"].iloc[0] == pytest.approx(50.0 / 0.325)
    summary = ch.curve_summary(curve, thresholds=(100.0,))
    assert summary["n"] == n // len(ch.BY_NAME["offset_sample"].options)
    # in_treatment cost gives delta cost 0 (no ICER, not more costly), so not every specification has one
    assert summary["n_icer"] < summary["n"]


def test_episode_qalys_skip_the_gap_between_episodes():
    episodes = pd.DataFrame(
        {
            "patient_id": [1, 1],
            "admission_date": pd.to_datetime(["2020-01-01", "2021-01-01"]),
            "discharge_date": pd.to_datetime(["2020-06-30", None]),
        }
    )
    dims = {column: [1, 1, 1] for column in EQ5D_COLUMNS}
    answers = pd.DataFrame(
        {
            "patient_id": [1, 1, 1],
            "questionnaire_date": pd.to_datetime(["2020-01-01", "2020-06-30", "2021-07-01"]),
            **dims,
        }
    )
    out = ch.episode_qalys(answers, episodes, "2021-12-31")
    # utility 1 throughout: only the first segment (181 days) lies inside one episode
    assert out["qalys_within"].iloc[0] == pytest.approx(181 / 365.25)


def test_bundled_cohort_reproduces_the_issue_table():
    from analysis.presentation.edition import open_page
    from analysis.sections import cost_utility as cu
    from analysis.sections import health_services as hs

    cohort = open_page("all", 2025, None, 5).cohort
    accounts = cu.edition_accounts(getattr(cohort, "accounts", None))[0]
    samples = ch.samples_by_value_set(cohort, accounts)
    periods, groups = hs.registry_periods(cohort.health_service_use), hs.trajectory_groups(cohort.episodes)
    curve = ch.specification_curve(samples, periods, groups)
    base = {k: v for k, v in ch.defaults().items() if k not in ("offset_sample",)}

    def row(offset_sample="all", **changes):
        chosen = {**base, **changes, "offset_sample": offset_sample}
        hit = curve[np.logical_and.reduce([curve[k] == v for k, v in chosen.items()])]
        assert len(hit) == 1
        return hit.iloc[0]

    assert round(row()["icer"]) == 845_087
    assert row()["published"]
    assert round(row(qaly_curve="within_episodes")["icer"]) == 922_269
    assert round(row(annual_cost="in_treatment")["icer"]) == 921_192
    assert round(row(annual_qalys="measured_span")["icer"]) == 1_114_652
    assert round(row(annual_cost="in_treatment", annual_qalys="measured_span")["icer"]) == 1_215_033
    assert round(row(averaging="ratio_of_means")["icer"]) == 583_436
    assert [round(row(offset_sample=o)["net_delta_cost"]) for o in ("all", "after", "qaly_sample")] == [
        -6_540,
        -12_780,
        -24_871,
    ]


def test_curve_sentences_say_when_the_quadrant_changes():
    summary = {
        "n": 4,
        "n_icer": 2,
        "icer_min": 500_000.0,
        "icer_max": 900_000.0,
        "icer_median": 700_000.0,
        "share_under_825000": 0.25,
        "share_under_479000": 0.0,
        "icers": np.array([500_000.0, 900_000.0]),
        "statuses": {"more costly, more effective": 2, "dominated": 2},
        "net_min": -10.0,
        "net_max": 10.0,
        "net_negative": 0.5,
        "n_net": 12,
    }
    text = ch.curve_sentences(summary, 900_000.0)
    assert "The quadrant changes" in text and "*dominated* in 2 specifications" in text
    assert "500,000 to 900,000" in text and "with 1 specification giving a lower ICER" in text
    summary["statuses"] = {"more costly, more effective": 4}
    assert "does not change" in ch.curve_sentences(summary, 900_000.0)
