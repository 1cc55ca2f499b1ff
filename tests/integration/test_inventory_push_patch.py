"""Inventory push on the patch path, against the simulator and moto, through the real handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import inventory_push_support as support
import pytest
from fixtures_stores import connected_store, sim_stack
from spapi_simulator.simulator import Simulator


@pytest.fixture
def env(make_stack: Callable[..., Any], spapi_sim: Simulator, load_function: Callable[[str], Any]) -> Any:
    stack = sim_stack(make_stack, spapi_sim)

    def setup(**settings: Any) -> tuple[Any, Any]:
        store = connected_store(spapi_sim, stack, support.SELLER, support.US, **settings)
        support.mirror_listings(spapi_sim, store)
        return store, load_function("InventoryPushFunction")

    return setup


def test_changed_quantities_are_patched_and_amazon_shows_them(
    env: Any, spapi_sim: Simulator, lambda_context: Any
) -> None:
    store, handler = env()
    skus = support.fbm_skus(spapi_sim, support.SELLER, support.US)[:3]
    for n, sku in enumerate(skus):
        support.set_stock(store.merchant_id, sku, on_hand=10 + n, allocated=2)
    support.reset_stats(spapi_sim)

    answer = support.deliver(handler, lambda_context, support.push_message(store))

    assert answer == {"batchItemFailures": []}
    for n, sku in enumerate(skus):
        assert support.amazon_quantity(spapi_sim, store, sku) == 8 + n
        row = support.listing(store, sku)
        assert row.last_pushed_quantity == 8 + n
        assert row.last_push_status == "accepted"
        assert row.last_push_at is not None
    calls = support.sim_calls(spapi_sim)
    assert calls.get("createFeed", 0) == 0
    assert calls["patchListingsItem"] >= 3


def test_a_second_run_with_nothing_changed_makes_no_call(
    env: Any, spapi_sim: Simulator, lambda_context: Any
) -> None:
    store, handler = env()
    skus = support.fbm_skus(spapi_sim, support.SELLER, support.US)
    for sku in skus:
        support.set_stock(store.merchant_id, sku, on_hand=4)
    support.deliver(handler, lambda_context, support.push_message(store))
    support.reset_stats(spapi_sim)

    support.deliver(handler, lambda_context, support.push_message(store))

    assert support.sim_calls(spapi_sim) == {}
    assert support.last_run(store).result == "ok"


def test_buffer_and_cap_are_applied(env: Any, spapi_sim: Simulator, lambda_context: Any) -> None:
    store, handler = env(inventory_buffer=3, max_quantity=20)
    low, mid, high = support.fbm_skus(spapi_sim, support.SELLER, support.US)[:3]
    support.set_stock(store.merchant_id, low, on_hand=2)  # 2 - 3 -> 0
    support.set_stock(store.merchant_id, mid, on_hand=12, allocated=1)  # 11 - 3 = 8
    support.set_stock(store.merchant_id, high, on_hand=500)  # capped at 20

    support.deliver(handler, lambda_context, support.push_message(store))

    assert [support.amazon_quantity(spapi_sim, store, s) for s in (low, mid, high)] == [0, 8, 20]


def test_fba_listings_are_never_pushed(env: Any, spapi_sim: Simulator, lambda_context: Any) -> None:
    store, handler = env()
    fba = [row for row in support.mirror_listings(spapi_sim, store) if row.channel == "FBA"]
    assert fba, "the seeded catalog has FBA listings"
    for row in fba:
        support.set_stock(store.merchant_id, row.sku, on_hand=999)
    support.reset_stats(spapi_sim)

    support.deliver(handler, lambda_context, support.push_message(store))

    for row in fba:
        assert support.amazon_quantity(spapi_sim, store, row.sku) != 999
        assert support.listing(store, row.sku).last_push_at is None
