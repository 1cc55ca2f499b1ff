"""Inventory push on the feed path (JSON_LISTINGS_FEED), against the simulator and moto, real handler."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fixtures_stores import connected_store, sim_stack
from inventory_push_support import (
    SELLER,
    US,
    advance,
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
from storesync.dal.store_queries import get_store


@pytest.fixture
def feed_env(
    make_stack: Callable[..., Any], spapi_sim: Simulator, load_function: Callable[[str], Any]
) -> Iterator[Any]:
    stack = sim_stack(make_stack, spapi_sim)
    os.environ["INVENTORY_FEED_CROSSOVER"] = "2"  # more than 2 changes go by feed
    store = connected_store(spapi_sim, stack, SELLER, US)
    mirror_listings(spapi_sim, store)
    yield store, load_function("InventoryPushFunction")
    os.environ.pop("INVENTORY_FEED_CROSSOVER", None)


def test_many_changes_go_in_one_feed_and_amazon_shows_them(
    feed_env: Any, spapi_sim: Simulator, lambda_context: Any
) -> None:
    store, handler = feed_env
    skus = fbm_skus(spapi_sim, SELLER, US)
    for n, sku in enumerate(skus):
        set_stock(store.merchant_id, sku, on_hand=30 + n, allocated=1)
    reset_stats(spapi_sim)

    deliver(handler, lambda_context, push_message(store))
    assert listing(store, skus[0]).last_push_status == "pending"
    deliver(handler, lambda_context, push_message(store, trigger="continuation"))  # feed still processing
    advance(spapi_sim, spapi_sim.config.feed_seconds + 1)
    deliver(handler, lambda_context, push_message(store, trigger="continuation"))

    for n, sku in enumerate(skus):
        assert amazon_quantity(spapi_sim, store, sku) == 29 + n
        assert listing(store, sku).last_pushed_quantity == 29 + n
        assert listing(store, sku).last_push_status == "accepted"
    calls = sim_calls(spapi_sim)
    assert calls["createFeed"] == 1
    assert calls.get("patchListingsItem", 0) == 0
    reset_stats(spapi_sim)
    deliver(handler, lambda_context, push_message(store))
    assert sim_calls(spapi_sim) == {}


def test_a_feed_report_rejecting_some_skus_marks_them_and_warns(
    feed_env: Any, spapi_sim: Simulator, lambda_context: Any
) -> None:
    store, handler = feed_env
    skus = fbm_skus(spapi_sim, SELLER, US)
    bad = skus[:2]
    for sku in bad:  # Amazon refuses a product type that is not the listing's
        row = listing(store, sku)
        row.product_type = "NOT_THE_PRODUCT_TYPE"
        row.save()
    for sku in skus:
        set_stock(store.merchant_id, sku, on_hand=7)

    deliver(handler, lambda_context, push_message(store))
    advance(spapi_sim, spapi_sim.config.feed_seconds + 1)
    deliver(handler, lambda_context, push_message(store, trigger="continuation"))

    for sku in bad:
        row = listing(store, sku)
        assert row.last_push_status == "rejected"
        assert "NOT_THE_PRODUCT_TYPE" in (row.last_push_message or "")
        assert row.last_pushed_quantity != 7
    for sku in skus[2:]:
        assert amazon_quantity(spapi_sim, store, sku) == 7
    run = last_run(store)
    assert run.result == "partial"
    assert any(bad[0] in e.message for e in run.errors)
    stored_warnings = get_store(store.merchant_id, store.store_id).warnings  # type: ignore[union-attr]
    warnings = [w.message for w in stored_warnings]
    assert sorted(w for w in warnings if "rejected" in w) == sorted(
        w for w in warnings if any(s in w for s in bad)
    )
    assert len([w for w in warnings if "rejected" in w]) == 2
    # the same refused quantity is not sent again
    reset_stats(spapi_sim)
    deliver(handler, lambda_context, push_message(store))
    assert sim_calls(spapi_sim) == {}
