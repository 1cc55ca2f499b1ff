"""The planner's door for order_load_model.py: storesync.usecases.order_planner over the simulator.

Two SP-API sessions share one set of quota buckets: the notifications' (first call) and the planner's
(background: leaves quota_gate.first_call_reserve). Rounds run every `PLAN_EVERY` (an incremental round from the
last complete one, less the overlap) and every 6 hours a 3-day reconciliation round (the catch-up), each a chain
of its own cursor.

The report door is a model: the simulator of this branch does not serve the order reports yet (the `reports`
branch adds them), so `SimOrderReports` reads the simulator's world directly, as
GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL would list it, and charges the Reports API calls on the
planner's gate at their real quotas (createReport once, getReport every minute until the report is ready
REPORT_DELAY later, getReportDocument once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from order_load_model import CATCHUP_DAYS, SELLER, US, Door, MemoryContext, sqs_jitter
from spapi_simulator.clock import iso as sim_iso
from storesync.amazon.clients import SpApi
from storesync.amazon.errors import Throttled
from storesync.amazon.orders import AmazonOrders
from storesync.amazon.quota_gate import QuotaGate
from storesync.clock import iso, parse_iso
from storesync.dal.stores import Store
from storesync.jobs import JobMessage
from storesync.usecases.order_import import AMAZON_MIN_LAG
from storesync.usecases.order_planner import OrderPlanner, OrderPlannerDeps, ReportRow

PLAN_EVERY = 10 * 60.0
REPORT_DELAY = 3 * 60.0


@dataclass
class SimOrderReports:
    sim: Any
    gate: QuotaGate

    def _charge(self, operation: str) -> None:
        self.gate.acquire(operation)
        self.gate.calls[operation] = self.gate.calls.get(operation, 0) + 1

    def window_rows(
        self, store: Store, after: str, before: str, state: dict[str, Any]
    ) -> list[ReportRow] | None:
        now = self.sim.clock.time()
        if "requested_at" not in state:
            self._charge("createReport")
            state["requested_at"] = now
            return None
        self._charge("getReport")
        if now < state["requested_at"] + REPORT_DELAY:
            return None
        self._charge("getReportDocument")
        start, end = parse_iso(after).timestamp(), parse_iso(before).timestamp()
        rows = []
        for order in self.sim.world.orders.scan(SELLER, "updated", start):
            if order.updated > end:
                break
            items = tuple((i.order_item_id, i.sku, i.quantity) for i in order.items)
            rows.append(ReportRow(order.order_id, order.status, order.fulfilled_by, sim_iso(order.created),
                                  sim_iso(order.updated), items))  # fmt: skip
        return rows


@dataclass
class TableHeld:
    table: Any

    def held(self, store: Store, order_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        orders = self.table.orders
        return {i: (orders[i].amazon_status, orders[i].amazon_last_updated) for i in order_ids if i in orders}


@dataclass
class PlannedDoor(Door):
    cursors: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        first = self.spapi.gate
        self.background = QuotaGate(first.seller_key, first._store, clock=first._clock, sleep=first._sleep,
                                    background=True)  # fmt: skip
        planner_spapi = SpApi(self.spapi._factory, US, self.spapi._refresh_token, self.background)
        self.planner_deps = OrderPlannerDeps(
            upserter=self.table.view("planner"), amazon_for=lambda _store: AmazonOrders(planner_spapi),
            reports=SimOrderReports(self.sim, self.background), held=TableHeld(self.table),
            first_window=self.first_sweep, clock=self.sim.clock.now,
        )  # fmt: skip

    def all_calls(self) -> dict[str, int]:
        calls = dict(self.spapi.gate.calls)
        for op, n in self.background.calls.items():
            calls[op] = calls.get(op, 0) + n
        return calls

    def schedule(self, mode: str, now: float) -> None:
        if mode == "incremental" and not self.chains and "incremental" not in self.cursors:
            # rounds every PLAN_EVERY instead of the 30-minute schedule
            self.at(now + PLAN_EVERY, "schedule", "plan-tick")
        if mode == "plan-tick":
            self.at(now + PLAN_EVERY, "schedule", "plan-tick")
            mode = "incremental"
        super().schedule(mode, now)

    def start(self, mode: str, now: float) -> None:
        if mode == "catchup":
            self.active_catchup()["started"] = now
            before = self.sim.clock.now() - AMAZON_MIN_LAG
            after = before - timedelta(days=CATCHUP_DAYS)
            self.cursors["catchup"] = {"round": {"after": iso(after), "before": iso(before)}}
        super().start(mode, now)

    def job(self, mode: str, now: float) -> None:
        self.runs += 1
        if mode == "incremental" and "incremental" not in self.cursors:
            self.cursors["incremental"] = dict(self.cursor)
        message = JobMessage(
            job="orders", mode="incremental", merchant_id="bench-merchant", store_id="bench-store"
        )
        ctx = MemoryContext(message, self.store, "bench", self.cursors[mode])
        try:
            outcome = OrderPlanner(self.planner_deps, ctx).run()
        except Throttled as exc:
            self.at(now + exc.retry_after + sqs_jitter(), "job", mode)
            return
        self.cursors[mode] = ctx.cursor
        if outcome.continue_after is not None:
            self.at(self.sim.clock.time() + max(outcome.continue_after, 1.0) + sqs_jitter(), "job", mode)
            return
        if mode == "catchup":
            self.active_catchup()["finished"] = self.sim.clock.time()
        self.chain_ended(mode, self.sim.clock.time())
