"""The quota gate: a token bucket per seller + region + operation, stored in DynamoDB and shared by every
Lambda and every store of that seller (Amazon counts quotas per selling partner and application).

`gate.call("getOrder", lambda: client.get_order(...))` takes a token first. When the bucket is empty, short
waits (up to `max_inline_wait` seconds) are slept; longer ones raise Throttled(retry_after) so the job saves its
cursor and re-enqueues itself with an SQS delay: no Lambda sleeps for minutes. A 429 from Amazon empties the
bucket and blocks it for the time one token takes to come back. The buckets' storage is passed in (a BucketStore:
storesync.dal.quota.DynamoBucketStore in the Lambdas, InMemoryBucketStore in tests and tools).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from storesync.amazon.errors import Throttled, call_amazon
from storesync.amazon.quotas import BucketState, UsagePlan, usage_plan

T = TypeVar("T")


class BucketStore(Protocol):
    def load(self, key: str) -> BucketState | None: ...

    def save(self, key: str, new: BucketState, expected: BucketState | None) -> bool:
        """Write `new` only if the stored state is still `expected` (None: not stored yet)."""
        ...


class InMemoryBucketStore:
    def __init__(self) -> None:
        self.buckets: dict[str, BucketState] = {}

    def load(self, key: str) -> BucketState | None:
        state = self.buckets.get(key)
        return None if state is None else BucketState(state.tokens, state.updated_at, state.blocked_until)

    def save(self, key: str, new: BucketState, expected: BucketState | None) -> bool:
        current = self.buckets.get(key)
        if (current is None) != (expected is None):
            return False
        if current is not None and expected is not None and current.updated_at != expected.updated_at:
            return False
        self.buckets[key] = new
        return True


ARRIVAL_JITTER_SECONDS = 0.5


def reserve(plan: UsagePlan) -> float:
    """Tokens the gate leaves in the bucket. Amazon counts a call when it arrives, the gate when it leaves, and
    the gap varies (a call that first fetches an access token leaves 100 ms earlier than it arrives), so the
    gate's bucket can run ahead of Amazon's by the refill of that gap. Keeping that refill in reserve costs a
    little burst and nothing of the sustained rate (at most burst - 1, so one token is always usable)."""
    return min(plan.burst - 1.0, plan.rate * ARRIVAL_JITTER_SECONDS)


class QuotaGate:
    def __init__(
        self,
        seller_key: str,
        store: BucketStore,
        *,
        scale: float = 1.0,
        max_inline_wait: float = 2.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.seller_key = seller_key
        self._store = store
        self._scale = scale
        self._max_inline_wait = max_inline_wait
        self._clock = clock
        self._sleep = sleep
        self.calls: dict[str, int] = {}
        self.throttles: dict[str, int] = {}

    def _key(self, operation: str) -> str:
        return f"{self.seller_key}#{operation}"

    def plan(self, operation: str) -> UsagePlan:
        return usage_plan(operation, self._scale)

    def wait_time(self, operation: str) -> float:
        """Seconds until one token is available (0 if now), without taking it."""
        plan = self.plan(operation)
        state = self._store.load(self._key(operation))
        now = self._clock()
        if state is None:
            return 0.0
        if state.blocked_until > now:
            return state.blocked_until - now
        tokens = min(plan.burst, state.tokens + (now - state.updated_at) * plan.rate)
        needed = 1 + reserve(plan)
        return 0.0 if tokens >= needed else (needed - tokens) / plan.rate

    def acquire(self, operation: str) -> None:
        plan = self.plan(operation)
        key = self._key(operation)
        for _ in range(50):
            now = self._clock()
            state = self._store.load(key)
            if state is not None and state.blocked_until > now:
                wait = state.blocked_until - now
            else:
                tokens = float(plan.burst) if state is None else state.tokens
                if state is not None:
                    tokens = min(float(plan.burst), tokens + (now - state.updated_at) * plan.rate)
                needed = 1 + reserve(plan)
                if tokens >= needed:
                    new = BucketState(tokens - 1, now, 0.0)
                    if self._store.save(key, new, state):
                        return
                    continue  # another Lambda took a token meanwhile: read again
                wait = (needed - tokens) / plan.rate
            if wait > self._max_inline_wait:
                raise Throttled(operation, wait)
            self._sleep(wait)
        raise Throttled(operation, 1.0)

    def penalize(self, operation: str) -> float:
        """Amazon answered 429: empty the bucket; nobody calls until one token is back. Returns the wait."""
        plan = self.plan(operation)
        key = self._key(operation)
        wait = max(1.0 / plan.rate, 1.0)
        for _ in range(10):
            now = self._clock()
            state = self._store.load(key)
            if self._store.save(key, BucketState(0.0, now, now + wait), state):
                break
        return wait

    def call(self, operation: str, fn: Callable[[], T]) -> T:
        self.acquire(operation)
        self.calls[operation] = self.calls.get(operation, 0) + 1
        try:
            return call_amazon(operation, fn)
        except Throttled as exc:
            self.throttles[operation] = self.throttles.get(operation, 0) + 1
            exc.retry_after = self.penalize(operation)
            raise
