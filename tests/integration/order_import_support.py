"""Helpers for the order import integration tests: the real OrderImportFunction handler fed with real SQS event
shapes (events/sqs_order_import.json, events/sqs_order_change_notification.json), the simulator's orders and
ORDER_CHANGE delivery into the stack's moto queue, and stock set-up / read-back."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import requests
from fixtures_stores import connected_store, sim_stack, stack_cipher
from spapi_simulator.simulator import Simulator
from spapi_simulator.world import Destination, Subscription
from storesync.dal import job_state
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.jobs import SyncRun
from storesync.dal.orders import Order
from storesync.dal.products import Product
from storesync.dal.stores import Store
from storesync.dal.warehouses import PRIMARY_WAREHOUSE_ID, ensure_primary_warehouse
from storesync.domain.orders import AmazonOrder
from storesync.jobs import JobMessage
from storesync.settings import OrderImportSettings
from storesync.wiring import services
from storesync_local.functions import FakeLambdaContext, Handler
from storesync_local.template import Provisioned

EVENTS = Path(__file__).resolve().parents[2] / "events"
SELLER = "A1NASELLER0001"
US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
MERCHANT = "merchant-1"


def sim_skus(
    sim: Simulator, marketplace_id: str = US, seller_id: str = SELLER
) -> tuple[list[str], list[str]]:
    """(FBM SKUs, FBA SKUs) the simulator's buyers can order from that seller in that marketplace."""
    listings = [x for x in sim.world.catalog.listings(seller_id, marketplace_id) if x.status == "Active"]
    return [x.sku for x in listings if not x.is_fba], [x.sku for x in listings if x.is_fba]


def subscribe_notifications(sim: Simulator, stack: Provisioned, seller_id: str = SELLER) -> None:
    """What the connect flow sets up once per seller: ORDER_CHANGE to the stack's notifications queue."""
    arn = stack.arns["OrderNotificationsQueue"]
    destination = Destination(str(uuid.uuid4()), "storesync", arn)
    sim.world.destinations[destination.destination_id] = destination
    subscription = Subscription(
        str(uuid.uuid4()), seller_id, "ORDER_CHANGE", destination.destination_id, "1.0"
    )
    sim.world.subscriptions[subscription.subscription_id] = subscription


def admin(sim: Simulator, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=30)
    assert answer.status_code < 300, answer.text
    return answer.json()


def new_order(
    sim: Simulator, lines: dict[str, int], status: str = "UNSHIPPED", fulfilled_by: str = "MERCHANT",
    marketplace_id: str = US, seller_id: str = SELLER,
) -> str:  # fmt: skip
    body = {
        "seller_id": seller_id,
        "marketplace_id": marketplace_id,
        "status": status,
        "fulfilled_by": fulfilled_by,
        "items": [{"sku": sku, "quantity": q} for sku, q in lines.items()],
    }
    return str(admin(sim, "POST", "orders", body)["order_id"])


def stock(merchant: str, sku: str, on_hand: int, warehouse: str = PRIMARY_WAREHOUSE_ID) -> None:
    ensure_primary_warehouse(merchant)
    InventoryItem(
        warehouse_key(merchant, warehouse), sku, merchant_id=merchant, warehouse_id=warehouse,
        on_hand=on_hand, allocated=0, updated_at=datetime.now(UTC),
    ).save()  # fmt: skip
    now = datetime.now(UTC)
    Product(merchant, sku, title=sku, created_at=now, updated_at=now).save()


def level(merchant: str, sku: str, warehouse: str = PRIMARY_WAREHOUSE_ID) -> tuple[int, int]:
    """(on hand, allocated)."""
    item = InventoryItem.get(warehouse_key(merchant, warehouse), sku, consistent_read=True)
    return int(item.on_hand), int(item.allocated)


def stored(store: Store, order_id: str) -> Order:
    return Order.get(store.store_id, order_id, consistent_read=True)


def orders_of(store: Store) -> list[Order]:
    return list(Order.query(store.store_id))


def _record(template_file: str, body: str, arn: str) -> dict[str, Any]:
    record = copy.deepcopy(json.loads((EVENTS / template_file).read_text())["Records"][0])
    record.update(messageId=str(uuid.uuid4()), body=body, eventSourceARN=arn, receiptHandle=uuid.uuid4().hex)
    return record


@dataclass
class OrderImportHarness:
    """The stack, the simulator and the real handler, with the queues drained into real SQS events."""

    sim: Simulator
    stack: Provisioned
    handler: Handler
    context: FakeLambdaContext = field(default_factory=lambda: FakeLambdaContext("OrderImportFunction"))

    @property
    def sqs(self) -> Any:
        return boto3.client("sqs", region_name="us-east-1", endpoint_url=self.stack.endpoint_url)

    def advance(self, seconds: float = 180.0) -> None:
        """Move Amazon's clock on (searchOrders sees changes only two minutes after they happen)."""
        self.sim.clock.advance(seconds)
        self.sim.world.tick()

    def job_event(self, store: Store, mode: str = "incremental", trigger: str = "schedule") -> dict[str, Any]:
        message = JobMessage(job="orders", mode=mode, merchant_id=store.merchant_id, store_id=store.store_id,
                             trigger=trigger)  # type: ignore[arg-type]  # fmt: skip
        arn = self.stack.arns["OrderImportQueue"]
        return {"Records": [_record("sqs_order_import.json", message.model_dump_json(), arn)]}

    def poll(
        self, store: Store, mode: str = "incremental", follow: bool = True, limit: int = 30
    ) -> list[Any]:
        """Run the polling job for a store; with `follow`, also every continuation it enqueues (ignoring delays)."""
        answers = [self.handler(self.job_event(store, mode), self.context)]
        while follow and limit > 0:
            messages = self.drain("OrderImportQueue")
            if not messages:
                break
            arn = self.stack.arns["OrderImportQueue"]
            event = {"Records": [_record("sqs_order_import.json", body, arn) for body in messages]}
            answers.append(self.handler(event, self.context))
            limit -= 1
        return answers

    def catch_up(self, store: Store, limit: int = 20) -> list[Any]:
        """The catch-up to its end: its slices run one after another (continuation delays skipped) with Amazon's
        clock moved on between them, so the order report it waits for gets done."""
        answers = []
        for _ in range(limit):
            answers.append(
                self.handler(self.job_event(store, "catchup", trigger="continuation"), self.context)
            )
            cursor = job_state.load_cursor(store.store_id, "orders")
            if not cursor.get("reconcile") and not cursor.get("catchup"):
                return answers
            self.advance(max(3.0, float(self.sim.config.report_seconds)))
        raise AssertionError(f"the catch-up did not end in {limit} slices")

    def drain(self, queue: str) -> list[str]:
        url = self.stack.queue_url(queue)
        bodies: list[str] = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            messages = answer.get("Messages") or []
            if not messages:
                return bodies
            for m in messages:
                bodies.append(m["Body"])
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def notification_event(self, bodies: list[str]) -> dict[str, Any]:
        arn = self.stack.arns["OrderNotificationsQueue"]
        return {"Records": [_record("sqs_order_change_notification.json", b, arn) for b in bodies]}

    def deliver_notifications(self) -> tuple[list[str], dict[str, Any]]:
        """Hand every ORDER_CHANGE waiting in the queue to the handler in one batch."""
        bodies = self.drain("OrderNotificationsQueue")
        answer = (
            self.handler(self.notification_event(bodies), self.context)
            if bodies
            else {"batchItemFailures": []}
        )
        return bodies, answer

    def runs(self, store: Store) -> list[SyncRun]:
        return list(SyncRun.query(store.store_id))


def make_harness(
    make_stack: Callable[..., Provisioned],
    sim: Simulator,
    load_function: Callable[[str], Handler],
    *,
    subscribe: bool = True,
    **stack_parameters: str,
) -> OrderImportHarness:
    stack = sim_stack(make_stack, sim, **stack_parameters)
    if subscribe:
        subscribe_notifications(sim, stack)
    return OrderImportHarness(sim, stack, load_function("OrderImportFunction"))


def store_of(
    h: OrderImportHarness, marketplace_id: str = US, seller_id: str = SELLER, **settings: Any
) -> Store:
    return connected_store(h.sim, h.stack, seller_id, marketplace_id, MERCHANT, **settings)


def stocked_store(h: OrderImportHarness, on_hand: int, **settings: Any) -> tuple[Store, list[str]]:
    """The seller's US store (`settings` applied) and its FBM SKUs, the first with `on_hand` units in stock."""
    fbm, _ = sim_skus(h.sim)
    store = store_of(h, **settings)
    stock(MERCHANT, fbm[0], on_hand)
    return store, fbm


def decrypt_address(h: OrderImportHarness, store: Store, order_id: str) -> dict[str, Any]:
    from storesync.dal.order_queries import address_context, get_address

    address = get_address(store.store_id, order_id)
    assert address is not None
    text = stack_cipher(h.stack).decrypt(address.address_encrypted, address_context(store.store_id, order_id))
    return dict(json.loads(text))


def fetch_amazon_order(store: Store, order_id: str) -> AmazonOrder:
    """The order as getOrder shows it now (through the stack's own SP-API wiring and quota gate)."""
    return services(OrderImportSettings.load()).store_orders(store).get_order(order_id)
