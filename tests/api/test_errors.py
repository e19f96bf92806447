"""One error envelope for every API error; never a stack trace; the OpenAPI docs."""

import pytest
from flask import Blueprint


def assert_envelope(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])  # Chinese for people
    return body


def test_malformed_json_is_a_400(client):
    response = client.post("/api/auth/wechat", data="{not json",
                           content_type="application/json")
    assert_envelope(response, 400, "MALFORMED_JSON")


def test_an_unknown_field_is_a_422(client):
    response = client.post("/api/auth/wechat", json={"code": "a.1", "extra": 1})
    body = assert_envelope(response, 422, "VALIDATION_FAILED")
    assert body["details"]["fields"] == {"extra": ["不支持的字段"]}


def test_a_wrong_type_is_a_422(client):
    response = client.post("/api/auth/wechat", json={"code": 123})
    body = assert_envelope(response, 422, "VALIDATION_FAILED")
    assert body["details"]["fields"] == {"code": ["应为文本"]}


def test_an_unknown_api_path_is_a_404(client):
    assert_envelope(client.get("/api/nothing-here"), 404, "NOT_FOUND")


def test_a_wrong_method_is_a_405(client):
    assert_envelope(client.get("/api/auth/wechat"), 405, "METHOD_NOT_ALLOWED")


def test_a_too_large_body_is_a_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    with app.app_context():
        response = app.test_client().post(
            "/api/auth/wechat", data=b"{" + b" " * 4096 + b"}", content_type="application/json")
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.fixture
def exploding_app(make_app):
    app = make_app()
    boom = Blueprint("boom", __name__)

    @boom.route("/api/boom")
    def explode():
        raise RuntimeError("secret internal detail")

    app.register_blueprint(boom)
    return app


def test_an_unexpected_error_is_a_500_without_internals(exploding_app):
    with exploding_app.app_context():
        response = exploding_app.test_client().get("/api/boom")
    body = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.get_data(as_text=True)
    assert body["details"] == {}


def test_the_openapi_document_describes_the_api(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/auth/wechat", "/api/auth/sms/code", "/api/auth/sms/login", "/api/auth/refresh",
            "/api/auth/logout", "/api/me", "/api/cases", "/api/cases/{case_number}"} <= set(
        spec["paths"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "details"}


def test_the_docs_page_is_served_with_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/api/docs/static/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert b"SwaggerUIBundle" in asset.get_data()
    asset.close()
