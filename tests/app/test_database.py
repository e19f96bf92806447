"""The schema comes from the migrations, on SQLite and PostgreSQL alike."""

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.cases import service as cases
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.kernel import audit
from app.kernel.audit import AuditAppendOnly, AuditRecord
from app.kernel.counters import next_value
from app.kernel.db import db
from app.kernel.errors import Conflict
from tests.helpers import wechat_login


def test_the_migrations_build_exactly_the_models_schema(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_migrations_go_down_to_empty_and_up_to_head_again(app):
    db.session.remove()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    cases.load_business_types()
    assert "cases" in inspect(db.engine).get_table_names()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _one_audit_record():
    audit.record(actor_type="system", actor_id=None, channel="system", action="test",
                 entity_type="test", entity_id=1)
    db.session.commit()
    return db.session.query(AuditRecord).one()


def test_audit_records_cannot_be_changed_through_the_orm(app):
    record = _one_audit_record()
    record.action = "tampered"
    with pytest.raises(AuditAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.query(AuditRecord).one())
    with pytest.raises(AuditAppendOnly):
        db.session.commit()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_records SET action = 'tampered'",
    "DELETE FROM audit_records",
])
def test_audit_records_cannot_be_changed_in_the_database_either(app, statement):
    _one_audit_record()
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert db.session.query(AuditRecord).one().action == "test"


def test_two_writers_of_one_case_cannot_both_win(client):
    tokens = wechat_login(client)
    number = client.post("/api/cases", json={"business_type": "change"},
                         headers={"Authorization": f"Bearer {tokens['access_token']}"}
                         ).get_json()["case_number"]
    mine = db.session.query(Case).filter_by(case_number=number).one()
    with Session(db.engine) as other:  # another reviewer, another transaction
        theirs = other.query(Case).filter_by(case_number=number).one()
        theirs.status = CaseStatus.SUBMITTED
        other.commit()
    with pytest.raises(Conflict):
        cases.transition(mine, CaseStatus.SUBMITTED, actor_type="staff", actor_id=1,
                         channel="admin")
    assert db.session.query(AuditRecord).filter_by(action="case.transition").count() == 0


def test_counters_give_unique_gapless_values_under_concurrency(app):
    results: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                for _ in range(10):
                    results.append(next_value("test-serial"))
                    db.session.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == list(range(1, 41))


def test_a_rolled_back_counter_value_is_given_again(app):
    assert next_value("rolled") == 1
    db.session.rollback()
    assert next_value("rolled") == 1


def test_the_application_form_is_encrypted_at_rest_and_survives_the_migration(client):
    tokens = wechat_login(client)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    number = client.post("/api/cases", json={"business_type": "resale_transfer"},
                         headers=auth).get_json()["case_number"]
    delivery = {"form": "paper", "address": "广东省珠海市香洲区海滨南路 8 号",
                "phone": "13800000001"}
    saved = client.put(f"/api/cases/{number}/form/certificate_delivery", json=delivery,
                       headers=auth)
    assert saved.status_code == 200, saved.get_json()

    def stored() -> str:
        with db.engine.connect() as conn:
            return str(conn.execute(text("SELECT form_data FROM cases")).scalar_one())

    assert "海滨南路" not in stored() and "13800000001" not in stored()
    db.session.remove()
    downgrade(revision="0015")  # back to the plain JSON column: decrypted in place
    assert "13800000001" in stored()
    upgrade()  # and encrypted again
    assert "海滨南路" not in stored()
    case = db.session.query(Case).filter_by(case_number=number).one()
    assert case.form_data["certificate_delivery"] == delivery
