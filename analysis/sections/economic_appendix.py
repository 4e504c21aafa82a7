"""Appendix 4 (economic analysis): the report's unit-cost tables (Supplementary Tables B and C), the
arithmetic of its sequential cost offsets (Supplementary Table D), and Table D's inputs set against what an
edition computes for the comparisons of section 6.7.

Each function returns the statistics it glues as a tidy frame (``key``, ``value``; see
:meth:`analysis.presentation.scorecard.Card.glue_statistics`) and the table a page shows. The keys of a published
table's cells are those of its key columns in ``data/published/<table>.csv``.

* Supplementary Tables B and C are inputs, shown and glued as printed. Table B has no price for
  physiotherapy, which Table 6.H costs: this edition's assumed price (:func:`health_services.unit_costs`)
  is added as a last row.
* A derived row of Table D (a sum, difference or ratio of two printed operands, as its ``calculation``
  column says) is recomputed from the operands, and *agrees* when it lies within half the ledger's
  precision of the print.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import schema
from analysis.data.published import published_table
from analysis.presentation.formats import nok, number
from analysis.sections import cost_utility as cu
from analysis.sections import health_services as hs

#: The operations Table D's ``calculation`` column writes (an en dash is a minus).
OPERATIONS = {"/": np.divide, "+": np.add, "–": np.subtract, "-": np.subtract}

#: The steps of Table D, as the table shows them.
STEP_LABELS = {
    "base_case": "Base case",
    "healthcare_offsets": "Health-care offsets",
    "healthcare_and_crime_offsets": "Health-care and crime offsets",
}

#: A sentence glued as Markdown must not be empty (an empty output is dropped): a space shows nothing.
NOTHING = " "


def health_unit_costs() -> tuple[pd.DataFrame, float, pd.DataFrame]:
    """Supplementary Table B: its cells and price year as statistics, the physiotherapy price this edition
    assumes (NOK per contact), and the table as shown, with that price as a last row."""
    table_b = published_table("supp_table_b_unit_costs_health")
    applied = hs.unit_costs()
    physiotherapy = float(applied.loc[applied["category"] == "physiotherapy", "unit_cost_nok"].iloc[0])
    statistics = pd.concat(
        [
            table_b[["key", "unit_cost_nok_2023"]].rename(columns={"unit_cost_nok_2023": "value"}),
            pd.DataFrame([{"key": "app4_costing_price_year", "value": table_b["price_year"].max()}]),
        ],
        ignore_index=True,
    )
    shown = table_b[["domain", "service_type", "costing_unit", "unit_cost_nok_2023", "source"]].copy()
    shown.loc[len(shown)] = [
        "Primary care",
        "Physiotherapy (assumed by this edition)",
        "per contact",
        physiotherapy,
        "Assumption: 60% of a GP contact (data/reference/README.md)",
    ]
    shown["unit_cost_nok_2023"] = shown["unit_cost_nok_2023"].map(nok)
    shown = shown.rename(
        columns={
            "domain": "Domain",
            "service_type": "Service",
            "costing_unit": "Unit",
            "unit_cost_nok_2023": "Unit cost (2023 NOK)",
            "source": "Source",
        }
    )
    return statistics, physiotherapy, shown


def price_range(low: float, high: float, open_ended: bool) -> str:
    """A printed range of unit costs: "low–high", or "low or more" when the report leaves it open."""
    return f"{nok(low)} or more" if open_ended else f"{nok(low)}–{nok(high)}"


def crime_unit_costs(ledger: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Supplementary Table C: its low, high and applied values (those the ``ledger`` names) as statistics,
    with the applied cost per crime day that section 6.7 uses (``stc_note_applied_cost_per_day``, which the
    table's note repeats), and the table as shown."""
    table_c = published_table("supp_table_c_unit_costs_crime")
    cells = pd.concat(
        [
            table_c[[key, value]].set_axis(["key", "value"], axis=1)
            for key, value in (
                ("key_unit_cost_low", "unit_cost_low_nok_2023"),
                ("key_unit_cost_high", "unit_cost_high_nok_2023"),
                ("key_applied_value", "applied_value_nok_2023"),
            )
        ]
    )
    # a row's cells, in the table's order (low, high, applied)
    cells = cells.assign(row=cells.index).sort_values("row", kind="stable").drop(columns="row")
    cells = cells[cells["key"].isin(ledger.index)]
    statistics = pd.concat(
        [cells, pd.DataFrame([{"key": "stc_note_applied_cost_per_day", "value": cu.crime_cost_per_day()}])],
        ignore_index=True,
    )
    applied = [
        nok(v) + (" (implied)" if status == "implicit" else "") if pd.notna(v) else "not modelled separately"
        for v, status in zip(table_c["applied_value_nok_2023"], table_c["applied_value_status"])
    ]
    shown = pd.DataFrame(
        {
            "Outcome": table_c["outcome"],
            "Unit": table_c["costing_unit"],
            "Range (2023 NOK)": [
                price_range(r.unit_cost_low_nok_2023, r.unit_cost_high_nok_2023, r.unit_cost_open_ended)
                for r in table_c.itertuples()
            ],
            "Applied value": applied,
            "Source": table_c["source"],
        }
    )
    return statistics, shown


def recompute(calculation: str, operand_1: float, operand_2: float) -> float:
    """A derived row of Table D from its two operands, by the operation its ``calculation`` names
    ("a / b", "a + b", "a – b")."""
    symbol = next(sym for sym in (" / ", " + ", " – ", " - ") if sym in calculation).strip()
    return float(OPERATIONS[symbol](operand_1, operand_2))


def sequential_offsets(ledger: pd.DataFrame, published: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Supplementary Table D: statistics, the table as printed, and its arithmetic checked.

    Statistics: an input row as printed; a derived row recomputed (:func:`recompute`), with its two
    operands; ``app4_d_rows_checked`` and ``app4_d_rows_agree`` (derived rows, and those within half the
    ledger's precision of the print); the sentences ``app4_d_text`` and ``app4_d_conclusion`` (the published
    edition says how the table contradicts the rest of the report)."""
    table_d = published_table("supp_table_d_sequential_offsets")
    rows, checks = [], []
    for row in table_d.itertuples():
        if pd.isna(row.calc_operand_1):
            rows.append((row.key, row.value))  # an input of the table: as printed
            continue
        recomputed = recompute(row.calculation, row.calc_operand_1, row.calc_operand_2)
        rows += [
            (row.key_calc_operand_1, row.calc_operand_1),
            (row.key_calc_operand_2, row.calc_operand_2),
            (row.key, recomputed),
        ]
        agrees = abs(recomputed - row.value) <= ledger.at[row.key, "precision"] / 2 + 1e-9
        checks.append(
            {
                "Row": row.component_label,
                "Printed calculation": row.calculation,
                "Printed": nok(row.value) if abs(row.value) > 10 else row.value,
                "Recomputed": nok(recomputed),
                "Agrees": "yes" if agrees else "no",
            }
        )
    arithmetic = pd.DataFrame(checks)
    n_agree = int((arithmetic["Agrees"] == "yes").sum())
    if published:
        text = (
            f"All {n_agree} of its {len(arithmetic)} calculations come out as printed (the two "
            "later ICERs are rounded to the thousand). The table does not fit the rest of the report, though. Its inputs match "
            "neither the accumulated comparison of Table 6.E nor the annualised one of Table 6.G, its specialist-care offset is "
            "smaller than Table 6.I's and its primary-care offset has the opposite sign to Table 6.H's, and its crime step says "
            "that crime costs fell *less* among patients who stayed. The report does not say which patients, period or scale the "
            "table uses. The next table sets each input beside what this edition computes from the patient-level data for the "
            "comparisons of section 6.7, with offsets written as changes in cost (negative = a saving for continued treatment), "
            "as Supplementary Table D writes them."
        )
        conclusion = (
            "This edition therefore treats Supplementary Table D as an illustration of how successive offsets move an ICER, "
            "not as a result, and lists the contradiction in the errata appendix. The conclusions of section 6.7 rest on "
            "Tables 6.C to 6.L."
        )
    else:
        text = (
            "The next table computes the same inputs from this edition's data for the comparisons of section 6.7, with offsets "
            "written as changes in cost (negative = a saving for continued treatment), as Supplementary Table D writes them."
        )
        conclusion = (
            "Supplementary Table D, as the report prints it, illustrates how successive offsets move an ICER; the results of "
            "section 6.7 rest on Tables 6.C to 6.L."
        )
    statistics = pd.concat(
        [
            pd.DataFrame(rows, columns=["key", "value"]),
            pd.DataFrame(
                [
                    {"key": "app4_d_rows_checked", "value": len(arithmetic)},
                    {"key": "app4_d_rows_agree", "value": n_agree},
                    {"key": "app4_d_text", "value": text},
                    {"key": "app4_d_conclusion", "value": conclusion},
                ]
            ),
        ],
        ignore_index=True,
    )
    shown = table_d[["step", "component_label", "value", "calculation"]].copy()
    shown["value"] = [number(v, 2) if abs(v) < 10 else nok(v) for v in shown["value"]]
    shown["step"] = shown["step"].map(STEP_LABELS)
    shown = shown.rename(
        columns={"step": "Step", "component_label": "Component", "value": "Value", "calculation": "Calculation"}
    )
    return statistics, shown, arithmetic


def _cell(value, digits: int, shown: bool) -> str:
    """A computed input as the comparison table shows it: "–" when withheld, "n/a" when missing."""
    return number(value, digits) if shown else "–"


def table_d_inputs(page) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table D's inputs beside what the edition of ``page`` (:class:`analysis.presentation.edition.Page`) computes for
    the comparisons of section 6.7: accumulated (Table 6.E) and per year against each termination
    (Tables 6.G to 6.I, 6.L). Offsets are written as changes in cost, as Table D writes them (the negative of
    an offset: negative = a saving for continued treatment).

    An input is withheld ("–") when a group it rests on is below the card's threshold, or would be given
    back set against the other editions of its year (the groups of the cost-utility sample for costs and
    QALYs, of the cohort for offsets, and the crime answers), as section 6.7 protects them.

    Returns the statistics (the sentences ``app4_withheld_note`` and ``app4_accounts_note``) and the table;
    in a rerun, without the column of Table D's prints."""
    cohort, edition, card = page.cohort, page.edition, page.card
    days = cu.treatment_days(cohort.episodes, cohort.patients, cohort.data_end)
    # the data's own clinic accounts when the folder brings them, otherwise the published Table 6.C totals
    accounts, accounts_source = cu.edition_accounts(getattr(cohort, "accounts", None))
    costs = cu.program_costs(days, accounts)
    whose = "the clinics'" if edition.clinic == "all" else f"the {edition.clinic} clinic's"
    accounts_note = (
        ""
        if edition.published
        else cu.accounts_note(
            accounts_source,
            costs,
            whose=whose,
            data_name=edition.source_text,
            report_days=cu.published_patient_days(edition.clinic_names, costs["year"].unique()),
        )
    )
    sample = cu.patient_table(
        cohort.episodes, cohort.patients, cohort.questionnaires, cohort.data_end, accounts=accounts
    )
    accumulated = cu.accumulated_icer(cu.accumulated_table(sample))
    annual = cu.annualized_comparisons(sample).set_index("comparator")
    groups = hs.trajectory_groups(cohort.episodes)
    offsets = hs.cost_offsets(hs.registry_periods(cohort.health_service_use), groups).pivot(
        index="comparison", columns="category", values="offset"
    )
    crime = cu.crime_offsets(cu.crime_changes(cohort.questionnaires, cu.crime_cost_per_day()), groups).set_index(
        "comparator"
    )["offset"]

    sizes = groups["group"].value_counts()
    enough = card.min_cell is None or all(sizes.get(g, 0) >= card.min_cell for g in cu.GROUPS)
    sample_hidden = {g: mark is not None for g, mark in cu.linked_group_marks(page, cu.edition_sample).items()}
    cohort_hidden = cu.linked_trajectory_hidden(page)
    crime_hidden = isinstance(
        cu.linked_count(page, lambda other: len(cu.crime_changes(other.questionnaires, cu.crime_cost_per_day()))), str
    )
    accumulated_shown = enough and not (sample_hidden[cu.CONTINUED] or sample_hidden[cu.DISCONTINUED])
    annual_shown = {c: enough and not (sample_hidden[cu.CONTINUED] or sample_hidden[c]) for c in hs.COMPARISONS}
    offset_shown = {c: enough and not (cohort_hidden[cu.CONTINUED] or cohort_hidden[c]) for c in hs.COMPARISONS}
    crime_shown = {c: offset_shown[c] and not crime_hidden for c in hs.COMPARISONS}

    table_d = published_table("supp_table_d_sequential_offsets")
    printed = dict(zip(table_d["component"], table_d["value"]))

    def per_year(values, digits, shown):
        return [_cell(values[c], digits, shown[c]) for c in ("unplanned", "planned")]

    table = pd.DataFrame(
        [
            (
                "Incremental programme cost (NOK)",
                nok(printed["incremental_program_cost"]),
                _cell(accumulated["delta_cost"], 0, accumulated_shown),
                *per_year(annual["delta_cost"], 0, annual_shown),
            ),
            (
                "Incremental QALYs",
                f"{printed['incremental_qaly']:.2f}",
                _cell(accumulated["delta_qaly"], 3, accumulated_shown),
                *per_year(annual["delta_qaly"], 3, annual_shown),
            ),
            (
                "Specialist-care cost change (NOK)",
                nok(printed["specialist_offset"]),
                "not computed",
                *per_year(-offsets[hs.SPECIALIST_TOTAL], 0, offset_shown),
            ),
            (
                "Primary-care cost change (NOK)",
                nok(printed["primary_offset"]),
                "not computed",
                *per_year(-offsets[hs.PRIMARY_TOTAL], 0, offset_shown),
            ),
            (
                "Crime-cost difference (NOK)",
                nok(printed["crime_cost_difference"]),
                "not computed",
                *per_year(-crime, 0, crime_shown),
            ),
        ],
        columns=[
            "Input",
            "Supplementary Table D",
            "Accumulated, continued vs discontinued (Table 6.E)",
            "Per year, vs unplanned termination (Tables 6.G–6.I)",
            "Per year, vs planned termination",
        ],
    )
    any_hidden = not (accumulated_shown and all(annual_shown.values()) and all(offset_shown.values())) or crime_hidden
    withheld_note = (
        (
            "A dash (–) marks an input withheld in this edition: it rests on a group of patients that is too small to show, "
            "or that set against the other editions of its year would give a small group back."
        )
        if any_hidden
        else NOTHING
    )
    statistics = pd.DataFrame(
        [
            {"key": "app4_accounts_note", "value": accounts_note or NOTHING},
            {"key": "app4_withheld_note", "value": withheld_note},
        ]
    )
    return statistics, table if edition.published else table.drop(columns="Supplementary Table D")


def limitation_statistics() -> pd.DataFrame:
    """The figures the appendix's list of limitations states: the years of registry data before and after
    the start of HAT that the offsets use (``schema.REGISTRY_QUARTERS``), and the number of trajectory groups."""
    quarters = pd.Series(schema.REGISTRY_QUARTERS)
    return pd.DataFrame(
        [
            {"key": "app4_limitations_window_before", "value": (quarters < 0).sum() / hs.QUARTERS_PER_YEAR},
            {"key": "app4_limitations_window_after", "value": (quarters > 0).sum() / hs.QUARTERS_PER_YEAR},
            {"key": "app4_selected_outcomes_n_groups", "value": len(cu.GROUPS)},
        ]
    )
