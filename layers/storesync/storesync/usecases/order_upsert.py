"""Store one Amazon order in the WMS: the single upsert that polling and ORDER_CHANGE notifications share.

Read the stored order, decide (storesync.domain.orders), plan the stock effect (storesync.domain.allocation)
and write the order, its encrypted address and every stock move in ONE DynamoDB transaction with optimistic
conditions (storesync.dal.stock_ledger). The address of an order that closes (or of one stored closed) gets its
expiry in that transaction: 30 days after Amazon's ship or cancel time (storesync.domain.orders.amazon_close_time);
an FBA order's address is never stored. A concurrent writer makes the transaction fail; we then read and decide
again, so a replayed or duplicated order can never allocate or remove stock twice. The buyer's address is
never logged.

`release_unknown_sku_holds` re-evaluates the store's orders on the unknown-SKU hold (every order run, and a
product import with the SKUs it stored): once the SKUs an order waits for are known, the hold lifts and the
order allocates those lines through the same kind of transaction, so the reserved units count in the next
stock push (available = on hand - allocated).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from storesync.clock import utcnow
from storesync.crypto import Cipher
from storesync.dal import order_queries, outbox
from storesync.dal.orders import Order, expire_address
from storesync.dal.stock_ledger import StockCommit, keys_for, retry_on_conflict
from storesync.dal.stores import Store
from storesync.dal.warehouses import feeding_warehouses
from storesync.domain.allocation import (
    DemandLine,
    StockDelta,
    allocation_deltas,
    plan_allocation,
    release_deltas,
    removal_deltas,
)
from storesync.domain.events import Event, EventPublisher, order_transition_events
from storesync.domain.orders import (
    CHANNEL_FBM,
    IGNORE,
    AmazonOrder,
    Hold,
    ImportRules,
    OrderDecision,
    OrderStatus,
    decide,
    skus_known,
)
from storesync.observability import logger
from storesync.queues import JobQueue
from storesync.usecases.event_relay import deliver
from storesync.usecases.stock_watch import after_stock_change


@dataclass
class UpsertResult:
    order_id: str
    action: str  # create | update | ignore
    reason: str
    status: OrderStatus | None = None
    backordered: int = 0
    unknown_skus: tuple[str, ...] = ()
    stock_moves: list[StockDelta] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # what the committed change tells a WMS (published)


class Upserter(Protocol):
    """What polling and notifications need: store one Amazon order (OrderUpserter; fakes in benchmarks)."""

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult: ...


def import_rules(store: Store) -> ImportRules:
    settings = store.settings
    return ImportRules(
        download_orders=bool(settings.download_products_and_orders),
        import_pending=bool(settings.import_pending_orders),
        remove_stock_for_external=bool(settings.remove_stock_for_external_fulfillments),
    )


class OrderUpserter:
    def __init__(self, cipher: Cipher, queue: JobQueue, events: EventPublisher | None = None) -> None:
        self._cipher = cipher
        self._queue = queue
        self._events = events  # None: no events (tools, benchmarks), and no outbox rows

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        if incoming.marketplace_id != store.marketplace_id:
            return UpsertResult(incoming.order_id, IGNORE, "another marketplace's order")
        encrypted: list[bytes | None] = []  # encrypt at most once, even across conflict retries

        def attempt() -> UpsertResult:
            return self._attempt(store, incoming, encrypted)

        result = retry_on_conflict(attempt)
        if self._events is not None:  # after the commit; refused: the relay sends them
            deliver(self._events, result.events)
        if result.stock_moves:
            after_stock_change(store.merchant_id, sorted({d.sku for d in result.stock_moves}), self._queue)
        return result

    def _attempt(self, store: Store, incoming: AmazonOrder, encrypted: list[bytes | None]) -> UpsertResult:
        existing = order_queries.get_order(store.store_id, incoming.order_id)
        warehouses = feeding_warehouses(store)
        unknown: list[str] = []
        if existing is None:
            skus = {item.sku for item in incoming.items}
            known = order_queries.known_skus(store.merchant_id, store.store_id, skus, warehouses)
            unknown = sorted(skus - known)
            shipment = False
        else:
            shipment = order_queries.has_wms_shipment(store.store_id, incoming.order_id)
        before = None if existing is None else order_queries.snapshot(existing, shipment)
        decision = decide(
            before,
            incoming,
            import_rules(store),
            unknown,
        )
        if decision.action == IGNORE:
            return UpsertResult(incoming.order_id, IGNORE, decision.reason)
        now = utcnow()
        order = order_queries.new_order(store, incoming, now) if existing is None else existing
        order_queries.apply_decision(order, incoming, decision, now)
        version = 0 if existing is None else int(existing.version or 0)
        tx = StockCommit(store.merchant_id, f"order {store.store_id}.{incoming.order_id} v{version}")
        backordered = self._plan_stock(tx, store, order, decision, warehouses)
        address = self._encrypted_address(store, incoming, decision, encrypted)
        expires_at = order_queries.buyer_data_expires_at(order, incoming, decision)
        if address is not None:
            order_queries.save_address(tx, order, address, expires_at, gift_options=encrypted[1])
        elif expires_at is not None and order.has_address:
            expire_address(tx, store.store_id, incoming.order_id, expires_at)
        tx.save(order)
        events = order_transition_events(
            store.merchant_id,
            store.store_id,
            before,  # read before the decision was applied (the same object is written)
            order_queries.snapshot(order, shipment),
            version + 1,
            now,
        )
        if self._events is not None:  # the outbox rows commit with the change they report
            outbox.stage(tx, events, tx.now)
        moves = tx.commit()
        logger.info(
            "order stored",
            extra={
                "amazon_order_id": incoming.order_id,
                "action": decision.action,
                "status": decision.status,
                "stock_moves": len(moves),
            },
        )
        return UpsertResult(
            incoming.order_id,
            decision.action,
            decision.reason,
            decision.status,
            backordered,
            decision.unknown_skus,
            moves,
            events,
        )

    @staticmethod
    def _plan_stock(
        tx: StockCommit, store: Store, order: Order, decision: OrderDecision, warehouses: list[str]
    ) -> int:
        """Put the decision's stock effect into the transaction and onto the order; returns units backordered."""
        if order.channel != CHANNEL_FBM:
            return 0
        skus = [item.sku for item in order.items]
        if decision.allocate and decision.allocate_skus:  # the SKUs it waited for are known
            wanted = set(decision.allocate_skus)
            stock = tx.read_stock(keys_for(warehouses, wanted))
            lines = [
                DemandLine(i.sku, order_queries.open_demand(i) if i.sku in wanted else 0) for i in order.items
            ]
            plans = plan_allocation(lines, stock, warehouses)
            order_queries.allocate_more(order, plans, wanted)
            tx.move(allocation_deltas(plans))
            return sum(p.backorder for p, i in zip(plans, order.items, strict=True) if i.sku in wanted)
        if decision.allocate:
            stock = tx.read_stock(keys_for(warehouses, skus))
            unknown = set(decision.unknown_skus)
            lines = [
                DemandLine(
                    i.sku, max(0, int(i.quantity) - int(i.quantity_shipped or 0)), i.sku not in unknown
                )
                for i in order.items
            ]
            plans = plan_allocation(lines, stock, warehouses)
            order_queries.allocate(order, plans)
            tx.move(allocation_deltas(plans))
            return sum(p.backorder for p in plans)
        held = [(i.sku, a.warehouse_id, int(a.quantity)) for i in order.items for a in (i.allocations or [])]
        if decision.remove_stock:
            allocation_keys = [(w, sku) for sku, w, _ in held]
            stock = tx.read_stock([*keys_for(warehouses, skus), *allocation_keys])
            removals = [
                (i.sku, int(i.quantity), [(a.warehouse_id, int(a.quantity)) for a in (i.allocations or [])])
                for i in order.items
            ]
            tx.move(removal_deltas(removals, stock, warehouses))
            order_queries.release_allocations(order, removed_externally=True)
        elif decision.release_allocation:
            if held:
                tx.read_stock([(w, sku) for sku, w, _ in held])
                tx.move(release_deltas(held))
            order_queries.release_allocations(order)
        return 0

    def _encrypted_address(
        self, store: Store, incoming: AmazonOrder, decision: OrderDecision, encrypted: list[bytes | None]
    ) -> bytes | None:
        """The buyer's address to store, encrypted (None: the decision stores none, or Amazon sent none); the
        items' gift options (message, wrap level: buyer data too) are encrypted with it into `encrypted[1]`."""
        if not decision.store_address or incoming.address is None:
            return None
        if not encrypted:
            context = order_queries.address_context(store.store_id, incoming.order_id)
            encrypted.append(
                self._cipher.encrypt(json.dumps(dict(incoming.address), sort_keys=True), context)
            )
            gifts = {
                item_id: {"message": gift.message, "wrap_level": gift.wrap_level}
                for item_id, gift in incoming.gift_options.items()
            }
            gift_context = order_queries.gift_context(store.store_id, incoming.order_id)
            encrypted.append(
                self._cipher.encrypt(json.dumps(gifts, sort_keys=True), gift_context) if gifts else None
            )
        return encrypted[0]


@dataclass
class HoldRelease:
    """What one re-evaluation of the unknown-SKU holds did."""

    checked: int = 0  # orders on the hold looked at
    released: list[str] = field(default_factory=list)  # Amazon order ids whose hold lifted
    narrowed: int = 0  # orders still waiting, for fewer SKUs
    units_allocated: int = 0
    units_backordered: int = 0
    failed: dict[str, str] = field(
        default_factory=dict
    )  # Amazon order id -> error type (tried again next run)


def release_unknown_sku_holds(
    store: Store,
    skus: Iterable[str] | None = None,
    queue: JobQueue | None = None,
    events: EventPublisher | None = None,
) -> HoldRelease:
    """Re-evaluate the store's orders on the unknown-SKU hold (`skus`: only those waiting for one of them, e.g.
    the SKUs a product import just stored; None: all of them, as every order run does). An order whose SKUs
    are all known now loses the hold and allocates the lines that waited (storesync.domain.orders.skus_known),
    in one stock-ledger transaction with the order (a conflict reads and decides again, so it never allocates
    twice). With a `queue`, stock-outs it causes go to the stock-out watch; without one (the product import
    cannot send to the inventory queue) the next scheduled push sends them. One order failing never blocks the
    others: it stays on the hold and is tried again next time."""
    outcome = HoldRelease()
    waiting = list(order_queries.orders_on_unknown_sku_hold(store.store_id))
    if skus is not None:
        wanted = set(skus)
        waiting = [o for o in waiting if wanted & set(order_queries.skus_waited_for(o))]
    if not waiting:
        return outcome
    warehouses = feeding_warehouses(store)
    every_sku = {sku for order in waiting for sku in order_queries.skus_waited_for(order)}
    known = order_queries.known_skus(store.merchant_id, store.store_id, every_sku, warehouses)
    moved: set[str] = set()
    for listed in waiting:
        outcome.checked += 1
        order_id = listed.amazon_order_id
        try:
            result = retry_on_conflict(
                partial(_reevaluate, store, order_id, known, warehouses, staged=events is not None)
            )
        except Exception as exc:  # one order never blocks the others: it stays held, tried again next time
            logger.exception("unknown-SKU hold not re-evaluated", extra={"amazon_order_id": order_id})
            outcome.failed[order_id] = type(exc).__name__
            continue
        if result is None:
            continue
        if events is not None:  # after the commit; refused: the relay sends them
            deliver(events, result.events)
        if Hold.UNKNOWN_SKU in result.holds:
            outcome.narrowed += 1
            continue
        outcome.released.append(order_id)
        outcome.units_allocated += sum(d.allocated for d in result.stock_moves)
        outcome.units_backordered += result.backordered
        moved.update(d.sku for d in result.stock_moves)
    if moved and queue is not None:
        after_stock_change(store.merchant_id, sorted(moved), queue)
    if outcome.released or outcome.failed:
        logger.info(
            "unknown-SKU holds re-evaluated",
            extra={
                "checked": outcome.checked,
                "released": len(outcome.released),
                "failed": len(outcome.failed),
            },
        )
    return outcome


@dataclass
class _Reevaluated:
    holds: tuple[Hold, ...]
    backordered: int
    stock_moves: list[StockDelta]
    events: list[Event] = field(default_factory=list)


def _reevaluate(
    store: Store, amazon_order_id: str, known: set[str], warehouses: list[str], staged: bool = False
) -> _Reevaluated | None:
    """One order on the hold, read again and decided (None: nothing to write); `staged`: its events' outbox
    rows commit with it."""
    order = order_queries.get_order(store.store_id, amazon_order_id)
    if order is None:
        return None
    waited = order_queries.skus_waited_for(order)
    before = order_queries.snapshot(order, has_wms_shipment=False)  # the transition does not look at it
    version = int(order.version or 0)
    decision = skus_known(
        before,
        list(order.unknown_skus or []),
        [sku for sku in waited if sku not in known],
    )
    if decision.action == IGNORE:
        return None
    order_queries.apply_holds(order, decision, utcnow())
    tx = StockCommit(
        store.merchant_id, f"order {store.store_id}.{amazon_order_id} v{int(order.version or 0)} skus known"
    )
    backordered = OrderUpserter._plan_stock(tx, store, order, decision, warehouses)
    tx.save(order)
    after = order_queries.snapshot(order, has_wms_shipment=False)
    events = order_transition_events(store.merchant_id, store.store_id, before, after, version + 1, tx.now)
    if staged:
        outbox.stage(tx, events, tx.now)
    moves = tx.commit()
    logger.info(
        "unknown-SKU hold re-evaluated",
        extra={"amazon_order_id": amazon_order_id, "reason": decision.reason, "stock_moves": len(moves)},
    )
    return _Reevaluated(decision.holds, backordered, moves, events)
