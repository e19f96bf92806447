"""Everything the sandbox remembers, in memory, behind one lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.tencent_sms import SmsSandbox
from sandbox.wechat_api import WeChatSandbox, openid_for, unionid_for


class SandboxState:
    """The emulated services and what they have received.

    Lists are in the order things arrived (oldest first); each item is a copy.
    """

    def __init__(self, settings: Mapping[str, Any], clock: Callable[[], float] = time.time):
        self.lock = threading.RLock()
        self.clock = clock
        self.wechat = WeChatSandbox(
            settings["WECHAT_APPID"], settings["WECHAT_SECRET"], clock, self.lock
        )
        self.sms = SmsSandbox(
            secret_id=settings["TENCENT_SMS_SECRET_ID"],
            secret_key=settings["TENCENT_SMS_SECRET_KEY"],
            sdk_app_id=settings["TENCENT_SMS_SDK_APP_ID"],
            template_ids=settings["SMS_TEMPLATE_IDS"],
            clock=clock,
            lock=self.lock,
        )

    def reset(self) -> None:
        """Forget messages, links, used login codes and access tokens."""
        with self.lock:
            self.wechat.reset()
            self.sms.reset()

    def sms_messages(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Delivered SMS: phone, template_id, template, params, sign_name, text, serial_no, at."""
        return self.sms.messages(phone)

    def latest_sms(self, phone: str) -> dict[str, Any] | None:
        messages = self.sms.messages(phone)
        return messages[-1] if messages else None

    def wechat_messages(self, touser: str | None = None) -> list[dict[str, Any]]:
        """Subscribe messages: touser, template_id, page, data, msgid, at."""
        return self.wechat.messages(touser)

    def url_links(self) -> list[dict[str, Any]]:
        """URL Links: url_link, path, query, env_version, expires_at, at."""
        return self.wechat.url_links()

    def openid_for(self, name: str) -> str:
        """The openid that the login code ``name`` yields for the configured appid."""
        return openid_for(self.wechat.appid, name)

    def unionid_for(self, name: str) -> str:
        return unionid_for(name)
