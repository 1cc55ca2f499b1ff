"""Store one Amazon order in the WMS: the single upsert that polling and ORDER_CHANGE notifications share.

Read the stored order, decide (storesync.domain.orders), plan the stock effect (storesync.domain.allocation)
and write the order, its encrypted address and every stock move in ONE DynamoDB transaction with optimistic
conditions (storesync.dal.stock_ledger). A concurrent writer makes the transaction fail; we then read and decide
again, so a replayed or duplicated order can never allocate or remove stock twice. The buyer's address is
never logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from storesync.clock import utcnow
from storesync.crypto import Cipher
from storesync.dal import order_queries
from storesync.dal.orders import Allocation, Order, OrderAddress, OrderItem
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
from storesync.domain.orders import (
    CHANNEL_FBM,
    CREATE,
    IGNORE,
    AmazonOrder,
    ImportRules,
    OrderDecision,
    decide,
)
from storesync.observability import logger
from storesync.queues import JobQueue
from storesync.usecases.stock_watch import after_stock_change

ADDRESS_RETENTION = timedelta(days=30)  # Amazon's Data Protection Policy: gone 30 days after shipment


@dataclass
class UpsertResult:
    order_id: str
    action: str  # create | update | ignore
    reason: str
    status: str = ""
    backordered: int = 0
    unknown_skus: tuple[str, ...] = ()
    stock_moves: list[StockDelta] = field(default_factory=list)


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
    def __init__(self, cipher: Cipher, queue: JobQueue) -> None:
        self._cipher = cipher
        self._queue = queue

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        if incoming.marketplace_id != store.marketplace_id:
            return UpsertResult(incoming.order_id, IGNORE, "another marketplace's order")
        encrypted: list[bytes] = []  # encrypt at most once, even across conflict retries

        def attempt() -> UpsertResult:
            return self._attempt(store, incoming, encrypted)

        result = retry_on_conflict(attempt)
        if result.stock_moves:
            after_stock_change(store.merchant_id, sorted({d.sku for d in result.stock_moves}), self._queue)
        return result

    def _attempt(self, store: Store, incoming: AmazonOrder, encrypted: list[bytes]) -> UpsertResult:
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
        decision = decide(
            None if existing is None else order_queries.snapshot(existing, shipment),
            incoming,
            import_rules(store),
            unknown,
        )
        if decision.action == IGNORE:
            return UpsertResult(incoming.order_id, IGNORE, decision.reason)
        now = utcnow()
        order = self._new_order(store, incoming, now) if existing is None else existing
        self._apply(order, incoming, decision, now)
        version = 0 if existing is None else int(existing.version or 0)
        tx = StockCommit(store.merchant_id, f"order {store.store_id}.{incoming.order_id} v{version}")
        backordered = self._plan_stock(tx, store, order, decision, warehouses)
        address = self._address(store, incoming, order, decision, encrypted, now)
        if address is not None:
            tx.save(address)
        elif decision.closes and order.has_address:
            tx.update(
                OrderAddress(store.store_id, incoming.order_id),
                actions=[OrderAddress.expires_at.set(now + ADDRESS_RETENTION)],
                condition=OrderAddress.store_id.exists(),
            )
        if address is not None:
            order.has_address = True
        tx.save(order)
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
        )

    @staticmethod
    def _new_order(store: Store, incoming: AmazonOrder, now: datetime) -> Order:
        return Order(
            store.store_id,
            incoming.order_id,
            merchant_id=store.merchant_id,
            marketplace_id=incoming.marketplace_id,
            purchase_key=f"{incoming.created}#{incoming.order_id}",
            purchase_date=incoming.created,
            channel=incoming.channel,
            items=[
                OrderItem(
                    order_item_id=i.order_item_id,
                    sku=i.sku,
                    quantity=i.quantity,
                    quantity_shipped=i.quantity_shipped,
                    price=i.price,
                    currency=i.currency,
                    allocations=[],
                    backorder=0,
                )
                for i in incoming.items
            ],
            created_at=now,
        )

    @staticmethod
    def _apply(order: Order, incoming: AmazonOrder, decision: OrderDecision, now: datetime) -> None:
        order.status = decision.status
        order.amazon_status = incoming.status
        order.holds = list(decision.holds)
        order.automation_blocked = decision.automation_blocked
        order.amazon_last_updated = incoming.last_updated
        order.ship_by = incoming.ship_by or order.ship_by
        order.deliver_by = incoming.deliver_by or order.deliver_by
        order.updated_at = now
        shipped = {i.order_item_id: i.quantity_shipped for i in incoming.items}
        for item in order.items:
            item.quantity_shipped = max(int(item.quantity_shipped or 0), shipped.get(item.order_item_id, 0))
        if decision.closes and decision.status != "cancelled" and order.shipped_at is None:
            order.shipped_at = now

    @staticmethod
    def _plan_stock(
        tx: StockCommit, store: Store, order: Order, decision: OrderDecision, warehouses: list[str]
    ) -> int:
        """Put the decision's stock effect into the transaction and onto the order; returns units backordered."""
        if order.channel != CHANNEL_FBM:
            return 0
        skus = [item.sku for item in order.items]
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
            for item, plan in zip(order.items, plans, strict=True):
                item.allocations = [Allocation(warehouse_id=w, quantity=q) for w, q in plan.allocations]
                item.backorder = plan.backorder
            tx.move(allocation_deltas(plans))
            return sum(p.backorder for p in plans)
        held = [(i.sku, a.warehouse_id, int(a.quantity)) for i in order.items for a in (i.allocations or [])]
        if decision.remove_stock:
            allocation_keys = [(w, sku) for sku, w, _ in held]
            stock = tx.read_stock([*keys_for(warehouses, skus), *allocation_keys])
            lines = [
                (i.sku, int(i.quantity), [(a.warehouse_id, int(a.quantity)) for a in (i.allocations or [])])
                for i in order.items
            ]
            tx.move(removal_deltas(lines, stock, warehouses))
            order.stock_removed_externally = True
        elif decision.release_allocation and held:
            tx.read_stock([(w, sku) for sku, w, _ in held])
            tx.move(release_deltas(held))
        if decision.remove_stock or decision.release_allocation:
            for item in order.items:
                item.allocations = []
                item.backorder = 0
        return 0

    def _address(
        self,
        store: Store,
        incoming: AmazonOrder,
        order: Order,
        decision: OrderDecision,
        encrypted: list[bytes],
        now: datetime,
    ) -> OrderAddress | None:
        if not decision.store_address or incoming.address is None:
            return None
        if not encrypted:
            context = order_queries.address_context(store.store_id, incoming.order_id)
            encrypted.append(
                self._cipher.encrypt(json.dumps(dict(incoming.address), sort_keys=True), context)
            )
        closed = decision.closes or (decision.action != CREATE and order.shipped_at is not None)
        return OrderAddress(
            store.store_id,
            incoming.order_id,
            merchant_id=store.merchant_id,
            address_encrypted=encrypted[0],
            expires_at=(now + ADDRESS_RETENTION) if closed else None,
        )
