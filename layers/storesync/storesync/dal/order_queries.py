"""The repository of orders: reading them, their addresses and what the import needs to know about SKUs and
shipments; building and changing the stored order from the domain's values (an Amazon order, a decision, an
allocation plan) for the writers, which commit it through the stock ledger."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pynamodb.exceptions import UpdateError

from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.orders import Allocation, Order, OrderAddress, OrderItem
from storesync.dal.products import Listing, Product
from storesync.dal.shipments import Shipment
from storesync.dal.stock_ledger import StockCommit
from storesync.dal.stores import Store
from storesync.domain.allocation import LinePlan
from storesync.domain.orders import (
    AmazonOrder,
    Hold,
    OrderDecision,
    OrderLine,
    OrderSnapshot,
    OrderStatus,
    amazon_close_time,
    buyer_data_expiry,
)
from storesync.domain.reconciliation import HeldOrder, units_of

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


def held_orders(store_id: str, amazon_order_ids: Iterable[str]) -> dict[str, HeldOrder]:
    """What the store holds of these orders, for the order reconciliation (BatchGetItem, consistent reads, 100
    keys a request); orders the store does not hold are absent."""
    keys = [(store_id, order_id) for order_id in dict.fromkeys(amazon_order_ids)]
    held: dict[str, HeldOrder] = {}
    for order in Order.batch_get(keys, consistent_read=True):
        held[order.amazon_order_id] = HeldOrder(
            order_id=order.amazon_order_id,
            amazon_status=order.amazon_status,
            amazon_last_updated=order.amazon_last_updated,
            units=units_of((i.sku, int(i.quantity)) for i in order.items or []),
        )
    return held


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


def orders_on_unknown_sku_hold(store_id: str) -> Iterator[Order]:
    """The store's orders on the unknown-SKU hold, oldest purchase first: one query of a sparse index (only
    those orders are in it). Eventually consistent: a writer reads the order again (`get_order`)."""
    return iter(Order.by_unknown_sku.query(store_id))


def skus_waited_for(order: Order) -> list[str]:
    """The SKUs an order on the unknown-SKU hold waits for (an order stored before they were recorded: all
    of its SKUs)."""
    return sorted(set(order.unknown_skus or []) or {item.sku for item in order.items or []})


@dataclass(frozen=True)
class WaitingSku:
    """One SKU the WMS does not know, the orders on the unknown-SKU hold that wait for it (API ids, oldest
    purchase first) and the units they ordered of it (not shipped yet)."""

    sku: str
    orders: tuple[str, ...]
    units: int


def unknown_skus_waiting(store_id: str) -> list[WaitingSku]:
    """The store's unknown SKUs with the orders waiting for them, by SKU (one query of the sparse index)."""
    orders: dict[str, list[str]] = {}
    units: dict[str, int] = {}
    for order in orders_on_unknown_sku_hold(store_id):
        waited = set(skus_waited_for(order))
        order_id = api_order_id(order.store_id, order.amazon_order_id)
        for item in order.items or []:
            if item.sku not in waited:
                continue
            if order_id not in orders.setdefault(item.sku, []):
                orders[item.sku].append(order_id)
            units[item.sku] = units.get(item.sku, 0) + max(
                0, int(item.quantity) - int(item.quantity_shipped or 0)
            )
    return [WaitingSku(sku, tuple(orders[sku]), units[sku]) for sku in sorted(orders)]


def open_demand(item: OrderItem) -> int:
    """Units of a line that still need stock: ordered, less shipped, less what is allocated already."""
    held = sum(int(a.quantity) for a in item.allocations or [])
    return max(0, int(item.quantity) - int(item.quantity_shipped or 0) - held)


def order_import_times(store_id: str) -> Iterator[datetime]:
    """When each order of the store was imported (created_at), in no particular order."""
    return (order.created_at for order in Order.query(store_id, attributes_to_get=["created_at"]))


# building and changing stored orders ----------------------------------------------------------------------------
class ItemLine(Protocol):
    """The fields of an order line: an Amazon order's item, or a stored order item being copied."""

    @property
    def order_item_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> float: ...
    @property
    def quantity_shipped(self) -> float: ...
    @property
    def price(self) -> str | None: ...
    @property
    def currency(self) -> str | None: ...


def allocation_records(allocations: Iterable[tuple[str, int]]) -> list[Allocation]:
    """An item's allocations as stored, from (warehouse id, units) pairs."""
    return [Allocation(warehouse_id=w, quantity=q) for w, q in allocations]


def order_item(
    line: ItemLine,
    allocations: Iterable[tuple[str, int]] = (),
    backorder: int = 0,
    quantity_shipped: float | None = None,
) -> OrderItem:
    """A stored order item with the line's fields, its allocations ((warehouse id, units)) and its backorder;
    `quantity_shipped` replaces the line's when given."""
    return OrderItem(
        order_item_id=line.order_item_id,
        sku=line.sku,
        quantity=line.quantity,
        quantity_shipped=line.quantity_shipped if quantity_shipped is None else quantity_shipped,
        price=line.price,
        currency=line.currency,
        allocations=allocation_records(allocations),
        backorder=backorder,
    )


def new_order(store: Store, incoming: AmazonOrder, now: datetime) -> Order:
    """The stored order of an Amazon order seen for the first time (unsaved: the writer commits it)."""
    return Order(
        store.store_id,
        incoming.order_id,
        merchant_id=store.merchant_id,
        marketplace_id=incoming.marketplace_id,
        purchase_key=f"{incoming.created}#{incoming.order_id}",
        purchase_date=incoming.created,
        channel=incoming.channel,
        items=[order_item(i) for i in incoming.items],
        created_at=now,
    )


def apply_holds(order: Order, decision: OrderDecision, now: datetime) -> None:
    """The order takes the decision's status and holds; on the unknown-SKU hold it records the SKUs it waits
    for (when the decision names them) and joins the sparse index, off it it leaves both."""
    order.status = decision.status
    order.holds = list(decision.holds)
    order.automation_blocked = decision.automation_blocked
    if Hold.UNKNOWN_SKU in decision.holds:
        if decision.unknown_skus:
            order.unknown_skus = list(decision.unknown_skus)
        order.unknown_sku_store = order.store_id
    else:
        order.unknown_skus = None
        order.unknown_sku_store = None
    order.updated_at = now


def apply_decision(order: Order, incoming: AmazonOrder, decision: OrderDecision, now: datetime) -> None:
    """The order takes the decision's status and holds and Amazon's latest facts (units shipped never drop);
    when it closes, Amazon's close time (`closed_at`, from which its buyer data expires)."""
    apply_holds(order, decision, now)
    order.amazon_status = incoming.status
    order.amazon_last_updated = incoming.last_updated
    order.ship_by = incoming.ship_by or order.ship_by
    order.deliver_by = incoming.deliver_by or order.deliver_by
    shipped = {i.order_item_id: i.quantity_shipped for i in incoming.items}
    for item in order.items:
        item.quantity_shipped = max(int(item.quantity_shipped or 0), shipped.get(item.order_item_id, 0))
    if decision.ships:
        order.shipped_at = now
    if decision.closes:
        order.closed_at = amazon_close_time(incoming)


def buyer_data_expires_at(order: Order, incoming: AmazonOrder, decision: OrderDecision) -> datetime | None:
    """When the order's buyer address expires, for a decision that expires it (None: it does not): 30 days after
    Amazon's close time recorded on the order (`apply_decision`); a closed order stored before that time was
    recorded counts from storesync's shipped_at, else from Amazon's time in this answer."""
    if not decision.expire_buyer_data:
        return None
    return buyer_data_expiry(order.closed_at or order.shipped_at or amazon_close_time(incoming))


def allocate(order: Order, plans: Sequence[LinePlan]) -> None:
    """Each item takes its plan's allocations and backorder (one plan per item, in the items' order)."""
    for item, plan in zip(order.items, plans, strict=True):
        item.allocations = allocation_records(plan.allocations)
        item.backorder = plan.backorder


def allocate_more(order: Order, plans: Sequence[LinePlan], skus: Iterable[str]) -> None:
    """The items of those SKUs add their plan's allocations and take its backorder (one plan per item, in the
    items' order, planned for `open_demand`); the other items keep theirs."""
    wanted = set(skus)
    for item, plan in zip(order.items, plans, strict=True):
        if item.sku in wanted:
            item.allocations = [*(item.allocations or []), *allocation_records(plan.allocations)]
            item.backorder = plan.backorder


def release_allocations(order: Order, *, removed_externally: bool = False) -> None:
    """No item holds stock any more (released, or removed for a fulfilment outside the WMS)."""
    if removed_externally:
        order.stock_removed_externally = True
    for item in order.items:
        item.allocations = []
        item.backorder = 0


def addresses_without_expiry() -> Iterator[OrderAddress]:
    """Every address row with no expiry: a scan of the whole table, for the one-off backfill only
    (storesync.usecases.buyer_data_backfill), never on a request path."""
    return iter(OrderAddress.scan(OrderAddress.expires_at.does_not_exist()))


def set_address_expiry(address: OrderAddress, expires_at: datetime) -> bool:
    """Give a stored address its expiry unless it has one by now (False: it had, or it is gone)."""
    try:
        address.update(
            actions=[OrderAddress.expires_at.set(expires_at)],
            condition=OrderAddress.store_id.exists() & OrderAddress.expires_at.does_not_exist(),
        )
    except UpdateError:
        return False
    return True


def save_address(commit: StockCommit, order: Order, encrypted: bytes, expires_at: datetime | None) -> None:
    """The buyer's encrypted address, written in the order's commit (the order then records it has one)."""
    commit.save(
        OrderAddress(
            order.store_id,
            order.amazon_order_id,
            merchant_id=order.merchant_id,
            address_encrypted=encrypted,
            expires_at=expires_at,
        )
    )
    order.has_address = True
