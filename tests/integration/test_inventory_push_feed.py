"""Inventory push on the feed path (JSON_LISTINGS_FEED), against the simulator and moto, real handler."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import inventory_push_support as support
import pytest
from fixtures_stores import connected_store, sim_stack
from spapi_simulator.simulator import Simulator
from storesync.dal.store_queries import get_store


@pytest.fixture
def feed_env(
    make_stack: Callable[..., Any], spapi_sim: Simulator, load_function: Callable[[str], Any]
) -> Iterator[Any]:
    stack = sim_stack(make_stack, spapi_sim)
    os.environ["INVENTORY_FEED_CROSSOVER"] = "2"  # more than 2 changes go by feed
    store = connected_store(spapi_sim, stack, support.SELLER, support.US)
    support.mirror_listings(spapi_sim, store)
    yield store, load_function("InventoryPushFunction")
    os.environ.pop("INVENTORY_FEED_CROSSOVER", None)


def test_many_changes_go_in_one_feed_and_amazon_shows_them(
    feed_env: Any, spapi_sim: Simulator, lambda_context: Any
) -> None:
    store, handler = feed_env
    skus = support.fbm_skus(spapi_sim, support.SELLER, support.US)
    for n, sku in enumerate(skus):
        support.set_stock(store.merchant_id, sku, on_hand=30 + n, allocated=1)
    support.reset_stats(spapi_sim)

    support.deliver(handler, lambda_context, support.push_message(store))
    assert support.listing(store, skus[0]).last_push_status == "pending"
    support.deliver(
        handler, lambda_context, support.push_message(store, trigger="continuation")
    )  # feed still processing
    support.advance(spapi_sim, spapi_sim.config.feed_seconds + 1)
    support.deliver(handler, lambda_context, support.push_message(store, trigger="continuation"))

    for n, sku in enumerate(skus):
        assert support.amazon_quantity(spapi_sim, store, sku) == 29 + n
        assert support.listing(store, sku).last_pushed_quantity == 29 + n
        assert support.listing(store, sku).last_push_status == "accepted"
    calls = support.sim_calls(spapi_sim)
    assert calls["createFeed"] == 1
    assert calls.get("patchListingsItem", 0) == 0
    support.reset_stats(spapi_sim)
    support.deliver(handler, lambda_context, support.push_message(store))
    assert support.sim_calls(spapi_sim) == {}


def test_a_feed_report_rejecting_some_skus_marks_them_and_warns(
    feed_env: Any, spapi_sim: Simulator, lambda_context: Any
) -> None:
    store, handler = feed_env
    skus = support.fbm_skus(spapi_sim, support.SELLER, support.US)
    bad = skus[:2]
    for sku in bad:  # Amazon refuses a product type that is not the listing's
        row = support.listing(store, sku)
        row.product_type = "NOT_THE_PRODUCT_TYPE"
        row.save()
    for sku in skus:
        support.set_stock(store.merchant_id, sku, on_hand=7)

    support.deliver(handler, lambda_context, support.push_message(store))
    support.advance(spapi_sim, spapi_sim.config.feed_seconds + 1)
    support.deliver(handler, lambda_context, support.push_message(store, trigger="continuation"))

    for sku in bad:
        row = support.listing(store, sku)
        assert row.last_push_status == "rejected"
        assert "NOT_THE_PRODUCT_TYPE" in (row.last_push_message or "")
        assert row.last_pushed_quantity != 7
    for sku in skus[2:]:
        assert support.amazon_quantity(spapi_sim, store, sku) == 7
    run = support.last_run(store)
    assert run.result == "partial"
    assert any(bad[0] in e.message for e in run.errors)
    stored_warnings = get_store(store.merchant_id, store.store_id).warnings  # type: ignore[union-attr]
    warnings = [w.message for w in stored_warnings]
    assert sorted(w for w in warnings if "rejected" in w) == sorted(
        w for w in warnings if any(s in w for s in bad)
    )
    assert len([w for w in warnings if "rejected" in w]) == 2
    # the same refused quantity is not sent again
    support.reset_stats(spapi_sim)
    support.deliver(handler, lambda_context, support.push_message(store))
    assert support.sim_calls(spapi_sim) == {}
