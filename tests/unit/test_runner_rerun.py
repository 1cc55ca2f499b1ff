"""A run asked for while a chain holds the lease (a schedule, "sync now", a notification's run) happens once,
after the chain: also when the slice holding the lease continues itself, when that slice dies or its bookkeeping
fails (SQS delivers it again), when SQS refuses the rerun; each mode asked runs once. With the runner's in-memory
book and with the tables (moto: DynamoRunBook, dal/job_state.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fakes import RecordingJobQueue
from storesync.dal.jobs import JobState
from storesync.dal.stores import Store
from storesync.jobs import JobMessage
from storesync.usecases.runner import DynamoRunBook, JobContext, JobOutcome, RunBook, StoreJobRunner
from test_runner import MemoryBook, make_store


class Queue(RecordingJobQueue):
    """Records the messages; fails the next send when told (SQS refused it)."""

    fail_next = False

    def send(self, message: JobMessage, delay_seconds: float = 0) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("SQS refused the message")
        super().send(message, delay_seconds)


def chain_of(slices: int, runner: StoreJobRunner, asked: JobMessage | None = None) -> Any:
    """A job that needs `slices` slices; during the first one, `asked` arrives (and finds the lease taken)."""
    done: list[int] = []

    def work(ctx: JobContext) -> JobOutcome:
        if asked is not None and not done:
            assert runner.run(asked, lambda c: JobOutcome()).final_result() == "skipped"  # the lease is taken
        done.append(1)
        return JobOutcome(continue_after=5 if len(done) % slices else None)

    return work


def drain(runner: StoreJobRunner, queue: RecordingJobQueue, work: Any) -> list[JobMessage]:
    """Deliver what the runner queues, in order, until nothing is left; the messages delivered."""
    delivered = []
    while queue.deliveries:
        following = queue.deliveries.pop(0)[0]
        delivered.append(following)
        runner.run(following, work)
    return delivered


@pytest.fixture(params=["memory", "tables"])
def setup(request: pytest.FixtureRequest) -> tuple[RunBook, Queue, JobMessage]:
    if request.param == "memory":
        book: RunBook = MemoryBook(make_store())
        merchant, store = "m", "s"
    else:
        request.getfixturevalue("stack")  # moto, the template's tables
        merchant, store = "m1", "s1"
        Store(merchant, store, name="S", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
              created_at=datetime.now(UTC)).save()  # fmt: skip
        book = DynamoRunBook()
    return book, Queue(), JobMessage(job="orders", merchant_id=merchant, store_id=store)


def test_a_run_asked_while_the_chain_continues_comes_once_after_the_chain(setup: Any) -> None:
    book, queue, scheduled = setup
    runner = StoreJobRunner(queue, book=book)
    catchup = scheduled.model_copy(update={"mode": "catchup"})  # e.g. the catch-up schedule fires meanwhile
    work = chain_of(3, runner, asked=catchup)

    runner.run(scheduled, work)  # slice 1 of 3: the catch-up finds the lease taken, the slice continues
    assert [m.trigger for m in queue.sent] == ["continuation"]
    delivered = drain(runner, queue, work)
    # slices 2 and 3, then the catch-up that was asked: once, after the chain, in its own mode (its own chain
    # of 3 slices)
    assert [(m.trigger, m.mode) for m in delivered] == [
        ("continuation", "incremental"),
        ("continuation", "incremental"),
        ("rerun", "catchup"),
        ("continuation", "catchup"),
        ("continuation", "catchup"),
    ]


def test_a_run_asked_while_the_last_slice_runs_comes_once(setup: Any) -> None:
    book, queue, scheduled = setup
    runner = StoreJobRunner(queue, book=book)
    work = chain_of(1, runner, asked=scheduled)
    runner.run(scheduled, work)
    assert [(m.trigger, m.mode) for m in drain(runner, queue, work)] == [("rerun", "incremental")]


def test_a_slice_that_dies_keeps_the_run_asked_for_its_redelivery(setup: Any) -> None:
    book, queue, scheduled = setup
    runner = StoreJobRunner(queue, book=book)

    def dies(ctx: JobContext) -> JobOutcome:
        assert runner.run(scheduled, lambda c: JobOutcome()).final_result() == "skipped"
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        runner.run(scheduled, dies)
    assert not queue.deliveries  # SQS delivers the message again
    runner.run(scheduled, lambda ctx: JobOutcome())  # ... and this time the chain ends
    assert [m.trigger for m in queue.sent] == ["rerun"]


def test_a_rerun_sqs_refused_is_asked_again(setup: Any) -> None:
    book, queue, scheduled = setup
    runner = StoreJobRunner(queue, book=book)
    queue.fail_next = True
    with pytest.raises(RuntimeError, match="SQS refused"):
        runner.run(scheduled, chain_of(1, runner, asked=scheduled))
    assert not queue.deliveries
    runner.run(scheduled, lambda ctx: JobOutcome())  # SQS delivers the message again: the rerun goes out
    assert [m.trigger for m in queue.sent] == ["rerun"]
    runner.run(queue.sent[0], lambda ctx: JobOutcome())
    assert len(queue.sent) == 1  # once


def test_each_mode_asked_runs_once_one_chain_at_a_time(setup: Any) -> None:
    book, queue, scheduled = setup
    runner = StoreJobRunner(queue, book=book)
    catchup = scheduled.model_copy(update={"mode": "catchup"})
    asked = [catchup, scheduled, catchup, scheduled]  # the catch-up and the 30-minute schedule, twice each

    def work(ctx: JobContext) -> JobOutcome:
        while asked:  # they all arrive during the first slice
            assert runner.run(asked.pop(), lambda c: JobOutcome()).final_result() == "skipped"
        return JobOutcome()

    runner.run(scheduled, work)
    assert [(m.trigger, m.mode) for m in drain(runner, queue, work)] == [
        ("rerun", "catchup"),
        ("rerun", "incremental"),
    ]


def test_the_tables_keep_the_request_until_the_chain_ends(stack: Any) -> None:
    from storesync.dal.job_state import acquire_lease, release_lease, request_rerun

    def asked() -> set[str]:
        return set(JobState.get("s2", "orders", consistent_read=True).rerun_modes or ())

    assert acquire_lease("s2", "orders", "m", "slice-1", 60) is not None
    request_rerun("s2", "orders", "incremental")
    request_rerun("s2", "orders", "catchup")
    request_rerun("s2", "orders", "catchup")
    assert release_lease("s2", "orders", "slice-1", continuing=True) == (False, None)
    assert asked() == {"catchup", "incremental"}
    assert acquire_lease("s2", "orders", "m", "slice-2", 60) is not None
    assert release_lease("s2", "orders", "slice-2") == (True, "catchup")
    assert asked() == {"incremental"}
    assert acquire_lease("s2", "orders", "m", "rerun-1", 60) is not None
    assert release_lease("s2", "orders", "rerun-1") == (True, "incremental")
    assert asked() == set()
    assert acquire_lease("s2", "orders", "m", "rerun-2", 60) is not None
    assert release_lease("s2", "orders", "rerun-2") == (False, None)  # each taken once


def test_a_run_whose_bookkeeping_fails_keeps_the_run_asked_for_its_redelivery(setup: Any) -> None:
    book, queue, scheduled = setup
    runner = StoreJobRunner(queue, book=book)
    record_run = book.record_run

    def gone(*args: Any) -> None:
        raise RuntimeError("the sync log table is gone")

    book.record_run = gone  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="sync log"):
        runner.run(scheduled, chain_of(1, runner, asked=scheduled))
    assert not queue.deliveries  # SQS delivers the message again
    book.record_run = record_run  # type: ignore[method-assign]
    runner.run(scheduled, lambda ctx: JobOutcome())
    assert [m.trigger for m in queue.sent] == ["rerun"]
