"""Norway's OAT context (report section 3.2): HAT patients set against the whole OAT population.

The source is Table 3.A of the report, itself taken from the national OAT status report for 2024.
"""

from __future__ import annotations

import pandas as pd


def hat_vs_oat(table_3a: pd.DataFrame) -> pd.DataFrame:
    """One row per item and category, with the HAT and OAT percentages side by side.

    ``difference_pp`` is HAT minus OAT in percentage points. A category reported for only one group
    has no value for the other (it was not reported, not zero), so its difference is missing.
    """
    wide = table_3a.pivot_table(
        index=["item", "item_label", "category"], columns="group", values="percent", sort=False
    ).reset_index()
    wide.columns.name = None
    wide["difference_pp"] = wide["HAT"] - wide["OAT"]
    return wide


def percent_of(table_3a: pd.DataFrame, item: str, category: str, group: str) -> float:
    """The percentage reported for one item, category and group (e.g. overdose, overdose, HAT)."""
    match = table_3a[
        (table_3a["item"] == item) & (table_3a["category"] == category) & (table_3a["group"] == group)
    ]
    if len(match) != 1:
        raise KeyError(f"Table 3.A has {len(match)} rows for item={item!r}, category={category!r}, group={group!r}")
    return float(match["percent"].iloc[0])
