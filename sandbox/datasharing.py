"""More services of the government data-sharing platform, for the automatic checks.

Same platform, same gateway as the population registry (sandbox/registry.py): the same
base URL, app key and secret, the same signed requests (verified by the same
:class:`~sandbox.registry.RequestVerifier`, which remembers nonces across services) and
the same answer envelope. Three services:

- civil affairs, marital status: ``POST /civil-affairs/v1/marital-status``
  ``{"name", "id_number"}`` → ``{"match", "status", "since"}``;
- market regulation, company status: ``POST /market-regulation/v1/company-status``
  ``{"name", "uscc"}`` → ``{"match", "status", "legal_representative_masked"}``;
- courts, restrictions on a property unit: ``POST /courts/v1/unit-restrictions``
  ``{"unit_number"}`` → ``{"restrictions": [{"kind", "court", "document_number",
  "start_date", "end_date"}]}``, those in force on the sandbox's date (Beijing time).

Records come from ``sandbox/data/datasharing.json``; tests add more until the next reset.
An outage switch per service (the population registry's included) makes a service answer
HTTP 503 or answer late: :meth:`DataSharingSandbox.set_outage`, or
``POST /sandbox/datasharing/outage``. See sandbox/README.md for the whole protocol.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, redirect, request

from sandbox.privacy import mask_name
from sandbox.registry import (
    DATA_DIR,
    RESIDENT_ID,
    RegistryApiError,
    RequestVerifier,
    bad_request,
    read_body,
)

SEED_FILE = DATA_DIR / "datasharing.json"
SHANGHAI = ZoneInfo("Asia/Shanghai")

MARITAL_STATUS_PATH = "/civil-affairs/v1/marital-status"
COMPANY_STATUS_PATH = "/market-regulation/v1/company-status"
UNIT_RESTRICTIONS_PATH = "/courts/v1/unit-restrictions"
OUTAGE_CONTROL_PATH = "/sandbox/datasharing/outage"

# Services of the platform that the outage switch knows, in the dev page's order.
SERVICES = ("population", "civil-affairs", "market-regulation", "courts")
SERVICE_PATHS = {
    "civil-affairs": MARITAL_STATUS_PATH,
    "market-regulation": COMPANY_STATUS_PATH,
    "courts": UNIT_RESTRICTIONS_PATH,
}
MODES = ("up", "down", "slow")
MAX_SLOW_SECONDS = 300.0

MARITAL_STATUSES = ("UNMARRIED", "MARRIED", "DIVORCED", "WIDOWED")
COMPANY_STATUSES = ("OPERATING", "ABNORMAL", "REVOKED", "CANCELLED")
RESTRICTION_KINDS = ("SEIZURE", "PRE_SEIZURE", "FREEZE")
MAX_NAME_LENGTH = 64
MAX_COMPANY_NAME_LENGTH = 128
# 统一社会信用代码 (GB 32100): 18 of the digits and capitals without I, O, Z, S, V.
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
# 不动产单元号 (GB/T 37346), 28 characters; the platform checks the finer rules.
UNIT_NUMBER = re.compile(r"^\d{12}[GJZ][A-Z]\d{5}[FLQW]\d{8}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: date | str | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise ValueError(f"{what} must be a date or YYYY-MM-DD")
    return date.fromisoformat(value)


def _day(value: date | str, what: str) -> date:
    day = _date(value, what)
    if day is None:
        raise ValueError(f"{what} is required")
    return day


@dataclass(frozen=True)
class MaritalEntry:
    name: str
    id_number: str
    status: str
    since: date | None = None

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > MAX_NAME_LENGTH:
            raise ValueError("a marital record needs a name")
        if not RESIDENT_ID.match(self.id_number):
            raise ValueError("the ID number must be 17 digits and a digit or X")
        if self.status not in MARITAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(MARITAL_STATUSES)}")


@dataclass(frozen=True)
class CompanyEntry:
    name: str
    uscc: str
    status: str
    legal_representative: str

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > MAX_COMPANY_NAME_LENGTH:
            raise ValueError("a company needs a name")
        if not USCC.match(self.uscc):
            raise ValueError("the USCC must be 18 of [0-9A-HJ-NPQRTUWXY]")
        if self.status not in COMPANY_STATUSES:
            raise ValueError(f"status must be one of {', '.join(COMPANY_STATUSES)}")
        if not self.legal_representative:
            raise ValueError("a company needs a legal representative")


@dataclass(frozen=True)
class RestrictionEntry:
    unit_number: str
    kind: str
    court: str
    document_number: str
    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if not UNIT_NUMBER.match(self.unit_number):
            raise ValueError("the unit number must be 28 characters (GB/T 37346)")
        if self.kind not in RESTRICTION_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RESTRICTION_KINDS)}")
        if not self.court or not self.document_number:
            raise ValueError("a restriction needs a court and a document number")
        if self.end is not None and self.end < self.start:
            raise ValueError("a restriction cannot end before it starts")

    def in_force(self, day: date) -> bool:
        """From ``start`` to ``end`` (the last day in force), both included."""
        return self.start <= day and (self.end is None or day <= self.end)

    def answer(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "court": self.court,
            "document_number": self.document_number,
            "start_date": self.start.isoformat(),
            "end_date": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class Seed:
    marital: tuple[MaritalEntry, ...] = ()
    companies: tuple[CompanyEntry, ...] = ()
    restrictions: tuple[RestrictionEntry, ...] = ()


def load_seed(path: Path = SEED_FILE) -> Seed:
    """The demo records of ``sandbox/data/datasharing.json``."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return Seed(
        marital=tuple(
            MaritalEntry(e["name"], e["id_number"], e["status"], _date(e.get("since"), "since"))
            for e in document["marital"]
        ),
        companies=tuple(
            CompanyEntry(e["name"], e["uscc"], e["status"], e["legal_representative"])
            for e in document["companies"]
        ),
        restrictions=tuple(
            RestrictionEntry(
                e["unit_number"],
                e["kind"],
                e["court"],
                e["document_number"],
                _day(e["start_date"], "start_date"),
                _date(e.get("end_date"), "end_date"),
            )
            for e in document["restrictions"]
        ),
    )


@dataclass(frozen=True)
class Outage:
    mode: str = "up"
    seconds: float = 0.0


class OutageSwitch:
    """Per service: ``up``, ``down`` (HTTP 503 ``SERVICE_UNAVAILABLE``) or ``slow`` (the
    answer comes ``seconds`` late, by the wall clock).

    A slow answer waits on a lock of its own, never the sandbox's, and wakes up early
    when the switch changes (a reset included), so tests do not wait for it.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._outages: dict[str, Outage] = {}
        self._generation = 0

    def set(self, service: str, mode: str, seconds: float = 0.0) -> None:
        if service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError("seconds must be a number")
        if mode == "slow" and not 0 < seconds <= MAX_SLOW_SECONDS:
            raise ValueError(f"a slow service needs 0 < seconds <= {MAX_SLOW_SECONDS:g}")
        outage = Outage(mode, float(seconds) if mode == "slow" else 0.0)
        with self._changed:
            if outage == Outage():
                self._outages.pop(service, None)
            else:
                self._outages[service] = outage
            self._generation += 1
            self._changed.notify_all()

    def reset(self) -> None:
        """Every service up; slow answers under way go out at once."""
        with self._changed:
            self._outages.clear()
            self._generation += 1
            self._changed.notify_all()

    def modes(self) -> dict[str, dict[str, Any]]:
        """``{service: {"mode", "seconds"}}`` for every service."""
        with self._changed:
            return {
                service: {"mode": outage.mode, "seconds": outage.seconds}
                for service in SERVICES
                for outage in [self._outages.get(service, Outage())]
            }

    def hold(self, service: str) -> None:
        """Before a request of ``service`` is looked at: wait if the service is slow, then
        raise :class:`RegistryApiError` (503) if it is down."""
        with self._changed:
            outage = self._outages.get(service, Outage())
            if outage.mode == "slow":
                generation = self._generation
                self._changed.wait_for(
                    lambda: self._generation != generation, timeout=outage.seconds
                )
                outage = self._outages.get(service, Outage())
            if outage.mode == "down":
                raise RegistryApiError(
                    503,
                    "SERVICE_UNAVAILABLE",
                    f"the {service} service is temporarily unavailable, try again later",
                )


class DataSharingSandbox:
    """The civil-affairs, market-regulation and courts services and the outage switch.

    ``verifier`` is the population registry's (one gateway, one nonce memory); it is
    the registry that resets it.
    """

    def __init__(
        self,
        verifier: RequestVerifier,
        clock: Callable[[], float],
        lock: threading.RLock,
        seed: Seed | None = None,
    ):
        self.verifier = verifier
        self.clock = clock
        self._lock = lock
        self.outages = OutageSwitch()
        self._seed = load_seed() if seed is None else seed
        self._marital: dict[str, MaritalEntry] = {}
        self._companies: dict[str, CompanyEntry] = {}
        self._restrictions: list[RestrictionEntry] = []
        self.reset()

    def reset(self) -> None:
        """Back to the seeded records; every service up."""
        with self._lock:
            self._marital = {e.id_number: e for e in self._seed.marital}
            self._companies = {e.uscc: e for e in self._seed.companies}
            self._restrictions = list(self._seed.restrictions)
        self.outages.reset()

    def today(self) -> date:
        """The sandbox's date in Beijing time."""
        return datetime.fromtimestamp(self.clock(), SHANGHAI).date()

    # For tests -----------------------------------------------------------------------

    def add_marital(
        self, name: str, id_number: str, status: str, since: date | str | None = None
    ) -> None:
        """Add (or replace) the marital record of ``id_number`` until the next reset."""
        entry = MaritalEntry(name, id_number, status, _date(since, "since"))
        with self._lock:
            self._marital[id_number] = entry

    def add_company(self, name: str, uscc: str, status: str, legal_rep_name: str) -> None:
        """Add (or replace) the company ``uscc`` until the next reset; the answer shows
        the legal representative's name masked."""
        entry = CompanyEntry(name, uscc, status, legal_rep_name)
        with self._lock:
            self._companies[uscc] = entry

    def add_restriction(
        self,
        unit_number: str,
        kind: str,
        court: str,
        document_number: str,
        start: date | str,
        end: date | str | None = None,
    ) -> None:
        """Add a restriction on ``unit_number`` until the next reset; it is answered on
        the days from ``start`` to ``end`` (included; none: until lifted)."""
        entry = RestrictionEntry(
            unit_number,
            kind,
            court,
            document_number,
            _day(start, "start"),
            _date(end, "end"),
        )
        with self._lock:
            self._restrictions.append(entry)

    def set_outage(self, service: str, mode: str, seconds: float = 0.0) -> None:
        """``service`` (population, civil-affairs, market-regulation, courts) becomes
        ``up``, ``down`` (HTTP 503) or ``slow`` (answers ``seconds`` late) until changed
        or reset; :class:`ValueError` for anything else."""
        self.outages.set(service, mode, seconds)

    def outage_modes(self) -> dict[str, dict[str, Any]]:
        """``{service: {"mode", "seconds"}}``."""
        return self.outages.modes()

    # The API -------------------------------------------------------------------------

    def handle(
        self, service: str, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) for one request to ``service``."""
        request_id = uuid.uuid4().hex
        answer = {
            "civil-affairs": self._marital_status,
            "market-regulation": self._company_status,
            "courts": self._unit_restrictions,
        }[service]
        try:
            self.outages.hold(service)
            self.verifier.verify(method, path, headers, body)
            result = answer(read_body(body))
        except RegistryApiError as exc:
            return exc.status, {"code": exc.code, "message": exc.message, "request_id": request_id}
        return 200, {"code": "OK", "result": result, "request_id": request_id}

    def _marital_status(self, query: dict[str, Any]) -> dict[str, Any]:
        name, id_number = query.get("name"), query.get("id_number")
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_LENGTH:
            raise bad_request("name must be a non-empty string")
        if not isinstance(id_number, str) or not RESIDENT_ID.match(id_number):
            raise bad_request("id_number must be 18 characters: 17 digits and a digit or X")
        with self._lock:
            entry = self._marital.get(id_number)
        if entry is None:
            return {"match": "NOT_FOUND", "status": None, "since": None}
        if entry.name != name:
            # Nothing about the holder of the number is disclosed to a wrong name.
            return {"match": "NAME_MISMATCH", "status": None, "since": None}
        return {
            "match": "CONSISTENT",
            "status": entry.status,
            "since": entry.since.isoformat() if entry.since else None,
        }

    def _company_status(self, query: dict[str, Any]) -> dict[str, Any]:
        name, uscc = query.get("name"), query.get("uscc")
        if not isinstance(name, str) or not 0 < len(name) <= MAX_COMPANY_NAME_LENGTH:
            raise bad_request("name must be a non-empty string")
        if not isinstance(uscc, str) or not USCC.match(uscc):
            raise bad_request("uscc must be 18 characters of [0-9A-HJ-NPQRTUWXY]")
        with self._lock:
            entry = self._companies.get(uscc)
        if entry is None:
            return {"match": "NOT_FOUND", "status": None, "legal_representative_masked": None}
        if entry.name != name:
            return {"match": "NAME_MISMATCH", "status": None, "legal_representative_masked": None}
        return {
            "match": "CONSISTENT",
            "status": entry.status,
            "legal_representative_masked": mask_name(entry.legal_representative),
        }

    def _unit_restrictions(self, query: dict[str, Any]) -> dict[str, Any]:
        unit_number = query.get("unit_number")
        if not isinstance(unit_number, str) or not UNIT_NUMBER.match(unit_number):
            raise bad_request("unit_number must be a 28-character property unit number")
        today = self.today()
        with self._lock:
            found = [
                entry
                for entry in self._restrictions
                if entry.unit_number == unit_number and entry.in_force(today)
            ]
        found.sort(key=lambda entry: (entry.start, entry.document_number))
        return {"restrictions": [entry.answer() for entry in found]}


def datasharing_blueprint(datasharing: DataSharingSandbox) -> Blueprint:
    """The three services and the outage control (no signature: the sandbox listens on
    127.0.0.1 only)."""
    blueprint = Blueprint("datasharing", __name__)

    def endpoint(service: str) -> Callable[[], tuple[Response, int]]:
        def answer() -> tuple[Response, int]:
            status, body = datasharing.handle(
                service,
                method=request.method,
                path=request.path,
                headers=dict(request.headers.items()),
                body=request.get_data(),
            )
            return jsonify(body), status

        return answer

    for service, path in SERVICE_PATHS.items():
        blueprint.add_url_rule(
            path, endpoint=service.replace("-", "_"), view_func=endpoint(service), methods=["POST"]
        )

    @blueprint.get(OUTAGE_CONTROL_PATH)
    def outage_modes() -> Response:
        return jsonify(datasharing.outage_modes())

    @blueprint.post(OUTAGE_CONTROL_PATH)
    def set_outage() -> Any:
        """JSON ``{"service", "mode", "seconds"}``, or the dev page's form (one select
        per service and ``seconds`` for the slow ones)."""
        if request.form.get("from_page"):
            try:
                seconds = float(request.form.get("seconds") or 0)
            except ValueError:
                return jsonify({"error": "seconds must be a number"}), 400
            changes: list[tuple[Any, Any, Any]] = [
                (service, mode, seconds if mode == "slow" else 0.0)
                for service in SERVICES
                if (mode := request.form.get(service))
            ]
        else:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return jsonify({"error": 'a JSON object {"service", "mode", "seconds"}'}), 400
            changes = [(body.get("service"), body.get("mode"), body.get("seconds", 0))]
        try:
            for service, mode, seconds in changes:
                datasharing.set_outage(service, mode, seconds)
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        if request.form.get("from_page"):
            return redirect("/", code=303)
        return jsonify(datasharing.outage_modes())

    return blueprint
