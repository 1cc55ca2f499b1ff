"""One error shape for every API answer: `{"error": {"code", "message", "field"}}`.

Bad input is always a 4xx naming the field (bad JSON, wrong types, pydantic validation), never a 500. Routes
raise ApiError (or its subclasses) and parse bodies with `parse_body`; `register_error_handlers(app)` turns
every failure into the shape above.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from pydantic import BaseModel, ValidationError
from pynamodb.exceptions import UpdateError

from storesync.observability import logger


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
    """The field a pydantic error is about: the first named part of its location ("warehouses.0" -> warehouses)."""
    names = [str(part) for part in error.get("loc", ()) if isinstance(part, str)]
    return names[0] if names else None


def validation_message(error: Any) -> str:
    field = field_of(error)
    message = str(error.get("msg", "is invalid"))
    if error.get("type") == "extra_forbidden":
        message = "is not a known field"
    elif error.get("type") == "missing":
        message = "is required"
    return f"{field}: {message}" if field else message


def from_validation_error(exc: ValidationError) -> BadRequest:
    first = exc.errors()[0]
    return BadRequest(validation_message(first), field_of(first), code="invalid_field")


def json_body(router: BaseRouter) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest (field "body") naming what is wrong."""
    raw = router.current_event.decoded_body
    if raw is None or not str(raw).strip():
        raise BadRequest("body: a JSON object is required", "body", code="invalid_json")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body: not valid JSON ({exc})", "body", code="invalid_json") from None
    if not isinstance(body, dict):
        raise BadRequest("body: must be a JSON object", "body", code="invalid_json")
    return body


def parse_body[M: BaseModel](router: BaseRouter, model: type[M]) -> M:
    try:
        return model.model_validate(json_body(router))
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def parse_model[M: BaseModel](model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.field)

    @app.exception_handler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        bad = from_validation_error(exc)
        return error_response(bad.status, bad.code, bad.message, bad.field)

    @app.exception_handler(UpdateError)
    def _update_conflict(exc: UpdateError) -> Response:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            return _unexpected(exc)
        return error_response(
            HTTPStatus.CONFLICT,
            "conflict",
            "The record changed meanwhile (another request or a sync): try again",
        )

    @app.exception_handler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        return error_response(exc.status_code, "error", str(exc.msg))

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response:
        path = app.current_event.path
        return error_response(HTTPStatus.NOT_FOUND, "not_found", f"no such resource: {path}", "path")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unexpected API error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side; try again"
        )
