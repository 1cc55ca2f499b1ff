"""The quantity a store should show on Amazon per SKU: available stock summed over the warehouses that feed
the store, with the store's buffer and cap applied (domain.inventory.quantity_to_show). One place for the rule
as it meets the data; used by the inventory push, the stock-out watch and the API."""

from __future__ import annotations

from collections.abc import Iterable

from storesync.dal.stock_ledger import available_by_sku, available_in_range
from storesync.dal.stores import Store
from storesync.dal.warehouses import feeding_warehouses
from storesync.domain.inventory import quantity_to_show


def store_quantity(store: Store, available_sum: int) -> int:
    return quantity_to_show(available_sum, store.settings.inventory_buffer, store.settings.max_quantity)


def quantities_to_show(store: Store, skus: Iterable[str] | None = None) -> dict[str, int]:
    """SKU -> quantity to show for this store (skus None: every SKU with stock in its warehouses)."""
    sums = available_by_sku(store.merchant_id, feeding_warehouses(store), skus)
    return {sku: store_quantity(store, total) for sku, total in sums.items()}


def quantities_in_range(store: Store, first_sku: str, last_sku: str) -> dict[str, int]:
    """SKU -> quantity to show for the SKUs between first_sku and last_sku that have stock rows (a SKU absent
    from the answer has no stock: quantity 0). For the push's plan, one page of listings at a time."""
    sums = available_in_range(store.merchant_id, feeding_warehouses(store), first_sku, last_sku)
    return {sku: store_quantity(store, total) for sku, total in sums.items()}
