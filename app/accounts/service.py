"""Citizen login: from the mini-program (WeChat code) and from an SMS link (phone + code)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.accounts import otp
from app.accounts.models import Account
from app.accounts.tokens import TokenPair, start_session
from app.integrations.wechat import WeChatCodeInvalid, WeChatError, WeChatSession
from app.integrations.wechat import WeChatUnavailable as WeChatDown
from app.kernel import audit, validators
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import ValidationFailed, WeChatLoginFailed, WeChatUnavailable
from app.services import wechat_api


def _find_or_create(condition: Any, login: str, channel: str, **fields: Any) -> Account:
    account = db.session.scalar(select(Account).where(condition))
    if account is None:
        account = Account(**fields)
        db.session.add(account)
        db.session.flush()
        audit.record(
            actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
            action="account.created", entity_type="account", entity_id=account.id,
            after={"login": login},
        )
    return account


def account_for_wechat(session: WeChatSession, channel: str) -> Account:
    """The account of a WeChat user (by openid), created on first sight; keeps the session key."""
    account = _find_or_create(
        Account.wechat_openid == session.openid, "wechat", channel, wechat_openid=session.openid)
    if session.unionid:
        account.wechat_unionid = session.unionid
    account.wechat_session_key = session.session_key
    return account


def account_for_phone(e164: str, channel: str) -> Account:
    """The account of a phone number (by keyed hash), created on first sight."""
    ph = otp.phone_hash(e164)
    return _find_or_create(Account.phone_hash == ph, "sms", channel, phone=e164, phone_hash=ph)


def login_with_wechat(code: str) -> TokenPair:
    """wx.login code → code2session → the account bound to the openid (created if new)."""
    if not code or len(code) > 128:
        raise ValidationFailed({"code": ["缺少微信登录凭证"]})
    try:
        session = wechat_api().code_to_session(code)
    except WeChatCodeInvalid:
        raise WeChatLoginFailed() from None
    except WeChatDown:
        raise WeChatUnavailable() from None
    except WeChatError:
        raise WeChatLoginFailed() from None

    account = account_for_wechat(session, Channel.MINIPROGRAM)
    pair = start_session(account, Channel.MINIPROGRAM)
    db.session.commit()
    return pair


def normalise_phone(phone: str) -> str:
    try:
        return validators.mobile_phone(phone)
    except validators.InvalidValue as exc:
        raise ValidationFailed({"phone": [exc.message]}) from None


def send_login_code(phone: str, ip_hash: str | None = None) -> otp.CodeSent:
    return otp.request_code(normalise_phone(phone), ip_hash)


def login_with_sms_code(phone: str, code: str) -> TokenPair:
    """Phone + one-time code → the account bound to that phone (created if new)."""
    e164 = normalise_phone(phone)
    if not (code or "").isdigit() or len(code) != 6:
        raise ValidationFailed({"code": ["请输入6位数字验证码"]})
    otp.verify_code(e164, code)
    account = account_for_phone(e164, Channel.MOBILE_WEB)
    pair = start_session(account, Channel.MOBILE_WEB)
    db.session.commit()
    return pair


def profile(account: Account) -> dict[str, Any]:
    """The citizen's own profile: their own name in full, ID number and phone masked."""
    person = account.person
    return {
        "id": account.id,
        "channels": account.channels,
        "phone_masked": account.phone_masked or (person.phone_masked if person else None),
        "identity_verified": account.identity_verified,
        "person": None if person is None else {
            "kind": person.kind, "name": person.name,
            "id_number_masked": person.id_number_masked,
        },
    }
