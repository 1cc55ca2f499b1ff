"""The SP-API session of a store (`SpApi`) and the factory that opens it (`SpApiFactory`).

A session talks to its region's endpoint, for its store's marketplace, with its (decrypted) refresh token; it
builds each python-amazon-sp-api client once and reuses it, and every call goes through the seller's quota gate.
The Lambdas open one session per store per invocation (storesync.wiring.Services.store_amazon). SPAPI_ENDPOINT / SPAPI_LWA_URL / SPAPI_CONSENT_URL, when set,
point all of it at another Amazon (the simulator, Amazon's sandbox) through the library's own extension points
(a marketplace object and `auth_token_client_class`): no monkeypatching.

Each client is a subclass of the library's (versioned) API class whose `_check_response` first runs
storesync.amazon.errors.check_http_answer: the library alone reads an empty, HTML or truncated body as `{}`.
The LWA credentials are read from `credentials` (a CredentialsSource: wiring reads the secret through
Powertools with a maximum age) each time a client is built, so a rotated client secret reaches the next session.
The library caches access tokens per refresh token for the process; `forget_access_token` drops one store's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx
from sp_api.api import (
    FeedsV20210630,
    Inventories,
    ListingsItemsV20210801,
    Notifications,
    OrdersV0,
    OrdersV20260101,
    Reports,
    Sellers,
)
from sp_api.auth import AccessTokenClient
from sp_api.auth import access_token_client as lwa_token_cache
from sp_api.auth._core import build_cache_key
from sp_api.auth.exceptions import AuthorizationError

from storesync.amazon.errors import AmazonAnswerInvalid, call_amazon, check_http_answer
from storesync.amazon.quota_gate import BucketStore, InMemoryBucketStore, QuotaGate
from storesync.marketplaces import AWS_REGIONS, LWA_TOKEN_URL, SP_API_ENDPOINTS, marketplace

C = TypeVar("C")


@dataclass(frozen=True)
class LwaCredentials:
    client_id: str
    client_secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"LwaCredentials(client_id={self.client_id!r}, client_secret=***)"


# The current LWA credentials: `fresh=True` reads them again at once (else a cached copy no older than its age).
CredentialsSource = Callable[..., LwaCredentials]


def fixed_credentials(credentials: LwaCredentials) -> CredentialsSource:
    def current(fresh: bool = False) -> LwaCredentials:
        return credentials

    return current


@dataclass(frozen=True)
class SpApiConfig:
    endpoint: str | None = None
    lwa_url: str | None = None
    consent_url: str | None = None
    quota_scale: float = 1.0
    timeout: float = 20.0


@dataclass(frozen=True)
class MarketplaceTarget:
    """What python-amazon-sp-api reads from a marketplace: endpoint, marketplace_id, region."""

    endpoint: str
    marketplace_id: str
    region: str


@cache
def token_client_class(lwa_url: str) -> type[AccessTokenClient]:
    """An AccessTokenClient subclass whose token URL is `lwa_url` (the library's documented hook)."""
    parts = urlsplit(lwa_url)
    attrs = {"scheme": f"{parts.scheme}://", "host": parts.netloc, "path": parts.path or "/auth/o2/token"}
    return type("StoresyncAccessTokenClient", (AccessTokenClient,), attrs)


class CheckedAnswers:
    """Mixed into each library client: every HTTP answer passes check_http_answer before the library reads it
    (an empty, HTML or cut-short body, a 5xx, 429 or 401 the library would read as an answer raise BadAnswer)."""

    method: str

    def _check_response(self, res: Any, res_no_data: bool = False, *args: Any, **kwargs: Any) -> Any:
        check_http_answer(res, no_data=res_no_data or getattr(self, "method", "") == "DELETE")
        return super()._check_response(res, res_no_data, *args, **kwargs)  # type: ignore[misc]


_CHECKED: dict[type, type] = {}


def checked_client_class[A](api: type[A]) -> type[A]:
    """`api` (a concrete python-amazon-sp-api client class) with its answers checked (CheckedAnswers); one
    class per API, built at first use."""
    if api not in _CHECKED:
        _CHECKED[api] = type(api.__name__, (CheckedAnswers, api), {"__module__": __name__})
    return _CHECKED[api]


def forget_access_token(refresh_token: str) -> None:
    """Drop the access token the library cached for `refresh_token` (and its grantless ones): the next call
    asks LWA for a fresh one. Other stores' tokens stay."""
    for key in (
        build_cache_key(refresh_token),
        build_cache_key(refresh_token, Notifications.grantless_scope),
    ):
        lwa_token_cache.cache.pop(key, None)
        lwa_token_cache.grantless_cache.pop(key, None)


class SpApi:
    """One store's SP-API session: its marketplace, one client per API (built at first use, then reused: each
    python-amazon-sp-api client builds an httpx client and its TLS context, ~25 ms) and the quota gate of its
    seller and region."""

    def __init__(
        self,
        factory: SpApiFactory,
        marketplace_id: str,
        refresh_token: str,
        gate: QuotaGate,
    ) -> None:
        self._factory = factory
        self.marketplace_id = marketplace_id
        self._refresh_token = refresh_token
        self.gate = gate
        gate.on_access_denied = self.forget_access_token
        self._clients: dict[tuple[type, str | None], Any] = {}

    def __repr__(self) -> str:
        return f"SpApi(marketplace_id={self.marketplace_id!r}, seller={self.gate.seller_key!r})"

    def client(self, api: type[C], version: str | None = None) -> C:
        """This session's client of `api` (and `version`), built once."""
        key = (api, version)
        if key not in self._clients:
            options = {} if version is None else {"version": version}
            self._clients[key] = self._factory.client(
                api, self.marketplace_id, self._refresh_token, **options
            )
        client: C = self._clients[key]
        return client

    def forget_access_token(self) -> None:
        """Amazon refused this store's access token: the next call of the session gets a fresh one from LWA."""
        forget_access_token(self._refresh_token)

    def orders(self) -> OrdersV20260101:
        return self.client(OrdersV20260101, "2026-01-01")

    def orders_v0(self) -> OrdersV0:
        return self.client(OrdersV0, "v0")

    def listings(self) -> ListingsItemsV20210801:
        return self.client(ListingsItemsV20210801, "2021-08-01")

    def reports(self) -> Reports:
        return self.client(Reports)

    def feeds(self) -> FeedsV20210630:
        return self.client(FeedsV20210630, "2021-06-30")

    def fba_inventory(self) -> Inventories:
        return self.client(Inventories)

    def sellers(self) -> Sellers:
        return self.client(Sellers)

    def notifications(self) -> Notifications:
        return self.client(Notifications)


class SpApiFactory:
    """Opens store sessions, exchanges consent codes and builds consent URLs. The quota buckets live in
    `bucket_store` (the Lambdas pass storesync.dal.quota.DynamoBucketStore; by default this process only).
    `credentials`: fixed LwaCredentials, or a CredentialsSource read each time a client is built."""

    def __init__(
        self,
        config: SpApiConfig,
        credentials: LwaCredentials | CredentialsSource,
        bucket_store: BucketStore | None = None,
    ) -> None:
        if os.environ.get("SP_API_DEFAULT_MARKETPLACE"):
            # python-amazon-sp-api would silently replace every store's marketplace with this one.
            raise RuntimeError(
                "SP_API_DEFAULT_MARKETPLACE must not be set: storesync passes each store's own"
            )
        self.config = config
        self._credentials: CredentialsSource = (
            fixed_credentials(credentials) if isinstance(credentials, LwaCredentials) else credentials
        )
        self._bucket_store = bucket_store if bucket_store is not None else InMemoryBucketStore()

    @property
    def credentials(self) -> LwaCredentials:
        """The current LWA credentials (a rotated secret shows here once its cached copy is older than its age)."""
        return self._credentials()

    @property
    def lwa_url(self) -> str:
        return self.config.lwa_url or LWA_TOKEN_URL

    def target(self, marketplace_id: str) -> MarketplaceTarget:
        mkt = marketplace(marketplace_id)
        endpoint = (self.config.endpoint or SP_API_ENDPOINTS[mkt.region]).rstrip("/")
        return MarketplaceTarget(endpoint, mkt.marketplace_id, AWS_REGIONS[mkt.region])

    def client(self, api: type[C], marketplace_id: str, refresh_token: str, **kwargs: Any) -> C:
        credentials = self.credentials
        return checked_client_class(api)(  # type: ignore[call-arg]
            self.target(marketplace_id),
            refresh_token=refresh_token,
            credentials={
                "lwa_app_id": credentials.client_id,
                "lwa_client_secret": credentials.client_secret,
            },
            auth_token_client_class=token_client_class(self.lwa_url),
            timeout=self.config.timeout,
            **kwargs,
        )

    def gate(self, selling_partner_id: str, region: str, *, background: bool = False) -> QuotaGate:
        return QuotaGate(
            seller_key(selling_partner_id, region),
            self._bucket_store,
            scale=self.config.quota_scale,
            background=background,
        )

    def for_store(
        self, marketplace_id: str, selling_partner_id: str, refresh_token: str, *, background: bool = False
    ) -> SpApi:
        """`background`: bulk work (the order import and planner) that gives first-call callers (ORDER_CHANGE
        notifications) the first call on every bucket they share (quota_gate.first_call_reserve)."""
        region = marketplace(marketplace_id).region.value
        return SpApi(
            self, marketplace_id, refresh_token, self.gate(selling_partner_id, region, background=background)
        )

    def exchange_authorization_code(self, code: str, redirect_uri: str) -> str:
        """LWA authorization_code grant: returns the refresh token (never logged)."""
        # Plain httpx: the library's AccessTokenClient.authorize_auth_code sends no redirect_uri, which LWA checks.
        credentials = self.credentials
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }

        def post() -> dict[str, Any]:
            response = httpx.post(self.lwa_url, data=form, timeout=self.config.timeout)
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            if response.status_code != 200:
                raise AuthorizationError(
                    answer.get("error"), answer.get("error_description"), response.status_code
                )
            return answer if isinstance(answer, dict) else {}

        answer = call_amazon("lwa.authorization_code", post)
        token = answer.get("refresh_token")
        if not isinstance(token, str) or not token:
            raise AmazonAnswerInvalid(
                "lwa.authorization_code: refresh_token: missing or not a string",
                operation="lwa.authorization_code",
                field="refresh_token",
            )
        return token

    def consent_url(
        self, marketplace_id: str, application_id: str, state: str, redirect_uri: str, draft: bool
    ) -> str:
        base = (self.config.consent_url or marketplace(marketplace_id).consent_base).rstrip("/")
        if not base.endswith("/apps/authorize/consent"):
            base += "/apps/authorize/consent"
        query = {"application_id": application_id, "state": state, "redirect_uri": redirect_uri}
        if draft:
            query["version"] = "beta"
        return f"{base}?{urlencode(query)}"


def seller_key(selling_partner_id: str, region: str) -> str:
    return f"{selling_partner_id}#{region}"
