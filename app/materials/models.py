"""One row per uploaded file of a case (案件材料)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.models import Case
from app.kernel.db import EncryptedText, Model, UTCDateTime
from app.kernel.states import StateMachine
from app.kernel.timeutil import utcnow


class MaterialStatus(enum.StrEnum):
    ACTIVE = "active"
    REPLACED = "replaced"
    WITHDRAWN = "withdrawn"


MATERIAL_STATES: StateMachine[MaterialStatus] = StateMachine("material", {
    (MaterialStatus.ACTIVE, MaterialStatus.REPLACED),
    (MaterialStatus.ACTIVE, MaterialStatus.WITHDRAWN),
})


class CaseMaterial(Model):
    """A file for one checklist item and one applicant role, stored through FileStorage."""

    __tablename__ = "case_materials"
    __table_args__ = (
        # The same file twice on one case is refused; the index settles concurrent uploads.
        Index(
            "uq_case_materials_active_checksum", "case_id", "sha256", unique=True,
            sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(30))
    # As the citizen's device named it ("张三身份证440402…_138….png"): personal data,
    # encrypted, and shown only to whom app.policies.cases.may_see_material allows.
    original_filename: Mapped[str] = mapped_column(
        EncryptedText("case_materials.original_filename"))
    # Detected from the content: jpeg | png | webp | pdf.
    detected_type: Mapped[str] = mapped_column(String(10))
    # The file's name said another type (e.g. "合同.pdf" holding a JPEG).
    name_mismatch: Mapped[bool] = mapped_column(default=False)
    size_bytes: Mapped[int]  # of the upload as received
    sha256: Mapped[str] = mapped_column(String(64))  # of the upload as received
    stored_size_bytes: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None]
    height: Mapped[int | None]
    page_count: Mapped[int | None]
    uploaded_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=MaterialStatus.ACTIVE, index=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("case_materials.id"))

    case: Mapped[Case] = relationship(lazy="joined")

    @property
    def has_thumbnail(self) -> bool:
        return self.thumbnail_key is not None
