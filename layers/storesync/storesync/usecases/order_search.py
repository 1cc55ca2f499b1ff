"""What the order import's doors share: searchOrders as its sweeps and the order planner's sweep call it, and
the run's counts of stored orders.

`OrdersAmazon` is what they (and ORDER_CHANGE notifications) need of Amazon (storesync.amazon.orders.AmazonOrders);
`search_page` reads one page of a sweep's window [after, before] (pending orders left out unless the store imports
them; the planner restricts its sweep to merchant orders); `count_upsert` counts one stored order in the run's
outcome, whichever door brought it (sweep, catch-up, planner).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from storesync.amazon.orders import OrdersPage
from storesync.dal.stores import Store
from storesync.domain.notices import NoticeCode, notice
from storesync.domain.orders import AMAZON_STATUSES, CREATE, IGNORE, NOT_RELEASED, UPDATE, AmazonOrder
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.runner import JobOutcome

PAGE_SIZE = 100
AMAZON_MIN_LAG = timedelta(minutes=2)  # searchOrders sees a change two minutes after it happened


def wanted_statuses(store: Store) -> list[str] | None:
    """Without "import pending orders", pending orders are never stored: leave them out of the search so the
    quota reads only orders that can change something (a release shows up later as UNSHIPPED anyway)."""
    if store.settings.import_pending_orders:
        return None
    return [s for s in AMAZON_STATUSES if s not in NOT_RELEASED]


class OrdersAmazon(Protocol):
    """What the order import, the order planner and ORDER_CHANGE notifications need of Amazon:
    storesync.amazon.orders.AmazonOrders."""

    def search_orders(
        self,
        *,
        after: str,
        before: str | None = None,
        token: str | None = None,
        statuses: list[str] | None = None,
        page_size: int = PAGE_SIZE,
        fulfilled_by: Sequence[str] | None = None,
    ) -> OrdersPage: ...

    def search_wait_time(self) -> float: ...

    def get_order(self, amazon_order_id: str) -> AmazonOrder: ...


def search_page(
    amazon: OrdersAmazon, store: Store, sweep: Mapping[str, Any], fulfilled_by: Sequence[str] | None = None
) -> OrdersPage:
    """The sweep's next page ({"after", "before" (None: Amazon's now less two minutes), "token"})."""
    return amazon.search_orders(
        after=sweep["after"],
        before=sweep.get("before"),
        token=sweep.get("token"),
        statuses=wanted_statuses(store),
        page_size=PAGE_SIZE,
        fulfilled_by=fulfilled_by,
    )


def count_upsert(outcome: JobOutcome, result: UpsertResult) -> None:
    """One order stored (or not) in the run's counts: created, updated, unchanged or skipped; units backordered;
    unknown SKUs in the sync log."""
    if result.action == CREATE:
        outcome.add("orders_created")
    elif result.action == UPDATE:
        outcome.add("orders_updated")
    elif result.action == IGNORE:
        unchanged = result.reason in ("no change", "older than what is stored")
        outcome.add("orders_unchanged" if unchanged else "orders_skipped")
    if result.backordered:
        outcome.add("units_backordered", result.backordered)
    if result.unknown_skus:
        outcome.errors.append(
            notice(NoticeCode.ORDER_UNKNOWN_SKUS, order_id=result.order_id, skus=list(result.unknown_skus))
        )
