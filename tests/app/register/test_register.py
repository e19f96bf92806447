"""Register entry (登簿) with history, encumbrances, and the owners' archive look-up."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.accounts.models import Account
from app.cases import service as cases
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.identity import claims
from app.kernel.audit import AuditRecord, Channel
from app.kernel.db import db
from app.kernel.errors import CaseStateConflict, Conflict, ValidationFailed
from app.people import service as people
from app.register import service as register
from app.register.models import RegisterEntry
from tests.helpers import bearer, wechat_login

UNIT = "440402003001GB00012F00010203"
SYSTEM = {"actor_type": "system", "actor_id": "test", "channel": "system"}
HOUSE = register.RightDetails(
    right_type="国有建设用地使用权/房屋所有权", right_nature="市场化商品房",
    use="城镇住宅用地/住宅", area_m2=Decimal("89.50"))


def citizen(client, wechat_name, name, id_number):
    tokens = wechat_login(client, wechat_name)
    account = db.session.get(Account, tokens["account"]["id"])
    person = people.bind_verified_identity(account, name, id_number, method="test",
                                           channel=Channel.MINIPROGRAM)
    claim = claims.issue(account.id, person.id, "test").token
    return account, person, {**bearer(tokens), "X-Identity-Claim": claim}


def case_ready_to_register(account, business_type="resale_transfer"):
    case = cases.create_draft(account, business_type, channel="miniprogram", prefix="ZH",
                              unit_number=UNIT, location="珠海市香洲区示范路1号1栋203房")
    path = [CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.FEES_ASSESSED]
    if case.business_type.rules.step_order == "pay_then_register":
        path.append(CaseStatus.PAID)
    for status in path:
        cases.transition(case, status, **SYSTEM)
    return case


@pytest.fixture
def people_(client):
    seller = citizen(client, "seller", "李四", "440402199003150029")
    buyer = citizen(client, "buyer", "张三", "440402198801010018")
    return seller, buyer


def test_a_registration_writes_version_one_and_leaves_the_case_to_the_use_case(app, people_):
    """The register writes its entry; moving the case to registered (with the notice, in
    the same commit) is app.usecases.register_case (tests/app/usecases)."""
    (seller_account, seller, _), _ = people_
    case = case_ready_to_register(seller_account)
    entry = register.enter_right(case, HOUSE, [register.OwnerShare(seller.id, "1/1")],
                                 staff_id=None)
    assert entry.version == 1 and entry.co_ownership == "单独所有"
    assert db.session.get(Case, case.id).status == CaseStatus.PAID
    record = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "register.entered"))
    assert record.after["version"] == 1


def test_a_transfer_adds_a_version_and_never_overwrites_the_previous_one(app, people_):
    (seller_account, seller, _), (buyer_account, buyer, _) = people_
    first = register.enter_right(case_ready_to_register(seller_account), HOUSE,
                                 [register.OwnerShare(seller.id, "1/1")], staff_id=None)
    second = register.enter_right(
        case_ready_to_register(buyer_account), HOUSE,
        [register.OwnerShare(buyer.id, "1/2"), register.OwnerShare(seller.id, "1/2")],
        staff_id=None)
    db.session.refresh(first)
    assert second.version == 2 and second.co_ownership == "按份共有"
    assert first.superseded_at is not None
    assert [o.person_id for o in first.owners] == [seller.id]  # history kept as it was
    assert register.current_entry(first.unit_id).id == second.id


@pytest.mark.parametrize("shares", [["1/2", "1/3"], ["abc"], ["0", "1"], ["1/2", "1/2", "0"]])
def test_shares_that_do_not_add_up_are_refused(app, people_, shares):
    (seller_account, seller, _), (_, buyer, _) = people_
    ids = [seller.id, buyer.id, buyer.id + 1000][: len(shares)]
    owners = [register.OwnerShare(pid, share) for pid, share in zip(ids, shares, strict=True)]
    with pytest.raises(ValidationFailed):
        register.enter_right(case_ready_to_register(seller_account), HOUSE, owners,
                             staff_id=None)


def test_joint_ownership_needs_two_owners_without_shares(app, people_):
    (seller_account, seller, _), (_, buyer, _) = people_
    entry = register.enter_right(
        case_ready_to_register(seller_account), HOUSE,
        [register.OwnerShare(seller.id, "共同共有"), register.OwnerShare(buyer.id, "共同共有")],
        staff_id=None)
    assert entry.co_ownership == "共同共有"


def test_a_case_that_is_not_ready_cannot_be_registered(app, people_):
    (seller_account, seller, _), _ = people_
    draft = cases.create_draft(seller_account, "resale_transfer", channel="miniprogram",
                               prefix="ZH", unit_number=UNIT)
    with pytest.raises(CaseStateConflict):
        register.enter_right(draft, HOUSE, [register.OwnerShare(seller.id, "1/1")],
                             staff_id=None)
    assert db.session.query(RegisterEntry).count() == 0


def test_two_clerks_registering_the_same_unit_cannot_both_win(app, people_):
    (seller_account, seller, _), (buyer_account, buyer, _) = people_
    first_case = case_ready_to_register(seller_account)
    second_case = case_ready_to_register(buyer_account)
    unit_id = first_case.unit.id
    # The other clerk's version 1 lands between our read and our write.
    from sqlalchemy.orm import Session

    with Session(db.engine) as other:
        other.add(RegisterEntry(unit_id=unit_id, version=1, case_id=second_case.id,
                                registration_kind="resale_transfer", right_type="x",
                                right_nature="x", use="x", area_m2=Decimal(1),
                                co_ownership="单独所有"))
        other.commit()
    from unittest import mock

    with mock.patch.object(register, "current_entry", return_value=None), \
            pytest.raises(Conflict):
        register.enter_right(first_case, HOUSE, [register.OwnerShare(seller.id, "1/1")],
                             staff_id=None)
    assert db.session.get(Case, first_case.id).status == CaseStatus.PAID


def test_a_mortgage_is_registered_then_discharged(app, people_, client):
    (seller_account, seller, _), _ = people_
    register.enter_right(case_ready_to_register(seller_account), HOUSE,
                         [register.OwnerShare(seller.id, "1/1")], staff_id=None)
    from stdnum.cn import uscc

    base = "91440400MA4U67890"
    bank = people.register_legal_person("示范银行珠海分行", base + uscc.calc_check_digit(base))
    mortgage_case = case_ready_to_register(seller_account, "mortgage_first")
    encumbrance = register.register_encumbrance(
        mortgage_case, "mortgage", holder_id=bank.id, amount_fen=100_000_000,
        description="抵押担保", staff_id=None)
    assert register.encumbrances_on(mortgage_case.unit.id) == [encumbrance]
    discharge = case_ready_to_register(seller_account, "mortgage_discharge")
    register.discharge_encumbrance(discharge, encumbrance.id, staff_id=None)
    assert register.encumbrances_on(mortgage_case.unit.id) == []
    with pytest.raises(Conflict):
        register.discharge_encumbrance(case_ready_to_register(seller_account,
                                                              "mortgage_discharge"),
                                       encumbrance.id, staff_id=None)


def test_an_owner_looks_up_their_units_and_a_former_owner_the_history(client, people_):
    (seller_account, seller, seller_headers), (buyer_account, buyer, buyer_headers) = people_
    register.enter_right(case_ready_to_register(seller_account), HOUSE,
                         [register.OwnerShare(seller.id, "1/1")], staff_id=None)
    register.enter_right(case_ready_to_register(buyer_account), HOUSE,
                         [register.OwnerShare(buyer.id, "1/1")], staff_id=None)
    mine = client.get("/api/register/units", headers=buyer_headers).get_json()
    assert [(u["unit_number"], u["version"]) for u in mine] == [(UNIT, 2)]
    assert mine[0]["owners"] == [{"name_masked": "张*", "share": "1/1", "is_me": True}]
    assert client.get("/api/register/units", headers=seller_headers).get_json() == []
    history = client.get(f"/api/register/units/{UNIT}", headers=seller_headers).get_json()
    assert [h["version"] for h in history] == [1, 2]
    assert history[0]["superseded_at"] and history[1]["owners"][0]["is_me"] is False


def test_someone_who_never_owned_the_unit_gets_404(client, people_):
    (seller_account, seller, _), _ = people_
    register.enter_right(case_ready_to_register(seller_account), HOUSE,
                         [register.OwnerShare(seller.id, "1/1")], staff_id=None)
    _, _, stranger = citizen(client, "stranger", "王五", "11010519491231002X")
    assert client.get(f"/api/register/units/{UNIT}", headers=stranger).status_code == 404


def test_the_look_up_needs_a_fresh_identity_claim(client, people_):
    (_, _, headers), _ = people_
    without = {k: v for k, v in headers.items() if k != "X-Identity-Claim"}
    response = client.get("/api/register/units", headers=without)
    assert response.status_code == 403
    assert response.get_json()["code"] == "IDENTITY_CLAIM_REQUIRED"
