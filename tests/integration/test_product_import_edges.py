"""Product import edges: malformed and unknown rows, a revoked grant, duplicate SQS delivery, big catalogs in
slices, warnings for a unified account (the real handler, moto and the SP-API simulator)."""

from __future__ import annotations

import product_import_support as support
import pytest
from fixtures_stores import connected_store, sim_stack
from spapi_simulator import reports_api
from spapi_simulator.testing import admin
from storesync.dal import job_state
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.store_queries import STATUS_NEEDS_REAUTHORIZATION, get_store

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"


def test_malformed_and_unknown_rows_are_skipped_with_reasons_and_the_rest_is_imported(
    make_stack, spapi_sim, load_function, lambda_context, monkeypatch: pytest.MonkeyPatch
):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US)
    skus = sorted(support.amazon_listings(spapi_sim, store))
    bad_quantity, unknown_channel, no_sku, tab_title = skus[0], skus[1], skus[2], skus[3]
    original = reports_api.listing_row

    def garbled(listing):  # what a broken or unexpected Amazon flat file could hold
        row = original(listing)
        columns = reports_api.COLUMNS
        if listing.sku == bad_quantity:
            row[columns.index("quantity")] = "lots"
            row[columns.index("fulfillment-channel")] = "DEFAULT"
        elif listing.sku == unknown_channel:
            row[columns.index("fulfillment-channel")] = "MARS_FULFILLMENT"
        elif listing.sku == no_sku:
            row[columns.index("seller-sku")] = ""
        elif listing.sku == tab_title:
            row[columns.index("item-name")] = "Unquoted\ttab title"
        return row

    monkeypatch.setattr(reports_api, "listing_row", garbled)
    driver = support.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
    driver.deliver(store, "full")

    stored = support.listings(store)
    assert set(stored) == set(skus) - {bad_quantity, unknown_channel, no_sku}
    assert support.run_totals(store)["skipped"] == 3
    errors = [e.message for run in support.product_runs(store) for e in run.errors]
    assert any(bad_quantity in e and "'lots' is not a whole number" in e for e in errors)
    assert any(unknown_channel in e and "MARS_FULFILLMENT" in e for e in errors)
    assert any("seller-sku is blank" in e for e in errors)
    fresh = get_store(store.merchant_id, store.store_id)
    assert fresh is not None and fresh.last_runs["products"]["result"] == "partial"
    assert "3 rows skipped" in fresh.last_runs["products"]["summary"]


def test_a_revoked_grant_moves_the_store_to_needs_reauthorization(
    make_stack, spapi_sim, load_function, lambda_context
):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US)
    admin(spapi_sim, "POST", f"grants/{SELLER}/revoke")
    driver = support.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
    driver.deliver(store, "incremental")
    fresh = get_store(store.merchant_id, store.store_id)
    assert fresh is not None and fresh.status == STATUS_NEEDS_REAUTHORIZATION
    assert support.listings(store) == {}
    (run,) = support.product_runs(store)
    assert run.result == "error" and "reauthorize" in run.errors[0].message


def test_duplicate_sqs_delivery_never_counts_twice_nor_sets_starting_inventory_twice(
    make_stack, spapi_sim, load_function, lambda_context
):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US, starting_inventory="match_amazon")
    amazon = support.amazon_listings(spapi_sim, store)
    driver = support.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
    first = support.sqs_event(driver.message(store, "incremental"))
    driver.invoke(first)
    driver.invoke(first)  # SQS delivered the schedule message twice: the second finds the import running
    continuations = driver.receive()
    assert len(continuations) == 1
    again = support.sqs_event(continuations[0]["Body"], continuations[0]["MessageId"])
    driver.invoke(again)
    driver.invoke(again)  # and the continuation twice
    driver.drain()
    assert support.run_totals(store)["new"] == len(amazon)
    fbm = {
        s: i["quantity"] for s, i in amazon.items() if i["fulfillment_channel"] == "DEFAULT" and i["quantity"]
    }
    assert support.on_hand(store.merchant_id) == fbm

    # The merchant counts a shelf; a late duplicate of the first message runs a new incremental import,
    # which adds nothing and never applies the starting inventory again.
    sku = sorted(fbm)[0]
    InventoryItem(warehouse_key(store.merchant_id, "primary"), sku).update(
        actions=[InventoryItem.on_hand.set(fbm[sku] + 100)]
    )
    driver.invoke(first)
    driver.drain()
    assert support.run_totals(store)["new"] == len(amazon)
    assert support.run_totals(store)["starting_inventory"] == len(amazon) - sum(
        1 for i in amazon.values() if i["fulfillment_channel"] != "DEFAULT"
    )
    assert support.on_hand(store.merchant_id)[sku] == fbm[sku] + 100
    assert "import" not in job_state.load_cursor(store.store_id, "products")


def test_a_large_catalog_imports_in_bounded_slices(
    make_stack, spapi_sim_factory, load_function, lambda_context
):
    sim = spapi_sim_factory(skus=3000, orders=0)
    stack = sim_stack(make_stack, sim)
    store = connected_store(sim, stack, SELLER, US)
    driver = support.ProductImportDriver(sim, stack, load_function, lambda_context, slice_rows=500)
    invocations = driver.deliver(store, "full")
    assert invocations >= 1 + 3000 // 500  # the report request, then at least one slice per 500 rows
    stored = support.listings(store)
    assert len(stored) == 3000
    assert all(item.product_type for item in stored.values())
    totals = support.run_totals(store)
    assert totals["new"] == 3000 and totals.get("skipped", 0) == 0
    slices = [r for r in support.product_runs(store) if r.counts.as_dict().get("new")]
    assert len(slices) >= 6 and all(int(r.counts.as_dict()["new"]) <= 500 for r in slices)


def test_a_unified_account_in_two_marketplaces_gets_warnings(
    make_stack, spapi_sim, load_function, lambda_context
):
    stack = sim_stack(make_stack, spapi_sim)
    seller, canada = "A1NASELLER0001", "A2EUQ1WTGCTBG2"
    us_store = connected_store(spapi_sim, stack, seller, US)
    ca_store = connected_store(spapi_sim, stack, seller, canada)
    driver = support.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
    driver.deliver(us_store, "full")
    driver.deliver(ca_store, "full")
    us, ca = support.amazon_listings(spapi_sim, us_store), support.amazon_listings(spapi_sim, ca_store)
    shared = set(us) & set(ca)
    mixed = {
        s
        for s in shared
        if (us[s]["fulfillment_channel"] == "DEFAULT") != (ca[s]["fulfillment_channel"] == "DEFAULT")
    }
    assert shared
    fresh = get_store(ca_store.merchant_id, ca_store.store_id)
    assert fresh is not None
    shared_warning = [w.message for w in fresh.warnings if "several marketplaces" in w.message]
    assert shared_warning and shared_warning[0].startswith(f"Products: {len(shared)} SKU(s)")
    mixed_warning = [w.message for w in fresh.warnings if "FBA in one store" in w.message]
    assert bool(mixed_warning) == bool(mixed)
    # One SKU in two stores is one product of the merchant.
    assert set(support.products(us_store.merchant_id)) == set(us) | set(ca)
