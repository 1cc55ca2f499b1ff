"""Amazon's failures mapped to what the use cases decide on.

Every error below is an AmazonError; each names the operation and, when Amazon gave one, its request id
(`x-amzn-RequestId`, appended to the message as "(x-amzn-RequestId ...)" and kept in `request_id`).

- AuthorizationRevoked: Amazon refuses the store's authorization for good: LWA said invalid_grant, or the SP-API
  refused a fresh access token (401/403) after the cached one was dropped. The store needs reauthorization.
- AccessDenied: one 401/403 from the SP-API. The quota gate drops the cached access token and retries once; a
  second refusal becomes AuthorizationRevoked. Callers never see it from the gate. (LWA's 401 is invalid_client:
  storesync's own client id/secret, not the store's grant, so it is an AmazonRejected and marks no store; a rotated
  secret is read again within LWA_SECRET_MAX_AGE_SECONDS, see storesync.wiring.)
- Throttled: a 429 (with or without rate-limit headers) or the quota gate said wait. Save the cursor and
  re-enqueue after `retry_after` seconds.
- TransientAmazonError: 5xx (JSON or an HTML page), timeouts, dropped connections. The gate retried it a few
  times already; retry later (SQS redelivery / continuation).
- AnswerLost (a TransientAmazonError): the request left and its answer did not come back (the connection dropped
  or timed out after sending): Amazon may have performed it. Never repeated inline for an operation that must
  not run twice (see quota_gate.UNREPEATABLE).
- AmazonRejected: Amazon refused this request (4xx other than 401/403/429). Record its message; do not retry.
- AmazonAnswerInvalid (also a ValueError): Amazon answered 2xx, but not in the shape storesync reads: an empty
  body, HTML, JSON cut short, or a missing payload or required field. Never read as "no data": the gate re-reads
  it a few times, then raises it; the message names the operation and the field.
- ReportFailed: a report Amazon was asked for ended CANCELLED or FATAL: the data it would carry is unknown (never
  "no products"). Raised by products_amazon.ReportState.raise_if_failed. ReportDocumentUnknown: getReportDocument
  (or the document's download) answered 404 for the document of a DONE report.
- Amazon no longer knows an id it gave (getReport or getFeed answering 404 NotFound: past Amazon's retention, or
  a simulator that lost it): `unknown_to_amazon(exc)`; the adapters answer the processing status NOT_FOUND
  (storesync's, not Amazon's), which the callers read as a failed report or feed and ask again, never as
  "nothing".

`check_http_answer` is the first look at every SP-API HTTP answer (storesync.amazon.clients runs it before the
library reads the body): python-amazon-sp-api itself reads an empty, HTML or truncated body as `{}`, a 5xx or
429 without a JSON `errors` list as a success, and a 401 as an unknown error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import exceptions as spx
from sp_api.base.exceptions import SellingApiException

REQUEST_ID_HEADER = "x-amzn-RequestId"


class AmazonError(Exception):
    """An Amazon failure; `operation` and `request_id` (Amazon's x-amzn-RequestId) when known."""

    operation: str | None = None
    request_id: str | None = None

    def tag(self, operation: str | None = None, request_id: str | None = None) -> AmazonError:
        """Fill in the operation and request id where they are still unknown; returns self."""
        self.operation = self.operation or operation
        self.request_id = self.request_id or request_id
        return self

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} ({REQUEST_ID_HEADER} {self.request_id})" if self.request_id else text


class AuthorizationRevoked(AmazonError):
    def __init__(self, message: str = "Amazon no longer accepts this store's authorization") -> None:
        super().__init__(message)


class AccessDenied(AmazonError):
    """One refusal of the access token (SP-API 401/403): the gate refreshes the token and retries once."""

    def __init__(self, operation: str, status: int, reason: str) -> None:
        super().__init__(f"Amazon refused the access for {operation} ({status} {reason})".rstrip())
        self.operation = operation
        self.status = status
        self.reason = reason


class Throttled(AmazonError):
    def __init__(self, operation: str, retry_after: float) -> None:
        super().__init__(f"Amazon's quota for {operation} is used up; retrying in {retry_after:.0f} s")
        self.operation = operation
        self.retry_after = retry_after


class TransientAmazonError(AmazonError):
    """`may_be_performed`: the request reached Amazon (a 5xx, a lost answer), so Amazon may have performed it."""

    def __init__(self, message: str, *, status: int | None = None, may_be_performed: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.may_be_performed = may_be_performed


class AnswerLost(TransientAmazonError):
    """The request was sent and no answer came back: Amazon may have performed it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, may_be_performed=True)


class AmazonRejected(AmazonError):
    def __init__(self, operation: str, status: int, code: str, message: str) -> None:
        super().__init__(f"Amazon refused {operation}: {message or code} ({code or status})")
        self.operation = operation
        self.status = status
        self.code = code
        self.amazon_message = message


class AmazonAnswerInvalid(AmazonError, ValueError):
    """Amazon's answer is empty, not JSON, cut short, or lacks something we need; the message names the
    operation and the field (`field`, when one applies)."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        field: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.field = field
        self.request_id = request_id


class ReportFailed(AmazonError):
    """A report ended CANCELLED or FATAL (`status`); `document_id` is the error document FATAL may carry."""

    def __init__(self, report_id: str, status: str, document_id: str | None = None) -> None:
        detail = f", error document {document_id}" if document_id else ""
        super().__init__(f"Amazon's report {report_id} ended {status}{detail}: its data is unknown")
        self.report_id = report_id
        self.status = status
        self.document_id = document_id


# The processing status the adapters give a report or feed Amazon no longer knows (getReport/getFeed answered
# 404): storesync's, not one of Amazon's; it counts as failed (CANCELLED or FATAL), never as "nothing".
NOT_FOUND = "NOT_FOUND"


class ReportDocumentUnknown(ReportFailed):
    """Amazon answered 404 for the document of a DONE report (getReportDocument, or the document's URL): the
    report's data is unknown; a new report is asked for."""

    def __init__(self, document_id: str, where: str = "getReportDocument") -> None:
        AmazonError.__init__(
            self, f"Amazon no longer knows the report document {document_id} ({where} answered 404)"
        )
        self.report_id = ""
        self.status = NOT_FOUND
        self.document_id = document_id


def unknown_to_amazon(exc: AmazonError) -> bool:
    """Amazon refused with 404 NotFound: it does not know the id storesync asked about."""
    return isinstance(exc, AmazonRejected) and exc.status == 404


class BadAnswer(Exception):
    """What check_http_answer found wrong with one HTTP answer; map_exception turns it into an AmazonError
    once the operation is known. `kind`: invalid | server | throttled | unauthorized | rejected."""

    def __init__(self, kind: str, status: int, request_id: str | None, detail: str, code: str = "") -> None:
        super().__init__(f"{kind} ({status}): {detail}")
        self.kind = kind
        self.status = status
        self.request_id = request_id
        self.detail = detail
        self.code = code


def request_id_of(headers: Any) -> str | None:
    """Amazon's x-amzn-RequestId from response headers (httpx's, a dict, or None)."""
    if headers is None:
        return None
    try:
        value = headers.get(REQUEST_ID_HEADER) or headers.get(REQUEST_ID_HEADER.lower())
    except AttributeError:
        return None
    return str(value) if value else None


def _amazon_error(body: Any) -> tuple[str, str]:
    """(code, message) of Amazon's first error in a JSON error body, or empty strings."""
    errors = body.get("errors") if isinstance(body, Mapping) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
    return str(first.get("code") or ""), str(first.get("message") or "")


def _describe_unreadable(content: bytes, content_type: str) -> str:
    head = content.lstrip()[:64].lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<")):
        return "an HTML page, not JSON"
    return f"not valid JSON ({len(content)} bytes, cut short or garbled)"


def check_http_answer(response: httpx.Response, *, no_data: bool = False) -> None:
    """Raise BadAnswer unless `response` is an answer the library may read: 2xx with a JSON object or list
    (`no_data`: an operation whose 2xx answer carries nothing, e.g. confirmShipment, passes with any body)."""
    status = response.status_code
    request_id = request_id_of(response.headers)
    content = response.content or b""
    body: Any = None
    parsed = False
    if content.strip():
        try:
            body = json.loads(content)
            parsed = True
        except ValueError:
            pass
    code, message = _amazon_error(body)
    reason = message or code
    if status == 429:
        raise BadAnswer("throttled", status, request_id, reason or "quota exceeded", code)
    if status in (401, 403):
        raise BadAnswer("unauthorized", status, request_id, reason or "access denied", code)
    if status >= 500 or status == 408:
        what = reason or (
            "an empty body"
            if not content.strip()
            else _describe_unreadable(content, response.headers.get("content-type", ""))
        )
        raise BadAnswer("server", status, request_id, what, code)
    if status >= 400:
        raise BadAnswer("rejected", status, request_id, message or f"HTTP {status}", code or str(status))
    if status < 200 or status >= 300:
        raise BadAnswer("invalid", status, request_id, f"HTTP {status} is not an answer")
    if no_data:
        return
    if not content.strip():
        raise BadAnswer("invalid", status, request_id, "an empty body")
    if not parsed:
        content_type = response.headers.get("content-type", "")
        raise BadAnswer("invalid", status, request_id, _describe_unreadable(content, content_type))
    if not isinstance(body, dict | list):
        raise BadAnswer("invalid", status, request_id, f"a JSON {type(body).__name__}, not an object")
    if code or message:
        raise BadAnswer("rejected", status, request_id, message or code, code)


def _first_error(exc: SellingApiException) -> tuple[str, str]:
    errors: Any = getattr(exc, "error", None)
    if isinstance(errors, list) and errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        return str(first.get("code", "")), str(first.get("message", ""))
    if isinstance(errors, dict):
        return str(errors.get("code", "")), str(errors.get("message", ""))
    return "", str(exc)


# httpx errors raised once the request may have reached Amazon (its answer is lost), vs. before it left.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    ConnectionRefusedError,
)


def _map_bad_answer(operation: str, exc: BadAnswer, default_retry_after: float) -> AmazonError:
    if exc.kind == "throttled":
        return Throttled(operation, default_retry_after).tag(operation, exc.request_id)
    if exc.kind == "unauthorized":
        return AccessDenied(operation, exc.status, exc.detail).tag(operation, exc.request_id)
    if exc.kind == "server":
        return TransientAmazonError(
            f"Amazon failed on {operation} (HTTP {exc.status}: {exc.detail}): retrying later",
            status=exc.status,
            may_be_performed=True,
        ).tag(operation, exc.request_id)
    if exc.kind == "rejected":
        return AmazonRejected(operation, exc.status, exc.code, exc.detail).tag(operation, exc.request_id)
    return AmazonAnswerInvalid(
        f"{operation}: Amazon answered {exc.detail}", operation=operation, request_id=exc.request_id
    )


def map_exception(operation: str, exc: Exception, default_retry_after: float = 60.0) -> AmazonError:
    """Translate a python-amazon-sp-api / httpx exception into one of the errors above."""
    if isinstance(exc, AmazonError):
        return exc.tag(operation)
    if isinstance(exc, BadAnswer):
        return _map_bad_answer(operation, exc, default_retry_after)
    if isinstance(exc, AuthorizationError):
        code = str(getattr(exc, "error_code", "") or "")
        status = int(getattr(exc, "status_code", 0) or 0)
        if code in ("invalid_grant", "unauthorized_client") or status == 400:
            return AuthorizationRevoked(f"Amazon refused the store's authorization ({code or status})")
        if status >= 500 or status == 0:
            return TransientAmazonError(
                f"Login with Amazon failed ({status}) for {operation}: try again later", status=status
            )
        return AmazonRejected(operation, status, code, str(getattr(exc, "message", "") or exc))
    if isinstance(exc, SellingApiException):
        request_id = request_id_of(getattr(exc, "headers", None))
        code, message = _first_error(exc)
        if isinstance(exc, spx.SellingApiRequestThrottledException):
            return Throttled(operation, default_retry_after).tag(operation, request_id)
        if isinstance(exc, spx.SellingApiForbiddenException):
            return AccessDenied(operation, 403, message or code).tag(operation, request_id)
        status = int(getattr(exc, "code", 0) or 0)
        if status >= 500 or status == 0:
            return TransientAmazonError(
                f"Amazon failed on {operation} ({status}): retrying later",
                status=status,
                may_be_performed=True,
            ).tag(operation, request_id)
        return AmazonRejected(operation, status, code, message).tag(operation, request_id)
    if isinstance(exc, _NOT_SENT):
        return TransientAmazonError(f"Amazon could not be reached for {operation}: {type(exc).__name__}").tag(
            operation
        )
    if isinstance(exc, httpx.HTTPError | ConnectionError | TimeoutError):
        return AnswerLost(
            f"Amazon's answer to {operation} was lost ({type(exc).__name__}): it may have been performed"
        ).tag(operation)
    if isinstance(exc, json.JSONDecodeError):  # Login with Amazon answered an error page, not JSON
        return TransientAmazonError(
            f"Login with Amazon answered something that is not JSON for {operation}: try again later"
        ).tag(operation)
    raise exc


def call_amazon[T](operation: str, fn: Callable[[], T]) -> T:
    """Run one Amazon call and raise only the errors above (or the original bug)."""
    try:
        return fn()
    except (
        AmazonError,
        BadAnswer,
        SellingApiException,
        AuthorizationError,
        httpx.HTTPError,
        ConnectionError,
        TimeoutError,
        json.JSONDecodeError,
    ) as exc:
        mapped = map_exception(operation, exc)
        if mapped is exc:
            raise
        raise mapped from exc
