"""The synthetic cohort: reproducible byte for byte, calibrated, and independent of the analysis code."""

from __future__ import annotations

import ast
import filecmp
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import schema
from analysis.data.cohort import load_cohort

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "data" / "synthetic"


@pytest.fixture(scope="module")
def regenerated(generation) -> Path:
    return generation


#: The files a generation writes (SHA-256 of each) and the package versions it was made with
#: (tests/record_generation.py writes it).
RECORDED = ROOT / "tests" / "generation_digests.json"


def environment() -> dict[str, str]:
    """The versions a generation's arithmetic depends on: Python's, and numpy's, scipy's (HiGHS) and pandas'."""
    import platform

    import numpy
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }


def digests(folder: Path) -> dict[str, str]:
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


#: The committed cohort was generated with package versions that a fresh install no longer gets: with the
#: versions PyPI serves in December 2026 (numpy 2.4.6, scipy 1.17.1, pandas 3.1.1; also tried: scipy 1.17.0,
#: numpy 2.4.4 and 2.4.5, pandas 3.1.0) the generator's integer programmes end elsewhere, the episodes' dates
#: move and every later table with them. The generator code of the session that found this gave the same files
#: as the code before it, so the drift is the environment's. A fresh generation in today's environment now
#: leaves fewer figures unmet with a stated reason than the committed cohort (59 against 60, since the level
#: search's last polish; 61 before it), but not the same ones: it meets Table 6.D's discontinued QALY SD and
#: Table 6.F's unplanned QALY mean and SD, and misses Table 6.D's continued mean cost and Table 6.E's cost
#: difference (each by less than a krone), which the published edition now matches. Regenerating the
#: committed cohort would change the book's figures throughout, so it is not done here, and the comparison
#: with the committed files below is expected to fail. Determinism (against the files recorded with today's
#: versions, tests/generation_digests.json) and the calibration of a fresh generation are tested.
ENVIRONMENT_DRIFT = (
    "data/synthetic was made with package versions a fresh install no longer gets; "
    "see ENVIRONMENT_DRIFT in tests/test_synthetic.py"
)


def test_regeneration_is_deterministic(regenerated, generate_again):
    """A generation gives, byte for byte, the files recorded with the same package versions (on another day
    and machine). With other versions, a second generation in this environment must give the same files as
    the first (it runs only then: a generation is about 105 CPU seconds). With the same versions and other
    files, the second generation tells a changed generator (the two agree: record it again) from one that
    is not deterministic (they differ)."""
    import json

    made = digests(regenerated)
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    if recorded["environment"] == environment() and made == recorded["files"]:
        return
    again = digests(generate_again())
    differ = sorted(name for name in set(made) | set(again) if made.get(name) != again.get(name))
    assert not differ, f"two generations in one environment differ: {differ}"
    if recorded["environment"] == environment():
        changed = sorted(
            name for name in set(made) | set(recorded["files"]) if made.get(name) != recorded["files"].get(name)
        )
        pytest.fail(
            f"a generation no longer gives the recorded files ({', '.join(changed)}), the same in two runs: the "
            "generator's output changed; run `python tests/record_generation.py` to record it"
        )


@pytest.mark.xfail(reason=ENVIRONMENT_DRIFT, strict=False)
def test_regeneration_is_byte_identical_to_the_committed_files(regenerated):
    names = sorted(p.name for p in BUNDLED.iterdir())
    assert names == sorted(p.name for p in regenerated.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(BUNDLED, regenerated, names, shallow=False)
    assert not mismatch and not errors, f"regenerated files differ from data/synthetic: {mismatch + errors}"


def test_every_calibration_target_passes_or_states_why(regenerated):
    """The fresh generation's own calibration report (the same one ``--check`` prints) has no failure."""
    table = pd.read_csv(regenerated / "calibration.csv", keep_default_na=False)
    failing = table[~table.status.isin(["pass", "explained"])]
    assert failing.empty, failing[["key", "published", "achieved"]].to_string()
    assert (table.status == "pass").sum() > 0.9 * len(table)
    # a change of the generator may not leave more figures unmet than it does today (59; the committed
    # cohort leaves 60: see ENVIRONMENT_DRIFT)
    assert (table.status == "explained").sum() <= 59


@pytest.mark.parametrize("achieved, code", [(136, 0), (135, 1)])
def test_check_exits_non_zero_exactly_when_a_target_fails(monkeypatch, capsys, achieved, code):
    """``python -m synthetic --check``: the report, its counts, and status 1 when a target fails (the
    generation itself is replaced by a stub here; the regeneration test above runs the real one)."""
    import synthetic.__main__ as cli
    from synthetic.targets import Target, report

    def one_target(_tables):
        frame = report([Target("s6_1_patients_participated_total", achieved)])
        frame.insert(0, "module", "core")
        frame["aimed_by"] = ""
        return frame

    monkeypatch.setattr(cli, "generate", lambda seed, **_: {})
    monkeypatch.setattr(cli, "calibration", one_target)
    assert cli.main(["--check"]) == code
    out = capsys.readouterr().out
    assert "s6_1_patients_participated_total" in out
    assert f"1 targets: {1 - code} pass, 0 not met with a stated reason, {code} fail" in out


def test_a_failing_target_fails_the_check():
    from synthetic.targets import Target, report

    frame = report(
        [
            Target("s6_1_patients_participated_total", 135),
            Target("s6_1_patients_participated_total", 135, reason="because"),
        ]
    )
    assert frame.status.tolist() == ["FAIL", "explained"]
    assert report([Target("s6_1_one_year_retention_percent", 65.74)]).status.tolist() == ["pass"]
    assert report([Target("s6_1_one_year_retention_percent", 65.76)]).status.tolist() == ["FAIL"]


def test_the_searches_and_the_report_share_one_tolerance():
    """Half the printed precision: 65.7 (one decimal) holds from 65.65 to 65.75; a count, within 0.5."""
    from synthetic.targets import Target, tolerance

    assert tolerance("s6_1_one_year_retention_percent") == 0.05
    assert tolerance("s6_1_patients_participated_total") == 0.5
    judged = Target("s6_1_one_year_retention_percent", 65.7).resolved()
    assert judged["tolerance"] == tolerance("s6_1_one_year_retention_percent")


def test_bundled_cohort_has_the_schema_and_is_marked_synthetic():
    cohort = load_cohort(BUNDLED)
    assert cohort.source == "synthetic"
    for name in schema.TABLES:
        assert len(getattr(cohort, name)) > 0, name


def test_generator_imports_no_analysis_code_but_the_schema():
    for path in sorted((ROOT / "synthetic").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                names = [f"{module}.{a.name}" for a in node.names] if module.startswith("analysis") else [module]
            else:
                continue
            for name in names:
                if name == "analysis" or name.startswith("analysis."):
                    assert name == "analysis.data.schema", f"{path.name} imports {name}"


def test_a_failed_write_leaves_the_previous_cohort_in_place(tmp_path):
    from synthetic.write import write_cohort

    folder = tmp_path / "synthetic"
    folder.mkdir()
    (folder / "patients.csv").write_text("previous\n")
    broken = {name: pd.DataFrame() for name in schema.TABLES}  # no columns: writing fails
    with pytest.raises(KeyError):
        write_cohort(broken, folder, {})
    assert (folder / "patients.csv").read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synthetic"]


def test_data_dictionary_describes_the_schema():
    import json

    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    described = {r["name"]: r for r in package["resources"] if r["name"].startswith("synthetic_")}
    expected = {f"synthetic_{name}": schema.dictionary_resource(table) for name, table in schema.TABLES.items()}
    assert described == expected, "run `python -m analysis.data.schema` to update data/datapackage.json"


def test_calibration_report_is_written_beside_the_cohort():
    """data/synthetic/calibration.csv: one row per target, a reason exactly where a figure is not met."""
    table = pd.read_csv(BUNDLED / "calibration.csv", keep_default_na=False)
    assert list(table.columns) == [
        "module",
        "key",
        "description",
        "published",
        "tolerance",
        "achieved",
        "status",
        "aimed_by",
        "reason",
    ]
    assert table.key.is_unique
    assert set(table.status) <= {"pass", "explained"}
    assert set(table.module) == {"core", "events", "referrals", "questionnaires", "registry", "economics"}
    explained = table.status == "explained"
    assert (table.reason[explained].str.len() > 20).all()
    assert (table.reason[~explained] == "").all()
    published = pd.to_numeric(table.published)
    achieved = pd.to_numeric(table.achieved)
    tolerance = pd.to_numeric(table.tolerance)
    met = (achieved - published).abs() <= tolerance * (1 + 1e-9) + 1e-9
    assert (met == ~explained).all()


def test_calibration_csv_text_is_deterministic():
    from synthetic.targets import Target, report
    from synthetic.write import calibration_csv_text

    frame = report(
        [
            Target("s6_1_patients_participated_total", 136),
            Target("s6_1_patients_participated_total", 135, reason="because"),
        ]
    )
    frame.insert(0, "module", "core")
    frame["aimed_by"] = ""
    text = calibration_csv_text(frame)
    assert text == calibration_csv_text(frame)
    assert text.splitlines()[0] == "module,key,description,published,tolerance,achieved,status,aimed_by,reason"
    assert text.splitlines()[2].endswith(",explained,,because")


def test_a_seed_with_no_way_through_says_so_in_one_line_and_writes_nothing(monkeypatch, capsys, tmp_path):
    """A search of the generator can end in a dead end for some seeds (seed 1 does, in the referrals): one
    line naming the seed and the search, status 2, no traceback, no folder written."""
    import synthetic.__main__ as cli

    def dead_end(seed, **_):
        raise RuntimeError("the accepted referrals fixed by the cohort do not fit Supplementary Table F's years")

    monkeypatch.setattr(cli, "generate", dead_end)
    out = tmp_path / "cohort"
    assert cli.main(["--seed", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seed 1" in err and "Supplementary Table F" in err and "Traceback" not in err
    assert not out.exists()
