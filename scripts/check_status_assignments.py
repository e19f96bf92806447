"""Refuse a raw status assignment outside the status machines (``make lint``).

Every status changes through its table (``app.kernel.states.StateMachine.move``), so
``obj.status = …`` (or ``setattr(obj, "status", …)``) anywhere else is an error. A new row
gets its first status in its constructor (``Refund(status=…)``), which is not an edge.

Usage: python scripts/check_status_assignments.py [paths…]   (default: app api payments kyc)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ("app", "api", "payments", "kyc")
# The one place that sets a status attribute.
ALLOWED = {Path("app/kernel/states.py")}
STATUS_ATTRIBUTES = {"status"}


def _is_status_target(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in STATUS_ATTRIBUTES


def violations(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                targets.extend(target.elts if isinstance(target, ast.Tuple) else [target])
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets.append(node.target)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "setattr" and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant)
              and node.args[1].value in STATUS_ATTRIBUTES):
            found.append((node.lineno, "setattr(…, 'status', …)"))
        for target in targets:
            if _is_status_target(target):
                found.append((getattr(node, "lineno", 0), ast.unparse(target) + " = …"))
    return found


def main(argv: list[str]) -> int:
    paths = [ROOT / p for p in (argv or DEFAULT_PATHS)]
    bad = 0
    for base in paths:
        for path in sorted(base.rglob("*.py") if base.is_dir() else [base]):
            relative = path.relative_to(ROOT)
            if relative in ALLOWED:
                continue
            for line, what in violations(path):
                print(f"{relative}:{line}: raw status assignment {what}: "
                      "move it through its StateMachine (app/kernel/states.py)")
                bad += 1
    if bad:
        print(f"{bad} raw status assignment(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
