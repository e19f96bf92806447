"""``flask institutions create | rotate-key | revoke-key``."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.certificates.models import Certificate
from app.institutions.models import Institution, InstitutionKey
from app.kernel.db import db
from tests.app.institutions.helpers import Bank


def _created(output: str) -> tuple[str, str]:
    key_id = re.search(r"X-Bdc-Key-Id）：(\S+)", output)
    secret = re.search(r"secret）：(\S+)", output)
    assert key_id and secret, output
    return key_id.group(1), secret.group(1)


def test_create_prints_the_key_once_and_it_works(app: Flask, client: Any,
                                                 certificate: Certificate) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=[
        "institutions", "create", "中国银行珠海分行", "--kind", "bank",
        "--scope", "certificates:verify", "--scope", "certificates:read",
        "--credit-code", "91110000600037341L", "--rate", "30 per minute"])
    assert result.exit_code == 0, result.output
    key_id, secret = _created(result.output)
    db.session.rollback()
    institution = db.session.scalar(select(Institution).where(
        Institution.name == "中国银行珠海分行"))
    assert institution is not None and institution.rate_limit == "30 per minute"
    key = db.session.scalar(select(InstitutionKey).where(InstitutionKey.key_id == key_id))
    assert key is not None and key.scopes == ["certificates:verify", "certificates:read"]
    bank = Bank(client, key_id, secret)
    assert bank.verify(certificate.number).status_code == 200

    rotated = runner.invoke(args=["institutions", "rotate-key", key_id])
    assert rotated.exit_code == 0, rotated.output
    new_key_id, new_secret = _created(rotated.output)
    assert Bank(client, new_key_id, new_secret).verify(certificate.number).status_code == 200
    assert bank.verify(certificate.number).status_code == 200  # until revoked

    revoked = runner.invoke(args=["institutions", "revoke-key", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert bank.verify(certificate.number).status_code == 401


def test_create_refuses_bad_input(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["institutions", "create", "某银行", "--kind", "bank",
                                 "--scope", "certificates:read", "--rate", "lots"])
    assert result.exit_code != 0 and "频率限制格式" in result.output
    result = runner.invoke(args=["institutions", "create", "某银行", "--kind", "bank",
                                 "--scope", "certificates:read", "--credit-code", "123"])
    assert result.exit_code != 0 and "统一社会信用代码" in result.output
    result = runner.invoke(args=["institutions", "revoke-key", "bdc_nope"])
    assert result.exit_code != 0 and "未找到该密钥" in result.output
    assert db.session.scalar(select(Institution)) is None
