"""Automatic checks on submission, through the data-sharing adapters.

On every submission a case gets one check per subject: the identity of each natural
person (public security's population registry), the marital status of buyers and
sellers (civil affairs; the tax reviewer needs it for the family-home rules), the
status of each company (market regulation), court seizures and freezes on the unit,
and the current register (the disposers own the unit; a mortgage exists to discharge).

A service that is down or slow leaves its check ``waiting``: it is retried with
back-off by the job runner and the helpdesk sees it; a case is never accepted while
a check is not passed. A failed check returns the case to the citizen with readable
reasons. When every check has passed the case is accepted (受理) and the review tasks
of its departments open (app/usecases/checks.py settles the case).

The calls (``attempt``) write nothing; ``record`` writes their results, so no database
transaction stays open while a service answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.cases.application import DISPOSER_ROLES
from app.cases.models import Case, CaseApplicant
from app.cases.workflow import CaseStatus
from app.checks.models import CHECK_STATES, CaseCheck, CheckStatus
from app.integrations.registry import RegistryError, RegistryUnavailable
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.register.models import Encumbrance
from app.register.service import current_entry
from app.services import data_sharing, population_registry

logger = logging.getLogger(__name__)

SYSTEM: dict[str, Any] = {"actor_type": ActorType.SYSTEM, "actor_id": "checks",
                          "channel": Channel.SYSTEM}
RETRY_DELAYS = [timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800)]
MARITAL_LABELS = {"UNMARRIED": "未婚", "MARRIED": "已婚", "DIVORCED": "离异", "WIDOWED": "丧偶"}
COMPANY_LABELS = {"OPERATING": "存续（在营）", "ABNORMAL": "经营异常", "REVOKED": "吊销",
                  "CANCELLED": "注销"}
RESTRICTION_LABELS = {"SEIZURE": "查封", "PRE_SEIZURE": "预查封", "FREEZE": "冻结"}
# Business types a seizure or freeze blocks (a discharge or a correction may go on).
BLOCKED_BY_RESTRICTIONS = {"resale_transfer", "new_home_transfer", "mortgage_first", "change"}
KIND_LABELS = {"identity": "身份核验（公安）", "marital": "婚姻状况（民政）",
               "company": "企业登记状态（市场监管）", "court": "司法查封（法院）",
               "register": "登记簿现状（不动产登记）"}


class Failed(Exception):
    """A check that did not pass: the message is for the citizen, items say what to fix."""

    def __init__(self, message: str, items: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.items = items or []


@dataclass(frozen=True)
class Outcome:
    message: str
    facts: dict[str, Any]


def _applicant(case: Case, subject: str) -> CaseApplicant:
    applicant_id = int(subject.split(":", 1)[1])
    return next(a for a in case.applicants if a.id == applicant_id)


def _who(case: Case, applicant: CaseApplicant) -> str:
    return f"{case.business_type.role_label(applicant.role)}{applicant.person.name_masked}"


def _parties_item(case: Case) -> list[dict[str, Any]]:
    return [{"kind": "section", "code": "parties", "name": "申请人", "role": None}]


def _check_identity(case: Case, subject: str) -> Outcome:
    applicant = _applicant(case, subject)
    person = applicant.representative if subject.startswith("representative") else applicant.person
    assert person is not None and person.name and person.id_number
    record = population_registry().check_identity(person.name, person.id_number, want_photo=False)
    who = _who(case, applicant) + ("的代表人" if subject.startswith("representative") else "")
    if record.match != "CONSISTENT":
        raise Failed(f"{who}的姓名与身份证号码在公安人口库中不一致，请核对后修改",
                     _parties_item(case))
    if record.status != "NORMAL":
        raise Failed(f"{who}的户籍状态异常，请到窗口办理", _parties_item(case))
    return Outcome(f"{who}身份信息一致", {})


def _check_marital(case: Case, subject: str) -> Outcome:
    applicant = _applicant(case, subject)
    person = applicant.person
    assert person.name and person.id_number
    record = data_sharing().marital_status(person.name, person.id_number)
    who = _who(case, applicant)
    if record.match == "NAME_MISMATCH":
        raise Failed(f"{who}的婚姻登记信息与申报的身份不一致，请到窗口核实", _parties_item(case))
    if record.match == "NOT_FOUND" or record.status is None:
        return Outcome(f"{who}未查询到婚姻登记记录", {"marital_status": None})
    label = MARITAL_LABELS.get(record.status, record.status)
    return Outcome(f"{who}婚姻状况：{label}", {"marital_status": record.status})


def _check_company(case: Case, subject: str) -> Outcome:
    applicant = _applicant(case, subject)
    person = applicant.person
    assert person.uscc
    record = data_sharing().company_status(person.name or "", person.uscc)
    who = f"{case.business_type.role_label(applicant.role)}{person.name}"
    if record.match != "CONSISTENT":
        raise Failed(f"{who}的名称与统一社会信用代码在市场监管登记中不一致", _parties_item(case))
    if record.status != "OPERATING":
        label = COMPANY_LABELS.get(str(record.status), str(record.status))
        raise Failed(f"{who}的登记状态为“{label}”，不能办理本业务，请到窗口咨询")
    return Outcome(f"{who}登记状态正常", {"company_status": record.status})


def _check_court(case: Case, subject: str) -> Outcome:
    assert case.unit is not None
    restrictions = data_sharing().unit_restrictions(case.unit.unit_number)
    if not restrictions:
        return Outcome("该不动产单元无查封、冻结", {"restrictions": 0})
    first = restrictions[0]
    text = (f"该不动产单元已被{first.court}{RESTRICTION_LABELS.get(first.kind, first.kind)}"
            f"（{first.document_number}）")
    if case.business_type_code in BLOCKED_BY_RESTRICTIONS:
        raise Failed(text + "，查封期间不能办理本业务")
    return Outcome(text, {"restrictions": len(restrictions)})


def _check_register(case: Case, subject: str) -> Outcome:
    assert case.unit is not None
    entry = current_entry(case.unit.id)
    code = case.business_type_code
    unit_item = [{"kind": "section", "code": "unit", "name": "不动产单元", "role": None}]
    if code == "new_home_transfer":
        return Outcome("新建商品房转移，无需核对现有权利人", {})
    if entry is None:
        raise Failed("登记簿中未查询到该不动产单元的现有权利，请核对不动产单元号", unit_item)
    owners = {o.person_id for o in entry.owners}
    if code == "mortgage_discharge":
        holders = {a.person_id for a in case.applicants if a.role == "mortgagee"}
        mortgages = db.session.scalars(select(Encumbrance).where(
            Encumbrance.unit_id == case.unit.id, Encumbrance.kind == "mortgage",
            Encumbrance.discharged_at.is_(None))).all()
        if not any(m.holder_id in holders for m in mortgages):
            raise Failed("登记簿中未查询到该抵押权人在本单元上的抵押权", unit_item)
        return Outcome("登记簿中存在该抵押权", {"register_version": entry.version})
    disposer = DISPOSER_ROLES.get(code)
    disposers = {a.person_id for a in case.applicants if a.role == disposer}
    if disposers != owners:
        label = case.business_type.role_label(disposer or "")
        raise Failed(f"{label}与登记簿记载的权利人不一致（须由全部权利人申请）",
                     _parties_item(case))
    return Outcome("申请人与登记簿记载的权利人一致", {"register_version": entry.version})


CHECKS: dict[str, Callable[[Case, str], Outcome]] = {
    "identity": _check_identity, "marital": _check_marital, "company": _check_company,
    "court": _check_court, "register": _check_register,
}


def _subjects(case: Case) -> list[tuple[str, str]]:
    subjects: list[tuple[str, str]] = []
    sections = case.business_type.definition.get("form_sections", [])
    for applicant in case.applicants:
        if applicant.person.is_legal:
            subjects.append(("company", f"applicant:{applicant.id}"))
            if applicant.representative_id:
                subjects.append(("identity", f"representative:{applicant.id}"))
        else:
            subjects.append(("identity", f"applicant:{applicant.id}"))
            if "tax_declaration" in sections and applicant.role in ("buyer", "seller"):
                subjects.append(("marital", f"applicant:{applicant.id}"))
    subjects.append(("court", "unit"))
    subjects.append(("register", "unit"))
    return subjects


def create_checks(case: Case) -> list[CaseCheck]:
    """The checks of this submission, pending (the caller commits)."""
    rows = [CaseCheck(case_id=case.id, submission=case.submission_count, kind=kind,
                      subject=subject, status=CheckStatus.PENDING, next_attempt_at=utcnow())
            for kind, subject in _subjects(case)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def checks_of(case: Case, submission: int | None = None) -> list[CaseCheck]:
    return list(db.session.scalars(select(CaseCheck).where(
        CaseCheck.case_id == case.id,
        CaseCheck.submission == (submission or case.submission_count),
    ).order_by(CaseCheck.id)))


@dataclass(frozen=True)
class Attempt:
    """What one call to a data-sharing service said about one check (nothing written)."""

    check: CaseCheck
    outcome: Outcome | None = None
    failure: Failed | None = None
    error: RegistryError | None = None


def due_checks(case: Case, *, due_only: bool = False) -> list[CaseCheck]:
    """This submission's unfinished checks (only those whose retry time came: due_only)."""
    now = utcnow()
    return [check for check in checks_of(case)
            if check.status_enum not in (CheckStatus.PASSED, CheckStatus.FAILED)
            and not (due_only and check.next_attempt_at and check.next_attempt_at > now)]


def attempt(case: Case, check: CaseCheck) -> Attempt:
    """Ask the data-sharing service; writes nothing, so no transaction waits on the call."""
    try:
        outcome = CHECKS[check.kind](case, check.subject)
    except Failed as failure:
        return Attempt(check, failure=failure)
    except RegistryError as exc:
        return Attempt(check, error=exc)
    return Attempt(check, outcome=outcome)


def _move(check: CaseCheck, target: CheckStatus) -> None:
    if check.status_enum != target:  # a check still waiting stays waiting
        CHECK_STATES.move(check, target)


def record(case: Case, result: Attempt) -> None:
    """Write what the attempt said on the check row (the caller commits)."""
    check = result.check
    check.attempts += 1
    if result.failure is not None:
        _move(check, CheckStatus.FAILED)
        check.result = {"message": result.failure.message, "items": result.failure.items}
        check.finished_at = utcnow()
        check.next_attempt_at = None
    elif isinstance(result.error, RegistryUnavailable):
        unavailable = result.error
        _move(check, CheckStatus.WAITING)
        check.last_error = f"{unavailable.code}: {unavailable.message}"[:200]
        delay = RETRY_DELAYS[min(check.attempts, len(RETRY_DELAYS)) - 1]
        check.next_attempt_at = utcnow() + delay
        check.result = {"message": "共享平台暂时无法响应，系统将自动重试"}
        logger.warning("check %s of case %s waiting: %s", check.kind, case.case_number,
                       unavailable.code)
    elif result.error is not None:
        # The platform refused our request (credentials, protocol): a fault to fix on our
        # side, not the citizen's; retried like an outage and shown to the helpdesk.
        exc = result.error
        _move(check, CheckStatus.WAITING)
        check.last_error = f"{exc.code}: {exc.message}"[:200]
        check.next_attempt_at = utcnow() + RETRY_DELAYS[-1]
        check.result = {"message": "共享平台暂时无法响应，系统将自动重试"}
        logger.error("check %s of case %s refused: %s", check.kind, case.case_number, exc.code)
    else:
        assert result.outcome is not None
        _move(check, CheckStatus.PASSED)
        check.result = {"message": result.outcome.message, "facts": result.outcome.facts}
        check.finished_at = utcnow()
        check.next_attempt_at = None
        check.last_error = None
    db.session.flush()


def failed_checks(case: Case) -> list[CaseCheck]:
    return [c for c in checks_of(case) if c.status_enum == CheckStatus.FAILED]


def all_passed(case: Case) -> bool:
    checks = checks_of(case)
    return bool(checks) and all(c.status_enum == CheckStatus.PASSED for c in checks)


def failure_reasons(failed: list[CaseCheck]) -> str:
    return "；".join(str((c.result or {}).get("message")) for c in failed)


def cases_with_due_checks(limit: int = 50) -> list[int]:
    """Submitted cases with a pending or waiting check whose time has come."""
    now = utcnow()
    return list(db.session.scalars(
        select(CaseCheck.case_id).join(Case, Case.id == CaseCheck.case_id).where(
            Case.status == CaseStatus.SUBMITTED,
            CaseCheck.submission == Case.submission_count,
            CaseCheck.status.in_([CheckStatus.PENDING, CheckStatus.WAITING]),
            CaseCheck.next_attempt_at <= now,
        ).distinct().limit(limit)
    ).all())


def waiting_checks(limit: int = 100) -> list[tuple[CaseCheck, Case]]:
    """For the helpdesk: checks of submitted cases still waiting for a service."""
    rows = db.session.execute(
        select(CaseCheck, Case).join(Case, Case.id == CaseCheck.case_id).where(
            Case.status == CaseStatus.SUBMITTED,
            CaseCheck.submission == Case.submission_count,
            CaseCheck.status == CheckStatus.WAITING,
        ).order_by(CaseCheck.created_at).limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


def returned_items_from_checks(case: Case) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for check in checks_of(case):
        if check.status_enum != CheckStatus.FAILED:
            continue
        for item in (check.result or {}).get("items", []):
            items.append({**item, "reason": (check.result or {}).get("message"),
                          "department_label": KIND_LABELS.get(check.kind, check.kind),
                          "role_label": None})
    return items


def citizen_checks(case: Case) -> list[dict[str, Any]]:
    return [{"kind": c.kind, "label": KIND_LABELS.get(c.kind, c.kind), "status": c.status,
             "status_label": c.status_enum.label,
             "message": (c.result or {}).get("message")} for c in checks_of(case)]
