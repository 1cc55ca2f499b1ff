"""Local runtime only (LOCAL_DEV_TOKENS=true): GET /local/token?merchant=ID returns a signed dev JWT.

The local gateway validates it (HS256, LOCAL_JWT_SECRET) and passes its claims as the JWT authorizer does.
Deployed, the flag is off and the route answers 404.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import jwt
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from storesync.api.auth import PUBLIC
from storesync.api.deps import api_settings
from storesync.api.errors import NotFound

router = Router()
LOCAL_ISSUER = "storesync-local"
LOCAL_AUDIENCE = "storesync"
TOKEN_SECONDS = 12 * 3600
MERCHANT_ID = r"^[A-Za-z0-9_.@-]{1,64}$"


def dev_token(merchant: str, secret: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": merchant, "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "iat": issued,
              "exp": issued + TOKEN_SECONDS}  # fmt: skip
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_dev_token(token: str, secret: str) -> dict[str, Any]:
    """What the local gateway does with a bearer token (raises jwt.InvalidTokenError)."""
    return dict(jwt.decode(token, secret, algorithms=["HS256"], audience=LOCAL_AUDIENCE, issuer=LOCAL_ISSUER))


@router.get("/local/token", summary="Local runtime only: a signed development token", security=PUBLIC)
def local_token(
    merchant: Annotated[str, Query(pattern=MERCHANT_ID, description="1 to 64 letters, digits or _.@-")],
) -> dict[str, Any]:
    settings = api_settings()
    if not settings.local_dev_tokens or not settings.local_jwt_secret:
        raise NotFound("path: no such resource: /local/token", "path")
    token = dev_token(merchant, settings.local_jwt_secret)
    return {"token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS, "merchant_id": merchant}
