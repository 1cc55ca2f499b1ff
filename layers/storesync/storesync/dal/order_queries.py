"""The repository of orders: reading them, their addresses and what the import needs to know about SKUs and
shipments; building and changing the stored order from the domain's values (an Amazon order, a decision, an
allocation plan) for the writers, which commit it through the stock ledger."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pynamodb.exceptions import UpdateError

from storesync.clock import iso, parse_iso
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.orders import Allocation, AssociatedOrderRef, Order, OrderAddress, OrderItem
from storesync.dal.products import Listing, Product
from storesync.dal.shipments import Shipment
from storesync.dal.stock_ledger import StockCommit
from storesync.dal.stores import Store
from storesync.domain.allocation import LinePlan
from storesync.domain.orders import (
    AT_RISK,
    LATE,
    REPORT_ITEM_PREFIX,
    AmazonItem,
    AmazonOrder,
    Hold,
    OrderDecision,
    OrderLine,
    OrderSnapshot,
    OrderStatus,
    amazon_close_time,
    awaiting_shipment,
    buyer_data_expiry,
    late_risk_threshold,
    late_shipment_risk,
)
from storesync.domain.reconciliation import HeldOrder, units_of

ADDRESS_PURPOSE = "buyer_address"
GIFT_PURPOSE = "gift_options"
API_ID_SEPARATOR = "."


def address_context(store_id: str, amazon_order_id: str) -> dict[str, str]:
    """KMS encryption context of a buyer address: bound to its store and order."""
    return {"store_id": store_id, "amazon_order_id": amazon_order_id, "purpose": ADDRESS_PURPOSE}


def gift_context(store_id: str, amazon_order_id: str) -> dict[str, str]:
    """KMS encryption context of an order's gift options (message and wrap level): bound to its store and order."""
    return {"store_id": store_id, "amazon_order_id": amazon_order_id, "purpose": GIFT_PURPOSE}


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
    program: str | None = None  # an order program (PRIME, AMAZON_BUSINESS, ...)
    ship_by_from: datetime | None = None  # the ship-by window ends at or after this
    ship_by_to: datetime | None = None  # ... and before this


@dataclass
class OrderPage:
    orders: list[Order]
    next_key: dict[str, Any] | None


SORT_PURCHASE = "purchase"  # newest purchase first: every order
SORT_SHIP_BY = "ship_by"  # earliest ship-by first: the merchant orders still to ship
ORDER_SORTS = (SORT_PURCHASE, SORT_SHIP_BY)


def ship_by_key(ship_by: str, store_id: str, amazon_order_id: str) -> str:
    """The awaiting-shipment index's sort key: the ship-by in one UTC format (sorts as text), then the order."""
    return f"{iso(parse_iso(ship_by))}#{store_id}#{amazon_order_id}"


def _filter_condition(filters: OrderFilters, *, by_ship_by_key: bool) -> Any:
    condition: Any = None
    ship_by_parts: tuple[Any, ...] = ()
    if not by_ship_by_key:  # the ship-by index bounds its key instead
        ship_by_parts = (
            Order.ship_by_key >= iso(filters.ship_by_from) if filters.ship_by_from else None,
            Order.ship_by_key < iso(filters.ship_by_to) if filters.ship_by_to else None,
        )
    for part in (
        Order.store_id == filters.store_id if filters.store_id else None,
        Order.status == filters.status if filters.status else None,
        Order.holds.contains(filters.hold) if filters.hold else None,
        Order.channel == filters.channel if filters.channel else None,
        Order.programs.contains(filters.program) if filters.program else None,
        *ship_by_parts,
    ):
        if part is not None:
            condition = part if condition is None else condition & part
    return condition


def list_orders(
    merchant_id: str,
    filters: OrderFilters,
    limit: int,
    start_key: dict[str, Any] | None = None,
    sort: str = SORT_PURCHASE,
) -> OrderPage:
    """The merchant's orders, filtered, one page at a time: newest purchase first, or (`sort` ship_by) the
    merchant orders still to ship, earliest ship-by first (one query of the sparse awaiting-shipment index)."""
    if sort == SORT_SHIP_BY:
        low, high = filters.ship_by_from, filters.ship_by_to
        key_condition: Any = None
        if low and high:
            key_condition = Order.ship_by_key.between(iso(low), iso(high))  # "<high>#..." > high: excluded
        elif low:
            key_condition = Order.ship_by_key >= iso(low)
        elif high:
            key_condition = Order.ship_by_key < iso(high)
        results = Order.awaiting_shipment.query(
            merchant_id,
            key_condition,
            filter_condition=_filter_condition(filters, by_ship_by_key=True),
            limit=limit,
            last_evaluated_key=start_key,
        )
    else:
        results = Order.by_merchant.query(
            merchant_id,
            filter_condition=_filter_condition(filters, by_ship_by_key=False),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key,
        )
    orders = list(results)
    next_key = results.last_evaluated_key if len(orders) >= limit else None
    return OrderPage(orders, next_key)


def orders_to_ship_before(merchant_id: str, before: datetime) -> Iterator[Order]:
    """The merchant's orders still to ship whose ship-by window ends before `before` (late or at risk), earliest
    first: one query of the sparse awaiting-shipment index, which holds only orders still to ship."""
    return iter(Order.awaiting_shipment.query(merchant_id, Order.ship_by_key < iso(before)))


def late_shipment_counts(merchant_id: str, now: datetime) -> dict[str, dict[str, int]]:
    """Per store of the merchant: how many orders to ship are late and at risk of shipping late
    (storesync.domain.orders.late_shipment_risk), from one query of the orders to ship before the margin."""
    counts: dict[str, dict[str, int]] = {}
    for order in orders_to_ship_before(merchant_id, late_risk_threshold(now)):
        risk = late_shipment_risk(order.channel, order.status, order.ship_by, now)
        if risk is not None:
            per_store = counts.setdefault(order.store_id, {LATE: 0, AT_RISK: 0})
            per_store[risk.level] += 1
    return counts


def find_orders(store_id: str, amazon_order_ids: Iterable[str]) -> dict[str, Order]:
    """The store's orders among these Amazon order ids (those it holds), by id."""
    ids = sorted(set(amazon_order_ids))
    if not ids:
        return {}
    return {o.amazon_order_id: o for o in Order.batch_get([(store_id, oid) for oid in ids])}


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
    item = OrderItem(
        order_item_id=line.order_item_id,
        sku=line.sku,
        quantity=line.quantity,
        quantity_shipped=line.quantity_shipped if quantity_shipped is None else quantity_shipped,
        price=line.price,
        currency=line.currency,
        allocations=allocation_records(allocations),
        backorder=backorder,
    )
    if isinstance(line, AmazonItem):
        apply_item_fields(item, line)
    elif isinstance(line, OrderItem):
        for name in ITEM_FIELDS:
            setattr(item, name, getattr(line, name))
    return item


ITEM_FIELDS = (
    "programs",
    "customized_url",
    "gift",
    "shipping_constraints",
    "cancellation_requester",
    "cancellation_reason",
)


def apply_item_fields(item: OrderItem, incoming: AmazonItem) -> None:
    """A stored item takes Amazon's fulfilment fields of the item (the gift option only as "there is one": its
    message and wrap level are buyer data, stored encrypted with the address)."""
    item.programs = list(incoming.programs) or None
    item.customized_url = incoming.customized_url
    item.gift = True if incoming.gift is not None else None
    item.shipping_constraints = list(incoming.shipping_constraints) or None
    request = incoming.cancellation_request
    item.cancellation_requester = request.requester if request else None
    item.cancellation_reason = request.reason if request else None


def apply_order_fields(order: Order, incoming: AmazonOrder) -> None:
    """The stored order takes Amazon's fulfilment fields (programs, service level, windows, the business buyer's
    company and purchase order number, associated orders; per item see `apply_item_fields`). A field Amazon
    leaves out of a later answer keeps what was stored (the windows, the buyer's company and PO number)."""
    order.programs = list(incoming.programs) or None
    order.service_level = incoming.service_level or order.service_level
    order.ship_by = incoming.ship_by or order.ship_by
    order.deliver_by = incoming.deliver_by or order.deliver_by
    order.ship_by_start = incoming.ship_by_start or order.ship_by_start
    order.deliver_by_start = incoming.deliver_by_start or order.deliver_by_start
    order.buyer_company = incoming.buyer_company or order.buyer_company
    order.buyer_po_number = incoming.buyer_po_number or order.buyer_po_number
    order.associated_orders = [
        AssociatedOrderRef(amazon_order_id=a.order_id, association_type=a.association_type)
        for a in incoming.associated_orders
    ] or None
    by_id = {i.order_item_id: i for i in incoming.items}
    for item in order.items:
        line = by_id.get(item.order_item_id)
        if line is not None:
            apply_item_fields(item, line)


def index_awaiting_shipment(order: Order) -> None:
    """The order's place in the awaiting-shipment index: there while it is a merchant order still to ship with a
    ship-by window (by ship-by), out of it otherwise."""
    order.ship_by_key = (
        ship_by_key(order.ship_by, order.store_id, order.amazon_order_id) if order.ship_by else None
    )
    awaiting = order.ship_by_key is not None and awaiting_shipment(order.channel, order.status)
    order.awaiting_merchant = order.merchant_id if awaiting else None


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
    if decision.buyer_cancel_reason:
        order.buyer_cancellation_reason = decision.buyer_cancel_reason
    index_awaiting_shipment(order)
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
    if decision.names_lines:
        name_report_lines(order, incoming)
    if not incoming.from_report:  # a report's row has no fulfilment fields: the stored ones stay
        apply_order_fields(order, incoming)
    apply_holds(order, decision, now)
    order.amazon_status = incoming.status
    order.amazon_last_updated = incoming.last_updated
    shipped = {i.order_item_id: i.quantity_shipped for i in incoming.items if not i.from_report}
    shipped_by_sku = Counter[str]()  # a report's row tells the units shipped per SKU
    for line in incoming.items:
        if line.from_report:
            shipped_by_sku[line.sku] += line.quantity_shipped
    for item in order.items:
        done = shipped.get(item.order_item_id, 0)
        if shipped_by_sku[item.sku] > 0:
            take = min(int(item.quantity), shipped_by_sku[item.sku])
            shipped_by_sku[item.sku] -= take
            done = max(done, take)
        item.quantity_shipped = max(int(item.quantity_shipped or 0), done)
    if decision.ships:
        order.shipped_at = now
    if decision.closes:
        order.closed_at = amazon_close_time(incoming)


def name_report_lines(order: Order, incoming: AmazonOrder) -> None:
    """The lines stored from an order report's row (named by SKU: domain.order_fields.report_item_id) become
    Amazon's items of that SKU (their ids, prices and fields), each once; units shipped never drop. A line whose
    SKU Amazon's answer lacks stays as it is. Such lines hold no stock (only FBA and closed orders are stored from
    a row), so no stock moves."""
    by_sku: dict[str, list[AmazonItem]] = {}
    for line in incoming.items:
        by_sku.setdefault(line.sku, []).append(line)
    items: list[OrderItem] = []
    for item in order.items:
        if not item.order_item_id.startswith(REPORT_ITEM_PREFIX) or item.sku not in by_sku:
            items.append(item)
            continue
        shipped = int(item.quantity_shipped or 0)
        for line in by_sku.pop(item.sku):
            take = min(int(line.quantity), shipped)
            shipped -= take
            items.append(order_item(line, quantity_shipped=max(line.quantity_shipped, take)))
    order.items = items


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


def save_address(
    commit: StockCommit,
    order: Order,
    encrypted: bytes,
    expires_at: datetime | None,
    gift_options: bytes | None = None,
) -> None:
    """The buyer's encrypted address (and the items' encrypted gift options), written in the order's commit
    (the order then records it has one)."""
    commit.save(
        OrderAddress(
            order.store_id,
            order.amazon_order_id,
            merchant_id=order.merchant_id,
            address_encrypted=encrypted,
            gift_options_encrypted=gift_options,
            expires_at=expires_at,
        )
    )
    order.has_address = True
