"""登簿 from an approved case: the register entry its business type writes.

Transfers write the buyers and their shares as a new register version; a first mortgage
writes an encumbrance, a discharge ends one; a change or correction writes its own kind
of version. The current owners are checked again at 登簿 (the register may have changed
since the automatic check). Nothing here commits or moves the case: the use case
``app.usecases.register_case`` does both, with the notice and, at a discharge, the
revocation of the mortgage's 不动产登记证明, in one transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.cases import application
from app.cases.models import Case
from app.kernel.errors import CaseStateConflict, ValidationFailed
from app.register import service as register
from app.register.models import Encumbrance

RIGHT_TYPE = "国有建设用地使用权/房屋所有权"
RIGHT_NATURE = {"resale_transfer": "存量商品房", "new_home_transfer": "市场化商品房"}
# A discharge's 登簿 also revokes the mortgage's 不动产登记证明 (WeChat shows 20 characters).
DISCHARGE_HINT = "抵押权已注销，登记证明已作废"


def _holder_shares(case: Case, role: str) -> list[register.OwnerShare]:
    return [register.OwnerShare(person_id=a.person_id, share=a.share or "1")
            for a in case.applicants if a.role == role]


def check_still_owned_by_disposers(case: Case) -> None:
    """The register may have changed since the automatic check: look again at 登簿."""
    disposer = application.DISPOSER_ROLES.get(case.business_type_code)
    if disposer is None or case.unit is None:
        return
    entry = register.current_entry(case.unit.id)
    owners = {o.person_id for o in entry.owners} if entry else set()
    if owners != {a.person_id for a in case.applicants if a.role == disposer}:
        raise CaseStateConflict("登记簿记载的权利人已发生变化，不能登簿，请退回核实",
                                status=case.status)


def is_discharge(case: Case) -> bool:
    return case.business_type_code == "mortgage_discharge"


def mortgages_to_discharge(case: Case) -> list[Encumbrance]:
    """The current mortgages on the unit held by the case's mortgagee, oldest first."""
    holder_ids = {a.person_id for a in case.applicants if a.role == "mortgagee"}
    current = [e for e in register.encumbrances_on(case.unit.id) if e.kind == "mortgage"
               and e.holder_id in holder_ids] if case.unit else []
    if not current:
        raise ValidationFailed({"unit": ["该单元上没有该抵押权人的抵押权"]})
    return current


def named_proof_number(case: Case) -> str:
    """The proof number the 注销 names (may be empty: then the oldest mortgage)."""
    return str((case.form_data.get("discharge") or {}).get("proof_number") or "").strip()


def enter(case: Case, staff_id: int, *, discharged: Encumbrance | None = None) -> str:
    """Write what the case's business type registers (no commit, the case is not moved).
    ``discharged`` is the mortgage a 注销 ends. Returns what staff are told."""
    code = case.business_type_code
    unit_form = case.form_data.get("unit") or {}
    if code == "mortgage_first":
        mortgage = case.form_data.get("mortgage") or {}
        holder = next(a for a in case.applicants if a.role == "mortgagee")
        register.register_encumbrance(
            case, "mortgage", holder_id=holder.person_id,
            amount_fen=int(mortgage["secured_amount_fen"]),
            description=(f"{mortgage.get('mortgage_kind')}，债务履行期限 "
                         f"{mortgage.get('debt_start')} 至 {mortgage.get('debt_end')}"),
            staff_id=staff_id)
        return "抵押权已登记"
    if code == "mortgage_discharge":
        assert discharged is not None
        register.discharge_encumbrance(case, discharged.id, staff_id=staff_id)
        return "抵押权已注销"
    if code in ("change", "correction"):
        entry = register.current_entry(case.unit.id) if case.unit else None
        if entry is None:
            raise ValidationFailed({"unit": ["登记簿中没有该单元的现有权利"]})
        details = case.form_data.get("change_details") or case.form_data.get(
            "correction_details") or {}
        note = "；".join(f"{k}：{v}" for k, v in details.items())
        owners = [register.OwnerShare(person_id=o.person_id, share=o.share) for o in entry.owners]
        register.enter_right(case, register.RightDetails(
            right_type=entry.right_type, right_nature=entry.right_nature, use=entry.use,
            area_m2=entry.area_m2, term_start=entry.term_start, term_end=entry.term_end,
            notes=f"{case.business_type.name}：{note}"[:500]), owners, staff_id=staff_id)
        return "已登簿"
    holder_role = application.HOLDER_ROLES[code]
    term_end = unit_form.get("land_term_end")
    register.enter_right(case, register.RightDetails(
        right_type=RIGHT_TYPE, right_nature=RIGHT_NATURE.get(code, "其他"),
        use=str(unit_form.get("use") or (case.unit.use if case.unit else "住宅")),
        area_m2=Decimal(str(unit_form.get("area_m2") or (case.unit.area_m2 if case.unit else 0))),
        term_end=date.fromisoformat(term_end) if term_end else None,
    ), _holder_shares(case, holder_role), staff_id=staff_id)
    return "已登簿"
