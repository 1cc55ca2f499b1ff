"""The job queues: an adapter around SQS (one standard queue per job, with DLQs in template.yaml).

Standard queues because SQS FIFO ignores per-message DelaySeconds, which continuations need.
"""

from __future__ import annotations

from typing import Any, Protocol

from storesync.jobs import JobMessage, JobName

MAX_DELAY_SECONDS = 900  # SQS's limit


class JobQueue(Protocol):
    def send(self, message: JobMessage, delay_seconds: float = 0) -> None: ...

    def send_many(self, messages: list[JobMessage]) -> None: ...


class SqsJobQueue:
    def __init__(self, sqs_client: Any, queue_urls: dict[JobName, str]) -> None:
        self._sqs = sqs_client
        self._urls = queue_urls

    def _url(self, job: JobName) -> str:
        try:
            return self._urls[job]
        except KeyError:
            raise RuntimeError(
                f"this function has no queue for job {job}: its settings do not name one"
            ) from None

    def send(self, message: JobMessage, delay_seconds: float = 0) -> None:
        delay = max(0, min(MAX_DELAY_SECONDS, int(round(delay_seconds))))
        self._sqs.send_message(
            QueueUrl=self._url(message.job), MessageBody=message.model_dump_json(), DelaySeconds=delay
        )

    def send_many(self, messages: list[JobMessage]) -> None:
        by_job: dict[JobName, list[JobMessage]] = {}
        for message in messages:
            by_job.setdefault(message.job, []).append(message)
        for job, batch in by_job.items():
            for start in range(0, len(batch), 10):
                chunk = batch[start : start + 10]
                entries = [{"Id": str(i), "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)]
                answer = self._sqs.send_message_batch(QueueUrl=self._url(job), Entries=entries)
                if answer.get("Failed"):
                    failed = ", ".join(
                        f"{f['Id']}: {f.get('Message', f.get('Code'))}" for f in answer["Failed"]
                    )
                    raise RuntimeError(
                        f"SQS refused {len(answer['Failed'])} job messages for {job}: {failed}"
                    )
