"""Issue 18's figures against the local system: sustained load, backlog at connect and catch-up cost, with the
real handlers (DispatchFunction, OrderImportFunction with its two SQS sources), moto's server and the SP-API
simulator over HTTP, all run by the local runtime (`storesync_local.runtime.LocalRuntime`).

    cd benchmarks
    nice -n 10 ../.venv/bin/python bench_order_import_local.py sustained --rates 1000,2000 --notifications both
    nice -n 10 ../.venv/bin/python bench_order_import_local.py backlog --orders 50000
    nice -n 10 ../.venv/bin/python bench_order_import_local.py catchup --orders 10000 --differences 20

Scale. Two numbers, printed with every figure: the speed S (simulated seconds per real second: the runtime's
schedules and visibility timeouts) and the size divisor k (orders divided by k). Amazon's quotas are multiplied
by S / k (the simulator's and storesync's quota gate alike), so orders / quota, i.e. how full searchOrders' and
getOrder's buckets run, is Amazon's at the nominal rate: a "1,000 orders an hour" run creates 1,000 / k orders
per simulated hour at quotas k times smaller. Figures are in simulated time (real seconds times S), nominal
orders (times k) and per 100 orders (no scaling), so they compare with the simulated tables of BENCHMARKS.md.
What does not scale: a page holds 100 orders whatever k (a sweep of few orders costs a whole page: searchOrders
per 100 orders is higher here at small k-scaled volumes) and the buckets' bursts (20 searchOrders pages, 30
getOrders) are Amazon's, i.e. k times larger against the scaled volume. Amazon-side durations are scaled by the
benchmark as the runtime scales the pending release: the simulator's two-minute rule (searchOrders shows an
order two simulated minutes after its last change) and its order report's processing time (3 simulated minutes,
the simulated benchmark's assumption); storesync's report poll (30 s between getReport calls,
ReconciliationDeps.report_poll_seconds) runs in simulated seconds too, and so does the sweeps' overlap
(OrdersOverlapMinutes, 5 simulated minutes: storesync's clock is real time, so it gets 5 / S real minutes;
`--overlap-minutes`). Nothing else of storesync is changed.

Modes:
- sustained: `--load-hours` simulated hours at each rate (30 % FBA, 10 % pending released 30 minutes later,
  5 % cancelled an hour after creation), then `--drain-hours` with no new orders; the template's schedules
  run (incremental sweep every 30 simulated minutes); the catch-up (on main: the reconciliation by order
  report) is fired once, one simulated hour into the load (as the simulated model's first catch-up).
  Notifications off: the seller's ORDER_CHANGE subscription is removed on Amazon's side after the connect.
  Delay: creation (release, for a pending order) to the moment the order is first stored (the first CREATE of
  the real OrderUpserter, whichever door); an order not in at the end is "lost" and counts with its delay
  until the end. Calls per 100 orders created, by operation (the simulator's own count).
- backlog: `--orders` / k orders of 14 days (the generator's mix) waiting when the store connects (first
  sweep reaching 15 days back, OrdersCatchupDays=15); simulated hours until every non-pending order is in,
  median delay from the connect.
- catchup: `--orders` / k orders that storesync holds, then `--differences` (half created on Amazon without a
  notification, half cancelled on Amazon without one); the catch-up schedule fired once: SP-API calls until it
  is done, simulated hours, orders in agreement with Amazon after.
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import harness  # noqa: F401  (the benchmarks' environment, before storesync)
import requests
from order_load_model import CANCEL_AFTER, HOUR, PENDING_RELEASE, percentile

os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"
ADDRESS = {"name": "Bench Buyer", "addressLine1": "1 Load Street", "city": "Seattle",
           "stateOrRegion": "WA", "postalCode": "98101", "countryCode": "US"}  # fmt: skip
TWO_MINUTES = 120.0  # Amazon's two-minute rule (simulator: orders_api.TWO_MINUTES)
REPORT_SECONDS = 180.0  # the order report's processing time, simulated seconds
REPORT_POLL_SECONDS = 30.0  # storesync's getReport interval (ReconciliationDeps.report_poll_seconds)
NEVER = "cron(0 0 1 1 ? 2030)"  # not within a run: the run fires it itself
ORDER_JOB = "orders"
SCHEDULE_MINUTES = 30  # template.yaml's OrdersSchedule
OVERLAP_MINUTES = 5.0  # template.yaml's OrdersOverlapMinutes, simulated minutes here (storesync gets 5 / S)


@dataclass(frozen=True)
class Scale:
    speed: float  # simulated seconds per real second
    divisor: float  # orders divided by this; quotas too

    @property
    def quota_scale(self) -> float:
        return self.speed / self.divisor

    def sim_minutes(self, real_seconds: float) -> float:
        return real_seconds * self.speed / 60

    def describe(self) -> str:
        return (f"speed x{self.speed:g} (1 real s = {self.speed:g} simulated s), sizes / {self.divisor:g}, "
                f"quotas x{self.quota_scale:g}")  # fmt: skip


@dataclass
class Arrivals:
    """When the real OrderUpserter first stored each order (CREATE), and how many CREATEs each got."""

    first: dict[str, float] = field(default_factory=dict)
    creates: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        """This object records from now on (the upserter is wrapped once per process)."""
        from storesync.domain.orders import CREATE
        from storesync.usecases.order_upsert import OrderUpserter

        _RECORDING[0] = self
        if _RECORDING[1]:
            return
        _RECORDING[1] = True
        original = OrderUpserter.upsert

        def recording(upserter: Any, store: Any, incoming: Any) -> Any:
            result = original(upserter, store, incoming)
            arrivals = _RECORDING[0]
            if result.action == CREATE and arrivals is not None:
                with arrivals.lock:
                    arrivals.first.setdefault(incoming.order_id, time.time())
                    arrivals.creates[incoming.order_id] = arrivals.creates.get(incoming.order_id, 0) + 1
            return result

        OrderUpserter.upsert = recording  # type: ignore[method-assign]

    def duplicated(self) -> int:
        with self.lock:
            return sum(1 for n in self.creates.values() if n > 1)


_RECORDING: list[Any] = [None, False]  # the Arrivals recording now; whether the upserter is wrapped


@contextmanager
def amazon_scaled(scale: Scale) -> Iterator[None]:
    """Amazon-side durations in simulated time (the two-minute rule), and storesync's report poll."""
    from spapi_simulator import orders_api
    from storesync.usecases.order_reconciliation import ReconciliationDeps

    two_minutes, defaults = orders_api.TWO_MINUTES, ReconciliationDeps.__init__.__defaults__
    assert defaults is not None and defaults[0] == REPORT_POLL_SECONDS, defaults
    orders_api.TWO_MINUTES = TWO_MINUTES / scale.speed  # type: ignore[misc]
    ReconciliationDeps.__init__.__defaults__ = (REPORT_POLL_SECONDS / scale.speed, *defaults[1:])
    try:
        yield
    finally:
        orders_api.TWO_MINUTES = two_minutes  # type: ignore[misc]
        ReconciliationDeps.__init__.__defaults__ = defaults


PLAN_WINDOW_MINUTES = (
    45  # template.yaml's OrdersPlanWindowMinutes (the planner takes windows older than this)
)


def door_parameters(door: str, scale: Scale) -> dict[str, str]:
    """today: the planner off (OrdersPlanWindowMinutes 0; a template without the planner ignores it); planner:
    on, its window age in storesync's (real) minutes, i.e. 120 simulated minutes."""
    if door == "today":
        return {"OrdersPlanWindowMinutes": "0"}
    from storesync_local.template import load_template

    if "OrdersPlanWindowMinutes" not in load_template().get("Parameters", {}):
        raise SystemExit(
            "--door planner: this checkout's template has no OrdersPlanWindowMinutes (not wired)"
        )
    return {"OrdersPlanWindowMinutes": str(max(1, round(PLAN_WINDOW_MINUTES / scale.speed)))}


@contextmanager
def local_system(
    scale: Scale,
    *,
    orders: int = 0,
    schedules: bool = True,
    overlap: float = OVERLAP_MINUTES,
    **parameters: str,
) -> Iterator[Any]:
    from storesync_local.runtime import LocalRuntime, RuntimeConfig, unique_stack_name

    # the product schedules ask for listings reports (createReport, getReport...): not fired, so the
    # Reports API calls counted are the orders' own. storesync's clock is real time: the sweeps' overlap is
    # scaled like the schedules (5 real minutes would be 3 simulated hours at S = 36: every sweep re-reading
    # the six before it)
    parameters = {"NewProductsSchedule": NEVER, "FullProductsSchedule": NEVER,
                  "OrdersOverlapMinutes": f"{overlap / scale.speed:.6g}", **parameters}  # fmt: skip
    config = RuntimeConfig(
        api_port=0, spapi_port=0, moto_port=0, speed=scale.speed, quota_scale=scale.quota_scale, seed=7,
        skus=60, orders=orders, pending_release_minutes=None, stack_name=unique_stack_name("lbench"),
        external_spapi=None, run_schedules=schedules, parameters=parameters,
    )  # fmt: skip
    with amazon_scaled(scale), LocalRuntime(config) as runtime:
        sim = runtime.simulator
        sim.config = dataclasses.replace(sim.config, report_seconds=REPORT_SECONDS / scale.speed)
        yield runtime


class Bench:
    def __init__(self, runtime: Any, scale: Scale, out: TextIO) -> None:
        from storesync_local.client import StoresyncClient

        self.rt = runtime
        self.scale = scale
        self.out = out
        self.http = requests.Session()
        self.client = StoresyncClient.signed_in(runtime.api_url, f"lbench-{uuid.uuid4().hex[:6]}")
        self.store_id = ""

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def sim(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(method, self.rt.spapi_url + path, json=body, timeout=60)
        if answer.status_code >= 300:
            raise RuntimeError(f"simulator {method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def connect(self, settle_timeout: float) -> None:
        """Connect the store (ORDER_CHANGE subscribed) and import its products (every order's SKU is known)."""
        self.store_id, landing = self.client.connect_store(
            SELLER, US, "Local bench", download_products_and_orders=True, starting_inventory="match_amazon"
        )
        if "outcome=connected" not in landing:
            raise RuntimeError(f"connect: the consent callback answered {landing}")
        self.sync("products", "full")
        self.settle(settle_timeout)

    def sync(self, job: str, mode: str) -> float:
        """Sync now (POST /stores/{id}/sync); returns the real time it was queued."""
        self.client.post(f"/stores/{self.store_id}/sync", {"job": job, "mode": mode})
        return time.time()

    def settle(self, timeout: float) -> bool:
        return bool(self.rt.wait_idle(timeout=timeout))

    def notifications_off(self) -> int:
        """Amazon stops sending the seller's ORDER_CHANGE (the subscription is removed on Amazon's side)."""
        world = self.rt.simulator.world
        with world.lock:
            gone = [k for k, s in world.subscriptions.items() if s.seller_id == SELLER]
            for key in gone:
                del world.subscriptions[key]
        return len(gone)

    def listings(self) -> tuple[list[str], list[str]]:
        active = [x for x in self.rt.simulator.world.catalog.listings(SELLER, US) if x.status == "Active"]
        return [x.sku for x in active if not x.is_fba], [x.sku for x in active if x.is_fba]

    def new_order(self, sku: str, fba: bool, pending: bool) -> str:
        body = {"seller_id": SELLER, "marketplace_id": US, "fulfilled_by": "AMAZON" if fba else "MERCHANT",
                "items": [{"sku": sku, "quantity": 1}], "status": "PENDING" if pending else "UNSHIPPED",
                "address": ADDRESS}  # fmt: skip
        return str(self.sim("POST", "/_sim/orders", body)["order_id"])

    def reset_stats(self) -> None:
        self.sim("POST", "/_sim/stats/reset")

    def stats(self) -> dict[str, Any]:
        return dict(self.sim("GET", "/_sim/stats"))

    def cursor(self) -> dict[str, Any]:
        from storesync.dal.job_state import load_cursor

        return load_cursor(self.store_id, ORDER_JOB)

    def stored(self) -> dict[str, str]:
        """amazon order id -> Amazon's status as storesync holds it."""
        from storesync.dal.orders import Order

        return {o.amazon_order_id: o.amazon_status for o in Order.query(self.store_id)}

    def dead_letters(self) -> int:
        return sum(n for lid, n in self.rt.queue_depths().items() if "DeadLetter" in lid)


def sustained(args: argparse.Namespace, rate: float, notifications: bool, out: TextIO) -> dict[str, Any]:
    scale = Scale(args.speed, args.divisor)
    arrivals = Arrivals()
    arrivals.install()
    doors = door_parameters(args.door, scale)
    with local_system(scale, overlap=args.overlap_minutes, OrdersCatchupSchedule=NEVER, **doors) as runtime:
        bench = Bench(runtime, scale, out)
        bench.connect(args.settle_timeout)
        if not notifications:
            bench.notifications_off()
        fbm, fba = bench.listings()
        rng = random.Random(f"local-{rate}-{notifications}")
        per_hour = rate / args.divisor
        total = round(per_hour * args.load_hours)
        events: list[tuple[float, int, str, str]] = []  # (simulated seconds from the start, seq, kind, order)
        for n in range(total):
            heapq.heappush(events, ((n + rng.random()) * HOUR / per_hour, n, "create", ""))
        catchup_at = HOUR
        end = (args.load_hours + args.drain_hours) * HOUR
        bench.reset_stats()
        bench.say(f"   sustained {rate:g}/h nominal ({per_hour:g}/h created), notifications "
                  f"{'on' if notifications else 'off'}: {total} orders over {args.load_hours:g} h; {scale.describe()}")  # fmt: skip
        ready: dict[str, float] = {}  # order -> real time it became importable (created or released)
        seq = total
        catchup: dict[str, Any] = {
            "fired": None,
            "finished": None,
            "before": bench.cursor().get("reconciled"),
        }
        start = time.monotonic()
        behind, looked = 0.0, 0.0
        while True:
            now_sim = (time.monotonic() - start) * scale.speed
            if now_sim >= end:
                break
            if catchup["fired"] is None and now_sim >= catchup_at:
                runtime.fire_schedule("OrdersCatchup")
                catchup["fired"] = now_sim
            elif (
                catchup["fired"] is not None and catchup["finished"] is None and time.monotonic() > looked + 2
            ):
                looked = time.monotonic()
                cursor = bench.cursor()
                if cursor.get("reconciled") != catchup["before"] and not cursor.get("reconcile"):
                    catchup["finished"] = now_sim
            if not events or events[0][0] > now_sim:
                time.sleep(0.05)
                continue
            when, _, kind, order_id = heapq.heappop(events)
            behind = max(behind, now_sim - when)
            if kind == "create":
                roll = rng.random()
                is_fba, pending = roll < 0.3, 0.3 <= roll < 0.4
                order_id = bench.new_order(rng.choice(fba if is_fba else fbm), is_fba, pending)
                seq += 1
                if pending:
                    heapq.heappush(events, (when + PENDING_RELEASE, seq, "release", order_id))
                else:
                    ready[order_id] = time.time()
                    if rng.random() < 0.05 / 0.9:
                        heapq.heappush(events, (when + CANCEL_AFTER, seq, "cancel", order_id))
            elif kind == "release":
                bench.sim("POST", f"/_sim/orders/{order_id}/release")
                ready[order_id] = time.time()
            elif kind == "cancel" and runtime.simulator.world.orders.by_id[order_id].status == "UNSHIPPED":
                bench.sim("POST", f"/_sim/orders/{order_id}/cancel")
        final = time.time()
        stats = bench.stats()
        stored = bench.stored()
        world = runtime.simulator.world.orders.by_id
        delays, missing, stale, unseen = [], 0, 0, 0
        for order_id, at in ready.items():
            got = arrivals.first.get(order_id)
            if got is None and world[order_id].status == "CANCELLED":
                unseen += 1  # cancelled before storesync saw it: never created (the order rules)
                continue
            if got is None:
                missing += 1
                delays.append(scale.sim_minutes(final - at))
                continue
            delays.append(scale.sim_minutes(got - at))
            if stored.get(order_id) != world[order_id].status:
                stale += 1
        result = {
            "mode": "sustained", "door": args.door, "rate": rate, "notifications": notifications,
            "speed": scale.speed, "divisor": scale.divisor, "orders_created": total, "orders_ready": len(ready),
            "median_min": round(percentile(delays, 0.5), 1), "p95_min": round(percentile(delays, 0.95), 1),
            "max_min": round(max(delays), 1) if delays else None,
            "calls_per_100": {op: round(100 * n / max(1, total), 2) for op, n in sorted(stats["calls"].items())
                              if op in ORDER_OPERATIONS},
            "lost": missing, "cancelled_before_seen": unseen, "wrong_status": stale, "duplicated": arrivals.duplicated(),
            "catchup_fired_h": None if catchup["fired"] is None else round(catchup["fired"] / HOUR, 2),
            "catchup_hours": None if catchup["finished"] is None
            else round((catchup["finished"] - catchup["fired"]) / HOUR, 2),
            "dead_letters": bench.dead_letters(), "throttled_429": sum(stats["throttled"].values()),
            "creation_behind_min": round(behind / 60, 1),
        }  # fmt: skip
    return result


ORDER_OPERATIONS = {"searchOrders", "getOrder", "createReport", "getReport", "getReportDocument"}


def backlog(args: argparse.Namespace, out: TextIO) -> dict[str, Any]:
    scale = Scale(args.speed, args.divisor)
    arrivals = Arrivals()
    arrivals.install()
    per_seller = round(args.orders / args.divisor)
    doors = door_parameters(args.door, scale)
    with local_system(
        scale,
        orders=per_seller,
        schedules=False,
        overlap=args.overlap_minutes,
        OrdersCatchupDays="15",
        **doors,
    ) as runtime:
        bench = Bench(runtime, scale, out)
        world = runtime.simulator.world
        waiting = [o.order_id for o in list(world.orders.by_id.values())
                   if o.seller_id == SELLER and o.marketplace_id == US and o.released and o.status != "CANCELLED"]  # fmt: skip
        bench.say(f"   backlog: {len(waiting)} orders of {SELLER} waiting in {US} (pending and cancelled left "
                  f"out: never created); {scale.describe()}")  # fmt: skip
        bench.connect(args.settle_timeout)  # schedules off: no order run yet
        bench.reset_stats()
        connected = time.time()
        deadline = time.monotonic() + args.deadline
        done_at, next_tick = None, 0.0
        while time.monotonic() < deadline:
            if all(i in arrivals.first for i in waiting):
                done_at = max(arrivals.first[i] for i in waiting)
                break
            if scale.sim_minutes(time.time() - connected) >= next_tick:
                runtime.fire_schedule("Orders")  # the first run at once, then every 30 simulated minutes
                next_tick += SCHEDULE_MINUTES
            time.sleep(0.2)
        stats = bench.stats()
        delays = sorted(
            scale.sim_minutes(arrivals.first[i] - connected) / 60 for i in waiting if i in arrivals.first
        )
        end = done_at if done_at is not None else time.time()
        return {
            "mode": "backlog", "door": args.door, "speed": scale.speed, "divisor": scale.divisor,
            "backlog": len(waiting), "nominal_backlog": round(len(waiting) * args.divisor),
            "hours_until_all_in": round(scale.sim_minutes(end - connected) / 60, 2), "all_in": done_at is not None,
            "median_delay_h": round(statistics.median(delays), 2) if delays else None,
            "missing": len(waiting) - len(delays), "duplicated": arrivals.duplicated(),
            "calls": {op: n for op, n in sorted(stats["calls"].items()) if op in ORDER_OPERATIONS},
            "throttled_429": sum(stats["throttled"].values()),
        }  # fmt: skip


def catchup(args: argparse.Namespace, out: TextIO) -> dict[str, Any]:
    scale = Scale(args.speed, args.divisor)
    arrivals = Arrivals()
    arrivals.install()
    with local_system(
        scale, schedules=False, overlap=args.overlap_minutes, **door_parameters(args.door, scale)
    ) as runtime:
        bench = Bench(runtime, scale, out)
        fbm, fba = bench.listings()
        rng = random.Random("local-catchup")
        count = round(args.orders / args.divisor)
        held = []
        for _ in range(count):
            is_fba = bool(fba) and rng.random() < 0.3
            held.append(bench.new_order(rng.choice(fba if is_fba else fbm), is_fba, False))
        time.sleep(TWO_MINUTES / scale.speed + 1)
        bench.connect(args.settle_timeout)
        bench.sync(ORDER_JOB, "incremental")  # the first sweep (3 days back) imports every one
        deadline = time.monotonic() + args.deadline
        while time.monotonic() < deadline and not all(i in arrivals.first for i in held):
            time.sleep(1.0)
        bench.settle(args.settle_timeout)
        stored_before = len(bench.stored())
        bench.notifications_off()
        open_fbm = [i for i in held if runtime.simulator.world.orders.by_id[i].fulfilled_by == "MERCHANT"]
        for order_id in rng.sample(open_fbm, args.differences // 2):
            bench.sim("POST", f"/_sim/orders/{order_id}/cancel")
        unseen = [
            bench.new_order(rng.choice(fbm), False, False)
            for _ in range(args.differences - args.differences // 2)
        ]
        bench.say(
            f"   catch-up: {stored_before} orders held, {args.differences} differences; {scale.describe()}"
        )
        bench.reset_stats()
        before = bench.cursor().get("reconciled")
        began = time.time()
        runtime.fire_schedule("OrdersCatchup")
        finished = None
        while time.monotonic() < deadline:
            cursor = bench.cursor()
            if (
                cursor.get("reconciled") != before
                and not cursor.get("reconcile")
                and not cursor.get("catchup")
            ):
                finished = time.time()
                break
            time.sleep(0.5)
        bench.settle(args.settle_timeout)
        stats = bench.stats()
        stored = bench.stored()
        world = runtime.simulator.world.orders.by_id
        everything = held + unseen
        agree = sum(1 for i in everything if stored.get(i) == world[i].status)
        calls = {op: n for op, n in sorted(stats["calls"].items()) if op in ORDER_OPERATIONS}
        return {
            "mode": "catchup", "door": args.door, "speed": scale.speed, "divisor": scale.divisor,
            "orders": len(everything), "nominal_orders": round(count * args.divisor), "differences": args.differences,
            "calls": calls, "total_calls": sum(calls.values()), "done": finished is not None,
            "hours": round(scale.sim_minutes((finished or time.time()) - began) / 60, 2),
            "in_agreement_after": agree, "of": len(everything), "duplicated": arrivals.duplicated(),
        }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "mode", nargs="?", default="catchup", choices=("sustained", "backlog", "catchup"),
        help="catchup (the default: a few minutes, as `make bench` runs it), sustained or backlog",
    )  # fmt: skip
    parser.add_argument(
        "--rates", default="1000,2000", help="sustained: nominal orders an hour, comma separated"
    )
    parser.add_argument("--notifications", choices=("on", "off", "both"), default="both")
    parser.add_argument("--load-hours", type=float, default=2.0, help="sustained: simulated hours of load")
    parser.add_argument("--drain-hours", type=float, default=1.0, help="sustained: simulated hours after")
    parser.add_argument("--orders", type=int, default=None, help="backlog 50,000 / catchup 10,000 (nominal)")
    parser.add_argument(
        "--door", choices=("today", "planner"), default="today", help="the order planner off / on"
    )
    parser.add_argument("--differences", type=int, default=20, help="catchup: orders that differ")
    parser.add_argument(
        "--overlap-minutes", type=float, default=OVERLAP_MINUTES,
        help="the sweeps' overlap in simulated minutes (storesync gets it / S; before 2026-12-04 it got 5 real minutes)",
    )  # fmt: skip
    parser.add_argument("--speed", type=float, default=None, help="simulated s per real s (36; backlog 30)")
    parser.add_argument(
        "--divisor", type=float, default=None, help="sizes and quotas divided by (6; backlog 10)"
    )
    parser.add_argument("--settle-timeout", type=float, default=300.0, help="real s to wait for queues")
    parser.add_argument("--deadline", type=float, default=1800.0, help="real s before giving up")
    parser.add_argument("--out", default="", help="append one JSON line per run to this file")
    args = parser.parse_args()
    defaults = {"sustained": (36.0, 6.0, 0), "backlog": (30.0, 10.0, 50_000), "catchup": (36.0, 6.0, 10_000)}
    speed, divisor, orders = defaults[args.mode]
    args.speed = args.speed or speed
    args.divisor = args.divisor or divisor
    args.orders = args.orders or orders

    from storesync_local.demo import logs_to_file

    log_path = os.path.join(tempfile.gettempdir(), f"storesync-localbench-{os.getpid()}.log")
    print(f"function logs in {log_path}", flush=True)
    results = []
    with logs_to_file(log_path) as terminal:
        if args.mode == "sustained":
            modes = {"on": [True], "off": [False], "both": [True, False]}[args.notifications]
            for rate in [float(r) for r in args.rates.split(",")]:
                for notifications in modes:
                    results.append(sustained(args, rate, notifications, terminal))
                    emit(results[-1], args.out, terminal)
        else:
            results.append((backlog if args.mode == "backlog" else catchup)(args, terminal))
            emit(results[-1], args.out, terminal)
    return 0


def emit(result: dict[str, Any], out_path: str, terminal: TextIO) -> None:
    line = json.dumps(result)
    print(line, file=terminal, flush=True)
    if out_path:
        with open(out_path, "a") as out:
            out.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
