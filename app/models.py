"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from app.accounts.models import Account, AuthSession, OtpChallenge, RefreshToken
from app.appointments.models import Booking, ServiceHall, TimeSlot
from app.cases.models import (
    BusinessType,
    Case,
    CaseApplicant,
    CaseDocument,
    CaseRating,
    PropertyUnit,
)
from app.certificates.models import (
    Certificate,
    CertificateAccess,
    CertificateConsent,
    CertificateHolder,
    CorrectionRequest,
)
from app.checks.models import CaseCheck
from app.deliveries.models import Delivery
from app.ebills.models import EBill
from app.fees.models import CaseFee
from app.identity.models import (
    ConsentRecord,
    CounterAppointment,
    FaceChallenge,
    FaceUnlock,
    FaceVerification,
    FrameHash,
    RealnameCheck,
)
from app.institutions.models import Institution, InstitutionKey, InstitutionNonce
from app.kernel.audit import AuditRecord
from app.kernel.counters import Counter
from app.links.models import ShortLink
from app.materials.models import CaseMaterial
from app.notifications.models import OutboxMessage
from app.people.models import Person
from app.register.models import Encumbrance, RegisterEntry, RegisterOwner
from app.review.models import ReviewNote, ReviewTask
from app.staff.models import StaffRoleGrant, StaffUser
from app.workdays.models import CalendarDay
from payments.models import LedgerEntry, OrderItem, PaymentEvent, PaymentOrder, Refund

__all__ = [
    "CaseRating",
    "Delivery",
    "Refund",
    "PaymentOrder",
    "PaymentEvent",
    "OrderItem",
    "LedgerEntry",
    "CaseFee",
    "CalendarDay",
    "ReviewTask",
    "ReviewNote",
    "OutboxMessage",
    "ShortLink",
    "CaseDocument",
    "CaseCheck",
    "EBill",
    "Account",
    "AuditRecord",
    "AuthSession",
    "Booking",
    "BusinessType",
    "Case",
    "CaseMaterial",
    "CaseApplicant",
    "Certificate",
    "CertificateAccess",
    "CertificateConsent",
    "CertificateHolder",
    "ConsentRecord",
    "CorrectionRequest",
    "Counter",
    "CounterAppointment",
    "Encumbrance",
    "FaceChallenge",
    "FaceUnlock",
    "FaceVerification",
    "FrameHash",
    "Institution",
    "InstitutionKey",
    "InstitutionNonce",
    "OtpChallenge",
    "Person",
    "PropertyUnit",
    "RealnameCheck",
    "RegisterEntry",
    "RegisterOwner",
    "RefreshToken",
    "ServiceHall",
    "StaffRoleGrant",
    "StaffUser",
    "TimeSlot",
]
