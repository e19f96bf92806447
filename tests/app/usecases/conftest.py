"""The one-window application's fixtures (citizens with verified identities)."""

from tests.flow_fixtures import _clean_sandbox, app, buyer, seller  # noqa: F401
