"""Shipment push handler: SQS job messages (one store each) -> confirm its WMS shipments on Amazon."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from storesync.observability import logger, metrics, tracer
from storesync.settings import ShipmentPushSettings
from storesync.sqs_jobs import handle_job_batch
from storesync.usecases.shipment_push import shipment_push_work
from storesync.wiring import services

SETTINGS = ShipmentPushSettings.load()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(name="shipment_push_messages", unit="Count", value=len(event.get("Records", [])))
    return handle_job_batch(event, context, services(SETTINGS), shipment_push_work)
