"""The catch-up as a reconciliation, with fakes (no AWS, no HTTP): the order report's parser, the comparison
rules, the choice of door, and the use case's steps across invocations, including reports that end CANCELLED
or FATAL, stay queued, or cannot be read (never "nothing changed")."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import pytest
from storesync.amazon.errors import Throttled
from storesync.amazon.order_reports import OrderReportUnreadable, read_order_report
from storesync.amazon.orders import OrdersPage
from storesync.amazon.products_amazon import ReportState
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.notices import NoticeCode
from storesync.domain.orders import AmazonItem, AmazonOrder
from storesync.domain.reconciliation import (
    MAX_FETCH_LIST,
    HeldOrder,
    ReportedOrder,
    difference,
    units_of,
    use_search,
)
from storesync.jobs import JobMessage
from storesync.usecases.order_import import OrderImport, OrderImportDeps
from storesync.usecases.order_reconciliation import OrderReportDoor, OrderReportFailed, ReconciliationDeps
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.runner import JobContext

NOW = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\t"
    "sales-channel\torder-channel\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\t"
    "item-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\t"
    "ship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\tpromotion-ids\t"
    "is-business-order\tpurchase-order-number\tprice-designation"
)
UPDATED = "2026-07-10T10:00:00+00:00"


def row(order_id: str, sku: str = "A", quantity: int = 1, status: str = "Unshipped", channel: str = "Merchant",
        updated: str = UPDATED) -> str:  # fmt: skip
    fields = [order_id, "", "2026-07-10T09:00:00+00:00", updated, status, channel, "Amazon.com", "", "Standard",
              "Title", sku, "B0", "Unshipped", str(quantity), "USD", "9.99"] + [""] * 11 + ["", "false", "", ""]  # fmt: skip
    return "\t".join(fields)


def report(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


# the parser ----------------------------------------------------------------------------------------------------
def test_the_report_is_read_one_order_per_order_with_units_summed_per_sku():
    text = report(row("1", "A", 2), row("1", "B", 1), row("1", "A", 1), row("2", "C", 3, "Shipped", "Amazon"))
    first, second = read_order_report(io.StringIO(text))
    assert first == ReportedOrder(
        "1",
        "UNSHIPPED",
        "Unshipped",
        "FBM",
        "2026-07-10T10:00:00Z",
        (("A", 3), ("B", 1)),
        "2026-07-10T09:00:00Z",
    )
    assert (second.status, second.channel, second.units) == ("SHIPPED", "FBA", (("C", 3),))


def test_every_status_word_of_the_report_maps_and_an_unknown_one_is_kept_as_unknown():
    words = {"Pending": "PENDING", "Unshipped": "UNSHIPPED", "Shipping": "UNSHIPPED", "PartiallyShipped":
             "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "Cancelled": "CANCELLED", "Canceled": "CANCELLED",
             "Unfulfillable": "UNFULFILLABLE", "Pending - Waiting for Pick Up": None}  # fmt: skip
    text = report(*(row(str(n), status=word) for n, word in enumerate(words)))
    parsed = read_order_report(io.StringIO(text))
    assert [o.status for o in parsed] == list(words.values())
    assert parsed[-1].raw_status == "Pending - Waiting for Pick Up"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "header"),
        (report(row("1")).replace("\tquantity\t", "\tqty\t"), "quantity"),
        (report(row("1"), row("2"))[:-40], "row"),  # cut short in its last row
        (report(row("1", quantity=1).replace("\t1\tUSD", "\tone\tUSD")), "quantity"),
        (report(row("1", updated="yesterday")), "last-updated-date"),
        (report(row("1", channel="Drone")), "fulfillment-channel"),
        (report(row("")), "amazon-order-id"),
    ],
)
def test_a_report_that_cannot_be_read_raises_naming_the_field(text: str, field: str):
    with pytest.raises(OrderReportUnreadable) as caught:
        read_order_report(io.StringIO(text))
    assert caught.value.field == field and (field in str(caught.value) or field in ("header", "row"))


def test_a_report_with_a_header_and_no_row_is_an_empty_window():
    assert read_order_report(io.StringIO(report())) == []


# the rules -----------------------------------------------------------------------------------------------------
def reported(status: str | None = "UNSHIPPED", units: tuple[tuple[str, int], ...] = (("A", 1),),
             updated: str = "2026-07-10T10:00:00Z") -> ReportedOrder:  # fmt: skip
    return ReportedOrder("1", status, status or "Odd", "FBM", updated, units)


def held(status: str = "UNSHIPPED", units: tuple[tuple[str, int], ...] = (("A", 1),),
         updated: str = "2026-07-10T10:00:00Z") -> HeldOrder:  # fmt: skip
    return HeldOrder("1", status, updated, units)


def test_differences():
    assert difference(reported(), held(), import_pending=False) is None
    assert difference(reported(), None, import_pending=False) == "missing"
    assert difference(reported("PENDING"), None, import_pending=False) is None  # never stored by design
    assert difference(reported("PENDING"), None, import_pending=True) == "missing"
    assert "CANCELLED" in str(difference(reported("CANCELLED"), held(), import_pending=False))
    assert (
        difference(reported(units=(("A", 2),)), held(), import_pending=False) == "items or quantities differ"
    )
    assert difference(reported(units=(("A", 1), ("B", 1))), held(), import_pending=False) is not None
    assert "unknown" in str(difference(reported(None), held(), import_pending=False))
    newer = held("SHIPPED", updated="2026-07-10T11:00:00Z")  # a notification stored a later change
    assert difference(reported(), newer, import_pending=False) is None
    assert units_of([("B", 1), ("A", 2), ("B", 3)]) == (("A", 2), ("B", 4))


def test_the_door_is_getorder_for_few_differences_and_a_sweep_when_it_costs_less():
    assert not use_search(0, 10_000)
    assert not use_search(20, 10_000)  # 20 getOrders against 100 searchOrders pages
    assert use_search(200, 100)  # one page (the quota time of 90 getOrders) beats 200 getOrders
    assert use_search(MAX_FETCH_LIST + 1, 1_000_000)  # too many to carry in the cursor


# the use case --------------------------------------------------------------------------------------------------
def order(order_id: str, status: str = "UNSHIPPED") -> AmazonOrder:
    return AmazonOrder(order_id=order_id, marketplace_id="ATVPDKIKX0DER", status=status, channel="FBM",
                       created="2026-07-10T09:00:00Z", last_updated="2026-07-10T10:00:00Z",
                       items=(AmazonItem("1", "A", 1),))  # fmt: skip


class FakeAmazon:
    """Orders and order reports: `states` is the getReport answers in turn, `document` the report's text."""

    def __init__(self, states: list[ReportState], document: str = "") -> None:
        self.states = states
        self.document = document
        self.requested: list[tuple[datetime, datetime | None]] = []
        self.fetched: list[str] = []
        self.searches: list[dict[str, Any]] = []
        self.throttle_after: int | None = None

    def request_order_report(self, *, after: datetime, before: datetime | None = None) -> str:
        self.requested.append((after, before))
        return f"r{len(self.requested)}"

    def report_state(self, report_id: str) -> ReportState:
        return self.states.pop(0)

    @contextmanager
    def open_report(self, document_id: str) -> Iterator[TextIO]:
        yield io.StringIO(self.document)

    def get_order(self, amazon_order_id: str) -> AmazonOrder:
        if self.throttle_after is not None and len(self.fetched) >= self.throttle_after:
            raise Throttled("getOrder", 2.0)
        self.fetched.append(amazon_order_id)
        return order(amazon_order_id)

    def search_orders(self, **params: Any) -> OrdersPage:
        self.searches.append(params)
        return OrdersPage((order("s1"),), last_updated_before="2026-07-10T11:58:00Z")

    def search_wait_time(self) -> float:
        return 7.0


class Stored:
    def __init__(self, held: Mapping[str, HeldOrder] | None = None) -> None:
        self.held = dict(held or {})
        self.ids: list[str] = []
        self.lookups = 0

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        self.ids.append(incoming.order_id)
        return UpsertResult(incoming.order_id, "create", "new order", "open")

    def held_orders(self, store: Store, ids: Sequence[str]) -> dict[str, HeldOrder]:
        self.lookups += 1
        return {i: self.held[i] for i in ids if i in self.held}


class MemoryContext(JobContext):
    def save_cursor(self, cursor: dict[str, Any]) -> None:
        self.cursor = dict(cursor)


def run(
    fake: FakeAmazon, stored: Stored, cursor: dict[str, Any], attempts: int = 3
) -> tuple[Any, dict[str, Any]]:
    store = Store("m", "s", name="s", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
                  settings=StoreSettings(), created_at=NOW)  # fmt: skip
    ctx = MemoryContext(
        JobMessage(job="orders", mode="catchup", merchant_id="m", store_id="s"), store, "me", cursor
    )
    reconciliation = ReconciliationDeps(lambda _s: fake, stored.held_orders, report_poll_seconds=30.0,
                                        report_attempts=attempts, report_max_wait=timedelta(hours=2))  # fmt: skip
    deps = OrderImportDeps(stored, lambda _s: fake, timedelta(minutes=5), timedelta(days=3), clock=lambda: NOW,
                           reconciliation=reconciliation)  # type: ignore[arg-type]  # fmt: skip
    return OrderImport(deps, ctx).run(), ctx.cursor


DONE = ReportState("DONE", "doc-1", "2026-07-10T11:58:00Z")


def in_sync(n: int) -> dict[str, HeldOrder]:
    return {str(i): HeldOrder(str(i), "UNSHIPPED", "2026-07-10T10:00:00Z", (("A", 1),)) for i in range(n)}


def test_a_catchup_asks_one_report_waits_for_it_and_fetches_only_the_orders_that_differ():
    text = report(
        *(row(str(i)) for i in range(10)), row("10"), row("3", "B", 1)
    )  # 10 missing, 3 has a new item
    fake = FakeAmazon([ReportState("IN_QUEUE"), ReportState("IN_PROGRESS"), DONE], text)
    stored = Stored(in_sync(10))
    outcome, cursor = run(fake, stored, {"last_complete": "2026-07-10T11:00:00Z"})
    assert fake.requested == [(NOW - timedelta(days=3), None)]  # the end is Amazon's: now by its clock
    assert outcome.continue_after == 30.0 and cursor["reconcile"]["report_id"] == "r1"
    for status in ("in_queue", "in_progress"):
        outcome, cursor = run(fake, stored, cursor)
        assert outcome.continue_after == 30.0 and status in outcome.summary and not fake.fetched
    outcome, cursor = run(fake, stored, cursor)
    assert fake.fetched == ["3", "10"] and stored.ids == ["3", "10"] and not fake.searches
    assert outcome.counts["orders_in_report"] == 11 and outcome.counts["orders_differing"] == 2
    assert outcome.continue_after is None and cursor["reconcile"] is None
    assert cursor["last_complete"] == "2026-07-10T11:58:00Z"  # covered up to the report's dataEndTime
    assert stored.lookups == 1 and "11 orders in Amazon's report, 2 fetched" in outcome.summary


@pytest.mark.parametrize("failure", [ReportState("CANCELLED"), ReportState("FATAL", "error-doc")])
def test_a_cancelled_or_fatal_report_is_a_failed_attempt_never_nothing_changed(failure: ReportState):
    fake = FakeAmazon([failure, DONE], report(row("1")))
    stored = Stored()
    outcome, cursor = run(fake, stored, {"reconcile": {"after": "2026-07-07T12:00:00Z", "before":
                                         "2026-07-10T11:58:00Z", "attempt": 1, "report_id": "r0",
                                         "requested_at": "2026-07-10T11:59:00Z"}})  # fmt: skip
    assert outcome.result == "error" and outcome.continue_after is not None
    assert [e.code for e in outcome.errors] == [NoticeCode.ORDER_REPORT_FAILED]
    assert failure.status in outcome.errors[0].message
    assert "last_complete" not in cursor and not fake.fetched
    assert cursor["reconcile"] == {"after": "2026-07-07T12:00:00Z", "before": None, "attempt": 2}
    outcome, cursor = run(fake, stored, cursor)  # the next attempt asks a new report for the same window
    assert fake.requested == [(datetime(2026, 7, 7, 12, tzinfo=UTC), None)]  # the same window's start
    run(fake, stored, cursor)
    assert fake.fetched == ["1"]


def test_after_the_last_failed_report_the_window_is_swept_with_searchorders():
    fake = FakeAmazon([ReportState("FATAL", "e")])
    stored = Stored()
    state = {"after": "2026-07-07T12:00:00Z", "before": "2026-07-10T11:58:00Z", "attempt": 3, "report_id": "r3",
             "requested_at": "2026-07-10T11:59:00Z"}  # fmt: skip
    outcome, cursor = run(fake, stored, {"reconcile": state})
    assert [e.code for e in outcome.errors] == [
        NoticeCode.ORDER_REPORT_FAILED,
        NoticeCode.ORDER_REPORT_GAVE_UP,
    ]
    assert [(s["after"], s["before"]) for s in fake.searches] == [
        ("2026-07-07T12:00:00Z", "2026-07-10T11:58:00Z")
    ]
    assert stored.ids == ["s1"] and cursor["catchup"] is None and cursor["reconcile"] is None
    assert outcome.final_result() == "partial"  # visible in the sync log, and the window was read


def test_an_unreadable_report_or_one_stuck_in_queue_is_a_failed_attempt():
    fake = FakeAmazon([DONE], report(row("1"), row("2"))[:-30])
    outcome, cursor = run(fake, Stored(), {"reconcile": {"after": "a", "before": "2026-07-10T11:58:00Z",
                          "attempt": 1, "report_id": "r1", "requested_at": "2026-07-10T11:59:00Z"}})  # fmt: skip
    assert outcome.result == "error" and "could not be read" in outcome.errors[0].message
    assert cursor["reconcile"]["attempt"] == 2 and not fake.fetched
    stuck = FakeAmazon([ReportState("IN_QUEUE")])
    outcome, cursor = run(stuck, Stored(), {"reconcile": {"after": "a", "before": "b", "attempt": 1,
                          "report_id": "r1", "requested_at": "2026-07-10T09:00:00Z"}})  # fmt: skip
    assert outcome.result == "error" and "IN_QUEUE after 3:00:00" in outcome.errors[0].message


def test_many_differences_sweep_the_window_instead_of_one_getorder_each():
    text = report(*(row(str(i)) for i in range(200)))  # nothing held: 200 missing; 2 pages cost 180 getOrders
    fake = FakeAmazon([DONE], text)
    outcome, cursor = run(fake, Stored(), {"reconcile": {"after": "2026-07-07T12:00:00Z", "before":
                          "2026-07-10T11:58:00Z", "attempt": 1, "report_id": "r1",
                          "requested_at": "2026-07-10T11:59:00Z"}})  # fmt: skip
    assert not fake.fetched and len(fake.searches) == 1 and outcome.counts["windows_swept_instead"] == 1
    assert not outcome.errors


def test_a_throttle_mid_fetch_keeps_the_orders_left_for_the_continuation():
    text = report(*(row(str(i)) for i in range(5)))
    fake = FakeAmazon([DONE], text)
    fake.throttle_after = 2
    outcome, cursor = run(fake, Stored(), {"reconcile": {"after": "2026-07-07T12:00:00Z", "before":
                          "2026-07-10T11:58:00Z", "attempt": 1, "report_id": "r1",
                          "requested_at": "2026-07-10T11:59:00Z"}})  # fmt: skip
    assert fake.fetched == ["0", "1"] and cursor["reconcile"]["fetch"] == ["2", "3", "4"]
    assert outcome.continue_after == 2.0
    fake.throttle_after = None
    outcome, cursor = run(fake, Stored(), cursor)
    assert fake.fetched == ["0", "1", "2", "3", "4"] and cursor["reconcile"] is None


def test_a_window_in_sync_costs_the_report_calls_and_nothing_else():
    fake = FakeAmazon([DONE], report(*(row(str(i)) for i in range(300))))
    stored = Stored(in_sync(300))
    outcome, cursor = run(fake, stored, {"reconcile": {"after": "2026-07-07T12:00:00Z", "before":
                          "2026-07-10T11:58:00Z", "attempt": 1, "report_id": "r1",
                          "requested_at": "2026-07-10T11:59:00Z"}})  # fmt: skip
    assert not fake.fetched and not fake.searches and stored.lookups == 3
    assert outcome.counts["orders_differing"] == 0 and cursor["reconcile"] is None


def test_the_report_door_alone_asks_follows_and_reads_one_report_and_raises_when_it_gives_no_data():
    fake = FakeAmazon(
        [ReportState("IN_PROGRESS"), DONE, ReportState("CANCELLED")], report(row("1"), row("2"))
    )
    door = OrderReportDoor(fake, lambda: NOW, timedelta(hours=2))
    state: dict[str, Any] = {"after": "2026-07-07T12:00:00Z"}
    assert door.rows(state) is None and state["report_id"] == "r1"  # asked for
    assert door.rows(state) is None and state["status"] == "IN_PROGRESS"
    assert [o.order_id for o in door.rows(state) or []] == ["1", "2"]
    assert state["before"] == "2026-07-10T11:58:00Z"  # Amazon's dataEndTime
    with pytest.raises(OrderReportFailed) as caught:
        door.rows(state)
    assert caught.value.reason == "ended CANCELLED" and fake.requested == [
        (datetime(2026, 7, 7, 12, tzinfo=UTC), None)
    ]
