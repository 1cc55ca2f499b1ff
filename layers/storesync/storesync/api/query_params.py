"""Query-string parameters shared by the list endpoints: limits, choices and paging tokens.

A paging token is DynamoDB's LastEvaluatedKey, base64url-encoded. It is checked on the way back in: it must have
exactly the list's key names and belong to the partition being listed (another merchant's or store's token is a
400 naming `next_token`, never a peek into their data).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from storesync.api.errors import BadRequest


def limit_param(params: dict[str, str], maximum: int, default: int = 50) -> int:
    text = params.get("limit", str(default))
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise BadRequest(f"limit: a whole number from 1 to {maximum}", "limit")
    return int(text)


def choice_param(params: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in allowed:
        raise BadRequest(f"{name}: must be one of {', '.join(allowed)}", name)
    return value


def encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_token(
    token: str | None, key_names: set[str], partition: tuple[str, str], what: str
) -> dict[str, Any] | None:
    """The DynamoDB start key inside `next_token`; `partition` is (hash key name, the value being listed)."""
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest("next_token: not a token this API gave", "next_token") from None
    hash_name, hash_value = partition
    if not isinstance(key, dict) or set(key) != key_names or key.get(hash_name) != {"S": hash_value}:
        raise BadRequest(f"next_token: not a token of this {what}", "next_token")
    return key
