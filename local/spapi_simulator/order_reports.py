"""The order reports of Reports API 2021-06-30, served from the world's orders (reports_api.py serves them).

- GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL: every order of the seller in the report's marketplace
  whose lastUpdatedTime is within [dataStartTime, dataEndTime];
- GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL: the same by createdTime (one more column, `cpf`).

The columns are those of Amazon's documentation ("Order Tracking reports attributes"), tab separated with a
header row, one row per order item, oldest first. No buyer data: no name, street or phone (only city, state,
postal code and country, once the order is released). dataStartTime defaults to 30 days before dataEndTime,
which defaults to the time the report is created. The orders are chosen when the report finishes processing
(`report_seconds` after it is created, on the simulator clock); their rows are written when the document is
downloaded, from the orders as they are then.

Values: dates `2026-07-10T10:00:00+00:00`; order-status Pending | Unshipped | PartiallyShipped | Shipped |
Cancelled | Unfulfillable; fulfillment-channel Amazon | Merchant; item-status Unshipped | Shipped | Cancelled;
quantity the units ordered; item-price the line's price (unit price x quantity).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from .clock import date_time_field
from .documents import tab_separated_chunks
from .errors import sp_error
from .generator import delivery_address
from .sellers import MARKETPLACES
from .world import CANCELLED, PENDING, Order, World

BY_LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
BY_ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
ORDER_REPORTS = (BY_LAST_UPDATE, BY_ORDER_DATE)
DEFAULT_SPAN = 30 * 86400.0
CHUNK_ORDERS = 500

_COMMON = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids",
)  # fmt: skip
COLUMNS = {
    BY_LAST_UPDATE: (*_COMMON, "is-business-order", "purchase-order-number", "price-designation"),
    BY_ORDER_DATE: (*_COMMON, "cpf", "is-business-order", "purchase-order-number", "price-designation"),
}
ORDER_STATUS = {
    "PENDING_AVAILABILITY": "Pending",
    PENDING: "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    CANCELLED: "Cancelled",
    "UNFULFILLABLE": "Unfulfillable",
}


def report_window(now: float, start: str | None, end: str | None) -> tuple[float, float]:
    """[dataStartTime, dataEndTime] in epoch seconds (defaults: the 30 days before now); 400 naming the field."""

    until = date_time_field("dataEndTime", end)
    until = now if until is None else min(until, now)
    since = date_time_field("dataStartTime", start)
    since = until - DEFAULT_SPAN if since is None else since
    if since > until:
        raise sp_error(400, "InvalidInput", "dataStartTime: must be before dataEndTime")
    return since, until


def select_orders(
    world: World, seller_id: str, marketplace_id: str, report_type: str, since: float, until: float
) -> list[str]:
    """The ids of the orders the report lists (by last update or by order date), oldest first."""
    by = "updated" if report_type == BY_LAST_UPDATE else "created"
    chosen: list[str] = []
    with world.lock:
        for order in world.orders.scan(seller_id, by, since):
            when = order.updated if by == "updated" else order.created
            if when > until:
                break
            if order.marketplace_id == marketplace_id:
                chosen.append(order.order_id)
    return chosen


def _date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _item_status(order: Order, quantity: int, shipped: int) -> str:
    if order.status == CANCELLED:
        return "Cancelled"
    return "Shipped" if quantity and shipped >= quantity else "Unshipped"


def order_rows(order: Order, report_type: str) -> Iterator[list[str]]:
    """The report's rows of one order (one per item)."""
    market = MARKETPLACES[order.marketplace_id]
    place = ["", "", "", ""]
    if order.status not in (PENDING, "PENDING_AVAILABILITY", CANCELLED):
        address = delivery_address(order)  # only the parts the report shows: no name, street or phone
        place = [address.get(k, "") for k in ("city", "stateOrRegion", "postalCode", "countryCode")]
    for item in order.items:
        row = [
            order.order_id, "", _date(order.created), _date(order.updated), ORDER_STATUS[order.status],
            "Amazon" if order.fulfilled_by == "AMAZON" else "Merchant", market.name, "", "Standard", item.title,
            item.sku, item.asin, _item_status(order, item.quantity, item.shipped), str(item.quantity),
            order.currency, f"{item.unit_price * item.quantity:.2f}", "", "", "", "", "", "", "", *place, "",
        ]  # fmt: skip
        if report_type == BY_ORDER_DATE:
            row.append("")  # cpf
        row += ["false", "", ""]
        yield row


def flat_file_chunks(world: World, report_type: str, order_ids: Iterable[str]) -> Iterator[bytes]:
    """The flat file in UTF-8 chunks of CHUNK_ORDERS orders (header row first), written from the orders as they
    are now (an order the world no longer holds is left out)."""

    def batches() -> Iterator[list[list[str]]]:
        for batch in itertools.batched(order_ids, CHUNK_ORDERS):
            orders = [world.orders.by_id.get(order_id) for order_id in batch]
            yield [row for order in orders if order is not None for row in order_rows(order, report_type)]

    return tab_separated_chunks(COLUMNS[report_type], batches())
