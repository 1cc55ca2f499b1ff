"""The OpenAPI document and Swagger UI, and the parameter types and error mapping behind request validation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import pytest
from fakes import unit_api_settings
from fixtures_stores import api_event
from pydantic import TypeAdapter, ValidationError
from storesync.api.app import handle
from storesync.api.errors import BadRequest, field_of, from_request_errors, validation_message
from storesync.api.params import NextToken, OneOf, OrderId, OrderKey, encode_token, page_start
from storesync_local.functions import FakeLambdaContext
from storesync_local.gateway import template_routes
from storesync_local.template import load_template

README = Path(__file__).resolve().parents[2] / "README.md"
SETTINGS = unit_api_settings()


def call(event: dict) -> dict:
    return handle(event, FakeLambdaContext("api"), SETTINGS)


def readme_endpoints() -> set[tuple[str, str]]:
    """(method, path with every parameter segment as {}) for each endpoint in README's API table."""
    section = README.read_text().split("## The JSON API", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `") or line.startswith("| [`")]
    found = set()
    for row in rows:
        for methods, path in re.findall(r"`([A-Z/]+) (/[^`]*)`", row.split("|")[1]):
            for method in methods.split("/"):
                found.add((method.lower(), _shape(path)))
    return found


def _shape(path: str) -> str:
    return "/".join("{}" if "{" in segment else segment for segment in path.split("/"))


def test_the_openapi_document_lists_every_readme_endpoint_without_a_token():
    answer = call(api_event("GET", "/openapi.json", merchant=None))
    assert answer["statusCode"] == 200 and answer["headers"]["Content-Type"] == "application/json"
    document = json.loads(answer["body"])
    documented = {(method, _shape(path)) for path, ops in document["paths"].items() for method in ops}
    wanted = readme_endpoints() - {("get", "/docs")}  # Swagger UI itself is not an endpoint of the document
    assert len(wanted) >= 20
    assert wanted <= documented, wanted - documented
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/amazon/callback"]["get"]["security"] == [{}]
    sync = document["paths"]["/stores/{store_id}/sync"]["post"]
    assert sync["summary"] and "requestBody" in sync
    assert "201" in document["paths"]["/stores"]["post"]["responses"]
    queued = sync["responses"]["202"]["content"]["application/json"]["schema"]
    assert queued == {"$ref": "#/components/schemas/SyncQueued"}
    orders = {p["name"] for p in document["paths"]["/orders"]["get"]["parameters"]}
    assert orders == {
        "store_id", "status", "hold", "channel", "program", "ship_by_from", "ship_by_to", "sort", "limit", "next_token"
    }  # fmt: skip


def test_swagger_ui_answers_without_a_token():
    answer = call(api_event("GET", "/docs", merchant=None))
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert "swagger" in answer["body"].lower()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"limit": "0"}, "limit", "limit: must be at least 1"),
        ({"limit": "201"}, "limit", "limit: must be at most 200"),
        ({"limit": "ten"}, "limit", "limit: must be a whole number"),
        ({"status": "lost"}, "status", "status: must be one of "),
        ({"next_token": "not a token"}, "next_token", "next_token: not a token this API gave"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(query, field, message):
    answer = call(api_event("GET", "/orders", query=query))
    error = json.loads(answer["body"])["error"]
    assert answer["statusCode"] == 400
    assert (error["code"], error["field"]) == ("invalid_request", field)
    assert error["message"].startswith(message)


def test_a_malformed_order_id_is_400_naming_id():
    for path in ("/orders/no-separator", "/orders/no-separator/shipments"):
        answer = call(api_event("GET", path))
        assert answer["statusCode"] == 400
        assert json.loads(answer["body"])["error"]["field"] == "id"


def test_order_id_is_one_type_for_every_route():
    adapter = TypeAdapter(OrderId)
    assert adapter.validate_python("st_1.111-2223334-4445556") == OrderKey("st_1", "111-2223334-4445556")
    assert str(OrderKey("st_1", "111-1")) == "st_1.111-1"
    for bad in ("nodot", ".x", "x.", "s." + "9" * 300):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_next_token_decodes_and_must_belong_to_the_partition():
    key = {"store_id": {"S": "st_1"}, "sku": {"S": "A"}}
    token = TypeAdapter(NextToken).validate_python(encode_token(key))
    assert page_start(token, {"store_id", "sku"}, ("store_id", "st_1"), "listing") == key
    assert page_start(None, {"store_id", "sku"}, ("store_id", "st_1"), "listing") is None
    with pytest.raises(BadRequest) as refused:
        page_start(token, {"store_id", "sku"}, ("store_id", "st_2"), "listing")
    assert refused.value.field == "next_token"
    assert TypeAdapter(NextToken).validate_python("") is None


@pytest.mark.parametrize(
    ("error", "field", "message"),
    [
        ({"loc": ("body", "adjustments", 1, "delta"), "type": "int_type", "msg": "x"},
         "adjustments[1].delta", "adjustments[1].delta: must be a whole number"),
        ({"loc": ("query", "limit"), "type": "missing", "msg": "x"}, "limit", "limit: is required"),
        ({"loc": ("body", "warehouses", 0), "type": "string_too_short", "msg": "String should have at least 1 character"},
         "warehouses", "warehouses: String should have at least 1 character"),
        ({"loc": ("warehouses",), "type": "value_error", "msg": "Value error, lists a warehouse more than once"},
         "warehouses", "warehouses: lists a warehouse more than once"),
        ({"loc": ("body", "on_hand"), "type": "greater_than_equal", "msg": "x", "ctx": {"ge": 0}},
         "on_hand", "on_hand: must not be negative"),
        ({"loc": ("body", "mode"), "type": "value_error", "msg": "Value error, mode: orders accepts incremental"},
         "mode", "mode: orders accepts incremental"),
    ],
)  # fmt: skip
def test_validation_errors_name_the_field_and_the_problem(error, field, message):
    assert field_of(error) == field
    assert validation_message(error) == message


def test_body_errors_keep_their_codes():
    not_json = from_request_errors(
        [{"loc": ("body", 3), "type": "json_invalid", "msg": "x", "ctx": {"error": "oops"}}]
    )
    assert (not_json.field, not_json.code, not_json.message) == (
        "body",
        "invalid_json",
        "body: not valid JSON (oops)",
    )
    empty = from_request_errors([{"loc": ("body",), "type": "missing", "msg": "x"}])
    assert (empty.field, empty.code) == ("body", "invalid_json")
    field = from_request_errors(
        [{"loc": ("body", "name"), "type": "string_type", "msg": "Input should be a valid string"}]
    )
    assert (field.field, field.code, field.message) == (
        "name",
        "invalid_field",
        "name: Input should be a valid string",
    )


def test_an_array_body_is_refused_not_read_as_its_first_element():
    body = [{"name": "Acme", "marketplace_id": "ATVPDKIKX0DER"}]
    answer = call(api_event("POST", "/stores", body=body))
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"] == {
        "code": "invalid_json",
        "message": "body: must be a JSON object",
        "field": "body",
    }


def test_the_gateway_lets_the_document_and_swagger_ui_through_without_a_token():
    routes = {r.route_key: r for r in template_routes(load_template())}
    for key in ("GET /openapi.json", "GET /docs"):
        assert routes[key].function == "ApiFunction" and not routes[key].authorized


def test_a_choice_is_one_of_its_values_and_blank_means_not_given():
    adapter = TypeAdapter(Annotated[str | None, OneOf(("FBM", "FBA"))])
    assert adapter.validate_python("FBA") == "FBA"
    assert adapter.validate_python("") is None
    with pytest.raises(ValidationError, match="must be one of FBM, FBA"):
        adapter.validate_python("XYZ")
    assert adapter.json_schema() == {"type": "string", "enum": ["FBM", "FBA"]}
