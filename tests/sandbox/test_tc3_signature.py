"""The sandbox's TC3-HMAC-SHA256 check, on requests signed by the Tencent Cloud SDK itself."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pytest
from tencentcloud.common.credential import Credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111.sms_client import SmsClient

from sandbox.tc3 import Tc3AuthError, tc3_signature, verify_tc3_request

SECRET_ID = "AKID" + "a1" * 16
SECRET_KEY = "k3y" * 10
ENDPOINT = "127.0.0.1:8001"
PARAMS = {
    "PhoneNumberSet": ["+8613800000000"],
    "SmsSdkAppId": "1400000001",
    "TemplateId": "1000001",
    "SignName": "不动产登记中心",
    "TemplateParamSet": ["482913", "5"],
}


@dataclass
class SignedRequest:
    headers: dict[str, str]
    body: bytes

    @property
    def timestamp(self) -> int:
        return int(self.headers["X-TC-Timestamp"])


def sign_with_sdk(secret_key: str = SECRET_KEY, *, unsigned_payload: bool = False) -> SignedRequest:
    """Headers and body exactly as the SDK would send them to ENDPOINT.

    Calls the SDK's own request builder (a private method) so that the signature under
    test comes from Tencent's code, not ours.
    """
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=ENDPOINT))
    profile.unsignedPayload = unsigned_payload
    client = SmsClient(Credential(SECRET_ID, secret_key), "ap-guangzhou", profile)
    request = RequestInternal(ENDPOINT, "POST", "/", header={})
    client._build_req_with_tc3_signature("SendSms", PARAMS, request)
    return SignedRequest(dict(request.header), request.data.encode("utf-8"))


def verify(signed: SignedRequest, **changes: object) -> str:
    arguments: dict[str, object] = {
        "method": "POST",
        "path": "/",
        "query": "",
        "headers": signed.headers,
        "body": signed.body,
        "secret_keys": {SECRET_ID: SECRET_KEY},
        "service": "sms",
        "now": signed.timestamp,
    }
    arguments.update(changes)
    return verify_tc3_request(**arguments)  # type: ignore[arg-type]


def refusal(signed: SignedRequest, **changes: object) -> str:
    with pytest.raises(Tc3AuthError) as caught:
        verify(signed, **changes)
    return caught.value.code


def test_a_request_signed_by_the_sdk_is_accepted_and_names_its_secret_id() -> None:
    assert verify(sign_with_sdk()) == SECRET_ID


def test_our_signature_is_the_one_the_sdk_computes() -> None:
    signed = sign_with_sdk()

    ours = tc3_signature(
        SECRET_KEY,
        method="POST",
        path="/",
        query="",
        headers={"content-type": "application/json", "host": ENDPOINT},
        signed_headers=["content-type", "host"],
        payload_hash=hashlib.sha256(signed.body).hexdigest(),
        timestamp=signed.timestamp,
        service="sms",
    )
    assert signed.headers["Authorization"].endswith(f"Signature={ours}")


def test_header_names_are_matched_in_any_case() -> None:
    signed = sign_with_sdk()
    lowered = {name.lower(): value for name, value in signed.headers.items()}

    assert verify(signed, headers=lowered) == SECRET_ID


def test_a_changed_body_fails_the_signature() -> None:
    signed = sign_with_sdk()
    params = json.loads(signed.body)
    params["PhoneNumberSet"] = ["+8613700000000"]

    assert refusal(signed, body=json.dumps(params).encode()) == "AuthFailure.SignatureFailure"


def test_a_different_host_fails_the_signature() -> None:
    signed = sign_with_sdk()
    headers = dict(signed.headers, Host="sms.tencentcloudapi.com")

    assert refusal(signed, headers=headers) == "AuthFailure.SignatureFailure"


def test_a_wrong_secret_key_fails_the_signature() -> None:
    assert refusal(sign_with_sdk(secret_key="not-the-key")) == "AuthFailure.SignatureFailure"


def test_an_unknown_secret_id_is_reported_as_such() -> None:
    signed = sign_with_sdk()

    code = refusal(signed, secret_keys={"AKIDsomebodyelse": SECRET_KEY})
    assert code == "AuthFailure.SecretIdNotFound"


def test_a_signature_for_another_service_is_refused() -> None:
    signed = sign_with_sdk()

    assert refusal(signed, service="cvm") == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("skew", [-301, 301, 3600])
def test_a_timestamp_more_than_five_minutes_off_has_expired(skew: int) -> None:
    signed = sign_with_sdk()

    assert refusal(signed, now=signed.timestamp + skew) == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize("skew", [-300, 0, 299])
def test_a_timestamp_within_five_minutes_is_accepted(skew: int) -> None:
    signed = sign_with_sdk()

    assert verify(signed, now=signed.timestamp + skew) == SECRET_ID


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer something",
        "TC3-HMAC-SHA256 Credential=AKID/2026-01-01/sms/tc3_request",
        "HMAC-SHA1 Credential=AKID/2026-01-01/sms/tc3_request, SignedHeaders=content-type;host, "
        "Signature=" + "0" * 64,
    ],
)
def test_a_malformed_authorization_header_is_refused(authorization: str) -> None:
    signed = sign_with_sdk()
    headers = dict(signed.headers, Authorization=authorization)

    assert refusal(signed, headers=headers) == "AuthFailure.InvalidAuthorization"


def test_the_signed_headers_must_include_content_type_and_host() -> None:
    signed = sign_with_sdk()
    headers = dict(
        signed.headers,
        Authorization=signed.headers["Authorization"].replace(
            "SignedHeaders=content-type;host", "SignedHeaders=host"
        ),
    )

    assert refusal(signed, headers=headers) == "AuthFailure.InvalidAuthorization"


def test_an_unsigned_payload_is_accepted_when_the_sdk_declares_it() -> None:
    signed = sign_with_sdk(unsigned_payload=True)

    assert signed.headers["X-TC-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert verify(signed, body=b'{"anything": "goes"}') == SECRET_ID
