"""The order planner with fakes (no AWS, no HTTP): which door brings which order, a report that is not ready or
failed, the two fetch doors sharing the list, throttling mid-round, and no order created twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from storesync.amazon.errors import AmazonError, Throttled
from storesync.amazon.orders import OrdersPage
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.orders import (
    CREATE,
    IGNORE,
    AmazonItem,
    AmazonOrder,
    ImportRules,
    OrderSnapshot,
    decide,
)
from storesync.jobs import JobMessage
from storesync.usecases.order_planner import (
    FETCH_SWEEP_THRESHOLD,
    OrderPlanner,
    OrderPlannerDeps,
    ReportRow,
    plan_doors,
)
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.runner import JobContext

US = "ATVPDKIKX0DER"
NOW = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
T0 = "2026-07-10T10:00:00Z"


def row(
    order_id: str, fulfilled_by: str = "MERCHANT", status: str = "UNSHIPPED", updated: str = T0
) -> ReportRow:
    return ReportRow(order_id, status, fulfilled_by, T0, updated, ((f"{order_id}-1", "SKU-A", 1),))


def order(order_id: str, status: str = "UNSHIPPED", updated: str = T0) -> AmazonOrder:
    return AmazonOrder(order_id, US, status, "FBM", T0, updated, (AmazonItem(f"{order_id}-1", "SKU-A", 1),),
                       address={"city": "Seattle"})  # fmt: skip


class Table:
    """The orders table through the state machine; counts creations per order."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderSnapshot] = {}
        self.creates: dict[str, int] = {}

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        decision = decide(self.orders.get(incoming.order_id), incoming, ImportRules())
        if decision.action == CREATE:
            self.creates[incoming.order_id] = self.creates.get(incoming.order_id, 0) + 1
        if decision.action != IGNORE:
            self.orders[incoming.order_id] = OrderSnapshot(
                amazon_order_id=incoming.order_id, marketplace_id=US, channel=incoming.channel,
                status=decision.status, amazon_status=incoming.status, amazon_last_updated=incoming.last_updated,
            )  # fmt: skip
        return UpsertResult(incoming.order_id, decision.action, decision.reason, decision.status)

    def held(self, store: Store, order_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        return {i: (o.amazon_status, o.amazon_last_updated) for i, o in self.orders.items() if i in order_ids}


class Reports:
    def __init__(self, rows: list[ReportRow] | None, fail: Exception | None = None) -> None:
        self.rows, self.fail, self.asked = rows, fail, 0

    def window_rows(
        self, store: Store, after: str, before: str, state: dict[str, Any]
    ) -> list[ReportRow] | None:
        self.asked += 1
        if self.fail is not None:
            raise self.fail
        return self.rows


class Amazon:
    """getOrder for any id; searchOrders (FBM only) over `pages`; Throttled after `get_budget` getOrders."""

    def __init__(self, pages: list[list[str]] | None = None, get_budget: int = 10**6) -> None:
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
        return OrdersPage([order(i) for i in self.pages[index]] if self.pages else [], token)


class Ctx(JobContext):
    def save_cursor(self, cursor: dict[str, Any]) -> None:
        self.cursor = dict(cursor)


STORE = Store("m", "s", name="s", marketplace_id=US, region="NA", status="active", selling_partner_id="A1",
              settings=StoreSettings(), created_at=NOW)  # fmt: skip


def run(
    table: Table, reports: Reports, amazon: Amazon, cursor: dict[str, Any] | None = None
) -> tuple[Any, Ctx]:
    deps = OrderPlannerDeps(upserter=table, amazon_for=lambda _s: amazon, reports=reports, held=table,
                            clock=lambda: NOW)  # fmt: skip
    ctx = Ctx(
        JobMessage(job="orders", mode="incremental", merchant_id="m", store_id="s"), STORE, "t", cursor or {}
    )
    return OrderPlanner(deps, ctx).run(), ctx


def test_each_order_has_its_door_held_none_fba_and_closed_the_row_open_fbm_a_fetch_pending_left_out() -> None:
    held = {"same": ("UNSHIPPED", T0), "changed": ("UNSHIPPED", T0)}
    rows = [row("same"), row("changed", status="CANCELLED", updated="2026-07-10T11:00:00Z"),
            row("fba", "AMAZON"), row("new"), row("pending", status="PENDING")]  # fmt: skip
    plan = plan_doors(rows, held, US, import_pending=False)
    assert plan.unchanged == 1 and plan.skipped == 1
    assert [(o.order_id, o.channel) for o in plan.from_report] == [("fba", "FBA"), ("changed", "FBM")]
    assert plan.fetch == ["new"]  # an open merchant order needs its address: fetched


def test_a_report_not_ready_waits_and_a_failed_report_is_never_nothing_changed() -> None:
    table = Table()
    outcome, ctx = run(table, Reports(None), Amazon())
    assert outcome.continue_after and ctx.cursor["round"] and "last_complete" not in ctx.cursor
    with pytest.raises(AmazonError):
        run(table, Reports(None, fail=AmazonError("report CANCELLED")), Amazon(), ctx.cursor)
    assert "last_complete" not in ctx.cursor and ctx.cursor["round"]["after"]  # the window is kept


def test_a_round_stores_fba_from_the_report_and_fetches_fbm_by_both_doors_each_order_once() -> None:
    table = Table()
    fbm = [f"fbm-{n:03d}" for n in range(FETCH_SWEEP_THRESHOLD + 70)]
    rows = [row(i) for i in fbm] + [row("fba-1", "AMAZON")]
    amazon = Amazon(pages=[fbm[:50], fbm[50:]])
    outcome, ctx = run(table, Reports(rows), amazon)
    assert set(table.orders) == set(fbm) | {"fba-1"}
    assert all(n == 1 for n in table.creates.values())
    assert amazon.searched and all(p["fulfilled_by"] == ["MERCHANT"] for p in amazon.searched)
    assert outcome.counts["orders_swept"] + outcome.counts["orders_fetched"] == len(fbm)
    assert outcome.counts["orders_from_report"] == 1
    assert not set(amazon.got) & set(fbm[:50])  # what a page brought is not fetched again
    assert ctx.cursor["round"] is None and ctx.cursor["last_complete"] == "2026-07-10T11:58:00Z"


def test_a_throttled_get_order_keeps_the_rest_for_the_next_slice() -> None:
    table = Table()
    rows = [row(f"o{n}") for n in range(10)]
    outcome, ctx = run(table, Reports(rows), Amazon(get_budget=4))
    assert outcome.continue_after == 2.0 and len(ctx.cursor["round"]["fetch"]) == 6
    reports = Reports(rows)
    outcome, ctx = run(table, reports, Amazon(), ctx.cursor)
    assert reports.asked == 0  # the planned round goes on, the report is not asked again
    assert len(table.orders) == 10 and ctx.cursor["round"] is None


def test_an_order_a_notification_stored_meanwhile_is_unchanged_at_the_next_round() -> None:
    table = Table()
    table.upsert(STORE, order("o1"))
    _, ctx = run(table, Reports([row("o1")]), Amazon())
    amazon = Amazon()
    outcome, _ = run(table, Reports([row("o1")]), amazon)
    assert amazon.got == [] and outcome.counts["orders_unchanged"] == 1 and table.creates == {"o1": 1}


def test_the_sweep_lists_only_open_merchant_orders_what_the_fetch_list_can_hold() -> None:
    """Closed orders come from the report's rows: a sweep page listing them would spend searchOrders' quota
    (20 pages an hour) on orders no fetch waits for."""
    table = Table()
    fbm = [f"fbm-{n:03d}" for n in range(FETCH_SWEEP_THRESHOLD + 10)]
    amazon = Amazon(pages=[fbm])
    run(table, Reports([row(i) for i in fbm] + [row("shipped", status="SHIPPED")]), amazon)
    assert amazon.searched and all(
        p["statuses"] == ["PARTIALLY_SHIPPED", "UNSHIPPED"] and p["fulfilled_by"] == ["MERCHANT"]
        for p in amazon.searched
    )
    assert set(table.orders) == set(fbm) | {"shipped"}


def test_a_round_ends_by_the_sweep_when_notifications_take_every_get_order_token() -> None:
    """A handful of orders to fetch (fewer than getOrder's burst) while ORDER_CHANGE notifications, which come
    first, take every getOrder token: the searchOrders sweep brings them and the round ends."""
    table = Table()
    fbm = [f"fbm-{n}" for n in range(5)]
    amazon = Amazon(pages=[fbm], get_budget=0)
    outcome, ctx = run(table, Reports([row(i) for i in fbm]), amazon)
    assert outcome.continue_after and not amazon.searched and len(ctx.cursor["round"]["fetch"]) == 5
    outcome, ctx = run(table, Reports([]), amazon, ctx.cursor)  # the next slice: getOrder still taken
    assert set(table.orders) == set(fbm) and outcome.counts["orders_swept"] == 5 and amazon.got == []
    assert ctx.cursor["round"] is None and ctx.cursor["last_complete"]


def test_get_order_free_a_small_round_spends_no_sweep_page() -> None:
    table = Table()
    fbm = [f"fbm-{n}" for n in range(5)]
    amazon = Amazon(pages=[fbm])
    run(table, Reports([row(i) for i in fbm]), amazon)
    assert set(table.orders) == set(fbm) and amazon.searched == [] and sorted(amazon.got) == fbm
