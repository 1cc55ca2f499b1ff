"""The composition root: builds the adapters a handler passes into its use case, from validated settings.

Handlers call `invocation_services(settings)` at the start of each invocation: the services are built once per
container (cached) and the SP-API sessions of the previous invocation are forgotten. The LWA credentials are not
part of that cache: the factory reads them (SecretLwaCredentials, Powertools parameters with a maximum age of
LWA_SECRET_MAX_AGE_SECONDS) each time it builds a session's client, so a rotated client secret is used from the
next invocation after that age, without a deploy. Unit tests build use cases with fakes instead and never come here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters

from storesync.amazon.clients import LwaCredentials, SpApi, SpApiConfig, SpApiFactory
from storesync.amazon.order_reports import SpApiOrderReports
from storesync.amazon.orders import AmazonOrders
from storesync.crypto import Cipher, KmsCipher
from storesync.dal import bind_tables
from storesync.dal.quota import DynamoBucketStore
from storesync.dal.stores import Store
from storesync.domain.events import DiscardEvents, EventPublisher
from storesync.event_bus import EventBridgePublisher
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
    events: EventPublisher = field(default_factory=DiscardEvents)
    # (store id, background) -> (the encrypted refresh token it was opened with, the session); emptied by
    # begin_invocation
    sessions: dict[tuple[str, bool], tuple[bytes, SpApi]] = field(default_factory=dict, repr=False)

    def begin_invocation(self) -> None:
        """Forget the SP-API sessions (and so the decrypted refresh tokens) of the previous invocation."""
        self.sessions.clear()

    def store_amazon(self, store: Store, *, background: bool = False) -> SpApi:
        """The store's SP-API session for this invocation: opened (refresh token decrypted in memory, once) at
        the first call, then reused; a new encrypted token (reauthorization) opens a new one. `background`:
        bulk work whose gate gives first-call callers the first call (quota_gate.first_call_reserve)."""
        if store.refresh_token_encrypted is None or store.selling_partner_id is None:
            raise ValueError(f"store {store.store_id} is not authorized")
        encrypted = bytes(store.refresh_token_encrypted)
        opened = self.sessions.get((store.store_id, background))
        if opened is not None and opened[0] == encrypted:
            return opened[1]
        token = self.cipher.decrypt(encrypted, refresh_token_context(store.store_id))
        session = self.spapi.for_store(
            store.marketplace_id, store.selling_partner_id, token, background=background
        )
        self.sessions[(store.store_id, background)] = (encrypted, session)
        return session

    def store_orders(self, store: Store) -> AmazonOrders:
        """The Orders API of the store's session (first call: ORDER_CHANGE notifications)."""
        return AmazonOrders(self.store_amazon(store))

    def store_order_reports(self, store: Store) -> SpApiOrderReports:
        """The order reports of the store's bulk session (the catch-up's reconciliation)."""
        return SpApiOrderReports(self.store_amazon(store, background=True))

    def background_orders(self, store: Store) -> AmazonOrders:
        """The Orders API for bulk work (polling, catch-up, planner): notifications get the first call."""
        return AmazonOrders(self.store_amazon(store, background=True))


def _client(settings: FunctionSettings, service: str) -> Any:
    return boto3.client(service, region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)  # type: ignore[call-overload]


class SecretLwaCredentials:
    """The LWA client id and secret from a Secrets Manager secret (JSON with client_id and client_secret), read
    through a Powertools parameters provider and kept at most `max_age` seconds of `clock` (a rotated secret
    reaches the clients built after that); `fresh=True` reads the secret at once. A CredentialsSource for
    SpApiFactory."""

    def __init__(
        self,
        provider: parameters.BaseProvider,
        secret_id: str,
        max_age: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._secret_id = secret_id
        self._max_age = max_age
        self._clock = clock
        self._kept: tuple[float, LwaCredentials] | None = None  # (read at, on `clock`; the credentials)

    def __repr__(self) -> str:
        return f"SecretLwaCredentials({self._secret_id!r}, max_age={self._max_age})"

    def __call__(self, fresh: bool = False) -> LwaCredentials:
        now = self._clock()
        kept = self._kept
        if not fresh and kept is not None and now - kept[0] < self._max_age:
            return kept[1]
        secret: Any = self._provider.get(
            self._secret_id, transform="json", max_age=self._max_age, force_fetch=True
        )
        try:
            credentials = LwaCredentials(
                client_id=str(secret["client_id"]), client_secret=str(secret["client_secret"])
            )
        except (KeyError, TypeError):
            raise RuntimeError(
                f"secret {self._secret_id} must be JSON with client_id and client_secret"
            ) from None  # no chained traceback: it could show the secret
        self._kept = (now, credentials)
        return credentials


def lwa_credentials(settings: AmazonSettings) -> SecretLwaCredentials:
    """The function's LWA credentials source (one provider, so its cache lives as long as the container)."""
    provider = parameters.SecretsProvider(boto3_client=_client(settings, "secretsmanager"))
    return SecretLwaCredentials(provider, settings.lwa_secret_id, settings.lwa_secret_max_age_seconds)


@cache
def job_queue(settings: FunctionSettings) -> JobQueue:
    """The queues of the jobs this function sends to, with its tables bound: all that dispatch needs."""
    bind_tables(settings.table_prefix, settings.aws_region, settings.aws_endpoint_url)
    return SqsJobQueue(_client(settings, "sqs"), settings.queue_urls())


def event_publisher(settings: FunctionSettings) -> EventPublisher:
    """The bus the function publishes its events to (EVENT_BUS_NAME); without one, events are dropped."""
    if not settings.event_bus_name:
        return DiscardEvents()
    return EventBridgePublisher(_client(settings, "events"), settings.event_bus_name)


@cache
def relay_publisher(settings: FunctionSettings) -> EventPublisher:
    """The event relay's bus, with its tables (the outbox) bound."""
    bind_tables(settings.table_prefix, settings.aws_region, settings.aws_endpoint_url)
    return event_publisher(settings)


def build_services(settings: AmazonSettings) -> Services:
    queue = job_queue(settings)
    kms = _client(settings, "kms")
    config = SpApiConfig(
        endpoint=settings.spapi_endpoint or None,
        lwa_url=settings.spapi_lwa_url or None,
        consent_url=settings.spapi_consent_url or None if isinstance(settings, ApiSettings) else None,
        quota_scale=settings.spapi_quota_scale,
    )
    credentials = lwa_credentials(settings)
    credentials()  # a missing or malformed secret fails the cold start, naming the secret
    return Services(
        settings=settings,
        kms=kms,
        cipher=KmsCipher(kms, settings.kms_key_id),
        queue=queue,
        spapi=SpApiFactory(config, credentials, DynamoBucketStore()),
        events=event_publisher(settings),
    )


@cache
def services(settings: AmazonSettings) -> Services:
    return build_services(settings)


def invocation_services(settings: AmazonSettings) -> Services:
    """The container's services, ready for a new invocation (see Services.begin_invocation)."""
    wired = services(settings)
    wired.begin_invocation()
    return wired
