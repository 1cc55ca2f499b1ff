"""Parameter types shared by the routes, validated by Powertools: page sizes, paging tokens, choices, the API's
order id.

A list answers a page of at most `limit` items (`PageLimit`, 1-200). A paging token is DynamoDB's
LastEvaluatedKey, base64url-encoded, at most `MAX_TOKEN_LENGTH` characters. `NextToken` decodes it (anything else
is a 400 naming `next_token`); `page_start` then checks that it has exactly the list's key names, each a string
key value, and belongs to the partition being listed (another merchant's or store's token is a 400 naming
`next_token`, never a peek into their data).

Path and query ids have stated maximum lengths (`StoreId`, `WarehouseIdPath`, `SkuPath`, `StoreIdQuery`,
`SkuQuery`), so an over-long id is a 400 naming it and never reaches DynamoDB's key size limits.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Annotated, Any, NamedTuple

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from storesync.api.errors import BadRequest
from storesync.dal.order_queries import api_order_id, split_api_order_id
from storesync.domain.orders import CHANNELS

MAX_ORDER_ID_LENGTH = 200
MAX_ID_LENGTH = 64  # store and warehouse ids (ours are far shorter)
MAX_SKU_LENGTH = 100  # Amazon's seller SKUs are at most 40 characters
MAX_TOKEN_LENGTH = 2048
MAX_KEY_VALUE_LENGTH = 1024

StoreId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, description="the store's id")]
WarehouseIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, description="a warehouse id")]
SkuPath = Annotated[str, Path(min_length=1, max_length=MAX_SKU_LENGTH, description="a seller SKU")]
StoreIdQuery = Annotated[str | None, Query(max_length=MAX_ID_LENGTH, description="only this store")]
SkuQuery = Annotated[str | None, Query(max_length=MAX_SKU_LENGTH, description="only this SKU")]


def encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def _decode_token(token: Any) -> dict[str, Any] | None:
    if token is None or token == "":
        return None
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise ValueError(f"not a token this API gave (at most {MAX_TOKEN_LENGTH} characters)")
    try:
        key = json.loads(base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("not a token this API gave") from None
    if not isinstance(key, dict):
        raise ValueError("not a token this API gave")
    return key


NextToken = Annotated[
    dict[str, Any] | None,
    BeforeValidator(_decode_token),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_TOKEN_LENGTH,
            "description": "opaque: the next_token of the previous page",
        }
    ),
    Query(description="the next_token of the previous page"),
]


MAX_PAGE_SIZE = 200
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def page_start(
    token: dict[str, Any] | None, key_names: set[str], partition: tuple[str, str], what: str
) -> dict[str, Any] | None:
    """The DynamoDB start key in a decoded `next_token`; `partition` is (hash key name, the value being listed)."""
    if token is None:
        return None
    hash_name, hash_value = partition
    if (
        set(token) != key_names
        or token.get(hash_name) != {"S": hash_value}
        or not all(_string_key_value(value) for value in token.values())
    ):
        raise BadRequest(f"next_token: not a token of this {what}", "next_token")
    return token


def _string_key_value(value: Any) -> bool:
    """A DynamoDB string key value as LastEvaluatedKey holds it: {"S": "..."} (every list key is a string)."""
    if not isinstance(value, dict) or set(value) != {"S"}:
        return False
    text = value["S"]
    return isinstance(text, str) and 0 < len(text) <= MAX_KEY_VALUE_LENGTH


class OneOf:
    """Annotation of a choice parameter: one of `allowed` (an enum in the OpenAPI document); empty = not given."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = tuple(str(a) for a in allowed)

    def check(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if value not in self.allowed:
            raise ValueError(f"must be one of {', '.join(self.allowed)}")
        return str(value)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": list(self.allowed)}


class OrderKey(NamedTuple):
    """The API's order id "<store_id>.<amazon order id>", split."""

    store_id: str
    amazon_order_id: str

    def __str__(self) -> str:
        return api_order_id(self.store_id, self.amazon_order_id)


def _order_key(value: Any) -> OrderKey:
    if isinstance(value, OrderKey):
        return value
    parts = (
        split_api_order_id(value) if isinstance(value, str) and len(value) <= MAX_ORDER_ID_LENGTH else None
    )
    if parts is None:
        raise ValueError("expected <store_id>.<amazon order id>")
    return OrderKey(*parts)


OrderId = Annotated[
    OrderKey,
    BeforeValidator(_order_key),
    WithJsonSchema(
        {
            "type": "string",
            "description": "<store_id>.<amazon order id>",
            "examples": ["st_1a2b.111-2223334-4445556"],
        }
    ),
    Path(alias="id", description="<store_id>.<amazon order id>"),
]


# The fulfillment channel filter of orders and of listings.
Channel = Annotated[str | None, OneOf(CHANNELS), Query()]
