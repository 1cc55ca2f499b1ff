"""At-least-once delivery (issue 16): events whose outbox rows were committed with their change are published
after the commit and their rows deleted; what the bus refused, or what a function that died after its commit
never published, the relay sends later with the same eventId, once, and then the row is gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import MemoryOutbox, RecordingEventPublisher
from storesync.domain import events as ev
from storesync.domain.orders import Hold, OrderLine, OrderSnapshot, OrderStatus, ship_in_wms
from storesync.event_bus import EventsNotPublished
from storesync.usecases.event_relay import RELAY_GIVE_UP_AFTER, deliver, relay_events

COMMIT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def snapshot(status: str = "open", holds: tuple[Hold, ...] = ()) -> OrderSnapshot:
    return OrderSnapshot(
        amazon_order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        channel="FBM",
        status=OrderStatus(status),
        amazon_status="Unshipped",
        amazon_last_updated="2026-12-04T11:00:00Z",
        holds=holds,
        lines=(OrderLine("OI-1", "SKU-1", 2),),
    )


def imported(version: int = 1) -> list[ev.Event]:
    """The events of one committed change (built again from the same change: the same ids)."""
    return ev.order_transition_events("m", "s", None, snapshot(), version, COMMIT)


def committed(outbox: MemoryOutbox, events: list[ev.Event]) -> list[ev.Event]:
    """What a transaction that stages its events does: the rows are written with the change."""
    outbox.stage(events, COMMIT)
    return events


def test_delivered_after_the_commit_the_rows_are_gone() -> None:
    outbox, bus = MemoryOutbox(), RecordingEventPublisher()
    events = committed(outbox, imported())
    assert deliver(bus, events, outbox) is True
    assert bus.events == events and outbox.rows == {}
    # nothing left for the relay
    assert relay_events(bus, outbox, COMMIT + timedelta(minutes=5)).waiting == 0
    assert bus.events == events


def test_a_refused_event_stays_and_the_relay_sends_it_once_with_the_same_id() -> None:
    outbox, bus = MemoryOutbox(), RecordingEventPublisher()
    events = committed(outbox, imported())
    bus.fail = EventsNotPublished("1 event(s) not accepted by bus b: Order Imported: ThrottlingException")
    assert deliver(bus, events, outbox) is False  # never raises: the change is committed
    assert list(outbox.rows) == [events[0].event_id] and bus.events == []

    # younger than a minute: its own function may still be delivering it
    assert relay_events(bus, outbox, COMMIT + timedelta(seconds=30)).waiting == 0
    # the bus still refuses: kept, and its age is what the alarm watches
    still = relay_events(bus, outbox, COMMIT + timedelta(minutes=20))
    assert (still.waiting, still.published, still.refused) == (1, 0, 1)
    assert still.oldest_age_seconds == 1200.0 and list(outbox.rows) == [events[0].event_id]

    bus.fail = None
    sent = relay_events(bus, outbox, COMMIT + timedelta(minutes=21))
    assert (sent.waiting, sent.published, sent.refused) == (1, 1, 0)
    assert [e.event_id for e in bus.events] == [
        e.event_id for e in imported()
    ]  # the same change, the same id
    assert bus.events[0].detail == events[0].detail
    assert outbox.rows == {}
    assert relay_events(bus, outbox, COMMIT + timedelta(minutes=22)).waiting == 0
    assert len(bus.events) == 1  # once accepted, never again


def test_a_function_that_died_between_commit_and_publish_is_covered_by_the_relay() -> None:
    outbox, bus = MemoryOutbox(), RecordingEventPublisher()
    committed(outbox, imported(3))  # committed; the function died before deliver()
    outcome = relay_events(bus, outbox, COMMIT + timedelta(minutes=1, seconds=1))
    assert outcome.event_ids == [imported(3)[0].event_id] and bus.types() == ["Order Imported"]
    assert outbox.rows == {}


def test_rows_not_deleted_after_a_publish_are_sent_again_with_their_id() -> None:
    outbox, bus = MemoryOutbox(), RecordingEventPublisher()
    events = committed(outbox, imported())
    outbox.fail_remove = RuntimeError("DynamoDB unavailable")
    assert deliver(bus, events, outbox) is True  # published: the row's fate is the relay's
    outbox.fail_remove = None
    relay_events(bus, outbox, COMMIT + timedelta(minutes=2))
    assert [e.event_id for e in bus.events] == [events[0].event_id] * 2  # at least once: subscribers dedupe
    assert outbox.rows == {}


class CountingBus(RecordingEventPublisher):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def publish(self, events: Any) -> None:
        self.calls += 1
        super().publish(events)


def test_the_relay_sends_batches_of_ten_and_stops_trying_when_the_bus_is_down() -> None:
    outbox = MemoryOutbox()
    for n in range(55):
        committed(outbox, imported(n + 1))
    bus = CountingBus()
    bus.fail = RuntimeError("bus down")
    down = relay_events(bus, outbox, COMMIT + timedelta(minutes=5))
    assert (down.waiting, down.refused, bus.calls) == (55, 55, RELAY_GIVE_UP_AFTER)
    assert len(outbox.rows) == 55

    bus.fail = None
    up = relay_events(bus, outbox, COMMIT + timedelta(minutes=6), limit=30)
    assert (up.published, bus.calls - RELAY_GIVE_UP_AFTER, len(outbox.rows)) == (30, 3, 25)
    relay_events(bus, outbox, COMMIT + timedelta(minutes=7))
    assert outbox.rows == {} and len({e.event_id for e in bus.events}) == 55 == len(bus.events)


@pytest.mark.parametrize("status", ["partially_shipped", "shipped"])
def test_shipping_anyway_goes_through_the_state_machine_and_is_an_order_changed(status: str) -> None:
    before = snapshot(holds=(Hold.BUYER_CANCELLATION,))
    move = ship_in_wms(before, {"OI-1": 2 if status == "shipped" else 1})
    assert move.status == status
    if status == "partially_shipped":
        assert move.holds is None  # still open: the buyer's request still stands
        return
    assert move.holds == ()  # the merchant shipped it anyway: the hold ends with the move
    after = replace(before, status=move.status, holds=move.holds)
    told = ev.order_transition_events("m", "s", before, after, 4, COMMIT)
    assert [e.detail_type for e in told] == ["Order Changed"]
    assert (told[0].detail["previousHolds"], told[0].detail["holds"]) == (
        ["buyer_requested_cancellation"],
        [],
    )
