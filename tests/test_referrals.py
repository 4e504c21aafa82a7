"""Referral statistics (section 6.6, Appendix 5) on a dozen hand-built referrals.

The register below is small enough to tabulate by hand; each expected number is worked out in the
comment next to it.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.data.published import published_table
from analysis.sections import referrals as ref

COLUMNS = [
    "referral_id",
    "person_id",
    "clinic",
    "referral_date",
    "age",
    "sex",
    "referral_type",
    "referrer",
    "decision",
    "denial_reason",
]
ROWS = [
    (
        "R001",
        "Q001",
        "Oslo",
        "2022-02-01",
        30,
        "male",
        "primary",
        "low_threshold_addiction",
        "denied",
        "admission_pause",
    ),
    (
        "R002",
        "Q001",
        "Oslo",
        "2022-06-01",
        30,
        "male",
        "primary",
        "low_threshold_addiction",
        "denied",
        "admission_pause",
    ),
    ("R003", "Q001", "Oslo", "2023-03-01", 31, "male", "primary", "nav", "accepted", None),
    ("R004", "Q002", "Oslo", "2022-04-10", 40, "female", "secondary", "specialist_oat", "denied", "risk_of_violence"),
    ("R005", "Q002", "Oslo", "2024-05-05", 42, "female", "secondary", "specialist_oat", "accepted", None),
    (
        "R006",
        "Q003",
        "Bergen",
        "2022-01-15",
        50,
        "male",
        "secondary",
        "specialist_oat",
        "denied",
        "not_in_target_group",
    ),
    ("R007", "Q003", "Bergen", "2023-08-20", 51, "male", "secondary", "specialist_oat", "accepted", None),
    ("R008", "Q004", "Bergen", "2022-09-09", 25, "female", "primary", "primary_care_physician", "accepted", None),
    ("R009", "Q005", "Oslo", "2023-10-10", 60, "male", "secondary", "specialist_oat", "denied", "admission_pause"),
    ("R010", "Q006", "Oslo", "2025-01-01", 35, "male", "primary", "primary_care_physician", "accepted", None),
    ("R011", "Q007", "Bergen", "2025-12-31", 45, "male", "primary", "nav", "denied", "new_medications_in_oat"),
    ("R012", "Q008", "Oslo", "2024-11-11", 44, "female", "primary", "specialist_oat", "accepted", None),
]


@pytest.fixture
def register() -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    frame["referral_date"] = pd.to_datetime(frame["referral_date"])
    frame["age"] = frame["age"].astype("Int64")
    frame["denial_reason"] = frame["denial_reason"].astype("string")
    frame["patient_id"] = pd.Series([pd.NA] * len(frame), dtype="string")
    return frame


def cell(table: pd.DataFrame, **where) -> float:
    mask = pd.Series(True, index=table.index)
    value_column = where.pop("column", "value")
    for column, wanted in where.items():
        mask &= table[column] == wanted
    assert mask.sum() == 1, where
    return float(table.loc[mask, value_column].iloc[0])


# --- counts -----------------------------------------------------------------------------------------


def test_counts_referrals_persons_and_repeat_referrals(register):
    counts = ref.referral_counts(register)
    # Q001 three referrals, Q002 and Q003 two each, five persons one each
    assert counts == {
        "referrals": 12,
        "persons": 8,
        "persons_two_referrals": 2,
        "persons_three_plus_referrals": 1,
        "referrals_oslo": 8,
        "referrals_bergen": 4,
    }


def test_a_person_referred_to_both_clinics_is_one_person(register):
    register.loc[register.referral_id == "R008", "person_id"] = "Q002"  # Q002: two in Oslo, one in Bergen
    counts = ref.referral_counts(register)
    assert counts["persons"] == 7
    assert counts["persons_two_referrals"] == 1  # only Q003 now
    assert counts["persons_three_plus_referrals"] == 2  # Q001 and Q002


def test_referral_years_counts_calendar_years_from_first_to_last(register):
    assert ref.referral_years(register) == 4  # 2022, 2023, 2024, 2025
    assert ref.referral_years(register[register.referral_date.dt.year <= 2023]) == 2


# --- Supplementary Table E ----------------------------------------------------------------------------


def test_table_e_by_clinic(register):
    e = ref.table_e(register)

    def c(clinic, variable, statistic):
        return cell(e, panel="clinic", clinic=clinic, variable=variable, statistic=statistic)

    assert c("all", "referrals", "n") == 12
    assert c("all", "age", "mean") == pytest.approx(483 / 12)  # 40.25
    assert (c("all", "age", "min"), c("all", "age", "max")) == (25, 60)
    assert c("Oslo", "age", "mean") == pytest.approx(39.0)  # 312 / 8
    assert c("Bergen", "age", "mean") == pytest.approx(42.75)  # 171 / 4
    # Bergen ages 50, 51, 25, 45: squared deviations 440.75, sample variance /3, SE = SD / sqrt(4)
    assert c("Bergen", "age", "se") == pytest.approx(math.sqrt(440.75 / 3) / 2)
    assert c("all", "sex_male", "n") == 8 and c("all", "sex_male", "percent") == pytest.approx(200 / 3)
    assert c("Oslo", "sex_male", "percent") == pytest.approx(62.5)  # 5 of 8
    assert c("Bergen", "sex_male", "percent") == pytest.approx(75.0)  # 3 of 4
    assert c("all", "secondary_referral", "n") == 5
    assert c("Oslo", "secondary_referral", "percent") == pytest.approx(37.5)  # 3 of 8
    assert c("Bergen", "secondary_referral", "percent") == pytest.approx(50.0)  # 2 of 4
    assert c("all", "not_included", "n") == 6 and c("all", "not_included", "percent") == pytest.approx(50.0)
    assert c("Oslo", "not_included", "n") == 4 and c("Bergen", "not_included", "n") == 2


def test_table_e_by_inclusion(register):
    e = ref.table_e(register)

    def c(group, variable, statistic):
        return cell(e, panel="inclusion", inclusion=group, variable=variable, statistic=statistic)

    assert c("total", "referrals", "n") == 12
    assert c("included", "referrals", "n") == 6 and c("included", "age", "mean") == pytest.approx(38.0)  # 228 / 6
    assert c("not_included", "age", "mean") == pytest.approx(42.5)  # 255 / 6
    assert (c("not_included", "age", "min"), c("not_included", "age", "max")) == (30, 60)
    assert c("included", "sex_male", "percent") == pytest.approx(50.0)  # 3 of 6
    assert c("not_included", "sex_male", "percent") == pytest.approx(500 / 6)  # 5 of 6
    # the inclusion panel has no type-of-referral rows, as in the report
    assert set(e.loc[e.panel == "inclusion", "variable"]) == {"referrals", "age", "sex_male"}


def test_standard_error_uses_the_sample_standard_deviation():
    frame = pd.DataFrame(
        {
            "age": [20, 30],
            "sex": ["male", "female"],
            "referral_type": ["primary"] * 2,
            "decision": ["accepted"] * 2,
            "clinic": ["Oslo"] * 2,
        }
    )
    e = ref.table_e(frame)
    # SD with n - 1 = sqrt(50) = 7.07; / sqrt(2) = 5.0 (with n in the denominator it would be 3.54)
    assert cell(e, panel="clinic", clinic="all", variable="age", statistic="se") == pytest.approx(5.0)


# --- Supplementary Table F ----------------------------------------------------------------------------


def test_table_f_per_year(register):
    f = ref.table_f(register).set_index("year")
    assert list(f.index) == ["2022", "2023", "2024", "2025", "2022-2025"]
    assert f["n_referrals"].tolist() == [5, 3, 2, 2, 12]
    assert f["n_denials"].tolist() == [4, 1, 0, 1, 6]
    assert f["percent_of_total_referrals"].tolist() == pytest.approx([500 / 12, 25.0, 200 / 12, 200 / 12, 100.0])
    assert f["denial_rate_percent"].tolist() == pytest.approx([80.0, 100 / 3, 0.0, 50.0, 50.0])
    # of all denials (the report's header says "of total referrals", but its numbers are of denials)
    assert f["percent_of_total_denials"].tolist() == pytest.approx([400 / 6, 100 / 6, 0.0, 100 / 6, 100.0])
    assert f.loc["2022-2025", "category"] == "total"


def test_yearly_by_clinic_lists_every_year_and_clinic(register):
    yearly = ref.yearly_by_clinic(register).set_index(["measure", "year", "clinic"])["n"]
    assert len(yearly) == 2 * 4 * 2
    assert yearly[("referrals", 2022, "Oslo")] == 3 and yearly[("referrals", 2022, "Bergen")] == 2
    assert yearly[("denials", 2024, "Oslo")] == 0 and yearly[("denials", 2025, "Bergen")] == 1


# --- Supplementary Tables G and H -------------------------------------------------------------------


def test_table_g_referrers(register):
    g = ref.table_g(register)

    def n(clinic, referrer):
        return cell(g, clinic=clinic, referrer=referrer, column="n_referrals")

    def p(clinic, referrer):
        return cell(g, clinic=clinic, referrer=referrer, column="percent")

    assert n("all", "specialist_oat") == 6 and p("all", "specialist_oat") == pytest.approx(50.0)
    assert n("Oslo", "specialist_oat") == 4 and p("Oslo", "specialist_oat") == pytest.approx(50.0)
    assert n("Oslo", "low_threshold_addiction") == 2 and p("Oslo", "low_threshold_addiction") == pytest.approx(25.0)
    assert n("Bergen", "low_threshold_addiction") == 0 and p("Bergen", "low_threshold_addiction") == 0.0
    assert p("Bergen", "nav") == pytest.approx(25.0) and p("Oslo", "primary_care_physician") == pytest.approx(12.5)
    assert n("Bergen", "total") == 4 and p("Bergen", "total") == 100.0
    # every referrer of the schema is listed for every clinic, with a total row each
    assert len(g) == 3 * (14 + 1)


def test_table_h_reasons_are_shares_of_the_clinics_denials(register):
    h = ref.table_h(register)

    def n(clinic, reason):
        return cell(h, clinic=clinic, reason=reason, column="n_denials")

    def p(clinic, reason):
        return cell(h, clinic=clinic, reason=reason, column="valid_percent")

    assert n("all", "admission_pause") == 3 and p("all", "admission_pause") == pytest.approx(50.0)  # 3 of 6
    assert p("Oslo", "admission_pause") == pytest.approx(75.0)  # 3 of Oslo's 4 denials
    assert p("Oslo", "risk_of_violence") == pytest.approx(25.0)
    assert p("Bergen", "not_in_target_group") == pytest.approx(50.0)  # 1 of Bergen's 2
    assert n("Bergen", "admission_pause") == 0
    assert n("all", "total") == 6 and n("Oslo", "total") == 4 and n("Bergen", "total") == 2
    assert len(h) == 3 * (13 + 1)


# --- figures of the text ------------------------------------------------------------------------------


def test_text_figures(register):
    t = ref.text_figures(register)

    def v(item, clinic="all"):
        return cell(t, item=item, clinic=clinic)

    assert v("referral_period") == 4
    assert (v("referrals"), v("referred_patients"), v("referrals", "Oslo"), v("referrals", "Bergen")) == (12, 8, 8, 4)
    assert v("first_year_referrals_percent") == pytest.approx(500 / 12)  # 5 of 12 in 2022
    assert v("first_year_denials_percent") == pytest.approx(400 / 6)  # 4 of 6 denials in 2022
    # the period's denials over its referrals (6 / 12); the mean of the yearly rates would be 40.8
    assert v("annual_denial_rate_average") == pytest.approx(50.0)
    assert (v("annual_denial_rate_min"), v("annual_denial_rate_max")) == pytest.approx((0.0, 80.0))
    assert v("admission_pause_first_year_percent") == pytest.approx(200 / 3)  # 2 of 3 pauses in 2022
    assert v("denied_mean_age") == pytest.approx(42.5) and v("denied_male_percent") == pytest.approx(500 / 6)
    assert v("referrer_low_threshold_percent", "Bergen") == 0.0
    assert v("referrer_gp_percent", "Oslo") == pytest.approx(12.5)
    assert v("denial_admission_pause_percent", "Oslo") == pytest.approx(75.0)
    assert v("denial_new_medications_percent", "Bergen") == pytest.approx(50.0)
    assert v("mean_age", "Bergen") == pytest.approx(42.75)


# --- matching to the published tables and the ledger ---------------------------------------------------


def test_published_cells_pairs_each_key_with_its_value_column():
    published = pd.DataFrame(
        {
            "clinic": ["all", "Oslo"],
            "n": [3, None],
            "key_n": ["k_all_n", None],
            "pct": [60.0, None],
            "key_pct": ["k_all_pct", None],
        }
    )
    cells = ref.published_cells(published)
    assert cells[["clinic", "measure", "published", "key"]].values.tolist() == [
        ["all", "n", 3.0, "k_all_n"],
        ["all", "pct", 60.0, "k_all_pct"],
    ]


def test_attach_keys_matches_cells_by_their_identifiers(register):
    published = published_table("supp_table_h_denial_reasons")
    matched = ref.attach_keys(ref.table_h(register), published, ["clinic", "reason", "category"])
    row = matched.set_index("key").loc["sth_oslo_admission_pause_valid_percent"]
    assert row.value == pytest.approx(75.0) and row.published == 22.5


def computed_keys(register) -> dict[str, float]:
    """Every ledger key the two pages glue, from the toy register."""
    keys = {}
    for name, table, on in (
        (
            "supp_table_e_referrals_by_clinic",
            ref.table_e(register),
            ["panel", "clinic", "inclusion", "variable", "statistic"],
        ),
        ("supp_table_f_referrals_denials_by_year", ref.table_f(register), ["year", "category", "clinic"]),
        ("supp_table_g_referrers", ref.table_g(register), ["clinic", "referrer", "category"]),
        ("supp_table_h_denial_reasons", ref.table_h(register), ["clinic", "reason", "category"]),
    ):
        keys.update(ref.attach_keys(table, published_table(name), on).set_index("key")["value"].to_dict())
    for name in ("text_6_6_process", "text_app5_referrals"):
        keys.update(
            ref.attach_text_keys(ref.text_figures(register), published_table(name)).set_index("key")["value"].to_dict()
        )
    keys.update(ref.header_counts(register).set_index("key")["value"].to_dict())
    return keys


def test_every_ledger_key_of_the_two_sections_gets_a_computed_value(register):
    statistics = published_table("statistics")
    wanted = set(statistics.loc[(statistics.section == "Appendix 5") | statistics.key.str.startswith("s6_6_"), "key"])
    assert len(wanted) == 295 + 55
    keys = computed_keys(register)
    assert wanted == set(keys)
    assert not any(pd.isna(v) for v in keys.values())
    assert keys["s6_6_mf_referral_period"] == 4 and keys["app5_mp_referrals"] == 12
    assert keys["sth_header_bergen_denials_n"] == 2 and keys["sth_header_bergen_referrals_n"] == 4


# --- display and charts ---------------------------------------------------------------------------------


def test_layouts_show_aggregates_like_the_report(register):
    by_clinic, by_inclusion = ref.layout_e(ref.table_e(register))
    assert by_clinic.shape == (4, 7) and by_inclusion.shape == (2, 7)
    assert by_clinic.iloc[0, 1] == "40.25"  # mean age, both clinics
    g = ref.layout_g(ref.table_g(register))
    bergen = [c for c in g.columns if c[0].startswith("HABiB")]
    low_threshold = list(ref.REFERRER_LABELS).index("low_threshold_addiction")
    assert g.loc[low_threshold, bergen].tolist() == ["", ""]  # zero cells left empty, as in the report
    h = ref.layout_h(ref.table_h(register), {"all": 12, "Bergen": 4, "Oslo": 8})
    assert any("denials: 4/8" in c[0] for c in h.columns)
    assert ref.layout_f(ref.table_f(register))["Year"].iloc[-1] == "Total 2022\u20132025"
    assert ref._total_label("2022-2022") == "Total 2022"


def test_charts_build_from_aggregates(register):
    for chart in (
        ref.yearly_chart(ref.yearly_by_clinic(register)),
        ref.referrer_chart(ref.table_g(register)),
        ref.denial_reason_chart(ref.table_h(register)),
    ):
        spec = chart.to_dict()
        values = spec["datasets"][next(iter(spec["datasets"]))]
        assert "person_id" not in values[0] and "referral_id" not in values[0]


# --- the referral paragraphs of any edition (analysis.sections.referrals.text_paragraphs) ---------------------


def _figures(values: dict) -> pd.DataFrame:
    """A text_figures frame from {(item, clinic): value}."""
    return pd.DataFrame(
        [(item, clinic, float(v)) for (item, clinic), v in values.items()], columns=["item", "clinic", "value"]
    )


def _base(changes: dict | None = None) -> dict:
    values = {
        ("referral_period", "all"): 2,
        ("referrals", "all"): 40,
        ("referrals", "Oslo"): 30,
        ("referrals", "Bergen"): 10,
        ("referred_patients", "all"): 35,
        ("patients_two_referrals", "all"): 5,
        ("patients_three_plus_referrals", "all"): 0,
        ("annual_denial_rate_min", "all"): 30.0,
        ("annual_denial_rate_max", "all"): 40.0,
        ("annual_denial_rate_average", "all"): 35.0,
        ("first_year_referrals_percent", "all"): 60.0,
        ("first_year_denials_percent", "all"): 55.0,
    }
    for clinic, secondary, denied in (("all", 62.0, 38.0), ("Oslo", 53.0, 39.0), ("Bergen", 77.0, 36.0)):
        values[("secondary_percent", clinic)] = secondary
        values[("denied_percent", clinic)] = denied
        values[("male_percent", clinic)] = 75.0
        values[("mean_age", clinic)] = 44.6
        for i, item in enumerate(ref.REFERRER_WORDS):
            values[(item, clinic)] = 40.0 - 10 * i
        for i, item in enumerate(ref.REASON_WORDS):
            values[(item, clinic)] = 20.0 - 2 * i
    values[("denied_mean_age", "all")] = 44.0
    values[("denied_male_percent", "all")] = 70.0
    values.update(changes or {})
    return values


def test_text_paragraphs_choose_words_and_comparisons_from_the_values():
    text = ref.text_paragraphs(_figures(_base()), first_year=2022)
    assert text["types"].startswith(
        "Most of the referrals were secondary, 62% of all (53% in Oslo, 77% in Bergen), clearly more so in Bergen"
    )
    assert (
        "A minority of the referrals were denied, 38% (39% in Oslo, 36% in Bergen), at similar rates" in text["types"]
    )
    assert "mean age was 45 years (45 in Oslo, 45 in Bergen)" in text["people"]
    assert "ranged from 30% to 40%" in text["years"] and "The first calendar year, 2022, brought 60%" in text["years"]
    assert text["main_referrers"].startswith("The largest share came from the conventional OAT service")
    assert "Oslo received 30 of them and Bergen 10." in text["counts"]


def test_text_paragraphs_withhold_and_drop_claims_that_rest_on_hidden_figures():
    hidden = {("referrer_nav_percent", "all"), ("annual_denial_rate_min", "all"), ("annual_denial_rate_max", "all")}
    values = _base({("referrals", "Bergen"): 3, ("referrals", "Oslo"): 37})
    text = ref.text_paragraphs(_figures(values), hidden, threshold=5, first_year=2022)
    assert "the Norwegian Labour and Welfare Administration sent –" in text["referrers"]
    assert "sent the most" not in text["referrers"] and "not shown" in text["main_referrers"]
    assert "ranged" not in text["years"] and "withheld" in text["years"]
    # one clinic small: neither clinic's count is given (the total would give the small one back)
    assert "Oslo received" not in text["counts"] and " 37 " not in text["counts"]


def test_text_paragraphs_of_one_clinic_and_one_year():
    values = _base({("referral_period", "all"): 1})
    text = ref.text_paragraphs(_figures(values), clinics=("Bergen",), first_year=2022)
    assert "Oslo" not in " ".join(text.values())
    assert text["years"].startswith("All the referrals of this edition fall in one calendar year, 2022")
    values = _base({("secondary_percent", "all"): float("nan")})
    assert "n/a" in ref.text_paragraphs(_figures(values))["types"]
