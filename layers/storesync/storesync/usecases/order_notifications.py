"""Amazon ORDER_CHANGE notifications: near-real-time orders, the same upsert as polling.

The notification names the seller, marketplace and order but carries no address or price, so the order is
re-read with getOrder (0.5/s, burst 30) and stored by the OrderUpserter. A BuyerRequestedChange (the buyer asked
to cancel) puts the order on the buyer-requested-cancellation hold even when the order read does not show the
request on an item yet. Duplicates are dropped on
NotificationId (Powertools idempotency, DynamoDB persistence built lazily: IdempotentOrderChanges);
duplicates under another id, and notifications older than what polling stored, are harmless because the
upsert is idempotent and never lets an older lastUpdatedTime overwrite a newer one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json, ValidationError

from storesync.amazon.errors import AmazonRejected, AuthorizationRevoked
from storesync.dal.store_queries import STATUS_ACTIVE, stores_of_seller
from storesync.dal.stores import Store
from storesync.domain.events import EventPublisher
from storesync.domain.orders import CancellationRequest
from storesync.marketplaces import marketplace
from storesync.observability import bind_store, logger, unbind_store
from storesync.usecases.order_search import OrdersAmazon
from storesync.usecases.order_upsert import Upserter
from storesync.usecases.runner import pause_for_reauthorization

NOTIFICATION_ID_PATH = "notification_id"  # of the OrderChange (a dataclass) handed to the idempotent function
DEDUPE_SECONDS = 7 * 24 * 3600  # SQS keeps a message 4 days by default; a week covers every redelivery


class NotificationError(ValueError):
    """The notification names something we cannot use; the message names the field."""


@dataclass(frozen=True)
class OrderChange:
    notification_id: str
    seller_id: str
    amazon_order_id: str
    marketplace_id: str
    status: str
    change_type: str = ""  # OrderChangeType: OrderStatusChange | BuyerRequestedChange
    change_reason: str = ""  # OrderChangeTrigger.ChangeReason

    @property
    def buyer_requested_cancellation(self) -> bool:
        return self.change_type == BUYER_REQUESTED_CHANGE


BUYER_REQUESTED_CHANGE = "BuyerRequestedChange"


Text = Annotated[str, Field(min_length=1)]


class _Summary(BaseModel):
    MarketplaceId: Text
    OrderStatus: str = ""


class _Trigger(BaseModel):
    ChangeReason: str = ""


class _OrderChangeNotification(BaseModel):
    SellerId: Text
    AmazonOrderId: Text
    OrderChangeType: str = ""
    OrderChangeTrigger: _Trigger | None = None
    Summary: _Summary


class _Payload(BaseModel):
    OrderChangeNotification: _OrderChangeNotification


class _Metadata(BaseModel):
    NotificationId: Text


class OrderChangeBody(BaseModel):
    """The fields of Amazon's ORDER_CHANGE notification that storesync uses (field names as Amazon's)."""

    NotificationType: Literal["ORDER_CHANGE"]
    NotificationMetadata: _Metadata
    Payload: _Payload

    def change(self) -> OrderChange:
        notification = self.Payload.OrderChangeNotification
        return OrderChange(
            notification_id=self.NotificationMetadata.NotificationId,
            seller_id=notification.SellerId,
            amazon_order_id=notification.AmazonOrderId,
            marketplace_id=notification.Summary.MarketplaceId,
            status=notification.Summary.OrderStatus,
            change_type=notification.OrderChangeType,
            change_reason=notification.OrderChangeTrigger.ChangeReason
            if notification.OrderChangeTrigger
            else "",
        )


class _NotificationKind(BaseModel):
    NotificationType: str | None = None


def is_order_change(body: str) -> bool:
    """Whether an SQS body is an ORDER_CHANGE notification, by its NotificationType alone."""
    try:
        return _NotificationKind.model_validate_json(body).NotificationType == "ORDER_CHANGE"
    except ValidationError:
        return False


class OrderChangeRecord(SqsRecordModel):
    """An SQS record of the notifications queue: its body is an ORDER_CHANGE notification."""

    body: Json[OrderChangeBody]  # type: ignore[assignment]  # narrows SqsRecordModel's str body


def stores_for(change: OrderChange) -> list[Store]:
    """The active stores of that seller in that marketplace (one per merchant that connected it)."""
    try:
        region = marketplace(change.marketplace_id).region.value
    except (KeyError, ValueError):
        raise NotificationError(
            f"Payload.OrderChangeNotification.Summary.MarketplaceId: unknown marketplace {change.marketplace_id}"
        ) from None
    return [
        s
        for s in stores_of_seller(change.seller_id, region)
        if s.marketplace_id == change.marketplace_id and s.status == STATUS_ACTIVE
    ]


class OrderChangeHandler:
    def __init__(
        self,
        upserter: Upserter,
        amazon_for: Callable[[Store], OrdersAmazon],
        find_stores: Callable[[OrderChange], list[Store]] = stores_for,
        events: EventPublisher | None = None,
    ) -> None:
        self._upserter = upserter
        self._events = events
        self._amazon_for = amazon_for
        self._find_stores = find_stores

    def handle(self, change: OrderChange) -> dict[str, Any]:
        """Store the order for every store it belongs to. Throttled/transient errors propagate (SQS retries)."""
        results: dict[str, str] = {}
        for store in self._find_stores(change):
            bind_store(store.store_id, store.merchant_id)
            try:
                order = self._amazon_for(store).get_order(change.amazon_order_id)
            except AuthorizationRevoked as exc:
                pause_for_reauthorization(
                    store, exc, events=self._events
                )  # the same plain-words reason as a job run
                results[store.store_id] = "needs_reauthorization"
                continue
            except AmazonRejected as exc:
                if exc.status != 404:
                    raise
                results[store.store_id] = "not_found"  # not this seller's order (any more): nothing to do
                continue
            if change.buyer_requested_cancellation and order.buyer_cancellation is None:
                # Amazon told the buyer's request before the order read shows it on an item: the hold goes on
                request = CancellationRequest("BUYER", change.change_reason or None)
                order = replace(order, buyer_cancel_request=request)
            result = self._upserter.upsert(store, order)
            results[store.store_id] = result.action
        logger.info(
            "order change handled",
            extra={"amazon_order_id": change.amazon_order_id, "stores": len(results), "results": results},
        )
        return {"amazon_order_id": change.amazon_order_id, "results": results}


class IdempotentOrderChanges:
    """`handle` deduplicated on NotificationId (Powertools idempotency, DynamoDB persistence).

    Build it lazily (at the first notification, never at import): one persistence layer serves one
    configuration. Call `use_context(context)` once per invocation so in-progress records expire with it.
    """

    def __init__(
        self, handle: Callable[[OrderChange], dict[str, Any]], table_name: str, dynamodb_client: Any
    ) -> None:
        self.config = IdempotencyConfig(
            event_key_jmespath=NOTIFICATION_ID_PATH,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=DEDUPE_SECONDS,
        )
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb_client)

        @idempotent_function(
            data_keyword_argument="notification", persistence_store=persistence, config=self.config
        )
        def deduplicated(notification: OrderChange) -> dict[str, Any]:
            return handle(notification)

        self._deduplicated = deduplicated

    def use_context(self, lambda_context: Any) -> None:
        if lambda_context is not None:
            self.config.register_lambda_context(lambda_context)

    def __call__(self, notification: OrderChange) -> dict[str, Any]:
        result: dict[str, Any] = self._deduplicated(notification=notification)
        return result


def handle_order_change_batch(
    event: dict[str, Any], context: Any, process: Callable[[OrderChange], Any]
) -> dict[str, Any]:
    """Powertools batch processing with partial failures: a notification that fails (a malformed body, whose
    failure names the field, or an error while storing it) goes back to SQS alone."""
    # logger: each failed record is logged with its error (Powertools' Logger quacks like logging.Logger)
    processor = BatchProcessor(event_type=EventType.SQS, model=OrderChangeRecord, logger=logger)  # type: ignore[arg-type]

    def record_handler(record: OrderChangeRecord) -> None:
        body: OrderChangeBody = record.body
        try:
            process(body.change())
        finally:
            unbind_store()

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
