"""Chapter 3's facts about the clinics are written out in words; each agrees with the ledger.

Section 3.3 describes how the clinics run: a training period, attendances per day, the minimum observation
time, booths, premises. These are facts about the service, not statistics computed from data, so the page
may write them in words (issue: "numbers that are not statistics may stay typed, each checked against the
ledger where it has a key"). Every other ledger row of sections 1, 3.1, 3.2 and 3.3 must be glued.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "book" / "ch03_hat_in_norway.md"

#: (words as in the prose, ledger key, value the words mean)
TYPED_FACTS = [
    ("Roughly three months went to training staff", "s3_3_staff_training_months", 3),
    ("come to the clinic twice a day", "s3_3_clinic_visits_per_day", 2),
    ("for at least 20 minutes", "s3_3_min_observation_minutes", 20),
    ("up to two hours a day", "s3_3_max_visit_duration_hours", 2),
    ("the one exception is a physician at HABiO who also works in OAT", "s3_3_oslo_physicians_also_in_oat", 1),
    ("the injection room with its five individual booths", "s3_3_oslo_injection_booths", 5),
    ("about a year and a half in two temporary locations", "s3_3_bergen_temporary_facilities_years", 1.5),
    ("separate injection room with six individual booths", "s3_3_bergen_injection_booths", 6),
]


@pytest.fixture(scope="module")
def ledger() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "published" / "statistics.csv").set_index("key")


def prose() -> str:
    text = PAGE.read_text(encoding="utf-8")
    text = re.sub(r"^```\{code-cell\}.*?^```", "", text, flags=re.S | re.M)
    return " ".join(text.split())


@pytest.mark.parametrize("words, key, value", TYPED_FACTS)
def test_typed_fact_is_in_the_prose_and_agrees_with_the_ledger(ledger, words, key, value):
    assert words in prose(), f"chapter 3 no longer says {words!r}"
    assert ledger.loc[key, "value"] == value, (
        f"{key}: the ledger has {ledger.loc[key, 'value']}, the words mean {value}"
    )


def table_cell_keys() -> set[str]:
    """Keys of the report's table cells: pages glue those with ``card.glue_frame`` from the table files."""
    keys: set[str] = set()
    for path in (ROOT / "data" / "published").glob("*.csv"):
        if path.name == "statistics.csv" or path.name.startswith("text_"):
            continue  # the ledger itself, and paragraphs kept as files: not table cells
        frame = pd.read_csv(path, dtype=str)
        for column in frame.columns[frame.columns.str.startswith("key")]:
            keys |= set(frame[column].dropna())
    return keys


def test_every_other_ledger_row_of_chapter_3_is_glued(ledger):
    """Text rows of sections 3.1-3.3 (and 1, stated in chapter 1) are glued on a page or listed as typed facts.

    Table cells are checked by the scorecard test of the built book; here, the rows printed in the text.
    """
    book = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "book").glob("*.md"))
    typed = {key for _, key, _ in TYPED_FACTS}
    rows = ledger[ledger.section.isin(["1", "3.1", "3.2", "3.3"])].index.difference(table_cell_keys())
    missing = [k for k in rows if k not in typed and not re.search(rf"\b{re.escape(k)}\b", book)]
    assert missing == [], f"ledger rows of chapters 1 and 3 neither glued nor listed as typed facts: {missing}"
