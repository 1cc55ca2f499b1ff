"""The buyer-requested-cancellation hold, from the simulator (POST /_sim/orders/{id}/buyer-cancellation sends
ORDER_CHANGE BuyerRequestedChange) through the real OrderImportFunction to the API: the order goes on the hold
with the buyer's reason and keeps its stock allocated; the hold ends when Amazon cancels it (stock released) or
when the merchant ships it anyway (WMS shipment confirmed by the real ShipmentPushFunction)."""

from __future__ import annotations

import json

import requests
from fixtures_stores import Api
from order_import_support import MERCHANT, OrderImportHarness, admin, level, new_order, stocked_store, stored
from shipment_push_support import push_event, ship

HOLD = "buyer_requested_cancellation"


def test_the_hold_until_amazon_cancels(app_h: OrderImportHarness, orders_api: Api):
    h, sim, api = app_h, app_h.sim, orders_api
    store, fbm = stocked_store(h, 10)
    order_id = new_order(sim, {fbm[0]: 2})
    other_id = new_order(sim, {fbm[0]: 1})
    h.deliver_notifications()
    assert level(MERCHANT, fbm[0]) == (10, 3)

    bad = requests.post(f"{sim.url}/_sim/orders/{order_id}/buyer-cancellation", json={}, timeout=30)
    assert bad.status_code == 400 and "reason" in bad.text
    admin(sim, "POST", f"orders/{order_id}/buyer-cancellation", {"reason": "Ordered by mistake"})
    bodies, answer = h.deliver_notifications()
    assert answer == {"batchItemFailures": []}
    [message] = [json.loads(b) for b in bodies]
    notification = message["Payload"]["OrderChangeNotification"]
    assert notification["OrderChangeType"] == "BuyerRequestedChange"
    assert notification["Summary"]["OrderItems"][0]["IsBuyerRequestedCancel"] is True

    order = stored(store, order_id)
    assert order.status == "open" and order.holds == [HOLD] and order.automation_blocked
    assert order.buyer_cancellation_reason == "Ordered by mistake"
    assert level(MERCHANT, fbm[0]) == (10, 3)  # its stock stays allocated
    view = api("GET", f"/orders/{store.store_id}.{order_id}").json()
    assert view["holds"] == [HOLD] and "Ordered by mistake" in view["hold_reasons"][HOLD]
    assert view["items"][0]["cancellation_request"] == {"requester": "BUYER", "reason": "Ordered by mistake"}
    listed = api("GET", "/orders", query={"hold": HOLD}).json()["orders"]
    assert [o["amazon_order_id"] for o in listed] == [order_id]
    assert stored(store, other_id).holds == []

    # a poll reads the request on the item again: still one hold, nothing moves
    h.advance()
    h.poll(store)
    assert stored(store, order_id).holds == [HOLD] and level(MERCHANT, fbm[0]) == (10, 3)

    admin(sim, "POST", f"orders/{order_id}/cancel")
    h.deliver_notifications()
    order = stored(store, order_id)
    assert order.status == "cancelled" and order.holds == [] and not order.automation_blocked
    assert level(MERCHANT, fbm[0]) == (10, 1)  # released
    assert order.buyer_cancellation_reason == "Ordered by mistake"  # kept: why it was cancelled


def test_the_merchant_ships_it_anyway(app_h: OrderImportHarness, load_function, lambda_context):
    h, sim = app_h, app_h.sim
    store, fbm = stocked_store(h, 10)
    order_id = new_order(sim, {fbm[0]: 2})
    h.deliver_notifications()
    admin(sim, "POST", f"orders/{order_id}/buyer-cancellation", {"reason": "Found it cheaper"})
    h.deliver_notifications()
    order = stored(store, order_id)
    assert order.holds == [HOLD]

    item_id = order.items[0].order_item_id
    ship(store, order_id, [{"order_item_id": item_id, "quantity": 1}], carrier="UPS", tracking="U1")
    push = load_function("ShipmentPushFunction")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    order = stored(store, order_id)
    assert order.status == "partially_shipped" and order.holds == [HOLD]  # the rest still waits

    ship(store, order_id, [{"order_item_id": item_id, "quantity": 1}], carrier="UPS", tracking="U2")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    order = stored(store, order_id)
    assert order.status == "shipped" and order.holds == [] and not order.automation_blocked
    assert level(MERCHANT, fbm[0]) == (8, 0)
    h.deliver_notifications()  # Amazon's SHIPPED (the request is no longer on any unshipped item)
    h.advance()
    h.poll(store)
    assert stored(store, order_id).holds == []
