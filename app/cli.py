"""Command-line tools (``flask --app wsgi …``)."""

from __future__ import annotations

import click
from flask import Flask

from app.accounts.models import Account
from app.appointments.service import generate_slots as make_slots
from app.identity import claims
from app.institutions.cli import register_institutions_cli
from app.jobs import register_jobs_cli
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.timeutil import local_date
from app.reference import load_reference_data as load_reference
from app.staff.cli import register_staff_cli
from app.usecases.reconciliation import reconcile
from app.workdays.cli import register_cli as register_calendar_cli
from payments.models import ReconciliationStatus


def register_cli(app: Flask) -> None:
    register_staff_cli(app)
    register_jobs_cli(app)
    register_payments_cli(app)
    register_calendar_cli(app)
    register_institutions_cli(app)

    @app.cli.command("load-reference-data")
    def load_reference_data() -> None:
        """Load business types, service halls and the next 14 days of slots (idempotent)."""
        click.echo(load_reference(local_date()))

    @app.cli.command("generate-slots")
    @click.option("--days", default=14, show_default=True, help="how many days ahead")
    def generate_slots(days: int) -> None:
        """Create appointment slots for the coming working days (idempotent)."""
        click.echo(f"slots created: {make_slots(local_date(), days)}")

    @app.cli.command("dev-identity-claim")
    @click.argument("account_id", type=int)
    def dev_identity_claim(account_id: int) -> None:
        """Development only: print an identity claim for an already verified account.

        Stands in for the face verification when trying the API from the docs page
        (the camera steps need the mini-program). Refused outside development.
        """
        from flask import current_app

        if current_app.config.get("APP_ENV") != "development":
            raise click.ClickException("dev-identity-claim is for development only")
        account = db.session.get(Account, account_id)
        if account is None or account.person_id is None:
            raise click.ClickException("no such account, or its identity is not verified yet")
        claim = claims.issue(account.id, account.person_id, "dev-cli")
        audit.record(actor_type=ActorType.SYSTEM, actor_id="dev-cli", channel=Channel.CLI,
                     action="identity.dev_claim_issued", entity_type="account",
                     entity_id=account.id)
        db.session.commit()
        click.echo(claim.token)


def register_payments_cli(app: Flask) -> None:
    from datetime import datetime, timedelta

    from flask.cli import AppGroup

    group = AppGroup("payments", help="Payments: reconciliation with the gateways' bills.")

    @group.command("reconcile")
    @click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Beijing-time day (default: yesterday)")
    @click.option("--gateway", "gateway_names", multiple=True,
                  help="wechat / alipay (default: all)")
    def reconcile_command(day: datetime | None, gateway_names: tuple[str, ...]) -> None:
        """Compare the gateways' bills of one day with the platform and list differences."""
        chosen = day.date() if day else local_date() - timedelta(days=1)
        failed = False
        for row in reconcile(chosen, list(gateway_names) or None):
            click.echo(f"{row.gateway} {row.day}: {row.status_enum.label}"
                       + (f" ({row.error})" if row.error else ""))
            for diff in row.differences:
                click.echo(f"  {diff.kind_enum.label} {diff.line_kind} {diff.out_trade_no}"
                           f" {diff.out_refund_no or ''} {diff.note}")
            failed = failed or row.status != ReconciliationStatus.MATCHED
        if failed:
            raise SystemExit(1)

    app.cli.add_command(group)
