"""The WMS order state machine: the order statuses, the holds, and every transition, as pure functions.

Plain Python: no AWS, no HTTP. Every writer of an order (the order upsert, the shipment confirmation) asks this
module where the order goes and writes what it answers; no other module spells a status or a hold.
storesync.amazon.orders reads Amazon's JSON into an AmazonOrder (a bad order raises OrderDataError naming the field);
Amazon's order, its statuses, channels and v2026 fulfilment fields are storesync.domain.order_fields (re-exported
here).

Transitions (each a function below; `decide` picks the import's):
- import of a new order (`import_new`, B7, B8, B12, B13): an order first seen CANCELLED is never created; with
  downloads off no new order is created at all; FBA orders are created whatever their status, as orders that take
  no stock; FBM orders are created once released (open, partially shipped, allocated); first seen SHIPPED they are
  created as shipped externally; PENDING ones only with "import pending orders", with a payment hold, automation
  blocked and a blank address (Amazon gives none before release). An unknown SKU adds its hold.
- the SKUs an order waits for became known (`skus_known`, on every order run and after a product import): once
  none is unknown the unknown-SKU hold lifts and an open merchant order allocates the lines that waited; a
  closed order only loses the hold (nothing waits any more).
- Amazon's changes of a stored order (`follow_amazon`, applied even with downloads off; an older
  lastUpdatedTime never overwrites a newer one), made of:
  `release` (the payment hold lifts, the address fills), `cancel` (the allocation goes back),
  `ship_outside` (SHIPPED on Amazon with no WMS shipment: shipped externally; with "remove stock for
  fulfillments created in Amazon" the units leave on hand, once; without it the allocation goes back) and
  `follow_status` (open, partially shipped, unfulfillable; shipped by Amazon for FBA or after a WMS shipment).
  An order stored from an order report's row (FBA or closed: the order planner; lines named by SKU, the report has
  no order item ids) that is read whole later takes Amazon's items (`names_report_lines`), never a second set of
  lines, and no stock moves for it.
- the buyer asks to cancel (`buyer_requests_cancellation`: an item's cancellation request when the order is
  read, or an ORDER_CHANGE BuyerRequestedChange): a merchant order not closed goes on the
  "buyer_requested_cancellation" hold (automation blocked, shipping allowed, stock stays allocated); the hold
  ends when the order closes (`close_holds`): Amazon cancels it (`cancel`: the allocation goes back) or the
  merchant ships it anyway. Every decision names the holds it puts on and lifts (`holds_added`,
  `holds_lifted`): the one place to hook a transition.
- shipment in the WMS (`ship_in_wms`, once Amazon confirmed packages): partially shipped, then shipped.
- `shipping_refusal`: why the WMS may not ship an order (FBA, cancelled, on hold, already shipped).
Closed orders (shipped, shipped externally, cancelled) keep their status. The transition that closes an order
says so (`closes`, and `ships` when it left the warehouse): its writer stamps shipped_at, records Amazon's close
time (`amazon_close_time`, or `wms_close_time` for the WMS's own shipment) and gives the buyer's data its expiry
(`buyer_data_expiry`, 30 days after that close time) in the same transaction. FBA orders keep no buyer data
(Amazon ships them: the WMS never needs the address).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from storesync.clock import parse_iso

# Amazon's order and its fields, re-exported here: every importer of these names keeps working
from storesync.domain.order_fields import (  # noqa: F401
    AMAZON_STATUSES,
    ASSOCIATION_TYPES,
    CANCELLED,
    CHANNEL_FBA,
    CHANNEL_FBM,
    CHANNELS,
    ITEM_PROGRAMS,
    LATE_SHIPMENT_MARGIN,
    NOT_RELEASED,
    ORDER_PROGRAMS,
    PARTIALLY_SHIPPED,
    PENDING,
    PENDING_AVAILABILITY,
    REPORT_ITEM_PREFIX,
    SERVICE_LEVELS,
    SHIPPED,
    SHIPPING_CONSTRAINTS,
    UNFULFILLABLE,
    UNSHIPPED,
    AmazonItem,
    AmazonOrder,
    AssociatedOrder,
    CancellationRequest,
    GiftOption,
    report_item_id,
)


class OrderStatus(StrEnum):
    """The WMS order statuses (stored as these strings)."""

    PENDING = "pending"
    OPEN = "open"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    SHIPPED_EXTERNALLY = "shipped_externally"
    CANCELLED = "cancelled"
    UNFULFILLABLE = "unfulfillable"


WMS_STATUSES = tuple(OrderStatus)
CLOSED_STATUSES = frozenset({OrderStatus.SHIPPED, OrderStatus.SHIPPED_EXTERNALLY, OrderStatus.CANCELLED})
SHIPPED_STATUSES = frozenset({OrderStatus.SHIPPED, OrderStatus.SHIPPED_EXTERNALLY})
BUYER_DATA_RETENTION = timedelta(days=30)  # Amazon's Data Protection Policy: gone 30 days after shipment


class Hold(StrEnum):
    """Why an order waits (stored as these strings). A new hold is one member here and one row in HOLD_RULES."""

    PAYMENT = "payment_hold"
    UNKNOWN_SKU = "unknown_sku"
    BUYER_CANCELLATION = "buyer_requested_cancellation"


@dataclass(frozen=True)
class HoldRule:
    blocks_automation: bool
    lifted_by_release: bool  # Amazon releasing the order lifts it
    blocks_shipping: str | None = None  # why the WMS may not ship the order while it is on (None: it may)
    lifted_by_close: bool = False  # the order closing (cancelled, or shipped) lifts it


HOLD_RULES: Mapping[Hold, HoldRule] = {
    Hold.PAYMENT: HoldRule(
        blocks_automation=True, lifted_by_release=True, blocks_shipping="pending on Amazon (payment hold)"
    ),
    Hold.UNKNOWN_SKU: HoldRule(blocks_automation=False, lifted_by_release=False),
    # the buyer asked to cancel: wait for Amazon (it cancels: the allocation goes back) or ship anyway (the
    # merchant may: it does not block shipping); its stock stays allocated meanwhile
    Hold.BUYER_CANCELLATION: HoldRule(blocks_automation=True, lifted_by_release=False, lifted_by_close=True),
}
HOLDS = tuple(Hold)

CREATE = "create"
UPDATE = "update"
IGNORE = "ignore"


@dataclass(frozen=True)
class ImportRules:
    """The store settings that shape the import."""

    download_orders: bool = True
    import_pending: bool = False
    remove_stock_for_external: bool = False


@dataclass(frozen=True)
class OrderLine:
    order_item_id: str
    sku: str
    quantity: int
    quantity_shipped: int = 0  # confirmed on Amazon


@dataclass(frozen=True, kw_only=True)
class OrderSnapshot:
    """A stored order as the state machine and the shipment rules read it (independent of storage)."""

    amazon_order_id: str
    marketplace_id: str
    channel: str  # FBM | FBA
    status: OrderStatus
    amazon_status: str
    amazon_last_updated: str
    holds: tuple[Hold, ...] = ()
    lines: tuple[OrderLine, ...] = ()
    has_address: bool = False
    stock_removed_externally: bool = False
    has_wms_shipment: bool = False


@dataclass(frozen=True)
class Move:
    """Where one transition takes an order, and what comes with it."""

    status: OrderStatus
    closes: bool = False  # the order just reached a closed status: its buyer data expires 30 days after it
    ships: bool = False  # ... and it is shipped (in the WMS, outside it, or by Amazon): shipped_at is now
    release_allocation: bool = False  # give every allocated unit back
    remove_stock: bool = False  # the order's units leave on hand (shipped outside the WMS, setting on)


@dataclass(frozen=True)
class OrderDecision:
    """The import's answer for one Amazon order: what to do (create, update, ignore) and the order's move."""

    action: str  # create | update | ignore
    reason: str
    status: OrderStatus | None = None  # None: ignored before any status was worked out
    holds: tuple[Hold, ...] = ()
    automation_blocked: bool = False
    allocate: bool = False  # plan an allocation for the order's lines (new FBM order)
    release_allocation: bool = False
    remove_stock: bool = False
    store_address: bool = False  # the incoming address is stored (encrypted)
    closes: bool = False
    ships: bool = False
    # the buyer's address expires 30 days after the close (it closes now, or the address came to a closed order)
    expire_buyer_data: bool = False
    unknown_skus: tuple[str, ...] = field(default_factory=tuple)
    # allocate only these SKUs' lines (`skus_known`: those that waited); empty with `allocate`: every line
    allocate_skus: tuple[str, ...] = field(default_factory=tuple)
    # the transitions of holds this decision makes (the one place a hook, e.g. an event publisher, reads them):
    # the holds put on and those lifted, against the order as stored
    holds_added: tuple[Hold, ...] = field(default_factory=tuple)
    holds_lifted: tuple[Hold, ...] = field(default_factory=tuple)
    buyer_cancel_reason: str | None = None  # with the buyer-requested-cancellation hold: the buyer's reason
    names_lines: bool = False  # the report's lines (named by SKU) take Amazon's items: `names_report_lines`


# statuses in which a merchant order holds stock (allocated at import, or once its SKUs are known)
ALLOCATING_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.PARTIALLY_SHIPPED})


def buyer_data_expiry(closed_at: datetime) -> datetime:
    """When the buyer's data (the address) of an order closed at `closed_at` must be gone."""
    return closed_at + BUYER_DATA_RETENTION


def amazon_close_time(incoming: AmazonOrder) -> datetime:
    """Amazon's time of the close of an order seen SHIPPED or CANCELLED (also one first seen closed).

    Orders v2026-01-01 gives an explicit ship time only per package (`packages[].shipTime`, includedData
    PACKAGES, merchant orders only): a shipped order closes at its latest package's shipTime. It gives no
    cancellation time at all (an item's `cancellation` says who and why, not when), and no package for an FBA
    order: then the close time is the order's `lastUpdatedTime` in the answer that first shows it closed (the
    status change is a change of the order, so Amazon's lastUpdatedTime is at or after it; an order first seen
    closed long after may count from a later time). A shipTime after that lastUpdatedTime is not believed: the
    earlier of the two counts. Never storesync's own clock."""
    updated = parse_iso(incoming.last_updated)
    if incoming.status == SHIPPED and incoming.shipped_time:
        return min(parse_iso(incoming.shipped_time), updated)
    return updated


def wms_close_time(ship_dates: Sequence[str], confirmed_at: datetime) -> datetime:
    """The close time of an order the WMS shipped: the latest ship date of its confirmed packages (the shipDate
    confirmShipment gave Amazon, which Amazon keeps as the package's shipTime), never after Amazon confirmed
    the last one (`confirmed_at`)."""
    dates = [parse_iso(d) for d in ship_dates if d]
    return min(max(dates), confirmed_at) if dates else confirmed_at


def legacy_address_expiry(
    order: OrderSnapshot | None, closed_at: datetime | None, now: datetime
) -> datetime | None:
    """The expiry of an address stored without one (before every path set it): 30 days after a closed order's
    close (`closed_at`, Amazon's close time or storesync's shipped_at; else Amazon's lastUpdatedTime as stored,
    which is at or after the close), `now` for an FBA order's address or one whose order is gone (they keep
    none), None for an open merchant order (it expires when the order closes)."""
    if order is None or order.channel == CHANNEL_FBA:
        return now
    if order.status not in CLOSED_STATUSES:
        return None
    return buyer_data_expiry(closed_at or parse_iso(order.amazon_last_updated))


def buyer_data_visible(expires_at: datetime | None, closed_at: datetime | None, now: datetime) -> bool:
    """Whether the buyer's data may still be shown: not past its expiry (DynamoDB's TTL sweep may lag by days),
    and not more than the retention after its order closed (an address stored before its expiry was set)."""
    if expires_at is not None and expires_at <= now:
        return False
    return closed_at is None or buyer_data_expiry(closed_at) > now


# a merchant order in these statuses still has units to ship (pending ones once Amazon releases them)
AWAITING_SHIPMENT_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.PARTIALLY_SHIPPED})
SHIPPABLE_STATUSES = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_SHIPPED})
LATE = "late"
AT_RISK = "at_risk"


def awaiting_shipment(channel: str, status: str) -> bool:
    """Whether the WMS still has to ship (part of) the order: a merchant order not closed."""
    return channel == CHANNEL_FBM and status in AWAITING_SHIPMENT_STATUSES


@dataclass(frozen=True)
class LateShipmentRisk:
    level: str  # late (the ship-by window has ended) | at_risk (it ends within the margin)
    ship_by: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "ship_by": self.ship_by, "message": self.message}


def late_shipment_risk(
    channel: str,
    status: str,
    ship_by: str | None,
    now: datetime,
    margin: timedelta = LATE_SHIPMENT_MARGIN,
) -> LateShipmentRisk | None:
    """A merchant order released for shipping (open or partially shipped) whose ship-by window ends within
    `margin` of `now` (at_risk) or has ended (late); None otherwise (FBA, pending, closed, no window)."""
    if channel != CHANNEL_FBM or status not in SHIPPABLE_STATUSES or not ship_by:
        return None
    end = parse_iso(ship_by)
    if now >= end:
        return LateShipmentRisk(LATE, ship_by, f"late: the ship-by window ended at {ship_by}")
    if now >= end - margin:
        hours = max(1, int((end - now).total_seconds() // 3600))
        return LateShipmentRisk(
            AT_RISK, ship_by, f"at risk: ship by {ship_by} (about {hours} h left) or it ships late"
        )
    return None


def late_risk_threshold(now: datetime, margin: timedelta = LATE_SHIPMENT_MARGIN) -> datetime:
    """Orders to ship whose ship-by window ends before this time are at risk (or late)."""
    return now + margin


def automation_blocked(holds: Sequence[Hold]) -> bool:
    return any(HOLD_RULES[hold].blocks_automation for hold in holds)


def wms_status(amazon_status: str, channel: str, has_wms_shipment: bool = False) -> OrderStatus:
    if amazon_status in NOT_RELEASED:
        return OrderStatus.PENDING
    if amazon_status == UNSHIPPED:
        return OrderStatus.OPEN
    if amazon_status == PARTIALLY_SHIPPED:
        return OrderStatus.PARTIALLY_SHIPPED
    if amazon_status == SHIPPED:
        if channel == CHANNEL_FBA or has_wms_shipment:
            return OrderStatus.SHIPPED
        return OrderStatus.SHIPPED_EXTERNALLY
    if amazon_status == CANCELLED:
        return OrderStatus.CANCELLED
    return OrderStatus.UNFULFILLABLE


def is_newer_or_same(incoming: str, stored: str) -> bool:
    return parse_iso(incoming) >= parse_iso(stored)


def _move(
    before: OrderStatus | None,
    status: OrderStatus,
    *,
    release_allocation: bool = False,
    remove_stock: bool = False,
) -> Move:
    """The one place that says when an order closes (and ships): reaching a closed status from an open one."""
    closes = status in CLOSED_STATUSES and before not in CLOSED_STATUSES
    return Move(status, closes, closes and status in SHIPPED_STATUSES, release_allocation, remove_stock)


def _decision(
    action: str,
    reason: str,
    move: Move,
    holds: tuple[Hold, ...],
    *,
    allocate: bool = False,
    store_address: bool = False,
    unknown_skus: tuple[str, ...] = (),
    before: Sequence[Hold] = (),
    buyer_cancel_reason: str | None = None,
    names_lines: bool = False,
) -> OrderDecision:
    """`before`: the holds as stored (the decision names those it puts on and lifts)."""
    return OrderDecision(
        action,
        reason,
        status=move.status,
        holds=holds,
        automation_blocked=automation_blocked(holds),
        allocate=allocate,
        release_allocation=move.release_allocation,
        remove_stock=move.remove_stock,
        store_address=store_address,
        closes=move.closes,
        ships=move.ships,
        expire_buyer_data=move.closes or (store_address and move.status in CLOSED_STATUSES),
        unknown_skus=unknown_skus,
        holds_added=tuple(h for h in holds if h not in before),
        holds_lifted=tuple(h for h in before if h not in holds),
        buyer_cancel_reason=buyer_cancel_reason if Hold.BUYER_CANCELLATION in holds else None,
        names_lines=names_lines,
    )


# --- the transitions ---


def import_new(incoming: AmazonOrder, rules: ImportRules, unknown_skus: Sequence[str] = ()) -> OrderDecision:
    """An order the WMS does not hold yet: created (and how), or not."""
    if incoming.status == CANCELLED:
        return OrderDecision(IGNORE, "first seen cancelled: not created")
    if not rules.download_orders:
        return OrderDecision(IGNORE, "downloading new orders is switched off")
    fbm = incoming.channel == CHANNEL_FBM
    holds: list[Hold] = []
    if incoming.status in NOT_RELEASED:
        if fbm and not rules.import_pending:
            return OrderDecision(IGNORE, "pending: imported once Amazon releases it")
        holds.append(Hold.PAYMENT)
    unknown = tuple(sorted(set(unknown_skus)))
    if unknown:
        holds.append(Hold.UNKNOWN_SKU)
    if fbm and incoming.status == UNFULFILLABLE:
        return OrderDecision(IGNORE, "unfulfillable merchant order: not created")
    status = wms_status(incoming.status, incoming.channel)
    shipped_outside = fbm and status == OrderStatus.SHIPPED_EXTERNALLY
    move = _move(None, status, remove_stock=shipped_outside and rules.remove_stock_for_external)
    request = incoming.buyer_cancellation
    held = buyer_requests_cancellation(tuple(holds), incoming.channel, status, request)
    return _decision(
        CREATE,
        "new order",
        move,
        held,
        allocate=fbm and status in ALLOCATING_STATUSES,
        store_address=fbm and incoming.released and incoming.address is not None,
        unknown_skus=unknown,
        buyer_cancel_reason=request.reason if request else None,
    )


def buyer_requests_cancellation(
    holds: tuple[Hold, ...], channel: str, status: OrderStatus, request: CancellationRequest | None
) -> tuple[Hold, ...]:
    """The buyer asked to cancel (an item's cancellation request, or an ORDER_CHANGE BuyerRequestedChange): a
    merchant order not closed goes on the buyer-requested-cancellation hold, once; its stock stays allocated.
    FBA orders are Amazon's to cancel or ship; a closed order has nothing left to hold."""
    if request is None or channel != CHANNEL_FBM or status in CLOSED_STATUSES:
        return holds
    if Hold.BUYER_CANCELLATION in holds:
        return holds
    return (*holds, Hold.BUYER_CANCELLATION)


def close_holds(holds: Sequence[Hold], status: OrderStatus) -> tuple[Hold, ...]:
    """An order that is closed (Amazon cancelled it, or it shipped: the merchant shipped it anyway) loses the
    holds that wait for its close (the buyer-requested-cancellation hold)."""
    if status not in CLOSED_STATUSES:
        return tuple(holds)
    return tuple(hold for hold in holds if not HOLD_RULES[hold].lifted_by_close)


def release(holds: Sequence[Hold]) -> tuple[Hold, ...]:
    """Amazon released the order (its payment went through): the holds that waited for it are lifted."""
    return tuple(hold for hold in holds if not HOLD_RULES[hold].lifted_by_release)


def cancel(order: OrderSnapshot) -> Move:
    """Amazon cancelled the order: it closes and a merchant order's allocation goes back."""
    if order.status in CLOSED_STATUSES:
        return Move(order.status)
    return _move(order.status, OrderStatus.CANCELLED, release_allocation=order.channel == CHANNEL_FBM)


def ship_outside(order: OrderSnapshot, remove_stock: bool) -> Move:
    """Amazon shipped a merchant order the WMS did not ship: it closes as shipped externally. With
    `remove_stock` ("remove stock for fulfillments created in Amazon") its units leave on hand, once;
    without it its allocation goes back."""
    if order.status in CLOSED_STATUSES:
        return Move(order.status)
    fbm = order.channel == CHANNEL_FBM
    return _move(
        order.status,
        OrderStatus.SHIPPED_EXTERNALLY,
        release_allocation=fbm and not remove_stock,
        remove_stock=fbm and remove_stock and not order.stock_removed_externally,
    )


def follow_status(order: OrderSnapshot, status: OrderStatus) -> Move:
    """Any other status Amazon gives (open, partially shipped, unfulfillable; shipped by Amazon for FBA or after
    a WMS shipment): no stock moves. Amazon never un-releases an order: a released one never goes back to
    pending."""
    if order.status in CLOSED_STATUSES:
        return Move(order.status)
    if status == OrderStatus.PENDING and order.status != OrderStatus.PENDING:
        status = order.status
    return _move(order.status, status)


def amazon_move(order: OrderSnapshot, amazon_status: str, rules: ImportRules) -> Move:
    """Where Amazon's status takes an order the WMS holds."""
    status = wms_status(amazon_status, order.channel, order.has_wms_shipment)
    if status == OrderStatus.CANCELLED:
        return cancel(order)
    if status == OrderStatus.SHIPPED_EXTERNALLY:
        return ship_outside(order, rules.remove_stock_for_external)
    return follow_status(order, status)


def follow_amazon(existing: OrderSnapshot, incoming: AmazonOrder, rules: ImportRules) -> OrderDecision:
    """Amazon changed an order the WMS holds. A closed order keeps its WMS status; Amazon's status and a late
    address still flow."""
    if not is_newer_or_same(incoming.last_updated, existing.amazon_last_updated):
        return OrderDecision(IGNORE, "older than what is stored")
    holds = release(existing.holds) if incoming.released else existing.holds
    store_address = (
        existing.channel == CHANNEL_FBM
        and incoming.released
        and incoming.address is not None
        and not existing.has_address
    )
    move = amazon_move(existing, incoming.status, rules)
    request = incoming.buyer_cancellation
    holds = close_holds(
        buyer_requests_cancellation(holds, existing.channel, move.status, request), move.status
    )
    names_lines = names_report_lines(existing, incoming)
    changed = (
        names_lines
        or move.status != existing.status
        or incoming.status != existing.amazon_status
        or holds != existing.holds
        or store_address
        or incoming.last_updated != existing.amazon_last_updated
    )
    if not changed:
        reason = "no change"
    elif names_lines and move.status == existing.status and holds == existing.holds:
        reason = "the report's lines take Amazon's items"
    elif existing.status in CLOSED_STATUSES:
        reason = "closed order"
    else:
        reason = f"{existing.status} -> {move.status}"
    return _decision(
        UPDATE if changed else IGNORE,
        reason,
        move,
        holds,
        store_address=store_address,
        before=existing.holds,
        buyer_cancel_reason=request.reason if request else None,
        names_lines=names_lines,
    )


def names_report_lines(existing: OrderSnapshot, incoming: AmazonOrder) -> bool:
    """An order stored from an order report's row (its lines named by SKU: order_fields.report_item_id) read
    whole now: its lines take Amazon's items, matched by SKU (the writer replaces them; never a second set of
    lines). Such lines hold no stock: only FBA orders and closed ones are stored from a row."""
    return incoming.read_whole and any(
        line.order_item_id.startswith(REPORT_ITEM_PREFIX) for line in existing.lines
    )


def decide(
    existing: OrderSnapshot | None,
    incoming: AmazonOrder,
    rules: ImportRules,
    unknown_skus: Sequence[str] = (),
) -> OrderDecision:
    """The import's transition for one Amazon order: a new order, or Amazon's change of a stored one."""
    if existing is None:
        return import_new(incoming, rules, unknown_skus)
    return follow_amazon(existing, incoming, rules)


def skus_known(
    order: OrderSnapshot, waited_for: Sequence[str], still_unknown: Sequence[str]
) -> OrderDecision:
    """Re-evaluation of an order on the unknown-SKU hold: `waited_for` are the SKUs it was held for,
    `still_unknown` those of them the WMS still does not know. While one is unknown nothing changes (the list
    may narrow: `unknown_skus`). Once none is, the hold lifts; a merchant order that still holds stock
    (pending, open, partially shipped) allocates the lines of the SKUs it waited for. A closed order only
    loses the hold: nothing waits for its SKUs any more."""
    if Hold.UNKNOWN_SKU not in order.holds:
        return OrderDecision(IGNORE, "not on the unknown-SKU hold", order.status, order.holds)
    unknown = tuple(sorted(set(still_unknown)))
    closed = order.status in CLOSED_STATUSES
    stay = Move(order.status)
    if unknown and not closed:
        changed = set(unknown) != set(waited_for)
        return _decision(
            UPDATE if changed else IGNORE,
            "some SKUs became known" if changed else "SKUs still unknown",
            stay,
            order.holds,
            unknown_skus=unknown,
            before=order.holds,
        )
    holds = tuple(hold for hold in order.holds if hold != Hold.UNKNOWN_SKU)
    allocate = order.channel == CHANNEL_FBM and order.status in ALLOCATING_STATUSES
    decision = _decision(
        UPDATE,
        "closed order: nothing waits for its SKUs" if closed else "every SKU is known: hold lifted",
        stay,
        holds,
        allocate=allocate,
        before=order.holds,
    )
    if not allocate:
        return decision
    waited = tuple(sorted(set(waited_for))) or tuple(sorted({line.sku for line in order.lines}))
    return replace(decision, allocate_skus=waited)


def ship_in_wms(order: OrderSnapshot, shipped: Mapping[str, int]) -> Move:
    """Amazon confirmed the WMS's packages; `shipped` is the quantity shipped of each order item now. Partially
    shipped once some units left, shipped (it closes) once every unit has."""
    if order.status in CLOSED_STATUSES:
        return Move(order.status)
    quantities = [
        (line.quantity, shipped.get(line.order_item_id, line.quantity_shipped)) for line in order.lines
    ]
    status = order.status
    if quantities and all(done >= ordered for ordered, done in quantities):
        status = OrderStatus.SHIPPED
    elif any(done > 0 for _, done in quantities):
        status = OrderStatus.PARTIALLY_SHIPPED
    return _move(order.status, status)


def shipping_refusal(order: OrderSnapshot) -> tuple[str, str] | None:
    """Why the WMS may not ship the order: (error code, plain words), or None when it may."""
    oid = order.amazon_order_id
    if order.channel == CHANNEL_FBA:
        return "fba_order", f"order {oid} is fulfilled by Amazon (FBA): Amazon ships it"
    if order.status == OrderStatus.CANCELLED:
        return "order_cancelled", f"order {oid} is cancelled"
    blocking = [hold for hold in order.holds if HOLD_RULES[hold].blocks_shipping]
    if order.status == OrderStatus.PENDING:
        blocking.insert(0, Hold.PAYMENT)  # not released by Amazon yet
    if blocking:
        return (
            "order_on_hold",
            f"order {oid} is {HOLD_RULES[blocking[0]].blocks_shipping}: it cannot ship yet",
        )
    if order.status in SHIPPED_STATUSES:
        return "order_shipped", f"order {oid} is already shipped"
    return None
