"""The checks every edition is read with (hatbook/editions.py), on hand-made text and notebooks whose answer
is known: what counts as stray output, a year after the data end, or a comparison with the report."""

import pytest

from hatbook import editions


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
    text = (
        "By 31 December 2023 there had been 1,203 episodes; 38.8% left (p < 0.001), a change of \u22122.5 "
        "points (Eide et al. 2026)."
    )
    assert editions.stray_in_text(text, last_year=2023, published=False) == []


def test_a_comparison_with_the_report_is_found_outside_the_published_edition():
    text = "Checked against the report: 3 of 4 statistics agree."
    assert editions.stray_in_text(text, published=False)
    assert editions.stray_in_text(text, published=True) == []


def _notebook(*outputs):
    import nbformat

    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return nbformat.v4.new_notebook(cells=[cell])


def test_stray_output_in_a_notebook_is_found():
    glued_nan = {
        "output_type": "display_data",
        "metadata": {"scrapbook": {"name": "k"}},
        "data": {"application/papermill.record/text/plain": "'Retention was nan.'"},
    }
    bare = {
        "output_type": "execute_result",
        "execution_count": 1,
        "metadata": {},
        "data": {"text/plain": "38.78787878787879"},
    }
    printed = {"output_type": "stream", "name": "stderr", "text": "ConvergenceWarning: failed"}
    found = editions.stray_in_notebook(_notebook(glued_nan, bare, printed))
    assert len(found) == 3, found


def test_a_glued_number_or_sentence_is_not_stray():
    number = {
        "output_type": "display_data",
        "metadata": {"scrapbook": {"name": "k"}},
        "data": {"application/papermill.record/text/plain": "38.78787878787879"},
    }
    sentence = {
        "output_type": "display_data",
        "metadata": {"scrapbook": {"name": "s"}},
        "data": {"application/papermill.record/text/plain": "'None of the patients left.'"},
    }
    assert editions.stray_in_notebook(_notebook(number, sentence)) == []


def test_what_the_year_check_lets_through():
    text = (
        "The report, with data through 2025, found more. All costs are in 2023 NOK. "
        "By 31 December 2022 there were 13 patients."
    )
    assert editions.stray_in_text(text, last_year=2022, published=False) == []
    assert editions.stray_in_text("In 2023 there were 13 patients.", last_year=2022, published=False)


def test_a_unit_after_a_missing_value_is_found():
    assert editions.stray_in_text("the share was n/a %.", published=False)
    assert editions.stray_in_text("the share was \u2013%.", published=False)
    assert editions.stray_in_text("2022\u20132025 and 3\u20134% of them", published=False) == []


def test_the_words_on_the_closing_table_follow_the_edition():
    """A rerun compares nothing with the report, so its pages must not say that their last table does."""
    from analysis.presentation.edition import open_page

    published = open_page("all", 2025, None, 5, glue_words=False).edition
    rerun = open_page("Bergen", 2022, None, 5, glue_words=False).edition
    assert "beside the one the report printed" in published.check_sentence
    assert "does not compare" in rerun.check_sentence and "printed" not in rerun.check_sentence
