"""The optional clinic-accounts table: loaded and validated when a folder brings it, empty otherwise."""

from __future__ import annotations

import pytest
from test_cohort import write_cohort

from analysis.data import schema
from analysis.data.cohort import Cohort, load_cohort, restrict
from analysis.data.published import DataError

ACCOUNTS = """clinic,year,total_cost_nok
Oslo,2022,30000000
Oslo,2023,45000000.5
Bergen,2022,17000000
Bergen,2025,25000000
"""


def with_accounts(folder, text=ACCOUNTS):
    folder = write_cohort(folder)
    (folder / "clinic_accounts.csv").write_text(text, encoding="utf-8")
    return folder


def test_a_folder_without_accounts_gives_an_empty_table_with_the_columns(tmp_path):
    cohort = load_cohort(write_cohort(tmp_path))
    assert cohort.accounts.empty
    assert list(cohort.accounts.columns) == ["clinic", "year", "total_cost_nok"]
    assert list(restrict(cohort, clinic="Bergen", year=2022).accounts.columns) == ["clinic", "year", "total_cost_nok"]


def test_bundled_cohort_has_no_accounts_and_cohort_keeps_its_old_signature():
    cohort = load_cohort()
    assert cohort.accounts.empty
    fields = {name: getattr(cohort, name) for name in schema.TABLES}
    rebuilt = Cohort(**fields, data_end=cohort.data_end, source=cohort.source, folder=cohort.folder)
    assert rebuilt.accounts.empty and list(rebuilt.accounts.columns) == ["clinic", "year", "total_cost_nok"]


def test_accounts_are_loaded_typed_and_restricted_to_clinic_and_years(tmp_path):
    cohort = load_cohort(with_accounts(tmp_path))
    assert cohort.accounts.year.tolist() == [2022, 2023, 2022, 2025]
    assert cohort.accounts.total_cost_nok.sum() == pytest.approx(117_000_000.5)
    bergen = restrict(cohort, clinic="Bergen")
    assert bergen.accounts[["clinic", "year"]].values.tolist() == [["Bergen", 2022], ["Bergen", 2025]]
    through_2022 = restrict(cohort, year=2022)
    assert through_2022.accounts[["clinic", "year"]].values.tolist() == [["Oslo", 2022], ["Bergen", 2022]]
    oslo_2023 = restrict(cohort, clinic="Oslo", year=2023)
    assert oslo_2023.accounts.total_cost_nok.tolist() == [30_000_000, 45_000_000.5]


@pytest.mark.parametrize(
    "text, words",
    [
        (ACCOUNTS.replace("Bergen,2025", "Bergen,2022"), ["clinic_accounts.csv", "unique"]),
        (ACCOUNTS.replace("17000000", "-5"), ["clinic_accounts.csv", "total_cost_nok", "line 4", "at least 0"]),
        (
            ACCOUNTS.replace("17000000", "10000000000"),
            ["clinic_accounts.csv", "total_cost_nok", "line 4", "at most 9999999999"],
        ),
        (
            ACCOUNTS.replace("Oslo,2022", "Tromsø,2022"),
            ["clinic_accounts.csv", "clinic", "line 2", "one of Oslo, Bergen"],
        ),
        (
            ACCOUNTS.replace("Bergen,2025", "Bergen,2026"),
            ["clinic_accounts.csv", "year", "line 5", "after the year of the data end"],
        ),
        (ACCOUNTS.replace("Oslo,2022", "Oslo,2021"), ["clinic_accounts.csv", "year", "line 2", "at least 2022"]),
        ("clinic,year\nOslo,2022\n", ["clinic_accounts.csv", "missing column", "total_cost_nok"]),
    ],
)
def test_bad_accounts_are_refused_naming_file_column_line_and_rule(tmp_path, text, words):
    with pytest.raises(DataError) as raised:
        load_cohort(with_accounts(tmp_path, text))
    for word in words:
        assert word in str(raised.value), (word, str(raised.value))
