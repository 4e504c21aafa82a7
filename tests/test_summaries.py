"""The summary pages restate the computed chapters' results by cross-page glue, never by typing them.

The Executive summary, the chapter 6 overview ("Summary of results"), 6.8 and the recommendations,
discussion, limitations and conclusion restate results that other pages compute. Each ledger row of
their sections is classified here, once:

* ``GLUED``: the result is computed on a chapter page, which glues it under the summary's own key
  (``card.glue("<key>", ...)``, the same variable as the chapter's key); the summary page pastes it with
  ``{glue:text}`<chapter>.md::<key>:<format>``` (myst-nb resolves the document only with its suffix,
  and the role needs a format spec: without one, ``rsplit(":")`` cuts the ``::``);
* ``TYPED``: not a statistic (a length of the study period, a schedule, a threshold set by policy), so
  the summary may write it out in words; the test checks that the words say what the ledger says;
* ``AS_WORDS``: a result the summary describes without its number, for the reason given (a rounded
  restatement whose chapter pastes the exact figure instead, or an external estimate nobody computes).

A new ledger row in these sections fails the first test until it is classified, and a summary key that
a computed page glues fails unless its summary page pastes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

#: The summary sections of the ledger and the page that states each.
SUMMARY_PAGES = {
    "Executive summary": "executive_summary",
    "Summary of recommendations": "summary_of_recommendations",
    "6": "ch06_results",
    "6.8": "ch06_8_summary_key_results",
    "8": "ch08_recommendations",
    "9": "ch09_discussion",
    "10": "ch10_strengths_limitations",
    "12": "ch12_conclusion",
}

ENROLLMENT = "ch06_1_enrollment_retention"
COST_UTILITY = "ch06_7_cost_utility"
OAT_CONTEXT = "ch03_hat_in_norway"

#: Summary keys restating a computed result: key -> the page that computes (and glues) it.
GLUED = {
    # Economic findings, computed in 6.7
    "es_treatment_cost_per_patient_year": COST_UTILITY,
    "es_incremental_cost_per_patient_year": COST_UTILITY,
    "es_incremental_qaly": COST_UTILITY,
    "es_cost_per_qaly": COST_UTILITY,
    "es_reduction_other_health_services_per_patient_year": COST_UTILITY,
    "es_net_incremental_cost_sensitivity": COST_UTILITY,
    "s6_summary_gross_cost_per_patient_year": COST_UTILITY,
    "s6_summary_icer_retention_vs_discontinuation": COST_UTILITY,
    "s6_summary_somatic_specialist_cost_reduction": COST_UTILITY,
    "s6_summary_crime_cost_reduction": COST_UTILITY,
    "s6_summary_severity_reference_value": COST_UTILITY,
    "s6_summary_conventional_oat_icer_reference": COST_UTILITY,
    "s6_8_gross_cost_per_patient_year": COST_UTILITY,
    "s6_8_icer_retention_vs_no_stable_plan": COST_UTILITY,
    "s8_rec2_cost_per_patient_year": COST_UTILITY,
    # Executive summary, Enrollment and population
    "es_patients_started": ENROLLMENT,
    "es_patients_started_oslo": ENROLLMENT,
    "es_patients_started_bergen": ENROLLMENT,
    "es_left_treatment_percent": ENROLLMENT,
    "es_left_treatment_n": ENROLLMENT,
    "es_mean_treatment_length_discharged": ENROLLMENT,
    "es_discharges_voluntary_percent": ENROLLMENT,
    "es_discharges_nonattendance_involuntary_percent": ENROLLMENT,
    # 6 Summary of results, Enrollment and retention
    "s6_summary_patients_consented_total": ENROLLMENT,
    "s6_summary_patients_consented_oslo": ENROLLMENT,
    "s6_summary_patients_consented_bergen": ENROLLMENT,
    "s6_summary_capacity_oslo": ENROLLMENT,
    "s6_summary_capacity_bergen": ENROLLMENT,
    "s6_summary_left_treatment_percent": ENROLLMENT,
    "s6_summary_left_treatment_n": ENROLLMENT,
    "s6_summary_discharged_mean_months_in_treatment": ENROLLMENT,
    "s6_summary_discharged_min_time_in_treatment_days": ENROLLMENT,
    "s6_summary_discharged_max_time_in_treatment_years": ENROLLMENT,
    "s6_summary_discharges_voluntary_percent": ENROLLMENT,
    "s6_summary_voluntary_discharges_to_oat_percent": ENROLLMENT,
    "s6_summary_discharges_nonattendance_involuntary_percent": ENROLLMENT,
    # 6.8 Summary of key results
    "s6_8_patients_participated_total": ENROLLMENT,
    "s6_8_patients_participated_oslo": ENROLLMENT,
    "s6_8_patients_participated_bergen": ENROLLMENT,
    "s6_8_mean_months_in_treatment": ENROLLMENT,
    "s6_8_patients_in_treatment_2025_12_31": ENROLLMENT,
    # 8 Recommendation 1 (staff of the clinics, Table 3.B)
    "s8_rec1_oslo_fte_staff": OAT_CONTEXT,
    "s8_rec1_bergen_fte_staff": OAT_CONTEXT,
}

#: Numbers that are not statistics, written out in words: (page, words as in the prose, key, value).
TYPED = [
    ("executive_summary", "the first four years", "s6_study_period_years", 4),
    ("ch06_results", "the first four years", "s6_study_period_years", 4),
    ("ch06_results", "Over the four years", "s6_summary_study_period_years", 4),
    ("ch06_results", "often required twice a day", "s6_summary_attendance_times_per_day", 2),
    ("ch12_conclusion", "up to twice a day", "s6_summary_attendance_times_per_day", 2),
    ("ch08_recommendations", "a physician with expertise in addiction medicine", "s8_rec1_min_physicians", 1),
    ("ch08_recommendations", "two to three nurses", "s8_rec1_min_nurses_lower", 2),
    ("ch08_recommendations", "two to three nurses", "s8_rec1_min_nurses_upper", 3),
    ("ch08_recommendations", "The two-hour closure", "s8_rec2_midday_closure_hours", 2),
]

AS_WORDS = {
    "s8_hat_share_of_oat_subgroup": "the report's rounded '~3%'; chapter 8 pastes 3.3's per-clinic shares instead",
    "s8_rec1_hat_share_catchment_oat": "the report's rounded '~3%'; chapter 8 pastes 3.3's per-clinic shares instead",
    "s8_oat_coverage_well_developed_lower": "external estimate for other countries' systems; not computed",
    "s8_oat_coverage_well_developed_upper": "external estimate for other countries' systems; not computed",
    "s8_hat_proportion_well_developed_lower": "external estimate for other countries' systems; not computed",
    "s8_hat_proportion_well_developed_upper": "external estimate for other countries' systems; not computed",
    "s8_rec1_patients_per_clinic_lower": "the report's round range; 3.3 gives the clinics' counts",
    "s8_rec1_patients_per_clinic_upper": "the report's round range; 3.3 gives the clinics' counts",
    "s8_rec1_patients_per_staff_ratio_a": "the report's round ratio; chapter 8 pastes 3.3's staff per patient",
    "s8_rec1_patients_per_staff_ratio_b": "the report's round ratio; chapter 8 pastes 3.3's staff per patient",
    "s8_rec2_patients_per_staff": "the report's round ratio; chapter 8 pastes 3.3's staff per patient",
}


@pytest.fixture(scope="module")
def ledger() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "published" / "statistics.csv").set_index("key")


def source(page: str) -> str:
    return (BOOK / f"{page}.md").read_text(encoding="utf-8")


def code_cells(text: str) -> str:
    """The code of a page's ``{code-cell}`` blocks."""
    return "\n".join(re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, flags=re.S | re.M))


def prose(text: str) -> str:
    """A page's text without front matter, code cells and list numbers, whitespace collapsed."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"^```\{code-cell\}.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"^\s*[0-9]+\.\s", "", text, flags=re.M)  # numbered-list markers
    return " ".join(text.split())


def summary_keys(ledger: pd.DataFrame) -> list[str]:
    return list(ledger.index[ledger.section.isin(SUMMARY_PAGES)])


def restating_page(ledger: pd.DataFrame, key: str) -> str:
    return SUMMARY_PAGES[ledger.loc[key, "section"]]


def test_every_summary_row_is_classified_once(ledger):
    typed = {key for _, _, key, _ in TYPED}
    classes = [set(GLUED), typed, set(AS_WORDS)]
    for i, a in enumerate(classes):
        for b in classes[i + 1 :]:
            assert not a & b, f"classified twice: {sorted(a & b)}"
    keys = set(summary_keys(ledger))
    assert keys - set().union(*classes) == set(), "summary rows nobody has classified"
    assert set().union(*classes) - keys == set(), "classified keys that are no summary rows of the ledger"


def page_code(page: str) -> str:
    """A page's code, and the source of each module of ``analysis`` whose frame of statistics the page glues in
    one call (``card.glue_statistics(<module>.<function>(...))``): that module writes the keys out."""
    import importlib.util

    code = code_cells(source(page))
    modules = {}  # the name a page uses for a module of analysis -> the module's full name
    for package, names in re.findall(r"^from (analysis(?:\.\w+)?) import ([\w, ]+)$", code, flags=re.M):
        for part in names.split(","):
            name, _, alias = part.strip().partition(" as ")
            modules[alias or name] = f"{package}.{name}"
    used = {modules[name] for name in re.findall(r"glue_statistics\(\s*(\w+)\.\w+\(", code) if name in modules}
    specs = [importlib.util.find_spec(name) for name in sorted(used)]
    return "\n".join([code] + [Path(spec.origin).read_text(encoding="utf-8") for spec in specs if spec is not None])


def glues(code: str, key: str, ledger: pd.DataFrame) -> bool:
    """Whether a page's code glues ``key``: it names it, or it names the statistic the ledger says ``key``
    restates (the card glues a restatement with its statistic)."""
    restates = ledger["restates"].fillna("")
    names = [key] + ([restates[key]] if restates[key] else [])
    return any(re.search(rf"""["']{re.escape(name)}["']""", code) for name in names)


def test_the_computing_page_glues_each_restated_key(ledger):
    for key, page in GLUED.items():
        code = page_code(page)
        assert glues(code, key, ledger), f"{page} does not glue {key}"
        assert "card.glue" in code


def test_the_summary_pastes_each_restated_key_from_its_chapter(ledger):
    for key, page in GLUED.items():
        summary = source(restating_page(ledger, key))
        role = re.compile(r"\{glue:text\}`" + re.escape(f"{page}.md::{key}") + r":[^`]+`")
        assert role.search(summary), f"{restating_page(ledger, key)} does not paste {page}::{key}"


def test_no_summary_key_glued_by_a_computed_page_goes_unpasted(ledger):
    """A summary key that any page's code glues counts as restated, and must be pasted by cross-page glue."""
    glued_somewhere = {}
    for path in sorted(BOOK.glob("*.md")):
        code = page_code(path.stem)
        for key in summary_keys(ledger):
            if glues(code, key, ledger):
                glued_somewhere[key] = path.stem
    assert set(glued_somewhere) == set(GLUED), "summary keys glued on a page but not listed in GLUED"
    for key, page in glued_somewhere.items():
        assert f"{page}.md::{key}:" in source(restating_page(ledger, key))


@pytest.mark.parametrize("page", sorted(set(SUMMARY_PAGES.values())))
def test_cross_page_roles_name_a_page_and_a_format(page):
    """Every ``{glue:...}`doc::key...``` names an existing page with its suffix and ends in a format spec."""
    for doc, rest in re.findall(r"\{glue(?::[a-z]+)?\}`([^`:]+)::([^`]*)`", source(page)):
        assert (BOOK / doc).is_file(), f"{page}: {doc!r} is no page file of book/ (write the suffix, e.g. .md)"
        assert ":" in rest, f"{page}: {doc}::{rest} needs a format spec, e.g. :.0f"


def test_typed_numbers_agree_with_the_ledger(ledger):
    for page, words, key, value in TYPED:
        assert words in prose(source(page)), f"{page} no longer says {words!r}"
        assert ledger.loc[key, "value"] == value, f"{key}: the ledger has {ledger.loc[key, 'value']}, the words {value}"


# Digits in prose that are labels or dates, not statistics: "Recommendation 2", "Table 3.B", "section 3.1",
# "12 January 2022", years.
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
LABELS = re.compile(
    rf"(?:Recommendations?|Table|Figure|[Ss]ection|Appendix|chapter)\s+[0-9][0-9.]*[A-Z]?"
    rf"|[0-9]{{1,2}}\s+(?:{MONTHS})|\b(?:19|20)[0-9]{{2}}\b"
)


def typed_numbers(text: str) -> list[float]:
    text = re.sub(r"\{[a-z:-]+\}`[^`]*`", " ", prose(text))  # roles: glue, doc, term, cite, ref
    text = LABELS.sub(" ", text)
    return [float(n.replace(",", "")) for n in re.findall(r"(?<![\w.])[0-9][0-9,]*(?:\.[0-9]+)?", text)]


@pytest.mark.parametrize("page", sorted(set(SUMMARY_PAGES.values())))
def test_no_statistic_is_typed_in_digits(ledger, page):
    rows = ledger[ledger.section.isin([s for s, p in SUMMARY_PAGES.items() if p == page])]
    values = set(rows.value) | {ledger.loc[k, "value"] for k in GLUED}
    typed = [n for n in typed_numbers(source(page)) if n in values]
    assert typed == [], f"{page} types numbers that the ledger holds as statistics: {typed}"


def test_the_digit_scan_sees_a_typed_number_and_skips_labels():
    page = (
        "---\na: b\n---\nIn 2025, 136 patients (Table 6.A, Recommendation 2) began on 12 January 2022; "
        "{glue:text}`x::y:.0f` more."
    )
    assert typed_numbers(page) == [136.0]
