"""Auditors (and supervisors) read the audit log, filtered and paged."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from app.kernel import audit
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.staff import service
from app.staff.models import StaffRole
from tests.app.staff.factories import log_in, make_staff, text


def _case_event(case_id: int, action: str, **values: object) -> None:
    audit.record(actor_type="citizen", actor_id=7, channel="miniprogram", action=action,
                 entity_type="case", entity_id=case_id, **values)  # type: ignore[arg-type]


def _as_auditor(pages: FlaskClient) -> None:
    log_in(pages, make_staff(username="feng.shenji", roles=(StaffRole.AUDITOR,)))


def test_the_audit_log_lists_records_with_actor_channel_and_states(
    app: Flask, pages: FlaskClient
) -> None:
    _case_event(41, "case.submitted", before={"status": "draft"}, after={"status": "submitted"})
    db.session.commit()
    _as_auditor(pages)

    page = text(pages.get("/admin/audit"))

    assert "case.submitted" in page
    assert "市民 #7" in page
    assert "小程序" in page
    assert "case #41" in page
    assert "&#34;status&#34;: &#34;draft&#34;" in page
    assert "工作人员 feng.shenji（#" in page  # the auditor's own login


def test_audit_times_are_shown_in_shanghai_time(app: Flask, pages: FlaskClient) -> None:
    db.session.add(AuditRecord(
        occurred_at=datetime(2025, 12, 31, 16, 30, tzinfo=UTC), actor_type="system",
        actor_id=None, channel="system", action="case.expired", entity_type="case",
        entity_id="9",
    ))
    db.session.commit()
    _as_auditor(pages)

    page = text(pages.get("/admin/audit?entity_type=case"))

    assert "2026-01-01 00:30" in page


def test_the_audit_log_filters_by_entity_and_action(app: Flask, pages: FlaskClient) -> None:
    _case_event(41, "case.submitted")
    _case_event(41, "case.withdrawn")
    _case_event(42, "case.submitted")
    db.session.commit()
    _as_auditor(pages)

    by_entity = text(pages.get("/admin/audit?entity_type=case&entity_id=41"))
    by_action = text(pages.get("/admin/audit?action=case.sub"))
    by_both = text(pages.get("/admin/audit?entity_type=case&entity_id=42&action=case.submitted"))

    assert by_entity.count('class="audit-entry"') == 2
    assert "case #42" not in by_entity
    assert by_action.count('class="audit-entry"') == 2
    assert "case.withdrawn" not in by_action
    assert by_both.count('class="audit-entry"') == 1
    assert "共 1 条记录" in by_both


def test_the_action_filter_treats_wildcards_literally(app: Flask) -> None:
    _case_event(41, "case.submitted")
    db.session.commit()

    assert service.audit_log(action="case%").total == 0
    assert service.audit_log(action="case.").total == 1


def test_the_audit_log_is_paged(app: Flask, pages: FlaskClient) -> None:
    for case_id in range(service.AUDIT_PAGE_SIZE + 5):
        _case_event(case_id, "case.created")
    db.session.commit()
    _as_auditor(pages)

    first = text(pages.get("/admin/audit?entity_type=case"))
    second = text(pages.get("/admin/audit?entity_type=case&page=2"))

    assert first.count('class="audit-entry"') == service.AUDIT_PAGE_SIZE
    assert "第 1 / 2 页" in first
    assert "page=2" in first and "entity_type=case" in first
    assert second.count('class="audit-entry"') == 5


def test_an_overlong_filter_is_refused_in_chinese(app: Flask, pages: FlaskClient) -> None:
    _as_auditor(pages)

    response = pages.get("/admin/audit?action=" + "x" * 65)

    assert response.status_code == 422
    assert "不能超过64个字符" in text(response)
