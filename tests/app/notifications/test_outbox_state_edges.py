"""The status machine of an outbox message, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from app.notifications.models import OUTBOX_STATES, OutboxStatus
from tests.status_machines import edge_by_edge

ALLOWED = {
    (OutboxStatus.PENDING, OutboxStatus.SENT),
    (OutboxStatus.PENDING, OutboxStatus.FAILED),
    (OutboxStatus.PENDING, OutboxStatus.SKIPPED),
    (OutboxStatus.FAILED, OutboxStatus.PENDING),
}

(test_the_table_holds_exactly_the_allowed_edges,
 test_an_allowed_edge_moves_the_status,
 test_any_other_pair_is_refused_and_changes_nothing) = edge_by_edge(
    OUTBOX_STATES, OutboxStatus, ALLOWED)
