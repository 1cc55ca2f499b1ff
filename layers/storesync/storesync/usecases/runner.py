"""Runs one store's slice of one job: the lease, the sync log, continuations, Amazon's failures.

Every job use case is a function `work(ctx) -> JobOutcome` that does a bounded slice of work, saves its cursor
through `ctx.save_cursor`, and sets `continue_after` when work remains (or Amazon throttled it). The runner:
- skips stores that are not active;
- holds a lease per (store, job) so two runs never overlap; a message that finds the lease taken asks the
  holder to run once more when it finishes (no pile-up, nothing missed);
- turns AuthorizationRevoked into status needs_reauthorization, Throttled into a delayed continuation,
  transient Amazon failures into a retry with backoff;
- records every run in the sync log and on the store (last run per job).
Bugs propagate, so SQS redelivers the message and, after maxReceiveCount, parks it in the DLQ.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storesync.amazon.errors import AuthorizationRevoked, Throttled, TransientAmazonError
from storesync.dal import job_state
from storesync.dal.store_queries import STATUS_ACTIVE, get_store, mark_needs_reauthorization, set_last_run
from storesync.dal.stores import Store
from storesync.domain.notices import Notice, NoticeCode, notice
from storesync.jobs import JobMessage, JobMode
from storesync.observability import bind_store, logger
from storesync.queues import JobQueue

TRANSIENT_RETRY_SECONDS = 60.0


@dataclass
class JobOutcome:
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[Notice] = field(default_factory=list)  # the sync log's entries; never buyer data
    continue_after: float | None = None  # seconds until the continuation; None when the work is done
    result: str | None = None  # ok | partial | error | throttled | skipped (derived when None)
    summary: str = ""

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def final_result(self) -> str:
        if self.result:
            return self.result
        return "partial" if self.errors else "ok"

    def describe(self) -> str:
        if self.summary:
            return self.summary
        return (
            ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(self.counts.items()))
            or "nothing to do"
        )


@dataclass
class JobContext:
    message: JobMessage
    store: Store
    owner: str
    cursor: dict[str, Any]

    def save_cursor(self, cursor: dict[str, Any]) -> None:
        job_state.save_cursor(self.store.store_id, self.message.job, self.owner, cursor)
        self.cursor = dict(cursor)


JobWork = Callable[[JobContext], JobOutcome]


class StoreJobRunner:
    def __init__(self, queue: JobQueue, lease_seconds: int = 300) -> None:
        self._queue = queue
        self._lease_seconds = lease_seconds

    def run(self, message: JobMessage, work: JobWork) -> JobOutcome:
        store = get_store(message.merchant_id, message.store_id)
        if store is None or store.status != STATUS_ACTIVE:
            logger.info("job skipped: store not active", extra={"job": message.job})
            return JobOutcome(result="skipped", summary="store is not active")
        bind_store(store.store_id, store.merchant_id)
        owner = uuid.uuid4().hex
        state = job_state.acquire_lease(
            store.store_id, message.job, store.merchant_id, owner, self._lease_seconds
        )
        if state is None:
            job_state.request_rerun(store.store_id, message.job, message.mode)
            logger.info("job already running for this store: rerun requested", extra={"job": message.job})
            return JobOutcome(result="skipped", summary="already running; will run again when it finishes")
        started = time.time()
        ctx = JobContext(message, store, owner, dict(state.cursor or {}))
        try:
            outcome = self._work(ctx, work)
        except job_state.LeaseLost:
            logger.warning("lease lost: another run took over", extra={"job": message.job})
            return JobOutcome(result="skipped", summary="lease lost")
        except Exception as exc:
            self._finish(
                ctx,
                started,
                JobOutcome(
                    result="error",
                    errors=[notice(NoticeCode.UNEXPECTED_FAILURE, error_type=type(exc).__name__)],
                ),
            )
            raise
        self._finish(ctx, started, outcome)
        return outcome

    def _work(self, ctx: JobContext, work: JobWork) -> JobOutcome:
        try:
            return work(ctx)
        except AuthorizationRevoked as exc:
            mark_needs_reauthorization(ctx.store, str(exc))
            return JobOutcome(
                result="error",
                errors=[notice(NoticeCode.AUTHORIZATION_REVOKED)],
            )
        except Throttled as exc:
            return JobOutcome(result="throttled", continue_after=exc.retry_after, summary=str(exc))
        except TransientAmazonError as exc:
            return JobOutcome(
                result="error",
                errors=[notice(NoticeCode.AMAZON_UNAVAILABLE, reason=str(exc))],
                continue_after=TRANSIENT_RETRY_SECONDS,
            )

    def _finish(self, ctx: JobContext, started: float, outcome: JobOutcome) -> None:
        message, store = ctx.message, ctx.store
        result = outcome.final_result()
        job_state.record_run(
            store_id=store.store_id,
            merchant_id=store.merchant_id,
            job=message.job,
            mode=message.mode,
            trigger=message.trigger,
            started_at=started,
            result=result,
            counts=outcome.counts,
            errors=outcome.errors,
        )
        set_last_run(store, message.job, result, outcome.describe())
        rerun, rerun_mode = job_state.release_lease(store.store_id, message.job, ctx.owner)
        if outcome.continue_after is not None:
            self._queue.send(message.continuation(), delay_seconds=outcome.continue_after)
        elif rerun:
            mode = JobMode(rerun_mode) if rerun_mode else message.mode
            self._queue.send(message.model_copy(update={"trigger": "rerun", "mode": mode}))
        logger.info(
            "job finished",
            extra={"job": message.job, "mode": message.mode, "result": result, "counts": outcome.counts},
        )
