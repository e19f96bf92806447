"""The bank's side exactly as docs/institutions.md shows it: plain ``requests`` over real
HTTP (its own percent-encoding of the path and query), no code of ours."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from flask import Flask

from app.certificates.models import Certificate
from tests.app.institutions.helpers import Bank
from tests.flow import Citizen
from tests.helpers import LocalServer


class Served(LocalServer):
    def __init__(self, app: Flask) -> None:
        self.app = app
        super().__init__()

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app.wsgi_app(environ, start_response)


@pytest.fixture
def server(app: Flask) -> Iterator[Served]:
    served = Served(app)
    yield served
    served.stop()


# --- as in the docs ----------------------------------------------------------------------------

def canonical_query(params: dict[str, str]) -> str:
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


def signed_headers(key_id: str, secret: str, method: str, path: str,
                   params: dict[str, str] | None = None, body: bytes = b"") -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    canonical = "\n".join([method, path, canonical_query(params or {}), timestamp, nonce,
                           hashlib.sha256(body).hexdigest()])
    digest = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).digest()
    return {"X-Bdc-Key-Id": key_id, "X-Bdc-Timestamp": timestamp, "X-Bdc-Nonce": nonce,
            "X-Bdc-Signature": base64.b64encode(digest).decode()}

# ------------------------------------------------------------------------------------------------


def test_requests_signed_as_documented_are_accepted(server: Served, bank: Bank, court: Bank,
                                                    owner: Citizen,
                                                    certificate: Certificate) -> None:
    number = certificate.number
    path = "/api/institution/v1/certificates/verify"
    body = json.dumps({"number": number}, ensure_ascii=False).encode()
    response = requests.post(server.url + path, data=body, timeout=5, headers={
        "Content-Type": "application/json",
        **signed_headers(bank.key_id, bank.secret, "POST", path, body=body)})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"

    path = f"/api/institution/v1/certificates/{number}"
    params = {"legal_basis": "(2026)粤0402执1234号"}
    response = requests.get(server.url + quote(path), params=params, timeout=5,
                            headers=signed_headers(court.key_id, court.secret, "GET", path,
                                                   params))
    assert response.status_code == 200, response.text
    assert response.json()["content"]["holders"][0]["id_number"] == "4404**********0018"

    response = requests.get(server.url + quote(path), timeout=5,
                            headers=signed_headers(bank.key_id, bank.secret, "GET", path))
    assert response.status_code == 403 and response.json()["code"] == "AUTHORISATION_REQUIRED"
