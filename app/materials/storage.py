"""File storage: one interface, one class per backend, chosen by ``STORAGE_BACKEND``.

Keys are relative, slash-separated paths made of safe segments; the service makes them
content-addressed (``ab/cd/<sha256>.jpg``), so writing the same key twice is harmless.

Files are personal data (ID card photos…): ``make_storage`` wraps the backend in
:class:`EncryptedStorage`, AES-256-GCM per file with a key derived from
``DATA_ENCRYPTION_KEY``, so a backend only ever sees ciphertext.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.crypto import CryptoNotConfigured, _decode_key

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class StorageError(RuntimeError):
    """A storage backend failed or was misconfigured."""


class InvalidKey(StorageError, ValueError):
    """A key that could escape the storage root or is not a plain relative path."""


class FileMissing(StorageError, KeyError):
    """No file under this key."""


class FileCorrupt(StorageError):
    """A stored file that does not decrypt: altered, truncated, moved or another key's."""


class FileStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> list[str]:
    """The key's segments; refuses absolute paths, '..', backslashes and odd characters."""
    if not isinstance(key, str) or not key or len(key) > 512:
        raise InvalidKey(f"invalid storage key: {key!r}")
    segments = key.split("/")
    for segment in segments:
        if segment in {"", ".", ".."} or not _SEGMENT.match(segment) or ".." in segment:
            raise InvalidKey(f"invalid storage key: {key!r}")
    return segments


class DiskStorage:
    """Files under a root directory; writes are atomic (temporary file, fsync, rename)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # defence in depth against symlinks
            raise InvalidKey(f"invalid storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise FileMissing(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


# --- encryption at rest ----------------------------------------------------------------

FILE_KEY_INFO = b"bdc-file-storage-v1"
MAGIC = b"BDCF"  # what every encrypted file starts with
VERSION = 1  # AES-256-GCM, 96-bit random nonce, AAD = header + storage key
_HEADER = MAGIC + bytes([VERSION])
_NONCE_BYTES = 12
_TAG_BYTES = 16
_ENCRYPTED_CONTENT_TYPE = "application/octet-stream"


def derive_file_key(data_encryption_key: str) -> bytes:
    """The file-storage key: HKDF-SHA256 of ``DATA_ENCRYPTION_KEY`` (base64, 32 bytes).

    A key of its own (``info`` b"bdc-file-storage-v1"), so that the column encryption
    key is never used directly on files.
    """
    master = _decode_key(data_encryption_key, "DATA_ENCRYPTION_KEY")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=FILE_KEY_INFO).derive(
        master
    )


class EncryptedStorage:
    """Any backend, with every file encrypted: AES-256-GCM, a random nonce per write.

    Stored bytes: ``b"BDCF"`` + version byte + 12-byte nonce + ciphertext and 16-byte tag.
    The associated data is the header and the storage key, so a file copied or moved
    to another key, altered, truncated or written with another key raises FileCorrupt.
    The backend sees ``application/octet-stream`` whatever the file's type.
    """

    def __init__(self, inner: FileStorage, key: bytes):
        if len(key) != 32:
            raise StorageError("the file encryption key must be 32 bytes (AES-256)")
        self.inner = inner
        self._aead = AESGCM(key)

    @staticmethod
    def _associated_data(key: str) -> bytes:
        return _HEADER + b"\x00" + key.encode("utf-8")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, self._associated_data(key))
        self.inner.put(key, _HEADER + nonce + sealed, _ENCRYPTED_CONTENT_TYPE)

    def get(self, key: str) -> bytes:
        check_key(key)
        blob = self.inner.get(key)
        if len(blob) < len(_HEADER) + _NONCE_BYTES + _TAG_BYTES or not blob.startswith(MAGIC):
            raise FileCorrupt(f"stored file is not an encrypted file: {key}")
        if blob[len(MAGIC)] != VERSION:
            raise FileCorrupt(f"stored file has an unknown format version: {key}")
        body = blob[len(_HEADER):]
        try:
            return self._aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:],
                                      self._associated_data(key))
        except InvalidTag:
            raise FileCorrupt(
                f"stored file does not decrypt (altered, moved or another key): {key}"
            ) from None

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)


def _enabled(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off"}
    return bool(value)


def _disk(config: Mapping[str, Any]) -> FileStorage:
    root = config.get("STORAGE_DISK_ROOT") or Path(config["INSTANCE_DIR"]) / "files"
    return DiskStorage(root)


# S3-compatible storage comes with its SDK (boto3), which is not installed yet.
BACKENDS: dict[str, Callable[[Mapping[str, Any]], FileStorage]] = {
    "disk": _disk,
}


def make_storage(config: Mapping[str, Any]) -> FileStorage:
    """The backend named by ``STORAGE_BACKEND`` (default "disk"), encrypted.

    ``STORAGE_ENCRYPTION`` (default true) wraps it in EncryptedStorage with a key derived
    from ``DATA_ENCRYPTION_KEY``; turning it off is refused in production.
    """
    name = config.get("STORAGE_BACKEND") or "disk"
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise StorageError(
            f"unknown STORAGE_BACKEND {name!r}; available: {', '.join(sorted(BACKENDS))}"
        ) from None
    backend = factory(config)
    if not _enabled(config.get("STORAGE_ENCRYPTION", True)):
        if config.get("APP_ENV") == "production":
            raise StorageError("STORAGE_ENCRYPTION cannot be turned off in production")
        return backend
    secret = config.get("DATA_ENCRYPTION_KEY") or ""
    if not secret:
        raise StorageError("STORAGE_ENCRYPTION needs DATA_ENCRYPTION_KEY")
    try:
        key = derive_file_key(secret)
    except CryptoNotConfigured as error:
        raise StorageError(f"cannot derive the file storage key: {error}") from None
    return EncryptedStorage(backend, key)
