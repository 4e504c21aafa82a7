"""The layers of ``analysis/``: each subpackage may import only its own layer and the layers below it, and no
module imports itself back through others (no cycle); nor does any module of the generator, ``synthetic/``.

The layers, lowest first (the order a number is made in, read from the bottom of a page upwards):

* ``analysis.data``: the published tables, the patient-level schema and the cohort loader;
* ``analysis.methods``: methods that know nothing of this report (cost-effectiveness, uncertainty);
* ``analysis.presentation``: what turns a result into what a reader sees (formats, charts, disclosure control,
  the card of glued statistics, the edition);
* ``analysis.sections``: one module per section of the report, computing its statistics with the layers below;
* ``analysis.teaching``: the primer, which may use anything.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["data", "methods", "presentation", "sections", "teaching"]
RANK = {layer: rank for rank, layer in enumerate(LAYERS)}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str = "analysis") -> dict[str, Path]:
    return {module_name(path): path for path in (ROOT / package).rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that a file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
    return {name for name in found if name in known}


def graph(package: str = "analysis") -> dict[str, set[str]]:
    known = modules(package)
    return {name: imports_of(path, set(known)) - {name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[str]:
    """Every cycle a depth-first walk of the import graph meets, as ``a -> b -> a``."""
    state: dict[str, int] = {}
    found = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(edges.get(name, ())):
            if state.get(target) == 1:
                found.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    return found


def layer(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in RANK else None


def test_every_module_lives_in_a_layer():
    loose = [name for name in modules() if name.count(".") == 1 and name.split(".")[1] not in RANK]
    assert loose == [], f"modules outside the layers {LAYERS}: {loose}"


def test_no_module_imports_from_a_higher_layer():
    upward = [
        f"{name} ({layer(name)}) imports {target} ({layer(target)})"
        for name, targets in graph().items()
        for target in targets
        if layer(name) and layer(target) and RANK[layer(target)] > RANK[layer(name)]
    ]
    assert upward == []


@pytest.mark.parametrize("package", ["analysis", "synthetic"])
def test_the_imports_have_no_cycle(package):
    assert cycles(graph(package)) == []


def test_the_cycle_check_finds_a_cycle_by_hand():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == ["a -> b -> c -> a"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_generators_graph_sees_its_own_imports():
    """The generator's cost fit is imported by its episodes' module, which it no longer imports back."""
    edges = graph("synthetic")
    assert "synthetic.costfit" in edges["synthetic.core"]
    assert "synthetic.core" not in edges["synthetic.costfit"]


def test_the_checks_see_a_known_upward_import(tmp_path):
    """The rule itself: a presentation module importing a section module is found."""
    source = tmp_path / "probe.py"
    source.write_text("from analysis.sections import retention\n", encoding="utf-8")
    targets = imports_of(source, {"analysis.sections.retention"})
    assert targets == {"analysis.sections.retention"}
    assert RANK[layer("analysis.sections.retention")] > RANK[layer("analysis.presentation.probe")]
