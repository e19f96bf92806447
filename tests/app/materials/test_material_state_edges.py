"""The status machine of a material, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from app.materials.models import MATERIAL_STATES, MaterialStatus
from tests.status_machines import edge_by_edge

ALLOWED = {
    (MaterialStatus.ACTIVE, MaterialStatus.REPLACED),
    (MaterialStatus.ACTIVE, MaterialStatus.WITHDRAWN),
}

(test_the_table_holds_exactly_the_allowed_edges,
 test_an_allowed_edge_moves_the_status,
 test_any_other_pair_is_refused_and_changes_nothing) = edge_by_edge(
    MATERIAL_STATES, MaterialStatus, ALLOWED)
