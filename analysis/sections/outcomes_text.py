"""What section 6.4 states in its text, one tidy frame of statistics per part of the page, each glued in one call.

Every function returning a section takes the page (:class:`analysis.presentation.edition.Page`) and returns a dict:

* ``statistics``: one row per glued name for :meth:`analysis.presentation.scorecard.Card.glue_statistics`, the key
  written out in full below (so that ``grep`` finds the line that makes a number): ``value``, and where needed the
  counts a share or a mean rests on (``of``), ``suppress`` (a count it rests on is withheld in the protected table),
  ``shown`` (what a protected table shows for it in a rerun), ``frequency`` (a count of people of the edition's
  own) and ``note`` (why a value differs from the report's print); a sentence chosen from the values as shown is
  a row whose value is the sentence;
* ``words``: the words of each share as a reader sees it ("12%", or a marker alone, never a marker with a unit),
  by glue name, for ``{glue:text}``;
* the section's figures under their glue names.

The shares of the first-versus-last comparisons rest on the counts of Supplementary Table A (Appendix 3), protected
jointly with the same table of the other editions of the year (both clinics = Oslo + Bergen): a share is withheld
where a count it rests on, or its number of patients, is withheld, and a number of patients is shown as the table
shows it (:func:`self_report`). The somatic shares rest on the protected tables of Figure 6.J and Supplementary
Figure A in the same way (:func:`somatic_section`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import pandas as pd

from analysis.presentation import disclosure, formats
from analysis.presentation.edition import Page
from analysis.presentation.linked_suppression import protect_linked
from analysis.presentation.scorecard import FREQUENCY_UNITS, plain_number, within_precision
from analysis.sections import outcomes as oc
from analysis.sections import somatic

#: Why a computed value differs from the report when nothing else explains it (the self-reported comparisons).
CALIBRATION = oc.CALIBRATION_NOTE
#: The same for the health questionnaires (mental and somatic health).
HEALTH_CALIBRATION = (
    "The synthetic questionnaires do not reproduce this figure; see the calibration report of "
    "`python -m synthetic --check`."
)

#: The cells of Supplementary Table A each kind of share rests on: its part and cells.
KEY_CELLS = {
    "worsened": ("change", ["positive_to_negative"]),
    "improved": ("change", ["negative_to_positive"]),
    "changed": ("change", ["positive_to_negative", "negative_to_positive"]),
    "no_change": ("change", ["no_change"]),
    "first": ("first", ["bad"]),
}

#: The shares of the first-versus-last comparisons the report states (ledger keys): the variable, the kind of
#: share (:data:`KEY_CELLS`) and the glue name of its words. Values: :func:`analysis.sections.outcomes.text_statistics`.
TEXT_SHARES = {
    "s6_4_housing_worsened_pct": ("stable_living", "worsened", "s6_4_housing_worsened_pct_text"),
    "s6_4_housing_improved_pct": ("stable_living", "improved", "s6_4_housing_improved_pct_text"),
    "s6_4_housing_changed_pct": ("stable_living", "changed", "s6_4_housing_changed_pct_text"),
    "s6_4_occupation_worsened_pct": ("occupation", "worsened", "s6_4_occupation_worsened_pct_text"),
    "s6_4_occupation_improved_pct": ("occupation", "improved", "s6_4_occupation_improved_pct_text"),
    "s6_4_occupation_changed_pct": ("occupation", "changed", "s6_4_occupation_changed_pct_text"),
    "s6_4_money_food_worsened_pct": ("money_food", "worsened", "s6_4_money_food_worsened_pct_text"),
    "s6_4_money_food_improved_pct": ("money_food", "improved", "s6_4_money_food_improved_pct_text"),
    "s6_4_money_food_changed_pct": ("money_food", "changed", "s6_4_money_food_changed_pct_text"),
    "s6_4_money_food_no_change_pct": ("money_food", "no_change", "s6_4_money_food_no_change_pct_text"),
    "s6_4_money_other_worsened_pct": ("money_other", "worsened", "s6_4_money_other_worsened_pct_text"),
    "s6_4_money_other_improved_pct": ("money_other", "improved", "s6_4_money_other_improved_pct_text"),
    "s6_4_victim_worsened_pct": ("victim_of_crime", "worsened", "s6_4_victim_worsened_pct_text"),
    "s6_4_victim_improved_pct": ("victim_of_crime", "improved", "s6_4_victim_improved_pct_text"),
    "s6_4_victim_changed_pct": ("victim_of_crime", "changed", "s6_4_victim_changed_pct_text"),
    "s6_4_perpetrator_worsened_pct": ("perpetrator_of_crime", "worsened", "s6_4_perpetrator_worsened_pct_text"),
    "s6_4_perpetrator_improved_pct": ("perpetrator_of_crime", "improved", "s6_4_perpetrator_improved_pct_text"),
    "s6_4_perpetrator_changed_pct": ("perpetrator_of_crime", "changed", "s6_4_perpetrator_changed_pct_text"),
    "s6_4_victim_baseline_pct": ("victim_of_crime", "first", "s6_4_victim_baseline_pct_text"),
    "s6_4_perpetrator_baseline_pct": ("perpetrator_of_crime", "first", "s6_4_perpetrator_baseline_pct_text"),
    "s6_4_freq_heroin_worsened_pct": ("frequent_heroin", "worsened", "s6_4_freq_heroin_worsened_pct_text"),
    "s6_4_freq_heroin_improved_pct": ("frequent_heroin", "improved", "s6_4_freq_heroin_improved_pct_text"),
    "s6_4_freq_heroin_changed_pct": ("frequent_heroin", "changed", "s6_4_freq_heroin_changed_pct_text"),
    "s6_4_freq_poly_worsened_pct": ("frequent_polysubstance", "worsened", "s6_4_freq_poly_worsened_pct_text"),
    "s6_4_freq_poly_improved_pct": ("frequent_polysubstance", "improved", "s6_4_freq_poly_improved_pct_text"),
    "s6_4_freq_poly_changed_pct": ("frequent_polysubstance", "changed", "s6_4_freq_poly_changed_pct_text"),
    "s6_4_freq_heroin_first_pct": ("frequent_heroin", "first", "s6_4_freq_heroin_first_pct_text"),
    "s6_4_freq_poly_baseline_pct": ("frequent_polysubstance", "first", "s6_4_freq_poly_baseline_pct_text"),
}
#: The means of the days of heroin use the report states (ledger keys), over the patients of the days-of-use row.
HEROIN_DAYS = (
    "s6_4_heroin_days_first_mean",
    "s6_4_heroin_days_last_mean",
    "s6_4_heroin_days_change_mean",
    "s6_4_heroin_days_change_sd",
)
#: Prints of the text that their own count in Supplementary Table A does not give (see the errata appendix): the
#: key of the share -> the keys of its count and of its number of patients.
REPORT_COUNTS = {
    "s6_4_money_food_improved_pct": ("sta_money_food_negative_to_positive_n", "sta_money_food_n_patients"),
    "s6_4_victim_improved_pct": ("sta_victim_of_crime_negative_to_positive_n", "sta_victim_of_crime_n_patients"),
    # the count sits in the table's swapped "positive to negative" column
    "s6_4_freq_poly_improved_pct": (
        "sta_frequent_polysubstance_positive_to_negative_n",
        "sta_frequent_polysubstance_n_patients",
    ),
}


@dataclass
class SelfReport:
    """The first-versus-last comparisons of an edition and Supplementary Table A's counts as protected.

    ``transitions``: :func:`analysis.sections.outcomes.transitions`; ``first_states``:
    :func:`analysis.sections.outcomes.bad_at_first`; ``days``: :func:`analysis.sections.outcomes.days_of_use`;
    ``text_values``: :func:`analysis.sections.outcomes.text_statistics` by key; ``cells``: the counts of
    :func:`analysis.sections.outcomes.self_report_cells` as the protected table shows them, indexed by variable,
    part and cell."""

    transitions: pd.DataFrame
    first_states: pd.DataFrame
    days: pd.DataFrame
    text_values: pd.Series
    protected: pd.DataFrame
    cells: pd.DataFrame

    def change_counts(self, variable: str) -> list:
        """The three cells (worsened, improved, unchanged) every share of ``variable``'s transition derives from."""
        row = self.transitions.set_index("variable").loc[variable]
        return [row["positive_to_negative_n"], row["negative_to_positive_n"], row["no_change_n"]]

    def first_counts(self, variable: str) -> list:
        """The patients in the bad state at their first answer, and the rest."""
        row = self.first_states.set_index("variable").loc[variable]
        return [row["bad_n"], row["n_patients"] - row["bad_n"]]

    def counts(self, variable: str, kind: str) -> list:
        """The counts a share of ``kind`` (:data:`KEY_CELLS`) of ``variable`` is computed from."""
        return self.first_counts(variable) if kind == "first" else self.change_counts(variable)

    def withheld(self, variable: str, kind: str) -> bool:
        """Whether a share of ``kind`` (:data:`KEY_CELLS`) of ``variable`` must be withheld: a count it rests on, or
        the number of patients, is hidden in the protected table."""
        part, cells = KEY_CELLS[kind]
        rows = self.cells.loc[[(variable, part, cell) for cell in cells]]
        return bool(rows["n"].map(oc.is_hidden).any() or rows["n_patients"].map(oc.is_hidden).any())

    def patients(self, variable: str) -> int:
        """The number of patients of ``variable`` (those who answered it at two or more questionnaires)."""
        return int(self.transitions.set_index("variable").loc[variable, "n_patients"])

    def patients_shown(self, variable: str):
        """The number of patients of ``variable`` as the protected table shows it (a number or a marker)."""
        return self.cells.loc[(variable, "change", oc.CHANGES[0]), "n_patients"]

    def shown_transitions(self) -> pd.DataFrame:
        """The transition table a chart may draw: from the protected cells (see ``oc.shown_transitions``)."""
        return oc.shown_transitions(self.protected, self.transitions)


def self_report(page: Page) -> SelfReport:
    """The first-versus-last comparisons of the edition of ``page``, with the counts of Supplementary Table A
    (the three changes of every variable and the patients bad or good at their first answer) protected jointly
    with the same table of the other editions of the year, as Appendix 3 protects them."""
    questionnaires, episodes = page.cohort.questionnaires, page.cohort.episodes
    transitions = oc.transitions(questionnaires, episodes)
    first_states = oc.bad_at_first(questionnaires, episodes)
    days = oc.days_of_use(questionnaires, episodes)
    hunger = oc.hunger_distribution(questionnaires)
    text_values = oc.text_statistics(transitions, first_states, days, hunger).set_index("key")["value"]
    protected = oc.tie_totals(
        protect_linked(
            page,
            oc.cohort_self_report_cells,
            count="n",
            groups=["variable", "part"],
            total="n_patients",
            derived=["percent"],
        ),
        ["variable", "part"],
        "n_patients",
        page.sdc,
    )
    cells = protected.set_index(["variable", "part", "cell"])
    return SelfReport(transitions, first_states, days, text_values, protected, cells)


def shown(page: Page, row: dict):
    """What :meth:`analysis.presentation.scorecard.Card.glue_statistics` shows for ``row`` in the edition of ``page``:
    the number, or the marker a rerun shows in its place; a sentence as it is."""
    card, value = page.card, row["value"]
    if isinstance(value, str):
        return value
    marker = row.get("shown")
    if marker is not None and not isinstance(marker, str) and pd.isna(marker):
        marker = None
    if card.min_cell is not None and isinstance(marker, str):
        return marker
    number = plain_number(value) if not disclosure.is_missing(value) else float("nan")
    if row["key"] in page.published.index:
        frequency = page.published.loc[row["key"], "unit"] in FREQUENCY_UNITS
        if marker is not None:  # a number the protected table shows is not withheld again
            return card.disclose(number, frequency=frequency)
    else:
        frequency = bool(row.get("frequency") or False)
    return card.disclose(number, frequency=frequency, of=row.get("of"), suppress=bool(row.get("suppress") or False))


def _report_count_note(page: Page, key: str, value: float) -> str | None:
    """The erratum note when the computed share is the one the report's own count gives, else None."""
    if key not in REPORT_COUNTS:
        return None
    published = page.published
    count, n = (float(published.loc[k, "value"]) for k in REPORT_COUNTS[key])
    implied = 100 * count / n
    if not within_precision(value, implied, float(published.loc[key, "precision"])):
        return None
    return (
        f"The report prints {published.loc[key, 'printed']}, but its own count in Supplementary Table A, "
        f"{count:.0f} of {n:.0f} patients, is {implied:.1f}%; see the errata appendix."
    )


def _text_note(page: Page, key: str, value: float) -> str | None:
    """Why a text statistic differs from the print: the erratum of its own count, or calibration; None if it matches."""
    entry = page.published.loc[key]
    if within_precision(value, float(entry.value), float(entry.precision)):
        return None
    return _report_count_note(page, key, value) or CALIBRATION


def _text_share(page: Page, report: SelfReport, key: str) -> dict:
    """The row of the ledger share ``key`` of :data:`TEXT_SHARES`."""
    variable, kind, _ = TEXT_SHARES[key]
    value = report.text_values[key]
    return {
        "key": key,
        "value": value,
        "of": report.counts(variable, kind),
        "suppress": report.withheld(variable, kind),
        "note": _text_note(page, key, value),
    }


def _own_share(report: SelfReport, key: str, variable: str, kind: str) -> dict:
    """The row of a share of the edition's own (not a ledger key) of ``variable``'s comparison."""
    if kind == "first":
        value = report.first_states.set_index("variable").loc[variable, "bad_percent"]
    else:
        value = report.transitions.set_index("variable").loc[variable, f"{kind}_percent"]
    return {
        "key": key,
        "value": value,
        "of": report.counts(variable, kind),
        "suppress": report.withheld(variable, kind),
    }


def _patients(report: SelfReport, key: str, variable: str) -> dict:
    """The row of the number of patients of ``variable``, as the protected table shows it."""
    return {"key": key, "value": report.patients(variable), "shown": report.patients_shown(variable), "frequency": True}


def _seen(page: Page, rows: list[dict]) -> dict:
    """What the reader sees of every row, by key."""
    return {row["key"]: shown(page, row) for row in rows}


def _words(seen: dict, names: dict[str, str], decimals: int = 0) -> dict[str, str]:
    """The words of the shares ``names`` (key -> glue name of its words) as the reader sees them."""
    return {name: formats.percent(seen[key], decimals) for key, name in names.items()}


def social_section(page: Page, report: SelfReport) -> dict:
    """Housing, occupation and finances: the shares of the report (:data:`TEXT_SHARES`), the numbers of patients of
    the four variables, the shares unchanged in housing and in money for other expenses and without occupation at
    the first answer (the edition's own), the sentences framing them, and Figure 6.F (``fig-6f``)."""
    ledger = [
        "s6_4_housing_worsened_pct",
        "s6_4_housing_improved_pct",
        "s6_4_housing_changed_pct",
        "s6_4_occupation_worsened_pct",
        "s6_4_occupation_improved_pct",
        "s6_4_occupation_changed_pct",
        "s6_4_money_food_worsened_pct",
        "s6_4_money_food_improved_pct",
        "s6_4_money_food_changed_pct",
        "s6_4_money_food_no_change_pct",
        "s6_4_money_other_worsened_pct",
        "s6_4_money_other_improved_pct",
    ]
    rows = [_text_share(page, report, key) for key in ledger]
    rows += [
        _patients(report, "o64_housing_n", "stable_living"),
        _own_share(report, "o64_housing_no_change_pct", "stable_living", "no_change"),
        _patients(report, "o64_occupation_n", "occupation"),
        _own_share(report, "o64_occupation_none_first_pct", "occupation", "first"),
        _patients(report, "o64_money_food_n", "money_food"),
        _patients(report, "o64_money_other_n", "money_other"),
        _own_share(report, "o64_money_other_no_change_pct", "money_other", "no_change"),
    ]
    seen = _seen(page, rows)
    unchanged = (seen["s6_4_money_food_no_change_pct"], seen["o64_money_other_no_change_pct"])
    rows += [
        {"key": "o64_housing_changed_lead", "value": oc.changed_lead(seen["s6_4_housing_changed_pct"])},
        {
            "key": "o64_occupation_sentence",
            "value": oc.occupation_sentence(
                seen["o64_occupation_none_first_pct"],
                seen["s6_4_occupation_improved_pct"],
                seen["s6_4_occupation_worsened_pct"],
            ),
        },
        {"key": "o64_finances_sentence", "value": oc.finances_sentence(*unchanged)},
        {"key": "o64_money_other_words", "value": oc.same_way_words(*unchanged)},
    ]
    words = _words(seen, {key: TEXT_SHARES[key][2] for key in ledger})
    words |= _words(
        seen,
        {
            "o64_housing_no_change_pct": "o64_housing_no_change_pct_text",
            "o64_occupation_none_first_pct": "o64_occupation_none_first_pct_text",
            "o64_money_other_no_change_pct": "o64_money_other_no_change_pct_text",
        },
    )
    labels = {
        "stable_living": "Stable housing",
        "occupation": "Occupation",
        "money_food": "Money for food",
        "money_other": "Money for other expenses",
    }
    return {
        "statistics": oc.statistics_frame(rows),
        "words": words,
        "fig-6f": oc.transition_chart(report.shown_transitions(), labels),
    }


def crime_section(page: Page, report: SelfReport) -> dict:
    """Self-reported crime: the shares of the report (:data:`TEXT_SHARES`), the numbers of patients of the two
    variables, and whether offending changed in the direction victimisation did (``o64_perpetrator_sentence``,
    from the shares as shown)."""
    ledger = [
        "s6_4_victim_worsened_pct",
        "s6_4_victim_improved_pct",
        "s6_4_victim_changed_pct",
        "s6_4_perpetrator_worsened_pct",
        "s6_4_perpetrator_improved_pct",
        "s6_4_perpetrator_changed_pct",
        "s6_4_victim_baseline_pct",
        "s6_4_perpetrator_baseline_pct",
    ]
    rows = [_text_share(page, report, key) for key in ledger]
    rows += [
        _patients(report, "o64_victim_n", "victim_of_crime"),
        _patients(report, "o64_perpetrator_n", "perpetrator_of_crime"),
    ]
    seen = _seen(page, rows)
    rows.append(
        {
            "key": "o64_perpetrator_sentence",
            "value": oc.same_pattern_sentence(
                (seen["s6_4_victim_improved_pct"], seen["s6_4_victim_worsened_pct"]),
                (seen["s6_4_perpetrator_improved_pct"], seen["s6_4_perpetrator_worsened_pct"]),
            ),
        }
    )
    return {
        "statistics": oc.statistics_frame(rows),
        "words": _words(seen, {key: TEXT_SHARES[key][2] for key in ledger}),
    }


#: The figures of each substance's frequent use and days of use that are the edition's own: the number of patients
#: and the share unchanged of its frequent-use row (with the share's words), and the number of patients and the
#: mean days at the first and at the last answer of its days-of-use row.
SUBSTANCE_KEYS = {
    "heroin": {
        "patients": "o64_freq_heroin_n",
        "no_change": "o64_freq_heroin_no_change_pct",
        "no_change_words": "o64_freq_heroin_no_change_pct_text",
        "days_patients": "o64_days_heroin_n",
        "first": "o64_days_heroin_first",
        "last": "o64_days_heroin_last",
    },
    "cocaine": {
        "patients": "o64_freq_cocaine_n",
        "no_change": "o64_freq_cocaine_no_change_pct",
        "no_change_words": "o64_freq_cocaine_no_change_pct_text",
        "days_patients": "o64_days_cocaine_n",
        "first": "o64_days_cocaine_first",
        "last": "o64_days_cocaine_last",
    },
    "benzodiazepine": {
        "patients": "o64_freq_benzodiazepine_n",
        "no_change": "o64_freq_benzodiazepine_no_change_pct",
        "no_change_words": "o64_freq_benzodiazepine_no_change_pct_text",
        "days_patients": "o64_days_benzodiazepine_n",
        "first": "o64_days_benzodiazepine_first",
        "last": "o64_days_benzodiazepine_last",
    },
}
#: How the sentence on the other substances names them.
OTHER_SUBSTANCES = {"cocaine": "cocaine", "benzodiazepine": "non-prescribed benzodiazepines"}


def drug_use_section(page: Page, report: SelfReport) -> dict:
    """Self-reported drug use: the shares and the means of the days of heroin use the report states, each
    substance's figures of :data:`SUBSTANCE_KEYS`, the patients of frequent polysubstance use, the sentences framing
    them, Figure 6.K (``fig-6k``) and Figure 6.L (``fig-6l``, or a placeholder saying why it is not drawn).

    The patients of a days-of-use row are those of the frequent-use row of the substance, and are shown alike
    (:func:`analysis.sections.outcomes.shown_patients`; ``days_patients``: every row's number as shown); a mean of
    days is withheld where its number of patients is."""
    sdc = page.sdc
    days = report.days.set_index("variable")
    days_patients = oc.shown_patients(
        report.protected,
        protect_linked(page, oc.cohort_days_patients, count="n_patients"),
        report.transitions,
        report.days,
        sdc,
    )
    ledger = [
        "s6_4_freq_heroin_worsened_pct",
        "s6_4_freq_heroin_improved_pct",
        "s6_4_freq_heroin_changed_pct",
        "s6_4_freq_poly_worsened_pct",
        "s6_4_freq_poly_improved_pct",
        "s6_4_freq_poly_changed_pct",
        "s6_4_freq_heroin_first_pct",
        "s6_4_freq_poly_baseline_pct",
    ]
    rows = [_text_share(page, report, key) for key in ledger]
    heroin_days_n = int(days.loc["days_heroin", "n_patients"])
    heroin_hidden = oc.is_hidden(days_patients["days_heroin"])
    rows += [
        {
            "key": key,
            "value": report.text_values[key],
            "of": [heroin_days_n],
            "suppress": heroin_hidden,
            "note": _text_note(page, key, report.text_values[key]),
        }
        for key in HEROIN_DAYS
    ]
    words_of = {key: TEXT_SHARES[key][2] for key in ledger}
    for substance, keys in SUBSTANCE_KEYS.items():
        variable, days_variable = f"frequent_{substance}", f"days_{substance}"
        n, hidden = int(days.loc[days_variable, "n_patients"]), oc.is_hidden(days_patients[days_variable])
        rows += [
            _patients(report, keys["patients"], variable),
            _own_share(report, keys["no_change"], variable, "no_change"),
            {"key": keys["days_patients"], "value": n, "shown": days_patients[days_variable], "frequency": True},
            {
                "key": keys["first"],
                "value": days.loc[days_variable, "mean_days_first_measurement"],
                "of": n,
                "suppress": hidden,
            },
            {
                "key": keys["last"],
                "value": days.loc[days_variable, "mean_days_last_measurement"],
                "of": n,
                "suppress": hidden,
            },
        ]
        words_of[keys["no_change"]] = keys["no_change_words"]
    rows.append(_patients(report, "o64_freq_poly_n", "frequent_polysubstance"))
    seen = _seen(page, rows)
    rows += [
        {
            "key": "o64_poly_errata",
            "value": "The report's Supplementary Table A prints these two figures in each other's columns; "
            "the errata appendix sets out the evidence."
            if page.edition.published
            else "Supplementary Table A in Appendix 3 gives the counts.",
        },
        {"key": "o64_heroin_lead", "value": oc.frequent_heroin_lead(seen["s6_4_freq_heroin_first_pct"])},
        {"key": "o64_heroin_changed_lead", "value": oc.changed_lead(seen["s6_4_freq_heroin_changed_pct"])},
        {
            "key": "o64_heroin_days_lead",
            "value": oc.days_lead(
                seen["s6_4_freq_heroin_improved_pct"],
                seen["s6_4_freq_heroin_worsened_pct"],
                seen["s6_4_heroin_days_change_mean"],
            ),
        },
        {"key": "o64_heroin_days_change_words", "value": oc.mean_change_words(seen["s6_4_heroin_days_change_mean"])},
        {
            "key": "o64_other_substances_sentence",
            "value": oc.hardly_moved_sentence(
                {words: seen[SUBSTANCE_KEYS[name]["no_change"]] for name, words in OTHER_SUBSTANCES.items()},
                {
                    words: (seen[SUBSTANCE_KEYS[name]["first"]], seen[SUBSTANCE_KEYS[name]["last"]])
                    for name, words in OTHER_SUBSTANCES.items()
                },
            ),
        },
    ]
    fewest = max(int(sdc or 0), 1)
    # the chart carries the number of patients: drawn only where Supplementary Table A shows that number
    if heroin_days_n >= fewest and not heroin_hidden:
        days_figure = oc.days_chart(report.days, "days_heroin")
    else:
        why = (
            f"fewer than {fewest} patients answered twice"
            if heroin_days_n < fewest
            else "the number of patients is withheld"
        )
        days_figure = disclosure.placeholder_chart(f"The days of heroin use: not estimable in this edition ({why}).")
    labels = {"frequent_heroin": "Frequent heroin use", "frequent_polysubstance": "Frequent polysubstance use"}
    return {
        "statistics": oc.statistics_frame(rows),
        "words": _words(seen, words_of),
        "fig-6k": oc.transition_chart(report.shown_transitions(), labels),
        "fig-6l": days_figure,
        "days_patients": days_patients,
    }


# --- physical health ----------------------------------------------------------------------------------------------

#: The shares of severe and of low burden the report states, by time point and column of
#: :func:`analysis.sections.somatic.burden_shares`, and the glue name of each share's words.
BURDEN_SHARES = {
    "s6_4_somatic_severe_baseline_pct": (0, "severe_pct", "s6_4_somatic_severe_baseline_pct_text"),
    "s6_4_somatic_severe_12m_pct": (12, "severe_pct", "s6_4_somatic_severe_12m_pct_text"),
    "s6_4_somatic_severe_24m_pct": (24, "severe_pct", "s6_4_somatic_severe_24m_pct_text"),
    "s6_4_somatic_low_baseline_pct": (0, "low_pct", "s6_4_somatic_low_baseline_pct_text"),
    "s6_4_somatic_low_24m_pct": (24, "low_pct", "s6_4_somatic_low_24m_pct_text"),
}
#: Severe and low burden are the two halves of one split, so at 24 months they must add to 100%; the report's 35%
#: and 63% do not (see the errata appendix).
SPLIT_NOTE = (
    "Severe and low burden split the patients in two, so the shares add to 100%; the report's 35% "
    "severe and 63% low at 24 months do not. This edition's low share is 100% minus its severe share."
)
#: The complete questionnaires at each time point of Figure 6.J.
BURDEN_QUESTIONNAIRES = {0: "h64_somatic_n_0", 12: "h64_somatic_n_12", 24: "h64_somatic_n_24"}
#: The summaries of the baseline answers the report states, by measure and statistic of
#: :func:`analysis.sections.somatic.baseline_summary`.
BASELINE_SUMMARIES = {
    "s6_4_acute_symptoms_baseline_mean": ("acute_symptoms", "mean"),
    "s6_4_acute_symptoms_baseline_sd": ("acute_symptoms", "sd"),
    "s6_4_acute_symptoms_baseline_median": ("acute_symptoms", "median"),
    "s6_4_acute_symptoms_baseline_spread_lower": ("acute_symptoms", "q25"),
    "s6_4_acute_symptoms_baseline_spread_upper": ("acute_symptoms", "q75"),
    "s6_4_chronic_conditions_baseline_mean": ("chronic_conditions", "mean"),
    "s6_4_chronic_conditions_baseline_sd": ("chronic_conditions", "sd"),
    "s6_4_chronic_conditions_baseline_median": ("chronic_conditions", "median"),
    "s6_4_chronic_conditions_baseline_spread_lower": ("chronic_conditions", "q25"),
    "s6_4_chronic_conditions_baseline_spread_upper": ("chronic_conditions", "q75"),
}
#: The report's six most common complaints at baseline, in its order: the share rating each quite or very
#: troublesome (ledger key) and the glue name of its words.
TOP_ITEMS = {
    "sleep_problems": ("s6_4_sleep_problems_high_burden_pct", "s6_4_sleep_problems_high_burden_pct_text"),
    "dental_gum": ("s6_4_dental_high_burden_pct", "s6_4_dental_high_burden_pct_text"),
    "joint_pain": ("s6_4_joint_pain_high_burden_pct", "s6_4_joint_pain_high_burden_pct_text"),
    "memory": ("s6_4_memory_high_burden_pct", "s6_4_memory_high_burden_pct_text"),
    "digestive": ("s6_4_digestive_high_burden_pct", "s6_4_digestive_high_burden_pct_text"),
    "constipation": ("s6_4_constipation_high_burden_pct", "s6_4_constipation_high_burden_pct_text"),
}
#: The shares the report words as a simple fraction ("two in five"; ledger keys, valued as that fraction): the
#: time point and column of the burden shares, or the complaint, and the glue name of the words.
FRACTIONS = {
    "s6_4_somatic_severe_baseline_fraction": ((0, "severe_pct"), "h64_somatic_severe_baseline_words"),
    "s6_4_somatic_severe_12m_fraction": ((12, "severe_pct"), "h64_somatic_severe_12m_words"),
    "s6_4_somatic_low_baseline_fraction": ((0, "low_pct"), "h64_somatic_low_baseline_words"),
    "s6_4_somatic_low_24m_fraction": ((24, "low_pct"), "h64_somatic_low_24m_words"),
    "s6_4_sleep_problems_high_burden_fraction": ("sleep_problems", "h64_sleep_problems_high_burden_words"),
    "s6_4_dental_high_burden_fraction": ("dental_gum", "h64_dental_high_burden_words"),
    "s6_4_joint_pain_high_burden_fraction": ("joint_pain", "h64_joint_pain_high_burden_words"),
}


def _burden_counts(cohort: Any) -> pd.DataFrame:
    return somatic.burden_counts(somatic.symptom_scores(cohort.questionnaires))


def _item_counts(cohort: Any) -> pd.DataFrame:
    return somatic.item_counts(cohort.questionnaires, wave=0)


class _SomaticTables(NamedTuple):
    """The tables of :func:`somatic_section` for one edition, as computed and as shown: the symptom ``scores``, the
    severe and low burden ``shares`` by wave, the ``baseline`` summaries by measure, the complaints' ``prevalence``
    at baseline by item; the burden table as the edition shows it (``burden_shown``, by wave) and the complaints'
    table as shown (``items_shown``, and ``items_at`` by item), both protected with the other editions of the year."""

    scores: pd.DataFrame
    shares: pd.DataFrame
    baseline: pd.DataFrame
    prevalence: pd.DataFrame
    burden_shown: pd.DataFrame
    items_shown: pd.DataFrame
    items_at: pd.DataFrame


def somatic_section(page: Page, sizes_shown: pd.Series) -> dict:
    """Physical health at baseline and over time: the shares with a severe and a low symptom burden at baseline,
    12 and 24 months and their numbers of complete questionnaires (:data:`BURDEN_SHARES`,
    :data:`BURDEN_QUESTIONNAIRES`, the low share at 12 months of the edition's own), the baseline summaries of acute
    complaints and chronic conditions (:data:`BASELINE_SUMMARIES`) with their numbers of answers, the complaints
    rated quite or very troublesome at baseline (:data:`TOP_ITEMS`), the shares the report words as fractions
    (:data:`FRACTIONS`), the sentences on the burden and the most common complaints, and Figure 6.J (``fig_6j``).

    The severe and low questionnaires of each time point and the patients rating each complaint quite or very
    troublesome (of those answering it) are protected jointly with the same tables of the other editions of the
    year, the complaints as in Supplementary Figure A of Appendix 3; the shares, the numbers of questionnaires, the
    words and the figure rest on the tables as shown. ``sizes_shown``: the page's protected sample sizes
    (:func:`analysis.sections.outcome_samples.sample_sizes`), of which the baseline answers on chronic conditions.
    Also returns the symptom ``scores`` (:func:`analysis.sections.somatic.symptom_scores`) for the mixed model."""
    tables = _somatic_tables(page)
    rows = _burden_rows(tables) + _baseline_rows(tables, sizes_shown) + _top_item_rows(tables)
    fraction_rows, fraction_words = _fraction_rows(tables, page.published)
    rows += fraction_rows
    seen = _seen(page, rows)
    # a withheld share is not given away in words either
    rows += _fraction_word_rows(seen, fraction_words)
    # whether the baseline burden was heavy, from the severe share as shown (the report's cut-off of 14)
    rows.append({"key": "h64_burden_lead", "value": somatic.burden_lead(seen["s6_4_somatic_severe_baseline_pct"])})
    rows += _top_item_sentences(tables, page.sdc)
    share_words = _words(seen, {key: name for key, (_, _, name) in BURDEN_SHARES.items()})
    share_words |= _words(seen, {"h64_somatic_low_12m_pct": "h64_somatic_low_12m_pct_text"})
    share_words |= _words(seen, dict(TOP_ITEMS.values()), 1)
    return {
        "statistics": oc.statistics_frame(rows),
        "words": share_words,
        "fig_6j": _figure_6j(tables, page.sdc),
        "scores": tables.scores,
    }


def _somatic_tables(page: Page) -> _SomaticTables:
    """The symptom scores, burden shares, baseline summaries and complaints of the edition of ``page``, and the
    burden and complaint tables as the edition shows them (protected jointly with the other editions of the year)."""
    questionnaires = page.cohort.questionnaires
    scores = somatic.symptom_scores(questionnaires)
    shares = somatic.burden_shares(scores).set_index("wave")
    baseline = somatic.baseline_summary(questionnaires).set_index("measure")
    prevalence = somatic.item_prevalence(questionnaires, wave=0).set_index("item")
    burden_shown = somatic.burden_wide(
        protect_linked(page, _burden_counts, count="n", groups="wave", total="questionnaires", derived=["percent"])
    ).set_index("wave")
    items_shown = protect_linked(
        page, _item_counts, count="quite_or_very", groups="item", total="answered", derived=["percent"]
    )
    items_at = items_shown.set_index("item")
    return _SomaticTables(scores, shares, baseline, prevalence, burden_shown, items_shown, items_at)


def _burden_rows(tables: _SomaticTables) -> list[dict]:
    """The severe and low burden shares of each time point, their numbers of complete questionnaires, and the low
    share at 12 months, each with what the protected burden table shows."""
    shares, burden_shown = tables.shares, tables.burden_shown
    rows = [
        {
            "key": key,
            "value": shares.loc[wave, column],
            "shown": burden_shown.loc[wave, column],
            "note": SPLIT_NOTE if key == "s6_4_somatic_low_24m_pct" else HEALTH_CALIBRATION,
        }
        for key, (wave, column, _) in BURDEN_SHARES.items()
    ]
    rows += [
        {
            "key": key,
            "value": int(shares.loc[wave, "questionnaires"]),
            "shown": burden_shown.loc[wave, "questionnaires"],
            "frequency": True,
        }
        for wave, key in BURDEN_QUESTIONNAIRES.items()
    ]
    rows.append(
        {"key": "h64_somatic_low_12m_pct", "value": shares.loc[12, "low_pct"], "shown": burden_shown.loc[12, "low_pct"]}
    )
    return rows


def _baseline_rows(tables: _SomaticTables, sizes_shown: pd.Series) -> list[dict]:
    """The baseline summaries of acute complaints and chronic conditions and their numbers of answers, as shown."""
    baseline = tables.baseline
    # the complete baseline questionnaires are those of Figure 6.J at baseline; the baseline answers on chronic
    # conditions are a size of the page's own: a summary goes with its number of answers where that is withheld
    baseline_shown = {
        "acute_symptoms": tables.burden_shown.loc[0, "questionnaires"],
        "chronic_conditions": sizes_shown["chronic_baseline"],
    }
    rows = [
        {
            "key": key,
            "value": baseline.loc[measure, statistic],
            "note": HEALTH_CALIBRATION,
            "of": baseline.loc[measure, "n"],
            "suppress": oc.is_hidden(baseline_shown[measure]),
        }
        for key, (measure, statistic) in BASELINE_SUMMARIES.items()
    ]
    rows += [
        {
            "key": "h64_acute_baseline_n",
            "value": int(baseline.loc["acute_symptoms", "n"]),
            "shown": baseline_shown["acute_symptoms"],
            "frequency": True,
        },
        {
            "key": "h64_chronic_baseline_n",
            "value": int(baseline.loc["chronic_conditions", "n"]),
            "shown": baseline_shown["chronic_conditions"],
            "frequency": True,
        },
    ]
    return rows


def _top_item_rows(tables: _SomaticTables) -> list[dict]:
    """The shares rating each complaint of :data:`TOP_ITEMS` quite or very troublesome at baseline, as shown."""
    return [
        {
            "key": key,
            "value": tables.prevalence.loc[item, "percent"],
            "shown": tables.items_at.loc[item, "percent"],
            "note": HEALTH_CALIBRATION,
        }
        for item, (key, _) in TOP_ITEMS.items()
    ]


def _fraction_rows(tables: _SomaticTables, published: pd.DataFrame) -> tuple[list[dict], dict]:
    """The shares the report words as a simple fraction (:data:`FRACTIONS`), valued as the fraction with the
    report's denominator, and the words of each (glue name of its words -> its key and the words)."""
    rows = []
    # each share the report words as a fraction, as its protected table shows it (the number, or the marker)
    fraction_words = {}
    for key, (source, words_key) in FRACTIONS.items():
        if isinstance(source, tuple):
            percent, percent_shown = tables.shares.loc[source], tables.burden_shown.loc[source]
        else:
            percent, percent_shown = tables.prevalence.loc[source, "percent"], tables.items_at.loc[source, "percent"]
        denominator = Fraction(float(published.loc[key, "value"])).limit_denominator(6).denominator
        value = somatic.simple_fraction(percent / 100, denominator)
        words = somatic.fraction_words(percent / 100, denominator)
        rows.append(
            {
                "key": key,
                "value": value,
                "shown": percent_shown if oc.is_hidden(percent_shown) else value,
                "note": f'The report words this share as "{published.loc[key, "printed"]}"; the synthetic share, '
                f"{percent:.1f}%, rounds to {words} instead (calibration of the synthetic questionnaires).",
            }
        )
        fraction_words[words_key] = (key, words)
    return rows, fraction_words


def _fraction_word_rows(seen: dict, fraction_words: dict) -> list[dict]:
    """The words of each fraction share as the reader sees the share: "about two in five", "withheld" or n/a."""
    return [
        {
            "key": words_key,
            "value": f"about {words}"
            if not isinstance(seen[key], str)
            else "withheld"
            if seen[key] == disclosure.WITHHELD
            else formats.NOT_AVAILABLE,
        }
        for words_key, (key, words) in fraction_words.items()
    ]


def _top_item_sentences(tables: _SomaticTables, sdc: int | None) -> list[dict]:
    """Whether the most common complaints are the report's, and the label of the commonest, from the ranking of
    the shares as shown."""
    # the ranking of the shares as shown: a withheld share is not ranked (its place would give it away)
    report_top = list(TOP_ITEMS)
    ranked = tables.prevalence.reset_index() if sdc is None else somatic.most_prevalent_first(tables.items_shown)
    ranked_shown = [i for i, p in zip(ranked["item"], ranked["percent"]) if not oc.is_hidden(p)]
    computed_top = ranked_shown[: len(report_top)]
    some_withheld = len(ranked_shown) < len(ranked)
    return [
        {"key": "h64_top_items_agreement", "value": somatic.top_items_words(computed_top, report_top, some_withheld)},
        {
            "key": "h64_top_item_label",
            "value": somatic.SYMPTOM_LABELS[computed_top[0]].lower()
            + (" (of the complaints whose share is shown)" if some_withheld else "")
            if computed_top
            else "not shown in this edition (every share is withheld)",
        },
    ]


def _figure_6j(tables: _SomaticTables, sdc: int | None):
    """Figure 6.J, drawn from the protected burden table in a rerun."""
    # the figure draws the protected table: a withheld count is no bar, and a withheld number of questionnaires no
    # tooltip
    drawn = (
        tables.shares.reset_index()
        if sdc is None
        else oc.as_numbers(
            tables.burden_shown.reset_index(), ["questionnaires", "severe", "low", "severe_pct", "low_pct"]
        )
    )
    return somatic.burden_chart(drawn)
