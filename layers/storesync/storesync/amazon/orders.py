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
from storesync.domain.orders import (
    AMAZON_STATUSES,
    CHANNEL_FBA,
    CHANNEL_FBM,
    SHIPPING_CONSTRAINTS,
    AmazonItem,
    AmazonOrder,
    AssociatedOrder,
    CancellationRequest,
    GiftOption,
)

# PACKAGES: Amazon's ship time, from which the buyer's data expires (storesync.domain.orders.amazon_close_time);
# BUYER: a business buyer's company and purchase order number (the buyer's name and e-mail are never kept);
# CANCELLATION: an item's cancellation request (the buyer asked to cancel)
INCLUDED_DATA = ["RECIPIENT", "FULFILLMENT", "PACKAGES", "BUYER", "CANCELLATION"]


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


def _optional_text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise OrderDataError(f"{where}{key}: not a string")
    return value


def _object(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """An optional nested object ({} when absent); anything else than an object is an error naming it."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise OrderDataError(f"{where}{key}: not an object")
    return value


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise OrderDataError(f"{where}{key}: a list of strings is required")
    return tuple(value)


def _window(fulfillment: Mapping[str, Any], key: str, where: str) -> tuple[str | None, str | None]:
    """A DateTimeRange -> (earliestDateTime, latestDateTime), each checked to be ISO 8601."""
    window = _object(fulfillment, key, where)
    found: list[str | None] = []
    for end in ("earliestDateTime", "latestDateTime"):
        value = _optional_text(window, end, f"{where}{key}.")
        if value is not None:
            try:
                parse_iso(value)
            except ValueError:
                raise OrderDataError(f"{where}{key}.{end}: {value!r} is not an ISO 8601 date-time") from None
        found.append(value)
    return found[0], found[1]


def _associated_orders(data: Mapping[str, Any], where: str) -> tuple[AssociatedOrder, ...]:
    raw = data.get("associatedOrders")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise OrderDataError(f"{where}associatedOrders: not a list")
    found = []
    for n, one in enumerate(raw):
        if not isinstance(one, Mapping):
            raise OrderDataError(f"{where}associatedOrders[{n}]: an object is required")
        here = f"{where}associatedOrders[{n}]."
        found.append(AssociatedOrder(_text(one, "orderId", here), _text(one, "associationType", here)))
    return tuple(found)


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
    buyer = _object(data, "buyer", where)
    ship_by_start, ship_by = _window(fulfillment, "shipByWindow", f"{where}fulfillment.")
    deliver_by_start, deliver_by = _window(fulfillment, "deliverByWindow", f"{where}fulfillment.")
    return AmazonOrder(
        order_id=order_id,
        marketplace_id=marketplace_id,
        status=status,
        channel=CHANNEL_FBA if fulfilled_by == "AMAZON" else CHANNEL_FBM,
        created=_time(data, "createdTime", where),
        last_updated=_time(data, "lastUpdatedTime", where),
        items=items,
        address=dict(address) if isinstance(address, Mapping) and address else None,
        ship_by=ship_by,
        deliver_by=deliver_by,
        ship_by_start=ship_by_start,
        deliver_by_start=deliver_by_start,
        programs=_strings(data, "programs", where),
        service_level=_optional_text(fulfillment, "fulfillmentServiceLevel", f"{where}fulfillment."),
        buyer_company=_optional_text(buyer, "buyerCompanyName", f"{where}buyer."),
        buyer_po_number=_optional_text(buyer, "buyerPurchaseOrderNumber", f"{where}buyer."),
        associated_orders=_associated_orders(data, where),
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
    fulfilment = fulfillment if isinstance(fulfillment, Mapping) else {}
    packing = _object(fulfilment, "packing", f"{where}fulfillment.")
    shipping = _object(fulfilment, "shipping", f"{where}fulfillment.")
    return AmazonItem(
        order_item_id=_text(item, "orderItemId", where),
        sku=_text(product, "sellerSku", f"{where}product."),
        quantity=quantity,
        quantity_shipped=int(shipped) if isinstance(shipped, int) else 0,
        price=str(unit["amount"]) if isinstance(unit, Mapping) and "amount" in unit else None,
        currency=str(unit["currencyCode"]) if isinstance(unit, Mapping) and "currencyCode" in unit else None,
        programs=_strings(item, "programs", where),
        customized_url=_optional_text(
            _object(product, "customization", f"{where}product."),
            "customizedUrl",
            f"{where}product.customization.",
        ),
        gift=_gift(packing, f"{where}fulfillment.packing."),
        shipping_constraints=_constraints(shipping, f"{where}fulfillment.shipping."),
        cancellation_request=_cancellation_request(item, where),
    )


def _gift(packing: Mapping[str, Any], where: str) -> GiftOption | None:
    gift = _object(packing, "giftOption", where)
    message = _optional_text(gift, "giftMessage", f"{where}giftOption.")
    wrap = _optional_text(gift, "giftWrapLevel", f"{where}giftOption.")
    return GiftOption(message, wrap) if message or wrap else None


def _constraints(shipping: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """The item's shipping constraints that apply (each is MANDATORY when present)."""
    constraints = _object(shipping, "shippingConstraints", where)
    found = []
    for name in SHIPPING_CONSTRAINTS:
        if _optional_text(constraints, name, f"{where}shippingConstraints.") is not None:
            found.append(name)
    return tuple(found)


def _cancellation_request(item: Mapping[str, Any], where: str) -> CancellationRequest | None:
    cancellation = _object(item, "cancellation", where)
    request = _object(cancellation, "cancellationRequest", f"{where}cancellation.")
    if not request:
        return None
    here = f"{where}cancellation.cancellationRequest."
    return CancellationRequest(
        _optional_text(request, "requester", here) or "BUYER", _optional_text(request, "cancelReason", here)
    )
