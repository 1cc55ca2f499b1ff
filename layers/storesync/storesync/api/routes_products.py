"""Products and listings: GET /products (the merchant's products, or one store's listings with ?store_id=).

Paginated: `limit` (1-200, default 50) and `next_token` (opaque; given back while more remain). With
`store_id`, optional `channel` (FBM|FBA) and `status` (active|inactive) filters.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from storesync.api.auth import merchant_id
from storesync.api.errors import BadRequest
from storesync.api.store_access import merchant_store
from storesync.clock import iso
from storesync.dal.products import Listing, Product

router = Router()
MAX_LIMIT = 200
CHANNELS = ("FBM", "FBA")
STATUSES = ("active", "inactive")


def _limit(params: dict[str, str]) -> int:
    text = params.get("limit", "50")
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadRequest(f"limit: a whole number from 1 to {MAX_LIMIT}", "limit")
    return int(text)


def encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_token(token: str | None, hash_name: str, hash_value: str) -> dict[str, Any] | None:
    """The DynamoDB start key inside a next_token, which must belong to the partition being listed."""
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest("next_token: not a token this API gave", "next_token") from None
    if not isinstance(key, dict) or key.get(hash_name) != {"S": hash_value} or set(key) != {hash_name, "sku"}:
        raise BadRequest("next_token: not a token of this listing", "next_token")
    return key


def listing_view(item: Listing) -> dict[str, Any]:
    return {
        "store_id": item.store_id,
        "sku": item.sku,
        "asin": item.asin,
        "title": item.title,
        "price": item.price,
        "channel": item.channel,
        "status": item.status,
        "amazon_status": item.amazon_status,
        "amazon_quantity": None if item.amazon_quantity is None else int(item.amazon_quantity),
        "product_type": item.product_type,
        "last_pushed_quantity": None if item.last_pushed_quantity is None else int(item.last_pushed_quantity),
        "updated_at": iso(item.updated_at),
    }


def product_view(item: Product) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "title": item.title,
        "asin": item.asin,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


@router.get("/products")
def list_products() -> dict[str, Any]:
    params = router.current_event.query_string_parameters or {}
    limit = _limit(params)
    store_id = params.get("store_id")
    if store_id is None:
        merchant = merchant_id(router)
        start = decode_token(params.get("next_token"), "merchant_id", merchant)
        found = Product.query(merchant, limit=limit, last_evaluated_key=start)
        items = [product_view(p) for p in found]
        return {"products": items, "next_token": encode_token(found.last_evaluated_key)}
    store = merchant_store(router, store_id)
    condition = None
    channel = params.get("channel")
    if channel is not None:
        if channel not in CHANNELS:
            raise BadRequest(f"channel: must be one of {', '.join(CHANNELS)}", "channel")
        condition = Listing.channel == channel
    status = params.get("status")
    if status is not None:
        if status not in STATUSES:
            raise BadRequest(f"status: must be one of {', '.join(STATUSES)}", "status")
        condition = Listing.status == status if condition is None else condition & (Listing.status == status)
    start = decode_token(params.get("next_token"), "store_id", store.store_id)
    listed = Listing.query(store.store_id, filter_condition=condition, limit=limit, last_evaluated_key=start)
    items = [listing_view(item) for item in listed]
    return {
        "store_id": store.store_id,
        "listings": items,
        "next_token": encode_token(listed.last_evaluated_key),
    }
