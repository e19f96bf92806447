"""Reconciliation results for the finance pages (the runs are the use case
app/usecases/reconciliation.py; the comparison is payments/reconcile.py)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.kernel.db import db
from app.kernel.timeutil import local_date
from payments.models import Reconciliation


def latest_result(gateway: str, day: date) -> Reconciliation | None:
    return db.session.scalar(select(Reconciliation).where(
        Reconciliation.gateway == gateway, Reconciliation.day == day))


def run(run_id: int) -> Reconciliation | None:
    """One reconciliation run by id (None for an unknown one)."""
    return db.session.get(Reconciliation, run_id)


def recent(days: int = 14) -> list[Reconciliation]:
    since = local_date() - timedelta(days=days)
    return list(db.session.scalars(select(Reconciliation).where(Reconciliation.day >= since)
                                   .order_by(Reconciliation.day.desc(), Reconciliation.gateway)))
