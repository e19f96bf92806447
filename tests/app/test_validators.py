"""Identifier validators: resident ID, USCC, phone, property unit number, names."""

from datetime import date

import pytest
from stdnum.cn import ric

from app.kernel import validators
from app.kernel.validators import InvalidValue


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


@pytest.mark.parametrize("number", [
    "11010519491231002X",  # X check digit
    "11010519491231002x",  # lower-case x is accepted and normalised
    with_check_digit("44040219880101001"),
    "110105 19491231 002X",  # spaces are ignored
])
def test_valid_resident_id_numbers_are_accepted_and_normalised(number):
    assert validators.resident_id_number(number) == number.replace(" ", "").upper()


@pytest.mark.parametrize(("number", "reason"), [
    ("110105194912310021", "ID_NUMBER_CHECKSUM"),  # wrong check digit
    ("11010519491231002", "ID_NUMBER_LENGTH"),
    ("1101051949123100211", "ID_NUMBER_LENGTH"),
    ("11010519491231A02X", "ID_NUMBER_FORMAT"),
    (with_check_digit("44040219880230001"), "ID_NUMBER_COMPONENT"),  # 30 February
    (with_check_digit("44040219881301001"), "ID_NUMBER_COMPONENT"),  # month 13
    (with_check_digit("99999919880101001"), "ID_NUMBER_COMPONENT"),  # no such region
    ("", "ID_NUMBER_LENGTH"),
])
def test_invalid_resident_id_numbers_are_refused_with_a_reason(number, reason):
    with pytest.raises(InvalidValue) as caught:
        validators.resident_id_number(number)
    assert caught.value.reason == reason
    assert caught.value.message  # a Chinese message for people


def test_a_birth_date_in_the_future_is_refused():
    number = with_check_digit("44040220990101001")
    with pytest.raises(InvalidValue) as caught:
        validators.resident_id_number(number, today=date(2026, 11, 23))
    assert caught.value.reason == "ID_NUMBER_COMPONENT"


def test_valid_unified_social_credit_code_is_accepted():
    assert validators.unified_social_credit_code("91110000600037341l") == "91110000600037341L"


@pytest.mark.parametrize(("code", "reason"), [
    ("91110000600037341M", "USCC_CHECKSUM"),
    ("9111000060003734", "USCC_LENGTH"),
    ("91110000600037341I", "USCC_FORMAT"),  # I is not in the alphabet
])
def test_invalid_unified_social_credit_codes_are_refused(code, reason):
    with pytest.raises(InvalidValue) as caught:
        validators.unified_social_credit_code(code)
    assert caught.value.reason == reason


@pytest.mark.parametrize(("raw", "e164"), [
    ("13800138000", "+8613800138000"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("8613800138000", "+8613800138000"),
    ("19912345678", "+8619912345678"),
])
def test_mobile_phone_numbers_are_normalised_to_e164(raw, e164):
    assert validators.mobile_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "02012345678", "+14155552671", "1380013800a", ""])
def test_non_mobile_or_foreign_numbers_are_refused(raw):
    with pytest.raises(InvalidValue):
        validators.mobile_phone(raw)


def test_unit_number_is_split_into_queryable_parts():
    unit = validators.unit_number("440402003001gb00012f00010203")
    assert unit.value == "440402003001GB00012F00010203"
    assert unit.division_code == "440402"
    assert unit.cadastral_zone == "003001"
    assert unit.parcel_code == "GB00012"
    assert unit.fixture_code == "F00010203"
    assert (unit.building, unit.room) == ("0001", "0203")


def test_unit_number_without_fixture_uses_w00000000():
    unit = validators.unit_number("440402003001GB00012W00000000")
    assert unit.building is None


@pytest.mark.parametrize(("number", "reason"), [
    ("440402003001GB00012F0001020", "UNIT_NUMBER_LENGTH"),
    ("440402003001GB00012F000102031", "UNIT_NUMBER_LENGTH"),
    ("440402003001XB00012F00010203", "UNIT_NUMBER_FORMAT"),  # owner letter must be G/J/Z
    ("440402003001G100012F00010203", "UNIT_NUMBER_FORMAT"),
    ("440402003001GK00012F00010203", "UNIT_NUMBER_PARCEL"),  # K is no land-right kind
    ("440402003001GB00000F00010203", "UNIT_NUMBER_PARCEL"),
    ("440402003001GB00012W00010203", "UNIT_NUMBER_FIXTURE"),
    ("440402003001GB00012F00000000", "UNIT_NUMBER_FIXTURE"),
    ("999999003001GB00012F00010203", "UNIT_NUMBER_DIVISION"),  # no such county
    ("440400003001GB00012F00010203", "UNIT_NUMBER_DIVISION"),  # a city, not a county
])
def test_malformed_unit_numbers_are_refused(number, reason):
    with pytest.raises(InvalidValue) as caught:
        validators.unit_number(number)
    assert caught.value.reason == reason


def test_person_names_keep_rare_characters_outside_the_basic_plane():
    assert validators.person_name(" 王𠮷 ") == "王𠮷"


@pytest.mark.parametrize("raw", ["", "   ", "张\x00三", "张" * 51])
def test_empty_or_corrupt_names_are_refused(raw):
    with pytest.raises(InvalidValue):
        validators.person_name(raw)


@pytest.mark.parametrize(("value", "masked"), [
    ("44040219880101001X", "4404**********001X"),
    (None, None),
])
def test_id_numbers_are_masked_to_first_and_last_four(value, masked):
    assert validators.mask_id_number(value) == masked


def test_phones_and_names_are_masked():
    assert validators.mask_phone("+8613800000000") == "138****0000"
    assert validators.mask_name("张三") == "张*"
    assert validators.mask_name("欧阳娜娜") == "欧**娜"
    assert validators.mask_name("王𠮷") == "王*"
