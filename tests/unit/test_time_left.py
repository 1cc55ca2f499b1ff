"""The invocation's remaining time as the use cases see it: a plain callable, from Lambda's context."""

from __future__ import annotations

import math
import time

from storesync.usecases.time_left import InvocationTime, from_context, unlimited
from storesync_local.functions import FakeLambdaContext


def test_the_remaining_seconds_come_from_the_context_and_count_down() -> None:
    context = FakeLambdaContext("f", timeout_seconds=60, started=time.monotonic() - 50)
    remaining = from_context(context)
    assert 9.0 <= remaining() <= 10.0
    assert InvocationTime(remaining, margin_seconds=15).running_out()
    assert not InvocationTime(remaining, margin_seconds=5).running_out()


def test_no_context_means_no_invocation_limit() -> None:
    assert from_context(None)() == math.inf == unlimited()
    assert not InvocationTime().running_out()


def test_a_context_a_test_reuses_keeps_its_full_timeout() -> None:
    assert from_context(FakeLambdaContext("f", timeout_seconds=30))() == 30.0
