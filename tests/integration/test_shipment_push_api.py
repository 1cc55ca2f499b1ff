"""POST/GET /orders/{id}/shipments through the real ApiFunction handler, then the push: every refusal is a 4xx
naming the problem, the carrier choice is visible, the stock leaves with the shipment."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from fixtures_stores import Api, connect_api, connected_store
from inventory_push_support import mirror_listings
from shipment_push_support import (
    SELLER,
    US,
    amazon_order,
    amazon_packages,
    drain,
    fba_skus,
    fbm_skus,
    import_order,
    push_event,
    stock,
)
from spapi_simulator.testing import admin

MERCHANT = "merchant-1"


@pytest.fixture
def shop(
    make_stack: Any, spapi_sim: Any, load_function: Any, lambda_context: Any
) -> tuple[Api, Any, list[str]]:
    api = connect_api(make_stack, spapi_sim, load_function, lambda_context)
    store = connected_store(spapi_sim, api.stack, SELLER, US, merchant_id=MERCHANT)
    return api, store, fbm_skus(spapi_sim, SELLER, US)


def post(api: Api, order_id: str, body: Any, merchant: str = MERCHANT):  # type: ignore[no-untyped-def]
    return api("POST", f"/orders/{order_id}/shipments", merchant=merchant, body=body)


def test_create_list_and_push(shop, spapi_sim, load_function, lambda_context) -> None:
    api, store, skus = shop
    sim_order = amazon_order(spapi_sim, store, [(skus[0], 2)])
    import_order(store, sim_order, spare=0)
    mirror_listings(spapi_sim, store, [skus[0]])
    item_id = sim_order["items"][0]["order_item_id"]
    order_id = f"{store.store_id}.{sim_order['order_id']}"

    answer = post(api, order_id, {"carrier": "Japan Post", "tracking_number": "JP1", "ship_date": "2026-11-27",
                                  "items": [{"order_item_id": item_id, "quantity": 1}]})  # fmt: skip
    assert answer.status == 201, answer.text
    first = answer.json()
    assert first["order_id"] == order_id
    assert (first["package_reference_id"], first["push_state"]) == ("1", "pending")
    # Japan Post is not an amazon.com code: it goes as Other, named, and the answer says so.
    assert (first["carrier"], first["amazon_carrier_code"], first["amazon_carrier_name"]) == (
        "Japan Post",
        "Other",
        "Japan Post",
    )
    answer = post(
        api,
        order_id,
        {"carrier": "ups", "tracking_number": "1Z2", "items": [{"sku": skus[0], "quantity": 1}]},
    )
    assert answer.status == 201, answer.text
    assert answer.json()["amazon_carrier_code"] == "UPS"
    assert stock(MERCHANT, skus[0]) == (0, 0)
    # The last units left: the stock-out fast path asked the inventory push to tell Amazon now.
    queued = (
        boto3.client("sqs")
        .receive_message(QueueUrl=api.stack.queue_url("InventoryPushQueue"), MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    assert any('"stockout"' in m["Body"] and skus[0] in m["Body"] for m in queued)

    handler = load_function("ShipmentPushFunction")
    assert handler(push_event(store), lambda_context) == {"batchItemFailures": []}
    listed = api("GET", f"/orders/{order_id}/shipments", merchant=MERCHANT)
    assert listed.status == 200, listed.text
    shipments = listed.json()["shipments"]
    assert [(s["package_reference_id"], s["push_state"], s["tracking_number"]) for s in shipments] == [
        ("1", "confirmed", "JP1"),
        ("2", "confirmed", "1Z2"),
    ]
    assert sorted(p["tracking_number"] for p in amazon_packages(spapi_sim, sim_order["order_id"])) == [
        "1Z2",
        "JP1",
    ]


def test_every_refusal_names_the_problem(shop, spapi_sim) -> None:
    api, store, skus = shop
    sim_order = amazon_order(spapi_sim, store, [(skus[0], 1)])
    import_order(store, sim_order)
    item_id = sim_order["items"][0]["order_item_id"]
    order_id = f"{store.store_id}.{sim_order['order_id']}"
    good = {"carrier": "UPS", "tracking_number": "1Z", "items": [{"order_item_id": item_id, "quantity": 1}]}

    cases = [
        ({**good, "tracking_number": ""}, 400, "tracking_number"),
        ({**good, "carrier": "  "}, 400, "carrier"),
        ({**good, "items": [{"order_item_id": "nope", "quantity": 1}]}, 400, "items[0].order_item_id"),
        ({**good, "items": [{"sku": "NOT-IN-ORDER", "quantity": 1}]}, 400, "items[0].sku"),
        ({**good, "items": [{"order_item_id": item_id, "quantity": 2}]}, 409, "items[0].quantity"),
        ({**good, "items": [{"order_item_id": item_id, "quantity": -1}]}, 400, "items[0].quantity"),
        ({**good, "ship_date": "soon"}, 400, "ship_date"),
        ([good], 400, "body"),
    ]
    for body, status, field in cases:
        answer = post(api, order_id, body)
        assert (answer.status, answer.json()["error"]["field"]) == (status, field), (body, answer.text)
    # The order of another merchant, an unknown order, a malformed id: 404.
    assert post(api, order_id, good, merchant="someone-else").status == 404
    assert post(api, f"{store.store_id}.111-0000000-0000000", good).status == 404
    assert post(api, "no-dot-here", good).json()["error"]["field"] == "id"
    # Nothing was written by the refusals.
    assert api("GET", f"/orders/{order_id}/shipments", merchant=MERCHANT).json() == {"shipments": []}
    assert post(api, order_id, good).status == 201
    again = post(api, order_id, good)  # the same units twice
    assert (again.status, again.json()["error"]["code"]) == (409, "quantity_exceeds_unshipped")


def test_fba_and_cancelled_orders_are_refused(shop, spapi_sim) -> None:
    api, store, skus = shop
    fba_sku = fba_skus(spapi_sim, SELLER, US)[0]
    fba = amazon_order(spapi_sim, store, [(fba_sku, 1)], fulfilled_by="AMAZON")
    import_order(store, fba)
    cancelled = amazon_order(spapi_sim, store, [(skus[0], 1)])
    import_order(store, cancelled, status="cancelled")
    for sim_order, code in ((fba, "fba_order"), (cancelled, "order_cancelled")):
        sku = sim_order["items"][0]["sku"]
        body = {"carrier": "UPS", "tracking_number": "1Z", "items": [{"sku": sku, "quantity": 1}]}
        answer = post(api, f"{store.store_id}.{sim_order['order_id']}", body)
        assert (answer.status, answer.json()["error"]["code"]) == (409, code), answer.text
        assert sim_order["order_id"] in answer.json()["error"]["message"]


def test_sync_now_pushes_shipments_and_the_sync_log_shows_refusals(
    shop, spapi_sim, load_function, lambda_context
):
    api, store, skus = shop
    sim_order = amazon_order(spapi_sim, store, [(skus[0], 1)])
    import_order(store, sim_order)
    order_id = f"{store.store_id}.{sim_order['order_id']}"
    body = {"carrier": "DHL", "tracking_number": "D1", "items": [{"sku": skus[0], "quantity": 1}]}
    assert post(api, order_id, body).status == 201
    admin(spapi_sim, "POST", f"orders/{sim_order['order_id']}/cancel")  # cancelled on Amazon meanwhile

    answer = api("POST", f"/stores/{store.store_id}/sync", merchant=MERCHANT, body={"job": "shipments"})
    assert answer.status == 202, answer.text
    [queued] = drain(api.stack.queue_url("ShipmentPushQueue"))
    assert (queued["job"], queued["trigger"]) == ("shipments", "manual")
    event = push_event(store, trigger="manual")
    event["Records"][0]["body"] = json.dumps(queued)
    assert load_function("ShipmentPushFunction")(event, lambda_context) == {"batchItemFailures": []}

    [shipment] = api("GET", f"/orders/{order_id}/shipments", merchant=MERCHANT).json()["shipments"]
    assert shipment["push_state"] == "refused" and "cancelled" in shipment["amazon_message"]
    runs = api("GET", f"/stores/{store.store_id}/runs", merchant=MERCHANT).json()["runs"]
    [run] = [r for r in runs if r["job"] == "shipments"]
    assert any(
        sim_order["order_id"] in e["message"] and "cancelled" in e["message"] for e in run["errors"]
    ), run
