"""Order import handler: two SQS sources, one function.

- OrderImportQueue: JobMessages (schedules, "sync now", continuations) -> the polling job of one store.
- OrderNotificationsQueue: Amazon's ORDER_CHANGE notifications -> getOrder -> the same upsert; and the
  application's APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY (the operator registers this queue for it in the
  Developer Console) -> usecases/app_notifications.py (expiry recorded, metric for the alarm).
Records are told apart by their eventSourceARN (and, failing that, by the body's NotificationType).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from storesync.dal import order_queries, table_name
from storesync.dal.fetch_lists import DynamoFetchList
from storesync.jobs import JobMessage
from storesync.observability import logger, metrics, tracer
from storesync.settings import OrderImportSettings
from storesync.sqs_jobs import handle_job_batch
from storesync.usecases.app_notifications import handle_app_notification, is_app_notification
from storesync.usecases.order_import import OrderImportDeps, order_import_work
from storesync.usecases.order_notifications import (
    IdempotentOrderChanges,
    OrderChangeHandler,
    handle_order_change_batch,
    is_order_change,
)
from storesync.usecases.order_planner import OrderPlannerDeps
from storesync.usecases.order_reconciliation import ReconciliationDeps
from storesync.usecases.order_upsert import OrderUpserter, release_unknown_sku_holds
from storesync.usecases.runner import JobWork
from storesync.wiring import Services, invocation_services

SETTINGS = OrderImportSettings.load()
_order_changes: IdempotentOrderChanges | None = None  # built at the first notification, not at import


def _work_for(message: JobMessage, svc: Services) -> JobWork:
    upserter = OrderUpserter(svc.cipher, svc.queue, svc.events)
    overlap = timedelta(minutes=SETTINGS.orders_overlap_minutes)
    catchup = timedelta(days=SETTINGS.orders_catchup_days)
    # one report door for the catch-up's reconciliation and the planner's rounds
    reports = ReconciliationDeps(
        reports_for=svc.store_order_reports,
        held_orders=lambda store, ids: order_queries.held_orders(store.store_id, ids),
    )
    return order_import_work(
        OrderImportDeps(
            upserter=upserter,
            amazon_for=svc.background_orders,  # ORDER_CHANGE notifications get the first call
            overlap=overlap,
            catchup=catchup,
            release_holds=lambda store: release_unknown_sku_holds(store, queue=svc.queue, events=svc.events),
            reconciliation=reports,
            # backlogs and peaks (a window older than ORDERS_PLAN_WINDOW_MINUTES with more than one page): planner
            # rounds across the doors instead of the searchOrders sweep
            planner=OrderPlannerDeps(
                upserter=upserter,
                amazon_for=svc.background_orders,
                reports=reports,
                fetch_list=DynamoFetchList(),
                overlap=overlap,
                first_window=catchup,
            )
            if SETTINGS.orders_plan_window_minutes > 0
            else None,
            plan_window=timedelta(minutes=SETTINGS.orders_plan_window_minutes),
        )
    )


def _order_change_handler(svc: Services) -> IdempotentOrderChanges:
    global _order_changes
    if _order_changes is None:
        handler = OrderChangeHandler(
            OrderUpserter(svc.cipher, svc.queue, svc.events), svc.store_orders, events=svc.events
        )
        dynamodb = boto3.client(
            "dynamodb", region_name=SETTINGS.aws_region, endpoint_url=SETTINGS.aws_endpoint_url
        )
        _order_changes = IdempotentOrderChanges(
            handler.handle, table_name(SETTINGS.table_prefix, "IdempotencyTable"), dynamodb
        )
    return _order_changes


def _is_notification(record: dict[str, Any]) -> bool:
    arn = SETTINGS.order_notifications_queue_arn
    if arn and record.get("eventSourceARN"):
        return bool(record["eventSourceARN"] == arn)
    return is_order_change(str(record.get("body") or ""))  # sample events (sam local invoke)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    svc = invocation_services(SETTINGS)
    records = event.get("Records") or []
    app_notices = [r for r in records if is_app_notification(str(r.get("body") or ""))]
    notifications = [r for r in records if _is_notification(r) and r not in app_notices]
    jobs = [r for r in records if not _is_notification(r) and r not in app_notices]
    failures: list[dict[str, str]] = []
    for record in app_notices:
        try:
            handle_app_notification(str(record.get("body") or ""))
        except Exception:  # noqa: BLE001 - back to SQS alone (then its dead-letter queue), logged
            logger.exception("application notification not handled")
            failures.append({"itemIdentifier": str(record.get("messageId") or "")})
    if jobs:
        failures += handle_job_batch({"Records": jobs}, context, svc, _work_for)["batchItemFailures"]
        metrics.add_metric(name="order_import_jobs", unit="Count", value=len(jobs))
    if notifications:
        order_changes = _order_change_handler(svc)
        order_changes.use_context(context)
        answer = handle_order_change_batch({"Records": notifications}, context, order_changes)
        failures += answer["batchItemFailures"]
        metrics.add_metric(name="order_notifications", unit="Count", value=len(notifications))
    return {"batchItemFailures": failures}
