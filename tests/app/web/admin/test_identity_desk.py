"""The helpdesk completes counter verifications and lifts face-verification locks."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import Account
from app.identity import service as identity
from app.kernel.db import db
from app.kernel.timeutil import local_date
from app.staff.models import StaffRole
from tests.app.staff.factories import audit_records, log_in, make_staff, post_form, text
from tests.helpers import wechat_login

ZHANG_ID = "440402198801010018"


def _appointment(client: FlaskClient) -> int:
    tokens = wechat_login(client, "counter-citizen")
    account = db.session.get(Account, tokens["account"]["id"])
    appointment = identity.request_appointment(
        account, local_date() + timedelta(days=1), "上午", "miniprogram")
    return appointment.id


def test_a_helpdesk_member_verifies_a_citizen_at_the_counter(
        app: Flask, client: FlaskClient, pages: FlaskClient) -> None:
    appointment_id = _appointment(client)
    helpdesk = make_staff(username="sun.fuwu", display_name="孙服务", roles=(StaffRole.HELPDESK,))
    log_in(pages, helpdesk)
    assert "待处理窗口核验预约 1 个" in text(pages.get("/admin/"))
    page = text(pages.get("/admin/identity"))
    assert f"预约编号 {appointment_id}" in page

    done = post_form(pages, "/admin/identity",
                     f"/admin/identity/appointments/{appointment_id}/complete",
                     {"name": "张三", "id_number": ZHANG_ID, "method": "查验居民身份证原件"})
    assert done.status_code == 302
    assert "已完成窗口身份核验" in text(pages.get("/admin/identity"))
    db.session.rollback()
    account = db.session.query(Account).filter(Account.person_id.isnot(None)).one()
    assert account.identity_verified_by == "counter"
    record = audit_records("kyc.counter_verified")[0]
    assert record.actor_type == "staff" and record.actor_id == str(helpdesk.id)
    assert record.after == {"method": "查验居民身份证原件"}


def test_a_wrong_id_number_at_the_counter_is_refused_in_chinese(
        app: Flask, client: FlaskClient, pages: FlaskClient) -> None:
    appointment_id = _appointment(client)
    log_in(pages, make_staff(username="sun.fuwu", roles=(StaffRole.HELPDESK,)))
    post_form(pages, "/admin/identity", f"/admin/identity/appointments/{appointment_id}/complete",
              {"name": "张三", "id_number": "440402198801010019", "method": "原件"})
    assert "校验位" in text(pages.get("/admin/identity"))


def test_an_unlock_is_audited_with_its_reason(app: Flask, pages: FlaskClient) -> None:
    helpdesk = make_staff(username="sun.fuwu", roles=(StaffRole.HELPDESK,))
    log_in(pages, helpdesk)
    post_form(pages, "/admin/identity", "/admin/identity/unlock",
              {"id_number": ZHANG_ID, "reason": "来电核实为本人"})
    assert "已解除" in text(pages.get("/admin/identity"))
    record = audit_records("kyc.unlocked")[0]
    assert record.actor_id == str(helpdesk.id) and record.note == "来电核实为本人"


def test_reviewers_cannot_open_the_identity_desk(app: Flask, pages: FlaskClient) -> None:
    log_in(pages, make_staff(roles=(StaffRole.TAX_REVIEWER,)))
    assert pages.get("/admin/identity").status_code == 403
