"""What a return (补正) names: the items from the failed automatic checks and from the
departments that returned the case. Only these may change until the case is resubmitted;
the use cases hand them to the form and materials functions, which decide with them."""

from __future__ import annotations

from typing import Any

from app.cases import application
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.checks.service import returned_items_from_checks
from app.review.service import returned_items_from_reviews


def returned_items(case: Case) -> list[dict[str, Any]]:
    """The items the current return names (from reviews and failed checks)."""
    if case.status_enum != CaseStatus.RETURNED:
        return []
    return returned_items_from_checks(case) + returned_items_from_reviews(case)


def editable_sections(case: Case) -> set[str]:
    return application.editable_sections(case, returned_items(case))


def materials_open(case: Case) -> bool:
    """Materials may change: a draft, or a return that names a material."""
    if case.status_enum == CaseStatus.DRAFT:
        return True
    return any(i["kind"] == "material" for i in returned_items(case))
