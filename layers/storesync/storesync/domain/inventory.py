"""Stock and the quantity Amazon shows: available stock, the quantity-to-show rule, delta planning and the
choice between patchListingsItem and a JSON_LISTINGS_FEED. Plain Python: no AWS, no HTTP.

Why the crossover sits where it does (`patch_feed_crossover`, which storesync.usecases.inventory_push applies to
Amazon's usage plan for patchListingsItem):

- patchListingsItem: 5 requests/s, burst 5, one SKU per call, shared by every store of the seller in the
  region. N changes cost N calls; the last one leaves after max(0, N - 5) / 5 seconds. Every second of that
  is a Lambda mostly waiting on the quota (paid compute); a slice that runs longer than
  `PATCH_SLICE_SECONDS` has to stop and continue in a later invocation, which adds SQS delays.
- JSON_LISTINGS_FEED: createFeedDocument + one upload + createFeed (0.0083/s, burst 15, and at most 5 feeds
  per 5 minutes per region) carries up to 25,000 messages in 3 calls, then getFeed polls (2/s) and one
  getFeedDocument (0.0222/s) for the processing report. Amazon takes minutes to process a feed
  (`FEED_LATENCY_SECONDS` is our planning figure, polls included). Feeds are the scarce resource: a handful
  per region every 5 minutes, shared by the seller's stores.

So patches win while they all go out faster than a feed would come back AND within one bounded slice of
Lambda time; beyond that, one feed does the work of thousands of calls. The crossover is the number of
patches the patch quota lets out in min(feed latency, slice budget): burst + rate * that time. With Amazon's
real quotas: 5 + 5 * min(180, 30) = 155 changes. At 10,000 changes: 1 feed (about 6 calls, minutes of
processing) versus 10,000 patches (33 minutes of quota).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

Transport = Literal["patch", "feed"]

FEED_MAX_MESSAGES = 25_000  # Amazon's limit per JSON_LISTINGS_FEED
FEED_LATENCY_SECONDS = 180.0  # planning figure: Amazon's processing time of a small JSON feed, polls included
PATCH_SLICE_SECONDS = 30.0  # how long one invocation may spend sending patches before it hands over


def available(on_hand: int | float, allocated: int | float) -> int:
    """Units free to sell in one warehouse: on hand minus allocated, never below 0."""
    return max(0, int(on_hand) - int(allocated))


def quantity_to_show(available_sum: int, buffer: int | float | None, max_quantity: int | float | None) -> int:
    """What Amazon should show: available minus the safety buffer, capped by max_quantity, never below 0."""
    quantity = int(available_sum) - int(buffer or 0)
    if max_quantity is not None:
        quantity = min(quantity, int(max_quantity))
    return max(0, quantity)


class Quota(Protocol):
    """An operation's usage plan (storesync.amazon.quotas.UsagePlan)."""

    @property
    def rate(self) -> float: ...  # requests per second
    @property
    def burst(self) -> int: ...


def patch_feed_crossover(
    patch_plan: Quota,
    feed_latency_seconds: float = FEED_LATENCY_SECONDS,
    patch_slice_seconds: float = PATCH_SLICE_SECONDS,
) -> int:
    """The largest number of changes still sent as patches (see the module docstring)."""
    return patch_plan.burst + math.floor(patch_plan.rate * min(feed_latency_seconds, patch_slice_seconds))


def choose_transport(changes: int, crossover: int) -> Transport:
    return "patch" if changes <= crossover else "feed"


@dataclass(frozen=True)
class QuantityChange:
    sku: str
    quantity: int  # the quantity to show now
    last_accepted: int | None  # the last quantity Amazon accepted (None: never pushed)


def plan_changes(desired: Mapping[str, int], last_accepted: Mapping[str, int | None]) -> list[QuantityChange]:
    """The SKUs whose quantity to show differs from the last quantity Amazon accepted (never pushed counts as
    changed), sorted by SKU. Stock-outs (quantity 0 after a positive one) come first: they cost sales."""
    changes = [
        QuantityChange(sku, quantity, last_accepted.get(sku))
        for sku, quantity in desired.items()
        if last_accepted.get(sku) != quantity
    ]
    return sorted(changes, key=lambda c: (not is_stockout(c.quantity, c.last_accepted), c.sku))


def is_stockout(quantity: int, last_pushed: int | float | None) -> bool:
    """The quantity to show just hit 0 while Amazon still shows units (push now, not at the next run)."""
    return quantity == 0 and last_pushed is not None and last_pushed > 0
