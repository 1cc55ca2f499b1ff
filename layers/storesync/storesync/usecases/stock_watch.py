"""The stock-out watch: after any committed change of on hand or allocated (allocation, release, shipment,
adjustment, stock count), find every store listing those SKUs whose quantity to show just hit 0 while Amazon
still shows units, and enqueue an inventory job in "stockout" mode for those SKUs, so Amazon stops selling
what is gone within a minute instead of at the next 20-minute run.

Cheap when nothing ran out: one index query per SKU, and stock is read only for stores that list the SKU.
"""

from __future__ import annotations

from collections.abc import Iterable

from storesync.dal.product_queries import merchant_listings_of_sku
from storesync.dal.products import Listing
from storesync.dal.store_queries import STATUS_ACTIVE, get_store
from storesync.dal.stores import Store
from storesync.domain.inventory import is_stockout
from storesync.jobs import JobMessage
from storesync.observability import logger
from storesync.queues import JobQueue
from storesync.usecases.quantities import quantities_to_show


def after_stock_change(merchant_id: str, skus: Iterable[str], queue: JobQueue) -> None:
    wanted = sorted({s for s in skus if s})
    if not wanted:
        return
    listed: dict[str, list[Listing]] = {}  # store id -> its FBM listings of those SKUs
    for sku in wanted:
        for listing in merchant_listings_of_sku(merchant_id, sku):
            if listing.channel == "FBM" and listing.status == "active":
                listed.setdefault(listing.store_id, []).append(listing)
    messages: list[JobMessage] = []
    for store_id, listings in sorted(listed.items()):
        store: Store | None = get_store(merchant_id, store_id)
        if store is None or store.status != STATUS_ACTIVE:
            continue
        quantities = quantities_to_show(store, [item.sku for item in listings])
        gone = sorted(
            item.sku
            for item in listings
            if is_stockout(quantities.get(item.sku, 0), item.last_pushed_quantity)
        )
        if gone:
            messages.append(
                JobMessage(
                    job="inventory",
                    mode="stockout",
                    merchant_id=merchant_id,
                    store_id=store_id,
                    trigger="stockout",
                    skus=tuple(gone),
                )
            )
    if messages:
        queue.send_many(messages)
        logger.info("stock-outs queued", extra={"stores": len(messages)})
