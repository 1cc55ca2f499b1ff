"""The vendored SP-API models (Swagger 2.0) as validators, for the simulator and for the connector's tests.

    from spapi_simulator.schemas import validate_request, validate_response, response_errors
    validate_response("orders_2026-01-01.json", "searchOrders", 200, body)      # raises SchemaMismatch
    validate_request("ordersV0.json", "confirmShipment", path_params={"orderId": "..."},
                     query={}, body={...})                                      # raises RequestInvalid

Query values are given as lists of strings (what an HTTP query string carries); arrays accept both repeated
parameters and comma-separated values (collectionFormat csv).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

MODELS_DIR = Path(__file__).parent / "models"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


class RequestInvalid(ValueError):
    """A request that breaks the model; the message names the field."""


class SchemaMismatch(AssertionError):
    """A response body that does not match the model's response schema."""


@dataclass(frozen=True)
class Operation:
    model_file: str
    operation_id: str
    method: str
    path: str
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]

    @property
    def description(self) -> str:
        return str(self.spec.get("description", ""))


@cache
def load_model(model_file: str) -> dict[str, Any]:
    path = MODELS_DIR / model_file
    if not path.is_file():
        raise FileNotFoundError(f"model_file: no model {model_file!r} in {MODELS_DIR}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def operation(model_file: str, operation_id: str) -> Operation:
    doc = load_model(model_file)
    for path, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            spec = item.get(method)
            if isinstance(spec, dict) and spec.get("operationId") == operation_id:
                params = [_deref(doc, p) for p in [*shared, *spec.get("parameters", [])]]
                return Operation(model_file, operation_id, method.upper(), path, spec, tuple(params))
    raise KeyError(f"operation_id: {operation_id!r} is not in {model_file}")


def _deref(doc: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    ref = value.get("$ref")
    if not isinstance(ref, str):
        return value
    node: Any = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return dict(node)


@cache
def _validator(model_file: str, schema_json: str) -> Draft4Validator:
    doc = load_model(model_file)
    schema = {"definitions": doc.get("definitions", {}), "allOf": [json.loads(schema_json)]}
    return Draft4Validator(schema)


def schema_errors(model_file: str, schema: dict[str, Any], instance: Any) -> list[str]:
    validator = _validator(model_file, json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def response_schema(model_file: str, operation_id: str, status: int) -> dict[str, Any] | None:
    responses = operation(model_file, operation_id).spec.get("responses", {})
    answer = responses.get(str(status)) or responses.get("default")
    if answer is None:
        raise SchemaMismatch(f"{operation_id}: the model declares no {status} response")
    answer = _deref(load_model(model_file), answer)
    schema = answer.get("schema")
    return schema if isinstance(schema, dict) else None


def response_errors(model_file: str, operation_id: str, status: int, body: Any) -> list[str]:
    """Every way `body` breaks the model's schema for this status (empty list: it matches)."""
    try:
        schema = response_schema(model_file, operation_id, status)
    except SchemaMismatch as exc:
        return [str(exc)]
    if schema is None:
        return [] if body in (None, "", b"") else [f"{operation_id} {status}: the model declares no body"]
    return schema_errors(model_file, schema, body)


def validate_response(model_file: str, operation_id: str, status: int, body: Any) -> None:
    errors = response_errors(model_file, operation_id, status, body)
    if errors:
        raise SchemaMismatch(
            f"{operation_id} {status} response breaks {model_file}: " + "; ".join(errors[:10])
        )


_PARAM_SCHEMA_KEYS = (
    "type", "enum", "items", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum",
    "maxItems", "minItems", "maxLength", "minLength", "pattern", "uniqueItems",
)  # fmt: skip


def _param_schema(param: dict[str, Any]) -> dict[str, Any]:
    return {k: param[k] for k in _PARAM_SCHEMA_KEYS if k in param}


def _coerce_scalar(name: str, kind: str | None, raw: str) -> Any:
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise RequestInvalid(f"{name}: {raw!r} is not an integer") from None
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise RequestInvalid(f"{name}: {raw!r} is not a number") from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise RequestInvalid(f"{name}: {raw!r} is not true or false")
        return raw.lower() == "true"
    return raw


def _coerce(param: dict[str, Any], raws: list[str]) -> Any:
    name = param["name"]
    if param.get("type") == "array":
        items = param.get("items", {})
        values: list[str] = []
        for raw in raws:
            values.extend(v for v in raw.split(",") if v != "")
        return [_coerce_scalar(name, items.get("type"), v) for v in values]
    if len(raws) > 1:
        raise RequestInvalid(f"{name}: given {len(raws)} times, expected once")
    return _coerce_scalar(name, param.get("type"), raws[0])


def validate_request(
    model_file: str,
    operation_id: str,
    path_params: Mapping[str, str] | None = None,
    query: Mapping[str, list[str]] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """Check path/query/body against the model; return the query parameters the model knows, typed.

    Unknown query parameters are ignored (python-amazon-sp-api adds marketplace parameters everywhere).
    Raises RequestInvalid naming the first offending field.
    """
    op = operation(model_file, operation_id)
    path_params = path_params or {}
    query = query or {}
    typed: dict[str, Any] = {}
    for param in op.parameters:
        name, where = param["name"], param.get("in")
        if where == "path":
            value = path_params.get(name)
            if value in (None, ""):
                raise RequestInvalid(f"{name}: required path parameter is missing")
            _check(model_file, param, name, _coerce_scalar(name, param.get("type"), str(value)))
        elif where == "query":
            raws = [r for r in query.get(name, []) if r != ""]
            if not raws:
                if param.get("required"):
                    raise RequestInvalid(f"{name}: required query parameter is missing")
                continue
            value = _coerce(param, raws)
            _check(model_file, param, name, value)
            typed[name] = value
        elif where == "body":
            if body is None:
                if param.get("required"):
                    raise RequestInvalid("body: a JSON body is required")
                continue
            errors = schema_errors(model_file, param.get("schema", {}), body)
            if errors:
                raise RequestInvalid(f"body {errors[0]}")
    return typed


def _check(model_file: str, param: dict[str, Any], name: str, value: Any) -> None:
    errors = schema_errors(model_file, _param_schema(param), value)
    if errors:
        raise RequestInvalid(f"{name}: {errors[0].split(': ', 1)[1]}")
