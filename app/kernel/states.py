"""Status machines as tables of allowed edges, one small helper for every status.

Each status column of the platform (case, payment order, refund, certificate, delivery,
check, review task, e-bill, outbox message …) declares its machine next to its model::

    REFUND_STATES = StateMachine("refund", {
        (R.REQUESTED, R.APPROVED), (R.REQUESTED, R.REJECTED), …
    })

and changes a row's status only through it::

    REFUND_STATES.move(refund, R.APPROVED)

``move`` refuses an edge that is not in the table with :class:`IllegalTransition` (409),
so a status can never jump where the table does not allow; ``make lint`` refuses a raw
``.status = …`` assignment anywhere else (scripts/check_status_assignments.py). Edges may
carry a condition (a function of a context object, e.g. the business type's rules) for
machines whose shape depends on data, as the case's does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any, Generic, TypeVar

from app.kernel.errors import Conflict

S = TypeVar("S", bound=StrEnum)
Condition = Callable[[Any], bool]


def always(context: Any) -> bool:
    return True


class IllegalTransition(Conflict):
    code = "STATE_CONFLICT"
    message = "当前状态不允许此操作，请刷新后重试"


class StateMachine(Generic[S]):
    """The allowed edges of one status column, with optional conditions per edge."""

    def __init__(self, name: str,
                 edges: Iterable[tuple[S, S]] | Mapping[tuple[S, S], Condition],
                 *, field: str = "status") -> None:
        self.name = name
        self.field = field
        if isinstance(edges, Mapping):
            self.edges: dict[tuple[S, S], Condition] = dict(edges)
        else:
            self.edges = {edge: always for edge in edges}

    def can(self, current: S | str, target: S | str, context: Any = None) -> bool:
        condition = self.edges.get((current, target))  # type: ignore[arg-type]
        return condition is not None and condition(context)

    def targets(self, current: S | str, context: Any = None) -> list[S]:
        return [dst for (src, dst), condition in self.edges.items()
                if src == current and condition(context)]

    def check(self, current: S | str, target: S | str, context: Any = None) -> None:
        if not self.can(current, target, context):
            raise IllegalTransition(
                machine=self.name, status=str(current), target=str(target),
                allowed=[str(s) for s in self.targets(current, context)])

    def move(self, obj: Any, target: S, context: Any = None) -> str:
        """Set ``obj``'s status to ``target`` along an allowed edge; returns the old one.

        Moving to the status the object already has is not an edge: callers that may see
        the same event twice check for it first (idempotent handlers)."""
        current = getattr(obj, self.field)
        self.check(current, target, context)
        setattr(obj, self.field, target)
        return str(current)

    def start(self, obj: Any, initial: S) -> None:
        """The status of a new row (no edge: a row is created in its first status)."""
        setattr(obj, self.field, initial)

    @property
    def statuses(self) -> set[str]:
        return {str(s) for edge in self.edges for s in edge}
