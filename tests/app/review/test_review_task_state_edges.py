"""The status machine of a review task, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.kernel.states import IllegalTransition
from app.review.models import TASK_STATES, TaskStatus

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
REFUSED = [pair for pair in product(TaskStatus, repeat=2) if pair not in ALLOWED]


def test_the_table_holds_exactly_the_allowed_edges() -> None:
    assert set(TASK_STATES.edges) == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_an_allowed_edge_moves_the_status(
        current: TaskStatus, target: TaskStatus) -> None:
    row = SimpleNamespace(status=current)
    assert TASK_STATES.move(row, target) == current
    assert row.status == target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_any_other_pair_is_refused_and_changes_nothing(
        current: TaskStatus, target: TaskStatus) -> None:
    row = SimpleNamespace(status=current)
    with pytest.raises(IllegalTransition):
        TASK_STATES.move(row, target)
    assert row.status == current
