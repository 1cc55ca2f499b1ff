"""The job runner with fakes (no AWS): failed attempts retried with backoff up to a bound, then "failed"; the
failure summary; a revoked grant pauses the store; bugs leave no lease behind; sync health and its metric."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import MemoryOutbox, RecordingJobQueue
from storesync.amazon.errors import (
    AmazonAnswerInvalid,
    AmazonError,
    AmazonRejected,
    AuthorizationRevoked,
    Throttled,
    TransientAmazonError,
)
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.events import Event
from storesync.domain.notices import NoticeCode
from storesync.jobs import JobMessage, JobName
from storesync.usecases.runner import (
    MAX_ATTEMPTS,
    JobContext,
    JobOutcome,
    StoreJobRunner,
    retry_delay,
)

NOW = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
CADENCES = {
    JobName.PRODUCTS: 1800.0,
    JobName.ORDERS: 1800.0,
    JobName.INVENTORY: 1200.0,
    JobName.SHIPMENTS: 1800.0,
}


class MemoryBook:
    """The runner's bookkeeping in memory: one store, its leases, runs and last runs."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.leases: dict[str, str] = {}
        self.reruns: dict[str, set[str]] = {}  # the modes asked, by job
        self.cursors: dict[str, dict[str, Any]] = {}
        self.progress: dict[str, dict[str, Any]] = {}
        self.runs: list[dict[str, Any]] = []
        self.fail_record = False
        self.outbox = MemoryOutbox()

    def get_store(self, merchant_id: str, store_id: str) -> Store | None:
        return self.store if store_id == self.store.store_id else None

    def acquire_lease(self, store: Store, job: str, owner: str, seconds: int) -> dict[str, Any] | None:
        if job in self.leases:
            return None
        self.leases[job] = owner
        return dict(self.cursors.get(job, {}))

    def request_rerun(self, store_id: str, job: str, mode: str) -> None:
        self.reruns.setdefault(job, set()).add(mode)

    def release_lease(
        self, store_id: str, job: str, owner: str, continuing: bool = False
    ) -> tuple[bool, str | None]:
        assert self.leases.pop(job) == owner
        if continuing or not self.reruns.get(job):  # a rerun asked meanwhile waits for the chain's end
            return False, None
        mode = sorted(self.reruns[job])[0]  # one mode at a time, as job_state.release_lease
        self.reruns[job].discard(mode)
        return True, mode

    def save_cursor(self, store_id: str, job: str, owner: str, cursor: dict[str, Any]) -> None:
        assert self.leases[job] == owner
        self.cursors[job] = dict(cursor)

    def save_progress(self, store_id: str, job: str, owner: str, progress: dict[str, Any] | None) -> None:
        assert self.leases[job] == owner
        if progress is None:
            self.progress.pop(job, None)
        else:
            self.progress[job] = dict(progress)

    def record_run(
        self, store: Store, message: JobMessage, started_at: float, result: str, outcome: JobOutcome
    ) -> None:
        if self.fail_record:
            raise RuntimeError("the sync log table is gone")
        self.runs.append({"job": message.job, "result": result, "errors": list(outcome.errors)})

    def set_last_run(self, store: Store, job: str, entry: Mapping[str, Any]) -> None:
        current = store.last_runs
        runs = current.as_dict() if hasattr(current, "as_dict") else dict(current or {})
        runs[job] = dict(entry)
        store.last_runs = runs

    def pause_for_reauthorization(self, store: Store, reason: str, events: Sequence[Event] = ()) -> bool:
        if store.status != "active":
            return False
        store.status, store.status_reason = "needs_reauthorization", reason
        self.outbox.stage(events, NOW)  # committed with the status, as DynamoRunBook does
        return True


def make_store(**settings: Any) -> Store:
    return Store(
        "m", "s", name="Shop", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
        settings=StoreSettings(**settings), created_at=NOW - timedelta(days=2),
        authorized_at=NOW - timedelta(days=2),
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def book() -> MemoryBook:
    return MemoryBook(make_store())


@pytest.fixture
def queue() -> RecordingJobQueue:
    return RecordingJobQueue()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lags() -> list[tuple[str, float, float]]:
    return []


@pytest.fixture
def runner(book: MemoryBook, queue: RecordingJobQueue, clock: Clock, lags: list[Any]) -> StoreJobRunner:
    return StoreJobRunner(
        queue, cadences=CADENCES, book=book, clock=clock, publish_lag=lambda *a: lags.append(a)
    )


def message(job: str = "orders", **over: Any) -> JobMessage:
    return JobMessage(job=job, merchant_id="m", store_id="s", **over)


def failing(exc: Exception) -> Any:
    def work(ctx: JobContext) -> JobOutcome:
        raise exc

    return work


def ok(ctx: JobContext) -> JobOutcome:
    outcome = JobOutcome()
    outcome.add("imported", 2)
    return outcome


def codes(outcome: JobOutcome) -> list[NoticeCode]:
    return [e.code for e in outcome.errors]


def test_backoff_doubles_from_a_minute_and_stays_within_sqs_delay() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4, 5, 6)] == [60, 120, 240, 480, 900, 900]


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (TransientAmazonError("Amazon failed on searchOrders (503): retrying later"), NoticeCode.AMAZON_UNAVAILABLE),
        (AmazonAnswerInvalid("searchOrders: the answer is not JSON (request id r-1)"), NoticeCode.AMAZON_ANSWER_INVALID),
    ],
)  # fmt: skip
def test_a_failed_attempt_is_retried_with_backoff_then_the_chain_ends_failed(
    runner: StoreJobRunner, book: MemoryBook, queue: RecordingJobQueue, exc: Exception, code: NoticeCode
) -> None:
    current = message()
    delays = []
    for attempt in range(1, MAX_ATTEMPTS):
        outcome = runner.run(current, failing(exc))
        assert outcome.final_result() == "error"
        assert codes(outcome) == [code, NoticeCode.RUN_RETRYING]
        assert not book.leases  # never left in progress
        sent, delay = queue.deliveries[-1]
        assert (sent.attempt, sent.trigger) == (attempt, "continuation")
        delays.append(delay)
        current = sent
    assert delays == [60, 120, 240, 480]
    summary = book.store.last_runs["orders"]["summary"]
    assert str(exc).split(":")[0] in summary and "Attempt 4 of 5 failed" in summary

    last = runner.run(current, failing(exc))
    assert last.final_result() == "failed"
    assert codes(last) == [code, NoticeCode.RUN_GAVE_UP]
    assert last.continue_after is None and len(queue.deliveries) == MAX_ATTEMPTS - 1  # no more continuation
    entry = book.store.last_runs["orders"]
    assert entry["result"] == "failed" and entry["failed_runs"] == MAX_ATTEMPTS
    assert "stopped retrying" in entry["summary"] and "nothing to do" not in entry["summary"]
    assert [r["result"] for r in book.runs] == ["error"] * (MAX_ATTEMPTS - 1) + ["failed"]
    assert not book.leases

    # the next scheduled run is a fresh chain that starts from the saved cursor
    book.cursors["orders"] = {"last_complete": "2026-07-10T10:00:00Z"}
    seen: list[dict[str, Any]] = []

    def work(ctx: JobContext) -> JobOutcome:
        seen.append(ctx.cursor)
        return JobOutcome()

    assert runner.run(message(), work).final_result() == "ok"
    assert seen == [{"last_complete": "2026-07-10T10:00:00Z"}]
    assert book.store.last_runs["orders"]["failed_runs"] == 0


def test_a_use_case_asking_for_a_retry_gets_the_runner_backoff(
    runner: StoreJobRunner, queue: RecordingJobQueue
) -> None:
    def work(ctx: JobContext) -> JobOutcome:  # e.g. the product import catching TransientAmazonError itself
        return JobOutcome(result="error", continue_after=60.0)

    runner.run(message("products", attempt=2), work)
    sent, delay = queue.deliveries[-1]
    assert (sent.attempt, delay) == (3, 240)


def test_a_run_a_use_case_marks_failed_never_continues(
    runner: StoreJobRunner, queue: RecordingJobQueue
) -> None:
    def work(ctx: JobContext) -> JobOutcome:
        return JobOutcome(result="failed", continue_after=30.0)

    assert runner.run(message(), work).continue_after is None
    assert not queue.deliveries


def test_progress_starts_a_fresh_chain_and_throttling_keeps_the_attempts(
    runner: StoreJobRunner, queue: RecordingJobQueue
) -> None:
    def more(ctx: JobContext) -> JobOutcome:
        return JobOutcome(continue_after=5.0)

    runner.run(message(attempt=3), more)
    assert (queue.deliveries[-1][0].attempt, queue.deliveries[-1][1]) == (0, 5.0)
    runner.run(message(attempt=3), failing(Throttled("searchOrders", 42.0)))
    assert (queue.deliveries[-1][0].attempt, queue.deliveries[-1][1]) == (3, 42.0)


def test_amazon_refusing_the_request_fails_the_run_without_retry(
    runner: StoreJobRunner, book: MemoryBook, queue: RecordingJobQueue
) -> None:
    outcome = runner.run(message(), failing(AmazonRejected("searchOrders", 400, "InvalidInput", "bad date")))
    assert outcome.final_result() == "failed" and codes(outcome) == [NoticeCode.AMAZON_REFUSED]
    assert not queue.deliveries
    assert "Amazon refused searchOrders: bad date" in book.store.last_runs["orders"]["summary"]


def test_any_other_amazon_failure_is_a_failed_attempt(
    runner: StoreJobRunner, queue: RecordingJobQueue
) -> None:
    class ReportEnded(AmazonError):
        pass

    outcome = runner.run(message("products"), failing(ReportEnded("Amazon's report r-1 ended FATAL")))
    assert outcome.final_result() == "error"
    assert codes(outcome) == [NoticeCode.AMAZON_UNAVAILABLE, NoticeCode.RUN_RETRYING]
    assert [(m.attempt, d) for m, d in queue.deliveries] == [(1, 60)]


def test_a_bug_records_the_run_releases_the_lease_and_propagates(
    runner: StoreJobRunner, book: MemoryBook, queue: RecordingJobQueue
) -> None:
    book.reruns["orders"] = {"incremental"}
    with pytest.raises(KeyError):
        runner.run(message(), failing(KeyError("oops")))
    assert book.runs[-1]["result"] == "error"
    assert book.runs[-1]["errors"][0].code == NoticeCode.UNEXPECTED_FAILURE
    assert not book.leases and not queue.deliveries  # SQS redelivers the message itself
    assert "Unexpected failure: KeyError" in book.store.last_runs["orders"]["summary"]


def test_the_lease_is_released_even_when_the_bookkeeping_fails(
    runner: StoreJobRunner, book: MemoryBook
) -> None:
    book.fail_record = True
    with pytest.raises(RuntimeError, match="sync log"):
        runner.run(message(), ok)
    assert not book.leases


def test_a_revoked_grant_pauses_the_store_at_once_and_stops_the_chain(
    runner: StoreJobRunner, book: MemoryBook, queue: RecordingJobQueue
) -> None:
    book.reruns["orders"] = {"incremental"}  # a rerun asked meanwhile is dropped too
    outcome = runner.run(
        message(attempt=1),
        failing(AuthorizationRevoked("Amazon refused the store's authorization (invalid_grant)")),
    )
    assert outcome.final_result() == "error" and outcome.paused
    assert codes(outcome) == [NoticeCode.AUTHORIZATION_REFUSED]
    assert not queue.deliveries and not book.leases
    store = book.store
    assert store.status == "needs_reauthorization"
    assert store.status_reason == (
        "Amazon refused the store's authorization (invalid_grant). Syncing is paused: reauthorize the store "
        "to resume it; storesync then catches up what was missed."
    )
    assert "reauthorize the store" in store.last_runs["orders"]["summary"]

    # queued messages of the paused store end skipped, with no continuation and no run recorded
    runs = len(book.runs)
    for job in ("orders", "inventory", "products"):
        skipped = runner.run(message(job, trigger="continuation"), ok)
        assert skipped.final_result() == "skipped" and "needs reauthorization" in skipped.describe()
    assert not queue.deliveries and len(book.runs) == runs


def test_failed_runs_in_a_row_count_up_and_a_success_resets_them(
    runner: StoreJobRunner, book: MemoryBook, clock: Clock
) -> None:
    for _ in range(3):
        runner.run(message(), failing(TransientAmazonError("Amazon failed on searchOrders (503)")))
    entry = book.store.last_runs["orders"]
    assert entry["failed_runs"] == 3 and entry["succeeded_at"] is None
    runner.run(message(), failing(Throttled("searchOrders", 10)))  # neither success nor failure
    assert book.store.last_runs["orders"]["failed_runs"] == 3
    clock.now = NOW + timedelta(minutes=5)
    runner.run(message(), ok)
    entry = book.store.last_runs["orders"]
    assert entry["failed_runs"] == 0 and entry["succeeded_at"] == "2026-07-10T12:05:00Z"
    assert entry["summary"] == "imported: 2"


def test_the_sync_lag_is_published_after_every_run(
    runner: StoreJobRunner, book: MemoryBook, clock: Clock, lags: list[Any]
) -> None:
    runner.run(message(), ok)
    assert lags[-1] == ("orders", 0.0, 1800.0)
    clock.now = NOW + timedelta(minutes=45)
    runner.run(message(), failing(TransientAmazonError("Amazon could not be reached")))
    assert lags[-1] == ("orders", 2700.0, 1800.0)
    runner.run(message("inventory"), failing(TransientAmazonError("x")))  # never succeeded: since authorized
    assert lags[-1] == ("inventory", (timedelta(days=2, minutes=45)).total_seconds(), 1200.0)


def test_a_failed_outcome_never_reads_nothing_to_do() -> None:
    assert JobOutcome().describe() == "nothing to do"
    assert JobOutcome(result="failed").describe() == "Failed: see the sync log."
    outcome = JobOutcome(result="error", summary="report requested")
    assert "nothing to do" not in outcome.describe()


# --- events for the WMS (issue 16 part 5) -------------------------------------------------------------------


def events_runner(book: MemoryBook, queue: RecordingJobQueue, clock: Clock) -> tuple[StoreJobRunner, Any]:
    from fakes import RecordingEventPublisher

    published = RecordingEventPublisher()
    return StoreJobRunner(
        queue, cadences=CADENCES, book=book, clock=clock, publish_lag=lambda *a: None, events=published
    ), published


def test_a_revoked_grant_publishes_store_needs_reauthorization_once(
    book: MemoryBook, queue: RecordingJobQueue, clock: Clock
) -> None:
    runner, published = events_runner(book, queue, clock)
    revoked = failing(AuthorizationRevoked("Amazon refused the store's authorization (invalid_grant)"))
    runner.run(message(), revoked)
    runner.run(message("inventory"), revoked)  # the store is paused already: skipped, nothing more
    assert published.types() == ["Store Needs Reauthorization"]
    detail = published.events[0].detail
    assert (detail["storeId"], detail["merchantId"]) == ("s", "m")
    assert detail["reason"].startswith("Amazon refused the store's authorization (invalid_grant)")
    assert book.outbox.rows == {} and book.outbox.removed == [published.events[0].event_id]  # delivered
    # with a job context, the use cases get the same publisher
    seen: list[Any] = []
    book.store.status = "active"
    runner.run(message(), lambda ctx: seen.append(ctx.events) or JobOutcome())
    assert seen == [published]


def test_a_late_job_publishes_sync_lagging_with_one_id_per_spell(
    book: MemoryBook, queue: RecordingJobQueue, clock: Clock
) -> None:
    runner, published = events_runner(book, queue, clock)
    runner.run(message(), ok)
    clock.now = NOW + timedelta(minutes=59)  # within twice the 30-minute cadence: not late
    runner.run(message(), failing(TransientAmazonError("Amazon could not be reached")))
    assert published.events == []
    clock.now = NOW + timedelta(minutes=61)
    runner.run(message(), failing(TransientAmazonError("Amazon could not be reached")))
    clock.now = NOW + timedelta(minutes=90)
    runner.run(message(), failing(TransientAmazonError("Amazon could not be reached")))
    assert published.types() == ["Sync Lagging", "Sync Lagging"]
    first, second = (e.detail for e in published.events)
    assert (first["job"], first["lagSeconds"], first["cadenceSeconds"]) == ("orders", 3660, 1800)
    assert first["lastSuccessAt"] is not None and second["lagSeconds"] == 5400
    assert first["eventId"] == second["eventId"]  # the same spell: subscribers dedupe
    runner.run(message(), ok)  # caught up: no more
    clock.now = NOW + timedelta(minutes=200)
    runner.run(message(), failing(TransientAmazonError("x")))
    assert len(published.events) == 3 and published.events[2].event_id != first["eventId"]


def test_a_bus_that_refuses_sync_events_never_fails_the_run(
    book: MemoryBook, queue: RecordingJobQueue, clock: Clock
) -> None:
    runner, published = events_runner(book, queue, clock)
    published.fail = RuntimeError("bus down")
    outcome = runner.run(message(), failing(AuthorizationRevoked("invalid_grant")))
    assert outcome.paused and book.store.status == "needs_reauthorization"
    # the event committed with the status stays in the outbox: the relay sends it
    assert [r.event.detail_type for r in book.outbox.rows.values()] == ["Store Needs Reauthorization"]


def test_a_follow_up_starts_a_new_chain_after_its_delay_once_the_lease_is_free_and_a_rerun_goes_first(
    runner: StoreJobRunner, queue: RecordingJobQueue, book: MemoryBook
) -> None:
    """The order planner's next round during a peak: the chain ends (a catch-up asked for meanwhile runs at once)
    and a fresh message of the same mode comes after the delay."""

    def peak_round(ctx: JobContext) -> JobOutcome:
        book.request_rerun("s", "orders", "catchup")  # the catch-up's schedule found the chain running
        return JobOutcome(follow_up_after=420.0)

    runner.run(message(attempt=2), peak_round)
    (rerun, now), (follow_up, later) = queue.deliveries
    assert (rerun.trigger, rerun.mode, now) == ("rerun", "catchup", 0)
    assert (follow_up.trigger, follow_up.mode, follow_up.attempt, later) == (
        "follow_up",
        "incremental",
        0,
        420.0,
    )
    assert book.leases == {}

    queue.deliveries.clear()
    runner.run(message(), lambda ctx: JobOutcome(continue_after=5.0, follow_up_after=420.0))
    assert [(m.trigger, d) for m, d in queue.deliveries] == [("continuation", 5.0)]  # the chain goes on first
