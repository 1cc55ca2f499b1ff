"""The Orders API (v2026-01-01) of a store's session, answers parsed into the domain's AmazonOrder.

`AmazonOrders(session).search_orders(...)` reads one searchOrders page (orders with their items, fulfilment and
recipient) and `get_order(id)` one order, both through the seller's quota gate, which also runs the parsing:
a page without its `orders` list (or an unreadable body) is read again, then raised, never taken for an empty
page. `parse_amazon_order` reads one Amazon order: a bad order raises OrderDataError naming the field, and a page
keeps the orders it could not read apart (UnreadableOrder) so one bad order never hides the rest of its page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storesync.amazon.clients import SpApi
from storesync.amazon.errors import AmazonAnswerInvalid
from storesync.clock import parse_iso
from storesync.domain.orders import AMAZON_STATUSES, CHANNEL_FBA, CHANNEL_FBM, AmazonItem, AmazonOrder

# PACKAGES: Amazon's ship time, from which the buyer's data expires (storesync.domain.orders.amazon_close_time)
INCLUDED_DATA = ["RECIPIENT", "FULFILLMENT", "PACKAGES"]


class OrderDataError(AmazonAnswerInvalid):
    """Amazon's order JSON lacks something we need; the message names the field."""


@dataclass(frozen=True)
class UnreadableOrder:
    order_id: str  # "?" when even the id is missing
    error: OrderDataError


@dataclass(frozen=True)
class OrdersPage:
    """One searchOrders page: the orders read, those that could not be, and where the sweep goes on."""

    orders: tuple[AmazonOrder, ...]
    unreadable: tuple[UnreadableOrder, ...] = ()
    next_token: str | None = None
    last_updated_before: str | None = None  # the upper bound Amazon applied (when the search left it open)

    @property
    def size(self) -> int:
        return len(self.orders) + len(self.unreadable)


class AmazonOrders:
    """searchOrders and getOrder over a store's SP-API session, through its quota gate."""

    def __init__(self, session: SpApi) -> None:
        self._session = session

    def search_orders(
        self,
        *,
        after: str,
        before: str | None = None,
        token: str | None = None,
        statuses: Sequence[str] | None = None,
        page_size: int = 100,
        fulfilled_by: Sequence[str] | None = None,
    ) -> OrdersPage:
        session = self._session
        params: dict[str, Any] = {
            "marketplaceIds": [session.marketplace_id],
            "lastUpdatedAfter": after,
            "includedData": INCLUDED_DATA,
            "maxResultsPerPage": page_size,
        }
        if statuses:
            params["fulfillmentStatuses"] = list(statuses)
        if fulfilled_by:  # AMAZON | MERCHANT (the order planner reads FBM orders only)
            params["fulfilledBy"] = list(fulfilled_by)
        if before:
            params["lastUpdatedBefore"] = before
        if token:
            params["paginationToken"] = token
        return session.gate.call(
            "searchOrders",
            lambda: session.orders().search_orders(**params),
            parse=lambda answer: parse_orders_page(_body(answer, "searchOrders"), _next_token(answer)),
        )

    def search_wait_time(self) -> float:
        """Seconds until the seller's searchOrders quota has a token again."""
        return self._session.gate.wait_time("searchOrders")

    def get_order(self, amazon_order_id: str) -> AmazonOrder:
        session = self._session

        def read(answer: Any) -> AmazonOrder:
            order = _body(answer, "getOrder").get("order")
            if not isinstance(order, Mapping):
                raise OrderDataError(
                    f"order {amazon_order_id}: getOrder answered without an order",
                    operation="getOrder",
                    field="order",
                )
            return parse_amazon_order(order)

        return session.gate.call(
            "getOrder",
            lambda: session.orders().get_order(amazon_order_id, includedData=INCLUDED_DATA),
            parse=read,
        )


def _body(answer: Any, operation: str) -> Mapping[str, Any]:
    """python-amazon-sp-api's ApiResponse -> the JSON body (v2026-01-01 has no "payload" wrapper)."""
    body = getattr(answer, "payload", answer)
    if not isinstance(body, Mapping):
        raise OrderDataError(f"{operation}: Amazon's answer is not a JSON object", operation=operation)
    return body


def _next_token(answer: Any) -> str | None:
    """The library moves "pagination" out of the body into its own `next_token` attribute."""
    token = answer.__dict__.get("next_token") if hasattr(answer, "__dict__") else None
    return str(token) if token else None


def parse_orders_page(body: Mapping[str, Any], next_token: str | None = None) -> OrdersPage:
    """A searchOrders body -> OrdersPage; `orders` must be a list, each order is read on its own."""
    raw_orders = body.get("orders")
    if not isinstance(raw_orders, list):
        raise OrderDataError(
            "searchOrders: orders: missing or not a list", operation="searchOrders", field="orders"
        )
    orders: list[AmazonOrder] = []
    unreadable: list[UnreadableOrder] = []
    for raw in raw_orders:
        try:
            orders.append(parse_amazon_order(raw))
        except OrderDataError as exc:
            order_id = raw.get("orderId") if isinstance(raw, Mapping) else None
            unreadable.append(UnreadableOrder(str(order_id or "?"), exc))
    pagination = body.get("pagination")
    token = next_token or (pagination.get("nextToken") if isinstance(pagination, Mapping) else None)
    before = body.get("lastUpdatedBefore")
    return OrdersPage(
        tuple(orders),
        tuple(unreadable),
        str(token) if token else None,
        before if isinstance(before, str) and before else None,
    )


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise OrderDataError(f"{where}{key}: missing or not a string")
    return value


def _time(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _text(data, key, where)
    try:
        parse_iso(value)
    except ValueError:
        raise OrderDataError(f"{where}{key}: {value!r} is not an ISO 8601 date-time") from None
    return value


def _latest(window: Any) -> str | None:
    if isinstance(window, Mapping):
        latest = window.get("latestDateTime")
        return latest if isinstance(latest, str) else None
    return None


def _latest_ship_time(packages: Any) -> str | None:
    """The latest `shipTime` of the order's packages (None: no package says when it shipped). A package
    without a readable shipTime is skipped: it only tells when the buyer's data expires, never a status."""
    times: list[tuple[Any, str]] = []
    for package in packages if isinstance(packages, list) else []:
        value = package.get("shipTime") if isinstance(package, Mapping) else None
        if isinstance(value, str) and value:
            try:
                times.append((parse_iso(value), value))
            except ValueError:
                continue
    return max(times)[1] if times else None


def parse_amazon_order(data: Mapping[str, Any]) -> AmazonOrder:
    """An Amazon v2026-01-01 Order (with FULFILLMENT, optionally RECIPIENT) -> AmazonOrder."""
    if not isinstance(data, Mapping):
        raise OrderDataError("order: an object is required")
    order_id = _text(data, "orderId", "")
    where = f"order {order_id}: "
    fulfillment = data.get("fulfillment")
    if not isinstance(fulfillment, Mapping):
        raise OrderDataError(f"{where}fulfillment: missing (search with includedData=FULFILLMENT)")
    status = _text(fulfillment, "fulfillmentStatus", f"{where}fulfillment.")
    if status not in AMAZON_STATUSES:
        raise OrderDataError(f"{where}fulfillment.fulfillmentStatus: unknown status {status!r}")
    fulfilled_by = _text(fulfillment, "fulfilledBy", f"{where}fulfillment.")
    if fulfilled_by not in ("MERCHANT", "AMAZON"):
        raise OrderDataError(f"{where}fulfillment.fulfilledBy: unknown value {fulfilled_by!r}")
    channel = data.get("salesChannel")
    marketplace_id = _text(
        channel if isinstance(channel, Mapping) else {}, "marketplaceId", f"{where}salesChannel."
    )
    raw_items = data.get("orderItems")
    if not isinstance(raw_items, list) or not raw_items:
        raise OrderDataError(f"{where}orderItems: missing or empty")
    items = tuple(_parse_item(item, f"{where}orderItems[{n}].") for n, item in enumerate(raw_items))
    recipient = data.get("recipient")
    address = recipient.get("deliveryAddress") if isinstance(recipient, Mapping) else None
    return AmazonOrder(
        order_id=order_id,
        marketplace_id=marketplace_id,
        status=status,
        channel=CHANNEL_FBA if fulfilled_by == "AMAZON" else CHANNEL_FBM,
        created=_time(data, "createdTime", where),
        last_updated=_time(data, "lastUpdatedTime", where),
        items=items,
        address=dict(address) if isinstance(address, Mapping) and address else None,
        ship_by=_latest(fulfillment.get("shipByWindow")),
        deliver_by=_latest(fulfillment.get("deliverByWindow")),
        shipped_time=_latest_ship_time(data.get("packages")),
    )


def _parse_item(item: Any, where: str) -> AmazonItem:
    if not isinstance(item, Mapping):
        raise OrderDataError(f"{where[:-1]}: an object is required")
    product = item.get("product")
    if not isinstance(product, Mapping):
        raise OrderDataError(f"{where}product: missing")
    quantity = item.get("quantityOrdered")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise OrderDataError(f"{where}quantityOrdered: a non-negative integer is required")
    fulfillment = item.get("fulfillment")
    shipped = fulfillment.get("quantityFulfilled", 0) if isinstance(fulfillment, Mapping) else 0
    price = product.get("price")
    unit = price.get("unitPrice") if isinstance(price, Mapping) else None
    return AmazonItem(
        order_item_id=_text(item, "orderItemId", where),
        sku=_text(product, "sellerSku", f"{where}product."),
        quantity=quantity,
        quantity_shipped=int(shipped) if isinstance(shipped, int) else 0,
        price=str(unit["amount"]) if isinstance(unit, Mapping) and "amount" in unit else None,
        currency=str(unit["currencyCode"]) if isinstance(unit, Mapping) and "currencyCode" in unit else None,
    )
