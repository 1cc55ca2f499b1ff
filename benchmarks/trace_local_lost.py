"""Diagnostic (not a benchmark): runs bench_order_import_local's sustained mode once with a trace of every
searchOrders / getOrder call the simulator answered, every order-import run (mode, cursor before and after,
counts) and every upsert (door, incoming status and lastUpdated, action, reason), then explains each order the
run counts as lost or in the wrong status: when Amazon's world created / changed it, which searchOrders windows
covered that change and which pages returned it, what storesync stored.

    cd benchmarks
    nice -n 10 ../.venv/bin/python trace_local_lost.py --rates 2000 --notifications off --out-dir /tmp/lost
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
import time
from typing import Any

import bench_order_import_local as bench_mod

TRACE: dict[str, list[Any]] = {"search": [], "get": [], "runs": [], "upserts": []}
LOCK = threading.Lock()
DOOR = threading.local()
FINAL: dict[str, Any] = {}


def log(kind: str, entry: dict[str, Any]) -> None:
    entry["t"] = time.time()
    with LOCK:
        TRACE[kind].append(entry)


def wrap_simulator() -> None:
    from spapi_simulator import server
    from spapi_simulator.orders_api import _decode_token

    server.load_api_modules()
    for i, route in enumerate(server.SP_API_ROUTES):
        if route.operation_id not in ("searchOrders", "getOrder"):
            continue
        original = route.handler

        def traced(
            call: Any, *a: Any, _original: Any = original, _op: str = route.operation_id, **kw: Any
        ) -> Any:
            status, body = _original(call, *a, **kw)
            if _op == "searchOrders":
                token = call.query.get("paginationToken")
                state = _decode_token(str(token), call) if token else None
                orders = body.get("orders") or []
                log("search", {
                    "after": call.query.get("lastUpdatedAfter"), "before_param": call.query.get("lastUpdatedBefore"),
                    "token_state": None if state is None else {k: state[k] for k in ("start", "after_id", "before")},
                    "statuses": call.query.get("fulfillmentStatuses"), "fulfilled_by": call.query.get("fulfilledBy"),
                    "returned": [(o["orderId"], o["lastUpdatedTime"], o.get("fulfillment", {}).get("fulfillmentStatus"))
                                 for o in orders],
                    "before": body.get("lastUpdatedBefore"), "more": bool(body.get("pagination")),
                    "sim_now": call.clock.time(),
                })  # fmt: skip
            else:
                log("get", {"order": kw.get("orderId") or (a[0] if a else None), "status": status})
            return status, body

        server.SP_API_ROUTES[i] = dataclasses.replace(route, handler=traced)


def wrap_storesync() -> None:
    from storesync.usecases import order_import, order_notifications, order_reconciliation
    from storesync.usecases.order_upsert import OrderUpserter

    run = order_import.OrderImport.run

    def traced_run(self: Any) -> Any:
        before = dict(self.ctx.cursor)
        DOOR.name = f"import:{self.ctx.message.mode}"
        started = time.time()
        try:
            outcome = run(self)
            log("runs", {"mode": self.ctx.message.mode, "trigger": self.ctx.message.trigger, "started": started,
                         "before": strip(before), "after": strip(self.ctx.cursor), "counts": dict(outcome.counts),
                         "continue_after": outcome.continue_after, "result": outcome.result})  # fmt: skip
            return outcome
        except Exception as exc:
            log("runs", {"mode": self.ctx.message.mode, "started": started, "before": strip(before),
                         "after": strip(self.ctx.cursor), "raised": f"{type(exc).__name__}: {exc}"[:300]})  # fmt: skip
            raise
        finally:
            DOOR.name = None

    order_import.OrderImport.run = traced_run  # type: ignore[method-assign]

    fetch = order_reconciliation.Reconciliation._fetch

    def traced_fetch(self: Any, state: Any) -> Any:
        DOOR.name = "reconcile-fetch"
        return fetch(self, state)

    order_reconciliation.Reconciliation._fetch = traced_fetch  # type: ignore[method-assign]
    handle = order_notifications.OrderChangeHandler.handle

    def traced_handle(self: Any, change: Any) -> Any:
        DOOR.name = "notification"
        try:
            return handle(self, change)
        finally:
            DOOR.name = None

    order_notifications.OrderChangeHandler.handle = traced_handle  # type: ignore[method-assign]
    upsert = OrderUpserter.upsert  # Arrivals wraps it again on top: both record

    def traced_upsert(upserter: Any, store: Any, incoming: Any) -> Any:
        result = upsert(upserter, store, incoming)
        log("upserts", {"order": incoming.order_id, "door": getattr(DOOR, "name", None), "status": incoming.status,
                        "last_updated": incoming.last_updated, "action": result.action, "reason": result.reason})  # fmt: skip
        return result

    OrderUpserter.upsert = traced_upsert  # type: ignore[method-assign]


def strip(cursor: dict[str, Any]) -> dict[str, Any]:
    c = dict(cursor)
    if isinstance(c.get("reconcile"), dict):
        c["reconcile"] = {k: v for k, v in c["reconcile"].items() if k != "fetch"} | {
            "fetch_len": len(c["reconcile"].get("fetch") or [])
        }
    return c


def wrap_stored() -> None:
    """Bench.stored is called once, at the end, inside the runtime: snapshot both worlds then."""
    original = bench_mod.Bench.stored

    def traced(self: Any) -> dict[str, str]:
        from storesync.dal.orders import Order

        stored = original(self)
        FINAL["stored"] = {o.amazon_order_id: {"amazon_status": o.amazon_status, "status": o.status,
                                               "amazon_last_updated": o.amazon_last_updated}
                           for o in Order.query(self.store_id)}  # fmt: skip
        FINAL["world"] = {o.order_id: {"created": o.created, "updated": o.updated, "status": o.status,
                                       "fulfilled_by": o.fulfilled_by, "release_at": o.release_at}
                          for o in list(self.rt.simulator.world.orders.by_id.values())
                          if o.seller_id == bench_mod.SELLER}  # fmt: skip
        FINAL["cursor"] = strip(self.cursor())
        FINAL["end"] = time.time()
        return stored

    bench_mod.Bench.stored = traced  # type: ignore[method-assign]
    original_new = bench_mod.Bench.new_order

    def traced_new(self: Any, sku: str, fba: bool, pending: bool) -> str:
        order_id = original_new(self, sku, fba, pending)
        log("runs", {"bench_created": order_id, "pending": pending, "fba": fba})
        FINAL.setdefault("start", time.time())
        return order_id

    bench_mod.Bench.new_order = traced_new  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="2000")
    parser.add_argument("--notifications", default="off")
    parser.add_argument("--load-hours", type=float, default=2.0)
    parser.add_argument("--drain-hours", type=float, default=1.0)
    parser.add_argument("--speed", type=float, default=36.0)
    parser.add_argument("--divisor", type=float, default=6.0)
    parser.add_argument("--door", default="today")
    parser.add_argument("--overlap-minutes", type=float, default=bench_mod.OVERLAP_MINUTES)
    parser.add_argument("--out-dir", required=True)
    a = parser.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    wrap_simulator()
    wrap_storesync()
    wrap_stored()
    args = argparse.Namespace(speed=a.speed, divisor=a.divisor, load_hours=a.load_hours, drain_hours=a.drain_hours,
                              door=a.door, overlap_minutes=a.overlap_minutes, settle_timeout=300.0, deadline=1800.0)  # fmt: skip
    from storesync_local.demo import logs_to_file

    with logs_to_file(os.path.join(a.out_dir, "functions.log")) as terminal:
        result = bench_mod.sustained(args, float(a.rates), a.notifications == "on", terminal)
    arrivals = bench_mod._RECORDING[0]
    print(json.dumps(result), flush=True)
    with open(os.path.join(a.out_dir, "trace.json"), "w") as out:
        json.dump({"result": result, "trace": TRACE, "final": FINAL, "arrivals": arrivals.first,
                   "speed": a.speed}, out)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
