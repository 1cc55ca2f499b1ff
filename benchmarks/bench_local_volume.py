"""Benchmark: a real merchant's volume in the local system: orders stored per second at 1,000, 10,000 and 50,000
stored orders, with 100,000 listings stored, and the peak memory (issue 17 part 2: within 2 GB, rate not falling).

What runs for real: moto's server as the local runtime runs it (`ThreadedMotoServer` in this process, over HTTP,
with the transaction fix `storesync_local.moto_transactions` installed, or moto's original method with
`--moto-original`), the template's resources provisioned in it, the product import's batched writes of products
and listings (`dal/catalog.save_all`) with stock in the primary warehouse, and every order stored by the real
`OrderUpserter` (read, decide, allocate: one TransactWriteItems per order with the order, its KMS-encrypted
address and its stock moves; then the stock watch queues an inventory push for the store's listings).
What is left out: SP-API (the orders are built here, FBM, Unshipped, one or two lines), and the functions that
would consume the inventory-push messages (the queue is purged every 1,000 orders as its poller would drain it).

The rate at N stored orders is measured over the `--window` orders stored just before the N-th. Peak memory is
the process's maximum resident set (moto, its tables and queues, and the client side together).

    nice -n 10 .venv/bin/python benchmarks/bench_local_volume.py [--orders 50000] [--listings 100000]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import harness  # noqa: F401  # the environment, before storesync is imported
from moto.server import ThreadedMotoServer
from storesync.crypto import KmsCipher
from storesync.dal import bind_tables
from storesync.dal.catalog import new_listing, product_item, save_all
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.orders import Order
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.dal.stores import Store, StoreSettings
from storesync.dal.warehouses import PRIMARY_WAREHOUSE_ID, ensure_primary_warehouse
from storesync.domain.orders import AmazonItem, AmazonOrder
from storesync.domain.products import FBM, ListingFacts, ProductFacts
from storesync.jobs import JobName
from storesync.queues import SqsJobQueue
from storesync.usecases.order_upsert import OrderUpserter
from storesync_local import moto_transactions
from storesync_local.template import load_template, provision

REGION = "us-east-1"
MERCHANT, SELLER, US = "volume-merchant", "A3NASELLER0003", "ATVPDKIKX0DER"
CHECKPOINTS = (1_000, 10_000, 50_000)
WRITE_CHUNK = 1_000  # listings written per save_all call


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def start_moto(original: bool) -> tuple[ThreadedMotoServer, str]:
    if not original:
        moto_transactions.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def store_listings(store: Store, count: int) -> list[str]:
    """`count` listings (FBM, active) with their products and stock, as the product import writes them."""
    ensure_primary_warehouse(MERCHANT)
    now = datetime.now(UTC)
    skus = [f"SKU-{n:06d}" for n in range(count)]
    for start in range(0, count, WRITE_CHUNK):
        chunk = skus[start : start + WRITE_CHUNK]
        save_all([product_item(MERCHANT, ProductFacts(sku, f"Product {sku}", None), None) for sku in chunk])
        save_all([new_listing(store, ListingFacts(sku, None, f"Product {sku}", "9.99", FBM, "Active", 100))
                  for sku in chunk])  # fmt: skip
        save_all([InventoryItem(warehouse_key(MERCHANT, PRIMARY_WAREHOUSE_ID), sku, merchant_id=MERCHANT,
                                warehouse_id=PRIMARY_WAREHOUSE_ID, on_hand=1_000_000, allocated=0, updated_at=now)
                  for sku in chunk])  # fmt: skip
    return skus


def amazon_order(n: int, skus: list[str], rng: random.Random, created: datetime) -> AmazonOrder:
    lines = rng.choice((1, 1, 1, 2))
    items = tuple(
        AmazonItem(f"{n:08d}{line}", rng.choice(skus), rng.randint(1, 3), price="12.50", currency="USD")
        for line in range(lines)
    )
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    address = {"Name": f"Buyer {n}", "AddressLine1": f"{n} Main Street", "City": "Seattle",
               "StateOrRegion": "WA", "PostalCode": "98101", "CountryCode": "US"}  # fmt: skip
    return AmazonOrder(
        f"113-{n:07d}-{n % 9973:07d}", US, "Unshipped", "FBM", stamp, stamp, items, address=address
    )


PURGE_INTERVAL_SECONDS = 61


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000, help="orders stored in all")
    parser.add_argument("--listings", type=int, default=100_000, help="listings (and products) stored first")
    parser.add_argument(
        "--window", type=int, default=500, help="orders the rate at a checkpoint is measured over"
    )
    parser.add_argument("--every", type=int, default=5_000, help="print the rate every so many orders")
    parser.add_argument(
        "--moto-original", action="store_true", help="moto's own TransactWriteItems (the before)"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=3 * 3600, help="stop storing orders after this long"
    )
    args = parser.parse_args()
    if args.window < 1 or args.window > min(
        c for c in CHECKPOINTS if c <= args.orders or c == CHECKPOINTS[0]
    ):
        parser.error(f"--window: {args.window}; between 1 and the first checkpoint")

    server, url = start_moto(args.moto_original)
    os.environ["AWS_ENDPOINT_URL"] = url
    stack = f"vol{uuid.uuid4().hex[:6]}"
    sink = "http://127.0.0.1:9"  # no SP-API call is made
    provisioned = provision(
        url, stack_name=stack, region=REGION, template=load_template(),
        parameters={"SpApiEndpoint": sink, "SpApiLwaUrl": sink, "SpApiConsentUrl": sink},
        secrets={"LwaCredentialsSecret": '{"client_id": "x", "client_secret": "y"}'},
    )  # fmt: skip
    bind_tables(stack, REGION, url)
    kms = boto3.client("kms", region_name=REGION, endpoint_url=url)
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=url)
    push_queue = provisioned.queue_url("InventoryPushQueue")
    queue = SqsJobQueue(sqs, {JobName.INVENTORY: push_queue})
    upserter = OrderUpserter(KmsCipher(kms, provisioned.physical["DataKey"]), queue)
    now = datetime.now(UTC)
    store = Store(MERCHANT, "volume_store", name="Volume store", marketplace_id=US, region="NA",
                  status=STATUS_ACTIVE, selling_partner_id=SELLER, seller_key=f"{SELLER}:NA",
                  refresh_token_encrypted=b"unused", settings=StoreSettings(), created_at=now, authorized_at=now)  # fmt: skip
    store.save()

    transactions = "moto's original" if args.moto_original else "the fix (items only, isolated)"
    print(f"moto {url} in this process; TransactWriteItems: {transactions}", flush=True)
    began = time.monotonic()
    skus = store_listings(store, args.listings)
    listing_seconds = time.monotonic() - began
    print(f"{args.listings:,} listings (+ products, stock) stored in {listing_seconds:.0f} s "
          f"({args.listings / max(listing_seconds, 1e-9):,.0f}/s); peak memory {peak_memory_mb():,.0f} MB", flush=True)  # fmt: skip

    rng = random.Random(17)
    stamps: list[float] = []
    rates: dict[int, float] = {}
    memory: dict[int, float] = {}
    created = now - timedelta(days=14)
    start = time.monotonic()
    purged = 0.0  # SQS allows one PurgeQueue a minute per queue
    for n in range(1, args.orders + 1):
        result = upserter.upsert(store, amazon_order(n, skus, rng, created + timedelta(seconds=20 * n)))
        if result.action != "create":
            raise SystemExit(f"order {n}: {result.action} ({result.reason}), not created")
        stamps.append(time.monotonic())
        if n % WRITE_CHUNK == 0 and time.monotonic() - purged > PURGE_INTERVAL_SECONDS:
            sqs.purge_queue(QueueUrl=push_queue)  # as the inventory-push poller would drain it
            purged = time.monotonic()
        if n in CHECKPOINTS or n % args.every == 0:
            window = min(args.window, n - 1)
            rate = window / (stamps[-1] - stamps[-1 - window])
            if n in CHECKPOINTS:
                rates[n], memory[n] = rate, peak_memory_mb()
            print(f"  {n:>7,} orders stored: {rate:6.1f} orders/s over the last {window}; "
                  f"{(stamps[-1] - start) / 60:5.1f} min; peak memory {peak_memory_mb():,.0f} MB", flush=True)  # fmt: skip
        if time.monotonic() - start > args.max_seconds:
            print(f"stopped after {args.max_seconds:.0f} s at {n:,} orders", flush=True)
            break

    stored = Order.count(store.store_id)
    total = stamps[-1] - start if stamps else 0.0
    print(f"\n{stored:,} orders and {args.listings:,} listings stored; orders took {total / 60:.1f} min "
          f"({len(stamps) / max(total, 1e-9):.1f}/s on average)")  # fmt: skip
    print("| stored orders | orders stored per second | peak memory (MB) |")
    print("|---:|---:|---:|")
    for checkpoint in CHECKPOINTS:
        if checkpoint in rates:
            print(f"| {checkpoint:,} | {rates[checkpoint]:.1f} | {memory[checkpoint]:,.0f} |")
    print(f"peak memory: {peak_memory_mb():,.0f} MB (target ≤ 2,048 MB)")
    server.stop()
    within = peak_memory_mb() <= 2048
    falling = len(rates) >= 2 and min(rates.values()) < 0.5 * max(rates.values())
    return 0 if within and not falling else 1


if __name__ == "__main__":
    sys.exit(main())
