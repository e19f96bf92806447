"""A tax reviewer approves a resale transfer through the real admin pages in Chromium."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from app.review.models import TaskStatus
from app.staff.models import StaffRole
from tests.app.staff.factories import make_staff
from tests.flow import (
    citizen_by_sms,
    citizen_by_wechat,
    fill_resale,
    legacy_owner,
    task_of,
)

pytestmark = pytest.mark.e2e


def test_a_reviewer_claims_and_approves_a_case_in_the_browser(
        app: Any, client: Any, sandbox: Any, live_server: str, page: Any,
        screenshot: Any) -> None:
    buyer = citizen_by_wechat(app, client, "zhangsan", "张三", "440402198801010018")
    seller = citizen_by_sms(app, client, sandbox, "13800000002", "李四", "440402199003150029")
    legacy_owner("440402003001GB00012F00010203", seller.person_id)
    number = fill_resale(buyer, seller)
    assert buyer.post(f"/api/cases/{number}/submit", claim=True).get_json()["status"] == "accepted"
    tax = make_staff(username="zheng.shuiwu", display_name="郑税务",
                     roles=(StaffRole.TAX_REVIEWER,))

    page.goto(f"{live_server}/admin/login")
    page.get_by_label("用户名").fill(tax.username)
    page.get_by_label("密码").fill(tax.password)
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("验证码").fill(pyotp.TOTP(tax.secret).now())
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/admin/")
    assert "待审核 1 件" in page.locator("body").inner_text()

    page.get_by_role("link", name="并联审核").click()
    row = page.locator("#review-queue tr", has_text=number)
    assert "税务局" in row.inner_text() and "剩余" in row.inner_text()
    screenshot("review-queue-tax")
    row.get_by_role("link", name="审核").click()
    body = page.locator("body").inner_text()
    # The reviewer reads the same set of materials and the marital status check.
    assert "婚姻状况：已婚" in body and "存量房买卖合同" in body
    assert page.locator("img.thumb").count() >= 7
    page.get_by_role("button", name="认领").click()
    assert "已认领" in page.locator(".flash").inner_text()
    page.get_by_label("审核意见（可选）").fill("计税信息与合同一致")
    screenshot("review-task-claimed")
    page.get_by_role("button", name="审核通过").click()
    assert "审核通过" in page.locator(".flash").inner_text()
    assert page.locator("#task-status").inner_text() == "已通过"
    screenshot("review-task-approved")

    task = task_of(number, "tax")
    assert task.status == TaskStatus.APPROVED and task.decided_by == tax.id
    detail = buyer.get(f"/api/cases/{number}").get_json()
    assert {r["department"]: r["status"] for r in detail["review"]}["tax"] == "approved"
