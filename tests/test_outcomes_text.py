"""Section 6.4's text statistics as tidy frames (analysis/sections/outcomes_text.py): the shares rest on the counts of
Supplementary Table A as protected, their words and sentences say what the card glues, and every name is literal."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from test_outcomes_linked import transition_row

from analysis.presentation import disclosure, scorecard
from analysis.sections import outcomes as oc
from analysis.sections import outcomes_text as ot

#: Hand-made changes of every variable of Supplementary Table A: worsened, improved, unchanged.
CHANGES = {
    "stable_living": (2, 6, 12),  # 20 patients: 10% worsened, 30% improved, 40% changed, 60% unchanged
    "occupation": (5, 5, 10),
    "money_food": (4, 8, 8),
    "money_other": (6, 6, 8),
    "victim_of_crime": (5, 10, 5),
    "perpetrator_of_crime": (5, 5, 10),
    "frequent_heroin": (5, 10, 5),
    "frequent_cocaine": (5, 5, 10),
    "frequent_benzodiazepine": (5, 5, 10),
    "frequent_polysubstance": (5, 5, 10),
}
#: Patients in the bad state at their first answer (of 20).
BAD_FIRST = {
    "stable_living": 8,
    "occupation": 15,  # 75% without an occupation at first
    "victim_of_crime": 10,
    "perpetrator_of_crime": 10,
    "frequent_heroin": 10,
    "frequent_cocaine": 5,
    "frequent_benzodiazepine": 5,
    "frequent_polysubstance": 10,
}


def hand_report(hidden: dict | None = None) -> ot.SelfReport:
    """A SelfReport of the hand-made counts; ``hidden`` replaces cells of the protected table ((variable, part,
    cell) -> marker), as a rerun's protection would."""
    rows = [transition_row(variable, *changes) for variable, changes in CHANGES.items()]
    transitions = pd.DataFrame(rows, columns=oc.TRANSITION_COLUMNS)
    first_states = pd.DataFrame(
        [{"variable": v, "n_patients": 20, "bad_n": bad, "bad_percent": 100 * bad / 20} for v, bad in BAD_FIRST.items()]
    )
    days = pd.DataFrame(
        [
            {
                "variable": f"days_{s}",
                "n_patients": 20,
                "first_measurement_months": 1.0,
                "last_measurement_months": 12.0,
                "mean_days_first_measurement": 15.0,
                "mean_days_last_measurement": 9.0,
                "mean_change": -6.0,
                "sd": 4.0,
            }
            for s in ("heroin", "cocaine", "benzodiazepine")
        ],
        columns=oc.DAYS_COLUMNS,
    )
    hunger = pd.DataFrame(columns=["wave", "hunger", "percent"])
    text_values = oc.text_statistics(transitions, first_states, days, hunger).set_index("key")["value"]
    protected = oc.self_report_cells(transitions, first_states).astype({"n": object, "n_patients": object})
    for (variable, part, cell), marker in (hidden or {}).items():
        at = (protected["variable"] == variable) & (protected["part"] == part) & (protected["cell"] == cell)
        protected.loc[at, "n"] = marker
    cells = protected.set_index(["variable", "part", "cell"])
    return ot.SelfReport(transitions, first_states, days, text_values, protected, cells)


def hand_page(rerun: bool) -> SimpleNamespace:
    card = scorecard.Card(compare=False, min_cell=5) if rerun else scorecard.Card()
    return SimpleNamespace(
        card=card, published=scorecard.ledger(), sdc=5 if rerun else None, edition=SimpleNamespace(published=not rerun)
    )


@pytest.fixture
def glued(monkeypatch):
    """What myst_nb's glue received, by name."""
    received = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=False: received.__setitem__(name, value))
    return received


def test_counts_and_withholding_follow_the_protected_cells():
    report = hand_report({("stable_living", "change", "positive_to_negative"): "<5"})
    assert report.counts("stable_living", "improved") == [2, 6, 12]
    assert report.counts("occupation", "first") == [15, 5]
    # a share that rests on the hidden cell is withheld, the others are not
    assert report.withheld("stable_living", "worsened") and report.withheld("stable_living", "changed")
    assert not report.withheld("stable_living", "improved") and not report.withheld("stable_living", "no_change")
    assert not report.withheld("occupation", "worsened")
    assert report.patients("stable_living") == 20 and report.patients_shown("stable_living") == 20


ROWS = [
    # a ledger share resting on a count of 2: withheld in a rerun
    {"key": "s6_4_housing_worsened_pct", "value": 10.0, "of": [2, 6, 12], "suppress": False},
    # a ledger share whose count the protected table hides
    {"key": "s6_4_housing_improved_pct", "value": 30.0, "of": [6, 2, 12], "suppress": True},
    # a ledger share a protected table shows as a number, and one it shows as a marker
    {"key": "s6_4_somatic_severe_baseline_pct", "value": 41.5, "shown": 41.5},
    {"key": "s6_4_somatic_low_baseline_pct", "value": 58.5, "shown": "–"},
    # counts of the edition's own: small, large, and hidden by the table although large
    {"key": "o64_small_n", "value": 3, "shown": 3, "frequency": True},
    {"key": "o64_large_n", "value": 40, "shown": 40, "frequency": True},
    {"key": "o64_hidden_n", "value": 40, "shown": "–", "frequency": True},
    # a share of the edition's own resting on large counts, and a missing one
    {"key": "o64_share_pct", "value": 50.0, "of": [20, 20], "suppress": False},
    {"key": "o64_missing_pct", "value": np.nan, "of": [0, 0], "suppress": False},
]


@pytest.mark.parametrize("rerun", [False, True])
def test_what_a_row_shows_is_what_the_card_glues(glued, rerun):
    page = hand_page(rerun)
    seen = {row["key"]: ot.shown(page, row) for row in ROWS}
    page.card.glue_statistics(oc.statistics_frame(ROWS))
    for key, value in seen.items():
        assert glued[key] == value or (pd.isna(glued[key]) and pd.isna(value)), key
    if rerun:
        assert seen["s6_4_housing_worsened_pct"] == disclosure.WITHHELD
        assert seen["s6_4_housing_improved_pct"] == disclosure.WITHHELD
        assert seen["s6_4_somatic_severe_baseline_pct"] == 41.5 and seen["s6_4_somatic_low_baseline_pct"] == "–"
        assert seen["o64_small_n"] == "<5" and seen["o64_large_n"] == 40 and seen["o64_hidden_n"] == "–"
        assert seen["o64_share_pct"] == 50
    else:
        assert seen["s6_4_housing_worsened_pct"] == 10 and seen["s6_4_housing_improved_pct"] == 30
        assert seen["o64_small_n"] == 3 and seen["o64_hidden_n"] == 40


def test_social_section_in_the_published_edition(glued):
    page = hand_page(rerun=False)
    section = ot.social_section(page, hand_report())
    words = section["words"]
    assert words["s6_4_housing_worsened_pct_text"] == "10%"
    assert words["s6_4_housing_improved_pct_text"] == "30%"
    assert words["s6_4_housing_changed_pct_text"] == "40%"
    assert words["o64_housing_no_change_pct_text"] == "60%"
    assert words["o64_occupation_none_first_pct_text"] == "75%"
    page.card.glue_statistics(section["statistics"])
    assert glued["o64_housing_n"] == 20 and glued["s6_4_housing_changed_pct"] == 40
    assert glued["o64_housing_changed_lead"].data == oc.changed_lead(40.0) == "In all,"
    # 75% without an occupation at first, 25% took one up and 25% gave it up
    assert glued["o64_occupation_sentence"].data == oc.occupation_sentence(75.0, 25.0, 25.0)


def test_social_section_in_a_rerun_withholds_what_rests_on_a_hidden_cell(glued):
    page = hand_page(rerun=True)
    # occupation's 5 worsened is hidden by the protection although it is not small
    section = ot.social_section(page, hand_report({("occupation", "change", "positive_to_negative"): "–"}))
    words = section["words"]
    assert words["s6_4_occupation_worsened_pct_text"] == disclosure.WITHHELD
    assert words["s6_4_occupation_changed_pct_text"] == disclosure.WITHHELD
    assert words["s6_4_occupation_improved_pct_text"] == "25%"
    # housing's 2 worsened is small: every share of its transition derives from it and is withheld
    assert words["s6_4_housing_improved_pct_text"] == disclosure.WITHHELD
    assert words["o64_housing_no_change_pct_text"] == disclosure.WITHHELD
    assert words["s6_4_money_food_improved_pct_text"] == disclosure.WITHHELD  # 4 worsened
    assert words["s6_4_money_other_improved_pct_text"] == "30%"
    page.card.glue_statistics(section["statistics"])
    assert glued["s6_4_occupation_changed_pct"] == disclosure.WITHHELD and glued["o64_occupation_n"] == 20
    # the sentence is chosen from the share as shown: "Only" needs a known share below a quarter
    assert glued["o64_housing_changed_lead"].data == oc.changed_lead(disclosure.WITHHELD) == "In all,"
    assert glued["o64_occupation_sentence"].data == oc.occupation_sentence(75.0, 25.0, disclosure.WITHHELD)


def test_every_name_of_a_section_is_written_out_in_the_module():
    source = Path(ot.__file__).read_text(encoding="utf-8")
    report, page = hand_report(), hand_page(rerun=False)
    for section in (ot.social_section(page, report), ot.crime_section(page, report)):
        names = list(section["statistics"]["key"]) + list(section["words"])
        assert len(names) == len(set(names))
        assert all(f'"{name}"' in source for name in names), [n for n in names if f'"{n}"' not in source]
