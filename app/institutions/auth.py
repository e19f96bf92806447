"""Signed requests from institutions: key id, timestamp, nonce, HMAC-SHA256 signature.

Every request to the institution API carries four headers::

    X-Bdc-Key-Id:     the public key id (bdc_…)
    X-Bdc-Timestamp:  unix seconds; accepted within ±300 s of the platform's clock
    X-Bdc-Nonce:      16–64 characters [A-Za-z0-9_-], never reused by the same key
    X-Bdc-Signature:  base64(HMAC-SHA256(secret, canonical))

where ``canonical`` is, joined by ``\\n`` (the style of the data-sharing requests in
:mod:`app.integrations.registry`, plus the query string)::

    METHOD                     upper case: GET, POST
    PATH                       the decoded path: /api/institution/v1/certificates/粤(2026)…号
    QUERY                      the query's pairs percent-encoded (RFC 3986), sorted, joined by &
    TIMESTAMP                  as sent
    NONCE                      as sent
    hex(sha256(BODY))          of the exact bytes sent (of b"" for a GET)

An unknown or revoked key and an inactive institution all answer the same 401
``INSTITUTION_UNAUTHENTICATED`` (no oracle). :func:`sign_request` is the client side,
used by the tests and shown in docs/institutions.md.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, quote

from flask import g, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import limiter
from app.institutions.models import Institution, InstitutionKey, InstitutionNonce
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import Forbidden, Unauthenticated
from app.kernel.timeutil import utcnow

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

KEY_ID_HEADER = "X-Bdc-Key-Id"
TIMESTAMP_HEADER = "X-Bdc-Timestamp"
NONCE_HEADER = "X-Bdc-Nonce"
SIGNATURE_HEADER = "X-Bdc-Signature"

WINDOW_SECONDS = 300
# A nonce is remembered for as long as a request carrying it could still be on time.
NONCE_TTL_SECONDS = 2 * WINDOW_SECONDS + 60
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")

# The OpenAPI security requirement of every institution endpoint (schemes in api/__init__.py).
SIGNED: list[dict[str, list[str]]] = [{"bdcKeyId": [], "bdcTimestamp": [], "bdcNonce": [],
                                       "bdcSignature": []}]


class InstitutionUnauthenticated(Unauthenticated):
    code = "INSTITUTION_UNAUTHENTICATED"
    message = "机构身份认证失败：密钥编号无效、已停用，或缺少签名请求头"


class SignatureExpired(Unauthenticated):
    code = "SIGNATURE_EXPIRED"
    message = "请求时间戳超出允许范围（前后300秒），请校准服务器时钟后重新签名"


class NonceReused(Unauthenticated):
    code = "NONCE_REUSED"
    message = "该请求随机串（nonce）已使用过，请勿重放请求"


class SignatureInvalid(Unauthenticated):
    code = "SIGNATURE_INVALID"
    message = "请求签名不正确，请检查签名串的构造和密钥"


class ScopeMissing(Forbidden):
    code = "SCOPE_MISSING"
    message = "该密钥未获授权进行此操作"


# --- the canonical string (both sides) --------------------------------------------------------

QueryLike = str | Mapping[str, Any] | Iterable[tuple[str, Any]] | None


def _pairs(query: QueryLike) -> list[tuple[str, str]]:
    if query is None:
        return []
    if isinstance(query, str):
        return parse_qsl(query.lstrip("?"), keep_blank_values=True)
    items = query.items() if isinstance(query, Mapping) else query
    return [(str(k), str(v)) for k, v in items]


def canonical_query(query: QueryLike) -> str:
    """``a=1&b=%E7%B2%A4``: every name and value percent-encoded (only A-Z a-z 0-9 - _ . ~
    left as they are), the pairs sorted, joined by ``&``; "" for no query."""
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in _pairs(query))
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_string(method: str, path: str, query: QueryLike, timestamp: str, nonce: str,
                     body: bytes) -> str:
    return "\n".join((method.upper(), path, canonical_query(query), timestamp, nonce,
                      hashlib.sha256(body).hexdigest()))


def signature(secret: str, canonical: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def sign_request(key_id: str, secret: str, method: str, path: str, query: QueryLike = None,
                 body: bytes | str | None = None, now: float | None = None,
                 nonce: str | None = None) -> dict[str, str]:
    """The four headers of a signed request (the client side, for banks and tests).

    ``path`` is the decoded path without the query; ``query`` a dict, a list of pairs or
    a raw query string; ``body`` the exact bytes sent. ``now`` (unix seconds) and
    ``nonce`` default to the clock and 32 random hex digits.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or secrets.token_hex(16)
    canonical = canonical_string(method, path, query, timestamp, nonce, raw)
    return {KEY_ID_HEADER: key_id, TIMESTAMP_HEADER: timestamp, NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature(secret, canonical)}


# --- the server side ---------------------------------------------------------------------------

def _refuse(error: Unauthenticated, key_id: str) -> Unauthenticated:
    logger.info("institution request refused: %s (key %s, %s %s)", error.code,
                key_id[:40] or "-", request.method, request.path)
    return error


def authenticate(now: datetime | None = None) -> tuple[Institution, InstitutionKey]:
    """Check the current request's signature headers; record its nonce (committed, so a
    replay is refused even if the request then fails)."""
    headers = request.headers
    key_id = headers.get(KEY_ID_HEADER, "").strip()
    timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
    nonce = headers.get(NONCE_HEADER, "").strip()
    provided = headers.get(SIGNATURE_HEADER, "").strip()
    if (not key_id or len(key_id) > 40 or not provided or not _TIMESTAMP.match(timestamp)
            or not _NONCE.match(nonce)):
        raise _refuse(InstitutionUnauthenticated(), key_id)
    key = db.session.scalar(select(InstitutionKey).where(InstitutionKey.key_id == key_id))
    if key is None or key.revoked_at is not None or not key.institution.is_active:
        raise _refuse(InstitutionUnauthenticated(), key_id)
    now = now or utcnow()
    if abs(now.timestamp() - int(timestamp)) > WINDOW_SECONDS:
        raise _refuse(SignatureExpired(), key_id)
    canonical = canonical_string(request.method, request.path, request.args.items(multi=True),
                                 timestamp, nonce, request.get_data(cache=True))
    if not hmac.compare_digest(signature(key.secret, canonical).encode("ascii"),
                               provided.encode("utf-8")):
        raise _refuse(SignatureInvalid(), key_id)
    institution = key.institution
    db.session.execute(delete(InstitutionNonce).where(
        InstitutionNonce.seen_at < now - timedelta(seconds=NONCE_TTL_SECONDS)))
    db.session.add(InstitutionNonce(key_id=key.key_id, nonce=nonce, seen_at=now))
    key.last_used_at = now
    try:
        db.session.commit()
    except IntegrityError:  # the (key_id, nonce) pair exists: a replay
        db.session.rollback()
        raise _refuse(NonceReused(), key_id) from None
    return institution, key


def institution_required(*scopes: str) -> Callable[[F], F]:
    """Require a validly signed request; with ``scopes``, a key granting at least one of
    them (else 403 ``SCOPE_MISSING``, audited). The caller is then in
    :func:`current_institution` and :func:`current_key`."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            institution, key = authenticate()
            g.institution, g.institution_key = institution, key
            if scopes and not any(key.grants(scope) for scope in scopes):
                audit.record(actor_type=ActorType.INSTITUTION, actor_id=key.key_id,
                             channel=Channel.API, action="institution.scope_missing",
                             entity_type="institution_key", entity_id=key.key_id,
                             after={"required": list(scopes), "institution_id": institution.id},
                             note=f"{request.method} {request.path}"[:500])
                db.session.commit()
                raise ScopeMissing(required=list(scopes))
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def current_institution() -> Institution:
    institution: Institution = g.institution
    return institution


def current_key() -> InstitutionKey:
    key: InstitutionKey = g.institution_key
    return key


def _rate_limit() -> str:
    return current_institution().rate_limit


def _rate_key() -> str:
    return "institution-key:" + current_key().key_id


# Per key id, across the whole institution API, at the institution's own rate. Put it
# *below* ``institution_required`` so only signed requests count (nobody can spend a
# bank's allowance by sending its key id).
rate_limited = limiter.shared_limit(_rate_limit, scope="institution-api", key_func=_rate_key)
