"""Amazon's order as storesync reads it (Orders v2026-01-01): Amazon's statuses and channels, the fulfilment
vocabulary, and the order and its items with their v2026 fulfilment fields (ship-by and deliver-by windows,
programs, service level, business buyer, associated orders, gift options, shipping constraints, cancellation
requests).

Plain Python: no AWS, no HTTP. storesync.amazon.orders reads Amazon's JSON into these (a bad order raises
OrderDataError naming the field); the order state machine (storesync.domain.orders, which re-exports every
name here) decides what storesync does with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# Amazon's fulfillment statuses
PENDING_AVAILABILITY = "PENDING_AVAILABILITY"
PENDING = "PENDING"
UNSHIPPED = "UNSHIPPED"
PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
SHIPPED = "SHIPPED"
CANCELLED = "CANCELLED"
UNFULFILLABLE = "UNFULFILLABLE"
AMAZON_STATUSES = (
    PENDING_AVAILABILITY,
    PENDING,
    UNSHIPPED,
    PARTIALLY_SHIPPED,
    SHIPPED,
    CANCELLED,
    UNFULFILLABLE,
)
NOT_RELEASED = (PENDING_AVAILABILITY, PENDING)

CHANNEL_FBM = "FBM"
CHANNEL_FBA = "FBA"
CHANNELS = (CHANNEL_FBM, CHANNEL_FBA)


# Orders v2026-01-01's fulfilment vocabulary (the model documents these values; Amazon may add others, which are
# kept as given: a program or constraint we do not know yet is still shown to the packer)
ORDER_PROGRAMS = (
    "AMAZON_BAZAAR",
    "AMAZON_BUSINESS",
    "AMAZON_EASY_SHIP",
    "AMAZON_HAUL",
    "DELIVERY_BY_AMAZON",
    "FBM_SHIP_PLUS",
    "INVOICE_BY_AMAZON",
    "IN_STORE_PICK_UP",
    "PREMIUM",
    "PREORDER",
    "PRIME",
)
ITEM_PROGRAMS = ("TRANSPARENCY", "SUBSCRIBE_AND_SAVE")
SERVICE_LEVELS = (
    "EXPEDITED",
    "FREE_ECONOMY",
    "NEXT_DAY",
    "PRIORITY",
    "SAME_DAY",
    "SECOND_DAY",
    "SCHEDULED",
    "STANDARD",
)
# ItemShippingConstraints: each is MANDATORY when present
SHIPPING_CONSTRAINTS = (
    "palletDelivery",
    "cashOnDelivery",
    "signatureConfirmation",
    "recipientIdentityVerification",
    "recipientAgeVerification",
)
ASSOCIATION_TYPES = ("REPLACEMENT_ORIGINAL_ID", "EXCHANGE_ORIGINAL_ID")
# an FBM order still to ship whose ship-by window ends within this time is at risk of shipping late
LATE_SHIPMENT_MARGIN = timedelta(hours=24)


@dataclass(frozen=True)
class GiftOption:
    """An item's gift wrap and message: buyer data (stored encrypted, expired with the address)."""

    message: str | None = None
    wrap_level: str | None = None


@dataclass(frozen=True)
class CancellationRequest:
    """A cancellation request on an item (Amazon's `cancellation.cancellationRequest`)."""

    requester: str  # BUYER
    reason: str | None = None


@dataclass(frozen=True)
class AssociatedOrder:
    """Another order this one is related to (a replacement or exchange names its original)."""

    order_id: str
    association_type: str  # REPLACEMENT_ORIGINAL_ID | EXCHANGE_ORIGINAL_ID (or what Amazon adds)


@dataclass(frozen=True)
class AmazonItem:
    order_item_id: str
    sku: str
    quantity: int
    quantity_shipped: int = 0
    price: str | None = None
    currency: str | None = None
    programs: tuple[str, ...] = ()
    customized_url: str | None = None
    gift: GiftOption | None = None
    shipping_constraints: tuple[str, ...] = ()  # names from SHIPPING_CONSTRAINTS (MANDATORY ones)
    cancellation_request: CancellationRequest | None = None

    @property
    def from_report(self) -> bool:
        """A line of an order report's row: named by its SKU, Amazon's order item id unknown (see
        `report_item_id`)."""
        return self.order_item_id.startswith(REPORT_ITEM_PREFIX)


# Amazon's order reports list an order's items by SKU, without their order item ids: an order stored from a report
# row names its lines "report:<SKU>" until the order is read whole (getOrder, searchOrders, a notification), when
# they take Amazon's items (storesync.domain.orders.names_report_lines)
REPORT_ITEM_PREFIX = "report:"


def report_item_id(sku: str) -> str:
    return f"{REPORT_ITEM_PREFIX}{sku}"


@dataclass(frozen=True)
class AmazonOrder:
    order_id: str
    marketplace_id: str
    status: str
    channel: str  # FBM | FBA
    created: str
    last_updated: str
    items: tuple[AmazonItem, ...]
    address: Mapping[str, Any] | None = None
    # the buyer's cancellation request told by an ORDER_CHANGE (BuyerRequestedChange) when the order read does
    # not show it on an item yet (see `buyer_cancellation`)
    buyer_cancel_request: CancellationRequest | None = None
    ship_by: str | None = None  # the end of the ship-by window (latestDateTime)
    deliver_by: str | None = None  # the end of the deliver-by window
    ship_by_start: str | None = None  # earliestDateTime of the ship-by window
    deliver_by_start: str | None = None
    programs: tuple[str, ...] = ()
    service_level: str | None = None  # fulfillment.fulfillmentServiceLevel
    buyer_company: str | None = None  # business orders: buyer.buyerCompanyName
    buyer_po_number: str | None = None  # buyer.buyerPurchaseOrderNumber
    associated_orders: tuple[AssociatedOrder, ...] = ()
    # the latest package's shipTime (Amazon gives packages for FBM orders only): see amazon_close_time
    shipped_time: str | None = None

    @property
    def from_report(self) -> bool:
        """Told by an order report's row (no address, no fulfilment fields, lines named by SKU)."""
        return any(i.from_report for i in self.items)

    @property
    def read_whole(self) -> bool:
        """Amazon's items with their order item ids (getOrder, searchOrders), not an order report's row."""
        return bool(self.items) and not any(i.from_report for i in self.items)

    @property
    def released(self) -> bool:
        return self.status not in NOT_RELEASED

    @property
    def gift_options(self) -> dict[str, GiftOption]:
        """The items' gift options by order item id (buyer data)."""
        return {i.order_item_id: i.gift for i in self.items if i.gift is not None}

    @property
    def buyer_cancellation(self) -> CancellationRequest | None:
        """The buyer's cancellation request, on any item or told by a notification (None: the buyer asked for
        none)."""
        if self.buyer_cancel_request is not None:
            return self.buyer_cancel_request
        return next(
            (
                i.cancellation_request
                for i in self.items
                if i.cancellation_request is not None and i.cancellation_request.requester == "BUYER"
            ),
            None,
        )
