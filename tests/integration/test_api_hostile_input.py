"""Hostile input never gets a 5xx: each class of it is a 4xx in the error shape, naming the field (issue 15).

Classes: bodies that are not UTF-8 (or not the base64 they claim to be), JSON nested deep, bodies over 1 MB
(413 naming the limit), strings past their stated maximum, wrong types, numbers out of their range (quantities,
inventory buffer, maximum quantity: 0..1,000,000), unknown fields, and the same in query strings, path parameters
and paging tokens. Every table row is one request; a failure names the row.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fixtures_stores import ACME, US, Api, api_event, connect_api, connected_store
from storesync.api.input_guard import MAX_BODY_BYTES, MAX_JSON_DEPTH

MILLION = 1_000_000
HUGE = 10**30


@pytest.fixture
def api(make_stack, spapi_sim, load_function, lambda_context) -> Api:
    return connect_api(make_stack, spapi_sim, load_function, lambda_context)


def raw_call(api: Api, method: str, path: str, *, body: str, base64_encoded: bool = False) -> dict[str, Any]:
    event = api_event(method, path, body=body)
    event["isBase64Encoded"] = base64_encoded
    return dict(api.handler(event, api.context))


def refused(answer: dict[str, Any], field: str | None, status: int = 400) -> dict[str, Any]:
    assert answer["statusCode"] == status, answer
    error = json.loads(answer["body"])["error"]
    assert error["field"] == field, error
    return dict(error)


def check_rows(api: Api, rows: list[tuple[str, str, Any, dict[str, str] | None, str]]) -> None:
    """(method, path, body, query, field): each answers a 4xx whose error names `field` (message starts with it)."""
    for method, path, body, query, field in rows:
        answer = api(method, path, body=body, query=query)
        assert 400 <= answer.status < 500, (method, path, body, query, answer.status, answer.text[:300])
        error = answer.json()["error"]
        assert error["field"] == field, (method, path, query, error)
        assert error["message"].startswith(field), (method, path, query, error)


def test_bodies_that_are_not_utf8_text(api):
    not_utf8 = base64.b64encode(b'{"name": "\xff\xfe"}').decode()
    refused(raw_call(api, "POST", "/stores", body=not_utf8, base64_encoded=True), "body")
    refused(raw_call(api, "POST", "/warehouses", body="not base64 !", base64_encoded=True), "body")
    error = refused(raw_call(api, "POST", "/warehouses", body='{"name": "\\ud800"}'), "body")
    assert "UTF-8" in error["message"]
    # the same body in real UTF-8 is accepted
    good = base64.b64encode(json.dumps({"name": "Lager Süd"}).encode()).decode()
    assert raw_call(api, "POST", "/warehouses", body=good, base64_encoded=True)["statusCode"] == 201


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,  # deeper than the JSON parser's recursion limit
        "{" + '"a":{' * 50_000,
        '{"name": ' + "[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5) + "}",
        json.dumps({"name": "x", "colour": json.loads("[" * 40 + "]" * 40)}),
    ],
)
def test_deep_nesting(api, body):
    error = refused(raw_call(api, "POST", "/warehouses", body=body), "body")
    assert error["message"].startswith("body:")


def test_body_over_one_megabyte_is_413_naming_the_limit(api):
    body = json.dumps({"name": "x" * MAX_BODY_BYTES})
    error = refused(raw_call(api, "POST", "/stores", body=body), "body", status=413)
    assert "1 MB" in error["message"] and f"{MAX_BODY_BYTES:,}" in error["message"]
    encoded = base64.b64encode(body.encode()).decode()
    refused(raw_call(api, "POST", "/stores", body=encoded, base64_encoded=True), "body", status=413)


def test_bodies_past_their_limits_wrong_types_unknown_fields(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    settings = f"/stores/{store.store_id}/settings"
    line = {"warehouse_id": "primary", "sku": "SKU-1", "delta": 1, "reason": "count"}
    order = f"/orders/{store.store_id}.111-2223334-4445556/shipments"
    ship = {"carrier": "UPS", "tracking_number": "1Z", "items": [{"sku": "SKU-1", "quantity": 1}]}
    check_rows(
        api,
        [
            ("POST", "/stores", {"name": "Acme", "marketplace_id": "A" * 21}, None, "marketplace_id"),
            ("POST", "/stores", {"name": "Acme", "marketplace_id": US, "extra": 1}, None, "extra"),
            ("POST", "/warehouses", {"name": "x" * 101}, None, "name"),
            ("POST", "/warehouses", {"name": ["x"]}, None, "name"),
            ("PATCH", settings, {"inventory_buffer": MILLION + 1}, None, "inventory_buffer"),
            ("PATCH", settings, {"inventory_buffer": HUGE}, None, "inventory_buffer"),
            ("PATCH", settings, {"max_quantity": HUGE}, None, "max_quantity"),
            ("PATCH", settings, {"max_quantity": -1}, None, "max_quantity"),
            ("PATCH", settings, {"max_quantity": 1e400}, None, "max_quantity"),
            ("PATCH", settings, {"warehouses": ["w" * 65]}, None, "warehouses"),
            ("PUT", "/inventory/primary/SKU-1", {"on_hand": MILLION + 1}, None, "on_hand"),
            ("PUT", "/inventory/primary/SKU-1", {"on_hand": HUGE}, None, "on_hand"),
            ("PUT", "/inventory/primary/SKU-1", {"on_hand": "5"}, None, "on_hand"),
            ("PUT", "/inventory/primary/SKU-1", {"on_hand": 5, "why": "x"}, None, "why"),
            ("POST", "/inventory/adjustments", {"adjustments": [{**line, "delta": -HUGE}]}, None,
             "adjustments[0].delta"),
            ("POST", "/inventory/adjustments", {"adjustments": [{**line, "delta": MILLION + 1}]}, None,
             "adjustments[0].delta"),
            ("POST", "/inventory/adjustments", {"adjustments": [{**line, "delta": 1.5}]}, None,
             "adjustments[0].delta"),
            ("POST", "/inventory/adjustments", {"adjustments": [{**line, "sku": "s" * 101}]}, None,
             "adjustments[0].sku"),
            ("POST", "/inventory/adjustments", {"adjustments": [{**line, "reason": "r" * 201}]}, None,
             "adjustments[0].reason"),
            ("POST", "/inventory/adjustments", {"adjustments": [{**line, "colour": 1}]}, None,
             "adjustments[0].colour"),
            ("POST", order, {**ship, "tracking_number": "t" * 101}, None, "tracking_number"),
            ("POST", order, {**ship, "carrier": "c" * 201}, None, "carrier"),
            ("POST", order, {**ship, "items": [{"sku": "SKU-1", "quantity": HUGE}]}, None, "items[0].quantity"),
            ("POST", order, {**ship, "items": [{"sku": "SKU-1", "quantity": 0}]}, None, "items[0].quantity"),
            ("POST", order, {**ship, "items": [{"sku": "SKU-1", "quantity": 1}] * 101}, None, "items"),
            ("POST", f"/stores/{store.store_id}/sync", {"job": "orders", "now": True}, None, "now"),
            ("POST", f"/stores/{store.store_id}/sync", {"job": 7}, None, "job"),
        ],
    )  # fmt: skip


def test_query_strings_and_path_parameters(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    runs = f"/stores/{store.store_id}/runs"
    check_rows(
        api,
        [
            ("GET", "/orders", None, {"colour": "blue"}, "colour"),
            ("GET", "/stores", None, {"page": "2"}, "page"),
            ("GET", "/orders", None, {"limit": "abc"}, "limit"),
            ("GET", "/orders", None, {"limit": "0"}, "limit"),
            ("GET", "/orders", None, {"limit": str(HUGE)}, "limit"),
            ("GET", "/orders", None, {"store_id": "s" * 65}, "store_id"),
            ("GET", "/products", None, {"store_id": "s" * 5000}, "store_id"),
            ("GET", "/inventory", None, {"sku": "s" * 101}, "sku"),
            ("GET", runs, None, {"limit": "-1"}, "limit"),
            ("GET", runs, None, {"job": "everything"}, "job"),
            ("GET", f"/stores/{store.store_id}/orders/daily", None, {"days": "1e9"}, "days"),
            ("GET", "/amazon/callback", None, {"state": "s" * 3000}, "state"),
            ("GET", "/local/token", None, {"merchant": "m" * 65}, "merchant"),
            ("GET", "/stores/" + "s" * 65, None, None, "store_id"),
            ("GET", "/stores/" + "s" * 3000 + "/runs", None, None, "store_id"),
            ("PATCH", "/stores/" + "s" * 3000 + "/settings", {"max_quantity": 1}, None, "store_id"),
            ("PUT", "/inventory/" + "w" * 65 + "/SKU-1", {"on_hand": 1}, None, "warehouse_id"),
            ("PUT", "/inventory/primary/" + "s" * 101, {"on_hand": 1}, None, "sku"),
            ("GET", "/orders/" + "o" * 3000, None, None, "id"),
        ],
    )


def token(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "next_token",
    [
        "!!!not a token",
        "%%%",
        "A" * 5000,
        token([1, 2]),
        token("merchant-1"),
        token({"merchant_id": {"S": "merchant-1"}, "sku": {"N": "1"}}),
        token({"merchant_id": {"S": "merchant-1"}, "sku": {"S": ""}}),
        token({"merchant_id": {"S": "merchant-1"}, "sku": {"S": "x" * 1500}}),
        token({"merchant_id": {"S": "merchant-1"}, "sku": "SKU-1"}),
        token({"merchant_id": {"S": "merchant-2"}, "sku": {"S": "SKU-1"}}),
        token({"merchant_id": {"S": "merchant-1"}, "sku": {"S": "SKU-1"}, "extra": {"S": "x"}}),
    ],
)
def test_garbled_paging_tokens_are_400_naming_next_token(api, next_token):
    for path in ("/products", "/orders"):
        answer = api("GET", path, query={"next_token": next_token})
        assert answer.status == 400, (path, answer.text)
        assert answer.json()["error"]["field"] == "next_token"


def test_a_good_paging_token_still_pages(api):
    first = api("GET", "/products", query={"limit": "1"})
    assert first.status == 200 and first.json()["next_token"] is None
    good = token({"merchant_id": {"S": "merchant-1"}, "sku": {"S": "SKU-1"}})
    assert api("GET", "/products", query={"next_token": good}).status == 200


def test_the_openapi_document_states_the_limits(api):
    document = api("GET", "/openapi.json", merchant=None).json()
    schemas = document["components"]["schemas"]
    assert schemas["OnHandBody"]["properties"]["on_hand"]["maximum"] == MILLION
    assert schemas["AdjustmentLine"]["properties"]["delta"]["minimum"] == -MILLION
    patch = schemas["SettingsPatch"]["properties"]
    for name in ("inventory_buffer", "max_quantity"):
        bounds = patch[name]["anyOf"][0]
        assert (bounds["minimum"], bounds["maximum"]) == (0, MILLION), name
    runs = document["paths"]["/stores/{store_id}/runs"]["get"]["parameters"]
    store_id = next(p for p in runs if p["name"] == "store_id")
    assert store_id["schema"]["maxLength"] == 64
    orders = document["paths"]["/orders"]["get"]["parameters"]
    assert next(p for p in orders if p["name"] == "next_token")["schema"]["maxLength"] == 2048
