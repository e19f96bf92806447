"""A staff member opens a certificate's detail page: the look is recorded (shown to its
owner in "who viewed") and audited, in one transaction."""

from __future__ import annotations

from app.certificates import lifecycle, staff_desk, viewing
from app.certificates.models import Certificate
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db


def open_certificate(number: str, staff_id: int, staff_name: str) -> Certificate:
    """The certificate by number (404 for an unknown one), its opening recorded."""
    certificate = staff_desk.by_number(number)
    viewing.record_access(certificate, accessor_type="staff", accessor_id=str(staff_id),
                          label=lifecycle.staff_access_label(staff_name), action="view",
                          channel=Channel.ADMIN)
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=Channel.ADMIN,
                 action="certificate.staff_viewed", entity_type="certificate",
                 entity_id=certificate.number)
    db.session.commit()
    return certificate
