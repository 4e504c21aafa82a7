"""Monte Carlo standard errors (analysis.methods.uncertainty): closed forms and the batch-means method checked on
known distributions."""

import numpy as np
import pandas as pd
import pytest

from analysis.methods import uncertainty as unc
from analysis.sections import cost_utility


def test_proportion_and_mean_closed_forms():
    assert unc.mcse_proportion(0.5, 10_000) == pytest.approx(0.005)
    assert unc.mcse_proportion(0.2, 100) == pytest.approx(0.04)
    assert unc.mcse_mean([1.0, 3.0]) == pytest.approx(np.sqrt(2.0) / np.sqrt(2))


def test_batch_means_of_a_mean_matches_sd_over_root_n():
    draws = np.random.default_rng(1).normal(0.0, 2.0, 40_000)
    # the MCSE of the mean of 40,000 draws of sd 2 is 0.01; batch means estimate it from 40 batches
    assert unc.mcse_batch(draws, np.mean, batches=40) == pytest.approx(0.01, rel=0.3)


def test_batch_means_of_a_proportion_matches_the_closed_form():
    hits = (np.random.default_rng(2).random(20_000) < 0.3).astype(float)
    assert unc.mcse_batch(hits, np.mean, batches=40) == pytest.approx(np.sqrt(0.3 * 0.7 / 20_000), rel=0.3)


def test_stopping_rule():
    # p = 0.5 needs 0.25 / 0.005^2 = 10,000 replicates; p = 0.1 needs 3,600, rounded up to whole batches of 1,000
    assert unc.replicates_needed(0.5) == 10_000
    assert unc.replicates_needed(0.1) == 4_000
    assert unc.replicates_needed(0.5, target=0.0001) == unc.MCSE_CAP


def test_running_probability_ends_at_the_full_estimate():
    deltas = pd.DataFrame({"delta_cost": [1.0, -1.0, 1.0, -1.0], "delta_effect": [0.0, 0.0, 0.0, 0.0]})
    run = unc.running_probability(deltas, wtp=1.0, step=2)
    assert run["n"].tolist() == [2, 4]
    assert run["probability"].tolist() == [0.5, 0.5]
    assert run["mcse"].iloc[-1] == pytest.approx(0.25)


def test_mcse_sentence_says_whether_the_count_meets_the_rule():
    mcse = {
        "n": 5000,
        "probability": unc.mcse_proportion(0.5, 5000),
        "delta_cost_lower": 1.0,
        "delta_cost_upper": 2.0,
        "delta_effect_lower": 0.001,
        "delta_effect_upper": 0.002,
        "evpi": 3.0,
    }
    assert "would ask for 10,000" in cost_utility.mcse_sentences(mcse, 0.5, 1)
    mcse["probability"] = unc.mcse_proportion(0.01, 5000)
    assert "meets the rule" in cost_utility.mcse_sentences(mcse, 0.01, 1)
