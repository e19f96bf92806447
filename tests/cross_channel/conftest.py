"""The mobile-web apps of the short-link tests: ``app`` for the database, ``site`` for
the browsers (tests/links/conftest.py)."""

from tests.app.links.conftest import (  # noqa: F401 - fixtures
    _clean_sandbox,
    app,
    site,
)
