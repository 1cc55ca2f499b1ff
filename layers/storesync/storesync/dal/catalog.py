"""The product import's reads and batched writes on products and listings (starting inventory: the stock
ledger).

Reads use BatchGetItem (100 keys a call) and writes BatchWriteItem (25 items a call, unprocessed items
retried by pynamodb), so one slice of report rows costs a few dozen DynamoDB calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from storesync.clock import utcnow
from storesync.dal.products import Listing, Product
from storesync.dal.stores import Store
from storesync.domain.products import FBA, FBM, ListingFacts, OtherListing, ProductFacts

BATCH_GET = 100


def _chunks[T](items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_listings(store_id: str, skus: Iterable[str]) -> dict[str, Listing]:
    keys = [(store_id, sku) for sku in dict.fromkeys(skus)]
    found: dict[str, Listing] = {}
    for chunk in _chunks(keys, BATCH_GET):
        for item in Listing.batch_get(list(chunk)):
            found[item.sku] = item
    return found


def load_products(merchant_id: str, skus: Iterable[str]) -> dict[str, Product]:
    keys = [(merchant_id, sku) for sku in dict.fromkeys(skus)]
    found: dict[str, Product] = {}
    for chunk in _chunks(keys, BATCH_GET):
        for item in Product.batch_get(list(chunk)):
            found[item.sku] = item
    return found


def listing_facts(item: Listing) -> ListingFacts:
    channel = FBA if item.channel == FBA else FBM
    quantity = None if item.amazon_quantity is None else int(item.amazon_quantity)
    return ListingFacts(
        item.sku, item.asin, item.title or "", item.price, channel, item.amazon_status, quantity, item.status
    )


def product_facts(item: Product) -> ProductFacts:
    return ProductFacts(item.sku, item.title or "", item.asin)


def save_all(items: Sequence[Any]) -> int:
    """BatchWriteItem the items (all of one model). Returns the number of items written."""
    if not items:
        return 0
    model = type(items[0])
    with model.batch_write() as batch:
        for item in items:
            batch.save(item)
    return len(items)


def new_listing(store: Store, facts: ListingFacts) -> Listing:
    return Listing(
        store.store_id,
        facts.sku,
        merchant_id=store.merchant_id,
        asin=facts.asin,
        title=facts.title,
        price=facts.price,
        channel=facts.channel,
        status="active",
        amazon_status=facts.amazon_status,
        amazon_quantity=facts.amazon_quantity,
        updated_at=utcnow(),
    )


def changed_listing(item: Listing, facts: ListingFacts) -> Listing:
    """The stored listing with Amazon's facts (push state and product type kept)."""
    item.asin = facts.asin
    item.title = facts.title
    item.price = facts.price
    item.channel = facts.channel
    item.status = "active"
    item.amazon_status = facts.amazon_status
    item.amazon_quantity = facts.amazon_quantity
    item.updated_at = utcnow()
    return item


def product_item(merchant_id: str, facts: ProductFacts, existing: Product | None) -> Product:
    now = utcnow()
    if existing is not None:
        existing.title = facts.title
        existing.asin = facts.asin
        existing.updated_at = now
        return existing
    return Product(merchant_id, facts.sku, title=facts.title, asin=facts.asin, created_at=now, updated_at=now)


def listings_after(store_id: str, after_sku: str | None, limit: int, condition: Any = None) -> list[Listing]:
    """Up to `limit` listings of the store in SKU order after `after_sku`, matching `condition`."""
    range_condition = Listing.sku > after_sku if after_sku else None
    return list(Listing.query(store_id, range_condition, filter_condition=condition, limit=limit))


def listing_skus_from(
    store_id: str, after_sku: str | None, page_size: int, condition: Any = None
) -> Iterator[str]:
    """The SKUs of the store's listings in SKU order after `after_sku`, matching `condition`, read `page_size`
    at a time (one paginated query projected on the SKU: stop iterating to stop reading)."""
    range_condition = Listing.sku > after_sku if after_sku else None
    query = Listing.query(
        store_id, range_condition, filter_condition=condition, page_size=page_size, attributes_to_get=["sku"]
    )
    return (item.sku for item in query)


def lacking_product_type() -> Any:
    return Listing.product_type.does_not_exist() & (Listing.status == "active")


def fba_listings() -> Any:
    return (Listing.channel == FBA) & (Listing.status == "active")


def active_listings() -> Any:
    return Listing.status == "active"


# warnings -----------------------------------------------------------------------------------------------------
def other_stores(store: Store) -> list[Store]:
    return [s for s in Store.query(store.merchant_id) if s.store_id != store.store_id]


def other_listings(store: Store, others: Sequence[Store], skus: Sequence[str]) -> list[OtherListing]:
    """The merchant's listings of these SKUs in its other stores (a batch get per store)."""
    found: list[OtherListing] = []
    for other in others:
        same_account = bool(store.seller_key) and other.seller_key == store.seller_key
        same_account = same_account and other.marketplace_id != store.marketplace_id
        for item in load_listings(other.store_id, skus).values():
            if item.status != "active":
                continue
            channel = FBA if item.channel == FBA else FBM
            found.append(OtherListing(item.sku, channel, other.name, other.marketplace_id, same_account))
    return found
