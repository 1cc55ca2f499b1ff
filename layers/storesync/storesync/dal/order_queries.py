"""The queries on orders, their addresses and what the import needs to know about SKUs and shipments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.orders import Order, OrderAddress
from storesync.dal.products import Listing, Product
from storesync.dal.shipments import Shipment
from storesync.domain.orders import Hold, OrderLine, OrderSnapshot, OrderStatus

ADDRESS_PURPOSE = "buyer_address"
API_ID_SEPARATOR = "."


def address_context(store_id: str, amazon_order_id: str) -> dict[str, str]:
    """KMS encryption context of a buyer address: bound to its store and order."""
    return {"store_id": store_id, "amazon_order_id": amazon_order_id, "purpose": ADDRESS_PURPOSE}


def api_order_id(store_id: str, amazon_order_id: str) -> str:
    return f"{store_id}{API_ID_SEPARATOR}{amazon_order_id}"


def split_api_order_id(order_id: str) -> tuple[str, str] | None:
    """ "<store_id>.<amazon order id>" -> (store_id, amazon order id); None when malformed."""
    store_id, sep, amazon_id = order_id.rpartition(API_ID_SEPARATOR)
    if not sep or not store_id or not amazon_id:
        return None
    return store_id, amazon_id


def get_order(store_id: str, amazon_order_id: str) -> Order | None:
    """The one way to read an order (consistent: every writer decides on what it reads here)."""
    try:
        return Order.get(store_id, amazon_order_id, consistent_read=True)
    except Order.DoesNotExist:
        return None


def get_address(store_id: str, amazon_order_id: str) -> OrderAddress | None:
    try:
        return OrderAddress.get(store_id, amazon_order_id, consistent_read=True)
    except OrderAddress.DoesNotExist:
        return None


def has_wms_shipment(store_id: str, amazon_order_id: str) -> bool:
    return any(True for _ in Shipment.query(f"{store_id}#{amazon_order_id}", limit=1))


def snapshot(order: Order, has_wms_shipment: bool) -> OrderSnapshot:
    """A stored order as the domain reads it (the order state machine and the shipment rules)."""
    return OrderSnapshot(
        amazon_order_id=order.amazon_order_id,
        marketplace_id=order.marketplace_id,
        channel=order.channel,
        status=OrderStatus(order.status),
        amazon_status=order.amazon_status,
        amazon_last_updated=order.amazon_last_updated,
        holds=tuple(Hold(hold) for hold in order.holds or ()),
        lines=tuple(
            OrderLine(i.order_item_id, i.sku, int(i.quantity), int(i.quantity_shipped or 0))
            for i in order.items or []
        ),
        has_address=bool(order.has_address),
        stock_removed_externally=bool(order.stock_removed_externally),
        has_wms_shipment=has_wms_shipment,
    )


def known_skus(merchant_id: str, store_id: str, skus: Iterable[str], warehouses: Iterable[str]) -> set[str]:
    """The SKUs the system knows: listed in the store, a product of the merchant, or stocked in a warehouse."""
    wanted = set(skus)
    known: set[str] = set()
    if not wanted:
        return known
    known.update(item.sku for item in Listing.batch_get([(store_id, sku) for sku in sorted(wanted)]))
    rest = sorted(wanted - known)
    if rest:
        known.update(item.sku for item in Product.batch_get([(merchant_id, sku) for sku in rest]))
    rest = sorted(wanted - known)
    if rest:
        keys = [(warehouse_key(merchant_id, w), sku) for w in warehouses for sku in rest]
        known.update(item.sku for item in InventoryItem.batch_get(keys))
    return known


@dataclass(frozen=True)
class OrderFilters:
    store_id: str | None = None
    status: str | None = None
    hold: str | None = None
    channel: str | None = None


@dataclass
class OrderPage:
    orders: list[Order]
    next_key: dict[str, Any] | None


def list_orders(
    merchant_id: str, filters: OrderFilters, limit: int, start_key: dict[str, Any] | None = None
) -> OrderPage:
    """The merchant's orders, newest purchase first, filtered, one page at a time."""
    condition: Any = None
    for part in (
        Order.store_id == filters.store_id if filters.store_id else None,
        Order.status == filters.status if filters.status else None,
        Order.holds.contains(filters.hold) if filters.hold else None,
        Order.channel == filters.channel if filters.channel else None,
    ):
        if part is not None:
            condition = part if condition is None else condition & part
    results = Order.by_merchant.query(
        merchant_id,
        filter_condition=condition,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=start_key,
    )
    orders = list(results)
    next_key = results.last_evaluated_key if len(orders) >= limit else None
    return OrderPage(orders, next_key)


def order_import_times(store_id: str) -> Iterator[datetime]:
    """When each order of the store was imported (created_at), in no particular order."""
    return (order.created_at for order in Order.query(store_id, attributes_to_get=["created_at"]))
