"""Shared fixtures: a database built by the migrations, the app, the sandbox.

The database is SQLite by default; set ``TEST_DATABASE_URL`` to a PostgreSQL URL
(``make test`` does, after starting a throw-away server) to run the same tests there.
Migrations run from empty to head once per session; each test then starts from that
state (a copy of the SQLite file, or truncated PostgreSQL tables).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app.factory import create_app
from app.kernel.settings import generate_dev_secrets
from sandbox.testing import platform_settings_for, sandbox_settings, start_sandbox

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


def pytest_report_header(config: Any) -> str:
    return "database: " + ("PostgreSQL " + POSTGRES_URL if POSTGRES_URL else "SQLite")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="PostgreSQL only (set TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def secrets() -> dict[str, str]:
    return generate_dev_secrets()


@pytest.fixture(scope="session")
def sandbox(secrets: dict[str, str]) -> Iterator[Any]:
    settings = sandbox_settings()
    running = start_sandbox(settings)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def base_config(
    tmp_path_factory: pytest.TempPathFactory, secrets: dict[str, str], sandbox: Any
) -> dict[str, Any]:
    instance = tmp_path_factory.mktemp("instance")
    config: dict[str, Any] = dict(secrets)
    config.update(platform_settings_for(sandbox, sandbox.settings))
    config.update(APP_ENV="test", INSTANCE_DIR=str(instance), RATELIMIT_STORAGE_URI="memory://")
    return config


def _migrate_to_head(config: dict[str, Any]) -> None:
    from flask_migrate import upgrade

    from app.cases.service import load_business_types

    app = create_app(config)
    with app.app_context():
        upgrade()
        load_business_types()
        from app.kernel.db import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(base_config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate an empty database to head once; return its URL (or SQLite file path)."""
    if POSTGRES_URL:
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate_to_head({**base_config, "DATABASE_URL": POSTGRES_URL})
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    _migrate_to_head({**base_config, "DATABASE_URL": f"sqlite:///{path}"})
    return str(path)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('alembic_version', 'business_types')"
        )).scalars().all()
        conn.execute(text(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        ))
    engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    target = tmp_path / "test.sqlite3"
    shutil.copyfile(database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def make_app(base_config: dict[str, Any], database_url: str, sandbox: Any) -> Iterator[Any]:
    """Build an app on this test's database; extra settings as keyword arguments."""
    apps: list[Flask] = []
    sandbox.reset()

    def factory(**overrides: Any) -> Flask:
        app = create_app({**base_config, "DATABASE_URL": database_url, **overrides})
        apps.append(app)
        return app

    yield factory
    from app.kernel.db import db

    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Any) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
