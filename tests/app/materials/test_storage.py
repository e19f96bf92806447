"""Disk storage, encryption at rest and the backend registry (the app only at the end)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from app.integrations.storage import (
    MAGIC,
    DiskStorage,
    EncryptedStorage,
    FileCorrupt,
    FileMissing,
    InvalidKey,
    StorageError,
    StorageNotConfigured,
    derive_file_key,
    make_storage,
)
from app.kernel.settings import SettingsError

DATA_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
MARKER = b"ID-CARD-PHOTO-\xe5\xbc\xa0\xe4\xb8\x89-440402199001010018"


def test_a_file_put_can_be_read_checked_and_deleted(tmp_path):
    storage = DiskStorage(tmp_path)
    storage.put("ab/cd/abcd.jpg", b"data", "image/jpeg")
    assert storage.exists("ab/cd/abcd.jpg")
    assert storage.get("ab/cd/abcd.jpg") == b"data"
    storage.delete("ab/cd/abcd.jpg")
    assert not storage.exists("ab/cd/abcd.jpg")
    storage.delete("ab/cd/abcd.jpg")  # deleting twice is fine


def test_writing_a_key_again_replaces_it_and_leaves_no_temporary_files(tmp_path):
    storage = DiskStorage(tmp_path)
    storage.put("k.bin", b"one", "application/octet-stream")
    storage.put("k.bin", b"two", "application/octet-stream")
    assert storage.get("k.bin") == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["k.bin"]


def test_a_missing_key_is_file_missing(tmp_path):
    with pytest.raises(FileMissing):
        DiskStorage(tmp_path).get("nope.jpg")


@pytest.mark.parametrize("key", [
    "../escape", "a/../../b", "/etc/passwd", "a//b", "", ".hidden", "a\\b", "a/./b",
    "C:\\x", "a/..", "x" * 600,
])
def test_keys_that_could_escape_the_root_are_refused(tmp_path, key):
    storage = DiskStorage(tmp_path / "root")
    for operation in (lambda: storage.put(key, b"x", "text/plain"),
                      lambda: storage.get(key), lambda: storage.exists(key),
                      lambda: storage.delete(key)):
        with pytest.raises(InvalidKey):
            operation()
    assert not (tmp_path / "escape").exists()


def test_a_symlink_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidKey):
        DiskStorage(root).put("link/file", b"x", "text/plain")


def test_the_registry_builds_encrypted_disk_storage_under_the_instance_directory(tmp_path):
    storage = make_storage({"STORAGE_BACKEND": "disk", "INSTANCE_DIR": str(tmp_path),
                            "DATA_ENCRYPTION_KEY": DATA_KEY})
    assert isinstance(storage, EncryptedStorage)
    assert isinstance(storage.inner, DiskStorage)
    assert storage.inner.root == (tmp_path / "files").resolve()
    explicit = make_storage({"INSTANCE_DIR": str(tmp_path), "DATA_ENCRYPTION_KEY": DATA_KEY,
                             "STORAGE_DISK_ROOT": str(tmp_path / "x")})
    assert isinstance(explicit, EncryptedStorage)
    assert isinstance(explicit.inner, DiskStorage)
    assert explicit.inner.root == (tmp_path / "x").resolve()


def test_an_unknown_backend_stops_with_a_clear_error(tmp_path):
    with pytest.raises(StorageNotConfigured, match="'ftp'.*available: disk, s3") as error:
        make_storage({"STORAGE_BACKEND": "ftp", "INSTANCE_DIR": str(tmp_path)})
    assert isinstance(error.value, StorageError) and isinstance(error.value, SettingsError)


# --- encryption at rest ----------------------------------------------------------------


def encrypted(root: Path, data_key: str = DATA_KEY) -> EncryptedStorage:
    return EncryptedStorage(DiskStorage(root), derive_file_key(data_key))


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_an_encrypted_file_round_trips(tmp_path):
    storage = encrypted(tmp_path)
    storage.put("ab/cd/abcd.jpg", MARKER, "image/jpeg")
    assert storage.exists("ab/cd/abcd.jpg")
    assert storage.get("ab/cd/abcd.jpg") == MARKER
    storage.put("ab/cd/abcd.jpg", b"", "image/jpeg")  # an empty file too
    assert storage.get("ab/cd/abcd.jpg") == b""
    storage.delete("ab/cd/abcd.jpg")
    assert not storage.exists("ab/cd/abcd.jpg")
    with pytest.raises(FileMissing):
        storage.get("ab/cd/abcd.jpg")


def test_the_bytes_on_disk_are_not_the_plaintext(tmp_path):
    storage = encrypted(tmp_path)
    storage.put("ab/cd/abcd.jpg", MARKER * 100, "image/jpeg")
    [path] = stored_files(tmp_path)
    raw = path.read_bytes()
    assert raw.startswith(MAGIC + bytes([1]))
    assert MARKER not in raw
    assert b"440402199001010018" not in raw and b"ID-CARD" not in raw
    assert len(raw) == len(MARKER) * 100 + 5 + 12 + 16


def test_each_write_uses_a_new_nonce(tmp_path):
    storage = encrypted(tmp_path)
    storage.put("a.jpg", MARKER, "image/jpeg")
    first = (tmp_path / "a.jpg").read_bytes()
    storage.put("a.jpg", MARKER, "image/jpeg")
    second = (tmp_path / "a.jpg").read_bytes()
    assert first != second and first[5:17] != second[5:17]
    assert storage.get("a.jpg") == MARKER


@pytest.mark.parametrize("position", [0, 4, 5, 10, 20, -1])
def test_a_tampered_file_is_corrupt(tmp_path, position):
    storage = encrypted(tmp_path)
    storage.put("a.jpg", MARKER, "image/jpeg")
    path = tmp_path / "a.jpg"
    raw = bytearray(path.read_bytes())
    raw[position] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(FileCorrupt):
        storage.get("a.jpg")


# The random one has a fixed id: every pytest-xdist worker must collect the same names.
@pytest.mark.parametrize("content", [
    b"", b"BDCF", MARKER, b"BDCF\x01" + b"\0" * 27,
    pytest.param(b"BDCF\x02" + os.urandom(60), id="BDCF-v2-random")])
def test_a_truncated_plaintext_or_unknown_version_file_is_corrupt(tmp_path, content):
    (tmp_path / "a.jpg").write_bytes(content)
    with pytest.raises(FileCorrupt):
        encrypted(tmp_path).get("a.jpg")


def test_a_file_moved_to_another_storage_key_is_corrupt(tmp_path):
    storage = encrypted(tmp_path)
    storage.put("ab/cd/one.jpg", MARKER, "image/jpeg")
    (tmp_path / "ab" / "cd" / "one.jpg").rename(tmp_path / "ab" / "cd" / "two.jpg")
    with pytest.raises(FileCorrupt):
        storage.get("ab/cd/two.jpg")


def test_a_file_encrypted_with_another_key_is_corrupt(tmp_path):
    other_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    encrypted(tmp_path, other_key).put("a.jpg", MARKER, "image/jpeg")
    with pytest.raises(FileCorrupt) as error:
        encrypted(tmp_path).get("a.jpg")
    assert isinstance(error.value, StorageError)


def test_the_file_key_is_derived_not_the_data_key_itself():
    raw = base64.urlsafe_b64decode(DATA_KEY)
    key = derive_file_key(DATA_KEY)
    assert len(key) == 32 and key != raw
    assert derive_file_key(DATA_KEY) == key
    with pytest.raises(StorageError):
        EncryptedStorage(DiskStorage("/nonexistent"), b"short")


def test_encrypted_storage_still_refuses_unsafe_keys(tmp_path):
    storage = encrypted(tmp_path / "root")
    for key in ["../escape", "/etc/passwd", "a//b"]:
        with pytest.raises(InvalidKey):
            storage.put(key, b"x", "text/plain")
        with pytest.raises(InvalidKey):
            storage.get(key)


def test_the_registry_needs_a_data_key_and_encryption_stays_on_in_production(tmp_path):
    base = {"INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(StorageError, match="DATA_ENCRYPTION_KEY"):
        make_storage(base)
    with pytest.raises(StorageError, match="DATA_ENCRYPTION_KEY"):
        make_storage({**base, "DATA_ENCRYPTION_KEY": "not-base64-32-bytes"})
    plain = make_storage({**base, "STORAGE_ENCRYPTION": False})
    assert isinstance(plain, DiskStorage)
    assert isinstance(make_storage({**base, "STORAGE_ENCRYPTION": "false"}), DiskStorage)
    with pytest.raises(StorageError, match="production"):
        make_storage({**base, "STORAGE_ENCRYPTION": False, "APP_ENV": "production"})


def test_files_from_the_registry_are_readable_by_the_next_instance(tmp_path):
    config = {"INSTANCE_DIR": str(tmp_path), "DATA_ENCRYPTION_KEY": DATA_KEY}
    make_storage(config).put("ab/cd/x.pdf", MARKER, "application/pdf")
    assert make_storage(config).get("ab/cd/x.pdf") == MARKER
    assert MARKER not in (tmp_path / "files" / "ab" / "cd" / "x.pdf").read_bytes()


def test_the_app_stores_materials_encrypted(app, instance_dir):
    from app.services import storage

    files = storage()
    assert isinstance(files, EncryptedStorage)
    files.put("ab/cd/abcd.jpg", MARKER, "image/jpeg")
    assert files.get("ab/cd/abcd.jpg") == MARKER
    [path] = stored_files(instance_dir / "files")
    assert MARKER not in path.read_bytes()
