"""Process and implementation (report section 6.6): the referral figures its text states, under their names.

The figures and the paragraphs that put them in words are those of :mod:`analysis.sections.referrals` (the same
register and protection as Appendix 5); this module names each for the page, says why a figure may differ
from the report's print, and chooses the sentences that depend on the edition.
"""

from __future__ import annotations

import pandas as pd

from analysis.presentation import formats

#: The glue name on page 6.6 of each paragraph of :func:`analysis.sections.referrals.text_paragraphs`.
PARAGRAPH_KEYS = {
    "counts": "s6_6_text_counts",
    "people": "s6_6_text_people",
    "types": "s6_6_text_types",
    "referrers": "s6_6_text_referrers",
    "years": "s6_6_text_years",
    "reasons": "s6_6_text_reasons",
    "main_referrers": "s6_6_text_main_referrers",
}

ERRATA = "The report's print contradicts its own table (see the errata page): "
#: Why a figure of the text differs from the report's print, by ledger key (the card shows it only where it does).
NOTES = {
    "s6_6_referrer_gp_percent_oslo": ERRATA
    + "the text gives Oslo's count of referrals from primary care physicians as a "
    "percentage; Supplementary Table G has the share.",
    "s6_6_denial_risk_of_violence_percent_bergen": ERRATA
    + "the text repeats Supplementary Table H's Bergen 'risk of violence' "
    "figure, which is the count, not the share of Bergen's denials.",
    "s6_6_annual_denial_rate_max": "The text cuts the highest yearly denial rate of Supplementary Table F down to a whole "
    "number instead of rounding it.",
}

#: The three places where the text of 6.6 disagrees with the report's own tables, said where the page compares with the report.
ERRATA_NOTE = (
    "```{note}\n"
    "In three places the text of section 6.6 disagrees with the report's own supplementary tables, and the "
    "computed figure follows the table: the text gives Oslo's share of referrals from general practitioners "
    "as the count of Supplementary Table G, it repeats Table H's figure for Bergen's *risk of violence*, "
    "which is printed as a count where a share belongs, and it cuts the highest yearly denial rate of "
    "Table F down instead of rounding it. See {doc}`appendix_errata`; the card below marks each figure that "
    "differs from the print for one of these reasons.\n```"
)

#: When Bergen's clinic moved to new premises (the report names the month).
BERGEN_MOVE = pd.Timestamp("2024-11-01")


def section_statistics(
    edition, figures: pd.DataFrame, keyed: pd.DataFrame, withheld, paragraphs: dict[str, str], referrals_received
) -> pd.DataFrame:
    """The figures and sentences of section 6.6 for :meth:`analysis.presentation.scorecard.Card.glue_statistics`.

    ``figures`` and ``keyed`` are :func:`analysis.sections.referrals.text_figures` and the same with their ledger keys
    (:func:`analysis.sections.referrals.attach_text_keys`, keys from ``data/published/text_6_6_process.csv``);
    ``withheld`` the keys a rerun withholds; ``paragraphs`` :func:`analysis.sections.referrals.text_paragraphs`;
    ``referrals_received`` the number of referrals as the protected headings show it. ``edition`` is the page's
    :class:`analysis.presentation.edition.Edition`. Columns ``key``, ``value``, ``suppress`` and ``note``."""
    rows: list[dict[str, object]] = [
        {"key": PARAGRAPH_KEYS[name], "value": paragraph} for name, paragraph in paragraphs.items()
    ]
    period = int(figures.set_index(["item", "clinic"]).loc[("referral_period", "all"), "value"])
    rows += [
        {
            "key": "s6_6_main_findings",
            "value": f"Over {formats.count_words(period, 'calendar year')} of referral data to {edition.data_end_text}, "
            f"{edition.clinics} received {formats.number(referrals_received)} referrals. {paragraphs['main_referrers']}",
        },
        # the report dates Bergen's move; an edition whose data end earlier does not name a later year
        {
            "key": "s6_6_premises_move",
            "value": "in November 2024" if edition.data_end >= BERGEN_MOVE else "after the end of this edition's data",
        },
        {
            "key": "s6_6_scope",
            "value": ""
            if edition.published
            else "The interviews, observations and workshops described below are the report's, covering the whole pilot; "
            f"only the referral figures are recomputed for this edition ({edition.clinics}, data to {edition.data_end_text}).",
        },
    ]
    rows += [
        {"key": key, "value": value, "note": NOTES.get(key), "suppress": key in withheld}
        for key, value in keyed[["key", "value"]].itertuples(index=False)
    ]
    # notes about the report's own prints belong to the edition that is compared with it
    rows += [
        {
            "key": "s6_6_text_report_average",
            "value": "The report gives this last figure as the average yearly rate." if edition.published else "",
        },
        {"key": "s6_6_errata_note", "value": ERRATA_NOTE if edition.published else ""},
    ]
    return pd.DataFrame(rows, columns=["key", "value", "suppress", "note"])
