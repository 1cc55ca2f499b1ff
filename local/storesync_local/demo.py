"""`make demo`: a scripted walk through the mission against a running system, or one started for the demo.

1. a merchant signs in (development token) and connects a store through Amazon's consent page (HTTP, as a
   browser would), with "Match what is in Amazon" as starting inventory and pending orders imported;
2. products are imported and the primary warehouse takes Amazon's quantities (the starting inventory);
3. orders arrive on Amazon (ORDER_CHANGE notifications reach storesync within seconds): a pending FBM order
   that is then released, a released FBM order, an FBA order, one cancelled, one shipped outside the WMS;
4. available quantities are pushed to Amazon ("Sync now" of the inventory push);
5. the WMS ships the released FBM order (POST /orders/{store_id}.{amazon_order_id}/shipments with carrier and
   tracking) and the shipment push ("Sync now") confirms it on Amazon;
6. a table of what storesync and the simulated Amazon each show, and whether they agree (exit code 1 if not).

Actions go through the HTTP API and the simulator's admin API; storesync's side of the table is read from its
tables (moto) so it shows exactly what is stored. When the demo starts its own system, the functions' JSON logs
go to a file (its path is printed) so the walk reads on its own; `--verbose` keeps them on the terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import requests

from .client import ApiError, StoresyncClient
from .runtime import LOCAL_AWS_ENV, LocalRuntime, RuntimeConfig
from .waiting import wait_for

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
PENDING_RELEASED = "pending, then released"
SHIPPED_BY_WMS = "released FBM (shipped by the WMS)"
CANCELLED = "cancelled"
SHIPPED_OUTSIDE = "shipped outside the WMS"
FBA_ORDER = "FBA"
AMAZON_CHANNEL = {"MERCHANT": "FBM", "AMAZON": "FBA"}
Row = tuple[str, str, str, str]  # what, storesync, Amazon (simulator), agree


class DemoFailed(RuntimeError):
    pass


@dataclass
class Demo:
    api_url: str
    spapi_url: str
    moto_url: str
    stack_name: str
    timeout: float = 180.0
    merchant_id: str = field(default_factory=lambda: f"demo-{uuid.uuid4().hex[:6]}")
    out: TextIO = field(default_factory=lambda: sys.stdout)
    rows: list[Row] = field(default_factory=list)
    orders: dict[str, str] = field(default_factory=dict)  # scenario -> Amazon order id
    seen: dict[str, list[str]] = field(default_factory=dict)  # scenario -> Amazon statuses storesync held
    amazon_seen: dict[str, list[str]] = field(default_factory=dict)  # scenario -> statuses Amazon answered
    skus: list[str] = field(default_factory=list)  # the SKUs the FBM orders sell
    tracking_number: str = ""

    def __post_init__(self) -> None:
        from storesync.dal import bind_tables

        bind_tables(self.stack_name, "us-east-1", self.moto_url)
        self.client = StoresyncClient.signed_in(self.api_url, self.merchant_id)
        self.store_id = ""
        self.seller_id = ""
        self.marketplace_id = ""
        self.listings: dict[str, dict[str, Any]] = {}

    # -- helpers ---------------------------------------------------------------------------------------------
    def sim(self, method: str, path: str, body: dict[str, Any] | None = None, **params: str) -> Any:
        answer = requests.request(method, self.spapi_url + path, json=body, params=params or None, timeout=30)
        if answer.status_code >= 300:
            raise DemoFailed(f"simulator {method} {path}: HTTP {answer.status_code}: {answer.text[:300]}")
        return answer.json()

    def amazon_listings(self) -> dict[str, dict[str, Any]]:
        found = self.sim(
            "GET", "/_sim/listings", seller_id=self.seller_id, marketplace_id=self.marketplace_id
        )
        return {x["sku"]: x for x in found["listings"]}

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def run_job(self, job: str, mode: str | None = None) -> None:
        """Sync now, then wait for the run it caused (or, when an import was already under way and the request
        was skipped, for that import's run). Runs are told apart by identity: the sync log is capped."""

        def runs() -> list[dict[str, Any]]:
            return list(self.client.get(f"/stores/{self.store_id}/runs", params={"job": job})["runs"])

        def key(run: dict[str, Any]) -> tuple[Any, ...]:
            return run["started_at"], run["finished_at"], run["trigger"], run["mode"]

        before = {key(r) for r in runs()}
        self.client.post(f"/stores/{self.store_id}/sync", {"job": job, **({"mode": mode} if mode else {})})

        def finished() -> dict[str, Any] | None:
            new = [r for r in runs() if key(r) not in before]  # newest first
            manual = [r for r in new if r["trigger"] == "manual"]
            if not manual:
                return None
            if manual[-1]["result"] != "skipped":
                return manual[-1]
            return next((r for r in new if r["result"] != "skipped"), None)

        latest = wait_for(finished, timeout=self.timeout, what=f"the {job} job")
        counts = ", ".join(f"{k} {v}" for k, v in latest.get("counts", {}).items()) or "nothing to do"
        messages = [e["message"] for e in latest.get("errors", [])]
        errors = f"; errors: {messages}" if messages else ""
        self.say(f"   {job} run ({latest['trigger']}): {latest['result']}, {counts}{errors}")

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
            self.say(f"   {seller_id} in {marketplace_id}: store {store_id} is {store['status']}")
            self.say(f"   the consent callback sent the browser to {landing}")
            self.listings = self.amazon_listings()  # before storesync imports or pushes anything
            self.rows.append(self.store_row())
            return
        raise DemoFailed("every demo seller and marketplace is already connected: restart `make run`")

    def import_products(self) -> None:
        self.say("2. Products are imported; the primary warehouse takes Amazon's quantities")
        self.run_job("products", "full")
        from storesync.dal.products import Listing

        def first_import_done() -> bool:  # a request that met the connect's import under way: wait for it
            runs = self.client.get(f"/stores/{self.store_id}/runs", params={"job": "products"})["runs"]
            return any("starting_inventory" in r.get("counts", {}) for r in runs)

        wait_for(
            first_import_done,
            timeout=self.timeout,
            what="the first product import (with the starting inventory)",
        )
        imported = list(Listing.query(self.store_id))
        self.say(f"   {len(imported)} listings in storesync, {len(self.listings)} on Amazon")
        ours = _channels_text([x.channel for x in imported])
        theirs = _channels_text([_amazon_channel(x) for x in self.listings.values()])
        same = {(x.sku, x.channel) for x in imported} == {
            (s, _amazon_channel(x)) for s, x in self.listings.items()
        }
        self.rows.append(("listings imported", ours, theirs, _yes(same)))
        self.rows.append(self.starting_inventory_row())
        settings = {"import_pending_orders": True, "remove_stock_for_external_fulfillments": True}
        self.client.patch(f"/stores/{self.store_id}/settings", settings)
        self.say("   settings: import pending orders, remove stock for orders shipped outside the WMS")

    def orders_arrive(self) -> None:
        self.say(
            "3. Orders arrive on Amazon (pending then released, FBM and FBA, cancelled, shipped outside)"
        )
        fbm = [x for x in self.listings.values() if _amazon_channel(x) == "FBM" and x["quantity"] >= 3]
        fba = [x for x in self.listings.values() if _amazon_channel(x) == "FBA"]
        if len(fbm) < 2:
            raise DemoFailed("the demo store has fewer than two merchant-fulfilled SKUs with stock")

        def order(sku: str, status: str = "UNSHIPPED", by: str = "MERCHANT", quantity: int = 1) -> str:
            body = {"seller_id": self.seller_id, "marketplace_id": self.marketplace_id, "status": status,
                    "fulfilled_by": by, "items": [{"sku": sku, "quantity": quantity}]}  # fmt: skip
            return str(self.sim("POST", "/_sim/orders", body)["order_id"])

        a, b = fbm[0]["sku"], fbm[1]["sku"]
        self.orders = {
            PENDING_RELEASED: order(a, "PENDING"),
            SHIPPED_BY_WMS: order(a, quantity=2),
            CANCELLED: order(b),
            SHIPPED_OUTSIDE: order(b),
        }
        if fba:
            self.orders[FBA_ORDER] = order(fba[0]["sku"], by="AMAZON")
        self.skus = sorted({a, b})
        for label, order_id in self.orders.items():
            self.amazon_seen[label] = [self.sim("GET", f"/_sim/orders/{order_id}")["status"]]
        self.wait_orders({k: "PENDING" if k == PENDING_RELEASED else "UNSHIPPED" for k in self.orders})
        for label, action in (
            (PENDING_RELEASED, "release"),
            (CANCELLED, "cancel"),
            (SHIPPED_OUTSIDE, "ship"),
        ):
            changed = self.sim("POST", f"/_sim/orders/{self.orders[label]}/{action}")
            self.amazon_seen[label].append(changed["status"])
        self.say(
            "   on Amazon: the pending order is released, one is cancelled, one is shipped outside the WMS"
        )
        self.wait_orders({PENDING_RELEASED: "UNSHIPPED", CANCELLED: "CANCELLED", SHIPPED_OUTSIDE: "SHIPPED"})

    def wait_orders(self, expected: dict[str, str]) -> None:
        from storesync.dal.order_queries import get_order

        def arrived() -> bool:
            for label, status in expected.items():
                stored = get_order(self.store_id, self.orders[label])
                if stored is None or stored.amazon_status.upper() != status:
                    return False
            return True

        wait_for(
            arrived, timeout=self.timeout, what="the orders to reach storesync (ORDER_CHANGE notifications)"
        )
        for label, status in expected.items():
            self.seen.setdefault(label, []).append(status)
        self.say("   storesync holds " + ", ".join(f"{k}: {v}" for k, v in expected.items()))

    def push_stock(self) -> None:
        self.say("4. Available quantities are pushed to Amazon (Sync now: inventory)")
        self.run_job("inventory")

    def ship(self) -> None:
        self.say("5. The WMS ships the released FBM order; the shipment push confirms it on Amazon")
        api_id = f"{self.store_id}.{self.orders[SHIPPED_BY_WMS]}"
        items = self.client.get(f"/orders/{api_id}")["items"]
        self.tracking_number = f"1Z{uuid.uuid4().hex[:16].upper()}"
        body = {
            "carrier": "UPS",
            "shipping_method": "Ground",
            "tracking_number": self.tracking_number,
            "items": [{"order_item_id": i["order_item_id"], "quantity": i["quantity"]} for i in items],
        }
        created = self.client.post(f"/orders/{api_id}/shipments", body)
        units = sum(i["quantity"] for i in created["items"])
        self.say(f"   POST /orders/{api_id}/shipments: {created['carrier']} {created['tracking_number']}, "
                 f"{units} units, {created['push_state']}")  # fmt: skip
        self.run_job("shipments")

        def confirmed() -> bool:
            shipments = self.client.get(f"/orders/{api_id}/shipments")["shipments"]
            return bool(shipments) and all(s["push_state"] == "confirmed" for s in shipments)

        wait_for(confirmed, timeout=self.timeout, what="the shipment to be confirmed on Amazon")
        self.say("   the shipment is confirmed on Amazon; the order becomes SHIPPED (ORDER_CHANGE)")
        self.wait_orders({SHIPPED_BY_WMS: "SHIPPED"})
        self.run_job("inventory")

    # -- the table -------------------------------------------------------------------------------------------
    def store_row(self) -> Row:
        from storesync.dal.stores import Store

        store = Store.get(self.merchant_id, self.store_id)
        seller = next((s for s in self.sim("GET", "/_sim/sellers") if s["seller_id"] == self.seller_id), None)
        ours = f"{store.store_id} {store.status}: {store.selling_partner_id} in {store.marketplace_id}"
        if seller is None:
            return ("store", ours, "-", "NO")
        sells = self.marketplace_id in seller["marketplace_ids"]
        theirs = f"{seller['name']} ({seller['seller_id']}) sells in " + ", ".join(seller["marketplace_ids"])
        agree = store.status == "active" and store.selling_partner_id == self.seller_id and sells
        return ("store", ours, theirs, _yes(agree))

    def starting_inventory_row(self) -> Row:
        """Each FBM SKU's on hand in the primary warehouse against Amazon's quantity when it was imported."""
        levels = self.primary_levels()
        fbm = {s: x["quantity"] for s, x in self.listings.items() if _amazon_channel(x) == "FBM"}
        on_hand = {s: levels.get(s, (0, 0))[0] for s in fbm}  # no stock row: none on hand
        matching = sum(1 for s, q in fbm.items() if on_hand[s] == q)
        ours = f"on hand {sum(on_hand.values())} units in {len(fbm)} SKUs ({matching} as on Amazon)"
        theirs = f"{sum(fbm.values())} units in {len(fbm)} FBM listings"
        return ("starting inventory (primary warehouse)", ours, theirs, _yes(matching == len(fbm)))

    def primary_levels(self) -> dict[str, tuple[int, int]]:
        from storesync.dal.inventory import InventoryItem, Warehouse

        primary = next(w for w in Warehouse.query(self.merchant_id) if w.is_primary)
        items = InventoryItem.query(f"{self.merchant_id}#{primary.warehouse_id}")
        return {i.sku: (int(i.on_hand), int(i.allocated)) for i in items}

    def pushed_rows(self, amazon_now: dict[str, dict[str, Any]]) -> list[Row]:
        """Per FBM listing: the quantity storesync computes, the one it last pushed, the one Amazon shows."""
        from storesync.dal.inventory import InventoryItem
        from storesync.dal.products import Listing
        from storesync.dal.stores import Store
        from storesync.dal.warehouses import feeding_warehouses
        from storesync.domain.inventory import available, quantity_to_show

        store = Store.get(self.merchant_id, self.store_id)
        warehouses = feeding_warehouses(store)
        listings = [x for x in Listing.query(self.store_id) if x.channel == "FBM" and x.status == "active"]
        keys = [(f"{self.merchant_id}#{w}", x.sku) for w in warehouses for x in listings]
        sums: dict[str, int] = {}
        for item in InventoryItem.batch_get(keys):
            sums[item.sku] = sums.get(item.sku, 0) + available(item.on_hand, item.allocated)
        settings = store.settings
        rows: list[Row] = []
        agreeing = 0
        for listing in listings:
            computed = quantity_to_show(
                sums.get(listing.sku, 0), settings.inventory_buffer, settings.max_quantity
            )
            pushed = None if listing.last_pushed_quantity is None else int(listing.last_pushed_quantity)
            shown = amazon_now.get(listing.sku, {}).get("quantity")
            same = computed == pushed == shown
            agreeing += same
            if listing.sku in self.skus:
                ours = f"available {sums.get(listing.sku, 0)}, computed {computed}, pushed {pushed}"
                rows.append((f"stock {listing.sku}", ours, f"quantity {shown}", _yes(same)))
        summary = (
            f"pushed quantities ({len(listings)} FBM listings)",
            f"{agreeing} of {len(listings)} pushed = computed",
            f"{agreeing} of {len(listings)} show the pushed quantity",
            _yes(agreeing == len(listings)),
        )
        return [summary, *rows]

    def settled_pushed_rows(self) -> list[Row]:
        """Amazon applies an accepted patch a little later: give the last push up to a minute to show."""
        deadline = time.monotonic() + min(self.timeout, 60.0)
        while True:
            rows = self.pushed_rows(self.amazon_listings())
            if all(row[3] == "yes" for row in rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.5)

    def order_rows(self) -> list[Row]:
        from storesync.dal.order_queries import get_order

        rows: list[Row] = []
        for label, order_id in self.orders.items():
            stored = get_order(self.store_id, order_id)
            assert stored is not None, f"order {order_id} was stored (wait_orders saw it)"
            truth = self.sim("GET", f"/_sim/orders/{order_id}")
            history = " -> ".join(dict.fromkeys(self.seen.get(label, [])))
            final = stored.amazon_status.upper()
            if not history.endswith(final):
                history = f"{history} -> {final}" if history else final
            holds = f" holds {list(stored.holds)}" if stored.holds else ""
            address = " · address" if stored.has_address else ""
            ours = f"{history} · {stored.status} · {stored.channel}{address}{holds}"
            amazon_history = " -> ".join(dict.fromkeys([*self.amazon_seen.get(label, []), truth["status"]]))
            outside = " · outside the WMS" if truth["shipped_outside"] else ""
            count = len(truth["packages"])
            packages = f" · {count} package{'s' if count > 1 else ''}" if count else ""
            has_address = " · address" if truth["address"] else ""
            channel = AMAZON_CHANNEL[truth["fulfilled_by"]]
            theirs = f"{amazon_history}{outside} · {channel}{has_address}{packages}"
            agree = final == truth["status"] and stored.channel == channel and not stored.holds
            if label == PENDING_RELEASED:
                agree = agree and bool(stored.has_address) and bool(truth["address"])
            rows.append((f"order {order_id} ({label})", ours, theirs, _yes(agree)))
        return rows

    def shipment_row(self) -> Row:
        from storesync.dal.shipments import Shipment

        order_id = self.orders[SHIPPED_BY_WMS]
        ours_shipments = list(Shipment.query(f"{self.store_id}#{order_id}"))
        theirs_shipments = self.sim("GET", "/_sim/shipments", order_id=order_id)
        ours = ", ".join(f"{s.carrier_code} {s.tracking_number} {s.push_state}" for s in ours_shipments)
        theirs = ", ".join(
            f"{s['carrier_code']} {s['tracking_number']} confirmed {s['confirmed_at'][:19]}"
            for s in theirs_shipments
        )
        same = [(s.carrier_code, s.tracking_number) for s in ours_shipments] == [
            (s["carrier_code"], s["tracking_number"]) for s in theirs_shipments
        ]
        agree = same and [s.tracking_number for s in ours_shipments] == [self.tracking_number]
        agree = agree and all(s.push_state == "confirmed" for s in ours_shipments)
        return (f"shipment of {order_id}", ours or "-", theirs or "-", _yes(agree))

    def compare(self) -> bool:
        self.rows.extend(self.order_rows())
        self.rows.extend(self.settled_pushed_rows())
        self.rows.append(self.shipment_row())
        self.print_table()
        return all(row[3] == "yes" for row in self.rows)

    def print_table(self) -> None:
        header = ("", "storesync", "Amazon (simulator)", "agree")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        self.say("\n6. What each side shows")
        self.say("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
        self.say(line)
        for row in self.rows:
            self.say("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

    def run(self) -> bool:
        steps = [self.connect, self.import_products, self.orders_arrive, self.push_stock, self.ship]
        for step in steps:
            step()
        return self.compare()


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def _amazon_channel(listing: dict[str, Any]) -> str:
    return "FBM" if listing["fulfillment_channel"] == "DEFAULT" else "FBA"


def _channels_text(channels: list[str]) -> str:
    return f"{len(channels)} ({channels.count('FBM')} FBM, {channels.count('FBA')} FBA)"


def _reachable(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.ConnectionError:
        return False
    return True


@contextmanager
def logs_to_file(path: str) -> Iterator[TextIO]:
    """Send what this process writes to stdout/stderr (the functions' JSON logs and metrics) to `path`; yield
    a stream on the real terminal for the narration. Works at the file-descriptor level, so loggers that hold
    sys.stdout keep writing to the file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        yield terminal
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        terminal.close()


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
    parser.add_argument("--verbose", action="store_true", help="keep the functions' logs on the terminal")
    args = parser.parse_args(argv)
    config = RuntimeConfig.from_env(stack_name=args.stack_name)
    api_url = args.api_url or f"http://127.0.0.1:{config.api_port}"
    if _reachable(api_url):
        print(f"Using the running system at {api_url}", flush=True)
        os.environ.update(LOCAL_AWS_ENV)  # its moto takes any credentials
        spapi_url = args.spapi_url or f"http://127.0.0.1:{config.spapi_port}"
        moto_url = args.moto_url or f"http://127.0.0.1:{config.moto_port}"
        return _walk(Demo(api_url, spapi_url, moto_url, args.stack_name, timeout=args.timeout))
    if args.verbose:
        print("No system is running: starting one for the demo", flush=True)
        with LocalRuntime(config) as runtime:
            demo = Demo(
                runtime.api_url, runtime.spapi_url, runtime.moto_url, args.stack_name, timeout=args.timeout
            )
            return _walk(demo)
    log_path = os.path.join(tempfile.gettempdir(), f"storesync-demo-{os.getpid()}.log")
    print(f"No system is running: starting one for the demo (function logs: {log_path})", flush=True)
    with logs_to_file(log_path) as terminal, LocalRuntime(config) as runtime:
        print(f"   API {runtime.api_url}, SP-API simulator {runtime.spapi_url}", file=terminal)
        demo = Demo(runtime.api_url, runtime.spapi_url, runtime.moto_url, args.stack_name,
                    timeout=args.timeout, out=terminal)  # fmt: skip
        return _walk(demo)


def _walk(demo: Demo) -> int:
    try:
        agreed = demo.run()
    except (DemoFailed, ApiError, TimeoutError) as exc:
        print(f"\nThe demo stopped: {exc}", file=demo.out, flush=True)
        return 2
    print(
        "\nBoth sides agree." if agreed else "\nThe two sides DISAGREE (rows marked NO).",
        file=demo.out,
        flush=True,
    )
    return 0 if agreed else 1


if __name__ == "__main__":
    sys.exit(main())
