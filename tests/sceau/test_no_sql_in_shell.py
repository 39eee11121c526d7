"""The shell holds no SQL: queries live in the domain and store packages (issue #13).

A module under sceau/ may name an `Engine` (a handle it passes on), nothing that builds or
runs a query: no select/update/delete/text/Session/col/func, no SQL in a string.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SHELL = Path(__file__).parents[2] / "sceau"
ALLOWED_NAMES = {"Engine"}  # from sqlalchemy.engine: a handle, never a query
ALLOWED_MODULES: dict[str, set[str]] = {}  # none: even the composition root only passes engines
SQL_TEXT = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b")


def sql_in(source: str) -> list[str]:
    """What of SQLAlchemy/SQLModel a module's source uses beyond an Engine, and SQL strings."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and _is_sql_package(node.module or ""):
            found += [a.name for a in node.names if a.name not in ALLOWED_NAMES]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_sql_package(a.name)]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_TEXT.search(node.value)
        ):
            found.append(f"SQL text {node.value[:40]!r}")
    return found


def _is_sql_package(module: str) -> bool:
    return module.split(".")[0] in ("sqlalchemy", "sqlmodel")


def shell_modules() -> list[Path]:
    return sorted(SHELL.rglob("*.py"))


@pytest.mark.parametrize("module", shell_modules(), ids=lambda p: str(p.relative_to(SHELL)))
def test_no_module_of_the_shell_builds_or_runs_a_query(module: Path) -> None:
    allowed = ALLOWED_MODULES.get(str(module.relative_to(SHELL)), set())
    used = [name for name in sql_in(module.read_text()) if name not in allowed]
    assert used == [], f"{module.relative_to(SHELL)} uses {used}: move it into a domain function"


@pytest.mark.parametrize(
    "source",
    [
        "from sqlmodel import Session, select",
        "from sqlalchemy import text",
        "import sqlalchemy",
        "from sqlalchemy.orm import Session",
        "q = 'SELECT id FROM batches'",
        "q = 'DELETE FROM shares WHERE id = 1'",
    ],
)
def test_the_check_sees_queries_and_sql_text(source: str) -> None:
    assert sql_in(source) != []


def test_the_check_lets_an_engine_handle_through() -> None:
    assert sql_in("from sqlalchemy.engine import Engine\nx = 'select a language'") == []
