"""Dispatch handler: EventBridge schedule (Input names the job and mode) -> one SQS message per store."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from storesync.dal.store_queries import active_stores
from storesync.jobs import ScheduleInput
from storesync.observability import logger, metrics, tracer
from storesync.settings import DispatchSettings
from storesync.usecases.dispatch import dispatch
from storesync.wiring import job_queue

SETTINGS = DispatchSettings.load()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    schedule = ScheduleInput.model_validate(event)
    queue = job_queue(SETTINGS)  # binds the tables too: before active_stores()
    sent = dispatch(schedule, active_stores(), queue)
    metrics.add_metric(name=f"dispatched_{schedule.job}", unit="Count", value=sent)
    logger.info("dispatched", extra={"job": schedule.job, "mode": schedule.mode, "stores": sent})
    return {"job": schedule.job, "mode": schedule.mode, "dispatched": sent}
