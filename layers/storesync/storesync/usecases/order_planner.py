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
   fulfilledBy MERCHANT (100 orders a page), oldest first, which stores every open merchant order of its pages.
   The list is a table of its own (FetchList: storesync.dal.fetch_lists, one row per order, so a backlog of any
   size is listed whole), written once per round (a slice that runs out of time goes on where it stopped). Before
   getOrder spends a call on an order, the order is compared with what storesync holds again: one the sweep or a
   notification stored meanwhile is taken off the list without a call. The round ends when the list is empty.

Every order, from any door, goes through the same Upserter and so through the state machine (`decide`): an
older lastUpdatedTime never overwrites a newer one and a second door finding the same order changes nothing,
so no order is imported twice or left in the state of the older door; a row's order moves stock only as the
state machine says (FBA orders take none; a closed order releases or removes its allocation once). A report
that Amazon cancelled, that failed, that stays queued too long or that cannot be read never counts as "nothing
changed": the round keeps its window (the cursor does not move), the run is a failed attempt retried with a new
report, and after `report_attempts` reports the window is read by the order import's searchOrders sweep.

Cursor: the order import's (JobState "orders"), shared with its sweeps ("last_complete", "retry"):
  {"round": {"after", "attempt", "report": {OrderReportDoor state}, "before",
             "list": fetch list id, "listed_to": rank of the last order listed, "listed": true once whole,
             "sweep": {"token", "starved"} | None, "swept": true once the sweep read the window,
             "starved_slices": slices in a row without a getOrder since, "to_bring", "started_at"} | None,
   "peak": the last round had more than PEAK_ORDERS to bring (the next round follows, not a sweep),
   "carried_list": the fetch list a starved round left to the next one, ...}

Peaks and starvation: a round with more than PEAK_ORDERS orders to bring is a peak, and the next round starts
PEAK_ROUND_EVERY after it started (the runner's follow-up), not at the next 30-minute schedule. When ORDER_CHANGE
notifications take every getOrder token (above ~1,600 orders an hour) and the sweep has read the window, the
round does not wait: after STARVED_SLICES slices without a getOrder it ends, and its list (the orders still to
fetch) becomes the next round's, which adds its own to it; rounds go on (a peak) while a list is carried.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from storesync.amazon.errors import (
    AmazonError,
    AmazonRejected,
    AuthorizationRevoked,
    Throttled,
    TransientAmazonError,
)
from storesync.clock import iso, parse_iso, utcnow
from storesync.dal.stores import Store
from storesync.domain.notices import NoticeCode, notice
from storesync.domain.orders import CHANNEL_FBM, AmazonOrder
from storesync.domain.reconciliation import (
    HeldOrder,
    ReportedOrder,
    as_reported,
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
LIST_BATCH = 500  # orders written to the fetch list between two looks at the slice's time
# a peak: a round that had more orders to bring than one searchOrders page holds. The next round starts
# PEAK_ROUND_EVERY after this one started (the runner's follow-up: JobOutcome.follow_up_after), not at the next
# 30-minute schedule, and so on while the peak lasts; a round with fewer ends the peak (the sweeps take over)
PEAK_ORDERS = 100
PEAK_ROUND_EVERY = 600.0
# getOrder taken by ORDER_CHANGE notifications for this many slices in a row after the window's sweep ended: the
# round ends and its fetch list is carried to the next round (its orders wait there, none is dropped; the next
# round's sweep and report bring them or their newer state), rather than waiting for a token that does not come
STARVED_SLICES = 3
# a peak round asks for the next round's report this long after it started (PEAK_ROUND_EVERY less the ~3 minutes
# Amazon takes to make a report), so that the next round finds it done instead of waiting with getOrder idle; only
# after a slice in which getOrder answered (not while notifications hold it: a carried list, starved slices)
NEXT_REPORT_AFTER = 420.0


class Starved(Exception):
    """getOrder stays taken and the sweep has read the window: the round ends, its list carried over."""


class FetchList(Protocol):
    """The fetch lists of the planner's rounds (storesync.dal.fetch_lists: DynamoFetchList, MemoryFetchList)."""

    def add(self, list_id: str, orders: Iterable[ReportedOrder]) -> None: ...

    def newest(self, list_id: str, limit: int) -> list[ReportedOrder]: ...

    def remove(self, list_id: str, orders: Sequence[ReportedOrder]) -> None: ...


@dataclass
class DoorPlan:
    from_report: list[AmazonOrder] = field(
        default_factory=list
    )  # FBA and closed orders, stored from their rows
    # open FBM orders missing or differing, oldest first
    fetch: list[ReportedOrder] = field(default_factory=list)
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
    for order in sorted(reported, key=lambda r: r.rank):
        have = held.get(order.order_id)
        if difference(order, have, import_pending=import_pending) is None:
            if have is None:
                plan.skipped += 1
            else:
                plan.unchanged += 1
        elif stored_from_row(order):
            plan.from_report.append(row_order(order, marketplace_id))
        else:
            plan.fetch.append(order)
    return plan


@dataclass
class OrderPlannerDeps:
    upserter: Upserter
    amazon_for: Callable[[Store], OrdersAmazon]
    # the report door and what the store holds: the catch-up's (order_reconciliation.ReconciliationDeps)
    reports: ReconciliationDeps
    fetch_list: FetchList
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
    got_any: bool = False  # a getOrder answered in this slice
    started: float = field(default_factory=time.monotonic)

    def _out_of_time(self) -> bool:
        return time.monotonic() - self.started > SLICE_SECONDS

    def run(self, after: str | None = None) -> JobOutcome:
        """`after`: the start of a new round's window (default: the last complete one less the overlap, or
        `first_window` back for a store never read)."""
        store = self.ctx.store
        cursor = dict(self.ctx.cursor)
        rnd = cursor.get("round") or self._new_round(cursor, after)
        if "list" not in rnd and cursor.get("carried_list"):  # the last round's leftovers: this round's list
            rnd["list"] = cursor.pop("carried_list")
            rnd["carried"] = True
        if not rnd.get("listed") and not self._read_report(store, cursor, rnd):
            return self.outcome
        amazon = self.deps.amazon_for(store)
        carried = False
        try:
            done = self._fetch(store, amazon, rnd, cursor)
        except Throttled as exc:
            self._ask_next_report(store, cursor, rnd)
            self._save(cursor, rnd)
            self.outcome.continue_after = exc.retry_after
            return self.outcome
        except Starved:
            done = carried = True
            cursor["carried_list"] = rnd["list"]
            self.outcome.add("fetch_lists_carried")
        if not done:
            self._ask_next_report(store, cursor, rnd)
            self._save(cursor, rnd)
            self.outcome.continue_after = 0.0
            return self.outcome
        last = cursor.get("last_complete")
        if not last or parse_iso(rnd["before"]) > parse_iso(last):
            cursor["last_complete"] = rnd["before"]
        cursor["round"] = None
        cursor["peak"] = carried or int(rnd.get("to_bring") or 0) > PEAK_ORDERS
        self.ctx.save_cursor(cursor)
        self.outcome.summary = f"planned round: orders updated up to {rnd['before']} are in"
        if carried:
            self.outcome.summary = (
                f"planned round up to {rnd['before']}: getOrder is taken by notifications, the orders left to "
                "fetch go to the next round"
            )
        if cursor["peak"]:
            started = parse_iso(rnd.get("started_at") or iso(self.deps.clock()))
            elapsed = (self.deps.clock() - started).total_seconds()
            self.outcome.follow_up_after = max(0.0, PEAK_ROUND_EVERY - elapsed)
            self.outcome.summary += "; a peak: the next round follows"
        return self.outcome

    def _new_round(self, cursor: dict[str, Any], after: str | None) -> dict[str, Any]:
        if after is None:
            last = cursor.get("last_complete")
            start = (
                parse_iso(last) - self.deps.overlap if last else self.deps.clock() - self.deps.first_window
            )
            after = iso(start)
        rnd: dict[str, Any] = {"after": after, "attempt": 1, "started_at": iso(self.deps.clock())}
        # asked for by the last round: this window's, maybe done already
        asked = cursor.pop("next_report", None)
        if asked and after == asked["after"]:
            rnd["report"] = asked
        return rnd

    def _ask_next_report(self, store: Store, cursor: dict[str, Any], rnd: dict[str, Any]) -> None:
        """A peak round running for NEXT_REPORT_AFTER asks for the next round's report (its window starts where
        this one's ends, less the overlap), once. A request Amazon refuses or throttles is left to the next round."""
        if "next_report" in cursor or int(rnd.get("to_bring") or 0) <= PEAK_ORDERS or not rnd.get("before"):
            return
        if rnd.get("carried") or rnd.get("starved_slices") or not self.got_any:
            # notifications hold getOrder: the sweep is the door, and shorter windows would spend its pages on
            # the overlap (measured: 2,000/h with notifications on, p95 28 min without, 42 and 217 with)
            return
        started = parse_iso(rnd.get("started_at") or iso(self.deps.clock()))
        if (self.deps.clock() - started).total_seconds() < NEXT_REPORT_AFTER:
            return
        reports = self.deps.reports
        door = OrderReportDoor(reports.reports_for(store), self.deps.clock, reports.report_max_wait)
        state = {"after": iso(parse_iso(rnd["before"]) - self.deps.overlap)}
        try:
            door.rows(state)
        except AuthorizationRevoked:
            raise
        except AmazonError:
            return
        cursor["next_report"] = state
        self.outcome.add("order_reports_requested")

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
                again = {"after": rnd["after"], "attempt": attempt + 1}
                if "list" in rnd:  # a carried list stays with the round
                    again["list"] = rnd["list"]
                self._save(cursor, again)
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
        if "list" in rnd:  # a carried list waits for the next round
            cursor["carried_list"] = rnd["list"]
        self._save(cursor, None)

    def _plan(
        self, store: Store, reported: list[ReportedOrder], rnd: dict[str, Any], cursor: dict[str, Any]
    ) -> bool:
        """Compare, store the rows' orders, list the fetches: True; False when the slice's time ran out while
        storing rows or listing (the round keeps its read report: the next slice compares again, and the orders
        stored now are then held as the report shows them, the orders listed stay listed, so every slice gets
        further)."""
        held: dict[str, HeldOrder] = {}
        for start in range(0, len(reported), COMPARE_BATCH):
            chunk = [r.order_id for r in reported[start : start + COMPARE_BATCH]]
            held.update(self.deps.reports.held_orders(store, chunk))
        plan = plan_doors(
            reported, held, store.marketplace_id, import_pending=bool(store.settings.import_pending_orders)
        )
        self.outcome.add("orders_in_report", len(reported))
        self.outcome.add("orders_unchanged", plan.unchanged)
        # the peak's measure, taken at the first look
        rnd.setdefault("to_bring", len(plan.from_report) + len(plan.fetch))
        for done, order in enumerate(plan.from_report, start=1):
            self._store(store, order, "from_report", cursor)
            if done < len(plan.from_report) and self._out_of_time():
                self.outcome.add("order_report_rows_left", len(plan.from_report) - done)
                return False
        return self._list_fetches(store, plan, rnd)

    def _list_fetches(self, store: Store, plan: DoorPlan, rnd: dict[str, Any]) -> bool:
        """Write the fetch list (from where an earlier slice stopped): True once it is whole."""
        list_id = rnd.setdefault("list", f"{store.store_id}#{uuid.uuid4().hex}")
        listed_to = rnd.get("listed_to") or ""
        if not listed_to and plan.fetch:
            # the sweep starts at the oldest order to fetch, not at the window's start: the overlap with the last
            # round holds orders already in, and a sweep page spent on them is a page less for the peak
            oldest = parse_iso(plan.fetch[0].last_updated) - timedelta(seconds=1)
            rnd["sweep_after"] = iso(max(oldest, parse_iso(rnd["after"])))
        todo = [order for order in plan.fetch if order.rank > listed_to]
        for start in range(0, len(todo), LIST_BATCH):
            chunk = todo[start : start + LIST_BATCH]
            self.deps.fetch_list.add(list_id, chunk)
            rnd["listed_to"] = chunk[-1].rank
            self.outcome.add("orders_listed", len(chunk))
            if start + LIST_BATCH < len(todo) and self._out_of_time():
                return False
        rnd["listed"] = True
        rnd["sweep"] = {"token": None} if len(plan.fetch) > FETCH_SWEEP_THRESHOLD else None
        return True

    def _store(self, store: Store, order: AmazonOrder, door: str, cursor: dict[str, Any]) -> None:
        try:
            result = self.deps.upserter.upsert(store, order)
        except Exception as exc:  # one order never blocks the round: getOrder re-reads it (the retry list)
            self._not_stored(order.order_id, exc, cursor)
            return
        self.outcome.add(f"orders_{door}")
        count_upsert(self.outcome, result)

    def _not_stored(self, order_id: str, exc: Exception, cursor: dict[str, Any]) -> None:
        """The order goes to the order import's retry list, saved before the order leaves the fetch list."""
        self.outcome.add("orders_failed")
        self.outcome.errors.append(
            notice(NoticeCode.ORDER_NOT_STORED, order_id=order_id, error_type=type(exc).__name__)
        )
        retry = cursor.setdefault("retry", {})
        retry[order_id] = int(retry.get(order_id, 0))
        self.ctx.save_cursor(cursor)

    def _next_fetches(self, store: Store, rnd: dict[str, Any]) -> list[ReportedOrder] | None:
        """The newest orders of the fetch list that still differ from what storesync holds, oldest first (the
        others, stored meanwhile by the sweep or a notification, leave the list without a call); [] when the list
        is empty, None when the slice's time ran out skipping stored ones."""
        list_id = rnd["list"]
        import_pending = bool(store.settings.import_pending_orders)
        while True:
            listed = self.deps.fetch_list.newest(list_id, COMPARE_BATCH)
            if not listed:
                return []
            held = self.deps.reports.held_orders(store, [order.order_id for order in listed])
            todo = [o for o in listed if difference(o, held.get(o.order_id), import_pending=import_pending)]
            stored = [order for order in listed if order not in todo]
            if stored:
                self.deps.fetch_list.remove(list_id, stored)
                self.outcome.add("orders_already_in", len(stored))
            if todo:
                rnd["many"] = len(todo) > FETCH_SWEEP_THRESHOLD
                return todo[::-1]
            if self._out_of_time():
                return None

    def _fetch(self, store: Store, amazon: OrdersAmazon, rnd: dict[str, Any], cursor: dict[str, Any]) -> bool:
        """getOrder newest first and (while many remain, or while getOrder is taken) searchOrders pages of FBM
        orders oldest first: True once the fetch list is empty. getOrder is shared with ORDER_CHANGE notifications,
        which come first at the gate (this gate is background): above ~1,600 notifications an hour the planner gets
        no getOrder token at all, so a throttled getOrder starts (or keeps going) the window's sweep, searchOrders
        being the planner's own door."""
        list_id = rnd["list"]
        fetched = 0
        queue: list[ReportedOrder] = []  # oldest first: pop() takes the newest
        while fetched < MAX_FETCHES_PER_SLICE and not (fetched and self._out_of_time()):
            if not queue:
                next_orders = self._next_fetches(store, rnd)
                if next_orders is None:
                    return False
                if not next_orders:
                    return True
                queue = next_orders
            sweep = rnd.get("sweep")
            if sweep is not None and (rnd.get("many") or sweep.get("starved")):
                with contextlib.suppress(
                    Throttled
                ):  # the searchOrders door is empty for now: getOrder goes on
                    swept = self._sweep_page(store, amazon, rnd, sweep, cursor)
                    queue = [order for order in queue if order.order_id not in swept]
                    self._save(cursor, rnd)
                if rnd.get("sweep") is None:
                    rnd["swept"] = True  # the window's pages are read: getOrder alone for the rest
                if not queue:
                    continue
            order = queue[-1]
            amazon_order = self._get_order(amazon, order.order_id, rnd, cursor)
            queue.pop()
            fetched += 1
            if amazon_order is not None:
                self._store(store, amazon_order, "fetched", cursor)
            self.deps.fetch_list.remove(list_id, [order])
        return False

    def _get_order(
        self, amazon: OrdersAmazon, order_id: str, rnd: dict[str, Any], cursor: dict[str, Any]
    ) -> AmazonOrder | None:
        """The order whole; None when there is nothing to store (gone from this seller, or unreadable: the order
        import's retry list reads it again). Throttled: the sweep starts, since getOrder is taken."""
        try:
            got = amazon.get_order(order_id)
        except Throttled:
            if not rnd.get("swept"):
                rnd["sweep"] = {**(rnd.get("sweep") or {"token": None}), "starved": True}
            elif not self.got_any:  # a slice without a single getOrder, the window's pages all read
                rnd["starved_slices"] = int(rnd.get("starved_slices") or 0) + 1
                if rnd["starved_slices"] >= STARVED_SLICES:
                    raise Starved from None
            raise
        except AmazonRejected as exc:
            if exc.status != 404:
                raise
            got = None  # gone from this seller: nothing to store
        except (TransientAmazonError, AuthorizationRevoked):
            raise
        except Exception as exc:  # this order only (unreadable)
            self._not_stored(order_id, exc, cursor)
            got = None
        self.got_any = True
        rnd.pop("starved_slices", None)
        return got

    def _sweep_page(
        self,
        store: Store,
        amazon: OrdersAmazon,
        rnd: dict[str, Any],
        sweep: dict[str, Any],
        cursor: dict[str, Any],
    ) -> set[str]:
        """One searchOrders page of the window's open merchant orders (the fetch list holds only those: closed orders
        came from the report, and a page of them would spend the quota on orders nobody waits for), each stored
        unless storesync holds it as the page shows it; the ids the page brought."""
        page = search_page(
            amazon,
            store,
            {**sweep, "after": rnd.get("sweep_after") or rnd["after"], "before": rnd["before"]},
            ["MERCHANT"],
            statuses=open_statuses(store),
        )
        merchant = [order for order in page.orders if order.channel == CHANNEL_FBM]
        held = self.deps.reports.held_orders(store, [order.order_id for order in merchant])
        import_pending = bool(store.settings.import_pending_orders)
        swept: set[str] = set()
        for order in merchant:
            swept.add(order.order_id)
            if difference(as_reported(order), held.get(order.order_id), import_pending=import_pending):
                self._store(store, order, "swept", cursor)
            else:  # getOrder or a notification stored it as the page shows it
                self.outcome.add("orders_unchanged")
        sweep["token"] = page.next_token
        if not page.next_token:
            rnd["sweep"] = None
        return swept
