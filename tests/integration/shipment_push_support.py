"""Helpers for the shipment push integration tests: Amazon orders made in the simulator and mirrored into
DynamoDB as the order import leaves them (real order item ids, stock allocated), WMS shipments created through
the use case, one SQS delivery to the real ShipmentPushFunction handler, and Amazon's ground truth."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from fakes import RecordingJobQueue, sqs_record
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import admin
from storesync.clock import utcnow
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.orders import Allocation, Order, OrderItem
from storesync.dal.shipments import Shipment
from storesync.dal.stores import Store
from storesync.dal.warehouses import PRIMARY_WAREHOUSE_ID
from storesync.jobs import JobMessage
from storesync.queues import JobQueue
from storesync.usecases.shipment_create import create_shipment

US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
SELLER = "A1NASELLER0001"


def fbm_skus(sim: Simulator, seller_id: str, marketplace_id: str) -> list[str]:
    listings = admin(sim, "GET", "listings", seller_id=seller_id, marketplace_id=marketplace_id)["listings"]
    return [x["sku"] for x in listings if x["fulfillment_channel"] == "DEFAULT"]


def fba_skus(sim: Simulator, seller_id: str, marketplace_id: str) -> list[str]:
    listings = admin(sim, "GET", "listings", seller_id=seller_id, marketplace_id=marketplace_id)["listings"]
    return [x["sku"] for x in listings if x["fulfillment_channel"] != "DEFAULT"]


def amazon_order(
    sim: Simulator, store: Store, lines: Sequence[tuple[str, int]], **extra: Any
) -> dict[str, Any]:
    body = {
        "seller_id": store.selling_partner_id,
        "marketplace_id": store.marketplace_id,
        "items": [{"sku": sku, "quantity": qty} for sku, qty in lines],
        **extra,
    }
    return dict(admin(sim, "POST", "orders", json=body))


def stock(merchant_id: str, sku: str, warehouse_id: str = PRIMARY_WAREHOUSE_ID) -> tuple[int, int]:
    try:
        item = InventoryItem.get(warehouse_key(merchant_id, warehouse_id), sku, consistent_read=True)
    except InventoryItem.DoesNotExist:
        return 0, 0
    return int(item.on_hand), int(item.allocated)


def import_order(store: Store, sim_order: dict[str, Any], *, spare: int = 5, status: str = "open") -> Order:
    """The order as the order import leaves it: status open, every unit allocated in the primary warehouse."""
    now = utcnow()
    items = []
    for line in sim_order["items"]:
        key = warehouse_key(store.merchant_id, PRIMARY_WAREHOUSE_ID)
        on_hand, allocated = stock(store.merchant_id, line["sku"])
        InventoryItem(
            key,
            line["sku"],
            merchant_id=store.merchant_id,
            warehouse_id=PRIMARY_WAREHOUSE_ID,
            on_hand=on_hand + line["quantity"] + spare,
            allocated=allocated + line["quantity"],
            updated_at=now,
        ).save()
        items.append(
            OrderItem(
                order_item_id=line["order_item_id"],
                sku=line["sku"],
                quantity=line["quantity"],
                allocations=[Allocation(warehouse_id=PRIMARY_WAREHOUSE_ID, quantity=line["quantity"])],
            )
        )
    order = Order(
        store.store_id,
        sim_order["order_id"],
        merchant_id=store.merchant_id,
        marketplace_id=sim_order["marketplace_id"],
        purchase_key=f"{sim_order['created']}#{sim_order['order_id']}",
        status=status,
        amazon_status=sim_order["status"],
        channel="FBA" if sim_order["fulfilled_by"] == "AMAZON" else "FBM",
        items=items,
        purchase_date=sim_order["created"],
        amazon_last_updated=sim_order["last_updated"],
        created_at=now,
        updated_at=now,
    )
    order.save()
    return order


def ship(store: Store, order_id: str, items: list[dict[str, Any]], *, carrier: str = "UPS", tracking: str = "",
         method: str = "Ground", queue: JobQueue | None = None) -> Shipment:  # fmt: skip
    body = {
        "carrier": carrier,
        "shipping_method": method,
        "tracking_number": tracking or f"1Z{uuid.uuid4().hex[:12].upper()}",
        "items": items,
    }
    return create_shipment(store.merchant_id, store.store_id, order_id, body, queue or RecordingJobQueue())


def push_event(*stores: Store, trigger: str = "schedule") -> dict[str, Any]:
    records = []
    for store in stores:
        message = JobMessage(
            job="shipments",
            merchant_id=store.merchant_id,
            store_id=store.store_id,
            trigger=trigger,  # type: ignore[arg-type]
        )
        records.append(sqs_record(message.model_dump_json(), "shipments"))
    return {"Records": records}


def amazon_packages(sim: Simulator, order_id: str) -> list[dict[str, Any]]:
    return list(admin(sim, "GET", "shipments", order_id=order_id))


def amazon_status(sim: Simulator, order_id: str) -> str:
    return str(admin(sim, "GET", f"orders/{order_id}")["status"])


def confirm_calls(sim: Simulator) -> int:
    return int(admin(sim, "GET", "stats")["calls"].get("confirmShipment", 0))


def shipments_of(order: Order) -> list[Shipment]:
    return list(Shipment.query(f"{order.store_id}#{order.amazon_order_id}", consistent_read=True))


def fresh(order: Order) -> Order:
    return Order.get(order.store_id, order.amazon_order_id, consistent_read=True)


def drain(queue_url: str) -> list[dict[str, Any]]:
    import boto3

    sqs = boto3.client("sqs")
    bodies = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        if not answer.get("Messages"):
            return bodies
        for m in answer["Messages"]:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
