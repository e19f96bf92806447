"""Staff open a case's material: the file itself is a recorded look, the thumbnail is not."""

from __future__ import annotations

from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.errors import NotFound
from app.materials import service as materials
from app.materials.service import StoredFile
from app.review import desk


def open_material(case_number: str, material_id: int, kind: str, staff_id: int) -> StoredFile:
    case = desk.find_case(case_number)
    material = materials.active_material(case, material_id)
    if kind == "thumbnail":
        return materials.stored_thumbnail(material)
    if kind != "file":
        raise NotFound("未找到该材料")
    stored = materials.stored_file(material)
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=Channel.ADMIN,
                 action="material.viewed", entity_type="case", entity_id=case.case_number,
                 after={"material_id": material.id})
    db.session.commit()
    return stored
