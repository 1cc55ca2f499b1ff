"""Development JWTs for the local runtime: HS256, signed with LOCAL_JWT_SECRET, checked as the JWT authorizer would.

API Gateway's JWT authorizer checks the signature, `iss` (the JwtIssuer parameter), `aud` (one of JwtAudience),
`exp` and `nbf`, then passes the claims to the function. Locally the signing key is a shared secret instead of
the issuer's JWKS; everything else is the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

DEV_TOKEN_TTL_SECONDS = 12 * 3600


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class JwtConfig:
    secret: str
    issuer: str
    audiences: tuple[str, ...]

    def issue(self, merchant_id: str, ttl_seconds: int = DEV_TOKEN_TTL_SECONDS) -> str:
        """A token for `merchant_id` (the `sub` claim, which storesync reads as the merchant id)."""
        if not merchant_id or not merchant_id.strip():
            raise TokenError("merchant: a non-empty merchant id is required")
        if len(merchant_id) > 128:
            raise TokenError("merchant: at most 128 characters")
        now = int(time.time())
        claims = {
            "sub": merchant_id,
            "iss": self.issuer,
            "aud": self.audiences[0],
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "token_use": "access",
            "scope": "storesync",
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; TokenError with the authorizer's reason otherwise."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=list(self.audiences),
                issuer=self.issuer,
                options={"require": ["exp", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from None
        return claims


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway HTTP API hands them over: every value a string, arrays as "[a b]"."""
    out = {}
    for key, value in claims.items():
        if isinstance(value, list):
            out[key] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out
