"""A sandbox served on 127.0.0.1 for the whole session, emptied before each test,
and the platform's real WeChat, SMS and population registry clients pointed at it
(tests/app/integrations uses them too); the WeChat Pay sandbox of tests/payments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.integrations.registry import HttpPopulationRegistry, make_population_registry
from app.integrations.sms import TencentCloudSms, make_sms_sender
from app.integrations.wechat import WechatpyApi, make_wechat_api
from sandbox.testing import RunningSandbox, platform_settings_for, sandbox_settings, start_sandbox
from tests import helpers
from tests.helpers import FakeUpstream
from tests.payments.conftest import (  # noqa: F401 - the sandbox's WeChat Pay tests
    fake_wechat,
    wechatpay,
    wx_clock,
    wx_delivered,
    wx_gateway,
    wx_hmac_gateway,
    wx_openid,
    wx_order,
    wx_paid,
    wx_receiver,
    wx_results,
    wx_running_sandbox,
    wx_sandbox,
    wx_unreachable_url,
)


@pytest.fixture(scope="session")
def running_sandbox() -> Iterator[RunningSandbox]:
    running = start_sandbox(sandbox_settings())
    yield running
    running.stop()


@pytest.fixture
def sandbox(running_sandbox: RunningSandbox) -> RunningSandbox:
    running_sandbox.reset()
    return running_sandbox


@pytest.fixture
def platform_config(sandbox: RunningSandbox) -> dict[str, Any]:
    return platform_settings_for(sandbox)


@pytest.fixture
def wechat(platform_config: dict[str, Any]) -> Iterator[WechatpyApi]:
    api = make_wechat_api(platform_config)
    assert isinstance(api, WechatpyApi)
    yield api
    api.close()


@pytest.fixture
def sms(platform_config: dict[str, Any]) -> Iterator[TencentCloudSms]:
    sender = make_sms_sender(platform_config)
    assert isinstance(sender, TencentCloudSms)
    yield sender
    sender.close()


@pytest.fixture
def registry(platform_config: dict[str, Any]) -> Iterator[HttpPopulationRegistry]:
    client = make_population_registry(platform_config)
    assert isinstance(client, HttpPopulationRegistry)
    yield client
    client.close()


@pytest.fixture
def unreachable_url() -> str:
    return helpers.unreachable_url()


@pytest.fixture
def broken_server() -> Iterator[FakeUpstream]:
    """An upstream answering HTTP 500; ``mode = "slow"`` makes it wait first."""
    server = FakeUpstream("error")
    yield server
    server.stop()
