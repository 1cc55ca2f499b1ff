"""Shipment push handler: SQS job messages (one store each) -> confirm its WMS shipments on Amazon. The slice is
bounded by the invocation's remaining time too (Lambda's context, REMAINING_TIME_MARGIN_SECONDS)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from storesync.jobs import JobMessage
from storesync.observability import logger, metrics, tracer
from storesync.settings import ShipmentPushSettings
from storesync.sqs_jobs import handle_job_batch
from storesync.usecases.runner import JobWork
from storesync.usecases.shipment_push import PushLimits, shipment_push_work
from storesync.usecases.time_left import InvocationTime, from_context
from storesync.wiring import Services, invocation_services

SETTINGS = ShipmentPushSettings.load()
LIMITS = PushLimits(
    max_shipments=SETTINGS.shipment_push_max_per_run, time_budget=SETTINGS.shipment_push_seconds
)


def work_for(message: JobMessage, svc: Services, invocation: InvocationTime = InvocationTime()) -> JobWork:
    return shipment_push_work(svc, LIMITS, invocation)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(name="shipment_push_messages", unit="Count", value=len(event.get("Records", [])))
    invocation = InvocationTime(from_context(context), SETTINGS.remaining_time_margin_seconds)
    return handle_job_batch(
        event, context, invocation_services(SETTINGS), partial(work_for, invocation=invocation)
    )
