"""In-memory fakes shared by tests (one place for each)."""

from __future__ import annotations

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
