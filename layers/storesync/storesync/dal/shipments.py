"""Shipments created in the WMS and their confirmation state on Amazon."""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from storesync.dal.base import TableModel


class ShipmentItem(MapAttribute):  # type: ignore[type-arg]
    order_item_id = UnicodeAttribute()
    sku = UnicodeAttribute()
    quantity = NumberAttribute()


class PendingPushIndex(GlobalSecondaryIndex["Shipment"]):
    """Sparse: only shipments still to confirm carry pending_store_id."""

    class Meta:
        projection = AllProjection()

    pending_store_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class Shipment(TableModel):
    order_key = UnicodeAttribute(hash_key=True)  # "<store_id>#<amazon_order_id>"
    shipment_id = UnicodeAttribute(range_key=True)
    store_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    amazon_order_id = UnicodeAttribute()
    package_reference_id = UnicodeAttribute()  # positive numeric, unique per order
    carrier = UnicodeAttribute()  # as the WMS gave it
    carrier_code = UnicodeAttribute()  # Amazon's code (or "Other")
    carrier_name = UnicodeAttribute(null=True)  # with "Other"
    shipping_method = UnicodeAttribute(default="")
    tracking_number = UnicodeAttribute()
    ship_date = UnicodeAttribute()
    items = ListAttribute(of=ShipmentItem, default=list)
    push_state = UnicodeAttribute(default="pending")  # pending | sending | confirmed | refused
    pending_store_id = UnicodeAttribute(null=True)
    created_key = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    amazon_message = UnicodeAttribute(null=True)
    confirmed_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    pending_push = PendingPushIndex()
