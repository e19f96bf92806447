"""Edge-by-edge tests of a status machine, written once: each test module names its
machine, its statuses and the edges it allows, and gets three tests::

    (test_the_table_holds_exactly_the_allowed_edges,
     test_an_allowed_edge_moves_the_status,
     test_any_other_pair_is_refused_and_changes_nothing) = edge_by_edge(MACHINE, Status, ALLOWED)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from itertools import product
from types import SimpleNamespace
from typing import Any

import pytest

from app.kernel.states import IllegalTransition, StateMachine


def edge_by_edge(machine: StateMachine[Any], statuses: Iterable[StrEnum],
                 allowed: set[tuple[Any, Any]]) -> tuple[Callable[..., None], ...]:
    refused = [pair for pair in product(list(statuses), repeat=2) if pair not in allowed]

    def test_the_table_holds_exactly_the_allowed_edges() -> None:
        assert set(machine.edges) == allowed

    @pytest.mark.parametrize(("current", "target"), sorted(allowed))
    def test_an_allowed_edge_moves_the_status(current: StrEnum, target: StrEnum) -> None:
        row = SimpleNamespace(status=current)
        assert machine.move(row, target) == current
        assert row.status == target

    @pytest.mark.parametrize(("current", "target"), refused)
    def test_any_other_pair_is_refused_and_changes_nothing(
            current: StrEnum, target: StrEnum) -> None:
        row = SimpleNamespace(status=current)
        with pytest.raises(IllegalTransition):
            machine.move(row, target)
        assert row.status == current

    return (test_the_table_holds_exactly_the_allowed_edges,
            test_an_allowed_edge_moves_the_status,
            test_any_other_pair_is_refused_and_changes_nothing)
