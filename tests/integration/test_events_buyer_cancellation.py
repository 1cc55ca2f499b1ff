"""The buyer-requested-cancellation hold (built by `fields`, issue 16 part 3) through the real handler to the event
bus: the simulator's buyer-cancellation sends ORDER_CHANGE BuyerRequestedChange; storesync puts the order on the
hold and publishes Buyer Requested Cancellation once; Amazon's cancellation then publishes Order Cancelled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import order_import_support as support
from jsonschema import Draft4Validator, FormatChecker
from storesync_local.template import LOCAL_EVENTS_QUEUE

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"


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
