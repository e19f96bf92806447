"""Disk storage and the backend registry, without the app."""

from __future__ import annotations

import pytest

from app.materials.storage import (
    DiskStorage,
    FileMissing,
    InvalidKey,
    StorageError,
    make_storage,
)


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


def test_the_registry_builds_disk_storage_under_the_instance_directory(tmp_path):
    storage = make_storage({"STORAGE_BACKEND": "disk", "INSTANCE_DIR": str(tmp_path)})
    assert isinstance(storage, DiskStorage)
    assert storage.root == (tmp_path / "files").resolve()
    explicit = make_storage({"INSTANCE_DIR": str(tmp_path),
                             "STORAGE_DISK_ROOT": str(tmp_path / "x")})
    assert isinstance(explicit, DiskStorage) and explicit.root == (tmp_path / "x").resolve()


def test_an_unknown_backend_stops_with_a_clear_error(tmp_path):
    with pytest.raises(StorageError, match="s3"):
        make_storage({"STORAGE_BACKEND": "s3", "INSTANCE_DIR": str(tmp_path)})
