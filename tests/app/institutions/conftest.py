"""Owners with a certificate, and institutions with keys of different scopes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app.certificates.models import Certificate
from app.institutions import service
from tests.app.institutions.helpers import CO_OWNER, OWNER, STRANGER, Bank, issue_certificate
from tests.flow import Citizen, citizen_by_sms, citizen_by_wechat


@pytest.fixture(autouse=True)
def _clean_sandbox(sandbox: Any) -> Iterator[None]:
    yield
    sandbox.reset()


@pytest.fixture
def owner(app: Flask, client: Any) -> Citizen:
    return citizen_by_wechat(app, client, "zhangsan", *OWNER)


@pytest.fixture
def co_owner(app: Flask, client: Any, sandbox: Any) -> Citizen:
    return citizen_by_sms(app, client, sandbox, "13800000002", *CO_OWNER)


@pytest.fixture
def stranger(app: Flask, client: Any) -> Citizen:
    return citizen_by_wechat(app, client, "wangwu", *STRANGER)


@pytest.fixture
def certificate(owner: Citizen, co_owner: Citizen) -> Certificate:
    """Held 1/2 each by the owner and the co-owner."""
    return issue_certificate(owner.account_id, [
        (owner.person_id, *OWNER, "1/2"), (co_owner.person_id, *CO_OWNER, "1/2")])


def make_bank(client: Any, name: str, scopes: list[str], kind: str = "bank",
              rate: str = "60 per minute") -> Bank:
    institution, key_id, secret = service.create_institution(name, kind, None, scopes, rate)
    return Bank(client, key_id, secret, institution.name)


@pytest.fixture
def bank(client: Any) -> Bank:
    return make_bank(client, "中国工商银行珠海分行", ["certificates:verify", "certificates:read"])


@pytest.fixture
def verifier(client: Any) -> Bank:
    return make_bank(client, "珠海诚信房产中介有限公司", ["certificates:verify"], kind="agency")


@pytest.fixture
def court(client: Any) -> Bank:
    return make_bank(client, "珠海市香洲区人民法院", ["certificates:legal"], kind="court")
