"""Orders (keyed by store and Amazon order id, so no duplicate can exist) and their buyer addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

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
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from storesync.dal.base import OrderKeyed

ORDER_FIELDS_VERSION = 2026  # the Orders API version whose fulfilment fields an order holds


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
    # Orders v2026 fulfilment fields (storesync.domain.orders.AmazonItem); the gift message and wrap level are
    # buyer data, kept encrypted with the address (OrderAddress.gift_options_encrypted): here only that one exists
    programs = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    customized_url = UnicodeAttribute(null=True)
    gift = BooleanAttribute(null=True)
    shipping_constraints = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    cancellation_requester = UnicodeAttribute(null=True)  # BUYER: the buyer asked to cancel this item
    cancellation_reason = UnicodeAttribute(null=True)


class AssociatedOrderRef(MapAttribute):  # type: ignore[type-arg]
    amazon_order_id = UnicodeAttribute()
    association_type = UnicodeAttribute()


class ByMerchantIndex(GlobalSecondaryIndex["Order"]):
    class Meta:
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    purchase_key = UnicodeAttribute(range_key=True)  # "<purchase date iso>#<amazon order id>"


class UnknownSkuHoldIndex(GlobalSecondaryIndex["Order"]):
    """Sparse: only an order on the unknown-SKU hold carries `unknown_sku_store` (its store id), so a store's
    waiting orders are one small query, however many orders the store holds."""

    class Meta:
        projection = AllProjection()

    unknown_sku_store = UnicodeAttribute(hash_key=True)
    purchase_key = UnicodeAttribute(range_key=True)


class AwaitingShipmentIndex(GlobalSecondaryIndex["Order"]):
    """Sparse: only a merchant order still to ship with a ship-by window carries `awaiting_merchant` (its
    merchant id), so the orders to ship sorted by ship-by (and those at risk of shipping late) are one query."""

    class Meta:
        projection = AllProjection()

    awaiting_merchant = UnicodeAttribute(hash_key=True)
    ship_by_key = UnicodeAttribute(range_key=True)  # "<ship-by, UTC ISO>#<store id>#<amazon order id>"


class Order(OrderKeyed):
    marketplace_id = UnicodeAttribute()
    purchase_key = UnicodeAttribute()
    status = UnicodeAttribute()  # storesync.domain.orders.OrderStatus
    amazon_status = UnicodeAttribute()
    channel = UnicodeAttribute()  # FBM (regular order) | FBA (FBA order)
    # storesync.domain.orders.Hold values. [str]: pynamodb types the items of a ListAttribute(of=UnicodeAttribute)
    # as UnicodeAttribute, not str (pynamodb issue 1246), hence the ignore
    holds = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    automation_blocked = BooleanAttribute(default=False)
    # on the unknown-SKU hold only (absent otherwise): the SKUs it waits for, and its store id (the sparse index)
    unknown_skus = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    unknown_sku_store = UnicodeAttribute(null=True)
    # the buyer's reason for asking to cancel (set with the buyer-requested-cancellation hold, kept after it)
    buyer_cancellation_reason = UnicodeAttribute(null=True)
    items = ListAttribute(of=OrderItem, default=list)
    purchase_date = UnicodeAttribute(null=True)
    ship_by = UnicodeAttribute(null=True)  # the end of Amazon's ship-by window
    deliver_by = UnicodeAttribute(null=True)
    ship_by_start = UnicodeAttribute(null=True)
    deliver_by_start = UnicodeAttribute(null=True)
    ship_by_key = UnicodeAttribute(null=True)  # set with a ship-by (sorting key)
    awaiting_merchant = UnicodeAttribute(null=True)  # a merchant order still to ship: AwaitingShipmentIndex
    programs = ListAttribute[str](of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    service_level = UnicodeAttribute(null=True)
    buyer_company = UnicodeAttribute(null=True)
    buyer_po_number = UnicodeAttribute(null=True)
    associated_orders = ListAttribute(of=AssociatedOrderRef, null=True)
    # ORDER_FIELDS_VERSION once Amazon's fulfilment fields were stored (absent: stored before them, backfilled)
    fulfilment_fields = NumberAttribute(null=True)
    amazon_last_updated = UnicodeAttribute()  # never overwritten by an older one
    has_address = BooleanAttribute(default=False)
    stock_removed_externally = BooleanAttribute(default=False)
    shipped_at = UTCDateTimeAttribute(null=True)  # storesync's time of the transition that shipped it
    # Amazon's time of the close (storesync.domain.orders.amazon_close_time / wms_close_time): buyer data expiry
    closed_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_merchant = ByMerchantIndex()
    by_unknown_sku = UnknownSkuHoldIndex()
    awaiting_shipment = AwaitingShipmentIndex()


class OrderAddress(OrderKeyed):
    """The buyer's address (with the buyer's name) and the items' gift options (message and wrap level),
    KMS-encrypted; DynamoDB's TTL removes it 30 days after the order closed (Amazon's close time). The only
    record that holds buyer data; FBA orders have none."""

    address_encrypted = BinaryAttribute(legacy_encoding=False)
    # {order item id: {"message", "wrap_level"}} as JSON, encrypted (absent: no gift option)
    gift_options_encrypted = BinaryAttribute(legacy_encoding=False, null=True)
    expires_at = TTLAttribute(null=True)


class Transaction(Protocol):
    """A transaction being built (pynamodb's TransactWrite, storesync.dal.stock's StockTransaction)."""

    def update(self, model: Any, actions: list[Action], condition: Any = None) -> None: ...


def expire_address(
    transaction: Transaction, store_id: str, amazon_order_id: str, expires_at: datetime
) -> None:
    """The stored buyer address gets its expiry (DynamoDB's TTL), in the transaction that closes the order."""
    transaction.update(
        OrderAddress(store_id, amazon_order_id),
        actions=[OrderAddress.expires_at.set(expires_at)],
        condition=OrderAddress.store_id.exists(),
    )
