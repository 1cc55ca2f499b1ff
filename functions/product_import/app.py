"""Product import handler: SQS job messages -> one store's slice of the listings import (partial failures).
The slice is bounded by the invocation's remaining time too (Lambda's context, REMAINING_TIME_MARGIN_SECONDS)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from storesync.amazon.products_amazon import SpApiProductsAmazon
from storesync.dal.stores import Store
from storesync.jobs import JobMessage
from storesync.observability import logger, metrics, tracer
from storesync.settings import ProductImportSettings
from storesync.sqs_jobs import handle_job_batch
from storesync.usecases.product_import import ImportLimits, product_import_work
from storesync.usecases.runner import JobWork
from storesync.usecases.time_left import InvocationTime, from_context
from storesync.wiring import Services, invocation_services

SETTINGS = ProductImportSettings.load()
LIMITS = ImportLimits(
    slice_rows=SETTINGS.product_slice_rows,
    slice_seconds=SETTINGS.product_slice_seconds,
    report_poll_seconds=SETTINGS.product_report_poll_seconds,
)


def work_for(message: JobMessage, wired: Services, invocation: InvocationTime = InvocationTime()) -> JobWork:
    def amazon_for(store: Store) -> SpApiProductsAmazon:
        return SpApiProductsAmazon(wired.store_amazon(store), store.selling_partner_id or "")

    return product_import_work(amazon_for, LIMITS, invocation=invocation)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation = InvocationTime(from_context(context), SETTINGS.remaining_time_margin_seconds)
    return handle_job_batch(
        event, context, invocation_services(SETTINGS), partial(work_for, invocation=invocation)
    )
