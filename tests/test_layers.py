"""The import-linter contracts in pyproject.toml hold (docs/architecture.md, "Layers"): `make test`
runs this, so a service that imports the web layer, or a catalog that builds HTML, fails."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept():
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    assert command, "lint-imports not found: install the test extra (pip install -e '.[test]')"
    result = subprocess.run(
        [command, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


# --- the import graph -------------------------------------------------------------------------
#
# Read from the source, not by importing it: a module's imports that run when it is imported
# (at module level, in a class body, under `try:`), apart from those under `if TYPE_CHECKING:`,
# which only annotations read.

PACKAGE = REPO / "lms"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue  # runs when called (the second test below)
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.orelse)
            else:
                for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                    visit(getattr(node, name, None) or [])

    visit(tree.body)
    return found


def _imported_modules(
    node: ast.Import | ast.ImportFrom, module: str, path: Path, modules: dict[str, Path]
) -> set[str]:
    """The `lms` modules an import statement loads: `from lms.x import y` is the module
    `lms.x.y` when there is one, else `lms.x`; a relative import is resolved from `module`."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([node.module] if node.module else [])])
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            for alias in node.names
        ]
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        graph[module] = set().union(
            *(_imported_modules(node, module, path, modules) for node in _import_time_imports(tree))
        )
    return graph


def _a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        pending = [iter(sorted(graph[start]))]
        state[start] = 1
        while pending:
            following = next(pending[-1], None)
            if following is None:
                state[path.pop()] = 2
                pending.pop()
            elif state.get(following) == 1:
                return [*path[path.index(following) :], following]
            elif not state.get(following):
                state[following] = 1
                path.append(following)
                pending.append(iter(sorted(graph[following])))
    return None


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _a_cycle(graph) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_reads_relative_and_submodule_imports():
    graph = _import_graph()
    assert "lms.state" in graph["lms.extension"]
    assert "lms.web.context" in graph["lms.security"]  # from lms.web.context import ...


def test_no_module_level_import_cycle():
    """A module the engine imports when it is imported never leads back to itself: with a cycle,
    which module loads first decides whether an import finds its name (docs/architecture.md)."""
    cycle = _a_cycle(_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


# The areas owned by the other helpers of issue 22 comment theirs as they land; the lead removes
# the mark once they are merged.
def test_every_function_level_import_of_the_engine_says_why():
    """An `lms` import inside a function hides a dependency from the graph above: each one
    carries a comment (on the line above or its own line) naming the cycle it breaks or why it
    is lazy (`flask --help` must not import the reports)."""
    uncommented = []
    for path in _modules().values():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines), str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom):
                    engine = bool(node.level) or (node.module or "").split(".")[0] == "lms"
                elif isinstance(node, ast.Import):
                    engine = any(alias.name.split(".")[0] == "lms" for alias in node.names)
                else:
                    continue
                above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                own = lines[node.lineno - 1]
                if engine and not (above.startswith("#") or "#" in own):
                    uncommented.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not uncommented, "function-level imports without a comment:\n" + "\n".join(uncommented)
