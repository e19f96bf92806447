"""Uploading, listing, reading and withdrawing a case's materials through the API."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import select

from app.cases import service as cases
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.kernel.audit import AuditRecord
from app.kernel.db import db
from tests.app.materials import files
from tests.helpers import bearer, wechat_login

UNIT = "440402003001GB00012F00010203"


def new_case(client: Any, tokens: dict[str, Any], business_type: str = "resale_transfer") -> str:
    response = client.post("/api/cases", json={"business_type": business_type,
                                               "unit_number": UNIT, "location": "示范路1号"},
                           headers=bearer(tokens))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["case_number"])


def upload(client: Any, tokens: dict[str, Any], case_number: str, data: bytes,
           filename: str = "photo.jpg", item: str = "identity_document",
           role: str = "buyer") -> Any:
    """What wx.uploadFile sends: name 'file', formData {item, role}."""
    return client.post(
        f"/api/cases/{case_number}/materials",
        data={"item": item, "role": role, "file": (io.BytesIO(data), filename)},
        headers=bearer(tokens), content_type="multipart/form-data",
    )


def fetch(client: Any, tokens: dict[str, Any], url: str) -> Any:
    return client.get(url, headers=bearer(tokens))


def error_code(response: Any) -> str:
    body = response.get_json()
    assert set(body) == {"code", "message", "details"}, body
    return str(body["code"])


def test_a_photo_comes_back_upright_without_exif_or_gps(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    response = upload(client, tokens, case_number, files.jpeg_with_gps(60, 40))
    assert response.status_code == 201, response.get_json()
    material = response.get_json()
    assert material["detected_type"] == "jpeg"
    assert (material["width"], material["height"]) == (40, 60)

    stored = fetch(client, tokens, material["file_url"])
    assert stored.status_code == 200
    assert stored.mimetype == "image/jpeg"
    assert stored.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(stored.data))
    assert image.size == (40, 60)  # orientation 6 applied: now portrait
    exif = image.getexif()
    assert len(exif) == 0
    assert files.GPS_IFD not in exif
    assert b"Exif" not in stored.data and b"TestCam" not in stored.data
    # The green left half is now at the top.
    assert image.convert("RGB").getpixel((20, 5))[1] > 150


def test_a_png_keeps_its_transparency_and_gets_a_jpeg_thumbnail(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    material = upload(client, tokens, case_number, files.png_with_alpha(), "seal.png").get_json()
    assert material["detected_type"] == "png"
    stored = fetch(client, tokens, material["file_url"])
    image = Image.open(io.BytesIO(stored.data))
    assert image.mode == "RGBA"
    assert image.getpixel((5, 5))[3] == 0 and image.getpixel((0, 0))[3] == 255
    thumbnail = fetch(client, tokens, material["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.data)).format == "JPEG"


def test_a_large_photo_is_bounded_and_its_thumbnail_is_320_px(make_app, instance_dir):
    app = make_app(INSTANCE_DIR=str(instance_dir), MATERIAL_MAX_DIMENSION=500)
    client = app.test_client()
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    material = upload(client, tokens, case_number, files.jpeg(size=(1000, 600))).get_json()
    assert (material["width"], material["height"]) == (500, 300)
    thumbnail = Image.open(io.BytesIO(fetch(client, tokens, material["thumbnail_url"]).data))
    assert max(thumbnail.size) == 320


def test_a_pdf_is_stored_as_received_without_a_thumbnail(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    data = files.pdf()
    material = upload(client, tokens, case_number, data, "合同.pdf",
                      item="sale_contract").get_json()
    assert material["detected_type"] == "pdf" and material["thumbnail_url"] is None
    assert material["name_mismatch"] is False
    stored = fetch(client, tokens, material["file_url"])
    assert stored.data == data and stored.mimetype == "application/pdf"
    assert "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf" in stored.headers["Content-Disposition"]
    no_thumbnail = fetch(client, tokens, f"/api/cases/{case_number}/materials/"
                                         f"{material['id']}/thumbnail")
    assert no_thumbnail.status_code == 404


def test_a_pdf_without_its_end_marker_is_refused_as_corrupt(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    response = upload(client, tokens, case_number, files.pdf()[:-7], "a.pdf")
    assert response.status_code == 422 and error_code(response) == "MATERIAL_CORRUPT"


def test_a_jpeg_named_pdf_is_refused_and_a_name_without_type_is_read_by_content(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    refused = upload(client, tokens, case_number, files.jpeg(), "contract.pdf")
    assert refused.status_code == 422
    assert error_code(refused) == "MATERIAL_CONTENT_MISMATCH"
    assert "文件名为 PDF，内容为 JPEG" in refused.get_json()["message"]
    assert db.session.scalar(select(AuditRecord).where(
        AuditRecord.action == "material.uploaded")) is None
    # WeChat's temporary names often carry no type: the content decides.
    material = upload(client, tokens, case_number, files.jpeg(), "wxfile_tmp").get_json()
    assert material["detected_type"] == "jpeg" and material["name_mismatch"] is False
    stored = fetch(client, tokens, material["file_url"])
    assert stored.mimetype == "image/jpeg"


def test_executables_archives_and_heic_are_refused_by_content(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    for data, name in [(files.ELF, "photo.jpg"), (files.ZIP, "scan.pdf"), (b"hello", "a.txt")]:
        response = upload(client, tokens, case_number, data, name)
        assert response.status_code == 415, name
        assert error_code(response) == "MATERIAL_TYPE_UNSUPPORTED"
    heic = upload(client, tokens, case_number, files.HEIC, "IMG_0001.HEIC")
    assert error_code(heic) == "MATERIAL_TYPE_UNSUPPORTED"
    assert "HEIC" in heic.get_json()["message"]
    assert db.session.scalar(select(AuditRecord).where(
        AuditRecord.action == "material.uploaded")) is None


def test_an_empty_file_is_refused(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    response = upload(client, tokens, case_number, b"", "empty.jpg")
    assert response.status_code == 422 and error_code(response) == "MATERIAL_EMPTY"


def test_a_file_over_the_limit_is_refused(make_app, instance_dir):
    client = make_app(INSTANCE_DIR=str(instance_dir), MATERIAL_MAX_BYTES=1000).test_client()
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    response = upload(client, tokens, case_number, files.jpeg(size=(400, 400)) + b"\0" * 2000)
    assert response.status_code == 413 and error_code(response) == "MATERIAL_TOO_LARGE"
    assert response.get_json()["details"]["max_bytes"] == 1000


def test_the_same_file_twice_on_a_case_is_a_duplicate_naming_the_first(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    first = upload(client, tokens, case_number, files.jpeg()).get_json()
    again = upload(client, tokens, case_number, files.jpeg(), "other.jpg", item="marital_status")
    assert again.status_code == 409 and error_code(again) == "MATERIAL_DUPLICATE"
    assert again.get_json()["details"]["material_id"] == first["id"]


def test_an_item_not_in_the_business_types_list_is_refused(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    response = upload(client, tokens, case_number, files.jpeg(), item="selfie")
    assert response.status_code == 422 and error_code(response) == "MATERIAL_ITEM_UNKNOWN"


def test_a_material_for_a_role_the_item_does_not_list_is_refused(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    response = upload(client, tokens, case_number, files.jpeg(),
                      item="property_certificate", role="buyer")
    assert response.status_code == 422 and error_code(response) == "MATERIAL_ROLE_MISMATCH"
    assert response.get_json()["details"]["roles"] == ["seller"]


def test_a_missing_file_field_is_a_validation_error(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    response = client.post(f"/api/cases/{case_number}/materials",
                           data={"item": "identity_document", "role": "buyer"},
                           headers=bearer(tokens), content_type="multipart/form-data")
    assert response.status_code == 422 and error_code(response) == "VALIDATION_FAILED"


def test_materials_cannot_change_after_submission(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    material = upload(client, tokens, case_number, files.jpeg()).get_json()
    case = db.session.scalar(select(Case).where(Case.case_number == case_number))
    cases.transition(case, CaseStatus.SUBMITTED, actor_type="citizen", actor_id=1,
                     channel="api")
    response = upload(client, tokens, case_number, files.jpeg((1, 2, 3)))
    assert response.status_code == 409 and error_code(response) == "CASE_STATE_CONFLICT"
    deleted = client.delete(f"/api/cases/{case_number}/materials/{material['id']}",
                            headers=bearer(tokens))
    assert deleted.status_code == 409 and error_code(deleted) == "CASE_STATE_CONFLICT"
    # Still readable: every department reads the same files.
    assert fetch(client, tokens, material["file_url"]).status_code == 200


def test_another_citizen_sees_not_found_everywhere(client):
    alice = wechat_login(client, "alice")
    bob = wechat_login(client, "bob")
    case_number = new_case(client, alice)
    material = upload(client, alice, case_number, files.jpeg()).get_json()
    base = f"/api/cases/{case_number}/materials"
    responses = [
        upload(client, bob, case_number, files.jpeg((9, 9, 9))),
        fetch(client, bob, base),
        fetch(client, bob, material["file_url"]),
        fetch(client, bob, material["thumbnail_url"]),
        client.delete(f"{base}/{material['id']}", headers=bearer(bob)),
    ]
    assert [r.status_code for r in responses] == [404] * 5
    assert {error_code(r) for r in responses} == {"NOT_FOUND"}


def test_the_checklist_shows_what_is_still_missing(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    listing = fetch(client, tokens, f"/api/cases/{case_number}/materials").get_json()
    assert listing["complete"] is False and listing["materials"] == []
    missing = {(m["item"], m["role"]) for m in listing["missing"]}
    # Buyer and seller are required roles; the optional agent is not on this case.
    assert ("identity_document", "buyer") in missing
    assert ("property_certificate", "seller") in missing
    assert not any(role == "agent" for _, role in missing)

    material = upload(client, tokens, case_number, files.jpeg()).get_json()
    listing = fetch(client, tokens, f"/api/cases/{case_number}/materials").get_json()
    entry = next(e for e in listing["checklist"]
                 if (e["item"], e["role"]) == ("identity_document", "buyer"))
    assert entry["present"] is True and entry["material_ids"] == [material["id"]]
    assert ("identity_document", "buyer") not in {(m["item"], m["role"])
                                                  for m in listing["missing"]}
    assert [m["id"] for m in listing["materials"]] == [material["id"]]


def test_a_withdrawn_material_leaves_the_list_and_may_be_uploaded_again(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    material = upload(client, tokens, case_number, files.jpeg()).get_json()
    deleted = client.delete(f"/api/cases/{case_number}/materials/{material['id']}",
                            headers=bearer(tokens))
    assert deleted.status_code == 204
    listing = fetch(client, tokens, f"/api/cases/{case_number}/materials").get_json()
    assert listing["materials"] == []
    assert fetch(client, tokens, material["file_url"]).status_code == 404
    assert upload(client, tokens, case_number, files.jpeg()).status_code == 201
    actions = db.session.scalars(select(AuditRecord.action).where(
        AuditRecord.entity_type == "case_material").order_by(AuditRecord.id)).all()
    assert actions == ["material.uploaded", "material.withdrawn", "material.uploaded"]


def test_files_and_thumbnails_are_on_disk_under_the_instance_directory(client, instance_dir):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    upload(client, tokens, case_number, files.jpeg())
    stored = sorted(p.suffix for p in (instance_dir / "files").rglob("*") if p.is_file())
    assert stored == [".jpg", ".jpg"]  # the file and its thumbnail


def test_a_path_in_the_filename_is_harmless(client, instance_dir, tmp_path):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    response = upload(client, tokens, case_number, files.jpeg(),
                      "../../..\\..\\etc/pa\tss;wd.jpg")
    assert response.status_code == 201, response.get_json()
    name = response.get_json()["original_filename"]
    assert name == "pa_ss_wd.jpg"
    assert not (tmp_path / "etc").exists()
    files_root = instance_dir / "files"
    assert all(p.resolve().is_relative_to(files_root) for p in files_root.rglob("*"))
    disposition = fetch(client, tokens, response.get_json()["file_url"]).headers[
        "Content-Disposition"]
    assert disposition == "inline; filename=pa_ss_wd.jpg"


def test_every_upload_is_audited_without_the_filename(client):
    tokens = wechat_login(client, "alice")
    case_number = new_case(client, tokens)
    material = upload(client, tokens, case_number, files.jpeg(), "张三身份证.jpg").get_json()
    record = db.session.scalar(select(AuditRecord).where(
        AuditRecord.action == "material.uploaded"))
    assert record.entity_id == str(material["id"])
    assert record.after["case"] == case_number
    assert record.after["item"] == "identity_document" and record.after["sha256"]
    assert "张三" not in str(record.after)
