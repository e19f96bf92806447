"""Citizens and reviewers of the one-window application (tests/application), for e-bills
issued after a real sandbox payment."""

from tests.application.conftest import _clean_sandbox, buyer, reviewers, seller

__all__ = ["_clean_sandbox", "buyer", "reviewers", "seller"]
