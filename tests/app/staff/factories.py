"""Plain functions that build staff accounts and drive the login pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import utcnow
from app.staff import service
from app.staff.models import StaffRole, StaffUser

PASSWORD = "Lattice-Harbour-42"


class Clock:
    """The staff service's clock, frozen until told to move."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    password: str
    secret: str

    def code(self, at: datetime | None = None) -> str:
        """The code the staff member's authenticator shows (now, or at a given time)."""
        return pyotp.TOTP(self.secret).at(at or utcnow())


def make_staff(
    *,
    username: str = "zhou.dengji",
    display_name: str = "周登记",
    roles: tuple[StaffRole, ...] = (StaffRole.REGISTRATION_REVIEWER,),
    password: str = PASSWORD,
    enrolled: bool = True,
    active: bool = True,
) -> Account:
    created = service.create_staff(username, display_name, list(roles), password)
    user = created.user
    if enrolled:
        user.totp_confirmed_at = utcnow()
    user.is_active = active
    db.session.commit()
    return Account(user.id, created.staff.username, created.password, created.totp_secret)


def make_supervisor(**overrides: object) -> Account:
    values: dict[str, object] = {
        "username": "chen.zhuguan", "display_name": "陈主管", "roles": (StaffRole.SUPERVISOR,),
    }
    values.update(overrides)
    return make_staff(**values)  # type: ignore[arg-type]


def staff_row(username: str) -> StaffUser:
    """The account as the database holds it now (the pages write through another app)."""
    db.session.rollback()
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    assert user is not None
    return user


def audit_records(action: str) -> list[AuditRecord]:
    db.session.rollback()
    return list(db.session.scalars(
        select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
    ))


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of a page's form, as a browser would pick it up."""
    response = client.get(path)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def submit_password(client: FlaskClient, username: str, password: str,
                    next_path: str = "") -> TestResponse:
    path = "/admin/login" + (f"?next={next_path}" if next_path else "")
    token = csrf_token(client, path)
    return client.post("/admin/login", data={
        "csrf_token": token, "username": username, "password": password, "next": next_path,
    })


def submit_code(client: FlaskClient, code: str) -> TestResponse:
    token = csrf_token(client, "/admin/login/totp")
    return client.post("/admin/login/totp", data={"csrf_token": token, "code": code})


def log_in(client: FlaskClient, account: Account, at: datetime | None = None) -> TestResponse:
    """Both steps; returns the response to the code (a redirect to the dashboard)."""
    first = submit_password(client, account.username, account.password)
    assert first.status_code == 302 and first.location.endswith("/admin/login/totp"), (
        first.get_data(as_text=True)
    )
    done = submit_code(client, account.code(at))
    assert done.status_code == 302 and "/admin/login" not in done.location, done.location
    return done


def post_form(client: FlaskClient, page: str, action: str, data: dict[str, object]) -> TestResponse:
    """Post a form found on ``page`` with that page's CSRF token."""
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data})


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
