"""Medication registrations (Appendix 3): DAM schedule, routes and doses, bridge opioids, bonus doses, co-medication.

Every function takes the tidy ``medication`` table of :class:`analysis.cohort.Cohort` (one row per
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

import altair as alt
import pandas as pd

from analysis import charts, schema

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
    index = pd.MultiIndex.from_product([sorted(frame["registration_month"].unique()), list(categories)], names=["registration_month", name])
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
    return {"n": int(len(values)), "patients": patients, "median": float(values.median()), "min": float(values.min()), "max": float(values.max())}


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
            rows.append({"route": route, "time": time, **_summary(values, pd.concat([ids, ids]) if time == "both" else ids)})
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
        rows.append({"bridge_opioid": opioid, "label": BRIDGE_LABELS[opioid], **_summary(given["bridge_dose_mg"], given["patient_id"])})
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
        rows.append({"registration_month": month, "medication_class": "any", "label": "Any co-medication",
                     "n": len(with_any), "denominator": len(known)})
        for name in schema.COMEDICATION_CLASSES:
            n = int(_true(with_any[f"comedication_{name}"]).sum())
            rows.append({"registration_month": month, "medication_class": name, "label": COMEDICATION_LABELS[name],
                         "n": n, "denominator": len(with_any)})
    frame = pd.DataFrame(rows)
    frame["percent"] = [_percent(n, d) for n, d in zip(frame["n"], frame["denominator"])]
    return frame


def consistent_denominators(count: float, percent: float, precision: float, largest: int = 10_000) -> tuple[int, int] | None:
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


def denominator_note(printed_percent: str, percent: float, precision: float, count: float,
                     computed_n: int, computed_denominator: int, base: str) -> str:
    """Why a computed share differs from a printed one, in one sentence built from the numbers.

    States which denominators the report's printed ``percent`` and ``count`` allow
    (:func:`consistent_denominators`) and the count and denominator this edition computed, with
    ``base`` naming the denominator ("registrations at one month with a route recorded").
    """
    fits = consistent_denominators(count, percent, precision)
    allowed = (
        f"fits a base of {fits[0]}" + (f" to {fits[1]}" if fits[1] != fits[0] else "")
        if fits else "fits no whole base"
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
            rows.append((f"app3_route_{route_key}_{month_key}_pct", cell["percent"] if cell is not None else float("nan")))
            rows.append((f"app3_route_{route_key}_{month_key}_n", cell["n"] if cell is not None else 0))
    changes = route_changes(medication).set_index("registration_month")
    for month, key in ((1, "1m"), (3, "next3m")):
        rows.append((f"app3_route_switch_{key}_pct", changes.loc[month, "percent"] if month in changes.index else float("nan")))
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
        name, month = _COMED_KEYS[row.medication_class], _MONTH_KEYS[row.registration_month]
        rows.append((f"app3_comed_{name}_{month}_pct", row.percent))
        rows.append((f"app3_comed_{name}_{month}_n", row.n))
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
            color=alt.Color("Route:N", scale=alt.Scale(domain=list(ROUTE_COLOURS), range=list(ROUTE_COLOURS.values())), title=None),
            order=alt.Order("route_order:Q"),
            tooltip=["month", "Route", "n", "denominator", alt.Tooltip("percent:Q", format=".1f")],
        )
        .transform_calculate(route_order="indexof(['Intravenous', 'Intramuscular', 'Oral (tablets)'], datum.Route)")
        .properties(width=520, height=280)
    )


def bridge_chart(bridge: pd.DataFrame) -> alt.Chart:
    """Horizontal bars: bridge opioids at one month (frame of :func:`bridge_opioids`), largest first."""
    tooltip = ["label", "n", "denominator", alt.Tooltip("percent:Q", format=".1f")]
    return charts.ranked_bars(bridge, "percent", "label", "Share of registrations at one month (%)", tooltip, height=190)


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
            color=alt.Color("Registration:N", sort=months, scale=alt.Scale(domain=months, range=["#8fb3de", "#1f5fa8"][: len(months)]), title=None),
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


def bonus_counts(medication: pd.DataFrame, patients: pd.DataFrame, clinic: str = "Bergen", most: int = 3) -> pd.DataFrame:
    """The counts of :func:`bonus_doses` as one table with fixed rows: part "clinic" (the clinic's patients with
    and without bonus doses, adding up to the clinic's patients in ``total``) and part "weekly" (the patients
    with bonus doses by their highest number a week, 1 to ``most``, the last one counting ``most`` or more,
    adding up to the patients with bonus doses in ``total``)."""
    bonus = bonus_doses(medication, patients, clinic)
    with_bonus, everyone = int(bonus["patients"]), int(bonus["clinic_patients"])
    weekly = {k: int(v) for k, v in bonus["by_max_per_week"].items()}
    rows = [{"part": "clinic", "cell": "with", "n": with_bonus, "total": everyone},
            {"part": "clinic", "cell": "without", "n": everyone - with_bonus, "total": everyone}]
    for k in range(1, most + 1):
        n = weekly.get(k, 0) if k < most else sum(v for w, v in weekly.items() if w >= most)
        rows.append({"part": "weekly", "cell": str(k), "n": n, "total": with_bonus})
    return pd.DataFrame(rows, columns=["part", "cell", "n", "total"])


def tie_class_base(shown: pd.DataFrame) -> pd.DataFrame:
    """A protected :func:`comedication` table whose classes' base is one number with the count of any
    co-medication of the same month: where either is withheld, both are (the count, the classes' base and
    every share resting on it), so that neither gives the other away."""
    from analysis import disclosure

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
    order: the table :func:`analysis.linked_suppression.protect_linked` protects, each month's count on its own."""
    frame = substitutions(medication).set_index("registration_month")["n"]
    every = sorted(set(int(m) for m in months))
    return pd.DataFrame({"registration_month": every, "n": [int(frame.get(m, 0)) for m in every]})


def comedication_ties(table: pd.DataFrame, name: str = "comed") -> list[tuple]:
    """The ``same`` relations of :func:`analysis.linked_suppression.joint_patterns` for a :func:`comedication`
    table protected with ``groups=["registration_month", "medication_class"]`` and ``total="denominator"``: the
    base of each class is the count of any co-medication of the same month, one quantity for the reader."""
    ties = []
    for position, row in enumerate(table.itertuples(index=False)):
        if row.medication_class == "any":
            month = row.registration_month
            ties += [((name, "cell", position), (name, "total", (other.registration_month, other.medication_class)))
                     for other in table.itertuples(index=False)
                     if other.registration_month == month and other.medication_class != "any"]
    return ties


#: The ``same`` relation of :func:`bonus_counts` (block name ``"bonus"``, ``groups="part"``, ``total="total"``): the
#: patients with bonus doses are the clinic's "with" cell and the total of the weekly part.
BONUS_TIES = [(("bonus", "cell", 0), ("bonus", "total", ("weekly",)))]
