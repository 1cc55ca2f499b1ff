"""API handler: HTTP API (v2) events -> the storesync API resolver (routes in storesync.api)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from storesync.api.app import handle
from storesync.observability import logger, metrics, tracer
from storesync.settings import ApiSettings

SETTINGS = ApiSettings.load()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, context, SETTINGS)
