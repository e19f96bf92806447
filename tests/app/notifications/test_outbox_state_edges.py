"""The status machine of an outbox message, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.kernel.states import IllegalTransition
from app.notifications.models import OUTBOX_STATES, OutboxStatus

ALLOWED = {
    (OutboxStatus.PENDING, OutboxStatus.SENT),
    (OutboxStatus.PENDING, OutboxStatus.FAILED),
    (OutboxStatus.PENDING, OutboxStatus.SKIPPED),
    (OutboxStatus.FAILED, OutboxStatus.PENDING),
}
REFUSED = [pair for pair in product(OutboxStatus, repeat=2) if pair not in ALLOWED]


def test_the_table_holds_exactly_the_allowed_edges() -> None:
    assert set(OUTBOX_STATES.edges) == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_an_allowed_edge_moves_the_status(
        current: OutboxStatus, target: OutboxStatus) -> None:
    row = SimpleNamespace(status=current)
    assert OUTBOX_STATES.move(row, target) == current
    assert row.status == target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_any_other_pair_is_refused_and_changes_nothing(
        current: OutboxStatus, target: OutboxStatus) -> None:
    row = SimpleNamespace(status=current)
    with pytest.raises(IllegalTransition):
        OUTBOX_STATES.move(row, target)
    assert row.status == current
