"""Submit a case (提交) or resubmit it after a return: ONE transaction.

Completeness, the archived application form, the checks of this submission, the
status and its audit record commit together; the data-sharing checks run after the
commit (app/usecases/checks.py), never while it is open.
"""

from __future__ import annotations

from app.accounts.models import Account
from app.cases import application, pdf
from app.cases.models import Case
from app.cases.service import commit_case, get_case_for, transition
from app.cases.workflow import CaseStatus
from app.checks import service as checks
from app.kernel.audit import ActorType
from app.materials import service as materials
from app.services import storage
from app.usecases.checks import run_case_checks


def submit(account: Account, case_number: str, channel: str) -> Case:
    """Submit (or resubmit): complete, confirmed by everyone, archived, checks started."""
    case = get_case_for(account, case_number)
    application.require_submittable(case, account, materials.missing_materials(case))
    submission = case.submission_count + 1
    # The file is stored before anything is written: a failed transaction leaves at most
    # an unreferenced file, never a row without its file.
    data = application.render_application_form(case, material_lines(case))
    key = application.application_form_key(case, submission)
    storage().put(key, data, "application/pdf")
    case.submission_count = submission
    application.record_application_form(case, key, data)
    checks.create_checks(case)
    transition(case, CaseStatus.SUBMITTED, actor_type=ActorType.CITIZEN, actor_id=account.id,
               channel=channel, reason=application.submission_reason(case), commit=False)
    commit_case()
    return run_case_checks(case)


def material_lines(case: Case) -> list[pdf.MaterialLine]:
    """Each checklist item present, with the checksums of its files, for the form."""
    by_key: dict[tuple[str, str], list[str]] = {}
    for material in materials.list_materials(case):
        by_key.setdefault((material.item_code, material.role), []).append(material.sha256)
    return [
        pdf.MaterialLine(name=e.name, role_label=e.role_label,
                         files=len(by_key.get((e.item, e.role), [])),
                         sha256=by_key.get((e.item, e.role), []))
        for e in materials.checklist(case) if e.present
    ]
