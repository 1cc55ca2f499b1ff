"""The planner's fetch lists on moto (storesync.dal.fetch_lists.DynamoFetchList, the table of the template): a
list far longer than a cursor item can carry, read newest first, written twice without a duplicate, rows
removed once their order is in, lists of two rounds apart, and each row expiring with DynamoDB's TTL."""

from __future__ import annotations

from datetime import UTC, datetime

from storesync.dal.fetch_lists import ROW_TTL, DynamoFetchList, FetchListEntry
from storesync.domain.reconciliation import ReportedOrder
from storesync_local.template import Provisioned

NOW = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)


def reported(n: int) -> ReportedOrder:
    updated = f"2026-07-10T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
    units = (("SKU-A", 1 + n % 3), ("SKU-B", 2))
    return ReportedOrder(
        f"111-{n:07d}-0000000", "UNSHIPPED", "Unshipped", "FBM", updated, units, "2026-07-09T00:00:00Z"
    )


def test_a_fetch_list_of_thousands_is_read_newest_first_written_twice_once_and_emptied(
    stack: Provisioned,
) -> None:
    lists = DynamoFetchList(now=lambda: NOW)
    orders = [reported(n) for n in range(3_000)]
    lists.add("store-1#round-a", orders)
    lists.add("store-1#round-a", orders[-600:])  # a slice listing again after a crash: the same rows
    lists.add("store-1#round-b", [reported(5)])

    newest = lists.newest("store-1#round-a", 100)
    assert newest == orders[::-1][:100]  # newest first, the reported order read back whole
    rows = list(FetchListEntry.query("store-1#round-a", consistent_read=True))
    assert len(rows) == 3_000
    assert all(row.expires_at == NOW + ROW_TTL for row in rows)

    lists.remove("store-1#round-a", newest)
    assert lists.newest("store-1#round-a", 1) == [orders[-101]]
    lists.remove("store-1#round-a", orders)
    assert lists.newest("store-1#round-a", 100) == []
    assert lists.newest("store-1#round-b", 100) == [reported(5)]  # another round's list is untouched
