"""Fee assessment (核税核费): every tax and fee of a case, at once, in integer fen.

Items are data (fee_items.json); a business type names the items that apply
(``fee_items``). Rules:

* ``fixed``: the item's amount (registration fees).
* ``paper_certificate``: 10 yuan when the citizen chose a paper certificate; the
  e-certificate is free.
* ``deed_tax``: price × rate, the rate by residential use, first or second family home
  and area (fee_items.json); the tax reviewer confirms it on approval and may set it.
* ``maintenance_fund``: area × the city's rate for the kind of building.

Registration fees are waived for small and micro enterprises (a flag on the payer).
Amounts are rounded half up to the fen with integer arithmetic, never floats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.cases.form import PAPER_FORMS
from app.cases.models import Case
from app.departments import Department
from app.fees.models import CaseFee
from app.kernel.db import db
from app.kernel.timeutil import utcnow

FEE_ITEMS_FILE = Path(__file__).with_name("fee_items.json")
# Who pays the registration fee, per business type (the right holder, or the bank).
PAYER_ROLES = {"resale_transfer": "buyer", "new_home_transfer": "buyer", "change": "owner",
               "correction": "owner", "mortgage_first": "mortgagee",
               "mortgage_discharge": "mortgagee"}


@lru_cache(maxsize=1)
def fee_data() -> dict[str, Any]:
    return dict(json.loads(FEE_ITEMS_FILE.read_text(encoding="utf-8")))


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


@dataclass(frozen=True)
class Line:
    item_code: str
    name: str
    department: str
    amount_fen: int
    basis: str
    exempt: bool = False


def _round_fen(value: Decimal) -> int:
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def deed_tax(price_fen: int, area_m2: Decimal, residential: bool, first_home: bool) -> Line:
    rules = fee_data()["deed_tax"]
    if not residential:
        permille = int(rules["non_residential_permille"])
        why = "非住宅"
    else:
        tiers = rules["first_home" if first_home else "second_home"]
        tier = next(t for t in tiers
                    if t["max_area_m2"] is None or area_m2 <= Decimal(t["max_area_m2"]))
        permille = int(tier["permille"])
        limit = f"{tier['max_area_m2']} m² 及以下" if tier["max_area_m2"] else "以上"
        why = f"{'首套' if first_home else '第二套'}住房，面积 {area_m2} m²（{limit}档）"
    amount = _round_fen(Decimal(price_fen) * permille / 1000)
    rate = Decimal(permille) / 10
    return Line("deed_tax", fee_data()["items"]["deed_tax"]["name"], "tax", amount,
                f"成交价 {yuan(price_fen)} 元 × {rate.normalize()}%（{why}）")


def _small_micro_payer(case: Case) -> bool:
    role = PAYER_ROLES.get(case.business_type_code)
    payers = [a.person for a in case.applicants if a.role == role]
    return bool(payers) and all(p.is_legal and p.small_micro_enterprise for p in payers)


def compute(case: Case, deed_tax_fen: int | None = None) -> list[Line]:
    """The lines of a case as the rules give them (nothing stored)."""
    data = fee_data()["items"]
    form = case.form_data
    unit = form.get("unit") or {}
    area = Decimal(str(unit.get("area_m2") or "0"))
    lines: list[Line] = []
    for code in case.business_type.fee_items:
        item = data[code]
        rule = item["rule"]
        if rule == "fixed":
            line = Line(code, item["name"], item["department"], int(item["amount_fen"]),
                        "按件收取")
        elif rule == "paper_certificate":
            if (form.get("certificate_delivery") or {}).get("form") not in PAPER_FORMS:
                continue  # the e-certificate is free
            line = Line(code, item["name"], item["department"], int(item["amount_fen"]),
                        "纸质证书 1 本")
        elif rule == "deed_tax":
            tax = form.get("tax_declaration") or {}
            price = int((form.get("transaction") or {}).get("price_fen") or 0)
            line = deed_tax(price, area, unit.get("use") == "住宅",
                            tax.get("buyer_first_home") == "yes")
            if deed_tax_fen is not None and deed_tax_fen != line.amount_fen:
                line = Line(line.item_code, line.name, line.department, deed_tax_fen,
                            f"税务部门核定（按规则计算为 {yuan(line.amount_fen)} 元）")
        elif rule == "maintenance_fund":
            kind = (form.get("maintenance_fund") or {}).get("building_kind", "")
            rate = int(fee_data()["maintenance_fund_fen_per_m2"].get(kind, 0))
            line = Line(code, item["name"], item["department"], _round_fen(area * rate),
                        f"建筑面积 {area} m² × {yuan(rate)} 元/m²（{kind}）")
        else:  # pragma: no cover - the data file is tested
            raise ValueError(f"unknown fee rule {rule!r}")
        if item.get("exemptible") and _small_micro_payer(case):
            line = Line(line.item_code, line.name, line.department, 0, "小微企业免收", True)
        lines.append(line)
    return lines


def assess(case: Case, deed_tax_fen: int | None = None) -> list[CaseFee]:
    """Store the case's fees (replacing an earlier assessment); the caller commits."""
    now = utcnow()
    for old in current_fees(case):
        old.superseded_at = now
    rows = [CaseFee(case_id=case.id, item_code=line.item_code, name=line.name,
                    department=line.department, amount_fen=line.amount_fen, basis=line.basis,
                    exempt=line.exempt, assessed_at=now) for line in compute(case, deed_tax_fen)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def current_fees(case: Case) -> list[CaseFee]:
    return list(db.session.scalars(select(CaseFee).where(
        CaseFee.case_id == case.id, CaseFee.superseded_at.is_(None)).order_by(CaseFee.id)))


def total_fen(fees: list[CaseFee]) -> int:
    return sum(f.amount_fen for f in fees)


def citizen_fees(case: Case) -> dict[str, Any]:
    fees = current_fees(case)
    return {
        "case_number": case.case_number,
        "items": [{"item": f.item_code, "name": f.name, "department": f.department,
                   "department_label": Department(f.department).label,
                   "amount_fen": f.amount_fen, "basis": f.basis, "exempt": f.exempt}
                  for f in fees],
        "total_fen": total_fen(fees),
        "assessed_at": fees[0].assessed_at if fees else None,
    }
