"""The order planner (issue 18 part 2): backlogs and peaks planned across Amazon's doors, each for what it does best.

The order import runs planner rounds instead of its searchOrders sweep when a store's window is large (a first
connect with history, a long outage, a sweep falling behind: usecases/order_import.py `plan_window`). One round
covers a window of order updates from `after` to the end of Amazon's order report:
1. the window's order report (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL) through the one report door
   of the catch-up (usecases/order_reconciliation.OrderReportDoor: a few Reports API calls whatever the
   window's size; no buyer data) lists every order, its status and its units per SKU (ReportedOrder);
2. each order is compared with what storesync holds (domain.reconciliation.difference, the catch-up's rule):
   an order held as the report shows it (or newer) is nothing to do; an FBA order (no address to read) and a
   closed one (shipped or cancelled: nothing left to pack) are stored from their row
   (domain.reconciliation.row_order: lines named by SKU, since the report has no order item ids; they take
   Amazon's items when the order is read whole, domain.orders.names_report_lines); an open merchant order
   that is missing or differs, or one whose status storesync cannot read, needs the whole order (address,
   fulfilment details) and joins the fetch list;
3. the fetch list is read by two doors at once, each in its own quota: getOrder one order at a time through
   the background gate (what ORDER_CHANGE notifications leave free: quota_gate.first_call_reserve), newest
   first, and, while more than FETCH_SWEEP_THRESHOLD remain, a searchOrders sweep of the window restricted to
   fulfilledBy MERCHANT (100 orders a page), oldest first. An order one door stored is taken off the other
   door's list. The list travels in the cursor (one DynamoDB item): its newest MAX_FETCH_LIST orders; when
   there are more, the sweep stores every merchant order of its pages and the round ends with the sweep.

Every order, from any door, goes through the same Upserter and so through the state machine (`decide`): an
older lastUpdatedTime never overwrites a newer one and a second door finding the same order changes nothing,
so no order is imported twice or left in the state of the older door; a row's order moves stock only as the
state machine says (FBA orders take none; a closed order releases or removes its allocation once). A report
that Amazon cancelled, that failed, that stays queued too long or that cannot be read never counts as "nothing
changed": the round keeps its window (the cursor does not move), the run is a failed attempt retried with a new
report, and after `report_attempts` reports the window is read by the order import's searchOrders sweep.

Cursor: the order import's (JobState "orders"), shared with its sweeps ("last_complete", "retry"):
  {"round": {"after", "attempt", "report": {OrderReportDoor state}, "before", "fetch": [order ids],
             "sweep": {"token"} | None} | None, ...}
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from storesync.amazon.errors import AmazonRejected, AuthorizationRevoked, Throttled, TransientAmazonError
from storesync.clock import iso, parse_iso, utcnow
from storesync.dal.stores import Store
from storesync.domain.notices import NoticeCode, notice
from storesync.domain.orders import CHANNEL_FBM, AmazonOrder
from storesync.domain.reconciliation import (
    MAX_FETCH_LIST,
    HeldOrder,
    ReportedOrder,
    difference,
    row_order,
    stored_from_row,
)
from storesync.usecases.order_reconciliation import (
    OrderReportDoor,
    ReconciliationDeps,
    read_report,
    report_attempt_failed,
)
from storesync.usecases.order_search import (
    AMAZON_MIN_LAG,
    OrdersAmazon,
    count_upsert,
    open_statuses,
    search_page,
)
from storesync.usecases.order_upsert import Upserter
from storesync.usecases.runner import JobContext, JobOutcome

# a slice hands over to its continuation after this long (the order import's SLICE_SECONDS; the Lambda's timeout
# is 60 s and the job's lease 300 s: a slice storing a whole report's rows, or 200 getOrders at Amazon's 0.5/s, ran
# past both, and its plan was lost with it)
SLICE_SECONDS = 30.0
FETCH_SWEEP_THRESHOLD = 30  # more FBM orders to fetch than getOrder's burst: the searchOrders door helps
MAX_FETCHES_PER_SLICE = 200
COMPARE_BATCH = 100  # orders looked up per BatchGetItem


@dataclass
class DoorPlan:
    from_report: list[AmazonOrder] = field(
        default_factory=list
    )  # FBA and closed orders, stored from their rows
    fetch: list[str] = field(default_factory=list)  # open FBM orders missing or differing, oldest first
    unchanged: int = 0
    skipped: int = 0  # pending orders the store does not import


def plan_doors(
    reported: Iterable[ReportedOrder],
    held: Mapping[str, HeldOrder],
    marketplace_id: str,
    *,
    import_pending: bool,
) -> DoorPlan:
    """Which door brings each order of the report: nothing (held as it is), its row (FBA, closed) or a fetch."""
    plan = DoorPlan()
    for order in sorted(reported, key=lambda r: (r.last_updated, r.order_id)):
        have = held.get(order.order_id)
        if difference(order, have, import_pending=import_pending) is None:
            if have is None:
                plan.skipped += 1
            else:
                plan.unchanged += 1
        elif stored_from_row(order):
            plan.from_report.append(row_order(order, marketplace_id))
        else:
            plan.fetch.append(order.order_id)
    return plan


def _remaining(rnd: Mapping[str, Any]) -> bool:
    """Orders of the round still to bring: listed ones, or older ones only its sweep reads."""
    return bool(rnd["fetch"]) or bool(rnd.get("unlisted") and rnd.get("sweep") is not None)


@dataclass
class OrderPlannerDeps:
    upserter: Upserter
    amazon_for: Callable[[Store], OrdersAmazon]
    # the report door and what the store holds: the catch-up's (order_reconciliation.ReconciliationDeps)
    reports: ReconciliationDeps
    overlap: timedelta = timedelta(minutes=5)
    first_window: timedelta = timedelta(days=3)
    clock: Callable[[], datetime] = utcnow


@dataclass
class OrderPlanner:
    """One slice of a planner round of one store (see the module's docstring)."""

    deps: OrderPlannerDeps
    ctx: JobContext
    outcome: JobOutcome = field(default_factory=JobOutcome)
    swept_instead: bool = False  # the report failed `report_attempts` times: cursor["incremental"] sweeps it
    started: float = field(default_factory=time.monotonic)

    def _out_of_time(self) -> bool:
        return time.monotonic() - self.started > SLICE_SECONDS

    def run(self, after: str | None = None) -> JobOutcome:
        """`after`: the start of a new round's window (default: the last complete one less the overlap, or
        `first_window` back for a store never read)."""
        store = self.ctx.store
        cursor = dict(self.ctx.cursor)
        rnd = cursor.get("round") or self._new_round(cursor, after)
        if "fetch" not in rnd and not self._read_report(store, cursor, rnd):
            return self.outcome
        amazon = self.deps.amazon_for(store)
        try:
            self._fetch(store, amazon, rnd, cursor)
        except Throttled as exc:
            self._save(cursor, rnd)
            self.outcome.continue_after = exc.retry_after
            return self.outcome
        if _remaining(rnd):
            self._save(cursor, rnd)
            self.outcome.continue_after = 0.0
            return self.outcome
        last = cursor.get("last_complete")
        if not last or parse_iso(rnd["before"]) > parse_iso(last):
            cursor["last_complete"] = rnd["before"]
        cursor["round"] = None
        self.ctx.save_cursor(cursor)
        self.outcome.summary = f"planned round: orders updated up to {rnd['before']} are in"
        return self.outcome

    def _new_round(self, cursor: dict[str, Any], after: str | None) -> dict[str, Any]:
        if after is None:
            last = cursor.get("last_complete")
            start = (
                parse_iso(last) - self.deps.overlap if last else self.deps.clock() - self.deps.first_window
            )
            after = iso(start)
        return {"after": after, "attempt": 1}

    def _save(self, cursor: dict[str, Any], rnd: dict[str, Any] | None) -> None:
        cursor["round"] = rnd
        self.ctx.save_cursor(cursor)

    def _read_report(self, store: Store, cursor: dict[str, Any], rnd: dict[str, Any]) -> bool:
        """The round's report, planned once read (True); False while Amazon makes it, or when it failed."""
        reports = self.deps.reports
        door = OrderReportDoor(reports.reports_for(store), self.deps.clock, reports.report_max_wait)
        state = rnd.setdefault("report", {"after": rnd["after"]})
        requested = bool(state.get("report_id"))
        reported = read_report(door, state)
        if isinstance(reported, str):
            attempt = int(rnd.get("attempt") or 1)
            if report_attempt_failed(
                self.outcome, state.get("report_id"), reported, attempt, reports.report_attempts
            ):
                self._sweep_instead(cursor, rnd)
            else:
                self._save(cursor, {"after": rnd["after"], "attempt": attempt + 1})
            return False
        if reported is None:  # asked for, or Amazon is still making it
            if not requested:
                self.outcome.add("order_reports_requested")
            self._save(cursor, rnd)
            self.outcome.summary = "planned round: waiting for Amazon's order report"
            self.outcome.continue_after = reports.report_poll_seconds
            return False
        rnd["before"] = state.get("before") or iso(self.deps.clock() - AMAZON_MIN_LAG)
        planned = self._plan(store, reported, rnd, cursor)
        self._save(cursor, rnd)
        if not planned:  # the time ran out storing rows: the next slice reads the report's document again
            self.outcome.summary = "planned round: storing the order report's rows"
            self.outcome.continue_after = 0.0
        return planned

    def _sweep_instead(self, cursor: dict[str, Any], rnd: dict[str, Any]) -> None:
        """No report in `report_attempts`: the order import's searchOrders sweep reads the round's window."""
        cursor["incremental"] = {"after": rnd["after"], "before": None, "token": None, "read": 0,
                                 "started_at": iso(self.deps.clock()), "planned_out": True}  # fmt: skip
        self.outcome.add("windows_swept_instead")
        self.swept_instead = True
        self._save(cursor, None)

    def _plan(
        self, store: Store, reported: list[ReportedOrder], rnd: dict[str, Any], cursor: dict[str, Any]
    ) -> bool:
        """Compare, store the rows' orders, list the fetches: True; False when the slice's time ran out while
        storing rows (the round keeps its read report: the next slice compares again, and the orders stored now
        are then held as the report shows them, so every slice gets further)."""
        held: dict[str, HeldOrder] = {}
        for start in range(0, len(reported), COMPARE_BATCH):
            chunk = [r.order_id for r in reported[start : start + COMPARE_BATCH]]
            held.update(self.deps.reports.held_orders(store, chunk))
        plan = plan_doors(
            reported, held, store.marketplace_id, import_pending=bool(store.settings.import_pending_orders)
        )
        self.outcome.add("orders_in_report", len(reported))
        self.outcome.add("orders_unchanged", plan.unchanged)
        for done, order in enumerate(plan.from_report, start=1):
            self._store(store, order, "from_report", cursor)
            if done < len(plan.from_report) and self._out_of_time():
                rnd.pop("fetch", None)
                self.outcome.add("order_report_rows_left", len(plan.from_report) - done)
                return False
        return self._list_fetches(plan, rnd)

    @staticmethod
    def _list_fetches(plan: DoorPlan, rnd: dict[str, Any]) -> bool:
        # the newest MAX_FETCH_LIST travel in the cursor (one DynamoDB item); the sweep reads the older ones
        rnd["fetch"] = plan.fetch[-MAX_FETCH_LIST:]
        rnd["unlisted"] = len(plan.fetch) - len(rnd["fetch"])
        rnd["sweep"] = {"token": None} if len(plan.fetch) > FETCH_SWEEP_THRESHOLD else None
        return True

    def _store(self, store: Store, order: AmazonOrder, door: str, cursor: dict[str, Any]) -> None:
        try:
            result = self.deps.upserter.upsert(store, order)
        except Exception as exc:  # one order never blocks the round: getOrder re-reads it (the retry list)
            self.outcome.add("orders_failed")
            self.outcome.errors.append(
                notice(NoticeCode.ORDER_NOT_STORED, order_id=order.order_id, error_type=type(exc).__name__)
            )
            retry = cursor.setdefault("retry", {})
            retry[order.order_id] = int(retry.get(order.order_id, 0))
            return
        self.outcome.add(f"orders_{door}")
        count_upsert(self.outcome, result)

    def _fetch(self, store: Store, amazon: OrdersAmazon, rnd: dict[str, Any], cursor: dict[str, Any]) -> None:
        """getOrder newest first and (while many remain, or while getOrder is taken) searchOrders pages of FBM
        orders oldest first. getOrder is shared with ORDER_CHANGE notifications, which come first at the gate (this
        gate is background): above ~1,600 notifications an hour the planner gets no getOrder token at all, so a
        throttled getOrder starts (or keeps going) the window's sweep, searchOrders being the planner's own door."""
        fetched = 0
        while _remaining(rnd) and fetched < MAX_FETCHES_PER_SLICE and not (fetched and self._out_of_time()):
            sweep = rnd.get("sweep")
            if sweep is not None and (
                rnd.get("unlisted") or sweep.get("starved") or len(rnd["fetch"]) > FETCH_SWEEP_THRESHOLD
            ):
                if not rnd["fetch"]:  # only the sweep is left: its wait is the round's
                    self._sweep_page(store, amazon, rnd, sweep, cursor)
                    fetched += 1
                    self._save(cursor, rnd)
                    continue
                with contextlib.suppress(
                    Throttled
                ):  # the searchOrders door is empty for now: getOrder goes on
                    self._sweep_page(store, amazon, rnd, sweep, cursor)
                if rnd.get("sweep") is None:
                    rnd["swept"] = True  # the window's pages are read: getOrder alone for the rest
                if not rnd["fetch"]:
                    continue
            order_id = rnd["fetch"][-1]
            order: AmazonOrder | None
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
            except (TransientAmazonError, AuthorizationRevoked):
                raise
            except (
                Exception
            ) as exc:  # this order only (unreadable): the order import's retry list re-reads it
                self.outcome.add("orders_failed")
                self.outcome.errors.append(
                    notice(NoticeCode.ORDER_NOT_STORED, order_id=order_id, error_type=type(exc).__name__)
                )
                retry = cursor.setdefault("retry", {})
                retry[order_id] = int(retry.get(order_id, 0))
                order = None
            rnd["fetch"].pop()
            fetched += 1
            if order is not None:
                self._store(store, order, "fetched", cursor)
            self._save(cursor, rnd)

    def _sweep_page(
        self,
        store: Store,
        amazon: OrdersAmazon,
        rnd: dict[str, Any],
        sweep: dict[str, Any],
        cursor: dict[str, Any],
    ) -> None:
        # only what the fetch list can hold (open merchant orders): closed orders came from the report, and a page
        # of them would spend the quota on orders nobody waits for
        page = search_page(
            amazon,
            store,
            {**sweep, "after": rnd["after"], "before": rnd["before"]},
            ["MERCHANT"],
            statuses=open_statuses(store),
        )
        wanted = set(rnd["fetch"])
        unlisted = bool(
            rnd.get("unlisted")
        )  # orders beyond the list: every merchant order of the page is stored
        for order in page.orders:
            if order.channel == CHANNEL_FBM and (unlisted or order.order_id in wanted):
                self._store(store, order, "swept", cursor)
                wanted.discard(order.order_id)
        rnd["fetch"] = [o for o in rnd["fetch"] if o in wanted]
        sweep["token"] = page.next_token
        if not page.next_token:
            rnd["sweep"] = None
            rnd["unlisted"] = 0
