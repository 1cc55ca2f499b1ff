"""The reads on products and listings: pages of them, one store's listings, a SKU's listings, unknown SKUs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storesync.dal.products import Listing, Product


@dataclass
class ProductPage:
    products: list[Product]
    next_key: dict[str, Any] | None


@dataclass
class ListingPage:
    listings: list[Listing]
    next_key: dict[str, Any] | None


def product_page(merchant_id: str, limit: int, start_key: dict[str, Any] | None = None) -> ProductPage:
    found = Product.query(merchant_id, limit=limit, last_evaluated_key=start_key)
    products = list(found)
    return ProductPage(products, found.last_evaluated_key)


def listing_page(
    store_id: str,
    limit: int,
    start_key: dict[str, Any] | None = None,
    *,
    channel: str | None = None,
    status: str | None = None,
) -> ListingPage:
    """One store's listings, optionally only one channel (FBM|FBA) and/or status (active|inactive)."""
    condition: Any = None
    for part in (
        Listing.channel == channel if channel else None,
        Listing.status == status if status else None,
    ):
        if part is not None:
            condition = part if condition is None else condition & part
    found = Listing.query(store_id, filter_condition=condition, limit=limit, last_evaluated_key=start_key)
    listings = list(found)
    return ListingPage(listings, found.last_evaluated_key)


def store_listings(store_id: str, sku: str | None = None) -> list[Listing]:
    """Every listing of a store, or its listing of one SKU."""
    if sku:
        return list(Listing.query(store_id, Listing.sku == sku))
    return list(Listing.query(store_id))


def unknown_skus(merchant_id: str, skus: Iterable[str]) -> set[str]:
    """The SKUs that are not products of the merchant."""
    wanted = sorted(set(skus))
    found = {p.sku for p in Product.batch_get([(merchant_id, s) for s in wanted])}
    return set(wanted) - found


def merchant_listings_of_sku(merchant_id: str, sku: str) -> list[Listing]:
    """The listings of one SKU in every store of the merchant (all channels and statuses)."""
    return list(Listing.by_merchant_sku.query(merchant_id, Listing.sku == sku))
