"""/admin/notifications: the helpdesk sees failed and erring messages and sends one again."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.accounts.models import Account
from app.integrations.sms import MemorySmsSender
from app.kernel.db import db
from app.notifications import service
from app.notifications.models import OutboxStatus
from app.staff.models import StaffRole
from tests.app.notifications import conftest as notifications
from tests.app.notifications.conftest import make_case, messages, notices
from tests.app.staff.factories import audit_records, csrf_token, log_in, make_staff
from tests.flow import Citizen

# The notification tests' fixtures: the sandbox emptied after each test, 李四 by SMS.
_clean_sandbox, sms_citizen = notifications._clean_sandbox, notifications.sms_citizen


def _failed_fee_notice(app: Flask, citizen: Citizen) -> tuple[int, str]:
    real = app.extensions["bdc.sms"]
    app.extensions["bdc.sms"] = MemorySmsSender(failing_phones=["+8613800000002"])
    number = make_case(citizen.account_id)
    service.enqueue([db.session.get(Account, citizen.account_id)], "fees_assessed", {
        "case_number": number, "total_yuan": "21,580.00", "status_label": "待缴费",
        "hint": "请一次缴清"}, f"fees_assessed:{number}")
    db.session.commit()
    assert service.drain()["failed"] == 1
    app.extensions["bdc.sms"] = real
    [row] = messages()
    return row.id, number


def test_the_helpdesk_sees_a_failed_message_and_sends_it_again(
        app: Flask, make_app: Any, sandbox: Any, sms_citizen: Citizen) -> None:
    message_id, number = _failed_fee_notice(app, sms_citizen)
    staff = make_staff(username="qian.fuwu", display_name="钱服务", roles=(StaffRole.HELPDESK,))
    browser = make_app().test_client()
    log_in(browser, staff)

    page = browser.get("/admin/notifications").get_data(as_text=True)
    assert 'href="/admin/notifications"' in page  # in the navigation
    assert f'id="message-{message_id}"' in page
    for shown in ("缴费通知", "fees_assessed", number, "短信", "138****0002", "发送失败",
                  "PhoneNumberInBlacklist", "重新发送"):
        assert shown in page, shown
    assert "13800000002" not in page  # the phone only masked
    assert "/s/" not in page  # nor the link's code
    assert f'id="message-{message_id}"' in browser.get(
        "/admin/notifications?status=failed").get_data(as_text=True)
    assert f'id="message-{message_id}"' not in browser.get(
        "/admin/notifications?status=pending").get_data(as_text=True)

    # Without the form's CSRF token nothing happens.
    refused = browser.post(f"/admin/notifications/{message_id}/resend", data={})
    assert refused.status_code in (302, 400)
    assert messages()[0].status == OutboxStatus.FAILED

    token = csrf_token(browser, "/admin/notifications")
    done = browser.post(f"/admin/notifications/{message_id}/resend",
                        data={"csrf_token": token, "status": "failed"})
    assert done.status_code == 302 and done.location.endswith("/admin/notifications?status=failed")
    assert "已重新加入发送队列" in browser.get(done.location).get_data(as_text=True)
    [row] = messages()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    [record] = audit_records("notification.resent")
    assert record.actor_id == str(staff.id) and record.entity_id == str(message_id)
    assert record.before == {"status": "failed", "attempts": 1}

    # The worker sends it, with a fresh link; the first link is revoked.
    assert service.drain()["sent"] == 1
    [sms] = notices(sandbox)
    assert sms["params"][0] == number and "/s/" in sms["params"][-1]
    assert len(audit_records("link.revoked")) == 1
    # Sending again what is not failed is refused.
    again = browser.post(f"/admin/notifications/{message_id}/resend",
                         data={"csrf_token": csrf_token(browser, "/admin/notifications")})
    assert "只有发送失败的消息可以重新发送" in browser.get(again.location).get_data(as_text=True)


def test_reviewers_do_not_see_the_outbox(app: Flask, make_app: Any) -> None:
    staff = make_staff(username="zhou.dengji", roles=(StaffRole.REGISTRATION_REVIEWER,))
    browser = make_app().test_client()
    log_in(browser, staff)
    assert browser.get("/admin/notifications").status_code == 403
    dashboard = browser.get("/admin/")
    assert dashboard.status_code == 200
    assert 'href="/admin/notifications"' not in dashboard.get_data(as_text=True)


def test_a_supervisor_sees_an_empty_list(app: Flask, make_app: Any) -> None:
    staff = make_staff(username="chen.zhuguan", roles=(StaffRole.SUPERVISOR,))
    browser = make_app().test_client()
    log_in(browser, staff)
    page = browser.get("/admin/notifications?status=bogus").get_data(as_text=True)
    assert "没有需要处理的消息" in page
