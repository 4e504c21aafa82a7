"""One notion of an edition: what a computed page is computed for, decided once for every page.

An *edition* is the published book (both clinics, data through 2025, the bundled cohort) or a rerun of it:
one clinic or both, data through the end of a given year, the bundled cohort or another data set of the
same schema, and a disclosure threshold. Every computed page opens with one call,

    page = open_page(clinic, year, data_dir, min_cell)

which validates and restricts the data, and hands the page its cohort, its :class:`Edition` (clinic, last
year, data source, data end, threshold, published or not, and how to write each of them in prose), its
:class:`analysis.presentation.scorecard.Card` and its published ledger. Whatever differs between editions is decided
here: a page asks ``edition.published`` before it shows a comparison with the report or a note about the
report's own inconsistencies, and writes dates and periods with ``edition.data_end_text`` and
``edition.period`` instead of typing "31 December 2025".

The edition's words are also glued (``edition_data_end``, ``edition_period``, ``edition_last_year``,
``edition_clinics``, ``edition_data_source``, and ``edition_check_sentence``: what the table that ends the page
does in this edition), so that the prose of any page can say
``{glue:text}`edition_data_end``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.data import schema
from analysis.data.cohort import Cohort, load_cohort, published_edition, restrict
from analysis.presentation.scorecard import Card, ledger

#: How the bundled synthetic cohort is named in prose.
BUNDLED_COHORT = "the bundled synthetic cohort"


def safe_name(name: str) -> str:
    """``name`` reduced to letters, digits, spaces, dots, underscores and hyphens (other characters become
    a hyphen), so that a folder's name can be written into any page, escaped or not."""
    cleaned = "".join(c if c.isalnum() or c in " ._-" else "-" for c in str(name)).strip(" -")
    return cleaned or "data"


def date_text(day) -> str:
    """A date as the book writes it: "31 December 2025"."""
    day = pd.Timestamp(day)
    return f"{day.day} {day.strftime('%B')} {day.year}"


@dataclass(frozen=True)
class Edition:
    """What one edition of the book is computed for.

    ``threshold`` is the disclosure threshold in force: None in the published edition (which compares
    with aggregates the report already made public), otherwise the smallest count shown as it is."""

    clinic: str
    year: int
    data_end: pd.Timestamp
    data_source: str
    data_name: str
    threshold: int | None
    published: bool

    @property
    def first_year(self) -> int:
        """The pilot's first year (the clinics opened in January 2022)."""
        return schema.STUDY_START.year

    @property
    def last_year(self) -> int:
        """The calendar year of the data end."""
        return int(self.data_end.year)

    @property
    def years(self) -> list[int]:
        """The calendar years the edition's data cover."""
        return list(range(self.first_year, self.last_year + 1))

    @property
    def data_end_text(self) -> str:
        """The data end in words: "31 December 2023"."""
        return date_text(self.data_end)

    @property
    def period(self) -> str:
        """The years covered, with an en dash: "2022–2023" (one year alone: "2022")."""
        if self.last_year == self.first_year:
            return str(self.first_year)
        return f"{self.first_year}\u2013{self.last_year}"

    @property
    def clinics(self) -> str:
        """Which clinics, in words: "both clinics", "the Oslo clinic"."""
        return "both clinics" if self.clinic == "all" else f"the {self.clinic} clinic"

    @property
    def clinic_names(self) -> tuple[str, ...]:
        """The clinics whose patients the edition covers."""
        return schema.CLINICS if self.clinic == "all" else (self.clinic,)

    @property
    def whole_pilot(self) -> bool:
        """Whether the data run to the end of the pilot (31 December 2025)."""
        return self.data_end >= pd.Timestamp(schema.STUDY_END)

    @property
    def source_text(self) -> str:
        """Where the data come from, for a reader: a folder is named by its name only, and only by the
        letters, digits, spaces, dots, underscores and hyphens of it (no markup can reach a page)."""
        if self.data_name == BUNDLED_COHORT:
            return BUNDLED_COHORT
        kind = "synthetic" if self.data_source == "synthetic" else "patient-level"
        return f"the {kind} data set “{safe_name(self.data_name)}”"

    def in_force(self, frame: pd.DataFrame, date_column: str) -> pd.DataFrame:
        """The rows of ``frame`` dated on or before the data end (for example capacities or rates that
        changed during the pilot: the ones in force at the edition's data end are the last of these)."""
        return frame[pd.to_datetime(frame[date_column]) <= self.data_end]

    def describe(self, text: str) -> str:
        """A description written for the report's data (the ledger's: "on December 31, 2025", "2022-2025",
        "by the end of 2025") rewritten for this edition's data end and period."""
        end = str(schema.STUDY_END.year)
        text = re.sub(rf"\b(December 31, {end}|31 December {end})\b", self.data_end_text, str(text))
        text = re.sub(rf"\b{self.first_year}\s*[-–]\s*{end}\b", self.period, text)
        return re.sub(rf"\b(end of|through|by) {end}\b", rf"\1 {self.last_year}", text)

    def names_a_later_year(self, text: str) -> bool:
        """Whether ``text`` names a year of the pilot after the edition's data end."""
        return any(int(year) > self.last_year for year in re.findall(r"\b(202[2-9])\b", str(text)))

    def glue_words(self) -> None:
        """Glue the edition's words for the prose (see the module docstring)."""
        from IPython.display import Markdown
        from myst_nb import glue

        glue("edition_data_end", self.data_end_text, display=False)
        glue("edition_period", self.period, display=False)
        glue("edition_last_year", str(self.last_year), display=False)
        glue("edition_clinics", self.clinics, display=False)
        glue("edition_data_source", self.source_text, display=False)
        glue("edition_check_sentence", Markdown(self.check_sentence), display=False)

    @property
    def check_sentence(self) -> str:
        """What the table at the end of a computed page does in this edition: the published edition compares each
        value with the report's print; a rerun lists its values and compares nothing."""
        if self.published:
            return "The table at the end of the page sets each computed value beside the one the report printed."
        return (
            "The table at the end of the page lists the values this edition computed; it does not compare them with "
            "the report's prints, which describe other data."
        )


def edition_of(cohort: Cohort, clinic: str, year: int | None, data_dir, min_cell) -> Edition:
    """The edition that page parameters and a restricted cohort give."""
    published = published_edition(clinic, year, data_dir)
    threshold = None if published else int(min_cell if min_cell is not None else 5)
    bundled = data_dir is None
    return Edition(
        clinic=clinic,
        year=int(year if year is not None else cohort.data_end.year),
        data_end=pd.Timestamp(cohort.data_end),
        data_source=cohort.source,
        data_name=BUNDLED_COHORT if bundled else Path(data_dir).name,
        threshold=threshold,
        published=published,
    )


@dataclass
class Page:
    """What a computed page works with: its cohort, edition, card and the report's ledger."""

    cohort: Cohort
    edition: Edition
    card: Card
    published: pd.DataFrame

    @property
    def sdc(self) -> int | None:
        """The disclosure threshold for the functions of :mod:`analysis.presentation.disclosure` (None: published)."""
        return self.card.min_cell


def open_page(
    clinic: str = "all", year: int | None = 2025, data_dir=None, min_cell: int | None = 5, *, glue_words: bool = True
) -> Page:
    """Load and validate the data, restrict them to the edition, and return the page's :class:`Page`.

    The page's parameters cell sets ``clinic``, ``year``, ``data_dir`` and ``min_cell`` (Papermill sets
    them in a rerun); the defaults give the published edition."""
    cohort = restrict(load_cohort(data_dir), clinic=clinic, year=year)
    edition = edition_of(cohort, clinic, year, data_dir, min_cell)
    card = Card(compare=edition.published, min_cell=min_cell, edition=edition)
    if glue_words:
        edition.glue_words()
    return Page(cohort=cohort, edition=edition, card=card, published=ledger())
