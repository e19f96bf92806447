"""``flask institutions …``: onboard an institution, rotate and revoke its keys."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.institutions import service
from app.institutions.models import SCOPES
from app.kernel.errors import DomainError, ValidationFailed

institutions_cli = AppGroup("institutions", help="接入机构（银行、中介、法院）与 API 密钥管理。")


def register_institutions_cli(app: Flask) -> None:
    app.cli.add_command(institutions_cli)


def _fail(error: DomainError) -> click.ClickException:
    message = error.message
    if isinstance(error, ValidationFailed):
        reasons = [reason for problems in error.details["fields"].values() for reason in problems]
        message = "；".join(reasons) or message
    return click.ClickException(message)


def _show_key(key_id: str, secret: str) -> None:
    click.echo(f"密钥编号（X-Bdc-Key-Id）：{key_id}")
    click.echo(f"签名密钥（secret）：{secret}")
    click.echo("签名密钥只显示这一次，请通过安全渠道交给机构；遗失后只能轮换新密钥。")


@institutions_cli.command("create")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(list(service.KINDS)),
              help="机构类型：" + "，".join(f"{k}={v}" for k, v in service.KINDS.items()))
@click.option("--scope", "scopes", required=True, multiple=True,
              type=click.Choice(list(SCOPES)),
              help="权限范围，可重复：" + "，".join(f"{k}={v}" for k, v in SCOPES.items()))
@click.option("--credit-code", default=None, help="统一社会信用代码")
@click.option("--rate", default=service.DEFAULT_RATE_LIMIT, show_default=True,
              help="每个密钥的调用频率上限，如“60 per minute”")
def create(name: str, kind: str, scopes: tuple[str, ...], credit_code: str | None,
           rate: str) -> None:
    """登记接入机构并签发第一个密钥，打印密钥编号和签名密钥（只显示一次）。"""
    try:
        institution, key_id, secret = service.create_institution(
            name, kind, credit_code, list(scopes), rate)
    except DomainError as error:
        raise _fail(error) from None
    click.echo(f"已登记机构：{institution.name}（编号 {institution.id}，"
               f"{service.KINDS[institution.kind]}，{institution.rate_limit}）")
    click.echo("权限范围：" + "、".join(scopes))
    _show_key(key_id, secret)


@institutions_cli.command("rotate-key")
@click.argument("key_id")
@click.option("--revoke-old", is_flag=True,
              help="同时立即停用旧密钥（默认旧密钥继续有效，待机构切换后再停用）")
def rotate_key(key_id: str, revoke_old: bool) -> None:
    """为密钥所属机构签发新密钥（权限范围相同）。"""
    try:
        new_key_id, secret = service.rotate_key(key_id, revoke_old=revoke_old)
    except DomainError as error:
        raise _fail(error) from None
    _show_key(new_key_id, secret)
    old = "已停用" if revoke_old else "仍有效，请在机构切换后执行 revoke-key"
    click.echo(f"旧密钥 {key_id}：{old}")


@institutions_cli.command("revoke-key")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    """立即停用一个密钥。"""
    try:
        key = service.revoke_key(key_id)
    except DomainError as error:
        raise _fail(error) from None
    click.echo(f"已停用密钥 {key.key_id}（{key.institution.name}）")
