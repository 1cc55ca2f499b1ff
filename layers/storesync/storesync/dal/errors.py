"""What a failed pynamodb write means to the callers that must not import pynamodb (the API's error handler)."""

from __future__ import annotations

from pynamodb.exceptions import UpdateError


def lost_a_race(exc: BaseException) -> bool:
    """An update refused by its condition: the record changed meanwhile (the API answers 409 "try again")."""
    return isinstance(exc, UpdateError) and exc.cause_response_code == "ConditionalCheckFailedException"
