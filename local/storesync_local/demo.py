"""`make demo`: a scripted walk through the mission against a running system, or one started for the demo.

1. a merchant signs in (development token) and connects a store through Amazon's consent page (HTTP, as a
   browser would), with "Match what is in Amazon" as starting inventory and pending orders imported;
2. products are imported and the primary warehouse takes Amazon's quantities;
3. orders arrive on Amazon (ORDER_CHANGE notifications reach storesync within seconds): a pending FBM order
   that is then released, a released FBM order, an FBA order, one cancelled, one shipped outside the WMS;
4. available quantities are pushed to Amazon;
5. the WMS ships the released order (POST /orders/{id}/shipments) and the confirmation is pushed;
6. a table of what storesync and the simulated Amazon each show, and whether they agree (exit code 1 if not).

Actions go through the HTTP API and the simulator's admin API; storesync's side of the table is read from its
tables (moto) so it shows exactly what is stored.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests

from .client import ApiError, StoresyncClient
from .runtime import LocalRuntime, RuntimeConfig

# (seller, marketplace) pairs the demo may connect; a pair already connected is skipped (one store each).
CANDIDATES = [
    ("A2NASELLER0002", "ATVPDKIKX0DER"),
    ("A1NASELLER0001", "A2EUQ1WTGCTBG2"),
    ("A1NASELLER0001", "A1AM78C64UM0Y8"),
    ("A3EUSELLER0003", "A1PA6795UKMFR9"),
    ("A3EUSELLER0003", "A13V1IB3VIYZZH"),
    ("A4FESELLER0004", "A39IBJ37TRP1C6"),
    ("A1NASELLER0001", "ATVPDKIKX0DER"),
]


class DemoFailed(RuntimeError):
    pass


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise DemoFailed(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Demo:
    api_url: str
    spapi_url: str
    moto_url: str
    stack_name: str
    timeout: float = 180.0
    merchant_id: str = field(default_factory=lambda: f"demo-{uuid.uuid4().hex[:6]}")
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, storesync, amazon, agree
    shipped: bool = False

    def __post_init__(self) -> None:
        from storesync.dal import bind_tables

        bind_tables(self.stack_name, "us-east-1", self.moto_url)
        self.sqs: Any = boto3.client("sqs", region_name="us-east-1", endpoint_url=self.moto_url)
        self.client = StoresyncClient.signed_in(self.api_url, self.merchant_id)
        self.store_id = ""
        self.seller_id = ""
        self.marketplace_id = ""

    # -- helpers ---------------------------------------------------------------------------------------------
    def sim(self, method: str, path: str, body: dict[str, Any] | None = None, **params: str) -> Any:
        answer = requests.request(method, self.spapi_url + path, json=body, params=params or None, timeout=30)
        if answer.status_code >= 300:
            raise DemoFailed(f"simulator {method} {path}: HTTP {answer.status_code}: {answer.text[:300]}")
        return answer.json()

    def say(self, text: str) -> None:
        print(text, flush=True)

    def queue_depth(self, logical_id: str) -> int:
        url = self.sqs.get_queue_url(QueueName=f"{self.stack_name}-{logical_id}")["QueueUrl"]
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attrs.get(n, 0)) for n in names)

    def run_job(self, job: str, queue: str, mode: str | None = None) -> None:
        """Sync now, then wait for a new run of the job and for its queue (continuations included) to drain."""
        before = len(self.client.get(f"/stores/{self.store_id}/runs", params={"job": job})["runs"])
        self.client.post(f"/stores/{self.store_id}/sync", {"job": job, **({"mode": mode} if mode else {})})

        def settled() -> bool:
            runs = self.client.get(f"/stores/{self.store_id}/runs", params={"job": job})["runs"]
            return len(runs) > before and self.queue_depth(queue) == 0

        wait_for(settled, self.timeout, f"the {job} job")
        wait_for(lambda: self.queue_depth(queue) == 0, self.timeout, f"the {job} queue to drain")
        latest = self.client.get(f"/stores/{self.store_id}/runs", params={"job": job, "limit": "1"})["runs"][
            0
        ]
        self.say(f"   {job} run: {latest['result']} {latest.get('counts', {})} {latest.get('errors') or ''}")

    # -- the walk --------------------------------------------------------------------------------------------
    def connect(self) -> None:
        self.say(f"1. Merchant {self.merchant_id} connects an Amazon store through the consent page")
        for seller_id, marketplace_id in CANDIDATES:
            try:
                store_id, landing = self.client.connect_store(
                    seller_id,
                    marketplace_id,
                    f"Demo store {marketplace_id}",
                    download_products_and_orders=True,
                    starting_inventory="match_amazon",
                )
            except ApiError as exc:
                if "already_connected" in str(exc) or "already connected" in str(exc):
                    continue
                raise
            self.store_id, self.seller_id, self.marketplace_id = store_id, seller_id, marketplace_id
            store = self.client.get(f"/stores/{store_id}")
            self.say(f"   {seller_id} in {marketplace_id}: store {store_id} is {store['status']} ({landing})")
            self.client.patch(
                f"/stores/{store_id}/settings",
                {"import_pending_orders": True, "remove_stock_for_external_fulfillments": True},
            )
            return
        raise DemoFailed("every demo seller and marketplace is already connected: restart `make run`")

    def import_products(self) -> None:
        self.say("2. Products are imported; the primary warehouse takes Amazon's quantities")
        self.run_job("products", "ProductImportQueue", "full")
        self.listings = {
            x["sku"]: x
            for x in self.sim(
                "GET", "/_sim/listings", seller_id=self.seller_id, marketplace_id=self.marketplace_id
            )["listings"]
        }
        from storesync.dal.products import Listing

        imported = list(Listing.query(self.store_id))
        self.say(f"   {len(imported)} listings in storesync, {len(self.listings)} on Amazon")
        self.rows.append(
            (
                "listings imported",
                str(len(imported)),
                str(len(self.listings)),
                _agree(imported, self.listings),
            )
        )

    def orders_arrive(self) -> None:
        self.say(
            "3. Orders arrive on Amazon (pending then released, FBM and FBA, cancelled, shipped outside)"
        )
        fbm = [
            x for x in self.listings.values() if x["fulfillment_channel"] == "DEFAULT" and x["quantity"] >= 3
        ]
        fba = [x for x in self.listings.values() if x["fulfillment_channel"] != "DEFAULT"]
        if len(fbm) < 2:
            raise DemoFailed("the demo store has fewer than two merchant-fulfilled SKUs with stock")

        def order(sku: str, status: str = "UNSHIPPED", by: str = "MERCHANT", quantity: int = 1) -> str:
            body = {"seller_id": self.seller_id, "marketplace_id": self.marketplace_id, "status": status,
                    "fulfilled_by": by, "items": [{"sku": sku, "quantity": quantity}]}  # fmt: skip
            return str(self.sim("POST", "/_sim/orders", body)["order_id"])

        a, b = fbm[0]["sku"], fbm[1]["sku"]
        self.orders = {
            "pending, then released": order(a, "PENDING"),
            "released FBM (shipped by the WMS)": order(a, quantity=2),
            "cancelled": order(b),
            "shipped outside the WMS": order(b),
        }
        if fba:
            self.orders["FBA"] = order(fba[0]["sku"], by="AMAZON")
        self.skus = sorted({a, b})
        self.wait_orders({k: "PENDING" if k.startswith("pending") else "UNSHIPPED" for k in self.orders})
        self.sim("POST", f"/_sim/orders/{self.orders['pending, then released']}/release")
        self.sim("POST", f"/_sim/orders/{self.orders['cancelled']}/cancel")
        self.sim("POST", f"/_sim/orders/{self.orders['shipped outside the WMS']}/ship")
        expected = {
            "pending, then released": "UNSHIPPED",
            "cancelled": "CANCELLED",
            "shipped outside the WMS": "SHIPPED",
        }
        self.wait_orders(expected)

    def wait_orders(self, expected: dict[str, str]) -> None:
        from storesync.dal.orders import Order

        def arrived() -> bool:
            for label, status in expected.items():
                try:
                    stored = Order.get(self.store_id, self.orders[label])
                except Order.DoesNotExist:
                    return False
                if stored.amazon_status.upper() != status:
                    return False
            return True

        wait_for(arrived, self.timeout, "the orders to reach storesync (ORDER_CHANGE notifications)")
        self.say(f"   storesync has {', '.join(f'{k}: {v}' for k, v in expected.items())}")

    def push_stock(self) -> None:
        self.say("4. Available quantities are pushed to Amazon")
        self.run_job("inventory", "InventoryPushQueue")

    def ship(self) -> None:
        self.say("5. The WMS ships the released order; the confirmation is pushed to Amazon")
        order_id = self.orders["released FBM (shipped by the WMS)"]
        from storesync.dal.orders import Order

        stored = Order.get(self.store_id, order_id)
        body = {
            "carrier": "UPS",
            "shipping_method": "Ground",
            "tracking_number": f"1Z{uuid.uuid4().hex[:16].upper()}",
            "items": [{"order_item_id": i.order_item_id, "quantity": int(i.quantity)} for i in stored.items],
        }
        try:
            self.client.post(f"/orders/{self.store_id}.{order_id}/shipments", body)
        except ApiError as exc:
            if exc.response.status_code != 404:
                raise
            self.say("   the shipments API (POST /orders/{id}/shipments) is not there yet: step skipped")
            self.shipped = False
            return
        self.shipped = True
        self.run_job("shipments", "ShipmentPushQueue")
        self.run_job("inventory", "InventoryPushQueue")

    # -- the table -------------------------------------------------------------------------------------------
    def compare(self) -> bool:
        from storesync.dal.inventory import InventoryItem, Warehouse
        from storesync.dal.orders import Order
        from storesync.dal.shipments import Shipment

        primary = next(w for w in Warehouse.query(self.merchant_id) if w.is_primary)
        amazon_now = {
            x["sku"]: x
            for x in self.sim(
                "GET", "/_sim/listings", seller_id=self.seller_id, marketplace_id=self.marketplace_id
            )["listings"]
        }
        for sku in self.skus:
            item = InventoryItem.get(f"{self.merchant_id}#{primary.warehouse_id}", sku)
            available = int(item.on_hand) - int(item.allocated)
            ours = f"on hand {int(item.on_hand)}, allocated {int(item.allocated)}, available {available}"
            theirs = f"quantity {amazon_now[sku]['quantity']}"
            self.rows.append((f"stock {sku}", ours, theirs, _yes(available == amazon_now[sku]["quantity"])))
        for label, order_id in self.orders.items():
            stored = Order.get(self.store_id, order_id)
            truth = self.sim("GET", f"/_sim/orders/{order_id}")
            holds = f" holds {list(stored.holds)}" if stored.holds else ""
            ours = f"{stored.amazon_status} {stored.channel}{holds}"
            self.rows.append((f"order {order_id} ({label})", ours, truth["status"],
                              _yes(stored.amazon_status.upper() == truth["status"] and not stored.holds)))  # fmt: skip
        order_id = self.orders["released FBM (shipped by the WMS)"]
        if not self.shipped:
            self.rows.append((f"shipment of {order_id}", "-", "-", "n/a"))
            self.print_table()
            return all(row[3] in ("yes", "n/a") for row in self.rows)
        ours_shipments = list(Shipment.query(f"{self.store_id}#{order_id}"))
        theirs_shipments = self.sim("GET", "/_sim/shipments", order_id=order_id)
        ours = ", ".join(f"{s.carrier_code} {s.tracking_number} {s.push_state}" for s in ours_shipments)
        theirs = ", ".join(f"{s['carrier_code']} {s['tracking_number']}" for s in theirs_shipments)
        same = [s.tracking_number for s in ours_shipments] == [s["tracking_number"] for s in theirs_shipments]
        self.rows.append(
            (f"shipment of {order_id}", ours or "-", theirs or "-", _yes(bool(ours_shipments) and same))
        )
        self.print_table()
        return all(row[3] in ("yes", "n/a") for row in self.rows)

    def print_table(self) -> None:
        header = ("", "storesync", "Amazon (simulator)", "agree")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        self.say("\n6. What each side shows")
        self.say("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        self.say(line)
        for row in self.rows:
            self.say("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))

    def run(self) -> bool:
        steps = [self.connect, self.import_products, self.orders_arrive, self.push_stock, self.ship]
        for step in steps:
            step()
        return self.compare()


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def _agree(imported: list[Any], listings: dict[str, Any]) -> str:
    return _yes({x.sku for x in imported} == set(listings))


def _reachable(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.ConnectionError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storesync_local.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--api-url", default=None, help="a running system's API (default http://127.0.0.1:API_PORT)"
    )
    parser.add_argument(
        "--spapi-url", default=None, help="its simulator (default http://127.0.0.1:SPAPI_PORT)"
    )
    parser.add_argument("--moto-url", default=None, help="its moto (default http://127.0.0.1:MOTO_PORT)")
    parser.add_argument("--stack-name", default="storesync-local")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for each step")
    args = parser.parse_args(argv)
    config = RuntimeConfig.from_env(stack_name=args.stack_name)
    api_url = args.api_url or f"http://127.0.0.1:{config.api_port}"
    runtime: LocalRuntime | None = None
    if _reachable(api_url):
        spapi_url = args.spapi_url or f"http://127.0.0.1:{config.spapi_port}"
        moto_url = args.moto_url or f"http://127.0.0.1:{config.moto_port}"
        print(f"Using the running system at {api_url}", flush=True)
    else:
        print("No system is running: starting one for the demo", flush=True)
        runtime = LocalRuntime(config).start()
        api_url, spapi_url, moto_url = runtime.api_url, runtime.spapi_url, runtime.moto_url
    try:
        agreed = Demo(api_url, spapi_url, moto_url, args.stack_name, timeout=args.timeout).run()
    except (DemoFailed, ApiError) as exc:
        print(f"\nThe demo stopped: {exc}", file=sys.stderr, flush=True)
        return 2
    finally:
        if runtime is not None:
            runtime.stop()
    print("\nBoth sides agree." if agreed else "\nThe two sides DISAGREE (rows marked NO).", flush=True)
    return 0 if agreed else 1


if __name__ == "__main__":
    sys.exit(main())
