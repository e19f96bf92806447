"""Issued certificates made directly in the database, and a bank that signs its requests."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from flask.testing import FlaskClient
from sqlalchemy import select

from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.certificates import access_log
from app.certificates.content import Holder, sample_content
from app.certificates.models import (
    Certificate,
    CertificateAccess,
    CertificateHolder,
    CertificateStatus,
)
from app.institutions.auth import sign_request
from app.kernel.audit import AuditRecord
from app.kernel.db import db

OWNER = ("张三", "440402198801010018")
CO_OWNER = ("李四", "440402199003150029")
STRANGER = ("王五", "440402198506200038")
API = "/api/institution/v1"

_serials = itertools.count(1)


def issue_certificate(account_id: int, holders: list[tuple[int, str, str, str]], *,
                      status: str = CertificateStatus.VALID,
                      case_status: str = CaseStatus.CERTIFICATE_ISSUED) -> Certificate:
    """A certificate as the issuance job leaves it, for ``holders`` =
    [(person_id, name, id_number, share)], on a case of ``account_id``."""
    serial = next(_serials)
    number = f"粤(2026)珠海市不动产权第{serial:07d}号"
    content = sample_content(number=number, holders=tuple(
        Holder(name, id_number, share) for _, name, id_number, share in holders))
    case = Case(case_number=f"ZH20261124{serial:05d}", business_type_code="resale_transfer",
                status=case_status, created_by_account_id=account_id,
                created_channel="miniprogram")
    db.session.add(case)
    db.session.flush()
    certificate = Certificate(
        number=number, kind="certificate", authority_code="440400", year=2026, serial=serial,
        case_id=case.id, content_json=content.canonical_json().decode("utf-8"),
        content_hash=content.content_hash(), payload=f"test-payload-{serial}", status=status,
        issue_date=date(2026, 11, 24))
    certificate.holders = [CertificateHolder(person_id=person_id, role="holder")
                           for person_id, *_ in holders]
    db.session.add(certificate)
    db.session.commit()
    return certificate


@dataclass
class Bank:
    """An institution's client: every request signed with its key."""

    client: FlaskClient
    key_id: str
    secret: str
    name: str = ""

    def headers(self, method: str, path: str, query: Any = None, body: bytes = b"",
                **overrides: Any) -> dict[str, str]:
        return sign_request(self.key_id, self.secret, method, path, query, body, **overrides)

    def lookup(self, number: str, legal_basis: str | None = None, **overrides: Any) -> Any:
        path = f"{API}/certificates/{number}"
        query = {"legal_basis": legal_basis} if legal_basis is not None else None
        url = quote(path) + ("?" + urlencode(query) if query else "")
        return self.client.get(url, headers=self.headers("GET", path, query, **overrides))

    def verify(self, number: str, content_hash: str | None = None, **overrides: Any) -> Any:
        path = f"{API}/certificates/verify"
        data: dict[str, Any] = {"number": number}
        if content_hash is not None:
            data["content_hash"] = content_hash
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return self.client.post(path, data=body, content_type="application/json",
                                headers=self.headers("POST", path, None, body, **overrides))


def accesses(certificate_id: int) -> list[CertificateAccess]:
    access_log.flush()  # the verify calls' rows are queued for the batch writer
    db.session.rollback()  # see what the requests committed
    return list(db.session.scalars(select(CertificateAccess).where(
        CertificateAccess.certificate_id == certificate_id).order_by(CertificateAccess.id)))


def audits(action: str) -> list[AuditRecord]:
    access_log.flush()
    db.session.rollback()
    return list(db.session.scalars(select(AuditRecord).where(AuditRecord.action == action)
                                   .order_by(AuditRecord.id)))


def assert_refused(response: Any, status: int, code: str) -> dict[str, Any]:
    """An error envelope, and nothing of the certificate in it."""
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == code, body
    assert set(body) == {"code", "message", "details"}
    text = response.get_data(as_text=True)
    for secret in ("张三", "李四", "440402", "海滨南路", "content"):
        assert secret not in text, text
    return dict(body)
