"""The one-window application's fixtures (tests/flow_fixtures.py): the app with its own
instance directory, citizens with verified identities, reviewers; the sandbox emptied
after each test."""

from tests.flow_fixtures import (  # noqa: F401 - fixtures
    _clean_sandbox,
    app,
    buyer,
    reviewers,
    seller,
)
