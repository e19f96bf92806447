"""The delivery's status machine, edge by edge: mail waiting → shipped → delivered, or
returned and collected at the window; window waiting → ready → collected. Every other
pair of statuses is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.deliveries.models import AT_WINDOW, DELIVERY_STATES, DeliveryStatus
from app.kernel.states import IllegalTransition

D = DeliveryStatus
EDGES = {(D.WAITING, D.SHIPPED), (D.SHIPPED, D.DELIVERED), (D.SHIPPED, D.RETURNED),
         (D.RETURNED, D.COLLECTED), (D.WAITING, D.READY), (D.READY, D.COLLECTED)}


def test_the_delivery_machine_has_exactly_the_documented_edges() -> None:
    assert set(DELIVERY_STATES.edges) == EDGES
    assert DELIVERY_STATES.statuses == {s.value for s in D}


@pytest.mark.parametrize(("current", "target"), sorted(product(D, D)))
def test_a_delivery_moves_only_along_its_edges(current: D, target: D) -> None:
    delivery = SimpleNamespace(status=current.value)
    if (current, target) in EDGES:
        assert DELIVERY_STATES.move(delivery, target) == current.value
        assert delivery.status == target
    else:
        with pytest.raises(IllegalTransition):
            DELIVERY_STATES.move(delivery, target)
        assert delivery.status == current.value


def test_whatever_waits_at_the_window_can_be_collected() -> None:
    assert all(DELIVERY_STATES.can(status, D.COLLECTED) for status in AT_WINDOW)


def test_delivered_and_collected_are_final() -> None:
    assert DELIVERY_STATES.targets(D.DELIVERED) == DELIVERY_STATES.targets(D.COLLECTED) == []
