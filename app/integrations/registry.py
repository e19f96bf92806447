"""Population registry (人口库): the real-name check through a data-sharing adapter.

The core depends on :class:`PopulationRegistry`. :class:`HttpPopulationRegistry` speaks
the data-sharing platform's signed JSON protocol (``POST /population/v1/identity-check``,
HMAC-SHA256 over method, path, timestamp, nonce and body digest; described in
``sandbox/README.md``). In development and tests ``REGISTRY_BASE_URL`` is the sandbox,
which verifies signatures, timestamps and nonces, so this exact code path runs.

Names, ID numbers and photos are personal data: logs show ``张*`` and
``4404**********0018`` only, and a record's ``repr`` leaves the photo out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast
from urllib.parse import urlsplit

import requests

from app.kernel.settings import SettingsError
from app.kernel.validators import mask_id_number, mask_name

logger = logging.getLogger(__name__)

IDENTITY_CHECK_PATH = "population/v1/identity-check"
DEFAULT_TIMEOUT_SECONDS = 5.0

Match = Literal["CONSISTENT", "NAME_MISMATCH", "NOT_FOUND"]
Status = Literal["NORMAL", "DECEASED", "CANCELLED"]
MATCHES: frozenset[str] = frozenset({"CONSISTENT", "NAME_MISMATCH", "NOT_FOUND"})
STATUSES: frozenset[str] = frozenset({"NORMAL", "DECEASED", "CANCELLED"})


@dataclass(frozen=True)
class RegistryRecord:
    """The registry's answer for one name + ID number.

    ``status`` (and ``photo``) come only with ``match == "CONSISTENT"``: the registry
    tells nothing about the holder of a number to someone who has the wrong name.
    ``photo`` is the reference photo (JPEG or PNG bytes) when asked for and on file.
    """

    match: Match
    status: Status | None
    photo: bytes | None = field(default=None, repr=False)
    request_id: str | None = None

    @property
    def confirmed(self) -> bool:
        """The name belongs to the number and the person is registered and alive."""
        return self.match == "CONSISTENT" and self.status == "NORMAL"


class RegistryError(Exception):
    """The registry refused the request (bad signature, unknown app key, bad request…)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.request_id = request_id


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or failed on its side (network, timeout, 5xx)."""


class PopulationRegistry(Protocol):
    def check_identity(
        self, name: str, id_number: str, want_photo: bool = True
    ) -> RegistryRecord: ...


def sign_request(
    app_secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """hex HMAC-SHA256(app_secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nsha256hex(BODY))."""
    digest = hashlib.sha256(body).hexdigest()
    message = "\n".join((method.upper(), path, timestamp, nonce, digest)).encode("utf-8")
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(
    app_key: str, app_secret: str, path: str, body: bytes, now: float
) -> dict[str, str]:
    """The headers of a signed ``POST`` of the JSON ``body`` to ``path``, stamped ``now``
    (epoch seconds) with a fresh random nonce; shared by every data-sharing client."""
    timestamp = str(int(now * 1000))
    nonce = secrets.token_hex(16)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Accept": "application/json",
        "X-App-Key": app_key,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": sign_request(app_secret, "POST", path, timestamp, nonce, body),
    }


class HttpPopulationRegistry:
    """:class:`PopulationRegistry` over HTTPS with an app key and signed requests.

    ``clock`` (epoch seconds) stamps the requests; tests pass a skewed one.
    """

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        *,
        clock: Callable[[], float] = time.time,
    ):
        if not base_url or not app_key or not app_secret:
            raise ValueError("the registry base URL, app key and app secret are required")
        self.url = base_url.rstrip("/") + "/" + IDENTITY_CHECK_PATH
        self.path = urlsplit(self.url).path
        self.app_key = app_key
        self._app_secret = app_secret
        self.timeout = timeout
        self.clock = clock
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"HttpPopulationRegistry({self.url!r}, app_key={self.app_key!r})"

    def check_identity(self, name: str, id_number: str, want_photo: bool = True) -> RegistryRecord:
        if not name or not id_number:
            raise ValueError("a name and an ID number are required")
        who = f"{mask_name(name)} {mask_id_number(id_number)}"
        body = json.dumps(
            {"name": name, "id_number": id_number, "want_photo": bool(want_photo)},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        headers = signed_headers(self.app_key, self._app_secret, self.path, body, self.clock())
        try:
            response = self._http.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            logger.warning("registry check %s: unreachable (%s)", who, type(exc).__name__)
            raise RegistryUnavailable(
                "UNAVAILABLE", f"registry unreachable: {type(exc).__name__}"
            ) from exc
        record = _read_answer(response, who)
        logger.info(
            "registry check %s: %s %s%s",
            who,
            record.match,
            record.status or "-",
            " with photo" if record.photo else "",
        )
        return record

    def close(self) -> None:
        self._http.close()


def _read_answer(response: requests.Response, who: str) -> RegistryRecord:
    result, request_id = read_envelope(response, f"registry check {who}")
    return _record(result, request_id, response.status_code)


def read_envelope(
    response: requests.Response, label: str, log: logging.Logger = logger
) -> tuple[Any, str | None]:
    """``(result, request_id)`` of a data-sharing answer ``{"code": "OK", "result",
    "request_id"}``; :class:`RegistryUnavailable` for HTTP 5xx and 429,
    :class:`RegistryError` for any other refusal. ``label`` (already masked) names the
    request in the log. The caller validates ``result``."""
    status_code = response.status_code
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        answer = {}
    request_id = answer.get("request_id") if isinstance(answer.get("request_id"), str) else None
    code = str(answer.get("code") or f"HTTP_{status_code}")
    message = str(answer.get("message") or "")
    if status_code >= 500 or status_code == 429:
        log.warning("%s: HTTP %s %s", label, status_code, code)
        raise RegistryUnavailable(
            code, message or f"HTTP {status_code}", http_status=status_code, request_id=request_id
        )
    if status_code != 200 or code != "OK":
        log.warning("%s refused: HTTP %s %s", label, status_code, code)
        raise RegistryError(code, message, http_status=status_code, request_id=request_id)
    return answer.get("result"), request_id


def _record(result: Any, request_id: str | None, status_code: int) -> RegistryRecord:
    def unexpected(what: str) -> RegistryError:
        return RegistryError(
            "UNEXPECTED_RESPONSE", what, http_status=status_code, request_id=request_id
        )

    if not isinstance(result, dict):
        raise unexpected("answer without a result")
    match, status, photo = result.get("match"), result.get("status"), result.get("photo")
    if match not in MATCHES:
        raise unexpected("unknown match value")
    if status is not None and status not in STATUSES:
        raise unexpected("unknown status value")
    if match == "CONSISTENT" and status is None:
        raise unexpected("a consistent answer without a status")
    photo_bytes: bytes | None = None
    if photo is not None:
        try:
            photo_bytes = base64.b64decode(str(photo), validate=True)
        except (binascii.Error, ValueError):
            raise unexpected("photo is not base64")
    return RegistryRecord(
        match=cast(Match, match),
        status=cast("Status | None", status),
        photo=photo_bytes or None,
        request_id=request_id,
    )


def is_loopback_url(url: str) -> bool:
    """localhost or a loopback address: plain http is allowed there even in production."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def data_sharing_connection(config: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(base_url, app_key, app_secret)`` of the data-sharing platform from
    ``REGISTRY_BASE_URL``, ``REGISTRY_APP_KEY`` and ``REGISTRY_APP_SECRET``, checked
    (:class:`SettingsError`); every data-sharing client is built from these."""
    base_url = str(config.get("REGISTRY_BASE_URL") or "")
    if not base_url:
        raise SettingsError("REGISTRY_BASE_URL is required (the data-sharing platform's URL)")
    scheme = urlsplit(base_url).scheme
    if scheme not in ("http", "https"):
        raise SettingsError("REGISTRY_BASE_URL must be an http:// or https:// URL")
    if config.get("APP_ENV") == "production" and scheme == "http" and not is_loopback_url(base_url):
        raise SettingsError(
            "REGISTRY_BASE_URL must use https in production: the requests carry names, ID"
            " numbers, photos and other personal data"
        )
    if not config.get("REGISTRY_APP_KEY") or not config.get("REGISTRY_APP_SECRET"):
        raise SettingsError("REGISTRY_APP_KEY and REGISTRY_APP_SECRET are required")
    return base_url, str(config["REGISTRY_APP_KEY"]), str(config["REGISTRY_APP_SECRET"])


def make_population_registry(config: Mapping[str, Any]) -> PopulationRegistry:
    """The registry client for ``REGISTRY_BASE_URL``, ``REGISTRY_APP_KEY`` and
    ``REGISTRY_APP_SECRET`` (and ``REGISTRY_TIMEOUT_SECONDS``, default 5)."""
    base_url, app_key, app_secret = data_sharing_connection(config)
    return HttpPopulationRegistry(
        base_url,
        app_key,
        app_secret,
        timeout=float(config.get("REGISTRY_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS),
    )
