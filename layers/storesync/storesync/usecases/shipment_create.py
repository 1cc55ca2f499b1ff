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


def shipment_json(shipment: Shipment) -> dict[str, Any]:
    """A shipment as the API shows it: what the WMS sent, what went to Amazon, and Amazon's answer."""
    return {
        "id": shipment.shipment_id,
        "order_id": f"{shipment.store_id}.{shipment.amazon_order_id}",
        "package_reference_id": shipment.package_reference_id,
        "carrier": shipment.carrier,
        "amazon_carrier_code": shipment.carrier_code,
        "amazon_carrier_name": shipment.carrier_name,
        "shipping_method": shipment.shipping_method,
        "tracking_number": shipment.tracking_number,
        "ship_date": shipment.ship_date,
        "items": [
            {"order_item_id": i.order_item_id, "sku": i.sku, "quantity": int(i.quantity)}
            for i in shipment.items or []
        ],
        "push_state": shipment.push_state,
        "attempts": int(shipment.attempts or 0),
        "next_attempt_at": shipment.next_attempt_at.isoformat() if shipment.next_attempt_at else None,
        "amazon_message": shipment.amazon_message,
        "confirmed_at": shipment.confirmed_at.isoformat() if shipment.confirmed_at else None,
        "created_at": shipment.created_at.isoformat(),
    }
