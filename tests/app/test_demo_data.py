"""Demo data: the accounts work, and no personal data is stored in plaintext."""

from pathlib import Path

import pytest
from sqlalchemy import Text, select, type_coerce

from app.demo import CITIZENS, STAFF, already_loaded, load_demo
from app.kernel.db import EncryptedText, db
from tests.helpers import bearer, sms_login, wechat_login


@pytest.fixture
def demo(app, tmp_path):
    lines = load_demo(tmp_path, app.config["CASE_NUMBER_PREFIX"])
    return tmp_path, lines


def plaintexts() -> list[str]:
    values = []
    for citizen in CITIZENS:
        values += [citizen.id_number, citizen.name]
        if citizen.phone:
            values += [citizen.phone, "+86" + citizen.phone]
    values += [display_name for _, display_name, _ in STAFF]
    return values


def test_demo_data_is_loaded_once(app, demo):
    assert already_loaded()


def test_no_id_number_phone_or_name_is_stored_in_plaintext(app, demo):
    dump = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            # Read encrypted columns as plain text: their type would decrypt them.
            columns = [type_coerce(c, Text()) if isinstance(c.type, EncryptedText) else c
                       for c in table.c]
            dump.append(repr(conn.execute(select(*columns)).all()))
    everything = "\n".join(dump)
    assert "accounts" in db.metadata.tables and len(everything) > 1000
    for value in plaintexts():
        assert value not in everything, value


def test_the_sqlite_file_itself_holds_no_plaintext(app, demo):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    db.session.remove()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(conn.engine.url.database)
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"resale_transfer" in raw  # the file really is the database
    for value in plaintexts():
        assert value.encode() not in raw, value
        assert value.encode("utf-16-le") not in raw, value


def test_the_credentials_file_is_private(app, demo):
    instance, lines = demo
    path = instance / "demo-accounts.txt"
    assert path.stat().st_mode & 0o077 == 0
    assert "demo.supervisor" in path.read_text(encoding="utf-8")
    assert any("demo.tax" in line for line in lines)


def test_demo_citizens_see_their_cases_from_both_channels(client, sandbox, demo):
    by_sms = sms_login(client, sandbox, "13800000001")
    by_wechat = wechat_login(client, "zhangsan")
    listed_sms = client.get("/api/cases", headers=bearer(by_sms)).get_json()
    listed_wechat = client.get("/api/cases", headers=bearer(by_wechat)).get_json()
    assert len(listed_sms) == 1
    assert {c["case_number"] for c in listed_sms} == {c["case_number"] for c in listed_wechat}
    # The demo resale transfer went through the automatic checks: accepted, under review.
    assert [c["status_label"] for c in listed_sms] == ["已受理"]
    me = client.get("/api/me", headers=bearer(by_wechat)).get_json()
    assert me["person"]["name"] == "张三" and me["identity_verified"]


def test_the_seller_sees_the_buyers_case_and_the_rare_name_survives(client, sandbox, demo):
    seller = sms_login(client, sandbox, "13800000002")
    numbers = [c["business_type"]["code"]
               for c in client.get("/api/cases", headers=bearer(seller)).get_json()]
    assert sorted(numbers) == ["change", "resale_transfer"]
    wang = wechat_login(client, "wangji")
    assert client.get("/api/me", headers=bearer(wang)).get_json()["person"]["name"] == "王𠮷"


def test_demo_cases_wait_in_the_review_queues(client, sandbox, demo):
    from app.review.models import ReviewTask

    tasks = db.session.scalars(select(ReviewTask)).all()
    assert sorted(t.department for t in tasks) == ["housing", "registration", "registration",
                                                   "tax"]
    instance, lines = demo
    scans = sorted((instance / "demo-scans").glob("*.png"))
    assert len(scans) == 7 and len({p.read_bytes() for p in scans}) == 7
