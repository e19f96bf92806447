"""The development stand-in for face verification on the docs page."""

from __future__ import annotations

from typing import Any

from app.identity import claims
from tests.flow import Citizen


def test_dev_identity_claim_works_only_in_development(
        app: Any, make_app: Any, buyer: Citizen) -> None:
    refused = app.test_cli_runner().invoke(args=["dev-identity-claim", str(buyer.account_id)])
    assert refused.exit_code != 0 and "development only" in refused.output

    dev = make_app(APP_ENV="development")
    with dev.app_context():
        result = dev.test_cli_runner().invoke(
            args=["dev-identity-claim", str(buyer.account_id)])
        assert result.exit_code == 0, result.output
        claim = claims.check(result.output.strip(), buyer.account_id)
        assert claim.person_id == buyer.person_id
        unknown = dev.test_cli_runner().invoke(args=["dev-identity-claim", "999999"])
        assert unknown.exit_code != 0 and "not verified" in unknown.output
