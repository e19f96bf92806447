"""The status machine of a material, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.kernel.states import IllegalTransition
from app.materials.models import MATERIAL_STATES, MaterialStatus

ALLOWED = {
    (MaterialStatus.ACTIVE, MaterialStatus.REPLACED),
    (MaterialStatus.ACTIVE, MaterialStatus.WITHDRAWN),
}
REFUSED = [pair for pair in product(MaterialStatus, repeat=2) if pair not in ALLOWED]


def test_the_table_holds_exactly_the_allowed_edges() -> None:
    assert set(MATERIAL_STATES.edges) == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_an_allowed_edge_moves_the_status(
        current: MaterialStatus, target: MaterialStatus) -> None:
    row = SimpleNamespace(status=current)
    assert MATERIAL_STATES.move(row, target) == current
    assert row.status == target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_any_other_pair_is_refused_and_changes_nothing(
        current: MaterialStatus, target: MaterialStatus) -> None:
    row = SimpleNamespace(status=current)
    with pytest.raises(IllegalTransition):
        MATERIAL_STATES.move(row, target)
    assert row.status == current
