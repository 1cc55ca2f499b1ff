"""The EventBridge adapter of the EventPublisher port (storesync.domain.events): PutEvents on storesync's bus.

Entries go out in batches of 10 (PutEvents' limit). An entry the bus did not take (FailedEntryCount, e.g.
throttling) is sent again, with the same eventId, up to `attempts` times with a short backoff; what still fails
raises EventsNotPublished naming the detail types and EventBridge's error codes. The caller has committed the
change and the events' outbox rows already (storesync.usecases.event_relay.deliver): it logs the error and the
relay sends those events later, with the same eventId. Events never carry buyer data (no address, no name, no
gift message).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from storesync.domain.events import Event
from storesync.observability import logger

PUT_EVENTS_BATCH = 10


class EventsNotPublished(RuntimeError):
    """Some events were not accepted by the bus after every attempt."""


class EventBridgePublisher:
    def __init__(
        self,
        client: Any,
        bus_name: str,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not bus_name:
            raise ValueError("bus_name: the EventBridge bus storesync publishes to is required")
        self._client = client
        self._bus = bus_name
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"EventBridgePublisher({self._bus!r})"

    def entry(self, event: Event) -> dict[str, Any]:
        return {
            "EventBusName": self._bus,
            "Source": event.source,
            "DetailType": event.detail_type,
            "Detail": json.dumps(dict(event.detail), sort_keys=True),
        }

    def publish(self, events: Sequence[Event]) -> None:
        for start in range(0, len(events), PUT_EVENTS_BATCH):
            self._put(list(events[start : start + PUT_EVENTS_BATCH]))

    def _put(self, batch: list[Event]) -> None:
        pending = batch
        errors: list[str] = []
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._backoff * 2 ** (attempt - 1))
            answer = self._client.put_events(Entries=[self.entry(e) for e in pending])
            results = answer.get("Entries") or []
            if not answer.get("FailedEntryCount") and len(results) == len(pending):
                return
            failed: list[Event] = []
            errors = []
            for event, result in zip(pending, [*results, *[{}] * (len(pending) - len(results))], strict=True):
                if result.get("EventId"):
                    continue
                failed.append(event)
                errors.append(f"{event.detail_type}: {result.get('ErrorCode') or 'no answer'}")
            if not failed:
                return
            pending = failed
        logger.error("events not published", extra={"bus": self._bus, "errors": errors[:10]})
        raise EventsNotPublished(
            f"{len(pending)} event(s) not accepted by bus {self._bus}: {'; '.join(errors[:5])}"
        )
