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
