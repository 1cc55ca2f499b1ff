"""The order planner with fakes (no AWS, no HTTP): which door brings which order, a report that is not ready,
cancelled, fatal or unreadable (never "nothing changed"), the two fetch doors sharing the list, throttling
mid-round, no order created twice, the report's lines named by SKU until the order is read whole, and the order
import handing a large window to planner rounds."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import pytest
import storesync.usecases.order_planner as planner_module
from storesync.amazon.errors import Throttled
from storesync.amazon.orders import OrdersPage
from storesync.amazon.products_amazon import ReportState
from storesync.dal.fetch_lists import MemoryFetchList
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.notices import NoticeCode
from storesync.domain.orders import (
    CREATE,
    IGNORE,
    UPDATE,
    AmazonItem,
    AmazonOrder,
    ImportRules,
    OrderLine,
    OrderSnapshot,
    decide,
)
from storesync.domain.reconciliation import HeldOrder, ReportedOrder, row_order, units_of
from storesync.jobs import JobMessage
from storesync.usecases.order_import import OrderImport, OrderImportDeps
from storesync.usecases.order_planner import (
    FETCH_SWEEP_THRESHOLD,
    OrderPlanner,
    OrderPlannerDeps,
    plan_doors,
)
from storesync.usecases.order_reconciliation import ReconciliationDeps
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.runner import JobContext

US = "ATVPDKIKX0DER"
NOW = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
T0 = "2026-07-10T10:00:00Z"
COLUMNS = ("amazon-order-id", "purchase-date", "last-updated-date", "order-status", "fulfillment-channel", "sku",
           "quantity")  # fmt: skip
WORDS = {"UNSHIPPED": "Unshipped", "SHIPPED": "Shipped", "CANCELLED": "Cancelled", "PENDING": "Pending"}


def row(order_id: str, channel: str = "FBM", status: str = "UNSHIPPED", updated: str = T0) -> ReportedOrder:
    return ReportedOrder(order_id, status, status, channel, updated, (("SKU-A", 1),), T0)


def flat_file(rows: Sequence[ReportedOrder]) -> str:
    """The rows as Amazon's tab-separated order report (one line per SKU)."""
    lines = ["\t".join(COLUMNS)]
    for r in rows:
        channel = "Amazon" if r.channel == "FBA" else "Merchant"
        for sku, quantity in r.units:
            word = WORDS.get(r.status or "", r.raw_status)
            lines.append("\t".join((r.order_id, T0, r.last_updated, word, channel, sku, str(quantity))))
    return "\n".join(lines) + "\n"


def order(order_id: str, status: str = "UNSHIPPED", updated: str = T0, channel: str = "FBM") -> AmazonOrder:
    return AmazonOrder(order_id, US, status, channel, T0, updated, (AmazonItem(f"{order_id}-1", "SKU-A", 1),),
                       address={"city": "Seattle"})  # fmt: skip


class Table:
    """The orders table through the state machine; counts creations per order; keeps the lines."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderSnapshot] = {}
        self.creates: dict[str, int] = {}
        self.fetch_list = MemoryFetchList()  # the planner's fetch lists, kept across slices like the table

    def listed(self) -> list[str]:
        """The orders on the store's fetch lists, oldest first."""
        return [o.order_id for rows in self.fetch_list.lists.values() for o in sorted(rows.values(),
                key=lambda r: r.rank)]  # fmt: skip

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        existing = self.orders.get(incoming.order_id)
        decision = decide(existing, incoming, ImportRules())
        if decision.action == CREATE:
            self.creates[incoming.order_id] = self.creates.get(incoming.order_id, 0) + 1
        if decision.action != IGNORE:
            lines = tuple(OrderLine(i.order_item_id, i.sku, i.quantity) for i in incoming.items)
            if existing is not None and not decision.names_lines:
                lines = existing.lines
            self.orders[incoming.order_id] = OrderSnapshot(
                amazon_order_id=incoming.order_id, marketplace_id=US, channel=incoming.channel, lines=lines,
                status=decision.status, amazon_status=incoming.status, amazon_last_updated=incoming.last_updated,
            )  # fmt: skip
        return UpsertResult(incoming.order_id, decision.action, decision.reason, decision.status)

    def held_orders(self, store: Store, order_ids: Sequence[str]) -> dict[str, HeldOrder]:
        return {
            i: HeldOrder(
                i, o.amazon_status, o.amazon_last_updated, units_of((x.sku, x.quantity) for x in o.lines)
            )
            for i, o in self.orders.items()
            if i in order_ids
        }


class Reports:
    """The Reports API of the order report: `states` are getReport's answers in turn (then DONE)."""

    def __init__(
        self, rows: Sequence[ReportedOrder], states: Sequence[str] = (), document: str | None = None
    ):
        self.rows, self.states, self.document = rows, list(states), document
        self.requested: list[datetime] = []
        self.downloads = 0

    def request_order_report(self, *, after: datetime, before: datetime | None = None) -> str:
        self.requested.append(after)
        return f"r{len(self.requested)}"

    def report_state(self, report_id: str) -> ReportState:
        status = self.states.pop(0) if self.states else "DONE"
        return ReportState(
            status, document_id="d1" if status == "DONE" else None, data_end="2026-07-10T11:58:00Z"
        )

    @contextmanager
    def open_report(self, document_id: str) -> Iterator[TextIO]:
        self.downloads += 1
        yield io.StringIO(self.document if self.document is not None else flat_file(self.rows))


class Amazon:
    """getOrder for any id; searchOrders (FBM only) over `pages`; Throttled after `get_budget` getOrders."""

    def __init__(self, pages: list[list[str]] | None = None, get_budget: int = 10**6, token: bool = False):
        self.pages = pages or []
        self.get_budget = get_budget
        self.got: list[str] = []
        self.searched: list[dict[str, Any]] = []

    def get_order(self, amazon_order_id: str) -> AmazonOrder:
        if len(self.got) >= self.get_budget:
            raise Throttled("getOrder", 2.0)
        self.got.append(amazon_order_id)
        return order(amazon_order_id)

    def search_orders(self, **params: Any) -> OrdersPage:
        self.searched.append(params)
        index = int(params.get("token") or 0)
        token = str(index + 1) if index + 1 < len(self.pages) else None
        return OrdersPage(tuple(order(i) for i in self.pages[index]) if self.pages else (), next_token=token,
                          last_updated_before="2026-07-10T11:58:00Z")  # fmt: skip

    def search_wait_time(self) -> float:
        return 7.0


class Ctx(JobContext):
    def save_cursor(self, cursor: dict[str, Any]) -> None:
        self.cursor = dict(cursor)


STORE = Store("m", "s", name="s", marketplace_id=US, region="NA", status="active", selling_partner_id="A1",
              settings=StoreSettings(), created_at=NOW)  # fmt: skip


def deps(table: Table, reports: Reports, amazon: Amazon) -> OrderPlannerDeps:
    door = ReconciliationDeps(reports_for=lambda _s: reports, held_orders=table.held_orders)
    return OrderPlannerDeps(upserter=table, amazon_for=lambda _s: amazon, reports=door,
                            fetch_list=table.fetch_list, clock=lambda: NOW)  # fmt: skip


def ctx_of(cursor: dict[str, Any] | None = None) -> Ctx:
    message = JobMessage(job="orders", mode="incremental", merchant_id="m", store_id="s")
    return Ctx(message, STORE, "t", cursor or {})


def run(
    table: Table, reports: Reports, amazon: Amazon, cursor: dict[str, Any] | None = None
) -> tuple[Any, Ctx]:
    ctx = ctx_of(cursor)
    return OrderPlanner(deps(table, reports, amazon), ctx).run(), ctx


def run_round(table: Table, reports: Reports, amazon: Amazon) -> tuple[Any, Ctx]:
    """The round to its end: asked for, then read (the report is done at the first getReport)."""
    _, ctx = run(table, reports, amazon)
    return run(table, reports, amazon, ctx.cursor)


def test_each_order_has_its_door_held_none_fba_and_closed_the_row_open_fbm_a_fetch_pending_left_out() -> None:
    held = {"same": HeldOrder("same", "UNSHIPPED", T0, (("SKU-A", 1),)),
            "changed": HeldOrder("changed", "UNSHIPPED", T0, (("SKU-A", 1),))}  # fmt: skip
    odd = ReportedOrder("odd", None, "Pending - Waiting for Pick Up", "FBM", T0, (("SKU-A", 1),))
    rows = [row("same"), row("changed", status="CANCELLED", updated="2026-07-10T11:00:00Z"),
            row("fba", "FBA"), row("new"), row("pending", status="PENDING"), odd,
            row("shipped", status="SHIPPED")]  # fmt: skip
    plan = plan_doors(rows, held, US, import_pending=False)
    assert plan.unchanged == 1 and plan.skipped == 1
    by_row = [(o.order_id, o.channel, o.status) for o in plan.from_report]
    assert by_row == [
        ("fba", "FBA", "UNSHIPPED"),
        ("shipped", "FBM", "SHIPPED"),
        ("changed", "FBM", "CANCELLED"),
    ]
    # an open merchant order needs its address; a status storesync cannot read is never taken from the row
    assert [o.order_id for o in plan.fetch] == ["new", "odd"]


def test_a_row_order_names_its_lines_by_sku_and_takes_amazons_items_once_read_whole() -> None:
    reported = ReportedOrder("o1", "SHIPPED", "Shipped", "FBA", T0, (("SKU-A", 2), ("SKU-B", 1)), T0)
    from_row = row_order(reported, US)
    assert [(i.order_item_id, i.sku, i.quantity, i.quantity_shipped) for i in from_row.items] == [
        ("report:SKU-A", "SKU-A", 2, 2), ("report:SKU-B", "SKU-B", 1, 1)]  # fmt: skip
    assert from_row.from_report and not from_row.read_whole and from_row.address is None
    created = decide(None, from_row, ImportRules())
    assert created.action == CREATE and not created.allocate  # FBA: no stock
    stored = OrderSnapshot(amazon_order_id="o1", marketplace_id=US, channel="FBA", status=created.status,
                           amazon_status="SHIPPED", amazon_last_updated=T0,
                           lines=tuple(OrderLine(i.order_item_id, i.sku, i.quantity) for i in from_row.items))  # fmt: skip
    whole = AmazonOrder(
        "o1",
        US,
        "SHIPPED",
        "FBA",
        T0,
        T0,
        (AmazonItem("111", "SKU-A", 2, 2), AmazonItem("112", "SKU-B", 1, 1)),
    )
    named = decide(stored, whole, ImportRules())
    assert (
        named.action == UPDATE
        and named.names_lines
        and not named.release_allocation
        and not named.remove_stock
    )
    same_row = decide(stored, from_row, ImportRules())  # the row again: nothing to do
    assert same_row.action == IGNORE


def test_a_report_not_ready_waits_and_the_round_keeps_its_window() -> None:
    table = Table()
    reports = Reports([row("o1")], states=["IN_PROGRESS"])
    outcome, ctx = run(table, reports, Amazon())
    assert outcome.continue_after and outcome.counts["order_reports_requested"] == 1
    outcome, ctx = run(table, reports, Amazon(), ctx.cursor)
    assert outcome.continue_after and reports.downloads == 0 and "last_complete" not in ctx.cursor
    assert ctx.cursor["round"]["report"]["status"] == "IN_PROGRESS" and len(reports.requested) == 1


@pytest.mark.parametrize("fault", ["CANCELLED", "FATAL", "unreadable"])
def test_a_failed_report_is_never_nothing_changed_it_is_retried_then_the_window_is_swept(fault: str) -> None:
    table = Table()
    states = [] if fault == "unreadable" else [fault] * 3
    reports = Reports(
        [row("o1")], states=states, document="no header here" if fault == "unreadable" else None
    )
    amazon = Amazon(pages=[["o1"]])
    import_deps = OrderImportDeps(upserter=table, amazon_for=lambda _s: amazon, clock=lambda: NOW,
                                  planner=deps(table, reports, amazon))  # fmt: skip
    ctx = ctx_of({"round": {"after": "2026-07-09T12:00:00Z", "attempt": 1}})
    codes: list[str] = []
    for attempt in (1, 2):
        OrderImport(import_deps, ctx).run()  # asks for the report
        outcome = OrderImport(import_deps, ctx).run()  # reads it: failed
        codes += [e.code for e in outcome.errors]
        assert not table.orders and "last_complete" not in ctx.cursor  # never "nothing changed"
        assert outcome.result == "error" and ctx.cursor["round"]["attempt"] == attempt + 1
        assert ctx.cursor["round"]["after"] == "2026-07-09T12:00:00Z" and not amazon.searched
    OrderImport(import_deps, ctx).run()
    outcome = OrderImport(import_deps, ctx).run()  # the third report fails: the window is swept at once
    codes += [e.code for e in outcome.errors]
    assert codes.count(NoticeCode.ORDER_REPORT_FAILED) == 3 and NoticeCode.ORDER_REPORT_GAVE_UP in codes
    assert len(reports.requested) == 3 and ctx.cursor["round"] is None
    assert amazon.searched[0]["after"] == "2026-07-09T12:00:00Z"  # the round's own window
    assert "o1" in table.orders and ctx.cursor["last_complete"] == "2026-07-10T11:58:00Z"


def test_a_round_stores_fba_from_the_report_and_fetches_fbm_by_both_doors_each_order_once() -> None:
    table = Table()
    fbm = [f"fbm-{n:03d}" for n in range(FETCH_SWEEP_THRESHOLD + 70)]
    rows = [row(i) for i in fbm] + [row("fba-1", "FBA")]
    amazon = Amazon(pages=[fbm[:50], fbm[50:]])
    outcome, ctx = run_round(table, Reports(rows), amazon)
    assert set(table.orders) == set(fbm) | {"fba-1"}
    assert all(n == 1 for n in table.creates.values())
    assert amazon.searched and all(p["fulfilled_by"] == ["MERCHANT"] for p in amazon.searched)
    assert outcome.counts["orders_swept"] + outcome.counts["orders_fetched"] == len(fbm)
    assert outcome.counts["orders_from_report"] == 1
    assert not set(amazon.got) & set(fbm[:50])  # what a page brought is not fetched again
    assert ctx.cursor["round"] is None and ctx.cursor["last_complete"] == "2026-07-10T11:58:00Z"
    assert table.orders["fba-1"].lines[0].order_item_id == "report:SKU-A"


def test_a_backlog_is_listed_whole_outside_the_cursor_and_fetched_by_both_doors_to_the_last_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fetch list is a table of its own (one row per order), so getOrder keeps working through a backlog of
    any size: here 3,000 orders to fetch (more than the cursor's old 2,000), the sweep's two pages bring the
    oldest 200, getOrder the rest (200 a slice), no order twice, and the cursor never carries the list."""
    monkeypatch.setattr(planner_module, "SLICE_SECONDS", 1e9)
    table = Table()
    fbm = [f"fbm-{n:04d}" for n in range(3_000)]
    amazon = Amazon(pages=[fbm[:100], fbm[100:200]])
    reports = Reports([row(i, updated=f"2026-07-10T{10 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z")
                       for n, i in enumerate(fbm)])  # fmt: skip
    outcome, ctx = run(table, reports, amazon)
    slices = 0
    while ctx.cursor.get("round"):
        outcome, ctx = run(table, reports, amazon, ctx.cursor)
        slices += 1
        assert len(json.dumps(ctx.cursor)) < 2_000  # the list is not in the cursor
        assert slices < 30
    assert set(table.orders) == set(fbm) and all(n == 1 for n in table.creates.values())
    assert len(amazon.searched) == 2 and not set(amazon.got) & set(fbm[:200])
    assert amazon.got[:3] == ["fbm-2999", "fbm-2998", "fbm-2997"]  # getOrder: newest first
    assert len(amazon.got) == 2_800 and table.listed() == []  # every row left the list once its order was in
    assert ctx.cursor["last_complete"] == "2026-07-10T11:58:00Z"


def test_listing_a_long_fetch_list_goes_on_where_the_last_slice_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slice whose time runs out while it writes the list hands over; the next one reads the report again and
    lists only what is left, and the round then fetches every order once."""
    monkeypatch.setattr(planner_module, "LIST_BATCH", 10)
    monkeypatch.setattr(planner_module, "SLICE_SECONDS", -1.0)  # every look at the time finds it out
    table = Table()
    fbm = [f"fbm-{n:02d}" for n in range(25)]
    reports = Reports([row(i) for i in fbm])
    amazon = Amazon()
    _, ctx = run(table, reports, amazon)  # asks for the report
    outcome, ctx = run(table, reports, amazon, ctx.cursor)
    assert outcome.continue_after == 0.0 and not ctx.cursor["round"].get("listed")
    assert 0 < len(table.listed()) < 25 and ctx.cursor["round"]["listed_to"].endswith(table.listed()[-1])
    for _ in range(60):  # out of time, a slice fetches one order
        if not ctx.cursor.get("round"):
            break
        outcome, ctx = run(table, reports, amazon, ctx.cursor)
    assert reports.downloads >= 2 and len(reports.requested) == 1
    assert sorted(amazon.got) == fbm and all(n == 1 for n in table.creates.values())


def test_an_order_stored_meanwhile_leaves_the_fetch_list_without_a_call() -> None:
    """Between the listing and its turn, a notification stores the order (a newer state): getOrder skips it."""
    table = Table()
    reports = Reports([row("o1"), row("o2")])
    amazon = Amazon(get_budget=0)
    _, ctx = run(table, reports, amazon)
    _, ctx = run(table, reports, amazon, ctx.cursor)  # listed; getOrder throttled
    assert table.listed() == ["o1", "o2"]
    table.upsert(STORE, order("o2", updated="2026-07-10T11:00:00Z"))  # a notification
    amazon.get_budget = 10
    outcome, ctx = run(table, reports, amazon, ctx.cursor)
    assert amazon.got == ["o1"] and outcome.counts["orders_already_in"] == 1 and table.listed() == []
    assert ctx.cursor["round"] is None


def test_a_throttled_get_order_keeps_the_rest_for_the_next_slice() -> None:
    table = Table()
    rows = [row(f"o{n}") for n in range(10)]
    reports = Reports(rows)
    _, ctx = run(table, reports, Amazon(get_budget=4))
    outcome, ctx = run(table, reports, Amazon(get_budget=4), ctx.cursor)
    assert outcome.continue_after == 2.0 and len(table.listed()) == 6
    outcome, ctx = run(table, reports, Amazon(), ctx.cursor)
    assert len(reports.requested) == 1 and reports.downloads == 1  # the planned round goes on
    assert len(table.orders) == 10 and ctx.cursor["round"] is None


def test_an_order_a_notification_stored_meanwhile_is_unchanged_at_the_next_round() -> None:
    table = Table()
    table.upsert(STORE, order("o1"))
    amazon = Amazon()
    outcome, _ = run_round(table, Reports([row("o1")]), amazon)
    assert amazon.got == [] and outcome.counts["orders_unchanged"] == 1 and table.creates == {"o1": 1}


# the order import hands a large window to planner rounds ------------------------------------------------------
def import_deps(table: Table, reports: Reports, amazon: Amazon, planner: bool = True) -> OrderImportDeps:
    return OrderImportDeps(upserter=table, amazon_for=lambda _s: amazon, clock=lambda: NOW,
                           planner=deps(table, reports, amazon) if planner else None)  # fmt: skip


def test_a_first_connect_with_history_becomes_planner_rounds_after_one_page() -> None:
    table = Table()
    history = [f"h{n}" for n in range(150)]
    reports = Reports([row(i) for i in history] + [row("fba-1", "FBA")])
    amazon = Amazon(pages=[history[:100], history[100:]])
    d = import_deps(table, reports, amazon)
    ctx = ctx_of()
    outcome = OrderImport(d, ctx).run()
    assert outcome.counts["pages"] == 1 and outcome.counts["windows_planned"] == 1
    assert ctx.cursor["incremental"] is None
    assert ctx.cursor["round"]["after"] == (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for _ in range(5):
        outcome = OrderImport(d, ctx).run()
        if not ctx.cursor.get("round"):
            break
    assert set(table.orders) == {*history, "fba-1"} and all(n == 1 for n in table.creates.values())
    assert len(reports.requested) == 1 and ctx.cursor["last_complete"] == "2026-07-10T11:58:00Z"
    assert len(amazon.got) + sum(len(p) for p in amazon.pages) >= 50  # the first page was not fetched again
    assert "h0" not in amazon.got


def test_a_small_window_or_no_planner_keeps_the_searchorders_sweep() -> None:
    recent = {"last_complete": (NOW - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    for cursor, planner in ((recent, True), ({}, False)):
        table, reports = Table(), Reports([])
        amazon = Amazon(pages=[[f"a{n}" for n in range(100)], ["b1"]])
        ctx = ctx_of(dict(cursor))
        outcome = OrderImport(import_deps(table, reports, amazon, planner), ctx).run()
        assert "windows_planned" not in outcome.counts and not reports.requested
        assert len(table.orders) == 101 and ctx.cursor.get("round") is None


def test_the_sweep_lists_only_open_merchant_orders_what_the_fetch_list_can_hold() -> None:
    """Closed orders come from the report's rows: a sweep page listing them would spend searchOrders' quota
    (20 pages an hour) on orders no fetch waits for."""
    table = Table()
    fbm = [f"fbm-{n:03d}" for n in range(FETCH_SWEEP_THRESHOLD + 10)]
    amazon = Amazon(pages=[fbm])
    run_round(table, Reports([row(i) for i in fbm] + [row("shipped", status="SHIPPED")]), amazon)
    assert amazon.searched and all(
        # what the fetch list can hold: every released status but the closed ones the report's rows store
        sorted(p["statuses"]) == ["PARTIALLY_SHIPPED", "UNFULFILLABLE", "UNSHIPPED"]
        and p["fulfilled_by"] == ["MERCHANT"]
        for p in amazon.searched
    )
    assert set(table.orders) == set(fbm) | {"shipped"}


def test_a_round_ends_by_the_sweep_when_notifications_take_every_get_order_token() -> None:
    """A handful of orders to fetch (fewer than getOrder's burst) while ORDER_CHANGE notifications, which come
    first, take every getOrder token: the searchOrders sweep brings them and the round ends."""
    table = Table()
    fbm = [f"fbm-{n}" for n in range(5)]
    amazon = Amazon(pages=[fbm], get_budget=0)
    outcome, ctx = run_round(table, Reports([row(i) for i in fbm]), amazon)
    assert outcome.continue_after and not amazon.searched and len(table.listed()) == 5
    outcome, ctx = run(table, Reports([]), amazon, ctx.cursor)  # the next slice: getOrder still taken
    assert set(table.orders) == set(fbm) and outcome.counts["orders_swept"] == 5 and amazon.got == []
    assert ctx.cursor["round"] is None and ctx.cursor["last_complete"]


def test_get_order_free_a_small_round_spends_no_sweep_page() -> None:
    table = Table()
    fbm = [f"fbm-{n}" for n in range(5)]
    amazon = Amazon(pages=[fbm])
    run_round(table, Reports([row(i) for i in fbm]), amazon)
    assert set(table.orders) == set(fbm) and amazon.searched == [] and sorted(amazon.got) == fbm


# a peak: rounds follow each other ---------------------------------------------------------------------------------
def test_a_round_with_more_than_a_page_to_bring_is_a_peak_and_the_next_round_follows_within_ten_minutes() -> (
    None
):
    table = Table()
    rows = [row(f"fbm-{n:03d}") for n in range(planner_module.PEAK_ORDERS + 1)]
    outcome, ctx = run_round(table, Reports(rows), Amazon())
    assert ctx.cursor["round"] is None and ctx.cursor["peak"] is True
    assert outcome.follow_up_after == planner_module.PEAK_ROUND_EVERY  # the test clock stands still

    # the order import's next run (the follow-up, or the schedule) starts a round at once, no sweep first
    amazon = Amazon(pages=[["x"]])
    reports = Reports([row("fbm-new", updated="2026-07-10T11:59:00Z")])
    OrderImport(import_deps(table, reports, amazon), ctx).run()
    assert len(reports.requested) == 1 and not amazon.searched
    assert reports.requested[0] == datetime(
        2026, 7, 10, 11, 53, tzinfo=UTC
    )  # the last round's end, less 5 min
    outcome = OrderImport(import_deps(table, reports, amazon), ctx).run()
    assert "fbm-new" in table.orders and ctx.cursor["peak"] is False  # one order: the peak is over
    assert outcome.follow_up_after is None and ctx.cursor["round"] is None

    # then the sweeps take over again
    OrderImport(import_deps(table, reports, amazon), ctx).run()
    assert amazon.searched and len(reports.requested) == 1


def test_when_notifications_keep_every_get_order_token_the_round_ends_and_its_list_goes_to_the_next_round() -> (
    None
):
    """Above what getOrder serves, ORDER_CHANGE notifications come first and take every token. Once the sweep has
    read the window, the round does not wait for a token that does not come: after STARVED_SLICES empty slices
    it ends, its orders still to fetch carried to the next round; none is dropped, and the next round (a peak,
    so it follows at once) fetches them when getOrder is free again."""
    table = Table()
    later = "2026-07-10T11:00:00Z"  # updated after the sweep's window: no page lists them
    rows = [row(f"fbm-{n}") for n in range(3)] + [row(f"late-{n}", updated=later) for n in range(2)]
    amazon = Amazon(pages=[[f"fbm-{n}" for n in range(3)]], get_budget=0)
    reports = Reports(rows)
    _, ctx = run(table, reports, amazon)  # asks for the report
    outcomes = []
    for _ in range(planner_module.STARVED_SLICES + 1):
        outcome, ctx = run(table, reports, amazon, ctx.cursor)
        outcomes.append(outcome)
        if not ctx.cursor["round"]:
            break
    assert ctx.cursor["round"] is None and outcomes[-1].counts["fetch_lists_carried"] == 1
    assert {f"fbm-{n}" for n in range(3)} <= set(table.orders) and "late-0" not in table.orders
    assert sorted(table.listed()) == ["late-0", "late-1"] and ctx.cursor["carried_list"]
    assert ctx.cursor["peak"] is True and outcomes[-1].follow_up_after is not None
    assert ctx.cursor["last_complete"] == "2026-07-10T11:58:00Z"

    # the next round adopts the list, adds its own report's orders, and getOrder is free again
    amazon.get_budget = 10**6
    reports.rows = [row("fresh", updated="2026-07-10T11:59:00Z")]
    outcome = OrderImport(import_deps(table, reports, amazon), ctx).run()  # the round asks for its report
    assert "carried_list" not in ctx.cursor and ctx.cursor["round"]["list"]
    OrderImport(import_deps(table, reports, amazon), ctx).run()
    assert {"late-0", "late-1", "fresh"} <= set(table.orders) and table.listed() == []
    assert ctx.cursor["round"] is None and "carried_list" not in ctx.cursor
    assert all(n == 1 for n in table.creates.values())


def test_a_peak_round_asks_for_the_next_rounds_report_while_it_fetches_so_the_next_round_starts_at_once() -> (
    None
):
    """Amazon takes minutes to make a report; a peak round asks for the next one NEXT_REPORT_AFTER into its own
    fetching (getOrder would idle waiting otherwise), once, and the next round reads it without asking again."""
    table = Table()
    clock = [NOW]
    reports = Reports([row(f"fbm-{n:03d}") for n in range(planner_module.PEAK_ORDERS + 50)])
    amazon = Amazon(get_budget=20)
    door = ReconciliationDeps(reports_for=lambda _s: reports, held_orders=table.held_orders)
    planner_deps = OrderPlannerDeps(upserter=table, amazon_for=lambda _s: amazon, reports=door,
                                    fetch_list=table.fetch_list, clock=lambda: clock[0])  # fmt: skip
    ctx = ctx_of()
    OrderPlanner(planner_deps, ctx).run()  # asks for this round's report
    OrderPlanner(planner_deps, ctx).run()  # reads it, lists 150, fetches 20 (getOrder's budget)
    assert len(reports.requested) == 1 and "next_report" not in ctx.cursor
    clock[0] = NOW + timedelta(seconds=planner_module.NEXT_REPORT_AFTER)
    amazon.get_budget = 60
    outcome = OrderPlanner(planner_deps, ctx).run()
    assert len(reports.requested) == 2 and outcome.counts["order_reports_requested"] == 1
    asked = ctx.cursor["next_report"]
    assert (
        asked["after"] == "2026-07-10T11:53:00Z" and asked["report_id"] == "r2"
    )  # this round's end less 5 min
    amazon.get_budget = 10**6
    OrderPlanner(planner_deps, ctx).run()  # the round ends
    assert ctx.cursor["round"] is None and len(reports.requested) == 2  # asked once
    reports.rows = [row("next-1", updated="2026-07-10T11:59:00Z")]
    downloads = reports.downloads
    outcome = OrderPlanner(planner_deps, ctx).run()  # the next round: its report is done, read at once
    assert len(reports.requested) == 2 and reports.downloads == downloads + 1 and "next-1" in table.orders
    assert "next_report" not in ctx.cursor and ctx.cursor["round"] is None


def test_a_round_that_took_over_a_starved_list_does_not_ask_the_next_report_early() -> None:
    """Notifications hold getOrder: the sweep is the planner's door, and the early report's shorter windows would
    spend its pages on the overlap; the round asks for its report when it ends, as a round without a peak."""
    table = Table()
    table.fetch_list.add("s#old", [row("left-1")])
    reports = Reports([row(f"fbm-{n:03d}") for n in range(planner_module.PEAK_ORDERS + 50)])
    clock = [NOW]
    amazon = Amazon(get_budget=0)
    door = ReconciliationDeps(reports_for=lambda _s: reports, held_orders=table.held_orders)
    planner_deps = OrderPlannerDeps(upserter=table, amazon_for=lambda _s: amazon, reports=door,
                                    fetch_list=table.fetch_list, clock=lambda: clock[0])  # fmt: skip
    ctx = ctx_of({"carried_list": "s#old", "last_complete": "2026-07-10T11:00:00Z"})
    OrderPlanner(planner_deps, ctx).run()
    assert ctx.cursor["round"]["list"] == "s#old" and ctx.cursor["round"]["carried"]
    OrderPlanner(planner_deps, ctx).run()  # reads and lists
    clock[0] = NOW + timedelta(seconds=planner_module.NEXT_REPORT_AFTER)
    OrderPlanner(planner_deps, ctx).run()
    assert len(reports.requested) == 1 and "next_report" not in ctx.cursor


def test_the_sweep_starts_at_the_oldest_order_to_fetch_not_in_the_overlap_with_the_last_round() -> None:
    table = Table()
    table.upsert(STORE, order("old", updated="2026-07-10T09:58:00Z"))  # the last round's: in the overlap
    fbm = [f"fbm-{n:03d}" for n in range(FETCH_SWEEP_THRESHOLD + 10)]
    rows = [row("old", updated="2026-07-10T09:58:00Z")] + [
        row(i, updated="2026-07-10T10:30:00Z") for i in fbm
    ]
    amazon = Amazon(pages=[fbm])
    ctx = ctx_of({"last_complete": "2026-07-10T10:00:00Z"})
    reports = Reports(rows)
    OrderPlanner(deps(table, reports, amazon), ctx).run()
    OrderPlanner(deps(table, reports, amazon), ctx).run()
    assert amazon.searched and amazon.searched[0]["after"] == "2026-07-10T10:29:59Z"
    assert set(fbm) <= set(table.orders)
