"""More data-sharing services for the automatic checks on case submission.

Civil affairs (marital status), market regulation (company status) and the courts
(restrictions on a property unit) are reached through the same government data-sharing
platform as the population registry (:mod:`app.integrations.registry`): the same base
URL, app key and secret, the same signed requests and the same answer envelope,
described in ``sandbox/README.md``. The core depends on :class:`DataSharing`;
:class:`HttpDataSharing` speaks the protocol, and in development and tests the sandbox
(sandbox/datasharing.py) answers, verifying signatures, timestamps and nonces.

Answers are validated strictly: an unknown value is ``RegistryError("UNEXPECTED_RESPONSE")``
and never read as a pass. A network error, a timeout, HTTP 5xx or 429 is
:class:`RegistryUnavailable`: the check could not be made, which is not a failed check.
Names and ID numbers are personal data: logs show ``张*`` and ``4404**********0018``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol, cast
from urllib.parse import urlsplit

import requests

from app.integrations.registry import (
    MATCHES,
    Match,
    RegistryError,
    RegistryUnavailable,
    data_sharing_connection,
    read_envelope,
    signed_headers,
)
from app.kernel.validators import mask_id_number, mask_name

logger = logging.getLogger(__name__)

MARITAL_STATUS_PATH = "civil-affairs/v1/marital-status"
COMPANY_STATUS_PATH = "market-regulation/v1/company-status"
UNIT_RESTRICTIONS_PATH = "courts/v1/unit-restrictions"
DEFAULT_TIMEOUT_SECONDS = 3.0

MaritalStatus = Literal["UNMARRIED", "MARRIED", "DIVORCED", "WIDOWED"]
CompanyStatus = Literal["OPERATING", "ABNORMAL", "REVOKED", "CANCELLED"]
RestrictionKind = Literal["SEIZURE", "PRE_SEIZURE", "FREEZE"]
MARITAL_STATUSES: frozenset[str] = frozenset({"UNMARRIED", "MARRIED", "DIVORCED", "WIDOWED"})
COMPANY_STATUSES: frozenset[str] = frozenset({"OPERATING", "ABNORMAL", "REVOKED", "CANCELLED"})
RESTRICTION_KINDS: frozenset[str] = frozenset({"SEIZURE", "PRE_SEIZURE", "FREEZE"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_TEXT = 256


@dataclass(frozen=True)
class MaritalRecord:
    """Civil affairs' answer for one name + ID number: ``status`` and ``since`` (the
    date of the last marriage, divorce or death of the spouse, when on file) come only
    with ``match == "CONSISTENT"``."""

    match: Match
    status: MaritalStatus | None
    since: date | None


@dataclass(frozen=True)
class CompanyRecord:
    """Market regulation's answer for one company name + USCC (统一社会信用代码):
    ``status`` and the legal representative's masked name (``张*``) come only with
    ``match == "CONSISTENT"``."""

    match: Match
    status: CompanyStatus | None
    legal_representative_masked: str | None

    @property
    def operating(self) -> bool:
        """The name belongs to the code and the company is operating (存续)."""
        return self.match == "CONSISTENT" and self.status == "OPERATING"


@dataclass(frozen=True)
class Restriction:
    """A court's restriction on a property unit, in force on the day asked:
    查封 (SEIZURE), 预查封 (PRE_SEIZURE) or 冻结 (FREEZE); ``end_date`` is the last day
    in force, ``None`` until lifted."""

    kind: RestrictionKind
    court: str
    document_number: str
    start_date: date
    end_date: date | None


class DataSharing(Protocol):
    def marital_status(self, name: str, id_number: str) -> MaritalRecord: ...

    def company_status(self, name: str, uscc: str) -> CompanyRecord: ...

    def unit_restrictions(self, unit_number: str) -> list[Restriction]: ...


class HttpDataSharing:
    """:class:`DataSharing` over HTTPS with the platform's app key and signed requests.

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
            raise ValueError("the data-sharing base URL, app key and app secret are required")
        self.base_url = base_url.rstrip("/") + "/"
        self.app_key = app_key
        self._app_secret = app_secret
        self.timeout = timeout
        self.clock = clock
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"HttpDataSharing({self.base_url!r}, app_key={self.app_key!r})"

    def marital_status(self, name: str, id_number: str) -> MaritalRecord:
        if not name or not id_number:
            raise ValueError("a name and an ID number are required")
        label = f"marital status {mask_name(name)} {mask_id_number(id_number)}"
        result, request_id = self._post(
            MARITAL_STATUS_PATH, {"name": name, "id_number": id_number}, label
        )
        fields = _Fields(result, request_id)
        match = fields.match()
        status = fields.choice("status", MARITAL_STATUSES)
        since = fields.date("since")
        fields.consistent_only(match, status=status, since=since)
        record = MaritalRecord(match, cast("MaritalStatus | None", status), since)
        logger.info("%s: %s %s (%s)", label, record.match, record.status or "-", request_id)
        return record

    def company_status(self, name: str, uscc: str) -> CompanyRecord:
        if not name or not uscc:
            raise ValueError("a company name and a USCC are required")
        label = f"company status {uscc}"
        result, request_id = self._post(COMPANY_STATUS_PATH, {"name": name, "uscc": uscc}, label)
        fields = _Fields(result, request_id)
        match = fields.match()
        status = fields.choice("status", COMPANY_STATUSES)
        representative = fields.text("legal_representative_masked")
        if representative is not None and "*" not in representative:
            raise fields.unexpected("legal_representative_masked is not masked")
        fields.consistent_only(match, status=status, legal_representative_masked=representative)
        record = CompanyRecord(match, cast("CompanyStatus | None", status), representative)
        logger.info("%s: %s %s (%s)", label, record.match, record.status or "-", request_id)
        return record

    def unit_restrictions(self, unit_number: str) -> list[Restriction]:
        if not unit_number:
            raise ValueError("a unit number is required")
        label = f"unit restrictions {unit_number}"
        result, request_id = self._post(UNIT_RESTRICTIONS_PATH, {"unit_number": unit_number}, label)
        fields = _Fields(result, request_id)
        items = fields.result.get("restrictions")
        if not isinstance(items, list):
            raise fields.unexpected("restrictions is not a list")
        restrictions = [_restriction(item, fields) for item in items]
        logger.info(
            "%s: %s (%s)",
            label,
            ", ".join(r.kind for r in restrictions) or "none in force",
            request_id,
        )
        return restrictions

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, payload: Mapping[str, Any], label: str) -> tuple[Any, str | None]:
        """``(result, request_id)`` of a signed ``POST`` of ``payload`` to ``path`` (under
        the base URL); :class:`RegistryUnavailable` or :class:`RegistryError` otherwise.
        ``label`` names the request in the log, masked."""
        url = self.base_url + path
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = signed_headers(
            self.app_key, self._app_secret, urlsplit(url).path, body, self.clock()
        )
        try:
            response = self._http.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            logger.warning("%s: unreachable (%s)", label, type(exc).__name__)
            raise RegistryUnavailable(
                "UNAVAILABLE", f"data-sharing platform unreachable: {type(exc).__name__}"
            ) from exc
        return read_envelope(response, label, logger)


class _Fields:
    """Strict reading of an answer's ``result``."""

    def __init__(self, result: Any, request_id: str | None):
        self.request_id = request_id
        if not isinstance(result, dict):
            raise self.unexpected("answer without a result")
        self.result: dict[str, Any] = result

    def unexpected(self, what: str) -> RegistryError:
        return RegistryError(
            "UNEXPECTED_RESPONSE", what, http_status=200, request_id=self.request_id
        )

    def match(self) -> Match:
        match = self.result.get("match")
        if match not in MATCHES:
            raise self.unexpected("unknown match value")
        return cast(Match, match)

    def choice(self, key: str, allowed: frozenset[str], source: Any = None) -> str | None:
        value = (self.result if source is None else source).get(key)
        if value is not None and value not in allowed:
            raise self.unexpected(f"unknown {key} value")
        return cast("str | None", value)

    def text(self, key: str, source: Any = None) -> str | None:
        value = (self.result if source is None else source).get(key)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= _MAX_TEXT):
            raise self.unexpected(f"{key} is not a non-empty string")
        return cast("str | None", value)

    def date(self, key: str, source: Any = None) -> date | None:
        value = (self.result if source is None else source).get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise self.unexpected(f"{key} is not a YYYY-MM-DD date")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.unexpected(f"{key} is not a YYYY-MM-DD date")

    def consistent_only(self, match: Match, **details: Any) -> None:
        """Details come with a consistent answer (the status at least) and only then:
        a wrong name learns nothing about the holder of a number."""
        if match == "CONSISTENT":
            if details.get("status") is None:
                raise self.unexpected("a consistent answer without a status")
        elif any(value is not None for value in details.values()):
            raise self.unexpected(f"a {match} answer with details")


def _restriction(item: Any, fields: _Fields) -> Restriction:
    if not isinstance(item, dict):
        raise fields.unexpected("a restriction is not an object")
    kind = fields.choice("kind", RESTRICTION_KINDS, item)
    court = fields.text("court", item)
    document_number = fields.text("document_number", item)
    start_date = fields.date("start_date", item)
    end_date = fields.date("end_date", item)
    if kind is None or court is None or document_number is None or start_date is None:
        raise fields.unexpected("a restriction without kind, court, document number or start")
    if end_date is not None and end_date < start_date:
        raise fields.unexpected("a restriction that ends before it starts")
    return Restriction(
        kind=cast(RestrictionKind, kind),
        court=court,
        document_number=document_number,
        start_date=start_date,
        end_date=end_date,
    )


def make_data_sharing(config: Mapping[str, Any]) -> DataSharing:
    """The client for ``REGISTRY_BASE_URL``, ``REGISTRY_APP_KEY`` and
    ``REGISTRY_APP_SECRET`` (the population registry's platform; same
    :class:`~app.settings.SettingsError` rules) and ``DATASHARING_TIMEOUT_SECONDS``
    (default 3)."""
    base_url, app_key, app_secret = data_sharing_connection(config)
    return HttpDataSharing(
        base_url,
        app_key,
        app_secret,
        timeout=float(config.get("DATASHARING_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS),
    )
