"""Personal data at rest: AES-256-GCM encryption and keyed hashes for look-ups.

ID numbers, phone numbers and names are stored encrypted; an HMAC-SHA256 of the
normalised value (with a separate key) lets us find a row by value without
decrypting every row. Each ciphertext is bound to its column (associated data),
so a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


class CryptoNotConfigured(RuntimeError):
    pass


class DecryptionFailed(RuntimeError):
    pass


def _decode_key(value: str, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value.encode())
    except (ValueError, TypeError):
        raise CryptoNotConfigured(f"{name} is not base64") from None
    if len(raw) != 32:
        raise CryptoNotConfigured(f"{name} must be 32 bytes (base64)")
    return raw


class DataProtector:
    """Encrypts and hashes personal data with keys from the settings."""

    def __init__(self, encryption_key: str, lookup_key: str):
        self._aead = AESGCM(_decode_key(encryption_key, "DATA_ENCRYPTION_KEY"))
        self._lookup_key = _decode_key(lookup_key, "LOOKUP_HASH_KEY")

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode())
        return f"{_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, context: str) -> str:
        version, _, body = token.partition(":")
        if version != _VERSION:
            raise DecryptionFailed("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode("utf-8")
        except InvalidTag:
            raise DecryptionFailed("ciphertext does not match key or column") from None

    def lookup_hash(self, value: str, purpose: str) -> str:
        """Deterministic keyed hash of a normalised value, for unique look-ups."""
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()


_protector: DataProtector | None = None


def configure(encryption_key: str, lookup_key: str) -> DataProtector:
    global _protector
    _protector = DataProtector(encryption_key, lookup_key)
    return _protector


def protector() -> DataProtector:
    if _protector is None:
        raise CryptoNotConfigured("call app.crypto.configure() first (create_app does)")
    return _protector


def lookup_hash(value: str, purpose: str) -> str:
    return protector().lookup_hash(value, purpose)
