"""Online appointments: halls, slots with capacity, booking, cancelling, no double booking."""

import threading
from datetime import timedelta

from app.appointments import service
from app.appointments.models import TimeSlot
from app.kernel.db import db
from app.kernel.timeutil import local_date
from tests.helpers import bearer, wechat_login


def next_working_day():
    day = local_date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def first_slot(client, hall="jinwan"):
    service.generate_slots(local_date(), 10)
    slots = client.get(f"/api/halls/{hall}/slots?date={next_working_day().isoformat()}")
    assert slots.status_code == 200
    return slots.get_json()[0]


def test_halls_and_their_slots_are_published(client):
    slot = first_slot(client)
    halls = client.get("/api/halls").get_json()
    assert {h["code"] for h in halls} == {"xiangzhou", "jinwan"}
    assert slot["capacity"] == 2 and slot["available"] == 2
    assert slot["starts_at"].endswith("Z")


def test_no_slots_on_weekends(app):
    service.generate_slots(local_date(), 14)
    weekdays = {s.starts_at.astimezone(service.SHANGHAI).weekday()
                for s in db.session.query(TimeSlot)}
    assert weekdays <= {0, 1, 2, 3, 4}


def test_generating_slots_twice_creates_nothing_new(app):
    first = service.generate_slots(local_date(), 7)
    assert first > 0 and service.generate_slots(local_date(), 7) == 0


def test_a_citizen_books_and_cancels_and_the_seat_comes_back(client):
    slot = first_slot(client)
    headers = bearer(wechat_login(client, "visitor"))
    booked = client.post("/api/bookings", json={"slot_id": slot["id"]}, headers=headers)
    assert booked.status_code == 201
    booking = booked.get_json()
    assert booking["status"] == "booked" and "金湾" in booking["hall"]
    remaining = client.get(f"/api/halls/jinwan/slots?date={next_working_day().isoformat()}")
    assert remaining.get_json()[0]["available"] == 1
    again = client.post("/api/bookings", json={"slot_id": slot["id"]}, headers=headers)
    assert again.status_code == 409 and again.get_json()["code"] == "ALREADY_BOOKED"
    cancelled = client.post(f"/api/bookings/{booking['id']}/cancel", headers=headers)
    assert cancelled.get_json()["status"] == "cancelled"
    assert db.session.get(TimeSlot, slot["id"]).booked == 0
    rebooked = client.post("/api/bookings", json={"slot_id": slot["id"]}, headers=headers)
    assert rebooked.status_code == 201


def test_a_full_slot_is_refused(client):
    slot = first_slot(client)
    for name in ("a", "b"):
        headers = bearer(wechat_login(client, name))
        assert client.post("/api/bookings", json={"slot_id": slot["id"]},
                           headers=headers).status_code == 201
    late = client.post("/api/bookings", json={"slot_id": slot["id"]},
                       headers=bearer(wechat_login(client, "c")))
    assert late.status_code == 409
    assert late.get_json()["code"] == "SLOT_FULL"


def test_concurrent_bookings_never_exceed_capacity(app, client):
    from app.accounts.models import Account

    slot = first_slot(client)
    ids = [wechat_login(client, f"crowd{i}")["account"]["id"] for i in range(6)]
    outcomes: list[str] = []

    def attempt(account_id):
        with app.app_context():
            try:
                service.book(db.session.get(Account, account_id), slot["id"], "miniprogram")
                outcomes.append("ok")
            except service.SlotFull:
                outcomes.append("full")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full"] * 4 + ["ok"] * 2
    db.session.expire_all()
    assert db.session.get(TimeSlot, slot["id"]).booked == 2


def test_someone_elses_booking_cannot_be_cancelled(client):
    slot = first_slot(client)
    owner = bearer(wechat_login(client, "owner"))
    booking = client.post("/api/bookings", json={"slot_id": slot["id"]}, headers=owner).get_json()
    other = bearer(wechat_login(client, "other"))
    assert client.post(f"/api/bookings/{booking['id']}/cancel", headers=other).status_code == 404


def test_an_unknown_slot_or_hall_is_a_clear_error(client):
    headers = bearer(wechat_login(client, "x"))
    assert client.post("/api/bookings", json={"slot_id": 999999},
                       headers=headers).status_code == 422
    assert client.get("/api/halls/nowhere/slots?date=2026-12-01").status_code == 404
    assert client.get("/api/halls/jinwan/slots").status_code == 422


def test_reference_data_loads_once_and_keeps_edits(app):
    from app.cases.models import BusinessType
    from app.reference import load_reference_data

    first = load_reference_data(local_date())
    assert first["halls"] == 2 and first["slots"] > 0
    db.session.get(BusinessType, "change").name = "变更登记（编辑后）"
    db.session.commit()
    again = load_reference_data(local_date())
    assert again["slots"] == 0 and again["business_types"] == 0
    assert db.session.get(BusinessType, "change").name == "变更登记（编辑后）"
