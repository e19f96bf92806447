"""The status machine of a check, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.checks.models import CHECK_STATES, CheckStatus
from app.kernel.states import IllegalTransition

ALLOWED = {
    (CheckStatus.PENDING, CheckStatus.WAITING),
    (CheckStatus.PENDING, CheckStatus.PASSED),
    (CheckStatus.PENDING, CheckStatus.FAILED),
    (CheckStatus.WAITING, CheckStatus.PASSED),
    (CheckStatus.WAITING, CheckStatus.FAILED),
}
REFUSED = [pair for pair in product(CheckStatus, repeat=2) if pair not in ALLOWED]


def test_the_table_holds_exactly_the_allowed_edges() -> None:
    assert set(CHECK_STATES.edges) == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_an_allowed_edge_moves_the_status(
        current: CheckStatus, target: CheckStatus) -> None:
    row = SimpleNamespace(status=current)
    assert CHECK_STATES.move(row, target) == current
    assert row.status == target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_any_other_pair_is_refused_and_changes_nothing(
        current: CheckStatus, target: CheckStatus) -> None:
    row = SimpleNamespace(status=current)
    with pytest.raises(IllegalTransition):
        CHECK_STATES.move(row, target)
    assert row.status == current
