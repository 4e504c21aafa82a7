"""The words and number formats every edition writes its statistics with (analysis/presentation/formats.py)."""

import math

import pandas as pd
import pytest

from analysis.presentation import formats
from analysis.presentation.edition import date_text, edition_of, open_page


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234567.891, 0, "1,234,568"),
        (-1234.5, 1, "\u22121,234.5"),
        (-0.04, 1, "0.0"),
        (38.78787878787879, 1, "38.8"),
        (float("nan"), 0, "n/a"),
        (None, 0, "n/a"),
        (pd.NA, 0, "n/a"),
        ("<5", 1, "<5"),
    ],
)
def test_number(value, decimals, expected):
    assert formats.number(value, decimals) == expected


def test_signed_and_percent():
    assert formats.number(12.0, 0, sign=True) == "+12"
    assert formats.percent(76.47058823529412) == "76%"
    assert formats.percent(float("nan")) == "n/a"
    assert formats.percent("–") == "–"
    assert formats.nok(-6540.4) == "\u22126,540"


@pytest.mark.parametrize(
    ("p", "expected"),
    [(9.41e-08, "< 0.001"), (0.001, "0.001"), (0.04249, "0.042"), (0.5, "0.500"), (float("nan"), "n/a")],
)
def test_p_value(p, expected):
    assert formats.p_value(p) == expected


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0, "none"),
        (1, "all"),
        (0.03, "very few"),
        (0.97, "almost all"),
        (0.46, "nearly half"),
        (0.50, "about half"),
        (0.515, "about half"),
        (0.54, "just over half"),
        (0.31, "nearly one in three"),
        (0.34, "about one in three"),
        (0.26, "about a quarter"),
        (0.39, "about two in five"),
        (0.72, "nearly three quarters"),
        (0.12, "about one in ten"),
        (0.21, "about one in five"),
    ],
)
def test_share_words(share, expected):
    assert formats.share_words(share) == expected


def test_share_words_rejects_what_is_no_share():
    with pytest.raises(ValueError):
        formats.share_words(1.2)
    assert formats.share_words(math.nan) == "n/a"


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0, "none"),
        (0.02, "very few"),
        (0.3, "a minority"),
        (0.45, "about half"),
        (0.55, "about half"),
        (0.56, "most"),
        (0.96, "almost all"),
        (1, "all"),
    ],
)
def test_majority_words(share, expected):
    assert formats.majority_words(share) == expected


def test_count_words():
    assert formats.count_words(1, "patient") == "1 patient"
    assert formats.count_words(1203, "patient") == "1,203 patients"
    assert formats.count_words("<5", "patient") == "<5 patients"


def test_date_text():
    assert date_text("2023-12-31") == "31 December 2023"


def test_edition_of_a_rerun_names_its_own_data_end():
    page = open_page("Bergen", 2023, None, 5, glue_words=False)
    edition = page.edition
    assert not edition.published
    assert edition.threshold == 5 and page.sdc == 5
    assert edition.data_end_text == "31 December 2023"
    assert edition.period == "2022\u20132023"
    assert edition.clinics == "the Bergen clinic"
    assert not edition.whole_pilot


def test_published_edition():
    page = open_page("all", 2025, None, 5, glue_words=False)
    assert page.edition.published and page.edition.threshold is None and page.sdc is None
    assert page.edition.data_end_text == "31 December 2025"
    assert page.edition.period == "2022\u20132025"


def test_a_data_folder_is_named_by_its_name_only_and_escaped(tmp_path):
    page = open_page("all", 2022, None, 5, glue_words=False)
    folder = tmp_path / "<img src=x onerror=alert(1)>"
    edition = edition_of(page.cohort, "all", 2022, folder, 5)
    assert str(tmp_path) not in edition.source_text
    assert "<" not in edition.source_text and ">" not in edition.source_text
    assert "img src-x onerror-alert-1" in edition.source_text
    assert edition.period == "2022"


def test_styled_tables_have_no_index_the_book_class_and_the_given_decimals():
    html = formats.styled(pd.DataFrame({"group": ["a"], "share": [12.345]}), "A caption", precision=1).to_html()
    assert 'class="hatbook-table"' in html and "<caption>A caption</caption>" in html
    assert "12.3" in html and "12.345" not in html
    assert 'class="row_heading' not in html  # no index column
