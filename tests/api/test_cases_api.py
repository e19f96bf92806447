"""A citizen's own cases: create a draft, list, read, withdraw; nobody else's."""

import json
import re

from app.accounts.models import Account
from app.cases import service as cases
from app.cases.models import Case
from app.kernel.audit import AuditRecord, Channel
from app.kernel.db import db
from app.people import service as people
from tests.helpers import bearer, wechat_login

UNIT = "440402003001GB00012F00010203"


def create(client, tokens, **body):
    payload = {"business_type": "resale_transfer", "unit_number": UNIT,
               "location": "珠海市香洲区示范路1号", **body}
    return client.post("/api/cases", json=payload, headers=bearer(tokens))


def test_a_draft_gets_a_readable_unique_case_number(client):
    tokens = wechat_login(client)
    first = create(client, tokens)
    second = create(client, tokens)
    assert first.status_code == 201
    body = first.get_json()
    assert re.fullmatch(r"ZH20\d{6}\d{5}", body["case_number"])
    assert body["status"] == "draft" and body["status_label"] == "草稿"
    assert body["unit"]["unit_number"] == UNIT
    assert body["business_type"] == {"code": "resale_transfer", "name": "存量房转移登记"}
    assert body["created_at"].endswith("Z")
    assert int(second.get_json()["case_number"][-5:]) == int(body["case_number"][-5:]) + 1


def test_my_cases_are_listed_newest_first_with_pagination(client):
    tokens = wechat_login(client)
    numbers = [create(client, tokens).get_json()["case_number"] for _ in range(3)]
    response = client.get("/api/cases?page=1&page_size=2", headers=bearer(tokens))
    assert response.status_code == 200
    assert [c["case_number"] for c in response.get_json()] == numbers[::-1][:2]
    pagination = json.loads(response.headers["X-Pagination"])
    assert pagination["total"] == 3 and pagination["next_page"] == 2


def test_one_citizen_cannot_read_or_withdraw_another_citizens_case(client):
    owner = wechat_login(client, "owner")
    stranger = wechat_login(client, "stranger")
    number = create(client, owner).get_json()["case_number"]
    assert client.get(f"/api/cases/{number}", headers=bearer(stranger)).status_code == 404
    response = client.post(f"/api/cases/{number}/withdraw", headers=bearer(stranger))
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"
    assert client.get("/api/cases", headers=bearer(stranger)).get_json() == []
    assert client.get(f"/api/cases/{number}", headers=bearer(owner)).status_code == 200


def test_a_seller_named_on_a_case_sees_it_once_verified(client):
    buyer = wechat_login(client, "buyer")
    seller = wechat_login(client, "seller")
    number = create(client, buyer).get_json()["case_number"]
    seller_account = db.session.get(Account, seller["account"]["id"])
    person = people.bind_verified_identity(seller_account, "李四", "440402198801010018",
                                           method="test", channel=Channel.MINIPROGRAM)
    case = db.session.query(Case).filter_by(case_number=number).one()
    cases.add_applicant(case, person, "seller")
    db.session.commit()
    detail = client.get(f"/api/cases/{number}", headers=bearer(seller))
    assert detail.status_code == 200
    [applicant] = detail.get_json()["applicants"]
    assert {k: applicant[k] for k in ("role", "role_label", "name_masked", "is_me",
                                      "confirmed")} == {
        "role": "seller", "role_label": "出卖人", "name_masked": "李*", "is_me": True,
        "confirmed": False}
    # The seller is asked to confirm the application in their own account.
    assert detail.get_json()["confirmation_needed"] is True


def test_withdrawing_twice_is_a_state_conflict_in_chinese(client):
    tokens = wechat_login(client)
    number = create(client, tokens).get_json()["case_number"]
    first = client.post(f"/api/cases/{number}/withdraw", headers=bearer(tokens))
    assert first.status_code == 200
    assert first.get_json()["status"] == "withdrawn"
    assert first.get_json()["allowed_actions"] == []
    second = client.post(f"/api/cases/{number}/withdraw", headers=bearer(tokens))
    assert second.status_code == 409
    body = second.get_json()
    assert body["code"] == "CASE_STATE_CONFLICT"
    assert body["message"] == "办件当前状态不允许此操作"
    assert body["details"] == {"status": "withdrawn", "target": "withdrawn", "allowed": []}


def test_every_status_change_is_audited_and_shown_as_a_timeline(client):
    tokens = wechat_login(client)
    number = create(client, tokens).get_json()["case_number"]
    client.post(f"/api/cases/{number}/withdraw", headers=bearer(tokens))
    detail = client.get(f"/api/cases/{number}", headers=bearer(tokens)).get_json()
    assert [e["status_label"] for e in detail["timeline"]] == ["草稿", "已撤回"]
    record = db.session.query(AuditRecord).filter_by(
        entity_id=number, action="case.transition").one()
    assert record.actor_type == "citizen"
    assert record.actor_id == str(tokens["account"]["id"])
    assert record.channel == "miniprogram"
    assert (record.before, record.after) == ({"status": "draft"}, {"status": "withdrawn"})


def test_an_unknown_business_type_is_a_field_error(client):
    response = create(client, wechat_login(client), business_type="teleport")
    assert response.status_code == 422
    assert response.get_json()["details"]["fields"] == {"business_type": ["不支持的业务类型"]}


def test_a_malformed_unit_number_is_a_field_error_in_chinese(client):
    response = create(client, wechat_login(client), unit_number="440402003001GB00012F0001020")
    assert response.status_code == 422
    assert response.get_json()["details"]["fields"]["unit_number"] == ["不动产单元号应为28位"]


def test_business_types_are_published_with_their_rules(client):
    response = client.get("/api/business-types")
    codes = {t["code"]: t for t in response.get_json()}
    assert set(codes) == {"resale_transfer", "new_home_transfer", "mortgage_first",
                          "mortgage_discharge", "change", "correction"}
    assert [d["code"] for d in codes["resale_transfer"]["departments"]] == [
        "registration", "housing", "tax"]
    assert codes["mortgage_first"]["step_order"] == "register_then_pay"
    assert codes["mortgage_first"]["certificate_kind"] == "proof"
    assert codes["mortgage_discharge"]["certificate_kind"] is None


def test_a_draft_offers_submit_and_withdraw(client):
    body = create(client, wechat_login(client)).get_json()
    assert body["allowed_actions"] == ["edit", "upload_materials", "submit", "withdraw"]
