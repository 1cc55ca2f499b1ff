"""One Powertools Logger, Tracer and Metrics setup for every function.

`bind_store(store_id, merchant_id)` puts the correlation ids on every following log line. Buyer data and
tokens are never logged: log ids and counts only.

Metrics go to the namespace in POWERTOOLS_METRICS_NAMESPACE (template.yaml's Globals; "storesync" when unset).
`publish_sync_lag` writes the sync-lag metrics at the end of every job run (CloudWatch EMF, flushed at once),
with the dimensions service and job only: one series per job, whose Maximum is the worst store's lag. A store
dimension would make one custom metric per store and job (cost and alarm count grow with the merchants); which
store lags is in the API's store health and in the run's log line (store_id is a log key).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = "storesync"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or SERVICE
SYNC_LAG_SECONDS = "sync_lag_seconds"  # now - the job's last success for that store
SYNC_LAG_CADENCES = (
    "sync_lag_cadences"  # the same in cadences of the job: > 2 is late (the alarms' threshold)
)

CLIENT_SECRET_EXPIRY_NOTICES = "client_secret_expiry_notices"  # Amazon said storesync's LWA secret expires
CLIENT_SECRET_EXPIRY_DAYS = "client_secret_expiry_days"  # days left until it expires


class InvocationLogger(Logger):
    """Powertools' Logger whose appended keys (the store's correlation ids, inject_lambda_context's function
    name, request id and cold start) belong to the thread that appends them: an invocation runs in one thread.
    In Lambda one process runs one invocation at a time, so nothing changes there; the local runtime runs several
    invocations at once in threads of one process, which share this logger, and global keys gave one
    invocation's lines another's store_id or request id."""

    def append_keys(self, **additional_keys: object) -> None:
        self.thread_safe_append_keys(**additional_keys)

    def remove_keys(self, keys: Iterable[str]) -> None:
        self.thread_safe_remove_keys(keys)

    def get_current_keys(self) -> dict[str, Any]:
        return {**super().get_current_keys(), **self.thread_safe_get_current_keys()}


logger = InvocationLogger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def bind_store(store_id: str | None, merchant_id: str | None) -> None:
    logger.append_keys(store_id=store_id, merchant_id=merchant_id)


def unbind_store() -> None:
    logger.remove_keys(["store_id", "merchant_id"])


def publish_sync_lag(job: str, lag_seconds: float, cadence_seconds: float) -> None:
    """The job's sync lag for one store, as EMF on stdout (dimensions: service, job)."""
    lag = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    lag.add_dimension(name="job", value=job)
    lag.add_metric(name=SYNC_LAG_SECONDS, unit=MetricUnit.Seconds, value=round(lag_seconds, 1))
    lag.add_metric(
        name=SYNC_LAG_CADENCES, unit=MetricUnit.NoUnit, value=round(lag_seconds / cadence_seconds, 3)
    )
    lag.flush_metrics()


def publish_client_secret_expiry(days_left: float) -> None:
    """One APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY notification received (dimension: service only)."""
    expiry = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    expiry.add_metric(name=CLIENT_SECRET_EXPIRY_NOTICES, unit=MetricUnit.Count, value=1)
    expiry.add_metric(name=CLIENT_SECRET_EXPIRY_DAYS, unit=MetricUnit.NoUnit, value=round(days_left, 2))
    expiry.flush_metrics()
