"""At-least-once delivery of the events for the WMS: the outbox's two readers.

A change and the events that report it are committed together: the events' outbox rows are written in the
change's own transaction (storesync.dal.outbox.stage). Then:
- `deliver`, right after the commit, publishes them and deletes their rows once the bus accepted them. A bus that
  refuses (after the adapter's own retries) or a publish that fails is logged and leaves the rows: the change is
  committed, its job does not fail, and the relay sends them.
- `relay_events` (EventRelayFunction, on a schedule of a minute) publishes the rows older than `min_age` (their
  function died between the commit and the publish, or the bus refused) with their own eventId, and deletes each
  batch the bus accepted. A row younger than `min_age` is being delivered by its own function.
One change is not a transaction: the quantities Amazon accepted in an inventory push, which the listings record
by batch writes. Its Stock Pushed rows are written (DynamoOutbox.put) BEFORE the listings record the quantities
(usecases/inventory_push.py stage_pushed): a function that dies after the rows is covered by the relay, one that
dies before them recorded nothing, so the next run sends the same absolute quantities and tells it then. Sync
Lagging reports no write at all: it is published best effort (usecases/runner.py) and comes again on the next
late run with the same id.

Republishing is harmless: an event's eventId is a uuid5 of the change (storesync.domain.events), the same each
time, and subscribers deduplicate on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from storesync.clock import utcnow
from storesync.dal.outbox import DynamoOutbox, StagedEvent
from storesync.domain.events import Event, EventPublisher
from storesync.event_bus import PUT_EVENTS_BATCH
from storesync.observability import logger

RELAY_MIN_AGE = timedelta(minutes=1)  # younger rows are still being delivered by the function that wrote them
RELAY_LIMIT = 500  # rows per relay run (50 PutEvents calls)
RELAY_GIVE_UP_AFTER = 3  # refused batches in a row: the bus is down, the next run tries again


class OutboxRows(Protocol):
    """What `deliver` needs of the outbox: deleting the rows of the events the bus accepted."""

    def remove(self, event_ids: Iterable[str]) -> None: ...


class Outbox(OutboxRows, Protocol):
    """The outbox table (storesync.dal.outbox.DynamoOutbox; tests/fakes.py MemoryOutbox)."""

    def put(self, events: Sequence[Event], now: datetime) -> None: ...

    def waiting(self, committed_before: datetime, limit: int) -> list[StagedEvent]: ...


def deliver(publisher: EventPublisher, events: Sequence[Event], outbox: OutboxRows | None = None) -> bool:
    """Publish events whose outbox rows are committed, then delete the rows. False when the bus did not take
    them: the rows stay for the relay (never raises: the change they report is committed)."""
    if not events:
        return True
    try:
        publisher.publish(events)
    except Exception:  # noqa: BLE001 - the relay sends them: the committed change stands
        logger.warning(
            "events not published: left in the outbox for the relay",
            extra={"detail_types": sorted({e.detail_type for e in events}), "events": len(events)},
            exc_info=True,
        )
        return False
    _remove(outbox or DynamoOutbox(), [e.event_id for e in events])
    return True


def _remove(outbox: OutboxRows, event_ids: list[str]) -> None:
    try:
        outbox.remove(event_ids)
    except Exception:  # noqa: BLE001 - published already: the relay sends them once more (same eventIds)
        logger.warning(
            "published events' outbox rows not deleted", extra={"events": len(event_ids)}, exc_info=True
        )


@dataclass
class RelayOutcome:
    waiting: int = 0  # rows older than the minimum age found this run
    published: int = 0  # of them, accepted by the bus (and deleted)
    refused: int = 0  # of them, refused again (kept for the next run)
    oldest_age_seconds: float = 0.0  # the oldest row found (a stuck bus: the alarm on it fires)
    event_ids: list[str] = field(default_factory=list)  # the ids published

    def to_dict(self) -> dict[str, object]:
        return {
            "waiting": self.waiting,
            "published": self.published,
            "refused": self.refused,
            "oldest_age_seconds": round(self.oldest_age_seconds, 1),
        }


def relay_events(
    publisher: EventPublisher,
    outbox: Outbox,
    now: datetime | None = None,
    min_age: timedelta = RELAY_MIN_AGE,
    limit: int = RELAY_LIMIT,
) -> RelayOutcome:
    """Publish the outbox rows older than `min_age` (at most `limit`), 10 to a PutEvents, deleting each batch the
    bus accepted; a refused batch stays for the next run. After RELAY_GIVE_UP_AFTER refused batches in a row
    the run stops (the bus is down: no point spending the run's time on retries)."""
    at = now or utcnow()
    staged = outbox.waiting(at - min_age, limit)
    outcome = RelayOutcome(waiting=len(staged))
    if staged:
        outcome.oldest_age_seconds = max((at - s.created_at).total_seconds() for s in staged)
    refused_in_a_row = 0
    for start in range(0, len(staged), PUT_EVENTS_BATCH):
        batch = [s.event for s in staged[start : start + PUT_EVENTS_BATCH]]
        if refused_in_a_row >= RELAY_GIVE_UP_AFTER:
            outcome.refused += len(batch)
            continue
        try:
            publisher.publish(batch)
        except Exception:  # noqa: BLE001 - kept for the next run; the age alarm tells a stuck bus
            logger.warning(
                "outbox events refused again", extra={"events": len(batch)}, exc_info=refused_in_a_row == 0
            )
            outcome.refused += len(batch)
            refused_in_a_row += 1
            continue
        refused_in_a_row = 0
        ids = [e.event_id for e in batch]
        _remove(outbox, ids)
        outcome.published += len(batch)
        outcome.event_ids += ids
    if outcome.waiting:
        logger.info("outbox relayed", extra=outcome.to_dict())
    return outcome
