"""Amazon orders (Orders API v2026-01-01) as WMS orders: which orders exist and how they change.

Plain Python: no AWS, no HTTP. storesync.amazon.orders reads Amazon's JSON (a bad order raises OrderDataError
naming the field); `decide` compares it with what the WMS holds and says what to do, including the stock
effect (allocate, release, remove from on hand) that the use case writes in one transaction with the order.

Creation (B7, B8, B12, B13):
- an order first seen CANCELLED is never created; with downloads off no new order is created at all;
- FBA (fulfilled by Amazon) orders are created whatever their status, as FBA orders that take no stock;
- FBM orders are created once released (UNSHIPPED, PARTIALLY_SHIPPED); first seen SHIPPED they are created
  as shipped externally; PENDING ones only with "import pending orders", with a payment hold, automation
  blocked and a blank address (Amazon gives none before release).
Changes (always applied, even with downloads off):
- release lifts the payment hold and fills the address; cancellation releases the allocation;
- SHIPPED on Amazon with no WMS shipment -> shipped externally; with "remove stock for fulfillments created
  in Amazon" the units leave on hand, once; without it the allocation is released;
- an older lastUpdatedTime never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from storesync.clock import parse_iso

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

# WMS order statuses
STATUS_PENDING = "pending"
STATUS_OPEN = "open"
STATUS_PARTIALLY_SHIPPED = "partially_shipped"
STATUS_SHIPPED = "shipped"
STATUS_SHIPPED_EXTERNALLY = "shipped_externally"
STATUS_CANCELLED = "cancelled"
STATUS_UNFULFILLABLE = "unfulfillable"
WMS_STATUSES = (
    STATUS_PENDING,
    STATUS_OPEN,
    STATUS_PARTIALLY_SHIPPED,
    STATUS_SHIPPED,
    STATUS_SHIPPED_EXTERNALLY,
    STATUS_CANCELLED,
    STATUS_UNFULFILLABLE,
)
CLOSED_STATUSES = (STATUS_SHIPPED, STATUS_SHIPPED_EXTERNALLY, STATUS_CANCELLED)

CHANNEL_FBM = "FBM"
CHANNEL_FBA = "FBA"
CHANNELS = (CHANNEL_FBM, CHANNEL_FBA)

HOLD_PAYMENT = "payment_hold"
HOLD_UNKNOWN_SKU = "unknown_sku"
HOLDS = (HOLD_PAYMENT, HOLD_UNKNOWN_SKU)

CREATE = "create"
UPDATE = "update"
IGNORE = "ignore"


@dataclass(frozen=True)
class AmazonItem:
    order_item_id: str
    sku: str
    quantity: int
    quantity_shipped: int = 0
    price: str | None = None
    currency: str | None = None


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
    ship_by: str | None = None
    deliver_by: str | None = None

    @property
    def released(self) -> bool:
        return self.status not in NOT_RELEASED


@dataclass(frozen=True)
class ImportRules:
    """The store settings that shape the import."""

    download_orders: bool = True
    import_pending: bool = False
    remove_stock_for_external: bool = False


@dataclass(frozen=True)
class OrderSnapshot:
    """What the WMS holds of an existing order (independent of storage)."""

    status: str
    amazon_status: str
    channel: str
    amazon_last_updated: str
    holds: tuple[str, ...] = ()
    has_address: bool = False
    stock_removed_externally: bool = False
    has_wms_shipment: bool = False


@dataclass(frozen=True)
class OrderDecision:
    action: str  # create | update | ignore
    reason: str
    status: str = ""
    holds: tuple[str, ...] = ()
    automation_blocked: bool = False
    allocate: bool = False  # plan an allocation for the order's lines (new FBM order)
    release_allocation: bool = False  # give every allocated unit back
    remove_stock: bool = False  # the order's units leave on hand (shipped outside the WMS, setting on)
    store_address: bool = False  # the incoming address is stored (encrypted)
    closes: bool = False  # the order just reached shipped / shipped externally / cancelled
    unknown_skus: tuple[str, ...] = field(default_factory=tuple)


def wms_status(amazon_status: str, channel: str, has_wms_shipment: bool = False) -> str:
    if amazon_status in NOT_RELEASED:
        return STATUS_PENDING
    if amazon_status == UNSHIPPED:
        return STATUS_OPEN
    if amazon_status == PARTIALLY_SHIPPED:
        return STATUS_PARTIALLY_SHIPPED
    if amazon_status == SHIPPED:
        return STATUS_SHIPPED if channel == CHANNEL_FBA or has_wms_shipment else STATUS_SHIPPED_EXTERNALLY
    if amazon_status == CANCELLED:
        return STATUS_CANCELLED
    return STATUS_UNFULFILLABLE


def is_newer_or_same(incoming: str, stored: str) -> bool:
    return parse_iso(incoming) >= parse_iso(stored)


def decide(
    existing: OrderSnapshot | None,
    incoming: AmazonOrder,
    rules: ImportRules,
    unknown_skus: Sequence[str] = (),
) -> OrderDecision:
    if existing is None:
        return _decide_new(incoming, rules, tuple(sorted(set(unknown_skus))))
    return _decide_change(existing, incoming, rules)


def _decide_new(incoming: AmazonOrder, rules: ImportRules, unknown: tuple[str, ...]) -> OrderDecision:
    if incoming.status == CANCELLED:
        return OrderDecision(IGNORE, "first seen cancelled: not created")
    if not rules.download_orders:
        return OrderDecision(IGNORE, "downloading new orders is switched off")
    holds: list[str] = []
    if incoming.status in NOT_RELEASED:
        if incoming.channel == CHANNEL_FBM and not rules.import_pending:
            return OrderDecision(IGNORE, "pending: imported once Amazon releases it")
        holds.append(HOLD_PAYMENT)
    if unknown:
        holds.append(HOLD_UNKNOWN_SKU)
    status = wms_status(incoming.status, incoming.channel)
    fbm = incoming.channel == CHANNEL_FBM
    if fbm and incoming.status == UNFULFILLABLE:
        return OrderDecision(IGNORE, "unfulfillable merchant order: not created")
    shipped_outside = fbm and status == STATUS_SHIPPED_EXTERNALLY
    return OrderDecision(
        CREATE,
        "new order",
        status=status,
        holds=tuple(holds),
        automation_blocked=HOLD_PAYMENT in holds,
        allocate=fbm and status in (STATUS_PENDING, STATUS_OPEN, STATUS_PARTIALLY_SHIPPED),
        remove_stock=shipped_outside and rules.remove_stock_for_external,
        store_address=incoming.released and incoming.address is not None,
        closes=status in CLOSED_STATUSES,
        unknown_skus=unknown,
    )


def _decide_change(existing: OrderSnapshot, incoming: AmazonOrder, rules: ImportRules) -> OrderDecision:
    if not is_newer_or_same(incoming.last_updated, existing.amazon_last_updated):
        return OrderDecision(IGNORE, "older than what is stored")
    fbm = existing.channel == CHANNEL_FBM
    holds = tuple(h for h in existing.holds if not (h == HOLD_PAYMENT and incoming.released))
    status = wms_status(incoming.status, existing.channel, existing.has_wms_shipment)
    store_address = incoming.released and incoming.address is not None and not existing.has_address
    if existing.status in CLOSED_STATUSES:
        # closed orders keep their WMS status; Amazon's status and a late address still flow
        status = existing.status
        changed = (
            existing.amazon_status != incoming.status
            or store_address
            or holds != existing.holds
            or incoming.last_updated != existing.amazon_last_updated
        )
        return OrderDecision(
            UPDATE if changed else IGNORE,
            "closed order" if changed else "no change",
            status=status,
            holds=holds,
            automation_blocked=HOLD_PAYMENT in holds,
            store_address=store_address,
        )
    if existing.status != STATUS_PENDING and status == STATUS_PENDING:
        status = existing.status  # Amazon never un-releases an order; keep what the WMS knows
    closes = status in CLOSED_STATUSES
    release = fbm and (
        status == STATUS_CANCELLED
        or (status == STATUS_SHIPPED_EXTERNALLY and not rules.remove_stock_for_external)
    )
    remove = (
        fbm
        and status == STATUS_SHIPPED_EXTERNALLY
        and rules.remove_stock_for_external
        and not existing.stock_removed_externally
    )
    changed = (
        status != existing.status
        or incoming.status != existing.amazon_status
        or holds != existing.holds
        or store_address
        or incoming.last_updated != existing.amazon_last_updated
    )
    return OrderDecision(
        UPDATE if changed else IGNORE,
        f"{existing.status} -> {status}" if changed else "no change",
        status=status,
        holds=holds,
        automation_blocked=HOLD_PAYMENT in holds,
        release_allocation=release,
        remove_stock=remove,
        store_address=store_address,
        closes=closes,
    )
