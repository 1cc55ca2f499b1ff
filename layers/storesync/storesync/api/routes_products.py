"""Products and listings: GET /products (the merchant's products, or one store's listings with ?store_id=).

Paginated: `limit` (1-200, default 50) and `next_token` (opaque; given back while more remain). With
`store_id`, optional `channel` (FBM|FBA) and `status` (active|inactive) filters.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from storesync.api.auth import merchant_id
from storesync.api.params import Channel, NextToken, OneOf, PageLimit, StoreIdQuery, encode_token, page_start
from storesync.api.store_access import merchant_store
from storesync.api.views import listing_view, product_view
from storesync.dal.product_queries import listing_page, product_page

router = Router()
STATUSES = ("active", "inactive")
Status = Annotated[str | None, OneOf(STATUSES), Query()]


@router.get("/products", summary="The merchant's products, or one store's listings (?store_id=)")
def list_products(
    store_id: StoreIdQuery = None,
    channel: Channel = None,
    status: Status = None,
    limit: PageLimit = 50,
    next_token: NextToken = None,
) -> dict[str, Any]:
    if store_id is None:
        merchant = merchant_id(router)
        start = page_start(next_token, {"merchant_id", "sku"}, ("merchant_id", merchant), "product list")
        products = product_page(merchant, limit, start)
        return {
            "products": [product_view(p) for p in products.products],
            "next_token": encode_token(products.next_key),
        }
    store = merchant_store(router, store_id)
    start = page_start(next_token, {"store_id", "sku"}, ("store_id", store.store_id), "listing")
    listed = listing_page(store.store_id, limit, start, channel=channel, status=status)
    return {
        "store_id": store.store_id,
        "listings": [listing_view(item) for item in listed.listings],
        "next_token": encode_token(listed.next_key),
    }
