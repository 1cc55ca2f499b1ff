"""The local runtime runs a function's invocations at once, as Lambda does: order notifications are handled while
a long order import of the same function is still running."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from storesync_local.runtime import LocalRuntime
from storesync_local.waiting import wait_for

pytestmark = pytest.mark.e2e


class LongImport:
    """A stand-in OrderImportFunction: an order-import job waits until released; notifications return at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.handled: list[str] = []
        self.import_started = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            body = json.loads(record["body"])
            if body.get("kind") == "import":
                self.import_started.set()
                assert self.release.wait(60)
            with self.lock:
                self.handled.append(body["n"])
        return {"batchItemFailures": []}


def test_notifications_are_not_serialised_behind_a_long_order_import(
    local_runtime_factory: Callable[..., LocalRuntime],
) -> None:
    function = LongImport()
    runtime = local_runtime_factory(function_overrides={"OrderImportFunction": function}, run_schedules=False)
    assert runtime.provisioned is not None
    host = runtime.functions["OrderImportFunction"]
    assert host.concurrency > 1
    try:
        runtime.sqs.send_message(
            QueueUrl=runtime.provisioned.queue_url("OrderImportQueue"),
            MessageBody=json.dumps({"kind": "import", "n": "import"}),
        )
        assert function.import_started.wait(30)
        notifications = runtime.provisioned.queue_url("OrderNotificationsQueue")
        for n in range(3):
            runtime.sqs.send_message(
                QueueUrl=notifications, MessageBody=json.dumps({"kind": "notice", "n": f"n{n}"})
            )
        wait_for(lambda: len(function.handled) >= 3 or None, timeout=30, what="the notifications handled")
        with function.lock:
            assert sorted(function.handled) == ["n0", "n1", "n2"]  # the import is still running
        assert host.running == 1
    finally:
        function.release.set()
    wait_for(lambda: "import" in function.handled or None, timeout=30, what="the import finished")
    assert host.peak_concurrency >= 2
    wait_for(
        lambda: (
            runtime.queue_depths()["OrderImportQueue"] == 0
            and runtime.queue_depths()["OrderNotificationsQueue"] == 0
            or None
        ),
        timeout=30,
        what="both queues drained",
    )
