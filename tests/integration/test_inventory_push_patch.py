"""Inventory push on the patch path, against the simulator and moto, through the real handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fixtures_stores import connected_store, sim_stack
from inventory_push_support import (
    SELLER,
    US,
    amazon_quantity,
    deliver,
    fbm_skus,
    last_run,
    listing,
    mirror_listings,
    push_message,
    reset_stats,
    set_stock,
    sim_calls,
)
from spapi_simulator.simulator import Simulator


@pytest.fixture
def env(make_stack: Callable[..., Any], spapi_sim: Simulator, load_function: Callable[[str], Any]) -> Any:
    stack = sim_stack(make_stack, spapi_sim)

    def setup(**settings: Any) -> tuple[Any, Any]:
        store = connected_store(spapi_sim, stack, SELLER, US, **settings)
        mirror_listings(spapi_sim, store)
        return store, load_function("InventoryPushFunction")

    return setup


def test_changed_quantities_are_patched_and_amazon_shows_them(
    env: Any, spapi_sim: Simulator, lambda_context: Any
) -> None:
    store, handler = env()
    skus = fbm_skus(spapi_sim, SELLER, US)[:3]
    for n, sku in enumerate(skus):
        set_stock(store.merchant_id, sku, on_hand=10 + n, allocated=2)
    reset_stats(spapi_sim)

    answer = deliver(handler, lambda_context, push_message(store))

    assert answer == {"batchItemFailures": []}
    for n, sku in enumerate(skus):
        assert amazon_quantity(spapi_sim, store, sku) == 8 + n
        row = listing(store, sku)
        assert row.last_pushed_quantity == 8 + n
        assert row.last_push_status == "accepted"
        assert row.last_push_at is not None
    calls = sim_calls(spapi_sim)
    assert calls.get("createFeed", 0) == 0
    assert calls["patchListingsItem"] >= 3


def test_a_second_run_with_nothing_changed_makes_no_call(
    env: Any, spapi_sim: Simulator, lambda_context: Any
) -> None:
    store, handler = env()
    skus = fbm_skus(spapi_sim, SELLER, US)
    for sku in skus:
        set_stock(store.merchant_id, sku, on_hand=4)
    deliver(handler, lambda_context, push_message(store))
    reset_stats(spapi_sim)

    deliver(handler, lambda_context, push_message(store))

    assert sim_calls(spapi_sim) == {}
    assert last_run(store).result == "ok"


def test_buffer_and_cap_are_applied(env: Any, spapi_sim: Simulator, lambda_context: Any) -> None:
    store, handler = env(inventory_buffer=3, max_quantity=20)
    low, mid, high = fbm_skus(spapi_sim, SELLER, US)[:3]
    set_stock(store.merchant_id, low, on_hand=2)  # 2 - 3 -> 0
    set_stock(store.merchant_id, mid, on_hand=12, allocated=1)  # 11 - 3 = 8
    set_stock(store.merchant_id, high, on_hand=500)  # capped at 20

    deliver(handler, lambda_context, push_message(store))

    assert [amazon_quantity(spapi_sim, store, s) for s in (low, mid, high)] == [0, 8, 20]


def test_fba_listings_are_never_pushed(env: Any, spapi_sim: Simulator, lambda_context: Any) -> None:
    store, handler = env()
    fba = [row for row in mirror_listings(spapi_sim, store) if row.channel == "FBA"]
    assert fba, "the seeded catalog has FBA listings"
    for row in fba:
        set_stock(store.merchant_id, row.sku, on_hand=999)
    reset_stats(spapi_sim)

    deliver(handler, lambda_context, push_message(store))

    for row in fba:
        assert amazon_quantity(spapi_sim, store, row.sku) != 999
        assert listing(store, row.sku).last_push_at is None
