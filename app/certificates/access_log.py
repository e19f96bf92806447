"""The certificate access log off the request path: rows buffered, written in batches.

The public QR page and the institutions' verify call record every look at a certificate
(``certificate_accesses``, the owner's "谁查看了我的证书"; for institutions also an audit
record). Committing one row per request cost more than everything else those requests
do, so they hand their rows to :func:`record` instead, and a writer writes them:

* **a writer thread** (one per process, started by the first row) waits
  ``CERT_ACCESS_LOG_DELAY`` seconds (default 0.25) after the first row of a batch, then
  writes everything pending, each app's rows in **one transaction** (an ``INSERT`` of many
  rows per table), at once when ``MAX_BATCH`` rows are waiting;
* **the job runner's pass** (``app.jobs.run_once``) flushes too, as does **interpreter
  exit** (``atexit``, e.g. a gunicorn worker's graceful stop) and **disposing the app's
  engine** (what the tests do when they tear an app down);
* **reading flushes first**: ``viewing.accesses`` (the owner's list) calls :func:`flush`
  before it reads, so a look recorded in this process is always listed; one recorded in
  another process is listed once that process's writer has run, normally within a second;
* **a failed write loses nothing**: the batch goes back to the head of the queue and is
  retried (every ``RETRY_SECONDS``, and by every later flush); past ``MAX_PENDING`` rows
  waiting, :func:`record` writes synchronously first, so a request whose look cannot be
  recorded fails instead of being answered unrecorded.

A row's time (``at``, ``occurred_at``) is taken when the look happens, not when written,
and an access row and its audit record are always written in the same transaction.

What is *not* buffered: the owner's own views (rare, and committed with their request),
and every institution **lookup** — content disclosure and every refusal stay committed
before the answer leaves (docs/institutions.md explains the choice).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine

from app.certificates.models import CertificateAccess
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from app.kernel.timeutil import utcnow

logger = logging.getLogger(__name__)

DEFAULT_DELAY = 0.25  # seconds the first row of a batch waits for company
MAX_BATCH = 1000  # rows waiting that wake the writer at once
MAX_PENDING = 50_000  # rows waiting beyond which record() writes synchronously first
RETRY_SECONDS = 2.0  # after a failed write
EXTENSION = "certificate_access_log"


class AccessLog:
    """One app's pending rows and the lock that makes its writes one at a time."""

    def __init__(self, app: Flask, delay: float = DEFAULT_DELAY) -> None:
        self.app = app
        self.delay = delay
        self._accesses: list[dict[str, Any]] = []
        self._audits: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # the lists
        self._write_lock = threading.Lock()  # one batch at a time, in order
        self._engine: Engine | None = None
        self.due_at = 0.0  # time.monotonic() when the writer is to write what is pending
        self._in_flight = 0  # rows taken by a write not finished yet
        self.batches = 0  # written so far (for the benchmark and the curious)
        self.rows_written = 0
        with _registry_lock:
            _logs.add(self)

    @property
    def pending(self) -> int:
        """Rows waiting for a write."""
        return len(self._accesses) + len(self._audits)

    @property
    def unwritten(self) -> int:
        """Rows not in the database yet: waiting, or in a write under way."""
        with self._lock:
            return self.pending + self._in_flight

    def add(self, accesses: list[dict[str, Any]], audits: list[dict[str, Any]]) -> None:
        if self._engine is None:
            self.engine()  # now, so that disposing it writes what is pending
        if self.pending >= MAX_PENDING:
            self.flush()  # back-pressure: raises when the database cannot take them
        with self._lock:
            was_empty = not self._accesses and not self._audits
            self._accesses.extend(accesses)
            self._audits.extend(audits)
            full = self.pending >= MAX_BATCH
            if was_empty or full:
                self.due_at = time.monotonic() + (0.0 if full else self.delay)
        if was_empty or full:
            _wake_writer()

    def flush(self) -> int:
        """Write every pending row (one transaction); the number written. On failure the
        rows stay queued, in order, and the error is raised."""
        with self._write_lock:
            with self._lock:
                accesses, self._accesses = self._accesses, []
                audits, self._audits = self._audits, []
                self._in_flight = len(accesses) + len(audits)
            if not accesses and not audits:
                return 0
            try:
                with self.engine().begin() as connection:
                    if accesses:
                        connection.execute(insert(CertificateAccess), accesses)
                    if audits:
                        connection.execute(insert(AuditRecord), audits)
            except BaseException:
                with self._lock:
                    self._accesses[:0] = accesses
                    self._audits[:0] = audits
                    self._in_flight = 0
                raise
            with self._lock:
                self._in_flight = 0
            self.batches += 1
            self.rows_written += len(accesses) + len(audits)
            return len(accesses) + len(audits)

    def engine(self) -> Engine:
        if self._engine is None:
            if has_app_context() and current_app._get_current_object() is self.app:  # type: ignore[attr-defined]
                engine = db.engine
            else:
                with self.app.app_context():
                    engine = db.engine
            event.listen(engine, "engine_disposed", self._on_dispose)
            self._engine = engine
        return self._engine

    def _on_dispose(self, engine: Engine) -> None:
        """The app is being torn down (tests): write what is pending, close again."""
        if self.pending:
            try:
                self.flush()
            except Exception:
                logger.exception("writing the certificate access log failed; retried later")
            finally:
                engine.pool.dispose()

    def _reset_after_fork(self) -> None:
        # The parent writes what it had; the child starts empty (no row written twice).
        self._accesses, self._audits = [], []
        self._lock, self._write_lock = threading.Lock(), threading.Lock()


_logs: weakref.WeakSet[AccessLog] = weakref.WeakSet()  # every app's, for the writer
_registry_lock = threading.Lock()


def _all_logs() -> list[AccessLog]:
    with _registry_lock:
        return list(_logs)


def log_for(app: Flask | None = None) -> AccessLog:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    log = app.extensions.get(EXTENSION)
    if log is None:
        log = app.extensions.setdefault(EXTENSION, AccessLog(
            app, float(app.config.get("CERT_ACCESS_LOG_DELAY", DEFAULT_DELAY))))
    assert isinstance(log, AccessLog)
    return log


def access_row(certificate_id: int, *, accessor_type: str, accessor_id: str | None,
               label: str, action: str, channel: str, outcome: str = "allowed",
               basis: str | None = None) -> dict[str, Any]:
    """A ``certificate_accesses`` row, timed now."""
    return {"certificate_id": certificate_id, "at": utcnow(), "accessor_type": accessor_type,
            "accessor_id": accessor_id, "accessor_label": label[:100], "action": action,
            "channel": channel, "outcome": outcome, "basis": basis}


def audit_row(*, actor_type: str, actor_id: object, channel: str, action: str,
              entity_type: str, entity_id: object, before: Mapping[str, Any] | None = None,
              after: Mapping[str, Any] | None = None, note: str | None = None
              ) -> dict[str, Any]:
    """An ``audit_records`` row as :func:`app.audit.record` makes it, timed now."""
    return {"occurred_at": utcnow(), "actor_type": str(actor_type),
            "actor_id": None if actor_id is None else str(actor_id), "channel": str(channel),
            "action": action, "entity_type": entity_type, "entity_id": str(entity_id),
            "before": dict(before) if before is not None else None,
            "after": dict(after) if after is not None else None, "note": note}


def record(access: dict[str, Any] | None = None, audit: dict[str, Any] | None = None) -> None:
    """Queue an access row and/or an audit record (written together) for the current app."""
    log_for().add([access] if access else [], [audit] if audit else [])


def flush(app: Flask | None = None, *, quiet: bool = False) -> int:
    """Write the app's pending rows now; how many. ``quiet``: log a failure instead of
    raising it (the rows stay queued either way)."""
    try:
        return log_for(app).flush()
    except Exception:
        if not quiet:
            raise
        logger.exception("writing the certificate access log failed; retried later")
        return 0


def pending(app: Flask | None = None) -> int:
    """The app's rows not in the database yet."""
    return log_for(app).unwritten


# --- the writer thread -------------------------------------------------------------------------

_wake = threading.Event()
_writer_lock = threading.Lock()
_writer: threading.Thread | None = None


def _wake_writer() -> None:
    if _writer is None or not _writer.is_alive():
        _start_writer()
    _wake.set()


def _start_writer() -> None:
    global _writer
    with _writer_lock:
        if _writer is not None and _writer.is_alive():
            return
        _writer = threading.Thread(target=_run, name="certificate-access-log", daemon=True)
        _writer.start()


def _flush_all() -> None:
    """Every app's pending rows, now (at exit)."""
    for log in _all_logs():
        if log.pending:
            try:
                log.flush()
            except Exception:
                logger.exception("writing the certificate access log failed")


def _run() -> None:
    """Write each app's rows when they are due; sleep until the next are."""
    while True:
        _wake.clear()  # before looking: a row queued from now on wakes the wait below
        now = time.monotonic()
        for log in _all_logs():
            if log.pending and log.due_at <= now:
                try:
                    log.flush()
                except Exception:
                    logger.exception("writing the certificate access log failed; retrying "
                                     "in %s s", RETRY_SECONDS)
                    log.due_at = time.monotonic() + RETRY_SECONDS
        due = [log.due_at for log in _all_logs() if log.pending]
        _wake.wait(max(0.0, min(due) - time.monotonic()) if due else None)


def _after_fork_in_child() -> None:
    global _writer, _writer_lock, _wake, _registry_lock
    _writer = None
    _writer_lock, _wake, _registry_lock = threading.Lock(), threading.Event(), threading.Lock()
    for log in list(_logs):
        log._reset_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_flush_all)
