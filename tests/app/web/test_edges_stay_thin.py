"""The edges (api/, app/web/) parse, authorise, call and render: no query, commit or
SQLAlchemy import in them (scripts/check_thin_edges.py, run by ``make lint`` too)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "check_thin_edges.py"


def _check() -> object:
    spec = importlib.util.spec_from_file_location("check_thin_edges", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_edge_module_queries_commits_or_imports_the_database(
        capsys: pytest.CaptureFixture[str]) -> None:
    status = _check().main([])  # type: ignore[attr-defined]
    offending = [line for line in capsys.readouterr().out.splitlines() if ": " in line]
    assert (status, offending) == (0, []), "\n".join(offending)


def test_the_check_names_each_kind_of_database_use_with_its_line(tmp_path: Path) -> None:
    edge = tmp_path / "page.py"
    edge.write_text(
        "from sqlalchemy import select\n"
        "from app.kernel.db import db\n"
        "import sqlalchemy.orm\n"
        "def view():\n"
        "    db.session.get(object, 1)\n"
        "    rows = select(object)\n"
        "    db.session.commit()\n"
        "    other.rollback()\n", encoding="utf-8")
    found = _check().violations(edge)  # type: ignore[attr-defined]
    assert [line for line, _ in found] == [1, 2, 3, 5, 6, 7, 7, 8]
    assert any("db.session" in what for _, what in found)


def test_a_page_that_calls_use_cases_passes(tmp_path: Path) -> None:
    edge = tmp_path / "page.py"
    edge.write_text("from app.usecases import mobile_web\n"
                    "def view(order):\n"
                    "    return mobile_web.ask_gateway(order)\n", encoding="utf-8")
    assert _check().violations(edge) == []  # type: ignore[attr-defined]
