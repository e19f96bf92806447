"""What the public QR page and the institutions' verify call need, cached in the process.

Both answer "valid or revoked, issued when, by whom (masked)" for a certificate number,
hundreds of times a second, while a certificate changes a handful of times in its life
(issued, revoked, replaced). :func:`facts` keeps those answers in memory:

* **This process: at once.** Every ORM change to a ``Certificate`` row (a revocation by
  ``corrections.revoke``, ``service._replace_older``, a discharge's
  ``lifecycle.revoke_for_discharge``, anything else that sets its attributes), a bulk
  ``update()``/``delete()`` of certificates or cases, and a change of a case's status
  invalidates the entries concerned in *every* cache of the process when its transaction
  commits (and again on rollback, harmlessly). The hook is a set of SQLAlchemy session
  events below: callers need not know about the cache. A load that was under way while
  an invalidation happened is not stored (a generation counter), so no stale answer
  survives the commit.
* **Other processes (other gunicorn workers, the job runner): within the TTL**,
  ``CERT_STATUS_CACHE_TTL`` seconds (default 2), after which an entry is read again from
  the database. A revocation committed in one worker is shown by every worker within 2 s.
* Only certificates that are shown (issued, files ready, case paid) are cached; unknown
  numbers and certificates still being issued are read from the database every time.
* Raw SQL (``text("UPDATE certificates …")``) bypasses the hook: the TTL still bounds it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Executable, bindparam, event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, aliased

from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.certificates.content import KIND_TITLES, CertificateContent
from app.certificates.models import Certificate, CertificateStatus
from app.kernel.db import db
from app.kernel.validators import mask_name

DEFAULT_TTL = 2.0  # seconds; the bound for other processes (see the module's doc)
MAX_ENTRIES = 20_000
VISIBLE_CASE_STATUSES = (CaseStatus.CERTIFICATE_ISSUED, CaseStatus.ARCHIVED)
EXTENSION = "certificate_status_cache"


@dataclass(frozen=True)
class CertificateFacts:
    """A shown certificate as the QR page and the verify call see it (no personal data
    beyond the masked holders' names)."""

    id: int
    number: str
    kind: str
    case_id: int
    status: str
    issue_date: date
    revoked_at: datetime | None
    replaced_by: str | None  # the number of the certificate replacing it
    content_hash: str
    holders: tuple[str, ...]  # masked: 张*

    @property
    def status_enum(self) -> CertificateStatus:
        return CertificateStatus(self.status)

    @property
    def valid(self) -> bool:
        return self.status_enum == CertificateStatus.VALID

    @property
    def kind_label(self) -> str:
        return KIND_TITLES[self.kind]


class StatusCache:
    """number -> (expiry, facts) for one app; thread-safe."""

    def __init__(self, ttl: float = DEFAULT_TTL, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, CertificateFacts]] = {}
        self._by_case: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        _caches.add(self)

    def get(self, number: str) -> CertificateFacts | None:
        """The facts of a shown certificate (cached, or read now); None otherwise."""
        hit = self._entries.get(number)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        facts = load(number)
        if facts is not None and self.ttl > 0:
            with self._lock:
                if generation == self._generation:  # nothing invalidated meanwhile
                    if len(self._entries) >= self.max_entries:
                        self._clear()
                    self._entries[number] = (now + self.ttl, facts)
                    self._by_case.setdefault(facts.case_id, set()).add(number)
        return facts

    def invalidate(self, numbers: Iterable[str] = (), case_ids: Iterable[int] = (),
                   everything: bool = False) -> None:
        with self._lock:
            self._generation += 1
            if everything:
                self._clear()
                return
            for case_id in case_ids:
                numbers = [*numbers, *self._by_case.pop(case_id, ())]
            for number in numbers:
                entry = self._entries.pop(number, None)
                if entry is not None:
                    cased = self._by_case.get(entry[1].case_id)
                    if cased is not None:
                        cased.discard(number)
                        if not cased:
                            del self._by_case[entry[1].case_id]

    def _clear(self) -> None:
        self._entries.clear()
        self._by_case.clear()

    def __len__(self) -> int:
        return len(self._entries)


_caches: weakref.WeakSet[StatusCache] = weakref.WeakSet()


def cache_for(app: Flask | None = None) -> StatusCache:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get(EXTENSION)
    if cache is None:
        cache = app.extensions.setdefault(EXTENSION, StatusCache(
            float(app.config.get("CERT_STATUS_CACHE_TTL", DEFAULT_TTL))))
    assert isinstance(cache, StatusCache)
    return cache


def facts(number: str) -> CertificateFacts | None:
    """The current app's cached facts of a shown certificate; None for anything else."""
    return cache_for().get(number)


def invalidate(*numbers: str) -> None:
    """Forget these numbers (every number with none given) in every cache of the process.
    The session events call it on commit; callers normally need not."""
    for cache in list(_caches):
        cache.invalidate(numbers, everything=not numbers)


def _statement() -> Executable:
    """Built once: a fresh ``aliased()`` per call would miss SQLAlchemy's compiled cache
    (1.7 ms a load instead of 0.2 ms)."""
    replacement = aliased(Certificate)
    return (select(Certificate.id, Certificate.number, Certificate.kind, Certificate.case_id,
                   Certificate.status, Certificate.issue_date, Certificate.revoked_at,
                   Certificate.content_hash, Certificate.content_json,
                   replacement.number.label("replaced_by"), Case.status.label("case_status"))
            .join(Case, Case.id == Certificate.case_id)
            .outerjoin(replacement, replacement.id == Certificate.replaced_by_id)
            .where(Certificate.number == bindparam("number")))


_LOAD = _statement()


def load(number: str) -> CertificateFacts | None:
    """Read a certificate's facts from the database if it is shown (not issuing, its case
    ``certificate_issued`` or ``archived``)."""
    row = db.session.execute(_LOAD, {"number": number}).first()
    if row is None or row.status == CertificateStatus.ISSUING or (
            row.case_status not in VISIBLE_CASE_STATUSES):
        return None
    content = CertificateContent.from_json(row.content_json.encode("utf-8"))
    return CertificateFacts(
        id=row.id, number=row.number, kind=row.kind, case_id=row.case_id, status=row.status,
        issue_date=row.issue_date, revoked_at=row.revoked_at, replaced_by=row.replaced_by,
        content_hash=row.content_hash,
        holders=tuple(mask_name(h.name) or "" for h in content.holders))


# --- invalidation: SQLAlchemy session events, for every session of the process ---------------

_PENDING = "certificate_status_cache.pending"


def _pending(session: Session) -> dict[str, Any]:
    pending: dict[str, Any] = session.info.setdefault(
        _PENDING, {"numbers": set(), "case_ids": set(), "everything": False})
    return pending


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, flush_context: Any, instances: Any) -> None:
    pending = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Certificate):
            pending = pending or _pending(session)
            number = inspect(obj).dict.get("number")
            if number is None:
                pending["everything"] = True
            else:
                pending["numbers"].add(number)
        elif isinstance(obj, Case) and obj not in session.new:
            state = inspect(obj)
            if state.attrs.status.history.has_changes() or obj in session.deleted:
                pending = pending or _pending(session)
                pending["case_ids"].add(state.identity[0] if state.identity else None)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
            m.class_ in (Certificate, Case) for m in state.all_mappers):
        _pending(state.session)["everything"] = True


def _apply(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    numbers = pending["numbers"]
    case_ids = [c for c in pending["case_ids"] if c is not None]
    for cache in list(_caches):
        cache.invalidate(numbers, case_ids, everything=pending["everything"])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    _apply(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    # Entries read inside the transaction may hold its uncommitted changes: drop them.
    _apply(session)
