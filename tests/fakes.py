"""In-memory fakes shared by tests (one place for each)."""

from __future__ import annotations

from storesync.jobs import JobMessage


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
