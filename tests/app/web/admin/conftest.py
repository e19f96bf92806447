"""Fixtures for the admin pages: a page client, a controllable clock."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.kernel.timeutil import utcnow
from tests.app.staff.factories import Clock


@pytest.fixture
def pages(app: Flask, make_app: Any) -> FlaskClient:
    """A browser on the admin pages.

    The pages are served by a second app on the same database so that each request gets
    its own application context (and ``g``), as in production; the ``app`` fixture's
    context stays pushed for setting up and checking data through the services.
    """
    return make_app().test_client()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(utcnow())
    monkeypatch.setattr("app.staff.service.utcnow", frozen)
    return frozen
