"""The status machine of a booking, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.appointments.models import BOOKING_STATES, BookingStatus
from app.kernel.states import IllegalTransition

ALLOWED = {
    (BookingStatus.BOOKED, BookingStatus.CANCELLED),
}
REFUSED = [pair for pair in product(BookingStatus, repeat=2) if pair not in ALLOWED]


def test_the_table_holds_exactly_the_allowed_edges() -> None:
    assert set(BOOKING_STATES.edges) == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_an_allowed_edge_moves_the_status(
        current: BookingStatus, target: BookingStatus) -> None:
    row = SimpleNamespace(status=current)
    assert BOOKING_STATES.move(row, target) == current
    assert row.status == target


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_any_other_pair_is_refused_and_changes_nothing(
        current: BookingStatus, target: BookingStatus) -> None:
    row = SimpleNamespace(status=current)
    with pytest.raises(IllegalTransition):
        BOOKING_STATES.move(row, target)
    assert row.status == current
