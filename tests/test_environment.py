"""environment.yml (conda) and pyproject.toml (pip) name the same packages with the same bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NOT_PACKAGES = {"python", "pip"}


def split_requirement(requirement: str) -> tuple[str, str]:
    """('jupyter-book', '>=1.0.4.post1,<2') from 'jupyter-book>=1.0.4.post1,<2'; names normalised."""
    match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return name, match.group(2).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(split_requirement(r) for r in requirements)


def conda_requirements() -> dict[str, str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    found = {}
    for entry in environment["dependencies"]:
        for requirement in entry["pip"] if isinstance(entry, dict) else [entry]:
            name, bounds = split_requirement(requirement)
            if name not in NOT_PACKAGES:
                found[name] = bounds.removeprefix("=") if name == "python" else bounds
    return found


def test_split_requirement():
    assert split_requirement("jupyter_book >=1.0.4.post1, <2") == ("jupyter-book", ">=1.0.4.post1,<2")


def test_conda_and_pip_name_the_same_packages():
    assert sorted(conda_requirements()) == sorted(pyproject_requirements())


def test_conda_and_pip_use_the_same_bounds():
    assert conda_requirements() == pyproject_requirements()


def test_jupyter_book_stays_on_version_1():
    assert pyproject_requirements()["jupyter-book"] == ">=1.0.4.post1,<2"
