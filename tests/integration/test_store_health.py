"""A revoked grant on moto + the simulator: the next run pauses the store with a plain-words reason (API), its
queued jobs end skipped with no retry loop, and reauthorizing resumes it, queues the catch-up and imports the
orders missed meanwhile. Also: the store's health and a failed run's summary through the real handlers."""

from __future__ import annotations

import json

import pytest
import requests
from fixtures_stores import ACME, US, Api, connect_api, consent
from order_import_support import OrderImportHarness, _record, new_order, orders_of, sim_skus, stock
from spapi_simulator.testing import clear_sp_api_caches, fault_mode
from storesync.dal.store_queries import get_store
from storesync.jobs import JobMessage


@pytest.fixture
def api(make_stack, spapi_sim_factory, load_function, lambda_context) -> Api:
    return connect_api(make_stack, spapi_sim_factory(orders=0), load_function, lambda_context)


@pytest.fixture
def h(api: Api, load_function) -> OrderImportHarness:
    return OrderImportHarness(api.sim, api.stack, load_function("OrderImportFunction"))


def _delayed(h: OrderImportHarness) -> int:
    """Messages of the order queue waiting for their delay (moto keeps them out of receive_message)."""
    answer = h.sqs.get_queue_attributes(
        QueueUrl=h.stack.queue_url("OrderImportQueue"), AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )
    return int(answer["Attributes"]["ApproximateNumberOfMessagesDelayed"])


def _connected(api: Api) -> str:
    store_id, answer = api.connect(ACME, US)
    assert answer.status == 302, answer.text
    return store_id


def test_revoked_grant_pauses_the_store_and_reauthorizing_catches_up(api: Api, h: OrderImportHarness):
    store_id = _connected(api)
    fbm, _ = sim_skus(api.sim)
    stock("merchant-1", fbm[0], 10)
    first = new_order(api.sim, {fbm[0]: 1})
    h.advance()
    h.poll(get_store("merchant-1", store_id))
    assert [o.amazon_order_id for o in orders_of(get_store("merchant-1", store_id))] == [first]
    health = api("GET", f"/stores/{store_id}").json()["health"]
    assert health["jobs"]["orders"]["state"] == "ok" and health["jobs"]["orders"]["last_success_at"]

    requests.post(f"{api.sim.url}/_sim/grants/{ACME}/revoke", timeout=5).raise_for_status()
    clear_sp_api_caches()  # the access token cached in this process would live on, as at Amazon
    missed = new_order(api.sim, {fbm[0]: 2})
    h.advance()
    h.poll(get_store("merchant-1", store_id))
    # its ORDER_CHANGE arrives while the store is paused: taken off the queue, the order comes with the catch-up
    bodies, answer = h.deliver_notifications()
    assert missed in " ".join(bodies) and answer["batchItemFailures"] == []
    assert [o.amazon_order_id for o in orders_of(get_store("merchant-1", store_id))] == [first]

    shown = api("GET", f"/stores/{store_id}").json()
    assert shown["status"] == "needs_reauthorization"
    assert "Syncing is paused: reauthorize the store to resume it" in shown["status_reason"]
    assert shown["last_runs"]["orders"]["result"] == "error"
    assert "reauthorize the store" in shown["last_runs"]["orders"]["summary"]
    assert {j["state"] for j in shown["health"]["jobs"].values()} == {"paused"}
    assert shown["health"]["warnings"] == []
    assert h.drain("OrderImportQueue") == [] and _delayed(h) == 0  # no retry loop

    # a message still queued for the paused store ends skipped: no run, no continuation
    runs = len(h.runs(get_store("merchant-1", store_id)))
    answer = h.handler(h.job_event(get_store("merchant-1", store_id), trigger="continuation"), h.context)
    assert answer["batchItemFailures"] == []
    assert len(h.runs(get_store("merchant-1", store_id))) == runs
    assert h.drain("OrderImportQueue") == []
    assert api("POST", f"/stores/{store_id}/sync", body={"job": "orders"}).status == 409

    reauth = api("POST", f"/stores/{store_id}/reauthorize").json()
    assert api.callback(consent(reauth["consent_url"], ACME)).status == 302
    assert api("GET", f"/stores/{store_id}").json()["status"] == "active"

    queued = {
        queue: [json.loads(body) for body in h.drain(queue)]
        for queue in ("OrderImportQueue", "ProductImportQueue", "InventoryPushQueue", "ShipmentPushQueue")
    }
    assert [(m["job"], m["mode"], m["trigger"]) for m in queued["OrderImportQueue"]] == [
        ("orders", "catchup", "reauthorized")
    ]
    assert [m["job"] for m in queued["ProductImportQueue"]] == ["products"]
    assert [m["job"] for m in queued["InventoryPushQueue"]] == ["inventory"]
    assert [m["job"] for m in queued["ShipmentPushQueue"]] == ["shipments"]

    h.catch_up(get_store("merchant-1", store_id))  # the order report, then the orders that differ
    assert sorted(o.amazon_order_id for o in orders_of(get_store("merchant-1", store_id))) == sorted(
        [first, missed]
    )
    shown = api("GET", f"/stores/{store_id}").json()
    assert shown["last_runs"]["orders"]["result"] == "ok"
    assert shown["last_runs"]["orders"]["failed_runs"] == 0
    assert shown["health"]["jobs"]["orders"]["state"] == "ok"


def test_amazon_failing_the_order_run_is_retried_then_shown_failed(api: Api, h: OrderImportHarness):
    store_id = _connected(api)
    requests.post(f"{api.sim.url}/_sim/faults", json={"error_rate_503": 1.0}, timeout=5).raise_for_status()
    h.poll(get_store("merchant-1", store_id), follow=False)
    assert _delayed(h) == 1  # the retry waits its backoff (60 s) in the queue
    shown = api("GET", f"/stores/{store_id}").json()["last_runs"]["orders"]
    assert shown["result"] == "error" and "Attempt 1 of 5 failed" in shown["summary"]
    assert "searchOrders" in shown["summary"]

    arn = h.stack.arns["OrderImportQueue"]
    for attempt in range(1, 5):  # the retries as SQS delivers them after their delays
        message = JobMessage(job="orders", merchant_id="merchant-1", store_id=store_id, trigger="continuation",
                             attempt=attempt)  # fmt: skip
        h.handler({"Records": [_record("sqs_order_import.json", message.model_dump_json(), arn)]}, h.context)
        assert _delayed(h) == (1 + attempt if attempt < 4 else 4)  # the last one sends none
    store = api("GET", f"/stores/{store_id}").json()
    last = store["last_runs"]["orders"]
    assert last["result"] == "failed" and "stopped retrying" in last["summary"]
    assert store["health"]["jobs"]["orders"]["state"] == "failing"
    assert [w["code"] for w in store["health"]["warnings"]] == ["sync_failing"]
    assert store["health"]["warnings"][0]["message"].startswith("Order import failed 5 runs in a row")
    runs = api("GET", f"/stores/{store_id}/runs", query={"job": "orders"}).json()["runs"]
    assert [r["result"] for r in runs] == ["failed", "error", "error", "error", "error"]
    assert all(r["errors"] for r in runs)


def test_access_tokens_issued_before_a_revoke_pause_the_store_at_the_next_run(
    api: Api, h: OrderImportHarness
):
    """As at Amazon: the cached access token answers 403 after the revoke; the adapter refreshes it once, LWA
    refuses the grant, and the run pauses the store (no retry loop, no cache clearing here)."""
    store_id = _connected(api)
    h.poll(get_store("merchant-1", store_id))
    assert get_store("merchant-1", store_id).last_runs["orders"]["result"] == "ok"
    requests.post(f"{api.sim.url}/_sim/grants/{ACME}/revoke", timeout=5).raise_for_status()

    h.poll(get_store("merchant-1", store_id))
    shown = api("GET", f"/stores/{store_id}").json()
    assert shown["status"] == "needs_reauthorization"
    assert "Syncing is paused" in shown["status_reason"]
    assert h.drain("OrderImportQueue") == [] and _delayed(h) == 0


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("empty_body", "amazon_answer_invalid"),
        ("truncated_body", "amazon_answer_invalid"),
        ("html_5xx", "amazon_unavailable"),
    ],
)
def test_an_answer_that_cannot_be_read_fails_the_attempt_then_the_retry_imports(
    api: Api, h: OrderImportHarness, mode: str, code: str
):
    store_id = _connected(api)
    fbm, _ = sim_skus(api.sim)
    stock("merchant-1", fbm[0], 10)
    order = new_order(api.sim, {fbm[0]: 1})
    h.advance()
    fault_mode(api.sim, mode, 1.0, ["searchOrders"])
    (answer,) = h.poll(get_store("merchant-1", store_id), follow=False)
    assert answer["batchItemFailures"] == []  # no bug path: a failed attempt, retried by the runner
    assert _delayed(h) == 1
    run = api("GET", f"/stores/{store_id}/runs", query={"job": "orders"}).json()["runs"][0]
    assert run["result"] == "error"
    codes = [e["code"] for e in run["errors"]]
    assert codes == [code, "run_retrying"]
    assert "searchOrders" in run["errors"][0]["message"]
    last = api("GET", f"/stores/{store_id}").json()["last_runs"]["orders"]
    assert "searchOrders" in last["summary"] and "nothing to do" not in last["summary"]
    assert orders_of(get_store("merchant-1", store_id)) == []  # never read as "no orders"

    fault_mode(api.sim, mode, 0.0)
    retry = JobMessage(
        job="orders", merchant_id="merchant-1", store_id=store_id, trigger="continuation", attempt=1
    )
    arn = h.stack.arns["OrderImportQueue"]
    h.handler({"Records": [_record("sqs_order_import.json", retry.model_dump_json(), arn)]}, h.context)
    assert [o.amazon_order_id for o in orders_of(get_store("merchant-1", store_id))] == [order]
    last = api("GET", f"/stores/{store_id}").json()["last_runs"]["orders"]
    assert last["result"] == "ok" and last["failed_runs"] == 0
