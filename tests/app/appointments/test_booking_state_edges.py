"""The status machine of a booking, edge by edge: every allowed edge moves, every other
pair of statuses is refused."""

from __future__ import annotations

from app.appointments.models import BOOKING_STATES, BookingStatus
from tests.status_machines import edge_by_edge

ALLOWED = {
    (BookingStatus.BOOKED, BookingStatus.CANCELLED),
}

(test_the_table_holds_exactly_the_allowed_edges,
 test_an_allowed_edge_moves_the_status,
 test_any_other_pair_is_refused_and_changes_nothing) = edge_by_edge(
    BOOKING_STATES, BookingStatus, ALLOWED)
