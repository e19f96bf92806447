"""Background jobs: retry waiting checks, settle orders whose notification never came,
finish refunds, issue certificates and e-bills, reconcile yesterday's bills, drain the
outbox.

``flask --app wsgi jobs run`` runs them in a loop (one process per deployment is
enough; every step is safe to run twice); ``jobs run-once`` runs one pass. ``make run``
starts the loop in a thread.
"""

from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.certificates import access_log
from app.kernel.db import db
from app.kernel.wakeup import WAKE as _wake
from app.kernel.wakeup import nudge
from app.notifications.reminders import remind_due
from app.notifications.service import drain
from app.usecases.checks import run_due_checks
from app.usecases.deliveries import move_deliveries
from app.usecases.ebills import issue_due as issue_ebills
from app.usecases.issue_certificate import issue_due
from app.usecases.payments import query_open_orders, query_processing_refunds, send_approved_refunds
from app.usecases.reconciliation import reconcile_due

logger = logging.getLogger(__name__)


__all__ = ["nudge", "run_once", "start_worker", "register_jobs_cli"]


def run_once() -> dict[str, int]:
    """One pass of every job (inside an app context)."""

    cases = run_due_checks()
    orders = query_open_orders()
    refunds_sent = send_approved_refunds()  # a double payment's, after its settle commit
    refunds = query_processing_refunds()
    certificates = issue_due()
    ebills = issue_ebills()
    deliveries = move_deliveries()
    bills = reconcile_due()
    reminded = remind_due()  # appointments of tomorrow, from 09:00
    sent = drain()
    accesses = access_log.flush(quiet=True)  # what the QR page and verify calls queued
    return {"cases_checked": cases, "orders_queried": orders, "refunds_sent": refunds_sent,
            "refunds_queried": refunds,
            "certificates_issued": certificates, "ebills_issued": ebills,
            "deliveries_moved": deliveries,
            "bills_reconciled": bills, "appointments_reminded": reminded, **sent,
            "accesses_logged": accesses}


def _loop(app: Flask, interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        with app.app_context():
            try:
                run_once()
            except Exception:  # keep the worker alive; the next pass retries
                logger.exception("job pass failed")

                db.session.rollback()
        _wake.wait(interval)
        _wake.clear()


class _Stop(threading.Event):
    """Setting it also wakes the worker."""

    def set(self) -> None:
        super().set()
        _wake.set()


# A pass with nothing to do costs a few milliseconds (bench/certificates.py); one a second
# keeps "paid → certificate" within seconds in a separate `flask jobs run` process, which
# the web process's nudge() cannot wake.
DEFAULT_INTERVAL = 1.0


def start_worker(app: Flask, interval: float = DEFAULT_INTERVAL) -> threading.Event:
    stop = _Stop()
    threading.Thread(target=_loop, args=(app, interval, stop), name="jobs", daemon=True).start()
    return stop


def register_jobs_cli(app: Flask) -> None:
    group = AppGroup("jobs", help="Background jobs (checks retry, notifications).")

    @group.command("run-once")
    def run_once_command() -> None:
        """Run every job once and print what was done."""
        click.echo(run_once())

    @group.command("run")
    @click.option("--interval", default=DEFAULT_INTERVAL, show_default=True,
                  help="seconds between passes")
    def run_command(interval: float) -> None:
        """Run the jobs in a loop until interrupted."""
        stop = start_worker(current_app._get_current_object(), interval)  # type: ignore[attr-defined]
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            stop.set()

    app.cli.add_command(group)
