"""Local runtime only (LOCAL_DEV_TOKENS=true): GET /local/token?merchant=ID returns a signed dev JWT.

The local gateway validates it (HS256, LOCAL_JWT_SECRET) and passes its claims as the JWT authorizer does.
Deployed, the flag is off and the route answers 404.
"""

from __future__ import annotations

import re
import time
from typing import Any

import jwt
from aws_lambda_powertools.event_handler.api_gateway import Router

from storesync.api.deps import api_settings
from storesync.api.errors import BadRequest, NotFound

router = Router()
LOCAL_ISSUER = "storesync-local"
LOCAL_AUDIENCE = "storesync"
TOKEN_SECONDS = 12 * 3600
MERCHANT_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def dev_token(merchant: str, secret: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"sub": merchant, "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "iat": issued,
              "exp": issued + TOKEN_SECONDS}  # fmt: skip
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_dev_token(token: str, secret: str) -> dict[str, Any]:
    """What the local gateway does with a bearer token (raises jwt.InvalidTokenError)."""
    return dict(jwt.decode(token, secret, algorithms=["HS256"], audience=LOCAL_AUDIENCE, issuer=LOCAL_ISSUER))


@router.get("/local/token")
def local_token() -> dict[str, Any]:
    settings = api_settings()
    if not settings.local_dev_tokens or not settings.local_jwt_secret:
        raise NotFound("path: no such resource: /local/token", "path")
    merchant = (router.current_event.query_string_parameters or {}).get("merchant", "")
    if not MERCHANT_ID.match(merchant):
        raise BadRequest("merchant: 1 to 64 letters, digits or _.@-", "merchant")
    token = dev_token(merchant, settings.local_jwt_secret)
    return {"token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS, "merchant_id": merchant}
