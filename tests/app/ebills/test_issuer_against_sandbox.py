"""The issuing adapter (HttpEBillIssuer) against the sandbox's e-bill platform: signed
requests, one bill per request number, voiding, the public check page, outages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from app.integrations.ebills import (
    BillLine,
    BillRequest,
    HttpEBillIssuer,
    IssuerError,
    IssuerUnavailable,
    make_ebill_issuer,
)
from app.integrations.registry import signed_headers
from app.kernel.settings import SettingsError
from sandbox.testing import platform_settings_for
from tests import helpers


@pytest.fixture
def platform(sandbox: Any) -> Iterator[dict[str, Any]]:
    sandbox.reset()
    yield platform_settings_for(sandbox)
    sandbox.reset()


@pytest.fixture
def issuer(platform: dict[str, Any]) -> Iterator[HttpEBillIssuer]:
    client = make_ebill_issuer(platform)
    assert isinstance(client, HttpEBillIssuer)
    yield client
    client.close()


def _request(request_no: str = "BDC202611240000000000001-fiscal", **overrides: Any) -> BillRequest:
    values: dict[str, Any] = dict(
        request_no=request_no, kind="fiscal", payer_name="张三",
        items=[BillLine("不动产登记费（住宅）", 8000), BillLine("纸质证书工本费", 1000)],
        total_fen=9000, issuer_name="珠海市不动产登记中心",
        paid_at=datetime(2026, 11, 24, 2, 40, tzinfo=UTC), reference="BDC202611240000000000001")
    values.update(overrides)
    return BillRequest(**values)


def test_a_bill_is_issued_once_per_request_number_and_verifies(
        issuer: HttpEBillIssuer, sandbox: Any) -> None:
    bill = issuer.issue(_request())
    assert bill.bill_code.startswith("4406") and len(bill.bill_code) == 8
    assert bill.bill_number == "0000000001" and len(bill.check_code) == 6
    assert bill.issued_at.tzinfo is not None
    # A retry after a lost answer: the same bill, not a second one.
    assert issuer.issue(_request()) == bill
    tax = issuer.issue(_request("BDC202611240000000000001-tax", kind="tax",
                                items=[BillLine("契税", 2150000)], total_fen=2150000))
    assert tax.bill_code[2:4] == "12" and tax.bill_number == "0000000001"
    assert [b["request_no"] for b in sandbox.state.ebills.bills()] == [
        "BDC202611240000000000001-fiscal", "BDC202611240000000000001-tax"]
    assert sandbox.state.ebills.bills()[0]["payer_name"] == "张*"  # masked in the sandbox

    page = requests.get(bill.verify_url, timeout=5)
    assert page.status_code == 200 and "票据真实有效" in page.text
    assert bill.bill_number in page.text and "90.00" in page.text and "张三" not in page.text
    # A wrong check code is not the bill.
    forged = bill.verify_url.replace(bill.check_code, "000000")
    refused = requests.get(forged, timeout=5)
    assert refused.status_code == 404 and "查无此票据" in refused.text


def test_the_same_request_number_for_other_content_is_a_conflict(issuer: HttpEBillIssuer) -> None:
    issuer.issue(_request())
    with pytest.raises(IssuerError) as caught:
        issuer.issue(_request(payer_name="李四"))
    assert caught.value.code == "REQUEST_NO_CONFLICT" and caught.value.http_status == 409
    assert not isinstance(caught.value, IssuerUnavailable)


def test_a_voided_bill_says_so_on_the_check_page(issuer: HttpEBillIssuer) -> None:
    bill = issuer.issue(_request())
    issuer.void(bill.bill_code, bill.bill_number, "全额退款，红冲")
    issuer.void(bill.bill_code, bill.bill_number, "全额退款，红冲")  # harmless twice
    page = requests.get(bill.verify_url, timeout=5)
    assert page.status_code == 200 and "该票据已红冲" in page.text and "全额退款" in page.text
    with pytest.raises(IssuerError) as caught:
        issuer.void(bill.bill_code, "9999999999", "x")
    assert caught.value.code == "BILL_NOT_FOUND"


def test_a_forged_signature_or_an_unknown_app_id_is_refused(
        platform: dict[str, Any], sandbox: Any) -> None:
    forged = make_ebill_issuer({**platform, "EBILL_APP_SECRET": "0" * 48})
    with pytest.raises(IssuerError) as caught:
        forged.issue(_request())
    assert caught.value.code == "SIGNATURE_INVALID" and caught.value.http_status == 401
    stranger = make_ebill_issuer({**platform, "EBILL_APP_ID": "eb-unknown"})
    with pytest.raises(IssuerError) as caught:
        stranger.issue(_request())
    assert caught.value.code == "APP_KEY_UNKNOWN"
    assert sandbox.state.ebills.bills() == []


def test_a_tampered_body_a_replayed_nonce_and_an_old_timestamp_are_refused(
        platform: dict[str, Any]) -> None:
    url = platform["EBILL_BASE_URL"] + "fiscal-ebill/v1/issue"
    body = json.dumps({"request_no": "R1", "kind": "fiscal", "payer_name": "张三",
                       "items": [{"name": "登记费", "amount_fen": 8000}], "total_fen": 8000,
                       "issuer_name": "珠海市不动产登记中心",
                       "paid_at": "2026-11-24T02:40:00+00:00", "reference": "BDC1"},
                      ensure_ascii=False).encode()
    key, secret = platform["EBILL_APP_ID"], platform["EBILL_APP_SECRET"]
    headers = signed_headers(key, secret, "/fiscal-ebill/v1/issue", body, time.time())
    tampered = requests.post(url, data=body.replace(b"8000", b"1"), headers=headers, timeout=5)
    assert tampered.status_code == 401 and tampered.json()["code"] == "SIGNATURE_INVALID"
    first = requests.post(url, data=body, headers=headers, timeout=5)
    assert first.status_code == 200 and first.json()["code"] == "OK"
    replay = requests.post(url, data=body, headers=headers, timeout=5)
    assert replay.status_code == 401 and replay.json()["code"] == "NONCE_REUSED"
    old = signed_headers(key, secret, "/fiscal-ebill/v1/issue", body, time.time() - 3600)
    late = requests.post(url, data=body, headers=old, timeout=5)
    assert late.status_code == 401 and late.json()["code"] == "TIMESTAMP_EXPIRED"


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "other"}, "kind"),
    ({"total_fen": 1}, "total_fen"),
    ({"items": []}, "items"),
    ({"items": [{"name": "登记费", "amount_fen": -5}]}, "amount_fen"),
    ({"payer_name": ""}, "payer_name"),
    ({"request_no": "a/b"}, "request_no"),
])
def test_a_malformed_request_is_a_bad_request(platform: dict[str, Any], change: dict[str, Any],
                                              message: str) -> None:
    payload = {"request_no": "R1", "kind": "fiscal", "payer_name": "张三",
               "items": [{"name": "登记费", "amount_fen": 8000}], "total_fen": 8000,
               "issuer_name": "珠海市不动产登记中心", "paid_at": "2026-11-24T02:40:00+00:00",
               "reference": "BDC1", **change}
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers(platform["EBILL_APP_ID"], platform["EBILL_APP_SECRET"],
                             "/fiscal-ebill/v1/issue", body, time.time())
    answer = requests.post(platform["EBILL_BASE_URL"] + "fiscal-ebill/v1/issue", data=body,
                           headers=headers, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == "BAD_REQUEST"
    assert message in answer.json()["message"]


def test_a_platform_that_is_down_or_unreachable_is_unavailable(
        issuer: HttpEBillIssuer, platform: dict[str, Any], sandbox: Any) -> None:
    sandbox.state.ebills.set_outage("down")
    with pytest.raises(IssuerUnavailable) as caught:
        issuer.issue(_request())
    assert caught.value.code == "SERVICE_UNAVAILABLE" and caught.value.http_status == 503
    # Over HTTP too (the dev page's switch).
    control = platform["EBILL_BASE_URL"] + "sandbox/ebills/outage"
    assert requests.post(control, json={"mode": "up"}, timeout=5).json() == {"mode": "up"}
    assert requests.post(control, json={"mode": "sideways"}, timeout=5).status_code == 400
    assert issuer.issue(_request()).bill_number == "0000000001"

    closed = make_ebill_issuer({**platform, "EBILL_BASE_URL": helpers.unreachable_url()})
    with pytest.raises(IssuerUnavailable) as caught:
        closed.issue(_request())
    assert caught.value.code == "UNAVAILABLE"


def test_settings_are_checked() -> None:
    base = {"EBILL_BASE_URL": "https://ebill.example.gov.cn/", "EBILL_APP_ID": "a",
            "EBILL_APP_SECRET": "s"}
    assert isinstance(make_ebill_issuer(base), HttpEBillIssuer)
    with pytest.raises(SettingsError, match="EBILL_BASE_URL"):
        make_ebill_issuer({**base, "EBILL_BASE_URL": ""})
    with pytest.raises(SettingsError, match="https"):
        make_ebill_issuer({**base, "APP_ENV": "production",
                           "EBILL_BASE_URL": "http://ebill.example.gov.cn/"})
    with pytest.raises(SettingsError, match="EBILL_APP_SECRET"):
        make_ebill_issuer({**base, "EBILL_APP_SECRET": ""})
    # Loopback over http is fine in production (a local proxy).
    assert make_ebill_issuer({**base, "APP_ENV": "production",
                              "EBILL_BASE_URL": "http://127.0.0.1:9000/"})


def test_the_credentials_are_threaded_like_the_other_sandbox_credentials(sandbox: Any) -> None:
    from app.kernel.settings import SANDBOX_CREDENTIAL_KEYS, generate_dev_secrets
    from sandbox.app import create_sandbox_app
    from sandbox.settings import REQUIRED_KEYS, SandboxSettingsError
    from sandbox.testing import sandbox_settings

    assert {"EBILL_APP_ID", "EBILL_APP_SECRET"} <= set(REQUIRED_KEYS)
    assert {"EBILL_APP_ID", "EBILL_APP_SECRET"} <= set(SANDBOX_CREDENTIAL_KEYS)
    generated = generate_dev_secrets()
    assert generated["EBILL_APP_ID"].startswith("eb") and len(generated["EBILL_APP_SECRET"]) == 48
    settings = sandbox_settings()
    del settings["EBILL_APP_SECRET"]
    with pytest.raises(SandboxSettingsError, match="EBILL_APP_SECRET"):
        create_sandbox_app(settings)
    config = platform_settings_for(sandbox)
    assert config["EBILL_BASE_URL"] == sandbox.url + "/"
    assert (config["EBILL_APP_ID"], config["EBILL_APP_SECRET"]) == (
        sandbox.settings["EBILL_APP_ID"], sandbox.settings["EBILL_APP_SECRET"])


def test_the_dev_page_lists_the_bills_with_their_check_links_and_the_outage_switch(
        issuer: HttpEBillIssuer, platform: dict[str, Any]) -> None:
    bill = issuer.issue(_request())
    page = requests.get(platform["EBILL_BASE_URL"], timeout=5).text
    assert "电子票据（1 张）" in page and bill.bill_number in page and "张*" in page
    assert f"check={bill.check_code}" in page and "模拟故障" in page
    answer = requests.post(platform["EBILL_BASE_URL"] + "sandbox/ebills/outage",
                           data={"from_page": "1", "mode": "down"}, allow_redirects=False,
                           timeout=5)
    assert answer.status_code == 303
    assert "恢复正常" in requests.get(platform["EBILL_BASE_URL"], timeout=5).text
