"""Apps for the short-link and mobile web tests (tests/app/web/h5 has the same fixtures).

``app`` (its context pushed) is for setting up and checking the database; the browser
(``client``) talks to ``site``, a second app on the same database whose context is not
pushed, so each request gets a fresh ``g`` as in production (Flask-WTF keeps the CSRF
token of the request there, and a login starts a new session with a new token).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

# One code a minute per phone would stop a test that sends two; the limit has its own test.
FAST_OTP = {"OTP_MIN_INTERVAL_SECONDS": 0}


@pytest.fixture
def app(make_app: Any) -> Iterator[Flask]:
    app = make_app(**FAST_OTP)
    with app.app_context():
        yield app


@pytest.fixture
def site(make_app: Any, app: Flask) -> Flask:
    return make_app(**FAST_OTP)  # type: ignore[no-any-return]


@pytest.fixture
def client(site: Flask) -> FlaskClient:
    return site.test_client()


@pytest.fixture(autouse=True)
def _clean_sandbox(sandbox: Any) -> Iterator[None]:
    yield
    sandbox.reset()
