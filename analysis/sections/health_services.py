"""Use of other health services around the start of HAT (report section 6.7, Tables 6.H, 6.I and 6.J).

The registry table ``health_service_use`` (see :data:`analysis.data.schema.HEALTH_SERVICE_USE`) counts, per
patient and quarter, specialist care (somatic SOM, mental health PHV and addiction TSB: inpatient days,
day-care and outpatient contacts) and primary care (GP, physiotherapy, emergency primary care contacts).
Quarters -4..-1 are the year before the first admission, 1..8 the two years after it; a quarter is there
only when it ended by the end of the data. The definitions used here:

* **Unit costs** are those of Supplementary Table B (2023 NOK per inpatient day or contact). That table
  has no physiotherapy cost; this edition *assumes* one, kept with its reasoning in
  ``data/reference/physiotherapy_unit_cost.csv`` (60% of a GP contact) and described in
  ``data/reference/README.md``. Only the physiotherapy column of Table 6.H depends on it.
* The **cost of a patient-quarter** in a category is the sum of its counts times their unit costs.
* A patient's **cost in a period** ("before": quarters -4..-1; "after": quarters 1..8) is the mean cost per
  quarter over the quarters present in the period. Patients enter a period's mean when they have at
  least one quarter in it (every patient before; patients admitted in the last three months of the data
  have no quarter after).
* **Table 6.J** (whole cohort): the mean over patients of the cost per quarter before and after, the
  change (after minus before) and the **annualized change = 4 x change**. Reason: in every row the
  report's annualized change is four times its change (-16,234 -> -64,935, 730 -> 2,921, -10,943 ->
  -43,774, -26,447 -> -105,788, equal to within the rounding of the printed change), so its two columns
  are costs per quarter (three months) and the annual figure is a quarterly rate times four. Read as a
  one-year and a two-year total, the yearly change would instead be after / 2 minus before, which the
  printed numbers contradict.
* **Trajectory groups**: *continued* (the patient's last episode has no discharge at the end of the
  data), *planned* or *unplanned termination* (the discharge type of the last episode). The report does
  not say which patients enter Tables 6.H and 6.I; its QALY analysis uses the 116 patients with two or
  more EQ-5D-5L answers. Here the groups are formed in the **whole cohort**, as in Table 6.J; a caller
  may pass a subset.
* **Offsets** (Tables 6.H and 6.I) are differences-in-differences
  (:func:`analysis.methods.cea.difference_in_differences`) of the annualized cost (4 x the patient's cost per
  quarter in the period): the continued group is "treated", the period after is "after", and the
  offset is the *negative* of the DiD = the comparison group's annualized change minus the continued
  group's. A positive offset is a reduction in favour of continued treatment (the report's sign).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.data import schema
from analysis.data.published import DEFAULT_DATA_DIR, published_table
from analysis.methods.cea import difference_in_differences

QUARTERS_PER_YEAR = 4
SPECIALIST = schema.SPECIALIST_AREAS  # som, phv, tsb
PRIMARY = schema.PRIMARY_CARE_SERVICES  # gp, physiotherapy, emergency_primary_care
SPECIALIST_TOTAL = "specialist_total"
PRIMARY_TOTAL = "primary_total"
CATEGORIES = (*SPECIALIST, SPECIALIST_TOTAL, *PRIMARY, PRIMARY_TOTAL)
GROUPS = ("continued", "planned", "unplanned")
COMPARISONS = ("planned", "unplanned")

#: Category names of the published tables (data/published) for the categories used here.
TABLE_6H_CATEGORIES = {
    "gp": "primary_care_physician",
    "physiotherapy": "physiotherapy",
    "emergency_primary_care": "emergency_room",
    PRIMARY_TOTAL: "total_primary_care",
}
TABLE_6I_CATEGORIES = {"som": "som", "phv": "phv", "tsb": "tsb_sud", SPECIALIST_TOTAL: "total_specialist"}
TABLE_6J_CATEGORIES = {"som": "som", "phv": "phv", "tsb": "tsb", SPECIALIST_TOTAL: "total_specialist"}
#: Comparison names of Tables 6.H and 6.I.
COMPARISON_NAMES = {"planned": "continued_vs_planned_termination", "unplanned": "continued_vs_unplanned_termination"}

_DOMAIN = {"som": "som", "phv": "phv_psy", "tsb": "sud_tsb"}
_SERVICE = {"inpatient_days": "inpatient", "day_care": "day_care", "outpatient": "outpatient"}
_PRIMARY_SERVICE = {"gp": "physician_consultation", "emergency_primary_care": "emergency_out_of_hours"}
PHYSIOTHERAPY_FILE = Path("reference") / "physiotherapy_unit_cost.csv"


def unit_costs(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Unit cost of every count column of ``health_service_use``.

    Returns one row per count column: ``column``, ``category`` (som, phv, tsb, gp, physiotherapy,
    emergency_primary_care), ``unit_cost_nok`` and ``source``. Specialist care and GP / emergency primary
    care come from Supplementary Table B; physiotherapy from the edition's assumption in
    ``data/reference/physiotherapy_unit_cost.csv``.
    """
    table = published_table("supp_table_b_unit_costs_health", data_dir).set_index(["domain_code", "service_code"])[
        "unit_cost_nok_2023"
    ]
    rows = []
    for area in SPECIALIST:
        for contact in schema.SPECIALIST_CONTACTS:
            rows.append(
                (f"{area}_{contact}", area, float(table[(_DOMAIN[area], _SERVICE[contact])]), "Supplementary Table B")
            )
    for service, code in _PRIMARY_SERVICE.items():
        rows.append((f"{service}_contacts", service, float(table[("primary_care", code)]), "Supplementary Table B"))
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    physio = pd.read_csv(folder / PHYSIOTHERAPY_FILE).set_index("service_code")
    rows.append(
        (
            "physiotherapy_contacts",
            "physiotherapy",
            float(physio.loc["physiotherapy", "unit_cost_nok"]),
            "assumption of this edition",
        )
    )
    return pd.DataFrame(rows, columns=["column", "category", "unit_cost_nok", "source"])


def quarter_costs(use: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Cost (NOK) of every patient-quarter by category: counts times unit costs.

    ``use`` has the layout of ``health_service_use``; ``units`` is :func:`unit_costs`. Returns
    ``patient_id``, ``quarter``, ``period`` ("before" for quarters < 0, else "after") and one column per
    category of :data:`CATEGORIES` (the totals are sums of their areas / services).
    """
    out = pd.DataFrame({"patient_id": use["patient_id"].to_numpy(), "quarter": use["quarter"].astype(int).to_numpy()})
    out["period"] = out["quarter"].map(lambda q: "before" if q < 0 else "after")
    for category, part in units.groupby("category", sort=False):
        out[category] = sum(
            use[c].astype(float).to_numpy() * cost for c, cost in zip(part["column"], part["unit_cost_nok"])
        )
    out[SPECIALIST_TOTAL] = out[list(SPECIALIST)].sum(axis=1)
    out[PRIMARY_TOTAL] = out[list(PRIMARY)].sum(axis=1)
    return out[["patient_id", "quarter", "period", *CATEGORIES]]


def period_costs(costs: pd.DataFrame) -> pd.DataFrame:
    """Each patient's mean cost per quarter in each period they have quarters in.

    ``costs`` is :func:`quarter_costs`. Returns ``patient_id``, ``period``, ``n_quarters`` and the mean
    cost per quarter of every category.
    """
    grouped = costs.groupby(["patient_id", "period"], sort=True)
    out = grouped[list(CATEGORIES)].mean()
    out.insert(0, "n_quarters", grouped.size())
    return out.reset_index()


def before_after(periods: pd.DataFrame, categories=(*SPECIALIST, SPECIALIST_TOTAL)) -> pd.DataFrame:
    """Table 6.J: mean cost per patient-quarter before and after the first admission, change, annualized change.

    ``periods`` is :func:`period_costs` (the whole cohort, or any subset). ``before`` and ``after`` are
    means over the patients with quarters in that period (``n_before``, ``n_after``); ``change`` is after
    minus before; ``annualized_change`` is ``4 * change`` (NOK per patient per year; see the module
    docstring for why the report's columns are quarterly).
    """
    rows = []
    for category in categories:
        before = periods.loc[periods.period == "before", category]
        after = periods.loc[periods.period == "after", category]
        change = after.mean() - before.mean()
        rows.append(
            (category, before.mean(), after.mean(), change, QUARTERS_PER_YEAR * change, before.size, after.size)
        )
    return pd.DataFrame(
        rows, columns=["category", "before", "after", "change", "annualized_change", "n_before", "n_after"]
    )


def trajectory_groups(episodes: pd.DataFrame) -> pd.DataFrame:
    """Trajectory group of every patient from the last episode (latest admission).

    ``continued`` when that episode has no discharge (still in treatment at the end of the data), else its
    ``discharge_type`` (``planned`` or ``unplanned``). Returns ``patient_id`` and ``group``.
    """
    last = episodes.sort_values(["patient_id", "admission_date"], kind="stable").groupby("patient_id").tail(1)
    group = last["discharge_type"].where(last["discharge_date"].notna(), "continued").astype(str)
    return (
        pd.DataFrame({"patient_id": last["patient_id"].to_numpy(), "group": group.to_numpy()})
        .sort_values("patient_id")
        .reset_index(drop=True)
    )


def _annualized(periods: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    data = periods.merge(groups, on="patient_id", how="inner", validate="many_to_one")
    for category in CATEGORIES:
        data[category] = QUARTERS_PER_YEAR * data[category]
    return data


def group_changes(periods: pd.DataFrame, groups: pd.DataFrame, categories=CATEGORIES) -> pd.DataFrame:
    """Annualized cost per patient before and after, and its change, in each trajectory group.

    Annualized cost = 4 x the patient's mean cost per quarter in the period; group values are means over
    the group's patients with quarters in that period (the cells of a difference-in-differences).
    Returns ``group``, ``category``, ``before``, ``after``, ``change``, ``n_before``, ``n_after``.
    """
    data = _annualized(periods, groups)
    means = data.groupby(["group", "period"])[list(categories)].mean()
    sizes = data.groupby(["group", "period"]).size()
    rows = []
    for category in categories:
        for group in GROUPS:
            before, after = means[category].get((group, "before")), means[category].get((group, "after"))
            rows.append(
                (
                    group,
                    category,
                    before,
                    after,
                    after - before,
                    int(sizes.get((group, "before"), 0)),
                    int(sizes.get((group, "after"), 0)),
                )
            )
    return pd.DataFrame(rows, columns=["group", "category", "before", "after", "change", "n_before", "n_after"])


def cost_offsets(
    periods: pd.DataFrame, groups: pd.DataFrame, categories=CATEGORIES, comparisons=COMPARISONS
) -> pd.DataFrame:
    """Tables 6.H and 6.I: annualized cost offsets of continued treatment against each comparison group.

    For each comparison group and category: the difference-in-differences of annualized cost with the
    continued group treated (:func:`analysis.methods.cea.difference_in_differences` on one row per patient and
    period of that pair of groups), and ``offset = -DiD`` = the comparison group's annualized change minus
    the continued group's (NOK per patient per year; positive = reduction in favour of continued).
    Returns ``comparison``, ``category``, ``offset``, ``did``.
    """
    data = _annualized(periods, groups)
    rows = []
    for comparison in comparisons:
        pair = data[data["group"].isin(["continued", comparison])]
        for category in categories:
            did = difference_in_differences(pair, "group", "period", category, treated="continued", after="after")
            rows.append((comparison, category, -did, did))
    return pd.DataFrame(rows, columns=["comparison", "category", "offset", "did"])


def registry_periods(use: pd.DataFrame, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Shortcut: :func:`period_costs` of :func:`quarter_costs` of ``use`` with the unit costs of :func:`unit_costs`."""
    return period_costs(quarter_costs(use, unit_costs(data_dir)))


def published_layout(offsets: pd.DataFrame, table: str) -> pd.DataFrame:
    """Offsets in the layout of ``table_6h_primary_care_offsets`` or ``table_6i_specialist_care_reductions``.

    ``table`` is "6H" or "6I". Returns ``comparison``, ``category`` (the published names) and ``value``.
    """
    names = {"6H": TABLE_6H_CATEGORIES, "6I": TABLE_6I_CATEGORIES}[table]
    part = offsets[offsets["category"].isin(list(names))]
    return pd.DataFrame(
        {
            "comparison": part["comparison"].map(COMPARISON_NAMES).to_numpy(),
            "category": part["category"].map(names).to_numpy(),
            "value": part["offset"].to_numpy(),
        }
    )
