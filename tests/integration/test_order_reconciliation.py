"""The catch-up as a reconciliation against the simulator + moto, through the real OrderImportFunction handler:
one order report for the window, only the orders that differ fetched (getOrder), no searchOrders page; and a
report that ends CANCELLED or FATAL never counts as "nothing changed" (the window is swept in the end)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import order_import_support as support
import pytest
from fixtures_stores import ACME, US, issue_refresh_token, sim_factory
from spapi_simulator.catalog import SkuLine
from spapi_simulator.sellers import DemoSeller
from spapi_simulator.testing import admin, fault_mode
from spapi_simulator.world import Order, OrderItem
from storesync.amazon.order_reports import SpApiOrderReports
from storesync.amazon.orders import AmazonOrders
from storesync.clock import iso
from storesync.dal import job_state
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.orders import AmazonOrder
from storesync.domain.reconciliation import HeldOrder, units_of
from storesync.usecases.order_reconciliation import Reconciliation, ReconciliationDeps
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.runner import JobOutcome


def sim_order(order_id: str, when: float, line: SkuLine, seller: DemoSeller) -> Order:
    item = OrderItem(f"{order_id[-7:]}01", line.sku, line.asin, line.title, 1, line.price)
    return Order(order_id, seller.seller_id, US, when, when, "UNSHIPPED", "MERCHANT", [item], {}, "", "USD")


def held_as_amazon(order: Order) -> HeldOrder:
    updated = iso(datetime.fromtimestamp(order.updated, tz=UTC))
    return HeldOrder(
        order.order_id, order.status, updated, units_of((i.sku, i.quantity) for i in order.items)
    )


def connected_like() -> Store:
    return Store("m", "s", name="s", marketplace_id=US, region="NA", status="active", settings=StoreSettings(),
                 created_at=datetime.now(UTC))  # fmt: skip


class Recorder:
    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        self.ids.append(incoming.order_id)
        return UpsertResult(incoming.order_id, "update", "differs", "open")


def calls(h: support.OrderImportHarness) -> dict[str, int]:
    return dict(support.admin(h.sim, "GET", "stats")["calls"])


def in_sync_store(h: support.OrderImportHarness, orders: int) -> tuple[Any, list[str], list[str]]:
    """A store holding `orders` orders as Amazon has them (imported by polling), and its FBM SKUs."""
    store, fbm = support.stocked_store(h, 100)
    ids = [support.new_order(h.sim, {fbm[n % 3]: 1 + n % 2}) for n in range(orders)]
    h.drain("OrderNotificationsQueue")
    h.advance()
    h.poll(store)
    assert sorted(o.amazon_order_id for o in support.orders_of(store)) == sorted(ids)
    return store, fbm, ids


def test_the_catchup_reads_one_report_and_fetches_only_what_differs(h: support.OrderImportHarness):
    store, fbm, ids = in_sync_store(h, 12)
    # while storesync looks away (notifications lost): one order cancelled, one shipped, two new ones
    support.admin(h.sim, "POST", f"orders/{ids[0]}/cancel")
    support.admin(h.sim, "POST", f"orders/{ids[1]}/ship")
    new = [
        support.new_order(h.sim, {fbm[0]: 1}),
        support.new_order(h.sim, {fbm[1]: 2}, fulfilled_by="MERCHANT"),
    ]
    h.drain("OrderNotificationsQueue")
    h.advance()
    support.admin(h.sim, "POST", "stats/reset")

    h.catch_up(store)

    used = calls(h)
    assert used.get("createReport") == 1 and used.get("getReportDocument") == 1
    assert used.get("getOrder") == 4  # the four orders that differ, nothing else
    assert "searchOrders" not in used
    held = {o.amazon_order_id: o for o in support.orders_of(store)}
    assert set(held) == {*ids, *new}
    assert held[ids[0]].amazon_status == "CANCELLED" and held[ids[1]].amazon_status == "SHIPPED"
    [counted] = [c for c in (r.counts.as_dict() for r in h.runs(store)) if c.get("orders_in_report")]
    assert counted["orders_in_report"] == 14 and counted["orders_differing"] == 4
    cursor = job_state.load_cursor(store.store_id, "orders")
    assert cursor["reconcile"] is None and cursor["reconciled"]["reported"] == 14

    support.admin(h.sim, "POST", "stats/reset")
    h.advance()
    h.catch_up(store)  # in sync now: the report calls and not one order fetched
    used = calls(h)
    assert "getOrder" not in used and "searchOrders" not in used and used.get("createReport") == 1


@pytest.mark.parametrize("mode", ["report_cancelled", "report_fatal"])
def test_a_cancelled_or_fatal_report_never_counts_as_nothing_changed(
    h: support.OrderImportHarness, mode: str
):
    store, fbm, ids = in_sync_store(h, 3)
    missed = support.new_order(h.sim, {fbm[0]: 1})
    support.admin(h.sim, "POST", f"orders/{ids[0]}/cancel")
    h.drain("OrderNotificationsQueue")
    h.advance()
    fault_mode(h.sim, mode, 1.0)
    support.admin(h.sim, "POST", "stats/reset")

    h.catch_up(store)

    used = calls(h)
    assert used.get("createReport") == 3  # three reports asked for, each ended without data
    assert "getReportDocument" not in used or mode == "report_fatal"
    assert used.get("searchOrders", 0) >= 1  # then the window was swept: the orders are in
    held = {o.amazon_order_id: o for o in support.orders_of(store)}
    assert missed in held and held[ids[0]].amazon_status == "CANCELLED"
    logged = [e for r in h.runs(store) for e in (r.errors or [])]
    codes = [e.code for e in logged]
    assert codes.count("order_report_failed") == 3 and "order_report_gave_up" in codes
    status = "CANCELLED" if mode == "report_cancelled" else "FATAL"
    assert any(status in e.message for e in logged if e.code == "order_report_failed")


def test_a_window_of_10000_orders_with_20_differences_costs_a_few_report_calls_and_20_getorders(
    spapi_sim_factory: Any,
):
    """The adapters the Lambda uses, over HTTP to a simulator whose window holds 10,000 orders of the store's
    marketplace; storesync holds them all as Amazon has them but 20 (10 missing, 10 in an older status)."""
    sim = spapi_sim_factory(orders=0, report_seconds=0, quota_scale=1.0)
    seller = sim.world.sellers[ACME]
    clock = sim.clock.time()
    assert not sim.world.orders.by_id  # no generated orders: the window is made here
    line = sim.world.catalog.sku_line(ACME, US, next(x.sku for x in sim.world.catalog.listings(ACME, US)))
    for n in range(10_000):
        when = clock - 2 * 86400 + n * 10.0
        sim.world.add_order(sim_order(f"{100 + n % 900}-{1_000_000 + n}-{2_000_000 + n}", when, line, seller))
    truth = list(sim.world.orders.by_id.values())
    held = {o.order_id: held_as_amazon(o) for o in truth}
    for order in truth[:10]:
        del held[order.order_id]
    for order in truth[10:20]:
        held[order.order_id] = replace(held[order.order_id], amazon_status="PENDING",
                                       amazon_last_updated="2020-01-01T00:00:00Z")  # fmt: skip
    session = sim_factory(sim).for_store(US, ACME, issue_refresh_token(sim, ACME))
    admin(sim, "POST", "reports/settings", {"compression": "GZIP"})  # read gunzipped on the fly, as Amazon's
    upserted: list[str] = []
    deps = ReconciliationDeps(
        reports_for=lambda _s: SpApiOrderReports(session),
        held_orders=lambda _s, ids: {i: held[i] for i in ids if i in held},
    )
    admin(sim, "POST", "stats/reset")
    cursor: dict[str, Any] = {}
    outcome = JobOutcome()
    for _ in range(5):
        outcome = JobOutcome()
        reconciliation = Reconciliation(
            deps, connected_like(), cursor, lambda: None, outcome, AmazonOrders(session),
            Recorder(upserted), lambda _r: None, lambda: sim.clock.now(), timedelta(days=3), 30.0,
        )  # fmt: skip
        reconciliation.run()
        if not cursor.get("reconcile"):
            break
    used = dict(admin(sim, "GET", "stats")["calls"])
    total = sum(used.values())
    print(f"\ncatch-up of a 10,000-order window with 20 differences: {total} SP-API calls {used}")
    assert outcome.counts["orders_in_report"] == 10_000 and outcome.counts["orders_differing"] == 20
    assert sorted(upserted) == sorted(o.order_id for o in truth[:20])
    assert used["getOrder"] == 20 and "searchOrders" not in used
    assert total <= 30
