"""Hunger over the first year as 6.4 glues it: the shares answering "often", the answers at each time point and the
sentences chosen from them (hand-built answers, shares known by hand)."""

from types import SimpleNamespace

import pandas as pd
from test_outcomes import q, questionnaires

from analysis.presentation import scorecard
from analysis.sections import outcomes as oc


def published_page(answers: dict) -> SimpleNamespace:
    """The published edition of a page over questionnaires with ``answers`` (wave -> hunger answers)."""
    rows = [
        q(i, wave, "2023-01-01", hunger=answer) for wave, given in answers.items() for i, answer in enumerate(given, 1)
    ]
    return SimpleNamespace(
        card=scorecard.Card(),
        sdc=None,
        published=scorecard.ledger(),
        cohort=SimpleNamespace(questionnaires=questionnaires(rows)),
        edition=SimpleNamespace(published=True),
    )


def test_shares_answers_and_the_words_chosen_from_them(monkeypatch):
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda *args, **kwargs: None)
    # often: 1 of 4 at baseline (25%), 2 of 4 at 3 months (50%), 1 of 5 at 6 months (20%), 1 of 3 at 12 months (33%)
    page = published_page(
        {
            0: ["often", "never", "never", "rarely"],
            3: ["often", "often", "never", "always"],
            6: ["often", "never", "never", "never", "rarely"],
            12: ["often", "never", "never"],
        }
    )
    text_values = pd.Series({"s6_4_hunger_often_baseline_pct": 25.0, "s6_4_hunger_often_12m_pct": 100 / 3})
    section = oc.hunger_section(page, text_values)
    values = page.card.glue_statistics(section["statistics"])
    # a peak at 3 months alone, and a fall by 12 months, read the other way
    fallen = published_page(
        {
            0: ["often", "often", "never"],
            3: ["often", "never"],
            6: ["often", "never", "never"],
            12: ["never", "never", "often", "never"],
        }
    )
    words = fallen.card.glue_statistics(oc.hunger_section(fallen, text_values)["statistics"])
    assert words["o64_hunger_peak_words"].endswith("which these data do not show.")  # 67% at baseline is the highest
    assert words["o64_hunger_course"] == "Frequent hunger was less common at twelve months than at baseline."
    assert values["o64_hunger_answers_0m"] == 4 and values["o64_hunger_answers_6m"] == 5
    assert values["o64_hunger_often_3m_pct"] == 50 and section["words"]["o64_hunger_often_6m_pct_text"] == "20%"
    assert section["words"]["s6_4_hunger_often_baseline_pct_text"] == "25%"
    # the three-month share is the highest: the report's peak holds; 33% at 12 months is not below 25% at baseline
    assert values["o64_hunger_peak_words"].endswith("and so it is in these data.")
    assert values["o64_hunger_course"].startswith("In other words, frequent hunger did not recede")
