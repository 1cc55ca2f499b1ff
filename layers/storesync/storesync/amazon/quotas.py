"""Amazon's default usage plans (rate per second, burst) per operation, from the SP-API models.

Quotas are per selling partner + application + operation, so every store of one seller and region shares them.
BucketState is one stored token bucket (the quota gate's logic is in quota_gate.py, its DynamoDB storage in
storesync.dal.quota): plain data, so the data layer can store it without importing the SP-API library.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second
    burst: int


USAGE_PLANS: dict[str, UsagePlan] = {
    "getMarketplaceParticipations": UsagePlan(0.016, 15),
    "searchOrders": UsagePlan(0.0056, 20),
    "getOrder": UsagePlan(0.5, 30),
    "confirmShipment": UsagePlan(2.0, 10),
    "createReport": UsagePlan(0.0167, 15),
    "getReport": UsagePlan(2.0, 15),
    "getReportDocument": UsagePlan(0.0167, 15),
    "searchListingsItems": UsagePlan(5.0, 5),
    "getListingsItem": UsagePlan(5.0, 10),
    "patchListingsItem": UsagePlan(5.0, 5),
    "createFeedDocument": UsagePlan(0.5, 15),
    "createFeed": UsagePlan(0.0083, 15),
    "getFeed": UsagePlan(2.0, 15),
    "getFeedDocument": UsagePlan(0.0222, 10),
    "getInventorySummaries": UsagePlan(2.0, 2),
    "createDestination": UsagePlan(1.0, 5),
    "getDestinations": UsagePlan(1.0, 5),
    "createSubscription": UsagePlan(1.0, 5),
    "getSubscription": UsagePlan(1.0, 5),
}


def usage_plan(operation: str, scale: float = 1.0) -> UsagePlan:
    plan = USAGE_PLANS[operation]
    return UsagePlan(plan.rate * scale, plan.burst)


@dataclass
class BucketState:
    tokens: float
    updated_at: float
    blocked_until: float = 0.0
