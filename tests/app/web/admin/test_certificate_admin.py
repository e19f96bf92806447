"""/admin/certificates: who may search certificates, what the list and the detail show
(personal data masked, revocations with their reason), and that opening a detail is
recorded as a staff access the owner sees."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.certificates import lifecycle
from app.certificates.models import Certificate, CertificateAccess
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.people import service as people
from app.staff.models import StaffRole
from tests.app.institutions.helpers import CO_OWNER, OWNER, issue_certificate
from tests.app.staff.factories import log_in, make_staff, text

LIST = "/admin/certificates"


def _detail(number: str) -> str:
    return f"{LIST}/{quote(number)}"


@pytest.fixture
def certificates(app: Flask) -> tuple[Certificate, Certificate]:
    """Two certificates on cases of one account: the first held 1/2 each by 张三 and 李四
    and revoked after a correction, the second valid."""
    owner = people.register_natural_person(*OWNER)
    co_owner = people.register_natural_person(*CO_OWNER)
    from app.accounts.service import account_for_phone

    account = account_for_phone("+8613800000001", "sms")
    db.session.commit()
    holders = [(owner.id, *OWNER, "1/2"), (co_owner.id, *CO_OWNER, "1/2")]
    first = issue_certificate(account.id, holders)
    second = issue_certificate(account.id, [(owner.id, *OWNER, "1/1")])
    lifecycle.revoke(first, "记载有误（坐落）：门牌号有误", "staff:999", replaced_by=second)
    second.replaces_id = first.id
    db.session.commit()
    return first, second


def _browser(make_app: Any, username: str, name: str, *roles: StaffRole) -> FlaskClient:
    client = make_app().test_client()
    log_in(client, make_staff(username=username, display_name=name, roles=roles))
    return client


@pytest.mark.parametrize("role", [StaffRole.HELPDESK, StaffRole.REGISTRATION_REVIEWER,
                                  StaffRole.AUDITOR, StaffRole.SUPERVISOR])
def test_the_roles_that_may_see_certificates(make_app: Any, role: StaffRole,
                                             certificates: Any) -> None:
    browser = _browser(make_app, "sun.fuwu", "孙服务", role)
    assert browser.get(LIST).status_code == 200
    assert browser.get(_detail(certificates[0].number)).status_code == 200
    dashboard = text(browser.get("/admin/"))
    assert 'href="/admin/certificates"' in dashboard and "证书查询" in dashboard


@pytest.mark.parametrize("role", [StaffRole.HOUSING_REVIEWER, StaffRole.TAX_REVIEWER])
def test_other_roles_are_refused_and_nothing_is_recorded(make_app: Any, role: StaffRole,
                                                         certificates: Any) -> None:
    browser = _browser(make_app, "wu.zhujian", "吴住建", role)
    assert browser.get(LIST).status_code == 403
    refused = browser.get(_detail(certificates[0].number))
    assert refused.status_code == 403 and certificates[0].number not in text(refused)
    assert 'href="/admin/certificates"' not in text(browser.get("/admin/"))
    db.session.rollback()
    assert db.session.scalar(select(CertificateAccess)) is None


def test_not_logged_in_goes_to_the_login_page(make_app: Any, certificates: Any) -> None:
    response = make_app().test_client().get(LIST)
    assert response.status_code == 302 and "/admin/login" in response.location


def test_search_by_certificate_or_case_number_with_masked_holders(
        make_app: Any, certificates: Any) -> None:
    first, second = certificates
    browser = _browser(make_app, "sun.fuwu", "孙服务", StaffRole.HELPDESK)
    everything = text(browser.get(LIST))
    assert first.number in everything and second.number in everything
    assert "共 2 本" in everything
    # Names masked; no ID number at all in the list.
    assert "张*" in everything and "李*" in everything
    assert "张三" not in everything and "李四" not in everything and "440402" not in everything
    # The revoked one with its reason; both issue dates as local dates.
    assert "已作废" in everything and "记载有误（坐落）：门牌号有误" in everything
    assert "2026-11-24" in everything

    by_number = text(browser.get(LIST, query_string={"q": second.number[-9:]}))
    assert second.number in by_number and first.number not in by_number
    case_number = db.session.scalar(select(Certificate).where(
        Certificate.id == first.id)).case_id
    from app.cases.models import Case

    number = db.session.get(Case, case_number).case_number  # type: ignore[union-attr]
    by_case = text(browser.get(LIST, query_string={"q": number}))
    assert first.number in by_case and second.number not in by_case
    nothing = text(browser.get(LIST, query_string={"q": "%"}))  # a wildcard is literal
    assert "没有符合条件的证书" in nothing
    too_long = text(browser.get(LIST, query_string={"q": "9" * 65}))
    assert "不能超过64个字符" in too_long


def test_the_list_is_paged(make_app: Any, app: Flask) -> None:
    owner = people.register_natural_person(*OWNER)
    from app.accounts.service import account_for_phone

    account = account_for_phone("+8613800000001", "sms")
    db.session.commit()
    made = [issue_certificate(account.id, [(owner.id, *OWNER, "1/1")]).number
            for _ in range(23)]
    browser = _browser(make_app, "sun.fuwu", "孙服务", StaffRole.HELPDESK)
    first_page = text(browser.get(LIST))
    assert "第 1 / 2 页" in first_page and made[-1] in first_page and made[0] not in first_page
    second_page = text(browser.get(LIST, query_string={"page": 2}))
    assert made[0] in second_page and made[-1] not in second_page


def test_the_detail_is_masked_shows_the_history_and_records_the_staff_access(
        make_app: Any, certificates: Any) -> None:
    first, second = certificates
    browser = _browser(make_app, "sun.fuwu", "孙服务", StaffRole.HELPDESK)
    page = text(browser.get(_detail(first.number)))
    # Content with masked names and ID numbers only.
    assert "张*（4404**********0018） 1/2" in page and "李*（4404**********0029）" in page
    assert "张三" not in page and "440402198801010018" not in page
    assert "海滨南路 88 号" in page
    # Revoked: reason, time, the actor, and the certificate replacing it (linked).
    assert "已作废：记载有误（坐落）：门牌号有误" in page
    assert "工作人员 #999" in page
    assert f'id="replaced-by">{second.number}</a>' in page
    assert f'id="replaces">{first.number}</a>' in text(browser.get(_detail(second.number)))

    # Opening it is a staff look: recorded, shown to the owner, audited.
    db.session.rollback()
    [access] = db.session.scalars(select(CertificateAccess).where(
        CertificateAccess.certificate_id == first.id))
    assert (access.accessor_type, access.action, access.outcome) == ("staff", "view", "allowed")
    assert access.accessor_label == "登记机构工作人员 孙*务"
    assert access.channel == "admin" and access.accessor_id is not None
    [record] = db.session.scalars(select(AuditRecord).where(
        AuditRecord.action == "certificate.staff_viewed", AuditRecord.entity_id == first.number))
    assert (record.actor_type, record.actor_id) == ("staff", access.accessor_id)
    # The page lists it (itself included), as the owner's list does.
    assert "登记机构工作人员 孙*务" in page and "查看内容" in page


def test_a_company_holder_and_an_unknown_number(make_app: Any, app: Flask) -> None:
    from app.accounts.service import account_for_phone

    account = account_for_phone("+8613800000001", "sms")
    bank = people.register_legal_person("示范银行股份有限公司珠海分行", "91440400MA4U67890W")
    db.session.commit()
    proof = issue_certificate(account.id, [(bank.id, bank.name or "", "91440400MA4U67890W",
                                            "")])
    browser = _browser(make_app, "chen.shenji", "陈审计", StaffRole.AUDITOR)
    listed = text(browser.get(LIST))
    assert "示范银行股份有限公司珠海分行" in listed  # a company's name is public
    assert "91440400MA4U67890W" in text(browser.get(_detail(proof.number)))
    missing = browser.get(_detail("粤(2026)珠海市不动产权第9999999号"))
    assert missing.status_code == 404 and "未找到该证书" in text(missing)


def test_the_corrections_of_a_certificate_are_shown(make_app: Any, app: Flask) -> None:
    from datetime import timedelta

    from app.accounts.service import account_for_phone
    from app.certificates.models import CorrectionRequest
    from app.kernel.timeutil import utcnow

    owner = people.register_natural_person(*OWNER)
    account = account_for_phone("+8613800000001", "sms")
    db.session.commit()
    certificate = issue_certificate(account.id, [(owner.id, *OWNER, "1/1")])
    db.session.add(CorrectionRequest(
        certificate_id=certificate.id, account_id=account.id, item="面积",
        description="面积应为 89.50 平方米", due_at=utcnow() + timedelta(days=1)))
    db.session.commit()
    browser = _browser(make_app, "zhou.dengji", "周登记", StaffRole.REGISTRATION_REVIEWER)
    page = text(browser.get(_detail(certificate.number)))
    assert "面积应为 89.50 平方米" in page and "处理中" in page
