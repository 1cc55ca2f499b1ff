"""Token buckets per (seller, operation) with Amazon's default usage plans read from the models."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from .clock import Clock

# Defaults from Amazon's usage-plan tables (used when a model has no table for an operation).
DEFAULT_USAGE_PLANS: dict[str, tuple[float, int]] = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "searchListingsItems": (5.0, 5),
    "patchListingsItem": (5.0, 5),
    "getListingsItem": (5.0, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "getInventorySummaries": (2.0, 2),
    "getMarketplaceParticipations": (0.016, 15),
    "createDestination": (1.0, 5),
    "createSubscription": (1.0, 5),
}
FALLBACK_USAGE_PLAN = (1.0, 5)

_USAGE_TABLE = re.compile(r"\|\s*([0-9.]+)\s*\|\s*([0-9]+)\s*\|")


def usage_plan_from_description(description: str) -> tuple[float, int] | None:
    """Read '| rate | burst |' from an operation description's Usage Plan table."""
    if "Usage Plan" not in description:
        return None
    match = _USAGE_TABLE.search(description.split("Usage Plan", 1)[1])
    if not match:
        return None
    return float(match.group(1)), int(match.group(2))


@dataclass
class Bucket:
    rate: float
    burst: int
    tokens: float
    updated: float


class Quotas:
    """Token buckets; `scale` multiplies every rate (60 = sixty times faster refill)."""

    def __init__(self, clock: Clock, scale: float = 1.0) -> None:
        self.clock = clock
        self.scale = scale
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def take(self, seller_id: str, operation_id: str, plan: tuple[float, int]) -> bool:
        """Take one token; False when the bucket is empty (the caller answers 429)."""
        rate, burst = plan
        now = self.clock.time()
        with self._lock:
            bucket = self._buckets.get((seller_id, operation_id))
            if bucket is None:
                bucket = Bucket(rate, burst, float(burst), now)
                self._buckets[(seller_id, operation_id)] = bucket
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(burst), bucket.tokens + elapsed * rate * self.scale)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True
            return False

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def limit_header(self, plan: tuple[float, int]) -> str:
        return f"{plan[0] * self.scale:g}"
