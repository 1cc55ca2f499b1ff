"""Lambda-like concurrency in the local runtime: a function runs several invocations at once, each in its own
execution environment, up to its limit; an SQS source runs several batches at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from storesync_local.pollers import QueuePoller, SqsSource
from storesync_local.runtime import FunctionHost
from storesync_local.template import functions, load_template

WAIT = 10.0


def _host(handler: Any, concurrency: int) -> FunctionHost:
    spec = {"code_uri": Path("/nowhere"), "handler": "app.handler", "timeout": 30}
    return FunctionHost("Fn", spec, override=handler, concurrency=concurrency)


def _in_threads(count: int, target: Any) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def test_invocations_run_at_once_up_to_the_limit_then_wait() -> None:
    inside, release = threading.Semaphore(0), threading.Event()

    def handler(event: dict[str, Any], context: Any) -> str:
        inside.release()
        assert release.wait(WAIT)
        return "done"

    host = _host(handler, concurrency=3)
    threads = _in_threads(4, lambda: host.invoke({}))
    for _ in range(3):  # three are inside the handler at the same time
        assert inside.acquire(timeout=WAIT)
    assert not inside.acquire(timeout=0.3)  # the fourth waits for a free environment
    assert host.running == 3
    release.set()
    assert inside.acquire(timeout=WAIT)  # ... and runs once one is free
    for thread in threads:
        thread.join(WAIT)
    assert host.invocations == 4 and host.peak_concurrency == 3 and host.running == 0


def test_each_concurrent_invocation_has_its_own_environment_reused_when_idle(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import threading\n"
        "ENVIRONMENT = object()\n"
        "seen = []\n"
        "def handler(event, context):\n"
        "    seen.append(event['n'])\n"
        "    event['barrier'].wait(10)\n"
        "    return (id(ENVIRONMENT), list(seen))\n"
    )
    spec = {"code_uri": tmp_path, "handler": "app.handler", "timeout": 30}
    host = FunctionHost("Fn", spec, concurrency=2)
    barrier = threading.Barrier(2)
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda n=n: results.append(host.invoke({"n": n, "barrier": barrier})))
        for n in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    # both ran together (the barrier let them through) in two module instances that share no globals
    assert len(results) == 2 and results[0][0] != results[1][0]
    assert sorted(len(seen) for _, seen in results) == [1, 1]
    assert host.cold_starts == 2
    # one at a time afterwards: a warm environment is reused, no new cold start
    alone = threading.Barrier(1)
    environment, _ = host.invoke({"n": 3, "barrier": alone})
    assert environment in {results[0][0], results[1][0]}
    assert host.cold_starts == 2 and host.invocations == 3


def test_a_failing_invocation_frees_its_environment() -> None:
    def handler(event: dict[str, Any], context: Any) -> None:
        raise ValueError("boom")

    host = _host(handler, concurrency=1)
    for _ in range(3):  # would wait forever if the failure kept the only environment
        with pytest.raises(ValueError, match="boom"):
            host.invoke({})
    assert host.running == 0 and host.invocations == 3


def test_concurrency_below_one_is_refused_naming_the_function() -> None:
    with pytest.raises(ValueError, match="concurrency of Fn: 0"):
        _host(lambda e, c: None, concurrency=0)


def test_template_functions_read_a_literal_reserved_concurrency() -> None:
    template = load_template()
    name = next(iter(functions(template)))
    template["Resources"][name]["Properties"]["ReservedConcurrentExecutions"] = 2
    assert functions(template)[name]["reserved_concurrency"] == 2
    template["Resources"][name]["Properties"]["ReservedConcurrentExecutions"] = {"Ref": "Something"}
    assert functions(template)[name]["reserved_concurrency"] is None


class FakeSqs:
    """Enough of an SQS client for one poller: a list of messages, receives of at most N, deletes recorded."""

    def __init__(self, bodies: list[str]) -> None:
        self.lock = threading.Lock()
        self.waiting = [
            {"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": body, "MD5OfBody": "x", "Attributes": {}}
            for n, body in enumerate(bodies)
        ]
        self.deleted: list[str] = []

    def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        return {"Attributes": {"VisibilityTimeout": "30"}}

    def receive_message(
        self, MaxNumberOfMessages: int, WaitTimeSeconds: int, **kwargs: Any
    ) -> dict[str, Any]:
        with self.lock:
            batch, self.waiting = self.waiting[:MaxNumberOfMessages], self.waiting[MaxNumberOfMessages:]
        if not batch:
            time.sleep(0.05)
        return {"Messages": batch} if batch else {}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        with self.lock:
            self.deleted.extend(e["ReceiptHandle"] for e in Entries)
        return {}


def _poller(sqs: FakeSqs, invoke: Any, concurrency: int) -> QueuePoller:
    source = SqsSource("Fn", "Jobs", "arn:aws:sqs:us-east-1:123456789012:q", "http://q", 1, True)
    return QueuePoller(source, sqs, invoke, "us-east-1", concurrency=concurrency, wait_seconds=0)


def test_a_long_batch_does_not_hold_up_the_next_ones() -> None:
    """Concurrency 2: the first batch blocks; the others are received and run meanwhile, then it finishes."""
    sqs = FakeSqs(["slow", "a", "b", "c"])
    release, done = threading.Event(), []

    def invoke(function: str, event: dict[str, Any]) -> None:
        body = event["Records"][0]["body"]
        if body == "slow":
            assert release.wait(WAIT)
        done.append(body)

    poller = _poller(sqs, invoke, concurrency=2).start()
    try:
        deadline = time.monotonic() + WAIT
        while len(done) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(done) == ["a", "b", "c"]  # all three ran while "slow" was still running
        assert poller.running == 1
        release.set()
        while len(sqs.deleted) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        release.set()
        poller.stop()
        poller.join(WAIT)
    assert done[-1] == "slow" and sorted(sqs.deleted) == ["r0", "r1", "r2", "r3"]
    assert poller.running == 0


def test_a_poller_receives_nothing_while_every_slot_is_busy() -> None:
    """Concurrency 1: while its one batch runs, the poller does not take more messages off the queue."""
    sqs = FakeSqs(["slow", "a", "b"])
    started, release = threading.Event(), threading.Event()

    def invoke(function: str, event: dict[str, Any]) -> None:
        started.set()
        assert release.wait(WAIT)

    poller = _poller(sqs, invoke, concurrency=1).start()
    try:
        assert started.wait(WAIT)
        time.sleep(0.3)
        assert [m["Body"] for m in sqs.waiting] == ["a", "b"]
    finally:
        release.set()
        poller.stop()
        poller.join(WAIT)


def test_a_poller_with_no_slot_is_refused() -> None:
    with pytest.raises(ValueError, match="concurrency of the poller of Fn: 0"):
        _poller(FakeSqs([]), lambda f, e: None, concurrency=0).start()
