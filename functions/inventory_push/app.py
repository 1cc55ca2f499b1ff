"""Inventory push handler: SQS job messages (schedule, "sync now", stock-outs, continuations) -> one store's
changed quantities to Amazon (storesync.usecases.inventory_push). The slice is bounded by the invocation's
remaining time too (Lambda's context, REMAINING_TIME_MARGIN_SECONDS)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from storesync.amazon.listings_transport import SpApiListingsTransport
from storesync.jobs import JobMessage
from storesync.observability import logger, metrics, tracer
from storesync.settings import InventoryPushSettings
from storesync.sqs_jobs import handle_job_batch
from storesync.usecases.inventory_push import PATCH_FEED_CROSSOVER, PushSettings, inventory_push_work
from storesync.usecases.runner import JobWork
from storesync.usecases.time_left import InvocationTime, from_context
from storesync.wiring import Services, invocation_services

SETTINGS = InventoryPushSettings.load()
PUSH_SETTINGS = PushSettings(
    crossover=PATCH_FEED_CROSSOVER
    if SETTINGS.inventory_feed_crossover is None
    else SETTINGS.inventory_feed_crossover,
    feed_poll_seconds=SETTINGS.inventory_feed_poll_seconds,
)


def work_for(message: JobMessage, svc: Services, invocation: InvocationTime = InvocationTime()) -> JobWork:
    return inventory_push_work(
        lambda store: SpApiListingsTransport(svc.store_amazon(store), str(store.selling_partner_id)),
        PUSH_SETTINGS,
        invocation=invocation,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation = InvocationTime(from_context(context), SETTINGS.remaining_time_margin_seconds)
    return handle_job_batch(
        event, context, invocation_services(SETTINGS), partial(work_for, invocation=invocation)
    )
