"""The WeChat client (wechatpy underneath) against the sandbox's WeChat API."""

from __future__ import annotations

import base64

import pytest

from app.integrations.wechat import (
    WeChatCodeInvalid,
    WeChatError,
    WechatpyApi,
    WeChatUnavailable,
    make_wechat_api,
)
from sandbox.testing import RunningSandbox, platform_settings_for, sandbox_settings, start_sandbox


def test_the_same_name_logs_in_as_the_same_user_with_every_new_code(
    wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    first = wechat.code_to_session("alice")
    second = wechat.code_to_session("alice.from-another-wx-login")

    assert first.openid == second.openid == sandbox.state.openid_for("alice")
    assert first.unionid == second.unionid == sandbox.state.unionid_for("alice")
    assert first.session_key != second.session_key


def test_openids_and_unionids_look_like_real_ones(wechat: WechatpyApi) -> None:
    session = wechat.code_to_session("alice")

    assert len(session.openid) == 28 and session.openid.startswith("o")
    assert session.unionid is not None and len(session.unionid) == 28
    assert len(base64.b64decode(session.session_key)) == 16


def test_different_names_are_different_users(wechat: WechatpyApi) -> None:
    alice = wechat.code_to_session("alice")
    bob = wechat.code_to_session("bob")

    assert alice.openid != bob.openid
    assert alice.unionid != bob.unionid


def test_the_openid_depends_on_the_mini_program_but_the_unionid_does_not(
    wechat: WechatpyApi,
) -> None:
    with start_sandbox(sandbox_settings()) as other_program:
        other = make_wechat_api(platform_settings_for(other_program))
        in_other_program = other.code_to_session("alice")
        other.close()  # type: ignore[attr-defined]

    here = wechat.code_to_session("alice")
    assert here.openid != in_other_program.openid
    assert here.unionid == in_other_program.unionid


def test_a_login_code_can_be_used_only_once(wechat: WechatpyApi) -> None:
    wechat.code_to_session("alice.1")

    with pytest.raises(WeChatCodeInvalid) as caught:
        wechat.code_to_session("alice.1")
    assert caught.value.errcode == 40163


def test_a_code_starting_with_invalid_is_rejected(wechat: WechatpyApi) -> None:
    with pytest.raises(WeChatCodeInvalid) as caught:
        wechat.code_to_session("invalid-code")
    assert caught.value.errcode == 40029


def test_a_user_of_an_unbound_mini_program_has_no_unionid(wechat: WechatpyApi) -> None:
    assert wechat.code_to_session("nounionid-carol").unionid is None


def test_a_busy_wechat_is_reported_as_unavailable(wechat: WechatpyApi) -> None:
    with pytest.raises(WeChatUnavailable) as caught:
        wechat.code_to_session("busy")
    assert caught.value.errcode == -1


def test_a_wrong_app_secret_is_refused_and_is_not_a_code_problem(
    sandbox: RunningSandbox,
) -> None:
    config = dict(platform_settings_for(sandbox), WECHAT_SECRET="0" * 32)
    api = make_wechat_api(config)

    with pytest.raises(WeChatError) as caught:
        api.code_to_session("alice")
    assert caught.value.errcode == 40125
    assert not isinstance(caught.value, WeChatCodeInvalid)


def test_a_wrong_appid_is_refused(sandbox: RunningSandbox) -> None:
    api = make_wechat_api(dict(platform_settings_for(sandbox), WECHAT_APPID="wx0000000000000000"))

    with pytest.raises(WeChatError) as caught:
        api.send_subscribe_message("o" * 28, "TEMPLATE", {"thing1": {"value": "x"}})
    assert caught.value.errcode == 40013


def test_a_subscribe_message_is_recorded_for_the_user(
    wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    openid = wechat.code_to_session("alice").openid
    data = {"thing1": {"value": "二手房转移登记"}, "phrase2": {"value": "待缴费"}}

    msgid = wechat.send_subscribe_message(openid, "TPL-FEES", data, page="pages/case/detail?id=7")

    [message] = sandbox.state.wechat_messages(touser=openid)
    assert msgid == str(message["msgid"])
    assert message["template_id"] == "TPL-FEES"
    assert message["page"] == "pages/case/detail?id=7"
    assert message["data"] == data


def test_a_subscribe_message_to_a_user_who_refused_them_fails(wechat: WechatpyApi) -> None:
    openid = wechat.code_to_session("refused").openid

    with pytest.raises(WeChatError) as caught:
        wechat.send_subscribe_message(openid, "TPL", {"thing1": {"value": "x"}})
    assert caught.value.errcode == 43101


def test_subscribe_message_data_must_be_values(wechat: WechatpyApi) -> None:
    with pytest.raises(WeChatError) as caught:
        wechat.send_subscribe_message("o" * 28, "TPL", {"thing1": "not wrapped in value"})
    assert caught.value.errcode == 47003


def test_a_url_link_is_generated_and_recorded(wechat: WechatpyApi, sandbox: RunningSandbox) -> None:
    url_link = wechat.generate_url_link("pages/case/detail", "id=7&from=sms", expire_days=7)

    assert url_link.startswith("https://wxaurl.cn/")
    [link] = sandbox.state.url_links()
    assert link["url_link"] == url_link
    assert (link["path"], link["query"]) == ("pages/case/detail", "id=7&from=sms")
    assert (link["expires_at"] - link["at"]).days == 7


def test_url_links_live_at_most_thirty_days(wechat: WechatpyApi) -> None:
    with pytest.raises(ValueError):
        wechat.generate_url_link("pages/index", "", expire_days=31)


def test_the_access_token_is_fetched_once_and_reused(
    wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    wechat.send_subscribe_message("o" * 28, "TPL", {"thing1": {"value": "1"}})
    wechat.generate_url_link("pages/index", "", expire_days=1)
    wechat.send_subscribe_message("o" * 28, "TPL", {"thing1": {"value": "2"}})

    assert sandbox.state.wechat.tokens_issued == 1


def test_an_access_token_wechat_no_longer_knows_is_fetched_again(
    wechat: WechatpyApi, sandbox: RunningSandbox
) -> None:
    wechat.send_subscribe_message("o" * 28, "TPL", {"thing1": {"value": "1"}})
    sandbox.reset()  # forgets every token, as when another process fetched a new one

    wechat.send_subscribe_message("o" * 28, "TPL", {"thing1": {"value": "2"}})

    assert len(sandbox.state.wechat_messages()) == 1


def test_an_unreachable_wechat_raises_unavailable(unreachable_url: str) -> None:
    api = WechatpyApi("wx0123456789abcdef", "secret", api_base=unreachable_url)

    with pytest.raises(WeChatUnavailable):
        api.code_to_session("alice")


def test_a_wechat_server_error_raises_unavailable(broken_server) -> None:  # type: ignore[no-untyped-def]
    api = WechatpyApi("wx0123456789abcdef", "secret", api_base=broken_server.url)

    with pytest.raises(WeChatUnavailable):
        api.send_subscribe_message("o" * 28, "TPL", {"thing1": {"value": "x"}})


def test_a_wechat_that_does_not_answer_in_time_raises_unavailable(broken_server) -> None:  # type: ignore[no-untyped-def]
    broken_server.mode = "slow"
    api = WechatpyApi("wx0123456789abcdef", "secret", api_base=broken_server.url, timeout=0.2)

    with pytest.raises(WeChatUnavailable):
        api.code_to_session("alice")


def test_in_production_the_client_talks_to_the_real_host() -> None:
    api = make_wechat_api({"WECHAT_APPID": "wx0123456789abcdef", "WECHAT_SECRET": "s"})
    assert isinstance(api, WechatpyApi)

    assert api.client.rebase("https://api.weixin.qq.com/cgi-bin/token") == (
        "https://api.weixin.qq.com/cgi-bin/token"
    )


def test_the_base_url_replaces_the_real_host_everywhere() -> None:
    api = WechatpyApi("wx0123456789abcdef", "s", api_base="http://127.0.0.1:8001")

    assert api.client.rebase("https://api.weixin.qq.com/sns/jscode2session") == (
        "http://127.0.0.1:8001/sns/jscode2session"
    )
