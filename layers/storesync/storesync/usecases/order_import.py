"""The order import job (polling): one store's new and changed orders through Orders API v2026-01-01.

A sweep reads every order updated in [after, before] with `searchOrders`, 100 orders a page with their items,
fulfilment and recipient included (the cheapest way through a 0.0056/s quota: getOrder is never needed
here). The first page of a sweep leaves `lastUpdatedBefore` to Amazon (which takes now minus two minutes by
its own clock, so a skewed local clock can never break the two-minute rule) and the sweep keeps the bound
Amazon returns for every following page.

The cursor (JobState, per store):
  {"incremental": {"after", "before", "token"} | None,   # the sweep in progress (token survives invocations)
   "round": {...} | None,                                # a planner round in progress (usecases/order_planner.py)
   "catchup": {...} | None,                              # the catch-up sweep in progress
   "last_complete": iso,                                 # end of the last completed sweep
   "retry": {amazon order id: attempts}}                 # orders that failed to store, re-read with getOrder
It moves only after a page's orders are stored; a crash between the two re-reads the page, and the upsert is
idempotent (a page repeating orders of the previous one changes nothing). A page Amazon's answer does not let
us read (AmazonAnswerInvalid, after the quota gate's retries) or a failed call raises with the cursor where it
was: the runner's continuation reads that page again. An order of a page that cannot be read on its own (its
JSON lacks a field) is a failed step in the sync log and joins the retry list: getOrder re-reads it until it
is readable (or, after MAX_RETRY_ATTEMPTS, "given up" in the sync log; catch-up reads it again). A page token
that Amazon refuses (400 naming the token parameter: expired, or not one it knows) restarts its window from
the window's own `after` with the same upper bound, never skipping the rest of it; after
MAX_WINDOW_RESTARTS restarts in a row without the window completing, the run fails visibly and the next one
starts the window again. The next incremental sweep starts `overlap` before the last completed one ended.
Catch-up re-reads the last `catchup` days: with `reconciliation` set (the Lambda's wiring), by one order report
compared with what storesync holds, fetching only the orders that differ (usecases/order_reconciliation.py);
without it, or when the report fails `report_attempts` times, or when sweeping is cheaper, by a searchOrders
sweep of the window. A slice stops after a bounded time and enqueues its continuation
(the runner), and on Throttled (quota gate or Amazon 429) the runner re-enqueues with the gate's wait.

Backlogs and peaks: with `planner` set (the Lambda's wiring), an incremental sweep whose window started more than
`plan_window` ago and still has pages to read after one (a first connect with history, a long outage, a sweep
falling behind) hands its window to planner rounds (usecases/order_planner.py: one order report, FBA and closed
orders from its rows, open merchant orders by getOrder and searchOrders; cursor["round"]), which run instead of
the sweep until the window is in ("last_complete" moves on). A round whose reports fail `report_attempts` times
gives its window back to the sweep (marked "planned_out": it is swept to its end).

Every run first re-evaluates the store's orders on the unknown-SKU hold (`release_holds`,
order_upsert.release_unknown_sku_holds): an order whose SKUs are known now is allocated and its hold lifted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from storesync.amazon.errors import AmazonRejected, AuthorizationRevoked, Throttled, TransientAmazonError
from storesync.amazon.orders import OrdersPage
from storesync.clock import iso, parse_iso, utcnow
from storesync.dal.stores import Store
from storesync.domain.notices import NoticeCode, notice
from storesync.observability import logger
from storesync.usecases.order_planner import OrderPlanner, OrderPlannerDeps
from storesync.usecases.order_reconciliation import Reconciliation, ReconciliationDeps
from storesync.usecases.order_search import (  # noqa: F401  (PAGE_SIZE, wanted_statuses: importable from here too)
    AMAZON_MIN_LAG,
    PAGE_SIZE,
    OrdersAmazon,
    count_upsert,
    search_page,
    wanted_statuses,
)
from storesync.usecases.order_upsert import HoldRelease, Upserter, UpsertResult
from storesync.usecases.runner import JobContext, JobOutcome, JobWork, Progress

SLICE_SECONDS = 30.0  # a slice hands over to its continuation after this long
MAX_PAGES_PER_SLICE = 20
MAX_RETRY_ATTEMPTS = 5
MAX_RETRIES_PER_RUN = 25
UNKNOWN_ORDER_ID = "?"  # storesync.amazon.orders.UnreadableOrder: even the order id could not be read
# a large window's sweep hands it to planner rounds once it has read this many orders (one page) and has more
PLAN_AFTER_ORDERS = 100
MAX_WINDOW_RESTARTS = 5  # refused page tokens in a row before the run fails (the next run starts again)


@dataclass
class OrderImportDeps:
    upserter: Upserter
    amazon_for: Callable[[Store], OrdersAmazon]
    overlap: timedelta = timedelta(minutes=5)
    catchup: timedelta = timedelta(days=3)
    clock: Callable[[], datetime] = utcnow
    slice_seconds: float = SLICE_SECONDS
    # re-evaluates the store's unknown-SKU holds (order_upsert.release_unknown_sku_holds); None: not here
    release_holds: Callable[[Store], HoldRelease] | None = None
    # the catch-up as a reconciliation with an order report (order_reconciliation.py); None: a searchOrders sweep
    reconciliation: ReconciliationDeps | None = None
    # planner rounds (order_planner.py) instead of the incremental sweep for a large window; None: always sweep
    planner: OrderPlannerDeps | None = None
    # a window that started longer ago than this and holds more than one searchOrders page is large
    # a 30-minute sweep's window starts 35 minutes back; 10 minutes more with pages left is a sweep falling
    # behind (above ~2,000 orders an hour searchOrders' refill no longer keeps up): peak rounds take over
    plan_window: timedelta = timedelta(minutes=45)


def refused_page_token(exc: AmazonRejected) -> bool:
    """Amazon refused the page token we sent back (expired, or not one it knows): a 400 whose message names
    the token parameter (paginationToken, nextToken, NextToken...), whatever the wording around it."""
    if exc.status != 400:
        return False
    text = f"{exc.amazon_message} {exc}".lower().replace("_", "")
    return "token" in text and ("pagination" in text or "nexttoken" in text or "page" in text)


def order_import_work(deps: OrderImportDeps) -> JobWork:
    def work(ctx: JobContext) -> JobOutcome:
        return OrderImport(deps, ctx).run()

    return work


@dataclass
class OrderImport:
    deps: OrderImportDeps
    ctx: JobContext
    outcome: JobOutcome = field(default_factory=JobOutcome)
    failed_now: set[str] = field(default_factory=set)  # retried by a later run, not this one

    @property
    def store(self) -> Store:
        return self.ctx.store

    def run(self) -> JobOutcome:
        self._release_holds()
        amazon = self.deps.amazon_for(self.store)
        cursor = dict(self.ctx.cursor)
        sweep_key = "catchup" if self.ctx.message.mode == "catchup" else "incremental"
        if sweep_key == "catchup" and not cursor.get("catchup") and not self._reconcile(amazon, cursor):
            self._retry_failed(amazon, cursor)
            self.ctx.save_cursor(cursor)
            return self.outcome
        if sweep_key == "incremental" and self._planned(cursor):
            if not self._plan(cursor):
                return self.outcome
            cursor = dict(self.ctx.cursor)  # the report failed `report_attempts` times: the window is swept
        sweep = cursor.get(sweep_key) or self._new_sweep(cursor, sweep_key)
        first = not cursor.get("last_complete")
        self._report_progress(sweep_key, sweep, first)
        started = time.monotonic()
        pages = 0
        while True:
            if pages and (
                pages >= MAX_PAGES_PER_SLICE or time.monotonic() - started > self.deps.slice_seconds
            ):
                self._save(cursor, sweep_key, sweep)
                self.outcome.continue_after = amazon.search_wait_time()
                break
            try:
                page = search_page(amazon, self.store, sweep, page_size=PAGE_SIZE)
            except Throttled as exc:
                if not pages:
                    raise  # nothing done yet: the runner re-enqueues after the wait
                self.outcome.continue_after = exc.retry_after
                break
            except AmazonRejected as exc:
                if not (sweep.get("token") and refused_page_token(exc)):
                    raise
                sweep = self._restart_window(cursor, sweep_key, sweep, exc)
                continue
            pages += 1
            self.outcome.add("pages")
            self._store_page(page, cursor)
            read = int(sweep.get("read") or 0) + page.size
            token = page.next_token
            before = (
                sweep.get("before") or page.last_updated_before or iso(self.deps.clock() - AMAZON_MIN_LAG)
            )
            if token:
                planned_out = sweep.get("planned_out")
                sweep = {"after": sweep["after"], "before": before, "token": token, "read": read,
                         "started_at": sweep.get("started_at")}  # fmt: skip
                if planned_out:
                    sweep["planned_out"] = True
                if sweep_restarts := self._restarts(cursor, sweep_key):
                    sweep["restarts"] = sweep_restarts
                self._save(cursor, sweep_key, sweep)
                if sweep_key == "incremental" and self._large(sweep):  # a backlog: planner rounds take it
                    self._to_planner(cursor, sweep)
                    self.outcome.continue_after = 0.0
                    break
                self._report_progress(sweep_key, sweep, first)
                continue
            self._finish_sweep(cursor, sweep_key, before)
            break
        self._retry_failed(amazon, cursor)
        self.ctx.save_cursor(cursor)
        return self.outcome

    def _large(self, sweep: dict[str, Any]) -> bool:
        """A sweep with more pages to read after PLAN_AFTER_ORDERS orders (one page of Amazon's size) whose window
        started more than `plan_window` ago (a first connect with history, a long outage, a sweep falling behind) is
        a backlog: planner rounds read it (when configured)
        unless a planner round gave it back (its report failed)."""
        if self.deps.planner is None or sweep.get("planned_out"):
            return False
        backlog = int(sweep.get("read") or 0) >= PLAN_AFTER_ORDERS
        return backlog and self.deps.clock() - parse_iso(sweep["after"]) > self.deps.plan_window

    def _planned(self, cursor: dict[str, Any]) -> bool:
        """A planner round is under way, or the sweep under way is a backlog (it becomes a round)."""
        if self.deps.planner is None:
            return False
        if cursor.get("round"):
            return True
        sweep = cursor.get("incremental")
        # the last round was a peak, or left orders to fetch: the next window is a round too
        if (cursor.get("peak") or cursor.get("carried_list")) and not sweep:
            return True
        if sweep and sweep.get("token") and self._large(sweep):
            self._to_planner(cursor, sweep)
            return True
        return False

    def _to_planner(self, cursor: dict[str, Any], sweep: dict[str, Any]) -> None:
        """The sweep's window becomes a planner round (what the sweep stored stays stored)."""
        cursor["round"] = {"after": sweep["after"], "attempt": 1}
        self._save(cursor, "incremental", None)
        self.outcome.add("windows_planned")

    def _plan(self, cursor: dict[str, Any]) -> bool:
        """One slice of the planner round (same upserter, same cursor): True when the round gave its window back
        to the searchOrders sweep (its report failed `report_attempts` times)."""
        assert self.deps.planner is not None
        self.ctx.save_cursor(cursor)
        planner = OrderPlanner(self.deps.planner, self.ctx, self.outcome)
        planner.run()
        return planner.swept_instead

    def _reconcile(self, amazon: OrdersAmazon, cursor: dict[str, Any]) -> bool:
        """The catch-up by order report (when configured): True when the window is to be swept instead (now)."""
        if self.deps.reconciliation is None:
            return True
        reconciliation = Reconciliation(
            deps=self.deps.reconciliation,
            store=self.store,
            cursor=cursor,
            save=lambda: self.ctx.save_cursor(cursor),
            outcome=self.outcome,
            fetcher=amazon,
            upserter=self.deps.upserter,
            count=self._count,
            clock=self.deps.clock,
            window=self.deps.catchup,
            slice_seconds=self.deps.slice_seconds,
            failed_now=self.failed_now,
        )
        return reconciliation.run()

    def _new_sweep(self, cursor: dict[str, Any], sweep_key: str) -> dict[str, Any]:
        now = self.deps.clock()
        last = cursor.get("last_complete")
        if sweep_key == "catchup" or not last:
            after = now - self.deps.catchup
        else:
            after = parse_iso(last) - self.deps.overlap
        return {"after": iso(after), "before": None, "token": None, "read": 0, "started_at": iso(now)}

    def _report_progress(self, sweep_key: str, sweep: dict[str, Any], first: bool) -> None:
        """The sweep's orders read so far; Amazon's searchOrders never says how many there are (`expected`
        stays unknown)."""
        since = sweep["after"][:16].replace("T", " ")
        label = (
            f"Catch-up: reading every order updated since {since} UTC"
            if sweep_key == "catchup"
            else f"Reading orders updated since {since} UTC"
        )
        self.ctx.report_progress(
            Progress(
                step=sweep_key,
                label=label,
                step_number=1,
                steps=1,
                done=int(sweep.get("read") or 0),
                unit="orders",
                started_at=sweep.get("started_at"),
                first_import=first,
            )
        )

    def _restarts(self, cursor: dict[str, Any], sweep_key: str) -> int:
        return int((cursor.get(sweep_key) or {}).get("restarts") or 0)

    def _restart_window(
        self, cursor: dict[str, Any], sweep_key: str, sweep: dict[str, Any], exc: AmazonRejected
    ) -> dict[str, Any]:
        """Amazon refused the page token: the window starts again from its own `after`, same upper bound (the
        pages read are read again; the upsert is idempotent). Too many restarts in a row fail the run."""
        restarts = int(sweep.get("restarts") or 0) + 1
        logger.warning(
            "page token refused: the window starts again",
            extra={"after": sweep["after"], "before": sweep.get("before"), "restarts": restarts},
        )
        self.outcome.add("windows_restarted")
        if restarts > MAX_WINDOW_RESTARTS:
            # visible failure; the saved window starts again (counter reset) at the next run
            self._save(
                cursor, sweep_key, {"after": sweep["after"], "before": sweep.get("before"), "token": None}
            )
            raise exc
        restarted = {
            "after": sweep["after"],
            "before": sweep.get("before"),
            "token": None,
            "restarts": restarts,
            "started_at": sweep.get("started_at"),
        }
        self._save(cursor, sweep_key, restarted)
        return restarted

    def _release_holds(self) -> None:
        """Orders on the unknown-SKU hold whose SKUs are known now: allocated, hold lifted (never blocks the
        sweep: an order that fails stays held and is tried again next run)."""
        if self.deps.release_holds is None:
            return
        try:
            released = self.deps.release_holds(self.store)
        except Exception as exc:
            logger.exception("unknown-SKU holds not re-evaluated")
            self.outcome.errors.append(
                notice(NoticeCode.ORDER_NOT_STORED, order_id="(orders on the unknown-SKU hold)",
                       error_type=type(exc).__name__)
            )  # fmt: skip
            return
        if released.released:
            self.outcome.add("holds_released", len(released.released))
        for order_id, error_type in released.failed.items():
            self.outcome.add("orders_failed")
            self.outcome.errors.append(
                notice(NoticeCode.ORDER_NOT_STORED, order_id=order_id, error_type=error_type)
            )

    def _save(self, cursor: dict[str, Any], sweep_key: str, sweep: dict[str, Any] | None) -> None:
        cursor[sweep_key] = sweep
        self.ctx.save_cursor(cursor)

    def _finish_sweep(self, cursor: dict[str, Any], sweep_key: str, before: str) -> None:
        last = cursor.get("last_complete")
        if not last or parse_iso(before) > parse_iso(last):
            cursor["last_complete"] = before
        self._save(cursor, sweep_key, None)

    def _store_page(self, page: OrdersPage, cursor: dict[str, Any]) -> None:
        for bad in page.unreadable:
            self.outcome.add("orders_read")
            self.outcome.add("orders_failed")
            self.outcome.errors.append(
                notice(NoticeCode.ORDER_UNREADABLE, order_id=bad.order_id, reason=str(bad.error))
            )
            if bad.order_id != UNKNOWN_ORDER_ID:  # never forgotten: getOrder re-reads it (_retry_failed)
                retry = cursor.setdefault("retry", {})
                retry[bad.order_id] = int(retry.get(bad.order_id, 0))
        unexpected = 0
        for order in page.orders:
            self.outcome.add("orders_read")
            try:
                self._count(self.deps.upserter.upsert(self.store, order))
            except Exception as exc:  # one bad order never blocks the rest: it is retried with getOrder
                unexpected += 1
                self.outcome.add("orders_failed")
                logger.exception("order could not be stored", extra={"amazon_order_id": order.order_id})
                retry = cursor.setdefault("retry", {})
                retry[order.order_id] = int(retry.get(order.order_id, 0))
                self.failed_now.add(order.order_id)
                self.outcome.errors.append(
                    notice(
                        NoticeCode.ORDER_NOT_STORED, order_id=order.order_id, error_type=type(exc).__name__
                    )
                )
        if page.size and unexpected > page.size // 2:
            # most of a page failing is not one bad order but a broken dependency: keep the cursor, retry all
            raise RuntimeError(f"{unexpected} of {page.size} orders could not be stored")

    def _count(self, result: UpsertResult) -> None:
        count_upsert(self.outcome, result)

    def _retry_failed(self, amazon: OrdersAmazon, cursor: dict[str, Any]) -> None:
        retry: dict[str, int] = dict(cursor.get("retry") or {})
        for order_id in [o for o in retry if o not in self.failed_now][:MAX_RETRIES_PER_RUN]:
            try:
                result = self.deps.upserter.upsert(self.store, amazon.get_order(order_id))
            except (Throttled, TransientAmazonError):
                break  # Amazon's side: the next run tries again, this order's attempts do not count
            except Exception as exc:
                if isinstance(exc, AuthorizationRevoked):
                    raise
                retry[order_id] += 1
                logger.warning(
                    "order retry failed", extra={"amazon_order_id": order_id, "error": type(exc).__name__}
                )
                if retry[order_id] >= MAX_RETRY_ATTEMPTS:
                    self.outcome.errors.append(
                        notice(
                            NoticeCode.ORDER_GIVEN_UP,
                            order_id=order_id,
                            attempts=MAX_RETRY_ATTEMPTS,
                            error_type=type(exc).__name__,
                        )
                    )
                    del retry[order_id]
                continue
            del retry[order_id]
            self.outcome.add("orders_retried")
            self._count(result)
        cursor["retry"] = retry
