"""Every edition at a threshold of the analyst's choosing: the whole grid (3 clinic choices x 4 data ends) at
threshold 10 builds with every computed page, its pages read clean, and the disclosure auditor finds no count
of 1 to 9 a reader could read or work out, in one edition, between the editions of a year or between data ends.

At threshold 10 more cells are small than at the default 5, and classes the trajectory model cannot fit in a
small clinic-year (Bergen 2022) break the sums that link the editions; both once made pages raise or leak.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_editions import _check_pages, _report, computed_page_names

from hatbook import disclosure_audit
from hatbook import rerun as rr

pytestmark = pytest.mark.slow

THRESHOLD = 10


@pytest.fixture(scope="module")
def folder(grid_build_at_10) -> Path:
    if grid_build_at_10.returncode != 0:
        pytest.fail(
            f"hatbook rerun --grid --threshold {THRESHOLD} exited {grid_build_at_10.returncode}:\n"
            f"{grid_build_at_10.log[-3000:]}"
        )
    return grid_build_at_10.folder


@pytest.fixture(scope="module")
def grid(folder) -> list[rr.Result]:
    results = []
    for variant in rr.grid(threshold=THRESHOLD):
        html = folder / variant.name / "html"
        results.append(rr.Result(variant, (html / "index.html").is_file(), 0.0, html=html))
    return results


def test_the_grid_at_threshold_10_builds_twelve_of_twelve_with_every_computed_page(grid):
    assert [r.variant.name for r in grid if not r.ok] == []
    assert len(grid) == 12 and all(r.variant.threshold == THRESHOLD for r in grid)
    missing = [
        (r.variant.name, name)
        for r in grid
        for name in computed_page_names()
        if not (r.html / "book" / f"{name}.html").exists()
    ]
    assert missing == []


def test_every_computed_page_at_threshold_10_reads_clean(grid):
    problems = {f"{r.variant.name}/{page}": found for r in grid for page, found in _check_pages(r).items()}
    assert not problems, _report(problems)


def test_the_disclosure_auditor_finds_nothing_in_the_grid_at_threshold_10(grid, folder):
    # rules a to e: one edition, the clinic choices of one year, and year against year
    findings = disclosure_audit.audit([folder])
    assert findings == [], "\n".join(f.line() for f in findings[:40])
