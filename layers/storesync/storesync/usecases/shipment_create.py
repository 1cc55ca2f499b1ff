"""Creating a WMS shipment for an Amazon order: the rules of domain.shipments, then one transaction that
records the shipment, takes its units off on hand and allocated and updates the order's allocations; then the
stock-out watch. The shipment waits in the pending_push index for the shipment push job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from storesync.clock import utcnow
from storesync.dal import order_queries
from storesync.dal import shipment_writes as db
from storesync.dal.orders import Order
from storesync.dal.shipments import Shipment
from storesync.domain.shipments import ShipmentProblem, parse_shipment_request, plan_shipment
from storesync.queues import JobQueue
from storesync.usecases.stock_watch import after_stock_change

ATTEMPTS = 5


def find_order(merchant_id: str, store_id: str, amazon_order_id: str) -> Order:
    order = order_queries.get_order(store_id, amazon_order_id)
    if order is None or order.merchant_id != merchant_id:
        raise ShipmentProblem("not_found", f"order {store_id}.{amazon_order_id} not found", "id", status=404)
    return order


def create_shipment(
    merchant_id: str,
    store_id: str,
    amazon_order_id: str,
    body: Any,
    queue: JobQueue,
    now: Callable[[], datetime] = utcnow,
) -> Shipment:
    """Raises ShipmentProblem (4xx naming the field or the problem)."""
    request = parse_shipment_request(body, now())
    for _ in range(ATTEMPTS):
        order = find_order(merchant_id, store_id, amazon_order_id)
        shipments = db.order_shipments(store_id, amazon_order_id)
        plan = plan_shipment(
            order_queries.snapshot(order, has_wms_shipment=bool(shipments)),
            request,
            db.units_in_shipments(shipments),
            [s.package_reference_id for s in shipments],
        )
        try:
            shipment, moves = db.record_shipment(order, plan, now())
        except db.ShipmentConflict:
            continue  # the order or its shipments changed meanwhile: plan again on fresh data
        except db.NotEnoughStock as exc:
            raise ShipmentProblem("not_enough_stock", str(exc), "items", status=409) from None
        after_stock_change(merchant_id, {move.sku for move in moves}, queue)
        return shipment
    raise ShipmentProblem("conflict", f"order {amazon_order_id} kept changing; try again", status=409)


def list_shipments(merchant_id: str, store_id: str, amazon_order_id: str) -> list[Shipment]:
    find_order(merchant_id, store_id, amazon_order_id)
    return db.order_shipments(store_id, amazon_order_id)
