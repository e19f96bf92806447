"""The staff dashboard: one section per role held, with the counts each role needs."""

from __future__ import annotations

from sqlalchemy import func, select

from app.checks.service import waiting_checks
from app.identity.models import CounterAppointment, CounterAppointmentStatus
from app.kernel.db import db
from app.review.service import DEPARTMENT_ROLES, pending_count
from app.staff.models import StaffRole, StaffUser
from app.staff.service import REVIEWER_ROLES, DashboardSection, StaffIdentity


def _pending_appointments() -> int:
    return db.session.scalar(
        select(func.count()).select_from(CounterAppointment)
        .where(CounterAppointment.status == CounterAppointmentStatus.REQUESTED)
    ) or 0


def _pending_reviews(role: StaffRole) -> int:
    department = next(d for d, r in DEPARTMENT_ROLES.items() if r is role)
    return pending_count(department)


def _waiting_checks() -> int:
    return len(waiting_checks())


def dashboard(staff: StaffIdentity) -> list[DashboardSection]:
    """One section per role held, in the order of the roles."""
    sections: list[DashboardSection] = []
    for role in staff.roles:
        if role in REVIEWER_ROLES:
            sections.append(DashboardSection(
                key="review_queue", title=f"待审核办件（{role.label}）", role=role,
                empty_text="暂无待审核办件", summary=f"待审核 {_pending_reviews(role)} 件",
            ))
        elif role is StaffRole.HELPDESK:
            sections.append(DashboardSection(
                key="case_lookup", title="办件查询", role=role,
                empty_text="暂无办件查询记录",
                summary=f"等待共享平台响应的核查 {_waiting_checks()} 项",
            ))
            sections.append(DashboardSection(
                key="corrections", title="更正申请", role=role,
                empty_text="暂无更正申请",
            ))
            sections.append(DashboardSection(
                key="identity_desk", title="身份核验", role=role,
                empty_text="暂无待处理的窗口核验预约",
                summary=f"待处理窗口核验预约 {_pending_appointments()} 个",
            ))
        elif role is StaffRole.SUPERVISOR:
            active = db.session.scalar(
                select(func.count()).select_from(StaffUser).where(StaffUser.is_active.is_(True))
            ) or 0
            sections.append(DashboardSection(
                key="staff_management", title="人员管理", role=role,
                empty_text="暂无工作人员", summary=f"在岗工作人员 {active} 名",
            ))
        elif role is StaffRole.AUDITOR:
            sections.append(DashboardSection(
                key="audit_log", title="审计日志", role=role,
                empty_text="暂无审计记录",
            ))
    return sections
