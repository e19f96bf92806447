"""Everything the sandbox remembers, in memory, behind one lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from sandbox.alipay import AlipaySandbox
from sandbox.courier import CourierSandbox
from sandbox.datasharing import DataSharingSandbox
from sandbox.ebills import EBillSandbox
from sandbox.registry import RegistrySandbox
from sandbox.tencent_sms import SmsSandbox
from sandbox.wechat_api import WeChatSandbox, openid_for, unionid_for
from sandbox.wechat_face import FaceVerifySandbox
from sandbox.wechatpay import WeChatPaySandbox


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
        self.face = FaceVerifySandbox(clock, self.lock)
        self.registry = RegistrySandbox(
            settings["REGISTRY_APP_KEY"], settings["REGISTRY_APP_SECRET"], clock, self.lock
        )
        # The other services of the same data-sharing platform: the registry's gateway
        # check (one nonce memory) and one outage switch for all four services.
        self.datasharing = DataSharingSandbox(self.registry.verifier, clock, self.lock)
        self.registry.outage = partial(self.datasharing.outages.hold, "population")
        # WeChat Pay v2 for the merchant WECHATPAY_MCH_ID (API key WECHATPAY_API_KEY), the
        # mini-program WECHAT_APPID bound to it; unconfigured without those two settings.
        self.wechatpay = WeChatPaySandbox.from_settings(settings, clock, self.lock)
        # Alipay: one app of one merchant. It has its own lock and never holds it while
        # delivering over HTTP.
        self.alipay = AlipaySandbox.from_settings(settings, clock=clock)
        # The fiscal e-bill platform for EBILL_APP_ID / EBILL_APP_SECRET.
        self.ebills = EBillSandbox(
            settings["EBILL_APP_ID"], settings["EBILL_APP_SECRET"], clock, self.lock
        )
        # SF Express's open platform for COURIER_PARTNER_ID / COURIER_CHECKWORD.
        self.courier = CourierSandbox(
            settings["COURIER_PARTNER_ID"], settings["COURIER_CHECKWORD"], clock, self.lock
        )

    def reset(self) -> None:
        """Forget messages, links, used login codes, access tokens, face verification
        sessions, registry nonces and checks, persons and data-sharing records added by
        tests, WeChat Pay orders, refunds and notifications (pending ones are not sent),
        e-bills issued, courier parcels; every data-sharing service (the registry
        included), the e-bill platform and the courier are up again."""
        with self.lock:
            self.wechat.reset()
            self.sms.reset()
            self.face.reset()
            self.registry.reset()
            self.datasharing.reset()
            self.wechatpay.reset()
            self.alipay.reset()
            self.ebills.reset()
            self.courier.reset()

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

    def face_sessions(self) -> list[dict[str, Any]]:
        """Face verification sessions, oldest first: verify_id, out_seq_no, openid,
        cert_name and cert_no (masked), cert_hash, verify_ret, status, created_at,
        expires_at, finished_at."""
        return self.face.sessions()

    def complete_face(self, verify_id: str, verify_ret: int = 10000) -> dict[str, Any]:
        """The citizen finishes ``wx.requestFacialVerify`` with this result (10000: passed);
        :class:`sandbox.wechat_face.FaceControlError` if the session cannot finish."""
        return self.face.complete(verify_id, verify_ret)

    def add_person(
        self, name: str, id_number: str, photo: bytes | None = None, status: str = "NORMAL"
    ) -> None:
        """A person in the population registry until the next reset (NORMAL, DECEASED or
        CANCELLED; ``photo`` is the reference photo, JPEG or PNG bytes)."""
        self.registry.add_person(name, id_number, photo, status)

    def registry_persons(self) -> list[dict[str, Any]]:
        """Registry persons, masked: name, id_number, status, has_photo."""
        return self.registry.persons()

    def registry_checks(self) -> list[dict[str, Any]]:
        """Identity checks answered, oldest first, masked: name, id_number, want_photo,
        match, status, photo_returned, request_id, at."""
        return self.registry.checks()
