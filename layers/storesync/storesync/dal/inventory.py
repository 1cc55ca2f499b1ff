"""Warehouses and stock per warehouse and SKU (available = on_hand - allocated)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from storesync.dal.base import UnboundTableMeta


class Warehouse(Model):
    class Meta(UnboundTableMeta):
        pass

    merchant_id = UnicodeAttribute(hash_key=True)
    warehouse_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    is_primary = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()


def warehouse_key(merchant_id: str, warehouse_id: str) -> str:
    return f"{merchant_id}#{warehouse_id}"


class InventoryItem(Model):
    """Stock of one SKU in one warehouse. Written only by storesync.dal.stock_ledger (conditional transactions)."""

    class Meta(UnboundTableMeta):
        pass

    warehouse_key = UnicodeAttribute(hash_key=True)  # "<merchant_id>#<warehouse_id>"
    sku = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    warehouse_id = UnicodeAttribute()
    on_hand = NumberAttribute(default=0)
    allocated = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute()
