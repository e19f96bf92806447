"""Payment at the counter's POS terminal, recorded by the helpdesk (the way to pay
before online payment, and for citizens who cannot pay online)."""

from __future__ import annotations

from app.cases.models import Case
from app.cases.service import transition
from app.cases.workflow import CaseStatus
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.errors import ValidationFailed
from app.staff.service import StaffIdentity


def record_counter_payment(case_number: str, staff: StaffIdentity, reference: str,
                           amount_fen: int) -> Case:
    """The citizen paid at the counter's POS terminal; the helpdesk records the receipt."""
    from app.review.desk import find_case

    case = find_case(case_number)
    reference = reference.strip()
    if not reference or len(reference) > 40:
        raise ValidationFailed({"reference": ["请填写 POS 凭条参考号（不超过 40 位）"]})
    if amount_fen <= 0:
        raise ValidationFailed({"amount": ["金额应大于 0"]})
    audit.record(actor_type=ActorType.STAFF, actor_id=staff.id, channel=Channel.ADMIN,
                 action="payment.counter_recorded", entity_type="case",
                 entity_id=case.case_number,
                 after={"amount_fen": amount_fen, "reference": reference})
    yuan = f"{amount_fen // 100}.{amount_fen % 100:02d}"
    return transition(case, CaseStatus.PAID, actor_type=ActorType.STAFF, actor_id=staff.id,
                      channel=Channel.ADMIN, reason=f"窗口缴费 {yuan} 元")
