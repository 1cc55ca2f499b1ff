"""Amazon's error answers (`{"errors": [...]}`), below everything that raises them: world, server, the APIs."""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = "Access to requested resource is denied."
EXPIRED = "The access token you provided has expired."
REVOKED = "The access token you provided is revoked, malformed or invalid."
QUOTA_EXCEEDED = "You exceeded your quota for the requested resource."


class SpApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> dict[str, Any]:
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def sp_error(status: int, code: str, message: str, details: str = "") -> SpApiError:
    """Amazon's error answer; use as `raise sp_error(404, "NotFound", "...")`."""
    return SpApiError(status, code, message, details)
