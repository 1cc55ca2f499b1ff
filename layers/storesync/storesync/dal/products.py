"""Products (the merchant's, by SKU) and listings (the store's, by SKU)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from storesync.dal.base import MerchantKeyed, StoreKeyed


class Product(MerchantKeyed):
    sku = UnicodeAttribute(range_key=True)
    title = UnicodeAttribute(default="")
    asin = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class ByMerchantSkuIndex(GlobalSecondaryIndex["Listing"]):
    """Every listing of one SKU across the merchant's stores (unified accounts, stock-out fast path)."""

    class Meta:
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    sku = UnicodeAttribute(range_key=True)


class Listing(StoreKeyed):
    sku = UnicodeAttribute(range_key=True)
    asin = UnicodeAttribute(null=True)
    title = UnicodeAttribute(default="")
    price = UnicodeAttribute(null=True)  # decimal as text, as Amazon gives it
    channel = UnicodeAttribute(default="FBM")  # FBM | FBA
    status = UnicodeAttribute(default="active")  # active | inactive (left Amazon)
    amazon_status = UnicodeAttribute(null=True)
    amazon_quantity = NumberAttribute(null=True)  # the quantity Amazon shows (FBA: fulfillable)
    product_type = UnicodeAttribute(null=True)
    last_pushed_quantity = NumberAttribute(null=True)  # last quantity Amazon accepted
    last_push_sent_quantity = NumberAttribute(null=True)
    last_push_at = UTCDateTimeAttribute(null=True)
    last_push_status = UnicodeAttribute(null=True)  # accepted | rejected | pending
    last_push_message = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()

    by_merchant_sku = ByMerchantSkuIndex()
