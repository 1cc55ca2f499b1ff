"""What a failed pynamodb write means to the callers that must not import pynamodb (the API's error handler)."""

from __future__ import annotations

from pynamodb.exceptions import PutError, UpdateError


def lost_a_race(exc: BaseException) -> bool:
    """A write refused by its condition: the record changed meanwhile (the API answers 409 "try again")."""
    if not isinstance(exc, PutError | UpdateError):
        return False
    # not exc.cause_response_code: it fails on a cause without a response (a timeout, a lost connection)
    response = getattr(exc.cause, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
