"""Chaos run (issue 14): a whole mission against the local system while a share of SP-API calls fail, then
storesync compared with the simulator's ground truth.

What runs: LocalRuntime (moto server, the SP-API simulator, the gateway, the SQS pollers; the handlers run
unchanged in this process). The schedules do not tick on their own: the run fires them (DispatchFunction) at
fixed points of the mission, so two runs with the same seed do the same things in the same order.

The mission, with the faults on from the first product import to the end of the orders:
1. a merchant connects the store through Amazon's consent page (faults still off: a fault on the callback's
   own SP-API call fails the connect, which the revoke episode's reauthorization retries instead), "match
   what is in Amazon";
2. full product import (Sync now), then "import pending orders" and "remove stock for external fulfilments";
3. `--orders` orders in batches, a mix of pending-then-released, FBA (some shipped by Amazon), cancelled,
   shipped outside the WMS and regular FBM orders; after each batch the WMS ships some open FBM orders through
   storesync's API (carrier + tracking), counts stock of a few SKUs, and the Orders, Inventory and Shipments
   schedules fire; each batch waits up to `--batch-settle` s for the order queues only; mid-way the seller lists new SKUs and orders them before storesync knows them (the
   NewProducts schedule fires a batch later), and one revoke + reauthorize episode (grant revoked on Amazon,
   wait for storesync to notice, reauthorize through the consent page);
4. faults off; queues drained; one regular order run (the Orders schedule, once Amazon's two-minute rule has
   passed for the last order change), the NewProducts schedule, then two push cycles (Inventory + Shipments
   schedules, each waited for);
5. the comparison table, wall time and calls per operation. Exit code 1 when a figure other than the fault
   counts is not 0.

Time: job continuations ask SQS for a delay in Amazon's seconds (a 60 s transient retry, a 30 s report
poll); the run divides those delays by `--delay-divisor` (default 10), as the runtime divides visibility
timeouts by its speed, except the shipment push's (it waits for retries due at a real-time instant). Before
each final push cycle, the shipment retries storesync planned within the next 30 minutes (the Shipments
schedule's period) are made due now (their next_attempt_at, written through storesync.dal), as they would be
when that cycle comes. Amazon's quotas are multiplied by `--quota-scale`. moto (in this process) gets the order
import benchmark's item-level transaction rollback.

    .venv/bin/python benchmarks/bench_chaos.py [--orders 5000] [--fault-share 0.2] [--seed 1]
    make chaos   (the same with the defaults; CHAOS_ARGS="--orders 300" for a quick one)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import harness  # noqa: F401  (the benchmarks' environment, before storesync)
import requests
from spapi_simulator.faults import MODES, NOTIFICATION_MODES, REPORT_MODES
from storesync_local.template import LOCAL_EVENTS_QUEUE

# the functions log at the template's level (INFO): storesync's logger is made when storesync is first
# imported, which happens here before the runtime sets the functions' environment
os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"
ADDRESS = {"name": "Chaos Buyer", "addressLine1": "1 Fault Street", "city": "Seattle",
           "stateOrRegion": "WA", "postalCode": "98101", "countryCode": "US"}  # fmt: skip

# The fault modes of the simulator's contract (issue 14) and the original rates. The simulator rolls each
# independently per call, so the modes that spoil any call's answer (CALL_FAILING: the original 500/503/drop
# and five of the modes) each get the share p with 1 - (1 - p)^len(CALL_FAILING) = --fault-share: that share of
# all SP-API calls fails. The other modes get p too (page modes: of the paginated calls; extra_fields, valid but
# odd), except the report modes (--fault-share / 2 each of the few reports a run requests, so that some fail)
# and the notification modes (--fault-share / 3 each of the ORDER_CHANGE messages). Modes the running
# simulator does not know are reported as "not available" and left out.
LEGACY_RATES = ("error_rate_500", "error_rate_503", "drop_rate")
CALL_FAILING = ("empty_body", "truncated_body", "html_5xx", "throttle_no_headers", "lost_answer")
REAUTHORIZE_TRIES = 3
AMAZON_MIN_LAG_SECONDS = 150  # two minutes and a margin
SHIPMENTS_CYCLE_SECONDS = 30 * 60  # template.yaml ShipmentsSchedule: rate(30 minutes)
ORDER_QUEUES = ("OrderNotificationsQueue", "OrderImportQueue")  # a batch waits for these only


@dataclass
class Truth:
    """What the mission did on Amazon's side, by order id."""

    kind: dict[str, str] = field(default_factory=dict)  # order id -> scenario
    batch: dict[str, int] = field(default_factory=dict)  # order id -> batch it was created in (1-based)
    wms_shipped: dict[str, str] = field(default_factory=dict)  # order id -> tracking number
    unknown_sku_orders: set[str] = field(default_factory=set)


class Chaos:
    def __init__(self, args: argparse.Namespace, runtime: Any, out: TextIO) -> None:
        from storesync_local.client import StoresyncClient

        self.args = args
        self.rt = runtime
        self.out = out
        self.rng = random.Random(args.seed)
        self.client = StoresyncClient.signed_in(runtime.api_url, f"chaos-{uuid.uuid4().hex[:6]}")
        self.store_id = ""
        self.seller, self.marketplace = SELLER, US
        self.truth = Truth()
        self.fbm: list[str] = []
        self.fba: list[str] = []
        self.phase_times: dict[str, float] = {}
        self.modes_available: list[str] = []
        self.fault_plan: dict[str, float] = {}
        self.revoke_note = "not tried"
        self.missing_before_run = 0
        self.cancelled_unseen = 0
        self.batch_number = 0
        self.revoke_batch = 0
        self.last_change = time.monotonic()
        self.dead: dict[str, int] = {}
        self.warehouse_id = ""
        self.events: list[dict[str, Any]] = []  # what the WMS received on the bus (the local events queue)
        self.relay_note = "not run"

    # -- plumbing ----------------------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def sim(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        for attempt in range(5):
            try:
                answer = requests.request(
                    method, self.rt.spapi_url + path, json=body, params=params or None, timeout=60
                )
            except requests.ConnectionError:
                if attempt == 4:
                    raise
                time.sleep(0.5)
                continue
            if answer.status_code >= 300:
                raise RuntimeError(f"simulator {method} {path}: {answer.status_code} {answer.text[:300]}")
            return answer.json()
        raise AssertionError("unreachable")

    def store(self) -> dict[str, Any]:
        return dict(self.client.get(f"/stores/{self.store_id}"))

    def fire(self, schedule: str) -> Any:
        return self.rt.fire_schedule(schedule)

    def settle(self, timeout: float, retries_too: bool = False, only: tuple[str, ...] = ()) -> bool:
        """Wait until every queue (or those named in `only`) is empty, DLQs aside. A shipment push continuation
        that waits for a retry due later (real time) is left waiting unless `retries_too`: the next Shipments
        schedule takes it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = self._busy(count_delayed_shipments=retries_too)
            waiting = [q for q in busy if q in only] if only else list(busy)
            if not waiting:
                return True
            time.sleep(0.3)
        self.say(f"   (queues not idle after {timeout:.0f} s: {self._busy(True)})")
        return False

    def _busy(self, count_delayed_shipments: bool = True) -> dict[str, int]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"]  # fmt: skip
        busy = {}
        for lid, url in self.rt.provisioned.physical.items():
            if not str(url).startswith("http") or "DeadLetter" in lid or lid == LOCAL_EVENTS_QUEUE:
                continue
            wanted = names if count_delayed_shipments or lid != "ShipmentPushQueue" else names[:2]
            attrs = self.rt.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=wanted)["Attributes"]
            depth = sum(int(attrs.get(n, 0)) for n in wanted)
            if depth:
                busy[lid] = depth
        return busy

    def dead_letters(self) -> dict[str, int]:
        found = {}
        for lid, url in self.rt.provisioned.physical.items():
            if str(url).startswith("http") and "DeadLetter" in lid:
                attrs = self.rt.sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                if int(attrs.get("ApproximateNumberOfMessages", 0)):
                    found[lid] = int(attrs["ApproximateNumberOfMessages"])
        return found

    def drain_events(self) -> int:
        """Read (and delete) what the bus delivered to the local WMS queue so far; the count read."""
        url = self.rt.provisioned.physical[LOCAL_EVENTS_QUEUE]
        read = 0
        while True:
            answer = self.rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
            messages = answer.get("Messages") or []
            if not messages:
                return read
            self.events += [json.loads(m["Body"]) for m in messages]
            self.rt.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
            read += len(messages)

    def relay_outbox(self) -> None:
        """The EventRelay schedule once the outbox's rows are old enough for it (one real minute), then the bus's
        deliveries read: what is still in the outbox afterwards was never delivered."""
        from storesync.usecases.event_relay import RELAY_MIN_AGE

        time.sleep(RELAY_MIN_AGE.total_seconds() + 2)
        answer = self.fire("EventRelayFunction.Relay")
        self.relay_note = str(answer)[:300]
        time.sleep(2.0)
        self.drain_events()

    def bring_shipment_retries_due(self, within: float) -> int:
        """Push cycles are 30 simulated minutes apart, but storesync plans a shipment's retry 1, 2, 4 ... real
        minutes ahead (next_attempt_at). Before a cycle, a retry planned within `within` seconds (the cycle's
        length) is made due now, as it would be when the cycle comes; later ones are left as they are."""
        from datetime import UTC, datetime, timedelta

        from storesync.dal.shipments import Shipment

        now = datetime.now(UTC)
        moved = 0
        for shipment in Shipment.pending_push.query(self.store_id):
            due = shipment.next_attempt_at
            if due is not None and now < due <= now + timedelta(seconds=within):
                shipment.update(actions=[Shipment.next_attempt_at.set(now)])
                moved += 1
        return moved

    def timed(self, name: str, step: Callable[[], None]) -> None:
        began = time.monotonic()
        step()
        self.phase_times[name] = time.monotonic() - began

    # -- faults -----------------------------------------------------------------------------------------------
    def plan_faults(self) -> None:
        current = self.sim("GET", "/_sim/faults")
        self.modes_available = [m for m in MODES if m in (current.get("modes") or {})]
        failing = [*LEGACY_RATES, *[m for m in CALL_FAILING if m in self.modes_available]]
        share = self.args.fault_share
        per_call = 1 - (1 - share) ** (1 / len(failing))
        self.fault_plan = dict.fromkeys(failing, per_call)
        for mode in self.modes_available:
            if mode in REPORT_MODES:
                self.fault_plan[mode] = share / 2
            elif mode in NOTIFICATION_MODES:
                self.fault_plan[mode] = share / 3
            elif mode not in self.fault_plan:
                self.fault_plan[mode] = per_call
        missing = [m for m in MODES if m not in self.modes_available]
        self.say(
            f"   fault plan: {len(failing)} modes that fail any call, {per_call:.2%} each (together {share:.0%} "
            f"of the calls); every other mode on too"
            + (f"; not in this simulator: {', '.join(missing)}" if missing else "")
        )

    def faults_on(self) -> None:
        body: dict[str, Any] = {name: self.fault_plan[name] for name in LEGACY_RATES}
        if self.modes_available:
            body["modes"] = {
                m: {"share": self.fault_plan[m], "operations": None} for m in self.modes_available
            }
        else:  # the simulator before issue 14: its own notification faults
            body.update(
                duplicate_notifications=share_or(self.args.fault_share / 3), shuffle_notifications=True
            )
        self.sim("POST", "/_sim/faults", body)

    def faults_off(self) -> None:
        body: dict[str, Any] = {name: 0.0 for name in LEGACY_RATES}
        body.update(duplicate_notifications=0.0, shuffle_notifications=False)
        if self.modes_available:
            body["modes"] = {m: {"share": 0.0, "operations": None} for m in self.modes_available}
        self.sim("POST", "/_sim/faults", body)
        self.sim("POST", "/_sim/notifications/flush")

    # -- the mission --------------------------------------------------------------------------------------------
    def connect(self) -> None:
        self.store_id, landing = self.client.connect_store(
            SELLER, US, "Chaos US", download_products_and_orders=True, starting_inventory="match_amazon"
        )
        if "outcome=connected" not in landing:
            raise RuntimeError(f"connect: the consent callback answered {landing}")
        listings = self.sim("GET", "/_sim/listings", seller_id=SELLER, marketplace_id=US)["listings"]
        active = [x for x in listings if x.get("status", "Active") == "Active"]
        self.fbm = sorted(x["sku"] for x in active if x["fulfillment_channel"] == "DEFAULT")
        self.fba = sorted(x["sku"] for x in active if x["fulfillment_channel"] != "DEFAULT")
        self.say(f"1. store {self.store_id} connected ({SELLER} in {US}); Amazon lists {len(self.fbm)} FBM and "
                 f"{len(self.fba)} FBA SKUs")  # fmt: skip
        self.settle(120)

    def import_products(self) -> None:
        self.say("2. full product import under faults (Sync now), then the order settings")
        self.client.post(f"/stores/{self.store_id}/sync", {"job": "products", "mode": "full"})
        self.settle(self.args.step_timeout)
        settings = {"import_pending_orders": True, "remove_stock_for_external_fulfillments": True}
        self.client.patch(f"/stores/{self.store_id}/settings", settings)
        warehouses = self.client.get("/warehouses")["warehouses"]
        self.warehouse_id = next(w["warehouse_id"] for w in warehouses if w["is_primary"])
        runs = self.client.get(f"/stores/{self.store_id}/runs", params={"job": "products"})["runs"]
        self.say("   product runs: " + ", ".join(f"{r['mode']} {r['result']}" for r in reversed(runs)))

    def new_order(self, kind: str, sku: str | None = None) -> str:
        by = "AMAZON" if kind.startswith("fba") else "MERCHANT"
        pool = self.fba if by == "AMAZON" else self.fbm
        lines = [{"sku": sku or self.rng.choice(pool), "quantity": 1 if self.rng.random() < 0.8 else 2}]
        if sku is None and self.rng.random() < 0.25:
            extra = self.rng.choice(pool)
            if extra != lines[0]["sku"]:
                lines.append({"sku": extra, "quantity": 1})
        body = {"seller_id": SELLER, "marketplace_id": US, "fulfilled_by": by, "items": lines,
                "status": "PENDING" if kind == "pending" else "UNSHIPPED", "address": ADDRESS}  # fmt: skip
        order_id = str(self.sim("POST", "/_sim/orders", body)["order_id"])
        self.truth.kind[order_id] = kind
        self.truth.batch[order_id] = self.batch_number
        self.last_change = time.monotonic()
        return order_id

    def batch_kinds(self, size: int) -> list[str]:
        mix = (("pending", 0.12), ("fba", 0.10), ("fba_shipped", 0.05), ("cancelled", 0.10),
               ("shipped_outside", 0.10), ("fbm", 0.53))  # fmt: skip
        kinds = [k for k, share in mix for _ in range(round(size * share))]
        kinds += ["fbm"] * (size - len(kinds))
        self.rng.shuffle(kinds)
        return kinds[:size]

    def change_on_amazon(self, order_ids: list[str]) -> None:
        """What happens on Amazon to the orders of the previous batch."""
        for order_id in order_ids:
            kind = self.truth.kind[order_id]
            action = {"pending": "release", "cancelled": "cancel", "shipped_outside": "ship",
                      "fba_shipped": "ship"}.get(kind)  # fmt: skip
            if action:
                self.sim("POST", f"/_sim/orders/{order_id}/{action}")
                self.last_change = time.monotonic()

    def ship_from_wms(self, order_ids: list[str]) -> int:
        """The WMS ships some open FBM orders storesync holds (one package, every line, a tracking number)."""
        shipped = 0
        for order_id in order_ids:
            if self.truth.kind[order_id] != "fbm" or self.rng.random() > self.args.ship_share:
                continue
            api_id = f"{self.store_id}.{order_id}"
            found = self.client.request("GET", f"/orders/{api_id}", expect=(200, 404))
            if not found or "error" in found or found.get("status") != "open" or found.get("holds"):
                continue
            tracking = f"1Z{uuid.uuid4().hex[:16].upper()}"
            body = {"carrier": "UPS", "shipping_method": "Ground", "tracking_number": tracking,
                    "items": [{"order_item_id": i["order_item_id"], "quantity": i["quantity"]}
                              for i in found["items"]]}  # fmt: skip
            answer = self.client.request(
                "POST", f"/orders/{api_id}/shipments", json=body, expect=(201, 409, 422)
            )
            if answer and answer.get("tracking_number") == tracking:
                self.truth.wms_shipped[order_id] = tracking
                shipped += 1
        return shipped

    def count_stock(self, count: int) -> None:
        """The WMS counts a few FBM SKUs (a stock change the next push carries to Amazon)."""
        for sku in self.rng.sample(self.fbm, min(count, len(self.fbm))):
            self.client.request(
                "PUT", f"/inventory/{self.warehouse_id}/{sku}", json={"on_hand": self.rng.randint(0, 40)},
                expect=(200, 404),
            )  # fmt: skip

    def list_new_skus(self, count: int) -> list[str]:
        """The seller lists new SKUs on Amazon and buyers order them before storesync imports them."""
        skus = []
        for n in range(count):
            sku = f"CHAOS-NEW-{self.args.seed}-{n}"
            body = {"seller_id": SELLER, "marketplace_id": US, "sku": sku, "quantity": 50, "price": 12.5}
            self.sim("POST", "/_sim/listings", body)
            skus.append(sku)
        for sku in skus:
            self.truth.unknown_sku_orders.add(self.new_order("fbm_unknown", sku))
        return skus

    def revoke_episode(self) -> None:
        from storesync_local.client import approve_consent

        self.sim("POST", f"/_sim/grants/{SELLER}/revoke")
        self.fire("Orders")
        deadline = time.monotonic() + self.args.revoke_timeout
        seen = ""
        while time.monotonic() < deadline:
            seen = self.store()["status"]
            if seen != "active":
                break
            time.sleep(1.0)
        noticed = time.monotonic() - (deadline - self.args.revoke_timeout)
        tries: list[str] = []
        for _attempt in range(REAUTHORIZE_TRIES):  # the callback's own SP-API call may meet a fault: retry
            consent = self.client.post(f"/stores/{self.store_id}/reauthorize")["consent_url"]
            callback = approve_consent(consent, SELLER, self.client.session)
            answer = self.client.session.get(callback, timeout=30, allow_redirects=False)
            landing = answer.headers.get("Location", "")
            tries.append(
                f"HTTP {answer.status_code}" + (f" -> {landing.split('?', 1)[-1]}" if landing else "")
            )
            if answer.status_code in (302, 303) and (
                "outcome=reauthorized" in landing or "outcome=connected" in landing
            ):
                break
        after = self.store()["status"]
        noticed_text = (
            f"store turned {seen!r} {noticed:.0f} s after the revoke"
            if seen != "active"
            else f"store still 'active' {self.args.revoke_timeout:.0f} s after the revoke (not noticed)"
        )
        self.revoke_note = (
            f"{noticed_text}; reauthorized through the consent page ({', '.join(tries)}): store {after!r}"
        )
        self.say(f"   revoke episode: {self.revoke_note}")

    def orders_under_faults(self) -> None:
        total, size = self.args.orders, self.args.batch
        batches = max(1, (total + size - 1) // size)
        self.say(f"3. {total:,} orders in {batches} batches of {size} under faults")
        previous: list[str] = []
        new_skus_at, revoke_at = batches // 3, (2 * batches) // 3
        made = 0
        for number in range(batches):
            began = time.monotonic()
            self.batch_number = number + 1
            kinds = self.batch_kinds(min(size, total - made))
            current = [self.new_order(kind) for kind in kinds]
            made += len(current)
            self.change_on_amazon(previous)
            shipped = self.ship_from_wms(previous)
            self.count_stock(3)
            if number == new_skus_at:
                self.list_new_skus(3)
            if number == new_skus_at + 1:
                self.fire("NewProducts")
            for schedule in ("Orders", "Inventory", "Shipments"):
                self.fire(schedule)
            self.settle(self.args.batch_settle, only=ORDER_QUEUES)
            self.drain_events()
            if self.args.revoke and number == revoke_at:
                self.revoke_batch = number + 1
                self.revoke_episode()
            self.say(f"   batch {number + 1}/{batches}: {len(current)} orders, {shipped} shipped by the WMS, "
                     f"{time.monotonic() - began:.0f} s")  # fmt: skip
            previous = current
        self.change_on_amazon(previous)
        self.ship_from_wms(previous)
        self.fire("Shipments")
        self.settle(self.args.step_timeout)

    def recover(self) -> None:
        self.say("4. faults off: queues drained, one regular order run, new products, two push cycles")
        self.faults_off()
        self.settle(self.args.step_timeout * 2)
        from storesync.dal.orders import Order

        stored = {o.amazon_order_id for o in Order.query(self.store_id)}
        self.missing_before_run = len(set(self.truth.kind) - stored)  # cancelled ones included
        self.say(
            f"   before the order run storesync misses {self.missing_before_run} of {len(self.truth.kind)} orders"
        )
        # Amazon's searchOrders shows an order two minutes after its last change (lastUpdatedBefore = now - 2
        # min): the regular run, 30 minutes later in real life, comes once that has passed for the last one
        wait = max(0.0, AMAZON_MIN_LAG_SECONDS - (time.monotonic() - self.last_change))
        self.say(f"   waiting {wait:.0f} s for Amazon's two-minute rule to pass for the last order change")
        time.sleep(wait)
        self.fire("Orders")
        self.settle(self.args.step_timeout)
        self.fire("NewProducts")
        self.settle(self.args.step_timeout)
        for cycle in range(2):
            moved = self.bring_shipment_retries_due(SHIPMENTS_CYCLE_SECONDS)
            self.fire("Inventory")
            self.fire("Shipments")
            self.settle(self.args.step_timeout)
            time.sleep(3.0)  # feeds and patches Amazon applies a little later (feed_seconds = 2)
            self.say(f"   push cycle {cycle + 1}: {moved} shipment retries planned within the cycle made due")
        self.relay_outbox()
        self.say(f"   event relay: {self.relay_note}; {len(self.events):,} events received by the WMS queue")
        self.dead = self.dead_letters()


def share_or(value: float) -> float:
    return min(1.0, max(0.0, value))


def run_mission(args: argparse.Namespace, runtime: Any, out: TextIO) -> int:
    chaos = Chaos(args, runtime, out)
    started = time.monotonic()
    chaos.timed("connect", chaos.connect)
    chaos.plan_faults()
    chaos.faults_on()
    chaos.timed("product import", chaos.import_products)
    chaos.timed("orders, shipments, pushes", chaos.orders_under_faults)
    chaos.timed("recovery", chaos.recover)
    from compare_chaos import compare, print_report

    figures, details = compare(chaos)
    stats = chaos.sim("GET", "/_sim/stats")
    print_report(chaos, figures, details, stats, time.monotonic() - started)
    return 1 if any(v for v in figures.values()) else 0


def scale_queue_delays(divisor: float) -> None:
    """Continuation delays are Amazon's seconds; the local clock runs `divisor` times faster. The shipment
    push's delays are left as they are: it continues to a retry due at a real-time instant (next_attempt_at),
    so a shorter delay only makes it wake up early and continue again."""
    from storesync import queues

    original = queues.SqsJobQueue.send

    def send(self: Any, message: Any, delay_seconds: float = 0) -> None:
        scaled = delay_seconds if message.job == "shipments" else delay_seconds / divisor
        original(self, message, scaled)

    queues.SqsJobQueue.send = send  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=5000, help="orders created on Amazon during the run")
    parser.add_argument("--fault-share", type=float, default=0.2, help="share of SP-API calls that fail")
    parser.add_argument("--seed", type=int, default=1, help="seeds the simulator, the mix and the faults")
    parser.add_argument("--batch", type=int, default=250, help="orders per batch between schedule firings")
    parser.add_argument("--skus", type=int, default=200, help="SKUs of the simulated catalog")
    parser.add_argument("--speed", type=float, default=600.0, help="runtime speed (simulated s per real s)")
    parser.add_argument("--quota-scale", type=float, default=1000.0, help="multiplies Amazon's quotas")
    parser.add_argument("--delay-divisor", type=float, default=None, help="divides SQS delays (default 10)")
    parser.add_argument(
        "--ship-share", type=float, default=0.5, help="share of regular FBM orders the WMS ships"
    )
    parser.add_argument(
        "--step-timeout", type=float, default=300.0, help="seconds to wait for queues to drain"
    )
    parser.add_argument(
        "--revoke-timeout", type=float, default=60.0, help="seconds to wait for a revoke to show"
    )
    parser.add_argument(
        "--batch-settle", type=float, default=30.0, help="seconds a batch waits for the order queues to drain"
    )
    parser.add_argument("--no-revoke", dest="revoke", action="store_false", help="skip the revoke episode")
    parser.add_argument("--verbose", action="store_true", help="keep the functions' logs on the terminal")
    args = parser.parse_args()

    from storesync_local.demo import logs_to_file
    from storesync_local.runtime import LocalRuntime, RuntimeConfig, unique_stack_name

    scale_queue_delays(args.delay_divisor or 10.0)
    # moto runs in this process (ThreadedMotoServer): the same item-level rollback as the order import
    # benchmark, so a transaction costs what it costs at DynamoDB, not a deep copy of the orders table
    from bench_order_import import item_level_transaction_rollback

    item_level_transaction_rollback()
    config = RuntimeConfig(
        api_port=0, spapi_port=0, moto_port=0, speed=args.speed, quota_scale=args.quota_scale, seed=args.seed,
        skus=args.skus, orders=0, run_schedules=False, pending_release_minutes=None,
        stack_name=unique_stack_name("chaos"), external_spapi=None,
    )  # fmt: skip
    if args.verbose:
        with LocalRuntime(config) as runtime:
            runtime.simulator.faults.rng.seed(args.seed)
            return run_mission(args, runtime, sys.stdout)
    log_path = os.path.join(tempfile.gettempdir(), f"storesync-chaos-{os.getpid()}.log")
    print(f"chaos run: function logs in {log_path}", flush=True)
    with logs_to_file(log_path) as terminal, LocalRuntime(config) as runtime:
        runtime.simulator.faults.rng.seed(args.seed)
        print(f"   API {runtime.api_url}, SP-API simulator {runtime.spapi_url}, moto {runtime.moto_url}",
              file=terminal, flush=True)  # fmt: skip
        return run_mission(args, runtime, terminal)


if __name__ == "__main__":
    sys.exit(main())
