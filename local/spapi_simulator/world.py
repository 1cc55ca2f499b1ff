"""The simulator's state: sellers, LWA grants and tokens, orders and their index, notification settings.

One `World` per Simulator; every mutation holds `world.lock`. Orders are indexed per seller by
(lastUpdatedTime, orderId) and (createdTime, orderId) in sorted lists (bisect), so a search page costs the
same whatever the number of orders. Engineer B's catalog lives in `world.catalog` (see generator.py).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock
from .errors import EXPIRED, REVOKED, UNAUTHORIZED, sp_error
from .sellers import DEMO_SELLERS, DemoSeller

CODE_TTL_SECONDS = 300.0

PENDING = "PENDING"
UNSHIPPED = "UNSHIPPED"
PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
SHIPPED = "SHIPPED"
CANCELLED = "CANCELLED"


@dataclass
class AuthCode:
    code: str
    seller_id: str
    redirect_uri: str | None
    issued_at: float
    used: bool = False


@dataclass
class Grant:
    refresh_token: str
    seller_id: str
    issued_at: float
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    seller_id: str | None  # None: a grantless (client_credentials) token
    issued_at: float
    ttl: float
    scope: str = ""
    grant: str | None = None  # the refresh token it was issued for (None: grantless)


@dataclass(slots=True)
class OrderItem:
    order_item_id: str
    sku: str
    asin: str
    title: str
    quantity: int
    unit_price: float
    shipped: int = 0
    # a partial v2026 OrderItem merged over the rendered item (POST /_sim/orders "item"): programs,
    # product.customization, fulfillment.packing.giftOption, fulfillment.shipping.shippingConstraints, ...
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def unshipped(self) -> int:
        return self.quantity - self.shipped


@dataclass(slots=True)
class Package:
    package_reference_id: str
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    ship_date: str
    items: list[dict[str, Any]]
    confirmed_at: float


@dataclass(slots=True)
class Order:
    order_id: str
    seller_id: str
    marketplace_id: str
    created: float
    updated: float
    status: str
    fulfilled_by: str  # MERCHANT | AMAZON
    items: list[OrderItem]
    address: dict[str, str]
    buyer_name: str
    currency: str
    release_at: float | None = None
    packages: list[Package] = field(default_factory=list)
    shipped_outside: bool = False
    # a partial v2026 Order merged over the rendered order (POST /_sim/orders "order"): programs, buyer,
    # fulfillment.shipByWindow, associatedOrders, ...
    extra: dict[str, Any] = field(default_factory=dict)
    buyer_cancel_reason: str | None = None  # the buyer asked to cancel (POST .../buyer-cancellation)

    @property
    def released(self) -> bool:
        return self.status != PENDING

    def item(self, order_item_id: str) -> OrderItem | None:
        return next((i for i in self.items if i.order_item_id == order_item_id), None)


@dataclass
class Destination:
    destination_id: str
    name: str
    arn: str


@dataclass
class Subscription:
    subscription_id: str
    seller_id: str
    notification_type: str
    destination_id: str
    payload_version: str


# (order, previous status or "" for a new order); previous == the order's status: not a status change but the
# buyer's cancellation request (ORDER_CHANGE with OrderChangeType BuyerRequestedChange)
OrderListener = Callable[[Order, str], None]


class OrderBook:
    """Orders per seller with sorted (time, orderId) indexes."""

    def __init__(self) -> None:
        self.by_id: dict[str, Order] = {}
        self.updated_index: dict[str, list[tuple[float, str]]] = {}
        self.created_index: dict[str, list[tuple[float, str]]] = {}

    def add(self, order: Order) -> None:
        self.by_id[order.order_id] = order
        bisect.insort(self.updated_index.setdefault(order.seller_id, []), (order.updated, order.order_id))
        bisect.insort(self.created_index.setdefault(order.seller_id, []), (order.created, order.order_id))

    def bulk_load(self, orders: list[Order]) -> None:
        """Add many orders at once (one sort per index instead of one insort per order)."""
        for order in orders:
            self.by_id[order.order_id] = order
            self.updated_index.setdefault(order.seller_id, []).append((order.updated, order.order_id))
            self.created_index.setdefault(order.seller_id, []).append((order.created, order.order_id))
        for index in (*self.updated_index.values(), *self.created_index.values()):
            index.sort()

    def touch(self, order: Order, when: float) -> None:
        index = self.updated_index[order.seller_id]
        position = bisect.bisect_left(index, (order.updated, order.order_id))
        if position < len(index) and index[position] == (order.updated, order.order_id):
            del index[position]
        order.updated = max(when, order.updated)
        bisect.insort(index, (order.updated, order.order_id))

    def scan(self, seller_id: str, by: str, start: float, after_id: str = "") -> Iterator[Order]:
        """Orders of a seller from time `start` on (by 'updated' or 'created'), oldest first.

        With `after_id`, the order (start, after_id) itself and those before it are skipped (page resume).
        """
        index = (self.updated_index if by == "updated" else self.created_index).get(seller_id, [])
        position = (
            bisect.bisect_right(index, (start, after_id))
            if after_id
            else bisect.bisect_left(index, (start, ""))
        )
        for _, order_id in itertools.islice(index, position, None):
            yield self.by_id[order_id]


class World:
    def __init__(self, clock: Clock, token_ttl: float = 3600.0) -> None:
        self.clock = clock
        self.token_ttl = token_ttl
        self.lock = threading.RLock()
        self.sellers: dict[str, DemoSeller] = {s.seller_id: s for s in DEMO_SELLERS}
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.orders = OrderBook()
        self.destinations: dict[str, Destination] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.order_listeners: list[OrderListener] = []
        self.catalog: Any = None  # engineer B's catalog (generator.py)
        self.pending_release_seconds: float | None = None
        self._release_heap: list[tuple[float, str]] = []
        self._counter = itertools.count(1)

    # identifiers -----------------------------------------------------------------------------------------
    def next_number(self) -> int:
        return next(self._counter)

    def new_request_id(self) -> str:
        return f"sim-{self.next_number():012d}"

    # LWA ---------------------------------------------------------------------------------------------------
    def issue_code(self, seller_id: str, redirect_uri: str | None) -> AuthCode:
        code = AuthCode("ANsim" + secrets.token_urlsafe(18), seller_id, redirect_uri, self.clock.time())
        with self.lock:
            self.codes[code.code] = code
        return code

    def issue_grant(self, seller_id: str) -> Grant:
        grant = Grant("Atzr|sim-" + secrets.token_urlsafe(32), seller_id, self.clock.time())
        with self.lock:
            self.grants[grant.refresh_token] = grant
        return grant

    def issue_access_token(
        self, seller_id: str | None, ttl: float | None = None, scope: str = "", grant: str | None = None
    ) -> AccessToken:
        """A new access token; `grant` (the refresh token it comes from) makes it die with the grant."""
        token = AccessToken(
            "Atza|sim-" + secrets.token_urlsafe(32),
            seller_id,
            self.clock.time(),
            self.token_ttl if ttl is None else ttl,
            scope,
            grant,
        )
        with self.lock:
            self.tokens[token.token] = token
        return token

    def revoke_grants(self, seller_id: str) -> int:
        """The seller revoked the application: its refresh tokens get invalid_grant, and the access tokens
        issued for them 403 Unauthorized (as on Amazon). A new consent issues a new grant that works."""
        with self.lock:
            revoked = [g for g in self.grants.values() if g.seller_id == seller_id and not g.revoked]
            for grant in revoked:
                grant.revoked = True
            return len(revoked)

    def resolve_access_token(self, token: str, *, grantless: bool, ttl_override: float | None) -> str | None:
        """The seller behind an access token; raises 403 when it is missing, unknown, expired or the wrong kind."""
        found = self.tokens.get(token) if token else None
        if found is None:
            raise sp_error(403, "Unauthorized", UNAUTHORIZED)
        ttl = found.ttl if ttl_override is None else min(found.ttl, ttl_override)
        if self.clock.time() >= found.issued_at + ttl:
            raise sp_error(403, "Unauthorized", UNAUTHORIZED, EXPIRED)
        if (found.seller_id is None) != grantless:
            raise sp_error(403, "Unauthorized", UNAUTHORIZED)
        grant = self.grants.get(found.grant) if found.grant else None
        if grant is not None and grant.revoked:
            raise sp_error(403, "Unauthorized", UNAUTHORIZED, REVOKED)
        return found.seller_id

    # orders ------------------------------------------------------------------------------------------------
    def schedule_release(self, order: Order) -> None:
        if order.status == PENDING and self.pending_release_seconds is not None:
            order.release_at = order.created + self.pending_release_seconds
            heapq.heappush(self._release_heap, (order.release_at, order.order_id))

    def tick(self) -> None:
        """Apply what time made due (pending orders released, catalog quantity changes); cheap when none is."""
        apply_catalog_changes = getattr(self.catalog, "apply_due", None)
        if apply_catalog_changes is not None:
            apply_catalog_changes()
        now = self.clock.time()
        if not self._release_heap or self._release_heap[0][0] > now:
            return
        with self.lock:
            while self._release_heap and self._release_heap[0][0] <= now:
                when, order_id = heapq.heappop(self._release_heap)
                order = self.orders.by_id.get(order_id)
                if order is not None and order.status == PENDING and order.release_at == when:
                    self.change_status(order, UNSHIPPED, when=when)

    def add_order(self, order: Order) -> Order:
        with self.lock:
            self.orders.add(order)
            self.schedule_release(order)
        self._notify(order, "")
        return order

    def change_status(self, order: Order, status: str, when: float | None = None) -> Order:
        with self.lock:
            previous = order.status
            order.status = status
            self.orders.touch(order, self.clock.time() if when is None else when)
        self._notify(order, previous)
        return order

    def request_buyer_cancellation(self, order: Order, reason: str) -> Order:
        """The buyer asked to cancel the order: recorded on the order (its items show the request) and its
        lastUpdatedTime moves; the listeners hear it with previous == status (BuyerRequestedChange)."""
        with self.lock:
            order.buyer_cancel_reason = reason
            self.orders.touch(order, self.clock.time())
        self._notify(order, order.status)
        return order

    def _notify(self, order: Order, previous: str) -> None:
        for listener in list(self.order_listeners):
            listener(order, previous)

    def get_order(self, order_id: str) -> Order | None:
        self.tick()
        return self.orders.by_id.get(order_id)
