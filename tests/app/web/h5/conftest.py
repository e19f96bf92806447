"""The mobile web tests use the short-link tests' apps (tests/app/links/conftest.py): ``app``
for the database, ``site`` and its ``client`` as the phone's browser."""

from tests.app.links.conftest import (  # noqa: F401 - fixtures
    FAST_OTP,
    _clean_sandbox,
    app,
    client,
    site,
)

__all__ = ["FAST_OTP"]
