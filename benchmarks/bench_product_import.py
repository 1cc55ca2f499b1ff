"""Benchmark: import a catalog of N SKUs (default 100,000) from the SP-API simulator through the real
ProductImportFunction handler, continuations read back from the (moto) SQS queue until the import is done.

AWS (DynamoDB, SQS, KMS, Secrets Manager) is moto in-process (`moto.mock_aws()`: the same DynamoDB semantics,
no HTTP hop), so what is measured is storesync's own work plus moto's Python DynamoDB, not moto's HTTP server.
The SP-API simulator stays a real HTTP server in a child process (its CPU is not the handler's). Printed: wall
time, invocations (slices) and the slowest one, SP-API calls (the simulator's counters), DynamoDB writes (items
written, counted at pynamodb's connection) and peak memory (tracemalloc peak of the largest invocation, and
the process's max RSS, which includes moto's in-process tables).
Not a test: it prints figures (BENCHMARKS.md keeps them).

    .venv/bin/python benchmarks/bench_product_import.py [--skus 100000] [--slice-rows 5000] [--mode full]
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

import boto3
from harness import WriteCounter, enter_function_env, free_port, provision_in_moto, start
from moto import mock_aws
from spapi_simulator.testing import admin, authorize
from storesync.amazon.clients import seller_key
from storesync.clock import utcnow
from storesync.crypto import KmsCipher
from storesync.dal import bind_tables
from storesync.dal.products import Listing
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.dal.stores import Store, StoreSettings
from storesync.jobs import JobMessage
from storesync.wiring import refresh_token_context
from storesync_local.functions import FakeLambdaContext, load_handler
from storesync_local.template import functions, load_template

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"


def connect_store(sim: Any, stack: Any) -> Store:
    granted = authorize(sim, SELLER)
    store_id = f"bench_{uuid.uuid4().hex[:8]}"
    kms = boto3.client("kms", region_name="us-east-1")
    encrypted = KmsCipher(kms, stack.physical["DataKey"]).encrypt(
        granted.refresh_token, refresh_token_context(store_id)
    )
    now = utcnow()
    store = Store("bench-merchant", store_id, name="Bench store", marketplace_id=US, region="NA",
                  status=STATUS_ACTIVE, selling_partner_id=SELLER, seller_key=seller_key(SELLER, "NA"),
                  refresh_token_encrypted=encrypted, settings=StoreSettings(starting_inventory="match_amazon"),
                  created_at=now, authorized_at=now)  # fmt: skip
    store.save()
    return store


def sqs_record(body: str, message_id: str) -> dict[str, Any]:
    return {"Records": [{"messageId": message_id, "receiptHandle": "bench", "body": body,
                         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "bench",
                                        "ApproximateFirstReceiveTimestamp": "0"},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench", "awsRegion": "us-east-1"}]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--slice-rows", type=int, default=5000)
    parser.add_argument("--slice-seconds", type=float, default=30.0)
    parser.add_argument("--quota-scale", type=float, default=1000.0)
    parser.add_argument("--mode", choices=("full", "incremental"), default="full")
    parser.add_argument("--no-tracemalloc", action="store_true", help="faster; peak memory from max RSS only")
    args = parser.parse_args()

    sim_port = free_port()
    sim = SimpleNamespace(url=f"http://127.0.0.1:{sim_port}")
    children = [
        start(
            [
                sys.executable,
                "-m",
                "spapi_simulator",
                "--port",
                str(sim_port),
                "--skus",
                str(args.skus),
                "--orders",
                "0",
                "--quota-scale",
                str(args.quota_scale),
            ],
            sim.url + "/_sim/clock",
        ),  # fmt: skip
    ]
    try:
        with mock_aws():
            run(args, sim)
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=10)


def run(args: argparse.Namespace, sim: Any) -> None:
    template = load_template()
    stack_name = f"bench{uuid.uuid4().hex[:6]}"
    stack = provision_in_moto(sim.url, stack_name, template)
    enter_function_env(stack, "ProductImportFunction", args.quota_scale)
    os.environ.update({"PRODUCT_REPORT_POLL_SECONDS": "0",
                       "PRODUCT_SLICE_ROWS": str(args.slice_rows), "PRODUCT_SLICE_SECONDS": str(args.slice_seconds)})  # fmt: skip
    spec = functions(template)["ProductImportFunction"]
    handler = load_handler(spec["code_uri"], spec["handler"])
    bind_tables(stack_name, "us-east-1", None)
    store = connect_store(sim, stack)
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = stack.queue_url("ProductImportQueue")
    admin(sim, "POST", "stats/reset")
    writes = WriteCounter()
    context = FakeLambdaContext("bench-product-import")
    message = JobMessage(
        job="products", mode=args.mode, merchant_id=store.merchant_id, store_id=store.store_id
    )

    traced = not args.no_tracemalloc
    if traced:
        tracemalloc.start()
    peak, slowest, invocations = 0, 0.0, 0
    pending = [(message.model_dump_json(), "first")]
    began = time.perf_counter()
    while pending:
        body, message_id = pending.pop(0)
        if traced:  # moto's tables live in this process: count only what one invocation adds at its peak
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        answer = handler(sqs_record(body, message_id), context)
        slowest = max(slowest, time.perf_counter() - started)
        if traced:
            peak = max(peak, tracemalloc.get_traced_memory()[1] - baseline)
        invocations += 1
        print(f"  invocation {invocations}: {time.perf_counter() - started:.1f} s (total {time.perf_counter() - began:.0f} s)",
              file=sys.stderr, flush=True)  # fmt: skip
        assert answer == {"batchItemFailures": []}, answer
        admin(sim, "POST", "clock/advance", json={"seconds": 5})
        for waiting in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=waiting["ReceiptHandle"])
            pending.append((waiting["Body"], waiting["MessageId"]))
    wall = time.perf_counter() - began
    if traced:
        tracemalloc.stop()

    calls = admin(sim, "GET", "stats")["calls"]
    imported = sum(1 for _ in Listing.query(store.store_id))
    fresh = Store.get(store.merchant_id, store.store_id)
    print(f"catalog: {args.skus:,} SKUs ({args.mode} import, slice {args.slice_rows:,} rows / {args.slice_seconds:.0f} s, "
          f"quota scale {args.quota_scale:g})")  # fmt: skip
    print(f"listings imported: {imported:,}; last run: {fresh.last_runs['products']['summary']}")
    print(f"wall time: {wall:.1f} s over {invocations} invocations (slowest {slowest:.1f} s)")
    print(f"SP-API calls: {sum(calls.values()):,} " + json.dumps(dict(sorted(calls.items()))))
    print(f"DynamoDB writes: {writes.items:,} items in {writes.calls:,} write calls")
    print(f"peak memory: {peak / 1e6:.1f} MB traced above the invocation's start (tracemalloc; moto's new items included); "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
