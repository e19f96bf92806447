"""Reason codes of a refusal and the Chinese message shown to the citizen for each."""

from __future__ import annotations

FRAME_COUNT = "FRAME_COUNT"
IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
IMAGE_TOO_MANY_PIXELS = "IMAGE_TOO_MANY_PIXELS"
IMAGE_UNREADABLE = "IMAGE_UNREADABLE"
IMAGE_TRUNCATED = "IMAGE_TRUNCATED"
NO_FACE = "NO_FACE"
MULTIPLE_FACES = "MULTIPLE_FACES"
FACE_MISMATCH = "FACE_MISMATCH"
ACTION_NOT_DETECTED = "ACTION_NOT_DETECTED"
FRAME_REPLAYED = "FRAME_REPLAYED"

#: In the order verify_burst checks them.
REASONS = (
    FRAME_COUNT,
    IMAGE_TOO_LARGE,
    IMAGE_TOO_MANY_PIXELS,
    IMAGE_UNREADABLE,
    IMAGE_TRUNCATED,
    NO_FACE,
    MULTIPLE_FACES,
    FACE_MISMATCH,
    ACTION_NOT_DETECTED,
    FRAME_REPLAYED,
)

MESSAGES_ZH: dict[str, str] = {
    FRAME_COUNT: "上传的照片数量不符合要求，请重新拍摄",
    IMAGE_TOO_LARGE: "照片文件过大，请重新拍摄",
    IMAGE_TOO_MANY_PIXELS: "照片尺寸过大，请重新拍摄",
    IMAGE_UNREADABLE: "照片无法读取，请使用 JPEG、PNG 或 WebP 格式重新拍摄",
    IMAGE_TRUNCATED: "照片数据不完整，请重新拍摄",
    NO_FACE: "未检测到人脸，请正对镜头并保持光线充足",
    MULTIPLE_FACES: "画面中有多张人脸，请确保只有本人入镜",
    FACE_MISMATCH: "人脸与登记照片比对未通过，请本人重新核验",
    ACTION_NOT_DETECTED: "未检测到指定动作，请按提示完成动作后重新拍摄",
    FRAME_REPLAYED: "检测到重复提交的照片，请重新拍摄",
}


def message_zh(reason: str) -> str:
    return MESSAGES_ZH[reason]
