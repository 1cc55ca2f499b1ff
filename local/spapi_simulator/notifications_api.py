"""Notifications: destinations (grantless), ORDER_CHANGE subscriptions, and delivery to SQS with boto3.

Delivery is synchronous: the request that creates or changes an order sends the message before answering.
The SQS endpoint is the Simulator's `sqs_endpoint_url`, else boto3's own configuration (AWS_ENDPOINT_URL).
Faults: `duplicate_notifications` (share of messages sent twice, same NotificationId) and
`shuffle_notifications` (messages are swapped in pairs: one is held back and sent after the next); the modes
`notifications_duplicate` (like duplicate_notifications), `notifications_out_of_order` (a share of
messages is held back and sent right after the next one) and `notifications_late` (a share of messages is
held back until LATE_AFTER later order changes happened, then sent after the last one's message). Held
messages go out on POST /_sim/notifications/flush, when these faults are all switched off, and when the
simulator stops.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from .clock import iso
from .errors import sp_error
from .generator import delivery_address
from .sellers import APPLICATION_ID
from .server import Call, sp_api_route
from .simulator import on_create, on_stop
from .world import Destination, Order, Subscription

if TYPE_CHECKING:
    from .state import SimulatorState

MODEL = "notifications.json"
SUPPORTED_TYPES = ("ORDER_CHANGE",)
LATE_AFTER = 3  # a late message goes out after this many later order changes (fault notifications_late)
log = logging.getLogger(__name__)

_STATUS_NAMES = {
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
}


def order_change_message(order: Order, previous: str, subscription_id: str, now: float) -> dict[str, Any]:
    """An ORDER_CHANGE notification as models/notifications/OrderChangeNotification.json describes it."""
    buyer_request = previous == order.status and order.buyer_cancel_reason is not None
    if buyer_request:  # not a status change: the buyer asked to cancel (World.request_buyer_cancellation)
        reason = "Buyer Requested Cancel"
    elif not previous:
        reason = "Order created"
    else:
        reason = f"Order status changed from {previous} to {order.status}"
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": iso(now),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": order.seller_id,
                "AmazonOrderId": order.order_id,
                "OrderChangeType": "BuyerRequestedChange" if buyer_request else "OrderStatusChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": iso(order.updated), "ChangeReason": reason},
                "Summary": {
                    "MarketplaceId": order.marketplace_id,
                    "OrderStatus": _STATUS_NAMES.get(order.status, "Pending"),
                    "PurchaseDate": iso(order.created),
                    "DestinationPostalCode": delivery_address(order)["postalCode"],
                    "FulfillmentType": "AFN" if order.fulfilled_by == "AMAZON" else "MFN",
                    "OrderType": "StandardOrder",
                    "NumberOfItemsShipped": sum(i.shipped for i in order.items),
                    "NumberOfItemsUnshipped": sum(i.unshipped for i in order.items),
                    "OrderItems": [
                        {
                            "OrderItemId": i.order_item_id,
                            "SellerSKU": i.sku,
                            "SupplySourceId": "",
                            "OrderItemStatus": "Shipped" if i.unshipped == 0 else "Unshipped",
                            "Quantity": i.quantity,
                            "QuantityShipped": i.shipped,
                            **(
                                {"IsBuyerRequestedCancel": True}
                                if order.buyer_cancel_reason is not None and i.unshipped
                                else {}
                            ),
                        }
                        for i in order.items
                    ],
                },
            }
        },
        "NotificationMetadata": {
            "ApplicationId": APPLICATION_ID,
            "SubscriptionId": subscription_id,
            "PublishTime": iso(now),
            "NotificationId": str(uuid.uuid4()),
        },
    }


@dataclass
class Delivery:
    """Sends ORDER_CHANGE messages of one Simulator; keeps a record tests and the admin API can read."""

    sim: SimulatorState
    sent: list[dict[str, Any]] = field(default_factory=list)  # {"queue_arn", "notification_id", "order_id"}
    failures: list[str] = field(default_factory=list)
    held: tuple[str, dict[str, Any]] | None = None
    late: list[list[Any]] = field(default_factory=list)  # [later messages still to wait for, arn, message]
    lock: threading.Lock = field(default_factory=threading.Lock)
    _queue_urls: dict[str, str] = field(default_factory=dict)

    def on_order_change(self, order: Order, previous: str) -> None:
        world = self.sim.world
        subscription = next(
            (
                s
                for s in world.subscriptions.values()
                if s.seller_id == order.seller_id and s.notification_type == "ORDER_CHANGE"
            ),
            None,
        )
        if subscription is None:
            return
        destination = world.destinations.get(subscription.destination_id)
        if destination is None:
            return
        message = order_change_message(order, previous, subscription.subscription_id, self.sim.clock.time())
        faults = self.sim.faults
        kind = subscription.notification_type
        duplicate = faults.roll(faults.faults.duplicate_notifications)
        if duplicate:
            faults.count("notifications_duplicate")
        copies = 2 if duplicate or faults.pick("notifications_duplicate", kind) else 1
        with self.lock:
            outgoing = [(destination.arn, message)] * copies
            if self.held is not None:  # swapped pair: the held one goes out after this one
                outgoing.append(self.held)
                self.held = None
            elif faults.faults.shuffle_notifications or faults.pick("notifications_out_of_order", kind):
                if faults.faults.shuffle_notifications:
                    faults.count("notifications_out_of_order")
                self.held = outgoing.pop()
            if outgoing and faults.pick("notifications_late", kind):
                arn, body = outgoing.pop(0)
                new_late: list[Any] | None = [LATE_AFTER, arn, body]
            else:
                new_late = None
            for arn, body in outgoing:
                self._send(arn, body)
            self._send_due_late()
            if new_late is not None:
                self.late.append(new_late)

    def _send_due_late(self) -> None:
        """One more change happened: late messages whose wait is over go out after its message."""
        waiting = []
        for entry in self.late:
            entry[0] -= 1
            if entry[0] <= 0:
                self._send(entry[1], entry[2])
            else:
                waiting.append(entry)
        self.late = waiting

    def held_count(self) -> int:
        with self.lock:
            return (self.held is not None) + len(self.late)

    def flush(self) -> int:
        """Send every held message now (the swapped one, then the late ones); answer how many."""
        with self.lock:
            held, self.held = self.held, None
            late, self.late = self.late, []
            outgoing = ([held] if held is not None else []) + [(entry[1], entry[2]) for entry in late]
            for arn, body in outgoing:
                self._send(arn, body)
            return len(outgoing)

    def _send(self, arn: str, message: dict[str, Any]) -> None:
        try:
            queue_url, region = self._queue_url(arn)
            self._client(region).send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
        except Exception as exc:  # delivery problems must never break the API answer
            self.failures.append(f"{arn}: {exc}")
            log.warning("ORDER_CHANGE delivery to %s failed: %s", arn, exc)
            return
        self.sent.append(
            {
                "queue_arn": arn,
                "notification_id": message["NotificationMetadata"]["NotificationId"],
                "order_id": message["Payload"]["OrderChangeNotification"]["AmazonOrderId"],
                "order_status": message["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"],
            }
        )

    def _client(self, region: str) -> Any:
        endpoint = self.sim.config.sqs_endpoint_url
        return boto3.client("sqs", region_name=region, endpoint_url=endpoint)

    def _queue_url(self, arn: str) -> tuple[str, str]:
        _, _, _, region, account, name = arn.split(":", 5)
        if arn not in self._queue_urls:
            answer = self._client(region).get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
            self._queue_urls[arn] = answer["QueueUrl"]
        return self._queue_urls[arn], region


@on_create
def _attach(sim: SimulatorState) -> None:
    delivery = Delivery(sim)
    sim.extensions["notifications"] = delivery
    sim.world.order_listeners.append(delivery.on_order_change)


@on_stop
def _flush(sim: SimulatorState) -> None:
    delivery = sim.extensions.get("notifications")
    if isinstance(delivery, Delivery):
        delivery.flush()


def delivery_of(sim: SimulatorState) -> Delivery:
    delivery = sim.extensions["notifications"]
    assert isinstance(delivery, Delivery)
    return delivery


def _destination_json(destination: Destination) -> dict[str, Any]:
    return {
        "name": destination.name,
        "destinationId": destination.destination_id,
        "resource": {"sqs": {"arn": destination.arn}},
    }


def _subscription_json(subscription: Subscription) -> dict[str, Any]:
    return {
        "subscriptionId": subscription.subscription_id,
        "payloadVersion": subscription.payload_version,
        "destinationId": subscription.destination_id,
    }


@sp_api_route(
    "POST", "/notifications/v1/destinations", operation_id="createDestination", model=MODEL, grantless=True
)
def create_destination(call: Call) -> tuple[int, dict[str, Any]]:
    spec = call.body["resourceSpecification"]
    if "sqs" not in spec:
        raise sp_error(400, "InvalidInput", "resourceSpecification.sqs: only SQS destinations are simulated")
    arn = spec["sqs"]["arn"]
    with call.world.lock:
        if any(d.arn == arn for d in call.world.destinations.values()):
            raise sp_error(
                409, "Conflict", f"resourceSpecification.sqs.arn: a destination for {arn} already exists"
            )
        destination = Destination(str(uuid.uuid4()), call.body["name"], arn)
        call.world.destinations[destination.destination_id] = destination
    return 200, {"payload": _destination_json(destination)}


@sp_api_route(
    "GET", "/notifications/v1/destinations", operation_id="getDestinations", model=MODEL, grantless=True
)
def get_destinations(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, {"payload": [_destination_json(d) for d in call.world.destinations.values()]}


def _check_type(notification_type: str) -> None:
    if notification_type not in SUPPORTED_TYPES:
        raise sp_error(
            400, "InvalidInput", f"notificationType: {notification_type!r} is not simulated (ORDER_CHANGE is)"
        )


@sp_api_route(
    "POST",
    "/notifications/v1/subscriptions/<notificationType>",
    operation_id="createSubscription",
    model=MODEL,
)
def create_subscription(call: Call, notificationType: str) -> tuple[int, dict[str, Any]]:
    _check_type(notificationType)
    assert call.seller_id is not None
    destination_id = call.body["destinationId"]
    if call.body["payloadVersion"] != "1.0":
        raise sp_error(400, "InvalidInput", "payloadVersion: ORDER_CHANGE supports 1.0")
    with call.world.lock:
        if destination_id not in call.world.destinations:
            raise sp_error(404, "NotFound", f"destinationId: no destination {destination_id}")
        for existing in call.world.subscriptions.values():
            if existing.seller_id == call.seller_id and existing.notification_type == notificationType:
                raise sp_error(
                    409,
                    "Conflict",
                    f"A subscription for {notificationType} already exists: {existing.subscription_id}",
                )
        subscription = Subscription(
            str(uuid.uuid4()), call.seller_id, notificationType, destination_id, "1.0"
        )
        call.world.subscriptions[subscription.subscription_id] = subscription
    return 200, {"payload": _subscription_json(subscription)}


@sp_api_route(
    "GET", "/notifications/v1/subscriptions/<notificationType>", operation_id="getSubscription", model=MODEL
)
def get_subscription(call: Call, notificationType: str) -> tuple[int, dict[str, Any]]:
    _check_type(notificationType)
    for subscription in call.world.subscriptions.values():
        if subscription.seller_id == call.seller_id and subscription.notification_type == notificationType:
            return 200, {"payload": _subscription_json(subscription)}
    raise sp_error(404, "NotFound", f"No subscription for {notificationType}")
