"""Medication registrations (Appendix 3): DAM schedule, routes and doses, bridge opioids, bonus doses, co-medication.

Every function takes the tidy ``medication`` table of :class:`analysis.data.cohort.Cohort` (one row per
patient per registration; ``registration_month`` is the planned month: 1, then 3, 6, 9, ...) and,
where a clinic matters, ``patients``. The report's "one month", "one year" and "two years" are the
registrations of months 1, 12 and 24, and its "subsequent three months" the registration of month 3.

Denominators, stated once here and again in each function:

* **schedule** at month *m*: registrations at *m* with both ``dam_morning`` and ``dam_afternoon``
  recorded;
* **route** at month *m*: registrations at *m* with a ``dam_route`` recorded;
* **route changes** at month *m*: registrations at *m* with ``route_changes_weekly`` recorded;
* **bridge opioid** at month *m*: registrations at *m* with a ``bridge_opioid`` recorded;
* **any co-medication** at month *m*: registrations at *m* with ``comedication`` recorded; a
  **class** of co-medication: registrations at *m* with ``comedication`` true (the report gives the
  classes as shares of the patients with co-medication);
* **doses** (DAM, bridge, bonus): every registration, at any month, that records a dose for the route,
  time of day or medication in question; a dose of 0 mg (a missed dose) counts.

A patient has at most one registration per month (the schema's key), so counts of registrations at one
month are counts of patients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import altair as alt
import pandas as pd

from analysis.data import schema
from analysis.presentation import charts, disclosure, formats
from analysis.presentation.linked_suppression import grid_tables, protect_linked, protect_linked_blocks, sibling_tables
from analysis.presentation.scorecard import within_precision
from analysis.sections import outcomes as oc

#: The report's names for registration months.
MONTH_LABELS = {1: "1 month", 3: "3 months", 12: "1 year", 24: "2 years", 36: "3 years", 48: "4 years"}
ROUTE_LABELS = {"intravenous": "Intravenous", "intramuscular": "Intramuscular", "oral": "Oral (tablets)"}
ROUTE_COLOURS = {"Intravenous": "#1f5fa8", "Intramuscular": "#8fb3de", "Oral (tablets)": "#d9731a"}
BRIDGE_LABELS = {
    "methadone": "Methadone",
    "contalgin": "Contalgin (24-hour SROM)",
    "dolcontin": "Dolcontin (12-hour SROM)",
    "levopidon": "Levopidon (levomethadone)",
    "other": "Other opioid",
}
COMEDICATION_LABELS = {
    "benzodiazepine": "Benzodiazepines",
    "somatic": "Somatic illness",
    "allergy": "Allergic reactions to DAM",
    "antipsychotic": "Antipsychotics",
    "antidepressant": "Antidepressants",
    "antiepileptic": "Antiepileptics",
    "laxative": "Laxatives",
    "analgesic": "Analgesics",
    "hepatitis_c": "Hepatitis C",
    "hiv": "HIV",
}
SCHEDULES = ("morning_and_afternoon", "morning_only", "afternoon_only", "neither")
SCHEDULE_LABELS = {
    "morning_and_afternoon": "Morning and afternoon",
    "morning_only": "Morning only",
    "afternoon_only": "Afternoon only",
    "neither": "Neither",
}


def month_label(month: int) -> str:
    """``"1 month"``, ``"1 year"``, ... for the report's named months, else ``"9 months"``."""
    return MONTH_LABELS.get(int(month), f"{int(month)} months")


def _true(column: pd.Series) -> pd.Series:
    """True where the value is recorded and true (an empty cell is not true)."""
    return column.astype("boolean").fillna(False).astype(bool)


def _percent(n, denominator):
    return 100 * n / denominator if denominator else float("nan")


def dam_schedule(medication: pd.DataFrame) -> pd.DataFrame:
    """DAM sessions per day at each registration month.

    One row per month and schedule (morning and afternoon, morning only, afternoon only, neither):
    ``registration_month``, ``schedule``, ``n`` (registrations), ``denominator`` (registrations at that
    month with both ``dam_morning`` and ``dam_afternoon`` recorded) and ``percent``.
    """
    known = medication.dropna(subset=["dam_morning", "dam_afternoon"])
    morning, afternoon = _true(known["dam_morning"]), _true(known["dam_afternoon"])
    schedule = pd.Series("neither", index=known.index)
    schedule[morning & afternoon] = "morning_and_afternoon"
    schedule[morning & ~afternoon] = "morning_only"
    schedule[~morning & afternoon] = "afternoon_only"
    return _shares(known["registration_month"], schedule, SCHEDULES, "schedule")


def _shares(months: pd.Series, values: pd.Series, categories, name: str) -> pd.DataFrame:
    """Counts and shares of ``values`` within each month; every category of every month, zeros included."""
    frame = pd.DataFrame({"registration_month": months.astype(int).to_numpy(), name: values.to_numpy()})
    counts = frame.groupby(["registration_month", name]).size()
    index = pd.MultiIndex.from_product(
        [sorted(frame["registration_month"].unique()), list(categories)], names=["registration_month", name]
    )
    counts = counts.reindex(index, fill_value=0).rename("n").reset_index()
    counts["denominator"] = counts.groupby("registration_month")["n"].transform("sum")
    counts["percent"] = [_percent(n, d) for n, d in zip(counts["n"], counts["denominator"])]
    return counts


def route_shares(medication: pd.DataFrame) -> pd.DataFrame:
    """Main route of DAM at each registration month.

    ``registration_month``, ``route``, ``n``, ``denominator`` (registrations at that month with a
    ``dam_route`` recorded) and ``percent``.
    """
    known = medication.dropna(subset=["dam_route"])
    return _shares(known["registration_month"], known["dam_route"], schema.DAM_ROUTES, "route")


def route_changes(medication: pd.DataFrame) -> pd.DataFrame:
    """Registrations where the patient changed route several times a week, by registration month.

    ``registration_month``, ``n`` (``route_changes_weekly`` true), ``denominator`` (registrations at
    that month with ``route_changes_weekly`` recorded) and ``percent``.
    """
    known = medication.dropna(subset=["route_changes_weekly"])
    grouped = _true(known["route_changes_weekly"]).groupby(known["registration_month"].astype(int))
    frame = pd.DataFrame({"n": grouped.sum().astype(int), "denominator": grouped.size().astype(int)})
    frame["percent"] = [_percent(n, d) for n, d in zip(frame["n"], frame["denominator"])]
    return frame.rename_axis("registration_month").reset_index()


def substitutions(medication: pd.DataFrame) -> pd.DataFrame:
    """Patients given another opioid in place of a DAM dose, by registration month.

    ``registration_month`` and ``n`` (registrations with ``other_opioid_in_place_of_dam`` true), for
    every month that has at least one registration; the report gives the range of ``n`` over months.
    """
    grouped = _true(medication["other_opioid_in_place_of_dam"]).groupby(medication["registration_month"].astype(int))
    return grouped.sum().astype(int).rename("n").rename_axis("registration_month").reset_index()


def _summary(values: pd.Series, patient_ids: pd.Series) -> dict:
    """Median and range of ``values``, with ``n`` the recorded values and ``patients`` the distinct
    patients they come from (``patient_ids`` aligned with ``values``): disclosure control counts people."""
    recorded = values.notna()
    values = values[recorded].astype(float)
    patients = int(patient_ids[recorded].nunique())
    if values.empty:
        return {"n": 0, "patients": 0, "median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {
        "n": int(len(values)),
        "patients": patients,
        "median": float(values.median()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def dam_doses(medication: pd.DataFrame) -> pd.DataFrame:
    """DAM dose in mg by main route and time of day, across all registrations: median and range.

    For each route, the registrations with that ``dam_route``; ``time`` is ``morning``
    (``dam_morning_dose_mg``), ``afternoon`` (``dam_afternoon_dose_mg``) or ``both`` (the morning and
    afternoon doses pooled, one value per recorded dose). ``n`` counts the recorded doses; a recorded
    0 mg (a missed dose) is included, an empty cell is not; ``patients`` counts the distinct patients
    those doses come from. Columns ``route``, ``time``, ``n``, ``patients``, ``median``, ``min``, ``max``.
    """
    rows = []
    for route in schema.DAM_ROUTES:
        subset = medication[medication["dam_route"] == route]
        doses = {
            "morning": subset["dam_morning_dose_mg"],
            "afternoon": subset["dam_afternoon_dose_mg"],
            "both": pd.concat([subset["dam_morning_dose_mg"], subset["dam_afternoon_dose_mg"]]),
        }
        ids = subset["patient_id"]
        for time, values in doses.items():
            rows.append(
                {"route": route, "time": time, **_summary(values, pd.concat([ids, ids]) if time == "both" else ids)}
            )
    return pd.DataFrame(rows)


def bridge_opioids(medication: pd.DataFrame, month: int = 1) -> pd.DataFrame:
    """Overnight bridge opioid at one registration month (default: one month).

    ``bridge_opioid``, ``label``, ``n``, ``denominator`` (registrations at ``month`` with a
    ``bridge_opioid`` recorded) and ``percent``; every opioid of the schema, zeros included.
    """
    at = medication[(medication["registration_month"] == month)].dropna(subset=["bridge_opioid"])
    counts = at["bridge_opioid"].value_counts().reindex(list(schema.BRIDGE_OPIOIDS), fill_value=0)
    denominator = int(counts.sum())
    return pd.DataFrame(
        {
            "bridge_opioid": counts.index,
            "label": [BRIDGE_LABELS[o] for o in counts.index],
            "n": counts.to_numpy().astype(int),
            "denominator": denominator,
            "percent": [_percent(n, denominator) for n in counts.to_numpy()],
        }
    )


def bridge_doses(medication: pd.DataFrame) -> pd.DataFrame:
    """Bridge-opioid dose in mg by opioid, across all registrations with that opioid and a dose recorded.

    ``bridge_opioid``, ``label``, ``n`` (registrations), ``patients`` (distinct patients among them),
    ``median``, ``min``, ``max``; 0 mg counts.
    """
    rows = []
    for opioid in schema.BRIDGE_OPIOIDS:
        given = medication[medication["bridge_opioid"] == opioid]
        rows.append(
            {
                "bridge_opioid": opioid,
                "label": BRIDGE_LABELS[opioid],
                **_summary(given["bridge_dose_mg"], given["patient_id"]),
            }
        )
    return pd.DataFrame(rows)


def bonus_doses(medication: pd.DataFrame, patients: pd.DataFrame, clinic: str = "Bergen") -> dict:
    """Bonus doses of DAM at one clinic (the report: HABiB, Bergen).

    The clinic's patients are those whose ``patients.clinic`` (clinic of the first admission) is
    ``clinic``; a *bonus registration* is one of their registrations with ``bonus_doses_per_week`` of
    1 or more. Returns:

    * ``clinic_patients``: the clinic's patients;
    * ``patients``: those with at least one bonus registration;
    * ``by_max_per_week``: patients by their highest recorded frequency, ``{1: n, 2: n, 3: n, ...}``
      (the report's "up to twice weekly" is a highest frequency of 2);
    * ``freq_min`` and ``freq_max``: the lowest and highest frequency over bonus registrations;
    * ``dose_median``, ``dose_min``, ``dose_max``: the bonus dose in mg over bonus registrations with
      a ``bonus_dose_mg`` recorded.
    """
    ids = set(patients.loc[patients["clinic"] == clinic, "patient_id"])
    own = medication[medication["patient_id"].isin(ids)]
    frequency = pd.to_numeric(own["bonus_doses_per_week"], errors="coerce")
    bonus = own[frequency.fillna(0) >= 1]
    per_week = pd.to_numeric(bonus["bonus_doses_per_week"]).astype(int)
    highest = per_week.groupby(bonus["patient_id"]).max()
    dose = _summary(bonus["bonus_dose_mg"], bonus["patient_id"])
    return {
        "clinic_patients": len(ids),
        "patients": int(bonus["patient_id"].nunique()),
        "by_max_per_week": {int(k): int(v) for k, v in highest.value_counts().sort_index().items()},
        "freq_min": int(per_week.min()) if len(per_week) else float("nan"),
        "freq_max": int(per_week.max()) if len(per_week) else float("nan"),
        "dose_median": dose["median"],
        "dose_min": dose["min"],
        "dose_max": dose["max"],
    }


def comedication(medication: pd.DataFrame, months=(1, 12)) -> pd.DataFrame:
    """Regular co-medication at the given registration months, in total and by class.

    One row per month and ``medication_class`` (``"any"`` first, then the schema's classes):
    ``n`` and ``denominator`` and ``percent``. For ``"any"``, ``n`` counts registrations with
    ``comedication`` true out of those with ``comedication`` recorded; for a class, ``n`` counts
    registrations with ``comedication`` true and the class true, out of those with ``comedication``
    true (the share of patients with co-medication, as the report gives it).
    """
    rows = []
    for month in months:
        at = medication[medication["registration_month"] == month]
        known = at.dropna(subset=["comedication"])
        with_any = known[_true(known["comedication"])]
        rows.append(
            {
                "registration_month": month,
                "medication_class": "any",
                "label": "Any co-medication",
                "n": len(with_any),
                "denominator": len(known),
            }
        )
        for name in schema.COMEDICATION_CLASSES:
            n = int(_true(with_any[f"comedication_{name}"]).sum())
            rows.append(
                {
                    "registration_month": month,
                    "medication_class": name,
                    "label": COMEDICATION_LABELS[name],
                    "n": n,
                    "denominator": len(with_any),
                }
            )
    frame = pd.DataFrame(rows)
    frame["percent"] = [_percent(n, d) for n, d in zip(frame["n"], frame["denominator"])]
    return frame


def consistent_denominators(
    count: float, percent: float, precision: float, largest: int = 10_000
) -> tuple[int, int] | None:
    """The denominators ``d`` for which ``100 * count / d`` rounds to ``percent`` at ``precision``.

    Returns ``(lowest, highest)``, or ``None`` when no denominator fits. Used to check a printed
    percentage against its printed count.
    """
    if percent <= 0 or count <= 0:
        return None
    half = precision / 2
    low = max(1, math.ceil(100 * count / (percent + half) - 1e-9))
    high = math.floor(100 * count / (percent - half) + 1e-9) if percent > half else largest
    fits = [d for d in range(low, min(high, largest) + 1) if abs(100 * count / d - percent) <= half + 1e-9]
    return (fits[0], fits[-1]) if fits else None


def denominator_note(
    printed_percent: str,
    percent: float,
    precision: float,
    count: float,
    computed_n: int,
    computed_denominator: int,
    base: str,
) -> str:
    """Why a computed share differs from a printed one, in one sentence built from the numbers.

    States which denominators the report's printed ``percent`` and ``count`` allow
    (:func:`consistent_denominators`) and the count and denominator this edition computed, with
    ``base`` naming the denominator ("registrations at one month with a route recorded").
    """
    fits = consistent_denominators(count, percent, precision)
    allowed = (
        f"fits a base of {fits[0]}" + (f" to {fits[1]}" if fits[1] != fits[0] else "") if fits else "fits no whole base"
    )
    share = _percent(computed_n, computed_denominator)
    return (
        f"The report's {printed_percent} with n={count:g} {allowed}; this edition counts {computed_n} of "
        f"{computed_denominator} {base} ({share:.1f}%)."
    )


_ROUTE_KEYS = {"intravenous": "iv", "intramuscular": "im", "oral": "oral"}
_MONTH_KEYS = {1: "1m", 12: "1y", 24: "2y"}
_COMED_KEYS = {"any": "any", "benzodiazepine": "benzodiazepines", "somatic": "somatic", "allergy": "allergy"}


def ledger_statistics(medication: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Every statistic of Appendix 3's medication text under its ledger key: columns ``key`` and ``value``.

    Definitions as in the functions used (see the module's docstring); the one pooled statistic is the
    intramuscular median, which the report gives once for morning and afternoon together
    (``app3_dam_im_am_pm_median_mg``: median of all morning and afternoon intramuscular doses), and the
    oral range (``app3_dam_oral_am_pm_min_mg``/``max``: over morning and afternoon doses together).
    """
    rows: list[tuple[str, float]] = []
    schedule = dam_schedule(medication).set_index(["registration_month", "schedule"])
    rows += [
        ("app3_dam_am_pm_1m_pct", schedule.loc[(1, "morning_and_afternoon"), "percent"]),
        ("app3_dam_am_only_1m_n", schedule.loc[(1, "morning_only"), "n"]),
        ("app3_dam_am_only_1m_pct", schedule.loc[(1, "morning_only"), "percent"]),
        ("app3_dam_pm_only_1m_n", schedule.loc[(1, "afternoon_only"), "n"]),
        ("app3_dam_pm_only_1m_pct", schedule.loc[(1, "afternoon_only"), "percent"]),
    ]
    substituted = substitutions(medication)["n"]
    rows += [("app3_dam_substituted_n_min", substituted.min()), ("app3_dam_substituted_n_max", substituted.max())]

    doses = dam_doses(medication).set_index(["route", "time"])
    for route, time, statistic, key in [
        ("intravenous", "morning", "median", "app3_dam_iv_am_median_mg"),
        ("intravenous", "afternoon", "median", "app3_dam_iv_pm_median_mg"),
        ("intravenous", "morning", "min", "app3_dam_iv_am_min_mg"),
        ("intravenous", "morning", "max", "app3_dam_iv_am_max_mg"),
        ("intravenous", "afternoon", "min", "app3_dam_iv_pm_min_mg"),
        ("intravenous", "afternoon", "max", "app3_dam_iv_pm_max_mg"),
        ("intramuscular", "both", "median", "app3_dam_im_am_pm_median_mg"),
        ("intramuscular", "morning", "min", "app3_dam_im_am_min_mg"),
        ("intramuscular", "morning", "max", "app3_dam_im_am_max_mg"),
        ("intramuscular", "afternoon", "min", "app3_dam_im_pm_min_mg"),
        ("intramuscular", "afternoon", "max", "app3_dam_im_pm_max_mg"),
        ("oral", "morning", "median", "app3_dam_oral_am_median_mg"),
        ("oral", "afternoon", "median", "app3_dam_oral_pm_median_mg"),
        ("oral", "both", "min", "app3_dam_oral_am_pm_min_mg"),
        ("oral", "both", "max", "app3_dam_oral_am_pm_max_mg"),
    ]:
        rows.append((key, doses.loc[(route, time), statistic]))

    routes = route_shares(medication).set_index(["registration_month", "route"])
    for month, month_key in _MONTH_KEYS.items():
        for route, route_key in _ROUTE_KEYS.items():
            cell = routes.loc[(month, route)] if (month, route) in routes.index else None
            rows.append(
                (f"app3_route_{route_key}_{month_key}_pct", cell["percent"] if cell is not None else float("nan"))
            )
            rows.append((f"app3_route_{route_key}_{month_key}_n", cell["n"] if cell is not None else 0))
    changes = route_changes(medication).set_index("registration_month")
    for month, key in ((1, "1m"), (3, "next3m")):
        rows.append(
            (f"app3_route_switch_{key}_pct", changes.loc[month, "percent"] if month in changes.index else float("nan"))
        )
        rows.append((f"app3_route_switch_{key}_n", changes.loc[month, "n"] if month in changes.index else 0))

    for row in bridge_opioids(medication, 1).itertuples():
        rows.append((f"app3_bridge_{row.bridge_opioid}_1m_pct", row.percent))
        rows.append((f"app3_bridge_{row.bridge_opioid}_1m_n", row.n))
    for row in bridge_doses(medication).itertuples():
        for statistic in ("median", "min", "max"):
            rows.append((f"app3_bridge_{row.bridge_opioid}_dose_{statistic}_mg", getattr(row, statistic)))

    bonus = bonus_doses(medication, patients, "Bergen")
    rows += [
        ("app3_bonus_freq_min_per_week", bonus["freq_min"]),
        ("app3_bonus_freq_max_per_week", bonus["freq_max"]),
        ("app3_bonus_patients_n", bonus["patients"]),
        ("app3_bonus_clinic_patients_n", bonus["clinic_patients"]),
        ("app3_bonus_twice_weekly_n", bonus["by_max_per_week"].get(2, 0)),
        ("app3_bonus_thrice_weekly_n", bonus["by_max_per_week"].get(3, 0)),
        ("app3_bonus_dose_median_mg", bonus["dose_median"]),
        ("app3_bonus_dose_min_mg", bonus["dose_min"]),
        ("app3_bonus_dose_max_mg", bonus["dose_max"]),
    ]

    comed = comedication(medication, (1, 12))
    for row in comed[comed["medication_class"].isin(list(_COMED_KEYS))].itertuples():
        name, month_key = _COMED_KEYS[row.medication_class], _MONTH_KEYS[row.registration_month]
        rows.append((f"app3_comed_{name}_{month_key}_pct", row.percent))
        rows.append((f"app3_comed_{name}_{month_key}_n", row.n))
    return pd.DataFrame(rows, columns=["key", "value"])


def route_chart(routes: pd.DataFrame, min_denominator: int = 10) -> alt.Chart:
    """Stacked bars: share of each route at each registration month (frame of :func:`route_shares`).

    Months with fewer than ``min_denominator`` registrations are left out (too few to show a share).
    """
    frame = routes[routes["denominator"] >= min_denominator].copy()
    frame["month"] = frame["registration_month"].astype(int)
    frame["Route"] = frame["route"].map(ROUTE_LABELS)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Registration (months since start of treatment)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("percent:Q", title="Share of registrations (%)", stack="zero", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "Route:N", scale=alt.Scale(domain=list(ROUTE_COLOURS), range=list(ROUTE_COLOURS.values())), title=None
            ),
            order=alt.Order("route_order:Q"),
            tooltip=["month", "Route", "n", "denominator", alt.Tooltip("percent:Q", format=".1f")],
        )
        .transform_calculate(route_order="indexof(['Intravenous', 'Intramuscular', 'Oral (tablets)'], datum.Route)")
        .properties(width=520, height=280)
    )


def bridge_chart(bridge: pd.DataFrame) -> alt.Chart:
    """Horizontal bars: bridge opioids at one month (frame of :func:`bridge_opioids`), largest first."""
    tooltip = ["label", "n", "denominator", alt.Tooltip("percent:Q", format=".1f")]
    return charts.ranked_bars(
        bridge, "percent", "label", "Share of registrations at one month (%)", tooltip, height=190
    )


def comedication_chart(comed: pd.DataFrame) -> alt.Chart:
    """Grouped bars: share of patients with co-medication in each class, at one month and one year."""
    frame = comed[comed["medication_class"] != "any"].copy()
    frame["Registration"] = frame["registration_month"].map(month_label)
    order = list(frame.sort_values("percent", ascending=False).drop_duplicates("label")["label"])
    months = list(dict.fromkeys(frame["Registration"]))
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("percent:Q", title="Share of patients with co-medication (%)"),
            y=alt.Y("label:N", sort=order, title=None),
            yOffset=alt.YOffset("Registration:N", sort=months),
            color=alt.Color(
                "Registration:N",
                sort=months,
                scale=alt.Scale(domain=months, range=["#8fb3de", "#1f5fa8"][: len(months)]),
                title=None,
            ),
            tooltip=["Registration", "label", "n", "denominator", alt.Tooltip("percent:Q", format=".1f")],
        )
        .properties(width=440, height=340)
    )


# --- tables with the same rows in every edition (for protection across the editions of one year) ------------


def fill_months(frame: pd.DataFrame, column: str, categories, months) -> pd.DataFrame:
    """A table of :func:`dam_schedule` or :func:`route_shares` (``n`` and ``denominator`` by registration month
    and ``column``) with every month of ``months`` and every category, zeros included: one clinic or a short
    period may have no registration of a route, schedule or month at all. ``denominator`` is the month's sum,
    ``percent`` NaN for a month without registrations."""
    every = sorted(set(int(m) for m in months) | set(frame["registration_month"].astype(int)))
    index = pd.MultiIndex.from_product([every, list(categories)], names=["registration_month", column])
    out = frame.set_index(["registration_month", column])[["n"]].reindex(index, fill_value=0).reset_index()
    out["n"] = out["n"].astype(int)
    out["denominator"] = out.groupby("registration_month")["n"].transform("sum").astype(int)
    out["percent"] = [100 * n / d if d else float("nan") for n, d in zip(out["n"], out["denominator"])]
    return out


def registration_months(medication: pd.DataFrame) -> list[int]:
    """The registration months of ``medication``, sorted."""
    return sorted(set(pd.to_numeric(medication["registration_month"], errors="coerce").dropna().astype(int)))


def route_change_counts(medication: pd.DataFrame, months) -> pd.DataFrame:
    """:func:`route_changes` at every month of ``months`` (zeros where no registration answered), in that order."""
    frame = route_changes(medication).set_index("registration_month").reindex(sorted(set(int(m) for m in months)))
    frame["n"], frame["denominator"] = frame["n"].fillna(0).astype(int), frame["denominator"].fillna(0).astype(int)
    frame["percent"] = [_percent(n, d) if d else float("nan") for n, d in zip(frame["n"], frame["denominator"])]
    return frame.rename_axis("registration_month").reset_index()


def bonus_counts(
    medication: pd.DataFrame, patients: pd.DataFrame, clinic: str = "Bergen", most: int = 3
) -> pd.DataFrame:
    """The counts of :func:`bonus_doses` as one table with fixed rows: part "clinic" (the clinic's patients with
    and without bonus doses, adding up to the clinic's patients in ``total``) and part "weekly" (the patients
    with bonus doses by their highest number a week, 1 to ``most``, the last one counting ``most`` or more,
    adding up to the patients with bonus doses in ``total``)."""
    bonus = bonus_doses(medication, patients, clinic)
    with_bonus, everyone = int(bonus["patients"]), int(bonus["clinic_patients"])
    weekly = {k: int(v) for k, v in bonus["by_max_per_week"].items()}
    rows = [
        {"part": "clinic", "cell": "with", "n": with_bonus, "total": everyone},
        {"part": "clinic", "cell": "without", "n": everyone - with_bonus, "total": everyone},
    ]
    for k in range(1, most + 1):
        n = weekly.get(k, 0) if k < most else sum(v for w, v in weekly.items() if w >= most)
        rows.append({"part": "weekly", "cell": str(k), "n": n, "total": with_bonus})
    return pd.DataFrame(rows, columns=["part", "cell", "n", "total"])


def tie_class_base(shown: pd.DataFrame) -> pd.DataFrame:
    """A protected :func:`comedication` table whose classes' base is one number with the count of any
    co-medication of the same month: where either is withheld, both are (the count, the classes' base and
    every share resting on it), so that neither gives the other away."""
    from analysis.presentation import disclosure

    out = shown.astype({"n": object, "denominator": object, "percent": object})
    for month in out["registration_month"].unique():
        at = out["registration_month"] == month
        is_any = at & (out["medication_class"] == "any")
        classes = at & (out["medication_class"] != "any")
        any_n = out.loc[is_any, "n"].iloc[0]
        hidden = isinstance(any_n, str) or any(isinstance(v, str) for v in out.loc[classes, "denominator"])
        if not hidden:
            continue
        if not isinstance(any_n, str):
            out.loc[is_any, "n"] = disclosure.WITHHELD
            out.loc[is_any, "percent"] = disclosure.WITHHELD
        out.loc[classes, "denominator"] = out.loc[is_any, "n"].iloc[0]
        out.loc[classes, "percent"] = disclosure.WITHHELD
    return out


def substitution_counts(medication: pd.DataFrame, months) -> pd.DataFrame:
    """:func:`substitutions` at every month of ``months`` (zeros where no registration records one), in that
    order: the table :func:`analysis.presentation.linked_suppression.protect_linked` protects, each month's count on its own."""
    frame = substitutions(medication).set_index("registration_month")["n"]
    every = sorted(set(int(m) for m in months))
    return pd.DataFrame({"registration_month": every, "n": [int(frame.get(m, 0)) for m in every]})


def comedication_ties(table: pd.DataFrame, name: str = "comed") -> list[tuple]:
    """The ``same`` relations of :func:`analysis.presentation.linked_suppression.joint_patterns` for a :func:`comedication`
    table protected with ``groups=["registration_month", "medication_class"]`` and ``total="denominator"``: the
    base of each class is the count of any co-medication of the same month, one quantity for the reader."""
    ties = []
    for position, row in enumerate(table.itertuples(index=False)):
        if row.medication_class == "any":
            month = row.registration_month
            ties += [
                ((name, "cell", position), (name, "total", (other.registration_month, other.medication_class)))
                for other in table.itertuples(index=False)
                if other.registration_month == month and other.medication_class != "any"
            ]
    return ties


#: The ``same`` relation of :func:`bonus_counts` (block name ``"bonus"``, ``groups="part"``, ``total="total"``): the
#: patients with bonus doses are the clinic's "with" cell and the total of the weekly part.
BONUS_TIES = [(("bonus", "cell", 0), ("bonus", "total", ("weekly",)))]


# --- Appendix 3 as the page shows it -----------------------------------------------------------------------

#: The ledger keys of the route counts and shares by (registration month, route).
ROUTE_KEYS = {
    (1, "intravenous"): ("app3_route_iv_1m_n", "app3_route_iv_1m_pct"),
    (1, "intramuscular"): ("app3_route_im_1m_n", "app3_route_im_1m_pct"),
    (1, "oral"): ("app3_route_oral_1m_n", "app3_route_oral_1m_pct"),
    (12, "intravenous"): ("app3_route_iv_1y_n", "app3_route_iv_1y_pct"),
    (12, "intramuscular"): ("app3_route_im_1y_n", "app3_route_im_1y_pct"),
    (12, "oral"): ("app3_route_oral_1y_n", "app3_route_oral_1y_pct"),
    (24, "intravenous"): ("app3_route_iv_2y_n", "app3_route_iv_2y_pct"),
    (24, "intramuscular"): ("app3_route_im_2y_n", "app3_route_im_2y_pct"),
    (24, "oral"): ("app3_route_oral_2y_n", "app3_route_oral_2y_pct"),
}
#: The registrations with a route recorded at the months the text names.
ROUTE_BASE_KEYS = {1: "a3_route_base_1m", 12: "a3_route_base_1y", 24: "a3_route_base_2y"}
#: The patients changing route several times a week, at one month and at the three-month registration.
ROUTE_SWITCH_KEYS = {
    1: ("app3_route_switch_1m_n", "app3_route_switch_1m_pct"),
    3: ("app3_route_switch_next3m_n", "app3_route_switch_next3m_pct"),
}
#: The bases the report's one-month route shares fit: route -> (lowest, highest).
REPORT_ROUTE_BASE_KEYS = {
    "intravenous": ("a3_report_route_iv_1m_base_low", "a3_report_route_iv_1m_base_high"),
    "intramuscular": ("a3_report_route_im_1m_base_low", "a3_report_route_im_1m_base_high"),
    "oral": ("a3_report_route_oral_1m_base_low", "a3_report_route_oral_1m_base_high"),
}
#: The DAM dose statistics of the text: key -> (route, time of day) of :func:`dam_doses`.
DOSE_KEYS = {
    "app3_dam_iv_am_median_mg": ("intravenous", "morning"),
    "app3_dam_iv_pm_median_mg": ("intravenous", "afternoon"),
    "app3_dam_iv_am_min_mg": ("intravenous", "morning"),
    "app3_dam_iv_am_max_mg": ("intravenous", "morning"),
    "app3_dam_iv_pm_min_mg": ("intravenous", "afternoon"),
    "app3_dam_iv_pm_max_mg": ("intravenous", "afternoon"),
    "app3_dam_im_am_pm_median_mg": ("intramuscular", "both"),
    "app3_dam_im_am_min_mg": ("intramuscular", "morning"),
    "app3_dam_im_am_max_mg": ("intramuscular", "morning"),
    "app3_dam_im_pm_min_mg": ("intramuscular", "afternoon"),
    "app3_dam_im_pm_max_mg": ("intramuscular", "afternoon"),
    "app3_dam_oral_am_median_mg": ("oral", "morning"),
    "app3_dam_oral_pm_median_mg": ("oral", "afternoon"),
    "app3_dam_oral_am_pm_min_mg": ("oral", "both"),
    "app3_dam_oral_am_pm_max_mg": ("oral", "both"),
}
#: The one-month count and share of each bridge opioid.
BRIDGE_KEYS = {
    "methadone": ("app3_bridge_methadone_1m_n", "app3_bridge_methadone_1m_pct"),
    "contalgin": ("app3_bridge_contalgin_1m_n", "app3_bridge_contalgin_1m_pct"),
    "dolcontin": ("app3_bridge_dolcontin_1m_n", "app3_bridge_dolcontin_1m_pct"),
    "levopidon": ("app3_bridge_levopidon_1m_n", "app3_bridge_levopidon_1m_pct"),
    "other": ("app3_bridge_other_1m_n", "app3_bridge_other_1m_pct"),
}
#: The dose of each bridge opioid over all registrations: median, lowest, highest.
BRIDGE_DOSE_KEYS = {
    "methadone": (
        "app3_bridge_methadone_dose_median_mg",
        "app3_bridge_methadone_dose_min_mg",
        "app3_bridge_methadone_dose_max_mg",
    ),
    "contalgin": (
        "app3_bridge_contalgin_dose_median_mg",
        "app3_bridge_contalgin_dose_min_mg",
        "app3_bridge_contalgin_dose_max_mg",
    ),
    "dolcontin": (
        "app3_bridge_dolcontin_dose_median_mg",
        "app3_bridge_dolcontin_dose_min_mg",
        "app3_bridge_dolcontin_dose_max_mg",
    ),
    "levopidon": (
        "app3_bridge_levopidon_dose_median_mg",
        "app3_bridge_levopidon_dose_min_mg",
        "app3_bridge_levopidon_dose_max_mg",
    ),
    "other": ("app3_bridge_other_dose_median_mg", "app3_bridge_other_dose_min_mg", "app3_bridge_other_dose_max_mg"),
}
#: The count and share of each reported co-medication class, by (registration month, class).
COMED_KEYS = {
    (1, "any"): ("app3_comed_any_1m_n", "app3_comed_any_1m_pct"),
    (1, "benzodiazepine"): ("app3_comed_benzodiazepines_1m_n", "app3_comed_benzodiazepines_1m_pct"),
    (1, "somatic"): ("app3_comed_somatic_1m_n", "app3_comed_somatic_1m_pct"),
    (1, "allergy"): ("app3_comed_allergy_1m_n", "app3_comed_allergy_1m_pct"),
    (12, "any"): ("app3_comed_any_1y_n", "app3_comed_any_1y_pct"),
    (12, "benzodiazepine"): ("app3_comed_benzodiazepines_1y_n", "app3_comed_benzodiazepines_1y_pct"),
    (12, "somatic"): ("app3_comed_somatic_1y_n", "app3_comed_somatic_1y_pct"),
    (12, "allergy"): ("app3_comed_allergy_1y_n", "app3_comed_allergy_1y_pct"),
}
#: The registrations where co-medication was recorded, at one month and one year.
COMED_BASE_KEYS = {1: "a3_comed_base_1m", 12: "a3_comed_base_1y"}
#: The glue name of the words of each share and dose of the medication text ("12%", "1,200 mg", or a marker alone).
UNIT_TEXT_KEYS = {
    "app3_bonus_dose_max_mg": "app3_bonus_dose_max_mg_text",
    "app3_bonus_dose_median_mg": "app3_bonus_dose_median_mg_text",
    "app3_bonus_dose_min_mg": "app3_bonus_dose_min_mg_text",
    "app3_bridge_contalgin_1m_pct": "app3_bridge_contalgin_1m_pct_text",
    "app3_bridge_contalgin_dose_max_mg": "app3_bridge_contalgin_dose_max_mg_text",
    "app3_bridge_contalgin_dose_median_mg": "app3_bridge_contalgin_dose_median_mg_text",
    "app3_bridge_contalgin_dose_min_mg": "app3_bridge_contalgin_dose_min_mg_text",
    "app3_bridge_dolcontin_1m_pct": "app3_bridge_dolcontin_1m_pct_text",
    "app3_bridge_dolcontin_dose_max_mg": "app3_bridge_dolcontin_dose_max_mg_text",
    "app3_bridge_dolcontin_dose_median_mg": "app3_bridge_dolcontin_dose_median_mg_text",
    "app3_bridge_dolcontin_dose_min_mg": "app3_bridge_dolcontin_dose_min_mg_text",
    "app3_bridge_levopidon_1m_pct": "app3_bridge_levopidon_1m_pct_text",
    "app3_bridge_levopidon_dose_max_mg": "app3_bridge_levopidon_dose_max_mg_text",
    "app3_bridge_levopidon_dose_median_mg": "app3_bridge_levopidon_dose_median_mg_text",
    "app3_bridge_levopidon_dose_min_mg": "app3_bridge_levopidon_dose_min_mg_text",
    "app3_bridge_methadone_1m_pct": "app3_bridge_methadone_1m_pct_text",
    "app3_bridge_methadone_dose_max_mg": "app3_bridge_methadone_dose_max_mg_text",
    "app3_bridge_methadone_dose_median_mg": "app3_bridge_methadone_dose_median_mg_text",
    "app3_bridge_methadone_dose_min_mg": "app3_bridge_methadone_dose_min_mg_text",
    "app3_bridge_other_1m_pct": "app3_bridge_other_1m_pct_text",
    "app3_bridge_other_dose_max_mg": "app3_bridge_other_dose_max_mg_text",
    "app3_bridge_other_dose_median_mg": "app3_bridge_other_dose_median_mg_text",
    "app3_bridge_other_dose_min_mg": "app3_bridge_other_dose_min_mg_text",
    "app3_comed_allergy_1m_pct": "app3_comed_allergy_1m_pct_text",
    "app3_comed_allergy_1y_pct": "app3_comed_allergy_1y_pct_text",
    "app3_comed_any_1m_pct": "app3_comed_any_1m_pct_text",
    "app3_comed_any_1y_pct": "app3_comed_any_1y_pct_text",
    "app3_comed_benzodiazepines_1m_pct": "app3_comed_benzodiazepines_1m_pct_text",
    "app3_comed_benzodiazepines_1y_pct": "app3_comed_benzodiazepines_1y_pct_text",
    "app3_comed_somatic_1m_pct": "app3_comed_somatic_1m_pct_text",
    "app3_comed_somatic_1y_pct": "app3_comed_somatic_1y_pct_text",
    "app3_dam_am_only_1m_pct": "app3_dam_am_only_1m_pct_text",
    "app3_dam_am_pm_1m_pct": "app3_dam_am_pm_1m_pct_text",
    "app3_dam_im_am_max_mg": "app3_dam_im_am_max_mg_text",
    "app3_dam_im_am_min_mg": "app3_dam_im_am_min_mg_text",
    "app3_dam_im_am_pm_median_mg": "app3_dam_im_am_pm_median_mg_text",
    "app3_dam_im_pm_max_mg": "app3_dam_im_pm_max_mg_text",
    "app3_dam_im_pm_min_mg": "app3_dam_im_pm_min_mg_text",
    "app3_dam_iv_am_max_mg": "app3_dam_iv_am_max_mg_text",
    "app3_dam_iv_am_median_mg": "app3_dam_iv_am_median_mg_text",
    "app3_dam_iv_am_min_mg": "app3_dam_iv_am_min_mg_text",
    "app3_dam_iv_pm_max_mg": "app3_dam_iv_pm_max_mg_text",
    "app3_dam_iv_pm_median_mg": "app3_dam_iv_pm_median_mg_text",
    "app3_dam_iv_pm_min_mg": "app3_dam_iv_pm_min_mg_text",
    "app3_dam_oral_am_median_mg": "app3_dam_oral_am_median_mg_text",
    "app3_dam_oral_am_pm_max_mg": "app3_dam_oral_am_pm_max_mg_text",
    "app3_dam_oral_am_pm_min_mg": "app3_dam_oral_am_pm_min_mg_text",
    "app3_dam_oral_pm_median_mg": "app3_dam_oral_pm_median_mg_text",
    "app3_dam_pm_only_1m_pct": "app3_dam_pm_only_1m_pct_text",
    "app3_route_im_1m_pct": "app3_route_im_1m_pct_text",
    "app3_route_im_1y_pct": "app3_route_im_1y_pct_text",
    "app3_route_im_2y_pct": "app3_route_im_2y_pct_text",
    "app3_route_iv_1m_pct": "app3_route_iv_1m_pct_text",
    "app3_route_iv_1y_pct": "app3_route_iv_1y_pct_text",
    "app3_route_iv_2y_pct": "app3_route_iv_2y_pct_text",
    "app3_route_oral_1m_pct": "app3_route_oral_1m_pct_text",
    "app3_route_oral_1y_pct": "app3_route_oral_1y_pct_text",
    "app3_route_oral_2y_pct": "app3_route_oral_2y_pct_text",
    "app3_route_switch_1m_pct": "app3_route_switch_1m_pct_text",
    "app3_route_switch_next3m_pct": "app3_route_switch_next3m_pct_text",
}
#: The glue name of the words of a dose range ("210–430 mg", or a marker alone), and the keys of its two ends.
RANGE_TEXT_KEYS = {
    "app3_bonus_dose_range_text": ("app3_bonus_dose_min_mg", "app3_bonus_dose_max_mg"),
    "app3_bridge_contalgin_dose_range_text": ("app3_bridge_contalgin_dose_min_mg", "app3_bridge_contalgin_dose_max_mg"),
    "app3_bridge_dolcontin_dose_range_text": ("app3_bridge_dolcontin_dose_min_mg", "app3_bridge_dolcontin_dose_max_mg"),
    "app3_bridge_levopidon_dose_range_text": ("app3_bridge_levopidon_dose_min_mg", "app3_bridge_levopidon_dose_max_mg"),
    "app3_bridge_methadone_dose_range_text": ("app3_bridge_methadone_dose_min_mg", "app3_bridge_methadone_dose_max_mg"),
    "app3_bridge_other_dose_range_text": ("app3_bridge_other_dose_min_mg", "app3_bridge_other_dose_max_mg"),
    "app3_dam_im_am_range_text": ("app3_dam_im_am_min_mg", "app3_dam_im_am_max_mg"),
    "app3_dam_im_pm_range_text": ("app3_dam_im_pm_min_mg", "app3_dam_im_pm_max_mg"),
    "app3_dam_iv_am_range_text": ("app3_dam_iv_am_min_mg", "app3_dam_iv_am_max_mg"),
    "app3_dam_iv_pm_range_text": ("app3_dam_iv_pm_min_mg", "app3_dam_iv_pm_max_mg"),
    "app3_dam_oral_am_pm_range_text": ("app3_dam_oral_am_pm_min_mg", "app3_dam_oral_am_pm_max_mg"),
}


def range_texts(card) -> dict[str, str]:
    """The dose ranges of :data:`RANGE_TEXT_KEYS` as the reader sees them: "210–430 mg", or the marker alone when
    either end is not shown. ``card`` holds the glued ends."""
    from analysis.presentation import formats
    from analysis.presentation.scorecard import shown_value

    texts = {}
    for name, (low_key, high_key) in RANGE_TEXT_KEYS.items():
        low, high = shown_value(card, low_key), shown_value(card, high_key)
        texts[name] = (
            (low if isinstance(low, str) else high)
            if isinstance(low, str) or isinstance(high, str)
            else f"{formats.number(low)}–{formats.number(high)} mg"
        )
    return texts


class _Appendix3Part(NamedTuple):
    """What every part of :func:`appendix` uses: the edition's page and data, the ledger statistics' values, the
    rows of statistics being gathered, and the helpers that add to them."""

    page: Any
    cohort: Any
    sdc: int | None
    published: pd.DataFrame
    edition: Any
    registrations: pd.DataFrame
    values: pd.Series
    rows: list
    statistic: Callable
    share_note: Callable
    sentence: Callable
    report_fits: Callable
    every_month: Callable


def appendix(page) -> dict:
    """The medication part of Appendix 3 for the edition of ``page`` (:class:`analysis.presentation.edition.Page`).

    Returns ``statistics`` (for :meth:`analysis.presentation.scorecard.Card.glue_statistics`: every statistic of
    :func:`ledger_statistics` as the protected tables show it, with a note where it differs from the report;
    the bases and counts of the edition's own the text states; the figures implied by the report's own prints,
    and the sentences about them) and the tables and charts ``tab-a3-routes``, ``fig-a3-routes``,
    ``tab-a3-doses``, ``tab-a3-bridge``, ``fig-a3-bridge``, ``tab-a3-bonus``, ``tab-a3-comedication``,
    ``fig-a3-comedication``.

    In a rerun every table is protected jointly with the same table of the other editions of its year
    (:mod:`analysis.presentation.linked_suppression`): the schedules and the routes of a month add up to its base, the
    patients who changed route are part of those who answered, the bridge opioids add up to their base, the
    Bergen patients with bonus doses are one count in both of its parts, and each co-medication class is a count
    of the registrations with any co-medication; a share, median or range is withheld with the counts it rests
    on, and the text says what the tables show."""
    cohort, sdc, published, edition = page.cohort, page.sdc, page.published, page.edition
    registrations = cohort.medication
    values = ledger_statistics(registrations, cohort.patients).set_index("key")["value"]
    rows: list[dict] = []

    def statistic(key: str, note: str | None = None, **options) -> None:
        """A ledger statistic; where it does not match the report, ``note`` (or the calibration note)."""
        entry = published.loc[key]
        differs = not within_precision(values[key], entry.value, entry.precision)
        rows.append(
            {"key": key, "value": values[key], "note": (note or oc.CALIBRATION_NOTE) if differs else None, **options}
        )

    def share_note(key_pct: str, key_n: str, n, denominator, base: str) -> str:
        """The note of a share from the report's printed share and count and this edition's count and base: when
        the counts agree, the report divided by another base; otherwise the synthetic cohort differs."""
        note = denominator_note(
            published.loc[key_pct, "printed"],
            published.loc[key_pct, "value"],
            published.loc[key_pct, "precision"],
            published.loc[key_n, "value"],
            int(n),
            int(denominator),
            base,
        )
        if int(n) == published.loc[key_n, "value"]:
            return note + (
                " The counts agree; the report's share was taken of a different base (see the note in "
                "the section on routes)."
            )
        return note + " " + oc.CALIBRATION_NOTE

    def sentence(key: str, text: str) -> None:
        rows.append({"key": key, "value": text if edition.published else ""})

    def report_fits(count: float, percent: float, precision: float) -> tuple[int, int]:
        """The bases the report's own printed ``count`` and ``percent`` fit (:func:`consistent_denominators`); the
        report's figures are the same in every edition, and each of those this page checks fits some base."""
        fits = consistent_denominators(count, percent, precision)
        assert fits is not None, f"the report's {percent}% of {count} fits no base"
        return fits

    def months_of(c) -> pd.DataFrame:
        return pd.DataFrame({"month": registration_months(c.medication)})

    # every registration month of any edition that the protection links with this one, by data end (an edition
    # of both clinics holds each clinic's months), so that a table protected with the other editions' has the
    # same rows in all of them
    linked_months: dict[int, set[int]] = {}
    if sdc is not None:
        by_year = grid_tables(page, months_of) or {edition.year: sibling_tables(page, months_of)}
        linked_months = {
            year: {int(m) for t in tables.values() for m in t["month"]} for year, (tables, _) in by_year.items()
        }

    def every_month(months, year: int | None = None) -> list[int]:
        """``months`` and every registration month of the editions with data through ``year`` (default this
        edition's data end) that the protection links with this one; this edition's own months when it is not
        protected."""
        if sdc is None:
            return sorted(set(months) | set(registration_months(registrations)))
        own = linked_months[edition.year]
        return sorted(set(months) | (own if year is None else linked_months.get(year, own)))

    part = _Appendix3Part(
        page,
        cohort,
        sdc,
        published,
        edition,
        registrations,
        values,
        rows,
        statistic,
        share_note,
        sentence,
        report_fits,
        every_month,
    )
    _a3_schedule(part)
    _a3_substitutions(part)
    displays, report_bridge = _a3_routes(part)
    displays |= _a3_doses(part)
    displays |= _a3_bridge(part, report_bridge)
    displays |= _a3_bonus(part)
    displays |= _a3_comedication(part)
    return {"statistics": oc.statistics_frame(rows), **displays}


def _a3_schedule(part: _Appendix3Part) -> None:
    """The daily schedule at one month: the shares of single sessions, and what the report's own prints imply."""
    page = part.page
    cohort = part.cohort
    published = part.published
    rows = part.rows
    statistic = part.statistic
    share_note = part.share_note
    sentence = part.sentence
    report_fits = part.report_fits

    # the daily schedule at one month: the schedules add up to the registrations with both times recorded
    def schedule_at_one(c) -> pd.DataFrame:
        table = fill_months(dam_schedule(c.medication), "schedule", SCHEDULES, [1])
        return table[table["registration_month"] == 1].reset_index(drop=True)

    at_one_true = schedule_at_one(cohort).set_index("schedule")
    at_one = protect_linked(
        page, schedule_at_one, groups="registration_month", total="denominator", derived=["percent"]
    ).set_index("schedule")
    schedule_base = int(at_one_true["denominator"].iloc[0])
    rows.append(oc.own_count_row("a3_schedule_base_1m", at_one["denominator"].iloc[0]))
    base = "registrations at one month with both times of day recorded"
    statistic("app3_dam_am_pm_1m_pct", shown=at_one.loc["morning_and_afternoon", "percent"])
    statistic(
        "app3_dam_am_only_1m_pct",
        share_note(
            "app3_dam_am_only_1m_pct",
            "app3_dam_am_only_1m_n",
            at_one_true.loc["morning_only", "n"],
            schedule_base,
            base,
        ),
        shown=at_one.loc["morning_only", "percent"],
    )
    statistic("app3_dam_am_only_1m_n", shown=at_one.loc["morning_only", "n"])
    statistic(
        "app3_dam_pm_only_1m_pct",
        share_note(
            "app3_dam_pm_only_1m_pct",
            "app3_dam_pm_only_1m_n",
            at_one_true.loc["afternoon_only", "n"],
            schedule_base,
            base,
        ),
        shown=at_one.loc["afternoon_only", "percent"],
    )
    statistic("app3_dam_pm_only_1m_n", shown=at_one.loc["afternoon_only", "n"])
    # the report's single-session shares and counts fit one range of bases
    low, high = report_fits(
        published.loc["app3_dam_am_only_1m_n", "value"],
        published.loc["app3_dam_am_only_1m_pct", "value"],
        published.loc["app3_dam_am_only_1m_pct", "precision"],
    )
    rows += [
        {"key": "a3_report_schedule_base_low", "value": low},
        {"key": "a3_report_schedule_base_high", "value": high},
    ]
    sentence(
        "a3_schedule_report_note",
        f"The report's printed shares of the schedule hold together: its count for each single-session group is "
        f"that share of any base between {formats.number(low)} and {formats.number(high)} patients, which "
        "includes the base of its bridge opioids.",
    )


def _a3_substitutions(part: _Appendix3Part) -> None:
    """Another opioid in place of DAM: the fewest and most patients in a registration month, as the table shows them."""
    page = part.page
    sdc = part.sdc
    registrations = part.registrations
    rows = part.rows
    statistic = part.statistic
    every_month = part.every_month
    # the patients given another opioid in place of DAM at each registration month, zeros included; the fewest and
    # the most as the table shows them: a withheld month's marker where it is the extreme, and withheld where
    # another month is withheld (a shown extreme would bound the withheld ones)
    substituted = substitutions(registrations)
    months = (
        every_month([int(m) for m in substituted["registration_month"]])
        if sdc is not None
        else [int(m) for m in substituted["registration_month"]]
    )

    def substitutions_of(c) -> pd.DataFrame:
        return substitution_counts(c.medication, months)

    substitutions_shown = protect_linked(page, substitutions_of, count="n").set_index("registration_month")["n"]
    substitutions_true = substituted.set_index("registration_month")["n"]
    substitutions_own = substitutions_shown.reindex(substitutions_true.index)
    for key, largest in (("app3_dam_substituted_n_min", False), ("app3_dam_substituted_n_max", True)):
        extreme = (
            oc.shown_extreme(substitutions_true, substitutions_own, largest=largest)
            if len(substitutions_true)
            else None
        )
        if extreme is not None and not oc.is_hidden(extreme) and substitutions_own.map(oc.is_hidden).any():
            extreme = disclosure.WITHHELD
        statistic(key, shown=extreme)
    rows.append({"key": "a3_substitution_months", "value": len(substituted)})


def _a3_routes(part: _Appendix3Part) -> tuple[dict, float]:
    """The routes of every registration month and the weekly changes of route: statistics, table and chart.
    Returns the displays, and the sum of the report's own one-month counts of bridge opioids."""
    page = part.page
    sdc = part.sdc
    registrations = part.registrations
    rows = part.rows
    statistic = part.statistic
    share_note = part.share_note
    every_month = part.every_month
    # every route at every month of any edition of this year, the same rows in every edition, protected jointly
    # (the routes of a month add up to its base; the patients who changed route are part of those who answered)
    route_months = every_month([1, 12, 24])
    routes_true = fill_months(route_shares(registrations), "route", schema.DAM_ROUTES, route_months)

    def routes_of(c) -> pd.DataFrame:
        # the editions of the other data ends that the protection links get their data end's months, so that
        # their tables have the same rows whichever edition computes them (a clinic may have no registration
        # at a late month that the other clinic has)
        months = every_month([1, 12, 24], c.data_end.year)
        return fill_months(route_shares(c.medication), "route", schema.DAM_ROUTES, months)

    routes = protect_linked(
        page,
        routes_of,
        groups="registration_month",
        total="denominator",
        derived=["percent"],
    )
    route_cells, route_true = (
        routes.set_index(["registration_month", "route"]),
        routes_true.set_index(["registration_month", "route"]),
    )
    change_months = sorted(set(route_months) | {1, 3})
    changes_true = route_change_counts(registrations, change_months).set_index("registration_month")

    def changes_of(c) -> pd.DataFrame:
        return route_change_counts(c.medication, change_months)

    changes = protect_linked(
        page,
        changes_of,
        groups="registration_month",
        total="denominator",
        derived=["percent"],
    ).set_index("registration_month")
    for month in ROUTE_BASE_KEYS:
        base = f"registrations at {month_label(month)} with a route recorded"
        for route in schema.DAM_ROUTES:
            n_key, pct_key = ROUTE_KEYS[(month, route)]
            cell, true = route_cells.loc[(month, route)], route_true.loc[(month, route)]
            statistic(n_key, shown=cell["n"])
            statistic(pct_key, share_note(pct_key, n_key, true["n"], true["denominator"], base), shown=cell["percent"])
        rows.append(oc.own_count_row(ROUTE_BASE_KEYS[month], route_cells.loc[(month, "oral"), "denominator"]))
    for month, (n_key, pct_key) in ROUTE_SWITCH_KEYS.items():
        base = f"registrations at {month_label(month)} where the question was answered"
        statistic(n_key, shown=changes.loc[month, "n"])
        statistic(
            pct_key,
            share_note(pct_key, n_key, changes_true.loc[month, "n"], changes_true.loc[month, "denominator"], base),
            shown=changes.loc[month, "percent"],
        )
    report_bridge = _a3_route_report_note(part)
    route_rows = []
    for month in [
        m
        for m in sorted(routes_true["registration_month"].unique())
        if route_true.loc[(m, "oral"), "denominator"] >= 10
    ]:
        line = {
            "Registration": month_label(month),
            "With a route recorded": route_cells.loc[(month, "oral"), "denominator"],
        }
        for route, label in ROUTE_LABELS.items():
            cell, true = route_cells.loc[(month, route)], route_true.loc[(month, route)]
            line[label] = (
                _cell_text(true["n"], true["percent"])
                if sdc is None
                else oc.count_share_text(cell["n"], cell["percent"])
            )
        if changes_true.loc[month, "denominator"] > 0:
            line["Changes route weekly"] = f"{changes.loc[month, 'n']} of {changes.loc[month, 'denominator']}"
        route_rows.append(line)
    displays = {
        "tab-a3-routes": _styled(pd.DataFrame(route_rows)),
        # the chart draws the table as shown: a withheld count is no bar, a month whose base is withheld is left out
        "fig-a3-routes": disclosure.placeholder_chart(
            "No registration month has ten or more registrations in this edition."
        )
        if not (routes_true["denominator"] >= 10).any()
        else route_chart(oc.as_numbers(routes, ["n", "denominator", "percent"]).fillna({"denominator": 0})),
    }
    return displays, report_bridge


def _a3_route_report_note(part: _Appendix3Part) -> float:
    """What the report's own one-month route figures imply: the three counts' sum against the base of each
    share (a note, and the bases as statistics). Returns the sum of its one-month counts of bridge opioids."""
    published, rows, report_fits, sentence = part.published, part.rows, part.report_fits, part.sentence
    # what the report's one-month route figures imply: the three counts' sum against the base of each share
    report_routes = {route: published.loc[ROUTE_KEYS[(1, route)][0], "value"] for route in schema.DAM_ROUTES}
    report_bridge = sum(published.loc[n_key, "value"] for n_key, _ in BRIDGE_KEYS.values())
    rows += [
        {"key": "a3_report_route_sum_1m", "value": int(sum(report_routes.values()))},
        {"key": "a3_report_bridge_sum_1m", "value": int(report_bridge)},
    ]
    report_bases = {}
    for route, (low_key, high_key) in REPORT_ROUTE_BASE_KEYS.items():
        report_bases[route] = report_fits(report_routes[route], published.loc[ROUTE_KEYS[(1, route)][1], "value"], 1)
        rows += [{"key": low_key, "value": report_bases[route][0]}, {"key": high_key, "value": report_bases[route][1]}]
    iv, im = report_bases["intravenous"], report_bases["intramuscular"]
    sentence(
        "a3_route_report_note",
        f"""
:::{{note}}
The report's one-month route shares do not share one base. Its three counts add up to
{formats.number(sum(report_routes.values()))}, while
{formats.number(report_bridge)} patients are
counted with a bridge opioid at the same registration. Its intravenous share fits its count only for a base of
{formats.number(iv[0])} to {formats.number(iv[1])} patients, its intramuscular share
only for {formats.number(im[0])} to {formats.number(im[1])}: no single number of
patients gives both. This edition divides every route count by the registrations with a route recorded, so at least
one of the report's one-month route shares cannot be matched; the table at the end of the page says which and why.
The report's other internal checks are collected in {{doc}}`appendix_errata`.
:::
""",
    )
    return report_bridge


def _a3_doses(part: _Appendix3Part) -> dict:
    """The DAM doses of each route and time of day: statistics and table."""
    page = part.page
    sdc = part.sdc
    registrations = part.registrations
    values = part.values
    statistic = part.statistic
    displays: dict = {}
    # the patients and the doses of each route and time of day, protected jointly; a median or range over
    # patients withheld is withheld with them
    all_doses = dam_doses(registrations).set_index(["route", "time"])

    def doses_of(c) -> pd.DataFrame:
        return dam_doses(c.medication)

    dose_patients = protect_linked(page, doses_of, count="patients", derived=["median", "min", "max"]).set_index(
        ["route", "time"]
    )
    dose_counts = protect_linked(page, doses_of, count="n").set_index(["route", "time"])
    for key in [k for k in values.index if k in DOSE_KEYS]:
        at = DOSE_KEYS[key]
        statistic(key, of=all_doses.loc[at, "patients"], suppress=oc.is_hidden(dose_patients.loc[at, "patients"]))
    doses = dose_patients.reset_index()
    doses_n = dose_counts.reset_index()["n"].where(~doses["patients"].map(oc.is_hidden), disclosure.WITHHELD)
    displays["tab-a3-doses"] = _styled(
        pd.DataFrame(
            {
                "Route": doses["route"].map(ROUTE_LABELS),
                "Time of day": doses["time"].str.capitalize(),
                "Patients": doses["patients"],
                "Doses recorded": doses_n if sdc is not None else doses["n"],
                "Median (mg)": doses["median"],
                "Lowest (mg)": doses["min"],
                "Highest (mg)": doses["max"],
            }
        )[doses["time"] != "both"],
        {"Median (mg)": 0, "Lowest (mg)": 0, "Highest (mg)": 0},
    )
    return displays


def _a3_bridge(part: _Appendix3Part, report_bridge: float) -> dict:
    """The bridge opioids at one month and their doses over all registrations: statistics, table and chart."""
    page = part.page
    sdc = part.sdc
    registrations = part.registrations
    rows = part.rows
    statistic = part.statistic
    share_note = part.share_note
    sentence = part.sentence
    displays: dict = {}
    # the opioids at one month add up to their base; the patients and doses over all registrations are counts of
    # their own: each protected jointly, and the text says what the table shows
    bridge = bridge_opioids(registrations, 1)
    bridge_base = int(bridge["denominator"].iloc[0])

    def bridge_of(c) -> pd.DataFrame:
        return bridge_opioids(c.medication, 1)

    def bridge_doses_of(c) -> pd.DataFrame:
        return bridge_doses(c.medication)

    bridge_shown = protect_linked(page, bridge_of, groups=[], total="denominator", derived=["percent"])
    bridge_doses_true = bridge_doses(registrations)
    bridge_patients = protect_linked(page, bridge_doses_of, count="patients", derived=["median", "min", "max"])
    bridge_counts = protect_linked(page, bridge_doses_of, count="n")
    rows.append(oc.own_count_row("a3_bridge_base_1m", bridge_shown["denominator"].iloc[0]))
    for row, shown in zip(bridge.itertuples(), bridge_shown.itertuples()):
        n_key, pct_key = BRIDGE_KEYS[row.bridge_opioid]
        statistic(n_key, shown=shown.n)
        statistic(
            pct_key,
            share_note(pct_key, n_key, row.n, bridge_base, "registrations at one month with a bridge opioid recorded"),
            shown=shown.percent,
        )
    for row, shown in zip(bridge_doses_true.itertuples(), bridge_patients.itertuples()):
        for key in BRIDGE_DOSE_KEYS[row.bridge_opioid]:
            statistic(key, of=row.patients, suppress=oc.is_hidden(shown.patients))
    doses_shown = bridge_counts["n"].where(~bridge_patients["patients"].map(oc.is_hidden), disclosure.WITHHELD)
    displays["tab-a3-bridge"] = _styled(
        pd.DataFrame(
            {
                "Bridge opioid": bridge_shown["label"],
                "Patients at one month": bridge_shown["n"],
                "Share at one month (%)": bridge_shown["percent"],
                "Patients, all registrations": bridge_patients["patients"],
                "Doses recorded, all registrations": doses_shown if sdc is not None else bridge_doses_true["n"],
                "Median dose (mg)": bridge_patients["median"],
                "Lowest (mg)": bridge_patients["min"],
                "Highest (mg)": bridge_patients["max"],
            }
        ),
        {"Share at one month (%)": 0, "Median dose (mg)": 0, "Lowest (mg)": 0, "Highest (mg)": 0},
    )
    sentence(
        "a3_bridge_report_note",
        f"The report's own one-month counts of bridge opioids add up to "
        f"{formats.number(report_bridge)}, the base its shares of bridge opioids fit.",
    )
    displays["fig-a3-bridge"] = bridge_chart(oc.as_numbers(bridge_shown, ["n", "denominator", "percent"]))
    return displays


def _a3_bonus(part: _Appendix3Part) -> dict:
    """Bergen's bonus doses: statistics and table."""
    page = part.page
    cohort = part.cohort
    registrations = part.registrations
    rows = part.rows
    statistic = part.statistic
    displays: dict = {}
    # the Bergen patients with and without bonus doses, and those with bonus doses by their highest weekly number,
    # protected jointly (both clinics hold the same Bergen patients); the number with bonus doses is one count in
    # both parts and is shown alike; the frequencies and doses are statistics of those patients
    bonus = bonus_doses(registrations, cohort.patients, "Bergen")

    def bonus_of(c) -> dict[str, pd.DataFrame]:
        return {"bonus": bonus_counts(c.medication, c.patients, "Bergen")}

    bonus_shown = protect_linked_blocks(
        page,
        bonus_of,
        {"bonus": {"count": "n", "groups": "part", "total": "total"}},
        same=BONUS_TIES,
    )["bonus"].set_index(["part", "cell"])
    bonus_with = bonus_shown.loc[("clinic", "with"), "n"]
    statistic("app3_bonus_patients_n", shown=bonus_with)
    statistic("app3_bonus_freq_min_per_week", of=bonus["patients"], suppress=oc.is_hidden(bonus_with))
    statistic("app3_bonus_freq_max_per_week", of=bonus["patients"], suppress=oc.is_hidden(bonus_with))
    statistic("app3_bonus_clinic_patients_n", shown=bonus_shown.loc[("clinic", "with"), "total"])
    statistic("app3_bonus_twice_weekly_n", shown=bonus_shown.loc[("weekly", "2"), "n"])
    statistic("app3_bonus_thrice_weekly_n", shown=bonus_shown.loc[("weekly", "3"), "n"])
    for key in ("app3_bonus_dose_median_mg", "app3_bonus_dose_min_mg", "app3_bonus_dose_max_mg"):
        statistic(key, of=bonus["patients"], suppress=oc.is_hidden(bonus_with))
    rows.append(oc.own_count_row("a3_bonus_once_weekly_n", bonus_shown.loc[("weekly", "1"), "n"]))
    displays["tab-a3-bonus"] = _styled(
        pd.DataFrame(
            {
                "Highest number of bonus doses a week": [1, 2, 3],
                "Patients": [bonus_shown.loc[("weekly", str(k)), "n"] for k in (1, 2, 3)],
            }
        )
    )
    return displays


def _a3_comedication(part: _Appendix3Part) -> dict:
    """Co-medication at one month and one year: statistics, table and chart (a class the report gives no
    figure for is shown only from a small count up)."""
    page = part.page
    sdc = part.sdc
    registrations = part.registrations
    rows = part.rows
    statistic = part.statistic
    share_note = part.share_note
    displays: dict = {}
    # each class is a count of the registrations with any co-medication (and any co-medication one of those where
    # it was recorded): protected jointly, a count and the rest of its base alike; the base of the classes is the
    # count of any co-medication, withheld together with it (comedication_ties)
    comed = comedication(registrations, (1, 12))
    cells = comed.set_index(["registration_month", "medication_class"])

    def comed_of(c) -> dict[str, pd.DataFrame]:
        return {"comed": comedication(c.medication, (1, 12))}

    comed_shown = protect_linked_blocks(
        page,
        comed_of,
        {"comed": {"count": "n", "groups": ["registration_month", "medication_class"], "total": "denominator"}},
        same=comedication_ties(comed),
        derived={"comed": ["percent"]},
    )["comed"]
    shown_cells = comed_shown.set_index(["registration_month", "medication_class"])
    for month, base_key in COMED_BASE_KEYS.items():
        rows.append(oc.own_count_row(base_key, shown_cells.loc[(month, "any"), "denominator"]))
        for (key_month, name), (n_key, pct_key) in COMED_KEYS.items():
            if key_month != month:
                continue
            cell, shown = cells.loc[(month, name)], shown_cells.loc[(month, name)]
            base = (
                f"registrations at {month_label(month)} with co-medication recorded"
                if name == "any"
                else f"registrations at {month_label(month)} with any co-medication"
            )
            statistic(n_key, shown=shown["n"])
            statistic(pct_key, share_note(pct_key, n_key, cell["n"], cell["denominator"], base), shown=shown["percent"])
    # classes the report gives no figures for are shown only where at least SMALL patients share them, so that a
    # diagnosis such as HIV cannot point to one or two identifiable people; a rerun applies its threshold to every class
    smallest = 3 if sdc is None else sdc
    rows.append({"key": "a3_small_cell", "value": smallest})
    rows.append(
        {
            "key": "a3_small_cell_scope",
            "value": "A class the report gives no figure for is" if sdc is None else "In this rerun, every class is",
        }
    )
    reported = comed["medication_class"].isin([name for _, name in COMED_KEYS])
    if sdc is None:
        small = ~reported & comed["n"].between(1, smallest - 1)
        text = [
            f"fewer than {smallest}" if hidden else f"{int(n)} ({p:.0f}%)"
            for n, p, hidden in zip(comed["n"], comed["percent"], small)
        ]
    else:  # what the protected table withholds: a count or its share
        small = comed_shown["n"].map(oc.is_hidden) | comed_shown["percent"].map(oc.is_hidden)
        text = [oc.count_share_text(n, p) for n, p in zip(comed_shown["n"], comed_shown["percent"])]
    wide = (
        comed.assign(text=text)
        .pivot(index=["medication_class", "label"], columns="registration_month", values="text")
        .reindex(["any", *schema.COMEDICATION_CLASSES], level=0)
    )
    displays["tab-a3-comedication"] = _styled(
        pd.DataFrame(
            {
                "Co-medication": wide.index.get_level_values("label"),
                "1 month": wide[1].to_numpy(),
                "1 year": wide[12].to_numpy(),
            }
        )
    )
    drawn = comed[~small & (comed["medication_class"] != "any")]
    displays["fig-a3-comedication"] = (
        comedication_chart(comed[~small])
        if len(drawn)
        else disclosure.placeholder_chart(
            "No class of co-medication can be shown in this edition (too few registrations)."
        )
    )
    return displays


def _cell_text(n, percent) -> str:
    """ "n (x%)" for a table cell of the published edition."""
    return f"{int(n)} ({percent:.0f}%)"


def _styled(frame: pd.DataFrame, whole_numbers: dict | None = None):
    """A table of this appendix as the book styles it (no index), ``whole_numbers`` columns written with
    :func:`analysis.presentation.formats.formatter`."""
    from analysis.presentation import formats

    style = frame.style.hide(axis="index")
    if whole_numbers:
        style = style.format({column: formats.formatter(decimals) for column, decimals in whole_numbers.items()})
    return style.set_table_attributes('class="hatbook-table"')
