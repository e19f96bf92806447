"""File storage: one interface, one class per backend, chosen by ``STORAGE_BACKEND``.

Keys are relative, slash-separated paths made of safe segments; the service makes them
content-addressed (``ab/cd/<sha256>.jpg``), so writing the same key twice is harmless.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class StorageError(RuntimeError):
    """A storage backend failed or was misconfigured."""


class InvalidKey(StorageError, ValueError):
    """A key that could escape the storage root or is not a plain relative path."""


class FileMissing(StorageError, KeyError):
    """No file under this key."""


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


def _disk(config: Mapping[str, Any]) -> FileStorage:
    root = config.get("STORAGE_DISK_ROOT") or Path(config["INSTANCE_DIR"]) / "files"
    return DiskStorage(root)


# S3-compatible storage comes with its SDK (boto3), which is not installed yet.
BACKENDS: dict[str, Callable[[Mapping[str, Any]], FileStorage]] = {
    "disk": _disk,
}


def make_storage(config: Mapping[str, Any]) -> FileStorage:
    """The storage backend named by ``STORAGE_BACKEND`` (default "disk")."""
    name = config.get("STORAGE_BACKEND") or "disk"
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise StorageError(
            f"unknown STORAGE_BACKEND {name!r}; available: {', '.join(sorted(BACKENDS))}"
        ) from None
    return factory(config)
