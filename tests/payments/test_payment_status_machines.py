"""The payment order, refund and reconciliation statuses move only along their tables,
edge by edge: every allowed edge moves, every other pair is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.kernel.states import IllegalTransition, StateMachine
from payments.models import (
    ORDER_STATES,
    RECONCILIATION_STATES,
    REFUND_STATES,
    OrderStatus,
    ReconciliationStatus,
    RefundStatus,
)

S, R, C = OrderStatus, RefundStatus, ReconciliationStatus

ORDER_EDGES = {
    (S.CREATED, S.PAYING), (S.CREATED, S.CLOSED), (S.CREATED, S.PAID),
    (S.PAYING, S.PAID), (S.PAYING, S.CLOSED),
    (S.CLOSED, S.PAID),  # paid at the gateway after we closed it: the money was taken
    (S.PAID, S.REFUNDING), (S.PARTIALLY_REFUNDED, S.REFUNDING),
    (S.REFUNDING, S.REFUNDED), (S.REFUNDING, S.PARTIALLY_REFUNDED),
    (S.REFUNDING, S.PAID),  # the refund failed, nothing refunded before
}
REFUND_EDGES = {
    (R.REQUESTED, R.APPROVED), (R.REQUESTED, R.REJECTED), (R.APPROVED, R.PROCESSING),
    (R.PROCESSING, R.SUCCEEDED), (R.PROCESSING, R.FAILED),
}
RECONCILIATION_EDGES = {(a, b) for a, b in product(C, C) if a != b}  # a run replaces the last

CASES = [(ORDER_STATES, OrderStatus, ORDER_EDGES),
         (REFUND_STATES, RefundStatus, REFUND_EDGES),
         (RECONCILIATION_STATES, ReconciliationStatus, RECONCILIATION_EDGES)]


def _pairs() -> list[tuple[StateMachine, str, str, bool]]:
    return [pytest.param(machine, current, target, (current, target) in edges,
                         id=f"{machine.name}:{current}->{target}")
            for machine, statuses, edges in CASES
            for current, target in product(statuses, statuses)]


@pytest.mark.parametrize(("machine", "current", "target", "allowed"), _pairs())
def test_a_status_moves_only_along_an_edge_of_its_table(
        machine: StateMachine, current: str, target: str, allowed: bool) -> None:
    row = SimpleNamespace(status=current)
    if allowed:
        assert machine.move(row, target) == current
        assert row.status == target
    else:
        with pytest.raises(IllegalTransition):
            machine.move(row, target)
        assert row.status == current


@pytest.mark.parametrize(("machine", "statuses", "edges"), CASES,
                         ids=[machine.name for machine, _, _ in CASES])
def test_the_tables_are_exactly_the_edges_listed_here(
        machine: StateMachine, statuses: type, edges: set[tuple[str, str]]) -> None:
    assert set(machine.edges) == edges
    assert machine.statuses <= {str(s) for s in statuses}


def test_paid_orders_are_what_the_refund_rules_start_from() -> None:
    # An order is refunded only from paid or partly refunded, and only through refunding.
    assert {src for src, dst in ORDER_EDGES if dst == S.REFUNDING} == {
        S.PAID, S.PARTIALLY_REFUNDED}
    assert {dst for src, dst in ORDER_EDGES if src == S.REFUNDING} == {
        S.REFUNDED, S.PARTIALLY_REFUNDED, S.PAID}
