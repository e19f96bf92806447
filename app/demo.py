"""Demo data for `make run`: citizens, companies, cases, and one staff account per role.

Loaded once (idempotent). Citizens' WeChat accounts are created through the WeChat API
client, so in development the openids come from the sandbox exactly as at login.
Staff passwords and TOTP secrets are generated here, printed once and written to
``var/demo-accounts.txt`` (mode 0600); nothing secret is committed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from stdnum.cn import ric, uscc

from app.accounts.models import Account
from app.accounts.service import account_for_phone, account_for_wechat
from app.audit import ActorType, Channel
from app.cases import service as cases
from app.cases.workflow import CaseStatus
from app.db import db
from app.people import service as people
from app.people.models import Person
from app.services import wechat_api
from app.staff.models import StaffRole, StaffUser

SYSTEM = {"actor_type": ActorType.SYSTEM, "actor_id": "demo", "channel": Channel.SYSTEM}
MARKER_USERNAME = "demo.supervisor"


def _id(base17: str) -> str:
    return base17 + ric.calc_check_digit(base17 + "0")


def _uscc(base17: str) -> str:
    return base17 + uscc.calc_check_digit(base17)


@dataclass(frozen=True)
class DemoCitizen:
    name: str
    id_number: str
    phone: str | None
    wechat_name: str | None  # the sandbox maps wx.login code "<name>.<anything>" to one openid


CITIZENS = [
    DemoCitizen("张三", _id("44040219880101001"), "13800000001", "zhangsan"),
    DemoCitizen("李四", _id("44040219900315002"), "13800000002", None),
    DemoCitizen("王𠮷", _id("44040219850620003"), None, "wangji"),
]
STAFF = [
    ("demo.supervisor", "陈主管", [StaffRole.SUPERVISOR]),
    ("demo.registration", "周登记", [StaffRole.REGISTRATION_REVIEWER]),
    ("demo.housing", "吴住建", [StaffRole.HOUSING_REVIEWER]),
    ("demo.tax", "郑税务", [StaffRole.TAX_REVIEWER]),
    ("demo.helpdesk", "孙服务", [StaffRole.HELPDESK]),
    ("demo.auditor", "冯审计", [StaffRole.AUDITOR]),
]


def _wechat_account(name: str) -> Account:
    session = wechat_api().code_to_session(f"{name}.demo-{secrets.token_hex(4)}")
    return account_for_wechat(session, Channel.SYSTEM)


def _advance(case: object, *targets: CaseStatus) -> None:
    for target in targets:
        cases.transition(case, target, reason="演示数据", **SYSTEM)  # type: ignore[arg-type]


def already_loaded() -> bool:
    marker = select(StaffUser).where(StaffUser.username == MARKER_USERNAME)
    return db.session.scalar(marker) is not None


def load_demo(instance_dir: Path, prefix: str) -> list[str]:
    """Create the demo data; return the lines to print (credentials included)."""
    from app.staff.service import create_staff

    cases.load_business_types()
    persons: dict[str, Person] = {}
    accounts: dict[str, Account] = {}
    for citizen in CITIZENS:
        logins = []
        if citizen.phone:
            logins.append(account_for_phone(_e164(citizen.phone), Channel.SYSTEM))
        if citizen.wechat_name:
            logins.append(_wechat_account(citizen.wechat_name))
        for account in logins:
            person = people.bind_verified_identity(
                account, citizen.name, citizen.id_number, method="demo", channel=Channel.SYSTEM
            )
            persons[citizen.name] = person
            accounts.setdefault(citizen.name, account)
    developer = people.register_legal_person(
        "珠海市示范房地产开发有限公司", _uscc("91440400MA4U12345"))
    bank = people.register_legal_person("示范银行股份有限公司珠海分行", _uscc("91440400MA4U67890"))
    db.session.commit()

    zhang, li, wang = persons["张三"], persons["李四"], persons["王𠮷"]
    resale = cases.create_draft(
        accounts["张三"], "resale_transfer", channel=Channel.MINIPROGRAM, prefix=prefix,
        unit_number="440402003001GB00012F00010203", location="珠海市香洲区示范路1号1栋203房",
    )
    cases.add_applicant(resale, zhang, "buyer", "1/1")
    cases.add_applicant(resale, li, "seller", "1/1")
    db.session.commit()
    _advance(resale, CaseStatus.SUBMITTED, CaseStatus.ACCEPTED)

    new_home = cases.create_draft(
        accounts["张三"], "new_home_transfer", channel=Channel.MINIPROGRAM, prefix=prefix,
        unit_number="440402003002GB00345F00021502", location="珠海市香洲区新城大道88号2栋1502房",
    )
    cases.add_applicant(new_home, zhang, "buyer", "1/1")
    cases.add_applicant(new_home, developer, "seller")
    db.session.commit()
    _advance(new_home, CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.FEES_ASSESSED)

    mortgage = cases.create_draft(
        accounts["王𠮷"], "mortgage_first", channel=Channel.MINIPROGRAM, prefix=prefix,
        unit_number="440402003003GB00678F00030801", location="珠海市香洲区海滨路6号3栋801房",
    )
    cases.add_applicant(mortgage, wang, "mortgagor")
    cases.add_applicant(mortgage, bank, "mortgagee")
    db.session.commit()
    _advance(mortgage, CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.FEES_ASSESSED,
             CaseStatus.REGISTERED)

    draft = cases.create_draft(
        accounts["李四"], "change", channel=Channel.MOBILE_WEB, prefix=prefix)
    cases.add_applicant(draft, li, "owner", "1/1")
    db.session.commit()

    lines = ["演示市民（短信验证码在沙箱页面查看）："]
    for citizen in CITIZENS:
        ways = []
        if citizen.wechat_name:
            ways.append(f"小程序 wx.login code「{citizen.wechat_name}.1」（每个 code 只能用一次）")
        if citizen.phone:
            ways.append(f"短信登录 {citizen.phone}")
        lines.append(f"  {citizen.name}：" + "；".join(ways))
    lines.append("演示工作人员（用户名 / 密码 / TOTP 密钥）：")
    for username, display_name, roles in STAFF:
        created = create_staff(username, display_name, roles, actor_id="demo", channel="cli")
        lines.append(
            f"  {username:<18} {created.password}  TOTP {created.totp_secret}  "
            f"（{'、'.join(r.label for r in roles)}）"
        )
    _write_credentials(instance_dir, lines)
    return lines


def _e164(national: str) -> str:
    return "+86" + national


def _write_credentials(instance_dir: Path, lines: list[str]) -> None:
    path = instance_dir / "demo-accounts.txt"
    instance_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


__all__ = ["already_loaded", "load_demo"]
