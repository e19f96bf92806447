"""Refuse database work in the edges (``make lint``): ``api/`` and ``app/web/`` parse,
authorise, call one use case or query function, and render.

An edge module may not import SQLAlchemy or ``app.kernel.db``, and may not use
``db.session``, ``.commit(``, ``.rollback(`` or ``select(``: queries belong in the domain
packages' query functions, writes (and their one commit) in ``app/usecases/``.

Usage: python scripts/check_thin_edges.py [paths…]   (default: api app/web)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ("api", "app/web")
FORBIDDEN_MODULES = ("sqlalchemy", "flask_sqlalchemy", "app.kernel.db")
FORBIDDEN_CALLS = {"commit", "rollback", "flush", "select"}
HINT = ("move it into a use case (app/usecases/, one transaction) or a domain query "
        "function; the edge calls it")


def _forbidden_module(name: str | None) -> bool:
    return bool(name) and any(name == m or name.startswith(m + ".")  # type: ignore[union-attr]
                              for m in FORBIDDEN_MODULES)


def violations(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, f"import {a.name}") for a in node.names
                         if _forbidden_module(a.name))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if _forbidden_module(module):
                found.append((node.lineno, f"from {module} import …"))
            elif module == "app.kernel" and any(a.name == "db" for a in node.names):
                found.append((node.lineno, "from app.kernel import db"))
        elif (isinstance(node, ast.Attribute) and node.attr == "session"
              and isinstance(node.value, ast.Name) and node.value.id == "db"):
            found.append((node.lineno, "db.session"))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else (
                func.id if isinstance(func, ast.Name) else None)
            if name in FORBIDDEN_CALLS:
                found.append((node.lineno, f"{name}(…)"))
    return sorted(set(found))


def main(argv: list[str]) -> int:
    paths = [ROOT / p for p in (argv or DEFAULT_PATHS)]
    bad = 0
    for base in paths:
        for path in sorted(base.rglob("*.py") if base.is_dir() else [base]):
            relative = path.relative_to(ROOT)
            for line, what in violations(path):
                print(f"{relative}:{line}: {what} in an edge: {HINT}")
                bad += 1
    if bad:
        print(f"{bad} database use(s) in the edges")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
