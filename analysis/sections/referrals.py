"""Referrals to the HAT clinics (section 6.6 and Appendix 5, Supplementary Tables E-H).

Every function takes the ``referrals`` table of :class:`analysis.data.cohort.Cohort` (one row per referral
received by a clinic; see :data:`analysis.data.schema.REFERRALS`) and returns a tidy frame or plain numbers.
The unit of every count is a *referral*: a person referred twice counts twice, as in the report's
tables. Distinct persons are counted only where a statistic says so (``person_id``).

Definitions used throughout:

* a referral is *included* when its decision is ``accepted`` and *not included* when it is ``denied``;
* the *first year* is the calendar year of the earliest referral in the data (2022 in the report);
* a *yearly denial rate* is the denials of a calendar year divided by the referrals of that year;
* a *valid percent* of a denial reason is its count divided by the denials of the same clinic;
* the *standard error* of a mean age is the sample standard deviation (n - 1) divided by sqrt(n).

Privacy: the tables and charts hold aggregates only (counts of referrals and statistics of groups),
never a row of the register; on real data the same functions return the same aggregates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import altair as alt
import pandas as pd

from analysis.data import schema
from analysis.presentation import charts, disclosure, formats

#: Column groups of the report's tables: both clinics, then Bergen (HABiB), then Oslo (HABiO).
CLINIC_ORDER = ("all", "Bergen", "Oslo")
#: How the published tables name the whole period (the total line of Supplementary Table F).
PUBLISHED_PERIOD = "2022-2025"
CLINIC_HEADINGS = {"all": "HAT total", "Bergen": "HABiB (Bergen)", "Oslo": "HABiO (Oslo)"}

#: Row labels of Supplementary Table G, as the report prints them.
REFERRER_LABELS = {
    "specialist_addiction_other_trust": "Specialist health services - addiction (incl. OAT) – Another Health Trust",
    "specialist_addiction_excl_oat": "Specialist health services addiction (excl. OAT)",
    "specialist_oat": "Specialist health services OAT",
    "specialist_physician_at_hat": "Specialist health services, physician at HAT",
    "specialist_psychiatric": "Specialist health services psychiatric department (incl PSYCH in prison)",
    "specialist_somatic": "Specialist health services somatic department",
    "ambulatory_psychiatry": "Ambulatory services psychiatry (FACT, APAS)",
    "municipal_addiction": "Municipal Addiction Services",
    "low_threshold_oat": "Low-threshold OAT (LAR, LASSO)",
    "low_threshold_addiction": "Low-threshold Addiction Service (municipal, private/NGO)",
    "primary_care_physician": "Primary care physician",
    "nav": "Norwegian Labor and Welfare Administration",
    "user_organization": "User Organization (FHN)",
    "self_referral": "Patient self-referral",
}
#: Row labels of Supplementary Table H, as the report prints them.
REASON_LABELS = {
    "other_treatment_more_suitable": "Other treatment more suitable (OAT)",
    "severe_mental_disorder": "Severe mental disorder",
    "risk_of_violence": "Risk of violence",
    "severe_somatic_disorder": "Severe somatic disorder",
    "not_in_target_group": "Not in the target group (low heroin use, inhalation, young age, pain management, another health trust)",
    "new_medications_in_oat": "Medicinal Reason -> New medications in OAT",
    "other": "Other",
    "not_attended_assessment": "Not attended for assessment interview",
    "reduced_cognitive_function": "Reduced cognitive function",
    "patient_own_request": "Patient's own request (OAT, addiction)",
    "admission_pause": "Admission pauses",
    "risk_of_violence_and_severe_mental_disorder": "Risk of violence and Severe mental disorder",
    "not_able_to_attend": "Considered not to be able to attend HAT (physically or mentally)",
}
#: Short labels for the charts.
REFERRER_SHORT = {
    "specialist_addiction_other_trust": "Addiction services, other health trust",
    "specialist_addiction_excl_oat": "Addiction services (not OAT)",
    "specialist_oat": "OAT, specialist services",
    "specialist_physician_at_hat": "Physician at HAT",
    "specialist_psychiatric": "Psychiatric department",
    "specialist_somatic": "Somatic department",
    "ambulatory_psychiatry": "Ambulatory psychiatry",
    "municipal_addiction": "Municipal addiction services",
    "low_threshold_oat": "Low-threshold OAT",
    "low_threshold_addiction": "Low-threshold addiction services",
    "primary_care_physician": "Primary care physician",
    "nav": "Labour and Welfare Administration",
    "user_organization": "User organisation",
    "self_referral": "Self-referral",
}
REASON_SHORT = {
    "other_treatment_more_suitable": "Other treatment more suitable",
    "severe_mental_disorder": "Severe mental disorder",
    "risk_of_violence": "Risk of violence",
    "severe_somatic_disorder": "Severe somatic disorder",
    "not_in_target_group": "Not in the target group",
    "new_medications_in_oat": "New medications in OAT",
    "other": "Other",
    "not_attended_assessment": "Did not attend assessment",
    "reduced_cognitive_function": "Reduced cognitive function",
    "patient_own_request": "Patient's own request",
    "admission_pause": "Admission pause",
    "risk_of_violence_and_severe_mental_disorder": "Violence risk and mental disorder",
    "not_able_to_attend": "Not able to attend HAT",
}


def _by_clinic(referrals: pd.DataFrame):
    """(clinic, rows) for both clinics together ("all"), then Bergen, then Oslo."""
    for clinic in CLINIC_ORDER:
        yield clinic, referrals if clinic == "all" else referrals[referrals["clinic"] == clinic]


def _percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else float("nan")


# --- counts ---------------------------------------------------------------------------------------


def referral_counts(referrals: pd.DataFrame) -> dict[str, int]:
    """Referrals, distinct persons referred (``person_id``), and persons with 2 and with 3+ referrals.

    Also the referrals per clinic (``referrals_oslo``, ``referrals_bergen``). A person referred to
    both clinics is one person.
    """
    per_person = referrals.groupby("person_id").size()
    return {
        "referrals": int(len(referrals)),
        "persons": int(per_person.size),
        "persons_two_referrals": int((per_person == 2).sum()),
        "persons_three_plus_referrals": int((per_person >= 3).sum()),
        "referrals_oslo": int((referrals["clinic"] == "Oslo").sum()),
        "referrals_bergen": int((referrals["clinic"] == "Bergen").sum()),
    }


def referral_years(referrals: pd.DataFrame) -> int:
    """Number of calendar years the referral data cover: from the year of the first referral date to
    the year of the last, both included (2022 to 2025 is four years)."""
    years = pd.to_datetime(referrals["referral_date"]).dt.year
    return int(years.max() - years.min() + 1) if len(years) else 0


# --- Supplementary Table E -------------------------------------------------------------------------


def _group_rows(group: pd.DataFrame, *, with_type_and_inclusion: bool) -> list[tuple[str, str, float]]:
    """(variable, statistic, value) rows of one column group of Supplementary Table E."""
    n = len(group)
    age = group["age"].astype(float)
    se = age.std(ddof=1) / math.sqrt(n) if n > 1 else float("nan")
    male = int((group["sex"] == "male").sum())
    rows = [
        ("referrals", "n", n),
        ("age", "mean", age.mean() if n else float("nan")),
        ("age", "se", se),
        ("age", "min", age.min() if n else float("nan")),
        ("age", "max", age.max() if n else float("nan")),
        ("sex_male", "n", male),
        ("sex_male", "percent", _percent(male, n)),
    ]
    if with_type_and_inclusion:
        secondary = int((group["referral_type"] == "secondary").sum())
        denied = int((group["decision"] == "denied").sum())
        rows += [
            ("secondary_referral", "n", secondary),
            ("secondary_referral", "percent", _percent(secondary, n)),
            ("not_included", "n", denied),
            ("not_included", "percent", _percent(denied, n)),
        ]
    return rows


def table_e(referrals: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table E: age, sex, type of referral and inclusion, as a long tidy frame.

    Columns ``panel``, ``clinic``, ``inclusion``, ``variable``, ``statistic``, ``value`` (the
    identifiers of ``data/published/supp_table_e_referrals_by_clinic.csv``). Panel ``clinic``: all
    referrals, Bergen and Oslo, each with n, age (mean, standard error of the mean = sample SD /
    sqrt(n), min, max), males n and %, secondary referrals n and %, not included (denied) n and %.
    Panel ``inclusion`` (both clinics): all referrals (``total``), ``included`` (accepted) and
    ``not_included`` (denied), each with n, age and males. Percentages are of the group's referrals.
    """
    rows = []
    for clinic, group in _by_clinic(referrals):
        for variable, statistic, value in _group_rows(group, with_type_and_inclusion=True):
            rows.append(("clinic", clinic, "all", variable, statistic, value))
    groups = {
        "total": referrals,
        "included": referrals[referrals["decision"] == "accepted"],
        "not_included": referrals[referrals["decision"] == "denied"],
    }
    for inclusion, group in groups.items():
        for variable, statistic, value in _group_rows(group, with_type_and_inclusion=False):
            rows.append(("inclusion", "all", inclusion, variable, statistic, value))
    frame = pd.DataFrame(rows, columns=["panel", "clinic", "inclusion", "variable", "statistic", "value"])
    frame["value"] = frame["value"].astype(float)
    return frame


# --- Supplementary Table F -------------------------------------------------------------------------


def table_f(referrals: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table F: referrals and denials per calendar year of the referral date.

    One row per year (``category`` = ``year``) and one for the whole period (``category`` =
    ``total``, ``year`` = ``"<first>-<last>"``); ``year`` is text. Columns: ``n_referrals``,
    ``percent_of_total_referrals`` (the year's referrals / all referrals), ``n_denials``,
    ``denial_rate_percent`` (the year's denials / the year's referrals), ``percent_of_total_denials``
    (the year's denials / all denials). Every year from the first to the last is listed, also one
    without referrals.
    """
    year = pd.to_datetime(referrals["referral_date"]).dt.year
    denied = referrals["decision"] == "denied"
    first, last = (int(year.min()), int(year.max())) if len(year) else (0, -1)
    years = list(range(first, last + 1))
    n_referrals = year.value_counts().reindex(years, fill_value=0)
    n_denials = year[denied].value_counts().reindex(years, fill_value=0)
    total_referrals, total_denials = int(n_referrals.sum()), int(n_denials.sum())
    rows = [
        {
            "year": str(y),
            "category": "year",
            "clinic": "all",
            "n_referrals": int(n_referrals[y]),
            "percent_of_total_referrals": _percent(n_referrals[y], total_referrals),
            "n_denials": int(n_denials[y]),
            "denial_rate_percent": _percent(n_denials[y], n_referrals[y]),
            "percent_of_total_denials": _percent(n_denials[y], total_denials),
        }
        for y in years
    ]
    rows.append(
        {
            "year": f"{first}-{last}",
            "category": "total",
            "clinic": "all",
            "n_referrals": total_referrals,
            "percent_of_total_referrals": _percent(total_referrals, total_referrals),
            "n_denials": total_denials,
            "denial_rate_percent": _percent(total_denials, total_referrals),
            "percent_of_total_denials": _percent(total_denials, total_denials),
        }
    )
    return pd.DataFrame(rows)


def yearly_by_clinic(referrals: pd.DataFrame) -> pd.DataFrame:
    """Referrals and denials per calendar year and clinic, long: ``year``, ``clinic``, ``measure``
    (``referrals`` or ``denials``), ``n``. Years without any referral at a clinic have n = 0."""
    frame = referrals.assign(year=pd.to_datetime(referrals["referral_date"]).dt.year)
    years = range(int(frame["year"].min()), int(frame["year"].max()) + 1) if len(frame) else []
    index = pd.MultiIndex.from_product([list(years), list(schema.CLINICS)], names=["year", "clinic"])
    counts = pd.DataFrame(
        {
            "referrals": frame.groupby(["year", "clinic"]).size().reindex(index, fill_value=0),
            "denials": frame[frame["decision"] == "denied"]
            .groupby(["year", "clinic"])
            .size()
            .reindex(index, fill_value=0),
        }
    ).reset_index()
    long = counts.melt(id_vars=["year", "clinic"], var_name="measure", value_name="n")
    long["n"] = long["n"].astype(int)
    return long


# --- Supplementary Tables G and H -------------------------------------------------------------------


def _category_table(frame: pd.DataFrame, column: str, categories, count_name: str, percent_name: str) -> pd.DataFrame:
    rows = []
    for clinic, group in _by_clinic(frame):
        total = len(group)
        counts = group[column].value_counts()
        for category in categories:
            n = int(counts.get(category, 0))
            rows.append(
                {
                    "clinic": clinic,
                    column: category,
                    "category": column,
                    count_name: n,
                    percent_name: _percent(n, total),
                }
            )
        rows.append(
            {
                "clinic": clinic,
                column: "total",
                "category": "total",
                count_name: total,
                percent_name: _percent(total, total),
            }
        )
    return pd.DataFrame(rows)


def table_g(referrals: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table G: referrals by referrer, for both clinics (``all``), Bergen and Oslo.

    One row per clinic and referrer (every referrer of :data:`analysis.data.schema.REFERRERS`, also those
    with no referral) plus a ``total`` row per clinic. ``category`` is ``referrer`` or ``total``;
    ``n_referrals``; ``percent`` = n / the clinic's referrals.
    """
    return _category_table(referrals, "referrer", schema.REFERRERS, "n_referrals", "percent")


def table_h(referrals: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table H: denied referrals by reason for denial, for both clinics, Bergen and Oslo.

    One row per clinic and reason (every reason of :data:`analysis.data.schema.DENIAL_REASONS`) plus a
    ``total`` row per clinic. ``category`` is ``reason`` or ``total``; ``n_denials``;
    ``valid_percent`` = n / the clinic's denials (the report's "valid %").
    """
    denied = referrals[referrals["decision"] == "denied"].rename(columns={"denial_reason": "reason"})
    return _category_table(denied, "reason", schema.DENIAL_REASONS, "n_denials", "valid_percent")


# --- figures quoted in the text ---------------------------------------------------------------------


def text_figures(referrals: pd.DataFrame) -> pd.DataFrame:
    """The figures the text of 6.6 and Appendix 5 quotes, long: ``item``, ``clinic``, ``value``.

    Items (names as in ``data/published/text_6_6_process.csv``): ``referral_period`` (calendar years
    of referral data), ``referrals``, ``referred_patients`` (distinct persons),
    ``patients_two_referrals``, ``patients_three_plus_referrals``; per clinic and overall:
    ``male_percent`` and ``mean_age`` (of referrals), ``secondary_percent``, ``denied_percent``,
    ``referrer_oat_percent`` (specialist OAT services), ``referrer_nav_percent``,
    ``referrer_low_threshold_percent`` (low-threshold addiction services), ``referrer_gp_percent``,
    ``denial_<reason>_percent`` (of the clinic's denials); overall only: ``denied_mean_age``,
    ``denied_male_percent`` (of denied referrals), ``first_year_referrals_percent`` and
    ``first_year_denials_percent`` (the first calendar year's share of all referrals / denials),
    ``annual_denial_rate_average`` (denials / referrals over the whole period, the total row of
    Table F; the unweighted mean of the yearly rates is not used), ``annual_denial_rate_min`` and
    ``_max`` (lowest and highest yearly rate), ``admission_pause_first_year_percent`` (share of
    admission-pause denials in the first calendar year).
    """
    counts = referral_counts(referrals)
    rows: list[tuple[str, str, float]] = [
        ("referral_period", "all", referral_years(referrals)),
        ("referrals", "all", counts["referrals"]),
        ("referred_patients", "all", counts["persons"]),
        ("referrals", "Oslo", counts["referrals_oslo"]),
        ("referrals", "Bergen", counts["referrals_bergen"]),
        ("patients_two_referrals", "all", counts["persons_two_referrals"]),
        ("patients_three_plus_referrals", "all", counts["persons_three_plus_referrals"]),
    ]
    e = table_e(referrals)
    clinic_panel = e[e["panel"] == "clinic"].set_index(["clinic", "variable", "statistic"])["value"]
    g = table_g(referrals).set_index(["clinic", "referrer"])["percent"]
    h = table_h(referrals).set_index(["clinic", "reason"])["valid_percent"]
    reasons = {
        "admission_pause": "denial_admission_pause_percent",
        "not_in_target_group": "denial_not_target_group_percent",
        "other_treatment_more_suitable": "denial_other_treatment_percent",
        "risk_of_violence": "denial_risk_of_violence_percent",
        "new_medications_in_oat": "denial_new_medications_percent",
    }
    referrers = {
        "specialist_oat": "referrer_oat_percent",
        "nav": "referrer_nav_percent",
        "low_threshold_addiction": "referrer_low_threshold_percent",
        "primary_care_physician": "referrer_gp_percent",
    }
    for clinic in CLINIC_ORDER:
        rows += [
            ("male_percent", clinic, clinic_panel[(clinic, "sex_male", "percent")]),
            ("mean_age", clinic, clinic_panel[(clinic, "age", "mean")]),
            ("secondary_percent", clinic, clinic_panel[(clinic, "secondary_referral", "percent")]),
            ("denied_percent", clinic, clinic_panel[(clinic, "not_included", "percent")]),
        ]
        rows += [(item, clinic, g[(clinic, referrer)]) for referrer, item in referrers.items()]
        rows += [(item, clinic, h[(clinic, reason)]) for reason, item in reasons.items()]
    inclusion = e[e["panel"] == "inclusion"].set_index(["inclusion", "variable", "statistic"])["value"]
    rows += [
        ("denied_mean_age", "all", inclusion[("not_included", "age", "mean")]),
        ("denied_male_percent", "all", inclusion[("not_included", "sex_male", "percent")]),
    ]
    f = table_f(referrals)
    yearly = f[f["category"] == "year"]
    total = f[f["category"] == "total"].iloc[0]
    first = yearly.iloc[0]
    rates = yearly["denial_rate_percent"].dropna()
    rows += [
        ("first_year_referrals_percent", "all", first["percent_of_total_referrals"]),
        ("first_year_denials_percent", "all", first["percent_of_total_denials"]),
        ("annual_denial_rate_average", "all", total["denial_rate_percent"]),
        ("annual_denial_rate_min", "all", rates.min()),
        ("annual_denial_rate_max", "all", rates.max()),
    ]
    pauses = referrals[referrals["denial_reason"] == "admission_pause"]
    pause_years = pd.to_datetime(pauses["referral_date"]).dt.year
    first_year = int(first["year"])
    rows.append(
        ("admission_pause_first_year_percent", "all", _percent(int((pause_years == first_year).sum()), len(pauses)))
    )
    frame = pd.DataFrame(rows, columns=["item", "clinic", "value"])
    frame["value"] = frame["value"].astype(float)
    return frame


# --- matching computed cells to the ledger keys of the published tables ----------------------------


def published_cells(published: pd.DataFrame) -> pd.DataFrame:
    """A published tidy table (``data/published/*.csv``) as one row per printed number.

    Every column whose name starts with ``key`` names the ledger key of a value column: ``key`` goes
    with ``value``, ``key_<name>`` with ``<name>``. Returns the identifying columns (all others), then
    ``measure`` (the value column's name), ``published`` and ``key``; cells the report leaves empty
    (no key) are dropped.
    """
    key_columns = [c for c in published.columns if c.startswith("key")]
    value_of = {c: ("value" if c == "key" else c.removeprefix("key_")) for c in key_columns}
    ids = [c for c in published.columns if c not in key_columns and c not in value_of.values()]
    parts = [
        published[ids + [value, key]].rename(columns={value: "published", key: "key"}).assign(measure=value)
        for key, value in value_of.items()
    ]
    cells = pd.concat(parts, ignore_index=True).dropna(subset=["key"])
    return cells[ids + ["measure", "published", "key"]]


def attach_keys(computed: pd.DataFrame, published: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Match the cells of a computed table to the ledger keys of the same table as published.

    ``computed`` has the published table's identifying columns ``on`` and its value columns (a long
    table has one ``value`` column). Returns one row per published cell: ``on``, ``measure``,
    ``key``, ``published`` and ``value`` (computed; missing when the computed table has no such cell).
    Computed cells the report leaves empty get no key and are not returned.
    """
    cells = published_cells(published)
    measures = cells["measure"].unique().tolist()
    long = computed[on + measures].melt(id_vars=on, value_vars=measures, var_name="measure", value_name="_computed")
    long = long.rename(columns={"_computed": "value"})
    left = cells.copy()
    for column in on:  # compare identifiers as text: "2022" in one file may be 2022 in the other
        left[column] = left[column].astype(str)
        long[column] = long[column].astype(str)
    matched = left.merge(long, on=on + ["measure"], how="left", validate="one_to_one")
    return matched[on + ["measure", "key", "published", "value"]]


def header_counts(referrals: pd.DataFrame) -> pd.DataFrame:
    """The counts the report prints in the column headers of Supplementary Tables F-H ("HABiB (n=100)",
    "HABiO denials: 71/180"), under their ledger keys: ``key``, ``value``.

    Table F: all referrals and all denials; Table G: referrals per clinic (``all``, Bergen, Oslo);
    Table H: denials and referrals per clinic.
    """
    rows = []
    denied = referrals["decision"] == "denied"
    rows.append(("stf_header_referrals_n", len(referrals)))
    rows.append(("stf_header_denials_n", int(denied.sum())))
    for clinic, group in _by_clinic(referrals):
        keys = HEADER_KEYS[clinic]
        rows.append((keys["g_referrals"], len(group)))
        rows.append((keys["h_denials"], int((group["decision"] == "denied").sum())))
        rows.append((keys["h_referrals"], len(group)))
    return pd.DataFrame(rows, columns=["key", "value"])


#: The ledger keys of the counts in the column headings of Tables G and H, per clinic column.
HEADER_KEYS = {
    "all": {
        "g_referrals": "stg_header_all_referrals_n",
        "h_denials": "sth_header_all_denials_n",
        "h_referrals": "sth_header_all_referrals_n",
    },
    "Bergen": {
        "g_referrals": "stg_header_bergen_referrals_n",
        "h_denials": "sth_header_bergen_denials_n",
        "h_referrals": "sth_header_bergen_referrals_n",
    },
    "Oslo": {
        "g_referrals": "stg_header_oslo_referrals_n",
        "h_denials": "sth_header_oslo_denials_n",
        "h_referrals": "sth_header_oslo_referrals_n",
    },
}


def attach_text_keys(figures: pd.DataFrame, published_text: pd.DataFrame) -> pd.DataFrame:
    """Ledger keys for the text figures: ``published_text`` is ``text_6_6_process`` or
    ``text_app5_referrals`` (columns ``item``, ``clinic``, ``key``). Items printed twice under a
    ``mf_``/``mp_`` prefix (main findings, main points) take the value of the item without it."""
    wanted = published_text[["item", "clinic", "key", "value"]].rename(columns={"value": "published"})
    wanted = wanted.assign(base=wanted["item"].str.replace(r"^(mf|mp)_", "", regex=True))
    merged = wanted.merge(
        figures.rename(columns={"item": "base"}), on=["base", "clinic"], how="left", validate="many_to_one"
    )
    return merged[["item", "clinic", "key", "published", "value"]]


# --- layout like the report -------------------------------------------------------------------------


def _number(value, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.{decimals}f}"


def layout_e(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Supplementary Table E as the report lays it out: two display frames (by clinic; by inclusion).

    Rows: age (mean, SE [min-max]), males, secondary referrals, not included; columns: one group of
    two per clinic or inclusion group, headed with its n.
    """

    def panel(rows: pd.DataFrame, column: str, order, headings, variables) -> pd.DataFrame:
        value = rows.set_index([column, "variable", "statistic"])["value"]
        data = {}
        for group in order:
            n = int(value[(group, "referrals", "n")])
            head = f"{headings[group]} (n={n})"
            first = [f"{_number(value[(group, 'age', 'mean')], 2)}"]
            second = [
                f"{_number(value[(group, 'age', 'se')], 3)} "
                f"[{_number(value[(group, 'age', 'min')])}-{_number(value[(group, 'age', 'max')])}]"
            ]
            if n == 0:  # a group without referrals has no age to describe
                first, second = ["n/a"], ["n/a"]
            for variable, _ in variables:
                first.append(_number(value[(group, variable, "n")]))
                second.append(_number(value[(group, variable, "percent")], 1))
            data[(head, "Mean / n")] = first
            data[(head, "SE [range] / %")] = second
        index = ["Age (years)"] + [label for _, label in variables]
        frame = pd.DataFrame(data)
        frame.columns = pd.MultiIndex.from_tuples(frame.columns)
        frame.insert(0, ("", ""), index)
        return frame

    clinic_rows = table[table["panel"] == "clinic"]
    by_clinic = panel(
        clinic_rows,
        "clinic",
        CLINIC_ORDER,
        CLINIC_HEADINGS,
        [
            ("sex_male", "Sex (male)"),
            ("secondary_referral", "Type of referral (secondary)"),
            ("not_included", "Included (no)"),
        ],
    )
    inclusion_rows = table[table["panel"] == "inclusion"]
    by_inclusion = panel(
        inclusion_rows,
        "inclusion",
        ("total", "included", "not_included"),
        {"total": "HAT total", "included": "Included", "not_included": "Not included"},
        [("sex_male", "Sex (male)")],
    )
    return by_clinic, by_inclusion


def layout_f(table: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table F as the report lays it out: one line per year and a total line."""
    frame = pd.DataFrame(
        {
            "Year": [_total_label(y) if c == "total" else y for y, c in zip(table["year"], table["category"])],
            "Referrals (n)": table["n_referrals"].map(_number),
            "Share of all referrals (%)": table["percent_of_total_referrals"].map(lambda v: _number(v, 1)),
            "Denials (n)": table["n_denials"].map(_number),
            "Yearly denial rate (%)": table["denial_rate_percent"].map(lambda v: _number(v, 1)),
            "Share of all denials (%)": table["percent_of_total_denials"].map(lambda v: _number(v, 1)),
        }
    )
    return frame


def _layout_categories(
    table: pd.DataFrame, column: str, labels: dict, count: str, percent: str, headings: dict
) -> pd.DataFrame:
    value = table.set_index(["clinic", column])
    order = list(labels) + ["total"]
    data = {("", ""): [labels.get(c, "Total") for c in order]}
    for clinic in CLINIC_ORDER:
        head = headings[clinic]
        n = value.loc[[(clinic, c) for c in order], count].to_numpy()
        p = value.loc[[(clinic, c) for c in order], percent].to_numpy()
        # the report leaves a cell empty where the count is zero
        data[(head, "n")] = [_number(x) if x else "" for x in n]
        data[(head, percent_heading(percent))] = [_number(y, 1) if x else "" for x, y in zip(n, p)]
    frame = pd.DataFrame(data)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def percent_heading(name: str) -> str:
    return "Valid %" if name == "valid_percent" else "%"


def layout_g(table: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table G as the report lays it out: referrers down, clinics across (n, %)."""
    totals = table[table["referrer"] == "total"].set_index("clinic")["n_referrals"]
    headings = {c: f"{CLINIC_HEADINGS[c]} (n={int(totals[c])})" for c in CLINIC_ORDER}
    return _layout_categories(table, "referrer", REFERRER_LABELS, "n_referrals", "percent", headings)


def layout_h(table: pd.DataFrame, referrals_per_clinic: dict[str, int]) -> pd.DataFrame:
    """Supplementary Table H as the report lays it out: reasons down, clinics across (n, valid %).

    ``referrals_per_clinic`` gives the denominators of the headings ("denials: 36/100").
    """
    totals = table[table["reason"] == "total"].set_index("clinic")["n_denials"]
    headings = {
        c: f"{CLINIC_HEADINGS[c]} denials: {int(totals[c])}/{int(referrals_per_clinic[c])}" for c in CLINIC_ORDER
    }
    return _layout_categories(table, "reason", REASON_LABELS, "n_denials", "valid_percent", headings)


# --- charts ------------------------------------------------------------------------------------------


def yearly_chart(yearly: pd.DataFrame) -> alt.Chart:
    """Referrals and denials per calendar year, bars side by side per clinic, one panel per measure.

    ``yearly`` is :func:`yearly_by_clinic` output (counts only)."""
    frame = yearly.assign(
        measure=yearly["measure"].map({"referrals": "Referrals", "denials": "Denials"}),
        year=yearly["year"].astype(str),
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year of referral", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("clinic:N", sort=list(schema.CLINICS)),
            y=alt.Y("n:Q", title="Number"),
            color=charts.clinic_colour(),
            tooltip=["measure:N", "year:O", "clinic:N", "n:Q"],
        )
        .properties(width=260, height=260)
        .facet(column=alt.Column("measure:N", title=None, sort=["Referrals", "Denials"]))
    )


def _share_chart(table: pd.DataFrame, column: str, short: dict, count: str, percent: str, title: str) -> alt.Chart:
    rows = table[(table["clinic"].isin(schema.CLINICS)) & (table[column] != "total")].copy()
    rows["label"] = rows[column].map(short)
    overall = table[(table["clinic"] == "all") & (table[column] != "total")]
    order = [short[c] for c in overall.sort_values(count, ascending=False)[column]]
    return (
        alt.Chart(rows[["clinic", "label", count, percent]])
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
            yOffset=alt.YOffset("clinic:N", sort=list(schema.CLINICS)),
            x=alt.X(f"{percent}:Q", title=title),
            color=charts.clinic_colour(),
            tooltip=["clinic:N", "label:N", f"{count}:Q", alt.Tooltip(f"{percent}:Q", format=".1f")],
        )
        .properties(height=alt.Step(9))
    )


def referrer_chart(table: pd.DataFrame) -> alt.Chart:
    """Share of each clinic's referrals by referrer (Supplementary Table G output)."""
    return _share_chart(
        table, "referrer", REFERRER_SHORT, "n_referrals", "percent", "Share of the clinic's referrals (%)"
    )


def denial_reason_chart(table: pd.DataFrame) -> alt.Chart:
    """Share of each clinic's denials by reason (Supplementary Table H output)."""
    return _share_chart(
        table, "reason", REASON_SHORT, "n_denials", "valid_percent", "Share of the clinic's denials (%)"
    )


# --- the referral text of section 6.6 and Appendix 5, for any edition --------------------------------

#: Referrer items of :func:`text_figures` and how a sentence names them.
REFERRER_WORDS = {
    "referrer_oat_percent": "the conventional OAT service of the same hospital",
    "referrer_nav_percent": "the Norwegian Labour and Welfare Administration",
    "referrer_low_threshold_percent": "low-threshold addiction services",
    "referrer_gp_percent": "general practitioners",
}
#: Denial-reason items of :func:`text_figures` and how a sentence names them.
REASON_WORDS = {
    "denial_admission_pause_percent": "an admission pause while the clinic was full",
    "denial_not_target_group_percent": "the person being outside the target group",
    "denial_other_treatment_percent": "another treatment, such as OAT, being judged more suitable",
    "denial_risk_of_violence_percent": "a risk of violence",
    "denial_new_medications_percent": "the arrival of new medications in OAT",
}
#: Two shares of the clinics differ "clearly" when they are at least this many percentage points apart,
#: and are "similar" when less than :data:`SIMILAR_POINTS` apart.
CLEAR_POINTS = 10.0
SIMILAR_POINTS = 5.0


def _join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class _TextFigures(NamedTuple):
    """The figures of :func:`text_paragraphs` for one edition and the words it states them in: ``raw(item, clinic)``
    (the value, None where withheld or missing), ``pct`` (a share as the text writes it), ``count`` (a count, or
    the mark the edition prints), ``by_clinic(item, show)`` (' (x in Oslo, y in Bergen)' or ''), ``compare(item,
    more, similar)`` (a clause comparing the clinics, or ''); and ``value``, ``hidden``, ``marks``, ``threshold``
    and ``both`` (the edition has both clinics) as :func:`text_paragraphs` takes them."""

    raw: Callable
    pct: Callable
    count: Callable
    by_clinic: Callable
    compare: Callable
    value: dict
    hidden: Any
    marks: dict
    threshold: int | None
    both: bool


def text_paragraphs(
    figures: pd.DataFrame,
    hidden=frozenset(),
    *,
    threshold: int | None = None,
    clinics=schema.CLINICS,
    first_year: int | None = None,
    markers=None,
) -> dict[str, str]:
    """The paragraphs (Markdown) that state the referral figures, for any edition.

    ``figures`` is :func:`text_figures` output; ``hidden`` the (item, clinic) pairs a rerun withholds
    (:func:`referral_suppression`, ``["text"]``); ``threshold`` the disclosure threshold
    (None: published), applied to the counts; ``clinics`` the clinics of the edition (one clinic: no
    breakdown by clinic and no comparison); ``first_year`` the first calendar year of referral data;
    ``markers`` maps (item, clinic) of a count to the mark an edition prints instead (:func:`linked_view`).

    Every number comes from ``figures``; every word that states a quantity or a comparison is chosen from
    the values: a share is put in words by :func:`analysis.presentation.formats.majority_words`; two clinics' shares
    are "similar" when they are less than :data:`SIMILAR_POINTS` percentage points apart, and one is
    "clearly" higher when at least :data:`CLEAR_POINTS` apart (only when both are shown). A withheld figure
    is written as :data:`analysis.presentation.disclosure.WITHHELD`, one that cannot be computed as "n/a", and a sentence
    whose claim rests on a figure that is not shown is left out. Keys of the result: ``counts``, ``people``,
    ``types``, ``referrers``, ``years``, ``reasons`` (a paragraph each) and ``main_referrers`` (one
    sentence for the main findings)."""
    from analysis.presentation import disclosure

    value = {(item, clinic): v for item, clinic, v in figures[["item", "clinic", "value"]].itertuples(index=False)}
    marks = dict(markers or {})
    both = len(tuple(clinics)) > 1

    def raw(item, clinic="all"):
        v = value.get((item, clinic), float("nan"))
        return None if (item, clinic) in hidden or disclosure.is_missing(v) else float(v)

    def pct(item, clinic="all"):
        if (item, clinic) in hidden:
            return disclosure.WITHHELD
        return formats.percent(value.get((item, clinic)))

    def count(item, clinic="all"):
        if (item, clinic) in marks:
            return marks[(item, clinic)]
        v = value.get((item, clinic))
        return formats.number(disclosure.count(v, threshold)) if not disclosure.is_missing(v) else formats.NOT_AVAILABLE

    def by_clinic(item, show=pct):
        """' (x in Oslo, y in Bergen)' in a both-clinics edition, '' otherwise."""
        if not both:
            return ""
        return f" ({show(item, 'Oslo')} in Oslo, {show(item, 'Bergen')} in Bergen)"

    def compare(item, more: str, similar: str) -> str:
        """A clause comparing the clinics on ``item``, chosen from the values ('' when it cannot be said)."""
        oslo, bergen = raw(item, "Oslo"), raw(item, "Bergen")
        if not both or oslo is None or bergen is None:
            return ""
        if abs(oslo - bergen) < SIMILAR_POINTS:
            return similar
        if abs(oslo - bergen) >= CLEAR_POINTS:
            return more.format(high="Oslo" if oslo > bergen else "Bergen", low="Bergen" if oslo > bergen else "Oslo")
        return ""

    shown = _TextFigures(raw, pct, count, by_clinic, compare, value, hidden, marks, threshold, both)
    out = {
        "counts": _counts_paragraph(shown),
        "people": _people_paragraph(shown),
        "types": _types_paragraph(shown),
    }
    out["referrers"], out["main_referrers"] = _referrer_paragraphs(shown)
    out["years"] = _years_paragraph(shown, first_year)
    out["reasons"] = _reasons_paragraph(shown)
    return out


def _counts_paragraph(shown: _TextFigures) -> str:
    """The referrals and the persons they concern, and how the referrals divide between the clinics."""
    count, value, marks = shown.count, shown.value, shown.marks
    split = ""
    oslo_n, bergen_n = value.get(("referrals", "Oslo"), 0), value.get(("referrals", "Bergen"), 0)
    if shown.both:
        # one clinic's count beside the total gives the other's back: both are withheld when either is small
        if (
            disclosure.any_small([oslo_n, bergen_n], shown.threshold)
            or ("referrals", "Oslo") in marks
            or ("referrals", "Bergen") in marks
        ):
            split = " How they divide between the clinics is not shown, as one of the two counts is small."
        else:
            split = f" Oslo received {count('referrals', 'Oslo')} of them and Bergen {count('referrals', 'Bergen')}."
    return (
        f"The register holds {count('referrals')} referrals, which concern {count('referred_patients')} different "
        f"persons: {count('patients_two_referrals')} were referred twice and "
        f"{count('patients_three_plus_referrals')} three times or more.{split}"
    )


def _people_paragraph(shown: _TextFigures) -> str:
    """The sex and the mean age of the referred."""
    pct, by_clinic, hidden, value = shown.pct, shown.by_clinic, shown.hidden, shown.value
    return (
        f"Men accounted for {pct('male_percent')} of the referrals{by_clinic('male_percent')}, and the mean age "
        f"was {_age('mean_age', 'all', hidden, value)} years"
        + (
            f" ({_age('mean_age', 'Oslo', hidden, value)} in Oslo, "
            f"{_age('mean_age', 'Bergen', hidden, value)} in Bergen)"
            if shown.both
            else ""
        )
        + ". Sex and age are counted per referral, so a person referred twice counts twice."
    )


def _lead(shown: _TextFigures, item, noun):
    """'Most of the referrals' chosen from the share ``item`` (percent), or 'Of the referrals, ' ."""
    share = shown.raw(item)
    words = formats.majority_words(share / 100) if share is not None else formats.NOT_AVAILABLE
    return (
        f"{words[0].upper()}{words[1:]} of the {noun}" if words != formats.NOT_AVAILABLE else f"A share of the {noun}"
    )


def _types_paragraph(shown: _TextFigures) -> str:
    """The secondary referrals and the denials, compared between the clinics, and the denied referrals' age and sex."""
    pct, by_clinic, compare, hidden, value = shown.pct, shown.by_clinic, shown.compare, shown.hidden, shown.value
    types = (
        f"{_lead(shown, 'secondary_percent', 'referrals')} were secondary, {pct('secondary_percent')} of all"
        f"{by_clinic('secondary_percent')}"
    )
    types += (
        compare(
            "secondary_percent", ", clearly more so in {high} than in {low}", ", at similar shares in the two clinics"
        )
        + ". "
    )
    types += (
        f"{_lead(shown, 'denied_percent', 'referrals')} were denied, {pct('denied_percent')}"
        f"{by_clinic('denied_percent')}"
    )
    types += (
        compare("denied_percent", ", more often in {high} than in {low}", ", at similar rates in the two clinics")
        + ". "
    )
    types += (
        f"The denied referrals had a mean age of {_age('denied_mean_age', 'all', hidden, value)} years, and "
        f"{pct('denied_male_percent')} of them concerned men."
    )
    return types


def _referrer_paragraphs(shown: _TextFigures) -> tuple[str, str]:
    """The referrers, largest share first (where every share is shown), and the clinics' clear differences; and
    the sentence of the main findings on the largest referrers."""
    raw, pct, by_clinic, compare = shown.raw, shown.pct, shown.by_clinic, shown.compare
    order = sorted(REFERRER_WORDS, key=lambda item: -(raw(item) if raw(item) is not None else -1))
    head, *rest = order
    ranked = all(raw(item) is not None for item in order) and raw(head) > 0
    if ranked:
        referrers = (
            f"Of the sources counted here, {REFERRER_WORDS[head]} sent the most, {pct(head)} of all referrals"
            f"{by_clinic(head)}; then came {_join([f'{REFERRER_WORDS[i]} with {pct(i)}{by_clinic(i)}' for i in rest])}."
        )
    else:
        referrers = (
            "Of all referrals, "
            + _join([f"{REFERRER_WORDS[i]} sent {pct(i)}{by_clinic(i)}" for i in REFERRER_WORDS])
            + "."
        )
    for clinic in ("Oslo", "Bergen"):
        named = [REFERRER_WORDS[item] for item in order if compare(item, "{high}", "") == clinic]
        if named:
            referrers += (
                f" {_upper_first(_join(named))} made up a clearly larger share of {clinic}'s referrals than of the "
                "other clinic's."
            )
    main_referrers = (
        f"The largest share came from {REFERRER_WORDS[head]}; {_join([REFERRER_WORDS[i] for i in rest])} followed."
        if ranked
        else "Which of these sources sent the most is not shown for this edition, as some of the counts are small."
    )
    return referrers, main_referrers


def _years_paragraph(shown: _TextFigures, first_year: int | None) -> str:
    """The first calendar year's share of the referrals and denials, and the yearly denial rates."""
    raw, pct = shown.raw, shown.pct
    single_year = shown.value.get(("referral_period", "all")) == 1
    if single_year:
        years = (
            f"All the referrals of this edition fall in one calendar year{f', {first_year}' if first_year else ''}, "
            f"and {pct('annual_denial_rate_average')} of them were denied."
        )
    else:
        first = f"The first calendar year{f', {first_year},' if first_year else ''}"
        years = (
            f"{first} brought {pct('first_year_referrals_percent')} of all referrals and "
            f"{pct('first_year_denials_percent')} of all denials. "
        )
        low, high = raw("annual_denial_rate_min"), raw("annual_denial_rate_max")
        if low is not None and high is not None:
            years += (
                f"The yearly denial rate, a year's denials over that year's referrals, ranged from "
                f"{pct('annual_denial_rate_min')} to {pct('annual_denial_rate_max')}; over the whole period "
            )
        else:
            years += (
                "The yearly denial rates are withheld, as some years have few referrals or few accepted ones. "
                "Over the whole period "
            )
        years += f"{pct('annual_denial_rate_average')} of referrals were denied."
    return years


def _detail(shown: _TextFigures, item):
    """'x' or 'x; y in Oslo, z in Bergen' for inside brackets."""
    return shown.pct(item) + (shown.by_clinic(item).replace(" (", "; ", 1).rstrip(")") if shown.both else "")


def _reasons_paragraph(shown: _TextFigures) -> str:
    """The denial reasons, commonest first (where every share is shown), the first year's admission pauses and
    the clinics' clear differences."""
    raw, pct, by_clinic, compare = shown.raw, shown.pct, shown.by_clinic, shown.compare
    order = sorted(REASON_WORDS, key=lambda item: -(raw(item) if raw(item) is not None else -1))
    head, *rest = order
    if all(raw(item) is not None for item in order) and raw(head) > 0:
        reasons = (
            f"Of the reasons counted here, the commonest was {REASON_WORDS[head]}, in {pct(head)} of all denials"
            f"{by_clinic(head)}; then came {_join([f'{REASON_WORDS[i]} ({_detail(shown, i)})' for i in rest])}."
        )
    else:
        reasons = (
            "Of all denials, the share with each of the reasons counted here was: "
            + _join([f"{REASON_WORDS[i]} ({_detail(shown, i)})" for i in REASON_WORDS])
            + "."
        )
    if raw("denial_admission_pause_percent") and raw("admission_pause_first_year_percent") is not None:
        reasons += (
            f" Of the denials for an admission pause, {pct('admission_pause_first_year_percent')} fell in the "
            "first calendar year."
        )
    for clinic in ("Oslo", "Bergen"):
        named = [REASON_WORDS[item] for item in order if compare(item, "{high}", "") == clinic]
        if named:
            reasons += f" {clinic} cited {_join(named)} clearly more often than the other clinic."
    if shown.both:
        reasons += " Percentages of denials are of the clinic's own denials."
    return reasons


def _age(item: str, clinic: str, hidden, value: dict) -> str:
    """A mean age as the text writes it (whole years; withheld or n/a as the edition requires)."""
    from analysis.presentation import disclosure

    if (item, clinic) in hidden:
        return disclosure.WITHHELD
    return formats.number(value.get((item, clinic)), 0)


def _upper_first(text: str) -> str:
    """``text`` with its first letter in capitals (the rest left as it is: "OAT" stays "OAT")."""
    return text[:1].upper() + text[1:]


def _total_label(period: str) -> str:
    """The label of Table F's total line: "Total 2022–2025", or "Total 2022" for one year."""
    first, _, last = str(period).partition("-")
    return f"Total {first}" if not last or first == last else f"Total {first}\u2013{last}"


def protect_parts(parts: dict, threshold: int | None) -> dict:
    """Counts that add up to a shown total (Bergen and Oslo to both clinics; included and not included to
    all referrals), as a rerun may show them: a count from 1 to ``threshold - 1`` as "<5", and, when any
    part is small, every other positive part withheld as well, so that the total minus the shown parts
    cannot give the small one back. Zero is shown. ``threshold=None`` returns the counts unchanged."""
    from analysis.presentation import disclosure

    if threshold is None:
        return dict(parts)
    small = {name: disclosure.is_small(n, threshold) for name, n in parts.items()}
    shown = {}
    for name, n in parts.items():
        if small[name]:
            shown[name] = disclosure.small_marker(threshold)
        elif any(small.values()) and n > 0:
            shown[name] = disclosure.WITHHELD
        else:
            shown[name] = n
    return shown


def shown_counts(referrals: pd.DataFrame, threshold: int | None) -> dict:
    """The counts Appendix 5 prints in column headings and total lines, as an edition shows them:
    ``{"referrals": {clinic: ...}, "denials": {clinic: ...}, "inclusion": {"included": ..., "not_included": ...}}``
    with clinics ``all``, ``Bergen``, ``Oslo``.

    Bergen and Oslo add up to both clinics, and included and not included referrals to all referrals, so
    each pair is protected together (:func:`protect_parts`); a clinic's denials are withheld when its accepted
    referrals are few (its referrals minus its denials would give them). ``threshold=None``: the counts."""
    from analysis.presentation import disclosure

    counts = referral_counts(referrals)
    n = {"all": counts["referrals"], "Bergen": counts["referrals_bergen"], "Oslo": counts["referrals_oslo"]}
    denied = referrals["decision"] == "denied"
    d = {"all": int(denied.sum()), **{c: int((denied & (referrals["clinic"] == c)).sum()) for c in ("Bergen", "Oslo")}}
    shown_n = {
        "all": disclosure.count(n["all"], threshold),
        **protect_parts({c: n[c] for c in ("Bergen", "Oslo")}, threshold),
    }
    shown_d = {
        "all": disclosure.count(d["all"], threshold),
        **protect_parts({c: d[c] for c in ("Bergen", "Oslo")}, threshold),
    }
    for clinic in shown_d:
        if not isinstance(shown_d[clinic], str) and disclosure.is_small(n[clinic] - d[clinic], threshold):
            shown_d[clinic] = disclosure.WITHHELD
    inclusion = protect_parts({"included": n["all"] - d["all"], "not_included": d["all"]}, threshold)
    return {"referrals": shown_n, "denials": shown_d, "inclusion": inclusion}


# --- protection across the editions of one year (both clinics, Oslo, Bergen) -----------------------------

#: The count tables behind 6.6 and Appendix 5 as the joint engine sees them
#: (:func:`analysis.presentation.linked_suppression.joint_patterns`): ``overall`` (accepted and denied referrals, of all
#: referrals), ``years`` (accepted and denied per calendar year, of the year's referrals: Table F and
#: Figure 6.6.1), ``g`` (referrers, of all referrals), ``h`` (denial reasons, of the denials) and ``e``
#: (males, secondary referrals, males among included and among not included referrals: Table E).
LINKED_SPECS = {
    "overall": {"count": "n", "groups": [], "total": "of"},
    "years": {"count": "n", "groups": ["year"], "total": "of"},
    "g": {"count": "n", "groups": [], "total": "of"},
    "h": {"count": "n", "groups": [], "total": "of"},
    "e": {"count": "n", "groups": ["item"], "total": "of"},
}
_E_ITEMS = ("male", "secondary", "male_included", "male_denied")


def linked_counts(referrals: pd.DataFrame, years) -> pd.DataFrame:
    """The counts of :data:`LINKED_SPECS` for one register, long, with the same rows for every register
    (``years``: the calendar years of the edition, the same for its three registers): ``block``, ``key``,
    ``year``, ``item``, ``n`` (the count) and ``of`` (the count it is part of)."""
    denied = referrals["decision"] == "denied"
    male = referrals["sex"] == "male"
    year = pd.to_datetime(referrals["referral_date"]).dt.year
    n_all, n_denied = len(referrals), int(denied.sum())
    rows = [("overall", "accepted", 0, "", n_all - n_denied, n_all), ("overall", "denied", 0, "", n_denied, n_all)]
    for y in years:
        in_year = year == y
        rows += [
            ("years", f"{y}:accepted", int(y), "", int((in_year & ~denied).sum()), int(in_year.sum())),
            ("years", f"{y}:denied", int(y), "", int((in_year & denied).sum()), int(in_year.sum())),
        ]
    referrers = referrals["referrer"].value_counts()
    rows += [("g", r, 0, "", int(referrers.get(r, 0)), n_all) for r in schema.REFERRERS]
    reasons = referrals.loc[denied, "denial_reason"].value_counts()
    rows += [("h", r, 0, "", int(reasons.get(r, 0)), n_denied) for r in schema.DENIAL_REASONS]
    e = {
        "male": (int(male.sum()), n_all),
        "secondary": (int((referrals["referral_type"] == "secondary").sum()), n_all),
        "male_included": (int((male & ~denied).sum()), n_all - n_denied),
        "male_denied": (int((male & denied).sum()), n_denied),
    }
    rows += [("e", item, 0, item, *e[item]) for item in _E_ITEMS]
    return pd.DataFrame(rows, columns=["block", "key", "year", "item", "n", "of"])


def _linked_blocks(cohort) -> dict[str, pd.DataFrame]:
    """The tables of :data:`LINKED_SPECS` of one cohort's referrals, by name, over the calendar years of its data."""
    years = list(range(schema.STUDY_START.year, cohort.data_end.year + 1))
    counts = linked_counts(cohort.referrals, years)
    return {name: counts[counts["block"] == name].reset_index(drop=True) for name in LINKED_SPECS}


def _linked_patterns(page, threshold: int) -> tuple[dict, dict]:
    """The joint patterns of the referral tables of ``page``'s edition and the tables they were found from (name ->
    edition -> table). Protected together with every edition the grid publishes: the three clinic choices of each
    data end, since referrals are counted from a date and a later data end's count holds an earlier one's
    (:func:`analysis.presentation.linked_suppression.joint_patterns_years`); an edition whose data end is not one of the grid's
    is protected with the other editions of its year only."""
    from analysis.presentation import linked_suppression as ls

    by_year = ls.grid_tables(page, _linked_blocks)
    own_year = page.edition.data_end.year
    if by_year is None:
        tables, published = ls.sibling_tables(page, _linked_blocks)
        blocks = {name: {edition: found[name] for edition, found in tables.items()} for name in LINKED_SPECS}
        same, sums = _linked_relations(range(schema.STUDY_START.year, own_year + 1))
        return ls.joint_patterns(blocks, LINKED_SPECS, threshold, published=published, same=same, sums=sums), blocks
    relations = {year: _linked_relations(range(schema.STUDY_START.year, year + 1)) for year in by_year}
    patterns = ls.joint_patterns_years(
        by_year,
        LINKED_SPECS,
        threshold,
        same={y: r[0] for y, r in relations.items()},
        sums={y: r[1] for y, r in relations.items()},
        only=page.edition.year,
        # the published edition prints these tables clinic by clinic: its data end's clinic counts are public
        known=ls.clinics_in_print(by_year),
    )
    tables = by_year[page.edition.year][0]
    blocks = {name: {edition: found[name] for edition, found in tables.items()} for name in LINKED_SPECS}
    return patterns[page.edition.year], blocks


def _linked_relations(years) -> tuple[list, list]:
    """The quantities the tables share (``same``) and the sums across them (``sums``), as
    :func:`analysis.presentation.linked_suppression.joint_patterns` takes them."""
    all_referrals, accepted, denied = ("overall", "total", ()), ("overall", "cell", 0), ("overall", "cell", 1)
    same = [
        (("g", "total", ()), all_referrals),
        (("h", "total", ()), denied),
        (("e", "total", ("male",)), all_referrals),
        (("e", "total", ("secondary",)), all_referrals),
        (("e", "total", ("male_included",)), accepted),
        (("e", "total", ("male_denied",)), denied),
    ]
    count = len(list(years))
    sums = [
        (accepted, [("years", "cell", 2 * k) for k in range(count)]),
        (denied, [("years", "cell", 2 * k + 1) for k in range(count)]),
        (("e", "cell", 0), [("e", "cell", 2), ("e", "cell", 3)]),
    ]
    return same, sums


def _marker(status: str, threshold: int):
    from analysis.presentation import disclosure
    from analysis.presentation import linked_suppression as ls

    return (
        None
        if status == ls.SHOWN
        else disclosure.small_marker(threshold)
        if status == ls.SMALL
        else disclosure.WITHHELD
    )


class _ReferralMarks(NamedTuple):
    """The marks of :func:`linked_view` for one edition: ``mark(block, column, kind, key)`` of any count the
    protection engine decided, and the marks of a column's referrals, denials and accepted referrals (None
    where the count is shown)."""

    mark: Callable
    total_mark: Callable
    denied_mark: Callable
    accepted_mark: Callable


def linked_view(page, referrals: pd.DataFrame | None = None) -> dict:
    """What 6.6 and Appendix 5 show of the referral counts in the edition of ``page``, protected together
    with the other editions of its year (both clinics, Oslo, Bergen: :mod:`analysis.presentation.linked_suppression`),
    so that no table, heading or sentence of one edition, set against another's, gives back a count from
    1 to threshold - 1 (for instance a year's accepted referrals, its referrals less its denials).

    Returns a dict: ``g``, ``h``, ``e``, ``f_referrals``, ``f_denials`` (Series of the mark to print, or
    None to print the value, on the rows of :func:`table_g`, :func:`table_h`, :func:`table_e` and
    :func:`table_f` of the page's register; in Table E a share or an age statistic is marked where its
    count is hidden, an age statistic also where its group has fewer than threshold referrals, and in
    Table F the denial rate is marked where the year's referrals or denials are), ``headings`` (as
    :func:`shown_counts`), ``yearly`` (:func:`yearly_by_clinic` with hidden bars missing), ``text`` (the
    (item, clinic) pairs of :func:`text_figures` to withhold) and ``markers`` ((item, clinic) -> mark
    for the counts the text states). In the published edition nothing is marked."""
    from analysis.presentation import linked_suppression as ls

    register = page.cohort.referrals if referrals is None else referrals
    threshold = page.sdc
    e, f, g, h = table_e(register), table_f(register), table_g(register), table_h(register)
    yearly = yearly_by_clinic(register)
    if threshold is None:

        def none(t):
            return pd.Series([None] * len(t), index=t.index, dtype=object)

        return {
            "e": none(e),
            "f_referrals": none(f),
            "f_denials": none(f),
            "g": none(g),
            "h": none(h),
            "headings": shown_counts(register, None),
            "yearly": yearly,
            "text": set(),
            "markers": {},
        }
    years = list(range(schema.STUDY_START.year, page.edition.data_end.year + 1))
    patterns, blocks = _linked_patterns(page, threshold)
    own = page.edition.clinic

    def source(column: str):
        """The edition whose table a column of the page's tables is (None: a clinic outside the edition)."""
        if column == "all":
            return own
        return column if own in ("all", column) else None

    def status(block: str, column: str, kind: str, key) -> str:
        edition = source(column)
        if edition is None:
            return ls.SHOWN
        pattern = patterns[block]
        frame = blocks[block][edition]
        if kind == "cell":
            position = int(frame.index[frame["key"] == key][0])
            return pattern.cells[edition].iloc[position]
        position = int(frame.index[frame["key"] == key][0])
        return pattern.totals[edition].iloc[position]

    def mark(block, column, kind, key):
        return _marker(status(block, column, kind, key), threshold)

    def total_mark(column):
        return mark("overall", column, "total", "accepted")

    def denied_mark(column):
        return mark("overall", column, "cell", "denied")

    def accepted_mark(column):
        return mark("overall", column, "cell", "accepted")

    marks = _ReferralMarks(mark, total_mark, denied_mark, accepted_mark)
    out = _category_marks(g, h, marks)
    out |= _table_f_marks(f, years, marks)
    out["e"] = _table_e_marks(e, threshold, marks)
    out["headings"] = _headings(register, marks)
    out["yearly"] = _yearly_shown(yearly, years, marks)
    out["text"] = _text_withheld(page, threshold, e, f, g, h, out, marks)
    out["markers"] = _person_markers(page, threshold, marks)
    return out


def _category_marks(g, h, marks: _ReferralMarks) -> dict[str, pd.Series]:
    """Tables G and H: the mark of each category's count and share, the total line marked as the headings."""
    mark, total_mark, denied_mark = marks.mark, marks.total_mark, marks.denied_mark
    # Tables G and H: a category's count and its share; the total line as the headings
    out = {}
    for name, table, column, block, total in (
        ("g", g, "referrer", "g", total_mark),
        ("h", h, "reason", "h", denied_mark),
    ):
        shown = []
        for clinic, category in table[["clinic", column]].itertuples(index=False):
            shown.append(total(clinic) if category == "total" else mark(block, clinic, "cell", category))
        out[name] = pd.Series(shown, index=table.index, dtype=object)
    return out


def _table_f_marks(f, years, marks: _ReferralMarks) -> dict[str, pd.Series]:
    """Table F: the marks of each year's referrals and denials; a year outside the engine's years has no
    referral in any edition."""
    mark, total_mark, denied_mark = marks.mark, marks.total_mark, marks.denied_mark
    out = {}
    # Table F: the page's years; a year outside the engine's years has no referral in any edition
    f_ref, f_den = [], []
    for year_label, category in f[["year", "category"]].itertuples(index=False):
        if category == "total":
            f_ref.append(total_mark("all"))
            f_den.append(denied_mark("all"))
        elif int(year_label) in years:
            f_ref.append(mark("years", "all", "total", f"{year_label}:accepted"))
            f_den.append(mark("years", "all", "cell", f"{year_label}:denied"))
        else:
            f_ref.append(None)
            f_den.append(None)
    out["f_referrals"] = pd.Series(f_ref, index=f.index, dtype=object)
    out["f_denials"] = pd.Series(f_den, index=f.index, dtype=object)
    return out


def _table_e_marks(e, threshold, marks: _ReferralMarks) -> pd.Series:
    """Table E: a count's mark; a share marked where its count or its group's count is; an age statistic
    also where its group has fewer than ``threshold`` referrals."""
    mark, total_mark, denied_mark, accepted_mark = marks.mark, marks.total_mark, marks.denied_mark, marks.accepted_mark
    # Table E
    e_marks = []
    items = {"sex_male": "male", "secondary_referral": "secondary"}
    for panel, clinic, inclusion, variable, statistic, _value in e[
        ["panel", "clinic", "inclusion", "variable", "statistic", "value"]
    ].itertuples(index=False):
        if panel == "clinic":
            group_n = total_mark(clinic)
            if variable == "referrals":
                count_mark = group_n
            elif variable == "not_included":
                count_mark = denied_mark(clinic)
            elif variable in items:
                count_mark = mark("e", clinic, "cell", items[variable])
            else:
                count_mark = None
        else:
            group_n = {
                "total": total_mark("all"),
                "included": accepted_mark("all"),
                "not_included": denied_mark("all"),
            }[inclusion]
            item = {"total": "male", "included": "male_included", "not_included": "male_denied"}[inclusion]
            count_mark = (
                group_n
                if variable == "referrals"
                else mark("e", "all", "cell", item)
                if variable == "sex_male"
                else None
            )
        if variable == "referrals":
            e_marks.append(count_mark)
        elif variable == "age":
            rows = e[(e["panel"] == panel) & (e["clinic"] == clinic) & (e["inclusion"] == inclusion)]
            n = rows.loc[rows["variable"] == "referrals", "value"].iloc[0]
            small = disclosure.is_small(n, threshold)
            e_marks.append(disclosure.WITHHELD if group_n is not None or small else None)
        elif statistic == "n":
            e_marks.append(count_mark)
        else:  # a share: withheld with its count or its group's count
            e_marks.append(disclosure.WITHHELD if count_mark is not None or group_n is not None else None)
    return pd.Series(e_marks, index=e.index, dtype=object)


def _headings(register, marks: _ReferralMarks) -> dict:
    """The headings and total lines: each count, or its mark."""
    total_mark, denied_mark, accepted_mark = marks.total_mark, marks.denied_mark, marks.accepted_mark
    # the headings and total lines
    counts = referral_counts(register)
    n = {"all": counts["referrals"], "Bergen": counts["referrals_bergen"], "Oslo": counts["referrals_oslo"]}
    denied = register["decision"] == "denied"
    d = {"all": int(denied.sum()), **{c: int((denied & (register["clinic"] == c)).sum()) for c in ("Bergen", "Oslo")}}
    headings = {
        "referrals": {c: total_mark(c) or n[c] for c in CLINIC_ORDER},
        "denials": {c: denied_mark(c) or d[c] for c in CLINIC_ORDER},
        "inclusion": {
            "included": accepted_mark("all") or n["all"] - d["all"],
            "not_included": denied_mark("all") or d["all"],
        },
    }
    return headings


def _yearly_shown(yearly, years, marks: _ReferralMarks) -> pd.DataFrame:
    """Figure 6.6.1: a clinic's bars of a year as its edition shows them (a hidden bar missing)."""
    mark = marks.mark
    # Figure 6.6.1: a clinic's bars of a year as its edition shows them
    gone = []
    for y, clinic, measure in yearly[["year", "clinic", "measure"]].itertuples(index=False):
        if int(y) not in years:
            gone.append(False)
        elif measure == "referrals":
            gone.append(mark("years", clinic, "total", f"{y}:accepted") is not None)
        else:
            gone.append(mark("years", clinic, "cell", f"{y}:denied") is not None)
    return yearly.assign(n=yearly["n"].where(~pd.Series(gone, index=yearly.index)))


def _text_withheld(page, threshold, e, f, g, h, out, marks: _ReferralMarks) -> set[tuple[str, str]]:
    """The (item, clinic) figures of the text to withhold: shares with the counts they are built on (``out``:
    the tables' marks so far), and the first year's admission pauses when any edition of the year has a
    small part."""
    from analysis.presentation import linked_suppression as ls

    total_mark, denied_mark = marks.total_mark, marks.denied_mark
    # the text: shares withheld with the counts they are built on
    text: set[tuple[str, str]] = set()
    e_at = dict(zip(e.set_index(["panel", "clinic", "inclusion", "variable", "statistic"]).index, out["e"]))
    for clinic in CLINIC_ORDER:
        for item, variable in (
            ("male_percent", "sex_male"),
            ("secondary_percent", "secondary_referral"),
            ("denied_percent", "not_included"),
        ):
            if e_at.get(("clinic", clinic, "all", variable, "percent")) is not None:
                text.add((item, clinic))
        if e_at.get(("clinic", clinic, "all", "age", "mean")) is not None:
            text.add(("mean_age", clinic))
    if e_at.get(("inclusion", "all", "not_included", "sex_male", "percent")) is not None:
        text.add(("denied_male_percent", "all"))
    if e_at.get(("inclusion", "all", "not_included", "age", "mean")) is not None:
        text.add(("denied_mean_age", "all"))
    referrers = {
        "specialist_oat": "referrer_oat_percent",
        "nav": "referrer_nav_percent",
        "low_threshold_addiction": "referrer_low_threshold_percent",
        "primary_care_physician": "referrer_gp_percent",
    }
    for (clinic, referrer), hidden in zip(g.set_index(["clinic", "referrer"]).index, out["g"]):
        if referrer in referrers and (hidden is not None or total_mark(clinic) is not None):
            text.add((referrers[referrer], clinic))
    reasons = {
        "admission_pause": "denial_admission_pause_percent",
        "not_in_target_group": "denial_not_target_group_percent",
        "other_treatment_more_suitable": "denial_other_treatment_percent",
        "risk_of_violence": "denial_risk_of_violence_percent",
        "new_medications_in_oat": "denial_new_medications_percent",
    }
    for (clinic, reason), hidden in zip(h.set_index(["clinic", "reason"]).index, out["h"]):
        if reason in reasons and (hidden is not None or denied_mark(clinic) is not None):
            text.add((reasons[reason], clinic))
    year_rows = f[f["category"] == "year"]
    if len(year_rows):
        first = year_rows.index[0]
        if out["f_referrals"][first] is not None or total_mark("all") is not None:
            text.add(("first_year_referrals_percent", "all"))
        if out["f_denials"][first] is not None or denied_mark("all") is not None:
            text.add(("first_year_denials_percent", "all"))
        if (out["f_referrals"][year_rows.index].notna() | out["f_denials"][year_rows.index].notna()).any():
            text.update({("annual_denial_rate_min", "all"), ("annual_denial_rate_max", "all")})
    if total_mark("all") is not None or denied_mark("all") is not None:
        text.add(("annual_denial_rate_average", "all"))

    # admission pauses in the first year: a split of one reason by year that no table shows; withheld in
    # every edition of the year when any of them has a small part (both clinics less Oslo gives Bergen's)
    def pause_parts(cohort):
        pauses = cohort.referrals[cohort.referrals["denial_reason"] == "admission_pause"]
        in_first = int((pd.to_datetime(pauses["referral_date"]).dt.year == schema.STUDY_START.year).sum())
        return pd.DataFrame({"n": [in_first, len(pauses) - in_first]})

    pause_tables, _ = ls.sibling_tables(page, pause_parts)
    if (
        any(disclosure.any_small(t["n"], threshold) for t in pause_tables.values())
        or ("denial_admission_pause_percent", "all") in text
    ):
        text.add(("admission_pause_first_year_percent", "all"))
    return text


def _person_markers(page, threshold, marks: _ReferralMarks) -> dict:
    """The marks of the counts the text states: each clinic's referrals, and the persons, withheld in every
    edition of the year when any edition has a small one (persons are no sum of the clinics' persons: one may
    be referred to both)."""
    from analysis.presentation import linked_suppression as ls

    total_mark = marks.total_mark
    # the counts the text states; persons are no sum of the clinics' persons (one may be referred to both),
    # so they are withheld in every edition of the year when any edition has a small one
    markers = {("referrals", c): total_mark(c) for c in CLINIC_ORDER if total_mark(c) is not None}

    def person_counts(cohort):
        c = referral_counts(cohort.referrals)
        once = c["persons"] - c["persons_two_referrals"] - c["persons_three_plus_referrals"]
        return pd.DataFrame({"n": [c["persons"], once, c["persons_two_referrals"], c["persons_three_plus_referrals"]]})

    person_tables, _ = ls.sibling_tables(page, person_counts)
    own_persons = person_counts(page.cohort)["n"].tolist()
    # the persons referred once are never shown: they are the rest of the persons less the two counts
    hide = {
        "referred_patients": any(disclosure.is_small(t["n"].iloc[0], threshold) for t in person_tables.values()),
        "patients_two_referrals": any(disclosure.any_small(t["n"].iloc[1:], threshold) for t in person_tables.values()),
    }
    hide["patients_three_plus_referrals"] = hide["patients_two_referrals"]
    for position, item in (
        (0, "referred_patients"),
        (2, "patients_two_referrals"),
        (3, "patients_three_plus_referrals"),
    ):
        if hide[item]:
            markers[(item, "all")] = (
                disclosure.small_marker(threshold)
                if disclosure.is_small(own_persons[position], threshold)
                else disclosure.WITHHELD
            )
    return markers


def linked_withheld_keys(view: dict, referrals: pd.DataFrame, keyed: dict) -> set[str]:
    """The ledger keys of ``keyed`` frames (as :func:`referral_withheld_keys` takes
    them) that the edition withholds under :func:`linked_view`."""
    e, f, g, h = table_e(referrals), table_f(referrals), table_g(referrals), table_h(referrals)
    keys: set[str] = set()

    def hidden_ids(table, marks, columns):
        return {tuple(str(v) for v in row) for row in table.loc[marks.notna(), columns].itertuples(index=False)}

    if "e" in keyed:
        cols = ["panel", "clinic", "inclusion", "variable", "statistic"]
        ids = hidden_ids(e, view["e"], cols)
        keys |= {
            k for k, *row in keyed["e"][["key", *cols]].itertuples(index=False) if tuple(str(v) for v in row) in ids
        }
    if "f" in keyed:
        years_r = {str(y) for y in f.loc[view["f_referrals"].notna(), "year"]}
        years_d = {str(y) for y in f.loc[view["f_denials"].notna(), "year"]}
        total_label = str(f.loc[f["category"] == "total", "year"].iloc[0])
        for key, year, measure in keyed["f"][["key", "year", "measure"]].itertuples(index=False):
            year = str(year)
            year = total_label if year == PUBLISHED_PERIOD else year
            if measure in ("n_referrals", "percent_of_total_referrals") and year in years_r:
                keys.add(key)
            if measure in ("n_denials", "percent_of_total_denials") and year in years_d:
                keys.add(key)
            if measure == "denial_rate_percent" and (year in years_d or year in years_r):
                keys.add(key)
            if measure in ("percent_of_total_referrals",) and total_label in years_r:
                keys.add(key)
            if measure in ("percent_of_total_denials",) and total_label in years_d:
                keys.add(key)
    for name, table, column in (("g", g, "referrer"), ("h", h, "reason")):
        if name in keyed:
            ids = hidden_ids(table, view[name], ["clinic", column])
            totals = {c for c, cat in ids if cat == "total"}  # a share of a hidden total would give it back
            keys |= {
                k
                for k, clinic, cat, measure in keyed[name][["key", "clinic", column, "measure"]].itertuples(index=False)
                if (str(clinic), str(cat)) in ids or (str(clinic) in totals and "percent" in str(measure))
            }
    if "text" in keyed:
        frame = keyed["text"]
        base = frame["item"].str.replace(r"^(mf|mp)_", "", regex=True)
        hidden = view["text"] | set(view["markers"])
        keys |= {k for k, item, clinic in zip(frame["key"], base, frame["clinic"]) if (item, clinic) in hidden}
    return keys


def header_withheld_keys(view: dict) -> set[str]:
    """The ledger keys of :func:`header_counts` that an edition withholds: the referrals and denials its
    headings mark under :func:`linked_view`."""
    headings = view["headings"]
    keys = set()
    if isinstance(headings["referrals"]["all"], str):
        keys.add("stf_header_referrals_n")
    if isinstance(headings["denials"]["all"], str):
        keys.add("stf_header_denials_n")
    for clinic in CLINIC_ORDER:
        if isinstance(headings["referrals"][clinic], str):
            keys |= {HEADER_KEYS[clinic]["g_referrals"], HEADER_KEYS[clinic]["h_referrals"]}
        if isinstance(headings["denials"][clinic], str):
            keys.add(HEADER_KEYS[clinic]["h_denials"])
    return keys


# --- Appendix 5 as the page shows it --------------------------------------------------------------

#: Why the report's Table H and its text differ from the computed values (the errata page sets them out).
ERRATA = "The report's print contradicts its own table (see the errata page): "
ERRATA_NOTE = (
    "The printed Table H does not agree with itself, and the computed table follows the definition the "
    "table states (a reason's share of the clinic's denials). Bergen's *risk of violence* is printed as its "
    "count in the percentage column, so Bergen's percentages add up to well under 100, and the text of the "
    "appendix repeats that figure. Two rows of the both-clinics column, *risk of violence and severe mental "
    "disorder* and *not able to attend HAT*, are divided by all referrals instead of all denials. Outside the "
    "tables, the text gives Oslo's share of referrals from general practitioners as the count of Table G, "
    "and it cuts the highest yearly denial rate of Table F down instead of rounding it. These checks are "
    "set out in {doc}`appendix_errata`; the card below marks every cell where they make the computed value "
    "differ from the print."
)
#: Ledger key -> why the computed value differs from the report's print.
ERRATA_NOTES = {
    "sth_bergen_risk_of_violence_valid_percent": ERRATA
    + "Bergen's 'risk of violence' percentage is printed as the count, not as its share of Bergen's denials.",
    "app5_denial_risk_of_violence_percent_bergen": ERRATA
    + "the text repeats Table H's Bergen 'risk of violence' figure, which is the count, not the share of Bergen's denials.",
    "sth_all_risk_of_violence_and_severe_mental_disorder_valid_percent": ERRATA
    + "this row is divided by all referrals, not by all denials as the other rows of Table H are.",
    "sth_all_not_able_to_attend_valid_percent": ERRATA
    + "this row is divided by all referrals, not by all denials as the other rows of Table H are.",
    "app5_referrer_gp_percent_oslo": ERRATA
    + "the text gives Oslo's count of referrals from primary care physicians as a percentage; Table G has the share.",
    "app5_annual_denial_rate_max": "The text cuts the highest yearly denial rate of Table F down to a whole number instead of rounding it.",
}

#: Passages about the report's own data and prints: shown in the published edition only.
PUBLISHED_PASSAGES = {
    "app5_e_pattern": (
        "In the report's data the sex balance is the same in the two clinics, Bergen's patients are slightly younger "
        "and far more often referred from within OAT, and included and non-included referrals differ little in age or sex."
    ),
    "app5_f_pattern": (
        "In the report's data the first year stands out with far more referrals and denials than any later year, "
        "while the yearly denial rate varies only within a narrow range. The report heads the last column as a year's "
        "denials over *all referrals*, but its numbers are a year's denials over *all denials*; the computed column "
        "follows the numbers."
    ),
    "app5_g_pattern": (
        "In the report's data the hospital OAT service dominates, especially in Bergen; Oslo's referrals are spread "
        "over many more sources, and several categories, low-threshold addiction services among them, appear only in "
        "Oslo. Self-referrals and referrals from user organisations were rare."
    ),
    "app5_h_pattern": (
        "In the report's data the reasons differ between the clinics. In Oslo, admission pauses, other treatment being "
        "more suitable and risk of violence lead. In Bergen, patients outside the target group, new OAT medications, "
        "failure to attend the assessment interview and patients' own requests are more prominent, and admission "
        "pauses hardly figure."
    ),
    "app5_errata_note": "```{note}\n" + ERRATA_NOTE + "\n```",
    "app5_text_gp_note": (
        "The report's text has a different Oslo figure for general practitioners from its own Table G (see the card "
        "at the end of the page)."
    ),
    "app5_text_average_note": (
        "The report calls the last figure the average yearly rate; it is the period's denials divided by its "
        "referrals, the total line of Supplementary Table F."
    ),
    "app5_card_intro": (
        "Where the computed value and the print disagree, the card at the end of the page says why. Some of these "
        "differences are the report's own: its tables contradict themselves in a few places (see the note under "
        "Supplementary Table H and {doc}`appendix_errata`); those carry their reason. A difference without a "
        "stated reason stops the build."
    ),
}

#: The glue name of each paragraph of :func:`text_paragraphs`.
PARAGRAPH_KEYS = {
    "counts": "app5_text_counts",
    "people": "app5_text_people",
    "types": "app5_text_types",
    "referrers": "app5_text_referrers",
    "main_referrers": "app5_text_main_referrers",
    "years": "app5_text_years",
    "reasons": "app5_text_reasons",
}

#: Where a column heading of Table E starts with one of these, the count it states is the group's.
_HEADING_GROUPS = {
    "HAT total": "all",
    "HABiB (Bergen)": "Bergen",
    "HABiO (Oslo)": "Oslo",
    "Included": "included",
    "Not included": "not_included",
}


def counts_in_headings(frame: pd.DataFrame, headings: dict) -> pd.DataFrame:
    """A laid-out table whose column headings state counts ("(n=3)", "denials: 2/30") as ``headings``
    (:func:`shown_counts`) shows them: "<5" for a small count, a dash for one that would give a small one back."""
    import re

    def heading(text):
        group = next(
            (
                g
                for prefix, g in sorted(_HEADING_GROUPS.items(), key=lambda item: -len(item[0]))
                if text.startswith(prefix)
            ),
            None,
        )
        if group is None:
            return text
        n = headings["inclusion"][group] if group in ("included", "not_included") else headings["referrals"][group]
        text = re.sub(r"\(n=[\d,]+\)", f"(n={n})", text)
        if group in headings["denials"]:
            text = re.sub(
                r"denials: [\d,]+/[\d,]+", f"denials: {headings['denials'][group]}/{headings['referrals'][group]}", text
            )
        return text

    frame = frame.copy()
    frame.columns = pd.MultiIndex.from_tuples(
        [tuple(heading(str(part)) for part in column) for column in frame.columns]
    )
    return frame


def with_marks(display: pd.DataFrame, cells: dict) -> pd.DataFrame:
    """A laid-out table with the marks of ``cells`` ((row position, column position) -> "<5" or the
    withheld mark, as the edition's protection decided) in place of its values."""
    display = display.copy()
    for (row, column), mark in cells.items():
        display.iat[row, column] = mark
    return display


def protected_e(table: pd.DataFrame, view: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table E laid out as :func:`layout_e` (by clinic; by inclusion) with the marks of ``view``
    (:func:`linked_view`): a withheld count, share or age statistic is marked, and so are the counts of
    the headings."""
    hidden = view["e"].notna()
    shown = table.copy()
    shown.loc[hidden & (shown["variable"] != "referrals"), "value"] = float("nan")
    by_clinic, by_inclusion = layout_e(shown)
    rows = {"age": 0, "sex_male": 1, "secondary_referral": 2, "not_included": 3}
    marked = table.assign(mark=view["e"])[hidden & (table["variable"] != "referrals")]
    panels = []
    for panel, column, order, display in (
        ("clinic", "clinic", CLINIC_ORDER, by_clinic),
        ("inclusion", "inclusion", ("total", "included", "not_included"), by_inclusion),
    ):
        cells = {}
        for row in marked[marked["panel"] == panel].itertuples(index=False):
            position = 1 + 2 * order.index(getattr(row, column)) + (0 if row.statistic in ("mean", "n") else 1)
            cells[(rows[row.variable], position)] = row.mark
        panels.append(counts_in_headings(with_marks(display, cells), view["headings"]))
    return panels[0], panels[1]


def protected_f(table: pd.DataFrame, view: dict) -> pd.DataFrame:
    """Table F laid out as :func:`layout_f` with the marks of ``view`` (:func:`linked_view`): a share or
    rate is withheld with either of the counts it divides."""
    cells = {}
    total_referrals, total_denials = view["f_referrals"].iloc[-1], view["f_denials"].iloc[-1]
    for position in range(len(table)):
        referrals_mark, denials_mark = view["f_referrals"].iloc[position], view["f_denials"].iloc[position]
        if referrals_mark is not None:
            cells[(position, 1)] = referrals_mark
        if denials_mark is not None:
            cells[(position, 3)] = denials_mark
        if referrals_mark is not None or total_referrals is not None:
            cells[(position, 2)] = disclosure.WITHHELD
        if denials_mark is not None or total_denials is not None:
            cells[(position, 5)] = disclosure.WITHHELD
        if referrals_mark is not None or denials_mark is not None:
            cells[(position, 4)] = disclosure.WITHHELD
    return with_marks(layout_f(table), cells)


def protected_categories(
    display: pd.DataFrame, table: pd.DataFrame, marks: pd.Series, column: str, count: str, labels: dict, headings: dict
) -> pd.DataFrame:
    """Table G or H laid out (categories down, clinics across, n and % per clinic) with ``marks`` (one
    per row of ``table``, None to show): a share is withheld with its count or with its clinic's total,
    and the total line and the headings show the clinics' counts as ``headings`` (:func:`shown_counts`) does."""
    order = list(labels) + ["total"]
    totals = {
        clinic: mark for clinic, category, mark in zip(table["clinic"], table[column], marks) if category == "total"
    }
    cells = {}
    for row, mark in zip(table.itertuples(index=False), marks):
        position = 1 + 2 * CLINIC_ORDER.index(row.clinic)
        if mark is not None:
            cells[(order.index(getattr(row, column)), position)] = mark
        if mark is not None or (totals[row.clinic] is not None and getattr(row, count)):
            cells[(order.index(getattr(row, column)), position + 1)] = disclosure.WITHHELD
    display = with_marks(display, cells)
    # Bergen and Oslo add up to both clinics: the total line shows what the headings show
    for clinic, shown in headings["referrals" if count == "n_referrals" else "denials"].items():
        if isinstance(shown, str):
            display.iat[len(order) - 1, 1 + 2 * CLINIC_ORDER.index(clinic)] = shown
    return counts_in_headings(display, headings)


def without_hidden_bars(table: pd.DataFrame, marks: pd.Series, column: str, count: str, percent: str) -> pd.DataFrame:
    """Table G or H for a chart: a withheld cell, or a cell of a clinic whose total is withheld, has no bar."""
    hidden = marks.notna()
    totals = table.loc[table[column] == "total"].assign(hidden=hidden).set_index("clinic")["hidden"]
    gone = (hidden | table["clinic"].map(totals).astype(bool)).to_numpy()
    return table.assign(**{count: table[count].where(~gone), percent: table[percent].where(~gone)})


def appendix(page) -> dict:
    """Appendix 5 of the edition of ``page`` (:func:`analysis.presentation.edition.open_page`): its statistics and
    its tables and charts, protected together with the other editions of its year in a rerun.

    Returns a dict: ``statistics`` (the tidy frame for :meth:`analysis.presentation.scorecard.Card.glue_statistics`:
    ``key``, ``value``, ``note``, ``suppress``; every cell of Supplementary Tables E-H and every figure
    of the text under the ledger key of ``data/published`` tables, the paragraphs of
    :func:`text_paragraphs` and the passages of :data:`PUBLISHED_PASSAGES`), and the displays
    ``tab_supp_e_clinic``, ``tab_supp_e_inclusion``, ``tab_supp_f``, ``tab_supp_g``, ``tab_supp_h``
    (styled tables), ``fig_a5_referrers`` and ``fig_a5_denial_reasons`` (charts)."""
    from analysis.data.published import published_table

    edition, sdc = page.edition, page.sdc
    register = page.cohort.referrals
    e, f, g, h = table_e(register), table_f(register), table_g(register), table_h(register)
    figures = text_figures(register)
    keyed = {
        "e": attach_keys(
            e,
            published_table("supp_table_e_referrals_by_clinic"),
            ["panel", "clinic", "inclusion", "variable", "statistic"],
        ),
        # the total line is the report's "2022-2025" line whatever years the edition covers
        "f": attach_keys(
            f.assign(year=f["year"].where(f["category"] != "total", PUBLISHED_PERIOD)),
            published_table("supp_table_f_referrals_denials_by_year"),
            ["year", "category", "clinic"],
        ),
        "g": attach_keys(g, published_table("supp_table_g_referrers"), ["clinic", "referrer", "category"]),
        "h": attach_keys(h, published_table("supp_table_h_denial_reasons"), ["clinic", "reason", "category"]),
        "text": attach_text_keys(figures, published_table("text_app5_referrals")),
    }
    # what a rerun withholds: small counts and the cells that would give them back, in this edition or set
    # against the other editions of its year (both clinics, Oslo, Bergen)
    view = linked_view(page)
    withheld = linked_withheld_keys(view, register, keyed) | header_withheld_keys(view)
    cells = pd.concat([*keyed.values(), header_counts(register)])[["key", "value"]]
    cells = cells.assign(note=cells["key"].map(ERRATA_NOTES), suppress=cells["key"].isin(withheld))
    first_year = int(register["referral_date"].min().year) if len(register) else None
    paragraphs = text_paragraphs(
        figures,
        view["text"],
        threshold=sdc,
        clinics=edition.clinic_names,
        first_year=first_year,
        markers=view["markers"],
    )
    sentences = {PARAGRAPH_KEYS[name]: paragraph for name, paragraph in paragraphs.items()}
    sentences |= {key: text if edition.published else "" for key, text in PUBLISHED_PASSAGES.items()}
    sentences["app5_main_referrals"] = (
        f"To {edition.data_end_text}, {edition.clinics} received {formats.number(view['headings']['referrals']['all'])} referrals."
    )
    statistics = pd.concat(
        [cells, pd.DataFrame({"key": list(sentences), "value": list(sentences.values())})], ignore_index=True
    )

    counts = referral_counts(register)
    per_clinic = {"all": counts["referrals"], "Bergen": counts["referrals_bergen"], "Oslo": counts["referrals_oslo"]}
    by_clinic, by_inclusion = layout_e(e)
    layout = {"f": layout_f(f), "g": layout_g(g), "h": layout_h(h, per_clinic)}
    if sdc is not None:
        by_clinic, by_inclusion = protected_e(e, view)
        layout["f"] = protected_f(f, view)
        layout["g"] = protected_categories(
            layout["g"], g, view["g"], "referrer", "n_referrals", REFERRER_LABELS, view["headings"]
        )
        layout["h"] = protected_categories(
            layout["h"], h, view["h"], "reason", "n_denials", REASON_LABELS, view["headings"]
        )
    return {
        "statistics": statistics,
        "tab_supp_e_clinic": formats.styled(by_clinic, "By clinic"),
        "tab_supp_e_inclusion": formats.styled(by_inclusion, "By inclusion"),
        "tab_supp_f": formats.styled(layout["f"], ""),
        "tab_supp_g": formats.styled(layout["g"], ""),
        "tab_supp_h": formats.styled(layout["h"], ""),
        "fig_a5_referrers": referrer_chart(
            without_hidden_bars(g, view["g"], "referrer", "n_referrals", "percent")
        ).properties(width=420),
        "fig_a5_denial_reasons": denial_reason_chart(
            without_hidden_bars(h, view["h"], "reason", "n_denials", "valid_percent")
        ).properties(width=420),
    }


# --- within-edition suppression of the referral tables (section 6.6 and Appendix 5) ---------------------------------------------------


def _two_way_mask(table: pd.DataFrame, column: str, count: str, threshold: int) -> pd.Series:
    """Suppression in a table of categories (``column``) by clinic (``all``, Bergen, Oslo) with a
    ``total`` row per clinic: small cells, then complementary cells both down each clinic (the
    categories add up to the clinic's total) and across clinics (Bergen and Oslo add up to ``all``),
    repeated until neither direction can give a hidden cell back."""
    cells = table[table["category"] != "total"]
    n = pd.to_numeric(cells[count], errors="coerce").fillna(0)
    hidden = n.gt(0) & n.lt(threshold)
    changed = True
    while changed:
        changed = False
        for _, index in cells.groupby("clinic", sort=False).groups.items():
            inside = hidden.loc[index]
            if int(inside.sum()) == 1:
                candidates = n.loc[index][~inside & n.loc[index].gt(0)].sort_values(kind="stable")
                if len(candidates):
                    hidden.loc[candidates.index[0]] = True
                    changed = True
        for _, index in cells.groupby(column, sort=False).groups.items():
            inside = hidden.loc[index]
            if inside.any() and not inside[n.loc[index].gt(0)].all():
                hidden.loc[index] = n.loc[index].gt(0) | inside
                changed = True
    out = pd.Series(False, index=table.index)
    out.loc[hidden.index] = hidden
    totals = table["category"] == "total"
    out[totals] = [disclosure.is_small(v, threshold) for v in table.loc[totals, count]]
    return out


def referral_suppression(referrals: pd.DataFrame, threshold: int | None) -> dict:
    """What a rerun withholds in the referral tables (Supplementary Tables E-H) and in the text figures
    built on them (:func:`text_figures`).

    Returns a dict of boolean Series aligned with the tables of this module:
    ``e`` (a value of Table E: a count from 1 to threshold-1 or one whose complement in its group is,
    its percentage, and the age statistics of a group of fewer than ``threshold`` referrals), ``f_referrals``
    and ``f_denials`` (rows of Table F), ``g`` and ``h`` (cells of Tables G and H, two-way complementary
    suppression), and ``text``: a set of (item, clinic) of the text figures to withhold. With
    ``threshold=None`` nothing is withheld.
    """
    e, f, g, h = table_e(referrals), table_f(referrals), table_g(referrals), table_h(referrals)
    if threshold is None:

        def none(t):
            return pd.Series(False, index=t.index)

        return {"e": none(e), "f_referrals": none(f), "f_denials": none(f), "g": none(g), "h": none(h), "text": set()}

    hidden = {"e": _table_e_hidden(e, threshold)}
    hidden["f_referrals"], hidden["f_denials"] = _table_f_hidden(f, threshold)
    hidden["g"] = _two_way_mask(g, "referrer", "n_referrals", threshold)
    hidden["h"] = _two_way_mask(h, "reason", "n_denials", threshold)
    hidden["text"] = _text_hidden(referrals, e, f, g, h, hidden, threshold)
    return hidden


def _table_e_hidden(e: pd.DataFrame, threshold: int) -> pd.Series:
    """Table E: the values withheld within the edition (a small count, or one whose complement in its group is
    small, with its percentage; every value of a group of fewer than ``threshold`` referrals)."""
    # each group (panel, clinic, inclusion) has n referrals; males, secondary and not included are parts of n
    # whose complement is implied
    e_hidden = pd.Series(False, index=e.index)
    for _, group in e.groupby(["panel", "clinic", "inclusion"], sort=False):
        values = group.set_index(["variable", "statistic"])["value"]
        n = values.get(("referrals", "n"), 0)
        for variable in ("sex_male", "secondary_referral", "not_included"):
            if (variable, "n") not in values.index:
                continue
            part = values[(variable, "n")]
            if disclosure.is_small(part, threshold) or disclosure.is_small(n - part, threshold):
                e_hidden[group.index[group["variable"] == variable]] = True
        if disclosure.is_small(n, threshold):
            e_hidden[group.index] = True
    return e_hidden


def _table_f_hidden(f: pd.DataFrame, threshold: int) -> tuple[pd.Series, pd.Series]:
    """Table F: the rows whose referrals, and the rows whose denials, are withheld within the edition."""
    years = f[f["category"] == "year"]
    f_referrals = pd.Series(False, index=f.index)
    f_referrals.loc[years.index] = disclosure.suppression_mask(years, "n_referrals", threshold, groups=[])
    f_denials = pd.Series(False, index=f.index)
    f_denials.loc[years.index] = disclosure.suppression_mask(years, "n_denials", threshold, groups=[])
    total = f["category"] == "total"
    f_referrals[total] = [disclosure.is_small(v, threshold) for v in f.loc[total, "n_referrals"]]
    f_denials[total] = [disclosure.is_small(v, threshold) for v in f.loc[total, "n_denials"]]
    # a year's accepted referrals are its referrals less its denials: when they are few and both counts
    # are shown, the year's denials are hidden, with a second year's (the smallest positive) so that the
    # column's total does not give them back, or the total's own denials when there is no other year
    accepted = years["n_referrals"] - years["n_denials"]
    for i in years.index:
        if disclosure.is_small(accepted[i], threshold) and not (f_referrals[i] or f_denials[i]):
            f_denials[i] = True
    if int(f_denials[years.index].sum()) == 1 and not f_denials[total].any():
        others = years["n_denials"][~f_denials[years.index] & years["n_denials"].gt(0)].sort_values(kind="stable")
        if len(others):
            f_denials[others.index[0]] = True
        else:
            f_denials[total] = True
    return f_referrals, f_denials


def _text_hidden(referrals, e, f, g, h, hidden: dict, threshold: int) -> set[tuple[str, str]]:
    """The (item, clinic) figures of the text to withhold within the edition: shares with the table cells they are
    built on (``hidden``: the tables' masks), the yearly denial rates, and the first year's admission pauses when
    one of its two parts is small."""
    e_hidden, f_referrals, f_denials = hidden["e"], hidden["f_referrals"], hidden["f_denials"]
    years = f[f["category"] == "year"]
    total = f["category"] == "total"
    text: set[tuple[str, str]] = set()
    e_index = e.set_index(["panel", "clinic", "inclusion", "variable", "statistic"]).index
    e_hidden_at = dict(zip(e_index, e_hidden))
    for clinic in CLINIC_ORDER:
        for item, variable in (
            ("male_percent", "sex_male"),
            ("secondary_percent", "secondary_referral"),
            ("denied_percent", "not_included"),
        ):
            if e_hidden_at.get(("clinic", clinic, "all", variable, "percent")):
                text.add((item, clinic))
        if e_hidden_at.get(("clinic", clinic, "all", "age", "mean")):
            text.add(("mean_age", clinic))
    if e_hidden_at.get(("inclusion", "all", "not_included", "sex_male", "percent")):
        text.add(("denied_male_percent", "all"))
    if e_hidden_at.get(("inclusion", "all", "not_included", "age", "mean")):
        text.add(("denied_mean_age", "all"))
    referrers = {
        "specialist_oat": "referrer_oat_percent",
        "nav": "referrer_nav_percent",
        "low_threshold_addiction": "referrer_low_threshold_percent",
        "primary_care_physician": "referrer_gp_percent",
    }
    for (clinic, referrer), withheld in zip(g.set_index(["clinic", "referrer"]).index, hidden["g"]):
        if withheld and referrer in referrers:
            text.add((referrers[referrer], clinic))
    reasons = {
        "admission_pause": "denial_admission_pause_percent",
        "not_in_target_group": "denial_not_target_group_percent",
        "other_treatment_more_suitable": "denial_other_treatment_percent",
        "risk_of_violence": "denial_risk_of_violence_percent",
        "new_medications_in_oat": "denial_new_medications_percent",
    }
    for (clinic, reason), withheld in zip(h.set_index(["clinic", "reason"]).index, hidden["h"]):
        if withheld and reason in reasons:
            text.add((reasons[reason], clinic))
    if len(years):
        first = years.index[0]
        if f_referrals[first]:
            text.add(("first_year_referrals_percent", "all"))
        if f_denials[first]:
            text.add(("first_year_denials_percent", "all"))
        # a yearly denial rate is withheld with its year's denials or when the accepted referrals of the
        # year are few; the lowest and highest rate are withheld when any year's rate is
        accepted = years["n_referrals"] - years["n_denials"]
        if (
            f_denials[years.index]
            | f_referrals[years.index]
            | accepted.map(lambda v: disclosure.is_small(v, threshold))
        ).any():
            text.update({("annual_denial_rate_min", "all"), ("annual_denial_rate_max", "all")})
    if f_denials[total].any() or disclosure.is_small(
        int(f.loc[total, "n_referrals"].iloc[0]) - int(f.loc[total, "n_denials"].iloc[0]), threshold
    ):
        text.add(("annual_denial_rate_average", "all"))
    pauses = referrals[referrals["denial_reason"] == "admission_pause"]
    if len(pauses) and len(years):
        in_first = int((pd.to_datetime(pauses["referral_date"]).dt.year == int(years["year"].iloc[0])).sum())
        if disclosure.any_small([in_first, len(pauses) - in_first], threshold):
            text.add(("admission_pause_first_year_percent", "all"))
    return text


def referral_withheld_keys(
    referrals: pd.DataFrame, keyed: Mapping[str, pd.DataFrame], threshold: int | None
) -> set[str]:
    """The ledger keys a rerun withholds among ``keyed`` frames of the referral pages: ``"e"``, ``"f"``,
    ``"g"``, ``"h"`` (from :func:`attach_keys` of each table) and ``"text"`` (from
    :func:`attach_text_keys`). See :func:`referral_suppression`."""
    if threshold is None:
        return set()
    hidden = referral_suppression(referrals, threshold)
    keys: set[str] = set()
    e, f, g, h = table_e(referrals), table_f(referrals), table_g(referrals), table_h(referrals)

    def hidden_ids(table, mask, columns):
        return {tuple(str(v) for v in row) for row in table.loc[mask, columns].itertuples(index=False)}

    if "e" in keyed:
        cols = ["panel", "clinic", "inclusion", "variable", "statistic"]
        ids = hidden_ids(e, hidden["e"], cols)
        frame = keyed["e"]
        keys |= {k for k, *row in frame[["key", *cols]].itertuples(index=False) if tuple(str(v) for v in row) in ids}
    if "f" in keyed:
        frame = keyed["f"]
        years_r = {str(y) for y in f.loc[hidden["f_referrals"], "year"]}
        years_d = {str(y) for y in f.loc[hidden["f_denials"], "year"]}
        accepted_small = {
            str(y) for y, a in zip(f["year"], f["n_referrals"] - f["n_denials"]) if disclosure.is_small(a, threshold)
        }
        for key, year, measure in frame[["key", "year", "measure"]].itertuples(index=False):
            year = str(year)
            if measure in ("n_referrals", "percent_of_total_referrals") and year in years_r:
                keys.add(key)
            if measure in ("n_denials", "percent_of_total_denials") and year in years_d:
                keys.add(key)
            if measure == "denial_rate_percent" and (year in years_d or year in years_r or year in accepted_small):
                keys.add(key)
    for name, table, column in (("g", g, "referrer"), ("h", h, "reason")):
        if name in keyed:
            ids = hidden_ids(table, hidden[name], ["clinic", column])
            frame = keyed[name]
            keys |= {
                k
                for k, *row in frame[["key", "clinic", column]].itertuples(index=False)
                if tuple(str(v) for v in row) in ids
            }
    if "text" in keyed:
        frame = keyed["text"]
        base = frame["item"].str.replace(r"^(mf|mp)_", "", regex=True)
        keys |= {k for k, item, clinic in zip(frame["key"], base, frame["clinic"]) if (item, clinic) in hidden["text"]}
    return keys
