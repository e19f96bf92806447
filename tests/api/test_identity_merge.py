"""The merge rule: one Person per resident ID number, however many login channels."""

import pytest

from app.accounts.models import Account
from app.kernel.audit import Channel
from app.kernel.db import db
from app.kernel.errors import IdentityMismatch, ValidationFailed
from app.people import service as people
from tests.helpers import bearer, sms_login, wechat_login

ID_NUMBER = "11010519491231002X"


def bind(account_id, name="张三", id_number=ID_NUMBER):
    account = db.session.get(Account, account_id)
    return people.bind_verified_identity(account, name, id_number, method="test",
                                         channel=Channel.MINIPROGRAM)


def test_verifying_through_both_channels_ends_with_one_person(client, sandbox):
    wechat = wechat_login(client, "zhang")
    sms = sms_login(client, sandbox)
    first = bind(wechat["account"]["id"])
    second = bind(sms["account"]["id"])
    assert first.id == second.id
    for tokens in (wechat, sms):
        me = client.get("/api/me", headers=bearer(tokens)).get_json()
        assert me["identity_verified"] is True
        assert me["person"]["id_number_masked"] == "1101**********002X"
    # The person learns the phone of the SMS account.
    assert second.phone_masked == "138****0009"


def test_cases_filed_in_one_channel_are_seen_in_the_other(client, sandbox):
    wechat = wechat_login(client, "zhang")
    sms = sms_login(client, sandbox)
    created = client.post("/api/cases", json={"business_type": "change"}, headers=bearer(wechat))
    number = created.get_json()["case_number"]
    assert client.get(f"/api/cases/{number}", headers=bearer(sms)).status_code == 404
    bind(wechat["account"]["id"])
    bind(sms["account"]["id"])
    assert client.get(f"/api/cases/{number}", headers=bearer(sms)).status_code == 200


def test_a_different_name_for_a_known_id_number_is_refused_not_merged(client):
    tokens = wechat_login(client)
    bind(tokens["account"]["id"])
    other = wechat_login(client, "someone-else")
    with pytest.raises(IdentityMismatch):
        bind(other["account"]["id"], name="李四")
    assert db.session.get(Account, other["account"]["id"]).person_id is None


def test_an_account_bound_to_one_person_cannot_switch_to_another(client):
    tokens = wechat_login(client)
    bind(tokens["account"]["id"])
    with pytest.raises(IdentityMismatch):
        bind(tokens["account"]["id"], name="李四", id_number="440402198801010018")


def test_an_invalid_id_number_is_refused_before_anything_is_stored(client):
    tokens = wechat_login(client)
    with pytest.raises(ValidationFailed) as caught:
        bind(tokens["account"]["id"], id_number="110105194912310021")
    assert "校验位" in caught.value.details["fields"]["id_number"][0]


def test_a_name_with_a_rare_character_round_trips_intact(client):
    tokens = wechat_login(client)
    bind(tokens["account"]["id"], name="王𠮷")
    me = client.get("/api/me", headers=bearer(tokens))
    assert me.get_json()["person"]["name"] == "王𠮷"
    assert "王𠮷" in me.get_data(as_text=True)  # UTF-8, not \\ud842 escapes
