"""What the inventory push keeps per listing: what was sent, when, and what Amazon answered.

last_pushed_quantity is the last quantity Amazon ACCEPTED (the base of "only what changed");
last_push_sent_quantity / last_push_at / last_push_status (accepted | rejected | pending | failed) /
last_push_message record the latest attempt. A listing in a feed that is still processing is `pending` with
last_push_message "feed <id>" (how the feed's SKUs are found again when its report arrives).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pynamodb.expressions.update import Action

from storesync.dal.products import Listing

ACCEPTED = "accepted"
REJECTED = "rejected"
PENDING = "pending"
FAILED = "failed"
FBM = "FBM"
BATCH_GET_LIMIT = 100
PLAN_PAGE_SIZE = 1000  # listings per query page of the plan (a few hundred KB: one or two DynamoDB pages)


def feed_marker(feed_id: str) -> str:
    return f"feed {feed_id}"


def is_pushable(listing: Listing) -> bool:
    """FBM listings still on Amazon. FBA quantities are Amazon's: never pushed."""
    return listing.channel == FBM and listing.status == "active"


def store_listings(store_id: str, skus: Iterable[str] | None = None) -> list[Listing]:
    """The store's pushable listings (all, or those SKUs)."""
    if skus is None:
        found: Iterable[Listing] = Listing.query(store_id)
    else:
        keys = [(store_id, s) for s in sorted(set(skus))]
        found = [
            item
            for start in range(0, len(keys), BATCH_GET_LIMIT)
            for item in Listing.batch_get(keys[start : start + BATCH_GET_LIMIT])
        ]
    return sorted((x for x in found if is_pushable(x)), key=lambda x: x.sku)


def listings_page(
    store_id: str, after: str | None, limit: int = PLAN_PAGE_SIZE
) -> tuple[list[Listing], str | None]:
    """One page of the store's listings in SKU order, after the SKU `after` (None: from the first): the
    pushable ones, and the last SKU read (None when the store has no more listings). One paginated query, so a
    plan reads a bounded slice of the store per call whatever the catalog size."""
    condition = None if after is None else Listing.sku > after
    page = list(Listing.query(store_id, condition, limit=limit, page_size=limit))
    last = page[-1].sku if len(page) == limit else None
    return [x for x in page if is_pushable(x)], last


def record_attempt(listing: Listing, quantity: int, status: str, message: str | None, at: datetime) -> None:
    """One listing's push outcome, written at once (patch path and sibling stores of a unified account)."""
    actions: list[Action] = [
        Listing.last_push_sent_quantity.set(quantity),
        Listing.last_push_at.set(at),
        Listing.last_push_status.set(status),
        Listing.last_push_message.set(message) if message else Listing.last_push_message.remove(),
    ]
    if status == ACCEPTED:
        actions.append(Listing.last_pushed_quantity.set(quantity))
    listing.update(actions=actions)


def set_attempt_fields(
    listing: Listing, quantity: int, status: str, message: str | None, at: datetime
) -> None:
    """The same, in memory, for a batch write (the feed path touches thousands of listings)."""
    listing.last_push_sent_quantity = quantity
    listing.last_push_at = at
    listing.last_push_status = status
    listing.last_push_message = message
    if status == ACCEPTED:
        listing.last_pushed_quantity = quantity


def save_many(listings: Sequence[Listing]) -> None:
    """Batch-write whole listing items (25 per request). Used for feeds, where thousands change at once; the
    cost: an attribute another job changed between our read and this write is overwritten (rare: listings
    are otherwise written by the product import)."""
    with Listing.batch_write() as batch:
        for listing in listings:
            batch.save(listing)


def pending_in_feed(
    store_id: str, feed_id: str, first_sku: str | None = None, last_sku: str | None = None
) -> list[Listing]:
    """The listings waiting for that feed's report; first/last SKU (the feed's SKU range) bound the query to
    the slice of the store the feed came from."""
    marker = feed_marker(feed_id)
    condition = None
    if first_sku is not None and last_sku is not None:
        condition = Listing.sku.between(first_sku, last_sku)
    return [
        x
        for x in Listing.query(store_id, condition, filter_condition=Listing.last_push_status == PENDING)
        if x.last_push_message == marker
    ]
