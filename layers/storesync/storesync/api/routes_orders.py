"""Orders for the WMS: GET /orders (newest first, or `sort=ship_by`: the merchant orders still to ship, earliest
ship-by first; filters store_id, status, hold, channel, program, ship_by_from/ship_by_to; paginated with
`limit` 1-200 and an opaque `next_token`), GET /orders/{id} (id "<store_id>.<amazon order id>", with the
buyer's data (address, gift messages and wrap levels) decrypted for the merchant who owns the order, until it
expires 30 days after the order closed, even before DynamoDB's TTL sweeps it; associated orders linked to the
stored original; another merchant's order is a 404) and
GET /stores/{store_id}/unknown-skus (the SKUs a store's orders wait for: the unknown-SKU hold)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from storesync.api.auth import merchant_id
from storesync.api.deps import api_services
from storesync.api.errors import NotFound
from storesync.api.params import (
    Channel,
    NextToken,
    OneOf,
    OrderId,
    PageLimit,
    StoreId,
    StoreIdQuery,
    encode_token,
    page_start,
)
from storesync.api.store_access import merchant_store
from storesync.api.views import order_view
from storesync.clock import utcnow
from storesync.dal.order_queries import (
    ORDER_SORTS,
    SORT_PURCHASE,
    SORT_SHIP_BY,
    OrderFilters,
    address_context,
    api_order_id,
    find_orders,
    get_address,
    get_order,
    gift_context,
    list_orders,
    unknown_skus_waiting,
)
from storesync.domain.orders import CLOSED_STATUSES, HOLDS, ORDER_PROGRAMS, WMS_STATUSES, buyer_data_visible
from storesync.observability import bind_store

router = Router()
TOKEN_KEYS = {"merchant_id", "purchase_key", "store_id", "amazon_order_id"}
SHIP_BY_TOKEN_KEYS = {"awaiting_merchant", "ship_by_key", "store_id", "amazon_order_id"}
Status = Annotated[str | None, OneOf(WMS_STATUSES), Query()]
Hold = Annotated[str | None, OneOf(HOLDS), Query()]
Program = Annotated[
    str | None, OneOf(ORDER_PROGRAMS), Query(description="only orders in this Amazon program")
]
Sort = Annotated[
    str | None,
    OneOf(ORDER_SORTS),
    Query(
        description="purchase (default): newest purchase first, every order; ship_by: the merchant orders still "
        "to ship (pending, open, partially shipped), earliest ship-by first"
    ),
]
ShipByFrom = Annotated[
    datetime | None, Query(description="only orders whose ship-by window ends at or after this (ISO 8601)")
]
ShipByTo = Annotated[
    datetime | None, Query(description="only orders whose ship-by window ends before this (ISO 8601)")
]


def _utc(value: datetime | None) -> datetime | None:
    """A query time in UTC (one without a zone is taken as UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get(
    "/orders", summary="The merchant's orders, newest purchase first (or by ship-by), filtered, paginated"
)
def orders(
    store_id: StoreIdQuery = None,
    status: Status = None,
    hold: Hold = None,
    channel: Channel = None,
    program: Program = None,
    ship_by_from: ShipByFrom = None,
    ship_by_to: ShipByTo = None,
    sort: Sort = None,
    limit: PageLimit = 50,
    next_token: NextToken = None,
) -> dict[str, Any]:
    merchant = merchant_id(router)
    if store_id:
        merchant_store(router, store_id)  # 404 for an unknown or foreign store
    filters = OrderFilters(
        store_id=store_id or None,
        status=status,
        hold=hold,
        channel=channel,
        program=program,
        ship_by_from=_utc(ship_by_from),
        ship_by_to=_utc(ship_by_to),
    )
    by_ship_by = sort == SORT_SHIP_BY
    start = page_start(
        next_token,
        SHIP_BY_TOKEN_KEYS if by_ship_by else TOKEN_KEYS,
        ("awaiting_merchant" if by_ship_by else "merchant_id", merchant),
        "order list",
    )
    page = list_orders(merchant, filters, limit, start, sort or SORT_PURCHASE)
    now = utcnow()
    return {
        "orders": [order_view(o, now) for o in page.orders],
        "next_token": encode_token(page.next_key),
    }


@router.get("/orders/<id>", summary="One order, with the buyer's address for the merchant who owns it")
def order(order_id: OrderId) -> dict[str, Any]:
    merchant = merchant_id(router)
    store_id, amazon_order_id = order_id
    found = get_order(store_id, amazon_order_id)
    if found is None or found.merchant_id != merchant:
        raise NotFound(f"id: no order {str(order_id)!r}", "id")
    bind_store(store_id, merchant)
    view = order_view(found)
    view["address"] = None
    address = get_address(store_id, amazon_order_id) if found.has_address else None
    closed_at = found.closed_at or (found.shipped_at if found.status in CLOSED_STATUSES else None)
    if address is not None and not buyer_data_visible(address.expires_at, closed_at, utcnow()):
        address = None  # expired: DynamoDB's TTL has not swept it yet, but it is gone for everyone
    gifts: dict[str, Any] = {}
    if address is not None and address.merchant_id == merchant:
        cipher = api_services().cipher
        text = cipher.decrypt(address.address_encrypted, address_context(store_id, amazon_order_id))
        view["address"] = json.loads(text)
        if address.gift_options_encrypted:
            gifts = json.loads(
                cipher.decrypt(address.gift_options_encrypted, gift_context(store_id, amazon_order_id))
            )
    for item in view["items"]:
        gift = gifts.get(item["order_item_id"]) or {}
        item["gift_message"] = gift.get("message")
        item["gift_wrap_level"] = gift.get("wrap_level")
    stored = find_orders(store_id, [a["amazon_order_id"] for a in view["associated_orders"]])
    for associated in view["associated_orders"]:  # linked to the original when storesync holds it
        found_one = stored.get(associated["amazon_order_id"])
        associated["id"] = api_order_id(store_id, found_one.amazon_order_id) if found_one else None
    return view


class UnknownSku(BaseModel):
    """A SKU the WMS does not know (no listing, product or stock) and the orders on hold waiting for it."""

    sku: str
    orders: list[str] = Field(description='the waiting orders\' ids ("<store_id>.<amazon order id>")')
    units: int = Field(description="units of the SKU those orders wait for (ordered, not shipped)")


class UnknownSkus(BaseModel):
    """A store's unknown SKUs, by SKU. An import that brings a SKU lifts the hold of the orders waiting for it
    (the next order run at the latest)."""

    store_id: str
    skus: list[UnknownSku]


@router.get(
    "/stores/<store_id>/unknown-skus",
    summary="The SKUs a store's orders wait for (unknown-SKU hold) and the orders waiting for each",
)
def unknown_skus(store_id: StoreId) -> UnknownSkus:
    store = merchant_store(router, store_id)
    bind_store(store.store_id, store.merchant_id)
    waiting = unknown_skus_waiting(store.store_id)
    return UnknownSkus(
        store_id=store.store_id,
        skus=[UnknownSku(sku=w.sku, orders=list(w.orders), units=w.units) for w in waiting],
    )
