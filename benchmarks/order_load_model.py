"""Sustained load and catch-up cost in simulated time at Amazon's real quotas (issue 18, part 4).

Run through `bench_order_import_simulated.py sustained ...` / `... catchup ...` (this module is not a benchmark
of its own). What runs for real: the simulator over HTTP (searchOrders / getOrder and their 429s), storesync's
SP-API client, quota gate, the polling use case (incremental sweeps every 30 minutes and the catch-up every 6
hours re-reading 3 days, as template.yaml schedules them), the ORDER_CHANGE use case and the order rules
(`decide`) over one in-memory orders table shared by both paths. Lambda/SQS are a discrete-event loop on the
simulator's clock:
- a schedule message that finds its mode's chain still continuing asks for a rerun (the runner's lease:
  request_rerun) and the chain starts again as soon as it ends (several such messages: one rerun); the
  incremental and catch-up chains run between each other's slices (one lease per job, released between slices);
- an ORDER_CHANGE message (new order, release, cancellation) is handled 5 s after it is sent (batching
  window); when it fails (Throttled) it comes back after the queue's 360 s visibility timeout, and after 5
  receives goes to the dead-letter queue (template.yaml's redrive policy).

Load: `--rate` orders an hour for 24 simulated hours (30 % FBA, 10 % pending released 30 minutes later, 5 %
cancelled an hour after creation), after 3 days of history at the same rate (what a catch-up re-reads), then
6 hours with no new orders (one more catch-up). Figures over the orders created in the 24 hours:
creation (or release, for a pending order) to the time the order is first in storesync, by any path.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import harness  # noqa: F401  (the benchmarks' environment, before storesync)
import requests
from spapi_simulator.clock import iso as sim_iso
from spapi_simulator.generator import order_id_for
from spapi_simulator.sellers import CLIENT_ID, CLIENT_SECRET
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import authorize
from spapi_simulator.world import CANCELLED, PENDING, SHIPPED, UNSHIPPED, Order, OrderItem
from storesync.amazon.clients import LwaCredentials, SpApi, SpApiConfig, SpApiFactory, seller_key
from storesync.amazon.errors import Throttled
from storesync.amazon.orders import AmazonOrders
from storesync.amazon.quota_gate import InMemoryBucketStore, QuotaGate
from storesync.clock import iso
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.orders import (
    CREATE,
    IGNORE,
    AmazonOrder,
    ImportRules,
    OrderDecision,
    OrderLine,
    OrderSnapshot,
    OrderStatus,
    decide,
)
from storesync.jobs import JobMessage
from storesync.usecases.order_import import OrderImport, OrderImportDeps
from storesync.usecases.order_notifications import OrderChange, OrderChangeHandler
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.runner import JobContext, JobOutcome

SELLER = "A2NASELLER0002"
US = "ATVPDKIKX0DER"
HOUR = 3600.0
SCHEDULE_SECONDS = 30 * 60
CATCHUP_EVERY = 6 * HOUR
CATCHUP_DAYS = 3
LOAD_HOURS = 24.0
DRAIN_HOURS = 6.0
PENDING_RELEASE = 30 * 60
CANCEL_AFTER = HOUR
BATCH_WINDOW = 5.0
VISIBILITY_TIMEOUT = 360.0
MAX_RECEIVES = 5


@dataclass
class OrdersTable:
    """storesync's orders table for both paths: the order rules, when and by which path each order got in."""

    clock: Callable[[], float]
    orders: dict[str, OrderSnapshot] = field(default_factory=dict)
    arrived: dict[str, tuple[float, str]] = field(default_factory=dict)  # order id -> (sim time, path)
    creates: dict[str, int] = field(default_factory=dict)  # CREATE decisions per order (> 1: a duplicate)

    def view(self, path: str) -> PathUpserter:
        return PathUpserter(self, path)

    def upsert(self, path: str, incoming: AmazonOrder) -> UpsertResult:
        decision = decide_and_keep(self.orders, incoming)
        if decision.action != IGNORE:
            if decision.action == CREATE:
                self.creates[incoming.order_id] = self.creates.get(incoming.order_id, 0) + 1
            self.arrived.setdefault(incoming.order_id, (self.clock(), path))
        return UpsertResult(incoming.order_id, decision.action, decision.reason, decision.status)


def decide_and_keep(orders: dict[str, OrderSnapshot], incoming: AmazonOrder) -> OrderDecision:
    """The order rules (`decide`, the store's default: pending orders not imported) over an in-memory orders
    table: what storesync would store for `incoming`, kept in `orders` unless the decision is to ignore it."""
    decision = decide(orders.get(incoming.order_id), incoming, ImportRules(import_pending=False))
    if decision.action != IGNORE:
        orders[incoming.order_id] = OrderSnapshot(
            amazon_order_id=incoming.order_id, marketplace_id=incoming.marketplace_id, status=decision.status,
            amazon_status=incoming.status, channel=incoming.channel, amazon_last_updated=incoming.last_updated,
            holds=decision.holds, has_address=incoming.address is not None,
            lines=tuple(OrderLine(i.order_item_id, i.sku, i.quantity, i.quantity_shipped) for i in incoming.items),
        )  # fmt: skip
    return decision


@dataclass
class PathUpserter:
    table: OrdersTable
    path: str

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        return self.table.upsert(self.path, incoming)


class MemoryContext(JobContext):
    def save_cursor(self, cursor: dict[str, Any]) -> None:
        self.cursor = dict(cursor)


def build_spapi(sim: Simulator, scale: float = 1.0) -> SpApi:
    config = SpApiConfig(endpoint=sim.url, lwa_url=sim.url + "/auth/o2/token", quota_scale=scale)
    factory = SpApiFactory(config, LwaCredentials(CLIENT_ID, CLIENT_SECRET))
    token = authorize(sim, SELLER).refresh_token
    gate = QuotaGate(
        seller_key(SELLER, "NA"), InMemoryBucketStore(), scale=scale, clock=sim.clock.time,
        sleep=sim.clock.advance,
    )  # fmt: skip
    return SpApi(factory, US, token, gate)


def bench_store() -> Store:
    return Store(
        "bench-merchant", "bench-store", name="bench", marketplace_id=US, region="NA", status="active",
        selling_partner_id=SELLER, settings=StoreSettings(), created_at=datetime.now(UTC),
    )  # fmt: skip


@dataclass
class OrderFactory:
    sim: Simulator
    rng: random.Random
    number: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        listings = [x for x in self.sim.world.catalog.listings(SELLER, US) if x.status == "Active"]
        self.fbm = [x for x in listings if not x.is_fba]
        self.fba = [x for x in listings if x.is_fba]

    def make(self, created: float, status: str, fba: bool, updated: float | None = None) -> Order:
        listing = self.rng.choice(self.fba if fba else self.fbm)
        order_id = order_id_for(random.Random(f"load-{next(self.number)}"))
        while order_id in self.sim.world.orders.by_id:
            order_id = order_id_for(self.rng)
        quantity = 1 if self.rng.random() < 0.8 else self.rng.randint(2, 4)
        item = OrderItem(f"{order_id.replace('-', '')[:12]}00", listing.sku, listing.asin, listing.title,
                         quantity, listing.price, quantity if status == SHIPPED else 0)  # fmt: skip
        order = Order(order_id, SELLER, US, created, updated or created, status,
                      "AMAZON" if fba else "MERCHANT", [item], {}, "", "USD")  # fmt: skip
        order.shipped_outside = status == SHIPPED and not fba
        return order


@dataclass
class Door:
    """How orders get into storesync: today's chains (incremental + catch-up polling, ORDER_CHANGE)."""

    sim: Simulator
    spapi: SpApi
    table: OrdersTable
    store: Store
    notifications: bool
    at: Callable[[float, str, Any], None]
    cursor: dict[str, Any] = field(default_factory=dict)
    chains: set[str] = field(default_factory=set)  # modes with a chain continuing
    reruns: set[str] = field(default_factory=set)  # modes whose schedule found the chain busy
    inbox: deque[tuple[str, str, int]] = field(default_factory=deque)  # ORDER_CHANGE messages waiting
    drain_due: bool = False  # the notifications' consumer has its next turn scheduled
    catchups: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: int = 0
    runs: int = 0
    first_sweep: timedelta = timedelta(days=CATCHUP_DAYS)  # how far back a store's first sweep reads

    def __post_init__(self) -> None:
        self.deps = OrderImportDeps(
            upserter=self.table.view("poll"), amazon_for=lambda _store: AmazonOrders(self.spapi),
            catchup=self.first_sweep, clock=self.sim.clock.now,
        )  # fmt: skip
        self.handler = OrderChangeHandler(
            self.table.view("notification"), lambda _store: AmazonOrders(self.spapi),
            find_stores=lambda _change: [self.store],
        )  # fmt: skip

    def schedule(self, mode: str, now: float) -> None:
        """A schedule's message for `mode`: starts its chain or, when that chain is still continuing, asks for a
        rerun (the runner's lease): the chain starts again as soon as it ends."""
        if mode in self.chains:
            self.reruns.add(mode)
            if mode == "catchup":
                self.catchups.append({"fired": now, "absorbed": True})
            return
        self.chains.add(mode)
        if mode == "catchup":
            rerun = self.catchups[-1] if self.catchups and self.catchups[-1].get("absorbed") else None
            if rerun is not None:  # the last catch-up that found the chain busy runs now, from when it fired
                rerun.update(absorbed=False, started=None, finished=None)
            else:
                self.catchups.append({"fired": now, "started": None, "finished": None})
        self.start(mode, now)

    def start(self, mode: str, now: float) -> None:
        self.at(now, "job", mode)

    def chain_ended(self, mode: str, now: float) -> None:
        self.chains.discard(mode)
        if mode in self.reruns:
            self.reruns.discard(mode)
            self.schedule(mode, now)

    def active_catchup(self) -> dict[str, Any]:
        return next(c for c in reversed(self.catchups) if not c.get("absorbed"))

    def job(self, mode: str, now: float) -> None:
        self.runs += 1
        message = JobMessage(job="orders", mode=mode, merchant_id="bench-merchant", store_id="bench-store")
        ctx = MemoryContext(message, self.store, "bench", self.cursor)
        began_sweep = mode == "catchup" and not self.cursor.get("catchup")
        try:
            outcome: JobOutcome = OrderImport(self.deps, ctx).run()
        except Throttled as exc:
            self.at(now + exc.retry_after + sqs_jitter(), "job", mode)
            return
        self.cursor = ctx.cursor
        if mode == "catchup":
            last = self.active_catchup()
            if began_sweep and last["started"] is None:
                last["started"] = now
            if not self.cursor.get("catchup"):
                last["finished"] = self.sim.clock.time()
        if outcome.continue_after is not None:
            self.at(self.sim.clock.time() + outcome.continue_after + sqs_jitter(), "job", mode)
        else:
            self.chain_ended(mode, self.sim.clock.time())

    def all_calls(self) -> dict[str, int]:
        return dict(self.spapi.gate.calls)

    def order_changed(self, order: Order, now: float) -> None:
        if self.notifications:
            self.at(now + BATCH_WINDOW, "notification", (order.order_id, order.status, 1))

    def notification(self, payload: tuple[str, str, int] | None, now: float) -> None:
        """A message reaches the notifications queue (None: its consumer's next turn). Messages are handled in
        order, each when a getOrder token is there: the consumers' waits for the token are scheduled, not slept
        on the one clock, so a queue that has fallen behind does not hold the other chains back (Lambda runs
        the notifications and the order jobs side by side)."""
        if payload is None:
            self.drain_due = False
        else:
            self.inbox.append(payload)
        while self.inbox:
            wait = self.spapi.gate.wait_time("getOrder")
            if wait > 0:
                if not self.drain_due:
                    self.drain_due = True
                    self.at(now + wait, "notification", None)
                return
            order_id, status, receives = self.inbox.popleft()
            change = OrderChange(f"n-{order_id}-{status}", SELLER, order_id, US, status)
            try:
                self.handler.handle(change)
            except Throttled:
                if receives >= MAX_RECEIVES:
                    self.dead_letters += 1
                else:
                    self.at(now + VISIBILITY_TIMEOUT, "notification", (order_id, status, receives + 1))
            now = self.sim.clock.time()


JITTER = random.Random("sqs")


def sqs_jitter() -> float:
    """SQS delivers a delayed message a little after its delay, not at the same instant as another chain's:
    without it, two chains waiting for the same token would tie and one would always lose."""
    return JITTER.uniform(0.0, 5.0)


def advance_to(sim: Simulator, when: float) -> None:
    """The simulator's clock also runs with wall time: read it once, move it only forward."""
    ahead = when - sim.clock.time()
    if ahead > 0:
        sim.clock.advance(ahead)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def run_sustained(
    rate: float, notifications: bool, seed: int = 7, door_kind: str = "today"
) -> dict[str, Any]:
    wall = time.time()
    sim = Simulator(seed=seed, skus=200, orders=0, token_ttl=10**9).start()
    try:
        rng = random.Random(f"load-{seed}-{rate}")
        factory = OrderFactory(sim, rng)
        start = sim.clock.time()
        # three days of history at the same rate: what every catch-up re-reads (shipped or cancelled by now)
        history = []
        count = int(rate * 24 * CATCHUP_DAYS)
        for n in range(count):
            created = start - CATCHUP_DAYS * 24 * HOUR + n * HOUR / rate
            status = CANCELLED if rng.random() < 0.05 else SHIPPED
            updated = min(start - 300.0, created + rng.random() * 24 * HOUR)
            history.append(factory.make(created, status, rng.random() < 0.3, updated))
        with sim.world.lock:
            sim.world.orders.bulk_load(history)
        spapi = build_spapi(sim)
        table = OrdersTable(sim.clock.time)
        for order in history:  # storesync already holds them (it imported them as they came)
            table.orders[order.order_id] = held(order)
        events: list[tuple[float, int, str, Any]] = []
        seq = itertools.count()

        def at(when: float, kind: str, payload: Any = None) -> None:
            heapq.heappush(events, (when, next(seq), kind, payload))

        store = bench_store()
        door = make_door(door_kind, sim, spapi, table, store, notifications, at)
        door.cursor = {"last_complete": iso(sim.clock.now() - timedelta(minutes=2))}
        sim.world.order_listeners.append(lambda order, _previous: door.order_changed(order, sim.clock.time()))
        created: dict[str, float] = {}  # window order -> when it became importable (created or released)
        end_load = start + LOAD_HOURS * HOUR
        end = end_load + DRAIN_HOURS * HOUR
        for k in range(int((end - start) // SCHEDULE_SECONDS) + 1):
            at(start + k * SCHEDULE_SECONDS, "schedule", "incremental")
        for k in range(int((end - start) // CATCHUP_EVERY) + 1):
            at(start + HOUR + k * CATCHUP_EVERY, "schedule", "catchup")
        total = int(rate * LOAD_HOURS)
        for n in range(total):
            at(start + (n + rng.random()) * HOUR / rate, "create", None)
        while events and events[0][0] <= end:
            when, _, kind, payload = heapq.heappop(events)
            advance_to(sim, when)
            now = sim.clock.time()
            if kind == "schedule":
                door.schedule(payload, now)
            elif kind == "job":
                door.job(payload, now)
            elif kind == "notification":
                door.notification(payload, now)
            elif kind == "create":
                roll = rng.random()
                fba = roll < 0.3
                pending = 0.3 <= roll < 0.4
                order = factory.make(now, PENDING if pending else UNSHIPPED, fba)
                sim.world.add_order(order)
                if pending:
                    at(now + PENDING_RELEASE, "release", order.order_id)
                else:
                    created[order.order_id] = now
                    if rng.random() < 0.05 / 0.9:
                        at(now + CANCEL_AFTER, "cancel", order.order_id)
            elif kind == "release":
                order = sim.world.orders.by_id[payload]
                sim.world.change_status(order, UNSHIPPED)
                created[order.order_id] = now
            elif kind == "cancel":
                order = sim.world.orders.by_id[payload]
                if order.status in (PENDING, UNSHIPPED):
                    sim.world.change_status(order, CANCELLED)
        final = sim.clock.time()
        delays = []
        missing = stale = 0
        by_path: dict[str, int] = {}
        for order_id, ready in created.items():
            got = table.arrived.get(order_id)
            if got is None:
                missing += 1
                delays.append(final - ready)  # a lower bound: never arrived in the run
                continue
            delays.append(got[0] - ready)
            by_path[got[1]] = by_path.get(got[1], 0) + 1
            if table.orders[order_id].amazon_status != sim.world.orders.by_id[order_id].status:
                stale += 1
        calls = door.all_calls()
        catchups = [c for c in door.catchups if c["fired"] < end_load]
        complete = [c for c in catchups if not c.get("absorbed") and c.get("finished")]
        result = {
            "rate": rate, "notifications": notifications, "door": door_kind, "orders": len(created),
            "p95_min": percentile(delays, 0.95) / 60, "max_min": max(delays) / 60 if delays else float("nan"),
            "median_min": percentile(delays, 0.5) / 60,
            "calls_per_100": {op: round(100 * n / max(1, total), 2) for op, n in sorted(calls.items())},
            "calls": calls, "missing": missing, "stale_status": stale,
            "duplicated": sum(1 for n in table.creates.values() if n > 1), "by_path": by_path,
            "catchups_fired": len(catchups), "catchups_complete": len(complete),
            "catchup_hours": [round((c["finished"] - c["fired"]) / HOUR, 1) for c in complete],
            "dead_letters": door.dead_letters, "throttled_429": throttled_429(sim),
            "wall_s": round(time.time() - wall),
        }  # fmt: skip
        return result
    finally:
        sim.stop()


def throttled_429(sim: Simulator) -> int:
    stats = requests.get(f"{sim.url}/_sim/stats", timeout=30).json()
    return sum(stats["throttled"].values())


def iso_time(epoch: float) -> str:
    return sim_iso(epoch)  # the simulator's form of lastUpdatedTime, so "no change" compares equal


def held(order: Order) -> OrderSnapshot:
    """What storesync stores for an order it imported as Amazon has it now."""
    status = {SHIPPED: OrderStatus.SHIPPED, CANCELLED: OrderStatus.CANCELLED}.get(
        order.status, OrderStatus.OPEN
    )
    return OrderSnapshot(
        amazon_order_id=order.order_id, marketplace_id=US, status=status, amazon_status=order.status,
        channel="FBA" if order.fulfilled_by == "AMAZON" else "FBM",
        amazon_last_updated=iso_time(order.updated), holds=(), has_address=True,
        # its lines: the catch-up (domain/reconciliation.difference) compares units per SKU with the report's
        lines=tuple(OrderLine(i.order_item_id, i.sku, i.quantity, i.shipped) for i in order.items),
    )  # fmt: skip


def make_door(kind: str, sim: Simulator, spapi: SpApi, table: OrdersTable, store: Store, notifications: bool,
              at: Callable[[float, str, Any], None], **options: Any) -> Door:  # fmt: skip
    if kind == "today":
        return Door(sim, spapi, table, store, notifications, at, **options)
    from planner_door import PlannedDoor  # the planner's model (issue 18 part 2)

    return PlannedDoor(sim, spapi, table, store, notifications, at, **options)


def main_backlog(argv: list[str]) -> None:
    """A store connects with `--orders` orders of 14 days waiting (the generator's mix): time until every
    order (pending ones left out, as the store's default) is in storesync, and the median delay from connect."""
    parser = argparse.ArgumentParser(prog="bench_order_import_simulated.py backlog")
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--door", choices=("today", "planner"), default="today")
    parser.add_argument("--max-hours", type=float, default=72.0, help="simulated hours before giving up")
    args = parser.parse_args(argv)
    wall = time.time()
    sim = Simulator(seed=7, skus=200, orders=args.orders, token_ttl=10**9).start()
    try:
        mine = [o for o in sim.world.orders.by_id.values() if o.seller_id == SELLER and o.released]
        # an order Amazon cancelled before storesync first read it is never created (domain/orders.py
        # import_new): waiting for it would never end, so the backlog is the rest
        backlog = [o.order_id for o in mine if o.status != CANCELLED]
        spapi = build_spapi(sim)
        table = OrdersTable(sim.clock.time)
        events: list[tuple[float, int, str, Any]] = []
        seq = itertools.count()

        def at(when: float, kind: str, payload: Any = None) -> None:
            heapq.heappush(events, (when, next(seq), kind, payload))

        door = make_door(
            args.door, sim, spapi, table, bench_store(), False, at, first_sweep=timedelta(days=15)
        )
        start = sim.clock.time()
        door.schedule("incremental", start)
        at(start + SCHEDULE_SECONDS, "schedule", "incremental")
        done_at = None
        while events and events[0][0] <= start + args.max_hours * HOUR:
            when, _, kind, payload = heapq.heappop(events)
            advance_to(sim, when)
            now = sim.clock.time()
            if kind == "schedule":
                door.schedule(payload, now)
                if done_at is None:
                    at(now + SCHEDULE_SECONDS, "schedule", "incremental")
            elif kind == "job":
                door.job(payload, now)
            if (
                done_at is None
                and len(table.arrived) >= len(backlog)
                and all(i in table.arrived for i in backlog)
            ):
                done_at = sim.clock.time()
                break
        delays = sorted(table.arrived[i][0] - start for i in backlog if i in table.arrived)
        fba = sum(1 for i in backlog if sim.world.orders.by_id[i].fulfilled_by == "AMAZON")
        print(json.dumps({
            "door": args.door, "backlog": len(backlog), "fba": fba, "cancelled_never_created": len(mine) - len(backlog),
            "hours_until_all_in": round((done_at - start) / HOUR, 2) if done_at else None,
            "hours_run": round((sim.clock.time() - start) / HOUR, 2),
            "median_delay_h": round(percentile(delays, 0.5) / HOUR, 2), "missing": len(backlog) - len(delays),
            "calls": door.all_calls(), "duplicated": sum(1 for n in table.creates.values() if n > 1),
            "throttled_429": throttled_429(sim), "wall_s": round(time.time() - wall),
        }))  # fmt: skip
    finally:
        sim.stop()


def main_sustained(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_order_import_simulated.py sustained")
    parser.add_argument("--rates", default="500,1000,2000,3000,4000", help="orders an hour, comma separated")
    parser.add_argument("--notifications", choices=("on", "off", "both"), default="both")
    parser.add_argument("--door", choices=("today", "planner"), default="today")
    parser.add_argument("--out", default="", help="append one JSON line per run to this file")
    args = parser.parse_args(argv)
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.notifications]
    for rate in [float(r) for r in args.rates.split(",")]:
        for notifications in modes:
            result = run_sustained(rate, notifications, door_kind=args.door)
            line = json.dumps(result)
            print(line, flush=True)
            if args.out:
                with open(args.out, "a") as out:
                    out.write(line + "\n")


def main_catchup(argv: list[str]) -> None:
    """SP-API calls of one catch-up over a window holding `--orders` orders of which `--differences` differ."""
    parser = argparse.ArgumentParser(prog="bench_order_import_simulated.py catchup")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--differences", type=int, default=20)
    parser.add_argument("--door", choices=("today", "planner"), default="today")
    args = parser.parse_args(argv)
    sim = Simulator(seed=7, skus=200, orders=0, token_ttl=10**9).start()
    try:
        rng = random.Random("catchup")
        factory = OrderFactory(sim, rng)
        start = sim.clock.time()
        window = CATCHUP_DAYS * 24 * HOUR - HOUR
        orders = []
        for n in range(args.orders):
            created = start - window + n * window / args.orders
            status = SHIPPED if created < start - 24 * HOUR else UNSHIPPED
            orders.append(factory.make(created, status, rng.random() < 0.3, created + 60.0))
        with sim.world.lock:
            sim.world.orders.bulk_load(orders)
        table = OrdersTable(sim.clock.time)
        for order in orders:  # storesync holds every order as Amazon has it ...
            table.orders[order.order_id] = held(order)
        # ... except `differences`: half never arrived, half cancelled on Amazon without storesync knowing
        recent = [o for o in orders if o.status == UNSHIPPED]
        for n, order in enumerate(rng.sample(recent, args.differences)):
            if n % 2:
                del table.orders[order.order_id]
            else:
                sim.world.change_status(order, CANCELLED)
        sim.clock.advance(600.0)
        spapi = build_spapi(sim)
        events: list[tuple[float, int, str, Any]] = []
        seq = itertools.count()

        def at(when: float, kind: str, payload: Any = None) -> None:
            heapq.heappush(events, (when, next(seq), kind, payload))

        door = make_door(args.door, sim, spapi, table, bench_store(), False, at)
        door.cursor = {"last_complete": iso(sim.clock.now() - timedelta(minutes=2))}
        began = sim.clock.time()
        door.schedule("catchup", began)
        while events:
            when, _, kind, payload = heapq.heappop(events)
            advance_to(sim, when)
            door.job(payload, sim.clock.time())
        fixed = sum(
            1 for o in orders
            if o.order_id in table.orders and table.orders[o.order_id].amazon_status == o.status
        )  # fmt: skip
        print(json.dumps({
            "door": args.door, "orders": args.orders, "differences": args.differences,
            "calls": door.all_calls(), "total_calls": sum(door.all_calls().values()),
            "hours": round((sim.clock.time() - began) / HOUR, 2),
            "in_agreement_after": fixed, "of": len(orders),
        }))  # fmt: skip
    finally:
        sim.stop()
