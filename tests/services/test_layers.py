"""Layering rules: the adapters (api/, ui/, cli/) hold no database access, and the pages go
through chainwatch.services, never through the JSON API's modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "chainwatch"
ADAPTERS = ("api", "ui", "cli")
UI_ALLOWED = ("chainwatch.services", "chainwatch.ui", "chainwatch.errors",
              "chainwatch.watch.alerts", "chainwatch.partnerships.model")  # fmt: skip
"""What ui/ may import from chainwatch: the services, its own modules, errors and the
domain types the pages render (plus ``__version__`` from the package root)."""
SQL = re.compile(r"\b(SELECT|INSERT INTO|DELETE FROM|CREATE (TEMP |OR REPLACE )?(TABLE|VIEW))\s",
                 re.IGNORECASE)  # fmt: skip


def python_files(area: str) -> list[Path]:
    files = sorted((PACKAGE / area).rglob("*.py"))
    assert files, f"no modules under {area}/"
    return files


def imported_modules(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in ``path`` (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    inside = path.is_relative_to(PACKAGE.parent)
    package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1]) if inside else ""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((base, [alias.name for alias in node.names]))
    return found


def strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]  # fmt: skip


def calls(path: Path) -> set[str]:
    """Names of the attributes and functions called in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
            elif isinstance(node.func, ast.Name):
                names.add(node.func.id)
    return names


@pytest.mark.parametrize("path", python_files("ui"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_ui_imports_services_not_the_api(path: Path) -> None:
    for module, names in imported_modules(path):
        assert module != "chainwatch.api" and not module.startswith("chainwatch.api."), (
            f"{path.name} imports {module}"
        )
        if module == "chainwatch":
            assert names == ["__version__"], f"{path.name} imports {names} from chainwatch"
        elif module.startswith("chainwatch"):
            assert module.startswith(UI_ALLOWED), f"{path.name} imports {module}"


@pytest.mark.parametrize("area", ADAPTERS)
def test_adapters_hold_no_database_access(area: str) -> None:
    offences = []
    for path in python_files(area):
        where = path.relative_to(PACKAGE)
        for module, _ in imported_modules(path):
            if module.split(".")[0] in {"duckdb", "sqlalchemy", "sqlite3"}:
                offences.append(f"{where}: imports {module}")
        offences += [f"{where}: calls .{name}(" for name in calls(path) & {"connect", "execute"}]
        offences += [f"{where}: SQL {text[:40]!r}" for text in strings(path) if SQL.search(text)]
    assert not offences, "\n".join(offences)


def test_layer_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from chainwatch.api.cache import ResultCache\nimport duckdb\n"
        "con = duckdb.connect()\ncon.execute('SELECT 1')\n",
        encoding="utf-8",
    )
    assert ("chainwatch.api.cache", ["ResultCache"]) in imported_modules(sample)
    assert {"connect", "execute"} <= calls(sample)
    assert any(SQL.search(text) for text in strings(sample))
