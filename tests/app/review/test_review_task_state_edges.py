"""The status machine of a review task, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from app.review.models import TASK_STATES, TaskStatus
from tests.status_machines import edge_by_edge

ALLOWED = {
    (TaskStatus.OPEN, TaskStatus.CLAIMED),
    (TaskStatus.CLAIMED, TaskStatus.OPEN),
    (TaskStatus.OPEN, TaskStatus.APPROVED),
    (TaskStatus.CLAIMED, TaskStatus.APPROVED),
    (TaskStatus.OPEN, TaskStatus.RETURNED),
    (TaskStatus.CLAIMED, TaskStatus.RETURNED),
    (TaskStatus.APPROVED, TaskStatus.SUPERSEDED),
    (TaskStatus.RETURNED, TaskStatus.SUPERSEDED),
    (TaskStatus.OPEN, TaskStatus.CLOSED),
    (TaskStatus.CLAIMED, TaskStatus.CLOSED),
}

(test_the_table_holds_exactly_the_allowed_edges,
 test_an_allowed_edge_moves_the_status,
 test_any_other_pair_is_refused_and_changes_nothing) = edge_by_edge(
    TASK_STATES, TaskStatus, ALLOWED)
