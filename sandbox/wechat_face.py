"""WeChat face verification 2.0 (微信人脸核身 2.0) as the mini-program backend sees it.

The real flow: the backend asks ``getverifyid`` for a session bound to the citizen's
name, ID number and openid; the mini-program calls ``wx.requestFacialVerify({verifyId})``
and WeChat films the citizen; the backend then asks ``queryverifyinfo`` for the result
(``verify_ret`` 10000 = the face belongs to that ID number). The sandbox has no camera:
``POST /_sandbox/wechat/face/<verify_id>`` (or :meth:`FaceVerifySandbox.complete`)
plays the citizen and sets the outcome.

The errcodes 84001–84009 are the sandbox's choice; WeChat does not publish the codes
of these two endpoints. The sandbox keeps only masked names and ID numbers, and the
cert_hash that WeChat would compare.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.privacy import mask_id_number, mask_name
from sandbox.wechat_api import WeChatApiError, WeChatSandbox, error_answer, read_json_body

CERT_TYPE = "IDENTITY_CARD"
VERIFY_ID_TTL_SECONDS = 3600  # WeChat's documented default for expires_in
VERIFY_SUCCESS = 10000
OUT_SEQ_NO = re.compile(r"^[0-9A-Za-z_-]{5,32}$")
RESIDENT_ID = re.compile(r"^\d{17}[\dXx]$")
MAX_CERT_NAME_LENGTH = 64

# errcodes (see ERRORS in sandbox/wechat_api.py)
INVALID_VERIFY_ID = 84001
VERIFY_ID_EXPIRED = 84002
NOT_FINISHED = 84003
CERT_HASH_MISMATCH = 84004
OPENID_MISMATCH = 84005
OUT_SEQ_NO_MISMATCH = 84006
OUT_SEQ_NO_USED = 84007
INVALID_OUT_SEQ_NO = 84008
INVALID_CERT_INFO = 84009
INVALID_OPENID = 40003


def cert_hash(cert_type: str, cert_name: str, cert_no: str) -> str:
    """WeChat's digest of cert_info: SHA-256, lower-case hex, of
    ``cert_type=B64&cert_name=B64&cert_no=B64`` (standard base64 of the UTF-8 values)."""

    def b64(value: str) -> str:
        return base64.b64encode(value.encode("utf-8")).decode("ascii")

    text = f"cert_type={b64(cert_type)}&cert_name={b64(cert_name)}&cert_no={b64(cert_no)}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def is_verify_ret(value: object) -> bool:
    """A result the phone can produce: 10000 success, 10001–10099 or 90001–90199 failure."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (10000 <= value <= 10099 or 90001 <= value <= 90199)
    )


class FaceControlError(Exception):
    """The control endpoint cannot play this outcome (unknown, expired, finished, bad code)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Session:
    verify_id: str
    out_seq_no: str
    openid: str
    cert_name: str  # masked
    cert_no: str  # masked
    cert_hash: str
    created_at: float
    expires_at: float
    verify_ret: int | None = None
    finished_at: float | None = None


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


class FaceVerifySandbox:
    """Face verification sessions of one mini-program, in memory."""

    def __init__(self, clock: Callable[[], float], lock: threading.RLock):
        self.clock = clock
        self._lock = lock
        self._sessions: dict[str, _Session] = {}
        self._used_out_seq_nos: set[str] = set()

    def reset(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._used_out_seq_nos.clear()

    # The two WeChat endpoints ------------------------------------------------------

    def get_verify_id(self, body: dict[str, Any]) -> tuple[str, int]:
        out_seq_no = body.get("out_seq_no")
        cert_info = body.get("cert_info")
        openid = body.get("openid")
        if not isinstance(out_seq_no, str) or not OUT_SEQ_NO.match(out_seq_no):
            raise WeChatApiError(INVALID_OUT_SEQ_NO)
        if not isinstance(cert_info, dict):
            raise WeChatApiError(INVALID_CERT_INFO, "cert_info missing")
        cert_type = cert_info.get("cert_type")
        cert_name = cert_info.get("cert_name")
        cert_no = cert_info.get("cert_no")
        if cert_type != CERT_TYPE:
            raise WeChatApiError(INVALID_CERT_INFO, "cert_type must be IDENTITY_CARD")
        if not isinstance(cert_name, str) or not 0 < len(cert_name) <= MAX_CERT_NAME_LENGTH:
            raise WeChatApiError(INVALID_CERT_INFO, "cert_name invalid")
        if not isinstance(cert_no, str) or not RESIDENT_ID.match(cert_no):
            raise WeChatApiError(INVALID_CERT_INFO, "cert_no invalid")
        if not isinstance(openid, str) or not openid:
            raise WeChatApiError(INVALID_OPENID)
        now = self.clock()
        verify_id = secrets.token_urlsafe(48)
        with self._lock:
            if out_seq_no in self._used_out_seq_nos:
                raise WeChatApiError(OUT_SEQ_NO_USED)
            self._used_out_seq_nos.add(out_seq_no)
            self._sessions[verify_id] = _Session(
                verify_id=verify_id,
                out_seq_no=out_seq_no,
                openid=openid,
                cert_name=mask_name(cert_name),
                cert_no=mask_id_number(cert_no),
                cert_hash=cert_hash(cert_type, cert_name, cert_no),
                created_at=now,
                expires_at=now + VERIFY_ID_TTL_SECONDS,
            )
        return verify_id, VERIFY_ID_TTL_SECONDS

    def query_verify_info(self, body: dict[str, Any]) -> int:
        verify_id = body.get("verify_id")
        with self._lock:
            session = self._sessions.get(verify_id) if isinstance(verify_id, str) else None
            if session is None:
                raise WeChatApiError(INVALID_VERIFY_ID)
            # WeChat compares what the backend sends with what getverifyid was given and
            # answers an errcode, never a verify_ret, when they differ.
            if body.get("out_seq_no") != session.out_seq_no:
                raise WeChatApiError(OUT_SEQ_NO_MISMATCH)
            if body.get("openid") != session.openid:
                raise WeChatApiError(OPENID_MISMATCH)
            if body.get("cert_hash") != session.cert_hash:
                raise WeChatApiError(CERT_HASH_MISMATCH)
            if self.clock() >= session.expires_at:
                raise WeChatApiError(VERIFY_ID_EXPIRED)
            if session.verify_ret is None:
                raise WeChatApiError(NOT_FINISHED)
            return session.verify_ret

    # The citizen at the camera ------------------------------------------------------

    def complete(self, verify_id: str, verify_ret: int) -> dict[str, Any]:
        """Play the outcome of ``wx.requestFacialVerify`` for this session."""
        if not is_verify_ret(verify_ret):
            raise FaceControlError(
                400, "verify_ret must be 10000 (success), 10001–10099 or 90001–90199 (failure)"
            )
        with self._lock:
            session = self._sessions.get(verify_id)
            if session is None:
                raise FaceControlError(404, "no such verify_id")
            if self.clock() >= session.expires_at:
                raise FaceControlError(409, "verify_id expired: the mini-program cannot start")
            if session.verify_ret is not None:
                raise FaceControlError(409, "this verify_id has already been used")
            session.verify_ret = verify_ret
            session.finished_at = self.clock()
            return self._record(session)

    def sessions(self) -> list[dict[str, Any]]:
        """Sessions, oldest first: verify_id, out_seq_no, openid, cert_name and cert_no
        (masked), cert_hash, verify_ret (None until finished), status, created_at,
        expires_at, finished_at."""
        with self._lock:
            ordered = sorted(self._sessions.values(), key=lambda s: s.created_at)
            return [self._record(session) for session in ordered]

    def _record(self, session: _Session) -> dict[str, Any]:
        if session.verify_ret is not None:
            status = "passed" if session.verify_ret == VERIFY_SUCCESS else "failed"
        elif self.clock() >= session.expires_at:
            status = "expired"
        else:
            status = "waiting"
        return {
            "verify_id": session.verify_id,
            "out_seq_no": session.out_seq_no,
            "openid": session.openid,
            "cert_name": session.cert_name,
            "cert_no": session.cert_no,
            "cert_hash": session.cert_hash,
            "verify_ret": session.verify_ret,
            "status": status,
            "created_at": _when(session.created_at),
            "expires_at": _when(session.expires_at),
            "finished_at": _when(session.finished_at),
        }


def wechat_face_blueprint(wechat: WeChatSandbox, face: FaceVerifySandbox) -> Blueprint:
    """getverifyid and queryverifyinfo; both need an access token."""
    blueprint = Blueprint("wechat_face", __name__)
    blueprint.register_error_handler(WeChatApiError, error_answer)

    @blueprint.post("/cityservice/face/identify/getverifyid")
    def getverifyid() -> Response:
        wechat.check_token(request.args.get("access_token"))
        verify_id, expires_in = face.get_verify_id(read_json_body())
        return jsonify(
            {"errcode": 0, "errmsg": "ok", "verify_id": verify_id, "expires_in": expires_in}
        )

    @blueprint.post("/cityservice/face/identify/queryverifyinfo")
    def queryverifyinfo() -> Response:
        wechat.check_token(request.args.get("access_token"))
        verify_ret = face.query_verify_info(read_json_body())
        return jsonify({"errcode": 0, "errmsg": "ok", "verify_ret": verify_ret})

    return blueprint
