"""The credentials a store's SP-API session uses: the LWA client secret is read through Powertools parameters with
a maximum age (a rotated secret reaches the next session without a deploy), and a refused access token is dropped
from python-amazon-sp-api's process-wide cache for that store only. Secrets Manager is moto, in process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from sp_api.api import OrdersV20260101
from sp_api.auth import access_token_client as lwa_token_cache
from sp_api.auth._core import build_cache_key
from storesync.amazon.clients import LwaCredentials, SpApiConfig, SpApiFactory, forget_access_token
from storesync.amazon.errors import AccessDenied
from storesync.settings import AmazonSettings
from storesync.wiring import SecretLwaCredentials, lwa_credentials

US = "ATVPDKIKX0DER"
SECRET = "storesync/lwa"


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(
            Name=SECRET, SecretString=json.dumps({"client_id": "app", "client_secret": "v1"})
        )
        yield client


def rotate(secrets: Any, secret: str) -> None:
    secrets.put_secret_value(
        SecretId=SECRET, SecretString=json.dumps({"client_id": "app", "client_secret": secret})
    )


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def source(secrets: Any, max_age: int, clock: Clock | None = None) -> SecretLwaCredentials:
    provider = parameters.SecretsProvider(boto3_client=secrets)
    return SecretLwaCredentials(provider, SECRET, max_age, clock or Clock())


def built_secret(factory: SpApiFactory) -> str:
    """The client secret a client built now by `factory` sends to LWA."""
    client: Any = factory.client(OrdersV20260101, US, "refresh-token")
    return str(client.credentials.lwa_client_secret)


def test_a_rotated_client_secret_reaches_the_clients_built_after_its_maximum_age(secrets: Any) -> None:
    clock = Clock()
    factory = SpApiFactory(SpApiConfig(), source(secrets, max_age=300, clock=clock))
    assert factory.credentials == LwaCredentials("app", "v1") and built_secret(factory) == "v1"
    rotate(secrets, "v2")
    clock.now += 299
    assert built_secret(factory) == "v1"  # the cached copy, younger than its maximum age
    clock.now += 1
    assert built_secret(factory) == "v2" and factory.credentials.client_secret == "v2"
    rotate(secrets, "v3")
    assert built_secret(factory) == "v2"  # kept anew from the read that found v2


def test_a_fresh_read_skips_the_cache(secrets: Any) -> None:
    credentials = source(secrets, max_age=300)
    assert credentials().client_secret == "v1"
    rotate(secrets, "v2")
    assert credentials().client_secret == "v1" and credentials(fresh=True).client_secret == "v2"


def test_a_malformed_secret_is_named_and_never_shown(secrets: Any) -> None:
    secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps({"client_secret": "hush"}))
    with pytest.raises(RuntimeError, match=f"secret {SECRET} must be JSON with client_id") as bad:
        source(secrets, max_age=0)()
    assert "hush" not in str(bad.value) and bad.value.__cause__ is None
    assert "hush" not in repr(source(secrets, max_age=0)) and "v1" not in repr(LwaCredentials("a", "v1"))


@pytest.fixture
def token_cache() -> Iterator[Any]:
    saved = dict(lwa_token_cache.cache)
    lwa_token_cache.cache.clear()
    yield lwa_token_cache.cache
    lwa_token_cache.cache.clear()
    lwa_token_cache.cache.update(saved)


def test_forgetting_an_access_token_drops_only_that_stores_entry(token_cache: Any) -> None:
    factory = SpApiFactory(SpApiConfig(), LwaCredentials("app", "v1"))
    client: Any = factory.client(OrdersV20260101, US, "store-1-token")
    assert client._auth._get_cache_key() == build_cache_key("store-1-token")  # the library's own key
    token_cache[build_cache_key("store-1-token")] = {"access_token": "Atza|one"}
    token_cache[build_cache_key("store-2-token")] = {"access_token": "Atza|two"}
    forget_access_token("store-1-token")
    assert list(token_cache) == [build_cache_key("store-2-token")]


def test_a_session_drops_its_cached_token_when_amazon_refuses_it_then_calls_again(token_cache: Any) -> None:
    factory = SpApiFactory(SpApiConfig(), LwaCredentials("app", "v1"))
    session = factory.for_store(US, "A1SELLER", "store-1-token")
    other = build_cache_key("store-2-token")
    token_cache[build_cache_key("store-1-token")] = {"access_token": "Atza|revoked?"}
    token_cache[other] = {"access_token": "Atza|two"}
    seen: list[list[str]] = []

    def call() -> str:
        seen.append(sorted(token_cache))
        if len(seen) == 1:
            raise AccessDenied("getOrder", 403, "Unauthorized")
        return "answered"

    assert session.gate.call("getOrder", call) == "answered"
    assert seen == [sorted([build_cache_key("store-1-token"), other]), [other]]
    assert session.gate.access_refreshed == {"getOrder": 1}


def test_the_functions_read_the_secret_with_the_max_age_of_their_settings(secrets: Any) -> None:
    settings: Any = SimpleNamespace(
        aws_region="us-east-1", aws_endpoint_url=None, lwa_secret_id=SECRET, lwa_secret_max_age_seconds=1
    )
    credentials = lwa_credentials(settings)
    assert repr(credentials) == f"SecretLwaCredentials({SECRET!r}, max_age=1)"
    assert credentials() == LwaCredentials("app", "v1")
    rotate(secrets, "v2")
    time.sleep(1.1)
    assert credentials().client_secret == "v2"
    assert AmazonSettings.model_fields["lwa_secret_max_age_seconds"].default == 300
