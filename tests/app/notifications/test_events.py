"""Events that notify through the outbox: a correction answered, an appointment tomorrow."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from app.accounts.models import Account
from app.appointments.models import Booking, ServiceHall, TimeSlot
from app.kernel.db import db
from app.kernel.timeutil import SHANGHAI
from app.links import service as links
from app.notifications import reminders, service
from app.staff.models import StaffRole
from app.usecases.correct_certificate import answer_correction, report_certificate_error
from tests.app.institutions.helpers import issue_certificate
from tests.app.notifications.conftest import messages, notices, shanghai
from tests.app.staff.factories import make_staff
from tests.flow import Citizen


def test_an_answered_correction_tells_the_reporter_with_a_link_to_the_certificate(
        app: Flask, sandbox: Any, sms_citizen: Citizen) -> None:
    certificate = issue_certificate(sms_citizen.account_id,
                                    [(sms_citizen.person_id, "李四", "440402199003150029", "1/1")])
    account = db.session.get(Account, sms_citizen.account_id)
    assert account is not None
    request = report_certificate_error(account, certificate.number, "坐落", "门牌号应为203房",
                                       "miniprogram")
    staff = make_staff(username="qian.fuwu", roles=(StaffRole.HELPDESK,))
    answer_correction(request.id, staff.id, "no_error", "经核查，证书与登记簿记载一致。")
    [row] = messages("correction_answered")
    assert row.dedupe_key == f"correction_answered:{request.id}:sms:{account.id}"
    assert service.drain()["sent"] == 1
    [sms] = notices(sandbox)
    assert sms["text"].startswith(
        "您对不动产权证书“坐落”记载事项的更正申请已答复：经核查证书无误。")
    link = links.resolve(sms["params"][-1].rsplit("/", 1)[1])
    assert link is not None
    assert (link.purpose, link.target, link.person_id) == (
        "view_certificate", certificate.number, sms_citizen.person_id)


def _booking(account_id: int, starts_at: datetime, status: str = "booked") -> Booking:
    hall = db.session.query(ServiceHall).filter_by(code="xiangzhou").one_or_none()
    if hall is None:
        hall = ServiceHall(code="xiangzhou", name="珠海市不动产登记中心香洲服务大厅",
                           address="珠海市香洲区示范路100号")
        db.session.add(hall)
        db.session.flush()
    slot = TimeSlot(hall_id=hall.id, starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=30), capacity=4, booked=1)
    db.session.add(slot)
    db.session.flush()
    booking = Booking(slot_id=slot.id, account_id=account_id, status=status,
                      active_key=f"{account_id}:{slot.id}" if status == "booked" else None)
    db.session.add(booking)
    db.session.commit()
    return booking


def test_tomorrows_appointments_are_reminded_once(
        app: Flask, sandbox: Any, sms_citizen: Citizen, wechat_citizen: Citizen,
        clock: Any) -> None:
    now = shanghai(2026, 11, 24, 10, 0)
    clock(now)
    tomorrow = _booking(sms_citizen.account_id, shanghai(2026, 11, 25, 9, 30))
    _booking(sms_citizen.account_id, shanghai(2026, 11, 26, 9, 30))  # the day after
    _booking(sms_citizen.account_id, shanghai(2026, 11, 25, 14, 0), status="cancelled")
    in_wechat = _booking(wechat_citizen.account_id, shanghai(2026, 11, 25, 16, 0))

    assert reminders.remind_appointments(now) == 2
    assert reminders.remind_appointments(now) == 0  # once per booking
    assert {m.dedupe_key.rsplit(":", 2)[0] for m in messages()} == {
        f"appointment_reminder:{tomorrow.id}", f"appointment_reminder:{in_wechat.id}"}
    assert service.drain()["sent"] == 2
    [sms] = notices(sandbox)
    assert sms["text"] == (
        "您已预约11月25日 09:30到珠海市不动产登记中心香洲服务大厅办理不动产登记业务，"
        "地址：珠海市香洲区示范路100号。请携带身份证件按时前往。")
    [wechat] = sandbox.state.wechat_messages()
    assert wechat["data"]["time2"]["value"] == "2026年11月25日 16:00"


def test_the_job_reminds_from_nine_and_not_every_pass(
        app: Flask, sms_citizen: Citizen, clock: Any) -> None:
    _booking(sms_citizen.account_id, shanghai(2026, 11, 25, 9, 30))
    early = shanghai(2026, 11, 24, 8, 30)
    clock(early)
    assert reminders.remind_due(early) == 0
    nine = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)
    clock(nine)
    assert reminders.remind_due(nine) == 1
    _booking(sms_citizen.account_id, shanghai(2026, 11, 25, 10, 30))
    assert reminders.remind_due(nine + timedelta(minutes=1)) == 0  # looked a minute ago
    assert reminders.remind_due(nine + timedelta(minutes=6)) == 1
