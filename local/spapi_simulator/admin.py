"""The admin API under /_sim/ (ground truth and control; documented in README.md). JSON in and out."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from flask import Response, request

from . import schemas
from .clock import iso
from .errors import sp_error
from .faults import parse_faults
from .generator import delivery_address, find_sku, order_id_for
from .orders_api import MODEL as ORDERS_MODEL
from .orders_api import ORDER_PARTS, render_order
from .sellers import MARKETPLACES
from .server import SP_API_ROUTES, json_response, sim_route
from .world import CANCELLED, PENDING, SHIPPED, UNSHIPPED, Order, OrderItem

if TYPE_CHECKING:
    from .state import SimulatorState

DEFAULT_ORDER_LIMIT = 10_000


def bad(message: str) -> Exception:
    return sp_error(400, "InvalidInput", message)


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise bad("body: not valid JSON")
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad("body: a JSON object is required")
    return body


def order_json(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "seller_id": order.seller_id,
        "marketplace_id": order.marketplace_id,
        "status": order.status,
        "fulfilled_by": order.fulfilled_by,
        "created": iso(order.created),
        "last_updated": iso(order.updated),
        "released": order.released,
        "shipped_outside": order.shipped_outside,
        "currency": order.currency,
        "address": delivery_address(order),
        "items": [
            {
                "order_item_id": i.order_item_id,
                "sku": i.sku,
                "asin": i.asin,
                "title": i.title,
                "quantity": i.quantity,
                "shipped": i.shipped,
                "unit_price": i.unit_price,
                "item": i.extra,
            }
            for i in order.items
        ],
        "packages": [shipment_json(order, index) for index in range(len(order.packages))],
        "order": order.extra,
        "buyer_cancellation": (
            None if order.buyer_cancel_reason is None else {"reason": order.buyer_cancel_reason}
        ),
    }


def shipment_json(order: Order, index: int) -> dict[str, Any]:
    package = order.packages[index]
    return {
        "order_id": order.order_id,
        "seller_id": order.seller_id,
        "marketplace_id": order.marketplace_id,
        "package_reference_id": package.package_reference_id,
        "carrier_code": package.carrier_code,
        "carrier_name": package.carrier_name,
        "shipping_method": package.shipping_method,
        "tracking_number": package.tracking_number,
        "ship_date": package.ship_date,
        "confirmed_at": iso(package.confirmed_at),
        "items": [dict(i) for i in package.items],
    }


@sim_route("GET", "/_sim/sellers")
def sellers(sim: SimulatorState) -> Response:
    return json_response(
        200,
        [
            {
                "seller_id": s.seller_id,
                "name": s.name,
                "region": s.region,
                "marketplace_ids": list(s.marketplace_ids),
            }
            for s in sim.world.sellers.values()
        ],
    )


@sim_route("GET", "/_sim/stats")
def stats(sim: SimulatorState) -> Response:
    return json_response(200, _stats_json(sim))


def _stats_json(sim: SimulatorState) -> dict[str, Any]:
    with sim.stats_lock:
        counted: dict[str, Any] = sim.stats.to_json()
    counted["faults"] = sim.faults.counts()
    return counted


@sim_route("POST", "/_sim/stats/reset")
def reset_stats(sim: SimulatorState) -> Response:
    with sim.stats_lock:
        sim.stats.reset()
    sim.faults.reset_counts()
    return json_response(200, _stats_json(sim))


@sim_route("POST", "/_sim/quotas/reset")
def reset_quotas(sim: SimulatorState) -> Response:
    sim.quotas.reset()
    return json_response(200, {"reset": True})


@sim_route("GET", "/_sim/clock")
def clock(sim: SimulatorState) -> Response:
    return json_response(200, {"now": iso(sim.clock.time()), "offset_seconds": sim.clock.offset})


@sim_route("POST", "/_sim/clock/advance")
def advance_clock(sim: SimulatorState) -> Response:
    seconds = _json_body().get("seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise bad("seconds: a non-negative number is required")
    sim.clock.advance(float(seconds))
    sim.world.tick()
    return json_response(200, {"now": iso(sim.clock.time()), "offset_seconds": sim.clock.offset})


@sim_route("GET", "/_sim/faults")
def get_faults(sim: SimulatorState) -> Response:
    return json_response(200, sim.faults.faults.to_json())


@sim_route("POST", "/_sim/faults")
def set_faults(sim: SimulatorState) -> Response:
    try:
        faults = parse_faults(
            _json_body(), sim.faults.faults, known_operations=[r.operation_id for r in SP_API_ROUTES]
        )
    except ValueError as exc:
        raise bad(str(exc)) from None
    sim.faults.faults = faults
    holding = faults.shuffle_notifications or any(
        faults.mode(m).share > 0 for m in ("notifications_late", "notifications_out_of_order")
    )
    if not holding:  # switching off delivers what is held
        _flush_notifications(sim)
    return json_response(200, faults.to_json())


def _flush_notifications(sim: SimulatorState) -> int:
    delivery = sim.extensions.get("notifications")
    return int(delivery.flush()) if delivery is not None else 0


@sim_route("GET", "/_sim/notifications")
def notifications(sim: SimulatorState) -> Response:
    delivery = sim.extensions.get("notifications")
    sent = list(delivery.sent) if delivery is not None else []
    failures = list(delivery.failures) if delivery is not None else []
    held = delivery.held_count() if delivery is not None else 0
    return json_response(200, {"sent": sent, "failures": failures, "held": held})


@sim_route("POST", "/_sim/notifications/flush")
def flush_notifications(sim: SimulatorState) -> Response:
    return json_response(200, {"flushed": _flush_notifications(sim)})


@sim_route("POST", "/_sim/grants/<seller_id>/revoke")
def revoke(sim: SimulatorState, seller_id: str) -> Response:
    if seller_id not in sim.world.sellers:
        raise sp_error(404, "NotFound", f"seller_id: unknown seller {seller_id}")
    return json_response(200, {"seller_id": seller_id, "revoked": sim.world.revoke_grants(seller_id)})


@sim_route("GET", "/_sim/orders")
def list_orders(sim: SimulatorState) -> Response:
    seller_id = request.args.get("seller_id", "")
    marketplace_id = request.args.get("marketplace_id", "")
    status = request.args.get("status", "")
    try:
        limit = int(request.args.get("limit", DEFAULT_ORDER_LIMIT))
    except ValueError:
        raise bad("limit: an integer is required") from None
    sim.world.tick()
    seller_ids = [seller_id] if seller_id else list(sim.world.sellers)
    found: list[dict[str, Any]] = []
    for one_seller in seller_ids:
        for order in sim.world.orders.scan(one_seller, "created", 0.0):
            if marketplace_id and order.marketplace_id != marketplace_id:
                continue
            if status and order.status != status:
                continue
            found.append(order_json(order))
            if len(found) >= limit:
                return json_response(200, found)
    return json_response(200, found)


def _order(sim: SimulatorState, order_id: str) -> Order:
    order = sim.world.get_order(order_id)
    if order is None:
        raise sp_error(404, "NotFound", f"orderId: no order {order_id}")
    return order


@sim_route("GET", "/_sim/orders/<order_id>")
def get_order(sim: SimulatorState, order_id: str) -> Response:
    return json_response(200, order_json(_order(sim, order_id)))


# fields of the partial v2026 Order / OrderItem the simulator owns (it keeps them consistent with the order's
# life: ids, times, status, quantities): a partial may not set them
_OWNED_ORDER_FIELDS = {
    "orderId": None,
    "createdTime": None,
    "lastUpdatedTime": None,
    "salesChannel": None,
    "orderItems": "give each item's fields in items[].item",
    "packages": None,
    "fulfillment.fulfillmentStatus": "give status",
    "fulfillment.fulfilledBy": "give fulfilled_by",
}
_OWNED_ITEM_FIELDS = {
    "orderItemId": "give order_item_id",
    "quantityOrdered": "give quantity",
    "product.sellerSku": "give sku",
    "product.asin": None,
    "fulfillment.quantityFulfilled": None,
    "fulfillment.quantityUnfulfilled": None,
}


def _partial(value: Any, where: str, definition: str, owned: dict[str, str | None]) -> dict[str, Any]:
    """A partial v2026 `definition` (Order or OrderItem) in the model's own field names: an object, only the
    model's fields, none the simulator owns (each refusal names the field)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(f"{where}: a partial v2026 {definition} object is required")
    known = schemas.load_model(ORDERS_MODEL)["definitions"][definition]["properties"]
    for key, part in value.items():
        if key not in known:
            raise bad(f"{where}.{key}: not a field of the v2026 {definition}")
        for path, hint in owned.items():
            head, _, tail = path.partition(".")
            if key == head and (not tail or (isinstance(part, dict) and tail in part)):
                raise bad(f"{where}.{path}: set by the simulator" + (f" ({hint})" if hint else ""))
    return value


def _check_rendered(order: Order) -> None:
    """The order as getOrder shows it with every includedData must match the model (400 naming the place)."""
    everything = {*ORDER_PARTS.values(), "EXPENSE", "PROMOTION", "CANCELLATION"}
    errors = schemas.response_errors(
        ORDERS_MODEL, "getOrder", 200, {"order": render_order(order, everything)}
    )
    if errors:
        raise bad(f"order: the merged order breaks the v2026 model: {'; '.join(errors[:3])}")


@sim_route("POST", "/_sim/orders")
def create_order(sim: SimulatorState) -> Response:
    body = _json_body()
    world = sim.world
    seller_id = body.get("seller_id")
    if seller_id not in world.sellers:
        raise bad(f"seller_id: unknown seller {seller_id!r}")
    marketplace_id = body.get("marketplace_id") or world.sellers[seller_id].marketplace_ids[0]
    if marketplace_id not in world.sellers[seller_id].marketplace_ids:
        raise bad(f"marketplace_id: {seller_id} does not sell in {marketplace_id!r}")
    status = body.get("status", UNSHIPPED)
    if status not in (PENDING, UNSHIPPED):
        raise bad("status: PENDING or UNSHIPPED")
    fulfilled_by = body.get("fulfilled_by", "MERCHANT")
    if fulfilled_by not in ("MERCHANT", "AMAZON"):
        raise bad("fulfilled_by: MERCHANT or AMAZON")
    lines = body.get("items")
    if not isinstance(lines, list) or not lines:
        raise bad("items: a non-empty list of {sku, quantity} is required")
    order_id = body.get("order_id") or order_id_for(random.Random(f"{seller_id}-{world.next_number()}"))
    if not isinstance(order_id, str) or order_id in world.orders.by_id:
        raise bad(f"order_id: {order_id!r} is not a new order id")
    extra = _partial(body.get("order"), "order", "Order", _OWNED_ORDER_FIELDS)
    items = []
    for n, line in enumerate(lines):
        sku, quantity = (line.get("sku"), line.get("quantity")) if isinstance(line, dict) else (None, None)
        if not isinstance(sku, str) or not sku:
            raise bad(f"items[{n}].sku: required")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise bad(f"items[{n}].quantity: a positive integer is required")
        known = find_sku(world, seller_id, marketplace_id, sku, fulfilled_by)
        if known is None:
            raise bad(f"items[{n}].sku: {sku!r} is not listed by {seller_id} in {marketplace_id}")
        if fulfilled_by == "AMAZON" and known.fulfilled_by != "AMAZON":
            raise bad(
                f"items[{n}].sku: {sku!r} is not an FBA listing in {marketplace_id} (fulfilled_by AMAZON)"
            )
        price = float(line.get("unit_price", known.price))
        item_id = str(line.get("order_item_id") or f"{order_id.replace('-', '')[:12]}{n:02d}")
        item_extra = _partial(line.get("item"), f"items[{n}].item", "OrderItem", _OWNED_ITEM_FIELDS)
        items.append(OrderItem(item_id, sku, known.asin, known.title, quantity, price, extra=item_extra))
    address = body.get("address") or {}
    if not isinstance(address, dict):
        raise bad("address: an object is required")
    now = sim.clock.time()
    order = Order(order_id, seller_id, marketplace_id, now, now, status, fulfilled_by, items,
                  {k: str(v) for k, v in address.items()}, str(body.get("buyer_name", "")),
                  MARKETPLACES[marketplace_id].currency, extra=extra)  # fmt: skip
    _check_rendered(order)
    world.add_order(order)
    return json_response(201, order_json(order))


@sim_route("POST", "/_sim/orders/<order_id>/<action>")
def change_order(sim: SimulatorState, order_id: str, action: str) -> Response:
    """release (PENDING to UNSHIPPED), cancel (while nothing shipped), ship (outside the WMS, by the seller or
    by Amazon for FBA: every unshipped unit ships), buyer-cancellation ({"reason"}: the buyer asks to cancel;
    the order keeps its status and ORDER_CHANGE says BuyerRequestedChange)."""
    order = _order(sim, order_id)
    if action == "buyer-cancellation":
        reason = _json_body().get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise bad("reason: the buyer's reason, a non-empty string, is required")
        if order.status in (SHIPPED, CANCELLED):
            raise bad(f"orderId: order {order_id} is {order.status}: the buyer can no longer ask to cancel")
        sim.world.request_buyer_cancellation(order, reason.strip())
        return json_response(200, order_json(order))
    if action == "release":
        if order.status != PENDING:
            raise bad(f"orderId: order {order_id} is {order.status}, not PENDING")
        status = UNSHIPPED
    elif action == "cancel":
        if order.status in (SHIPPED, CANCELLED) or any(i.shipped for i in order.items):
            raise bad(f"orderId: order {order_id} is {order.status} and can no longer be cancelled")
        status = CANCELLED
    elif action == "ship":
        if order.status in (SHIPPED, CANCELLED):
            raise bad(f"orderId: order {order_id} is {order.status}")
        with sim.world.lock:
            for item in order.items:
                item.shipped = item.quantity
            order.shipped_outside = True
        status = SHIPPED
    else:
        raise sp_error(404, "NotFound", f"No resource at {request.path}")
    sim.world.change_status(order, status)
    return json_response(200, order_json(order))


@sim_route("GET", "/_sim/shipments")
def shipments(sim: SimulatorState) -> Response:
    """Packages confirmed through confirmShipment, as Amazon holds them."""
    seller_id = request.args.get("seller_id", "")
    order_id = request.args.get("order_id", "")
    if order_id:
        order = sim.world.orders.by_id.get(order_id)
        orders = [order] if order is not None else []
    else:
        orders = [o for o in list(sim.world.orders.by_id.values()) if o.packages]
    found = [
        shipment_json(order, index)
        for order in orders
        if not seller_id or order.seller_id == seller_id
        for index in range(len(order.packages))
    ]
    return json_response(200, found)
