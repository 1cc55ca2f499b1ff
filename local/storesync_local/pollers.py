"""SQS event source mappings, as Lambda runs them: poll a queue, hand batches to the function, delete what succeeded.

- The event has the real SQS shape (Records with messageId, receiptHandle, body, attributes incl.
  ApproximateReceiveCount, messageAttributes, md5OfBody, eventSource, eventSourceARN, awsRegion).
- BatchSize from the template; with ReportBatchItemFailures only the messages not named in
  `batchItemFailures` are deleted (an invalid answer fails the whole batch, as Lambda does); without it, a
  successful invocation deletes the batch and an exception deletes nothing.
- A message that was not deleted stays invisible for the queue's visibility timeout (measured on the simulated
  clock, so it comes back `speed` times sooner) and is then received again; after maxReceiveCount receives moto
  moves it to the DLQ named by the queue's RedrivePolicy, as SQS does.
- Like Lambda's pollers, one source runs several batches at once (up to `concurrency`: the function's limit, or
  the event's ScalingConfig.MaximumConcurrency when lower); it receives a batch only when it has a free slot,
  so no message waits received but unprocessed.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .template import function_events

log = logging.getLogger("storesync_local.pollers")

Invoke = Callable[[str, dict[str, Any]], Any]
MAX_RECEIVE = 10  # SQS answers at most 10 messages per receive


@dataclass(frozen=True)
class SqsSource:
    function: str  # logical id of the function
    event_name: str
    queue_arn: str
    queue_url: str
    batch_size: int
    report_failures: bool
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency


def template_sqs_sources(
    template: dict[str, Any], arns: dict[str, str], urls: dict[str, str]
) -> list[SqsSource]:
    """Every SQS event of every function; `arns`/`urls` map logical ids of queues to their Arn / URL."""
    by_arn = {arn: lid for lid, arn in arns.items()}
    sources = []
    for logical_id, event_name, props in function_events(template, "SQS"):
        queue = props["Queue"]
        queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, dict) and "Fn::GetAtt" in queue else None
        if queue_id is None:
            queue_id = by_arn.get(str(queue))
        if queue_id is None or queue_id not in urls:
            raise ValueError(f"{logical_id}.{event_name}: cannot resolve its Queue {queue!r}")
        sources.append(
            SqsSource(
                function=logical_id,
                event_name=event_name,
                queue_arn=arns[queue_id],
                queue_url=urls[queue_id],
                batch_size=int(props.get("BatchSize", 10)),
                report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                maximum_concurrency=_maximum_concurrency(props),
            )
        )
    return sources


def _maximum_concurrency(props: dict[str, Any]) -> int | None:
    value = (props.get("ScalingConfig") or {}).get("MaximumConcurrency")
    return int(value) if value is not None else None


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from received messages."""
    records = []
    for message in messages:
        attributes = dict(message.get("Attributes", {}))
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {
                    name: _message_attribute(value)
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda's shape: camelCase keys, list fields present.
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
        "dataType": value.get("DataType"),
    }


def failed_ids(result: Any, received: list[str]) -> set[str] | None:
    """The message ids the function reported as failed; None when its answer is invalid (whole batch fails)."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in received:
            return None
        ids.add(identifier)
    return ids


@dataclass
class QueuePoller:
    """One event source mapping: a thread receiving from one queue and invoking one function."""

    source: SqsSource
    sqs: Any  # boto3 SQS client
    invoke: Invoke
    region: str
    visibility_scale: float = 1.0  # simulated seconds per real second (the scheduler's speed)
    is_ready: Callable[[], bool] = lambda: True  # False while the function's code is not there yet
    wait_seconds: int = 1
    concurrency: int = 1  # batches of this source running at once
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _workers: set[threading.Thread] = field(default_factory=set)
    _workers_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> QueuePoller:
        if self.concurrency < 1:
            raise ValueError(
                f"concurrency of the poller of {self.source.function}: {self.concurrency}; at least 1"
            )
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._queue_timeout = int(
            self.sqs.get_queue_attributes(
                QueueUrl=self.source.queue_url, AttributeNames=["VisibilityTimeout"]
            )["Attributes"]["VisibilityTimeout"]
        )
        self._thread = threading.Thread(target=self._run, name=self._thread_name(), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 30) -> None:
        """Wait for the polling thread, then for the batches still running (each up to `timeout`)."""
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._workers_lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout)

    @property
    def running(self) -> int:
        """Batches of this source running now."""
        with self._workers_lock:
            return len(self._workers)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.is_ready():
                self._stop.wait(1.0)
                continue
            if not self._slots.acquire(timeout=0.5):
                continue  # every slot busy: receive nothing until one is free
            try:
                messages = self.receive()
            except Exception:  # keep polling: a dead poller silently stops a job
                self._slots.release()
                if self._stop.is_set():
                    break
                log.exception("poller %s: receive failed", self.source.queue_url)
                self._stop.wait(1.0)
                continue
            if not messages:
                self._slots.release()
                continue
            worker = threading.Thread(
                target=self._run_in_slot, args=(messages,), name=f"{self._thread_name()}-batch", daemon=True
            )
            with self._workers_lock:
                self._workers.add(worker)
            worker.start()

    def _thread_name(self) -> str:
        return f"poll-{self.source.function}-{self.source.event_name}"

    def _run_in_slot(self, messages: list[dict[str, Any]]) -> None:
        try:
            self.run_batch(messages)
        except (
            Exception
        ):  # deleting or re-timing failed: the messages come back after their visibility timeout
            log.exception("poller %s: delete/visibility change failed", self.source.queue_url)
        finally:
            with self._workers_lock:
                self._workers.discard(threading.current_thread())
            self._slots.release()

    def poll_once(self) -> int:
        """Receive one batch (waiting up to wait_seconds) and run it here; returns how many messages it got."""
        messages = self.receive()
        if messages:
            self.run_batch(messages)
        return len(messages)

    def receive(self) -> list[dict[str, Any]]:
        """One receive (waiting up to wait_seconds): at most BatchSize messages."""
        answer = self.sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, MAX_RECEIVE),
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    def run_batch(self, messages: list[dict[str, Any]]) -> None:
        event = sqs_event(messages, self.source.queue_arn, self.region)
        ids = [m["MessageId"] for m in messages]
        try:
            result = self.invoke(self.source.function, event)
            failed = failed_ids(result, ids) if self.source.report_failures else set()
            if failed is None:
                log.error(
                    "%s: invalid batchItemFailures answer %r: the whole batch fails",
                    self.source.function,
                    result,
                )
                failed = set(ids)
        except Exception:
            log.exception("%s failed on a batch of %d", self.source.function, len(ids))
            failed = set(ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        for start in range(0, len(done), MAX_RECEIVE):
            chunk = done[start : start + MAX_RECEIVE]
            self.sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
            )
        self._scale_visibility(retry)

    def _scale_visibility(self, messages: list[dict[str, Any]]) -> None:
        """The visibility timeout runs on the simulated clock: shorten it by the speed factor."""
        if not messages or self.visibility_scale <= 1:
            return
        timeout = max(0, math.ceil(self._queue_timeout / self.visibility_scale))
        for message in messages:
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=self.source.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=timeout,
                )
            except Exception:  # the message may already be gone (e.g. redriven); nothing to shorten
                log.debug("visibility change failed for %s", message["MessageId"], exc_info=True)
