"""Every edition is a first-class book: the computed pages of a small variant and of a data set that is not
the bundled cohort build, and nothing raw, nothing after the data end and no comparison with the report's
prints reaches their readers (issue: every edition is a first-class book).

Two editions are built once per module as books of the home page and every computed page:
Bergen with data through 2022 (the smallest variant of the grid) and both clinics on a random fifth of the
bundled patients (made in the test, so not the bundled cohort).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hatbook import editions
from hatbook import rerun as rr
from hatbook.sample_data import subset

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def computed_page_names() -> list[str]:
    return [page.stem for page in rr.computed_pages(ROOT / "book")]


@pytest.fixture(scope="module")
def reruns_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("editions")
    previous = os.environ.get("HATBOOK_RERUNS_DIR")
    os.environ["HATBOOK_RERUNS_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("HATBOOK_RERUNS_DIR", None)
    else:
        os.environ["HATBOOK_RERUNS_DIR"] = previous


def _build(variant: rr.Variant) -> rr.Result:
    result = rr.run_variant(variant, jobs=2, pages=computed_page_names(), log=lambda line: None)
    if not result.ok:
        pytest.fail(f"{variant.title} did not build:\n{result.error}")
    return result


@pytest.fixture(scope="module")
def bergen_2022(reruns_dir):
    return _build(rr.Variant("Bergen", 2022))


@pytest.fixture(scope="module")
def random_fifth(reruns_dir, tmp_path_factory):
    data = subset(tmp_path_factory.mktemp("data") / "random-fifth", fraction=0.2, seed=7)
    return _build(rr.Variant("all", 2025, data))


def _check_pages(result: rr.Result, last_year: int) -> dict[str, list[str]]:
    problems = {}
    for name in computed_page_names():
        page = result.html / "book" / f"{name}.html"
        if not page.exists():
            problems[name] = ["page missing from the built book"]
            continue
        found = editions.stray_in_text(editions.prose_of_page(page.read_text(encoding="utf-8")),
                                       last_year=last_year, published=False)
        if found:
            problems[name] = found
    return problems


def test_every_computed_page_of_the_smallest_variant_reads_clean(bergen_2022):
    problems = _check_pages(bergen_2022, last_year=2022)
    assert not problems, "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in problems.items())


def test_every_computed_page_on_other_data_reads_clean(random_fifth):
    problems = _check_pages(random_fifth, last_year=2025)
    assert not problems, "\n".join(f"{page}:\n  " + "\n  ".join(found) for page, found in problems.items())


def test_a_variant_names_its_own_data_end(bergen_2022):
    text = editions.prose_of_page((bergen_2022.html / "book" / "ch06_1_enrollment_retention.html").read_text(encoding="utf-8"))
    assert "31 December 2022" in text
    assert "31 December 2025" not in text


# --- the checks themselves, on hand-made text ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The mean was 38.78787878787879 days.",
        "Retention was nan in Oslo.",
        "The p-value was 9.41e-08.",
        "Maximum Likelihood optimization failed to converge. |grad| = 19.338742",
        "By 31 December 2025 there had been 92 episodes.",
    ],
)
def test_stray_text_is_found(text):
    assert editions.stray_in_text(text, last_year=2023, published=False)


def test_clean_text_passes():
    text = ("By 31 December 2023 there had been 1,203 episodes; 38.8% left (p < 0.001), a change of \u22122.5 "
            "points (Eide et al. 2026).")
    assert editions.stray_in_text(text, last_year=2023, published=False) == []


def test_a_comparison_with_the_report_is_found_outside_the_published_edition():
    text = "Computed against published: 3 of 4 statistics match."
    assert editions.stray_in_text(text, published=False)
    assert editions.stray_in_text(text, published=True) == []


def _notebook(*outputs):
    import nbformat

    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return nbformat.v4.new_notebook(cells=[cell])


def test_stray_output_in_a_notebook_is_found():
    glued_nan = {"output_type": "display_data", "metadata": {"scrapbook": {"name": "k"}},
                 "data": {"application/papermill.record/text/plain": "'Retention was nan.'"}}
    bare = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
            "data": {"text/plain": "38.78787878787879"}}
    printed = {"output_type": "stream", "name": "stderr", "text": "ConvergenceWarning: failed"}
    found = editions.stray_in_notebook(_notebook(glued_nan, bare, printed))
    assert len(found) == 3, found


def test_a_glued_number_or_sentence_is_not_stray():
    number = {"output_type": "display_data", "metadata": {"scrapbook": {"name": "k"}},
              "data": {"application/papermill.record/text/plain": "38.78787878787879"}}
    sentence = {"output_type": "display_data", "metadata": {"scrapbook": {"name": "s"}},
                "data": {"application/papermill.record/text/plain": "'None of the patients left.'"}}
    assert editions.stray_in_notebook(_notebook(number, sentence)) == []


def test_what_the_year_check_lets_through():
    text = ("The report, with data through 2025, found more. All costs are in 2023 NOK. "
            "By 31 December 2022 there were 13 patients.")
    assert editions.stray_in_text(text, last_year=2022, published=False) == []
    assert editions.stray_in_text("In 2023 there were 13 patients.", last_year=2022, published=False)


def test_a_unit_after_a_missing_value_is_found():
    assert editions.stray_in_text("the share was n/a %.", published=False)
    assert editions.stray_in_text("the share was \u2013%.", published=False)
    assert editions.stray_in_text("2022\u20132025 and 3\u20134% of them", published=False) == []
