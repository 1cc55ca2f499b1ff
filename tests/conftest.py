"""Shared fixtures: moto in server mode, the template's resources per test, handlers loaded as Lambda does."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from storesync.dal import bind_tables
from storesync_local import moto_transactions
from storesync_local.functions import FakeLambdaContext, Handler, load_handler
from storesync_local.template import Provisioned, functions, load_template, provision

pytest_plugins = ["spapi_simulator.pytest_plugin"]

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "storesync",
    "POWERTOOLS_DEV": "false",
}


@pytest.fixture(scope="session", autouse=True)
def _aws_test_env() -> Iterator[None]:
    """Dummy credentials for everything: no test can reach real AWS."""
    saved = {k: os.environ.get(k) for k in [*AWS_TEST_ENV, "SP_API_DEFAULT_MARKETPLACE", "AWS_PROFILE"]}
    os.environ.update(AWS_TEST_ENV)
    os.environ.pop("SP_API_DEFAULT_MARKETPLACE", None)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    moto_transactions.install()  # as the local runtime runs it: transactions back up only their items
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    os.environ.pop("AWS_ENDPOINT_URL", None)
    server.stop()


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def make_stack(moto_endpoint: str, template: dict[str, Any]) -> Callable[..., Provisioned]:
    """Provision a fresh copy of the template's resources in moto (unique stack name) and bind the tables.

    Keyword arguments: `parameters` (template parameter overrides), `secrets` (SecretString by logical id).
    Every function's environment is applied to os.environ, as Lambda would give it.
    """

    def make(**kwargs: Any) -> Provisioned:
        stack = f"t{uuid.uuid4().hex[:10]}"
        prov = provision(moto_endpoint, stack_name=stack, template=template, **kwargs)
        for env in prov.function_env.values():
            os.environ.update({k: v for k, v in env.items() if v != ""})
            for key in [k for k, v in env.items() if v == ""]:
                os.environ.pop(key, None)
        os.environ["AWS_ENDPOINT_URL"] = moto_endpoint
        bind_tables(stack, "us-east-1", moto_endpoint)
        return prov

    return make


@pytest.fixture
def stack(make_stack: Callable[..., Provisioned]) -> Provisioned:
    return make_stack()


@pytest.fixture
def load_function(template: dict[str, Any]) -> Callable[[str], Handler]:
    """Import a function's handler fresh (a cold start with the current environment)."""

    def load(logical_id: str) -> Handler:
        spec = functions(template)[logical_id]
        return load_handler(spec["code_uri"], spec["handler"])

    return load


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext("test-function")
