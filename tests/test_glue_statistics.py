"""Card.glue_statistics: a section's tidy frame of statistics glued in one call, under the card's rules."""

import pandas as pd
import pytest

from analysis import scorecard


@pytest.fixture
def glued(monkeypatch):
    """What myst_nb's glue received, by name."""
    received = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=False: received.__setitem__(name, value))
    return received


def ledger_key(unit: str) -> str:
    ledger = scorecard.ledger()
    return ledger.index[ledger.unit == unit][0]


def test_published_edition_glues_every_value_as_computed(glued):
    card = scorecard.Card()
    count_key = ledger_key("patients")
    frame = pd.DataFrame({"key": [count_key, "own_count", "own_sentence"], "value": [3, 2, "Most stayed."],
                          "frequency": [None, True, None]})
    values = card.glue_statistics(frame)
    assert glued[count_key] == 3 and glued["own_count"] == 2
    assert glued["own_sentence"].data == "Most stayed."
    assert values[count_key] == 3
    assert list(card.table().key) == [count_key]  # only ledger keys are compared with the report


def test_rerun_hides_small_counts_and_follows_the_protected_table(glued):
    card = scorecard.Card(compare=False, min_cell=5)
    count_key = ledger_key("patients")
    frame = pd.DataFrame({
        "key": [count_key, "own_count", "own_hidden", "own_share"],
        "value": [12, 3, 40, 50.0],
        "shown": [None, None, "–", None],
        "frequency": [None, True, True, None],
        "of": [None, None, None, [2, 40]],
    })
    card.glue_statistics(frame)
    assert glued[count_key] == 12
    assert glued["own_count"] == "<5"          # a small frequency
    assert glued["own_hidden"] == "–"          # hidden by the protected table although it is large
    assert glued["own_share"] != 50.0          # rests on a small count: withheld

