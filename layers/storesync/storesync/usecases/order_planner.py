"""The order planner (issue 18 part 2): backlogs and peaks planned across Amazon's doors, each for what it does best.

One planning round covers a window [after, before] of order updates:
1. the window's order report (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL, through the `OrderReports`
   port: a few report calls whatever the window's size; no buyer data) lists every order and its status;
2. each row is compared with what storesync holds (`HeldOrders`): the same lastUpdatedTime and status is
   nothing to do; an FBA order (no address to read) and a closed order (shipped or cancelled: nothing left to
   pack) are stored from their row; an open FBM order that is missing or differs needs its details (the
   address...) and joins the fetch list;
3. the fetch list is read by two doors at once, each in its own quota: getOrder one order at a time through
   a background gate (what ORDER_CHANGE notifications leave free: quota_gate.first_call_reserve), newest
   first, and, while more than FETCH_SWEEP_THRESHOLD remain, a searchOrders sweep of the window restricted to
   fulfilledBy MERCHANT (100 orders a page), oldest first. An order one door stored is taken off the other
   door's list.

Every order, from any door, goes through the same Upserter and so through the state machine (`decide`): an
older lastUpdatedTime never overwrites a newer one and a second door finding the same order changes nothing,
so no order is imported twice or left in the state of the older door. A report that Amazon cancelled or that
failed (or that cannot be read) raises from the port: the round is not done and never counts as "nothing
changed"; the cursor keeps the window for the next attempt.

Built at the same time as the `reports` branch (the order report door and the catch-up's reconciliation):
`ReportRow` and `OrderReports` are the port this planner needs; once both are merged, ReportRow is
storesync.domain.reconciliation.ReportedOrder (channel and per-SKU units instead of fulfilled_by and item
lines) and the port is answered by their SpApiOrderReports + read_order_report. Not wired into a Lambda yet:
the benchmark (benchmarks/planner_door.py) drives it.

Cursor (a JobState cursor of its own per store):
  {"round": {"after", "before", "fetch": [order ids], "sweep": {"token"} | None, "report": {...}} | None,
   "last_complete": iso}
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from storesync.amazon.errors import AmazonRejected, Throttled
from storesync.amazon.orders import OrdersPage
from storesync.clock import iso, parse_iso, utcnow
from storesync.dal.stores import Store
from storesync.domain.notices import NoticeCode, notice
from storesync.domain.orders import CHANNEL_FBA, CHANNEL_FBM, NOT_RELEASED, AmazonItem, AmazonOrder
from storesync.usecases.order_import import AMAZON_MIN_LAG, PAGE_SIZE
from storesync.usecases.order_upsert import Upserter
from storesync.usecases.runner import JobContext, JobOutcome

FETCH_SWEEP_THRESHOLD = 30  # more FBM orders to fetch than getOrder's burst: the searchOrders door helps
MAX_FETCHES_PER_SLICE = 200
REPORT_POLL_SECONDS = 60.0


@dataclass(frozen=True)
class ReportRow:
    """One order of an order report (one row per order; its items' SKUs and quantities)."""

    order_id: str
    status: str  # Amazon's order status (UNSHIPPED, SHIPPED, CANCELLED...)
    fulfilled_by: str  # AMAZON | MERCHANT
    created: str
    last_updated: str
    items: tuple[tuple[str, str, int], ...]  # (order item id, SKU, quantity)


class OrderReports(Protocol):
    """The report door (the `reports` branch builds it over the Reports API 2021-06-30)."""

    def window_rows(
        self, store: Store, after: str, before: str, state: dict[str, Any]
    ) -> list[ReportRow] | None:
        """The rows of the window's order report, or None while Amazon is still making it (`state` is the
        round's report state, kept in the cursor: the report asked for). Raises when the report is cancelled,
        fatal or unreadable: never an empty list for a report that did not come."""
        ...


class HeldOrders(Protocol):
    def held(self, store: Store, order_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Order id -> (Amazon status, Amazon lastUpdatedTime) as storesync holds them (missing: not held)."""
        ...


class PlannerAmazon(Protocol):
    def search_orders(
        self,
        *,
        after: str,
        before: str | None = None,
        token: str | None = None,
        statuses: list[str] | None = None,
        page_size: int = PAGE_SIZE,
        fulfilled_by: list[str] | None = None,
    ) -> OrdersPage: ...

    def get_order(self, amazon_order_id: str) -> AmazonOrder: ...


@dataclass
class DoorPlan:
    from_report: list[AmazonOrder] = field(
        default_factory=list
    )  # FBA and closed orders, stored from their rows
    fetch: list[str] = field(default_factory=list)  # open FBM orders missing or differing, oldest first
    unchanged: int = 0
    skipped: int = 0  # pending orders the store does not import


OPEN_STATUSES = frozenset(
    {"UNSHIPPED", "PARTIALLY_SHIPPED"}
)  # a merchant order still to pack needs its address


def needs_details(row: ReportRow) -> bool:
    return row.fulfilled_by != "AMAZON" and row.status in OPEN_STATUSES


def row_order(row: ReportRow, marketplace_id: str) -> AmazonOrder:
    """An order as its report row tells it: FBA (Amazon ships it) or closed (nothing left to pack), so no
    address is needed."""
    shipped = row.status == "SHIPPED"
    items = tuple(AmazonItem(i, sku, quantity, quantity if shipped else 0) for i, sku, quantity in row.items)
    channel = CHANNEL_FBA if row.fulfilled_by == "AMAZON" else CHANNEL_FBM
    return AmazonOrder(
        row.order_id, marketplace_id, row.status, channel, row.created, row.last_updated, items
    )


def plan_doors(
    rows: Iterable[ReportRow], held: dict[str, tuple[str, str]], marketplace_id: str, *, import_pending: bool
) -> DoorPlan:
    """Which door brings each order of the report: nothing (held as it is), the row (FBA) or a fetch (FBM)."""
    plan = DoorPlan()
    for row in sorted(rows, key=lambda r: (r.last_updated, r.order_id)):
        if row.status in NOT_RELEASED and not import_pending:
            plan.skipped += 1
            continue
        have = held.get(row.order_id)
        if have is not None and have[0] == row.status and parse_iso(have[1]) >= parse_iso(row.last_updated):
            plan.unchanged += 1
        elif needs_details(row):
            plan.fetch.append(row.order_id)
        else:
            plan.from_report.append(row_order(row, marketplace_id))
    return plan


@dataclass
class OrderPlannerDeps:
    upserter: Upserter
    amazon_for: Callable[[Store], PlannerAmazon]
    reports: OrderReports
    held: HeldOrders
    overlap: timedelta = timedelta(minutes=5)
    first_window: timedelta = timedelta(days=3)
    clock: Callable[[], datetime] = utcnow


@dataclass
class OrderPlanner:
    deps: OrderPlannerDeps
    ctx: JobContext
    outcome: JobOutcome = field(default_factory=JobOutcome)

    def run(self) -> JobOutcome:
        store = self.ctx.store
        cursor = dict(self.ctx.cursor)
        rnd = cursor.get("round") or self._new_round(cursor)
        if "fetch" not in rnd:
            rows = self.deps.reports.window_rows(
                store, rnd["after"], rnd["before"], rnd.setdefault("report", {})
            )
            if rows is None:  # Amazon is still making the report
                self._save(cursor, rnd)
                self.outcome.continue_after = REPORT_POLL_SECONDS
                return self.outcome
            self._plan(store, rows, rnd)
            self._save(cursor, rnd)
        amazon = self.deps.amazon_for(store)
        try:
            self._fetch(store, amazon, rnd, cursor)
        except Throttled as exc:
            self._save(cursor, rnd)
            self.outcome.continue_after = exc.retry_after
            return self.outcome
        if rnd["fetch"]:
            self._save(cursor, rnd)
            self.outcome.continue_after = 0.0
            return self.outcome
        last = cursor.get("last_complete")
        if not last or parse_iso(rnd["before"]) > parse_iso(last):
            cursor["last_complete"] = rnd["before"]
        cursor["round"] = None
        self.ctx.save_cursor(cursor)
        return self.outcome

    def _new_round(self, cursor: dict[str, Any]) -> dict[str, Any]:
        now = self.deps.clock()
        last = cursor.get("last_complete")
        after = parse_iso(last) - self.deps.overlap if last else now - self.deps.first_window
        return {"after": iso(after), "before": iso(now - AMAZON_MIN_LAG)}

    def _save(self, cursor: dict[str, Any], rnd: dict[str, Any]) -> None:
        cursor["round"] = rnd
        self.ctx.save_cursor(cursor)

    def _plan(self, store: Store, rows: list[ReportRow], rnd: dict[str, Any]) -> None:
        held = self.deps.held.held(store, [r.order_id for r in rows])
        plan = plan_doors(
            rows, held, store.marketplace_id, import_pending=store.settings.import_pending_orders
        )
        self.outcome.add("report_rows", len(rows))
        self.outcome.add("orders_unchanged", plan.unchanged)
        for order in plan.from_report:
            self._store(store, order, "from_report")
        rnd["fetch"] = plan.fetch
        rnd["sweep"] = {"token": None} if len(plan.fetch) > FETCH_SWEEP_THRESHOLD else None

    def _store(self, store: Store, order: AmazonOrder, door: str) -> None:
        try:
            result = self.deps.upserter.upsert(store, order)
        except Exception as exc:  # one order never blocks the round; the next round finds it again
            self.outcome.add("orders_failed")
            self.outcome.errors.append(
                notice(NoticeCode.ORDER_NOT_STORED, order_id=order.order_id, error_type=type(exc).__name__)
            )
            return
        self.outcome.add(f"orders_{door}")
        self.outcome.add(f"orders_{result.action}")

    def _fetch(
        self, store: Store, amazon: PlannerAmazon, rnd: dict[str, Any], cursor: dict[str, Any]
    ) -> None:
        """getOrder newest first and (while many remain, or while getOrder is taken) searchOrders pages of FBM
        orders oldest first. getOrder is shared with ORDER_CHANGE notifications, which come first at the gate (this
        gate is background): above ~1,600 notifications an hour the planner gets no getOrder token at all, so a
        throttled getOrder starts (or keeps going) the window's sweep, searchOrders being the planner's own door."""
        fetched = 0
        while rnd["fetch"] and fetched < MAX_FETCHES_PER_SLICE:
            sweep = rnd.get("sweep")
            if sweep is not None and (len(rnd["fetch"]) > FETCH_SWEEP_THRESHOLD or sweep.get("starved")):
                with contextlib.suppress(
                    Throttled
                ):  # the searchOrders door is empty for now: getOrder goes on
                    self._sweep_page(store, amazon, rnd, sweep)
                if rnd["sweep"] is None:
                    rnd["swept"] = True  # the window's pages are read: getOrder alone for the rest
                if not rnd["fetch"]:
                    break
            order_id = rnd["fetch"][-1]
            try:
                order = amazon.get_order(order_id)
            except Throttled:
                if not rnd.get("swept"):
                    rnd["sweep"] = {**(rnd.get("sweep") or {"token": None}), "starved": True}
                raise
            except AmazonRejected as exc:
                if exc.status != 404:
                    raise
                order = None  # gone from this seller: nothing to store
            rnd["fetch"].pop()
            fetched += 1
            if order is not None:
                self._store(store, order, "fetched")
            self._save(cursor, rnd)

    def _sweep_page(
        self, store: Store, amazon: PlannerAmazon, rnd: dict[str, Any], sweep: dict[str, Any]
    ) -> None:
        # only what the fetch list can hold (open FBM orders, `needs_details`): closed orders came from the
        # report, and a page of them would spend the quota on orders nobody waits for
        page = amazon.search_orders(
            after=rnd["after"], before=rnd["before"], token=sweep.get("token"), statuses=sorted(OPEN_STATUSES),
            page_size=PAGE_SIZE, fulfilled_by=["MERCHANT"],
        )  # fmt: skip
        wanted = set(rnd["fetch"])
        for order in page.orders:
            if order.order_id in wanted and order.channel == CHANNEL_FBM:
                self._store(store, order, "swept")
                wanted.discard(order.order_id)
        rnd["fetch"] = [o for o in rnd["fetch"] if o in wanted]
        sweep["token"] = page.next_token
        if not page.next_token:
            rnd["sweep"] = None
