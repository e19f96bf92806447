"""Each role sees its own dashboard sections and nothing of another role's pages."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.staff.models import StaffRole
from tests.app.staff.factories import log_in, make_staff, text

SECTIONS = {
    StaffRole.REGISTRATION_REVIEWER: ["待审核办件（登记审核员）", "待审核 0 件",
                                      'href="/admin/review"'],
    StaffRole.HOUSING_REVIEWER: ["待审核办件（住建审核员）", "待审核 0 件", 'href="/admin/review"'],
    StaffRole.TAX_REVIEWER: ["待审核办件（税务审核员）", "待审核 0 件", 'href="/admin/review"'],
    StaffRole.HELPDESK: ["办件查询", "等待共享平台响应的核查 0 项", 'href="/admin/cases"',
                         "更正申请", "暂无更正申请"],
    StaffRole.SUPERVISOR: ["人员管理", 'href="/admin/staff"'],
    StaffRole.AUDITOR: ["审计日志", 'href="/admin/audit"'],
}


@pytest.mark.parametrize("role", list(StaffRole))
def test_each_role_sees_its_own_dashboard_sections(
    app: Flask, pages: FlaskClient, role: StaffRole
) -> None:
    log_in(pages, make_staff(roles=(role,)))

    page = text(pages.get("/admin/"))

    for expected in SECTIONS[role]:
        assert expected in page
    for other, texts in SECTIONS.items():
        if other is not role:
            assert f"<h2>{texts[0]}</h2>" not in page


def test_a_member_with_two_roles_sees_both_sections(app: Flask, pages: FlaskClient) -> None:
    log_in(pages, make_staff(roles=(StaffRole.HELPDESK, StaffRole.TAX_REVIEWER)))

    page = text(pages.get("/admin/"))

    assert "待审核办件（税务审核员）" in page
    assert "更正申请" in page


def test_the_nav_bar_shows_name_roles_and_logout(app: Flask, pages: FlaskClient) -> None:
    log_in(pages, make_staff(display_name="郑税务", roles=(StaffRole.TAX_REVIEWER,)))

    page = text(pages.get("/admin/"))

    assert '<span class="name">郑税务</span>' in page
    assert '<span class="badge">税务审核员</span>' in page
    assert 'action="/admin/logout"' in page
    assert 'href="/admin/staff"' not in page


def test_a_tax_reviewer_gets_403_on_the_staff_page(app: Flask, pages: FlaskClient) -> None:
    log_in(pages, make_staff(roles=(StaffRole.TAX_REVIEWER,)))

    response = pages.get("/admin/staff")

    assert response.status_code == 403
    assert "没有权限" in text(response)
    assert "此页面仅限主管访问" in text(response)


@pytest.mark.parametrize("role", [StaffRole.REGISTRATION_REVIEWER, StaffRole.HELPDESK])
def test_reviewers_and_helpdesk_get_403_on_the_audit_log(
    app: Flask, pages: FlaskClient, role: StaffRole
) -> None:
    log_in(pages, make_staff(roles=(role,)))

    assert pages.get("/admin/audit").status_code == 403


def test_an_auditor_reads_the_audit_log_but_cannot_manage_staff(
    app: Flask, pages: FlaskClient
) -> None:
    log_in(pages, make_staff(roles=(StaffRole.AUDITOR,)))

    assert pages.get("/admin/audit").status_code == 200
    assert pages.get("/admin/staff").status_code == 403
    assert pages.get("/admin/staff/new").status_code == 403


def test_a_supervisor_reads_the_audit_log(app: Flask, pages: FlaskClient) -> None:
    log_in(pages, make_staff(roles=(StaffRole.SUPERVISOR,)))

    assert pages.get("/admin/audit").status_code == 200
