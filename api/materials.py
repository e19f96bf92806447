"""A case's materials (一套材料): upload per checklist item, list with the checklist, read."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, send_file, url_for
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from api.schemas import StrictSchema, UtcDateTime
from api.security import BEARER, citizen_required, current_citizen
from app.materials import service
from app.usecases import citizen_cases

blp = Blueprint(
    "materials", __name__, url_prefix="/api/cases/<case_number>/materials",
    description="办件材料（一套材料）",
)


class UploadFormSchema(Schema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=40),
                         metadata={"description": "材料清单项代码", "example": "identity_document"})
    role = fields.String(required=True, validate=validate.Length(min=1, max=30),
                         metadata={"description": "申请人角色", "example": "buyer"})
    replaces = fields.Integer(load_default=None,
                              metadata={"description": "替换的原材料 id（可选）"})
    filename = fields.String(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "原始文件名（可选；小程序上传时文件名是临时名，可在此给出）"})


class UploadFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "JPEG、PNG、WebP 图片或 PDF"})


class MaterialSchema(StrictSchema):
    id = fields.Integer()
    item = fields.String(attribute="item_code")
    role = fields.String()
    original_filename = fields.String()
    detected_type = fields.String(metadata={"example": "jpeg"})
    name_mismatch = fields.Boolean(metadata={"description": "文件名后缀与实际内容不符"})
    size_bytes = fields.Integer()
    sha256 = fields.String()
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    page_count = fields.Integer(allow_none=True)
    status = fields.String()
    uploaded_at = UtcDateTime()
    file_url = fields.Method("get_file_url")
    thumbnail_url = fields.Method("get_thumbnail_url", allow_none=True)

    def get_file_url(self, obj: Any) -> str:
        return url_for("materials.material_file", case_number=obj.case.case_number,
                       material_id=obj.id)

    def get_thumbnail_url(self, obj: Any) -> str | None:
        if not obj.has_thumbnail:
            return None
        return url_for("materials.material_thumbnail", case_number=obj.case.case_number,
                       material_id=obj.id)


class ChecklistEntrySchema(StrictSchema):
    item = fields.String()
    name = fields.String()
    role = fields.String()
    role_label = fields.String()
    required = fields.Boolean()
    present = fields.Boolean()
    material_ids = fields.List(fields.Integer())
    may_upload = fields.Boolean(metadata={
        "description": "您现在可以上传、替换或撤回这一项的文件"})


class CaseMaterialsSchema(StrictSchema):
    case_number = fields.String()
    editable = fields.Boolean(metadata={"description": "您现在可以修改材料"})
    locked_notice = fields.String(metadata={"description": "不能修改时向您说明的原因"})
    complete = fields.Boolean(metadata={"description": "必需材料是否齐全"})
    materials = fields.List(fields.Nested(MaterialSchema))
    checklist = fields.List(fields.Nested(ChecklistEntrySchema))
    missing = fields.List(fields.Nested(ChecklistEntrySchema))


def _send(stored: service.StoredFile) -> Response:
    response = send_file(
        io.BytesIO(stored.data), mimetype=stored.content_type,
        download_name=stored.download_name, max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blp.route("", methods=["POST"])
@citizen_required
@blp.arguments(UploadFormSchema, location="form")
@blp.arguments(UploadFileSchema, location="files")
@blp.response(201, MaterialSchema)
@blp.alt_response(409, description="办件不可修改，或同一文件已上传（MATERIAL_DUPLICATE）")
@blp.alt_response(413, description="文件过大（MATERIAL_TOO_LARGE）")
@blp.alt_response(415, description="文件类型不支持（MATERIAL_TYPE_UNSUPPORTED）")
@blp.alt_response(422, description="材料项或角色不符、空文件、文件损坏")
@blp.doc(security=BEARER)
def upload_material(form: dict[str, Any], files: dict[str, Any], case_number: str) -> Any:
    """上传一项材料（wx.uploadFile：name 为 file，formData 为 item、role）"""
    identity = current_citizen()
    upload = files["file"]
    return citizen_cases.upload_material(
        identity.account, case_number, item=form["item"], role=form["role"],
        filename=form.get("filename") or upload.filename, stream=upload.stream,
        channel=identity.channel,
        replaces=form.get("replaces"),
    )


@blp.route("", methods=["GET"])
@citizen_required
@blp.response(200, CaseMaterialsSchema)
@blp.alt_response(404, description="办件不存在或不属于本人")
@blp.doc(security=BEARER)
def list_materials(case_number: str) -> Any:
    """材料清单与已上传材料"""
    return citizen_cases.materials_view(current_citizen().account, case_number)


@blp.route("/<int:material_id>", methods=["DELETE"])
@citizen_required
@blp.response(204)
@blp.alt_response(404, description="材料不存在")
@blp.alt_response(409, description="办件当前状态不能修改材料")
@blp.doc(security=BEARER)
def withdraw_material(case_number: str, material_id: int) -> None:
    """撤回一份材料"""
    identity = current_citizen()
    citizen_cases.withdraw_material(identity.account, case_number, material_id,
                                    identity.channel)


@blp.route("/<int:material_id>/file", methods=["GET"])
@citizen_required
@blp.response(200, {"format": "binary", "type": "string"},
              content_type="application/octet-stream")
@blp.alt_response(404, description="材料不存在")
@blp.doc(security=BEARER)
def material_file(case_number: str, material_id: int) -> Any:
    """下载材料文件"""
    return _send(citizen_cases.read_material_file(current_citizen().account, case_number,
                                                  material_id))


@blp.route("/<int:material_id>/thumbnail", methods=["GET"])
@citizen_required
@blp.response(200, {"format": "binary", "type": "string"}, content_type="image/jpeg")
@blp.alt_response(404, description="材料不存在或没有缩略图")
@blp.doc(security=BEARER)
def material_thumbnail(case_number: str, material_id: int) -> Any:
    """材料缩略图（JPEG）"""
    return _send(citizen_cases.read_material_thumbnail(current_citizen().account, case_number,
                                                       material_id))
