"""Citizens and reviewers of the one-window application (tests/flow_fixtures.py), for
e-bills issued after a real sandbox payment."""

from tests.flow_fixtures import _clean_sandbox, buyer, reviewers, seller

__all__ = ["_clean_sandbox", "buyer", "reviewers", "seller"]
