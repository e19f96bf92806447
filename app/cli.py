"""Command-line tools (``flask --app wsgi …``)."""

from __future__ import annotations

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    from app.staff.cli import register_staff_cli

    register_staff_cli(app)

    @app.cli.command("load-reference-data")
    def load_reference_data() -> None:
        """Load business types from app/cases/business_types.json (keeps edited ones)."""
        from app.cases.service import load_business_types

        click.echo(f"business types loaded: {load_business_types()}")
