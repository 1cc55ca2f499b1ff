"""Who is calling: the merchant id is the `sub` claim of the JWT the HTTP API's authorizer validated.

API Gateway puts the claims at requestContext.authorizer.jwt.claims; the local runtime's gateway does the same
after checking its dev token.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from storesync.api.errors import Unauthorized
from storesync.observability import bind_store

BEARER_SCHEME = "bearerAuth"  # the OpenAPI security scheme: the JWT the HTTP API's authorizer validates
PUBLIC: list[dict[str, list[str]]] = [{}]  # a route's OpenAPI security when it needs no token


def merchant_id(router: BaseRouter) -> str:
    authorizer = router.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise Unauthorized("a signed-in merchant is required (no sub claim in the token)", "Authorization")
    merchant = sub.strip()
    bind_store(None, merchant)
    return merchant
