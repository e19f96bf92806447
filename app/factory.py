"""The application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import api as api_package
from app import models  # noqa: F401  (register every table on the metadata)
from app.cli import register_cli
from app.extensions import csrf, limiter, migrate
from app.kernel import crypto
from app.kernel.db import db
from app.kernel.settings import PROJECT_ROOT, load_settings
from app.services import init_services
from app.web import init_web
from app.web.h5 import init_h5

MIGRATIONS_DIR = str(PROJECT_ROOT / "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides=test_config)
    app = Flask(__name__, instance_path=str(Path(settings["INSTANCE_DIR"]).resolve()))
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        TESTING=settings["APP_ENV"] == "test",
        JSON_AS_ASCII=False,
        SESSION_COOKIE_NAME="bdc_staff",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["APP_ENV"] == "production",
        RATELIMIT_STORAGE_URI=settings["RATELIMIT_STORAGE_URI"],
        RATELIMIT_HEADERS_ENABLED=True,
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session instead
    )
    if settings["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(settings["PROXY_FIX_X_FOR"]))  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    logging.getLogger("werkzeug").setLevel(logging.INFO)

    crypto.configure(settings["DATA_ENCRYPTION_KEY"], settings["LOOKUP_HASH_KEY"])
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    limiter.init_app(app)
    csrf.init_app(app)

    init_services(app)

    api_package.init_app(app)
    init_web(app)

    init_h5(app)  # mobile web pages and short links (/m/, /s/)

    register_cli(app)
    return app
