"""Signatures on a certificate: the PDF's (PAdES, the authority's X.509 certificate) and
the QR code's compact payload (Ed25519, verifiable offline).

PDF
    :func:`sign_pdf` adds one certifying PAdES signature (DocMDP "no changes allowed") that
    covers the whole file; the CMS carries the signing certificate and the CA, so a
    verifier needs only the CA as trust root. Viewers such as Acrobat flag any later change.

QR payload
    ``BDC1.<body>.<signature>``, both parts base64url without padding: the body is the JSON
    ``{"d":"2026-11-24","h":<first 32 hex of the content hash>,"n":<number>}`` (sorted
    keys, no spaces, UTF-8), the signature Ed25519 over the ASCII text before the last dot.
    About 235 characters for a typical number: QR version 11 at error level M. 128 bits of
    the SHA-256 bind the payload to the content; the signature is what cannot be forged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

from asn1crypto import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

T = TypeVar("T")

PAYLOAD_PREFIX = "BDC1"
PAYLOAD_HASH_CHARS = 32
PAYLOAD_MAX_CHARS = 1000  # anything longer is not ours; don't even decode it
SIGNATURE_FIELD = "AuthoritySignature"
DEFAULT_REASON = "不动产登记电子证照"
DEFAULT_LOCATION = "中国"

# --- the PDF signature ----------------------------------------------------------------


def load_certificate(pem: str) -> x509.Certificate:
    """One X.509 certificate (PEM or DER text) as an asn1crypto object."""
    certs = list(load_certs_from_pemder_data(pem.encode()))
    if len(certs) != 1:
        raise ValueError(f"expected one certificate, found {len(certs)}")
    return certs[0]


@lru_cache(maxsize=8)
def _signer(signing_cert_pem: str, signing_key_pem: str, ca_cert_pem: str
            ) -> signers.SimpleSigner:
    """The loaded signer, once per key set (parsing keys and certificates is not free)."""
    key = load_private_key_from_pemder_data(signing_key_pem.encode(), passphrase=None)
    return signers.SimpleSigner(
        signing_cert=load_certificate(signing_cert_pem), signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([load_certificate(ca_cert_pem)]))


def sign_pdf(pdf: bytes, *, signing_cert_pem: str, signing_key_pem: str, ca_cert_pem: str,
             reason: str = DEFAULT_REASON, location: str = DEFAULT_LOCATION) -> bytes:
    """``pdf`` with the authority's certifying signature appended (an incremental update
    covering the whole file; later changes break it).

    pyHanko's synchronous API runs its own event loop (``asyncio.run``), which fails in
    a thread that already runs one (an async server, a browser-driving test): there the
    signing moves to a thread of its own."""
    return outside_event_loop(_sign, pdf, signing_cert_pem, signing_key_pem, ca_cert_pem,
                              reason, location)


def outside_event_loop(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, in a thread of its own when this one runs an event loop
    (pyHanko's synchronous signing and validation call ``asyncio.run``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _sign(pdf: bytes, signing_cert_pem: str, signing_key_pem: str, ca_cert_pem: str,
          reason: str, location: str) -> bytes:
    signer = _signer(signing_cert_pem, signing_key_pem, ca_cert_pem)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, md_algorithm="sha256", reason=reason or None,
        location=location or None, subfilter=fields.SigSeedSubFilter.PADES, certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.sign_pdf(writer, meta, signer=signer)
    return bytes(out.getvalue())


# --- the QR payload -------------------------------------------------------------------


class PayloadInvalid(ValueError):
    """A QR payload that is not a genuine one; ``reason`` says why (Chinese + English)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PayloadFacts:
    """What a genuine payload says."""

    number: str
    content_hash: str  # as in the payload: the first PAYLOAD_HASH_CHARS hex digits
    issue_date: date

    def matches(self, content_hash: str) -> bool:
        """Whether ``content_hash`` (the full SHA-256 hex) is the one the payload names."""
        return content_hash.lower().startswith(self.content_hash)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_HASH_PREFIX = re.compile(f"[0-9a-f]{{{PAYLOAD_HASH_CHARS}}}")


def _b64decode(text: str) -> bytes:
    """Strict base64url without padding: one text per byte string (no ignored characters,
    no stray bits), so that a changed character can never decode to the same bytes."""
    if not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data


@lru_cache(maxsize=8)
def _private_key(pem: str) -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("the payload key must be an Ed25519 private key")
    return key


@lru_cache(maxsize=8)
def _public_key(pem: str) -> ed25519.Ed25519PublicKey:
    if "PRIVATE KEY" in pem:
        return _private_key(pem).public_key()
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError("the payload key must be an Ed25519 public key")
    return key


def payload_public_key_pem(payload_key_pem: str) -> str:
    """The public half of the payload key (SubjectPublicKeyInfo PEM), for publication."""
    return _private_key(payload_key_pem).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def make_payload(number: str, content_hash: str, issue_date: date, payload_key_pem: str) -> str:
    """The QR text for a certificate: ``BDC1.<body>.<signature>``."""
    if not re.fullmatch(r"[0-9a-f]{64}", content_hash):
        raise ValueError("content_hash must be a SHA-256 hex digest (64 lowercase hex digits)")
    body = json.dumps({"n": number, "h": content_hash[:PAYLOAD_HASH_CHARS],
                       "d": issue_date.isoformat()},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    signed = f"{PAYLOAD_PREFIX}.{_b64encode(body.encode('utf-8'))}"
    signature = _private_key(payload_key_pem).sign(signed.encode("ascii"))
    return f"{signed}.{_b64encode(signature)}"


def read_payload(text: str, public_key: str | ed25519.Ed25519PublicKey) -> PayloadFacts:
    """The facts of a genuine payload; :class:`PayloadInvalid` for anything else.
    ``public_key``: the published public key (PEM or object) — the private PEM works too."""
    text = text.strip()
    if len(text) > PAYLOAD_MAX_CHARS:
        raise PayloadInvalid("二维码内容过长，不是电子证照二维码 (payload too long)")
    parts = text.split(".")
    if len(parts) != 3 or parts[0] != PAYLOAD_PREFIX:
        raise PayloadInvalid("不是电子证照二维码 (not a BDC1 payload)")
    try:
        body, signature = _b64decode(parts[1]), _b64decode(parts[2])
    except (ValueError, binascii.Error):
        raise PayloadInvalid("二维码内容已损坏 (payload is not valid base64url)") from None
    key = _public_key(public_key) if isinstance(public_key, str) else public_key
    try:
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise PayloadInvalid("二维码签名无效，内容被篡改或非登记机构签发 "
                             "(payload signature does not verify)") from None
    try:
        data = json.loads(body.decode("utf-8"))
        number, hash_prefix = data["n"], data["h"]
        issued = date.fromisoformat(data["d"])
        if not (isinstance(number, str) and number and isinstance(hash_prefix, str)
                and _HASH_PREFIX.fullmatch(hash_prefix)):
            raise ValueError("bad fields")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise PayloadInvalid("二维码内容格式错误 (malformed payload body)") from None
    return PayloadFacts(number=number, content_hash=hash_prefix, issue_date=issued)
