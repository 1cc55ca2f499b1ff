"""The composition root: builds the adapters a handler passes into its use case, from validated settings.

Handlers call `services(settings)` once per container (cached); unit tests build use cases with fakes
instead and never come here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters

from storesync.amazon.clients import LwaCredentials, SpApi, SpApiConfig, SpApiFactory
from storesync.crypto import Cipher, KmsCipher
from storesync.dal import bind_tables
from storesync.dal.stores import Store
from storesync.queues import JobQueue, SqsJobQueue
from storesync.settings import AmazonSettings, ApiSettings, FunctionSettings

REFRESH_TOKEN_PURPOSE = "refresh_token"


def refresh_token_context(store_id: str) -> dict[str, str]:
    return {"store_id": store_id, "purpose": REFRESH_TOKEN_PURPOSE}


@dataclass
class Services:
    settings: AmazonSettings
    kms: Any
    cipher: Cipher
    queue: JobQueue
    spapi: SpApiFactory

    def store_amazon(self, store: Store) -> SpApi:
        """The store's SP-API clients, with its refresh token decrypted in memory only."""
        if store.refresh_token_encrypted is None or store.selling_partner_id is None:
            raise ValueError(f"store {store.store_id} is not authorized")
        token = self.cipher.decrypt(store.refresh_token_encrypted, refresh_token_context(store.store_id))
        return self.spapi.for_store(store.marketplace_id, store.selling_partner_id, token)


def _client(settings: FunctionSettings, service: str) -> Any:
    return boto3.client(service, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)  # type: ignore[call-overload]


def lwa_credentials(settings: AmazonSettings) -> LwaCredentials:
    provider = parameters.SecretsProvider(boto3_client=_client(settings, "secretsmanager"))
    secret: Any = provider.get(settings.lwa_secret_id, transform="json", max_age=300)
    try:
        return LwaCredentials(client_id=str(secret["client_id"]), client_secret=str(secret["client_secret"]))
    except (KeyError, TypeError) as exc:
        raise RuntimeError(
            f"secret {settings.lwa_secret_id} must be JSON with client_id and client_secret"
        ) from exc


@cache
def job_queue(settings: FunctionSettings) -> JobQueue:
    """The queues of the jobs this function sends to, with its tables bound: all that dispatch needs."""
    bind_tables(settings.table_prefix, settings.aws_region, settings.aws_endpoint_url)
    return SqsJobQueue(_client(settings, "sqs"), settings.queue_urls())


def build_services(settings: AmazonSettings) -> Services:
    queue = job_queue(settings)
    kms = _client(settings, "kms")
    config = SpApiConfig(
        endpoint=settings.spapi_endpoint or None,
        lwa_url=settings.spapi_lwa_url or None,
        consent_url=settings.spapi_consent_url or None if isinstance(settings, ApiSettings) else None,
        quota_scale=settings.spapi_quota_scale,
    )
    return Services(
        settings=settings,
        kms=kms,
        cipher=KmsCipher(kms, settings.kms_key_id),
        queue=queue,
        spapi=SpApiFactory(config, lwa_credentials(settings)),
    )


@cache
def services(settings: AmazonSettings) -> Services:
    return build_services(settings)
