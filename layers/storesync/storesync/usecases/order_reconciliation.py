"""The order catch-up as a reconciliation: one order report for the window, compared with what storesync holds.

Steps (state in the order job's cursor under "reconcile", so every step survives invocations):
1. request: GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL from now - catch-up days (createReport: the
   Reports API's quota, not searchOrders'); the end of the window is left to Amazon (its clock: a skewed local
   clock never cuts the window short), and read back from getReport's dataEndTime;
2. wait: getReport every `report_poll_seconds` while IN_QUEUE / IN_PROGRESS;
3. compare: the document is read (storesync.amazon.order_reports) and each reported order compared with the
   stored one (storesync.domain.reconciliation.difference: missing, status, items and quantities), 100 orders a
   BatchGetItem;
4. fetch: only the orders that differ, one getOrder each, stored through the same upsert as every other door
   (the order state machine decides; an older answer never overwrites a newer one). When a searchOrders sweep of
   the window costs less quota time than the getOrders would (domain.reconciliation.use_search), the window
   is swept instead, by the order import's own catch-up sweep.
The cost is createReport + a few getReport + getReportDocument + one getOrder per difference, whatever the
window's size.

Failures: a report that ends CANCELLED or FATAL, that stays queued beyond `report_max_wait`, or whose document
cannot be read never counts as "nothing changed": the run is a failed attempt (sync log: why), a new report is
asked for at the next attempt, and after `report_attempts` reports the catch-up sweeps the window with
searchOrders, as it did before reports. A failed getReport / download is retried by the runner with the state
where it was. An order that cannot be fetched or stored joins the order import's retry list (getOrder again).

Steps 1 to 3's report part is `OrderReportDoor` (request, follow, read one order report, its state in the
caller's cursor), with `read_report` and `report_attempt_failed` for its failures: the one report door of the
catch-up and of the order planner (usecases/order_planner.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TextIO

from storesync.amazon.errors import AmazonError, AuthorizationRevoked, Throttled, TransientAmazonError
from storesync.amazon.order_reports import OrderReportUnreadable, read_order_report
from storesync.amazon.products_amazon import ReportState
from storesync.clock import iso, parse_iso
from storesync.dal.stores import Store
from storesync.domain.notices import NoticeCode, notice
from storesync.domain.orders import AmazonOrder
from storesync.domain.reconciliation import HeldOrder, ReportedOrder, difference, use_search
from storesync.observability import logger
from storesync.usecases.order_upsert import Upserter, UpsertResult
from storesync.usecases.runner import TRANSIENT_RETRY_SECONDS, JobOutcome

COMPARE_BATCH = 100  # orders looked up per BatchGetItem


class OrderReportsAmazon(Protocol):
    """What the reconciliation needs of Amazon's Reports API (storesync.amazon.order_reports.SpApiOrderReports)."""

    def request_order_report(self, *, after: datetime, before: datetime | None = None) -> str: ...

    def report_state(self, report_id: str) -> ReportState: ...

    def open_report(self, document_id: str) -> AbstractContextManager[TextIO]: ...


class OrderFetcher(Protocol):
    """getOrder (storesync.amazon.orders.AmazonOrders)."""

    def get_order(self, amazon_order_id: str) -> AmazonOrder: ...


@dataclass
class ReconciliationDeps:
    reports_for: Callable[[Store], OrderReportsAmazon]
    # what the store holds of these orders (storesync.dal.order_queries.held_orders)
    held_orders: Callable[[Store, Sequence[str]], Mapping[str, HeldOrder]]
    report_poll_seconds: float = 30.0
    report_attempts: int = 3
    report_max_wait: timedelta = timedelta(hours=2)


class OrderReportFailed(AmazonError):
    """Amazon's order report gave no data: it ended CANCELLED or FATAL, or stayed queued too long."""

    def __init__(self, report_id: str, reason: str) -> None:
        super().__init__(f"Amazon's order report {report_id} {reason}: its data is unknown")
        self.report_id = report_id
        self.reason = reason


@dataclass
class OrderReportDoor:
    """The report door: the rows of one order report, asked for, followed and read across invocations.

    `rows(state)` works on `state` (kept by the caller in its cursor, saved after every call): {"after": iso
    (the window's start), "report_id", "requested_at", "status", "before" (Amazon's dataEndTime, once done)}.
    It returns None while the report is asked for or being made (call again later), the reported orders once
    it is done; it raises OrderReportFailed (CANCELLED, FATAL, or queued beyond `max_wait`) or
    OrderReportUnreadable, never an empty list for a report that did not come. After a failure, drop
    "report_id" from the state to ask for a new report of the same window."""

    reports: OrderReportsAmazon
    clock: Callable[[], datetime]
    max_wait: timedelta = timedelta(hours=2)

    def rows(self, state: dict[str, Any]) -> list[ReportedOrder] | None:
        if not state.get("report_id"):
            state["report_id"] = self.reports.request_order_report(after=parse_iso(state["after"]))
            state["requested_at"] = iso(self.clock())
            state["status"] = "IN_QUEUE"
            return None
        report = self.reports.report_state(state["report_id"])
        state["status"] = report.status
        if report.status in ("IN_QUEUE", "IN_PROGRESS"):
            waited = self.clock() - parse_iso(state["requested_at"])
            if waited > self.max_wait:
                raise OrderReportFailed(state["report_id"], f"was still {report.status} after {waited}")
            return None
        if report.failed or not report.document_id:
            raise OrderReportFailed(state["report_id"], f"ended {report.status}")
        with self.reports.open_report(report.document_id) as stream:
            reported = read_order_report(stream)
        state["before"] = report.data_end  # the window Amazon's report covers ends here
        return reported


def read_report(door: OrderReportDoor, state: dict[str, Any]) -> list[ReportedOrder] | str | None:
    """`door.rows(state)`, with a report that gave no data told as why (a str): CANCELLED, FATAL, stuck or
    unreadable. The caller counts that as a failed attempt (`report_attempt_failed`), never as "nothing changed"."""
    try:
        return door.rows(state)
    except OrderReportFailed as exc:
        return exc.reason
    except OrderReportUnreadable as exc:
        return f"could not be read ({exc})"


def report_attempt_failed(
    outcome: JobOutcome, report_id: str | None, reason: str, attempt: int, attempts: int
) -> bool:
    """One order report that gave no data (never "nothing changed"): in the sync log, and the run is a failed
    attempt the runner retries with backoff (the caller asks a new report then). True once `attempts` reports
    failed: the caller reads the window with searchOrders instead."""
    logger.warning("order report failed", extra={"report_id": report_id, "reason": reason[:300]})
    outcome.errors.append(
        notice(NoticeCode.ORDER_REPORT_FAILED, reason=reason, attempt=attempt, attempts=attempts)
    )
    outcome.add("order_reports_failed")
    if attempt >= attempts:
        outcome.errors.append(notice(NoticeCode.ORDER_REPORT_GAVE_UP, attempts=attempts))
        return True
    outcome.result = "error"  # a failed attempt: the runner retries with backoff, asking a new report
    outcome.continue_after = TRANSIENT_RETRY_SECONDS
    return False


@dataclass
class Reconciliation:
    """One slice of the catch-up reconciliation of one store (see the module's docstring)."""

    deps: ReconciliationDeps
    store: Store
    cursor: dict[str, Any]
    save: Callable[[], None]
    outcome: JobOutcome
    fetcher: OrderFetcher
    upserter: Upserter
    count: Callable[[UpsertResult], None]  # the order import's counters
    clock: Callable[[], datetime]
    window: timedelta
    slice_seconds: float
    failed_now: set[str] = field(default_factory=set)

    def run(self) -> bool:
        """One slice. True: the window is to be swept with searchOrders now (cursor["catchup"] is set)."""
        state = self.cursor.get("reconcile")
        if not state:
            now = self.clock()
            state = {"after": iso(now - self.window), "before": None, "attempt": 1}
            self._keep(state)
        if state.get("fetch") is not None:
            self._fetch(state)
            return False
        door = OrderReportDoor(self.deps.reports_for(self.store), self.clock, self.deps.report_max_wait)
        requested = bool(state.get("report_id"))
        reported = read_report(door, state)
        if isinstance(reported, str):
            return self._report_failed(state, reported)
        if reported is None:
            self._keep(state)
            if not requested:
                self.outcome.add("order_reports_requested")
                self.outcome.summary = "catch-up: Amazon's order report requested"
            else:
                status = str(state.get("status") or "in_queue").lower()
                self.outcome.summary = f"catch-up: waiting for Amazon's order report ({status})"
            self.outcome.continue_after = self.deps.report_poll_seconds
            return False
        differing = self._compare(reported)
        self.outcome.add("orders_in_report", len(reported))
        self.outcome.add("orders_differing", len(differing))
        if use_search(len(differing), len(reported)):
            return self._sweep_instead(state)
        state.update(fetch=differing, reported=len(reported))
        self._keep(state)
        self._fetch(state)
        return False

    # steps ------------------------------------------------------------------------------------------------
    def _compare(self, reported: Sequence[ReportedOrder]) -> list[str]:
        import_pending = bool(self.store.settings.import_pending_orders)
        differing: list[str] = []
        for start in range(0, len(reported), COMPARE_BATCH):
            chunk = reported[start : start + COMPARE_BATCH]
            held = self.deps.held_orders(self.store, [r.order_id for r in chunk])
            for order in chunk:
                why = difference(order, held.get(order.order_id), import_pending=import_pending)
                if why is not None:
                    differing.append(order.order_id)
                    logger.debug("order differs from Amazon's report", extra={"amazon_order_id": order.order_id,
                                                                              "why": why})  # fmt: skip
        return differing

    def _fetch(self, state: dict[str, Any]) -> None:
        pending: list[str] = list(state["fetch"])
        started = time.monotonic()
        fetched = 0
        try:
            while pending:
                if fetched and time.monotonic() - started > self.slice_seconds:
                    self.outcome.continue_after = 0.0
                    return
                order_id = pending[0]
                try:
                    result = self.upserter.upsert(self.store, self.fetcher.get_order(order_id))
                except Throttled as exc:
                    if not fetched:
                        raise
                    self.outcome.continue_after = exc.retry_after
                    return
                except (TransientAmazonError, AuthorizationRevoked):
                    raise
                except Exception as exc:  # this order only: the order import's retry list re-reads it
                    logger.warning("order of the reconciliation not stored",
                                   extra={"amazon_order_id": order_id, "error": type(exc).__name__})  # fmt: skip
                    self.outcome.add("orders_failed")
                    self.outcome.errors.append(
                        notice(NoticeCode.ORDER_NOT_STORED, order_id=order_id, error_type=type(exc).__name__)
                    )
                    retry = self.cursor.setdefault("retry", {})
                    retry[order_id] = int(retry.get(order_id, 0))
                    self.failed_now.add(order_id)
                else:
                    self.outcome.add("orders_fetched")
                    self.count(result)
                pending.pop(0)
                fetched += 1
        finally:
            state["fetch"] = pending
            self._keep(state)
        self._done(state)

    def _done(self, state: dict[str, Any]) -> None:
        reported = int(state.get("reported") or 0)
        fetched = self.outcome.counts.get("orders_fetched", 0)
        last = self.cursor.get("last_complete")
        before = state.get("before")
        if before and (not last or parse_iso(before) > parse_iso(last)):
            self.cursor["last_complete"] = before
        self.cursor["reconciled"] = {"after": state["after"], "before": before, "reported": reported}
        self._keep(None)
        self.outcome.summary = (
            f"catch-up: {reported} orders in Amazon's report, {fetched} fetched because they differed"
        )

    def _report_failed(self, state: dict[str, Any], reason: str) -> bool:
        """No answer about the window (CANCELLED, FATAL, stuck or unreadable): never "nothing changed"."""
        attempt = int(state.get("attempt") or 1)
        if report_attempt_failed(
            self.outcome, state.get("report_id"), reason, attempt, self.deps.report_attempts
        ):
            return self._sweep_instead(state)
        self._keep({"after": state["after"], "before": None, "attempt": attempt + 1})
        return False

    def _sweep_instead(self, state: dict[str, Any]) -> bool:
        self.cursor["catchup"] = {"after": state["after"], "before": state.get("before"), "token": None}
        self.outcome.add("windows_swept_instead")
        self._keep(None)
        return True

    def _keep(self, state: dict[str, Any] | None) -> None:
        self.cursor["reconcile"] = state
        self.save()
