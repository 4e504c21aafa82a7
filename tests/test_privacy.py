"""No rendered page shows patient-level rows: no identifier of a patient, episode, event or referral."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from analysis.data.cohort import load_cohort


def test_no_page_shows_an_identifier_of_the_patient_level_data(built_html):
    cohort = load_cohort()
    identifiers = (
        set(cohort.patients.patient_id)
        | set(cohort.episodes.episode_id)
        | set(cohort.adverse_events.event_id)
        | set(cohort.referrals.referral_id)
        | set(cohort.referrals.person_id)
    )
    pattern = re.compile(r"\b[PEAQR]\d{3,}\b")
    for page in sorted(built_html.rglob("*.html")):
        text = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text(" ")
        shown = sorted(set(pattern.findall(text)) & identifiers)
        assert not shown, f"{page.relative_to(built_html)} shows patient-level identifiers: {shown[:5]}"
