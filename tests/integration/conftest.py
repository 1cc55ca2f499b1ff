"""Fixtures shared by the integration tests (the session-wide ones, stack and simulator, are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from order_import_support import OrderImportHarness, make_harness
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
