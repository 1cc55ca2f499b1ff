"""The order planner's fetch lists: the open merchant orders of a planner round that must be read whole (by
getOrder or a searchOrders page), one row per order, in a table of their own (usecases/order_planner.py).

A list can hold a whole backlog (tens of thousands of orders), far more than the job cursor's one item can carry,
so each order is a row: the list's id (the store and the round) and a rank that sorts the list by Amazon's last
update (`<last updated>#<order id>`), with the reported order (status, channel, units per SKU: no buyer data) that
the planner compares with what storesync holds before it spends a getOrder on it. Writing the same order again
writes the same row (a slice that lists again after a crash or a time-out duplicates nothing). A row is deleted
once its order is in; rows a round leaves behind (a round given back to the searchOrders sweep) expire with
DynamoDB's TTL after `ROW_TTL`.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from storesync.clock import utcnow
from storesync.dal.base import TableModel
from storesync.domain.reconciliation import ReportedOrder

ROW_TTL = timedelta(days=7)


class FetchListEntry(TableModel):
    """One order of a planner round's fetch list."""

    list_id = UnicodeAttribute(hash_key=True)  # "<store id>#<round id>"
    rank = UnicodeAttribute(range_key=True)  # "<last updated>#<order id>": oldest first
    reported = UnicodeAttribute()  # the ReportedOrder as JSON
    expires_at = TTLAttribute()


def to_json(order: ReportedOrder) -> str:
    return json.dumps(
        {
            "order_id": order.order_id,
            "status": order.status,
            "raw_status": order.raw_status,
            "channel": order.channel,
            "last_updated": order.last_updated,
            "units": [list(unit) for unit in order.units],
            "created": order.created,
        },
        sort_keys=True,
    )


def from_json(text: str) -> ReportedOrder:
    data = json.loads(text)
    return ReportedOrder(
        order_id=data["order_id"],
        status=data["status"],
        raw_status=data["raw_status"],
        channel=data["channel"],
        last_updated=data["last_updated"],
        units=tuple((str(sku), int(quantity)) for sku, quantity in data["units"]),
        created=data.get("created"),
    )


class DynamoFetchList:
    """The fetch lists table (tests and benchmarks use MemoryFetchList)."""

    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        self._now = now

    def add(self, list_id: str, orders: Iterable[ReportedOrder]) -> None:
        expires = self._now() + ROW_TTL
        with FetchListEntry.batch_write() as batch:  # 25 rows a request, unprocessed ones retried by pynamodb
            for order in orders:
                batch.save(FetchListEntry(list_id, order.rank, reported=to_json(order), expires_at=expires))

    def newest(self, list_id: str, limit: int) -> list[ReportedOrder]:
        rows = FetchListEntry.query(list_id, scan_index_forward=False, limit=limit, consistent_read=True)
        return [from_json(row.reported) for row in rows]

    def remove(self, list_id: str, orders: Sequence[ReportedOrder]) -> None:
        with FetchListEntry.batch_write() as batch:
            for order in orders:
                batch.delete(FetchListEntry(list_id, order.rank))


class MemoryFetchList:
    """The fetch lists in memory, for unit tests and the simulated-time benchmarks."""

    def __init__(self) -> None:
        self.lists: dict[str, dict[str, ReportedOrder]] = {}
        self._ranks: dict[str, list[str]] = {}  # each list's ranks, sorted

    def add(self, list_id: str, orders: Iterable[ReportedOrder]) -> None:
        rows = self.lists.setdefault(list_id, {})
        ranks = self._ranks.setdefault(list_id, [])
        for order in orders:
            key = order.rank
            if key not in rows:
                bisect.insort(ranks, key)
            rows[key] = order

    def newest(self, list_id: str, limit: int) -> list[ReportedOrder]:
        rows = self.lists.get(list_id, {})
        return [rows[key] for key in reversed(self._ranks.get(list_id, [])[-limit:])]

    def remove(self, list_id: str, orders: Sequence[ReportedOrder]) -> None:
        rows = self.lists.get(list_id, {})
        ranks = self._ranks.get(list_id, [])
        for order in orders:
            key = order.rank
            if rows.pop(key, None) is not None:
                del ranks[bisect.bisect_left(ranks, key)]
