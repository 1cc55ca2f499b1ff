"""The quota gate with a fake clock: Amazon's burst, then its rate, minus the reserve that absorbs the gap between
a call leaving the gate and arriving at Amazon; long waits become Throttled instead of sleeps."""

from __future__ import annotations

import pytest
from storesync.amazon.errors import Throttled
from storesync.amazon.quota_gate import ARRIVAL_JITTER_SECONDS, InMemoryBucketStore, QuotaGate, reserve
from storesync.amazon.quotas import usage_plan


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


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
