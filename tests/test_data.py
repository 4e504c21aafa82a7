"""Loading and checking the published tables gives clear messages naming file and column."""

from __future__ import annotations

import pytest

from analysis.data.published import DataError, check_published, main, published_table


def test_bundled_data_pass_the_check():
    assert check_published() == []


def test_missing_table_names_the_path(tmp_path):
    with pytest.raises(DataError, match=r"published/nothing\.csv: file not found"):
        published_table("nothing", data_dir=tmp_path)


def test_check_names_file_and_column(tmp_path):
    folder = tmp_path / "published"
    folder.mkdir()
    (folder / "bad.csv").write_text("Clinic Name,empty\nOslo,\n", encoding="utf-8")
    (folder / "header_only.csv").write_text("a,b\n", encoding="utf-8")
    problems = check_published(tmp_path)
    assert any("bad.csv" in p and "'Clinic Name' is not a snake_case name" in p for p in problems)
    assert any("bad.csv" in p and "'empty' is empty in every row" in p for p in problems)
    assert any("header_only.csv" in p and "no data rows" in p for p in problems)


def test_command_exits_non_zero_on_bad_data(tmp_path, capsys):
    (tmp_path / "published").mkdir()
    (tmp_path / "published" / "bad.csv").write_text("a\n", encoding="utf-8")
    assert main(["--check", "--data", str(tmp_path)]) == 1
    assert "error:" in capsys.readouterr().out


def test_dictionary_is_compared_with_the_schema(tmp_path):
    import json

    from analysis.data.published import DEFAULT_DATA_DIR, check_schema_dictionary

    assert check_schema_dictionary() == []
    package = json.loads((DEFAULT_DATA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        if resource["name"] == "synthetic_health_service_use":
            gp = next(f for f in resource["schema"]["fields"] if f["name"] == "gp_contacts")
            del gp["constraints"]["maximum"]
    package["resources"] = [r for r in package["resources"] if r["name"] != "optional_clinic_accounts"]
    (tmp_path / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    problems = check_schema_dictionary(tmp_path)
    assert any("synthetic_health_service_use" in p and "'gp_contacts'" in p for p in problems), problems
    assert any("'optional_clinic_accounts' missing" in p for p in problems), problems
    assert len(problems) == 2
