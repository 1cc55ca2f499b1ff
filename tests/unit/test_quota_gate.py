"""The quota gate with a fake clock: Amazon's burst, then its rate, minus the reserve that absorbs the gap between
a call leaving the gate and arriving at Amazon; long waits become Throttled instead of sleeps. A failed call
(unreadable answer, 5xx, lost answer) is tried again inside the call, counted, logged, then raised."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fakes import FakeTime
from storesync.amazon.errors import AmazonAnswerInvalid, AnswerLost, Throttled, TransientAmazonError
from storesync.amazon.quota_gate import (
    ARRIVAL_JITTER_SECONDS,
    RETRY_DELAYS,
    RETRY_JITTER,
    UNREPEATABLE,
    InMemoryBucketStore,
    QuotaGate,
    first_call_reserve,
    reserve,
)
from storesync.amazon.quotas import usage_plan


def gate(time: FakeTime, **kwargs: float) -> QuotaGate:
    return QuotaGate("A1SELLER#NA", InMemoryBucketStore(), clock=time.clock, sleep=time.sleep, **kwargs)


def test_the_reserve_is_half_a_second_of_refill_and_leaves_one_token_usable() -> None:
    confirm = usage_plan("confirmShipment", 1.0)  # 2/s, burst 10
    assert reserve(confirm) == pytest.approx(confirm.rate * ARRIVAL_JITTER_SECONDS) == pytest.approx(1.0)
    patch = usage_plan("patchListingsItem", 100.0)  # 500/s, burst 5: the reserve is capped at burst - 1
    assert reserve(patch) == patch.burst - 1


def test_burst_less_the_reserve_goes_at_once_then_calls_follow_the_rate() -> None:
    time = FakeTime()
    quota = gate(time)
    for _ in range(9):  # burst 10, one token in reserve
        quota.acquire("confirmShipment")
    assert time.slept == []
    quota.acquire("confirmShipment")
    assert time.slept == [pytest.approx(0.5)]
    for _ in range(4):
        quota.acquire("confirmShipment")
    assert time.slept == [pytest.approx(0.5)] * 5  # 2 per second, sustained


def test_a_wait_longer_than_the_inline_limit_is_throttled_not_slept() -> None:
    time = FakeTime()
    quota = gate(time, max_inline_wait=2.0)
    for _ in range(20):  # searchOrders: burst 20, a token every 178 s
        quota.acquire("searchOrders")
    with pytest.raises(Throttled) as refused:
        quota.acquire("searchOrders")
    assert refused.value.retry_after == pytest.approx(1 / usage_plan("searchOrders", 1.0).rate, rel=0.01)
    assert all(wait <= 2.0 for wait in time.slept)


def test_a_429_empties_the_bucket_until_one_token_is_back() -> None:
    time = FakeTime()
    quota = gate(time)
    wait = quota.penalize("getOrder")  # 0.5/s: a token every 2 s
    assert wait == pytest.approx(2.0)
    assert quota.wait_time("getOrder") == pytest.approx(2.0)
    time.now += 2.0  # one token is back; the reserve on top of it refills at the same rate
    assert quota.wait_time("getOrder") == pytest.approx(reserve(usage_plan("getOrder", 1.0)) / 0.5)


# Failed calls: tried again inside the call, counted, logged, then raised ------------------------------------
class Headers:
    """An answer as python-amazon-sp-api returns it: the body in `payload`, the response headers kept."""

    def __init__(self, payload: Any, request_id: str) -> None:
        self.payload = payload
        self.headers = {"x-amzn-RequestId": request_id}


def failing(*outcomes: Any) -> Callable[[], Any]:
    """A call that raises or returns each outcome in turn."""
    queue = list(outcomes)

    def call() -> Any:
        outcome = queue.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return call


def test_a_transient_failure_is_tried_again_with_short_sleeps_each_taking_a_token() -> None:
    time = FakeTime()
    quota = gate(time)
    lost = httpx.ReadTimeout("read timed out")
    assert quota.call("getOrder", failing(lost, TransientAmazonError("503"), "ok")) == "ok"
    assert quota.calls == {"getOrder": 3} and quota.failures == {"getOrder": 2} and quota.gave_up == {}
    assert time.slept == [
        pytest.approx(RETRY_DELAYS[0], rel=RETRY_JITTER),
        pytest.approx(RETRY_DELAYS[1], rel=RETRY_JITTER),
    ]
    state = quota._store.load(quota._key("getOrder"))  # type: ignore[attr-defined]
    assert state is not None and state.tokens == pytest.approx(30 - 3 + sum(time.slept) * 0.5, abs=0.01)


def test_a_parse_failure_reads_the_answer_again_and_names_amazons_request_id() -> None:
    quota = gate(FakeTime())

    def parse(answer: Headers) -> str:
        if "reportId" not in answer.payload:
            raise AmazonAnswerInvalid("createReport: reportId: Field required", field="reportId")
        return str(answer.payload["reportId"])

    cut = Headers({}, "rid-1")
    assert quota.call("createReport", failing(cut, Headers({"reportId": "R1"}, "rid-2")), parse=parse) == "R1"
    with pytest.raises(AmazonAnswerInvalid) as invalid:
        quota.call("createReport", failing(*[cut] * 5), parse=parse)
    assert invalid.value.request_id == "rid-1" and invalid.value.field == "reportId"
    assert str(invalid.value) == "createReport: reportId: Field required (x-amzn-RequestId rid-1)"
    assert quota.failures == {"createReport": 5} and quota.gave_up == {"createReport": 1}


@pytest.mark.parametrize("operation", sorted(UNREPEATABLE))
def test_an_operation_that_must_not_run_twice_is_not_repeated_once_it_may_have_reached_amazon(
    operation: str,
) -> None:
    quota = gate(FakeTime())
    for reached in (
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        TransientAmazonError("HTTP 500", status=500, may_be_performed=True),
        AmazonAnswerInvalid(f"{operation}: Amazon answered an empty body"),
    ):
        with pytest.raises((TransientAmazonError, AmazonAnswerInvalid)) as failed:
            quota.call(operation, failing(reached, "never asked"))
        assert failed.value.operation == operation
    assert quota.calls == {operation: 3} and quota.gave_up == {operation: 3}
    assert quota.call(operation, failing(httpx.ConnectError("refused"), "done")) == "done"  # never left


def test_a_lost_answer_says_the_call_may_have_been_performed() -> None:
    with pytest.raises(AnswerLost, match="may have been performed") as lost:
        gate(FakeTime()).call("confirmShipment", failing(httpx.RemoteProtocolError("dropped")))
    assert lost.value.may_be_performed


def test_a_failure_is_logged_with_the_operation_and_request_id_and_nothing_of_the_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quota = gate(FakeTime())
    buyer = Headers({"order": {"buyerEmail": "buyer@example.com"}}, "rid-9")

    def parse(answer: Headers) -> None:
        raise AmazonAnswerInvalid("getOrder: orderItems: missing")

    with pytest.raises(AmazonAnswerInvalid):
        quota.call("getOrder", failing(*[buyer] * 5), parse=parse)
    failed = [r for r in caplog.records if getattr(r, "operation", None) == "getOrder"]
    assert [r.getMessage() for r in failed] == ["Amazon call failed: trying again"] * 3 + [
        "Amazon call failed: giving up"
    ]
    assert [(r.request_id, r.error, r.attempt) for r in failed] == [  # type: ignore[attr-defined]
        ("rid-9", "AmazonAnswerInvalid", n) for n in (1, 2, 3, 4)
    ]
    assert "buyer@example.com" not in caplog.text and all("buyer" not in str(vars(r)) for r in failed)


def test_a_background_gate_leaves_a_third_of_the_burst_to_first_call_callers() -> None:
    time = FakeTime()
    store = InMemoryBucketStore()
    planner = QuotaGate("A1SELLER#NA", store, clock=time.clock, sleep=time.sleep, background=True)
    notifications = QuotaGate("A1SELLER#NA", store, clock=time.clock, sleep=time.sleep)
    plan = usage_plan("getOrder", 1.0)  # 0.5/s, burst 30
    assert first_call_reserve(plan) == pytest.approx(10.0)
    took = 0
    while planner.wait_time("getOrder") == 0:
        planner.acquire("getOrder")
        took += 1
    assert took == 19  # 30 - 10 left to notifications - 1 for the arrival jitter (rounded down)
    for _ in range(10):  # a burst of notifications finds its tokens at once
        notifications.acquire("getOrder")
    assert time.slept == []
    assert planner.wait_time("getOrder") > notifications.wait_time("getOrder")


def test_when_both_want_more_than_the_rate_the_first_call_caller_gets_it_all() -> None:
    time = FakeTime()
    store = InMemoryBucketStore()
    planner = QuotaGate("A1SELLER#NA", store, clock=time.clock, sleep=time.sleep, background=True,
                        max_inline_wait=0.0)  # fmt: skip
    notifications = QuotaGate("A1SELLER#NA", store, clock=time.clock, sleep=time.sleep)
    got = {"planner": 0, "notifications": 0}
    for _ in range(200):  # both ask every 2 s, the refill: one token every 2 s
        notifications.acquire("getOrder")
        got["notifications"] += 1
        try:
            planner.acquire("getOrder")
            got["planner"] += 1
        except Throttled:
            pass
        time.now += 0.5
    assert got["notifications"] == 200
    assert (
        got["planner"] <= 20
    )  # the start's burst above the reserve, then nothing while notifications need it


def test_an_idle_first_call_caller_leaves_the_whole_rate_to_the_background() -> None:
    time = FakeTime()
    planner = QuotaGate(
        "A1SELLER#NA", InMemoryBucketStore(), clock=time.clock, sleep=time.sleep, background=True
    )
    for _ in range(100):
        planner.acquire("getOrder")
    # the burst less both reserves at once, then one call per token: 2 s each
    assert sum(time.slept) == pytest.approx((100 - 19) / 0.5, rel=0.02)
