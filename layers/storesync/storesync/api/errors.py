"""One error shape for every API answer: `{"error": {"code", "message", "field"}}`.

Bad input is always a 4xx naming the field and the problem, never a 500. Powertools validates every body, path
and query parameter against the routes' annotations (`enable_validation=True`) and raises
RequestValidationError; routes raise ApiError (or its subclasses) for what only they can check;
`register_error_handlers(app)` turns every failure into the shape above.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from storesync.dal.errors import lost_a_race
from storesync.observability import logger

REQUEST_PARTS = ("body", "query", "path", "header", "cookie")  # the first part of a Powertools error location
WHOLE_NUMBER_ERRORS = ("int_type", "int_from_float", "int_parsing")


class ApiError(Exception):
    status = HTTPStatus.BAD_REQUEST
    code = "invalid_request"

    def __init__(self, message: str, field: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class NotFound(ApiError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class Conflict(ApiError):
    status = HTTPStatus.CONFLICT
    code = "conflict"


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "field": field}}
    return Response(status_code=int(status), content_type="application/json", body=json.dumps(body))


def field_of(error: Any) -> str | None:
    """The field a pydantic error is about, as a path: ("body", "adjustments", 1, "delta") -> adjustments[1].delta;
    a position at the end names the list itself (("warehouses", 0) -> warehouses: the list is the field).

    Powertools' locations start with the part of the request ("body", "query", "path"): a whole-body error is
    about "body", any other drops it.
    """
    loc = list(error.get("loc", ()))
    if loc and loc[0] in REQUEST_PARTS:
        part = loc.pop(0)
        if not any(isinstance(name, str) for name in loc):
            return str(part) if part == "body" else None
    while loc and isinstance(loc[-1], int):
        loc.pop()
    path = ""
    for name in loc:
        path += f"[{name}]" if isinstance(name, int) else (f".{name}" if path else str(name))
    return path or None


def _problem(error: Any) -> str:
    """What is wrong, in plain words."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind in WHOLE_NUMBER_ERRORS:
        return "must be a whole number"
    if kind == "greater_than_equal":
        return "must not be negative" if ctx.get("ge") == 0 else f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "enum" or kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}".replace(" or ", ", ").replace("'", "")
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def validation_message(error: Any) -> str:
    field = field_of(error)
    message = _problem(error)
    if field is not None and message.startswith(f"{field}: "):
        return message
    return f"{field}: {message}" if field else message


def _body_error(error: Any) -> BadRequest | None:
    """A body that is missing, not JSON or not a JSON object (Powertools: loc ("body",) or ("body", position))."""
    if field_of(error) != "body":
        return None
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        return BadRequest(f"body: not valid JSON ({reason})", "body", code="invalid_json")
    if error.get("type") == "missing":
        return BadRequest("body: a JSON object is required", "body", code="invalid_json")
    return BadRequest("body: must be a JSON object", "body", code="invalid_json")


def from_request_errors(errors: Sequence[Any]) -> BadRequest:
    """The first of Powertools' validation errors as a 400: a body field is `invalid_field`, a query or path
    parameter `invalid_request` (the codes these answers had before Powertools validated them)."""
    first = errors[0]
    body_error = _body_error(first)
    if body_error is not None:
        return body_error
    in_body = bool(first.get("loc")) and first["loc"][0] == "body"
    code = "invalid_field" if in_body else "invalid_request"
    return BadRequest(validation_message(first), field_of(first), code=code)


def from_validation_error(exc: ValidationError) -> BadRequest:
    first = exc.errors()[0]
    return BadRequest(validation_message(first), field_of(first), code="invalid_field")


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    def _request_validation(exc: RequestValidationError) -> Response:
        bad = from_request_errors(exc.errors())
        return error_response(bad.status, bad.code, bad.message, bad.field)

    @app.exception_handler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        bad = from_validation_error(exc)
        return error_response(bad.status, bad.code, bad.message, bad.field)

    @app.exception_handler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        return error_response(exc.status_code, "error", str(exc.msg))

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response:
        path = app.current_event.path
        return error_response(HTTPStatus.NOT_FOUND, "not_found", f"no such resource: {path}", "path")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if lost_a_race(exc):
            return error_response(
                HTTPStatus.CONFLICT,
                "conflict",
                "The record changed meanwhile (another request or a sync): try again",
            )
        logger.exception("unexpected API error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side; try again"
        )
