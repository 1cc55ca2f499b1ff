"""Product import end to end: the real handler, moto, the SP-API simulator (first import, incremental, full)."""

from __future__ import annotations

from datetime import UTC, datetime

import product_import_support as support
from fixtures_stores import connected_store, sim_stack
from spapi_simulator.documents import catalog_of
from spapi_simulator.testing import admin
from storesync.dal import job_state
from storesync.dal.inventory import InventoryItem, Warehouse, warehouse_key
from storesync.dal.store_queries import get_store

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"


def _second_warehouse(merchant_id: str, sku: str, quantity: int) -> None:
    now = datetime.now(UTC)
    Warehouse(merchant_id, "backroom", name="Back room", is_primary=False, created_at=now).save()
    InventoryItem(
        warehouse_key(merchant_id, "backroom"), sku, merchant_id=merchant_id, warehouse_id="backroom",
        on_hand=quantity, allocated=0, updated_at=now,
    ).save()  # fmt: skip


def test_first_import_matches_amazon_once_then_incremental_adds_only_new(
    make_stack, spapi_sim, load_function, lambda_context
):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US, starting_inventory="match_amazon")
    amazon = support.amazon_listings(spapi_sim, store)
    fbm = {sku: item for sku, item in amazon.items() if item["fulfillment_channel"] == "DEFAULT"}
    fba = {sku: item for sku, item in amazon.items() if item["fulfillment_channel"] != "DEFAULT"}
    assert fbm and fba
    some_fbm = sorted(fbm)[0]
    _second_warehouse(store.merchant_id, some_fbm, 9)
    driver = support.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)

    assert driver.deliver(store, "incremental") >= 2  # request the report, then import it

    stored = support.listings(store)
    assert set(stored) == set(amazon)
    for sku, item in amazon.items():
        listing = stored[sku]
        assert listing.channel == ("FBA" if sku in fba else "FBM")
        assert listing.asin == item["asin"] and listing.title == item["title"]
        assert listing.product_type == item["product_type"]  # from searchListingsItems
        assert listing.amazon_quantity == item["quantity"]  # FBA: from getInventorySummaries
    assert set(support.products(store.merchant_id)) == set(amazon)
    # Starting inventory: FBM SKUs only, primary = Amazon's quantity, other warehouses 0; FBA never in stock.
    assert support.on_hand(store.merchant_id) == {
        sku: item["quantity"] for sku, item in fbm.items() if item["quantity"]
    }
    assert support.on_hand(store.merchant_id, "backroom") == {some_fbm: 0}
    totals = support.run_totals(store)
    assert totals["new"] == len(amazon) and totals["starting_inventory"] == len(fbm)
    fresh = get_store(store.merchant_id, store.store_id)
    assert fresh is not None and fresh.last_runs["products"]["result"] == "ok"
    assert f"{len(amazon)} new" in fresh.last_runs["products"]["summary"]
    assert job_state.load_cursor(store.store_id, "products")["starting_inventory_done"] is True

    # Amazon changes: a quantity moves, a listing is added. Incremental adds the new SKU only and the
    # starting inventory is never applied again.
    admin(spapi_sim, "POST", "listings", json={"seller_id": SELLER, "marketplace_id": US, "sku": some_fbm,
                                                "quantity": fbm[some_fbm]["quantity"] + 50})  # fmt: skip
    admin(spapi_sim, "POST", "listings", json={"seller_id": SELLER, "marketplace_id": US, "sku": "NEW-SKU-1",
                                                "quantity": 4, "title": "New\tthing", "product_type": "HOME"})  # fmt: skip
    before_runs = len(support.product_runs(store))
    driver.deliver(store, "incremental")
    stored = support.listings(store)
    assert stored["NEW-SKU-1"].title == "New\tthing" and stored["NEW-SKU-1"].product_type == "HOME"
    assert stored[some_fbm].amazon_quantity == fbm[some_fbm]["quantity"]  # incremental leaves known SKUs
    assert support.on_hand(store.merchant_id).get("NEW-SKU-1") is None
    assert support.on_hand(store.merchant_id)[some_fbm] == fbm[some_fbm]["quantity"]
    new_runs = support.product_runs(store)[: len(support.product_runs(store)) - before_runs]
    assert sum(support.run_counts(r).get("new", 0) for r in new_runs) == 1
    assert all(support.run_counts(r).get("starting_inventory", 0) == 0 for r in new_runs)


def test_full_import_updates_known_listings_and_deactivates_those_that_left(
    make_stack, spapi_sim, load_function, lambda_context
):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US, starting_inventory="keep")
    driver = support.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
    driver.deliver(store, "full")
    assert support.on_hand(store.merchant_id) == {}  # "keep": stock untouched
    amazon = support.amazon_listings(spapi_sim, store)
    changed, gone = sorted(amazon)[1], sorted(amazon)[2]
    admin(spapi_sim, "POST", "listings", json={"seller_id": SELLER, "marketplace_id": US, "sku": changed,
                                                "title": "Renamed on Amazon", "price": 77.5})  # fmt: skip
    catalog_of(spapi_sim).table(SELLER, US).remove(gone)  # the seller deleted it in Seller Central

    driver.deliver(store, "full")
    stored = support.listings(store)
    assert stored[changed].title == "Renamed on Amazon" and stored[changed].price == "77.50"
    assert stored[gone].status == "inactive"
    assert gone in support.products(store.merchant_id)  # WMS products are never deleted
    assert all(stored[sku].status == "active" for sku in amazon if sku != gone)
    latest = support.product_runs(store)[0]
    assert support.run_counts(latest).get("deactivated", 0) == 1
    fresh = get_store(store.merchant_id, store.store_id)
    assert fresh is not None and "1 deactivated" in fresh.last_runs["products"]["summary"]

    # It comes back: the next full import makes it active again.
    admin(spapi_sim, "POST", "listings", json={"seller_id": SELLER, "marketplace_id": US, "sku": gone,
                                                "quantity": 3})  # fmt: skip
    driver.deliver(store, "full")
    assert support.listings(store)[gone].status == "active"
