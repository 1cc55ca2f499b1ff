"""Benchmark: change N SKUs (default 10,000) and push them to the simulator two ways, in the same run:
the feed path (one JSON_LISTINGS_FEED, as the inventory push chooses for many changes) and one
patchListingsItem per SKU (the crossover forced up). Prints SP-API calls and the time until Amazon
(the simulator's ground truth) shows every new quantity, raw (scaled quotas) and extrapolated to real quotas,
with DynamoDB writes, the slowest invocation and peak memory.

AWS is moto in-process (`moto.mock_aws()`: the same DynamoDB semantics, no HTTP hop): what is measured is
storesync's own work plus moto's Python DynamoDB, not moto's HTTP server. The SP-API simulator is a real HTTP
server in a child process.

    .venv/bin/python benchmarks/bench_inventory_push.py [--skus 10000] [--quota-scale 100] [--feed-seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
import uuid
from types import SimpleNamespace
from typing import Any

from harness import WriteCounter, enter_function_env, free_port, provision_in_moto, start
from moto import mock_aws
from spapi_simulator.testing import admin, authorize
from storesync.amazon.clients import seller_key
from storesync.amazon.listings_transport import SpApiListingsTransport
from storesync.amazon.quotas import USAGE_PLANS
from storesync.clock import utcnow
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.products import Listing
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.inventory import FEED_LATENCY_SECONDS, PATCH_SLICE_SECONDS
from storesync.jobs import JobMessage
from storesync.settings import InventoryPushSettings
from storesync.usecases.inventory_push import PushSettings, inventory_push_work
from storesync.usecases.runner import StoreJobRunner
from storesync.wiring import build_services, refresh_token_context

US = "ATVPDKIKX0DER"
Simulator = SimpleNamespace  # the simulator as seen over HTTP: .url
WRITES: WriteCounter  # installed by main()


class CollectingQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[JobMessage, float]] = []

    def send(self, message: JobMessage, delay_seconds: float = 0) -> None:
        self.sent.append((message, delay_seconds))

    def send_many(self, messages: list[JobMessage]) -> None:
        self.sent.extend((m, 0.0) for m in messages)


def connect(sim: Simulator, services: Any, seller_id: str, merchant_id: str) -> Store:
    token = authorize(sim, seller_id).refresh_token  # type: ignore[arg-type]
    store_id = f"st_{uuid.uuid4().hex[:10]}"
    now = utcnow()
    store = Store(merchant_id, store_id, name=f"bench {seller_id}", marketplace_id=US, region="NA",
                  status=STATUS_ACTIVE, selling_partner_id=seller_id, seller_key=seller_key(seller_id, "NA"),
                  refresh_token_encrypted=services.cipher.encrypt(token, refresh_token_context(store_id)),
                  settings=StoreSettings(), created_at=now, authorized_at=now)  # fmt: skip
    store.save()
    return store


def prepare(sim: Simulator, store: Store, count: int) -> dict[str, int]:
    """Mirror `count` FBM listings into DynamoDB and give each a new stock level. Returns sku -> expected."""
    listings = [x for x in admin(sim, "GET", "listings", seller_id=store.selling_partner_id, marketplace_id=US)["listings"]
                if x["fulfillment_channel"] == "DEFAULT" and x["status"] != "INCOMPLETE"][:count]  # fmt: skip
    if len(listings) < count:
        raise SystemExit(
            f"the simulator has only {len(listings)} FBM listings for {store.selling_partner_id}"
        )
    now, expected = utcnow(), {}
    with Listing.batch_write() as lw, InventoryItem.batch_write() as iw:
        for x in listings:
            lw.save(Listing(store.store_id, x["sku"], merchant_id=store.merchant_id, channel="FBM",
                            product_type=x["product_type"], amazon_quantity=x["quantity"],
                            last_pushed_quantity=x["quantity"], updated_at=now))  # fmt: skip
            new = (int(x["quantity"]) + 7) % 900 + 1
            iw.save(InventoryItem(warehouse_key(store.merchant_id, "primary"), x["sku"], merchant_id=store.merchant_id,
                                  warehouse_id="primary", on_hand=new, allocated=0, updated_at=now))  # fmt: skip
            expected[x["sku"]] = new
    return expected


def amazon_matches(sim: Simulator, store: Store, expected: dict[str, int]) -> bool:
    shown = {
        x["sku"]: x["quantity"]
        for x in admin(sim, "GET", "listings", seller_id=store.selling_partner_id, marketplace_id=US)[
            "listings"
        ]
    }
    wrong = [(sku, shown.get(sku), q) for sku, q in expected.items() if shown.get(sku) != q]
    if wrong and os.environ.get("BENCH_DEBUG"):
        print("not shown yet:", len(wrong), wrong[:3])
    return not wrong


def run_until_shown(
    sim: Simulator, services: Any, store: Store, expected: dict[str, int], settings: PushSettings
) -> dict[str, Any]:
    admin(sim, "POST", "stats/reset")  # type: ignore[arg-type]
    writes = WRITES
    writes_before = writes.items
    queue = CollectingQueue()
    runner = StoreJobRunner(queue)
    work = inventory_push_work(
        lambda s: SpApiListingsTransport(services.store_amazon(s), str(s.selling_partner_id)), settings
    )
    message = JobMessage(job="inventory", merchant_id=store.merchant_id, store_id=store.store_id)
    started, invocations, lambda_seconds, waited = time.perf_counter(), 0, 0.0, 0.0
    slowest, peak = 0.0, 0
    while True:
        queue.sent.clear()
        baseline = 0
        if tracemalloc.is_tracing():  # moto's tables live in this process: count what one invocation adds
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        outcome = runner.run(message, work)
        took = time.perf_counter() - t0
        if tracemalloc.is_tracing():
            peak = max(peak, tracemalloc.get_traced_memory()[1] - baseline)
        lambda_seconds += took
        slowest = max(slowest, took)
        invocations += 1
        print(f"  invocation {invocations}: {took:.1f} s {dict(outcome.counts)}", file=sys.stderr, flush=True)
        if amazon_matches(sim, store, expected):
            break
        continuation = [d for m, d in queue.sent if m.trigger == "continuation"]
        if not continuation:
            raise SystemExit(f"the push stopped before Amazon showed every quantity: {outcome}")
        pause = min(continuation[0], 0.5)  # an SQS delay; capped because the simulator's clock is scaled
        time.sleep(pause)
        waited += pause
        message = message.continuation()
    calls = admin(sim, "GET", "stats")["calls"]  # type: ignore[arg-type]
    result = {"seconds": time.perf_counter() - started, "calls": calls, "total_calls": sum(calls.values()),
              "invocations": invocations, "lambda_seconds": lambda_seconds, "slowest": slowest, "peak": peak,
              "writes": writes.items - writes_before}  # fmt: skip
    print(
        f"  done: {json.dumps(result, default=str)}", file=sys.stderr, flush=True
    )  # before the other path runs
    return result


def main() -> None:
    global WRITES
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--quota-scale", type=float, default=100.0)
    parser.add_argument("--feed-seconds", type=float, default=2.0)
    parser.add_argument(
        "--patch-slice-seconds",
        type=float,
        default=PATCH_SLICE_SECONDS,
        help="the patch side's slice, from the invocation's start (default: production's PATCH_SLICE_SECONDS)",
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="faster; peak memory from max RSS only")
    args = parser.parse_args()
    port = free_port()
    sim = Simulator(url=f"http://127.0.0.1:{port}")
    child = start([sys.executable, "-m", "spapi_simulator", "--port", str(port), "--seed", "7",
                   "--skus", str(int(args.skus * 1.6) + 50), "--orders", "0", "--quota-scale", str(args.quota_scale),
                   "--feed-seconds", str(args.feed_seconds)], sim.url + "/_sim/clock")  # fmt: skip
    try:
        with mock_aws():
            prov = provision_in_moto(sim.url, "bench-inv")
            enter_function_env(prov, "InventoryPushFunction", args.quota_scale)
            services = build_services(InventoryPushSettings.load())
            feed_store = connect(sim, services, "A1NASELLER0001", "bench-feed")
            patch_store = connect(
                sim, services, "A2NASELLER0002", "bench-patch"
            )  # another seller: own quotas
            t0 = time.perf_counter()
            feed_expected = prepare(sim, feed_store, args.skus)
            patch_expected = prepare(sim, patch_store, args.skus)
            setup = time.perf_counter() - t0
            WRITES = WriteCounter()
            if not args.no_tracemalloc:
                tracemalloc.start()
            feed = run_until_shown(
                sim, services, feed_store, feed_expected, PushSettings(feed_poll_seconds=1.0)
            )
            patch = run_until_shown(
                sim,
                services,
                patch_store,
                patch_expected,
                PushSettings(crossover=10**9, patch_slice_seconds=args.patch_slice_seconds),
            )
            tracemalloc.stop()
    finally:
        child.terminate()
        child.wait(timeout=10)
    plan = USAGE_PLANS["patchListingsItem"]
    real_patch = max(0, args.skus - plan.burst) / plan.rate
    real_feed = FEED_LATENCY_SECONDS  # the few feed calls fit the bursts; Amazon's processing dominates
    print(f"inventory push of {args.skus:,} changed SKUs (quota scale {args.quota_scale:g}, simulated feed processing "
          f"{args.feed_seconds:g} s, patch slice {args.patch_slice_seconds:g} s); setup (mirroring 2 x {args.skus:,} listings + stock) {setup:.1f} s")  # fmt: skip
    for name, r, real in (
        ("feed (JSON_LISTINGS_FEED)", feed, real_feed),
        ("one patch per SKU", patch, real_patch),
    ):
        print(f"  {name}: SP-API calls {r['total_calls']:,}; until Amazon shows all {r['seconds']:.1f} s raw "
              f"({r['invocations']} invocations, {r['lambda_seconds']:.1f} s in the job, slowest invocation "
              f"{r['slowest']:.1f} s); at real quotas ~{real / 60:.1f} min")  # fmt: skip
        print(f"    calls: {json.dumps(r['calls'], sort_keys=True)}")
        print(
            f"    DynamoDB writes: {r['writes']:,} items; peak memory {r['peak'] / 1e6:.1f} MB traced above an invocation's start"
        )
    print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          "(includes moto's in-process tables and the mirrored listings)")  # fmt: skip


if __name__ == "__main__":
    main()
