"""Amazon ORDER_CHANGE notifications: near-real-time orders, the same upsert as polling.

The notification names the seller, marketplace and order but carries no address or price, so the order is
re-read with getOrder (0.5/s, burst 30) and stored by the OrderUpserter. Duplicates are dropped on
NotificationId (Powertools idempotency, DynamoDB persistence built lazily: IdempotentOrderChanges);
duplicates under another id, and notifications older than what polling stored, are harmless because the
upsert is idempotent and never lets an older lastUpdatedTime overwrite a newer one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from storesync.amazon.errors import AmazonRejected, AuthorizationRevoked
from storesync.dal.store_queries import STATUS_ACTIVE, mark_needs_reauthorization, stores_of_seller
from storesync.dal.stores import Store
from storesync.marketplaces import marketplace
from storesync.observability import bind_store, logger, unbind_store
from storesync.usecases.order_import import OrdersAmazon
from storesync.usecases.order_upsert import Upserter

NOTIFICATION_ID_PATH = "NotificationMetadata.NotificationId"
DEDUPE_SECONDS = 7 * 24 * 3600  # SQS keeps a message 4 days by default; a week covers every redelivery


class NotificationError(ValueError):
    """The message is not an ORDER_CHANGE notification we can use; the message names the field."""


@dataclass(frozen=True)
class OrderChange:
    notification_id: str
    seller_id: str
    amazon_order_id: str
    marketplace_id: str
    status: str


def is_order_change(body: Any) -> bool:
    return isinstance(body, Mapping) and body.get("NotificationType") == "ORDER_CHANGE"


def parse_order_change(body: Any) -> OrderChange:
    if not is_order_change(body):
        raise NotificationError("NotificationType: ORDER_CHANGE expected")

    def text(data: Any, key: str, where: str) -> str:
        value = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(value, str) or not value:
            raise NotificationError(f"{where}{key}: missing")
        return value

    metadata = body.get("NotificationMetadata")
    change = (body.get("Payload") or {}).get("OrderChangeNotification")
    summary = change.get("Summary") if isinstance(change, Mapping) else None
    where = "Payload.OrderChangeNotification."
    return OrderChange(
        notification_id=text(metadata, "NotificationId", "NotificationMetadata."),
        seller_id=text(change, "SellerId", where),
        amazon_order_id=text(change, "AmazonOrderId", where),
        marketplace_id=text(summary, "MarketplaceId", f"{where}Summary."),
        status=str((summary or {}).get("OrderStatus", "")),
    )


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
    ) -> None:
        self._upserter = upserter
        self._amazon_for = amazon_for
        self._find_stores = find_stores

    def handle(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Store the order for every store it belongs to. Throttled/transient errors propagate (SQS retries)."""
        change = parse_order_change(body)
        results: dict[str, str] = {}
        for store in self._find_stores(change):
            bind_store(store.store_id, store.merchant_id)
            try:
                order = self._amazon_for(store).get_order(change.amazon_order_id)
            except AuthorizationRevoked as exc:
                mark_needs_reauthorization(store, str(exc))
                results[store.store_id] = "needs_reauthorization"
                continue
            except AmazonRejected as exc:
                if exc.status != 404:
                    raise
                results[store.store_id] = "not_found"  # not this seller's order (any more): nothing to do
                continue
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
        self, handle: Callable[[Mapping[str, Any]], dict[str, Any]], table_name: str, dynamodb_client: Any
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
        def deduplicated(notification: dict[str, Any]) -> dict[str, Any]:
            return handle(notification)

        self._deduplicated = deduplicated

    def use_context(self, lambda_context: Any) -> None:
        if lambda_context is not None:
            self.config.register_lambda_context(lambda_context)

    def __call__(self, notification: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._deduplicated(notification=dict(notification))
        return result


def handle_order_change_batch(
    event: dict[str, Any], context: Any, process: Callable[[Mapping[str, Any]], Any]
) -> dict[str, Any]:
    """Powertools batch processing with partial failures: a failed notification goes back to SQS alone."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        try:
            body = json.loads(record.body)
        except json.JSONDecodeError as exc:
            raise NotificationError(f"body: not JSON ({exc.msg})") from None
        try:
            process(body)
        finally:
            unbind_store()

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
