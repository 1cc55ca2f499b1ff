"""Feeds (JSON_LISTINGS_FEED), FBA inventory and python-amazon-sp-api clients against the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from jsonschema import Draft7Validator
from sp_api.api import Feeds, Inventories, ListingsItems, Reports
from sp_api.auth import AccessTokenClient
from spapi_simulator import Simulator
from spapi_simulator.schemas import MODELS_DIR, validate_response
from spapi_simulator.sellers import CLIENT_ID, CLIENT_SECRET
from spapi_simulator.testing import Authorized, admin, authorize

MODEL, FBA_MODEL = "feeds_2021-06-30.json", "fbaInventory.json"
SELLER, US = "A1NASELLER0001", "ATVPDKIKX0DER"
QTY = "/attributes/fulfillment_availability"


def truth(sim: Simulator) -> list[dict[str, Any]]:
    return list(admin(sim, "GET", "listings", seller_id=SELLER, marketplace_id=US)["listings"])


def submit(sim: Simulator, auth: Authorized, document: bytes) -> str:
    created = requests.post(f"{sim.url}/feeds/2021-06-30/documents", json={"contentType": "application/json"},
                            headers=auth.headers, timeout=10)  # fmt: skip
    assert created.status_code == 201
    validate_response(MODEL, "createFeedDocument", 201, created.json())
    wrong_type = requests.put(
        created.json()["url"], data=document, headers={"Content-Type": "text/tsv"}, timeout=10
    )
    assert wrong_type.status_code == 403
    assert requests.put(
        created.json()["url"], data=document, headers={"Content-Type": "application/json"}, timeout=10
    ).ok
    spec = {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": [US],
        "inputFeedDocumentId": created.json()["feedDocumentId"],
    }
    feed = requests.post(f"{sim.url}/feeds/2021-06-30/feeds", json=spec, headers=auth.headers, timeout=10)
    assert feed.status_code == 202, feed.text
    validate_response(MODEL, "createFeed", 202, feed.json())
    return str(feed.json()["feedId"])


def feed_status(sim: Simulator, auth: Authorized, feed_id: str) -> dict[str, Any]:
    answer = requests.get(f"{sim.url}/feeds/2021-06-30/feeds/{feed_id}", headers=auth.headers, timeout=10)
    validate_response(MODEL, "getFeed", 200, answer.json())
    return dict(answer.json())


def message(message_id: int, sku: str, product_type: str, quantity: Any) -> dict[str, Any]:
    value = [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]
    return {"messageId": message_id, "sku": sku, "operationType": "PATCH", "productType": product_type,
            "patches": [{"op": "merge", "path": QTY, "value": value}]}  # fmt: skip


def test_feed_applies_valid_messages_and_reports_rejected_skus(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(feed_seconds=30)
    auth = authorize(sim)
    listings = truth(sim)
    fbm = [x for x in listings if x["fulfillment_channel"] == "DEFAULT"][:3]
    fba = next(x for x in listings if x["fulfillment_channel"] != "DEFAULT")
    messages = [message(i + 1, x["sku"], x["product_type"], 500 + i) for i, x in enumerate(fbm)]
    messages += [message(10, "UNKNOWN-SKU", "SHOES", 1), message(11, fba["sku"], fba["product_type"], 1),
                 {"messageId": 12, "sku": fbm[0]["sku"], "operationType": "PATCH"}]  # fmt: skip
    document = {"header": {"sellerId": SELLER, "version": "2.0"}, "messages": messages}
    feed_id = submit(sim, auth, json.dumps(document).encode())
    assert feed_status(sim, auth, feed_id)["processingStatus"] == "IN_QUEUE"
    admin(sim, "POST", "clock/advance", json={"seconds": 31})
    done = feed_status(sim, auth, feed_id)
    assert done["processingStatus"] == "DONE"
    meta = requests.get(f"{sim.url}/feeds/2021-06-30/documents/{done['resultFeedDocumentId']}",
                        headers=auth.headers, timeout=10)  # fmt: skip
    validate_response(MODEL, "getFeedDocument", 200, meta.json())
    report = requests.get(meta.json()["url"], timeout=10).json()
    schema = json.loads((MODELS_DIR / "listings-feed-processing-report-schema-v2.json").read_text())
    assert not list(Draft7Validator(schema).iter_errors(report))
    assert report["summary"]["messagesProcessed"] == 6 and report["summary"]["messagesAccepted"] == 3
    assert report["summary"]["messagesInvalid"] == 3
    assert {i["messageId"] for i in report["issues"]} == {10, 11, 12}
    after = {x["sku"]: x["quantity"] for x in truth(sim)}
    assert [after[x["sku"]] for x in fbm] == [500, 501, 502] and after[fba["sku"]] == fba["quantity"]
    assert admin(sim, "GET", "feeds", seller_id=SELLER)["feeds"][0]["summary"]["messagesAccepted"] == 3


def test_broken_feed_is_fatal_and_six_feeds_in_five_minutes_are_throttled(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(feed_seconds=0, quota_scale=1000)
    auth = authorize(sim)
    feed_id = submit(sim, auth, b'{"header": {"sellerId": "A1NASELLER0001"}, "messages": []}')
    assert feed_status(sim, auth, feed_id)["processingStatus"] == "FATAL"
    slow = spapi_sim_factory(feed_seconds=0, quota_scale=1)
    slow_auth = authorize(slow)
    for _ in range(5):
        submit(slow, slow_auth, b"{}")
    created = requests.post(f"{slow.url}/feeds/2021-06-30/documents", json={"contentType": "application/json"},
                            headers=slow_auth.headers, timeout=10).json()  # fmt: skip
    spec = {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": [US],
        "inputFeedDocumentId": created["feedDocumentId"],
    }
    throttled = requests.post(
        f"{slow.url}/feeds/2021-06-30/feeds", json=spec, headers=slow_auth.headers, timeout=10
    )
    assert throttled.status_code == 429 and throttled.json()["errors"][0]["code"] == "QuotaExceeded"


def test_fba_inventory_summaries_page_through_every_fba_listing(spapi_sim_factory: Any) -> None:
    sim = spapi_sim_factory(skus=400)
    auth = authorize(sim)
    params = {"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US, "details": "true"}
    url = f"{sim.url}/fba/inventory/v1/summaries"
    answer = requests.get(url, params=params, headers=auth.headers, timeout=10).json()
    seen: list[dict[str, Any]] = []
    while True:
        validate_response(FBA_MODEL, "getInventorySummaries", 200, answer)
        seen.extend(answer["payload"]["inventorySummaries"])
        token = answer.get("pagination", {}).get("nextToken")
        if not token:
            break
        answer = requests.get(
            url, params={**params, "nextToken": token}, headers=auth.headers, timeout=10
        ).json()
    fba = {x["sku"]: x for x in truth(sim) if x["fulfillment_channel"] != "DEFAULT"}
    assert len(seen) > 50 and sorted(s["sellerSku"] for s in seen) == sorted(fba)
    assert all(s["inventoryDetails"]["fulfillableQuantity"] == fba[s["sellerSku"]]["quantity"] for s in seen)
    one = requests.get(
        url, params={**params, "sellerSkus": seen[3]["sellerSku"]}, headers=auth.headers, timeout=10
    )
    assert [s["sellerSku"] for s in one.json()["payload"]["inventorySummaries"]] == [seen[3]["sellerSku"]]
    first = requests.get(url, params=params, headers=auth.headers, timeout=10).json()
    admin(sim, "POST", "clock/advance", json={"seconds": 31})
    expired = requests.get(url, params={**params, "nextToken": first["pagination"]["nextToken"]},
                           headers=auth.headers, timeout=10)  # fmt: skip
    assert expired.status_code == 400 and "nextToken" in expired.json()["errors"][0]["message"]


class SimMarketplace:
    def __init__(self, sim: Simulator) -> None:
        self.endpoint, self.marketplace_id, self.region = sim.url, US, "us-east-1"


def token_client(sim: Simulator) -> type[AccessTokenClient]:
    scheme, host = sim.url.split("//")
    return type("SimTokenClient", (AccessTokenClient,), {"scheme": scheme + "//", "host": host})


def test_python_amazon_sp_api_clients_talk_to_the_simulator(spapi_sim_factory: Any, tmp_path: Path) -> None:
    sim = spapi_sim_factory(report_seconds=0, feed_seconds=0)
    auth = authorize(sim)
    kwargs: dict[str, Any] = {
        "refresh_token": auth.refresh_token,
        "credentials": {"lwa_app_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET},
        "auth_token_client_class": token_client(sim),
    }
    market = SimMarketplace(sim)
    listings = ListingsItems(market, version="2021-08-01", **kwargs)
    found = listings.search_listings_items(SELLER, marketplaceIds=[US], pageSize=5).payload
    assert len(found["items"]) == 5
    fbm = next(x for x in truth(sim) if x["fulfillment_channel"] == "DEFAULT")
    body = {"productType": fbm["product_type"],
            "patches": [{"op": "merge", "path": QTY, "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 9}]}]}  # fmt: skip
    assert (
        listings.patch_listings_item(SELLER, fbm["sku"], body=body, marketplaceIds=[US]).payload["status"]
        == "ACCEPTED"
    )
    reports = Reports(market, **kwargs)
    report_id = reports.create_report(
        reportType="GET_MERCHANT_LISTINGS_ALL_DATA", marketplaceIds=[US]
    ).payload["reportId"]
    document_id = reports.get_report(report_id).payload["reportDocumentId"]
    text = reports.get_report_document(document_id, download=True).payload["document"]
    row = next(line.split("\t") for line in text.splitlines() if f"\t{fbm['sku']}\t" in line)
    assert row[5] == "9"
    feeds = Feeds(market, **kwargs)
    document = {
        "header": {"sellerId": SELLER, "version": "2.0"},
        "messages": [message(1, fbm["sku"], fbm["product_type"], 4)],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(document))
    with path.open() as handle:
        _, created = feeds.submit_feed(
            "JSON_LISTINGS_FEED", handle, content_type="application/json", marketplaceIds=[US]
        )
    assert feeds.get_feed(created.payload["feedId"]).payload["processingStatus"] == "DONE"
    assert next(x for x in truth(sim) if x["sku"] == fbm["sku"])["quantity"] == 4
    inventory = Inventories(market, **kwargs).get_inventory_summary_marketplace(
        details=True, marketplaceIds=[US]
    )
    assert inventory.payload["granularity"]["granularityId"] == US
    assert inventory.payload["inventorySummaries"]
