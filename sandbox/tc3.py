"""Tencent Cloud API 3.0 request signatures (TC3-HMAC-SHA256), checked as the real API does.

The algorithm (https://cloud.tencent.com/document/api/382/52071):

    CanonicalRequest = Method \\n URI \\n QueryString \\n CanonicalHeaders \\n
                       SignedHeaders \\n hex(sha256(payload))
    StringToSign     = "TC3-HMAC-SHA256" \\n Timestamp \\n Date/service/tc3_request \\n
                       hex(sha256(CanonicalRequest))
    SigningKey       = HMAC(HMAC(HMAC("TC3" + SecretKey, Date), service), "tc3_request")
    Signature        = hex(HMAC(SigningKey, StringToSign))

Canonical headers are ``name:value`` lines, name and value lower-cased and trimmed,
in the order of SignedHeaders, which must include content-type and host.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
MAX_CLOCK_SKEW_SECONDS = 300
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/\s,]+)/(?P<date>\d{4}-\d{2}-\d{2})"
    r"/(?P<service>[a-z0-9]+)/tc3_request,\s*SignedHeaders=(?P<signed_headers>[a-z0-9;-]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})$"
)

# Tencent's own messages (the SDK asks for zh-CN).
MESSAGES = {
    "AuthFailure.InvalidAuthorization": "请求头部的 Authorization 不符合腾讯云标准。",
    "AuthFailure.SecretIdNotFound": (
        "密钥不存在。请在控制台检查密钥是否已被删除或者禁用，如状态正常，"
        "请检查密钥是否填写正确，注意前后不得有空格。"
    ),
    "AuthFailure.SignatureExpire": (
        "签名过期。Timestamp 和服务器时间相差不得超过五分钟，请检查本地时间是否和标准时间同步。"
    ),
    "AuthFailure.SignatureFailure": "请求签名验证失败，请检查您的签名计算是否正确。",
}


class Tc3AuthError(Exception):
    """The request's signature is missing, malformed, stale or wrong."""

    def __init__(self, code: str, detail: str = ""):
        message = MESSAGES.get(code, code)
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code = code
        self.message = message
        self.detail = detail


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(
    secret_key: str,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    payload_hash: str,
    timestamp: int,
    service: str,
) -> str:
    """The hex signature of a request; ``headers`` keyed by lower-case names."""
    canonical_headers = "".join(
        f"{name}:{headers[name].strip().lower()}\n" for name in signed_headers
    )
    canonical_request = "\n".join(
        [
            method.upper(),
            path,
            query,
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            str(timestamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    signing_key = _hmac(
        _hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request"
    )
    return hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_tc3_request(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_keys: Mapping[str, str],
    service: str,
    now: float,
) -> str:
    """Check a TC3-signed request; return its SecretId or raise :class:`Tc3AuthError`.

    ``secret_keys`` maps each known SecretId to its SecretKey; ``now`` is the server's
    clock (epoch seconds), against which X-TC-Timestamp may be off by five minutes.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    match = _AUTHORIZATION.match(lowered.get("authorization", "").strip())
    if match is None:
        raise Tc3AuthError("AuthFailure.InvalidAuthorization")
    signed_headers = match["signed_headers"].split(";")
    if not {"content-type", "host"} <= set(signed_headers):
        raise Tc3AuthError(
            "AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type;host."
        )
    if any(name not in lowered for name in signed_headers):
        raise Tc3AuthError("AuthFailure.SignatureFailure", "a signed header is missing.")

    try:
        timestamp = int(lowered.get("x-tc-timestamp", ""))
    except ValueError:
        raise Tc3AuthError("AuthFailure.InvalidAuthorization", "X-TC-Timestamp is missing.")
    if abs(now - timestamp) > MAX_CLOCK_SKEW_SECONDS:
        raise Tc3AuthError("AuthFailure.SignatureExpire")

    secret_key = secret_keys.get(match["secret_id"])
    if secret_key is None:
        raise Tc3AuthError("AuthFailure.SecretIdNotFound")

    if match["service"] != service:
        raise Tc3AuthError("AuthFailure.SignatureFailure", f"the service must be {service}.")
    if match["date"] != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d"):
        raise Tc3AuthError(
            "AuthFailure.SignatureFailure", "the credential date is not the timestamp's UTC date."
        )

    payload: bytes = body
    if lowered.get("x-tc-content-sha256") == UNSIGNED_PAYLOAD:
        payload = UNSIGNED_PAYLOAD.encode()
    expected = tc3_signature(
        secret_key,
        method=method,
        path=path,
        query=query,
        headers=lowered,
        signed_headers=signed_headers,
        payload_hash=hashlib.sha256(payload).hexdigest(),
        timestamp=timestamp,
        service=service,
    )
    if not hmac.compare_digest(expected, match["signature"]):
        raise Tc3AuthError("AuthFailure.SignatureFailure")
    return match["secret_id"]
