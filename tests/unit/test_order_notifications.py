"""ORDER_CHANGE notifications duplicated, late and out of order, with fakes (no AWS, no HTTP): the notification
handler and the order state machine (storesync.domain.orders.decide) never move a stored order backwards and
never allocate or release stock twice, whatever the delivery order."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import permutations

import pytest
from storesync.dal.stores import Store
from storesync.domain.orders import (
    CHANNEL_FBM,
    IGNORE,
    AmazonItem,
    AmazonOrder,
    ImportRules,
    OrderSnapshot,
    OrderStatus,
    decide,
)
from storesync.usecases.order_notifications import OrderChange, OrderChangeHandler
from storesync.usecases.order_upsert import UpsertResult

ORDER = "111-0000001-0000001"
US = "ATVPDKIKX0DER"
STORE = Store("m", "s", name="s", marketplace_id=US, region="NA", status="active")
RULES = ImportRules(import_pending=True)
RANK = {"PENDING": 0, "UNSHIPPED": 1, "CANCELLED": 2}  # how far along Amazon's timeline a version is


def version(status: str, minute: int) -> AmazonOrder:
    return AmazonOrder(
        order_id=ORDER,
        marketplace_id=US,
        status=status,
        channel=CHANNEL_FBM,
        created="2026-07-10T10:00:00Z",
        last_updated=f"2026-07-10T10:{minute:02d}:00Z",
        items=(AmazonItem("OI-1", "SKU-1", 3),),
        address=None if status == "PENDING" else {"city": "Seattle"},
    )


TIMELINE = [version("PENDING", 0), version("UNSHIPPED", 5), version("CANCELLED", 9)]


@dataclass
class MemoryUpserter:
    """The upsert's decisions (domain.decide) on an in-memory order, with the stock it holds."""

    stored: OrderSnapshot | None = None
    allocated: int = 0  # units the order holds
    allocations: int = 0  # times stock was allocated
    releases: int = 0
    seen: list[str] = field(default_factory=list)  # the Amazon status stored after each upsert

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        d = decide(self.stored, incoming, RULES)
        if d.action == IGNORE:
            return UpsertResult(incoming.order_id, IGNORE, d.reason)
        assert d.status is not None
        if d.allocate:
            assert self.allocated == 0, "allocated twice"
            self.allocated = sum(i.quantity for i in incoming.items)
            self.allocations += 1
        if d.release_allocation and self.allocated:
            self.allocated = 0
            self.releases += 1
        self.stored = OrderSnapshot(
            amazon_order_id=incoming.order_id,
            marketplace_id=incoming.marketplace_id,
            channel=incoming.channel,
            status=d.status,
            amazon_status=incoming.status,
            amazon_last_updated=incoming.last_updated,
            holds=d.holds,
            has_address=bool(self.stored and self.stored.has_address) or d.store_address,
        )
        self.seen.append(incoming.status)
        return UpsertResult(incoming.order_id, d.action, d.reason, d.status)


class Amazon:
    """getOrder: the order as Amazon holds it now (`current`), or, `stale`, as it was when the notification
    was sent (a lagging read: the worst a late notification can meet)."""

    def __init__(self, stale: bool) -> None:
        self.stale = stale
        self.now = TIMELINE[-1]
        self.asked: AmazonOrder | None = None

    def get_order(self, amazon_order_id: str) -> AmazonOrder:
        assert self.asked is not None
        return self.asked if self.stale else self.now


def change(n: int, copy: int = 0) -> OrderChange:
    return OrderChange(f"n{n}-{copy}", "SELLER", ORDER, US, TIMELINE[n].status)


# every notification once, two of them again (a duplicate under another id passes the idempotency layer)
DELIVERIES = [(0, 0), (1, 0), (2, 0), (1, 1), (0, 1)]


def deliver(order: list[tuple[int, int]], stale: bool) -> MemoryUpserter:
    upserter, amazon = MemoryUpserter(), Amazon(stale)
    handler = OrderChangeHandler(upserter, lambda _s: amazon, lambda _c: [STORE])  # type: ignore[arg-type,return-value]
    for n, copy in order:
        amazon.asked = TIMELINE[n]
        handler.handle(change(n, copy))
        ranks = [RANK[s] for s in upserter.seen]
        assert ranks == sorted(ranks), f"moved backwards: {upserter.seen}"
        assert upserter.allocations <= 1 and upserter.releases <= upserter.allocations
    return upserter


@pytest.mark.parametrize("order", sorted(set(permutations(DELIVERIES))))
def test_any_delivery_order_with_current_answers_ends_cancelled_without_stock(
    order: tuple[tuple[int, int], ...],
) -> None:
    upserter = deliver(list(order), stale=False)
    # Amazon's answer is always the cancelled order: first seen cancelled, never created, no stock
    assert upserter.stored is None and upserter.allocations == 0


@pytest.mark.parametrize("order", sorted(set(permutations(DELIVERIES))))
def test_stale_answers_in_any_order_never_move_the_order_back_nor_stock_twice(
    order: tuple[tuple[int, int], ...],
) -> None:
    upserter = deliver(list(order), stale=True)
    if upserter.stored is None:
        return  # the cancellation came first: the order was never created
    if upserter.stored.amazon_status == "CANCELLED":
        assert upserter.stored.status == OrderStatus.CANCELLED and upserter.allocated == 0
        assert upserter.releases == upserter.allocations == 1
    else:  # the cancellation was seen before the order existed: the next poll sweep brings it
        assert upserter.allocations == 1 and upserter.allocated == 3


def test_a_late_created_notification_after_the_cancellation_changes_nothing() -> None:
    upserter = deliver([(0, 0), (2, 0), (0, 1), (1, 0), (1, 1)], stale=True)
    assert upserter.stored is not None and upserter.stored.status == OrderStatus.CANCELLED
    assert upserter.seen == ["PENDING", "CANCELLED"] and upserter.allocated == 0
