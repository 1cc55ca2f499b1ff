"""Event relay handler: an EventBridge schedule (every minute) -> publish the events left in the outbox (the bus
refused them, or their function died between its commit and the publish) and delete them
(storesync.usecases.event_relay). Publishes the metrics the OutboxAgeAlarm watches."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from storesync.dal.outbox import DynamoOutbox
from storesync.observability import logger, metrics, tracer
from storesync.settings import EventRelaySettings
from storesync.usecases.event_relay import relay_events
from storesync.wiring import relay_publisher

SETTINGS = EventRelaySettings.load()
OLDEST_AGE_METRIC = "outbox_oldest_event_age_seconds"  # template.yaml's OutboxAgeAlarm


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    publisher = relay_publisher(SETTINGS)  # binds the tables too: before the outbox is read
    outcome = relay_events(publisher, DynamoOutbox())
    metrics.add_metric(name="outbox_events_waiting", unit=MetricUnit.Count, value=outcome.waiting)
    metrics.add_metric(name="outbox_events_relayed", unit=MetricUnit.Count, value=outcome.published)
    metrics.add_metric(name=OLDEST_AGE_METRIC, unit=MetricUnit.Seconds, value=outcome.oldest_age_seconds)
    return outcome.to_dict()
