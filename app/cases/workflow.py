"""The case (办件) status machine as a table of allowed edges.

The order of payment and register entry is data of the business type
(``pay_then_register`` in Tongling, ``register_then_pay`` in Zhuhai); some edges
exist only for one order, or only for business types that yield a certificate.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from app.kernel.states import StateMachine


class CaseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # 补正
    ACCEPTED = "accepted"  # 受理
    FEES_ASSESSED = "fees_assessed"
    PAID = "paid"
    REGISTERED = "registered"  # 登簿
    CERTIFICATE_ISSUED = "certificate_issued"
    ARCHIVED = "archived"
    REJECTED = "rejected"  # 不予登记
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    CaseStatus.DRAFT: "草稿",
    CaseStatus.SUBMITTED: "已提交",
    CaseStatus.RETURNED: "退回补正",
    CaseStatus.ACCEPTED: "已受理",
    CaseStatus.FEES_ASSESSED: "待缴费",
    CaseStatus.PAID: "已缴费",
    CaseStatus.REGISTERED: "已登簿",
    CaseStatus.CERTIFICATE_ISSUED: "已发证",
    CaseStatus.ARCHIVED: "已归档",
    CaseStatus.REJECTED: "不予登记",
    CaseStatus.WITHDRAWN: "已撤回",
}

FINAL_STATUSES = frozenset({CaseStatus.ARCHIVED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN})


class StepOrder(enum.StrEnum):
    PAY_THEN_REGISTER = "pay_then_register"
    REGISTER_THEN_PAY = "register_then_pay"


@dataclass(frozen=True)
class CaseRules:
    """What a business type decides about the path of its cases."""

    step_order: StepOrder
    issues_certificate: bool


def _always(rules: CaseRules) -> bool:
    return True


def _pay_first(rules: CaseRules) -> bool:
    return rules.step_order == StepOrder.PAY_THEN_REGISTER


def _register_first(rules: CaseRules) -> bool:
    return rules.step_order == StepOrder.REGISTER_THEN_PAY


def _pay_first_with_certificate(rules: CaseRules) -> bool:
    return _pay_first(rules) and rules.issues_certificate


def _register_first_with_certificate(rules: CaseRules) -> bool:
    return _register_first(rules) and rules.issues_certificate


def _pay_first_without_certificate(rules: CaseRules) -> bool:
    return _pay_first(rules) and not rules.issues_certificate


def _register_first_without_certificate(rules: CaseRules) -> bool:
    return _register_first(rules) and not rules.issues_certificate


S = CaseStatus
EDGES: dict[tuple[CaseStatus, CaseStatus], Callable[[CaseRules], bool]] = {
    (S.DRAFT, S.SUBMITTED): _always,
    (S.SUBMITTED, S.ACCEPTED): _always,
    (S.SUBMITTED, S.RETURNED): _always,
    (S.ACCEPTED, S.RETURNED): _always,
    (S.RETURNED, S.SUBMITTED): _always,
    (S.ACCEPTED, S.FEES_ASSESSED): _always,
    # Tongling: pay, then register.
    (S.FEES_ASSESSED, S.PAID): _pay_first,
    (S.PAID, S.REGISTERED): _pay_first,
    (S.REGISTERED, S.CERTIFICATE_ISSUED): _pay_first_with_certificate,
    (S.REGISTERED, S.ARCHIVED): _pay_first_without_certificate,
    # Zhuhai: register, then pay; the certificate is never issued before payment.
    (S.FEES_ASSESSED, S.REGISTERED): _register_first,
    (S.REGISTERED, S.PAID): _register_first,
    (S.PAID, S.CERTIFICATE_ISSUED): _register_first_with_certificate,
    (S.PAID, S.ARCHIVED): _register_first_without_certificate,
    (S.CERTIFICATE_ISSUED, S.ARCHIVED): _always,
    # Withdrawal by the applicant, before anything is paid or registered.
    (S.DRAFT, S.WITHDRAWN): _always,
    (S.SUBMITTED, S.WITHDRAWN): _always,
    (S.RETURNED, S.WITHDRAWN): _always,
    (S.ACCEPTED, S.WITHDRAWN): _always,
    (S.FEES_ASSESSED, S.WITHDRAWN): _always,
    # Refusal by the registration centre, before register entry (payments are refunded).
    (S.SUBMITTED, S.REJECTED): _always,
    (S.RETURNED, S.REJECTED): _always,
    (S.ACCEPTED, S.REJECTED): _always,
    (S.FEES_ASSESSED, S.REJECTED): _always,
    (S.PAID, S.REJECTED): _pay_first,
}


# The business type's rules are the context of every condition.
CASE_STATES: StateMachine[CaseStatus] = StateMachine("case", EDGES)


def can_move(current: CaseStatus, target: CaseStatus, rules: CaseRules) -> bool:
    return CASE_STATES.can(current, target, rules)


def allowed_targets(current: CaseStatus, rules: CaseRules) -> list[CaseStatus]:
    return CASE_STATES.targets(current, rules)
