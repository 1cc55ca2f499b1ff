"""Order reconciliation rules (plain Python): what an order report says against what storesync holds.

An order report (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL) lists every order changed in a window
with its status and its items, without buyer data. `difference` compares one reported order with the order
storesync holds and says why it must be fetched (None: storesync holds it as Amazon shows it). The catch-up then
fetches only those orders (usecases/order_reconciliation.py).

Rules:
- a status storesync cannot read (`ReportedOrder.status` None) is a difference: the order is fetched, never
  taken for unchanged;
- an order storesync does not hold is missing, unless it is pending and the store does not import pending
  orders (storesync never stores those: a release shows up later as UNSHIPPED);
- storesync's copy newer than the report's (Amazon's lastUpdatedTime after the report's last-updated-date: a
  notification or a sweep stored a later change) is never fetched again;
- a different Amazon status, or different items (units per SKU), is a difference;
- an open FBM order stored before storesync kept the v2026 fulfilment fields (`HeldOrder.fields_missing`) is a
  difference: getOrder brings them (the backfill; the upsert stores them though nothing else changed).

The order planner (usecases/order_planner.py) stores FBA and closed orders from their rows (`stored_from_row`,
`row_order`) and fetches the others.

Choosing the door (`use_search`): a searchOrders page (100 orders) costs the quota time of SEARCH_PAGE_COST
getOrder calls (0.5 / 0.0056 requests a second): the window is swept by searchOrders only when that is cheaper
than one getOrder per difference, or when the differences are too many to keep in the cursor.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from storesync.clock import parse_iso
from storesync.domain.orders import (
    CANCELLED,
    CHANNEL_FBA,
    NOT_RELEASED,
    SHIPPED,
    AmazonItem,
    AmazonOrder,
    report_item_id,
)

SEARCH_PAGE_ORDERS = 100
SEARCH_PAGE_COST = 90  # getOrder calls the quota allows in the time of one searchOrders page (0.5 / 0.0056)
MAX_FETCH_LIST = 2_000  # differences fetched one by one at most (the list travels in the cursor)


@dataclass(frozen=True)
class ReportedOrder:
    """One order of an order report: Amazon's status (an AMAZON_STATUSES value, None when the report's word for
    it is unknown: `raw_status` keeps it), channel (FBA | FBM), last update and units per SKU."""

    order_id: str
    status: str | None
    raw_status: str
    channel: str
    last_updated: str  # ISO 8601
    units: tuple[tuple[str, int], ...]  # (sku, quantity) summed per SKU, sorted
    created: str | None = None  # ISO 8601 (purchase-date), when the report has it

    @property
    def rank(self) -> str:
        """Its place in a list of reported orders, oldest update first (the planner's fetch list)."""
        return f"{self.last_updated}#{self.order_id}"


@dataclass(frozen=True)
class HeldOrder:
    """What storesync holds of an order, for the comparison."""

    order_id: str
    amazon_status: str
    amazon_last_updated: str
    units: tuple[tuple[str, int], ...]  # (sku, quantity) summed per SKU, sorted
    fields_missing: bool = False  # an open FBM order stored before the v2026 fulfilment fields (backfill)


def units_of(lines: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for sku, quantity in lines:
        counts[sku] += quantity
    return tuple(sorted(counts.items()))


def as_reported(order: AmazonOrder) -> ReportedOrder:
    """An order Amazon answered whole, told as a report row would tell it (to compare it with what is held)."""
    units = units_of((item.sku, item.quantity) for item in order.items)
    return ReportedOrder(order.order_id, order.status, order.status, order.channel, order.last_updated, units)


def difference(reported: ReportedOrder, held: HeldOrder | None, *, import_pending: bool) -> str | None:
    """Why the order must be fetched, or None (storesync holds it as the report shows it, or newer)."""
    if reported.status is None:
        return f"status {reported.raw_status!r} unknown to storesync"
    if held is None:
        if reported.status in NOT_RELEASED and not import_pending:
            return None
        return "missing"
    if held.fields_missing:
        return "stored before the v2026 fulfilment fields"  # getOrder brings them (the backfill)
    if parse_iso(held.amazon_last_updated) > parse_iso(reported.last_updated):
        return None  # storesync stored a later change than the report shows
    if held.amazon_status != reported.status:
        return f"status {held.amazon_status} on storesync, {reported.status} on Amazon"
    if held.units != reported.units:
        return "items or quantities differ"
    return None


def use_search(differences: int, window_orders: int) -> bool:
    """Sweep the window with searchOrders (True) rather than one getOrder per difference (False)."""
    if differences == 0:
        return False
    pages = max(1, math.ceil(window_orders / SEARCH_PAGE_ORDERS))
    return differences > MAX_FETCH_LIST or pages * SEARCH_PAGE_COST < differences


def stored_from_row(reported: ReportedOrder) -> bool:
    """Whether the order can be stored from its report row, with no fetch: an FBA order (Amazon ships it: no
    address or fulfilment details to read) or a closed one (shipped or cancelled: nothing left to pack), in a
    status storesync reads. An open merchant order needs its address and details: it is fetched."""
    return reported.status is not None and (
        reported.channel == CHANNEL_FBA or reported.status in (SHIPPED, CANCELLED)
    )


def row_order(reported: ReportedOrder, marketplace_id: str) -> AmazonOrder:
    """The order as its report row tells it (`stored_from_row`): no address, no fulfilment fields, one line per
    SKU named by it (order_fields.report_item_id: the report has no order item ids; the lines take Amazon's
    items when the order is read whole), shipped units for a shipped order. It goes through the same upsert and
    state machine as every other door."""
    if reported.status is None:
        raise ValueError(f"order {reported.order_id}: status {reported.raw_status!r} unknown: fetch it")
    shipped = reported.status == SHIPPED
    items = tuple(
        AmazonItem(report_item_id(sku), sku, quantity, quantity if shipped else 0)
        for sku, quantity in reported.units
    )
    return AmazonOrder(
        reported.order_id,
        marketplace_id,
        reported.status,
        reported.channel,
        reported.created or reported.last_updated,
        reported.last_updated,
        items,
    )
