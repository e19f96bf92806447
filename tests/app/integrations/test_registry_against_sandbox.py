"""The population registry client against the sandbox registry, signatures checked."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from stdnum.cn import ric

from app.integrations.registry import (
    HttpPopulationRegistry,
    RegistryError,
    RegistryRecord,
    RegistryUnavailable,
    make_population_registry,
    sign_request,
)
from app.kernel.settings import SettingsError
from sandbox.registry import SEED_FILE, load_seed, signature
from sandbox.testing import RunningSandbox, start_sandbox

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEST_FACES = PROJECT_ROOT / "tests" / "data" / "faces"
SANDBOX_FACES = PROJECT_ROOT / "sandbox" / "data" / "faces"

ZHANG_SAN = ("张三", "440402198801010018")
LI_SI = ("李四", "440402199003150029")
WANG_JI = ("王𠮷", "440402198506200038")
ZHAO_LIU = ("赵六", "440402199208080044")
QIAN_QI = ("钱七", "440402195001010059")
NOBODY = ("孙八", "440402199912310017")


def platform_id(base17: str) -> str:
    """How the platform builds its demo ID numbers (app/demo.py)."""
    return base17 + ric.calc_check_digit(base17 + "0")


def captured_request(registry: HttpPopulationRegistry) -> list[requests.PreparedRequest]:
    """Keep every request the client sends, as an eavesdropper on the wire would."""
    seen: list[requests.PreparedRequest] = []

    def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.append(response.request)

    registry._http.hooks["response"].append(keep)
    return seen


# --- answers ------------------------------------------------------------------------


def test_a_citizen_whose_name_matches_the_number_is_consistent_with_the_reference_photo(
    registry: HttpPopulationRegistry,
) -> None:
    record = registry.check_identity(*ZHANG_SAN)

    assert (record.match, record.status) == ("CONSISTENT", "NORMAL")
    assert record.confirmed
    assert record.photo == (TEST_FACES / "obama.jpg").read_bytes()
    assert record.request_id


def test_each_demo_person_has_the_photo_of_the_seed(registry: HttpPopulationRegistry) -> None:
    assert registry.check_identity(*LI_SI).photo == (TEST_FACES / "biden.jpg").read_bytes()
    assert (
        registry.check_identity(*ZHAO_LIU).photo
        == (TEST_FACES / "lin-manuel-miranda.png").read_bytes()
    )
    assert registry.check_identity(*WANG_JI).photo is None


def test_no_photo_comes_back_when_none_is_asked_for(registry: HttpPopulationRegistry) -> None:
    record = registry.check_identity(*ZHANG_SAN, want_photo=False)

    assert record.confirmed
    assert record.photo is None


def test_the_wrong_name_for_a_number_is_a_mismatch_that_tells_nothing_about_the_holder(
    registry: HttpPopulationRegistry,
) -> None:
    record = registry.check_identity("张四", ZHANG_SAN[1])

    assert record == RegistryRecord("NAME_MISMATCH", None, None, record.request_id)
    assert not record.confirmed


def test_a_number_the_registry_does_not_know_is_not_found(
    registry: HttpPopulationRegistry,
) -> None:
    record = registry.check_identity(*NOBODY)

    assert (record.match, record.status, record.photo) == ("NOT_FOUND", None, None)


def test_a_deceased_person_is_consistent_but_not_confirmed_and_has_no_photo(
    registry: HttpPopulationRegistry,
) -> None:
    record = registry.check_identity(*QIAN_QI)

    assert (record.match, record.status, record.photo) == ("CONSISTENT", "DECEASED", None)
    assert not record.confirmed


def test_a_person_added_by_a_test_is_known_until_the_next_reset(
    registry: HttpPopulationRegistry, sandbox: RunningSandbox
) -> None:
    photo = (TEST_FACES / "obama2.jpg").read_bytes()
    sandbox.state.add_person("周九", NOBODY[1], photo, status="CANCELLED")

    record = registry.check_identity("周九", NOBODY[1])
    assert (record.match, record.status, record.photo) == ("CONSISTENT", "CANCELLED", photo)

    sandbox.reset()
    assert registry.check_identity("周九", NOBODY[1]).match == "NOT_FOUND"
    assert registry.check_identity(*ZHANG_SAN).confirmed  # the seed is back


def test_the_sandbox_records_each_check_with_the_name_and_number_masked(
    registry: HttpPopulationRegistry, sandbox: RunningSandbox
) -> None:
    registry.check_identity(*ZHANG_SAN, want_photo=False)
    record = registry.check_identity("张四", ZHANG_SAN[1])

    first, second = sandbox.state.registry_checks()
    assert first["name"] == "张*" and first["id_number"] == "4404**********0018"
    assert (first["match"], first["want_photo"], first["photo_returned"]) == (
        "CONSISTENT",
        False,
        False,
    )
    assert second["match"] == "NAME_MISMATCH"
    assert second["request_id"] == record.request_id
    assert ZHANG_SAN[1] not in repr(sandbox.state.registry_checks())


# --- the seed -------------------------------------------------------------------------


def test_the_seeded_persons_are_the_platforms_demo_citizens_and_two_test_persons() -> None:
    seed = {person.name: person for person in load_seed()}

    assert seed["张三"].id_number == "440402198801010018" == platform_id("44040219880101001")
    assert seed["李四"].id_number == "440402199003150029" == platform_id("44040219900315002")
    assert seed["王𠮷"].id_number == platform_id("44040219850620003")
    assert seed["赵六"].id_number == platform_id("44040219920808004")
    assert seed["钱七"].id_number == platform_id("44040219500101005")
    assert seed["钱七"].status == "DECEASED" and seed["钱七"].photo is None


@pytest.mark.parametrize("photo", ["obama.jpg", "biden.jpg", "lin-manuel-miranda.png"])
def test_the_sandbox_photos_are_copies_of_the_test_photos(photo: str) -> None:
    assert (SANDBOX_FACES / photo).read_bytes() == (TEST_FACES / photo).read_bytes()


def test_the_seed_reads_nothing_outside_the_sandbox_package() -> None:
    document = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    sandbox_data = SEED_FILE.parent.resolve()

    for person in document["persons"]:
        if person["photo"]:
            assert (sandbox_data / person["photo"]).resolve().is_relative_to(sandbox_data)
    assert (SANDBOX_FACES / "README.md").read_text().count("MIT") >= 1


# --- authentication -------------------------------------------------------------------


def test_a_wrong_app_secret_is_refused_by_the_signature_check(
    platform_config: dict[str, Any],
) -> None:
    registry = make_population_registry(dict(platform_config, REGISTRY_APP_SECRET="0" * 64))

    with pytest.raises(RegistryError) as caught:
        registry.check_identity(*ZHANG_SAN)
    assert caught.value.code == "SIGNATURE_INVALID"
    assert caught.value.http_status == 401
    assert not isinstance(caught.value, RegistryUnavailable)


def test_an_unknown_app_key_is_refused(platform_config: dict[str, Any]) -> None:
    registry = make_population_registry(dict(platform_config, REGISTRY_APP_KEY="pr-unknown"))

    with pytest.raises(RegistryError) as caught:
        registry.check_identity(*ZHANG_SAN)
    assert caught.value.code == "APP_KEY_UNKNOWN"


def test_a_replayed_request_is_refused_as_a_reused_nonce(
    registry: HttpPopulationRegistry,
) -> None:
    seen = captured_request(registry)
    registry.check_identity(*ZHANG_SAN, want_photo=False)

    replay = requests.Session().send(seen[0], timeout=5)

    assert replay.status_code == 401
    assert replay.json()["code"] == "NONCE_REUSED"


def test_every_request_of_the_client_has_a_fresh_nonce(registry: HttpPopulationRegistry) -> None:
    seen = captured_request(registry)

    registry.check_identity(*ZHANG_SAN, want_photo=False)
    registry.check_identity(*ZHANG_SAN, want_photo=False)

    assert seen[0].headers["X-Nonce"] != seen[1].headers["X-Nonce"]


def test_a_body_changed_on_the_way_is_refused_by_the_signature_check(
    registry: HttpPopulationRegistry,
) -> None:
    seen = captured_request(registry)
    registry.check_identity(*ZHANG_SAN, want_photo=False)
    forged = seen[0].copy()
    forged.headers["X-Nonce"] = "a-fresh-nonce-0001"  # not even a new nonce helps
    assert isinstance(forged.body, bytes)
    forged.prepare_body(forged.body.replace(b"false", b"true "), None)

    answer = requests.Session().send(forged, timeout=5)

    assert answer.status_code == 401
    assert answer.json()["code"] == "SIGNATURE_INVALID"


@pytest.mark.parametrize("skew_seconds", [-301, 301])
def test_a_request_stamped_more_than_five_minutes_off_is_refused(
    platform_config: dict[str, Any], skew_seconds: int
) -> None:
    registry = HttpPopulationRegistry(
        platform_config["REGISTRY_BASE_URL"],
        platform_config["REGISTRY_APP_KEY"],
        platform_config["REGISTRY_APP_SECRET"],
        clock=lambda: time.time() + skew_seconds,
    )

    with pytest.raises(RegistryError) as caught:
        registry.check_identity(*ZHANG_SAN)
    assert caught.value.code == "TIMESTAMP_EXPIRED"


def test_a_clock_a_few_minutes_off_is_still_accepted(platform_config: dict[str, Any]) -> None:
    registry = HttpPopulationRegistry(
        platform_config["REGISTRY_BASE_URL"],
        platform_config["REGISTRY_APP_KEY"],
        platform_config["REGISTRY_APP_SECRET"],
        clock=lambda: time.time() - 240,
    )

    assert registry.check_identity(*ZHANG_SAN, want_photo=False).confirmed


def test_the_signature_follows_the_documented_example() -> None:
    body = '{"name":"张三","id_number":"440402198801010018","want_photo":false}'.encode()
    args = ("POST", "/population/v1/identity-check", "1767225600000", "3f2a9c1e5b7d4a60", body)

    expected = "8af7d813984fe197f06e960ca394358d466c70ef07c250b7400f3a86a027c2a3"
    assert sign_request("example-app-secret", *args) == expected
    assert signature("example-app-secret", *args) == expected


def test_the_signature_covers_the_path_under_a_base_url_with_a_prefix() -> None:
    registry = make_population_registry(
        {
            "REGISTRY_BASE_URL": "https://share.example.gov.cn/gateway/",
            "REGISTRY_APP_KEY": "k",
            "REGISTRY_APP_SECRET": "s",
        }
    )
    assert isinstance(registry, HttpPopulationRegistry)

    assert registry.url == "https://share.example.gov.cn/gateway/population/v1/identity-check"
    assert registry.path == "/gateway/population/v1/identity-check"


# --- bad requests and unavailability --------------------------------------------------


def test_a_malformed_id_number_is_a_bad_request(registry: HttpPopulationRegistry) -> None:
    with pytest.raises(RegistryError) as caught:
        registry.check_identity("张三", "44040219880101001")
    assert (caught.value.code, caught.value.http_status) == ("BAD_REQUEST", 400)


def test_an_unsigned_request_is_refused(sandbox: RunningSandbox) -> None:
    answer = requests.post(
        sandbox.url + "/population/v1/identity-check",
        json={"name": "张三", "id_number": ZHANG_SAN[1], "want_photo": True},
        timeout=5,
    )

    assert answer.status_code == 401
    assert answer.json()["code"] == "APP_KEY_UNKNOWN"


def test_an_unreachable_registry_raises_unavailable(unreachable_url: str) -> None:
    registry = HttpPopulationRegistry(unreachable_url, "k", "s")

    with pytest.raises(RegistryUnavailable):
        registry.check_identity(*ZHANG_SAN)


def test_a_registry_server_error_raises_unavailable(broken_server) -> None:  # type: ignore[no-untyped-def]
    registry = HttpPopulationRegistry(broken_server.url, "k", "s")

    with pytest.raises(RegistryUnavailable) as caught:
        registry.check_identity(*ZHANG_SAN)
    assert caught.value.http_status == 500


def test_a_registry_that_does_not_answer_in_time_raises_unavailable(broken_server) -> None:  # type: ignore[no-untyped-def]
    broken_server.mode = "slow"
    registry = HttpPopulationRegistry(broken_server.url, "k", "s", timeout=0.2)

    with pytest.raises(RegistryUnavailable):
        registry.check_identity(*ZHANG_SAN)


def test_a_registry_with_its_own_clock_refuses_what_is_stamped_by_ours(
    sandbox: RunningSandbox,
) -> None:
    with start_sandbox(sandbox.settings, clock=lambda: time.time() + 3600) as ahead:
        registry = HttpPopulationRegistry(
            ahead.url, ahead.settings["REGISTRY_APP_KEY"], ahead.settings["REGISTRY_APP_SECRET"]
        )
        with pytest.raises(RegistryError) as caught:
            registry.check_identity(*ZHANG_SAN)
        registry.close()
    assert caught.value.code == "TIMESTAMP_EXPIRED"


# --- privacy and settings -------------------------------------------------------------


def test_logs_show_names_and_id_numbers_masked(
    registry: HttpPopulationRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.integrations.registry")

    registry.check_identity(*ZHANG_SAN)
    registry.check_identity("张四", ZHANG_SAN[1])

    assert "张* 4404**********0018" in caplog.text
    assert ZHANG_SAN[1] not in caplog.text and "张三" not in caplog.text


def test_a_record_shows_no_photo_in_its_repr(registry: HttpPopulationRegistry) -> None:
    record = registry.check_identity(*ZHANG_SAN)

    assert record.photo is not None
    assert "photo" not in repr(record)


def test_the_client_shows_no_secret_in_its_repr(registry: HttpPopulationRegistry) -> None:
    assert registry._app_secret not in repr(registry)


def test_the_factory_needs_the_url_and_both_credentials() -> None:
    complete = {
        "REGISTRY_BASE_URL": "https://share.example.gov.cn/",
        "REGISTRY_APP_KEY": "k",
        "REGISTRY_APP_SECRET": "s",
    }
    for key in complete:
        with pytest.raises(SettingsError, match=key):
            make_population_registry(dict(complete, **{key: ""}))


def test_in_production_names_and_id_numbers_travel_only_over_https() -> None:
    config = {"APP_ENV": "production", "REGISTRY_APP_KEY": "k", "REGISTRY_APP_SECRET": "s"}

    with pytest.raises(SettingsError, match="https"):
        make_population_registry(dict(config, REGISTRY_BASE_URL="http://share.example.gov.cn/"))
    make_population_registry(dict(config, REGISTRY_BASE_URL="https://share.example.gov.cn/"))
    make_population_registry(dict(config, REGISTRY_BASE_URL="http://127.0.0.1:9443/"))
