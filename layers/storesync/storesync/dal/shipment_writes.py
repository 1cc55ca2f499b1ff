"""Shipments in DynamoDB: reading an order's shipments, creating one (the stock leaves in the same transaction),
and the push-state transitions the shipment push job makes (each one conditional on the shipment's version).

The "ship" move (storesync.domain.allocation.ship_delta, committed by the stock ledger): the units of a
package leave on hand, and the part of them that was allocated to the order leaves allocated too, in the
commit that records the shipment and updates the order's allocations. A retried request can therefore never
move stock twice: the shipment's key (order + package reference id) and the order's version are conditions of
the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from storesync.clock import iso
from storesync.dal import order_queries, outbox, stock_ledger
from storesync.dal.orders import Order, OrderItem, expire_address
from storesync.dal.shipments import Shipment, ShipmentItem
from storesync.dal.stock_ledger import StockCommit, StockConflict, StockUnavailable
from storesync.dal.warehouses import PRIMARY_WAREHOUSE_ID
from storesync.domain import shipments as rules
from storesync.domain.allocation import StockDelta, merge_deltas, ship_delta
from storesync.domain.events import Event
from storesync.domain.orders import (
    OrderSnapshot,
    automation_blocked,
    awaiting_shipment,
    buyer_data_expiry,
    ship_in_wms,
    wms_close_time,
)

# the events a confirmation reports: given the order before and after it (None: no order) and its version after
ConfirmationEvents = Callable[[OrderSnapshot | None, OrderSnapshot | None, int], list[Event]]


class ShipmentConflict(RuntimeError):
    """The order or its shipments changed while this shipment was being written: read again and retry."""


class NotEnoughStock(RuntimeError):
    def __init__(self, warehouse_id: str, sku: str, quantity: int) -> None:
        super().__init__(f"not enough {sku} on hand in warehouse {warehouse_id} to ship {quantity}")
        self.warehouse_id = warehouse_id
        self.sku = sku
        self.quantity = quantity


def order_key(store_id: str, amazon_order_id: str) -> str:
    return f"{store_id}#{amazon_order_id}"


def shipment_id_for(package_reference_id: str) -> str:
    """The shipment's range key: its package reference id, zero-padded so shipments sort in creation order."""
    return package_reference_id.zfill(6)


def order_shipments(store_id: str, amazon_order_id: str) -> list[Shipment]:
    return list(Shipment.query(order_key(store_id, amazon_order_id), consistent_read=True))


def units_in_shipments(shipments: Iterable[Shipment]) -> dict[str, int]:
    """Units per order item in the WMS's shipments (refused ones do not count: they never reached the buyer
    as far as Amazon knows, and the merchant may ship them again)."""
    units: dict[str, int] = {}
    for shipment in shipments:
        if shipment.push_state == rules.REFUSED:
            continue
        for item in shipment.items or []:
            units[item.order_item_id] = units.get(item.order_item_id, 0) + int(item.quantity)
    return units


def plan_stock_moves(
    order: Order, lines: Sequence[rules.PackageLine]
) -> tuple[list[StockDelta], list[OrderItem]]:
    """Which warehouses the units leave (allocated units first, where they are allocated; the rest from the
    first warehouse the item is allocated in, else the primary) as "ship" deltas, and the order items with what
    stays allocated."""
    wanted = {line.order_item_id: line.quantity for line in lines}
    moves: list[StockDelta] = []
    items: list[OrderItem] = []
    for item in order.items or []:
        remaining = wanted.get(item.order_item_id, 0)
        allocations: list[tuple[str, int]] = []  # (warehouse id, units) still allocated
        for allocation in item.allocations or []:
            take = min(int(allocation.quantity), remaining)
            if take:
                moves.append(ship_delta(allocation.warehouse_id, item.sku, take, take))
                remaining -= take
            left = int(allocation.quantity) - take
            if left:
                allocations.append((allocation.warehouse_id, left))
        backorder = int(item.backorder or 0)
        if remaining:
            first = item.allocations[0].warehouse_id if item.allocations else PRIMARY_WAREHOUSE_ID
            moves.append(ship_delta(first, item.sku, remaining, 0))
            backorder = max(0, backorder - remaining)
        items.append(order_queries.order_item(item, allocations, backorder))
    return merge_deltas(moves), items


def new_shipment(order: Order, plan: rules.PlannedShipment, now: datetime) -> Shipment:
    ref = plan.package_reference_id
    return Shipment(
        order_key(order.store_id, order.amazon_order_id),
        shipment_id_for(ref),
        store_id=order.store_id,
        merchant_id=order.merchant_id,
        amazon_order_id=order.amazon_order_id,
        package_reference_id=ref,
        carrier=plan.carrier,
        carrier_code=plan.choice.carrier_code,
        carrier_name=plan.choice.carrier_name,
        shipping_method=plan.shipping_method,
        tracking_number=plan.tracking_number,
        ship_date=iso(plan.ship_date),
        items=[
            ShipmentItem(order_item_id=i.order_item_id, sku=i.sku, quantity=i.quantity) for i in plan.lines
        ],
        push_state=rules.PENDING,
        pending_store_id=order.store_id,
        created_key=f"{iso(now)}#{order.amazon_order_id}#{ref.zfill(6)}",
        attempts=0,
        created_at=now,
    )


def record_shipment(
    order: Order, plan: rules.PlannedShipment, now: datetime
) -> tuple[Shipment, list[StockDelta]]:
    """Write the shipment, move its stock and update the order's allocations in one stock ledger commit
    (optimistic conditions on the stock read, versions on the records; the shipment names the commit).
    Units not allocated to the order may only come from free stock. Returns the shipment and its stock deltas.

    Raises ShipmentConflict (stock, order or shipment changed meanwhile) or NotEnoughStock.
    """
    moves, items = plan_stock_moves(order, plan.lines)
    shipment = new_shipment(order, plan, now)
    commit = StockCommit(order.merchant_id, f"shipment {shipment.order_key} {shipment.shipment_id}")
    commit.read_stock(move.key for move in moves)
    commit.move(moves)
    commit.save(shipment, condition=Shipment.shipment_id.does_not_exist())
    commit.update(order, actions=[Order.items.set(items), Order.updated_at.set(now)])
    try:
        commit.commit()
    except StockUnavailable as exc:
        short = exc.delta or moves[0]
        raise NotEnoughStock(short.warehouse_id, short.sku, -short.on_hand) from exc
    except StockConflict as exc:
        raise ShipmentConflict(str(exc)) from exc
    return shipment, moves


# --- push-state transitions (the shipment push job) ---


def pending_shipments(store_id: str, after: str | None, limit: int) -> list[Shipment]:
    """Unconfirmed shipments of a store, oldest first, from the sparse pending_push index."""
    condition = Shipment.created_key > after if after else None
    return list(
        Shipment.pending_push.query(
            store_id, range_key_condition=condition, limit=limit, scan_index_forward=True
        )
    )


def refresh(shipment: Shipment) -> Shipment | None:
    try:
        return Shipment.get(shipment.order_key, shipment.shipment_id, consistent_read=True)
    except Shipment.DoesNotExist:
        return None


def mark_sending(shipment: Shipment) -> bool:
    """pending/sending -> sending, attempts + 1. False when someone else changed it first."""
    try:
        shipment.update(
            actions=[Shipment.push_state.set(rules.SENDING), Shipment.attempts.add(1)],
            condition=Shipment.push_state.is_in(rules.PENDING, rules.SENDING),
        )
    except UpdateError:
        return False
    return True


def mark_not_sent(shipment: Shipment, previous_state: str) -> None:
    """Amazon did not take the request (throttled before or by it): back to the state it had."""
    shipment.update(actions=[Shipment.push_state.set(previous_state), Shipment.attempts.add(-1)])


def mark_retry(shipment: Shipment, message: str, next_attempt_at: datetime) -> None:
    shipment.update(
        actions=[Shipment.amazon_message.set(message[:500]), Shipment.next_attempt_at.set(next_attempt_at)]
    )


def mark_refused(shipment: Shipment, message: str) -> None:
    shipment.update(
        actions=[
            Shipment.push_state.set(rules.REFUSED),
            Shipment.amazon_message.set(message[:1000]),
            Shipment.pending_store_id.remove(),
            Shipment.next_attempt_at.remove(),
        ]
    )


def mark_confirmed(
    shipment: Shipment, now: datetime, attempts: int = 5, events: ConfirmationEvents | None = None
) -> list[Event]:
    """The shipment is confirmed and the order follows (quantity shipped, status and holds as the state machine
    decides; when it closes shipped_at, its close time (the latest ship date of its confirmed packages,
    storesync.domain.orders.wms_close_time) and the buyer address's expiry 30 days after it), in one
    transaction. With `events` (given the order's snapshot before and after this transaction, None when there
    is no order, and the order's version after it), the events they return have their outbox rows in that same
    transaction; they are returned, to be delivered after the commit (none when someone else confirmed it)."""
    for _ in range(attempts):
        order = order_queries.get_order(shipment.store_id, shipment.amazon_order_id)
        staged: list[Event] = []
        try:
            with TransactWrite(connection=stock_ledger.connection()) as transaction:
                transaction.update(
                    shipment,
                    actions=[
                        Shipment.push_state.set(rules.CONFIRMED),
                        Shipment.confirmed_at.set(now),
                        Shipment.pending_store_id.remove(),
                        Shipment.next_attempt_at.remove(),
                        Shipment.amazon_message.remove(),
                    ],
                )
                before = after = None
                if order is not None:
                    before = order_queries.snapshot(order, has_wms_shipment=True)
                    after = _order_follows(transaction, order, before, shipment, now)
                if events is not None:
                    version = int(order.version or 0) + 1 if order is not None else 0
                    staged = events(before, after, version)
                    outbox.stage(transaction, staged, now)
        except TransactWriteError:
            fresh = refresh(shipment)
            if fresh is None:
                raise
            if fresh.push_state == rules.CONFIRMED:
                return []  # someone else finished it (and told it)
            shipment = fresh
            continue  # the shipment or the order changed meanwhile: read again
        return staged
    raise ShipmentConflict(f"order {shipment.amazon_order_id} kept changing while confirming its shipment")


def _order_follows(
    transaction: TransactWrite, order: Order, before: OrderSnapshot, shipment: Shipment, now: datetime
) -> OrderSnapshot:
    """The order's move with the confirmation, as the state machine decides it (storesync.domain.orders
    .ship_in_wms: quantities shipped, status, the holds that end when it ships), written into the transaction.
    Returns the order's snapshot after it."""
    confirmed = [
        s
        for s in order_shipments(order.store_id, order.amazon_order_id)
        if s.push_state == rules.CONFIRMED and s.shipment_id != shipment.shipment_id
    ]
    confirmed.append(shipment)
    packages = [{i.order_item_id: int(i.quantity) for i in s.items or []} for s in confirmed]
    current = {i.order_item_id: int(i.quantity_shipped or 0) for i in order.items or []}
    shipped = rules.confirmed_quantities(current, packages)
    move = ship_in_wms(before, shipped)
    items = [
        order_queries.order_item(
            item,
            [(a.warehouse_id, int(a.quantity)) for a in item.allocations or []],
            int(item.backorder or 0),
            quantity_shipped=shipped[item.order_item_id],
        )
        for item in order.items or []
    ]
    actions: list[Action] = [Order.items.set(items), Order.status.set(move.status), Order.updated_at.set(now)]
    if move.ships:
        actions.append(Order.shipped_at.set(now))
    holds = before.holds if move.holds is None else move.holds
    if move.holds is not None:  # shipped anyway: the buyer-requested-cancellation hold ends
        actions += [Order.holds.set(list(holds)), Order.automation_blocked.set(automation_blocked(holds))]
    if order.awaiting_merchant and not awaiting_shipment(order.channel, move.status):
        actions.append(Order.awaiting_merchant.remove())  # nothing left to ship: out of the to-ship index
    if move.closes:
        closed_at = wms_close_time([s.ship_date for s in confirmed], now)
        actions.append(Order.closed_at.set(closed_at))
    transaction.update(order, actions=actions)
    if move.closes and order.has_address:
        expire_address(transaction, order.store_id, order.amazon_order_id, buyer_data_expiry(closed_at))
    lines = tuple(
        replace(line, quantity_shipped=shipped.get(line.order_item_id, line.quantity_shipped))
        for line in before.lines
    )
    return replace(before, status=move.status, holds=tuple(holds), lines=lines)
