"""Validators for identifiers: resident ID, unified social credit code, phone, unit number.

Each returns the normalised value or raises ``InvalidValue`` with a reason code and
a Chinese message. They do no I/O and know nothing of HTTP.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)


class InvalidValue(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def resident_id_number(value: str, today: date | None = None) -> str:
    """18-character resident ID: digits, check digit (MOD 11-2), real birth date and place."""
    number = re.sub(r"\s", "", value or "").upper()
    try:
        ric.validate(number)
    except InvalidLength:
        raise InvalidValue("ID_NUMBER_LENGTH", "身份证号码应为18位") from None
    except InvalidFormat:
        raise InvalidValue("ID_NUMBER_FORMAT", "身份证号码格式不正确") from None
    except InvalidChecksum:
        raise InvalidValue("ID_NUMBER_CHECKSUM", "身份证号码校验位不正确") from None
    except InvalidComponent:
        # Birth date that does not exist, or an unknown region code.
        raise InvalidValue(
            "ID_NUMBER_COMPONENT", "身份证号码中的出生日期或地区代码不正确") from None
    except ValidationError:
        raise InvalidValue("ID_NUMBER_FORMAT", "身份证号码格式不正确") from None
    if ric.get_birth_date(number) > (today or date.today()):
        raise InvalidValue("ID_NUMBER_COMPONENT", "身份证号码中的出生日期不正确")
    return number


def unified_social_credit_code(value: str) -> str:
    code = re.sub(r"\s", "", value or "").upper()
    try:
        uscc.validate(code)
    except InvalidLength:
        raise InvalidValue("USCC_LENGTH", "统一社会信用代码应为18位") from None
    except InvalidChecksum:
        raise InvalidValue("USCC_CHECKSUM", "统一社会信用代码校验位不正确") from None
    except ValidationError:
        raise InvalidValue("USCC_FORMAT", "统一社会信用代码格式不正确") from None
    return code


def mobile_phone(value: str) -> str:
    """A mainland China mobile number, returned in E.164 (+8613800000000)."""
    try:
        parsed = phonenumbers.parse(value or "", "CN")
    except phonenumbers.NumberParseException:
        raise InvalidValue("PHONE_FORMAT", "手机号码格式不正确") from None
    kind = phonenumbers.number_type(parsed)
    mobile_kinds = (phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if (
        parsed.country_code != 86
        or not phonenumbers.is_valid_number(parsed)
        or kind not in mobile_kinds
    ):
        raise InvalidValue("PHONE_FORMAT", "请输入有效的中国大陆手机号码")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def person_name(value: str) -> str:
    """A person's name as written on the ID card, rare characters (e.g. 𠮷) kept intact."""
    name = unicodedata.normalize("NFC", (value or "").strip())
    if not name:
        raise InvalidValue("NAME_REQUIRED", "请填写姓名")
    if len(name) > 50:
        raise InvalidValue("NAME_LENGTH", "姓名过长")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidValue("NAME_FORMAT", "姓名包含无效字符")
    return name


_UNIT_NUMBER = re.compile(
    r"^(?P<division>\d{6})(?P<zone>\d{3})(?P<subzone>\d{3})"
    r"(?P<parcel_owner>[GJZ])(?P<parcel_kind>[A-Z])(?P<parcel_seq>\d{5})"
    r"(?P<fixture_kind>[FLQW])(?P<fixture_seq>\d{8})$"
)
# Second letter of the parcel code (GB/T 37346): the kind of land right.
PARCEL_KINDS = {
    "A": "集体土地所有权宗地",
    "B": "建设用地使用权宗地（地表）",
    "S": "建设用地使用权宗地（地上）",
    "X": "建设用地使用权宗地（地下）",
    "C": "宅基地使用权宗地",
    "D": "土地承包经营权宗地（耕地）",
    "E": "林地使用权宗地",
    "F": "草原使用权宗地",
    "L": "林地承包经营权宗地",
    "N": "农用地使用权宗地",
    "H": "海域",
    "G": "无居民海岛",
    "W": "使用权未确定或有争议的土地",
    "Y": "其他土地使用权宗地",
}


@dataclass(frozen=True)
class UnitNumber:
    """The parts of a 28-character property unit number (不动产单元号)."""

    value: str
    division_code: str  # county-level administrative division
    cadastral_zone: str  # 地籍区 (3) + 地籍子区 (3)
    parcel_code: str  # 宗地特征码 (2) + 宗地顺序号 (5)
    fixture_code: str  # 定着物特征码 (1) + 定着物单元号 (8)

    @property
    def building(self) -> str | None:
        return self.fixture_code[1:5] if self.fixture_code[0] == "F" else None

    @property
    def room(self) -> str | None:
        return self.fixture_code[5:9] if self.fixture_code[0] == "F" else None


def _division_is_current(code: str, today: date) -> bool:
    info = {k: v for _, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    county = info.get("county")
    if not county or code.endswith("00"):
        return False
    for variant in county.split(","):
        if not variant.startswith("["):
            return True
        span = variant[1:].split("]")[0]
        end = span.split("-")[1]
        if not end or int(end) >= today.year:
            return True
    return False


def unit_number(value: str, today: date | None = None) -> UnitNumber:
    number = (value or "").strip().upper()
    if len(number) != 28:
        raise InvalidValue("UNIT_NUMBER_LENGTH", "不动产单元号应为28位")
    match = _UNIT_NUMBER.match(number)
    if not match:
        raise InvalidValue("UNIT_NUMBER_FORMAT", "不动产单元号格式不正确")
    parts = match.groupdict()
    if parts["parcel_kind"] not in PARCEL_KINDS:
        raise InvalidValue("UNIT_NUMBER_PARCEL", "不动产单元号中的宗地特征码不正确")
    if parts["parcel_seq"] == "00000":
        raise InvalidValue("UNIT_NUMBER_PARCEL", "不动产单元号中的宗地顺序号不正确")
    fixture = parts["fixture_kind"] + parts["fixture_seq"]
    if parts["fixture_kind"] == "W" and parts["fixture_seq"] != "00000000":
        raise InvalidValue("UNIT_NUMBER_FIXTURE", "无定着物的单元号应以W00000000结尾")
    if parts["fixture_kind"] != "W" and parts["fixture_seq"] == "00000000":
        raise InvalidValue("UNIT_NUMBER_FIXTURE", "不动产单元号中的定着物单元号不正确")
    if not _division_is_current(parts["division"], today or date.today()):
        raise InvalidValue("UNIT_NUMBER_DIVISION", "不动产单元号中的行政区划代码不存在")
    return UnitNumber(
        value=number,
        division_code=parts["division"],
        cadastral_zone=parts["zone"] + parts["subzone"],
        parcel_code=parts["parcel_owner"] + parts["parcel_kind"] + parts["parcel_seq"],
        fixture_code=fixture,
    )


def mask_id_number(number: str | None) -> str | None:
    if not number:
        return number
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(e164: str | None) -> str | None:
    if not e164:
        return e164
    national = e164[3:] if e164.startswith("+86") else e164
    return national[:3] + "****" + national[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
