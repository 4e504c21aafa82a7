"""The hunger model as 6.4 glues it where the data cannot support it: every odds ratio empty, the sentences and the
table say why, and the model's sizes are shown as the protected sample sizes show them."""

from types import SimpleNamespace

import numpy as np
import pandas as pd

from analysis.presentation import scorecard
from analysis.sections import outcomes as oc


def test_a_model_on_one_outcome_is_not_estimable_and_the_page_says_why(monkeypatch):
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda *args, **kwargs: None)
    # six questionnaires of three patients, none often hungry: a single outcome cannot be modelled
    frame = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2", "P2", "P3", "P3"],
            "frequent_hunger": [0] * 6,
            "food_access": [1, 0, 1, 0, 1, 1],
            "amphetamine": [0, 1, 0, 0, 1, 0],
            "wave": [0, 3] * 3,
        }
    )
    page = SimpleNamespace(card=scorecard.Card(), sdc=None)
    section = oc.hunger_model_section(page, frame, pd.Series({"gee_obs": 6, "gee_patients": 3}))
    values = page.card.glue_statistics(section["statistics"])
    assert section["gee"] is None and section["reason"]
    assert values["o64_gee_n_obs"] == 6 and values["o64_gee_n_patients"] == 3
    assert np.isnan(values["o64_gee_food_odds_ratio"]) and np.isnan(values["o64_gee_amph_p_value"])
    assert values["o64_gee_agreement"] == f"In this edition the model is not estimable: {section['reason']}."
    assert values["o64_gee_result"] == "No odds ratio is shown here."
    assert not hasattr(section["tab-6-4-hunger-gee"], "hide")  # the placeholder, not a styled table
