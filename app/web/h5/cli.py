"""``flask links create|revoke``: short links by hand (development, helpdesk scripts)."""

from __future__ import annotations

from datetime import timedelta

import click

from app.kernel.audit import Channel
from app.links import service as links
from app.links.models import LinkPurpose
from app.usecases import mobile_web
from app.web.h5 import bp


@bp.cli.command("create")
@click.argument("purpose", type=click.Choice([p.value for p in LinkPurpose]))
@click.argument("target")
@click.option("--person", "person_id", type=int, required=True, help="persons.id")
@click.option("--account", "account_id", type=int, default=None, help="accounts.id")
@click.option("--days", type=int, default=None, help="lifetime (default SHORT_LINK_TTL_DAYS)")
def create_command(purpose: str, target: str, person_id: int, account_id: int | None,
                   days: int | None) -> None:
    """Create a short link and print its URL (shown once)."""
    try:
        link, code = mobile_web.create_link(purpose, target, person_id, account_id,
                                            timedelta(days=days) if days else None)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"link {link.id}: {links.link_url(code)} (expires {link.expires_at:%Y-%m-%d %H:%M}"
               " UTC)")


@bp.cli.command("revoke")
@click.argument("link_id", type=int)
def revoke_command(link_id: int) -> None:
    """Revoke a short link at once."""
    if not links.revoke(link_id, "system", channel=Channel.CLI):
        raise click.ClickException(f"no unrevoked link {link_id}")
    click.echo(f"link {link_id} revoked")
