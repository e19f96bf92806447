"""An e-bill's status moves only along its table, edge by edge."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.ebills.models import EBILL_STATES, EBillStatus
from app.kernel.states import IllegalTransition

B = EBillStatus
EDGES = {
    (B.ISSUING, B.ISSUED), (B.ISSUING, B.FAILED),
    (B.FAILED, B.ISSUED),  # a retry that worked; failing again stays failed
    (B.ISSUED, B.VOIDED),  # every item refunded in full: red-letter bill
}


@pytest.mark.parametrize(("current", "target"), list(product(B, B)),
                         ids=[f"{a}->{b}" for a, b in product(B, B)])
def test_an_ebill_moves_only_along_an_edge(current: EBillStatus, target: EBillStatus) -> None:
    bill = SimpleNamespace(status=current)
    if (current, target) in EDGES:
        EBILL_STATES.move(bill, target)
        assert bill.status == target
    else:
        with pytest.raises(IllegalTransition):
            EBILL_STATES.move(bill, target)
        assert bill.status == current


def test_the_table_is_exactly_the_edges_listed_here() -> None:
    assert set(EBILL_STATES.edges) == EDGES


def test_a_voided_bill_is_final() -> None:
    assert EBILL_STATES.targets(B.VOIDED) == []
