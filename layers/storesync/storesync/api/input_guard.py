"""What every request must be before a route sees it: checks Powertools' validation cannot make.

Refused here, in the API's error shape (4xx naming the field), never a 500:
- a body over `MAX_BODY_BYTES` (413 naming the limit), a body flagged base64 that is not base64, a body that is not
  UTF-8 text (also a JSON string escape that is a lone surrogate, which no UTF-8 text can hold);
- JSON nested deeper than `MAX_JSON_DEPTH` (every body of this API is an object of at most 3 levels), and a JSON
  array body (Powertools would validate only its first element against a route's object model);
- query parameters and the path that are not UTF-8 text, and query parameters a route does not declare (named).

Everything else (types, ranges, lengths, unknown body fields) is in the request models, so the OpenAPI document
states it and Powertools checks it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

MAX_BODY_BYTES = 1_048_576  # 1 MB
MAX_JSON_DEPTH = 32

Refusal = dict[str, Any]


def refusal(status: int, code: str, message: str, field: str | None) -> Refusal:
    """An HTTP API (v2) answer in the API's error shape."""
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": {"code": code, "message": message, "field": field}}),
        "isBase64Encoded": False,
    }


def _bad(message: str, field: str | None, code: str = "invalid_request") -> Refusal:
    return refusal(HTTPStatus.BAD_REQUEST, code, message, field)


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _raw_body(event: dict[str, Any]) -> bytes | Refusal | None:
    body = event.get("body")
    if body is None or body == "":
        return None
    if not isinstance(body, str):
        return _bad("body: must be text", "body", "invalid_json")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return _bad("body: flagged base64 but is not base64", "body", "invalid_json")
    if not _is_text(body):
        return _bad("body: not UTF-8 text", "body", "invalid_json")
    return body.encode("utf-8")


def _json_problem(value: Any) -> str | None:
    """Why a parsed JSON value is refused (too deep, a string that is not text), or None. No recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _is_text(item):
                return "not UTF-8 text (a lone surrogate escape)"
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            return f"nested deeper than {MAX_JSON_DEPTH} levels"
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return None


def refuse_body(event: dict[str, Any]) -> Refusal | None:
    """A refusal for a body that is too large, not UTF-8, nested too deep or a JSON array; else None."""
    raw = _raw_body(event)
    if raw is None or isinstance(raw, dict):
        return raw
    if len(raw) > MAX_BODY_BYTES:
        return refusal(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "body_too_large",
            f"body: at most 1 MB ({MAX_BODY_BYTES:,} bytes) is accepted; this one has {len(raw):,} bytes",
            "body",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _bad(f"body: not UTF-8 text (byte {exc.start})", "body", "invalid_json")
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None  # not JSON at all: the route's validation says so
    try:
        parsed = json.loads(text)
    except RecursionError:
        return _bad(f"body: nested deeper than {MAX_JSON_DEPTH} levels", "body", "invalid_json")
    except ValueError:
        return None  # not valid JSON: Powertools names the problem
    problem = _json_problem(parsed)
    if problem is not None:
        return _bad(f"body: {problem}", "body", "invalid_json")
    if isinstance(parsed, list):
        return _bad("body: must be a JSON object", "body", "invalid_json")
    return None


def refuse_request_line(
    event: dict[str, Any], declared_query: Callable[[str, str], frozenset[str] | None]
) -> Refusal | None:
    """A refusal for a path or query parameter that is not text, or a query parameter the route does not
    declare (`declared_query(method, path)`: the names, or None when any is accepted); else None."""
    path = str(event.get("rawPath") or "")
    if not _is_text(path):
        return _bad("path: not UTF-8 text", "path")
    query = event.get("queryStringParameters") or {}
    for name, value in query.items():
        if not _is_text(str(name)) or not _is_text(str(value)):
            field = str(name) if _is_text(str(name)) else None
            return _bad(f"{field or 'query'}: not UTF-8 text", field)
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "GET")
    allowed = declared_query(method.lower(), path)
    if allowed is None:
        return None
    for name in query:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            return _bad(f"{name}: not a known query parameter (known: {known})", str(name))
    return None
