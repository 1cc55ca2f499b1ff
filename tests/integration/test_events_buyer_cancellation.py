"""The buyer-requested-cancellation hold (built by `fields`, issue 16 part 3) through the real handler to the event
bus: the simulator's buyer-cancellation sends ORDER_CHANGE BuyerRequestedChange; storesync puts the order on the
hold and publishes Buyer Requested Cancellation once; Amazon's cancellation then publishes Order Cancelled; the
merchant shipping it anyway lifts the hold through the state machine and publishes Order Changed (through the
outbox and the relay when the bus refuses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import order_import_support as support
from jsonschema import Draft4Validator, FormatChecker
from storesync_local.template import LOCAL_EVENTS_QUEUE

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"
HOLD = "buyer_requested_cancellation"


def of_order(h: support.OrderImportHarness, order_id: str) -> list[dict[str, Any]]:
    events = [json.loads(body) for body in h.drain(LOCAL_EVENTS_QUEUE)]
    for event in events:
        schema = json.loads((SCHEMAS / (event["detail-type"].replace(" ", "") + ".json")).read_text())
        Draft4Validator(schema, format_checker=FormatChecker()).validate(event)
    return [e for e in events if e["detail"].get("amazonOrderId") == order_id]


def test_a_buyer_cancellation_request_then_amazon_cancelling(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[0]: 2})
    h.advance()
    h.poll(store)
    assert [e["detail-type"] for e in of_order(h, order_id)] == ["Order Imported"]

    support.admin(h.sim, "POST", f"orders/{order_id}/buyer-cancellation", {"reason": "Ordered by mistake"})
    _, answer = h.deliver_notifications()
    assert answer == {"batchItemFailures": []}
    h.advance()
    h.poll(store)  # polling sees the same request: not told twice
    asked = of_order(h, order_id)
    assert [e["detail-type"] for e in asked] == ["Buyer Requested Cancellation"]
    detail = asked[0]["detail"]
    assert "buyer_requested_cancellation" in detail["holds"] and detail["status"] == "open"
    assert support.level(support.MERCHANT, fbm[0]) == (5, 2)  # the stock stays allocated

    support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
    h.deliver_notifications()
    cancelled = of_order(h, order_id)
    assert [e["detail-type"] for e in cancelled] == ["Order Cancelled"]
    assert "buyer_requested_cancellation" in cancelled[0]["detail"]["previousHolds"]
    assert support.level(support.MERCHANT, fbm[0]) == (5, 0)


def test_shipping_anyway_lifts_the_hold_as_an_order_changed_and_a_refused_bus_is_covered_by_the_relay(
    h: support.OrderImportHarness, load_function: Any, lambda_context: Any, monkeypatch: Any
) -> None:
    from datetime import timedelta

    from shipment_push_support import push_event, ship
    from storesync.clock import utcnow
    from storesync.dal.outbox import OutboxEvent
    from storesync.event_bus import EventBridgePublisher, EventsNotPublished
    from storesync.usecases import event_relay

    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[0]: 2})
    h.deliver_notifications()
    support.admin(h.sim, "POST", f"orders/{order_id}/buyer-cancellation", {"reason": "Found it cheaper"})
    h.deliver_notifications()
    of_order(h, order_id)
    item_id = support.stored(store, order_id).items[0].order_item_id
    push = load_function("ShipmentPushFunction")

    ship(store, order_id, [{"order_item_id": item_id, "quantity": 1}], carrier="UPS", tracking="U1")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    partly = of_order(h, order_id)
    assert [e["detail-type"] for e in partly] == ["Shipment Confirmed", "Order Changed"]
    assert (partly[1]["detail"]["status"], partly[1]["detail"]["holds"]) == ("partially_shipped", [HOLD])

    def refuse(self: Any, batch: Any) -> None:
        raise EventsNotPublished("not accepted: ThrottlingException")

    ship(store, order_id, [{"order_item_id": item_id, "quantity": 1}], carrier="UPS", tracking="U2")
    with monkeypatch.context() as refusing:
        refusing.setattr(EventBridgePublisher, "_put", refuse)
        assert push(push_event(store), lambda_context) == {"batchItemFailures": []}  # committed: no failure
    order = support.stored(store, order_id)
    assert order.status == "shipped" and order.holds == []
    assert of_order(h, order_id) == []
    staged = {row.event_id: row.detail_type for row in OutboxEvent.scan(consistent_read=True)}
    assert sorted(staged.values()) == ["Order Changed", "Shipment Confirmed"]

    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(event_relay, "utcnow", lambda: later)
    load_function("EventRelayFunction")({}, lambda_context)
    shipped = of_order(h, order_id)
    assert sorted(e["detail"]["eventId"] for e in shipped) == sorted(staged)
    (changed,) = [e["detail"] for e in shipped if e["detail-type"] == "Order Changed"]
    assert (changed["previousStatus"], changed["previousHolds"]) == ("partially_shipped", [HOLD])
    assert (changed["status"], changed["holds"], changed["version"]) == ("shipped", [], order.version)
    assert list(OutboxEvent.scan(consistent_read=True)) == []
