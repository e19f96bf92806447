"""The API docs page renders from local assets; the sandbox page shows the SMS sent."""

import pytest

pytestmark = pytest.mark.e2e


def test_the_api_docs_page_renders_without_any_outside_host(app, live_server, page, screenshot):
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.goto(f"{live_server}/api/docs")
    page.get_by_text("/api/auth/wechat").first.wait_for()
    assert "不动产登记自助服务平台 API" in page.locator("body").inner_text()
    screenshot("api-docs")
    assert outside == []


def test_a_login_code_shows_on_the_sandbox_page(app, client, live_server, sandbox, page,
                                                screenshot):
    assert client.post("/api/auth/sms/code", json={"phone": "13800000007"}).status_code == 202
    page.goto(sandbox.url + "/")
    text = page.locator("body").inner_text()
    assert "138" in text and "您的验证码为" in text
    screenshot("sandbox-sms")
