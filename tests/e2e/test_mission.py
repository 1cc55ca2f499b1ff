"""The mission end to end: the local runtime from the fixture, driven over HTTP as a merchant and a WMS would
(development token, the consent page, Sync now, a schedule, shipments, stock changes), then storesync's API
compared with the simulator's ground truth (its admin API: what Amazon shows).

Schedules do not run on their own here (one is fired by hand) and pending orders are released only when the test
says so: whatever reaches storesync between two steps came through the step itself, a job message or an
ORDER_CHANGE notification. Every wait polls against a deadline.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from storesync_local.client import StoresyncClient
from storesync_local.runtime import LocalRuntime
from storesync_local.waiting import wait_for

pytestmark = pytest.mark.e2e

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"
DEADLINE = 120.0  # seconds any one step may take on a loaded 2-core machine (a bound, not a pace)
ADDRESS = {
    "name": "Jane Roe",
    "addressLine1": "12 Mission Street",
    "city": "Seattle",
    "stateOrRegion": "WA",
    "postalCode": "98101",
    "countryCode": "US",
}


class Mission:
    """The merchant's HTTP client, the simulator's admin API and the store under test."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.client = StoresyncClient.signed_in(runtime.api_url, f"mission-{uuid.uuid4().hex[:6]}")
        self.store_id = ""

    # -- Amazon (the simulator's ground truth) ------------------------------------------------------------------
    def sim(self, method: str, path: str, body: dict[str, Any] | None = None, **params: str) -> Any:
        answer = requests.request(
            method, self.runtime.spapi_url + path, json=body, params=params or None, timeout=30
        )
        assert answer.status_code < 300, f"simulator {method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def amazon_listings(self) -> dict[str, dict[str, Any]]:
        found = self.sim("GET", "/_sim/listings", seller_id=SELLER, marketplace_id=US)["listings"]
        return {x["sku"]: x for x in found}

    def amazon_order(
        self, sku: str, status: str = "UNSHIPPED", by: str = "MERCHANT", quantity: int = 1
    ) -> str:
        body = {"seller_id": SELLER, "marketplace_id": US, "status": status, "fulfilled_by": by,
                "items": [{"sku": sku, "quantity": quantity}], "address": ADDRESS}  # fmt: skip
        return str(self.sim("POST", "/_sim/orders", body)["order_id"])

    # -- storesync (the HTTP API) ---------------------------------------------------------------------------------
    def connect(self) -> None:
        self.store_id, landing = self.client.connect_store(
            SELLER,
            US,
            "Mission US",
            download_products_and_orders=True,
            starting_inventory="match_amazon",
        )
        assert "outcome=connected" in landing, landing

    def runs(self, job: str) -> list[dict[str, Any]]:
        return list(self.client.get(f"/stores/{self.store_id}/runs", params={"job": job})["runs"])

    def settle(self) -> None:
        assert self.runtime.wait_idle(DEADLINE), self.runtime.queue_depths()

    def sync_now(self, job: str, mode: str | None = None) -> dict[str, Any]:
        """POST /stores/{id}/sync, then the new run of the job in the sync log once every queue is idle."""
        before = len(self.runs(job))
        self.client.post(f"/stores/{self.store_id}/sync", {"job": job, **({"mode": mode} if mode else {})})
        wait_for(lambda: len(self.runs(job)) > before, f"a new {job} run", DEADLINE)
        self.settle()
        latest = self.runs(job)[0]
        assert latest["result"] == "ok", latest
        return latest

    def order(self, amazon_order_id: str) -> dict[str, Any] | None:
        answer = self.client.request("GET", f"/orders/{self.store_id}.{amazon_order_id}", expect=(200, 404))
        return None if answer is None or "error" in answer else dict(answer)

    def wait_order(self, amazon_order_id: str, amazon_status: str) -> dict[str, Any]:
        def arrived() -> dict[str, Any] | None:
            found = self.order(amazon_order_id)
            return found if found and found["amazon_status"].upper() == amazon_status else None

        return dict(wait_for(arrived, f"order {amazon_order_id} {amazon_status} in storesync", DEADLINE))

    def stock(self) -> dict[str, dict[str, Any]]:
        return {x["sku"]: x for x in self.client.get("/inventory")["inventory"]}

    def ship(self, amazon_order_id: str, order_item_id: str, quantity: int, tracking: str) -> dict[str, Any]:
        body = {"carrier": "UPS", "shipping_method": "Ground", "tracking_number": tracking,
                "items": [{"order_item_id": order_item_id, "quantity": quantity}]}  # fmt: skip
        created = self.client.post(f"/orders/{self.store_id}.{amazon_order_id}/shipments", body)
        assert created["tracking_number"] == tracking and created["amazon_carrier_code"] == "UPS", created
        return dict(created)

    # -- both sides -------------------------------------------------------------------------------------------------
    def quantity_mismatches(self) -> dict[str, tuple[int, Any, Any]]:
        """FBM SKUs whose computed quantity (available, no buffer or cap here), last pushed quantity and Amazon's
        quantity are not all the same: sku -> (computed, pushed, Amazon)."""
        amazon = self.amazon_listings()
        wrong = {}
        for sku, entry in self.stock().items():
            ours = [s for s in entry["stores"] if s["store_id"] == self.store_id and s["channel"] == "FBM"]
            if not ours:
                continue
            computed = max(0, entry["available"])
            pushed = ours[0]["last_pushed_quantity"]
            shown = amazon[sku]["quantity"] if sku in amazon else None
            if not computed == pushed == shown:
                wrong[sku] = (computed, pushed, shown)
        return wrong

    def all_store_orders(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            params = {"store_id": self.store_id, "limit": "200", **({"next_token": token} if token else {})}
            page = self.client.get("/orders", params=params)
            found.extend(page["orders"])
            token = page.get("next_token")
            if not token:
                return found


def test_the_mission_end_to_end_matches_what_amazon_shows(
    local_runtime_factory: Callable[..., LocalRuntime],
) -> None:
    runtime = local_runtime_factory(run_schedules=False, pending_release_minutes=None)
    m = Mission(runtime)

    # connect through the consent page; the first product import sets the starting inventory from Amazon
    m.connect()
    store = m.client.get(f"/stores/{m.store_id}")
    assert store["status"] == "active" and store["selling_partner_id"] == SELLER
    amazon_at_start = m.amazon_listings()
    m.sync_now("products", "full")
    listed = m.client.get("/products", params={"store_id": m.store_id, "limit": "200"})["listings"]
    assert {x["sku"] for x in listed} == set(amazon_at_start)
    fbm = {s: x for s, x in amazon_at_start.items() if x["fulfillment_channel"] == "DEFAULT"}
    fba = sorted(s for s in amazon_at_start if s not in fbm)
    assert fbm and fba
    stock = m.stock()
    for sku, listing in fbm.items():
        on_hand = sum(w["on_hand"] for w in stock.get(sku, {}).get("warehouses", []))
        assert on_hand == listing["quantity"], sku
    settings = {"import_pending_orders": True, "remove_stock_for_external_fulfillments": True}
    m.client.patch(f"/stores/{m.store_id}/settings", settings)
    m.settle()

    # orders on Amazon; ORDER_CHANGE notifications bring them and every change (no schedule runs here)
    a, b = sorted(s for s, x in fbm.items() if x["quantity"] >= 5)[:2]
    pending = m.amazon_order(a, "PENDING")
    to_ship = m.amazon_order(a, quantity=2)
    cancelled = m.amazon_order(b)
    outside = m.amazon_order(b)
    by_amazon = m.amazon_order(fba[0], by="AMAZON")
    held = m.wait_order(pending, "PENDING")
    assert held["status"] == "pending" and held["address"] is None
    for order_id in (to_ship, cancelled, outside, by_amazon):
        m.wait_order(order_id, "UNSHIPPED")
    m.sim("POST", f"/_sim/orders/{pending}/release")
    m.sim("POST", f"/_sim/orders/{cancelled}/cancel")
    m.sim("POST", f"/_sim/orders/{outside}/ship")
    released = m.wait_order(pending, "UNSHIPPED")
    assert released["status"] == "open" and released["address"] is not None
    assert {ADDRESS["postalCode"], ADDRESS["addressLine1"]} <= set(map(str, released["address"].values()))
    assert m.wait_order(cancelled, "CANCELLED")["status"] == "cancelled"
    assert m.wait_order(outside, "SHIPPED")["status"] == "shipped_externally"
    assert m.order(by_amazon)["channel"] == "FBA"  # type: ignore[index]
    m.settle()

    # the inventory schedule pushes every FBM listing's available quantity
    runtime.fire_schedule("Inventory")
    wait_for(lambda: m.runs("inventory"), "the scheduled inventory push", DEADLINE)
    m.settle()
    wait_for(lambda: not m.quantity_mismatches(), "Amazon to show the pushed quantities", DEADLINE)

    # the WMS ships the order in two packages; Sync now confirms them on Amazon
    item = m.order(to_ship)["items"][0]  # type: ignore[index]
    tracking = [f"1Z{uuid.uuid4().hex[:16].upper()}" for _ in range(2)]
    first = m.ship(to_ship, item["order_item_id"], 1, tracking[0])
    second = m.ship(to_ship, item["order_item_id"], 1, tracking[1])
    m.sync_now("shipments")

    def confirmed() -> list[dict[str, Any]]:
        ours = m.client.get(f"/orders/{m.store_id}.{to_ship}/shipments")["shipments"]
        return ours if len(ours) == 2 and all(s["push_state"] == "confirmed" for s in ours) else []

    ours = sorted(
        wait_for(confirmed, "both packages confirmed", DEADLINE), key=lambda s: s["package_reference_id"]
    )
    theirs = sorted(
        m.sim("GET", "/_sim/shipments", order_id=to_ship), key=lambda s: s["package_reference_id"]
    )
    assert [(s["package_reference_id"], s["amazon_carrier_code"], s["tracking_number"]) for s in ours] == [
        (s["package_reference_id"], s["carrier_code"], s["tracking_number"]) for s in theirs
    ]
    assert [s["tracking_number"] for s in ours] == [first["tracking_number"], second["tracking_number"]]
    for package in theirs:  # as confirmShipment carried them
        assert [(i["orderItemId"], i["quantity"]) for i in package["items"]] == [(item["order_item_id"], 1)]
    assert m.wait_order(to_ship, "SHIPPED")["status"] == "shipped"

    # the WMS changes stock: a count of 0 reaches Amazon by itself (stock-out), an adjustment on Sync now
    warehouse = next(w for w in m.client.get("/warehouses")["warehouses"] if w["is_primary"])
    c = next(  # a SKU with stock that no order holds
        sku
        for sku, entry in sorted(m.stock().items())
        if sku in fbm
        and sku not in (a, b)
        and entry["available"] > 0
        and all(w["allocated"] == 0 for w in entry["warehouses"])
    )
    m.client.request("PUT", f"/inventory/{warehouse['warehouse_id']}/{c}", json={"on_hand": 0})
    wait_for(lambda: m.amazon_listings()[c]["quantity"] == 0, f"the stock-out of {c} on Amazon", DEADLINE)
    adjustment = {"warehouse_id": warehouse["warehouse_id"], "sku": b, "delta": 7, "reason": "cycle count"}
    applied = m.client.post("/inventory/adjustments", {"adjustments": [adjustment]})["applied"][0]
    m.settle()
    m.sync_now("inventory")
    wait_for(
        lambda: m.amazon_listings()[b]["quantity"] == applied["available"], f"{b}'s new quantity", DEADLINE
    )

    # the end state: quantities, orders and their states agree on both sides
    wait_for(lambda: not m.quantity_mismatches(), "every FBM quantity to agree", DEADLINE)
    expected = {pending: ("UNSHIPPED", "open"), to_ship: ("SHIPPED", "shipped"),
                cancelled: ("CANCELLED", "cancelled"), outside: ("SHIPPED", "shipped_externally"),
                by_amazon: ("UNSHIPPED", "open")}  # fmt: skip
    orders = {o["amazon_order_id"]: o for o in m.all_store_orders()}
    for order_id, (amazon_status, wms_status) in expected.items():
        truth = m.sim("GET", f"/_sim/orders/{order_id}")
        assert (orders[order_id]["amazon_status"].upper(), orders[order_id]["status"]) == (
            truth["status"],
            wms_status,
        )
        assert truth["status"] == amazon_status
    for order_id, stored in orders.items():  # the seeded orders storesync imported too
        truth = m.sim("GET", f"/_sim/orders/{order_id}")
        assert stored["amazon_status"].upper() == truth["status"], order_id
        assert stored["channel"] == ("FBA" if truth["fulfilled_by"] == "AMAZON" else "FBM"), order_id

    # The models are the contract: every request storesync sent during the mission passed the simulator's
    # strict validation against the official SP-API models (no 4xx/5xx answered, 429s aside).
    stats = m.sim("GET", "/_sim/stats")
    assert stats["errors"] == {}, stats
    assert sum(stats["calls"].values()) > 0
