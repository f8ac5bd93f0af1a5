"""The package's layering as a checked rule: no import cycles (lazy imports count), and imports point one way.

Run by `make lint` and by `make test`. Layers, bottom to top: leaf types and leaf I/O, the engine, the sinks
and writers, orchestration, the command line. A module may import only from its own layer or those below.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fervideo"
# the lowest layer a module belongs to; modules not named here belong to the engine
LAYERS = {
    "leaf": {"labels", "errors", "detections", "frames", "atomic", "paths", "quiet", "layout", "choices", "signals"}
    | {"calibration", "metrics", "checksum"},
    "sinks": {"sinks", "outputs", "encoder", "draw", "moments", "report", "timeline", "results", "summary"}
    | {"episodes", "exports", "viewer"},
    "orchestration": {"job", "batch", "live", "evaluation"},  # batch: the subpackage, driver, engines and worker
    "cli": {"cli", "entry", "__main__"},
}
ORDER = ["leaf", "engine", "sinks", "orchestration", "cli"]


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


def layer(module: str) -> str:
    top = module.split(".")[1] if "." in module else ""
    return next((name for name, members in LAYERS.items() if top in members), "engine")


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


def test_imports_point_down_the_layers():
    wrong = [
        f"{m} ({layer(m)}) imports {n} ({layer(n)})"
        for m, deps in graph().items()
        for n in deps
        if m != "fervideo" and ORDER.index(layer(n)) > ORDER.index(layer(m))
    ]
    assert not wrong, "\n".join(wrong)


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
