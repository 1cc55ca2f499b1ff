"""One Powertools Logger, Tracer and Metrics setup for every function.

`bind_store(store_id, merchant_id)` puts the correlation ids on every following log line. Buyer data and
tokens are never logged: log ids and counts only.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="storesync")
tracer = Tracer(service="storesync")
metrics = Metrics(namespace="storesync", service="storesync")


def bind_store(store_id: str | None, merchant_id: str | None) -> None:
    logger.append_keys(store_id=store_id, merchant_id=merchant_id)


def unbind_store() -> None:
    logger.remove_keys(["store_id", "merchant_id"])
