"""The test suite's own layout: helpers and constants in tests/helpers/, fixtures in conftest.py
files, and no test module or conftest imported by another module (pytest loads each of those
itself; importing one runs its module twice under two names and couples the tests' order)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

TESTS = REPO / "tests"


def suite_modules() -> list[Path]:
    return sorted(
        path
        for path in TESTS.rglob("*.py")
        if "node_modules" not in path.parts and "verifier" not in path.parts
    )


def is_test_module_or_conftest(module: str) -> bool:
    """``tests.x.test_y`` or ``tests.x.conftest`` (and anything inside one)."""
    parts = module.split(".")
    return parts[0] == "tests" and any(
        part == "conftest" or part.startswith("test_") for part in parts[1:]
    )


def imported_modules(source: str, where: Path) -> list[tuple[int, str]]:
    """Every module an import statement of ``source`` (the text of the file at ``where``, under
    the repository) names, at any depth, relative ones resolved, with its line; ``from package
    import name`` also yields ``package.name``, since the name may be a module."""
    package = list(where.with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, str(where))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def test_no_module_imports_a_test_module_or_a_conftest():
    offenders = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in suite_modules()
        for line, module in imported_modules(
            path.read_text(encoding="utf-8"), path.relative_to(REPO)
        )
        if is_test_module_or_conftest(module)
    ]
    assert not offenders, (
        "move the helper to tests/helpers/ (a fixture to the nearest conftest.py):\n"
        + "\n".join(offenders)
    )


def test_every_module_is_a_test_module_a_conftest_or_a_helper():
    stray = [
        str(path.relative_to(REPO))
        for path in suite_modules()
        if not (
            path.name.startswith("test_")
            or path.name in ("conftest.py", "__init__.py")
            or (TESTS / "helpers") in path.parents
        )
    ]
    assert not stray, f"helpers belong in tests/helpers/: {stray}"


def test_the_check_sees_each_kind_of_import():
    """The check above can fail: each form of import it must catch is caught."""
    source = (
        "import tests.test_app\n"
        "from tests.learning.conftest import FLAGSHIP\n"
        "from tests.courses import test_loader\n"
        "def f():\n"
        "    from .test_views import thing\n"
        "    from . import conftest\n"
        "from tests.helpers.cohorts import schedule\n"
    )
    found = {
        module
        for _line, module in imported_modules(source, Path("tests/cohorts/test_probe.py"))
        if is_test_module_or_conftest(module)
    }
    assert found >= {
        "tests.test_app",
        "tests.learning.conftest",
        "tests.courses.test_loader",
        "tests.cohorts.test_views",
        "tests.cohorts.conftest",
    }
    assert not any(module.startswith("tests.helpers") for module in found)
