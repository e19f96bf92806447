"""Supervisors manage staff accounts: create, grant and revoke roles, deactivate, reset."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.staff.models import StaffRole
from tests.app.staff.factories import (
    audit_records,
    csrf_token,
    log_in,
    make_staff,
    make_supervisor,
    post_form,
    staff_row,
    submit_password,
    text,
)


def _as_supervisor(pages: FlaskClient) -> int:
    supervisor = make_supervisor()
    log_in(pages, supervisor)
    return supervisor.id


def test_a_supervisor_creates_a_staff_member_and_sees_the_credentials_once(
    app: Flask, pages: FlaskClient
) -> None:
    supervisor_id = _as_supervisor(pages)

    response = post_form(pages, "/admin/staff/new", "/admin/staff/new", {
        "username": "sun.fuwu", "display_name": "孙服务", "roles": ["helpdesk"],
    })

    page = text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "账号已创建" in page
    assert "初始密码" in page
    assert "<svg" in page
    user = staff_row("sun.fuwu")
    assert user.roles == {StaffRole.HELPDESK}
    assert user.totp_secret and user.totp_secret[:4] in page
    created = audit_records("staff.created")[-1]
    assert (created.actor_type, created.actor_id, created.channel) == (
        "staff", str(supervisor_id), "admin",
    )
    assert created.entity_id == str(user.id)
    assert "孙服务" not in str(created.after)


def test_the_new_staff_member_logs_in_with_the_shown_password(
    app: Flask, pages: FlaskClient, make_app: Any
) -> None:
    _as_supervisor(pages)
    page = text(post_form(pages, "/admin/staff/new", "/admin/staff/new", {
        "username": "sun.fuwu", "display_name": "孙服务", "roles": ["helpdesk"],
    }))
    password = page.split('<span class="secret">')[1].split("</span>")[0]
    assert len(password) >= 16

    newcomer = make_app().test_client()
    response = submit_password(newcomer, "sun.fuwu", password)

    assert response.location.endswith("/admin/login/totp")


def test_creating_a_duplicate_username_is_refused_in_chinese(
    app: Flask, pages: FlaskClient
) -> None:
    _as_supervisor(pages)
    make_staff(username="sun.fuwu")

    response = post_form(pages, "/admin/staff/new", "/admin/staff/new", {
        "username": "sun.fuwu", "display_name": "孙服务", "roles": ["helpdesk"],
    })

    assert "用户名“sun.fuwu”已被使用" in text(response)
    assert len(audit_records("staff.created")) == 2  # the supervisor and the first sun.fuwu


def test_a_short_password_or_no_role_is_refused(app: Flask, pages: FlaskClient) -> None:
    _as_supervisor(pages)

    short = post_form(pages, "/admin/staff/new", "/admin/staff/new", {
        "username": "sun.fuwu", "display_name": "孙服务", "roles": ["helpdesk"],
        "password": "short-pw",
    })
    no_role = post_form(pages, "/admin/staff/new", "/admin/staff/new", {
        "username": "sun.fuwu", "display_name": "孙服务",
    })

    assert "密码至少需要12个字符" in text(short)
    assert "请至少选择一个角色" in text(no_role)


def test_a_supervisor_grants_a_role(app: Flask, pages: FlaskClient) -> None:
    supervisor_id = _as_supervisor(pages)
    clerk = make_staff(username="sun.fuwu", roles=(StaffRole.HELPDESK,))

    response = post_form(pages, "/admin/staff", f"/admin/staff/{clerk.id}/roles",
                         {"role": "auditor"})

    assert response.location.endswith("/admin/staff")
    assert "已授予角色" in text(pages.get("/admin/staff"))
    assert staff_row("sun.fuwu").roles == {StaffRole.HELPDESK, StaffRole.AUDITOR}
    [granted] = audit_records("staff.roles_granted")
    assert (granted.actor_id, granted.channel) == (str(supervisor_id), "admin")
    assert granted.before == {"roles": ["helpdesk"]}
    assert granted.after == {"roles": ["helpdesk", "auditor"]}


def test_a_supervisor_revokes_a_role(app: Flask, pages: FlaskClient) -> None:
    _as_supervisor(pages)
    clerk = make_staff(username="sun.fuwu", roles=(StaffRole.HELPDESK, StaffRole.AUDITOR))

    post_form(pages, "/admin/staff", f"/admin/staff/{clerk.id}/roles/auditor/revoke", {})

    assert staff_row("sun.fuwu").roles == {StaffRole.HELPDESK}
    assert audit_records("staff.role_revoked")[0].after == {"roles": ["helpdesk"]}


def test_a_supervisor_cannot_drop_their_own_supervisor_role(
    app: Flask, pages: FlaskClient
) -> None:
    supervisor_id = _as_supervisor(pages)

    post_form(pages, "/admin/staff", f"/admin/staff/{supervisor_id}/roles/supervisor/revoke", {})

    assert "不能撤销自己的主管角色" in text(pages.get("/admin/staff"))
    assert staff_row("chen.zhuguan").roles == {StaffRole.SUPERVISOR}


def test_a_deactivated_member_cannot_log_in_and_can_be_reactivated(
    app: Flask, pages: FlaskClient
) -> None:
    _as_supervisor(pages)
    clerk = make_staff(username="sun.fuwu")

    post_form(pages, "/admin/staff", f"/admin/staff/{clerk.id}/deactivate", {})
    assert staff_row("sun.fuwu").is_active is False
    assert "已停用" in text(pages.get("/admin/staff"))
    post_form(pages, "/admin/staff", f"/admin/staff/{clerk.id}/activate", {})

    assert staff_row("sun.fuwu").is_active is True
    assert [r.action for r in audit_records("staff.deactivated") + audit_records(
        "staff.activated")] == ["staff.deactivated", "staff.activated"]


def test_a_supervisor_cannot_deactivate_themself(app: Flask, pages: FlaskClient) -> None:
    supervisor_id = _as_supervisor(pages)

    post_form(pages, "/admin/staff", f"/admin/staff/{supervisor_id}/deactivate", {})

    assert "不能停用自己的账号" in text(pages.get("/admin/staff"))
    assert staff_row("chen.zhuguan").is_active is True


def test_resetting_the_second_factor_shows_a_new_code_and_ends_sessions(
    app: Flask, pages: FlaskClient, make_app: Any
) -> None:
    _as_supervisor(pages)
    clerk = make_staff(username="sun.fuwu")
    clerk_browser = make_app().test_client()
    log_in(clerk_browser, clerk)
    assert clerk_browser.get("/admin/").status_code == 200

    response = post_form(pages, "/admin/staff", f"/admin/staff/{clerk.id}/reset-second-factor", {})

    user = staff_row("sun.fuwu")
    assert "验证器已重置" in text(response)
    assert user.totp_secret != clerk.secret
    assert user.totp_secret and user.totp_secret[:4] in text(response)
    assert user.totp_confirmed_at is None
    assert clerk_browser.get("/admin/").location.startswith("/admin/login")
    assert audit_records("staff.second_factor_reset")[0].after == {"totp_enrolled": False}


def test_a_supervisor_unlocks_a_locked_account(
    app: Flask, pages: FlaskClient, make_app: Any
) -> None:
    _as_supervisor(pages)
    clerk = make_staff(username="sun.fuwu")
    guesser = make_app().test_client()
    for _ in range(5):
        submit_password(guesser, "sun.fuwu", "wrong-password-1")
    assert "已锁定" in text(pages.get("/admin/staff"))

    post_form(pages, "/admin/staff", f"/admin/staff/{clerk.id}/unlock", {})

    assert staff_row("sun.fuwu").locked_until is None
    assert len(audit_records("staff.unlocked")) == 1


def test_the_staff_list_masks_names(app: Flask, pages: FlaskClient) -> None:
    _as_supervisor(pages)
    make_staff(username="ou.yang", display_name="欧阳明月")
    make_staff(username="li.si", display_name="李四")

    page = text(pages.get("/admin/staff"))

    assert "欧**月" in page and "欧阳明月" not in page
    assert "李*" in page and "李四" not in page
    assert "从未登录" in page


def test_staff_actions_need_the_csrf_token(app: Flask, pages: FlaskClient) -> None:
    _as_supervisor(pages)
    clerk = make_staff(username="sun.fuwu")

    response = pages.post(f"/admin/staff/{clerk.id}/deactivate")
    created = pages.post("/admin/staff/new", data={
        "username": "evil.one", "display_name": "坏人", "roles": ["supervisor"],
    })

    assert response.status_code == created.status_code == 400
    assert staff_row("sun.fuwu").is_active is True
    assert audit_records("staff.deactivated") == []
    assert len(audit_records("staff.created")) == 2


def test_a_non_supervisor_cannot_post_staff_actions(app: Flask, pages: FlaskClient) -> None:
    auditor = make_staff(username="feng.shenji", roles=(StaffRole.AUDITOR,))
    clerk = make_staff(username="sun.fuwu")
    log_in(pages, auditor)

    response = pages.post(f"/admin/staff/{clerk.id}/deactivate",
                          data={"csrf_token": csrf_token(pages, "/admin/")})

    assert response.status_code == 403
    assert staff_row("sun.fuwu").is_active is True
