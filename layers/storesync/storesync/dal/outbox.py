"""The transactional outbox of the events for the WMS: one row per event, written in the SAME transaction as the
change it reports (a StockCommit or a TransactWrite: `stage`), published after the commit and deleted once the
bus accepted it (storesync.usecases.event_relay.deliver). A row left behind (the function died between the
commit and the publish, or the bus refused) is published again by the relay (EventRelayFunction, every minute)
with the same eventId, then deleted: delivery is at least once, and subscribers deduplicate on the eventId.

Rows live only while an event is in flight or stuck, so the relay reads them with a Scan filtered on their age
(no index: the table holds a handful of rows unless the bus is down, and then the alarm on their age fires). A row
expires (DynamoDB's TTL) `ROW_TTL` after it was written, far beyond the relay's reach: a bus refusing for a week
loses events, and the age alarm has fired for days by then. Events never carry buyer data (domain/events.py), so
the rows hold none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Protocol

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from storesync.dal.base import TableModel
from storesync.domain.events import Event

ROW_TTL = timedelta(days=7)


class OutboxEvent(TableModel):
    """One event not yet accepted by the bus, keyed by its eventId."""

    event_id = UnicodeAttribute(hash_key=True)
    source = UnicodeAttribute()
    detail_type = UnicodeAttribute()
    detail = UnicodeAttribute()  # the detail as JSON (sorted keys: the entry the bus gets)
    created_at = UTCDateTimeAttribute()  # the commit's time: the relay takes rows older than its minimum age
    expires_at = TTLAttribute()


class Staging(Protocol):
    """Where a row is written with the change: StockCommit (save) or pynamodb's TransactWrite (save)."""

    def save(self, model: Any, condition: Any = None) -> Any: ...


@dataclass(frozen=True)
class StagedEvent:
    """An event waiting in the outbox, with when its change was committed."""

    event: Event
    created_at: datetime


def row(event: Event, now: datetime) -> OutboxEvent:
    return OutboxEvent(
        event.event_id,
        source=event.source,
        detail_type=event.detail_type,
        detail=json.dumps(dict(event.detail), sort_keys=True),
        created_at=now,
        expires_at=now + ROW_TTL,
    )


def stage(transaction: Staging, events: Iterable[Event], now: datetime) -> None:
    """Put the events' rows into the transaction that commits the change they report."""
    for event in events:
        transaction.save(row(event, now))


def _event(item: OutboxEvent) -> StagedEvent:
    detail = json.loads(item.detail)
    return StagedEvent(Event(item.detail_type, detail, item.source), item.created_at)


class DynamoOutbox:
    """The outbox table (tests use tests/fakes.py MemoryOutbox)."""

    def put(self, events: Sequence[Event], now: datetime) -> None:
        """Rows for events whose change is not one transaction (Stock Pushed, Sync Lagging): written before they
        are published, so a refusing bus leaves them to the relay."""
        with OutboxEvent.batch_write() as batch:
            for event in events:
                batch.save(row(event, now))

    def remove(self, event_ids: Iterable[str]) -> None:
        """The bus accepted these events: their rows go (deleting a row already gone is no error)."""
        with OutboxEvent.batch_write() as batch:
            for event_id in sorted(set(event_ids)):
                batch.delete(OutboxEvent(event_id))

    def waiting(self, committed_before: datetime, limit: int) -> list[StagedEvent]:
        """At most `limit` rows written before `committed_before`, in the Scan's order (see the docstring; the
        bus keeps no order anyway): the Scan stops once it has them, so a long outage is read a slice a run."""
        rows = OutboxEvent.scan(OutboxEvent.created_at < committed_before, consistent_read=True)
        return [_event(item) for item in islice(rows, limit)]
