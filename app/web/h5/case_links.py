"""What the case page links to beyond its progress: pay (fees due), the e-bills (paid),
the certificates this session may open (issued). A template function, so the case view
of the skeleton stays as it is: ``h5_case_links(case_number)`` in ``h5/case.html``."""

from __future__ import annotations

from typing import Any

from app.web.h5 import bp
from app.web.h5.certificates import certificates_on_case
from app.web.h5.pay import case_for_page, case_path, fee_groups, payment_state


def case_links(case_number: str) -> dict[str, Any]:
    case = case_for_page(case_number)
    state = payment_state(case, fee_groups(case)[1])
    return {"payable": state == "due", "paid": state == "paid",
            "pay_href": case_path(case.case_number, "/pay"),
            "bills_href": case_path(case.case_number, "/bills"),
            "certificates": certificates_on_case(case)}


@bp.context_processor
def _case_links() -> dict[str, Any]:
    return {"h5_case_links": case_links}
