"""Norway's OAT context (report section 3.2): HAT patients set against the whole OAT population.

The source is Table 3.A of the report, itself taken from the national OAT status report for 2024.
"""

from __future__ import annotations

import pandas as pd


def hat_vs_oat(table_3a: pd.DataFrame) -> pd.DataFrame:
    """One row per item and category, with the HAT and OAT percentages side by side.

    ``difference_pp`` is HAT minus OAT in percentage points. A category reported for only one group
    has no value for the other (it was not reported, not zero), so its difference is missing.
    """
    wide = table_3a.pivot_table(
        index=["item", "item_label", "category"], columns="group", values="percent", sort=False
    ).reset_index()
    wide.columns.name = None
    wide["difference_pp"] = wide["HAT"] - wide["OAT"]
    return wide


def hat_share_of_oat(table_3a: pd.DataFrame, oat_total: float) -> float:
    """Patients in HAT as a percentage of everyone in OAT (HAT included).

    The HAT count is Table 3.A's group size for HAT (the status report's count, every patient having a
    sex recorded); ``oat_total`` is the national number of people in OAT at the end of 2024.
    """
    sex = table_3a[(table_3a["item"] == "sex") & (table_3a["group"] == "HAT")]
    return 100 * float(sex["group_n"].iloc[0]) / float(oat_total)


def percent_of(table_3a: pd.DataFrame, item: str, category: str, group: str) -> float:
    """The percentage reported for one item, category and group (e.g. overdose, overdose, HAT)."""
    match = table_3a[(table_3a["item"] == item) & (table_3a["category"] == category) & (table_3a["group"] == group)]
    if len(match) != 1:
        raise KeyError(f"Table 3.A has {len(match)} rows for item={item!r}, category={category!r}, group={group!r}")
    return float(match["percent"].iloc[0])


# --- Table 3.B: the two clinics ------------------------------------------------------------------------

#: Labels of the numeric characteristics of Table 3.B, in the table's order.
CLINIC_CHARACTERISTICS = {
    "catchment_population": "Population of the catchment area",
    "oat_patients_excl_hat": "Patients in OAT, excluding HAT",
    "hat_patients": "Patients in HAT",
    "fte_staff": "Staff, full-time equivalents",
    "weekday_clinicians": "Clinicians on a weekday",
    "weekend_nurses": "Nurses at weekends",
    "weekend_support_workers": "Support workers at weekends",
    "physicians": "Physicians",
    "physician_coverage_percent": "Physician, percent of a full-time position",
    "physician_days_per_week": "Physician, days per week",
    "psychologist_coverage_percent": "Psychologist, percent of a full-time position",
    "psychologist_days_per_week": "Psychologist, days per week",
}


def clinic_value(characteristics: pd.DataFrame, clinic: str, characteristic: str, bound: str = "exact") -> float:
    """The value Table 3.B gives for one clinic and characteristic (``bound`` min/max for a printed range)."""
    match = characteristics[
        (characteristics["clinic"] == clinic)
        & (characteristics["characteristic"] == characteristic)
        & (characteristics["bound"] == bound)
    ]
    if len(match) != 1:
        raise KeyError(
            f"Table 3.B has {len(match)} rows for clinic={clinic!r}, characteristic={characteristic!r}, bound={bound!r}"
        )
    return float(match["value"].iloc[0])


def clinic_comparison(characteristics: pd.DataFrame) -> pd.DataFrame:
    """Table 3.B side by side: one row per characteristic, the Oslo and Bergen values as printed.

    A printed range (Bergen's weekday clinicians, 8-10) is written ``8–10`` in the ``Bergen`` text column
    and its midpoint is the numeric ``bergen_value``. A characteristic the report does not give for a
    clinic is empty for that clinic (not zero). ``bergen_to_oslo`` is the Bergen value (midpoint) divided
    by the Oslo value, missing where Oslo's value is missing or zero.
    """
    rows = []
    for characteristic, label in CLINIC_CHARACTERISTICS.items():
        row: dict[str, object] = {"characteristic": characteristic, "label": label}
        for clinic in ("Oslo", "Bergen"):
            part = characteristics[
                (characteristics["clinic"] == clinic) & (characteristics["characteristic"] == characteristic)
            ]
            if part.empty:
                row[clinic.lower() + "_value"], row[clinic] = float("nan"), ""
                continue
            values = part.set_index("bound")["value"].astype(float)
            if "exact" in values.index:
                number = values["exact"]
                row[clinic] = f"{number:,g}"
            else:
                number = (values["min"] + values["max"]) / 2
                row[clinic] = f"{values['min']:.0f}–{values['max']:.0f}"
            row[clinic.lower() + "_value"] = number
        rows.append(row)
    table = pd.DataFrame(rows)
    oslo = table["oslo_value"].where(table["oslo_value"] != 0)
    table["bergen_to_oslo"] = table["bergen_value"] / oslo
    return table


def clinic_ratios(characteristics: pd.DataFrame) -> pd.DataFrame:
    """Derived capacity figures per clinic, from Table 3.B.

    * ``fte_per_hat_patient``: full-time-equivalent staff divided by patients in HAT (status 31.12.2025);
    * ``hat_patients_per_100k``: patients in HAT per 100,000 inhabitants of the catchment area (2024 population);
    * ``hat_share_of_oat_percent``: patients in HAT as a percentage of patients in HAT plus patients in other
      OAT in the catchment area (OAT excluding HAT from the 2024 status report, HAT at the end of 2025, so the
      two counts are a year apart);
    * ``oat_patients_per_100k``: patients in OAT excluding HAT per 100,000 inhabitants (2024).
    """
    rows = []
    for clinic in ("Oslo", "Bergen"):
        population = clinic_value(characteristics, clinic, "catchment_population")
        oat = clinic_value(characteristics, clinic, "oat_patients_excl_hat")
        hat = clinic_value(characteristics, clinic, "hat_patients")
        fte = clinic_value(characteristics, clinic, "fte_staff")
        rows.append(
            {
                "clinic": clinic,
                "fte_per_hat_patient": fte / hat,
                "hat_patients_per_100k": hat / population * 100_000,
                "hat_share_of_oat_percent": hat / (hat + oat) * 100,
                "oat_patients_per_100k": oat / population * 100_000,
            }
        )
    return pd.DataFrame(rows)


def _minutes(clock: str) -> int:
    hours, minutes = str(clock).split(":")
    return int(hours) * 60 + int(minutes)


def opening_sessions(opening: pd.DataFrame) -> pd.DataFrame:
    """The opening hours of Table 3.B as intervals: one row per clinic and session part.

    Parts: ``morning`` (open to close), ``observation`` (after the morning close until the printed
    observation time, Oslo only), ``closed`` (the midday break, closed to patients), ``injection``
    (afternoon session for injections) and ``tablets only`` (afternoon, after injections close, until the
    tablets close). ``start`` and ``end`` are clock times, ``start_hour`` and ``end_hour`` decimal hours and
    ``hours`` the length of the part.
    """
    rows = []
    for record in opening.to_dict("records"):
        parts = [("morning", record["morning_open"], record["morning_close"])]
        observation = record.get("morning_observation_until")
        if isinstance(observation, str) and observation:
            parts.append(("observation", record["morning_close"], observation))
        parts += [
            ("closed", record["midday_closed_from"], record["midday_closed_to"]),
            ("injection", record["afternoon_injection_open"], record["afternoon_injection_close"]),
            ("tablets only", record["afternoon_injection_close"], record["afternoon_tablets_until"]),
        ]
        for part, start, end in parts:
            rows.append(
                {
                    "clinic": record["clinic"],
                    "part": part,
                    "start": start,
                    "end": end,
                    "start_hour": _minutes(start) / 60,
                    "end_hour": _minutes(end) / 60,
                    "hours": (_minutes(end) - _minutes(start)) / 60,
                }
            )
    return pd.DataFrame(rows)


def open_hours_per_day(opening: pd.DataFrame) -> pd.DataFrame:
    """Hours per day each clinic is open to patients for dosing: morning session plus afternoon session
    (injections and tablets), excluding the observation time after the morning close and the midday break."""
    sessions = opening_sessions(opening)
    dosing = sessions[sessions["part"].isin(["morning", "injection", "tablets only"])]
    return dosing.groupby("clinic", sort=False)["hours"].sum().rename("open_hours").reset_index()


def clinic_chart(characteristics: pd.DataFrame):
    """Figure for Table 3.B: one small bar chart per numeric characteristic, Oslo and Bergen side by side.

    Each panel has its own scale (the characteristics have different units); a printed range is drawn at its
    midpoint with a rule spanning the range. A characteristic not given for a clinic has no bar.
    """
    import altair as alt

    from analysis.presentation import charts

    table = characteristics.copy()
    table["label"] = table["characteristic"].map(CLINIC_CHARACTERISTICS)
    wide = table.pivot_table(index=["clinic", "label"], columns="bound", values="value", aggfunc="first").reset_index()
    wide.columns.name = None
    for bound in ("exact", "min", "max"):
        if bound not in wide:
            wide[bound] = float("nan")
    wide["value"] = wide["exact"].fillna((wide["min"] + wide["max"]) / 2)
    order = [label for label in CLINIC_CHARACTERISTICS.values() if label in set(wide["label"])]
    base = alt.Chart().encode(
        y=alt.Y("clinic:N", sort=["Oslo", "Bergen"], title=None, axis=alt.Axis(labels=False, ticks=False)),
    )
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title=None),
        color=charts.clinic_colour(),
        tooltip=["label:N", "clinic:N", alt.Tooltip("value:Q", format=",.1f"), "min:Q", "max:Q"],
    )
    ranges = base.mark_rule(color="black").encode(x="min:Q", x2="max:Q")
    return (
        alt.layer(bars, ranges, data=wide)
        .properties(width=360, height=34)
        .facet(row=alt.Row("label:N", sort=order, title=None, header=alt.Header(labelAngle=0, labelAlign="left")))
        .resolve_scale(x="independent")
    )


def opening_chart(opening: pd.DataFrame):
    """Figure for Table 3.B's opening hours: a timeline per clinic of the day's session parts."""
    import altair as alt

    sessions = opening_sessions(opening)
    parts = ["morning", "observation", "closed", "injection", "tablets only"]
    colours = ["#1b7837", "#a6dba0", "#d9d9d9", "#1f5fa8", "#9ecae1"]
    return (
        alt.Chart(sessions)
        .mark_bar(height=22)
        .encode(
            x=alt.X("start_hour:Q", title="Time of day (hours)", scale=alt.Scale(domain=[8, 17.5])),
            x2="end_hour:Q",
            y=alt.Y("clinic:N", sort=["Oslo", "Bergen"], title=None),
            color=alt.Color("part:N", sort=parts, title=None, scale=alt.Scale(domain=parts, range=colours)),
            tooltip=["clinic:N", "part:N", "start:N", "end:N"],
        )
        .properties(width=460, height=90)
    )


# --- The 2015 review of OAT outcomes in Norway ---------------------------------------------------------


def registry_value(registry: pd.DataFrame, measure: str, group: str = "in_treatment", period_start=None) -> float:
    """The value the 2015 review prints for one measure and group (``period_start`` where there are several)."""
    match = registry[(registry["measure"] == measure) & (registry["group"] == group)]
    if period_start is not None:
        match = match[match["period_start"] == period_start]
    if len(match) != 1:
        raise KeyError(f"the review table has {len(match)} rows for measure={measure!r}, group={group!r}")
    return float(match["value"].iloc[0])


def mortality_by_phase(registry: pd.DataFrame) -> pd.DataFrame:
    """All-cause mortality per year in the national registry data 1997-2003, by phase.

    One row per phase (waiting list, in treatment, after leaving): the printed percentage who died per year,
    and the same as deaths per 1,000 person-years (percent per year times 10, reading the annual percentage
    as a rate per person-year).
    """
    phases = ["waiting_list", "in_treatment", "after_leaving"]
    rows = [
        {"phase": phase, "percent_per_year": registry_value(registry, "all_cause_mortality", phase, 1997)}
        for phase in phases
    ]
    frame = pd.DataFrame(rows)
    frame["deaths_per_1000_person_years"] = frame["percent_per_year"] * 10
    return frame


def mortality_rate_ratios(registry: pd.DataFrame) -> pd.DataFrame:
    """Rate ratios between the phases of the registry data 1997-2003 (all-cause mortality per year).

    One row per comparison ``phase`` against ``reference``: ``rate_ratio`` = rate in phase / rate in
    reference; ``relative_reduction_percent`` = (1 − rate ratio) × 100 (negative for an increase);
    ``deaths_fewer_per_1000_person_years`` = (reference rate − phase rate) in deaths per 1,000 person-years.
    The comparisons: in treatment against waiting, in treatment against after leaving, after leaving
    against waiting. No intervals: the review prints neither counts of deaths nor person-years.
    """
    rates = mortality_by_phase(registry).set_index("phase")["deaths_per_1000_person_years"]
    rows = []
    for phase, reference in [
        ("in_treatment", "waiting_list"),
        ("in_treatment", "after_leaving"),
        ("after_leaving", "waiting_list"),
    ]:
        ratio = rates[phase] / rates[reference]
        rows.append(
            {
                "phase": phase,
                "reference": reference,
                "rate_ratio": ratio,
                "relative_reduction_percent": (1 - ratio) * 100,
                "deaths_fewer_per_1000_person_years": rates[reference] - rates[phase],
            }
        )
    return pd.DataFrame(rows)


#: The rows of the review's table of reductions (its only table), in its order, with labels.
REDUCTION_TABLE = [
    ("mortality", "all_cause_mortality_reduction", "Mortality, total"),
    ("mortality", "overdose_mortality_reduction", "Mortality, overdose-related"),
    ("somatic_morbidity", "morbidity_reduction", "Somatic morbidity, total"),
    ("somatic_morbidity", "substance_use_related_morbidity_reduction", "Somatic morbidity, related to substance use"),
    ("crime", "criminal_behaviour_reduction", "Criminal behaviour"),
]


def reductions(registry: pd.DataFrame) -> pd.DataFrame:
    """The review's table of reductions during OAT, with each reduction also as a ratio.

    ``reduction_percent`` is the printed reduction in treatment compared with being outside treatment;
    ``ratio_in_vs_out`` = 1 − reduction / 100, the level in treatment as a fraction of the level outside
    (a 50% reduction is a ratio of 0.5); ``fold_higher_outside`` = 1 / ratio, how many times higher the
    level is outside treatment.
    """
    rows = []
    for domain, measure, label in REDUCTION_TABLE:
        row = registry[(registry["measure"] == measure)].iloc[0]
        reduction = float(row["value"])
        rows.append(
            {
                "domain": domain,
                "outcome": label,
                "study_n": int(row["study_n"]),
                "reduction_percent": reduction,
                "ratio_in_vs_out": 1 - reduction / 100,
                "fold_higher_outside": 1 / (1 - reduction / 100),
            }
        )
    return pd.DataFrame(rows)


def convictions(registry: pd.DataFrame) -> dict[str, float]:
    """Convictions before entry to OAT, per person, from the conviction study of the 2015 review.

    ``per_person_year``: crimes leading to conviction per year (printed as a lower bound, 'more than')
    divided by the persons in the study; ``per_contributor_year``: the same divided by the persons who
    contributed convictions (the printed share of the study); ``expected_in_treatment_per_person_year``:
    ``per_person_year`` reduced by the printed reduction of all offences in treatment (an illustration
    that applies the review's reduction to the study's pre-entry rate); ``category_total_percent``: the
    sum of the printed category shares (100 when they are complete).
    """
    crimes = registry_value(registry, "convicted_crimes_per_year", "before_entry")
    persons = float(registry.loc[registry["measure"] == "convicted_crimes_per_year", "study_n"].iloc[0])
    contributing = registry_value(registry, "persons_contributing_to_convictions", "before_entry") / 100
    reduction = registry_value(registry, "all_offences_reduction", "in_treatment") / 100
    categories = registry[registry["measure"].str.startswith("crime_category_")]
    per_person = crimes / persons
    return {
        "per_person_year": per_person,
        "per_contributor_year": crimes / (persons * contributing),
        "expected_in_treatment_per_person_year": per_person * (1 - reduction),
        "category_total_percent": float(categories["value"].sum()),
    }


def methadone_deaths_before(registry: pd.DataFrame) -> float:
    """Methadone-related deaths per year in 2006-2009 implied by the review: the deaths registered in 2012
    divided by (1 + the printed percentage increase / 100)."""
    deaths = registry_value(registry, "methadone_related_deaths", "all")
    increase = registry_value(registry, "methadone_related_deaths_increase", "all")
    return deaths / (1 + increase / 100)


# --- Chapter 3: its figures, tables and charts -----------------------------------------------------------

#: Table 3.A's rows drawn in the chart of HAT against OAT: one category per characteristic, the one that says
#: most about the difference between the groups, with a short label.
TABLE_3A_CHART_ROWS = [
    ("sex", "women", "Women"),
    ("living_situation", "own home", "Living in own home"),
    ("main_activity", "unemployed", "Unemployed"),
    ("main_income", "social assistance", "Social assistance as main income"),
    ("drug_tests", "no regular drug tests", "No regular drug tests"),
    ("treatment_goal", "stabilization without requirement of abstinence", "Goal: stabilisation, no abstinence"),
    ("individual_plan", "individual plan", "Has an individual plan"),
    ("substance_use", "regular use", "Regular substance use, last 4 weeks"),
    ("overdose", "overdose", "Overdose in the last year"),
    ("patient_satisfaction", "satisfied", "Patient satisfied with treatment"),
]


def chapter_statistics(
    published: pd.DataFrame,
    table_3a: pd.DataFrame,
    table_3a_age: pd.DataFrame,
    registry: pd.DataFrame,
    characteristics: pd.DataFrame,
    opening: pd.DataFrame,
) -> pd.DataFrame:
    """Every figure chapter 3 glues, for :meth:`analysis.presentation.scorecard.Card.glue_statistics` (columns ``key``,
    ``value``), in the order the chapter states them.

    Facts the report quotes from other sources come from the ledger ``published`` as printed; HAT's share of
    all OAT patients is the status report's HAT count over the national OAT total (:func:`hat_share_of_oat`),
    and the report's bound "fewer than 1%" that share rounded up to a whole percent. The cells of the
    published Tables 3.A and 3.B are glued under the keys their ``key`` columns give. The 2015 review's
    figures are those of :func:`mortality_by_phase`, :func:`mortality_rate_ratios`, :func:`reductions`,
    :func:`convictions` and :func:`registry_value`; the clinics' ratios those of :func:`clinic_ratios` and
    :func:`open_hours_per_day` (``opening`` indexed by clinic)."""
    import math

    value = published["value"]
    hat_share = hat_share_of_oat(table_3a, value["s3_2_oat_patients_2024"])
    sex = table_3a[table_3a["item"] == "sex"]  # every patient has a sex recorded: the groups' sizes
    rows = [
        ("s3_1_oat_coverage_lower", value["s3_1_oat_coverage_lower"]),
        ("s3_1_oat_coverage_upper", value["s3_1_oat_coverage_upper"]),
        ("s3_2_oat_patients_2024", value["s3_2_oat_patients_2024"]),
        ("s3_2_hat_share_of_oat", hat_share),
        ("s3_2_hat_share_of_oat_max", math.ceil(hat_share)),
        ("table_3a_n_hat", int(sex.loc[sex["group"] == "HAT", "group_n"].iloc[0])),
        ("table_3a_n_oat", int(sex.loc[sex["group"] == "OAT", "group_n"].iloc[0])),
        ("table_3a_overdose_hat", percent_of(table_3a, "overdose", "overdose", "HAT")),
        ("table_3a_overdose_oat", percent_of(table_3a, "overdose", "overdose", "OAT")),
        ("table_3a_regular_use_hat", percent_of(table_3a, "substance_use", "regular use", "HAT")),
        ("table_3a_regular_use_oat", percent_of(table_3a, "substance_use", "regular use", "OAT")),
        (
            "table_3a_stabilisation_goal_hat",
            percent_of(table_3a, "treatment_goal", "stabilization without requirement of abstinence", "HAT"),
        ),
        (
            "table_3a_stabilisation_goal_oat",
            percent_of(table_3a, "treatment_goal", "stabilization without requirement of abstinence", "OAT"),
        ),
    ]
    # the published tables' cells, under the keys of their key columns
    group_sizes = table_3a[["key_group_n", "group_n"]].drop_duplicates()
    for table, key, column in (
        (table_3a, "key", "percent"),
        (group_sizes, "key_group_n", "group_n"),
        (table_3a_age, "key", "mean_age_years"),
    ):
        rows += list(table.dropna(subset=[key])[[key, column]].itertuples(index=False, name=None))
    rows += registry_rows(registry)
    oslo_fte, bergen_fte = (
        clinic_value(characteristics, "Oslo", "fte_staff"),
        clinic_value(characteristics, "Bergen", "fte_staff"),
    )
    rows += list(characteristics.dropna(subset=["key"])[["key", "value"]].itertuples(index=False, name=None))
    rows += [
        ("s3_3_oslo_fte_staff", oslo_fte),
        ("s3_3_bergen_fte_staff", bergen_fte),
        # restated in Recommendation 1 (chapter 8 page, glued there from this page)
        ("s8_rec1_oslo_fte_staff", oslo_fte),
        ("s8_rec1_bergen_fte_staff", bergen_fte),
    ]
    ratios = clinic_ratios(characteristics).set_index("clinic")
    hours = open_hours_per_day(opening.reset_index()).set_index("clinic")["open_hours"]
    bergen_to_oslo = clinic_comparison(characteristics).set_index("characteristic")["bergen_to_oslo"]
    rows += [
        ("table_3b_oslo_fte_per_patient", ratios.loc["Oslo", "fte_per_hat_patient"]),
        ("table_3b_oslo_hat_per_100k", ratios.loc["Oslo", "hat_patients_per_100k"]),
        ("table_3b_oslo_oat_per_100k", ratios.loc["Oslo", "oat_patients_per_100k"]),
        ("table_3b_oslo_hat_share_of_oat", ratios.loc["Oslo", "hat_share_of_oat_percent"]),
        ("table_3b_oslo_open_hours", hours["Oslo"]),
        ("table_3b_bergen_fte_per_patient", ratios.loc["Bergen", "fte_per_hat_patient"]),
        ("table_3b_bergen_hat_per_100k", ratios.loc["Bergen", "hat_patients_per_100k"]),
        ("table_3b_bergen_oat_per_100k", ratios.loc["Bergen", "oat_patients_per_100k"]),
        ("table_3b_bergen_hat_share_of_oat", ratios.loc["Bergen", "hat_share_of_oat_percent"]),
        ("table_3b_bergen_open_hours", hours["Bergen"]),
        ("table_3b_bergen_fte_relative", 100 * bergen_to_oslo["fte_staff"]),
        ("table_3b_bergen_hat_relative", 100 * bergen_to_oslo["hat_patients"]),
    ]
    return pd.DataFrame(rows, columns=["key", "value"], dtype=object)


def registry_rows(registry: pd.DataFrame) -> list[tuple[str, float]]:
    """The 2015 review's figures chapter 3 states, as (glue name, value) rows of :func:`chapter_statistics`."""
    phases = mortality_by_phase(registry).set_index("phase")
    ratios = mortality_rate_ratios(registry).set_index(["phase", "reference"])
    in_waiting, in_after = ratios.loc[("in_treatment", "waiting_list")], ratios.loc[("in_treatment", "after_leaving")]
    after_waiting = ratios.loc[("after_leaving", "waiting_list")]
    reduction = reductions(registry).set_index("outcome")
    crime = convictions(registry)
    rows = [
        ("oat2015_mortality_waiting", phases.loc["waiting_list", "percent_per_year"]),
        ("oat2015_deaths_per_1000_waiting", phases.loc["waiting_list", "deaths_per_1000_person_years"]),
        ("oat2015_mortality_in", phases.loc["in_treatment", "percent_per_year"]),
        ("oat2015_deaths_per_1000_in", phases.loc["in_treatment", "deaths_per_1000_person_years"]),
        ("oat2015_mortality_after", phases.loc["after_leaving", "percent_per_year"]),
        ("oat2015_deaths_per_1000_after", phases.loc["after_leaving", "deaths_per_1000_person_years"]),
        ("oat2015_rr_in_vs_waiting", in_waiting["rate_ratio"]),
        ("oat2015_reduction_in_vs_waiting", in_waiting["relative_reduction_percent"]),
        ("oat2015_fewer_deaths_in_vs_waiting", in_waiting["deaths_fewer_per_1000_person_years"]),
        ("oat2015_rr_in_vs_after", in_after["rate_ratio"]),
        ("oat2015_reduction_in_vs_after", in_after["relative_reduction_percent"]),
        ("oat2015_fewer_deaths_in_vs_after", in_after["deaths_fewer_per_1000_person_years"]),
        ("oat2015_rr_after_vs_waiting", after_waiting["rate_ratio"]),
        ("oat2015_reduction_after_vs_waiting", after_waiting["relative_reduction_percent"]),
        ("oat2015_fewer_deaths_after_vs_waiting", after_waiting["deaths_fewer_per_1000_person_years"]),
        ("oat2015_increase_after_vs_waiting", -after_waiting["relative_reduction_percent"]),
        ("oat2015_mortality_in_2003_2012", registry_value(registry, "all_cause_mortality", "in_treatment", 2003)),
        ("oat2015_level_all_cause", registry_value(registry, "all_cause_mortality_level_vs_outside")),
        ("oat2015_level_overdose", registry_value(registry, "overdose_mortality_level_vs_outside")),
    ]
    for outcome, (reduced, ratio, fold, persons) in {
        "Mortality, total": (
            "oat2015_mortality_reduction",
            "oat2015_mortality_ratio",
            "oat2015_mortality_fold",
            "oat2015_mortality_n",
        ),
        "Mortality, overdose-related": (
            "oat2015_overdose_mortality_reduction",
            "oat2015_overdose_mortality_ratio",
            "oat2015_overdose_mortality_fold",
            "oat2015_overdose_mortality_n",
        ),
        "Somatic morbidity, total": (
            "oat2015_morbidity_reduction",
            "oat2015_morbidity_ratio",
            "oat2015_morbidity_fold",
            "oat2015_morbidity_n",
        ),
        "Somatic morbidity, related to substance use": (
            "oat2015_substance_morbidity_reduction",
            "oat2015_substance_morbidity_ratio",
            "oat2015_substance_morbidity_fold",
            "oat2015_substance_morbidity_n",
        ),
        "Criminal behaviour": (
            "oat2015_crime_reduction",
            "oat2015_crime_ratio",
            "oat2015_crime_fold",
            "oat2015_crime_n",
        ),
    }.items():
        row = reduction.loc[outcome]
        rows += [
            (reduced, row["reduction_percent"]),
            (ratio, row["ratio_in_vs_out"]),
            (fold, row["fold_higher_outside"]),
            (persons, row["study_n"]),
        ]
    rows += [
        ("oat2015_infections_reduction", registry_value(registry, "infection_related_episodes_reduction")),
        ("oat2015_nonfatal_overdoses_reduction", registry_value(registry, "non_fatal_overdoses_reduction")),
        (
            "oat2015_leavers_fewer_admissions",
            registry_value(registry, "substance_use_hospitalisations_fewer", "in_treatment_among_leavers"),
        ),
        ("oat2015_survey_limiting_illness", registry_value(registry, "injury_or_disease_limiting_life_last_4_weeks")),
        ("oat2015_survey_overdose_last_year", registry_value(registry, "overdose_or_poisoning_last_year")),
        ("oat2015_survey_hiv", registry_value(registry, "hiv_positive")),
        ("oat2015_survey_hepatitis_c", registry_value(registry, "hepatitis_c")),
        ("oat2015_convictions_per_year", registry_value(registry, "convicted_crimes_per_year", "before_entry")),
        (
            "oat2015_conviction_study_n",
            int(registry.loc[registry.measure == "convicted_crimes_per_year", "study_n"].iloc[0]),
        ),
        (
            "oat2015_contributing_percent",
            registry_value(registry, "persons_contributing_to_convictions", "before_entry"),
        ),
        ("oat2015_convictions_per_person", crime["per_person_year"]),
        ("oat2015_convictions_per_contributor", crime["per_contributor_year"]),
        ("oat2015_convictions_in_treatment", crime["expected_in_treatment_per_person_year"]),
        ("oat2015_all_offences_reduction", registry_value(registry, "all_offences_reduction")),
        ("oat2015_crime_acquisitive", registry_value(registry, "crime_category_acquisitive", "before_entry")),
        (
            "oat2015_crime_drug_sales_and_substance_related",
            registry_value(registry, "crime_category_drug_sales_and_substance_related", "before_entry"),
        ),
        ("oat2015_crime_traffic", registry_value(registry, "crime_category_traffic", "before_entry")),
        ("oat2015_crime_violence", registry_value(registry, "crime_category_violence", "before_entry")),
        ("oat2015_crime_other", registry_value(registry, "crime_category_other", "before_entry")),
        ("oat2015_methadone_deaths_2012", registry_value(registry, "methadone_related_deaths", "all")),
        ("oat2015_methadone_increase", registry_value(registry, "methadone_related_deaths_increase", "all")),
        ("oat2015_methadone_deaths_before", methadone_deaths_before(registry)),
    ]
    return rows


def hat_vs_oat_chart(table_3a: pd.DataFrame):
    """Dots for HAT and OAT on the rows of :data:`TABLE_3A_CHART_ROWS` of Table 3.A (:func:`hat_vs_oat`), joined by a line."""
    import altair as alt

    from analysis.presentation import charts

    comparison = hat_vs_oat(table_3a)
    labels = {(item, category): label for item, category, label in TABLE_3A_CHART_ROWS}
    selected = comparison[[(i, c) in labels for i, c in zip(comparison["item"], comparison["category"])]].copy()
    selected["indicator"] = [labels[(i, c)] for i, c in zip(selected["item"], selected["category"])]
    long = selected.melt(id_vars=["indicator"], value_vars=["HAT", "OAT"], var_name="group", value_name="percent")
    order = [label for _, _, label in TABLE_3A_CHART_ROWS]
    points = (
        alt.Chart(long)
        .mark_circle(size=90, opacity=1)
        .encode(
            x=alt.X("percent:Q", title="Share of patients (%)", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("indicator:N", sort=order, title=None),
            color=alt.Color(
                "group:N",
                title=None,
                scale=alt.Scale(domain=list(charts.TREATMENT_COLOURS), range=list(charts.TREATMENT_COLOURS.values())),
            ),
            tooltip=["indicator", "group", alt.Tooltip("percent:Q", format=".1f")],
        )
    )
    links = (
        alt.Chart(long)
        .mark_rule(color="#c8c8c8")
        .encode(x="min(percent):Q", x2="max(percent):Q", y=alt.Y("indicator:N", sort=order))
    )
    return (links + points).properties(width=420, height=300)


def registry_mortality_chart(registry: pd.DataFrame):
    """Bars: deaths per 1,000 person-years waiting for OAT, in OAT and after leaving it (:func:`mortality_by_phase`)."""
    import altair as alt

    from analysis.presentation import charts

    phases = mortality_by_phase(registry).replace(
        {"phase": {"waiting_list": "Waiting for OAT", "in_treatment": "In OAT", "after_leaving": "After leaving OAT"}}
    )
    return (
        alt.Chart(phases)
        .mark_bar(color=charts.CLINIC_COLOURS["All"])
        .encode(
            x=alt.X("phase:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("deaths_per_1000_person_years:Q", title="Deaths per 1,000 person-years"),
            tooltip=["phase:N", alt.Tooltip("percent_per_year:Q", title="percent per year", format=".1f")],
        )
        .properties(width=320, height=220)
    )


def reductions_table_styled(registry: pd.DataFrame):
    """The review's table of reductions (:func:`reductions`) as the page shows it."""
    shown = (
        reductions(registry)
        .drop(columns="domain")
        .rename(
            columns={
                "outcome": "Outcome",
                "study_n": "Persons in the study",
                "reduction_percent": "Reduction in OAT (%)",
                "ratio_in_vs_out": "Level in OAT / level outside",
                "fold_higher_outside": "Times higher outside OAT",
            }
        )
    )
    return (
        shown.style.hide(axis="index")
        .format(
            {
                "Persons in the study": "{:,}",
                "Reduction in OAT (%)": "{:.0f}",
                "Level in OAT / level outside": "{:.2f}",
                "Times higher outside OAT": "{:.1f}",
            }
        )
        .set_table_attributes('class="hatbook-table"')
    )


#: The host hospital and premises of Table 3.B are words, not data; summarised from the report's table.
PREMISES = {
    "Host hospital": ("Oslo University Hospital", "Haukeland University Hospital, Addiction and Substance Use Clinic"),
    "Premises": (
        "Purpose-built building on the Ullevål campus, near the OAT clinic",
        "Own entrance in Engenhuset, city centre (first at Skuteviksklinikken)",
    ),
}


def session_hours(opening: pd.DataFrame, clinic: str) -> list[str]:
    """A clinic's morning session, midday closure and afternoon session in words (``opening`` by clinic)."""
    row = opening.loc[clinic]
    morning = f"{row.morning_open}–{row.morning_close}"
    if isinstance(row.morning_observation_until, str) and row.morning_observation_until:
        morning += f", observation until {row.morning_observation_until}"
    return [
        morning,
        f"{row.midday_closed_from}–{row.midday_closed_to}, closed to patients",
        f"{row.afternoon_injection_open}–{row.afternoon_injection_close} for injection; tablets until {row.afternoon_tablets_until}",
    ]


def table_3b(characteristics: pd.DataFrame, opening: pd.DataFrame) -> pd.DataFrame:
    """Table 3.B as the page shows it: the clinics side by side (``opening`` indexed by clinic), from opening
    month and premises through sessions, staff and the figures of :func:`clinic_comparison`."""
    clinics = ("Oslo", "Bergen")
    rows = [("Opened", *(pd.Period(opening.loc[c, "opening_date"], "M").strftime("%B %Y") for c in clinics))]
    rows += [(name, *values) for name, values in PREMISES.items()]
    rows += [
        (part, o, b)
        for part, o, b in zip(
            ["Morning session", "Midday", "Afternoon session"],
            session_hours(opening, "Oslo"),
            session_hours(opening, "Bergen"),
        )
    ]
    rows += [("Weekday team", *(opening.loc[c, "weekday_staff_roles"].capitalize() for c in clinics))]
    rows += [(r.label, r.Oslo or "–", r.Bergen or "–") for r in clinic_comparison(characteristics).itertuples()]
    rows += [
        (
            "Physician on call at weekends",
            *("yes" if opening.loc[c, "physician_on_call_weekends"] else "no" for c in clinics),
        )
    ]
    oslo_psychologist = opening.loc["Oslo", "psychologist_note"]
    rows += [("Psychologist", "None; " + oslo_psychologist.replace("referral", "patients referred"), "In the clinic")]
    return pd.DataFrame(rows, columns=["Characteristic", "Oslo (HABiO)", "Bergen (HABiB)"])
