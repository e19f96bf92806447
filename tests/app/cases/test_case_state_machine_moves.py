"""The case machine through the one helper: per business-type rules, every allowed edge
moves the case and every other pair raises IllegalTransition (the table itself is
tests/unit/test_workflow.py)."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.cases.workflow import CASE_STATES, EDGES, CaseRules, CaseStatus, StepOrder
from app.kernel.states import IllegalTransition

RULES = [CaseRules(order, issues_certificate=cert)
         for order in StepOrder for cert in (True, False)]
CASES = [(rules, current, target)
         for rules in RULES for current, target in product(CaseStatus, repeat=2)]


def _id(value: object) -> str:
    if isinstance(value, CaseRules):
        return f"{value.step_order}-{'cert' if value.issues_certificate else 'nocert'}"
    return str(value)


def test_the_machine_is_the_table_of_the_workflow() -> None:
    assert CASE_STATES.edges == EDGES


@pytest.mark.parametrize(("rules", "current", "target"), CASES, ids=_id)
def test_a_case_moves_exactly_along_the_edges_its_business_type_allows(
        rules: CaseRules, current: CaseStatus, target: CaseStatus) -> None:
    case = SimpleNamespace(status=current)
    condition = EDGES.get((current, target))
    if condition is not None and condition(rules):
        CASE_STATES.move(case, target, rules)
        assert case.status == target
    else:
        with pytest.raises(IllegalTransition):
            CASE_STATES.move(case, target, rules)
        assert case.status == current
