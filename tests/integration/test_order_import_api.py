"""GET /orders and GET /orders/{id} through the real ApiFunction handler, on orders the real OrderImportFunction
imported: filters, pagination, the address decrypted only for the owning merchant."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fixtures_stores import Api
from order_import_support import MERCHANT, admin, make_harness, new_order, sim_skus, stock, store_of
from spapi_simulator.sellers import APPLICATION_ID
from spapi_simulator.simulator import Simulator


def test_orders_api(
    make_stack: Callable[..., Any], spapi_sim_factory: Callable[..., Simulator], load_function, lambda_context
):
    sim = spapi_sim_factory(orders=0)
    h = make_harness(make_stack, sim, load_function, SpApiApplicationId=APPLICATION_ID)
    api = Api(load_function("ApiFunction"), lambda_context, sim, h.stack)
    fbm, fba = sim_skus(sim)
    store = store_of(h, import_pending_orders=True)
    stock(MERCHANT, fbm[0], 10)
    open_id = new_order(sim, {fbm[0]: 1})
    pending_id = new_order(sim, {fbm[0]: 1}, status="PENDING")
    fba_id = new_order(sim, {fba[0]: 1}, fulfilled_by="AMAZON")
    h.deliver_notifications()

    everything = api("GET", "/orders")
    assert everything.status == 200, everything.text
    assert {o["amazon_order_id"] for o in everything.json()["orders"]} == {open_id, pending_id, fba_id}

    held = api("GET", "/orders", query={"hold": "payment_hold"}).json()["orders"]
    assert [o["amazon_order_id"] for o in held] == [pending_id] and held[0]["automation_blocked"]
    fba_only = api("GET", "/orders", query={"channel": "FBA", "store_id": store.store_id}).json()["orders"]
    assert [o["amazon_order_id"] for o in fba_only] == [fba_id]
    opened = api("GET", "/orders", query={"status": "open", "channel": "FBM"}).json()["orders"]
    assert [o["amazon_order_id"] for o in opened] == [open_id]

    first = api("GET", "/orders", query={"limit": "2"}).json()
    assert len(first["orders"]) == 2 and first["next_token"]
    rest = api("GET", "/orders", query={"limit": "2", "next_token": first["next_token"]}).json()
    seen = [o["amazon_order_id"] for o in first["orders"] + rest["orders"]]
    assert sorted(seen) == sorted({open_id, pending_id, fba_id})

    one = api("GET", f"/orders/{store.store_id}.{open_id}")
    assert one.status == 200, one.text
    body = one.json()
    assert body["id"] == f"{store.store_id}.{open_id}" and body["status"] == "open"
    assert body["address"] == admin(sim, "GET", f"orders/{open_id}")["address"]
    assert body["items"][0]["allocations"] == [{"warehouse_id": "primary", "quantity": 1}]
    assert (
        api("GET", f"/orders/{store.store_id}.{pending_id}").json()["address"] is None
    )  # blank until release

    other = api("GET", f"/orders/{store.store_id}.{open_id}", merchant="merchant-2")
    assert other.status == 404 and other.json()["error"]["field"] == "id"
    assert api("GET", "/orders", merchant="merchant-2").json()["orders"] == []
    assert api("GET", "/orders", merchant="merchant-2", query={"store_id": store.store_id}).status == 404

    bad = api("GET", "/orders", query={"status": "lost"})
    assert bad.status == 400 and bad.json()["error"]["field"] == "status"
    assert api("GET", "/orders", query={"next_token": "garbage"}).json()["error"]["field"] == "next_token"
    assert api("GET", "/orders/no-separator").json()["error"]["field"] == "id"


def test_sync_now_runs_an_incremental_order_import(
    make_stack: Callable[..., Any], spapi_sim_factory: Callable[..., Simulator], load_function, lambda_context
):
    sim = spapi_sim_factory(orders=0)
    h = make_harness(make_stack, sim, load_function, subscribe=False, SpApiApplicationId=APPLICATION_ID)
    api = Api(load_function("ApiFunction"), lambda_context, sim, h.stack)
    fbm, _ = sim_skus(sim)
    store = store_of(h)
    order_id = new_order(sim, {fbm[0]: 1})
    h.advance()
    answer = api("POST", f"/stores/{store.store_id}/sync", body={"job": "orders"})
    assert answer.status == 202, answer.text
    [body] = h.drain("OrderImportQueue")
    assert json.loads(body)["trigger"] == "manual"
    event = h.job_event(store)
    event["Records"][0]["body"] = body
    assert h.handler(event, h.context) == {"batchItemFailures": []}
    listed = api("GET", "/orders", query={"store_id": store.store_id}).json()["orders"]
    assert [o["amazon_order_id"] for o in listed] == [order_id]
    assert listed[0]["holds"] == ["unknown_sku"]  # no product or stock for that SKU in the WMS yet
