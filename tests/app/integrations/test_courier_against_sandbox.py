"""The SF Express client (SfExpressCourier) against the sandbox's 丰桥 API: the digest,
one parcel per order id, the route, refusals and outages, the settings."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app.integrations.courier import (
    Contact,
    CourierError,
    CourierUnavailable,
    Parcel,
    SfExpressCourier,
    make_courier,
    msg_digest,
)
from app.kernel.settings import SettingsError
from sandbox.testing import platform_settings_for


@pytest.fixture
def platform(sandbox: Any) -> Iterator[dict[str, Any]]:
    sandbox.reset()
    yield platform_settings_for(sandbox)
    sandbox.reset()


@pytest.fixture
def courier(platform: dict[str, Any]) -> Iterator[SfExpressCourier]:
    client = make_courier(platform)
    assert isinstance(client, SfExpressCourier)
    yield client
    client.close()


def _parcel(order_id: str = "ZH2026112400001-0") -> Parcel:
    return Parcel(order_id=order_id,
                  sender=Contact("珠海市不动产登记中心", "0756-2222222", "人民东路 1 号"),
                  recipient=Contact("张三", "+8613800000001", "珠海市香洲区海滨南路 8 号"),
                  contents=["不动产权证书 粤(2026)珠海市不动产权第0000001号"], sign_code="20261124")


def test_one_parcel_per_order_id_and_its_route(courier: SfExpressCourier, sandbox: Any) -> None:
    waybill = courier.create_order(_parcel())
    assert waybill.startswith("SF") and len(waybill) == 15
    # A retry after a lost answer: SF refuses 8016 重复下单, the client asks for the waybill.
    assert courier.create_order(_parcel()) == waybill
    [parcel] = sandbox.state.courier.parcels()
    assert parcel["recipient"] == "张*" and parcel["state"] == "created"
    assert courier.routes(waybill) == []

    sandbox.state.courier.advance(waybill, "pickup")
    sandbox.state.courier.advance(waybill, "deliver", "20261124")
    route = courier.routes(waybill)
    assert [(e.op_code, e.remark) for e in route] == [
        ("50", "顺丰速运 已收取快件"), ("80", "已签收，收件人出示签收码后签收")]
    assert route[0].at.tzinfo is not None and route[0].at <= route[1].at
    with pytest.raises(ValueError, match="already delivered"):
        sandbox.state.courier.advance(waybill, "return")


def test_a_wrong_checkword_or_partner_is_refused(platform: dict[str, Any]) -> None:
    forged = make_courier({**platform, "COURIER_CHECKWORD": "0" * 32})
    with pytest.raises(CourierError) as refused:
        forged.create_order(_parcel())
    assert refused.value.code == "A1006" and not isinstance(refused.value, CourierUnavailable)
    stranger = make_courier({**platform, "COURIER_PARTNER_ID": "NOBODY"})
    with pytest.raises(CourierError) as unknown:
        stranger.routes("SF0000000000000")
    assert unknown.value.code == "A1004"


def test_a_stale_timestamp_and_a_bad_request_are_refused(
        platform: dict[str, Any], sandbox: Any) -> None:
    old = SfExpressCourier(platform["COURIER_BASE_URL"], platform["COURIER_PARTNER_ID"],
                           platform["COURIER_CHECKWORD"], clock=lambda: time.time() - 3600)
    with pytest.raises(CourierError) as stale:
        old.routes("SF0000000000000")
    assert stale.value.code == "A1003"
    # Signed correctly, but no recipient: a business error inside apiResultData.
    data = json.dumps({"orderId": "X1", "contactInfoList": [], "cargoDetails": [{"name": "证"}]})
    stamp = str(int(time.time()))
    answer = requests.post(platform["COURIER_BASE_URL"] + "std/service", data={
        "partnerID": platform["COURIER_PARTNER_ID"], "requestID": "r1",
        "serviceCode": "EXP_RECE_CREATE_ORDER", "timestamp": stamp, "msgData": data,
        "msgDigest": msg_digest(data, stamp, platform["COURIER_CHECKWORD"])}, timeout=5).json()
    inner = json.loads(answer["apiResultData"])
    assert answer["apiResultCode"] == "A1000"
    assert (inner["success"], inner["errorCode"]) == (False, "1010")
    assert sandbox.state.courier.parcels() == []


def test_an_outage_is_unavailable_not_a_refusal(
        courier: SfExpressCourier, sandbox: Any) -> None:
    sandbox.state.courier.set_outage("down")
    with pytest.raises(CourierUnavailable):
        courier.create_order(_parcel())
    sandbox.state.courier.set_outage("up")
    assert courier.create_order(_parcel()).startswith("SF")
    unreachable = SfExpressCourier("http://127.0.0.1:9/", "P", "C", timeout=0.5)
    with pytest.raises(CourierUnavailable):
        unreachable.routes("SF0000000000000")


def test_settings_are_checked(platform: dict[str, Any]) -> None:
    with pytest.raises(SettingsError, match="COURIER_BASE_URL"):
        make_courier({**platform, "COURIER_BASE_URL": ""})
    with pytest.raises(SettingsError, match="https"):
        make_courier({**platform, "APP_ENV": "production",
                      "COURIER_BASE_URL": "http://courier.example.com/"})
    with pytest.raises(SettingsError, match="COURIER_CHECKWORD"):
        make_courier({**platform, "COURIER_CHECKWORD": ""})
