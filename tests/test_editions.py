"""Every edition is a first-class book: every variant of the grid and a data set that is not the bundled
cohort build, nothing raw, nothing after the data end and no comparison with the report's prints reaches their
readers, and the disclosure auditor finds nothing a reader could learn below the threshold (issues: every
edition is a first-class book; disclosure control that holds against a reader who adds and subtracts).

The whole grid (3 clinic choices x 4 years) is built once by ``hatbook rerun --grid`` (in the background from the
moment the tests are collected: ``grid_build`` in conftest.py), and one edition of both clinics on a random fifth
of the bundled patients (made in the test, so not the bundled cohort).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hatbook import disclosure_audit, editions
from hatbook import rerun as rr
from hatbook.sample_data import subset

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def computed_page_names() -> list[str]:
    return [page.stem for page in rr.computed_pages(ROOT / "book")]


@pytest.fixture(scope="module")
def reruns_folder(grid_build) -> Path:
    """The folder the grid was built in (``grid_build``, started when the tests were collected): this module's
    other variant goes there too (``reruns_dir``), so that the auditor reads them all."""
    return grid_build.folder


@pytest.fixture(scope="module")
def grid(grid_build, reruns_dir) -> list[rr.Result]:
    if grid_build.returncode != 0:
        pytest.fail(f"hatbook rerun --grid exited {grid_build.returncode}:\n{grid_build.log[-3000:]}")
    results = []
    for variant in rr.grid():
        html = reruns_dir / variant.name / "html"
        results.append(rr.Result(variant, (html / "index.html").is_file(), 0.0, html=html))
    failed = [r.variant.name for r in results if not r.ok]
    if failed:
        pytest.fail(f"variants that did not build: {', '.join(failed)}\n{grid_build.log[-3000:]}")
    return results


@pytest.fixture(scope="module")
def random_fifth(grid, reruns_dir, tmp_path_factory):
    # after the grid, which writes the folder's overview when it ends
    data = subset(tmp_path_factory.mktemp("data") / "random-fifth", fraction=0.2, seed=7)
    result = rr.run_variant(rr.Variant("all", 2025, data), jobs=2, log=lambda line: None)
    if not result.ok:
        pytest.fail(f"the random fifth did not build:\n{result.error}")
    return result


def _check_pages(result: rr.Result) -> dict[str, list[str]]:
    problems = {}
    published = result.variant.published
    for name in computed_page_names():
        page = result.html / "book" / f"{name}.html"
        if not page.exists():
            problems[name] = ["page missing from the built book"]
            continue
        found = editions.stray_in_text(
            editions.prose_of_page(page.read_text(encoding="utf-8")), last_year=result.variant.year, published=published
        )
        if found:
            problems[name] = found
    return problems


def _report(problems: dict) -> str:
    return "\n".join(f"{where}:\n  " + "\n  ".join(found[:8]) for where, found in problems.items())


def test_the_grid_builds_twelve_of_twelve_with_every_computed_page(grid):
    assert len(grid) == 12
    for result in grid:
        for name in computed_page_names():
            assert (result.html / "book" / f"{name}.html").exists(), (result.variant.name, name)


def test_every_computed_page_of_every_variant_reads_clean(grid):
    problems = {}
    for result in grid:
        for page, found in _check_pages(result).items():
            problems[f"{result.variant.name}/{page}"] = found
    assert not problems, _report(problems)


def test_every_computed_page_on_other_data_reads_clean(random_fifth):
    problems = _check_pages(random_fifth)
    assert not problems, _report(problems)


def test_a_variant_names_its_own_data_end(grid):
    both_2023 = next(r for r in grid if r.variant.clinic == "all" and r.variant.year == 2023)
    text = editions.prose_of_page(
        (both_2023.html / "book" / "ch06_1_enrollment_retention.html").read_text(encoding="utf-8")
    )
    assert "31 December 2023" in text
    assert "31 December 2025" not in text


@pytest.fixture(scope="module")
def read_edition(grid):
    """The auditor's reading of an edition, done once for the two tests below (it parses every page)."""
    seen: dict = {}

    def read(edition):
        if edition.html not in seen:
            seen[edition.html] = disclosure_audit._audit_edition(edition)
        return seen[edition.html]

    return read


def test_the_disclosure_auditor_finds_nothing_in_the_grid(grid, reruns_dir, read_edition):
    # rules a to c and e (one edition, and the clinic choices of one year); year against year below
    findings = disclosure_audit.audit([reruns_dir], years=False, read=read_edition)
    assert findings == [], "\n".join(f.line() for f in findings[:40])


def test_no_two_years_of_a_clinic_give_a_count_below_the_threshold_away(grid, reruns_dir, read_edition):
    """Year against year (the auditor's rule d) on the whole grid: every clinic choice has its four data
    ends (both clinics' last one the published edition, read as public values), tables of nested counts
    are compared between them, and no difference of two years pins 1..threshold-1 nor a hidden cell."""
    clinics: dict = {}
    for edition in disclosure_audit.editions([reruns_dir]):
        _, _, by_year_key = read_edition(edition)
        clinics.setdefault((edition.clinic.lower(), edition.data_dir), []).append((edition, by_year_key))
    # the grid's editions (the bundled data); the module's edition on other data is a series of its own
    grid_years = {clinic: sorted(e.year for e, _ in members) for (clinic, data), members in clinics.items() if not data}
    assert grid_years == {clinic: [2022, 2023, 2024, 2025] for clinic in ("all", "oslo", "bergen")}
    series = [{e.year: tables for e, tables in members} for (_, data), members in clinics.items() if not data]
    compared = {key for by_year in series for key in set.intersection(*(set(t) for t in by_year.values()))}
    nested = compared - disclosure_audit.falling_tables(series)
    assert len(nested) >= 10  # the comparison has tables to work on
    findings = disclosure_audit.year_findings(clinics)
    assert findings == [], "\n".join(f.line() for f in findings[:40])


def test_a_variant_compares_nothing_with_the_report(grid):
    bergen = next(r for r in grid if r.variant.clinic == "Bergen" and r.variant.year == 2022)
    scorecard = editions.prose_of_page((bergen.html / "book" / "scorecard.html").read_text(encoding="utf-8"))
    assert "not compared" in scorecard
    assert not (bergen.html / "scorecard.csv").exists()
    headline = json.loads((bergen.html.parent / "headline.json").read_text(encoding="utf-8"))
    assert headline["published"] is False
