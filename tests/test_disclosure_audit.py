"""The disclosure auditor on hand-built editions whose leaks are known by hand (tests/data/disclosure_audit).

``leaky/`` holds one leak of each kind: a shown count in a table, a chart dataset, a notebook's table, glued
value and chart, the prose and the search index; two hidden cells of a row recovered from its total; and
cells recovered between the both-clinics edition and the one-clinic editions of 2022. Its published
edition (all-2025) shows a count of 2 and is skipped. ``clean/`` hides cells that stay hidden.
"""

from __future__ import annotations

from pathlib import Path

from hatbook import disclosure_audit as da

DATA = Path(__file__).parent / "data" / "disclosure_audit"

LEAKS = {
    ("oslo-2022", "ch06_4_outcomes.html", "events: row 'Seizure', column 'Patients'", "shown count", "3"),
    (
        "oslo-2022",
        "ch06_4_outcomes.html",
        "chart data data-1 row 0 (item=Money for food) field 'patients'",
        "shown count",
        "4",
    ),
    ("oslo-2022", "ch06_4_outcomes.html", "prose", "shown count", "2 patients"),
    (
        "oslo-2022",
        "ch06_4_outcomes.html",
        "transitions 'Transitions': row 'Oslo / Stable housing', column 'Improved'",
        "hidden cell '<5' recovered within the table",
        "1",
    ),
    (
        "oslo-2022",
        "ch06_4_outcomes.html",
        "transitions 'Transitions': row 'Oslo / Stable housing', column 'Worsened'",
        "hidden cell '<5' recovered within the table",
        "1",
    ),
    ("oslo-2022", "_sources/ch06_4_outcomes.ipynb", "cell 1 glue 's6_4_patients_n'", "shown count (glued value)", "3"),
    ("oslo-2022", "_sources/ch06_4_outcomes.ipynb", "cell 1: table: row '6 months', column 'n'", "shown count", "2"),
    (
        "oslo-2022",
        "_sources/ch06_4_outcomes.ipynb",
        "cell 1: chart data data-2 row 0 (wave=6 months) field 'total'",
        "shown count",
        "1",
    ),
    ("oslo-2022", "searchindex.js", "search index entry 'Day 67: 1 patient left'", "shown count", "1 patient"),
    (
        "bergen-2022",
        "sae.html",
        "sae 'Adverse events': row 'Seizure', column 'Events'",
        "cell '<5' recovered as all-2022 minus oslo-2022",
        "3",
    ),
    (
        "oslo-2022",
        "sae.html",
        "sae 'Adverse events': row 'Allergic reaction', column 'Events'",
        "cell '<5' recovered as all-2022 minus bergen-2022",
        "2",
    ),
}


def test_every_known_leak_is_found_and_nothing_else():
    found = {(f.edition, f.page, f.where, f.what, f.value) for f in da.audit([DATA / "leaky"])}
    assert found == LEAKS


def test_clean_editions_give_nothing():
    assert da.audit([DATA / "clean"]) == []


def test_exit_status_and_lines(capsys):
    assert da.main([str(DATA / "leaky")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(LEAKS)
    assert "oslo-2022\tch06_4_outcomes.html\tprose\tshown count\t2 patients" in lines
    assert da.main([str(DATA / "clean" / "oslo-2022"), str(DATA / "clean" / "all-2022")]) == 0
    assert da.main([str(DATA / "no-such-folder")]) == 2
    assert da.main([str(DATA)]) == 2  # a folder with no edition in it


def test_published_edition_is_skipped():
    assert da.audit([DATA / "leaky" / "all-2025"]) == []


def supplementary_a_headers(measures: str = "") -> list[str]:
    """The columns of Supplementary Table A (``measures``: the mark after its two measurement columns)."""
    return [
        "Variable",
        "N patients",
        f"First meas.{measures}",
        f"Last meas.{measures}",
        "Change from positive to negative",
        "Change from negative to positive",
        "No change",
    ]


def relation_names(t, threshold: int) -> set[tuple[str, tuple[str, ...]]]:
    """The relations the auditor reads in ``t``, by column names: (total, its parts)."""
    return {(t.headers[total[1]], tuple(t.headers[c] for _, c in parts)) for total, parts in da.relations(t, threshold)}


def table(headers, rows):
    t = da.Table("t", headers, rows)
    t.counts = [
        da.is_count_name(h) or any(da.hidden(r[i], 5) and r[i] != da.WITHHELD for r in rows)
        for i, h in enumerate(headers)
    ]
    return t


def test_recovery_by_bounds_within_a_table():
    headers = ["Clinic", "Variable", "Patients", "Improved", "Unchanged", "Worsened"]
    # the example: 8 = <5 + 6 + <5 leaves 1 and 1
    rows = [["Bergen", "Stable housing", "8", "<5", "6", "<5"]]
    assert da.recovered(table(headers, rows), 5) == {(0, 3): 1, (0, 5): 1}
    # 12 = <5 + 6 + <5 leaves (2, 4), (3, 3) or (4, 2)
    assert da.recovered(table(headers, [["Bergen", "Occupation", "12", "<5", "6", "<5"]]), 5) == {}
    # one hidden cell beside a shown total is found by subtraction, "–" included
    rows = [["Oslo", "Stable housing", "15", "5", "5", "5"], ["Oslo", "Occupation", "20", "–", "6", "11"]]
    assert da.recovered(table(headers, rows), 5) == {(1, 3): 3}
    # a total row: 3 + <5 = 5 gives 2; the rows' sum is checked against the rows shown in full
    rows = [["Oslo", "3", "10"], ["Bergen", "<5", "7"], ["Total", "5", "17"]]
    assert da.recovered(table(["Clinic", "Patients", "Referrals"], rows), 5) == {(1, 1): 2}
    # rows are checked column by column: Referrals (17 != 10 + 6) is no relation, Patients still is
    rows = [["Oslo", "3", "10"], ["Bergen", "<5", "6"], ["Total", "5", "17"]]
    assert da.recovered(table(["Clinic", "Patients", "Referrals"], rows), 5) == {(1, 1): 2}
    # a column that is no count (no count header, no "<5") is never summed
    rows = [["Oslo", "10"], ["Bergen", "–"], ["Total", "17"]]
    assert da.recovered(table(["Clinic", "Share (%)"], rows), 5) == {}


def test_across_editions_with_an_unbuilt_clinic():
    key = ("sae.html", "sae", ("Event", "Events"))

    def cells(seizure, fall, burn, cut):
        return (
            "sae",
            {
                ("Seizure", "Events"): seizure,
                ("Fall", "Events"): fall,
                ("Burn", "Events"): burn,
                ("Cut", "Events"): cut,
            },
        )

    whole, oslo = {key: cells("9", "12", "<5", "5")}, {key: cells("6", "5", "<5", "")}
    bergen = {key: ("sae", {("Cut", "Events"): "5"})}
    found = list(da.across(whole, {"oslo": oslo, "bergen": bergen}, 5))
    # Bergen's seizures are unseen: 9 - 6 = 3 is small and so a leak; 12 - 5 = 7 is not; <5 - <5 pins
    # nothing; Oslo's empty cut cell is pinned to 0, but an empty cell hides nothing
    assert found == [("bergen", "not shown", key, ("Seizure", "Events"), 3)]


def test_cells_and_names():
    values = ("1,234", "12", " 7 ", 3.0, 2.5, "<5", "–", "n/a", True)
    assert [da.number(x) for x in values] == [1234, 12, 7, 3, None, None, None, None, None]
    assert da.hidden("<5", 5) == (1, 4) and da.hidden("<10", 10) == (1, 9) and da.hidden("–", 5) == (0, da.BIG)
    assert da.is_count_name("Number at risk") and da.is_count_name("n_patients") and da.is_count_name("at_risk")
    assert not any(da.is_count_name(h) for h in ("Patients (%)", "Share of patients", "Event", "Number of relocations"))
    text = "2 patients, 12 patients, 6.1 patients, a 0/1 event, 3 women and 1 patient"
    assert da.prose_counts(text, 5) == ["2 patients", "3 women", "1 patient"]
    # time in treatment is no count of people (Bergen's 2022 edition at threshold 10: "6 person-years")
    assert da.prose_counts("6 person-years, 4 patient-days and 3 persons", 10) == ["3 persons"]


def test_counts_printed_with_a_share_and_zeros_that_confirm_too_much():
    # an excerpt of Supplementary Table A (Oslo 2022): the three changes add up to N patients, which the
    # rows shown in full confirm; they confirm "N = last two" as well (the first is 0 there), a relation
    # that would wrongly give Occupation's hidden pair as 3 - so only the longest confirmed block is used
    headers = supplementary_a_headers()
    rows = [
        ["Occupation", "21", "1.43", "5.1", "<5", "<5", "18 (–)"],
        ["Benzodiazepines", "11", "2.22", "6.2", "0 (0%)", "0 (0%)", "11 (100%)"],
        ["Polysubstance", "17", "2.09", "5.9", "0 (0%)", "7 (41%)", "10 (59%)"],
        ["Days of heroin use", "12", "2.04", "5.9", "21.50", "13.33", "7.98"],
    ]
    t = table(headers, rows)
    assert relation_names(t, 5) == {("N patients", tuple(headers[4:]))}
    assert da.recovered(t, 5) == {}
    rows[0] = ["Occupation", "20", "1.43", "5.1", "<5", "<5", "18 (–)"]  # 20 = 18 + 1 + 1
    assert da.recovered(table(headers, rows), 5) == {(0, 4): 1, (0, 5): 1}
    assert [da.cell(x) for x in ("7 (41%)", "<5 of 45", "18 (–)", "<5", "1.43")] == ["7", "<5", "18", "<5", "1.43"]
    assert da.hidden("<5 of 45", 5) == (1, 4) and da.hidden("<5 (–)", 5) == (1, 4)


def test_a_count_column_withheld_in_full_is_not_skipped():
    # Supplementary Table A of Oslo 2023 at threshold 3: every count of "negative to positive" is withheld. Read
    # as withheld shares and skipped, "N = positive to negative + no change" would give Occupation's first
    # change as 47 - 40 = 7 (it is 0: 7 is the two changes together)
    headers = supplementary_a_headers("*")
    rows = [
        ["Stable living situation", "43", "1.87", "9.1", "<3", "–", "–"],
        ["Occupation", "47", "1.50", "10.4", "–", "–", "40 (85%)"],
        ["Perpetrator of crime", "52", "1.30", "10.1", "–", "–", "37 (71%)"],
        ["Days of heroin use (last 30 days)", "35", "2.06", "9.1", "20.31", "11.97", "10.82"],
    ]
    t = table(headers, rows)
    assert relation_names(t, 3) == {("N patients", tuple(headers[4:]))}
    assert da.recovered(t, 3) == {}
    # the same at the edge (6.4, Bergen 2023): "Improved" holds counts too, so 22 - 21 is two changes, not one
    edge = table(
        ["Clinic", "Variable", "Patients", "Worsened", "Unchanged", "Improved"],
        [["Bergen", "Stable housing", "22", "–", "21", "–"], ["Bergen", "Occupation", "20", "–", "19", "–"]],
    )
    assert da.recovered(edge, 3) == {}
    # a column the header names as another quantity is still left out
    shares = table(["Variable", "Patients", "Worsened", "Unchanged", "Share"], [["Occupation", "20", "–", "19", "–"]])
    assert da._integer_columns(shares, 3) == [False, True, True, True, False]


def test_a_year_naming_the_row_is_no_count():
    # Supplementary Table F of Bergen 2025 at threshold 10: with its denials all withheld, reading the year as a
    # count made "Denials (n) = Referrals (n) + Year" and gave 2024's denials as 27 + 2024 = 2051
    headers = ["Year", "Referrals (n)", "Share of all referrals (%)", "Denials (n)", "Yearly denial rate (%)"]
    rows = [["2022", "–", "–", "–", "–"], ["2023", "–", "–", "–", "–"], ["2024", "27", "27.0", "–", "–"]]
    rows.append(["2025", "26", "26.0", "–", "–"])
    rows.append(["Total 2022–2025", "100", "100.0", "–", "–"])
    t = table(headers, rows)
    assert da._integer_columns(t, 10) == [False, True, False, True, False]
    assert da.recovered(t, 10) == {}


def test_a_table_of_statistics_is_judged_row_by_row():
    html = """<table class="hatbook-table hatbook-scorecard"><thead><tr><th>statistic</th><th>computed</th></tr></thead>
    <tbody><tr><td>Patients with a serious adverse event, Bergen</td><td>3</td></tr>
    <tr><td>Number of relocations of the Bergen clinic</td><td>2</td></tr>
    <tr><td>Average months after the first measurement</td><td>2</td></tr>
    <tr><td>Referrals received</td><td>&lt;5</td></tr></tbody></table>"""
    found, _ = da.audit_html("p.html", html, 5)
    where = "table: row 'Patients with a serious adverse event, Bergen', column 'computed'"
    assert found == [("p.html", where, "shown count", "3")]
    # a group header's "(n=92)" says how many the group has; its share column is no count
    assert not da.is_count_name("HAT total (n=92) / %") and da.is_count_name("HAT total (n=92) / n")


def test_default_folder_is_where_reruns_go(monkeypatch, capsys):
    monkeypatch.setenv("HATBOOK_RERUNS_DIR", str(DATA / "clean"))
    assert da.main([]) == 0
    monkeypatch.setenv("HATBOOK_RERUNS_DIR", str(DATA / "leaky"))
    assert da.main([]) == 1


def test_real_leaks_of_the_2022_editions_built_from_main():
    # excerpts of the Oslo, Bergen and both-clinics 2022 editions as main built them (tests/data/
    # disclosure_audit/real): the Kaplan-Meier data of Oslo have one row per discharge, the number at risk
    # falling by one or two, so the chart says on which day one patient left; Table 6.5's categories give
    # Bergen's hidden allergic reactions (9 - 6) and seizures (17 - 12) by subtraction
    found = [(f.edition, f.page, f.where, f.what, f.value) for f in da.audit([DATA / "real"])]
    where = "chart data data-845a7ee703dc68a7060b7ad9cc72959b row {} (years={}) field 'n_at_risk'"
    step = "survival step of fewer than 5 patients ({} to {} at risk)"
    km, sae = "book/ch06_1_enrollment_retention.html", "book/ch06_5_serious_adverse_events.html"
    assert found == [
        (
            "bergen-2022",
            sae,
            "tab-6-5-categories: row 'Allergic reaction', column 'Events'",
            "cell '<5' recovered as all-2022 minus oslo-2022",
            "3",
        ),
        (
            "bergen-2022",
            sae,
            "tab-6-5-categories: row 'Seizure', column 'Events'",
            "cell '–' recovered as all-2022 minus oslo-2022",
            "5",
        ),
        ("oslo-2022", km, where.format(2, "0.282"), step.format(35, 34), "1"),
        ("oslo-2022", km, where.format(3, "0.2957"), step.format(34, 32), "2"),
        ("oslo-2022", km, where.format(4, "0.3285"), step.format(32, 31), "1"),
    ]


def test_editions_of_other_data_are_not_compared(tmp_path):
    """Both clinics on one data set minus Oslo on another recovers nothing: they are different people."""
    import json as _json

    from hatbook import disclosure_audit as audit_module

    for name, clinic, data in (("all-2025-data-fifth", "all", "fifth"), ("oslo-2025", "Oslo", None)):
        folder = tmp_path / name
        (folder / "html").mkdir(parents=True)
        record = {"variant": name, "clinic": clinic, "year": 2025, "data": data, "threshold": 5, "published": False}
        (folder / "headline.json").write_text(_json.dumps(record), encoding="utf-8")
    found = {e.name: e.data_dir for e in audit_module.editions([tmp_path])}
    assert found == {"all-2025-data-fifth": "fifth", "oslo-2025": None}


# --- rule d: year against year ----------------------------------------------------------------------------


def _edition(
    root: Path,
    clinic: str,
    year: int,
    rows: dict[str, str],
    *,
    published: bool = False,
    header: str = "Events",
    anchor: str = "events",
) -> None:
    """An edition with one page holding one computed table (row label -> the count as shown)."""
    import json as _json

    name = f"{clinic.lower()}-{year}"
    folder = root / name
    (folder / "html").mkdir(parents=True)
    record = {
        "variant": name,
        "clinic": clinic,
        "year": year,
        "data": None,
        "threshold": None if published else 5,
        "published": published,
    }
    (folder / "headline.json").write_text(_json.dumps(record), encoding="utf-8")
    body = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in rows.items())
    html = (
        f"<html><body><section id='{anchor}'><table class='hatbook-table'><thead><tr><th>Category</th>"
        f"<th>{header}</th></tr></thead><tbody>{body}</tbody></table></section></body></html>"
    )
    (folder / "html" / "sae.html").write_text(html, encoding="utf-8")


def _year_found(root: Path) -> set[tuple]:
    return {(f.edition, f.where.split(": ", 1)[1], f.what, f.value) for f in da.audit([root])}


def test_a_small_difference_between_two_years_is_found(tmp_path):
    # 10 events in 2022, 12 in 2023: the two added in 2023 are a group of two; 7 to 20 is no small group
    _edition(tmp_path, "Oslo", 2022, {"Seizure": "10", "Fall": "7"})
    _edition(tmp_path, "Oslo", 2023, {"Seizure": "12", "Fall": "20"})
    assert _year_found(tmp_path) == {
        (
            "oslo-2023",
            "row 'Seizure', column 'Events'",
            "difference with the 2022 edition (10 to 12): 2 added between the data ends",
            "2",
        )
    }


def test_any_two_years_and_hidden_cells_pinned_between_years(tmp_path):
    # 2023 hides Seizure, but it lies between 10 and 10: it is 10, and 13 in 2025 is 3 more than in each
    # earlier year; Fall's "<5" of 2022 and 2023 stay hidden (1..4 below 5), 5 to 9 adds 4
    _edition(tmp_path, "Oslo", 2022, {"Seizure": "10", "Fall": "<5"})
    _edition(tmp_path, "Oslo", 2023, {"Seizure": "–", "Fall": "<5"})
    _edition(tmp_path, "Oslo", 2024, {"Seizure": "10", "Fall": "5"})
    _edition(tmp_path, "Oslo", 2025, {"Seizure": "13", "Fall": "9"})
    found = _year_found(tmp_path)
    assert found == {
        (
            "oslo-2023",
            "row 'Seizure', column 'Events'",
            "hidden cell '–' recovered from the other years' editions",
            "10",
        ),
        (
            "oslo-2025",
            "row 'Seizure', column 'Events'",
            "difference with the 2022 edition (10 to 13): 3 added between the data ends",
            "3",
        ),
        (
            "oslo-2025",
            "row 'Seizure', column 'Events'",
            "difference with the 2023 edition (– to 13): 3 added between the data ends",
            "3",
        ),
        (
            "oslo-2025",
            "row 'Seizure', column 'Events'",
            "difference with the 2024 edition (10 to 13): 3 added between the data ends",
            "3",
        ),
        (
            "oslo-2025",
            "row 'Fall', column 'Events'",
            "difference with the 2024 edition (5 to 9): 4 added between the data ends",
            "4",
        ),
    }


def test_a_table_of_states_is_not_compared_between_years(tmp_path):
    # patients in treatment on the data end: 10, then 8 somewhere, so the table counts no nested sets
    _edition(tmp_path, "Oslo", 2022, {"In treatment": "10", "Waiting": "9"}, header="Patients", anchor="state")
    _edition(tmp_path, "Oslo", 2023, {"In treatment": "12", "Waiting": "8"}, header="Patients", anchor="state")
    assert _year_found(tmp_path) == set()


def test_a_difference_with_the_published_edition_is_reported_in_the_other(tmp_path):
    _edition(tmp_path, "all", 2024, {"Seizure": "20"})
    _edition(tmp_path, "all", 2025, {"Seizure": "21"}, published=True)
    assert _year_found(tmp_path) == {
        (
            "all-2024",
            "row 'Seizure', column 'Events'",
            "difference with the 2025 edition (20 to 21): 1 added between the data ends",
            "1",
        )
    }
    assert da.audit([tmp_path], years=False) == []


def test_group_sizes_in_labels_are_followed_between_years():
    table = da.Table("t", ["Characteristic (n=60)", "N (%)"], [["Born in Norway (n=51)", "51 (100%)"]], [False, True])
    assert da.year_cells(table) == {
        ("Born in Norway (n=#)", "(n)"): "51",
        ("Born in Norway (n=#)", "N (%)"): "51",
        ("(header)", "Characteristic (n=#) (n)"): "60",
    }
    assert da.year_free("HAT total denials: 45/124") == "HAT total denials: #/#"


def test_real_year_against_year_leaks_of_editions_built_from_main():
    # excerpts of Bergen 2024 and 2025 as main built them before years were protected together
    # (tests/data/disclosure_audit/years): 7 allergic reactions by the end of 2024 and 9 by the end of 2025
    # say that two happened in 2025; Table 6a adds one patient with upper secondary school in 2025
    found = {(f.edition, f.page, f.where, f.value) for f in da.audit([DATA / "years"])}
    sae, t6a = "book/ch06_5_serious_adverse_events.html", "book/ch06_2_patient_characteristics.html"
    assert found == {
        ("bergen-2025", sae, "tab-6-5-categories: row 'Allergic reaction', column 'Events'", "2"),
        ("bergen-2025", sae, "tab-6-5-categories: row 'Seizure', column 'Events'", "2"),
        (
            "bergen-2025",
            sae,
            "tab-6-5-categories: row 'Violence, acting out, threats or self-harm', column 'Events'",
            "3",
        ),
        ("bergen-2025", t6a, "tab-6a: row 'Living with other people (yes) (n=#)', column 'N (%)'", "2"),
        ("bergen-2025", t6a, "tab-6a: row 'Primary school', column 'N (%)'", "3"),
        ("bergen-2025", t6a, "tab-6a: row 'Rented housing', column 'N (%)'", "3"),
        (
            "bergen-2025",
            t6a,
            "tab-6a: row 'Self-reported reading and writing difficulties (yes) (n=#)', column 'N (%)'",
            "4",
        ),
        ("bergen-2025", t6a, "tab-6a: row 'Upper secondary school', column 'N (%)'", "1"),
    }


def test_tables_listed_as_states_are_left_out_between_years():
    # patients by their number of events (6.5): 6 to 7 with one event is no group of one added (a patient
    # with none moves up), though the shown counts happen never to fall; the same cells elsewhere count
    key = ("book/ch06_5_serious_adverse_events.html", "fig-6-5-distribution", ("Events", "Patients"))
    assert da.is_state(key, ("1", "Patients"))
    assert not da.is_state(("book/ch06_5_serious_adverse_events.html", "tab-6-5-categories", ()), ("1", "Patients"))
    assert da.is_state(("book/ch06_7_cost_utility.html", "accumulated-comparison 'Table 6.D'", ()), ("continued", "N"))
    assert not da.is_state(("book/ch06_7_cost_utility.html", "accumulated-comparison", ()), ("discontinued", "N"))
    by_year = {2024: {key: ("t", {("1", "Patients"): "6"})}, 2025: {key: ("t", {("1", "Patients"): "7"})}}
    assert list(da.between_years(by_year, 5)) == []


DISCHARGES = """<table class="hatbook-table"><thead><tr><th>Type</th><th>Reason</th><th>Discharges</th>
<th>Share of discharges (%)</th></tr></thead><tbody>
<tr><td>Planned</td><td>Transition to OAT</td><td>16</td><td>44.4</td></tr>
<tr><td>Planned</td><td>Agreed other follow-up</td><td>{planned_other}</td><td>–</td></tr>
<tr><td>Unplanned</td><td>Non-attendance</td><td>9</td><td>25.0</td></tr>
<tr><td>Unplanned</td><td>Behaviour or violence</td><td>{violence}</td><td>–</td></tr>
<tr><td>Unplanned</td><td>Other unplanned</td><td>6</td><td>16.7</td></tr></tbody></table>"""


def test_a_sum_the_prose_states_gives_a_hidden_cell_away():
    # the leak on 6.1 of the 2023 variant: the text says 17 discharges were planned, the table shows
    # 16 transitions to OAT and hides the only other planned reason, which is therefore 1
    prose = (
        "<p>Of 36 discharges, 17 of them (47.2%) were planned, and 16 of those were transfers to OAT. "
        "The other 19 were unplanned.</p>"
    )
    found, _ = da.audit_html("p.html", prose + DISCHARGES.format(planned_other="&lt;5", violence="&lt;5"), 5)
    recovered = {(where, value) for _, where, what, value in found if "with the prose" in what}
    assert recovered == {
        ("table: row 'Planned / Agreed other follow-up', column 'Discharges'", "1"),
        ("table: row 'Unplanned / Behaviour or violence', column 'Discharges'", "4"),
    }
    what = next(what for _, where, what, _ in found if "Agreed" in where)
    assert what == "hidden cell '<5' recovered with the prose ('17 of them (47.2%) were planned')"
    # the same page without the group sums: the two hidden cells add up to 36 - 31 = 5 (1 + 4, 2 + 3, ...)
    found, _ = da.audit_html(
        "p.html",
        "<p>Of 36 discharges, most were planned.</p>" + DISCHARGES.format(planned_other="&lt;5", violence="&lt;5"),
        5,
    )
    assert [f for f in found if "with the prose" in f[2]] == []
    # hidden as "–" (0 or more) and the prose giving only the whole: nothing pinned
    found, _ = da.audit_html(
        "p.html", "<p>There were 36 discharges.</p>" + DISCHARGES.format(planned_other="–", violence="–"), 5
    )
    assert found == []


def test_a_sum_the_prose_states_that_cannot_hold_is_no_relation():
    # 12 said of the planned group cannot be its sum of discharges (16 are shown in one of its rows): the
    # clause states something else, is read as no relation and pins nothing
    prose = "<p>Of 36 discharges, 12 were planned.</p>"
    found, _ = da.audit_html("p.html", prose + DISCHARGES.format(planned_other="&lt;5", violence="&lt;5"), 5)
    assert [f for f in found if "with the prose" in f[2]] == []
    assert da.clauses("One, two; three. Four – five") == ["One", "two;", "three.", "Four", "five"]
    # a year, a decimal, a share and a rate's numerator are no counts
    assert da._prose_numbers("In 2023, 1,204 visits (12.5%) and 3 of 4 per 1,000") == [1204, 3, 1000]
    assert da._prose_numbers("between 80 and 82 patients per complaint, 3 to 4 visits, 2022–2025, 17 of them") == [17]
