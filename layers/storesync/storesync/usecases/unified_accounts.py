"""Unified accounts: a seller's stores in one region share one quantity per SKU on Amazon.

When the same SKU is listed (FBM) by several active stores of one seller and region, storesync pushes one
quantity for it, once: the lowest of the stores' quantities to show (never promise more than any store's
settings allow), and the pushed state is recorded on every one of those listings, so the other stores' runs
find nothing to send. If the stores' inventory settings (buffer, maximum quantity, feeding warehouses)
differ, the merchant is warned: the stores cannot show different quantities for a shared SKU.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from storesync.dal.listing_push_state import store_listings
from storesync.dal.products import Listing
from storesync.dal.store_queries import STATUS_ACTIVE, stores_of_seller
from storesync.dal.stores import Store
from storesync.dal.warehouses import feeding_warehouses
from storesync.domain.notices import Notice, NoticeCode, notice
from storesync.usecases.quantities import quantities_to_show


@dataclass
class SiblingListings:
    """The other stores of the seller and region, and their listings of this store's SKUs."""

    stores: dict[str, Store] = field(default_factory=dict)
    by_sku: dict[str, list[Listing]] = field(default_factory=dict)
    quantities: dict[str, dict[str, int]] = field(default_factory=dict)  # store id -> sku -> quantity

    def shared_quantity(self, sku: str, own: int) -> int:
        values = [own, *(self.quantities[x.store_id].get(sku, 0) for x in self.by_sku.get(sku, []))]
        return min(values)

    def merge(self, other: SiblingListings) -> None:
        """Add another page's siblings (the plan reads the store page by page)."""
        self.stores.update(other.stores)
        for sku, listings in other.by_sku.items():
            self.by_sku.setdefault(sku, []).extend(listings)
        for store_id, quantities in other.quantities.items():
            self.quantities.setdefault(store_id, {}).update(quantities)


def settings_signature(store: Store) -> tuple[int, int | None, tuple[str, ...]]:
    s = store.settings
    cap = None if s.max_quantity is None else int(s.max_quantity)
    return int(s.inventory_buffer or 0), cap, tuple(feeding_warehouses(store))


def sibling_listings(store: Store, skus: Iterable[str] | None) -> SiblingListings:
    found = SiblingListings()
    if not store.selling_partner_id:
        return found
    wanted = None if skus is None else set(skus)
    for other in stores_of_seller(store.selling_partner_id, store.region):
        if other.store_id == store.store_id or other.status != STATUS_ACTIVE:
            continue
        listings = store_listings(other.store_id, wanted)
        if wanted is not None:
            listings = [x for x in listings if x.sku in wanted]
        if not listings:
            continue
        found.stores[other.store_id] = other
        for listing in listings:
            found.by_sku.setdefault(listing.sku, []).append(listing)
        found.quantities[other.store_id] = quantities_to_show(other, [x.sku for x in listings])
    return found


def disagreement_warning(store: Store, siblings: SiblingListings, own_skus: set[str]) -> Notice | None:
    mine = settings_signature(store)
    sharing = sorted(
        {
            x.store_id
            for sku, listings in siblings.by_sku.items()
            if sku in own_skus
            for x in listings
            if settings_signature(siblings.stores[x.store_id]) != mine
        }
    )
    if not sharing:
        return None
    names = [siblings.stores[s].name for s in sharing]
    return notice(NoticeCode.UNIFIED_QUANTITY_DISAGREEMENT, stores=names)
