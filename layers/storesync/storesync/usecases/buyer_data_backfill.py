"""The one-off backfill of buyer address expiries: addresses stored before every path set one.

Before issue 15 part 4, the address of an order shipped outside the WMS or by Amazon, of an FBA order, or of one
closed before the WMS path set it, was kept with no expiry. `backfill_address_expiry` reads every address row
without one (a scan: run it once per stack, `python -m storesync.usecases.buyer_data_backfill` with the order
import function's environment) and gives each the expiry its order calls for
(storesync.domain.orders.legacy_address_expiry): 30 days after the close of a closed order, at once for an FBA
order's address (FBA orders keep none) or one whose order is gone; an open merchant order's address keeps
none until the order closes. An expiry in the past makes DynamoDB's TTL delete the row within days, and the
API hides it from now on. Idempotent: a row that has an expiry is never touched again.
"""

from __future__ import annotations

from dataclasses import dataclass

from storesync.clock import utcnow
from storesync.dal import order_queries
from storesync.domain.orders import legacy_address_expiry
from storesync.observability import logger


@dataclass
class BackfillResult:
    expired: int = 0  # rows given an expiry
    kept_open: int = 0  # rows of open merchant orders (their expiry comes when the order closes)


def backfill_address_expiry() -> BackfillResult:
    result = BackfillResult()
    now = utcnow()
    for address in order_queries.addresses_without_expiry():
        order = order_queries.get_order(address.store_id, address.amazon_order_id)
        expires_at = legacy_address_expiry(
            None if order is None else order_queries.snapshot(order, has_wms_shipment=False),
            None if order is None else order.closed_at or order.shipped_at,
            now,
        )
        if expires_at is None:
            result.kept_open += 1
        elif order_queries.set_address_expiry(address, expires_at):
            result.expired += 1
    logger.info(
        "buyer address expiries backfilled", extra={"expired": result.expired, "open": result.kept_open}
    )
    return result


if __name__ == "__main__":  # pragma: no cover - run by an operator against a stack
    from storesync.settings import OrderImportSettings
    from storesync.wiring import job_queue

    job_queue(OrderImportSettings())  # binds the stack's tables from the function's environment
    print(backfill_address_expiry())
