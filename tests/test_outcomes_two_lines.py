"""Exercise 6.4.3 sets the page's line for frequent heroin use (more than 12 of 30 days) beside a stricter one
(more than 20): the two lines are protected together, so that their difference gives back no small count."""

import pytest
from test_outcomes import episodes, q, questionnaires

from analysis.presentation import disclosure
from analysis.presentation import linked_suppression as ls
from analysis.sections import outcomes as oc


def five_patients():
    """First and last answers (days of heroin use): P1 25 -> 5, P2 25 -> 22, P3 15 -> 25, P4 15 -> 0, P5 0 -> 0;
    P6 answered once and is not counted."""
    dates = {0: "2023-01-01", 12: "2024-01-01"}
    rows = []
    for pid, (first, last) in enumerate([(25, 5), (25, 22), (15, 25), (15, 0), (0, 0)], 1):
        rows += [q(pid, w, dates[w], heroin_days_30d=d) for w, d in ((0, first), (12, last))]
    rows.append(q(6, 0, dates[0], heroin_days_30d=30))
    return questionnaires(rows), episodes([(f"P{i:03d}", "2023-01-01") for i in range(1, 7)])


def test_two_lines_cells_by_hand_and_their_sums_are_both_lines():
    data, eps = five_patients()
    cells = oc.two_lines_cells(data, eps, 20)
    by_band = cells.set_index(["first", "last"])["n"]
    # bands: at most 12, 13-20 (between the lines), above 20
    assert by_band[("above_line", "at_most_12")] == 1  # P1
    assert by_band[("above_line", "above_line")] == 1  # P2
    assert by_band[("between_lines", "above_line")] == 1  # P3
    assert by_band[("between_lines", "at_most_12")] == 1  # P4
    assert by_band[("at_most_12", "at_most_12")] == 1  # P5
    assert cells["n"].sum() == 5 and len(cells) == 9
    sums = {name: ls.margin_value(cells, "n", rows[0]) for name, rows in oc.TWO_LINES_SUMS.items()}
    at20 = oc.threshold_line_cells(data, eps, 20).set_index("cell")["n"]
    at12 = oc.threshold_line_cells(data, eps, 12).set_index("cell")["n"]
    for cell in ("frequent", "other", "improved", "worsened", "unchanged"):
        assert sums[f"{cell}_line"] == at20[cell] and sums[f"{cell}_12"] == at12[cell]
    assert sums["patients"] == 5 and sums["between_first"] == 2 and sums["between_last"] == 0


@pytest.mark.slow
def test_the_two_lines_of_2023_give_no_small_count_back():
    """Bergen 2023 showed 10 patients frequent at their first answer at the page's line (Supplementary Table A)
    and 9 at the stricter line, each line protected on its own: one patient between the lines. Protected
    together, no edition of the year lets a reader pin a small count or a hidden one."""
    from analysis.presentation.edition import open_page

    shown, margins, truth = {}, {}, {}
    for clinic in ls.EDITIONS:
        page = open_page(clinic, 2023, None, 5, glue_words=False)
        truth[clinic] = oc.two_lines_cells(page.cohort.questionnaires, page.cohort.episodes, 20)
        margins[clinic] = oc.stricter_line_counts(page, 20)
        shown[clinic] = truth[clinic].assign(n=disclosure.WITHHELD)  # the nine counts are never shown
    found = ls.recoverable_sums(shown, margins, truth, "n", 5, sums=oc.TWO_LINES_SUMS, known=oc.TWO_LINES_KNOWN)
    leaks = [f for f in found if 1 <= f[3] <= 4 or (f[1] == "total" and f[2].endswith("_line"))]
    assert leaks == []
