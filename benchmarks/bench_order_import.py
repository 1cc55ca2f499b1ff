"""Benchmark: import an order backlog through the real OrderImportFunction in real time, at the simulator's
scaled quotas, while fresh orders arrive by ORDER_CHANGE notification and by polling.

What runs for real: the handler (functions/order_import/app.py, cold-started from template.yaml's env) with
real SQS event shapes read back from the queues, the polling use case (searchOrders sweeps, cursor, slices,
continuations), the notification use case (Powertools idempotency, getOrder), the OrderUpserter (one DynamoDB
transaction per order: order, encrypted address, allocation), the quota gate (token buckets in DynamoDB),
python-amazon-sp-api over HTTP to the SP-API simulator.
AWS (DynamoDB, SQS, KMS, Secrets Manager) is moto in-process (`moto.mock_aws()`: the same DynamoDB semantics,
no HTTP hop). The simulator is a real HTTP server in a thread of this process (it delivers ORDER_CHANGE into
the in-process SQS queue, as Amazon delivers into the stack's queue). Continuations are SQS messages with
DelaySeconds, which moto honours: the loop waits the (scaled) delay in real time, nothing is skipped.

Lambda is imitated by the loop: a job message is handed to the handler as soon as SQS makes it visible (one
record per event, BatchSize 1); notifications are handed over in batches of up to 10 after a batching window
(MaximumBatchingWindowInSeconds 5). "Dispatch" sends the 30-minute polling schedule's message every
`--schedule-seconds` (compressed: a 10-minute run cannot wait 30 minutes between polls).

Simulated-time figures at Amazon's real quotas: benchmarks/bench_order_import_simulated.py.

    .venv/bin/python benchmarks/bench_order_import.py [--orders 10000] [--quota-scale 60] [--live-every 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import tracemalloc
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.client
import requests
from harness import enter_function_env, provision_in_moto
from moto import mock_aws
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import authorize
from spapi_simulator.world import Destination, Subscription
from storesync.amazon.clients import seller_key
from storesync.amazon.quotas import USAGE_PLANS
from storesync.crypto import KmsCipher
from storesync.dal import bind_tables
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.orders import Order
from storesync.dal.products import Product
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.dal.stores import Store, StoreSettings
from storesync.dal.warehouses import PRIMARY_WAREHOUSE_ID, ensure_primary_warehouse
from storesync.domain.orders import AmazonOrder
from storesync.jobs import JobMessage
from storesync.usecases.order_upsert import OrderUpserter, UpsertResult
from storesync.wiring import refresh_token_context
from storesync_local.functions import FakeLambdaContext, Handler, load_handler
from storesync_local.template import Provisioned, functions, load_template

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"  # one marketplace (US): every generated order is the store's
MERCHANT = "bench-merchant"
AMAZON_SCHEDULE_MINUTES = 30  # the OrdersSchedule of template.yaml
NOTIFICATION_WINDOW = 5.0  # MaximumBatchingWindowInSeconds of the notifications event source
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class Counters:
    """DynamoDB items written (every botocore client: pynamodb and Powertools idempotency) and, per order,
    when each path (poll | notification) stored it first."""

    path: str = "poll"
    writes: int = 0
    write_calls: int = 0
    arrivals: dict[str, dict[str, float]] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)
    slowest: dict[str, float] = field(default_factory=dict)
    peak_memory: int = 0  # the largest rise of traced memory during one invocation
    retained: int = 0  # the largest rise still there after one (mostly moto's new table items)

    def install(self) -> None:
        original_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]
        original_upsert = OrderUpserter.upsert
        counters = self

        def counting(client: Any, operation: str, kwargs: dict[str, Any]) -> Any:
            if operation in DYNAMODB_WRITES and client.meta.service_model.service_name == "dynamodb":
                counters.write_calls += 1
                if operation == "BatchWriteItem":
                    counters.writes += sum(len(v) for v in kwargs.get("RequestItems", {}).values())
                elif operation == "TransactWriteItems":
                    counters.writes += len(kwargs.get("TransactItems", []))
                else:
                    counters.writes += 1
            return original_call(client, operation, kwargs)

        def recording(upserter: OrderUpserter, store: Store, incoming: AmazonOrder) -> UpsertResult:
            result = original_upsert(upserter, store, incoming)
            counters.arrivals.setdefault(incoming.order_id, {}).setdefault(counters.path, time.time())
            return result

        botocore.client.BaseClient._make_api_call = counting  # type: ignore[attr-defined]
        OrderUpserter.upsert = recording  # type: ignore[method-assign]

    def arrived(self, order_id: str, path: str) -> bool:
        return path in self.arrivals.get(order_id, {})


def item_level_transaction_rollback() -> None:
    """moto's TransactWriteItems deep-copies every table it touches before writing (its rollback snapshot):
    O(table size) per transaction, a cost real DynamoDB does not have. The local runtime's fix
    (`storesync_local.moto_transactions`) backs up only the items the transaction touches, isolated."""
    from storesync_local import moto_transactions

    moto_transactions.install()


def sqs_event(messages: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    """The event Lambda's SQS event source builds from received messages."""
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "attributes": m.get("Attributes", {}), "messageAttributes": {},
                         "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
                         "awsRegion": "us-east-1"} for m in messages]}  # fmt: skip


class LambdaLoop:
    """Polls the two queues like Lambda's event sources and invokes the real handler."""

    def __init__(self, stack: Provisioned, handler: Handler, counters: Counters, traced: bool) -> None:
        self.sqs: Any = boto3.client("sqs", region_name="us-east-1")
        self.stack = stack
        self.handler = handler
        self.counters = counters
        self.traced = traced
        self.context = FakeLambdaContext("OrderImportFunction")
        self.failures = 0
        self.first_notification_seen: float | None = None

    def receive(self, queue: str, limit: int) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(QueueUrl=self.stack.queue_url(queue), MaxNumberOfMessages=limit,
                                          VisibilityTimeout=120, AttributeNames=["All"])  # fmt: skip
        return list(answer.get("Messages") or [])

    def invoke(self, queue: str, path: str, messages: list[dict[str, Any]]) -> None:
        self.counters.path = path
        if self.traced:
            tracemalloc.reset_peak()
            at_start = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        answer = self.handler(sqs_event(messages, self.stack.arns[queue]), self.context)
        took = time.perf_counter() - started
        if self.traced:
            current, peak = tracemalloc.get_traced_memory()
            self.counters.peak_memory = max(self.counters.peak_memory, peak - at_start)
            self.counters.retained = max(self.counters.retained, current - at_start)
        self.counters.invocations[path] = self.counters.invocations.get(path, 0) + 1
        self.counters.slowest[path] = max(self.counters.slowest.get(path, 0.0), took)
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        self.failures += len(failed)
        for m in messages:  # Lambda deletes what succeeded; failures come back after the visibility timeout
            if m["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.stack.queue_url(queue), ReceiptHandle=m["ReceiptHandle"]
                )

    def step(self) -> bool:
        """One round: the notifications batch when its window is over, then one job message. True if work ran."""
        ran = False
        if self.first_notification_seen is None:
            waiting = int(self._attribute("OrderNotificationsQueue", "ApproximateNumberOfMessages"))
            if waiting:
                self.first_notification_seen = time.time()
        if self.first_notification_seen and time.time() - self.first_notification_seen >= NOTIFICATION_WINDOW:
            self.first_notification_seen = None
            messages = self.receive("OrderNotificationsQueue", 10)
            if messages:
                self.invoke("OrderNotificationsQueue", "notification", messages)
                ran = True
        jobs = self.receive("OrderImportQueue", 1)
        if jobs:
            self.invoke("OrderImportQueue", "poll", jobs)
            ran = True
        return ran

    def _attribute(self, queue: str, name: str) -> str:
        answer = self.sqs.get_queue_attributes(QueueUrl=self.stack.queue_url(queue), AttributeNames=[name])
        return str(answer["Attributes"][name])

    def schedule(self, store: Store) -> None:
        """What dispatch sends for the incremental schedule."""
        message = JobMessage(job="orders", mode="incremental", merchant_id=store.merchant_id,
                             store_id=store.store_id, trigger="schedule")  # fmt: skip
        self.sqs.send_message(
            QueueUrl=self.stack.queue_url("OrderImportQueue"), MessageBody=message.model_dump_json()
        )


def connect_store(sim: Simulator, stack: Provisioned) -> Store:
    """An active store with a real refresh token from the simulator, encrypted with the stack's KMS key."""
    store_id = f"bench_{uuid.uuid4().hex[:8]}"
    kms = boto3.client("kms", region_name="us-east-1")
    encrypted = KmsCipher(kms, stack.physical["DataKey"]).encrypt(
        authorize(sim, SELLER).refresh_token, refresh_token_context(store_id)
    )
    now = datetime.now(UTC)
    store = Store(MERCHANT, store_id, name="Bench store", marketplace_id=US, region="NA", status=STATUS_ACTIVE,
                  selling_partner_id=SELLER, seller_key=seller_key(SELLER, "NA"), refresh_token_encrypted=encrypted,
                  settings=StoreSettings(), created_at=now, authorized_at=now)  # fmt: skip
    store.save()
    return store


def stock_catalog(sim: Simulator) -> list[str]:
    """Every SKU of the seller is a product with stock in the primary warehouse. Returns the FBM SKUs."""
    ensure_primary_warehouse(MERCHANT)
    now = datetime.now(UTC)
    listings = list(sim.world.catalog.listings(SELLER, US))
    with Product.batch_write() as products, InventoryItem.batch_write() as items:
        for x in listings:
            products.save(Product(MERCHANT, x.sku, title=x.sku, created_at=now, updated_at=now))
            items.save(InventoryItem(warehouse_key(MERCHANT, PRIMARY_WAREHOUSE_ID), x.sku, merchant_id=MERCHANT,
                                     warehouse_id=PRIMARY_WAREHOUSE_ID, on_hand=1_000_000, allocated=0,
                                     updated_at=now))  # fmt: skip
    return [x.sku for x in listings if not x.is_fba and x.status == "Active"]


def subscribe(sim: Simulator, stack: Provisioned) -> None:
    """What the connect flow sets up once per seller: ORDER_CHANGE into the stack's notifications queue."""
    destination = Destination(str(uuid.uuid4()), "storesync", stack.arns["OrderNotificationsQueue"])
    sim.world.destinations[destination.destination_id] = destination
    subscription = Subscription(str(uuid.uuid4()), SELLER, "ORDER_CHANGE", destination.destination_id, "1.0")
    sim.world.subscriptions[subscription.subscription_id] = subscription


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--orders", type=int, default=10_000, help="generated backlog of the seller (14 days)"
    )
    parser.add_argument("--quota-scale", type=float, default=60.0, help="multiplies Amazon's refill rates")
    parser.add_argument("--live-every", type=float, default=10.0, help="seconds between fresh orders")
    parser.add_argument("--schedule-seconds", type=float, default=60.0,
                        help="the polling schedule, compressed (Amazon: 30 minutes)")  # fmt: skip
    parser.add_argument("--tail", type=float, default=90.0, help="seconds of fresh orders after the backlog")
    parser.add_argument("--deadline", type=float, default=1200.0, help="give up after this many seconds")
    parser.add_argument("--no-tracemalloc", action="store_true", help="faster; peak memory from max RSS only")
    args = parser.parse_args()

    began = time.time()
    sim = Simulator(seed=7, skus=200, orders=args.orders, quota_scale=args.quota_scale).start()
    generated = [o for o in sim.world.orders.by_id.values() if o.seller_id == SELLER]
    backlog = {o.order_id for o in generated if o.status != "PENDING"}  # pending: not imported by default
    print(f"simulator: {len(generated):,} orders of {SELLER} generated in {time.time() - began:.0f} s "
          f"({len(generated) - len(backlog):,} pending, left out of the search); quota scale {args.quota_scale:g}")  # fmt: skip
    item_level_transaction_rollback()
    try:
        with mock_aws():
            run(args, sim, backlog)
    finally:
        sim.stop()


def run(args: argparse.Namespace, sim: Simulator, backlog: set[str]) -> None:
    template = load_template()
    stack_name = f"bench{uuid.uuid4().hex[:6]}"
    stack = provision_in_moto(sim.url, stack_name, template, OrdersCatchupDays="15")
    enter_function_env(stack, "OrderImportFunction", args.quota_scale)
    spec = functions(template)["OrderImportFunction"]
    handler = load_handler(spec["code_uri"], spec["handler"])
    bind_tables(stack_name, "us-east-1", None)
    store = connect_store(sim, stack)
    fbm_skus = stock_catalog(sim)
    subscribe(sim, stack)
    requests.post(f"{sim.url}/_sim/stats/reset", timeout=30)

    counters = Counters()
    counters.install()
    traced = not args.no_tracemalloc
    if traced:
        tracemalloc.start()
    loop = LambdaLoop(stack, handler, counters, traced)
    live: dict[str, float] = {}  # order id -> created (Amazon's clock = this process's clock: no jumps)
    start = time.time()
    loop.schedule(store)  # the first run after connecting: reads the catch-up window, i.e. the whole backlog
    next_schedule, next_live = start + args.schedule_seconds, start + args.live_every
    backlog_done: float | None = None
    backlog_calls: dict[str, int] = {}
    n = 0
    while time.time() - start < args.deadline:
        now = time.time()
        if backlog_done is None and all(counters.arrived(i, "poll") for i in backlog):
            backlog_done = now
            backlog_calls = dict(stats(sim)["calls"])
            print(f"backlog imported after {(now - start) / 60:.1f} min", flush=True)
        creating = backlog_done is None or now - backlog_done < args.tail
        if creating and now >= next_live:
            sku = fbm_skus[n % len(fbm_skus)]
            n += 1
            body = {"seller_id": SELLER, "marketplace_id": US, "items": [{"sku": sku, "quantity": 1}]}
            created = requests.post(f"{sim.url}/_sim/orders", json=body, timeout=30).json()
            live[created["order_id"]] = now
            next_live = now + args.live_every
        if now >= next_schedule:
            loop.schedule(store)
            next_schedule = now + args.schedule_seconds
        ran = loop.step()
        if not creating and all(counters.arrived(i, p) for i in live for p in ("poll", "notification")):
            break
        if not ran:
            time.sleep(0.2)
    finished = time.time()
    if traced:
        tracemalloc.stop()
    report(args, sim, store, backlog, start, backlog_done, finished, backlog_calls, counters, loop, live)


def stats(sim: Simulator) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(f"{sim.url}/_sim/stats", timeout=30).json()
    return answer


def report(
    args: argparse.Namespace, sim: Simulator, store: Store, backlog: set[str], start: float,
    backlog_done: float | None, finished: float, backlog_calls: dict[str, int], counters: Counters,
    loop: LambdaLoop, live: dict[str, float],
) -> None:  # fmt: skip
    final = stats(sim)
    plan = USAGE_PLANS["searchOrders"]
    rate = plan.rate * args.quota_scale
    done = backlog_done or finished
    seconds = done - start
    imported = sum(1 for i in backlog if counters.arrived(i, "poll"))
    per_hour = imported / seconds * 3600
    allowed = 100 * min(plan.burst + rate * seconds, float("inf"))  # 100 orders a page: burst, then refill
    pages = backlog_calls.get("searchOrders", final["calls"].get("searchOrders", 0))
    stored = sum(1 for _ in Order.query(store.store_id))
    print(f"\nbacklog: {imported:,} of {len(backlog):,} orders in {seconds / 60:.1f} min "
          f"({'done' if backlog_done else 'NOT done before the deadline'}); {stored:,} orders stored (FBA and cancelled-on-first-sight included per the rules)")  # fmt: skip
    print(f"orders per hour: {per_hour:,.0f} = {imported / allowed:.0%} of the {allowed:,.0f} orders searchOrders allows in "
          f"that time at {rate:.3g}/s (burst {plan.burst}, 100 per page); steady quota {100 * rate * 3600:,.0f}/h")  # fmt: skip
    real = max(0, pages - plan.burst) / plan.rate
    print(f"  at Amazon's real quotas ({plan.rate}/s): the same {pages} pages take {real / 3600:.1f} h "
          f"= {imported / max(real, 1) * 3600:,.0f} orders/h (steady {100 * plan.rate * 3600:,.0f}/h)")  # fmt: skip
    print(f"SP-API calls per 100 orders (backlog): {100 * sum(backlog_calls.values()) / max(imported, 1):.2f} "
          f"{json.dumps(backlog_calls, sort_keys=True)}; whole run {json.dumps(final['calls'], sort_keys=True)}")  # fmt: skip
    print(f"429 answers: {sum(final['throttled'].values())} {json.dumps(final['throttled'], sort_keys=True)}")
    print(f"DynamoDB writes: {counters.writes:,} items in {counters.write_calls:,} calls "
          f"({counters.writes / max(len(counters.arrivals), 1):.1f} items per order stored)")  # fmt: skip
    print(f"invocations: {json.dumps(counters.invocations)}; slowest: "
          + ", ".join(f"{p} {s:.1f} s" for p, s in counters.slowest.items())
          + f"; failed records {loop.failures}")  # fmt: skip
    traced = (
        (
            f"{counters.peak_memory / 1e6:.0f} MB above its start in the largest invocation (of which up to "
            f"{counters.retained / 1e6:.0f} MB stays: moto's new items); "
        )
        if counters.peak_memory
        else ""
    )
    print(f"peak memory: {traced}process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          "(includes the simulator's world and moto's tables)")  # fmt: skip
    during = [i for i, t in live.items() if backlog_done is None or t < backlog_done]
    after = [i for i in live if i not in during]
    for label, ids in (("while the backlog imports", during), ("after the backlog", after)):
        if not ids:
            continue
        cols = []
        for path in ("notification", "poll"):
            mins = [(counters.arrivals[i][path] - live[i]) / 60 for i in ids if counters.arrived(i, path)]
            if mins:
                cols.append(
                    f"{path} median {statistics.median(mins):.2f} min, max {max(mins):.2f} ({len(mins)} arrived)"
                )
        print(f"creation -> arrival, {label} ({len(ids)} orders): " + "; ".join(cols))
    print(f"(polling schedule every {args.schedule_seconds:g} s instead of {AMAZON_SCHEDULE_MINUTES} min; "
          f"searchOrders sees an order 2 min after its last update; wall time {finished - start:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
