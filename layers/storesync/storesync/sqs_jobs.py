"""The one SQS job-handler body every job function shares: Powertools batch processing with partial
failures, each record parsed into a JobMessage by the batch processor's model and run by the StoreJobRunner.

A record whose body is not a valid JobMessage fails alone; its failure names the field (e.g. `body.mode`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from storesync.jobs import JobMessage
from storesync.observability import logger, unbind_store
from storesync.usecases.runner import JobWork, StoreJobRunner
from storesync.wiring import Services


class JobRecord(SqsRecordModel):
    """An SQS record of a job queue: its body is a JobMessage."""

    body: Json[JobMessage]  # type: ignore[assignment]  # narrows SqsRecordModel's str body


def handle_job_batch(
    event: dict[str, Any],
    context: Any,
    services: Services,
    work_for: Callable[[JobMessage, Services], JobWork],
) -> dict[str, Any]:
    runner = StoreJobRunner(services.queue, cadences=services.settings.cadences(), events=services.events)
    # logger: each failed record is logged with its error (Powertools' Logger quacks like logging.Logger)
    processor = BatchProcessor(event_type=EventType.SQS, model=JobRecord, logger=logger)  # type: ignore[arg-type]

    def record_handler(record: JobRecord) -> None:
        message: JobMessage = record.body
        try:
            runner.run(message, work_for(message, services))
        finally:
            unbind_store()

    logger.debug("job batch", extra={"records": len(event.get("Records", []))})
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
