"""The events storesync publishes for a WMS, as plain data: what each one says, its id, and the port it goes out by.

Plain Python: no AWS. A use case builds events here from the change they report, writes their outbox rows in the
change's own transaction (storesync.dal.outbox) and, after the commit, hands them to an `EventPublisher`
(storesync.event_bus.EventBridgePublisher in Lambda and the local runtime; a recording fake in unit tests); what
the bus refuses, the relay sends later (storesync.usecases.event_relay). Delivery is at least once: every event
carries an `eventId` that is the same each time the same change is published again (a uuid5 of what happened:
the order's committed version, the shipment, the run...), so a subscriber deduplicates on it.

The order events come from one place, `order_transition_events`: it compares the order before and after a
committed transition of the state machine (storesync.domain.orders) and says what happened:
- no order before: Order Imported;
- it reached cancelled: Order Cancelled;
- the buyer-requested-cancellation hold appeared: Buyer Requested Cancellation;
- any other change of status, holds or Amazon's status: Order Changed.
Each detail type has a JSON Schema in `events/schemas/` (registered with the EventBridge schema registry by
template.yaml); tests check every event built here against it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from storesync.domain.orders import OrderSnapshot, OrderStatus

SOURCE = "storesync"
# the namespace of the events' deterministic ids (uuid5 of the change they report)
EVENT_ID_NAMESPACE = uuid.UUID("6f1d8a52-3f57-4c4e-9a55-2b7f0d3c1e90")

ORDER_IMPORTED = "Order Imported"
ORDER_CHANGED = "Order Changed"
ORDER_CANCELLED = "Order Cancelled"
BUYER_REQUESTED_CANCELLATION = "Buyer Requested Cancellation"
SHIPMENT_CONFIRMED = "Shipment Confirmed"
STOCK_PUSHED = "Stock Pushed"
STORE_NEEDS_REAUTHORIZATION = "Store Needs Reauthorization"
SYNC_LAGGING = "Sync Lagging"
DETAIL_TYPES = (
    ORDER_IMPORTED,
    ORDER_CHANGED,
    ORDER_CANCELLED,
    BUYER_REQUESTED_CANCELLATION,
    SHIPMENT_CONFIRMED,
    STOCK_PUSHED,
    STORE_NEEDS_REAUTHORIZATION,
    SYNC_LAGGING,
)
# the hold the state machine puts on an order whose buyer asked to cancel (issue 16 part 3)
BUYER_CANCELLATION_HOLD = "buyer_requested_cancellation"
STOCK_PUSHED_CHUNK = 500  # SKUs per Stock Pushed event (an EventBridge entry holds at most 256 KB)


def schema_name(detail_type: str) -> str:
    """The file stem and registry name of a detail type's schema: "Order Imported" -> "OrderImported"."""
    return detail_type.replace(" ", "")


@dataclass(frozen=True)
class Event:
    """One event: EventBridge's detail type and the detail (JSON-ready), with its id and time inside."""

    detail_type: str
    detail: Mapping[str, Any]
    source: str = SOURCE

    @property
    def event_id(self) -> str:
        return str(self.detail["eventId"])


class EventPublisher(Protocol):
    """The port events go out by. `publish` returns once every event is accepted by the bus, or raises."""

    def publish(self, events: Sequence[Event]) -> None: ...


@dataclass
class DiscardEvents:
    """A publisher for callers that were given none (tools, benchmarks): events are counted and dropped."""

    dropped: int = field(default=0)

    def publish(self, events: Sequence[Event]) -> None:
        self.dropped += len(events)


def event_id(detail_type: str, *key: object) -> str:
    """The same id each time the same change is published (at-least-once delivery: subscribers dedupe on it)."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "|".join([detail_type, *(str(k) for k in key)])))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _event(detail_type: str, key: Sequence[object], at: datetime, body: Mapping[str, Any]) -> Event:
    detail = {"eventId": event_id(detail_type, *key), "occurredAt": _iso(at), **body}
    return Event(detail_type, detail)


def _holds(holds: Sequence[str]) -> list[str]:
    return sorted(str(hold) for hold in holds)


def _order_body(merchant_id: str, store_id: str, order: OrderSnapshot, version: int) -> dict[str, Any]:
    return {
        "merchantId": merchant_id,
        "storeId": store_id,
        "amazonOrderId": order.amazon_order_id,
        "marketplaceId": order.marketplace_id,
        "channel": order.channel,
        "status": str(order.status),
        "amazonStatus": order.amazon_status,
        "holds": _holds(order.holds),
        "version": version,
    }


def order_transition_events(
    merchant_id: str,
    store_id: str,
    before: OrderSnapshot | None,
    after: OrderSnapshot,
    version: int,
    at: datetime,
) -> list[Event]:
    """What a committed transition of an order (its state `before`, None for a new one, and `after`, stored as
    `version`) tells a WMS. Nothing when neither the status, the holds nor Amazon's status changed."""
    key = (store_id, after.amazon_order_id, version)
    body = _order_body(merchant_id, store_id, after, version)
    if before is None:
        return [_event(ORDER_IMPORTED, key, at, body)]
    previous = {"previousStatus": str(before.status), "previousHolds": _holds(before.holds)}
    events: list[Event] = []
    cancelled = after.status == OrderStatus.CANCELLED and before.status != OrderStatus.CANCELLED
    if cancelled:
        events.append(_event(ORDER_CANCELLED, key, at, {**body, **previous}))
    asked = BUYER_CANCELLATION_HOLD in _holds(after.holds) and BUYER_CANCELLATION_HOLD not in _holds(
        before.holds
    )
    if asked:
        events.append(_event(BUYER_REQUESTED_CANCELLATION, key, at, {**body, **previous}))
    changed = (
        after.status != before.status
        or _holds(after.holds) != _holds(before.holds)
        or after.amazon_status != before.amazon_status
    )
    if changed and not cancelled and not asked:
        events.append(_event(ORDER_CHANGED, key, at, {**body, **previous}))
    return events


def shipment_confirmed(
    merchant_id: str,
    store_id: str,
    amazon_order_id: str,
    shipment_id: str,
    package_reference_id: str,
    carrier_code: str,
    tracking_number: str,
    items: Mapping[str, int],
    at: datetime,
) -> Event:
    """Amazon confirmed one of the WMS's packages (its order item ids and quantities in `items`)."""
    return _event(
        SHIPMENT_CONFIRMED,
        (store_id, amazon_order_id, shipment_id),
        at,
        {
            "merchantId": merchant_id,
            "storeId": store_id,
            "amazonOrderId": amazon_order_id,
            "shipmentId": shipment_id,
            "packageReferenceId": package_reference_id,
            "carrierCode": carrier_code,
            "trackingNumber": tracking_number,
            "items": [{"orderItemId": k, "quantity": int(v)} for k, v in sorted(items.items())],
        },
    )


def stock_pushed(
    merchant_id: str,
    store_id: str,
    run_id: str,
    accepted: Sequence[tuple[str, int]],
    at: datetime,
    chunk: int = STOCK_PUSHED_CHUNK,
) -> list[Event]:
    """The quantities Amazon accepted in one run of the inventory push (`run_id`: that run's own id), in events
    of at most `chunk` SKUs. Nothing accepted: no event."""
    items = sorted(accepted)
    parts = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    return [
        _event(
            STOCK_PUSHED,
            (store_id, run_id, n),
            at,
            {
                "merchantId": merchant_id,
                "storeId": store_id,
                "part": n + 1,
                "parts": len(parts),
                "items": [{"sku": sku, "quantity": int(quantity)} for sku, quantity in part],
            },
        )
        for n, part in enumerate(parts)
    ]


def store_needs_reauthorization(
    merchant_id: str, store_id: str, reason: str, authorized_at: datetime | None, at: datetime
) -> Event:
    """The store's authorization was refused by Amazon (the grant of `authorized_at`): it needs reauthorizing."""
    grant = _iso(authorized_at) if authorized_at is not None else "never"
    return _event(
        STORE_NEEDS_REAUTHORIZATION,
        (store_id, grant),
        at,
        {"merchantId": merchant_id, "storeId": store_id, "reason": reason},
    )


def sync_lagging(
    merchant_id: str,
    store_id: str,
    job: str,
    lag_seconds: float,
    cadence_seconds: float,
    last_success_at: str | None,
    at: datetime,
) -> Event:
    """A job of the store is late (its lag passed twice its cadence). One id per lagging spell: the same until
    the job succeeds again (its last success is part of the key)."""
    return _event(
        SYNC_LAGGING,
        (store_id, job, last_success_at or "never"),
        at,
        {
            "merchantId": merchant_id,
            "storeId": store_id,
            "job": job,
            "lagSeconds": int(lag_seconds),
            "cadenceSeconds": int(cadence_seconds),
            "lastSuccessAt": last_success_at,
        },
    )
