"""The S3 backend against moto's S3 server on 127.0.0.1: real boto3, SigV4 and HTTP.

moto's ``ThreadedMotoServer`` speaks S3's wire protocol (the REST API, XML errors) in a
thread of this process; nothing in boto3 is mocked. Credentials are not checked by
moto unless asked: the wrong-credentials tests turn its IAM authentication on.
"""

from __future__ import annotations

import base64
import http.server
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from app.integrations.storage import (
    MAGIC,
    EncryptedStorage,
    FileCorrupt,
    FileMissing,
    InvalidKey,
    S3Storage,
    StorageError,
    StorageNotConfigured,
    StorageUnavailable,
    make_storage,
)
from app.kernel.settings import SettingsError, load_settings
from tests.app.materials import files
from tests.app.materials.test_materials_api import fetch, new_case, upload
from tests.helpers import bearer, wechat_login

DATA_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
MARKER = b"ID-CARD-PHOTO-\xe5\xbc\xa0\xe4\xb8\x89-440402199001010018"
ACCESS_KEY_ID = "AKIATESTTESTTESTTEST"
SECRET_ACCESS_KEY = "test-secret-access-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client_for(endpoint: str, key_id: str = ACCESS_KEY_ID, secret: str = SECRET_ACCESS_KEY,
               **config: Any) -> Any:
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
    )


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    """A client to look into the bucket behind the storage's back."""
    return client_for(s3_endpoint)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"bdc-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def config(s3_endpoint: str, bucket: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "STORAGE_BACKEND": "s3", "STORAGE_S3_ENDPOINT_URL": s3_endpoint,
        "STORAGE_S3_BUCKET": bucket, "STORAGE_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "STORAGE_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY, "DATA_ENCRYPTION_KEY": DATA_KEY,
        "INSTANCE_DIR": str(tmp_path),
    }


def objects(s3: Any, bucket: str) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            for o in listing}


# --- through make_storage: EncryptedStorage around S3Storage ---------------------------


def test_make_storage_builds_encrypted_s3_storage_that_round_trips(config, s3, bucket):
    storage = make_storage(config)
    assert isinstance(storage, EncryptedStorage)
    assert isinstance(storage.inner, S3Storage)
    storage.put("ab/cd/abcd.jpg", MARKER * 10, "image/jpeg")
    assert storage.exists("ab/cd/abcd.jpg")
    assert storage.get("ab/cd/abcd.jpg") == MARKER * 10

    [(key, raw)] = objects(s3, bucket).items()
    assert key == "ab/cd/abcd.jpg"
    assert raw.startswith(MAGIC + bytes([1]))
    assert MARKER not in raw and b"440402199001010018" not in raw
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "application/octet-stream"  # the type stays private

    storage.delete("ab/cd/abcd.jpg")
    assert not storage.exists("ab/cd/abcd.jpg")
    with pytest.raises(FileMissing):
        storage.get("ab/cd/abcd.jpg")
    assert objects(s3, bucket) == {}


def test_the_client_has_short_timeouts_retries_sigv4_and_path_style(config, s3_endpoint):
    client = make_storage(config).inner.client  # type: ignore[attr-defined]
    settings = client.meta.config
    assert (settings.connect_timeout, settings.read_timeout) == (3, 10)
    # retries={"max_attempts": 3, "mode": "standard"}: botocore counts the first try too.
    assert settings.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert settings.request_checksum_calculation == "when_required"
    assert settings.response_checksum_validation == "when_required"
    assert settings.signature_version == "s3v4"
    assert settings.s3["addressing_style"] == "path"
    assert client.meta.region_name == "us-east-1"
    assert client.meta.endpoint_url == s3_endpoint


def test_a_file_moved_to_another_key_in_the_bucket_is_corrupt(config, s3, bucket):
    storage = make_storage(config)
    storage.put("ab/cd/one.jpg", MARKER, "image/jpeg")
    s3.copy_object(Bucket=bucket, Key="ab/cd/two.jpg",
                   CopySource={"Bucket": bucket, "Key": "ab/cd/one.jpg"})
    with pytest.raises(FileCorrupt):
        storage.get("ab/cd/two.jpg")


def test_the_prefix_setting_puts_objects_under_it(config, s3, bucket):
    storage = make_storage({**config, "STORAGE_S3_PREFIX": "bdc/materials/"})
    storage.put("ab/cd/x.pdf", MARKER, "application/pdf")
    assert list(objects(s3, bucket)) == ["bdc/materials/ab/cd/x.pdf"]
    assert storage.get("ab/cd/x.pdf") == MARKER
    assert not make_storage(config).exists("ab/cd/x.pdf")  # without the prefix: not there


# --- S3Storage itself ------------------------------------------------------------------


def test_s3_storage_puts_gets_checks_and_deletes(s3, bucket):
    storage = S3Storage(s3, bucket)
    storage.put("ab/cd/abcd.jpg", b"data", "image/jpeg")
    assert storage.exists("ab/cd/abcd.jpg")
    assert storage.get("ab/cd/abcd.jpg") == b"data"
    assert s3.head_object(Bucket=bucket, Key="ab/cd/abcd.jpg")["ContentType"] == "image/jpeg"
    storage.put("ab/cd/abcd.jpg", b"", "image/jpeg")  # written again, and empty
    assert storage.get("ab/cd/abcd.jpg") == b""
    storage.delete("ab/cd/abcd.jpg")
    assert not storage.exists("ab/cd/abcd.jpg")
    storage.delete("ab/cd/abcd.jpg")  # deleting twice is fine


def test_a_missing_object_is_file_missing(s3, bucket):
    storage = S3Storage(s3, bucket)
    with pytest.raises(FileMissing) as error:
        storage.get("nope.jpg")
    assert isinstance(error.value, KeyError)
    assert not storage.exists("nope.jpg")


def test_prefix_is_applied_and_normalised(s3, bucket):
    for prefix in ("tenant-1", "tenant-1/", "/tenant-1/"):
        storage = S3Storage(s3, bucket, prefix=prefix)
        assert storage.prefix == "tenant-1/"
    storage.put("ab/k.bin", b"x", "application/octet-stream")
    assert list(objects(s3, bucket)) == ["tenant-1/ab/k.bin"]
    assert storage.exists("ab/k.bin")
    assert not S3Storage(s3, bucket).exists("ab/k.bin")
    assert S3Storage(s3, bucket).get("tenant-1/ab/k.bin") == b"x"


@pytest.mark.parametrize("prefix", ["../up", "a/../b", "a\\b", "a//b", "ü"])
def test_an_unsafe_prefix_is_refused(s3, prefix):
    with pytest.raises(StorageNotConfigured, match="STORAGE_S3_PREFIX"):
        S3Storage(s3, "bucket", prefix=prefix)


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/etc/passwd", "a//b", "",
                                 ".hidden", "a\\b", "x" * 600])
def test_unsafe_keys_are_refused_before_any_request(key):
    # An endpoint nobody listens on: a request would be StorageUnavailable, not InvalidKey.
    storage = S3Storage(client_for(f"http://127.0.0.1:{free_port()}"), "bucket")
    for operation in (lambda: storage.put(key, b"x", "text/plain"),
                      lambda: storage.get(key), lambda: storage.exists(key),
                      lambda: storage.delete(key)):
        with pytest.raises(InvalidKey):
            operation()


def test_a_missing_bucket_is_a_storage_error_not_a_missing_file(s3):
    storage = S3Storage(s3, "no-such-bucket-here")
    with pytest.raises(StorageError, match="NoSuchBucket") as error:
        storage.get("a.jpg")
    assert not isinstance(error.value, FileMissing | StorageUnavailable)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        storage.put("a.jpg", b"x", "image/jpeg")
    assert not storage.exists("a.jpg")  # HEAD's 404 has no body to tell the two apart


# --- wrong credentials (moto's IAM authentication turned on) ---------------------------


@pytest.fixture
def authenticating(s3_endpoint: str, s3: Any) -> Iterator[dict[str, str]]:
    """An IAM user allowed s3:* and its access key; moto checks every signature meanwhile."""
    iam = boto3.session.Session().client(
        "iam", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    user = f"bdc-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    bucket = f"bdc-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    response = requests.post(f"{s3_endpoint}/moto-api/reset-auth", data=b"0", timeout=5)
    assert response.status_code == 200, response.text
    try:
        yield {"bucket": bucket, "key_id": key["AccessKeyId"],
               "secret": key["SecretAccessKey"]}
    finally:
        requests.post(f"{s3_endpoint}/moto-api/reset-auth", data=b"inf", timeout=5)


def test_the_right_credentials_work_and_wrong_ones_are_refused(
        s3_endpoint, authenticating, tmp_path):
    config = {
        "STORAGE_BACKEND": "s3", "STORAGE_S3_ENDPOINT_URL": s3_endpoint,
        "STORAGE_S3_BUCKET": authenticating["bucket"],
        "STORAGE_S3_ACCESS_KEY_ID": authenticating["key_id"],
        "STORAGE_S3_SECRET_ACCESS_KEY": authenticating["secret"],
        "DATA_ENCRYPTION_KEY": DATA_KEY, "INSTANCE_DIR": str(tmp_path),
    }
    make_storage(config).put("ab/a.jpg", MARKER, "image/jpeg")
    assert make_storage(config).get("ab/a.jpg") == MARKER

    wrong_secret = make_storage({**config, "STORAGE_S3_SECRET_ACCESS_KEY": "wrong"})
    for operation in (lambda: wrong_secret.get("ab/a.jpg"),
                      lambda: wrong_secret.put("ab/b.jpg", MARKER, "image/jpeg"),
                      lambda: wrong_secret.delete("ab/a.jpg")):
        with pytest.raises(StorageError, match="SignatureDoesNotMatch") as error:
            operation()
        assert not isinstance(error.value, FileMissing | StorageUnavailable)
    with pytest.raises(StorageError, match="HTTP 403"):
        wrong_secret.exists("ab/a.jpg")  # refused, not "absent"

    unknown_key = make_storage({**config, "STORAGE_S3_ACCESS_KEY_ID": "AKIAUNKNOWNUNKNOWN00"})
    with pytest.raises(StorageError, match="InvalidAccessKeyId"):
        unknown_key.get("ab/a.jpg")
    assert make_storage(config).get("ab/a.jpg") == MARKER  # nothing was changed


# --- an unreachable or failing service -------------------------------------------------


def test_an_unreachable_endpoint_is_storage_unavailable_quickly(config):
    dead = {**config, "STORAGE_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    storage = make_storage(dead)  # the real settings: 3 attempts, standard back-off
    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="unreachable"):
        storage.put("ab/a.jpg", MARKER, "image/jpeg")
    assert time.monotonic() - started < 10

    single = S3Storage(client_for(dead["STORAGE_S3_ENDPOINT_URL"],
                                  retries={"max_attempts": 1}), "bucket")
    for operation in (lambda: single.get("a.jpg"), lambda: single.exists("a.jpg"),
                      lambda: single.delete("a.jpg")):
        with pytest.raises(StorageUnavailable):
            operation()


def test_a_service_that_accepts_but_never_answers_times_out(config):
    with socket.socket() as silent:  # the kernel accepts connections; nobody reads
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        storage = S3Storage(client_for(endpoint, connect_timeout=0.5, read_timeout=0.5,
                                       retries={"max_attempts": 1}), "bucket")
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="ReadTimeout"):
            storage.get("a.jpg")
        assert time.monotonic() - started < 5


class _SlowDown(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                b"<Message>Please reduce your request rate.</Message></Error>")
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_5xx_answer_is_storage_unavailable():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowDown)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        storage = S3Storage(client_for(endpoint, retries={"max_attempts": 1}), "bucket")
        with pytest.raises(StorageUnavailable, match="SlowDown"):
            storage.put("a.jpg", b"x", "image/jpeg")
        with pytest.raises(StorageUnavailable, match="HTTP 503"):
            storage.get("a.jpg")
        with pytest.raises(StorageUnavailable, match="HTTP 503"):
            storage.exists("a.jpg")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize("missing", [
    ("STORAGE_S3_BUCKET",),
    ("STORAGE_S3_ACCESS_KEY_ID",),
    ("STORAGE_S3_SECRET_ACCESS_KEY",),
    ("STORAGE_S3_BUCKET", "STORAGE_S3_ACCESS_KEY_ID", "STORAGE_S3_SECRET_ACCESS_KEY"),
])
def test_a_missing_bucket_or_credentials_stops_with_a_clear_error(config, missing):
    incomplete = {**config, **dict.fromkeys(missing, "")}
    with pytest.raises(StorageNotConfigured) as error:
        make_storage(incomplete)
    assert str(error.value) == "STORAGE_BACKEND=s3 needs " + ", ".join(missing)
    assert isinstance(error.value, SettingsError) and isinstance(error.value, StorageError)


@pytest.mark.parametrize("endpoint", ["minio:9000", "ftp://minio.internal", "http://"])
def test_a_malformed_endpoint_is_refused(config, endpoint):
    with pytest.raises(StorageNotConfigured, match="STORAGE_S3_ENDPOINT_URL"):
        make_storage({**config, "STORAGE_S3_ENDPOINT_URL": endpoint})


def test_production_refuses_plain_http_except_on_loopback(config):
    production = {**config, "APP_ENV": "production"}
    for endpoint in ("http://minio.internal:9000", "http://10.0.0.5:9000",
                     "http://cos.ap-guangzhou.myqcloud.com"):
        with pytest.raises(StorageNotConfigured, match="https in production"):
            make_storage({**production, "STORAGE_S3_ENDPOINT_URL": endpoint})
    for endpoint in ("https://cos.ap-guangzhou.myqcloud.com", "http://127.0.0.1:9000",
                     "http://localhost:9000", "http://[::1]:9000"):
        storage = make_storage({**production, "STORAGE_S3_ENDPOINT_URL": endpoint})
        assert storage.inner.client.meta.endpoint_url == endpoint  # type: ignore[attr-defined]
    # Outside production, an http endpoint on the network is allowed (a test MinIO…).
    make_storage({**config, "STORAGE_S3_ENDPOINT_URL": "http://minio.internal:9000"})


def test_virtual_hosted_addressing_for_cos_and_oss(config):
    cos = {**config, "STORAGE_S3_ENDPOINT_URL": "https://cos.ap-guangzhou.myqcloud.com",
           "STORAGE_S3_REGION": "ap-guangzhou", "STORAGE_S3_BUCKET": "bdc-1250000000",
           "STORAGE_S3_ADDRESSING_STYLE": "virtual"}
    client = make_storage(cos).inner.client  # type: ignore[attr-defined]
    assert client.meta.config.s3["addressing_style"] == "virtual"
    url = client.generate_presigned_url("get_object", ExpiresIn=60,
                                        Params={"Bucket": "bdc-1250000000", "Key": "ab/x.jpg"})
    assert url.startswith("https://bdc-1250000000.cos.ap-guangzhou.myqcloud.com/ab/x.jpg?")
    path_style = make_storage({**cos, "STORAGE_S3_ADDRESSING_STYLE": ""})  # default: path
    url = path_style.inner.client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", ExpiresIn=60, Params={"Bucket": "bdc-1250000000", "Key": "ab/x.jpg"})
    assert url.startswith("https://cos.ap-guangzhou.myqcloud.com/bdc-1250000000/ab/x.jpg?")
    with pytest.raises(StorageNotConfigured, match="STORAGE_S3_ADDRESSING_STYLE"):
        make_storage({**cos, "STORAGE_S3_ADDRESSING_STYLE": "hosted"})


def test_an_empty_endpoint_is_aws_itself_over_https(config):
    storage = make_storage({**config, "STORAGE_S3_ENDPOINT_URL": "",
                            "STORAGE_S3_REGION": "ap-east-1", "APP_ENV": "production"})
    client = storage.inner.client  # type: ignore[attr-defined]
    assert client.meta.region_name == "ap-east-1"
    assert client.meta.endpoint_url.startswith("https://")
    assert "amazonaws.com" in client.meta.endpoint_url


def test_the_settings_come_from_the_environment_with_defaults(tmp_path):
    environ = {"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "bdc-files",
               "STORAGE_S3_ENDPOINT_URL": "https://cos.ap-guangzhou.myqcloud.com",
               "STORAGE_S3_ACCESS_KEY_ID": "AKID", "STORAGE_S3_SECRET_ACCESS_KEY": "s"}
    settings = load_settings(environ, {"INSTANCE_DIR": str(tmp_path)})
    assert {key: settings[key] for key in environ} == environ
    assert settings["STORAGE_S3_REGION"] == "us-east-1"
    assert settings["STORAGE_S3_PREFIX"] == ""
    assert settings["STORAGE_S3_ADDRESSING_STYLE"] == "path"
    defaults = load_settings({}, {"INSTANCE_DIR": str(tmp_path)})
    assert defaults["STORAGE_BACKEND"] == "disk"
    assert all(defaults[f"STORAGE_S3_{name}"] == "" for name in
               ("ENDPOINT_URL", "BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "PREFIX"))


# --- the app: materials uploaded through the API land in the bucket, encrypted ---------


def test_materials_uploaded_through_the_api_are_stored_encrypted_in_the_bucket(
        make_app, instance_dir, config, s3, bucket):
    s3_settings = {key: value for key, value in config.items() if key.startswith("STORAGE_")}
    app = make_app(INSTANCE_DIR=str(instance_dir), **s3_settings)
    with app.app_context():
        client = app.test_client()
        tokens = wechat_login(client, "alice")
        case_number = new_case(client, tokens)
        response = upload(client, tokens, case_number, files.jpeg_with_gps(60, 40))
        assert response.status_code == 201, response.get_json()
        material = response.get_json()

        stored = fetch(client, tokens, material["file_url"])
        assert stored.status_code == 200 and stored.mimetype == "image/jpeg"
        thumbnail = fetch(client, tokens, material["thumbnail_url"])
        assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"

        in_bucket = objects(s3, bucket)
        assert len(in_bucket) == 2  # the re-encoded photo and its thumbnail
        for key, raw in in_bucket.items():
            assert key.endswith(".jpg")
            assert raw.startswith(MAGIC + bytes([1]))
            assert stored.data not in raw and thumbnail.data not in raw
            assert b"JFIF" not in raw and not raw.startswith(b"\xff\xd8")
        assert not (instance_dir / "files").exists()  # nothing on disk

        withdrawn = client.delete(f"/api/cases/{case_number}/materials/{material['id']}",
                                  headers=bearer(tokens))
        assert withdrawn.status_code == 204
        assert len(objects(s3, bucket)) == 2  # a withdrawn file stays (the audit trail)


def test_an_upload_while_the_storage_is_down_is_a_503_and_saves_nothing(
        make_app, instance_dir, config):
    from app.kernel.db import db
    from app.materials.models import CaseMaterial

    dead = {key: value for key, value in config.items() if key.startswith("STORAGE_")}
    dead["STORAGE_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    app = make_app(INSTANCE_DIR=str(instance_dir), **dead)
    with app.app_context():
        client = app.test_client()
        tokens = wechat_login(client, "alice")
        case_number = new_case(client, tokens)
        response = upload(client, tokens, case_number, files.jpeg_with_gps(60, 40))
        assert response.status_code == 503
        assert response.get_json()["code"] == "STORAGE_UNAVAILABLE"
        assert response.get_json()["message"] == "文件存储服务暂时不可用，请稍后重试"
        assert db.session.query(CaseMaterial).count() == 0
