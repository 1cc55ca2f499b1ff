"""The API without AWS: console files, the error shape for bad input, the local dev token."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from fakes import unit_api_settings
from fixtures_stores import api_event
from storesync.api import routes_console
from storesync.api.app import handle
from storesync.api.routes_local import dev_token, verify_dev_token
from storesync_local.functions import FakeLambdaContext


def call(event: dict, **settings) -> dict:
    return handle(event, FakeLambdaContext("api"), unit_api_settings(**settings))


@pytest.fixture
def console(tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>storesync</title>")
    (tmp_path / "assets" / "app.js").write_text("console.log('hi')")
    (tmp_path / "assets" / "style.css").write_text("body{}")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x01")
    (tmp_path.parent / "secret.txt").write_text("no")
    monkeypatch.setattr(routes_console, "CONSOLE_DIR", tmp_path)
    return tmp_path


def test_console_index_and_assets_with_content_types(console):
    index = call(api_event("GET", "/", merchant=None))
    assert index["statusCode"] == 200
    assert index["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "storesync" in index["body"]
    js = call(api_event("GET", "/console/assets/app.js", merchant=None))
    assert js["statusCode"] == 200 and js["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    css = call(api_event("GET", "/console/assets/style.css", merchant=None))
    assert css["headers"]["Content-Type"] == "text/css; charset=utf-8"
    png = call(api_event("GET", "/console/logo.png", merchant=None))
    assert png["headers"]["Content-Type"] == "image/png" and png["isBase64Encoded"] is True
    assert base64.b64decode(png["body"]) == b"\x89PNG\r\n\x1a\n\x00\x01"


@pytest.mark.parametrize(
    "path", ["/console/missing.js", "/console/../secret.txt", "/console/%2e%2e/secret.txt", "/console/assets"]
)
def test_console_missing_or_outside_is_json_404(console, path):
    answer = call(api_event("GET", path, merchant=None))
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["error"]["code"] == "not_found"


def test_no_console_folder_is_json_404(tmp_path, monkeypatch):
    monkeypatch.setattr(routes_console, "CONSOLE_DIR", tmp_path / "absent")
    answer = call(api_event("GET", "/", merchant=None))
    assert answer["statusCode"] == 404 and json.loads(answer["body"])["error"]["field"] == "path"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ("{", "body", "invalid_json"),
        ('"text"', "body", "invalid_json"),
        ({"name": ["x"], "marketplace_id": "ATVPDKIKX0DER"}, "name", "invalid_field"),
        ({"name": "ok", "marketplace_id": "ATVPDKIKX0DER", "download_products_and_orders": 0}, "download_products_and_orders", "invalid_field"),
    ],
)  # fmt: skip
def test_bad_json_and_types_are_400_naming_the_field(body, field, code):
    answer = call(api_event("POST", "/stores", body=body))
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"]) == {
        "error": {"code": code, "message": json.loads(answer["body"])["error"]["message"], "field": field}
    }


def test_missing_claims_is_401_and_unknown_route_404():
    assert call(api_event("GET", "/stores", merchant=None))["statusCode"] == 401
    assert call(api_event("GET", "/no/such/route"))["statusCode"] == 404


def test_local_token_only_when_enabled():
    event = api_event("GET", "/local/token", merchant=None, query={"merchant": "m-7"})
    assert call(event)["statusCode"] == 404
    answer = call(event, local_dev_tokens=True, local_jwt_secret="s3cret")
    assert answer["statusCode"] == 200
    token = json.loads(answer["body"])["token"]
    assert verify_dev_token(token, "s3cret")["sub"] == "m-7"
    with pytest.raises(jwt.InvalidTokenError):
        verify_dev_token(token, "other")
    bad = call(
        api_event("GET", "/local/token", merchant=None, query={"merchant": "a b"}),
        local_dev_tokens=True,
        local_jwt_secret="s",
    )
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["error"]["field"] == "merchant"


def test_expired_dev_token_is_refused():
    token = dev_token("m-1", "s", now=1_000_000)
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_dev_token(token, "s")
