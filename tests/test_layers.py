"""The package's layering as a checked rule: no import cycles (lazy imports count), and imports point one way.

Run by `make lint` and by `make test`. The folders under fervideo/ are the layers, bottom to top: core (leaf types
and leaf I/O), data and engine (beside each other), outputs, run (orchestration), cli. A module may import only
from the folders its own folder is allowed (MAY_IMPORT), so a new module is checked by where it is put.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fervideo"
# folder -> the folders its modules may import. core and data are leaves for the engine and outputs beside them;
# outputs know only core types, plus the one reader that takes frames back out of a video for the report.
MAY_IMPORT = {
    "core": {"core"},
    "data": {"core", "data"},
    "engine": {"core", "engine"},
    "outputs": {"core", "outputs"},
    "run": {"core", "data", "engine", "outputs", "run"},
    "cli": {"core", "data", "engine", "outputs", "run", "cli"},
}
EXCEPTIONS = {("fervideo.outputs.moments", "fervideo.engine.source")}  # frames read back for the thumbnails
LAUNCHER = {"fervideo", "fervideo.__main__", "fervideo.entry"}  # the package's face and the console script


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every fervideo module path imports, at the top or inside functions, TYPE_CHECKING blocks included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("fervideo")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fervideo"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # `from fervideo import batch`
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}


def folder(module: str) -> str:
    """The layer folder of a fervideo module: its first name under fervideo."""
    return module.split(".")[1]


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_there_is_no_import_cycle():
    # a package's __init__ that re-exports its children is not a cycle of the code's design
    edges = {m: {n for n in deps if not m.startswith(n + ".")} for m, deps in graph().items()}
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges))


def test_every_module_lives_in_a_layer_folder():
    assert len(graph()) > 40, f"no package found at {PACKAGE}"
    stray = sorted(m for m in graph() if m not in LAUNCHER and folder(m) not in MAY_IMPORT)
    assert not stray, f"put these into one of {sorted(MAY_IMPORT)}: {stray}"


def test_imports_point_down_the_layers():
    wrong = [
        f"{m} ({folder(m)}) imports {n} ({folder(n)})"
        for m, deps in graph().items()
        if m not in LAUNCHER
        for n in deps
        if n not in LAUNCHER and folder(n) not in MAY_IMPORT[folder(m)] and (m, n) not in EXCEPTIONS
    ]
    assert not wrong, "\n".join(wrong)


def test_the_layer_rule_catches_an_upward_import():
    assert "outputs" not in MAY_IMPORT["engine"] and "run" not in MAY_IMPORT["outputs"]
    assert all(name in MAY_IMPORT["cli"] for name in MAY_IMPORT)


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
