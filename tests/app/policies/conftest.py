"""The one-window application's fixtures (tests/flow_fixtures.py) for the party rules."""

from tests.flow_fixtures import (  # noqa: F401 - fixtures
    _clean_sandbox,
    app,
    buyer,
    seller,
)
