"""The planner's door for order_load_model.py: storesync.usecases.order_planner over the simulator.

Two SP-API sessions share one set of quota buckets: the notifications' (first call) and the planner's
(background: leaves quota_gate.first_call_reserve). Rounds run every `PLAN_EVERY` (an incremental round from the
last complete one, less the overlap) and every 6 hours a 3-day reconciliation round (the catch-up), each a chain
of its own cursor.

The planner reads its reports through the Lambda's report door (OrderReportDoor, read_order_report); the Reports
API under it is `SimOrderReports`: the simulator's own order selection and flat file
(GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL) in process, the Reports API calls charged on the planner's
gate at their real quotas (createReport once, getReport every minute until the report is ready REPORT_DELAY
later, getReportDocument once); the report's window ends when it was asked for, less two minutes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from order_load_model import CATCHUP_DAYS, SELLER, US, Door, MemoryContext, sqs_jitter
from spapi_simulator.clock import iso as sim_iso
from spapi_simulator.order_reports import BY_LAST_UPDATE, flat_file_chunks, select_orders
from storesync.amazon.clients import SpApi
from storesync.amazon.errors import Throttled
from storesync.amazon.orders import AmazonOrders
from storesync.amazon.products_amazon import ReportState
from storesync.amazon.quota_gate import QuotaGate
from storesync.clock import iso
from storesync.dal.fetch_lists import MemoryFetchList
from storesync.dal.stores import Store
from storesync.domain.reconciliation import HeldOrder, units_of
from storesync.jobs import JobMessage
from storesync.usecases.order_planner import OrderPlanner, OrderPlannerDeps
from storesync.usecases.order_reconciliation import ReconciliationDeps
from storesync.usecases.order_search import AMAZON_MIN_LAG

PLAN_EVERY = 10 * 60.0
REPORT_DELAY = 3 * 60.0
REPORT_POLL_SECONDS = 60.0


@dataclass
class SimOrderReports:
    """The Reports API of the order report (storesync.usecases.order_reconciliation.OrderReportsAmazon) answered
    in process from the simulator's world, with the simulator's own selection and flat file
    (spapi_simulator.order_reports), the calls charged on the planner's gate. The planner reads it through the
    same OrderReportDoor and read_order_report as the Lambda."""

    sim: Any
    gate: QuotaGate
    requested: dict[str, tuple[float, float]] = field(default_factory=dict)  # report id -> (since, asked at)

    def _charge(self, operation: str) -> None:
        self.gate.acquire(operation)
        self.gate.calls[operation] = self.gate.calls.get(operation, 0) + 1

    def request_order_report(self, *, after: datetime, before: datetime | None = None) -> str:
        self._charge("createReport")
        report_id = f"bench-report-{len(self.requested) + 1}"
        self.requested[report_id] = (after.timestamp(), self.sim.clock.time())
        return report_id

    def _until(self, report_id: str) -> float:
        return self.requested[report_id][1] - AMAZON_MIN_LAG.total_seconds()

    def report_state(self, report_id: str) -> ReportState:
        self._charge("getReport")
        if self.sim.clock.time() < self.requested[report_id][1] + REPORT_DELAY:
            return ReportState("IN_PROGRESS")
        return ReportState("DONE", document_id=report_id, data_end=sim_iso(self._until(report_id)))

    @contextmanager
    def open_report(self, document_id: str) -> Iterator[TextIO]:
        self._charge("getReportDocument")
        since = self.requested[document_id][0]
        chosen = select_orders(self.sim.world, SELLER, US, BY_LAST_UPDATE, since, self._until(document_id))
        text = b"".join(flat_file_chunks(self.sim.world, BY_LAST_UPDATE, chosen)).decode()
        yield io.StringIO(text)


@dataclass
class TableHeld:
    """What the bench's orders table holds (order_queries.held_orders for the report door)."""

    table: Any

    def __call__(self, store: Store, order_ids: Sequence[str]) -> dict[str, HeldOrder]:
        orders = self.table.orders
        return {
            i: HeldOrder(i, orders[i].amazon_status, orders[i].amazon_last_updated,
                         units_of((line.sku, line.quantity) for line in orders[i].lines))
            for i in order_ids
            if i in orders
        }  # fmt: skip


@dataclass
class PlannedDoor(Door):
    cursors: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        first = self.spapi.gate
        self.background = QuotaGate(first.seller_key, first._store, clock=first._clock, sleep=first._sleep,
                                    background=True)  # fmt: skip
        planner_spapi = SpApi(self.spapi._factory, US, self.spapi._refresh_token, self.background)
        reports = SimOrderReports(self.sim, self.background)
        self.planner_deps = OrderPlannerDeps(
            upserter=self.table.view("planner"), amazon_for=lambda _store: AmazonOrders(planner_spapi),
            reports=ReconciliationDeps(reports_for=lambda _store: reports, held_orders=TableHeld(self.table),
                                       report_poll_seconds=REPORT_POLL_SECONDS),
            fetch_list=MemoryFetchList(),
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
            previous = self.cursors.get("catchup") or {}
            self.cursors["catchup"] = {"round": {"after": iso(after), "attempt": 1}}
            # orders a starved catch-up left to fetch (or a catch-up still running) go on with the new one
            carried = previous.get("carried_list") or (previous.get("round") or {}).get("list")
            if carried:
                self.cursors["catchup"]["carried_list"] = carried
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
