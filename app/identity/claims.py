"""The signed "identity verified" claim: proof of a recent face verification.

A short-lived JWT (audience ``bdc-identity``) naming the account, its Person and how
the identity was verified. Submitting a case, paying and downloading a certificate
require one in the ``X-Identity-Claim`` header, bound to the caller's account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app

from app.kernel.errors import IdentityClaimExpired, IdentityClaimRequired
from app.kernel.timeutil import utcnow

_AUDIENCE = "bdc-identity"
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class IdentityClaim:
    token: str
    account_id: int
    person_id: int
    method: str
    expires_at: datetime


def issue(account_id: int, person_id: int, method: str) -> IdentityClaim:
    ttl = int(current_app.config["KYC_CLAIM_TTL_SECONDS"])
    now = utcnow()
    expires = now + timedelta(seconds=ttl)
    token = jwt.encode(
        {"sub": str(account_id), "pid": person_id, "amr": method, "aud": _AUDIENCE,
         "iat": now, "exp": expires},
        current_app.config["JWT_SIGNING_KEY"], algorithm=_ALGORITHM,
    )
    return IdentityClaim(token, account_id, person_id, method, expires)


def check(token: str | None, account_id: int) -> IdentityClaim:
    """A valid claim for this account, or IdentityClaimRequired / IdentityClaimExpired."""
    if not token:
        raise IdentityClaimRequired()
    try:
        claims = jwt.decode(
            token, current_app.config["JWT_SIGNING_KEY"], algorithms=[_ALGORITHM],
            audience=_AUDIENCE, options={"require": ["exp", "sub", "pid"]},
        )
    except jwt.ExpiredSignatureError:
        raise IdentityClaimExpired() from None
    except jwt.PyJWTError:
        raise IdentityClaimRequired() from None
    if claims["sub"] != str(account_id):
        raise IdentityClaimRequired()
    return IdentityClaim(token, account_id, int(claims["pid"]), str(claims.get("amr")),
                         datetime.fromtimestamp(claims["exp"], UTC))
