"""The data-sharing client (civil affairs, market regulation, courts) against the sandbox,
signatures checked; the outage switch; and the client's strict reading of answers."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from requests.adapters import BaseAdapter
from stdnum.cn import ric, uscc

from app.integrations.datasharing import (
    CompanyRecord,
    HttpDataSharing,
    MaritalRecord,
    Restriction,
    make_data_sharing,
)
from app.integrations.registry import (
    HttpPopulationRegistry,
    RegistryError,
    RegistryUnavailable,
    sign_request,
)
from app.kernel.settings import SettingsError
from sandbox.datasharing import SEED_FILE, SERVICES, load_seed
from sandbox.registry import SEED_FILE as REGISTRY_SEED_FILE
from sandbox.registry import signature
from sandbox.testing import RunningSandbox, start_sandbox

SHANGHAI = ZoneInfo("Asia/Shanghai")

ZHANG_SAN = ("张三", "440402198801010018")
LI_SI = ("李四", "440402199003150029")
WANG_JI = ("王𠮷", "440402198506200038")
ZHAO_LIU = ("赵六", "440402199208080044")
NOBODY = ("孙八", "440402199912310017")

DEVELOPER = ("珠海市示范房地产开发有限公司", "91440400MA4U123450")
BANK = ("示范银行股份有限公司珠海分行", "91440400MA4U67890W")
REVOKED = ("珠海市吊销示例贸易有限公司", "91440400MA4U999994")
UNKNOWN_COMPANY = ("珠海市不存在有限公司", "91440400MA4U000018")

SEIZED_UNIT = "440402003009GB00999F00010101"
FREE_UNIT = "440402003009GB00999F00010102"
SEIZURE = Restriction(
    "SEIZURE", "珠海市香洲区人民法院", "(2026)粤0402执123号", date(2026, 3, 1), None
)


def beijing(*args: int) -> float:
    """Epoch seconds of a Beijing wall-clock time."""
    return datetime(*args, tzinfo=SHANGHAI).timestamp()  # type: ignore[misc]


def beijing_today() -> date:
    return datetime.now(SHANGHAI).date()


@pytest.fixture
def sharing(platform_config: dict[str, Any]) -> Iterator[HttpDataSharing]:
    client = make_data_sharing(platform_config)
    assert isinstance(client, HttpDataSharing)
    yield client
    client.close()


def client_for(running: RunningSandbox, clock: Any = time.time) -> HttpDataSharing:
    return HttpDataSharing(
        running.url,
        running.settings["REGISTRY_APP_KEY"],
        running.settings["REGISTRY_APP_SECRET"],
        clock=clock,
    )


def captured_requests(client: HttpDataSharing) -> list[requests.PreparedRequest]:
    """Every request the client sends, as an eavesdropper on the wire would see it."""
    seen: list[requests.PreparedRequest] = []

    def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.append(response.request)

    client._http.hooks["response"].append(keep)
    return seen


def call(client: HttpDataSharing, service: str) -> object:
    """One request to ``service`` with a seeded record."""
    if service == "civil-affairs":
        return client.marital_status(*ZHANG_SAN)
    if service == "market-regulation":
        return client.company_status(*DEVELOPER)
    return client.unit_restrictions(SEIZED_UNIT)


DATA_SERVICES = ("civil-affairs", "market-regulation", "courts")


# --- civil affairs: marital status -----------------------------------------------------


def test_the_seeded_marital_statuses(sharing: HttpDataSharing) -> None:
    assert sharing.marital_status(*ZHANG_SAN) == MaritalRecord(
        "CONSISTENT", "MARRIED", date(2015, 5, 20)
    )
    assert sharing.marital_status(*LI_SI) == MaritalRecord("CONSISTENT", "UNMARRIED", None)
    # A name outside the Basic Multilingual Plane, signed over the exact UTF-8 bytes.
    assert sharing.marital_status(*WANG_JI) == MaritalRecord(
        "CONSISTENT", "DIVORCED", date(2020, 1, 10)
    )


def test_a_wrong_name_is_a_mismatch_that_tells_nothing_about_the_holder(
    sharing: HttpDataSharing,
) -> None:
    assert sharing.marital_status("张四", ZHANG_SAN[1]) == MaritalRecord(
        "NAME_MISMATCH", None, None
    )


def test_a_person_civil_affairs_has_no_record_of_is_not_found(sharing: HttpDataSharing) -> None:
    assert sharing.marital_status(*NOBODY) == MaritalRecord("NOT_FOUND", None, None)
    # In the population registry, not in the marriage registration records.
    assert sharing.marital_status(*ZHAO_LIU).match == "NOT_FOUND"


def test_a_marital_record_added_by_a_test_is_known_until_the_next_reset(
    sharing: HttpDataSharing, sandbox: RunningSandbox
) -> None:
    sandbox.state.datasharing.add_marital("周九", NOBODY[1], "WIDOWED", since="2024-08-08")
    sandbox.state.datasharing.add_marital("李四", LI_SI[1], "MARRIED", since=date(2026, 10, 1))

    assert sharing.marital_status("周九", NOBODY[1]) == MaritalRecord(
        "CONSISTENT", "WIDOWED", date(2024, 8, 8)
    )
    assert sharing.marital_status(*LI_SI).status == "MARRIED"

    sandbox.reset()
    assert sharing.marital_status("周九", NOBODY[1]).match == "NOT_FOUND"
    assert sharing.marital_status(*LI_SI).status == "UNMARRIED"  # the seed is back


def test_a_malformed_id_number_is_a_bad_request(sharing: HttpDataSharing) -> None:
    with pytest.raises(RegistryError) as caught:
        sharing.marital_status("张三", "44040219880101001")
    assert (caught.value.code, caught.value.http_status) == ("BAD_REQUEST", 400)
    assert not isinstance(caught.value, RegistryUnavailable)


# --- market regulation: company status -------------------------------------------------


def test_the_seeded_companies(sharing: HttpDataSharing) -> None:
    developer = sharing.company_status(*DEVELOPER)
    assert developer == CompanyRecord("CONSISTENT", "OPERATING", "陈*")
    assert developer.operating
    assert sharing.company_status(*BANK) == CompanyRecord("CONSISTENT", "OPERATING", "黄*")
    revoked = sharing.company_status(*REVOKED)
    assert revoked == CompanyRecord("CONSISTENT", "REVOKED", "林*")
    assert not revoked.operating


def test_a_wrong_company_name_is_a_mismatch_and_an_unknown_code_not_found(
    sharing: HttpDataSharing,
) -> None:
    assert sharing.company_status("珠海市示范房地产有限公司", DEVELOPER[1]) == CompanyRecord(
        "NAME_MISMATCH", None, None
    )
    assert sharing.company_status(*UNKNOWN_COMPANY) == CompanyRecord("NOT_FOUND", None, None)


def test_a_company_added_by_a_test_shows_its_legal_representative_masked(
    sharing: HttpDataSharing, sandbox: RunningSandbox
) -> None:
    sandbox.state.datasharing.add_company(*UNKNOWN_COMPANY, "ABNORMAL", "欧阳娜娜")

    assert sharing.company_status(*UNKNOWN_COMPANY) == CompanyRecord(
        "CONSISTENT", "ABNORMAL", "欧**娜"
    )
    sandbox.reset()
    assert sharing.company_status(*UNKNOWN_COMPANY).match == "NOT_FOUND"


def test_a_malformed_uscc_is_a_bad_request(sharing: HttpDataSharing) -> None:
    with pytest.raises(RegistryError) as caught:
        sharing.company_status(DEVELOPER[0], "91440400MA4U12345I")  # I is not in the alphabet
    assert (caught.value.code, caught.value.http_status) == ("BAD_REQUEST", 400)


# --- courts: restrictions on a unit ----------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [beijing(2026, 3, 1, 0, 30), beijing(2026, 6, 1, 12, 0), beijing(2030, 1, 1, 9, 0)],
    ids=["first-day-beijing-time", "months-later", "years-later"],
)
def test_the_seeded_seizure_is_in_force_from_its_first_day_on(
    sandbox: RunningSandbox, now: float
) -> None:
    with start_sandbox(sandbox.settings, clock=lambda: now) as running:
        client = client_for(running, clock=lambda: now)
        assert client.unit_restrictions(SEIZED_UNIT) == [SEIZURE]
        assert client.unit_restrictions(FREE_UNIT) == []
        client.close()


def test_the_seeded_seizure_is_not_answered_before_its_first_day(sandbox: RunningSandbox) -> None:
    now = beijing(2026, 2, 28, 23, 59)
    with start_sandbox(sandbox.settings, clock=lambda: now) as running:
        client = client_for(running, clock=lambda: now)
        assert client.unit_restrictions(SEIZED_UNIT) == []
        client.close()


def test_only_restrictions_in_force_today_are_answered(
    sharing: HttpDataSharing, sandbox: RunningSandbox
) -> None:
    today = beijing_today()
    day = timedelta(days=1)
    add = sandbox.state.datasharing.add_restriction
    add(FREE_UNIT, "FREEZE", "珠海市中级人民法院", "(2026)粤04执保1号", today - 10 * day, today)
    add(FREE_UNIT, "PRE_SEIZURE", "珠海市金湾区人民法院", "(2026)粤0404执保2号", today + day)
    add(
        FREE_UNIT, "SEIZURE", "珠海市斗门区人民法院", "(2025)粤0403执3号", "2025-01-01", today - day
    )
    add(FREE_UNIT, "SEIZURE", "珠海市香洲区人民法院", "(2026)粤0402执4号", today.isoformat())

    answered = sharing.unit_restrictions(FREE_UNIT)

    assert answered == [
        Restriction("FREEZE", "珠海市中级人民法院", "(2026)粤04执保1号", today - 10 * day, today),
        Restriction("SEIZURE", "珠海市香洲区人民法院", "(2026)粤0402执4号", today, None),
    ]
    sandbox.reset()
    assert sharing.unit_restrictions(FREE_UNIT) == []


def test_a_malformed_unit_number_is_a_bad_request(sharing: HttpDataSharing) -> None:
    with pytest.raises(RegistryError) as caught:
        sharing.unit_restrictions(SEIZED_UNIT[:-1])
    assert (caught.value.code, caught.value.http_status) == ("BAD_REQUEST", 400)


def test_the_sandbox_refuses_restrictions_it_could_not_answer(sandbox: RunningSandbox) -> None:
    add = sandbox.state.datasharing.add_restriction
    with pytest.raises(ValueError):
        add(FREE_UNIT, "MORTGAGE", "珠海市香洲区人民法院", "(2026)粤0402执5号", "2026-01-01")
    with pytest.raises(ValueError):
        add(
            FREE_UNIT,
            "SEIZURE",
            "珠海市香洲区人民法院",
            "(2026)粤0402执5号",
            "2026-02-01",
            "2026-01-01",
        )
    with pytest.raises(ValueError):
        sandbox.state.datasharing.add_marital("张三", ZHANG_SAN[1], "ENGAGED")


# --- the seeds ----------------------------------------------------------------------


def test_the_seeds_have_valid_check_digits_and_are_the_registrys_demo_persons() -> None:
    seed = load_seed()
    registry = {
        p["name"]: p["id_number"]
        for p in json.loads(REGISTRY_SEED_FILE.read_text(encoding="utf-8"))["persons"]
    }

    marital = {entry.name: entry for entry in seed.marital}
    assert set(marital) == {"张三", "李四", "王𠮷"}
    for base17, name in [
        ("44040219880101001", "张三"),
        ("44040219900315002", "李四"),
        ("44040219850620003", "王𠮷"),
    ]:
        id_number = base17 + ric.calc_check_digit(base17 + "0")
        assert marital[name].id_number == id_number == registry[name]
    companies = {entry.name: entry.uscc for entry in seed.companies}
    for base17, name in [
        ("91440400MA4U12345", DEVELOPER[0]),
        ("91440400MA4U67890", BANK[0]),
        ("91440400MA4U99999", REVOKED[0]),
    ]:
        assert companies[name] == base17 + uscc.calc_check_digit(base17)
        assert uscc.is_valid(companies[name])
    assert uscc.is_valid(UNKNOWN_COMPANY[1])
    assert [(r.unit_number, r.start, r.end) for r in seed.restrictions] == [
        (SEIZED_UNIT, date(2026, 3, 1), None)
    ]


def test_the_seeded_unit_number_is_valid_for_the_platform() -> None:
    from app.kernel.validators import unit_number

    assert unit_number(SEIZED_UNIT).value == SEIZED_UNIT
    assert unit_number(FREE_UNIT).value == FREE_UNIT
    assert Path(SEED_FILE).name == "datasharing.json"


# --- authentication (the registry's gateway) ------------------------------------------


@pytest.mark.parametrize("service", DATA_SERVICES)
def test_a_wrong_app_secret_is_refused_by_the_signature_check(
    platform_config: dict[str, Any], service: str
) -> None:
    client = make_data_sharing(dict(platform_config, REGISTRY_APP_SECRET="0" * 64))
    assert isinstance(client, HttpDataSharing)

    with pytest.raises(RegistryError) as caught:
        call(client, service)
    assert (caught.value.code, caught.value.http_status) == ("SIGNATURE_INVALID", 401)
    assert not isinstance(caught.value, RegistryUnavailable)


def test_an_unknown_app_key_is_refused(platform_config: dict[str, Any]) -> None:
    client = make_data_sharing(dict(platform_config, REGISTRY_APP_KEY="pr-unknown"))

    with pytest.raises(RegistryError) as caught:
        client.marital_status(*ZHANG_SAN)
    assert caught.value.code == "APP_KEY_UNKNOWN"


@pytest.mark.parametrize("service", DATA_SERVICES)
def test_a_replayed_request_is_refused_as_a_reused_nonce(
    sharing: HttpDataSharing, service: str
) -> None:
    seen = captured_requests(sharing)
    call(sharing, service)

    replay = requests.Session().send(seen[0], timeout=5)

    assert replay.status_code == 401
    assert replay.json()["code"] == "NONCE_REUSED"


def test_the_gateway_remembers_nonces_across_services(sandbox: RunningSandbox) -> None:
    """One platform, one nonce memory: a nonce used for civil affairs is spent for the
    population registry too, even in a request signed for it."""
    key, secret = sandbox.settings["REGISTRY_APP_KEY"], sandbox.settings["REGISTRY_APP_SECRET"]
    nonce = "shared-nonce-0001"

    def post(path: str, payload: dict[str, Any]) -> requests.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp = str(int(time.time() * 1000))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-App-Key": key,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": sign_request(secret, "POST", path, timestamp, nonce, body),
        }
        return requests.post(sandbox.url + path, data=body, headers=headers, timeout=5)

    first = post("/civil-affairs/v1/marital-status", {"name": "张三", "id_number": ZHANG_SAN[1]})
    second = post(
        "/population/v1/identity-check",
        {"name": "张三", "id_number": ZHANG_SAN[1], "want_photo": False},
    )

    assert first.status_code == 200 and first.json()["result"]["status"] == "MARRIED"
    assert (second.status_code, second.json()["code"]) == (401, "NONCE_REUSED")


@pytest.mark.parametrize("skew_seconds", [-301, 301])
def test_a_request_stamped_more_than_five_minutes_off_is_refused(
    sandbox: RunningSandbox, skew_seconds: int
) -> None:
    client = client_for(sandbox, clock=lambda: time.time() + skew_seconds)

    with pytest.raises(RegistryError) as caught:
        client.company_status(*DEVELOPER)
    assert caught.value.code == "TIMESTAMP_EXPIRED"


def test_an_unsigned_request_is_refused(sandbox: RunningSandbox) -> None:
    answer = requests.post(
        sandbox.url + "/courts/v1/unit-restrictions", json={"unit_number": SEIZED_UNIT}, timeout=5
    )

    assert answer.status_code == 401
    assert answer.json()["code"] == "APP_KEY_UNKNOWN"


def test_the_signature_covers_the_path_under_a_base_url_with_a_prefix() -> None:
    client = HttpDataSharing("https://share.example.gov.cn/gateway", "k", "s")
    fake = CannedAnswer(200, {"code": "OK", "result": {"restrictions": []}, "request_id": "r"})
    client._http.mount("https://", fake)

    assert client.unit_restrictions(SEIZED_UNIT) == []

    sent = fake.requests[0]
    assert sent.url == "https://share.example.gov.cn/gateway/courts/v1/unit-restrictions"
    assert isinstance(sent.body, bytes)
    path = "/gateway/courts/v1/unit-restrictions"
    headers = sent.headers
    expected = signature("s", "POST", path, headers["X-Timestamp"], headers["X-Nonce"], sent.body)
    assert headers["X-Signature"] == expected
    assert json.loads(sent.body) == {"unit_number": SEIZED_UNIT}


# --- outages ----------------------------------------------------------------------------


@pytest.mark.parametrize("service", DATA_SERVICES)
def test_a_service_that_is_down_raises_unavailable_and_the_others_still_answer(
    sharing: HttpDataSharing, sandbox: RunningSandbox, service: str
) -> None:
    sandbox.state.datasharing.set_outage(service, "down")

    with pytest.raises(RegistryUnavailable) as caught:
        call(sharing, service)
    assert (caught.value.code, caught.value.http_status) == ("SERVICE_UNAVAILABLE", 503)
    assert caught.value.request_id
    for other in DATA_SERVICES:
        if other != service:
            call(sharing, other)

    sandbox.state.datasharing.set_outage(service, "up")
    call(sharing, service)


def test_the_population_registry_honours_the_same_switch(
    sandbox: RunningSandbox, registry: HttpPopulationRegistry, sharing: HttpDataSharing
) -> None:
    sandbox.state.datasharing.set_outage("population", "down")

    with pytest.raises(RegistryUnavailable) as caught:
        registry.check_identity(*ZHANG_SAN, want_photo=False)
    assert caught.value.http_status == 503
    assert sharing.marital_status(*ZHANG_SAN).status == "MARRIED"

    sandbox.state.datasharing.set_outage("population", "up")
    assert registry.check_identity(*ZHANG_SAN, want_photo=False).confirmed


@pytest.mark.parametrize("service", DATA_SERVICES)
def test_a_service_slower_than_the_client_timeout_raises_unavailable(
    sandbox: RunningSandbox, service: str
) -> None:
    sandbox.state.datasharing.set_outage(service, "slow", seconds=5)
    client = client_for(sandbox)
    client.timeout = 0.3

    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as caught:
        call(client, service)
    assert time.monotonic() - started < 3
    assert caught.value.code == "UNAVAILABLE"
    client.close()
    sandbox.reset()  # the late answer goes out now, to nobody


def test_a_slow_population_registry_raises_unavailable(sandbox: RunningSandbox) -> None:
    sandbox.state.datasharing.set_outage("population", "slow", seconds=5)
    registry = HttpPopulationRegistry(
        sandbox.url,
        sandbox.settings["REGISTRY_APP_KEY"],
        sandbox.settings["REGISTRY_APP_SECRET"],
        timeout=0.3,
    )

    with pytest.raises(RegistryUnavailable):
        registry.check_identity(*ZHANG_SAN)
    registry.close()
    sandbox.reset()


def test_a_slow_service_within_the_timeout_answers_late(
    sharing: HttpDataSharing, sandbox: RunningSandbox
) -> None:
    sandbox.state.datasharing.set_outage("civil-affairs", "slow", seconds=0.3)

    started = time.monotonic()
    assert sharing.marital_status(*LI_SI).status == "UNMARRIED"
    assert time.monotonic() - started >= 0.3


def test_a_reset_releases_a_slow_answer_at_once(
    sharing: HttpDataSharing, sandbox: RunningSandbox
) -> None:
    sandbox.state.datasharing.set_outage("courts", "slow", seconds=60)
    answers: list[object] = []
    worker = threading.Thread(target=lambda: answers.append(call(sharing, "courts")))
    started = time.monotonic()
    worker.start()
    time.sleep(0.2)

    sandbox.reset()
    worker.join(timeout=5)

    assert not worker.is_alive()
    assert time.monotonic() - started < 5
    assert len(answers) == 1


def test_switching_a_slow_service_down_fails_the_waiting_request(
    sharing: HttpDataSharing, sandbox: RunningSandbox
) -> None:
    sandbox.state.datasharing.set_outage("market-regulation", "slow", seconds=60)
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            call(sharing, "market-regulation")
        except RegistryUnavailable as exc:
            failures.append(exc)

    worker = threading.Thread(target=ask)
    worker.start()
    time.sleep(0.2)
    sandbox.state.datasharing.set_outage("market-regulation", "down")
    worker.join(timeout=5)

    assert not worker.is_alive()
    assert [getattr(f, "http_status", None) for f in failures] == [503]


def test_the_outage_switch_refuses_unknown_services_modes_and_delays(
    sandbox: RunningSandbox,
) -> None:
    switch = sandbox.state.datasharing
    for args in [
        ("tax", "down", 0),
        ("courts", "broken", 0),
        ("courts", "slow", 0),
        ("courts", "slow", 301),
        ("courts", "slow", True),
    ]:
        with pytest.raises(ValueError):
            switch.set_outage(*args)
    assert all(mode["mode"] == "up" for mode in switch.outage_modes().values())


# --- the control endpoint and reset -------------------------------------------------------


def test_the_control_endpoint_switches_and_lists_the_modes(
    sandbox: RunningSandbox, sharing: HttpDataSharing
) -> None:
    url = sandbox.url + "/sandbox/datasharing/outage"
    assert requests.get(url, timeout=5).json() == {
        service: {"mode": "up", "seconds": 0} for service in SERVICES
    }

    answer = requests.post(url, json={"service": "courts", "mode": "down"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["courts"] == {"mode": "down", "seconds": 0}
    answer = requests.post(
        url, json={"service": "civil-affairs", "mode": "slow", "seconds": 2.5}, timeout=5
    )
    assert answer.json()["civil-affairs"] == {"mode": "slow", "seconds": 2.5}

    modes = requests.get(url, timeout=5).json()
    assert modes["courts"]["mode"] == "down" and modes["population"]["mode"] == "up"
    assert sandbox.state.datasharing.outage_modes() == modes
    with pytest.raises(RegistryUnavailable):
        sharing.unit_restrictions(SEIZED_UNIT)


@pytest.mark.parametrize(
    "body",
    [
        {"service": "tax", "mode": "down"},
        {"service": "courts", "mode": "sideways"},
        {"service": "courts", "mode": "slow"},
        {"service": "courts", "mode": "slow", "seconds": "10"},
        ["courts", "down"],
    ],
)
def test_the_control_endpoint_refuses_what_it_cannot_do(sandbox: RunningSandbox, body: Any) -> None:
    answer = requests.post(sandbox.url + "/sandbox/datasharing/outage", json=body, timeout=5)

    assert answer.status_code == 400
    assert answer.json()["error"]
    assert sandbox.state.datasharing.outage_modes()["courts"]["mode"] == "up"


def test_the_dev_page_switches_services_with_one_form(sandbox: RunningSandbox) -> None:
    page = requests.get(sandbox.url + "/", timeout=5).text
    assert "数据共享服务故障模拟" in page
    assert 'action="/sandbox/datasharing/outage"' in page
    for service in SERVICES:
        assert f'<select id="outage-{service}" name="{service}">' in page

    answer = requests.post(
        sandbox.url + "/sandbox/datasharing/outage",
        data={
            "from_page": "1",
            "population": "up",
            "civil-affairs": "down",
            "market-regulation": "slow",
            "courts": "up",
            "seconds": "7",
        },
        allow_redirects=False,
        timeout=5,
    )

    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    modes = sandbox.state.datasharing.outage_modes()
    assert modes["civil-affairs"] == {"mode": "down", "seconds": 0}
    assert modes["market-regulation"] == {"mode": "slow", "seconds": 7}
    page = requests.get(sandbox.url + "/", timeout=5).text
    assert '<option value="down" selected>故障（返回 503）</option>' in page
    assert "缓慢（延迟应答）（7 秒）" in page
    sandbox.reset()


def test_reset_brings_every_service_up(
    sandbox: RunningSandbox, sharing: HttpDataSharing, registry: HttpPopulationRegistry
) -> None:
    for service in SERVICES:
        sandbox.state.datasharing.set_outage(service, "down")

    sandbox.reset()

    assert all(mode["mode"] == "up" for mode in sandbox.state.datasharing.outage_modes().values())
    for service in DATA_SERVICES:
        call(sharing, service)
    assert registry.check_identity(*ZHANG_SAN, want_photo=False).confirmed


def test_the_reset_endpoint_brings_every_service_up(sandbox: RunningSandbox) -> None:
    sandbox.state.datasharing.set_outage("courts", "down")

    assert requests.post(sandbox.url + "/_sandbox/reset", timeout=5).status_code == 200

    assert sandbox.state.datasharing.outage_modes()["courts"]["mode"] == "up"


# --- privacy and settings -----------------------------------------------------------------


def test_logs_show_names_and_id_numbers_masked(
    sharing: HttpDataSharing, sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.integrations.datasharing")
    sharing.marital_status(*ZHANG_SAN)
    sharing.marital_status("张四", ZHANG_SAN[1])
    sandbox.state.datasharing.set_outage("civil-affairs", "down")
    with pytest.raises(RegistryUnavailable):
        sharing.marital_status(*ZHANG_SAN)

    assert "marital status 张* 4404**********0018: CONSISTENT MARRIED" in caplog.text
    assert "HTTP 503 SERVICE_UNAVAILABLE" in caplog.text
    assert ZHANG_SAN[1] not in caplog.text and "张三" not in caplog.text


def test_the_client_shows_no_secret_in_its_repr(sharing: HttpDataSharing) -> None:
    assert sharing._app_secret not in repr(sharing)


def test_an_unreachable_platform_raises_unavailable(unreachable_url: str) -> None:
    client = HttpDataSharing(unreachable_url, "k", "s")

    with pytest.raises(RegistryUnavailable):
        client.company_status(*DEVELOPER)


def test_the_factory_follows_the_registrys_rules() -> None:
    complete = {
        "REGISTRY_BASE_URL": "https://share.example.gov.cn/",
        "REGISTRY_APP_KEY": "k",
        "REGISTRY_APP_SECRET": "s",
    }
    for key in complete:
        with pytest.raises(SettingsError, match=key):
            make_data_sharing(dict(complete, **{key: ""}))
    with pytest.raises(SettingsError, match="http"):
        make_data_sharing(dict(complete, REGISTRY_BASE_URL="ftp://share.example.gov.cn/"))
    production = dict(complete, APP_ENV="production")
    with pytest.raises(SettingsError, match="https"):
        make_data_sharing(dict(production, REGISTRY_BASE_URL="http://share.example.gov.cn/"))
    make_data_sharing(dict(production, REGISTRY_BASE_URL="http://127.0.0.1:9443/"))

    client = make_data_sharing(production)
    assert isinstance(client, HttpDataSharing) and client.timeout == 3.0
    client = make_data_sharing(dict(complete, DATASHARING_TIMEOUT_SECONDS=1.5))
    assert isinstance(client, HttpDataSharing) and client.timeout == 1.5


# --- strict reading of answers (no sandbox: canned HTTP answers) --------------------------


class CannedAnswer(BaseAdapter):
    """A transport adapter that answers every request with one canned HTTP answer."""

    def __init__(self, status: int, body: Any, content_type: str = "application/json") -> None:
        super().__init__()
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.content_type = content_type
        self.requests: list[requests.PreparedRequest] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.requests.append(request)
        response = requests.Response()
        response.status_code = self.status
        response._content = self.body
        response.headers["Content-Type"] = self.content_type
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


class Timeout(BaseAdapter):
    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        raise requests.ReadTimeout("read timed out")

    def close(self) -> None:
        pass


def canned(adapter: BaseAdapter) -> HttpDataSharing:
    client = HttpDataSharing("https://share.test/", "k", "s")
    client._http.mount("https://", adapter)
    return client


def ok(result: Any) -> dict[str, Any]:
    return {"code": "OK", "result": result, "request_id": "req-1"}


def marital(**changes: Any) -> dict[str, Any]:
    return dict({"match": "CONSISTENT", "status": "MARRIED", "since": "2015-05-20"}, **changes)


def company(**changes: Any) -> dict[str, Any]:
    return dict(
        {"match": "CONSISTENT", "status": "OPERATING", "legal_representative_masked": "张*"},
        **changes,
    )


def restriction(**changes: Any) -> dict[str, Any]:
    return dict(
        {
            "kind": "SEIZURE",
            "court": "珠海市香洲区人民法院",
            "document_number": "(2026)粤0402执123号",
            "start_date": "2026-03-01",
            "end_date": None,
        },
        **changes,
    )


def test_well_formed_answers_are_read_and_unknown_keys_ignored() -> None:
    assert canned(CannedAnswer(200, ok(marital(extra=1)))).marital_status(
        *ZHANG_SAN
    ) == MaritalRecord("CONSISTENT", "MARRIED", date(2015, 5, 20))
    assert canned(CannedAnswer(200, ok(company()))).company_status(*DEVELOPER) == CompanyRecord(
        "CONSISTENT", "OPERATING", "张*"
    )
    assert canned(
        CannedAnswer(200, ok({"restrictions": [restriction(end_date="2029-02-28")]}))
    ).unit_restrictions(SEIZED_UNIT) == [
        Restriction(
            "SEIZURE",
            "珠海市香洲区人民法院",
            "(2026)粤0402执123号",
            date(2026, 3, 1),
            date(2029, 2, 28),
        )
    ]


@pytest.mark.parametrize(
    "result",
    [
        None,
        ["CONSISTENT"],
        marital(match="MAYBE"),
        marital(match=None),
        marital(status="ENGAGED"),
        marital(status="married"),
        marital(status=None),
        marital(match="NAME_MISMATCH"),
        marital(match="NOT_FOUND", status=None, since="2015-05-20"),
        marital(since="2015/05/20"),
        marital(since="2015-02-30"),
        marital(since=20150520),
    ],
)
def test_an_unexpected_marital_answer_is_an_error_never_a_record(result: Any) -> None:
    with pytest.raises(RegistryError) as caught:
        canned(CannedAnswer(200, ok(result))).marital_status(*ZHANG_SAN)
    assert caught.value.code == "UNEXPECTED_RESPONSE"
    assert caught.value.request_id == "req-1"
    assert not isinstance(caught.value, RegistryUnavailable)


@pytest.mark.parametrize(
    "result",
    [
        company(status="SUSPENDED"),
        company(status=None),
        company(match="MATCH"),
        company(legal_representative_masked="张三"),
        company(legal_representative_masked=42),
        company(legal_representative_masked=""),
        company(match="NOT_FOUND", status=None),
        company(match="NAME_MISMATCH", legal_representative_masked=None),
    ],
)
def test_an_unexpected_company_answer_is_an_error_never_a_record(result: Any) -> None:
    with pytest.raises(RegistryError) as caught:
        canned(CannedAnswer(200, ok(result))).company_status(*DEVELOPER)
    assert caught.value.code == "UNEXPECTED_RESPONSE"


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"restrictions": None},
        {"restrictions": {"kind": "SEIZURE"}},
        {"restrictions": ["SEIZURE"]},
        {"restrictions": [restriction(kind="MORTGAGE")]},
        {"restrictions": [restriction(kind=None)]},
        {"restrictions": [restriction(court="")]},
        {"restrictions": [restriction(court=None)]},
        {"restrictions": [restriction(document_number=123)]},
        {"restrictions": [restriction(start_date=None)]},
        {"restrictions": [restriction(start_date="2026-3-1")]},
        {"restrictions": [restriction(end_date="2026-02-28")]},
        {"restrictions": [restriction(), restriction(kind="LIEN")]},
    ],
)
def test_an_unexpected_restrictions_answer_is_an_error_never_a_list(result: Any) -> None:
    with pytest.raises(RegistryError) as caught:
        canned(CannedAnswer(200, ok(result))).unit_restrictions(SEIZED_UNIT)
    assert caught.value.code == "UNEXPECTED_RESPONSE"


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (503, {"code": "SERVICE_UNAVAILABLE", "message": "down"}, "SERVICE_UNAVAILABLE"),
        (500, b"<html>upstream failure</html>", "HTTP_500"),
        (502, b"", "HTTP_502"),
        (429, {"code": "RATE_LIMITED", "message": "slow down"}, "RATE_LIMITED"),
    ],
)
def test_server_failures_and_rate_limits_are_unavailable(status: int, body: Any, code: str) -> None:
    with pytest.raises(RegistryUnavailable) as caught:
        canned(CannedAnswer(status, body)).marital_status(*ZHANG_SAN)
    assert (caught.value.code, caught.value.http_status) == (code, status)


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, {"code": "SIGNATURE_INVALID", "message": "no"}, "SIGNATURE_INVALID"),
        (403, {"code": "FORBIDDEN", "message": "not authorised"}, "FORBIDDEN"),
        (200, {"code": "QUOTA_EXCEEDED", "message": "quota"}, "QUOTA_EXCEEDED"),
        (200, b"<html>portal login</html>", "HTTP_200"),
    ],
)
def test_refusals_are_errors_not_unavailability(status: int, body: Any, code: str) -> None:
    with pytest.raises(RegistryError) as caught:
        canned(CannedAnswer(status, body)).company_status(*DEVELOPER)
    assert caught.value.code == code
    assert not isinstance(caught.value, RegistryUnavailable)


def test_a_timeout_is_unavailable() -> None:
    with pytest.raises(RegistryUnavailable):
        canned(Timeout()).unit_restrictions(SEIZED_UNIT)


def test_the_client_refuses_empty_arguments_before_sending() -> None:
    fake = CannedAnswer(200, ok(marital()))
    client = canned(fake)
    with pytest.raises(ValueError):
        client.marital_status("", ZHANG_SAN[1])
    with pytest.raises(ValueError):
        client.company_status(DEVELOPER[0], "")
    with pytest.raises(ValueError):
        client.unit_restrictions("")
    assert fake.requests == []
