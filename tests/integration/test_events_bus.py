"""Events for the WMS end to end (issue 16 part 5): the simulator's orders go through the real OrderImportFunction
handler on moto; storesync publishes to the stack's EventBridge bus (EVENT_BUS_NAME from the template) and the
rule the local provisioning puts on it delivers them to an SQS queue, which this test reads like a WMS would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import order_import_support as support
from jsonschema import Draft4Validator, FormatChecker
from storesync_local.template import LOCAL_EVENTS_QUEUE

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"


def received(h: support.OrderImportHarness) -> list[dict[str, Any]]:
    """Every EventBridge event the local WMS queue got since the last call."""
    return [json.loads(body) for body in h.drain(LOCAL_EVENTS_QUEUE)]


def check_schema(event: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / (event["detail-type"].replace(" ", "") + ".json")).read_text())
    Draft4Validator(schema, format_checker=FormatChecker()).validate(event)


def of_order(events: list[dict[str, Any]], order_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e["detail-type"], e["detail"]) for e in events if e["detail"].get("amazonOrderId") == order_id]


def test_an_imported_then_cancelled_order_reaches_the_wms_queue_once_each(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[0]: 2})
    h.advance()
    h.poll(store)

    events = received(h)
    assert [t for t, _ in of_order(events, order_id)] == ["Order Imported"]
    for event in events:
        assert event["source"] == "storesync"
        check_schema(event)
    _, imported = of_order(events, order_id)[0]
    assert (imported["storeId"], imported["merchantId"], imported["status"], imported["channel"]) == (
        store.store_id,
        store.merchant_id,
        "open",
        "FBM",
    )
    assert imported["version"] == support.stored(store, order_id).version
    assert "address" not in json.dumps(imported).lower()  # buyer data never goes on the bus

    h.advance()
    h.poll(store)  # the same order again: no change, no event
    assert of_order(received(h), order_id) == []

    support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
    _, answer = h.deliver_notifications()
    assert answer == {"batchItemFailures": []}
    h.advance()
    h.poll(store)  # the polling backstop sees the same cancellation: published once
    cancelled = of_order(received(h), order_id)
    assert [t for t, _ in cancelled] == ["Order Cancelled"]
    detail = cancelled[0][1]
    assert (detail["previousStatus"], detail["status"], detail["amazonStatus"]) == (
        "open",
        "cancelled",
        "CANCELLED",
    )
    assert detail["eventId"] != imported["eventId"]
    assert support.level(support.MERCHANT, fbm[0]) == (5, 0)  # the change was committed before it was told


def test_a_pending_order_released_is_an_order_changed(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 5, import_pending_orders=True)
    order_id = support.new_order(h.sim, {fbm[0]: 1}, status="PENDING")
    h.advance()
    h.poll(store)
    support.admin(h.sim, "POST", f"orders/{order_id}/release")
    h.deliver_notifications()

    events = of_order(received(h), order_id)
    assert [t for t, _ in events] == ["Order Imported", "Order Changed"]
    changed = events[1][1]
    assert (changed["previousStatus"], changed["previousHolds"]) == ("pending", ["payment_hold"])
    assert (changed["status"], changed["holds"]) == ("open", [])


def test_a_refused_grant_publishes_store_needs_reauthorization_once(h: support.OrderImportHarness):
    store, _ = support.stocked_store(h, 1)
    support.admin(h.sim, "POST", f"grants/{support.SELLER}/revoke")
    h.poll(store)
    h.poll(store)  # the store is paused now: the second run is skipped, nothing more is published

    events = [e for e in received(h) if e["detail"]["storeId"] == store.store_id]
    assert [e["detail-type"] for e in events] == ["Store Needs Reauthorization"]
    check_schema(events[0])
    assert events[0]["detail"]["reason"]


def wms_events(stack: Any) -> list[dict[str, Any]]:
    import shipment_push_support

    return shipment_push_support.drain(stack.queue_url(LOCAL_EVENTS_QUEUE))


def test_a_confirmed_shipment_and_the_pushed_stock_reach_the_wms_queue(
    make_stack: Any, spapi_sim: Any, load_function: Any, lambda_context: Any
) -> None:
    import inventory_push_support as inventory
    import shipment_push_support as shipments
    from fixtures_stores import connected_store, sim_stack

    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, shipments.SELLER, shipments.US)
    sku_a, sku_b = shipments.fbm_skus(spapi_sim, shipments.SELLER, shipments.US)[:2]
    sim_order = shipments.amazon_order(spapi_sim, store, [(sku_a, 2), (sku_b, 1)])
    order_id = sim_order["order_id"]
    item_a = sim_order["items"][0]["order_item_id"]
    shipments.import_order(store, sim_order, spare=5)
    shipped = shipments.ship(
        store, order_id, [{"order_item_id": item_a, "quantity": 2}], carrier="usps", tracking="9400111"
    )
    wms_events(stack)  # whatever came before the push

    handler = load_function("ShipmentPushFunction")
    assert handler(shipments.push_event(store), lambda_context) == {"batchItemFailures": []}
    assert handler(shipments.push_event(store), lambda_context) == {"batchItemFailures": []}  # nothing left

    told = wms_events(stack)
    confirmed = [e for e in told if e["detail-type"] == "Shipment Confirmed"]
    assert len(confirmed) == 1
    followed = [e["detail"] for e in told if e["detail-type"] == "Order Changed"]
    assert [(d["amazonOrderId"], d["previousStatus"], d["status"]) for d in followed] == [
        (order_id, "open", "partially_shipped")
    ]
    assert followed[0]["version"] == support.stored(store, order_id).version
    check_schema(confirmed[0])
    detail = confirmed[0]["detail"]
    assert (
        detail["amazonOrderId"],
        detail["shipmentId"],
        detail["carrierCode"],
        detail["trackingNumber"],
    ) == (
        order_id,
        shipped.shipment_id,
        "USPS",
        "9400111",
    )
    assert detail["items"] == [{"orderItemId": item_a, "quantity": 2}]
    assert shipments.amazon_packages(spapi_sim, order_id)  # on Amazon before it was told

    inventory.mirror_listings(spapi_sim, store)
    inventory.set_stock(store.merchant_id, sku_b, on_hand=9, allocated=1)
    push = load_function("InventoryPushFunction")
    assert inventory.deliver(push, lambda_context, inventory.push_message(store)) == {"batchItemFailures": []}
    pushed = [e for e in wms_events(stack) if e["detail-type"] == "Stock Pushed"]
    assert pushed, "the push accepted quantities but published nothing"
    items = {i["sku"]: i["quantity"] for e in pushed for i in e["detail"]["items"]}
    for event in pushed:
        check_schema(event)
    for sku, quantity in items.items():
        assert inventory.amazon_quantity(spapi_sim, store, sku) == quantity
    assert items[sku_b] == inventory.amazon_quantity(spapi_sim, store, sku_b)


def test_a_push_that_dies_after_amazon_accepted_still_tells_the_wms_through_the_relay(
    make_stack: Any, spapi_sim: Any, load_function: Any, lambda_context: Any, monkeypatch: Any
) -> None:
    """Amazon accepted the quantities and the listings recorded them, then the function died before publishing:
    the Stock Pushed rows were written before the listings' writes, so the relay tells the WMS, once."""
    from datetime import timedelta

    import inventory_push_support as inventory
    from fixtures_stores import connected_store, sim_stack
    from storesync.clock import utcnow
    from storesync.dal.outbox import OutboxEvent
    from storesync.usecases import event_relay
    from storesync.usecases import inventory_push as push_usecase
    from storesync_local.functions import FakeLambdaContext

    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, inventory.SELLER, inventory.US)
    sku = inventory.fbm_skus(spapi_sim, inventory.SELLER, inventory.US)[0]
    inventory.mirror_listings(spapi_sim, store, [sku])
    inventory.set_stock(store.merchant_id, sku, on_hand=7, allocated=0)
    wms_events(stack)

    def die(self: Any) -> None:
        raise RuntimeError("the function died before publishing")

    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with monkeypatch.context() as dying:
        dying.setattr(push_usecase._Run, "publish_pushed", die)
        handler = load_function("InventoryPushFunction")
        try:
            inventory.deliver(handler, lambda_context, inventory.push_message(store))
        except BatchProcessingError as failed:  # the invocation failed (its only record)...
            assert "the function died" in str(failed.child_exceptions)
        else:
            raise AssertionError("the push did not fail")
    assert inventory.amazon_quantity(spapi_sim, store, sku) == 7  # ...after Amazon accepted
    assert inventory.listing(store, sku).last_pushed_quantity == 7  # ...and the listing recorded it
    assert wms_events(stack) == []  # nothing told yet
    rows = list(OutboxEvent.scan(consistent_read=True))
    assert [r.detail_type for r in rows] == ["Stock Pushed"]

    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(event_relay, "utcnow", lambda: later)
    load_function("EventRelayFunction")({}, FakeLambdaContext("EventRelayFunction"))
    (told,) = [e for e in wms_events(stack) if e["detail-type"] == "Stock Pushed"]
    check_schema(told)
    assert {i["sku"]: i["quantity"] for i in told["detail"]["items"]} == {sku: 7}
    assert list(OutboxEvent.scan(consistent_read=True)) == []
