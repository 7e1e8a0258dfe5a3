"""gis/, bim/ and tiles/ are pure libraries: they never import the service, a database or a web stack."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from twin.settings import REPO_ROOT

FORBIDDEN = {"twin", "sqlalchemy", "geoalchemy2", "fastapi", "starlette", "psycopg", "alembic", "uvicorn"}


@pytest.mark.parametrize("library", ["gis", "bim", "tiles"])
def test_library_imports_nothing_from_the_service(library: str) -> None:
    offenders = []
    for path in (REPO_ROOT / library).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            offenders += [f"{path.relative_to(REPO_ROOT)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert not offenders
