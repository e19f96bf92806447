"""Daily reconciliation against each gateway's bill: run by the job, a supervisor or
``flask payments reconcile``; every run audited, differences listed at
``/admin/reconciliation`` (the comparison is payments/reconcile.py)."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from app.fees.checkout import gateways
from app.fees.reconciliation import latest_result
from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.timeutil import SHANGHAI, utcnow
from payments import reconcile as core
from payments.gateways.base import GatewayError
from payments.models import Reconciliation, ReconciliationStatus

logger = logging.getLogger(__name__)

# WeChat makes day D's bill from D+1 09:00 and recommends fetching after 10:00; Alipay's is
# ready in the morning too. The job asks from 10:30 Beijing time.
BILLS_READY = time(10, 30)
LOOK_BACK_DAYS = 3  # a job that was down catches up on the days it missed
RETRY_FAILED_AFTER = timedelta(hours=1)


def reconcile(day: date, gateway_names: list[str] | None = None,
              staff_id: int | None = None, at: datetime | None = None) -> list[Reconciliation]:
    """Fetch each gateway's bill of ``day`` (nothing pending while it is fetched) and
    compare; one transaction each: the result and its audit record."""
    done = []
    for name, gateway in sorted(gateways().items()):
        if gateway_names and name not in gateway_names:
            continue
        try:
            lines = gateway.statement(day)
            error = None
        except GatewayError as exc:
            lines, error = None, f"{exc.code}: {exc.message}"
            db.session.rollback()
        checked_by = f"staff:{staff_id}" if staff_id is not None else "system"
        row = core.record(name, day, checked_by, lines, error, at)
        audit.record(actor_type=ActorType.STAFF if staff_id is not None else ActorType.SYSTEM,
                     actor_id=str(staff_id) if staff_id is not None else "reconciliation",
                     channel=Channel.ADMIN if staff_id is not None else Channel.SYSTEM,
                     action="payments.reconciled", entity_type="reconciliation",
                     entity_id=f"{name}:{day.isoformat()}",
                     after={"status": row.status, "differences": len(row.differences),
                            "error": row.error})
        db.session.commit()
        if row.status != ReconciliationStatus.MATCHED:
            logger.warning("reconciliation %s %s: %s (%d differences) %s", name, day,
                           row.status, len(row.differences), row.error or "")
        done.append(row)
    return done


def reconcile_due(now: datetime | None = None) -> int:
    """The job: yesterday's bills (and the days before, if missed) once they are ready;
    a bill that could not be fetched is asked for again an hour later."""
    now = now or utcnow()
    local = now.astimezone(SHANGHAI)
    latest = local.date() - timedelta(days=1 if local.time() >= BILLS_READY else 2)
    runs = 0
    for back in range(LOOK_BACK_DAYS):
        day = latest - timedelta(days=back)
        for name in sorted(gateways()):
            row = latest_result(name, day)
            if row is not None and not (row.status == ReconciliationStatus.FAILED
                                        and row.checked_at <= now - RETRY_FAILED_AFTER):
                continue
            reconcile(day, [name], at=now)
            runs += 1
    return runs
