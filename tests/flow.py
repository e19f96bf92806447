"""Steps of a case as citizens and reviewers take them, through the real endpoints."""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from app.accounts.models import Account
from app.cases.models import Case
from app.identity import claims
from app.kernel.db import db
from app.people import service as people
from app.register import service as register
from app.review.models import ReviewTask
from tests.app.staff.factories import Account as StaffAccount
from tests.app.staff.factories import csrf_token, log_in
from tests.helpers import bearer, sms_login, wechat_login

RESALE_UNIT = "440402003001GB00012F00010203"
MORTGAGE_UNIT = "440402003003GB00678F00030801"
SEIZED_UNIT = "440402003009GB00999F00010101"


@dataclass
class Citizen:
    client: FlaskClient
    tokens: dict[str, Any]
    account_id: int
    person_id: int
    claim: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens)

    @property
    def claim_headers(self) -> dict[str, str]:
        return {**self.headers, "X-Identity-Claim": self.claim}

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

    def post(self, path: str, json: Any = None, *, claim: bool = False) -> Any:
        return self.client.post(path, json=json,
                                headers=self.claim_headers if claim else self.headers)

    def put(self, path: str, json: Any) -> Any:
        return self.client.put(path, json=json, headers=self.headers)

    def upload(self, case_number: str, item: str, role: str, data: bytes,
               name: str = "scan.png") -> Any:
        return self.client.post(
            f"/api/cases/{case_number}/materials", headers=self.headers,
            data={"item": item, "role": role, "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data")


def _verified(app: Flask, client: FlaskClient, tokens: dict[str, Any], name: str,
              id_number: str) -> Citizen:
    account = db.session.get(Account, tokens["account"]["id"])
    assert account is not None
    person = people.bind_verified_identity(account, name, id_number, method="test",
                                           channel="miniprogram")
    claim = claims.issue(account.id, person.id, "test").token
    return Citizen(client, tokens, account.id, person.id, claim)


def citizen_by_wechat(app: Flask, client: FlaskClient, wechat_name: str, name: str,
                      id_number: str) -> Citizen:
    return _verified(app, client, wechat_login(client, wechat_name), name, id_number)


def citizen_by_sms(app: Flask, client: FlaskClient, sandbox: Any, phone: str, name: str,
                   id_number: str) -> Citizen:
    return _verified(app, client, sms_login(client, sandbox, phone), name, id_number)


_shade = itertools.count()


def scan() -> bytes:
    """A small distinct PNG (uploads of identical bytes are refused as duplicates)."""
    n = next(_shade)
    image = Image.new("RGB", (40, 30), (10 + n % 240, 120 + (n // 240) % 120, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def legacy_owner(unit_number: str, person_id: int, location: str = "示范路1号") -> None:
    """The unit is in the register already (migrated), owned by this person."""
    from app.cases.service import get_or_create_unit

    unit = get_or_create_unit(unit_number, location, Decimal("89.50"), "住宅")
    register.import_entry(unit, register.RightDetails(
        right_type="国有建设用地使用权/房屋所有权", right_nature="存量商品房", use="住宅",
        area_m2=Decimal("89.50")), [register.OwnerShare(person_id=person_id, share="1/1")],
        source="test")
    db.session.commit()


RESALE_FORM = {
    "unit": {"unit_number": RESALE_UNIT, "location": "珠海市香洲区示范路1号1栋203房",
             "area_m2": "89.50", "use": "住宅", "land_term_end": "2077-06-30"},
    "transaction": {"contract_number": "ZH-2026-0001", "contract_date": "2026-11-01",
                    "price_fen": 215000000, "payment_method": "一次性付款"},
    "tax_declaration": {"buyer_first_home": "yes", "seller_only_home_over_5_years": "no"},
    "certificate_delivery": {"form": "electronic"},
}


def fill_resale(buyer: Citizen, seller: Citizen,
                delivery: dict[str, Any] | None = None) -> str:
    """A complete resale transfer, confirmed by buyer and seller, not yet submitted;
    ``delivery`` replaces the electronic certificate_delivery choice."""
    created = buyer.post("/api/cases", {"business_type": "resale_transfer"})
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["case_number"]
    form = {**RESALE_FORM, **({"certificate_delivery": delivery} if delivery else {})}
    for section, data in form.items():
        saved = buyer.put(f"/api/cases/{number}/form/{section}", data)
        assert saved.status_code == 200, saved.get_json()
    for body in ({"role": "buyer", "kind": "natural", "name": "张三",
                  "id_number": "440402198801010018", "share": "1/1"},
                 {"role": "seller", "kind": "natural", "name": "李四",
                  "id_number": "440402199003150029"}):
        added = buyer.post(f"/api/cases/{number}/applicants", body)
        assert added.status_code == 201, added.get_json()
    checklist = buyer.get(f"/api/cases/{number}/materials").get_json()["checklist"]
    for entry in checklist:
        if entry["required"]:
            uploaded = buyer.upload(number, entry["item"], entry["role"], scan())
            assert uploaded.status_code == 201, uploaded.get_json()
    for person in (buyer, seller):
        confirmed = person.post(f"/api/cases/{number}/confirm", claim=True)
        assert confirmed.status_code == 200, confirmed.get_json()
    return number


def case_row(number: str) -> Case:
    db.session.rollback()  # see what the requests committed
    case = db.session.scalar(select(Case).where(Case.case_number == number))
    assert case is not None
    return case


def task_of(number: str, department: str) -> ReviewTask:
    case = case_row(number)
    task = db.session.scalar(select(ReviewTask).where(
        ReviewTask.case_id == case.id, ReviewTask.department == department)
        .order_by(ReviewTask.round.desc(), ReviewTask.id.desc()).limit(1))
    assert task is not None
    return task


@dataclass
class Reviewer:
    client: FlaskClient
    account: StaffAccount
    department: str

    @classmethod
    def logged_in(cls, client: FlaskClient, account: StaffAccount,
                  department: str) -> Reviewer:
        log_in(client, account)
        return cls(client, account, department)

    def page(self, number: str) -> str:
        task = task_of(number, self.department)
        response = self.client.get(f"/admin/review/tasks/{task.id}")
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def act(self, number: str, action: str, data: dict[str, Any] | None = None) -> str:
        """Post one of the task page's forms; returns the page it lands on."""
        task = task_of(number, self.department)
        page = f"/admin/review/tasks/{task.id}"
        response = self.client.post(f"{page}/{action}", data={
            "csrf_token": csrf_token(self.client, page), **(data or {})})
        assert response.status_code == 302, response.get_data(as_text=True)
        return self.client.get(response.location).get_data(as_text=True)

    def approve(self, number: str) -> str:
        self.act(number, "claim")
        return self.act(number, "approve", {"note": "材料齐全，审核通过"})


def flashes(html: str) -> list[str]:
    return [m.strip() for m in re.findall(r'class="flash [a-z]+"[^>]*>([^<]+)<', html)]
