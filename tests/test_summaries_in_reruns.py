"""The summary pages of a rerun restate the report with the report's figures (hatbook/summaries.py)."""

import pandas as pd

from hatbook import summaries

LEDGER = pd.DataFrame(
    {"value": [48.0, -6500.0, 845087.0]}, index=["es_left_treatment_percent", "es_net_cost", "es_cost_per_qaly"]
)
PAGE = """---
jupytext: {}
---

# Executive summary

When 2025 ended, {glue:text}`ch06_1_enrollment_retention.md::es_left_treatment_percent:.0f`% had left.
Net cost {glue:text}`ch06_7_cost_utility.md::es_net_cost:,.0f` NOK; ICER {glue:text}`ch06_7_cost_utility.md::es_cost_per_qaly:,.0f`.
Staff {glue:text}`ch03_hat_in_norway.md::table_3b_oslo_fte_per_patient:.2f` per patient.
"""  # noqa: E501 (a page's lines are as long as its sentences)
COMPUTED = {"ch06_1_enrollment_retention", "ch06_7_cost_utility"}


def test_pastes_from_computed_pages_become_the_report_figures():
    text = summaries.restate(PAGE, COMPUTED, LEDGER, "NOTE\n")
    assert "When 2025 ended, 48% had left." in text
    assert "Net cost \u22126,500 NOK; ICER 845,087." in text
    # a paste from a page no rerun changes stays a paste
    assert "{glue:text}`ch03_hat_in_norway.md::table_3b_oslo_fte_per_patient:.2f`" in text
    assert text.index("# Executive summary") < text.index("NOTE") < text.index("When 2025")


def test_only_pages_that_paste_from_computed_pages_are_restated(tmp_path):
    (tmp_path / "executive_summary.md").write_text(PAGE, encoding="utf-8")
    (tmp_path / "ch03_hat_in_norway.md").write_text("# 3\n\nText.\n", encoding="utf-8")
    (tmp_path / "ch06_1_enrollment_retention.md").write_text(PAGE, encoding="utf-8")
    done = summaries.restate_summaries(tmp_path, sorted(COMPUTED), "Bergen, data through 2022", LEDGER)
    assert done == ["executive_summary"]
    assert "{glue:text}`ch06_1" in (tmp_path / "ch06_1_enrollment_retention.md").read_text(encoding="utf-8")
    assert "Bergen, data through 2022" in (tmp_path / "executive_summary.md").read_text(encoding="utf-8")
