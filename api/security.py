"""Bearer-token authentication for citizen endpoints."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, request

from app.accounts.tokens import CitizenIdentity, authenticate
from app.identity import claims
from app.kernel.errors import Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
CLAIM_HEADER = "X-Identity-Claim"
BEARER_AND_CLAIM: list[dict[str, list[str]]] = [{"bearerAuth": [], "identityClaim": []}]


def citizen_required(view: F) -> F:
    """Require a valid access token; the caller is then in ``current_citizen()``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated()
        g.citizen = authenticate(token.strip())
        return view(*args, **kwargs)

    return cast(F, wrapper)


def identity_claim_required(view: F) -> F:
    """Require a fresh "identity verified" claim (X-Identity-Claim) for the caller."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.identity_claim = claims.check(request.headers.get(CLAIM_HEADER),
                                        current_citizen().account.id)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def current_citizen() -> CitizenIdentity:
    identity: CitizenIdentity = g.citizen
    return identity
