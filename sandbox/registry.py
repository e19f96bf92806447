"""A population registry (人口库) behind a government data-sharing platform.

One operation, the real-name check: ``POST /population/v1/identity-check`` with a JSON
body ``{"name", "id_number", "want_photo"}``, signed with the platform's app secret:

    X-App-Key:   the app key
    X-Timestamp: epoch milliseconds, within 5 minutes of the registry's clock
    X-Nonce:     8–64 characters [0-9A-Za-z_-], never reused
    X-Signature: hex HMAC-SHA256(app_secret,
                     METHOD "\\n" PATH "\\n" TIMESTAMP "\\n" NONCE "\\n" sha256hex(BODY))

The answer is ``{"code": "OK", "result": {"match", "status", "photo"}, "request_id"}``
(HTTP 200) or ``{"code", "message", "request_id"}`` (HTTP 400 or 401). Persons come
from ``sandbox/data/registry_persons.json``; tests add more with
:meth:`RegistrySandbox.add_person`. See sandbox/README.md for the whole protocol.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.privacy import mask_id_number, mask_name

IDENTITY_CHECK_PATH = "/population/v1/identity-check"
TIMESTAMP_WINDOW_SECONDS = 300
NONCE = re.compile(r"^[0-9A-Za-z_-]{8,64}$")
RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
MAX_NAME_LENGTH = 64
STATUSES = ("NORMAL", "DECEASED", "CANCELLED")
DATA_DIR = Path(__file__).resolve().parent / "data"
SEED_FILE = DATA_DIR / "registry_persons.json"


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join((method.upper(), path, timestamp, nonce, body_digest(body)))


def signature(
    app_secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """hex HMAC-SHA256 of :func:`string_to_sign` with the app secret."""
    message = string_to_sign(method, path, timestamp, nonce, body).encode("utf-8")
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class RegistryApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message


def _unauthorized(code: str, message: str) -> RegistryApiError:
    return RegistryApiError(401, code, message)


def bad_request(message: str) -> RegistryApiError:
    return RegistryApiError(400, "BAD_REQUEST", message)


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    status: str = "NORMAL"
    photo: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a person needs a name")
        if not RESIDENT_ID.match(self.id_number):
            raise ValueError("the ID number must be 17 digits and a digit or X")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")


def load_seed(path: Path = SEED_FILE) -> list[Person]:
    """The demo persons; ``photo`` entries are paths relative to ``sandbox/data/``."""
    document = json.loads(path.read_text(encoding="utf-8"))
    persons = []
    for entry in document["persons"]:
        photo = (path.parent / entry["photo"]).read_bytes() if entry.get("photo") else None
        persons.append(
            Person(entry["name"], entry["id_number"], entry.get("status", "NORMAL"), photo)
        )
    return persons


class RequestVerifier:
    """The data-sharing platform's gateway check of a signed request: app key, timestamp
    window, signature, then nonce replay. One verifier (one nonce memory) serves every
    service of the platform: the population registry and sandbox/datasharing.py."""

    def __init__(
        self, app_key: str, app_secret: str, clock: Callable[[], float], lock: threading.RLock
    ):
        self.app_key = app_key
        self.app_secret = app_secret
        self.clock = clock
        self._lock = lock
        self._nonces: dict[str, float] = {}  # nonce → when it may be forgotten

    def reset(self) -> None:
        """Forget the nonces seen."""
        with self._lock:
            self._nonces.clear()

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> None:
        """Nothing, or :class:`RegistryApiError` (401) with the first problem found."""
        lowered = {key.lower(): value for key, value in headers.items()}
        app_key = lowered.get("x-app-key", "")
        timestamp = lowered.get("x-timestamp", "")
        nonce = lowered.get("x-nonce", "")
        given = lowered.get("x-signature", "")
        if app_key != self.app_key:
            raise _unauthorized("APP_KEY_UNKNOWN", "X-App-Key is missing or unknown")
        if not timestamp.isdigit():
            raise _unauthorized("TIMESTAMP_EXPIRED", "X-Timestamp must be epoch milliseconds")
        if abs(self.clock() - int(timestamp) / 1000) > TIMESTAMP_WINDOW_SECONDS:
            raise _unauthorized(
                "TIMESTAMP_EXPIRED",
                f"X-Timestamp is more than {TIMESTAMP_WINDOW_SECONDS} s from the server time",
            )
        if not NONCE.match(nonce):
            raise _unauthorized("SIGNATURE_INVALID", "X-Nonce must be 8-64 of [0-9A-Za-z_-]")
        expected = signature(self.app_secret, method, path, timestamp, nonce, body)
        if not hmac.compare_digest(expected, given.lower()):
            raise _unauthorized("SIGNATURE_INVALID", "X-Signature does not match the request")
        # Nonces are remembered only for signed requests, for as long as their timestamp
        # would be accepted; afterwards the timestamp check refuses a replay anyway.
        now = self.clock()
        with self._lock:
            for old in [n for n, until in self._nonces.items() if until < now]:
                del self._nonces[old]
            if nonce in self._nonces:
                raise _unauthorized("NONCE_REUSED", "X-Nonce has been used before")
            self._nonces[nonce] = now + 2 * TIMESTAMP_WINDOW_SECONDS


class RegistrySandbox:
    """The registry's persons, the nonces it has seen and the checks it answered.

    ``outage``, when set, runs before anything else for each request: it may wait (a
    slow service) or raise :class:`RegistryApiError` (503, a service that is down). The
    data-sharing sandbox's outage switch plugs in here (sandbox/datasharing.py).
    """

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        clock: Callable[[], float],
        lock: threading.RLock,
        seed: list[Person] | None = None,
    ):
        self.app_key = app_key
        self.app_secret = app_secret
        self.clock = clock
        self._lock = lock
        self.verifier = RequestVerifier(app_key, app_secret, clock, lock)
        self.outage: Callable[[], None] | None = None
        self._seed = load_seed() if seed is None else list(seed)
        self._persons: dict[str, Person] = {}
        self._checks: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        """Back to the seeded persons; forget nonces and checks."""
        with self._lock:
            self._persons = {person.id_number: person for person in self._seed}
            self.verifier.reset()
            self._checks.clear()

    def add_person(
        self, name: str, id_number: str, photo: bytes | None = None, status: str = "NORMAL"
    ) -> None:
        """Add (or replace) a person until the next reset."""
        person = Person(name, id_number, status, photo)
        with self._lock:
            self._persons[id_number] = person

    def persons(self) -> list[dict[str, Any]]:
        """Masked: name, id_number, status, has_photo."""
        with self._lock:
            return [
                {
                    "name": mask_name(p.name),
                    "id_number": mask_id_number(p.id_number),
                    "status": p.status,
                    "has_photo": p.photo is not None,
                }
                for p in self._persons.values()
            ]

    def checks(self) -> list[dict[str, Any]]:
        """Answered identity checks, oldest first, masked: name, id_number, want_photo,
        match, status, photo_returned, request_id, at."""
        with self._lock:
            return [dict(check) for check in self._checks]

    # The API -----------------------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) for one request."""
        request_id = uuid.uuid4().hex
        try:
            if self.outage is not None:
                self.outage()
            self.verifier.verify(method, path, headers, body)
            result = self._identity_check(read_body(body), request_id)
        except RegistryApiError as exc:
            return exc.status, {"code": exc.code, "message": exc.message, "request_id": request_id}
        return 200, {"code": "OK", "result": result, "request_id": request_id}

    def _identity_check(self, query: dict[str, Any], request_id: str) -> dict[str, Any]:
        name = query.get("name")
        id_number = query.get("id_number")
        want_photo = query.get("want_photo", False)
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_LENGTH:
            raise bad_request("name must be a non-empty string")
        if not isinstance(id_number, str) or not RESIDENT_ID.match(id_number):
            raise bad_request("id_number must be 18 characters: 17 digits and a digit or X")
        if not isinstance(want_photo, bool):
            raise bad_request("want_photo must be true or false")
        with self._lock:
            person = self._persons.get(id_number)
            if person is None:
                result: dict[str, Any] = {"match": "NOT_FOUND", "status": None, "photo": None}
            elif person.name != name:
                # Nothing about the holder of the number is disclosed to a wrong name.
                result = {"match": "NAME_MISMATCH", "status": None, "photo": None}
            else:
                photo = person.photo if want_photo else None
                result = {
                    "match": "CONSISTENT",
                    "status": person.status,
                    "photo": base64.b64encode(photo).decode("ascii") if photo else None,
                }
            self._checks.append(
                {
                    "name": mask_name(name),
                    "id_number": mask_id_number(id_number),
                    "want_photo": want_photo,
                    "match": result["match"],
                    "status": result["status"],
                    "photo_returned": result["photo"] is not None,
                    "request_id": request_id,
                    "at": datetime.fromtimestamp(self.clock(), UTC),
                }
            )
        return result


def read_body(body: bytes) -> dict[str, Any]:
    try:
        query = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad_request("the body must be a UTF-8 JSON object")
    if not isinstance(query, dict):
        raise bad_request("the body must be a UTF-8 JSON object")
    return query
