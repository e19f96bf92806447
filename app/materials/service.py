"""Use cases for a case's materials: upload, list with the checklist, read, withdraw."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Account
from app.cases.models import Case
from app.cases.service import get_case_for
from app.cases.workflow import CaseStatus
from app.kernel import audit
from app.kernel.audit import ActorType
from app.kernel.db import db
from app.kernel.errors import CaseNotEditable, CaseStateConflict, NotFound
from app.kernel.timeutil import utcnow
from app.materials import content
from app.materials.errors import (
    MaterialContentMismatch,
    MaterialDuplicate,
    MaterialEmpty,
    MaterialItemUnknown,
    MaterialRoleMismatch,
    MaterialTooLarge,
)
from app.materials.models import MATERIAL_STATES, CaseMaterial, MaterialStatus
from app.services import storage

EDITABLE_STATUSES = frozenset({CaseStatus.DRAFT, CaseStatus.RETURNED})

# Settings read here; their defaults when the settings file does not define them.
DEFAULT_SETTINGS: dict[str, Any] = {
    "MATERIAL_MAX_BYTES": 10 * 1024 * 1024,
    "MATERIAL_MAX_DIMENSION": 4000,
    "MATERIAL_MAX_PIXELS": 50_000_000,
}


def setting(key: str) -> Any:
    return current_app.config.get(key, DEFAULT_SETTINGS[key])


def _editable_case(account: Account, case_number: str) -> Case:
    case = get_case_for(account, case_number)
    if case.status_enum not in EDITABLE_STATUSES:
        raise CaseStateConflict(
            "办件已提交，当前状态不能修改材料", status=case.status,
            allowed=[s.value for s in sorted(EDITABLE_STATUSES)],
        )
    return case


def _require_returned_item(case: Case, item: str, role: str,
                           returned: Sequence[dict[str, Any]]) -> None:
    """After a return, only the materials the return names (``returned``) may change."""
    if case.status_enum != CaseStatus.RETURNED:
        return
    named = {(i["code"], i.get("role")) for i in returned if i["kind"] == "material"}
    if (item, role) not in named:
        raise CaseNotEditable("退回补正时只能修改被退回的材料", item=item, role=role)


def _checklist_item(case: Case, item_code: str, role: str) -> dict[str, Any]:
    item = next((m for m in case.business_type.materials if m["code"] == item_code), None)
    if item is None:
        raise MaterialItemUnknown(item=item_code)
    if role not in item.get("roles", []):
        raise MaterialRoleMismatch(item=item_code, role=role, roles=list(item.get("roles", [])))
    return item


def _read_limited(stream: IO[bytes], max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise MaterialTooLarge(max_bytes=max_bytes)
    if not data:
        raise MaterialEmpty()
    return data


def _active(case: Case) -> Any:
    return select(CaseMaterial).where(
        CaseMaterial.case_id == case.id, CaseMaterial.status == MaterialStatus.ACTIVE
    )


def _content_key(data: bytes, extension: str) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest[2:4]}/{digest}.{extension}"


def upload(
    account: Account,
    case_number: str,
    *,
    item: str,
    role: str,
    filename: str | None,
    stream: IO[bytes],
    channel: str,
    replaces: int | None = None,
    returned: Sequence[dict[str, Any]] = (),
) -> CaseMaterial:
    """Check, clean and store one file for a checklist item; audited; one transaction."""
    case = _editable_case(account, case_number)
    _checklist_item(case, item, role)
    _require_returned_item(case, item, role, returned)
    replaced = _get_active(case, replaces) if replaces is not None else None
    data = _read_limited(stream, setting("MATERIAL_MAX_BYTES"))

    checksum = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(_active(case).where(CaseMaterial.sha256 == checksum))
    if existing is not None:
        raise MaterialDuplicate(material_id=existing.id, item=existing.item_code,
                                role=existing.role)

    detected = content.detect_type(data)
    name = content.sanitise_filename(filename)
    claimed = content.type_from_name(name)
    if claimed is not None and claimed != detected:
        # A name that says one type over content of another: refused, never guessed.
        raise MaterialContentMismatch(
            f"文件内容与文件名不符：文件名为 {claimed.upper()}，内容为 {detected.upper()}，"
            "请确认上传的是正确的文件",
            claimed=claimed, detected=detected)
    processed = content.process(
        data, detected, max_dimension=setting("MATERIAL_MAX_DIMENSION"),
        max_pixels=setting("MATERIAL_MAX_PIXELS"),
    )

    # Files first, row second: a failed commit leaves only an unreferenced,
    # content-addressed blob behind, never a row without its file.
    files = storage()
    key = _content_key(processed.data, content.EXTENSIONS[detected])
    files.put(key, processed.data, content.CONTENT_TYPES[detected])
    thumbnail_key = None
    if processed.thumbnail is not None:
        thumbnail_key = _content_key(processed.thumbnail, "jpg")
        files.put(thumbnail_key, processed.thumbnail, "image/jpeg")

    material = CaseMaterial(
        case=case, item_code=item, role=role, original_filename=name,
        detected_type=detected, name_mismatch=claimed is not None and claimed != detected,
        size_bytes=len(data), sha256=checksum, stored_size_bytes=len(processed.data),
        storage_key=key, thumbnail_key=thumbnail_key, width=processed.width,
        height=processed.height, page_count=processed.page_count,
        uploaded_by_account_id=account.id, uploaded_at=utcnow(),
        status=MaterialStatus.ACTIVE,
    )
    db.session.add(material)
    db.session.flush()
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action="material.uploaded", entity_type="case_material", entity_id=material.id,
        after={
            "case": case.case_number, "item": item, "role": role, "type": detected,
            "size": len(data), "sha256": checksum, "name_mismatch": material.name_mismatch,
            "status": material.status,
        },
        note=f"文件名显示为 {claimed}，内容为 {detected}" if material.name_mismatch else None,
    )
    if replaced is not None:
        _change_status(replaced, MaterialStatus.REPLACED, account, channel,
                       replaced_by_id=material.id)
    try:
        db.session.commit()
    except IntegrityError:
        # The same file uploaded at the same moment by another request.
        db.session.rollback()
        raise MaterialDuplicate() from None
    return material


def _get_active(case: Case, material_id: int) -> CaseMaterial:
    material = db.session.scalar(_active(case).where(CaseMaterial.id == material_id))
    if material is None:
        raise NotFound("未找到该材料")
    return material


def _change_status(
    material: CaseMaterial, target: MaterialStatus, account: Account, channel: str,
    replaced_by_id: int | None = None,
) -> None:
    before = material.status
    MATERIAL_STATES.move(material, target)
    material.status_changed_at = utcnow()
    material.replaced_by_id = replaced_by_id
    audit.record(
        actor_type=ActorType.CITIZEN, actor_id=account.id, channel=channel,
        action=f"material.{target.value}", entity_type="case_material",
        entity_id=material.id, before={"status": before},
        after={"status": target.value, "case": material.case.case_number,
               "replaced_by": replaced_by_id},
    )


def withdraw(account: Account, case_number: str, material_id: int, channel: str, *,
             returned: Sequence[dict[str, Any]] = ()) -> None:
    """Take a file off an editable case; the stored file stays for the audit trail."""
    case = _editable_case(account, case_number)
    material = _get_active(case, material_id)
    _require_returned_item(case, material.item_code, material.role, returned)
    _change_status(material, MaterialStatus.WITHDRAWN, account, channel)
    db.session.commit()


def list_materials(case: Case) -> list[CaseMaterial]:
    return list(db.session.scalars(_active(case).order_by(CaseMaterial.id)).unique())


def get_material(account: Account, case_number: str, material_id: int) -> CaseMaterial:
    """An active file of a case the account may see (anyone else: not found)."""
    return _get_active(get_case_for(account, case_number), material_id)


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    content_type: str
    download_name: str


def stored_file(material: CaseMaterial) -> StoredFile:
    return StoredFile(
        data=storage().get(material.storage_key),
        content_type=content.CONTENT_TYPES[material.detected_type],
        download_name=content.download_name(material.original_filename, material.detected_type),
    )


def stored_thumbnail(material: CaseMaterial) -> StoredFile:
    if material.thumbnail_key is None:
        raise NotFound("该材料没有缩略图")
    stem = content.download_name(material.original_filename, material.detected_type)
    return StoredFile(
        data=storage().get(material.thumbnail_key), content_type="image/jpeg",
        download_name=stem.rpartition(".")[0] + "_thumb.jpg",
    )


def active_material(case: Case, material_id: int) -> CaseMaterial:
    return _get_active(case, material_id)


def read_file(account: Account, case_number: str, material_id: int) -> StoredFile:
    return stored_file(get_material(account, case_number, material_id))


def read_thumbnail(account: Account, case_number: str, material_id: int) -> StoredFile:
    return stored_thumbnail(get_material(account, case_number, material_id))


@dataclass(frozen=True)
class ChecklistEntry:
    item: str
    name: str
    role: str
    role_label: str
    required: bool
    material_ids: list[int]

    @property
    def present(self) -> bool:
        return bool(self.material_ids)


def _roles_expected(case: Case) -> set[str]:
    """Roles on this case: those with an applicant, and those the business type requires."""
    on_case = {a.role for a in case.applicants}
    required = {r["code"] for r in case.business_type.roles if r.get("min", 0) >= 1}
    return on_case | required


def checklist(case: Case) -> list[ChecklistEntry]:
    """Every checklist item × expected role, with the files already there."""
    uploaded: dict[tuple[str, str], list[int]] = {}
    for material in list_materials(case):
        uploaded.setdefault((material.item_code, material.role), []).append(material.id)
    expected = _roles_expected(case)
    return [
        ChecklistEntry(
            item=item["code"], name=item["name"], role=role,
            role_label=case.business_type.role_label(role),
            required=bool(item.get("required", False)),
            material_ids=uploaded.get((item["code"], role), []),
        )
        for item in case.business_type.materials
        for role in item.get("roles", [])
        if role in expected
    ]


def missing_materials(case: Case) -> list[ChecklistEntry]:
    """Required item × role pairs with no file yet (submission must refuse these)."""
    return [entry for entry in checklist(case) if entry.required and not entry.present]


def case_materials_view(account: Account, case_number: str) -> dict[str, Any]:
    case = get_case_for(account, case_number)
    entries = checklist(case)
    missing = [e for e in entries if e.required and not e.present]
    return {
        "case_number": case.case_number,
        "editable": case.status_enum in EDITABLE_STATUSES,
        "materials": list_materials(case),
        "checklist": entries,
        "missing": missing,
        "complete": not missing,
    }
