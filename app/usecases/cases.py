"""What an applicant does to a whole case besides submitting it."""

from __future__ import annotations

from app.accounts.models import Account
from app.cases.models import Case
from app.cases.service import commit_case, get_case_for, transition
from app.cases.workflow import CaseStatus
from app.kernel.audit import ActorType
from app.review import service as review


def withdraw(account: Account, case_number: str, channel: str) -> Case:
    """撤回: the case ends and its review tasks leave the queues, in one transaction."""
    case = get_case_for(account, case_number)
    review.close_active(case)
    transition(case, CaseStatus.WITHDRAWN, actor_type=ActorType.CITIZEN, actor_id=account.id,
               channel=channel, reason="申请人撤回", commit=False)
    commit_case()
    return case
