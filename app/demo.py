"""Demo data for `make run`: citizens, companies, cases, and one staff account per role.

Loaded once (idempotent). Citizens' WeChat accounts are created through the WeChat API
client, so in development the openids come from the sandbox exactly as at login.
Staff passwords and TOTP secrets are generated here, printed once and written to
``var/demo-accounts.txt`` (mode 0600); nothing secret is committed.
"""

from __future__ import annotations

import io
import itertools
import os
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from stdnum.cn import ric, uscc

from app.accounts.models import Account
from app.accounts.service import account_for_phone, account_for_wechat
from app.cases import application
from app.cases import service as cases
from app.identity import claims
from app.institutions.service import create_institution
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.materials import service as materials
from app.people import service as people
from app.people.models import Person
from app.register import service as register
from app.services import wechat_api
from app.staff.models import StaffRole, StaffUser
from app.staff.service import create_staff
from app.usecases import submission

SYSTEM = {"actor_type": ActorType.SYSTEM, "actor_id": "demo", "channel": Channel.SYSTEM}
MARKER_USERNAME = "demo.supervisor"
DEMO_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


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
    DemoCitizen("赵六", _id("44040219920808004"), "13800000004", None),  # a bank's clerk
]
WALKTHROUGH_UNIT = "440402003001GB00012F00010203"  # README: file a resale transfer by hand
RESALE_UNIT = "440402003005GB00222F00050506"
MORTGAGE_UNIT = "440402003003GB00678F00030801"
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


def _legacy_entry(unit_number: str, location: str, owner: Person) -> None:
    unit = cases.get_or_create_unit(unit_number, location, Decimal("89.50"), "住宅")
    if register.current_entry(unit.id) is None:
        register.import_entry(unit, register.RightDetails(
            right_type="国有建设用地使用权/房屋所有权", right_nature="存量商品房", use="住宅",
            area_m2=Decimal("89.50"), term_end=date(2078, 3, 31)),
            [register.OwnerShare(person_id=owner.id, share="1/1")], source="demo")


def _scan(label: str, shade: int) -> bytes:
    """A sample "scan": a page with its label (distinct bytes for each)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (640, 420), (250, 250, 245 - shade % 40))
    draw = ImageDraw.Draw(image)
    try:
        font: Any = ImageFont.truetype(DEMO_FONT, 34)
    except OSError:
        font = ImageFont.load_default()
    draw.rectangle((20, 20, 619, 399), outline=(120, 120, 120), width=3)
    draw.text((50, 60), "演示材料（非真实证件）", fill=(200, 30, 30), font=font)
    draw.text((50, 180), label, fill=(20, 20, 20), font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


_shades = itertools.count()


def _file_case(account: Account, business_type: str, prefix: str,
               form_data: dict[str, dict[str, Any]],
               parties: list[application.NewApplicant]) -> str:

    case = cases.create_draft(account, business_type, channel=Channel.MINIPROGRAM,
                              prefix=prefix)
    number = case.case_number
    for section, data in form_data.items():
        application.save_section(account, number, section, data, Channel.MINIPROGRAM)
    for party in parties:
        application.add_applicant(account, number, party, Channel.MINIPROGRAM)
    case = cases.get_case_for(account, number)
    for entry in materials.checklist(case):
        if entry.required and not entry.present:
            materials.upload(
                account, number, item=entry.item, role=entry.role,
                filename=f"{entry.item}-{entry.role}.png",
                stream=io.BytesIO(_scan(f"{entry.name}（{entry.role_label}）", next(_shades))),
                channel=Channel.MINIPROGRAM)
    return number


def _confirm_and_submit(number: str, accounts_in_order: list[Account]) -> None:
    for account in accounts_in_order:
        assert account.person_id is not None
        claim = claims.issue(account.id, account.person_id, "demo")
        application.confirm(account, claim, number, Channel.MINIPROGRAM)
    submission.submit(accounts_in_order[0], number, Channel.MINIPROGRAM)


def _write_sample_scans(instance_dir: Path) -> Path:
    """Sample pages a newcomer can upload through the docs page (README walk-through)."""
    folder = instance_dir / "demo-scans"
    folder.mkdir(parents=True, exist_ok=True)
    labels = ["身份证明-买受人", "身份证明-出卖人", "婚姻状况证明-买受人", "婚姻状况证明-出卖人",
              "不动产权证书-出卖人", "买卖合同-买受人", "买卖合同-出卖人"]
    for index, label in enumerate(labels, start=1):
        (folder / f"{index}-{label}.png").write_bytes(_scan(label, 100 + index))
    return folder


def already_loaded() -> bool:
    marker = select(StaffUser).where(StaffUser.username == MARKER_USERNAME)
    return db.session.scalar(marker) is not None


def load_demo(instance_dir: Path, prefix: str) -> list[str]:
    """Create the demo data; return the lines to print (credentials included)."""

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
    zhao = persons["赵六"]
    # The register before the platform (migrated): 李四 owns two flats, 王𠮷 one.
    for unit_number, location, owner in [
        (WALKTHROUGH_UNIT, "珠海市香洲区示范路1号1栋203房", li),
        (RESALE_UNIT, "珠海市香洲区示范路5号5栋506房", li),
        (MORTGAGE_UNIT, "珠海市香洲区海滨路6号3栋801房", wang),
    ]:
        _legacy_entry(unit_number, location, owner)
    db.session.commit()

    # A resale transfer 张三 ← 李四, filed, confirmed and submitted: in three queues.
    resale = _file_case(
        accounts["张三"], "resale_transfer", prefix, {
            "unit": {"unit_number": RESALE_UNIT, "location": "珠海市香洲区示范路5号5栋506房",
                     "area_m2": "96.30", "use": "住宅", "land_term_end": "2078-03-31"},
            "transaction": {"contract_number": "ZH-CL-2026-0518", "contract_date": "2026-11-02",
                            "price_fen": 268000000, "payment_method": "商业贷款"},
            "tax_declaration": {"buyer_first_home": "yes",
                                "seller_only_home_over_5_years": "no"},
            "certificate_delivery": {"form": "electronic"},
        }, [
            application.NewApplicant("buyer", "natural", "张三", zhang.id_number or "", "1/1"),
            application.NewApplicant("seller", "natural", "李四", li.id_number or ""),
        ])
    _confirm_and_submit(resale, [accounts["张三"], accounts["李四"]])

    # A first mortgage 王𠮷 → the bank, whose clerk 赵六 confirms for it.
    mortgage = _file_case(
        accounts["王𠮷"], "mortgage_first", prefix, {
            "unit": {"unit_number": MORTGAGE_UNIT, "location": "珠海市香洲区海滨路6号3栋801房",
                     "area_m2": "89.50", "use": "住宅"},
            "mortgage": {"mortgage_kind": "一般抵押", "secured_amount_fen": 120000000,
                         "debt_start": "2026-12-01", "debt_end": "2056-11-30",
                         "contract_number": "DY-2026-88"},
            "certificate_delivery": {"form": "electronic"},
        }, [
            application.NewApplicant("mortgagor", "natural", "王𠮷", wang.id_number or ""),
            application.NewApplicant("mortgagee", "legal", bank.name or "", bank.uscc or "",
                                     representative_name="赵六",
                                     representative_id_number=zhao.id_number or ""),
        ])
    _confirm_and_submit(mortgage, [accounts["王𠮷"], accounts["赵六"]])

    draft = cases.create_draft(
        accounts["李四"], "change", channel=Channel.MOBILE_WEB, prefix=prefix)
    cases.add_applicant(draft, li, "owner", "1/1")
    db.session.commit()
    del developer  # registered for new-home cases filed by hand
    scans = _write_sample_scans(instance_dir)

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

    _bank, key_id, secret = create_institution(
        "示范银行股份有限公司珠海分行", "bank", None,
        ["certificates:verify", "certificates:read"], "60 per minute")
    lines.append("演示机构接口凭证（签名方法见 docs/institutions.md）：")
    lines.append(f"  示范银行股份有限公司珠海分行  key id {key_id}  secret {secret}")
    lines.append(f"演示材料图片（可在 API 文档页上传）：{scans}")
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
