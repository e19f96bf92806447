"""``flask staff …``: create staff accounts from the command line (and, in development,
read the current TOTP code so nobody needs a phone to try the admin pages)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.kernel.audit import Channel
from app.kernel.errors import DomainError, ValidationFailed
from app.staff import service, totp
from app.staff.models import StaffRole

staff_cli = AppGroup("staff", help="工作人员账号管理。")


def register_staff_cli(app: Flask) -> None:
    app.cli.add_command(staff_cli)


def _fail(error: DomainError) -> click.ClickException:
    message = error.message
    if isinstance(error, ValidationFailed):
        reasons = [reason for problems in error.details["fields"].values() for reason in problems]
        message = "；".join(reasons) or message
    return click.ClickException(message)


def _show_credentials(created: service.CreatedStaff, show_qr: bool) -> None:
    staff = created.staff
    click.echo(f"已创建工作人员：{staff.username}（{'、'.join(r.label for r in staff.roles)}）")
    click.echo(f"初始密码：{created.password}")
    click.echo(f"TOTP 密钥：{created.totp_secret}")
    click.echo(f"TOTP 链接：{created.provisioning_uri}")
    if show_qr:
        click.echo("用验证器（如 Google Authenticator、微信小程序“腾讯身份验证器”）扫描：")
        click.echo(totp.qr_terminal(created.provisioning_uri))
    click.echo("密码和密钥只显示这一次，请当面交给本人；首次登录时需输入验证器中的6位动态验证码。")


def _create(username: str, name: str, roles: list[StaffRole], show_qr: bool) -> None:
    try:
        created = service.create_staff(username, name, roles, channel=Channel.CLI)
    except DomainError as error:
        raise _fail(error) from None
    _show_credentials(created, show_qr)


@staff_cli.command("create-supervisor")
@click.argument("username")
@click.option("--name", required=True, help="姓名（显示名）")
@click.option("--qr/--no-qr", default=True, show_default=True, help="在终端显示二维码")
def create_supervisor(username: str, name: str, qr: bool) -> None:
    """创建主管账号，打印初始密码与 TOTP 密钥。"""
    _create(username, name, [StaffRole.SUPERVISOR], qr)


@staff_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="姓名（显示名）")
@click.option(
    "--role", "roles", required=True, multiple=True,
    type=click.Choice([str(role) for role in StaffRole]),
    help="角色，可重复：" + "，".join(f"{role}={role.label}" for role in StaffRole),
)
@click.option("--qr/--no-qr", default=True, show_default=True, help="在终端显示二维码")
def create(username: str, name: str, roles: tuple[str, ...], qr: bool) -> None:
    """创建工作人员账号，打印初始密码与 TOTP 密钥。"""
    _create(username, name, [StaffRole(role) for role in roles], qr)


@staff_cli.command("totp-code")
@click.argument("username")
def totp_code(username: str) -> None:
    """打印当前的6位动态验证码（仅限开发环境）。"""
    try:
        code = service.current_totp_code(username)
    except DomainError as error:
        raise _fail(error) from None
    click.echo(code)
