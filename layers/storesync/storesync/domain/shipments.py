"""Shipments as the WMS creates them and as Amazon confirms them: the rules, free of AWS and HTTP.

- `parse_shipment_request(body)`: the JSON of `POST /orders/{id}/shipments`, checked field by field.
- `plan_shipment(order, request, ...)`: which order items and quantities the package carries, Amazon's carrier
  code, and its package reference id (positive numeric, unique per order). Refuses FBA orders, orders not
  released or cancelled, unknown items, and more than is left to ship (which orders may ship, and the status
  an order takes once Amazon has confirmed packages, are the order state machine's: storesync.domain.orders).
- `confirmed_quantities`: each item's quantity shipped once Amazon has confirmed packages.
- Push states and the backoff of transient failures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storesync.domain.carriers import CarrierChoice, choose_carrier
from storesync.domain.orders import OrderLine, OrderSnapshot, shipping_refusal

# Push states of a shipment.
PENDING = "pending"  # never sent to Amazon
SENDING = "sending"  # an attempt may have reached Amazon: verify before sending again
CONFIRMED = "confirmed"  # Amazon accepted the package
REFUSED = "refused"  # Amazon refused it (message kept): not retried

MAX_TRACKING_LENGTH = 100
MAX_FIELD_LENGTH = 200
MAX_LINES = 100
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


class ShipmentProblem(ValueError):
    """A shipment the WMS asked for that cannot be made: `field` names what is wrong, `status` the HTTP code."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True)
class RequestedLine:
    order_item_id: str | None
    sku: str | None
    quantity: int


@dataclass(frozen=True)
class ShipmentRequest:
    carrier: str
    shipping_method: str
    tracking_number: str
    ship_date: datetime
    lines: tuple[RequestedLine, ...]


@dataclass(frozen=True)
class PackageLine:
    order_item_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class PlannedShipment:
    package_reference_id: str
    carrier: str  # as the WMS gave it
    choice: CarrierChoice
    shipping_method: str
    tracking_number: str
    ship_date: datetime
    lines: tuple[PackageLine, ...]


def _text(body: Mapping[str, Any], name: str, *, required: bool, limit: int = MAX_FIELD_LENGTH) -> str:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ShipmentProblem("invalid_input", f"{name}: required", name)
        return ""
    if not isinstance(value, str):
        raise ShipmentProblem("invalid_input", f"{name}: a string is required", name)
    value = " ".join(value.split())
    if len(value) > limit:
        raise ShipmentProblem("invalid_input", f"{name}: at most {limit} characters", name)
    return value


def parse_ship_date(value: Any, now: datetime) -> datetime:
    if value is None or value == "":
        return now
    if not isinstance(value, str):
        raise ShipmentProblem(
            "invalid_input", "ship_date: an ISO 8601 date or date-time is required", "ship_date"
        )
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ShipmentProblem(
            "invalid_input", f"ship_date: {value!r} is not an ISO 8601 date or date-time", "ship_date"
        ) from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed > now + timedelta(days=2):
        raise ShipmentProblem("invalid_input", "ship_date: cannot be more than 2 days ahead", "ship_date")
    return parsed


def _line(raw: Any, n: int) -> RequestedLine:
    where = f"items[{n}]"
    if not isinstance(raw, Mapping):
        raise ShipmentProblem(
            "invalid_input", f"{where}: an object with order_item_id or sku and quantity", where
        )
    item_id, sku = raw.get("order_item_id"), raw.get("sku")
    for name, value in (("order_item_id", item_id), ("sku", sku)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ShipmentProblem("invalid_input", f"{where}.{name}: a non-empty string", f"{where}.{name}")
    if item_id is None and sku is None:
        raise ShipmentProblem("invalid_input", f"{where}: order_item_id or sku is required", where)
    quantity = raw.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ShipmentProblem(
            "invalid_input", f"{where}.quantity: a positive whole number is required", f"{where}.quantity"
        )
    return RequestedLine(item_id.strip() if item_id else None, sku.strip() if sku else None, quantity)


def parse_shipment_request(body: Any, now: datetime) -> ShipmentRequest:
    if not isinstance(body, Mapping):
        raise ShipmentProblem("invalid_input", "body: a JSON object is required")
    unknown = sorted(set(body) - {"carrier", "shipping_method", "tracking_number", "ship_date", "items"})
    if unknown:
        raise ShipmentProblem("invalid_input", f"{unknown[0]}: unknown field", unknown[0])
    carrier = _text(body, "carrier", required=True)
    tracking = _text(body, "tracking_number", required=True, limit=MAX_TRACKING_LENGTH)
    method = _text(body, "shipping_method", required=False)
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ShipmentProblem("invalid_input", "items: a non-empty list is required", "items")
    if len(items) > MAX_LINES:
        raise ShipmentProblem("invalid_input", f"items: at most {MAX_LINES} lines", "items")
    lines = tuple(_line(raw, n) for n, raw in enumerate(items))
    return ShipmentRequest(carrier, method, tracking, parse_ship_date(body.get("ship_date"), now), lines)


def is_package_reference_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and int(value) > 0


def next_package_reference_id(used: Iterable[str]) -> str:
    """One more than the highest reference used on this order (so "1", "2", ...): unique per order."""
    numbers = [int(u) for u in used if is_package_reference_id(u)]
    return str(max(numbers, default=0) + 1)


def check_order_can_ship(order: OrderSnapshot) -> None:
    refusal = shipping_refusal(order)
    if refusal is not None:
        code, message = refusal
        raise ShipmentProblem(code, message, status=409)


def left_to_ship(line: OrderLine, in_shipments: int) -> int:
    return max(0, line.quantity - max(in_shipments, line.quantity_shipped))


def plan_shipment(
    order: OrderSnapshot,
    request: ShipmentRequest,
    in_shipments: Mapping[str, int],
    used_references: Iterable[str],
) -> PlannedShipment:
    """`in_shipments`: units per order item already in the WMS's shipments of this order (refused ones excluded)."""
    check_order_can_ship(order)
    left = {
        line.order_item_id: left_to_ship(line, in_shipments.get(line.order_item_id, 0))
        for line in order.lines
    }
    taken: dict[str, int] = {}
    for n, wanted in enumerate(request.lines):
        candidates = _matching_lines(order, wanted, n)
        remaining = wanted.quantity
        for line in candidates:
            free = left[line.order_item_id] - taken.get(line.order_item_id, 0)
            step = min(free, remaining)
            if step > 0:
                taken[line.order_item_id] = taken.get(line.order_item_id, 0) + step
                remaining -= step
        if remaining:
            what = wanted.order_item_id or wanted.sku
            can = wanted.quantity - remaining
            raise ShipmentProblem(
                "quantity_exceeds_unshipped",
                f"items[{n}].quantity: {wanted.quantity} of {what} requested but only {can} left to ship",
                f"items[{n}].quantity",
                status=409,
            )
    try:
        choice = choose_carrier(request.carrier, order.marketplace_id)
    except ValueError as exc:
        raise ShipmentProblem("invalid_input", str(exc), "carrier") from None
    by_id = {line.order_item_id: line for line in order.lines}
    lines = tuple(PackageLine(i, by_id[i].sku, q) for i, q in taken.items())
    return PlannedShipment(
        next_package_reference_id(used_references),
        request.carrier,
        choice,
        request.shipping_method,
        request.tracking_number,
        request.ship_date,
        lines,
    )


def _matching_lines(order: OrderSnapshot, wanted: RequestedLine, n: int) -> list[OrderLine]:
    if wanted.order_item_id is not None:
        found = [line for line in order.lines if line.order_item_id == wanted.order_item_id]
        if not found:
            problem = f"{wanted.order_item_id} is not an item of order {order.amazon_order_id}"
            raise _unknown_item(n, "order_item_id", problem)
        if wanted.sku is not None and found[0].sku != wanted.sku:
            raise _unknown_item(n, "sku", f"item {wanted.order_item_id} is {found[0].sku}, not {wanted.sku}")
        return found
    found = [line for line in order.lines if line.sku == wanted.sku]
    if not found:
        raise _unknown_item(n, "sku", f"{wanted.sku} is not in order {order.amazon_order_id}")
    return found


def _unknown_item(n: int, field: str, problem: str) -> ShipmentProblem:
    return ShipmentProblem("unknown_item", f"items[{n}].{field}: {problem}", f"items[{n}].{field}")


def confirmed_quantities(
    current: Mapping[str, int], confirmed_shipments: Iterable[Mapping[str, int]]
) -> dict[str, int]:
    """quantity_shipped per item: what is known already, or the sum of the confirmed packages if higher."""
    totals: dict[str, int] = {}
    for package in confirmed_shipments:
        for item_id, quantity in package.items():
            totals[item_id] = totals.get(item_id, 0) + quantity
    return {item_id: max(shipped, totals.get(item_id, 0)) for item_id, shipped in current.items()}


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th transient failure: 1, 2, 4 ... minutes, at most 6 hours."""
    delay = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, LONGEST_RETRY)
