"""A case's e-bills on a phone: ``/m/cases/<n>/bills`` and each bill's PDF.

The list and the file are the API's (``app.ebills.receipts``): bills of orders paid by
this account or by another login of the same person, issued or voided (已红冲, with
the red-letter note); the PDF is the stored file ``/api/me/receipts/ebills/<id>.pdf``
sends. Another case's bill, someone else's, one not issued yet or an unknown id are all
the same 404.
"""

from __future__ import annotations

import io
from typing import Any

from flask import render_template, send_file
from flask.typing import ResponseReturnValue

from app.cases.models import Case
from app.ebills import receipts
from app.fees.service import yuan
from app.kernel.errors import NotFound
from app.policies.payments import settled_order
from app.web.h5 import bp
from app.web.h5 import session as h5
from app.web.h5.pay import case_for_page, case_path

LIST_LIMIT = 100  # a case has a few bills per order


def bills_of(case: Case) -> list[dict[str, Any]]:
    """The e-bills of this case the session's account may see, newest first."""
    account = h5.current_citizen()
    listed = [entry for entry in receipts.list_for(account, 1, LIST_LIMIT).items
              if entry["kind"] != receipts.PAYMENT_RECEIPT
              and entry["case_number"] == case.case_number]
    ids = receipts.ebill_ids_of_case(case.id)
    for entry in listed:
        bill_id = ids.get(entry["number"])
        entry["pdf_href"] = (case_path(case.case_number, f"/bills/{bill_id}.pdf")
                             if bill_id is not None else None)
        entry["id"] = bill_id
    return listed


@bp.get("/m/cases/<case_number>/bills")
@h5.citizen_required
def bills(case_number: str) -> ResponseReturnValue:
    case = case_for_page(case_number)
    return render_template("h5/bills.html", case={"case_number": case.case_number},
                           bills=bills_of(case), yuan=yuan,
                           paid=settled_order(case) is not None,
                           case_href=case_path(case.case_number))


@bp.get("/m/cases/<case_number>/bills/<ebill_id>.pdf")
@h5.citizen_required
def bill_pdf(case_number: str, ebill_id: str) -> ResponseReturnValue:
    case = case_for_page(case_number)
    if not ebill_id.isascii() or not ebill_id.isdigit() or len(ebill_id) > 12:
        raise NotFound(receipts.EBILL_NOT_FOUND_MESSAGE)  # the H5 page, not the site's
    bill, data = receipts.ebill_pdf_for(h5.current_citizen(), int(ebill_id))
    if bill.case_id != case.id:
        raise NotFound(receipts.EBILL_NOT_FOUND_MESSAGE)
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"ebill-{bill.bill_code}-{bill.bill_number}.pdf")
