"""Benchmark: import a 50,000-order backlog through the real order import use case, against the simulator, in
simulated time, and measure what Amazon's quotas let through (the model; the real-time run with the real handler,
upsert and DynamoDB transactions is benchmarks/bench_order_import.py).

What runs for real: the simulator over HTTP (searchOrders / getOrder, its quota buckets and 429s), the
storesync SP-API client and quota gate, the polling use case (sweeps, cursor, continuations, throttling) and
the notification use case (getOrder per ORDER_CHANGE), the order rules (parse + decide). What is replaced:
DynamoDB (an in-memory upserter applying the same rules; moto's own speed is not the bottleneck, see
BENCHMARKS.md) and SQS/Lambda scheduling (a discrete-event loop: a continuation "in 180 s" advances the
simulator's clock by 180 s instead of waiting). The quota gate reads the simulator's clock, so quotas are
Amazon's real ones by default (`--quota-scale 1`) and the figures are in simulated (= Amazon) time.

While the backlog imports, a live order arrives every `--live-every` simulated minutes; each is seen by both
paths: its ORDER_CHANGE notification (handled after the 5 s SQS batching window) and the polling sweeps
(scheduled every 30 minutes). The run ends when the backlog and every live order arrived by polling.

    .venv/bin/python benchmarks/bench_order_import_simulated.py [--orders 50000] [--quota-scale 1] [--live-every 20]
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import os
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import harness  # noqa: F401  (the benchmarks' environment, before storesync)
import requests
from order_load_model import SELLER, US, MemoryContext, bench_store, build_spapi, decide_and_keep
from spapi_simulator.simulator import Simulator
from storesync.amazon.clients import SpApi
from storesync.amazon.errors import Throttled
from storesync.amazon.orders import AmazonOrders
from storesync.amazon.quotas import USAGE_PLANS
from storesync.dal.stores import Store
from storesync.domain.orders import AmazonOrder, OrderSnapshot
from storesync.jobs import JobMessage
from storesync.usecases.order_import import OrderImport, OrderImportDeps
from storesync.usecases.order_notifications import OrderChangeBody, OrderChangeHandler
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.runner import JobOutcome

# SELLER (one marketplace, US): every generated order of this seller is the store's
SCHEDULE_SECONDS = 30 * 60
LIVE_AFTER_BACKLOG = 4 * 3600  # live orders keep coming this long after the backlog is in
NOTIFICATION_BATCH_WINDOW = 5.0
SAMPLE_KEEP = 2000  # MaximumBatchingWindowInSeconds of the notifications event source


@dataclass
class MemoryUpserter:
    """The order rules over an in-memory table; records when each path first stored each order."""

    sim: Simulator
    path: str = "poll"
    orders: dict[str, OrderSnapshot] = field(default_factory=dict)
    first_seen: dict[str, dict[str, float]] = field(default_factory=dict)  # order id -> path -> sim time
    sample: list[AmazonOrder] = field(default_factory=list)  # kept for the storage measurement

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        if len(self.sample) < SAMPLE_KEEP and incoming.channel == "FBM":
            self.sample.append(incoming)
        decision = decide_and_keep(self.orders, incoming)
        seen = self.first_seen.setdefault(incoming.order_id, {})
        seen.setdefault(self.path, self.sim.clock.time())
        return UpsertResult(incoming.order_id, decision.action, decision.reason, decision.status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--orders", type=int, default=50_000, help="backlog of the seller (generated, 14 days)"
    )
    parser.add_argument("--quota-scale", type=float, default=1.0, help="multiplies Amazon's quotas")
    parser.add_argument(
        "--storage-sample", type=int, default=300, help="orders stored for real in moto (0: skip)"
    )
    parser.add_argument(
        "--live-every", type=float, default=20.0, help="simulated minutes between live orders"
    )
    args = parser.parse_args()

    started = time.time()
    # access tokens live 1 h of Amazon time, but the client caches them by wall time: simulated hours pass in
    # seconds here, so tokens are made long-lived
    sim = Simulator(
        seed=7, skus=200, orders=args.orders, quota_scale=args.quota_scale, token_ttl=10**9
    ).start()
    generated = [o for o in sim.world.orders.by_id.values() if o.seller_id == SELLER]
    # pending orders are not imported (the store's default) and not even searched for: the backlog is the rest
    backlog = {o.order_id for o in generated if o.status != "PENDING"}
    print(
        f"simulator: {len(generated):,} orders of {SELLER} generated in {time.time() - started:.0f} s, "
        f"{len(generated) - len(backlog):,} of them pending"
    )
    spapi = build_spapi(sim, args.quota_scale)
    fbm_sku = next(
        x.sku for x in sim.world.catalog.listings(SELLER, US) if not x.is_fba and x.status == "Active"
    )
    store = bench_store()
    poller = MemoryUpserter(sim, "poll")
    notified = MemoryUpserter(sim, "notification")
    deps = OrderImportDeps(
        upserter=poller,
        amazon_for=lambda _store: AmazonOrders(spapi),
        catchup=timedelta(days=15),  # the backlog spans 14 days: the first sweep reads all of it
        clock=lambda: sim.clock.now(),
    )
    notifications = OrderChangeHandler(
        notified, lambda _store: AmazonOrders(spapi), find_stores=lambda _change: [store]
    )
    message = JobMessage(
        job="orders", mode="incremental", merchant_id="bench-merchant", store_id="bench-store"
    )
    cursor: dict[str, Any] = {}

    events: list[tuple[float, int, str, Any]] = []
    seq = itertools.count()
    start = sim.clock.time()

    def at(when: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(events, (when, next(seq), kind, payload))

    live_created: dict[str, float] = {}

    def on_change(order: Any, previous: str) -> None:
        if order.seller_id == SELLER and order.order_id in live_created and not previous:
            at(sim.clock.time() + NOTIFICATION_BATCH_WINDOW, "notification", order.order_id)

    sim.world.order_listeners.append(on_change)
    at(start, "job")
    job_pending = True
    at(start + SCHEDULE_SECONDS, "schedule")
    at(start + args.live_every * 60, "live")
    backlog_done_at: float | None = None
    invocations = throttled_runs = 0
    backlog_calls: dict[str, int] = {}

    while events:
        when, _, kind, payload = heapq.heappop(events)
        if when > sim.clock.time():
            sim.clock.advance(when - sim.clock.time())
        now = sim.clock.time()
        if kind == "schedule":
            if not job_pending:  # a run still continuing absorbs the schedule (the lease's rerun)
                at(now, "job")
                job_pending = True
            live_ongoing = backlog_done_at is None or now - backlog_done_at < LIVE_AFTER_BACKLOG
            if live_ongoing or any("poll" not in poller.first_seen.get(i, {}) for i in live_created):
                at(now + SCHEDULE_SECONDS, "schedule")
        elif kind == "live":
            if backlog_done_at is None or now - backlog_done_at < LIVE_AFTER_BACKLOG:
                order = requests.post(
                    f"{sim.url}/_sim/orders",
                    json={
                        "seller_id": SELLER,
                        "marketplace_id": US,
                        "items": [{"sku": fbm_sku, "quantity": 1}],
                    },
                    timeout=30,
                ).json()
                live_created[order["order_id"]] = now
                on_change(sim.world.orders.by_id[order["order_id"]], "")
                at(now + args.live_every * 60, "live")
        elif kind == "notification":
            body = _notification(payload)
            try:
                notifications.handle(OrderChangeBody.model_validate(body).change())
            except Throttled as exc:
                at(now + exc.retry_after, "notification", payload)
        elif kind == "job":
            invocations += 1
            ctx = MemoryContext(message, store, "bench", cursor)
            try:
                outcome: JobOutcome = OrderImport(deps, ctx).run()
            except Throttled as exc:
                throttled_runs += 1
                at(now + exc.retry_after, "job")
                continue
            cursor = ctx.cursor
            if outcome.continue_after is not None:
                at(sim.clock.time() + outcome.continue_after, "job")
            else:
                job_pending = False
            if backlog_done_at is None and all(i in poller.first_seen for i in backlog):
                backlog_done_at = sim.clock.time()
                backlog_calls.update(spapi.gate.calls)
                print(f"backlog imported after {(backlog_done_at - start) / 3600:.1f} simulated hours")
    report(
        args,
        sim,
        spapi,
        backlog,
        backlog_done_at or sim.clock.time(),
        start,
        poller,
        notified,
        live_created,
        backlog_calls,
    )
    print(f"({invocations} job invocations, {throttled_runs} re-enqueued on an empty quota; "
          f"wall time {time.time() - started:.0f} s)")  # fmt: skip
    sim.stop()
    if args.storage_sample:
        measure_storage(poller.sample[: args.storage_sample])


class NoQueue:
    def send(self, message: JobMessage, delay_seconds: float = 0) -> None:
        pass

    def send_many(self, messages: list[JobMessage]) -> None:
        pass


def measure_storage(orders: list[AmazonOrder]) -> None:
    """The real OrderUpserter (one transaction per order: order, address, allocation) against moto."""
    import boto3
    from moto.server import ThreadedMotoServer
    from storesync.crypto import KmsCipher
    from storesync.dal import bind_tables
    from storesync.dal.inventory import InventoryItem, warehouse_key
    from storesync.dal.warehouses import ensure_primary_warehouse
    from storesync.usecases.order_upsert import OrderUpserter
    from storesync_local.template import provision

    for key, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}.items():
        os.environ.setdefault(key, value)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        prov = provision(endpoint, stack_name="bench-orders", secrets={"LwaCredentialsSecret": "{}"})
        bind_tables("bench-orders", "us-east-1", endpoint)
        kms = boto3.client("kms", region_name="us-east-1", endpoint_url=endpoint)
        upserter = OrderUpserter(KmsCipher(kms, prov.physical["DataKey"]), NoQueue())
        store = bench_store()
        store.save()
        ensure_primary_warehouse("bench-merchant")
        for sku in sorted({i.sku for o in orders for i in o.items}):
            InventoryItem(
                warehouse_key("bench-merchant", "primary"), sku, merchant_id="bench-merchant",
                warehouse_id="primary", on_hand=10_000, allocated=0, updated_at=datetime.now(UTC),
            ).save()  # fmt: skip
        began = time.perf_counter()
        for order in orders:
            upserter.upsert(store, order)
        per_order = (time.perf_counter() - began) / max(1, len(orders))
    finally:
        moto.stop()
    print(f"storage (moto, real OrderUpserter): {per_order * 1000:.0f} ms per new FBM order over "
          f"{len(orders)} orders = {3600 / per_order:,.0f} orders/hour from one Lambda")  # fmt: skip


def _notification(order_id: str) -> dict[str, Any]:
    return {
        "NotificationType": "ORDER_CHANGE",
        "NotificationMetadata": {"NotificationId": f"bench-{order_id}"},
        "Payload": {
            "OrderChangeNotification": {
                "SellerId": SELLER,
                "AmazonOrderId": order_id,
                "Summary": {"MarketplaceId": US, "OrderStatus": "Unshipped"},
            }
        },
    }


def report(
    args: argparse.Namespace, sim: Simulator, spapi: SpApi, backlog: set[str], done_at: float, start: float,
    poller: MemoryUpserter, notified: MemoryUpserter, live_created: dict[str, float], backlog_calls: dict[str, int],
) -> None:  # fmt: skip
    hours = (done_at - start) / 3600
    stats = requests.get(f"{sim.url}/_sim/stats", timeout=30).json()
    plan = USAGE_PLANS["searchOrders"]
    rate = plan.rate * args.quota_scale
    allowed = 100 * (plan.burst + rate * (done_at - start))  # 100 orders a page, burst then refill
    per_hour = len(backlog) / hours if hours else float("inf")
    steady = 100 * rate * 3600
    calls = dict(spapi.gate.calls)
    poll_calls = backlog_calls.get("searchOrders", 0)
    print(f"\nbacklog: {len(backlog):,} orders, searchOrders at {rate:g}/s burst {plan.burst}")
    print(f"orders per hour: {per_hour:,.0f} ({per_hour / steady:.0%} of the steady {steady:,.0f}/h the quota allows; "
          f"{len(backlog) / allowed:.0%} of the {allowed:,.0f} orders it allows in {hours:.1f} h incl. the burst)")  # fmt: skip
    print(f"SP-API calls per 100 orders (polling): {100 * poll_calls / len(backlog):.2f} "
          f"({poll_calls} searchOrders until the backlog was in; {calls.get('searchOrders', 0)} in the whole run)")  # fmt: skip
    live = len(live_created)
    print(f"getOrder calls: {calls.get('getOrder', 0)} (one per notification; {live} live orders)")
    print(f"429 answers from Amazon: {sum(stats['throttled'].values())} {stats['throttled'] or ''}")

    def minutes(path: str, ids: list[str]) -> list[float]:
        return [
            (notified if path == "notification" else poller).first_seen[i][path] - live_created[i]
            for i in ids
        ]

    during = [i for i, t in live_created.items() if t < done_at]
    after = [i for i, t in live_created.items() if t >= done_at]
    for label, ids in (("while the backlog imports", during), ("after the backlog", after)):
        if not ids:
            continue
        via_notification = [m / 60 for m in minutes("notification", ids)]
        via_polling = [
            m / 60 for m in minutes("poll", [i for i in ids if "poll" in poller.first_seen.get(i, {})])
        ]
        print(f"creation -> arrival, {label} ({len(ids)} orders): notification median "
              f"{statistics.median(via_notification):.2f} min (max {max(via_notification):.2f}); polling median "
              f"{statistics.median(via_polling):.1f} min (max {max(via_polling):.1f})")  # fmt: skip


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "sustained":
        from order_load_model import main_sustained

        main_sustained(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "backlog":
        from order_load_model import main_backlog

        main_backlog(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "catchup":
        from order_load_model import main_catchup

        main_catchup(sys.argv[2:])
    else:
        main()
