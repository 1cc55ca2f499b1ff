"""The quota gate: a token bucket per seller + region + operation, stored in DynamoDB and shared by every
Lambda and every store of that seller (Amazon counts quotas per selling partner and application).

`gate.call("getOrder", lambda: client.get_order(...), parse=read)` takes a token first. When the bucket is empty,
short waits (up to `max_inline_wait` seconds) are slept; longer ones raise Throttled(retry_after) so the job saves
its cursor and re-enqueues itself with an SQS delay: no Lambda sleeps for minutes. A 429 from Amazon (with or
without rate-limit headers) empties the bucket and blocks it for the time one token takes to come back.

An answer that cannot be read (AmazonAnswerInvalid: empty, HTML, cut short, a required field missing, also when
`parse` finds it) or a transient failure (5xx, a dropped connection) is tried again inside the call, after short
sleeps (RETRY_DELAYS, under 3 s in all; each attempt takes a token), then raised: counted per operation in
`failures` (every failed attempt) and `gave_up` (calls that raised after their attempts), and logged with the
operation and Amazon's request id. Operations that must not run twice (UNREPEATABLE) are only tried again when
the request never left. A 401/403 (AccessDenied) drops the session's cached access token (`on_access_denied`)
and is tried once more; a second refusal raises AuthorizationRevoked.

Priority: a gate built with `background=True` (bulk work: the order planner, backlogs, catch-ups) leaves
`first_call_reserve(plan)` tokens in every bucket it shares, so a first-call caller (an ORDER_CHANGE notification,
whose gate is not background) always finds one: when both want more than the rate, the background caller gets
only what the first-call callers leave; when they are idle, it gets the whole rate (the reserve refills once).

The buckets' storage is passed in (a BucketStore: storesync.dal.quota.DynamoBucketStore in the Lambdas,
InMemoryBucketStore in tests and tools).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, overload

from storesync.amazon.errors import (
    AccessDenied,
    AmazonAnswerInvalid,
    AmazonError,
    AuthorizationRevoked,
    Throttled,
    TransientAmazonError,
    call_amazon,
    request_id_of,
)
from storesync.amazon.quotas import BucketState, UsagePlan, usage_plan
from storesync.observability import logger

T = TypeVar("T")
R = TypeVar("R")

# Sleeps between the attempts of one call (each stretched by up to RETRY_JITTER): 4 attempts, < 3 s of sleep.
RETRY_DELAYS: tuple[float, ...] = (0.25, 0.75, 1.5)
RETRY_JITTER = 0.2
# Operations Amazon must not perform twice: when their answer is lost or unreadable, the call may have been
# performed, so the gate does not repeat them (the use case decides, e.g. by reading the order's packages).
UNREPEATABLE = frozenset({"confirmShipment", "createFeed"})


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


FIRST_CALL_SHARE = 1 / 3  # of a bucket's burst that background callers leave to first-call callers


def first_call_reserve(plan: UsagePlan) -> float:
    """Tokens a background caller leaves for first-call callers (a third of the burst, at least one token;
    never all of it, so a background caller can still call at the bucket's full refill)."""
    room = plan.burst - 1.0 - reserve(plan)
    return max(0.0, min(room, max(1.0, plan.burst * FIRST_CALL_SHARE)))


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
        retry_delays: Sequence[float] = RETRY_DELAYS,
        on_access_denied: Callable[[], None] | None = None,
        background: bool = False,
    ) -> None:
        self.seller_key = seller_key
        self.background = background  # leaves first_call_reserve to the first-call callers
        self._store = store
        self._scale = scale
        self._max_inline_wait = max_inline_wait
        self._clock = clock
        self._sleep = sleep
        self._retry_delays = tuple(retry_delays)
        self.on_access_denied = on_access_denied  # drops the cached access token (set by the SP-API session)
        self.calls: dict[str, int] = {}  # attempts that left for Amazon
        self.throttles: dict[str, int] = {}
        self.failures: dict[str, int] = {}  # attempts whose answer was unreadable or failed (5xx, dropped)
        self.gave_up: dict[str, int] = {}  # calls that raised after all their attempts failed
        self.access_refreshed: dict[str, int] = {}  # 401/403 answers that dropped the cached access token

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
        needed = self._needed(plan)
        return 0.0 if tokens >= needed else (needed - tokens) / plan.rate

    def _needed(self, plan: UsagePlan) -> float:
        """Tokens the bucket must hold for this gate to take one."""
        return 1 + reserve(plan) + (first_call_reserve(plan) if self.background else 0.0)

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
                needed = self._needed(plan)
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

    @overload
    def call(self, operation: str, fn: Callable[[], T]) -> T: ...

    @overload
    def call(self, operation: str, fn: Callable[[], T], parse: Callable[[T], R]) -> R: ...

    def call(self, operation: str, fn: Callable[[], Any], parse: Callable[[Any], Any] | None = None) -> Any:
        """One Amazon call: a token, `fn()`, then `parse(answer)` when given (its AmazonAnswerInvalid is a failed
        attempt like an unreadable body, so a page cut short is read again, never taken for an empty one).
        Raises Throttled, AuthorizationRevoked, AmazonRejected, AmazonAnswerInvalid or TransientAmazonError."""
        attempt = 0
        refreshed = False
        while True:
            self.acquire(operation)
            self.calls[operation] = self.calls.get(operation, 0) + 1
            answer: Any = None
            try:
                answer = call_amazon(operation, fn)
                return answer if parse is None else parse(answer)
            except Throttled as exc:
                self.throttles[operation] = self.throttles.get(operation, 0) + 1
                exc.retry_after = self.penalize(operation)
                raise
            except AccessDenied as exc:
                if refreshed:
                    raise AuthorizationRevoked(
                        f"Amazon refused the store's authorization for {operation} ({exc.status} {exc.reason})"
                        " with a fresh access token"
                    ).tag(operation, exc.request_id) from exc
                refreshed = True
                self.access_refreshed[operation] = self.access_refreshed.get(operation, 0) + 1
                logger.info(
                    "Amazon refused the access token: refreshing it once",
                    extra={"operation": operation, "status": exc.status, "request_id": exc.request_id},
                )
                if self.on_access_denied is not None:
                    self.on_access_denied()
            except (AmazonAnswerInvalid, TransientAmazonError) as exc:
                if isinstance(exc, AmazonAnswerInvalid):
                    exc.tag(operation, request_id_of(getattr(answer, "headers", None)))
                self.failures[operation] = self.failures.get(operation, 0) + 1
                again = attempt < len(self._retry_delays) and self._repeatable(operation, exc)
                logger.warning(
                    "Amazon call failed: trying again" if again else "Amazon call failed: giving up",
                    extra={
                        "operation": operation,
                        "request_id": exc.request_id,
                        "attempt": attempt + 1,
                        "error": type(exc).__name__,
                        "status": getattr(exc, "status", None),
                    },
                )
                if not again:
                    self.gave_up[operation] = self.gave_up.get(operation, 0) + 1
                    raise
                delay = self._retry_delays[attempt] * (1.0 + RETRY_JITTER * random.random())
                attempt += 1
                self._sleep(delay)

    @staticmethod
    def _repeatable(operation: str, exc: AmazonError) -> bool:
        """May this failed attempt be repeated? Always, except for an UNREPEATABLE operation whose request may
        have reached Amazon (an answer lost, unreadable or a server error)."""
        if operation not in UNREPEATABLE:
            return True
        return isinstance(exc, TransientAmazonError) and not exc.may_be_performed
