"""In-memory fakes shared by tests (one place for each)."""

from __future__ import annotations

import uuid
from typing import Any

from storesync.jobs import JobMessage
from storesync.settings import ApiSettings


class RecordingJobQueue:
    """A JobQueue that keeps what it was given: `deliveries` as (message, delay seconds), `sent` the messages."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[JobMessage, float]] = []

    @property
    def sent(self) -> list[JobMessage]:
        return [message for message, _ in self.deliveries]

    def send(self, message: JobMessage, delay_seconds: float = 0) -> None:
        self.deliveries.append((message, delay_seconds))

    def send_many(self, messages: list[JobMessage]) -> None:
        self.deliveries.extend((m, 0.0) for m in messages)


def unit_api_settings(**overrides: Any) -> ApiSettings:
    """The API's settings for tests that call its handler without AWS (nothing is reached)."""
    values: dict[str, Any] = {
        "table_prefix": "unit",
        "kms_key_id": "k",
        "lwa_secret_id": "lwa",
        "state_secret_id": "state",
        "spapi_application_id": "amzn1.sp.solution.test",
        "product_import_queue_url": "q-products",
        "order_import_queue_url": "q-orders",
        "inventory_push_queue_url": "q-inventory",
        "shipment_push_queue_url": "q-shipments",
    }
    return ApiSettings(**{**values, **overrides})


def sqs_record(body: str, queue: str = "q", message_id: str | None = None) -> dict[str, Any]:
    """One SQS record as Lambda delivers it from `queue` (the batch processor's record model requires every
    field)."""
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDATEST",
            "ApproximateFirstReceiveTimestamp": "1700000000000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        "awsRegion": "us-east-1",
    }


def amazon_order_json(order_id: str, marketplace_id: str = "ATVPDKIKX0DER", **over: Any) -> dict[str, Any]:
    """One order as the Orders API (2026-01-01) answers it: unshipped, merchant-fulfilled, 2 of SKU "A";
    `over` replaces top-level fields."""
    body = {
        "orderId": order_id,
        "createdTime": "2026-07-10T10:00:00Z",
        "lastUpdatedTime": "2026-07-10T10:00:00Z",
        "salesChannel": {"marketplaceId": marketplace_id},
        "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
        "orderItems": [{"orderItemId": "1", "quantityOrdered": 2, "product": {"sellerSku": "A"}}],
    }
    return {**body, **over}


class FakeTime:
    """A clock and a sleep for the quota gate: sleeping moves the clock, no real time passes."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class RecordingEventPublisher:
    """The EventPublisher port in memory (storesync.domain.events): what was published, in order; `fail` makes
    the next publish raise (a bus that refuses)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.fail: Exception | None = None

    def publish(self, events: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.events.extend(events)

    def types(self) -> list[str]:
        return [e.detail_type for e in self.events]


class MemoryOutbox:
    """The outbox port in memory (storesync.usecases.event_relay.Outbox): rows by eventId with their commit time;
    `stage` is what a committed transaction writes; `fail_remove` makes deleting rows raise."""

    def __init__(self) -> None:
        self.rows: dict[str, Any] = {}  # event id -> StagedEvent
        self.removed: list[str] = []
        self.fail_remove: Exception | None = None

    def stage(self, events: Any, now: Any) -> None:
        from storesync.dal.outbox import StagedEvent

        for event in events:
            self.rows[event.event_id] = StagedEvent(event, now)

    def put(self, events: Any, now: Any) -> None:
        self.stage(events, now)

    def remove(self, event_ids: Any) -> None:
        if self.fail_remove is not None:
            raise self.fail_remove
        for event_id in event_ids:
            self.rows.pop(event_id, None)
            self.removed.append(event_id)

    def waiting(self, committed_before: Any, limit: int) -> list[Any]:
        old = [r for r in self.rows.values() if r.created_at < committed_before]
        return sorted(old, key=lambda r: r.created_at)[:limit]
