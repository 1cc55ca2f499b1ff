"""Orders (keyed by store and Amazon order id, so no duplicate can exist) and their buyer addresses."""

from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from storesync.dal.base import UnboundTableMeta


class Allocation(MapAttribute):  # type: ignore[type-arg]
    warehouse_id = UnicodeAttribute()
    quantity = NumberAttribute()


class OrderItem(MapAttribute):  # type: ignore[type-arg]
    order_item_id = UnicodeAttribute()
    sku = UnicodeAttribute()
    quantity = NumberAttribute()
    quantity_shipped = NumberAttribute(default=0)  # confirmed on Amazon
    price = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    allocations = ListAttribute(of=Allocation, default=list)
    backorder = NumberAttribute(default=0)


class ByMerchantIndex(GlobalSecondaryIndex["Order"]):
    class Meta:
        index_name = "by_merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    purchase_key = UnicodeAttribute(range_key=True)  # "<purchase date iso>#<amazon order id>"


class Order(Model):
    class Meta(UnboundTableMeta):
        pass

    store_id = UnicodeAttribute(hash_key=True)
    amazon_order_id = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    marketplace_id = UnicodeAttribute()
    purchase_key = UnicodeAttribute()
    status = (
        UnicodeAttribute()
    )  # WMS status: pending | open | partially_shipped | shipped | shipped_externally | cancelled
    amazon_status = UnicodeAttribute()
    channel = UnicodeAttribute()  # FBM (regular order) | FBA (FBA order)
    holds = ListAttribute(of=UnicodeAttribute, default=list)  # payment_hold | unknown_sku
    automation_blocked = BooleanAttribute(default=False)
    items = ListAttribute(of=OrderItem, default=list)
    purchase_date = UnicodeAttribute(null=True)
    ship_by = UnicodeAttribute(null=True)
    deliver_by = UnicodeAttribute(null=True)
    amazon_last_updated = UnicodeAttribute()  # never overwritten by an older one
    has_address = BooleanAttribute(default=False)
    stock_removed_externally = BooleanAttribute(default=False)
    shipped_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_merchant = ByMerchantIndex()


class OrderAddress(Model):
    """The buyer's address, KMS-encrypted; DynamoDB's TTL removes it 30 days after shipment."""

    class Meta(UnboundTableMeta):
        pass

    store_id = UnicodeAttribute(hash_key=True)
    amazon_order_id = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    address_encrypted = BinaryAttribute(legacy_encoding=False)
    expires_at = TTLAttribute(null=True)
