"""Fixtures shared by the integration tests (the session-wide ones, stack and simulator, are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fixtures_stores import Api
from order_import_support import OrderImportHarness, make_harness
from spapi_simulator.sellers import APPLICATION_ID
from spapi_simulator.simulator import Simulator
from storesync_local.functions import Handler


@pytest.fixture
def h(
    make_stack: Callable[..., Any],
    spapi_sim_factory: Callable[..., Simulator],
    load_function: Callable[[str], Handler],
) -> OrderImportHarness:
    """The order import harness: the real handler on a fresh stack, a simulator without generated orders."""
    return make_harness(make_stack, spapi_sim_factory(orders=0), load_function)


@pytest.fixture
def app_h(
    make_stack: Callable[..., Any],
    spapi_sim_factory: Callable[..., Simulator],
    load_function: Callable[[str], Handler],
) -> OrderImportHarness:
    """The order import harness (as `h`) on a stack that carries the simulator's application id, as the API's
    store connection needs."""
    sim = spapi_sim_factory(orders=0)
    return make_harness(make_stack, sim, load_function, SpApiApplicationId=APPLICATION_ID)


@pytest.fixture
def orders_api(
    app_h: OrderImportHarness, load_function: Callable[[str], Handler], lambda_context: Any
) -> Api:
    """The real ApiFunction on `app_h`'s stack and simulator."""
    return Api(load_function("ApiFunction"), lambda_context, app_h.sim, app_h.stack)
