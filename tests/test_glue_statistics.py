"""Card.glue_statistics: a section's tidy frame of statistics glued in one call, under the card's rules."""

import pandas as pd
import pytest

from analysis.presentation import scorecard


@pytest.fixture
def glued(monkeypatch):
    """What myst_nb's glue received, by name."""
    received = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=False: received.__setitem__(name, value))
    return received


def ledger_key(unit: str) -> str:
    """A ledger key of ``unit`` that neither restates another nor is restated."""
    ledger = scorecard.ledger()
    restates = ledger["restates"].fillna("")
    alone = (restates == "") & ~ledger.index.isin(restates)
    return ledger.index[(ledger.unit == unit) & alone][0]


def test_published_edition_glues_every_value_as_computed(glued):
    card = scorecard.Card()
    count_key = ledger_key("patients")
    frame = pd.DataFrame(
        {
            "key": [count_key, "own_count", "own_sentence"],
            "value": [3, 2, "Most stayed."],
            "frequency": [None, True, None],
        }
    )
    values = card.glue_statistics(frame)
    assert glued[count_key] == 3 and glued["own_count"] == 2
    assert glued["own_sentence"].data == "Most stayed."
    assert values[count_key] == 3
    assert list(card.table().key) == [count_key]  # only ledger keys are compared with the report


def test_rerun_hides_small_counts_and_follows_the_protected_table(glued):
    card = scorecard.Card(compare=False, min_cell=5)
    count_key = ledger_key("patients")
    frame = pd.DataFrame(
        {
            "key": [count_key, "own_count", "own_hidden", "own_share"],
            "value": [12, 3, 40, 50.0],
            "shown": [None, None, "–", None],
            "frequency": [None, True, True, None],
            "of": [None, None, None, [2, 40]],
        }
    )
    card.glue_statistics(frame)
    assert glued[count_key] == 12
    assert glued["own_count"] == "<5"  # a small frequency
    assert glued["own_hidden"] == "–"  # hidden by the protected table although it is large
    assert glued["own_share"] != 50.0  # rests on a small count: withheld


def test_a_restated_statistic_is_glued_under_every_name_the_ledger_gives_it(glued):
    ledger = scorecard.ledger()
    restating = ledger["restates"].dropna()
    restating = restating[restating != ""]
    alias, primary = restating.index[0], restating.iloc[0]
    assert ledger.loc[primary, "restates"] in ("", None) or pd.isna(ledger.loc[primary, "restates"])  # no chains
    card = scorecard.Card(compare=False, min_cell=5)
    card.glue(primary, 3, of=[3])
    assert glued[primary] == glued[alias] and glued[alias] != 3  # the alias shows what its statistic shows
    assert {primary, alias} <= set(card.table().key)


def test_every_restating_key_names_a_statistic_that_restates_nothing():
    ledger = scorecard.ledger()
    restates = ledger["restates"].fillna("")
    targets = set(restates[restates != ""])
    assert targets <= set(ledger.index)
    assert not (targets & set(restates[restates != ""].index)), "a restated statistic must not itself restate another"
