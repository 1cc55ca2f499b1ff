"""Signed consent states: `<nonce>.<expires epoch>.<HMAC-SHA256>` (base64url), plain Python.

The signature proves storesync issued the state and fixes its expiry; single use is the data layer's job (the
OAuthState row, deleted on use with a condition).

A state is also bound to the browser that asked for it: `browser_binding()` makes a random secret that goes to
that browser only (an HttpOnly cookie named after the state's nonce, `binding_cookie_name`) and whose SHA-256
goes into the OAuthState row; the callback accepts the state only with that cookie (`binding_matches`). A
consent link sent to someone else's browser (the OAuth account-linking attack) arrives without it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

STATE_TTL_SECONDS = 600


class StateRejected(ValueError):
    """A state that is forged, malformed, expired or already used. `reason` is shown to the merchant."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedState:
    value: str  # what goes into the consent URL
    nonce: str  # the OAuthState row's key
    expires_at: int


BINDING_COOKIE_PREFIX = "storesync_consent_"


@dataclass(frozen=True)
class BrowserBinding:
    secret: str  # the cookie's value (only the browser has it)
    digest: str  # what the OAuthState row keeps


def browser_binding() -> BrowserBinding:
    secret = secrets.token_urlsafe(32)
    return BrowserBinding(secret, binding_digest(secret))


def binding_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def binding_cookie_name(nonce: str) -> str:
    """One cookie per state, so two connects started in two tabs of the same browser both work."""
    return BINDING_COOKIE_PREFIX + hashlib.sha256(nonce.encode()).hexdigest()[:16]


def binding_matches(expected_digest: str | None, secret: str | None) -> bool:
    """True only when the browser sent the secret whose digest the state keeps (constant-time compare)."""
    if not expected_digest or not secret:
        return False
    return hmac.compare_digest(binding_digest(secret), expected_digest)


def current_time() -> float:
    return time.time()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class StateSigner:
    def __init__(
        self, key: bytes, ttl_seconds: int = STATE_TTL_SECONDS, clock: Callable[[], float] | None = None
    ) -> None:
        if not key:
            raise ValueError("key: the state signing key must not be empty")
        self._key = key
        self._ttl = ttl_seconds
        self._clock = clock  # None: current_time(), looked up at each call

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def _now(self) -> float:
        return self._clock() if self._clock is not None else current_time()

    def _signature(self, nonce: str, expires_at: int) -> str:
        mac = hmac.new(self._key, f"{nonce}.{expires_at}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    def issue(self) -> IssuedState:
        nonce = secrets.token_urlsafe(24)
        expires_at = int(self._now()) + self._ttl
        return IssuedState(f"{nonce}.{expires_at}.{self._signature(nonce, expires_at)}", nonce, expires_at)

    def verify(self, value: str) -> str:
        """The nonce of a genuine, unexpired state; StateRejected otherwise."""
        parts = value.split(".") if value else []
        if len(parts) != 3 or not all(parts) or not parts[1].isdigit():
            raise StateRejected("The sign-in link is not one storesync issued (malformed state).")
        nonce, expires_text, signature = parts
        expires_at = int(expires_text)
        if not hmac.compare_digest(signature, self._signature(nonce, expires_at)):
            raise StateRejected("The sign-in link is not one storesync issued (bad signature).")
        if self._now() >= expires_at:
            raise StateRejected(
                "The sign-in link expired (links are valid for 10 minutes). Start the connection again."
            )
        return nonce
