"""Listings Items API over HTTP: search pagination and the 1,000 cap, get, patch changing the ground truth."""

from __future__ import annotations

from typing import Any

import requests
from spapi_simulator import Simulator
from spapi_simulator.clock import iso
from spapi_simulator.schemas import validate_response
from spapi_simulator.testing import Authorized, admin, authorize

MODEL = "listingsItems_2021-08-01.json"
SELLER, US = "A1NASELLER0001", "ATVPDKIKX0DER"
ITEMS = f"/listings/2021-08-01/items/{SELLER}"
QTY = "/attributes/fulfillment_availability"


def search(sim: Simulator, auth: Authorized, **params: Any) -> dict[str, Any]:
    answer = requests.get(
        sim.url + ITEMS, params={"marketplaceIds": US, **params}, headers=auth.headers, timeout=10
    )
    assert answer.status_code == 200, answer.text
    validate_response(MODEL, "searchListingsItems", 200, answer.json())
    return dict(answer.json())


def all_skus(sim: Simulator, auth: Authorized, **params: Any) -> list[str]:
    answer = search(sim, auth, **params)
    skus = [i["sku"] for i in answer["items"]]
    while "pagination" in answer:
        answer = search(sim, auth, pageToken=answer["pagination"]["nextToken"], **params)
        skus.extend(i["sku"] for i in answer["items"])
    return skus


def truth(sim: Simulator, sku: str | None = None) -> list[dict[str, Any]]:
    params = {"seller_id": SELLER, "marketplace_id": US, **({"sku": sku} if sku else {})}
    return list(admin(sim, "GET", "listings", **params)["listings"])


def patch(
    sim: Simulator, auth: Authorized, sku: str, body: dict[str, Any], **params: Any
) -> requests.Response:
    return requests.patch(f"{sim.url}{ITEMS}/{sku}", params={"marketplaceIds": US, **params}, json=body,
                          headers=auth.headers, timeout=10)  # fmt: skip


def quantity_patch(product_type: str, quantity: Any) -> dict[str, Any]:
    value = [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]
    return {"productType": product_type, "patches": [{"op": "merge", "path": QTY, "value": value}]}


def test_search_pages_cover_each_listing_once_in_every_sort_order(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(skus=57)
    auth = authorize(sim)
    everything = {x["sku"] for x in truth(sim)}
    newest_first = all_skus(
        sim, auth, pageSize=20, includedData="summaries,fulfillmentAvailability,productTypes"
    )
    assert len(newest_first) == 57 and set(newest_first) == everything
    by_sku = all_skus(sim, auth, pageSize=7, sortBy="sku", sortOrder="ASC")
    assert by_sku == sorted(everything)
    oldest = all_skus(sim, auth, pageSize=9, sortBy="createdDate", sortOrder="ASC")
    assert set(oldest) == everything and len(oldest) == 57
    dates = [i["summaries"][0]["lastUpdatedDate"] for i in search(sim, auth, pageSize=20)["items"]]
    assert dates == sorted(dates, reverse=True)


def test_search_stops_at_1000_items_and_windows_by_last_updated(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(skus=1100)
    auth = authorize(sim)
    first = search(sim, auth, pageSize=20)
    assert first["numberOfResults"] == 1100
    assert len(all_skus(sim, auth, pageSize=20)) == 1000
    listings = truth(sim)
    cut = sorted(x["last_updated"] for x in listings)[-150]
    window = all_skus(sim, auth, pageSize=20, lastUpdatedAfter=cut)
    assert set(window) == {x["sku"] for x in listings if x["last_updated"] >= cut}
    too_big_params: dict[str, Any] = {"marketplaceIds": US, "pageSize": 21}
    too_big = requests.get(sim.url + ITEMS, params=too_big_params, headers=auth.headers, timeout=10)
    assert too_big.status_code == 400 and "pageSize" in too_big.json()["errors"][0]["message"]


def test_identifiers_and_get_listings_item(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    found = search(spapi_sim, auth, identifiers="SKU-00003,SKU-00001,NOPE", identifiersType="SKU")
    assert [i["sku"] for i in found["items"]] == ["SKU-00001", "SKU-00003"]
    every = (
        "summaries,attributes,issues,offers,fulfillmentAvailability,procurement,relationships,productTypes"
    )
    answer = requests.get(f"{spapi_sim.url}{ITEMS}/SKU-00001", params={"marketplaceIds": US, "includedData": every},
                          headers=auth.headers, timeout=10)  # fmt: skip
    assert answer.status_code == 200
    validate_response(MODEL, "getListingsItem", 200, answer.json())
    listing = truth(spapi_sim, "SKU-00001")[0]
    assert answer.json()["summaries"][0]["asin"] == listing["asin"]
    assert answer.json()["fulfillmentAvailability"][0]["quantity"] == listing["quantity"]
    missing = requests.get(
        f"{spapi_sim.url}{ITEMS}/NOPE", params={"marketplaceIds": US}, headers=auth.headers, timeout=10
    )
    assert missing.status_code == 404
    validate_response(MODEL, "getListingsItem", 404, missing.json())


def test_patch_changes_the_quantity_amazon_shows_after_the_listing_delay(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(listing_delay=120)
    auth = authorize(sim)
    listing = next(x for x in truth(sim) if x["fulfillment_channel"] == "DEFAULT")
    answer = patch(
        sim, auth, listing["sku"], quantity_patch(listing["product_type"], listing["quantity"] + 11)
    )
    assert answer.status_code == 200
    validate_response(MODEL, "patchListingsItem", 200, answer.json())
    assert answer.json()["status"] == "ACCEPTED" and answer.json()["submissionId"]
    assert truth(sim, listing["sku"])[0]["quantity"] == listing["quantity"]
    admin(sim, "POST", "clock/advance", json={"seconds": 121})
    after = truth(sim, listing["sku"])[0]
    assert after["quantity"] == listing["quantity"] + 11 and after["last_updated"] > listing["last_updated"]
    newest = search(sim, auth, pageSize=1, includedData="fulfillmentAvailability")["items"][0]
    assert newest["sku"] == listing["sku"]
    assert newest["fulfillmentAvailability"][0]["quantity"] == listing["quantity"] + 11
    since = all_skus(sim, auth, lastUpdatedAfter=iso(sim.clock.time() - 5))
    assert since == [listing["sku"]]


def test_patch_refuses_unknown_fba_and_malformed_with_issues_or_400(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fba = next(x for x in truth(spapi_sim) if x["fulfillment_channel"] == "AMAZON_NA")
    fbm = next(x for x in truth(spapi_sim) if x["fulfillment_channel"] == "DEFAULT")
    for sku, body in (("NO-SUCH-SKU", quantity_patch("SHOES", 3)),
                      (fba["sku"], quantity_patch(fba["product_type"], 3)),
                      (fbm["sku"], quantity_patch(fbm["product_type"], -1)),
                      (fbm["sku"], quantity_patch("NOT_ITS_TYPE", 3))):  # fmt: skip
        answer = patch(spapi_sim, auth, sku, body)
        assert answer.status_code == 200
        validate_response(MODEL, "patchListingsItem", 200, answer.json())
        assert answer.json()["status"] == "INVALID" and answer.json()["issues"][0]["severity"] == "ERROR"
    assert truth(spapi_sim, fba["sku"])[0]["quantity"] == fba["quantity"]
    assert truth(spapi_sim, fbm["sku"])[0]["quantity"] == fbm["quantity"]
    bad = patch(spapi_sim, auth, fbm["sku"], {"productType": "X", "patches": [{"op": "upsert", "path": QTY}]})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "InvalidInput"
    preview = patch(
        spapi_sim, auth, fbm["sku"], quantity_patch(fbm["product_type"], 5), mode="VALIDATION_PREVIEW"
    )
    assert (
        preview.json()["status"] == "VALID" and truth(spapi_sim, fbm["sku"])[0]["quantity"] == fbm["quantity"]
    )
    other_seller = requests.get(f"{spapi_sim.url}/listings/2021-08-01/items/A2NASELLER0002",
                                params={"marketplaceIds": US}, headers=auth.headers, timeout=10)  # fmt: skip
    assert other_seller.status_code == 403


def test_catalog_shares_skus_across_the_unified_na_account(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(skus=200)
    us = {x["sku"]: x for x in admin(sim, "GET", "listings", seller_id=SELLER, marketplace_id=US)["listings"]}
    ca = {
        x["sku"]: x
        for x in admin(sim, "GET", "listings", seller_id=SELLER, marketplace_id="A2EUQ1WTGCTBG2")["listings"]
    }
    shared = set(us) & set(ca)
    assert 80 < len(shared) < 180 and any(s.startswith("SKU-CA-") for s in ca)
    assert all(us[s]["asin"] == ca[s]["asin"] for s in shared)
    assert any(us[s]["fulfillment_channel"] != ca[s]["fulfillment_channel"] for s in shared)
    again = spapi_sim_factory(skus=200)
    assert (
        admin(again, "GET", "listings", seller_id=SELLER, marketplace_id=US)["listings"][5]["title"]
        == us[sorted(us)[5]]["title"]
    )
