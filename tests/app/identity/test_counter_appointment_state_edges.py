"""The status machine of a counter appointment, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.identity.models import COUNTER_APPOINTMENT_STATES, CounterAppointmentStatus
from app.kernel.states import IllegalTransition

ALLOWED = {
    (CounterAppointmentStatus.REQUESTED, CounterAppointmentStatus.COMPLETED),
}
REFUSED = [pair for pair in product(CounterAppointmentStatus, repeat=2) if pair not in ALLOWED]


def test_the_table_holds_exactly_the_allowed_edges() -> None:
    assert set(COUNTER_APPOINTMENT_STATES.edges) == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_an_allowed_edge_moves_the_status(
        current: CounterAppointmentStatus, target: CounterAppointmentStatus) -> None:
    row = SimpleNamespace(status=current)
    assert COUNTER_APPOINTMENT_STATES.move(row, target) == current
    assert row.status == target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_any_other_pair_is_refused_and_changes_nothing(
        current: CounterAppointmentStatus, target: CounterAppointmentStatus) -> None:
    row = SimpleNamespace(status=current)
    with pytest.raises(IllegalTransition):
        COUNTER_APPOINTMENT_STATES.move(row, target)
    assert row.status == current
