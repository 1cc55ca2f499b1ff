"""Orders: v2026-01-01 searchOrders and getOrder, v0 confirmShipment."""

from __future__ import annotations

import binascii
import json
import re
from typing import Any

from . import page_tokens
from .clock import date_time_field, iso, parse_iso
from .errors import sp_error
from .generator import buyer_name, delivery_address
from .sellers import MARKETPLACES
from .server import Call, sp_api_route
from .world import CANCELLED, PARTIALLY_SHIPPED, PENDING, SHIPPED, Order, Package

MODEL = "orders_2026-01-01.json"
MODEL_V0 = "ordersV0.json"
TWO_MINUTES = 120.0
TOKEN_TTL = 24 * 3600.0
MAX_PAGE = 100
ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")
RELEASED_STATUSES = (PARTIALLY_SHIPPED, SHIPPED, "UNSHIPPED")


def invalid(message: str) -> Exception:
    return sp_error(400, "InvalidInput", message)


def _time_param(call: Call, name: str) -> float | None:
    return date_time_field(name, call.query.get(name))


def _money(amount: float, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currencyCode": currency}


def _packages(order: Order) -> list[dict[str, Any]]:
    packages = [
        {
            "packageReferenceId": p.package_reference_id,
            "createdTime": iso(p.confirmed_at),
            "packageStatus": {"status": "SHIPPED"},
            "carrier": p.carrier_name or p.carrier_code,
            "shipTime": p.ship_date,
            **({"shippingService": p.shipping_method} if p.shipping_method else {}),
            "trackingNumber": p.tracking_number,
            "packageItems": [{"orderItemId": i["orderItemId"], "quantity": i["quantity"]} for i in p.items],
        }
        for p in order.packages
    ]
    shipped_elsewhere = [i for i in order.items if i.shipped] if not order.packages else []
    if shipped_elsewhere:  # generated history: shipped by Amazon or by the seller outside the WMS
        packages.append(
            {
                "packageReferenceId": "1",
                "createdTime": iso(order.updated),
                "packageStatus": {"status": "SHIPPED"},
                "carrier": "AMZN_US" if order.fulfilled_by == "AMAZON" else "UPS",
                "shipTime": iso(order.updated),
                "trackingNumber": f"1Z{order.order_id.replace('-', '')}",
                "packageItems": [
                    {"orderItemId": i.order_item_id, "quantity": i.shipped} for i in shipped_elsewhere
                ],
            }
        )
    return packages


# the parts of a v2026 Order / OrderItem that only come with an includedData value (the rest always comes)
ORDER_PARTS = {
    "buyer": "BUYER",
    "recipient": "RECIPIENT",
    "proceeds": "PROCEEDS",
    "payment": "PAYMENT",
    "tax": "TAX",
    "fulfillment": "FULFILLMENT",
    "packages": "PACKAGES",
}
ITEM_PARTS = {
    "proceeds": "PROCEEDS",
    "expense": "EXPENSE",
    "promotion": "PROMOTION",
    "cancellation": "CANCELLATION",
    "fulfillment": "FULFILLMENT",
    "tax": "TAX",
}


def merge(base: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
    """`partial` over `base`: objects merge key by key, anything else (lists included) replaces."""
    merged = dict(base)
    for key, value in partial.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _included_parts(partial: dict[str, Any], parts: dict[str, str], included: set[str]) -> dict[str, Any]:
    return {k: v for k, v in partial.items() if k not in parts or parts[k] in included}


def render_order(order: Order, included: set[str]) -> dict[str, Any]:
    """An order as v2026-01-01 shows it; the recipient only once the order is released. The order's and items'
    partial v2026 fields given at creation (`extra`) are merged over it, each part only with its includedData;
    a buyer's cancellation request shows on the unshipped items (CANCELLATION), then as its execution once
    the order is cancelled."""
    market = MARKETPLACES[order.marketplace_id]
    items = []
    for item in order.items:
        rendered: dict[str, Any] = {
            "orderItemId": item.order_item_id,
            "quantityOrdered": item.quantity,
            "product": {
                "asin": item.asin,
                "title": item.title,
                "sellerSku": item.sku,
                "price": {"unitPrice": _money(item.unit_price, order.currency)},
            },
        }
        if "FULFILLMENT" in included:
            unfulfilled = 0 if order.status == CANCELLED else item.unshipped
            rendered["fulfillment"] = {"quantityFulfilled": item.shipped, "quantityUnfulfilled": unfulfilled}
        if "PROCEEDS" in included:
            rendered["proceeds"] = {"proceedsTotal": _money(item.unit_price * item.quantity, order.currency)}
        if "CANCELLATION" in included and order.buyer_cancel_reason is not None:
            if order.status == CANCELLED:
                rendered["cancellation"] = {
                    "cancellationExecution": {
                        "cancelledBy": "BUYER",
                        "cancelReason": order.buyer_cancel_reason,
                    }
                }
            elif item.unshipped:
                rendered["cancellation"] = {
                    "cancellationRequest": {"requester": "BUYER", "cancelReason": order.buyer_cancel_reason}
                }
        items.append(merge(rendered, _included_parts(item.extra, ITEM_PARTS, included)))
    body: dict[str, Any] = {
        "orderId": order.order_id,
        "createdTime": iso(order.created),
        "lastUpdatedTime": iso(order.updated),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": market.marketplace_id,
            "marketplaceName": market.name,
        },
        "orderItems": items,
    }
    released = order.status in RELEASED_STATUSES
    if "BUYER" in included and released:
        body["buyer"] = {"buyerName": buyer_name(order)}
    if "RECIPIENT" in included and released:
        body["recipient"] = {"deliveryAddress": delivery_address(order)}
    if "FULFILLMENT" in included:
        body["fulfillment"] = {"fulfillmentStatus": order.status, "fulfilledBy": order.fulfilled_by}
    if "PROCEEDS" in included:
        total = sum(i.unit_price * i.quantity for i in order.items)
        body["proceeds"] = {"grandTotal": _money(total, order.currency)}
    packages = _packages(order) if "PACKAGES" in included else []
    if packages:
        body["packages"] = packages
    return merge(body, _included_parts(order.extra, ORDER_PARTS, included))


def _encode_token(call: Call, state: dict[str, Any]) -> str:
    return page_tokens.make(call, json.dumps(state, separators=(",", ":")).encode())


def _decode_token(token: str, call: Call) -> dict[str, Any]:
    try:
        state = json.loads(page_tokens.read(call, token, "paginationToken"))
        if not isinstance(state, dict) or state.get("seller") != call.seller_id:
            raise ValueError
    except (ValueError, binascii.Error):
        raise invalid("paginationToken: not a token this API returned") from None
    if call.clock.time() - float(state["issued"]) > TOKEN_TTL:
        raise page_tokens.expired("paginationToken", "tokens are valid 24 hours")
    return state


def _search_state(call: Call) -> dict[str, Any]:
    now = call.clock.time()
    created_after = _time_param(call, "createdAfter")
    created_before = _time_param(call, "createdBefore")
    updated_after = _time_param(call, "lastUpdatedAfter")
    updated_before = _time_param(call, "lastUpdatedBefore")
    if (created_after is None) == (updated_after is None):
        raise invalid("createdAfter, lastUpdatedAfter: exactly one of them is required")
    if created_after is not None and updated_before is not None:
        raise invalid("lastUpdatedBefore: not allowed with createdAfter")
    if updated_after is not None and created_before is not None:
        raise invalid("createdBefore: not allowed with lastUpdatedAfter")
    by = "created" if created_after is not None else "updated"
    after = created_after if created_after is not None else updated_after
    before = created_before if by == "created" else updated_before
    before_name = "createdBefore" if by == "created" else "lastUpdatedBefore"
    if before is not None:
        if before > now - TWO_MINUTES:
            raise invalid(f"{before_name}: must be at least two minutes before the time of the request")
        if after is not None and before < after:
            raise invalid(
                f"{before_name}: must be at or after {'createdAfter' if by == 'created' else 'lastUpdatedAfter'}"
            )
    page_size = int(call.query.get("maxResultsPerPage", MAX_PAGE))
    if not 1 <= page_size <= MAX_PAGE:
        raise invalid("maxResultsPerPage: must be between 1 and 100")
    marketplaces = call.query.get("marketplaceIds") or []
    return {
        "seller": call.seller_id,
        "by": by,
        "start": after,
        "after_id": "",
        "before": before if before is not None else now - TWO_MINUTES,
        "statuses": call.query.get("fulfillmentStatuses") or [],
        "marketplaces": marketplaces,
        "fulfilled_by": call.query.get("fulfilledBy") or [],
        "included": call.query.get("includedData") or [],
        "size": page_size,
        "issued": now,
    }


@sp_api_route("GET", "/orders/2026-01-01/orders", operation_id="searchOrders", model=MODEL)
def search_orders(call: Call) -> tuple[int, dict[str, Any]]:
    token = call.query.get("paginationToken")
    state = _decode_token(str(token), call) if token else _search_state(call)
    statuses, markets, channels = (
        set(state["statuses"]),
        set(state["marketplaces"]),
        set(state["fulfilled_by"]),
    )
    included = set(state["included"])
    assert call.seller_id is not None
    page: list[Order] = []
    more = False
    for order in call.world.orders.scan(call.seller_id, state["by"], state["start"], state["after_id"]):
        moment = order.updated if state["by"] == "updated" else order.created
        if moment > state["before"]:
            break
        if statuses and order.status not in statuses:
            continue
        if markets and order.marketplace_id not in markets:
            continue
        if channels and order.fulfilled_by not in channels:
            continue
        if len(page) == state["size"]:
            more = True
            break
        page.append(order)
    body: dict[str, Any] = {"orders": [render_order(o, included) for o in page]}
    if more:
        last = page[page_tokens.resume_index(call, len(page))]
        resume = {
            **state,
            "start": last.updated if state["by"] == "updated" else last.created,
            "after_id": last.order_id,
        }
        body["pagination"] = {"nextToken": _encode_token(call, resume)}
    body["createdBefore" if state["by"] == "created" else "lastUpdatedBefore"] = iso(state["before"])
    return 200, body


def _seller_order(call: Call, order_id: str) -> Order:
    if not ORDER_ID.fullmatch(order_id):
        raise invalid(f"orderId: {order_id!r} is not an Amazon order id (3-7-7 digits)")
    order = call.world.get_order(order_id)
    if order is None or order.seller_id != call.seller_id:
        raise sp_error(404, "NotFound", f"orderId: no order {order_id}")
    return order


@sp_api_route("GET", "/orders/2026-01-01/orders/<orderId>", operation_id="getOrder", model=MODEL)
def get_order(call: Call, orderId: str) -> tuple[int, dict[str, Any]]:
    order = _seller_order(call, orderId)
    return 200, {"order": render_order(order, set(call.query.get("includedData") or []))}


@sp_api_route(
    "POST", "/orders/v0/orders/<orderId>/shipmentConfirmation", operation_id="confirmShipment", model=MODEL_V0
)
def confirm_shipment(call: Call, orderId: str) -> tuple[int, None]:
    body = call.body
    detail = body["packageDetail"]
    order = _seller_order(call, orderId)
    if body["marketplaceId"] != order.marketplace_id:
        raise invalid(f"marketplaceId: order {orderId} belongs to marketplace {order.marketplace_id}")
    if order.status == CANCELLED:
        raise invalid(f"orderId: order {orderId} is cancelled")
    if order.fulfilled_by == "AMAZON":
        raise invalid(f"orderId: order {orderId} is fulfilled by Amazon")
    if order.status == PENDING:
        raise invalid(f"orderId: order {orderId} is pending and cannot be shipped yet")
    reference = str(detail["packageReferenceId"])
    if not reference.isdigit() or int(reference) <= 0:
        raise invalid("packageDetail.packageReferenceId: must be a positive number")
    if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
        raise invalid("packageDetail.carrierName: required when carrierCode is Other")
    try:
        parse_iso(detail["shipDate"])
    except ValueError:
        raise invalid("packageDetail.shipDate: not an ISO 8601 date-time") from None
    wanted: dict[str, int] = {}
    for line in detail["orderItems"]:
        if order.item(line["orderItemId"]) is None:
            raise invalid(f"packageDetail.orderItems.orderItemId: unknown order item {line['orderItemId']}")
        if line["quantity"] <= 0:
            raise invalid("packageDetail.orderItems.quantity: must be positive")
        wanted[line["orderItemId"]] = wanted.get(line["orderItemId"], 0) + line["quantity"]
    if not wanted:
        raise invalid("packageDetail.orderItems: at least one item is required")
    with call.world.lock:
        existing = next((p for p in order.packages if p.package_reference_id == reference), None)
        if existing is not None:
            same = (
                existing.tracking_number == detail["trackingNumber"]
                and existing.items == detail["orderItems"]
            )
            if same:
                return 204, None  # the same confirmation again: nothing is shipped twice
            raise invalid(f"packageDetail.packageReferenceId: package {reference} is already confirmed")
        for item_id, quantity in wanted.items():
            item = order.item(item_id)
            assert item is not None
            if quantity > item.unshipped:
                raise invalid(
                    f"packageDetail.orderItems.quantity: {quantity} for {item_id} exceeds the {item.unshipped} unshipped"
                )
        for item_id, quantity in wanted.items():
            item = order.item(item_id)
            assert item is not None
            item.shipped += quantity
        order.packages.append(
            Package(reference, detail["carrierCode"], detail.get("carrierName"), detail.get("shippingMethod"),
                    detail["trackingNumber"], detail["shipDate"], [dict(i) for i in detail["orderItems"]],
                    call.clock.time())
        )  # fmt: skip
        status = SHIPPED if all(i.unshipped == 0 for i in order.items) else PARTIALLY_SHIPPED
    call.world.change_status(order, status)
    return 204, None
