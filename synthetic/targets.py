"""Calibration targets: what the report publishes, what the synthetic cohort achieves, pass or fail.

Targets are read from the ledger ``data/published/statistics.csv`` by key, so the generator and the
book share one record of the report. The value a cohort achieves is computed by the generator's own
code (never the book's analysis code). A target passes when the achieved value rounds to the published
one at its printed precision, or, for a target the cohort cannot meet, when it carries a ``reason``
that the calibration report prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

LEDGER = Path(__file__).resolve().parent.parent / "data" / "published" / "statistics.csv"


@lru_cache(maxsize=1)
def ledger() -> pd.DataFrame:
    """The ledger of published statistics, indexed by key."""
    return pd.read_csv(LEDGER).set_index("key")


def published(key: str) -> float:
    """The published value of a ledger key."""
    return float(ledger().loc[key, "value"])


def tolerance(key: str) -> float:
    """Half the printed precision of a ledger key: a value within it of the print rounds to the print. The
    calibration report judges a figure by it, and the searches aim at it (or at a share of it)."""
    return 0.5 * float(ledger().loc[key, "precision"])


@dataclass(frozen=True)
class Target:
    """One published figure and the value the synthetic cohort achieves."""

    key: str  # ledger key, or a descriptive name for a figure the ledger does not hold
    achieved: float
    target: float | None = None  # default: the ledger's value for key
    tolerance: float | None = None  # default: half the ledger's printed precision
    description: str = ""
    reason: str = ""  # why the cohort deliberately does not meet this target

    def resolved(self) -> dict:
        entry = ledger().loc[self.key] if self.key in ledger().index else None
        target = self.target if self.target is not None else float(entry.value)
        within = self.tolerance if self.tolerance is not None else tolerance(self.key)
        description = self.description or (entry.description if entry is not None else self.key)
        met = abs(float(self.achieved) - target) <= within * (1 + 1e-9) + 1e-12
        return {
            "key": self.key,
            "description": description,
            "target": target,
            "achieved": float(self.achieved),
            "tolerance": within,
            "met": met,
            "status": "pass" if met else ("explained" if self.reason else "FAIL"),
            # a reason explains a figure that is not met; on a target that passes it is not printed
            "reason": "" if met else self.reason,
        }


def report(targets: list[Target]) -> pd.DataFrame:
    """The calibration report: one row per target."""
    return pd.DataFrame([t.resolved() for t in targets])
