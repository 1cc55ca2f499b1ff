"""Log keys per invocation: the local runtime runs several invocations at once, in threads of one process that
share storesync's one Logger; each invocation's lines carry its own store, merchant and Lambda context keys,
never another's (in Lambda one process runs one invocation at a time)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from storesync.observability import bind_store, logger, unbind_store
from storesync_local.functions import FakeLambdaContext

ROUNDS = 50


def handler_of(name: str, barrier: threading.Barrier) -> Any:
    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> None:
        bind_store(event["store"], event["merchant"])
        try:
            for n in range(ROUNDS):
                barrier.wait(timeout=10)  # every invocation has appended its keys before anyone logs
                logger.info("working", extra={"n": n, "expected_store": event["store"]})
        finally:
            unbind_store()

    return handler


class Lines:
    """What storesync's logger writes, as Powertools formats it (JSON lines)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def read(self) -> list[dict[str, Any]]:
        text, _ = self.stream.getvalue(), self.stream.truncate(0)
        self.stream.seek(0)
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def written() -> Iterator[Lines]:
    lines = Lines()
    handler = logging.StreamHandler(lines.stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)  # noqa: SLF001 - Powertools' underlying logging.Logger
    try:
        yield lines
    finally:
        logger._logger.removeHandler(handler)  # noqa: SLF001


def test_concurrent_invocations_keep_their_own_log_keys(written: Lines) -> None:
    logger.info("before")
    [before] = written.read()
    names = ["ProductImportFunction", "OrderImportFunction", "InventoryPushFunction"]
    barrier = threading.Barrier(len(names))
    contexts = {name: FakeLambdaContext(name) for name in names}
    threads = [
        threading.Thread(
            target=handler_of(name, barrier),
            args=({"store": f"store-{i}", "merchant": f"merchant-{i}"}, contexts[name]),
        )
        for i, name in enumerate(names)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    lines = written.read()
    working = [line for line in lines if line.get("message") == "working"]
    assert len(working) == ROUNDS * len(names)
    for line in working:
        i = int(line["expected_store"].split("-")[1])
        name = names[i]
        assert (line["store_id"], line["merchant_id"]) == (f"store-{i}", f"merchant-{i}"), line
        assert line["function_name"] == name, line
        assert line["function_request_id"] == contexts[name].aws_request_id, line
        assert line["service"] == "storesync"

    logger.info("after")  # this thread's keys are its own: none of the invocations' came here
    after = written.read()[-1]
    assert (after.get("store_id"), after.get("function_name")) == (
        before.get("store_id"),
        before.get("function_name"),
    )
    assert after.get("store_id") not in {f"store-{i}" for i in range(len(names))}
