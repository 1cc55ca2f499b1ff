"""Products and listings: GET /products (the merchant's products, or one store's listings with ?store_id=).

Paginated: `limit` (1-200, default 50) and `next_token` (opaque; given back while more remain). With
`store_id`, optional `channel` (FBM|FBA) and `status` (active|inactive) filters.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from storesync.api.auth import merchant_id
from storesync.api.query_params import choice_param, decode_token, encode_token, limit_param
from storesync.api.store_access import merchant_store
from storesync.clock import iso
from storesync.dal.products import Listing, Product

router = Router()
MAX_LIMIT = 200
CHANNELS = ("FBM", "FBA")
STATUSES = ("active", "inactive")


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
    limit = limit_param(params, MAX_LIMIT)
    store_id = params.get("store_id")
    if store_id is None:
        merchant = merchant_id(router)
        start = decode_token(
            params.get("next_token"), {"merchant_id", "sku"}, ("merchant_id", merchant), "product list"
        )
        found = Product.query(merchant, limit=limit, last_evaluated_key=start)
        items = [product_view(p) for p in found]
        return {"products": items, "next_token": encode_token(found.last_evaluated_key)}
    store = merchant_store(router, store_id)
    condition = None
    channel = choice_param(params, "channel", CHANNELS)
    if channel is not None:
        condition = Listing.channel == channel
    status = choice_param(params, "status", STATUSES)
    if status is not None:
        condition = Listing.status == status if condition is None else condition & (Listing.status == status)
    start = decode_token(
        params.get("next_token"), {"store_id", "sku"}, ("store_id", store.store_id), "listing"
    )
    listed = Listing.query(store.store_id, filter_condition=condition, limit=limit, last_evaluated_key=start)
    items = [listing_view(item) for item in listed]
    return {
        "store_id": store.store_id,
        "listings": items,
        "next_token": encode_token(listed.last_evaluated_key),
    }
