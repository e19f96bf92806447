"""Domain errors of material uploads; the API maps each to its status and code."""

from __future__ import annotations

from app.kernel.errors import DomainError


class MaterialItemUnknown(DomainError):
    code = "MATERIAL_ITEM_UNKNOWN"
    status = 422
    message = "该业务的材料清单中没有此项材料"


class MaterialRoleMismatch(DomainError):
    code = "MATERIAL_ROLE_MISMATCH"
    status = 422
    message = "此项材料不需要该申请人角色提交"


class MaterialContentMismatch(DomainError):
    code = "MATERIAL_CONTENT_MISMATCH"
    status = 422
    message = "文件内容与文件名不符，请确认上传的是正确的文件"


class MaterialTypeUnsupported(DomainError):
    code = "MATERIAL_TYPE_UNSUPPORTED"
    status = 415
    message = "仅支持 JPEG、PNG、WebP 图片或 PDF 文件"


class MaterialHeicUnsupported(MaterialTypeUnsupported):
    """HEIC/HEIF photos (iPhone default) are refused with a hint, not a generic message."""

    message = (
        "暂不支持 HEIC/HEIF 格式的照片，请将手机相机格式设为“兼容性最佳”，"
        "或转换为 JPEG 后重新上传"
    )


class MaterialCorrupt(DomainError):
    code = "MATERIAL_CORRUPT"
    status = 422
    message = "文件已损坏或不完整，请重新选择文件上传"


class MaterialImageTooLarge(DomainError):
    code = "MATERIAL_IMAGE_TOO_LARGE"
    status = 422
    message = "图片像素过大，请压缩后重新上传"


class MaterialEmpty(DomainError):
    code = "MATERIAL_EMPTY"
    status = 422
    message = "文件内容为空，请重新选择文件"


class MaterialTooLarge(DomainError):
    code = "MATERIAL_TOO_LARGE"
    status = 413
    message = "文件过大，请压缩后重新上传"


class MaterialDuplicate(DomainError):
    code = "MATERIAL_DUPLICATE"
    status = 409
    message = "该文件已上传过，无需重复上传"
