""" "Sync now" starts at most one run per store and job at a time: a second request while one is queued or running
answers that one (same run_id, 202) and queues nothing (issue 15, throttling)."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from fixtures_stores import ACME, US, Api, connect_api, connected_store
from storesync.dal.job_state import (
    MANUAL_RUN_PATIENCE_SECONDS,
    acquire_lease,
    claim_manual_run,
    release_lease,
)


@pytest.fixture
def api(make_stack, spapi_sim, load_function, lambda_context) -> Api:
    return connect_api(make_stack, spapi_sim, load_function, lambda_context)


def queued(api: Api, queue: str) -> list[dict]:
    sqs = boto3.client("sqs")
    url = api.stack.queue_url(queue)
    found = []
    while True:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        if not answer.get("Messages"):
            return found
        found += [json.loads(m["Body"]) for m in answer["Messages"]]


def sync(api: Api, store_id: str, **body: str) -> dict:
    answer = api("POST", f"/stores/{store_id}/sync", body=body)
    assert answer.status == 202, answer.text
    return dict(answer.json())


def test_a_second_request_gets_the_queued_run_and_queues_nothing(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    first = sync(api, store.store_id, job="orders", mode="catchup")
    assert first["new"] is True and first["state"] == "queued" and first["run_id"].startswith("run_")
    again = sync(api, store.store_id, job="orders")
    assert (again["run_id"], again["new"], again["state"]) == (first["run_id"], False, "queued")
    assert again["queued"]["mode"] == "catchup"  # the run that is queued, not the one asked for
    other_job = sync(api, store.store_id, job="inventory")
    assert other_job["new"] is True and other_job["run_id"] != first["run_id"]
    assert [m["job"] for m in queued(api, "OrderImportQueue")] == ["orders"]
    assert [m["job"] for m in queued(api, "InventoryPushQueue")] == ["inventory"]

    # the runner takes the lease: still the same run, now running
    assert acquire_lease(store.store_id, "orders", store.merchant_id, "owner-1", 300) is not None
    running = sync(api, store.store_id, job="orders")
    assert (running["run_id"], running["new"], running["state"]) == (first["run_id"], False, "running")
    # it gives the lease back: the next request starts a new run
    release_lease(store.store_id, "orders", "owner-1")
    after = sync(api, store.store_id, job="orders")
    assert after["new"] is True and after["run_id"] != first["run_id"]
    assert [m["job"] for m in queued(api, "OrderImportQueue")] == ["orders"]


def test_a_scheduled_run_in_progress_is_answered_as_running(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    assert acquire_lease(store.store_id, "products", store.merchant_id, "scheduled", 300) is not None
    first = sync(api, store.store_id, job="products")
    assert (first["new"], first["state"]) == (False, "running")
    assert sync(api, store.store_id, job="products")["run_id"] == first["run_id"]
    assert queued(api, "ProductImportQueue") == []
    release_lease(store.store_id, "products", "scheduled")
    assert sync(api, store.store_id, job="products")["new"] is True


def test_a_claim_no_run_took_up_expires(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    now = time.time()
    lost = claim_manual_run(store.store_id, "orders", store.merchant_id, "incremental", "run_lost", now=now)
    assert lost.new
    later = now + MANUAL_RUN_PATIENCE_SECONDS - 1
    waiting = claim_manual_run(store.store_id, "orders", store.merchant_id, "incremental", "run_b", now=later)
    assert (waiting.run_id, waiting.new) == ("run_lost", False)
    expired = now + MANUAL_RUN_PATIENCE_SECONDS + 1
    fresh = claim_manual_run(store.store_id, "orders", store.merchant_id, "catchup", "run_c", now=expired)
    assert (fresh.run_id, fresh.mode, fresh.new) == ("run_c", "catchup", True)
