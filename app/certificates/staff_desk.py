"""What the staff's certificate pages read: the search (number or case number), one
certificate by number, and the facts its detail page shows. Read-only; opening a
certificate is recorded by the use case ``app.usecases.certificate_desk``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from app.cases.models import Case
from app.certificates import corrections
from app.certificates.content import KIND_TITLES
from app.certificates.models import Certificate, CorrectionRequest
from app.kernel.db import db
from app.kernel.errors import NotFound, ValidationFailed
from app.kernel.paging import PageNumbers
from app.people.models import Person

PAGE_SIZE = 20
MAX_QUERY = 64


@dataclass(frozen=True)
class CertificateRow:
    certificate: Certificate
    case_number: str
    holders: list[str]  # masked names (a company's name is public)

    @property
    def kind_label(self) -> str:
        return KIND_TITLES.get(self.certificate.kind, self.certificate.kind)


@dataclass(frozen=True)
class CertificateSearch(PageNumbers):
    query: str
    rows: list[CertificateRow]
    total: int
    page: int
    per_page: int = PAGE_SIZE


def _masked_holders(certificates: list[Certificate]) -> dict[int, list[str]]:
    person_ids = {h.person_id for c in certificates for h in c.holders}
    persons = {p.id: p for p in db.session.scalars(
        select(Person).where(Person.id.in_(person_ids)))} if person_ids else {}
    return {c.id: [persons[h.person_id].name_masked or "" for h in c.holders
                   if h.person_id in persons] for c in certificates}


def search(query: str, page: int = 1) -> CertificateSearch:
    """Certificates whose number or case number contains ``query``, newest first."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise ValidationFailed({"q": [f"查询内容不能超过{MAX_QUERY}个字符"]})
    criteria = [or_(Certificate.number.contains(query, autoescape=True),
                    Case.case_number.contains(query, autoescape=True))] if query else []
    joined = select(Certificate, Case.case_number).join(Case, Case.id == Certificate.case_id)
    total = db.session.scalar(select(func.count()).select_from(
        joined.where(*criteria).subquery())) or 0
    page = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
    found = db.session.execute(joined.where(*criteria).order_by(Certificate.id.desc())
                               .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    holders = _masked_holders([certificate for certificate, _ in found])
    return CertificateSearch(query, [CertificateRow(c, number, holders[c.id])
                                     for c, number in found], total, page)


def by_number(number: str) -> Certificate:
    certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
    if certificate is None:
        raise NotFound("未找到该证书")
    return certificate


def by_id(certificate_id: int | None) -> Certificate | None:
    return db.session.get(Certificate, certificate_id) if certificate_id else None


def number_of(certificate_id: int | None) -> str | None:
    other = by_id(certificate_id)
    return other.number if other else None


def case_number_of(certificate: Certificate) -> str:
    case = db.session.get(Case, certificate.case_id)
    return case.case_number if case else ""


def corrections_of(certificate: Certificate) -> list[CorrectionRequest]:
    return list(db.session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.certificate_id == certificate.id).order_by(CorrectionRequest.id)))


def correction_queue() -> list[dict[str, Any]]:
    """The open correction requests, each with its view and its certificate."""
    return [{"request": item, "view": corrections.view(item),
             "certificate": by_id(item.certificate_id)}
            for item in corrections.open_requests()]
