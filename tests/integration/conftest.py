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
def new_harness(
    make_stack: Callable[..., Any],
    spapi_sim_factory: Callable[..., Simulator],
    load_function: Callable[[str], Handler],
) -> Callable[..., OrderImportHarness]:
    """Order import harnesses: the real handler on a fresh stack (template parameters as keywords), a simulator
    without generated orders."""

    def new(**stack_parameters: str) -> OrderImportHarness:
        return make_harness(make_stack, spapi_sim_factory(orders=0), load_function, **stack_parameters)

    return new


@pytest.fixture
def h(new_harness: Callable[..., OrderImportHarness]) -> OrderImportHarness:
    """The order import harness: the real handler on a fresh stack, a simulator without generated orders."""
    return new_harness()


@pytest.fixture
def app_h(new_harness: Callable[..., OrderImportHarness]) -> OrderImportHarness:
    """The order import harness (as `h`) on a stack that carries the simulator's application id, as the API's
    store connection needs."""
    return new_harness(SpApiApplicationId=APPLICATION_ID)


@pytest.fixture
def orders_api(
    app_h: OrderImportHarness, load_function: Callable[[str], Handler], lambda_context: Any
) -> Api:
    """The real ApiFunction on `app_h`'s stack and simulator."""
    return Api(load_function("ApiFunction"), lambda_context, app_h.sim, app_h.stack)
