"""File storage: one interface, one class per backend, chosen by ``STORAGE_BACKEND``.

Backends: ``disk`` (:class:`DiskStorage`, the default) and ``s3`` (:class:`S3Storage`,
any S3-compatible object storage through boto3: MinIO, Tencent COS, Aliyun OSS…).

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
from urllib.parse import urlsplit

from botocore.exceptions import ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as BotoConnectionError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.integrations.registry import is_loopback_url
from app.kernel.crypto import CryptoNotConfigured, _decode_key
from app.kernel.errors import ServiceUnavailable
from app.kernel.settings import SettingsError

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class StorageError(RuntimeError):
    """A storage backend failed or was misconfigured."""


class InvalidKey(StorageError, ValueError):
    """A key that could escape the storage root or is not a plain relative path."""


class FileMissing(StorageError, KeyError):
    """No file under this key."""


class FileCorrupt(StorageError):
    """A stored file that does not decrypt: altered, truncated, moved or another key's."""


class StorageUnavailable(StorageError, ServiceUnavailable):
    """The storage service could not be reached or failed on its side (network, timeout,
    5xx after the client's retries): worth trying again later (HTTP 503 for clients)."""

    code = "STORAGE_UNAVAILABLE"
    message = "文件存储服务暂时不可用，请稍后重试"

    def __init__(self, *args: object) -> None:
        StorageError.__init__(self, *args)
        self.message = StorageUnavailable.message
        self.details = {}


class StorageNotConfigured(StorageError, SettingsError):
    """The storage settings are missing, malformed or unsafe (e.g. STORAGE_BACKEND=s3
    without a bucket or credentials): the platform must not use storage like this."""


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


# --- S3-compatible object storage ------------------------------------------------------


def _s3_prefix(prefix: str) -> str:
    """``""`` or safe segments ending with one slash: ``"bdc/files"`` → ``"bdc/files/"``."""
    prefix = (prefix or "").strip().strip("/")
    if not prefix:
        return ""
    try:
        check_key(prefix)
    except InvalidKey:
        raise StorageNotConfigured(f"invalid STORAGE_S3_PREFIX: {prefix!r}") from None
    return prefix + "/"


class S3Storage:
    """Objects in one bucket of an S3-compatible service, under an optional key prefix.

    ``client`` is a boto3 S3 client (see :func:`make_s3_client`). The object key is
    ``prefix + key``; keys are checked like DiskStorage's. A missing object is
    :class:`FileMissing`; a network error, timeout or 5xx (after botocore's retries) is
    :class:`StorageUnavailable`; anything else the service refuses (wrong credentials,
    access denied, no such bucket) is a :class:`StorageError` naming the S3 error code.
    """

    def __init__(self, client: Any, bucket: str, prefix: str = ""):
        if not bucket:
            raise StorageNotConfigured("S3Storage needs a bucket")
        self.client = client
        self.bucket = bucket
        self.prefix = _s3_prefix(prefix)

    def _object_key(self, key: str) -> str:
        return self.prefix + "/".join(check_key(key))

    def _failure(self, operation: str, key: str, error: Exception) -> StorageError:
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            code = details.get("Code") or str(status)
            message = (f"S3 {operation} of {key!r} in bucket {self.bucket!r} failed: "
                       f"{code} (HTTP {status})")
            if status >= 500 or status == 429 or code in {"SlowDown", "ServiceUnavailable"}:
                return StorageUnavailable(message)
            return StorageError(message)
        return StorageUnavailable(f"S3 {operation} of {key!r}: storage service unreachable"
                                  f" ({type(error).__name__}: {error})")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        object_key = self._object_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=object_key, Body=data,
                                   ContentType=content_type)
        except (ClientError, BotoConnectionError, HTTPClientError) as error:
            raise self._failure("PutObject", key, error) from error

    def get(self, key: str) -> bytes:
        object_key = self._object_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key)
            with response["Body"] as body:
                data: bytes = body.read()
            return data
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileMissing(key) from None
            raise self._failure("GetObject", key, error) from error
        except (BotoConnectionError, HTTPClientError, IncompleteReadError) as error:
            raise self._failure("GetObject", key, error) from error

    def delete(self, key: str) -> None:
        """Deleting a missing object is fine (S3 answers 204 either way)."""
        object_key = self._object_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=object_key)
        except (ClientError, BotoConnectionError, HTTPClientError) as error:
            raise self._failure("DeleteObject", key, error) from error

    def exists(self, key: str) -> bool:
        """HEAD answers 404 without a body, so a missing bucket also reads as False."""
        object_key = self._object_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=object_key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise self._failure("HeadObject", key, error) from error
        except (BotoConnectionError, HTTPClientError) as error:
            raise self._failure("HeadObject", key, error) from error
        return True


S3_CONNECT_TIMEOUT_SECONDS = 3
S3_READ_TIMEOUT_SECONDS = 10
# botocore's ``retries["max_attempts"]`` counts retries after the first try: 4 tries at most.
S3_MAX_ATTEMPTS = 3
S3_ADDRESSING_STYLES = ("path", "virtual", "auto")
S3_CREDENTIAL_KEYS = ("STORAGE_S3_ACCESS_KEY_ID", "STORAGE_S3_SECRET_ACCESS_KEY")


def _require(config: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    missing = [key for key in keys if not str(config.get(key) or "").strip()]
    if missing:
        raise StorageNotConfigured("STORAGE_BACKEND=s3 needs " + ", ".join(missing))



def _s3_endpoint(config: Mapping[str, Any]) -> str | None:
    """``STORAGE_S3_ENDPOINT_URL`` checked; ``None`` (empty) is AWS's own endpoint."""
    endpoint = str(config.get("STORAGE_S3_ENDPOINT_URL") or "").strip()
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StorageNotConfigured(
            "STORAGE_S3_ENDPOINT_URL must be an http:// or https:// URL with a host")
    if (config.get("APP_ENV") == "production" and parts.scheme == "http"
            and not is_loopback_url(endpoint)):
        raise StorageNotConfigured(
            "STORAGE_S3_ENDPOINT_URL must use https in production: the requests carry the"
            " materials and sign with the storage credentials")
    return endpoint


def make_s3_client(config: Mapping[str, Any]) -> Any:
    """A boto3 S3 client from the ``STORAGE_S3_*`` settings (bucket not included).

    SigV4, path-style addressing by default (``https://endpoint/bucket/key``, what MinIO
    expects; ``STORAGE_S3_ADDRESSING_STYLE=virtual`` for Aliyun OSS and for Tencent COS
    buckets created since 2024, which refuse path-style requests), short timeouts and
    botocore's standard retries, and checksums only when an operation requires them:
    boto3 ≥ 1.36 otherwise adds CRC headers and aws-chunked uploads that several
    S3-compatible services refuse.
    """
    _require(config, S3_CREDENTIAL_KEYS)
    endpoint = _s3_endpoint(config)
    addressing_style = str(config.get("STORAGE_S3_ADDRESSING_STYLE") or "path").strip()
    if addressing_style not in S3_ADDRESSING_STYLES:
        raise StorageNotConfigured(
            f"STORAGE_S3_ADDRESSING_STYLE must be one of {', '.join(S3_ADDRESSING_STYLES)}")
    import boto3.session  # imported here: disk installations never load boto3
    from botocore.config import Config

    client_config = Config(
        connect_timeout=S3_CONNECT_TIMEOUT_SECONDS,
        read_timeout=S3_READ_TIMEOUT_SECONDS,
        retries={"max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": addressing_style},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # A session of its own: boto3's default session is shared and not thread-safe.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=str(config.get("STORAGE_S3_REGION") or "us-east-1"),
        aws_access_key_id=str(config["STORAGE_S3_ACCESS_KEY_ID"]),
        aws_secret_access_key=str(config["STORAGE_S3_SECRET_ACCESS_KEY"]),
        config=client_config,
    )


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


def _s3(config: Mapping[str, Any]) -> FileStorage:
    _require(config, ("STORAGE_S3_BUCKET", *S3_CREDENTIAL_KEYS))
    prefix = _s3_prefix(str(config.get("STORAGE_S3_PREFIX") or ""))  # checked before connecting
    return S3Storage(make_s3_client(config), str(config["STORAGE_S3_BUCKET"]).strip(), prefix)


BACKENDS: dict[str, Callable[[Mapping[str, Any]], FileStorage]] = {
    "disk": _disk,
    "s3": _s3,
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
        raise StorageNotConfigured(
            f"unknown STORAGE_BACKEND {name!r}; available: {', '.join(sorted(BACKENDS))}"
        ) from None
    backend = factory(config)
    if not _enabled(config.get("STORAGE_ENCRYPTION", True)):
        if config.get("APP_ENV") == "production":
            raise StorageNotConfigured("STORAGE_ENCRYPTION cannot be turned off in production")
        return backend
    secret = config.get("DATA_ENCRYPTION_KEY") or ""
    if not secret:
        raise StorageNotConfigured("STORAGE_ENCRYPTION needs DATA_ENCRYPTION_KEY")
    try:
        key = derive_file_key(secret)
    except CryptoNotConfigured as error:
        raise StorageNotConfigured(f"cannot derive the file storage key: {error}") from None
    return EncryptedStorage(backend, key)
