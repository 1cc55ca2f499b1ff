"""Drive the real ProductImportFunction handler: SQS events in, continuations read back from the moto queue.

run = ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
run.deliver(store, mode="full")          # one SQS event, then every continuation until the queue is empty
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import admin
from storesync.dal import job_state
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.jobs import SyncRun
from storesync.dal.products import Listing, Product
from storesync.dal.stores import Store
from storesync.jobs import JobMessage
from storesync_local.template import Provisioned

EVENT = json.loads((Path(__file__).resolve().parents[2] / "events" / "sqs_product_import.json").read_text())
CLOCK_STEP_SECONDS = 5.0  # simulator seconds between two invocations (a report takes 2 s)


def sqs_event(body: str, message_id: str | None = None, receive_count: int = 1) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    record = event["Records"][0]
    record["messageId"] = message_id or str(uuid.uuid4())
    record["body"] = body
    record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()  # noqa: S324 - SQS's own checksum
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return event


class ProductImportDriver:
    def __init__(
        self,
        sim: Simulator,
        stack: Provisioned,
        load_function: Callable[[str], Any],
        context: Any,
        *,
        slice_rows: int = 5000,
    ) -> None:
        os.environ["PRODUCT_REPORT_POLL_SECONDS"] = "0"  # the simulator's clock is advanced instead
        os.environ["PRODUCT_SLICE_ROWS"] = str(slice_rows)
        self.sim = sim
        self.stack = stack
        self.handler = load_function("ProductImportFunction")
        self.context = context
        self.sqs = boto3.client("sqs")
        self.queue_url = stack.queue_url("ProductImportQueue")
        self.invocations = 0

    def message(self, store: Store, mode: str = "incremental", trigger: str = "schedule") -> str:
        return JobMessage(
            job="products", mode=mode, merchant_id=store.merchant_id, store_id=store.store_id, trigger=trigger
        ).model_dump_json()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.invocations += 1
        answer: dict[str, Any] = self.handler(event, self.context)
        assert answer == {"batchItemFailures": []}, answer
        admin(self.sim, "POST", "clock/advance", json={"seconds": CLOCK_STEP_SECONDS})
        return answer

    def receive(self) -> list[dict[str, Any]]:
        """Continuations waiting on the queue, deleted as Lambda's event source mapping would on success."""
        found = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in found:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def drain(self, limit: int = 200) -> int:
        """Feed every continuation back to the handler until none is left. Returns the invocations made."""
        made = 0
        while True:
            waiting = self.receive()
            if not waiting:
                return made
            for message in waiting:
                self.invoke(sqs_event(message["Body"], message["MessageId"]))
                made += 1
                assert made < limit, "the import did not finish"

    def deliver(self, store: Store, mode: str = "incremental") -> int:
        self.invoke(sqs_event(self.message(store, mode)))
        return 1 + self.drain()


def listings(store: Store) -> dict[str, Listing]:
    return {item.sku: item for item in Listing.query(store.store_id)}


def products(merchant_id: str) -> dict[str, Product]:
    return {item.sku: item for item in Product.query(merchant_id)}


def on_hand(merchant_id: str, warehouse_id: str = "primary") -> dict[str, int]:
    key = warehouse_key(merchant_id, warehouse_id)
    return {item.sku: int(item.on_hand) for item in InventoryItem.query(key)}


def product_runs(store: Store) -> list[SyncRun]:
    return [run for run in job_state.latest_runs(store.store_id, limit=1000) if run.job == "products"]


def run_counts(run: SyncRun) -> dict[str, int]:
    return {key: int(value) for key, value in run.counts.as_dict().items()}


def run_totals(store: Store) -> dict[str, int]:
    totals: dict[str, int] = {}
    for run in product_runs(store):
        for key, value in run_counts(run).items():
            totals[key] = totals.get(key, 0) + int(value)
    return totals


def amazon_listings(sim: Simulator, store: Store) -> dict[str, dict[str, Any]]:
    answer = admin(
        sim, "GET", "listings", seller_id=store.selling_partner_id, marketplace_id=store.marketplace_id
    )
    return {item["sku"]: item for item in answer["listings"]}
