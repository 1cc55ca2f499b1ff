"""What routes need from the outside world, built once per container from the API's settings.

The handler calls `configure(SETTINGS)` at import (cold start); routes call `api_settings()`,
`api_services()` and `state_signer()`. Nothing here runs at import time.
"""

from __future__ import annotations

from functools import cache

import boto3
from aws_lambda_powertools.utilities import parameters

from storesync.domain.consent_state import StateSigner
from storesync.settings import ApiSettings
from storesync.usecases.connect import ConnectConfig, StoreConnector
from storesync.wiring import Services, services

_settings: ApiSettings | None = None


def configure(settings: ApiSettings) -> None:
    global _settings
    _settings = settings


def api_settings() -> ApiSettings:
    if _settings is None:
        raise RuntimeError("storesync.api.deps.configure(settings) was not called by the handler")
    return _settings


def api_services() -> Services:
    return services(api_settings())


@cache
def _signing_key(settings: ApiSettings) -> bytes:
    client = boto3.client(  # type: ignore[call-overload]
        "secretsmanager", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
    )
    provider = parameters.SecretsProvider(boto3_client=client)
    secret = provider.get(settings.state_secret_id, max_age=300)
    if not secret:
        raise RuntimeError(f"secret {settings.state_secret_id} (state signing key) is empty")
    return secret.encode() if isinstance(secret, str) else bytes(secret)


def state_signer() -> StateSigner:
    return StateSigner(_signing_key(api_settings()))


def connector() -> StoreConnector:
    settings = api_settings()
    svc = api_services()
    config = ConnectConfig(
        application_id=settings.spapi_application_id,
        draft=settings.spapi_app_draft,
        notifications_queue_arn=settings.order_notifications_queue_arn,
    )
    return StoreConnector(svc.spapi, svc.cipher, state_signer(), config, svc.queue)
