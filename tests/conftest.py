"""Shared fixtures: a database built by the migrations, the app, the sandbox.

The database is SQLite by default; set ``TEST_DATABASE_URL`` to a PostgreSQL URL
(``make test`` does, after starting a throw-away server) to run the same tests there.
Migrations run from empty to head once per session; each test then starts from that
state (a copy of the SQLite file, or truncated PostgreSQL tables).

Under pytest-xdist (``-n 2``) each worker is a session of its own: its own SQLite
template, and on PostgreSQL its own database in the same server (``bdc_test_gw0``, …,
created on first use), so workers never see each other's rows. Every server the tests
start (the sandbox, local upstreams, the e2e live server) listens on a free port.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from app.factory import create_app
from app.kernel.settings import generate_dev_secrets
from sandbox.testing import platform_settings_for, sandbox_settings, start_sandbox

SHARED_POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … under xdist


def _worker_url(url: str, worker: str) -> str:
    """This xdist worker's own database in the server of ``url`` (``url`` itself when
    not running under xdist)."""
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(
        hide_password=False)


POSTGRES_URL = _worker_url(SHARED_POSTGRES_URL, XDIST_WORKER)


def _create_worker_database(url: str) -> None:
    """Create the database of ``url`` (a worker's) unless it exists, connected to the
    shared one."""
    name = make_url(url).database
    engine = create_engine(SHARED_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                              {"name": name}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def pytest_report_header(config: Any) -> str:
    return "database: " + ("PostgreSQL " + SHARED_POSTGRES_URL if SHARED_POSTGRES_URL
                           else "SQLite")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="PostgreSQL only (set TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _alipay_key_read_once() -> Iterator[None]:
    """Every app's Alipay gateway turns the same app private key into PKCS#1 PEM, which
    loads and checks the RSA key (~40 ms, a sixth of building an app): remember the
    answer for the session. The function is pure; only its speed changes."""
    from payments.gateways import alipay

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(alipay, "app_private_key_pem",
                      functools.lru_cache(maxsize=32)(alipay.app_private_key_pem))
        yield


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
def database_template(
    base_config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Migrate an empty database to head once; its URL (or SQLite file path)."""
    yield _build_template(base_config, tmp_path_factory)
    while _reset_engines:
        _reset_engines.popitem()[1].dispose()


def _build_template(base_config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> str:
    if POSTGRES_URL:
        if POSTGRES_URL != SHARED_POSTGRES_URL:
            _create_worker_database(POSTGRES_URL)
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


# Empty what a test wrote, in one round trip: only the tables that hold rows are
# truncated (a TRUNCATE of all ~50 tables cost ~0.15 s a test, most of it creating new
# files for empty tables), and every used sequence of those tables starts again at 1, as
# RESTART IDENTITY of all of them did. The migrations' reference data stays.
_RESET_POSTGRES = text("""
DO $$
DECLARE
  name text;
  holding text[] := '{}';
  has_rows boolean;
  seq record;
BEGIN
  FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
              AND tablename NOT IN ('alembic_version', 'business_types') LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', name) INTO has_rows;
    IF has_rows THEN
      holding := holding || format('%I', name);
    END IF;
  END LOOP;
  IF cardinality(holding) > 0 THEN
    EXECUTE 'TRUNCATE ' || array_to_string(holding, ', ') || ' RESTART IDENTITY CASCADE';
  END IF;
  FOR seq IN SELECT DISTINCT s.relname FROM pg_class s
             JOIN pg_namespace n ON n.oid = s.relnamespace AND n.nspname = 'public'
             JOIN pg_sequences p ON p.schemaname = 'public' AND p.sequencename = s.relname
             JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
             JOIN pg_class t ON t.oid = d.refobjid
             WHERE s.relkind = 'S' AND p.last_value IS NOT NULL
               AND t.relname NOT IN ('alembic_version', 'business_types') LOOP
    EXECUTE format('ALTER SEQUENCE %I RESTART', seq.relname);
  END LOOP;
END $$
""")

_reset_engines: dict[str, Any] = {}  # one per session and URL, disposed at its end


def _reset_postgres(url: str) -> None:
    engine = _reset_engines.get(url)
    if engine is None:
        engine = _reset_engines[url] = create_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(_RESET_POSTGRES)


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
