"""Amazon's failures mapped to what the use cases decide on.

- AuthorizationRevoked: LWA said invalid_grant. The store moves to needs_reauthorization.
- Throttled: a 429 (or the quota gate said wait). Save the cursor and re-enqueue after `retry_after` seconds.
- TransientAmazonError: 5xx, timeouts, dropped connections. Retry later (SQS redelivery / continuation).
- AmazonRejected: Amazon refused this request (4xx other than 403/429). Record its message; do not retry.
- AmazonAnswerInvalid: Amazon answered, but not in the shape storesync reads (the adapter's typed models); the
  message names the operation and the field. Not an AmazonError: retrying gets the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import exceptions as spx
from sp_api.base.exceptions import SellingApiException


class AmazonError(Exception):
    pass


class AuthorizationRevoked(AmazonError):
    def __init__(self, message: str = "Amazon no longer accepts this store's authorization") -> None:
        super().__init__(message)


class Throttled(AmazonError):
    def __init__(self, operation: str, retry_after: float) -> None:
        super().__init__(f"Amazon's quota for {operation} is used up; retrying in {retry_after:.0f} s")
        self.operation = operation
        self.retry_after = retry_after


class TransientAmazonError(AmazonError):
    pass


class AmazonRejected(AmazonError):
    def __init__(self, operation: str, status: int, code: str, message: str) -> None:
        super().__init__(f"Amazon refused {operation}: {message or code} ({code or status})")
        self.operation = operation
        self.status = status
        self.code = code
        self.amazon_message = message


class AmazonAnswerInvalid(ValueError):
    """Amazon's answer lacks something we need or has it in another shape; the message names the field."""


def _first_error(exc: SellingApiException) -> tuple[str, str]:
    errors: Any = getattr(exc, "error", None)
    if isinstance(errors, list) and errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        return str(first.get("code", "")), str(first.get("message", ""))
    if isinstance(errors, dict):
        return str(errors.get("code", "")), str(errors.get("message", ""))
    return "", str(exc)


def map_exception(operation: str, exc: Exception, default_retry_after: float = 60.0) -> AmazonError:
    """Translate a python-amazon-sp-api / httpx exception into one of the errors above."""
    if isinstance(exc, AmazonError):
        return exc
    if isinstance(exc, AuthorizationError):
        code = str(getattr(exc, "error_code", "") or "")
        status = int(getattr(exc, "status_code", 0) or 0)
        if code in ("invalid_grant", "unauthorized_client") or status == 400:
            return AuthorizationRevoked(f"Amazon refused the store's authorization ({code or status})")
        if status >= 500 or status == 0:
            return TransientAmazonError(f"Login with Amazon failed ({status}): try again later")
        return AmazonRejected(operation, status, code, str(getattr(exc, "message", "") or exc))
    if isinstance(exc, spx.SellingApiRequestThrottledException):
        return Throttled(operation, default_retry_after)
    if isinstance(exc, spx.SellingApiForbiddenException):
        code, message = _first_error(exc)
        return TransientAmazonError(f"Amazon denied access for {operation} ({message or code}): retrying")
    if isinstance(exc, SellingApiException):
        status = int(getattr(exc, "code", 0) or 0)
        code, message = _first_error(exc)
        if status >= 500 or status == 0:
            return TransientAmazonError(f"Amazon failed on {operation} ({status}): retrying later")
        return AmazonRejected(operation, status, code, message)
    if isinstance(exc, httpx.HTTPError | ConnectionError | TimeoutError):
        return TransientAmazonError(f"Amazon could not be reached for {operation}: {type(exc).__name__}")
    raise exc


def call_amazon[T](operation: str, fn: Callable[[], T]) -> T:
    """Run one SP-API call and raise only the errors above (or the original bug)."""
    try:
        return fn()
    except (SellingApiException, AuthorizationError, httpx.HTTPError, ConnectionError, TimeoutError) as exc:
        raise map_exception(operation, exc) from exc
