"""At-least-once delivery on moto (issue 16): an order imported from the simulator by the real OrderImportFunction
while the bus refuses, or while the function dies between its commit and the publish, is stored with its event's
outbox row in the same transaction; the real EventRelayFunction then delivers the event to the WMS's SQS queue
(the rule the local provisioning puts on the bus), with the order's eventId, once, and deletes the row."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import order_import_support as support
import pytest
from storesync.clock import utcnow
from storesync.dal.outbox import OutboxEvent
from storesync.event_bus import EventBridgePublisher, EventsNotPublished
from storesync.usecases import event_relay, order_upsert
from storesync_local.functions import FakeLambdaContext
from storesync_local.template import LOCAL_EVENTS_QUEUE


def received(h: support.OrderImportHarness, order_id: str) -> list[dict[str, Any]]:
    events = [json.loads(body) for body in h.drain(LOCAL_EVENTS_QUEUE)]
    return [e for e in events if e["detail"].get("amazonOrderId") == order_id]


def outbox_rows() -> dict[str, OutboxEvent]:
    return {row.event_id: row for row in OutboxEvent.scan(consistent_read=True)}


def relay(
    h: support.OrderImportHarness, load_function: Any, monkeypatch: Any, later: float
) -> dict[str, Any]:
    """One run of the relay as if `later` seconds had passed since now."""
    at = utcnow() + timedelta(seconds=later)
    monkeypatch.setattr(event_relay, "utcnow", lambda: at)
    answer: dict[str, Any] = load_function("EventRelayFunction")({}, FakeLambdaContext("EventRelayFunction"))
    return answer


def refuse(self: EventBridgePublisher, batch: Any) -> None:
    raise EventsNotPublished(f"{len(batch)} event(s) not accepted by bus: ThrottlingException")


def test_an_order_imported_while_the_bus_refuses_reaches_the_wms_through_the_relay(
    h: support.OrderImportHarness, load_function: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[0]: 2})
    h.advance()
    with monkeypatch.context() as refusing:
        refusing.setattr(EventBridgePublisher, "_put", refuse)
        answers = h.poll(store)
    assert all(a == {"batchItemFailures": []} for a in answers)  # committed: the job does not fail
    order = support.stored(store, order_id)
    assert support.level(support.MERCHANT, fbm[0]) == (5, 2)  # the change is committed...
    assert received(h, order_id) == []  # ...and not told yet
    rows = outbox_rows()
    (row,) = [r for r in rows.values() if json.loads(r.detail)["amazonOrderId"] == order_id]
    assert row.detail_type == "Order Imported" and json.loads(row.detail)["version"] == order.version
    assert row.expires_at > utcnow() + timedelta(days=6)
    assert "address" not in row.detail.lower()  # no buyer data in the outbox either

    assert (
        relay(h, load_function, monkeypatch, later=10)["waiting"] == 0
    )  # its own function may still send it
    assert received(h, order_id) == []
    sent = relay(h, load_function, monkeypatch, later=90)
    assert (sent["waiting"], sent["published"], sent["refused"]) == (len(rows), len(rows), 0)
    (event,) = received(h, order_id)
    assert event["detail-type"] == "Order Imported" and event["detail"]["eventId"] == row.event_id
    assert outbox_rows() == {}
    assert relay(h, load_function, monkeypatch, later=120)["waiting"] == 0
    h.advance()
    h.poll(store)  # the same order again: no change, no event, no row
    assert received(h, order_id) == [] and outbox_rows() == {}


def test_a_function_that_dies_between_commit_and_publish_is_covered_by_the_relay(
    h: support.OrderImportHarness, load_function: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[0]: 1})
    h.advance()

    def dies(*args: Any, **kwargs: Any) -> bool:
        raise SystemExit("the Lambda sandbox went away after the commit")

    with monkeypatch.context() as dying:
        dying.setattr(order_upsert, "deliver", dies)
        with pytest.raises(SystemExit):
            h.poll(store, follow=False)
    assert support.level(support.MERCHANT, fbm[0]) == (5, 1)
    assert received(h, order_id) == []
    (row,) = outbox_rows().values()
    assert row.detail_type == "Order Imported"

    h.advance()
    h.poll(store)  # the job runs again (SQS redelivers it): the order is stored already, nothing new to tell
    assert received(h, order_id) == []
    assert list(outbox_rows()) == [row.event_id]

    relay(h, load_function, monkeypatch, later=120)
    (event,) = received(h, order_id)
    assert (event["detail-type"], event["detail"]["eventId"]) == ("Order Imported", row.event_id)
    assert outbox_rows() == {}
