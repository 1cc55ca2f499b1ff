"""Stores, OAuth states and seller authorizations."""

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

from storesync.dal.base import MerchantKeyed, TableModel
from storesync.dal.notices import NoticesAttribute


class StoreSettings(MapAttribute):  # type: ignore[type-arg]
    download_products_and_orders = BooleanAttribute(default=True)
    starting_inventory = UnicodeAttribute(default="keep")  # "match_amazon" | "keep"
    import_pending_orders = BooleanAttribute(default=False)
    remove_stock_for_external_fulfillments = BooleanAttribute(default=False)
    inventory_buffer = NumberAttribute(default=0)
    max_quantity = NumberAttribute(null=True)
    # feeding warehouses, primary first. [str] and the ignore: as Order.holds (pynamodb issue 1246)
    warehouses = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]


class BySellerIndex(GlobalSecondaryIndex["Store"]):
    class Meta:
        projection = AllProjection()

    seller_key = UnicodeAttribute(hash_key=True)  # "<selling_partner_id>#<region>"
    marketplace_id = UnicodeAttribute(range_key=True)


class Store(MerchantKeyed):
    store_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    marketplace_id = UnicodeAttribute()
    region = UnicodeAttribute()
    status = UnicodeAttribute(default="pending_authorization")
    status_reason = UnicodeAttribute(null=True)
    selling_partner_id = UnicodeAttribute(null=True)
    seller_key = UnicodeAttribute(null=True)  # set once authorized: indexes the store under its seller
    refresh_token_encrypted = BinaryAttribute(null=True, legacy_encoding=False)
    settings = StoreSettings(default=StoreSettings)
    last_runs = MapAttribute(default=dict)  # type: ignore[var-annotated]  # job -> {at, result, summary, succeeded_at, failed_runs}: domain/health.after_run
    warnings = NoticesAttribute(default=list)
    created_at = UTCDateTimeAttribute()
    authorized_at = UTCDateTimeAttribute(null=True)
    disconnected_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    by_seller = BySellerIndex()


class OAuthState(TableModel):
    """A consent state: single use (deleted on use) and expiring (TTL)."""

    state_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    store_id = UnicodeAttribute()
    redirect_uri = UnicodeAttribute()
    expires_at = TTLAttribute()


class SellerAuthorization(TableModel):
    """One per seller and region: the ORDER_CHANGE subscription made once for all its stores."""

    seller_key = UnicodeAttribute(hash_key=True)  # "<selling_partner_id>#<region>"
    destination_id = UnicodeAttribute(null=True)
    subscription_id = UnicodeAttribute(null=True)
    subscribed_at = UTCDateTimeAttribute(null=True)
