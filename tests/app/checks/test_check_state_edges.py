"""The status machine of a check, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from app.checks.models import CHECK_STATES, CheckStatus
from tests.status_machines import edge_by_edge

ALLOWED = {
    (CheckStatus.PENDING, CheckStatus.WAITING),
    (CheckStatus.PENDING, CheckStatus.PASSED),
    (CheckStatus.PENDING, CheckStatus.FAILED),
    (CheckStatus.WAITING, CheckStatus.PASSED),
    (CheckStatus.WAITING, CheckStatus.FAILED),
}

(test_the_table_holds_exactly_the_allowed_edges,
 test_an_allowed_edge_moves_the_status,
 test_any_other_pair_is_refused_and_changes_nothing) = edge_by_edge(
    CHECK_STATES, CheckStatus, ALLOWED)
