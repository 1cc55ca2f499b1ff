"""Where orders meet the catalog (any SKU, FBA stock follows FBA shipments) and the catalog's clock binding."""

from __future__ import annotations

from typing import Any

import requests
from spapi_simulator import Simulator
from spapi_simulator.catalog import SELLABLE_LIMIT
from spapi_simulator.clock import parse_iso
from spapi_simulator.testing import admin, authorize

SELLER, US = "A1NASELLER0001", "ATVPDKIKX0DER"
FBA_SUMMARIES = "/fba/inventory/v1/summaries"


def listings(sim: Simulator, **params: Any) -> list[dict[str, Any]]:
    found = admin(sim, "GET", "listings", seller_id=SELLER, marketplace_id=US, **params)
    return list(found["listings"])


def test_a_large_world_starts_without_generating_listing_tables(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(skus=SELLABLE_LIMIT + 500, orders=30)
    assert list(sim.world.catalog.generated_tables()) == []  # orders came from the catalog's facts
    skus = {
        i["sku"] for o in admin(sim, "GET", "orders", seller_id=SELLER, marketplace_id=US) for i in o["items"]
    }
    assert skus and all(int(sku.rsplit("-", 1)[1]) <= SELLABLE_LIMIT for sku in skus)
    truth = {x["sku"]: x for x in listings(sim)}
    assert skus <= set(truth)  # the facts agree with the generated table


def test_admin_orders_take_any_listed_sku_and_fba_stock_drops_when_amazon_ships(
    spapi_sim_factory: Any,
) -> None:
    sim = spapi_sim_factory(skus=SELLABLE_LIMIT + 500, orders=5)
    tail = listings(sim, offset=SELLABLE_LIMIT, limit=500)
    assert len(tail) == 500
    fbm = next(x for x in tail if x["fulfillment_channel"] == "DEFAULT")
    fba = next(x for x in tail if x["fulfillment_channel"] != "DEFAULT" and x["quantity"] >= 3)
    merchant_order = admin(
        sim, "POST", "orders", {"seller_id": SELLER, "items": [{"sku": fbm["sku"], "quantity": 1}]}
    )
    assert merchant_order["items"][0]["asin"] == fbm["asin"]
    refused = requests.post(
        f"{sim.url}/_sim/orders",
        json={"seller_id": SELLER, "fulfilled_by": "AMAZON", "items": [{"sku": fbm["sku"], "quantity": 1}]},
        timeout=10,
    )
    assert refused.status_code == 400 and "items[0].sku" in refused.json()["errors"][0]["message"]
    unknown = requests.post(
        f"{sim.url}/_sim/orders",
        json={"seller_id": SELLER, "items": [{"sku": "NO-SUCH-SKU", "quantity": 1}]},
        timeout=10,
    )
    assert unknown.status_code == 400 and "NO-SUCH-SKU" in unknown.json()["errors"][0]["message"]

    order = admin(sim, "POST", "orders", {"seller_id": SELLER, "fulfilled_by": "AMAZON",
                                          "items": [{"sku": fba["sku"], "quantity": 2}]})  # fmt: skip
    assert listings(sim, sku=fba["sku"])[0]["quantity"] == fba["quantity"]  # ordered, not shipped yet
    admin(sim, "POST", f"orders/{order['order_id']}/ship")
    after = listings(sim, sku=fba["sku"])[0]
    assert after["quantity"] == fba["quantity"] - 2
    assert parse_iso(after["last_updated"]) > parse_iso(fba["last_updated"])
    auth = authorize(sim)
    summaries = requests.get(
        sim.url + FBA_SUMMARIES,
        params={"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US,
                "sellerSkus": fba["sku"], "details": "true"},
        headers=auth.headers,
        timeout=10,
    ).json()  # fmt: skip
    assert (
        summaries["payload"]["inventorySummaries"][0]["inventoryDetails"]["fulfillableQuantity"]
        == fba["quantity"] - 2
    )
    merchant_before = listings(sim, sku=fbm["sku"])[0]["quantity"]
    admin(
        sim, "POST", f"orders/{merchant_order['order_id']}/ship"
    )  # the seller's own stock: Amazon's count stays
    assert listings(sim, sku=fbm["sku"])[0]["quantity"] == merchant_before


def test_catalog_runs_on_the_simulator_clock_from_the_start(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(listing_delay=60.0)
    assert sim.world.catalog.clock is sim.clock
    merchant = next(x for x in listings(sim) if x["fulfillment_channel"] == "DEFAULT")
    sku = merchant["sku"]
    auth = authorize(sim)
    patch = {"productType": merchant["product_type"], "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
             "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 777}]}]}  # fmt: skip
    answer = requests.patch(f"{sim.url}/listings/2021-08-01/items/{SELLER}/{sku}", params={"marketplaceIds": US},
                            json=patch, headers=auth.headers, timeout=10)  # fmt: skip
    assert answer.status_code == 200 and answer.json()["status"] == "ACCEPTED", answer.text
    due = sim.clock.time() + 60.0
    table = sim.world.catalog.table(SELLER, US)
    assert table.get(sku).quantity != 777
    admin(sim, "POST", "clock/advance", {"seconds": 3600})  # no catalog call in between
    listing = table.get(sku)  # read without the catalog applying anything itself
    assert listing.quantity == 777
    assert due - 1.0 <= listing.last_updated <= due + 1.0  # changed when it was due, not when someone looked
