"""Runs one store's slice of one job: the lease, the sync log, continuations, Amazon's failures, sync health.

Every job use case is a function `work(ctx) -> JobOutcome` that does a bounded slice of work, saves its cursor
through `ctx.save_cursor`, and sets `continue_after` when work remains (or Amazon throttled it). The runner:
- skips stores that are not active (a paused or disconnected store's queued messages end "skipped", with no
  continuation);
- holds a lease per (store, job) so two runs never overlap; a message that finds the lease taken asks for a
  run of its mode once the holder's chain ends, not when its slice ends (no pile-up, nothing missed: the
  request waits through the chain's continuations and a slice SQS delivers again; each mode asked runs once);
- turns AuthorizationRevoked into status needs_reauthorization with a plain-words reason, at once, and stops
  the chain (no retry loop: reauthorizing resumes the store, usecases/connect.py);
- turns Throttled into a delayed continuation (not a failure);
- treats TransientAmazonError and AmazonAnswerInvalid (and an outcome with result "error" that asks for a
  continuation, e.g. a use case that caught one itself) as a failed attempt: the run is recorded "error" with
  a notice saying why, and retried after 60 s, 120 s, 240 s, ... up to MAX_ATTEMPTS attempts per run chain
  (the count travels in JobMessage.attempt). After the last one the run is recorded "failed", no continuation
  is sent, and the next scheduled run starts from the saved cursor;
- records AmazonRejected (Amazon refused the request: retrying gets the same answer) as "failed"; any other
  AmazonError counts as a failed attempt;
- records every run in the sync log and on the store (last run per job, with the last success and the failed
  runs in a row: domain/health.py), and publishes the job's sync lag (observability.publish_sync_lag).
Bugs propagate, so SQS redelivers the message and, after maxReceiveCount, parks it in the DLQ; the run is
recorded and the lease released first, so nothing is left "in progress".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from storesync.amazon.errors import (
    AmazonAnswerInvalid,
    AmazonError,
    AmazonRejected,
    AuthorizationRevoked,
    Throttled,
    TransientAmazonError,
)
from storesync.clock import iso, utcnow
from storesync.dal import job_state, store_queries
from storesync.dal.outbox import DynamoOutbox
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.dal.stores import Store
from storesync.domain.events import Event, EventPublisher, store_needs_reauthorization, sync_lagging
from storesync.domain.health import FAILED, after_run, duration_words, job_health
from storesync.domain.notices import Notice, NoticeCode, notice
from storesync.jobs import JobMessage, JobMode, JobName
from storesync.observability import bind_store, logger, publish_sync_lag
from storesync.queues import MAX_DELAY_SECONDS, JobQueue
from storesync.usecases.event_relay import OutboxRows, deliver

MAX_ATTEMPTS = 5  # failed attempts of one run chain before the runner gives up until the next schedule
FIRST_RETRY_SECONDS = 60.0
TRANSIENT_RETRY_SECONDS = FIRST_RETRY_SECONDS  # what a use case asks for; the runner sets the real backoff


def retry_delay(failed_attempts: int) -> float:
    """Seconds before the next attempt after `failed_attempts` failed ones: 60, 120, 240, ... (SQS's max)."""
    return float(min(MAX_DELAY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, failed_attempts - 1)))


@dataclass
class JobOutcome:
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[Notice] = field(default_factory=list)  # the sync log's entries; never buyer data
    continue_after: float | None = None  # seconds until the continuation; None when the work is done
    # ok | partial | error | failed | throttled | skipped (derived when None). "error" with continue_after set
    # is a failed attempt the runner retries with backoff; "failed" ends the run chain.
    result: str | None = None
    summary: str = ""
    paused: bool = False  # Amazon refused the store's authorization: the store is paused, no continuation
    # "skipped" because a run chain in progress carries the work on (its progress stays); any other run that
    # ends without a continuation ends the chain, a skipped duplicate too, and clears the chain's progress
    in_progress_elsewhere: bool = False
    # the chain is done, and a new one is to start this many seconds after it released its lease (the order
    # planner's next round during a peak): a rerun asked for meanwhile (a catch-up) goes first
    follow_up_after: float | None = None

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def final_result(self) -> str:
        if self.result:
            return self.result
        return "partial" if self.errors else "ok"

    def describe(self) -> str:
        """The store's last-run summary: a failed run says why (never "nothing to do")."""
        if self.final_result() in FAILED:
            parts = [self.summary, *(e.message for e in self.errors[:3])]
            words = ". ".join(p.strip().rstrip(".") for p in parts if p.strip())
            return f"{words}." if words else "Failed: see the sync log."
        if self.summary:
            return self.summary
        return (
            ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(self.counts.items()))
            or "nothing to do"
        )


class RunBook(Protocol):
    """The runner's bookkeeping (DynamoRunBook: the tables; tests pass an in-memory one)."""

    def get_store(self, merchant_id: str, store_id: str) -> Store | None: ...

    def acquire_lease(
        self, store: Store, job: str, owner: str, seconds: int
    ) -> dict[str, Any] | None: ...  # the cursor, or None when another run holds the lease

    def request_rerun(self, store_id: str, job: str, mode: str) -> None: ...

    def release_lease(
        self, store_id: str, job: str, owner: str, continuing: bool = False
    ) -> tuple[bool, str | None]: ...  # at a chain's end: (rerun asked, its mode), taken from the request

    def save_cursor(self, store_id: str, job: str, owner: str, cursor: dict[str, Any]) -> None: ...

    def save_progress(self, store_id: str, job: str, owner: str, progress: dict[str, Any] | None) -> None: ...

    def record_run(
        self, store: Store, message: JobMessage, started_at: float, result: str, outcome: JobOutcome
    ) -> None: ...

    def set_last_run(self, store: Store, job: str, entry: Mapping[str, Any]) -> None: ...

    def pause_for_reauthorization(self, store: Store, reason: str, events: Sequence[Event] = ()) -> bool: ...

    @property
    def outbox(self) -> OutboxRows: ...  # where pause_for_reauthorization stages its events' rows


class DynamoRunBook:
    outbox: OutboxRows = DynamoOutbox()

    def get_store(self, merchant_id: str, store_id: str) -> Store | None:
        return store_queries.get_store(merchant_id, store_id)

    def acquire_lease(self, store: Store, job: str, owner: str, seconds: int) -> dict[str, Any] | None:
        state = job_state.acquire_lease(store.store_id, job, store.merchant_id, owner, seconds)
        return None if state is None else dict(state.cursor or {})

    def request_rerun(self, store_id: str, job: str, mode: str) -> None:
        job_state.request_rerun(store_id, job, mode)

    def release_lease(
        self, store_id: str, job: str, owner: str, continuing: bool = False
    ) -> tuple[bool, str | None]:
        return job_state.release_lease(store_id, job, owner, continuing=continuing)

    def save_cursor(self, store_id: str, job: str, owner: str, cursor: dict[str, Any]) -> None:
        job_state.save_cursor(store_id, job, owner, cursor)

    def save_progress(self, store_id: str, job: str, owner: str, progress: dict[str, Any] | None) -> None:
        job_state.save_progress(store_id, job, owner, progress)

    def record_run(
        self, store: Store, message: JobMessage, started_at: float, result: str, outcome: JobOutcome
    ) -> None:
        job_state.record_run(
            store_id=store.store_id,
            merchant_id=store.merchant_id,
            job=message.job,
            mode=message.mode,
            trigger=message.trigger,
            started_at=started_at,
            result=result,
            counts=outcome.counts,
            errors=outcome.errors,
        )

    def set_last_run(self, store: Store, job: str, entry: Mapping[str, Any]) -> None:
        store_queries.set_last_run(store, job, entry)

    def pause_for_reauthorization(self, store: Store, reason: str, events: Sequence[Event] = ()) -> bool:
        return store_queries.mark_needs_reauthorization(store, reason, events)


def authorization_refused(exc: AuthorizationRevoked) -> Notice:
    """The plain-words notice (and store status reason) for a grant Amazon no longer accepts."""
    detail = str(exc).strip().rstrip(".") or "Amazon no longer accepts this store's authorization"
    return notice(NoticeCode.AUTHORIZATION_REFUSED, detail=detail)


def pause_for_reauthorization(
    store: Store,
    exc: AuthorizationRevoked,
    book: RunBook | None = None,
    events: EventPublisher | None = None,
) -> Notice:
    """The store turns needs_reauthorization at once, with the plain-words reason (jobs and ORDER_CHANGE
    notifications call this); the one that turned it commits Store Needs Reauthorization's outbox row with the
    change and publishes it (refused: the relay sends it). Returns the notice for the sync log."""
    reason = authorization_refused(exc)
    told = (
        []
        if events is None
        else [
            store_needs_reauthorization(
                store.merchant_id, store.store_id, reason.message, store.authorized_at, utcnow()
            )
        ]
    )
    runbook = book or DynamoRunBook()
    if runbook.pause_for_reauthorization(store, reason.message, told):
        logger.warning("store needs reauthorization: Amazon refused its authorization")
        if events is not None:
            deliver(events, told, runbook.outbox)
    return reason


@dataclass(frozen=True)
class Progress:
    """Where a long run chain is, as the merchant reads it (GET /stores/{id}/runs' `in_progress`, the store
    page's progress bar): the current step (a name and plain words), its number among the chain's steps, and
    the items done; `expected` only where Amazon says how many there are (None: not known)."""

    step: str
    label: str
    step_number: int
    steps: int
    done: int = 0
    expected: int | None = None
    unit: str = "items"
    started_at: str | None = None  # when the chain began (ISO); None: this run's start
    first_import: bool = False  # the store's first import of this kind (the Stores page shows it)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "label": self.label,
            "step_number": self.step_number,
            "steps": self.steps,
            "done": self.done,
            "expected": self.expected,
            "unit": self.unit,
            "started_at": self.started_at,
            "first_import": self.first_import,
        }


ProgressWriter = Callable[[str, str, str, "dict[str, Any] | None"], None]


def publish_quietly(events: EventPublisher, batch: list[Event]) -> None:
    """Publish events about the sync itself (the lag): best effort, without the outbox. Sync Lagging reports no
    committed change (only that a job is late): a bus that refuses it is logged and never fails the run, and
    the event comes again, with the same eventId, with the next late run of the same spell."""
    try:
        events.publish(batch)
    except Exception:  # noqa: BLE001 - logged; the run's own outcome stands
        logger.exception("sync event not published", extra={"detail_types": [e.detail_type for e in batch]})


@dataclass
class JobContext:
    message: JobMessage
    store: Store
    owner: str
    cursor: dict[str, Any]
    cursor_writer: Callable[[str, str, str, dict[str, Any]], None] = job_state.save_cursor
    progress_writer: ProgressWriter | None = None  # the runner's book; None: progress is not recorded
    events: EventPublisher | None = None  # where the job publishes what it committed (None: nowhere)

    def save_cursor(self, cursor: dict[str, Any]) -> None:
        self.cursor_writer(self.store.store_id, self.message.job, self.owner, cursor)
        self.cursor = dict(cursor)

    def report_progress(self, progress: Progress) -> None:
        """Record where the run chain is (at a step boundary or after a batch: one small write)."""
        if self.progress_writer is None:
            return
        now = utcnow()
        entry = progress.to_dict() | {
            "mode": self.message.mode,
            "trigger": self.message.trigger,
            "updated_at": iso(now),
            "updated_epoch": time.time(),
        }
        entry["started_at"] = progress.started_at or iso(now)
        self.progress_writer(self.store.store_id, self.message.job, self.owner, entry)


JobWork = Callable[[JobContext], JobOutcome]


class StoreJobRunner:
    def __init__(
        self,
        queue: JobQueue,
        lease_seconds: int = 300,
        *,
        cadences: Mapping[JobName, float] | None = None,
        book: RunBook | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Callable[[], datetime] = utcnow,
        publish_lag: Callable[[str, float, float], None] = publish_sync_lag,
        events: EventPublisher | None = None,
    ) -> None:
        self._queue = queue
        self._lease_seconds = lease_seconds
        self._cadences = dict(cadences or {})
        self._book: RunBook = book or DynamoRunBook()
        self._max_attempts = max_attempts
        self._clock = clock
        self._publish_lag = publish_lag
        self._events = events

    def run(self, message: JobMessage, work: JobWork) -> JobOutcome:
        store = self._book.get_store(message.merchant_id, message.store_id)
        if store is None or store.status != STATUS_ACTIVE:
            status = "gone" if store is None else store.status.replace("_", " ")
            logger.info("job skipped: store not active", extra={"job": message.job, "status": status})
            return JobOutcome(result="skipped", summary=f"store is {status}, not active")
        bind_store(store.store_id, store.merchant_id)
        owner = uuid.uuid4().hex
        cursor = self._book.acquire_lease(store, message.job, owner, self._lease_seconds)
        if cursor is None:
            self._book.request_rerun(store.store_id, message.job, message.mode)
            logger.info("job already running for this store: rerun requested", extra={"job": message.job})
            return JobOutcome(result="skipped", summary="already running; will run again when it finishes")
        started = time.time()
        ctx = JobContext(
            message,
            store,
            owner,
            cursor,
            cursor_writer=self._book.save_cursor,
            progress_writer=self._book.save_progress,
            events=self._events,
        )
        try:
            outcome = self._work(ctx, work)
        except job_state.LeaseLost:
            logger.warning("lease lost: another run took over", extra={"job": message.job})
            return JobOutcome(result="skipped", summary="lease lost")
        except Exception as exc:
            failure = JobOutcome(
                result="error", errors=[notice(NoticeCode.UNEXPECTED_FAILURE, error_type=type(exc).__name__)]
            )
            self._finish(ctx, started, failure, None, redelivered=True)
            raise
        following = self._next_message(message, outcome)
        self._finish(ctx, started, outcome, following)
        return outcome

    def _work(self, ctx: JobContext, work: JobWork) -> JobOutcome:
        try:
            return work(ctx)
        except AuthorizationRevoked as exc:
            reason = pause_for_reauthorization(ctx.store, exc, self._book, self._events)
            return JobOutcome(result="error", errors=[reason], paused=True)
        except Throttled as exc:
            return JobOutcome(result="throttled", continue_after=exc.retry_after, summary=str(exc))
        except (TransientAmazonError, AmazonAnswerInvalid) as exc:
            code = (
                NoticeCode.AMAZON_ANSWER_INVALID
                if isinstance(exc, AmazonAnswerInvalid)
                else NoticeCode.AMAZON_UNAVAILABLE
            )
            operation = getattr(exc, "operation", None)
            extra = {"operation": operation} if isinstance(operation, str) and operation else {}
            logger.warning("Amazon failed", extra={"job": ctx.message.job, "error": str(exc)[:300], **extra})
            return JobOutcome(
                result="error",
                errors=[notice(code, reason=str(exc), **extra)],
                continue_after=FIRST_RETRY_SECONDS,
            )
        except AmazonRejected as exc:
            return JobOutcome(result="failed", errors=[notice(NoticeCode.AMAZON_REFUSED, reason=str(exc))])
        except AmazonError as exc:  # any other Amazon failure (e.g. a report that failed): a failed attempt
            logger.warning("Amazon failed", extra={"job": ctx.message.job, "error": str(exc)[:300]})
            return JobOutcome(
                result="error",
                errors=[notice(NoticeCode.AMAZON_UNAVAILABLE, reason=str(exc))],
                continue_after=FIRST_RETRY_SECONDS,
            )

    def _next_message(self, message: JobMessage, outcome: JobOutcome) -> JobMessage | None:
        """The continuation to send (setting its delay on `outcome`), with the bound on failed attempts."""
        result = outcome.final_result()
        if outcome.paused or outcome.continue_after is None or result == "failed":
            outcome.continue_after = None  # a failed chain or a paused store never continues
            return None
        if result == "error":  # a failed attempt asking to be retried
            failed = message.attempt + 1
            if failed >= self._max_attempts:
                outcome.result, outcome.continue_after = "failed", None
                outcome.errors.append(notice(NoticeCode.RUN_GAVE_UP, attempts=failed))
                return None
            outcome.continue_after = retry_delay(failed)
            outcome.errors.append(
                notice(
                    NoticeCode.RUN_RETRYING,
                    attempt=failed,
                    attempts=self._max_attempts,
                    wait=duration_words(outcome.continue_after),
                )
            )
            return message.retry()
        if result == "throttled":
            return message.resumed()
        return message.continuation()

    def _finish(
        self,
        ctx: JobContext,
        started: float,
        outcome: JobOutcome,
        following: JobMessage | None,
        redelivered: bool = False,
    ) -> None:
        message, store = ctx.message, ctx.store
        result = outcome.final_result()
        # a run asked meanwhile waits for the chain's end: not while this run continues, or SQS delivers its
        # message again (a bug in the work, or the bookkeeping below fails)
        continuing = following is not None or redelivered
        try:
            self._book.record_run(store, message, started, result, outcome)
            entry = after_run(_last_run(store, message.job), result, outcome.describe(), self._clock())
            self._book.set_last_run(store, message.job, entry)
            self._publish(store, message.job, entry, paused=outcome.paused)
            # no progress bar left behind: a chain ends with its last run, or with a duplicate message that found
            # nothing in progress (the last run may have died before clearing it; SQS delivered twice)
            if following is None and not outcome.in_progress_elsewhere and not redelivered:
                self._book.save_progress(store.store_id, message.job, ctx.owner, None)
        except BaseException:
            continuing = True
            raise
        finally:  # never leave the lease behind, whatever failed above
            rerun, rerun_mode = self._book.release_lease(store.store_id, message.job, ctx.owner, continuing)
        if following is not None and outcome.continue_after is not None:
            self._queue.send(following, delay_seconds=outcome.continue_after)
        elif rerun and not outcome.paused:
            mode = JobMode(rerun_mode) if rerun_mode else message.mode
            try:
                self._queue.send(message.model_copy(update={"trigger": "rerun", "mode": mode, "attempt": 0}))
            except Exception:
                self._book.request_rerun(store.store_id, message.job, mode)  # SQS's redelivery sends it
                raise
            logger.info(
                "rerun queued: it was asked while the chain ran", extra={"job": message.job, "mode": mode}
            )
        if (
            following is None
            and not redelivered
            and outcome.follow_up_after is not None
            and not outcome.paused
        ):
            follow_up = message.model_copy(update={"trigger": "follow_up", "attempt": 0})
            self._queue.send(follow_up, delay_seconds=outcome.follow_up_after)
        logger.info(
            "job finished",
            extra={
                "job": message.job,
                "mode": message.mode,
                "result": result,
                "attempt": message.attempt,
                "counts": outcome.counts,
            },
        )

    def _publish(self, store: Store, job: str, entry: Mapping[str, Any], paused: bool = False) -> None:
        cadence = self._cadences.get(JobName(job))
        if cadence is None:
            return
        since = store.authorized_at or store.created_at
        health = job_health(job, entry, cadence, self._clock(), since)
        if health.lag_seconds is not None:
            self._publish_lag(job, health.lag_seconds, cadence)
        # a store paused for reauthorization has its own event: its jobs do not lag, they wait for the merchant
        if health.late and health.lag_seconds is not None and self._events is not None and not paused:
            event = sync_lagging(
                store.merchant_id,
                store.store_id,
                job,
                health.lag_seconds,
                cadence,
                health.last_success_at,
                self._clock(),
            )
            publish_quietly(self._events, [event])


def _last_run(store: Store, job: str) -> dict[str, Any] | None:
    runs = store.last_runs.as_dict() if hasattr(store.last_runs, "as_dict") else dict(store.last_runs or {})
    entry = runs.get(job)
    return dict(entry) if isinstance(entry, Mapping) else None
