"""Command-line tools (``flask --app wsgi …``)."""

from __future__ import annotations

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    from app.jobs import register_jobs_cli
    from app.staff.cli import register_staff_cli

    register_staff_cli(app)
    register_jobs_cli(app)

    @app.cli.command("load-reference-data")
    def load_reference_data() -> None:
        """Load business types, service halls and the next 14 days of slots (idempotent)."""
        from app.reference import load_reference_data as load
        from app.timeutil import local_date

        click.echo(load(local_date()))

    @app.cli.command("generate-slots")
    @click.option("--days", default=14, show_default=True, help="how many days ahead")
    def generate_slots(days: int) -> None:
        """Create appointment slots for the coming working days (idempotent)."""
        from app.appointments.service import generate_slots as generate
        from app.timeutil import local_date

        click.echo(f"slots created: {generate(local_date(), days)}")
