"""The order planner wired into the order import, against the simulator + moto through the real
OrderImportFunction handler: a store connecting with a backlog reads it by planner rounds (one order report, FBA
and closed orders from their rows, open merchant orders by getOrder and searchOrders), every order once, stock
allocated once; an order stored from its row takes Amazon's items when read whole; and a report that ends
CANCELLED or FATAL never counts as "nothing changed" (retried, then the window is swept)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import order_import_support as support
import pytest
from spapi_simulator.testing import fault_mode
from storesync.clock import iso
from storesync.dal import job_state
from storesync.dal.fetch_lists import FetchListEntry
from storesync.dal.job_state import JobState
from storesync.dal.stores import Store

FBM_OPEN = 110  # more than one searchOrders page: the first connect's window is a backlog


def calls(h: support.OrderImportHarness) -> dict[str, int]:
    return dict(support.admin(h.sim, "GET", "stats")["calls"])


def import_until_done(h: support.OrderImportHarness, store: Store, limit: int = 60) -> list[Any]:
    """The order import from its schedule to its end: every continuation runs (its delay skipped) with Amazon's
    clock moved on between slices (the order report gets done, the quota refills)."""
    answers = [h.handler(h.job_event(store), h.context)]
    for _ in range(limit):
        cursor = job_state.load_cursor(store.store_id, "orders")
        if cursor.get("last_complete") and not cursor.get("round") and not cursor.get("incremental"):
            return answers
        h.drain("OrderImportQueue")
        h.advance(max(30.0, float(h.sim.config.report_seconds)))
        answers.append(h.handler(h.job_event(store, trigger="continuation"), h.context))
    raise AssertionError(f"the order import did not end in {limit} slices")


def backlog(
    h: support.OrderImportHarness, fba: int = 6, shipped: int = 3, cancelled: int = 1
) -> tuple[Store, list[str], dict[str, list[str]]]:
    """A store connecting to a seller with a backlog: open merchant orders, FBA orders, shipped merchant
    orders and a cancelled one (their notifications lost)."""
    store, fbm = support.stocked_store(h, 1_000)
    _, fba_skus = support.sim_skus(h.sim)
    orders = {
        "open": [support.new_order(h.sim, {fbm[0]: 1}) for _ in range(FBM_OPEN)],
        "fba": [support.new_order(h.sim, {fba_skus[0]: 2}, fulfilled_by="AMAZON") for _ in range(fba)],
        "shipped": [support.new_order(h.sim, {fbm[0]: 1}) for _ in range(shipped)],
        "cancelled": [support.new_order(h.sim, {fbm[0]: 1}) for _ in range(cancelled)],
    }
    for order_id in orders["shipped"]:
        support.admin(h.sim, "POST", f"orders/{order_id}/ship")
    for order_id in orders["cancelled"]:
        support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
    h.drain("OrderNotificationsQueue")
    h.advance()
    support.admin(h.sim, "POST", "stats/reset")
    return store, fbm, orders


def test_a_backlog_at_connect_is_read_by_planner_rounds_each_order_once_fba_and_closed_from_the_report(
    h: support.OrderImportHarness,
):
    store, fbm, orders = backlog(h)

    import_until_done(h, store)

    used = calls(h)
    assert used.get("createReport") == 1 and used.get("getReportDocument") == 1
    held = {o.amazon_order_id: o for o in support.orders_of(store)}
    # first seen cancelled: not created
    assert set(held) == {*orders["open"], *orders["fba"], *orders["shipped"]}
    # the open ones fetched (the first page of the sweep brought 100 before the window went to the planner)
    assert used.get("getOrder", 0) + 100 * used.get("searchOrders", 0) >= FBM_OPEN - 100
    assert used.get("getOrder", 0) <= FBM_OPEN  # never the FBA or closed ones
    for order_id in orders["fba"]:
        assert held[order_id].channel == "FBA" and [i.order_item_id for i in held[order_id].items] == [
            f"report:{held[order_id].items[0].sku}"
        ]
    for order_id in orders["shipped"]:
        assert held[order_id].status == "shipped_externally" and not held[order_id].items[0].allocations
    for order_id in orders["open"]:
        order = held[order_id]
        assert order.status == "open" and order.has_address  # read whole: the address is there
        assert not order.items[0].order_item_id.startswith("report:")
    # stock allocated once per open order, whatever door brought it
    assert support.level(support.MERCHANT, fbm[0]) == (1_000, FBM_OPEN)
    runs = [r.counts.as_dict() for r in h.runs(store)]
    assert sum(r.get("windows_planned", 0) for r in runs) == 1
    from_rows = len(orders["fba"]) + len(orders["shipped"])
    assert sum(r.get("orders_created", 0) for r in runs) == FBM_OPEN + from_rows
    assert sum(r.get("orders_from_report", 0) for r in runs) == from_rows + 1  # + the cancelled one (ignored)
    # the fetch list lived in its own table, not in the cursor: listed, then emptied as the orders came in
    assert sum(r.get("orders_listed", 0) for r in runs) >= FBM_OPEN - 100
    assert list(FetchListEntry.scan(consistent_read=True)) == []

    # read whole later (a notification): the FBA order's lines take Amazon's items, once; no stock moves
    fba = orders["fba"][0]
    support.admin(h.sim, "POST", f"orders/{fba}/ship")
    h.advance()
    h.deliver_notifications()
    stored = support.stored(store, fba)
    amazon = support.fetch_amazon_order(store, fba)
    assert [(i.order_item_id, i.sku, int(i.quantity)) for i in stored.items] == [
        (i.order_item_id, i.sku, i.quantity) for i in amazon.items
    ]
    assert stored.amazon_status == "SHIPPED"
    assert support.level(support.MERCHANT, fbm[0]) == (1_000, FBM_OPEN)

    # the next run is an ordinary sweep of a small window
    support.admin(h.sim, "POST", "stats/reset")
    h.advance()
    h.poll(store)
    used = calls(h)
    assert "createReport" not in used and 1 <= used.get("searchOrders", 0) <= 2


def test_after_a_long_outage_orders_closed_meanwhile_come_from_the_report_and_give_their_stock_back_once(
    h: support.OrderImportHarness,
):
    store, fbm = support.stocked_store(h, 1_000)
    held_open = [support.new_order(h.sim, {fbm[0]: 2}) for _ in range(5)]
    h.drain("OrderNotificationsQueue")
    h.advance()
    h.poll(store)
    assert support.level(support.MERCHANT, fbm[0]) == (1_000, 10)
    # three hours without storesync (notifications lost): two shipped outside the WMS, one cancelled, a backlog
    new = [support.new_order(h.sim, {fbm[0]: 1}) for _ in range(FBM_OPEN)]
    h.advance(
        5.0
    )  # the changes are the newest: past the first page the sweep reads before the planner takes over
    for order_id in held_open[:2]:
        support.admin(h.sim, "POST", f"orders/{order_id}/ship")
    support.admin(h.sim, "POST", f"orders/{held_open[2]}/cancel")
    h.drain("OrderNotificationsQueue")
    h.advance()
    cursor = job_state.load_cursor(store.store_id, "orders")
    cursor["last_complete"] = iso(datetime.now(UTC) - timedelta(hours=3))
    JobState(store.store_id, "orders").update(actions=[JobState.cursor.set(cursor)])
    support.admin(h.sim, "POST", "stats/reset")

    import_until_done(h, store)

    used = calls(h)
    assert used.get("createReport") == 1
    held = {o.amazon_order_id: o for o in support.orders_of(store)}
    assert set(held) == {*held_open, *new}
    assert [held[i].status for i in held_open] == ["shipped_externally"] * 2 + ["cancelled", "open", "open"]
    # their allocations went back once (no "remove stock" setting): 2 open x 2 units + the new ones
    assert support.level(support.MERCHANT, fbm[0]) == (1_000, 4 + FBM_OPEN)
    assert all(not i.allocations for o in held_open[:3] for i in held[o].items)
    # the row's units shipped (per SKU) reach the stored lines
    assert [int(held[o].items[0].quantity_shipped) for o in held_open[:2]] == [2, 2]
    # the lines they had keep Amazon's item ids: the report's rows did not add lines
    assert all(
        len(held[o].items) == 1 and not held[o].items[0].order_item_id.startswith("report:")
        for o in held_open
    )
    runs = [r.counts.as_dict() for r in h.runs(store)]
    assert sum(r.get("windows_planned", 0) for r in runs) == 1
    assert sum(r.get("orders_from_report", 0) for r in runs) == 3


@pytest.mark.parametrize("mode", ["report_cancelled", "report_fatal"])
def test_a_cancelled_or_fatal_report_of_a_round_never_counts_as_nothing_changed(
    h: support.OrderImportHarness, mode: str
):
    store, fbm, orders = backlog(h)
    fault_mode(h.sim, mode, 1.0)

    import_until_done(h, store)

    used = calls(h)
    assert used.get("createReport") == 3  # three reports asked for, each ended without data
    held = {o.amazon_order_id: o for o in support.orders_of(store)}
    # then the window was swept with searchOrders: every order is in all the same, stock allocated once
    assert set(held) == {*orders["open"], *orders["fba"], *orders["shipped"]}
    assert support.level(support.MERCHANT, fbm[0]) == (1_000, FBM_OPEN)
    logged = [e for r in h.runs(store) for e in (r.errors or [])]
    codes = [e.code for e in logged]
    assert codes.count("order_report_failed") == 3 and "order_report_gave_up" in codes
    status = "CANCELLED" if mode == "report_cancelled" else "FATAL"
    assert any(status in e.message for e in logged if e.code == "order_report_failed")


def test_a_round_hands_over_to_its_continuation_when_its_slice_time_runs_out_and_still_brings_every_order_once(
    h: support.OrderImportHarness, monkeypatch: pytest.MonkeyPatch
):
    """A report's rows and the fetch list are stored over as many slices as it takes (a Lambda has 60 s and the
    job's lease 300 s: a slice storing a whole backlog's rows ran past both, and its plan was lost with it). With
    no time at all per slice, each slice stores one row or fetches one order and hands over; the round re-reads the
    same report (no new one), finds what the slices before stored held as the report shows it, and gets further."""
    from storesync.usecases import order_planner

    # few rows: each slice reads the report's document again (getReportDocument's burst is 15)
    store, fbm, orders = backlog(h, fba=3, shipped=1, cancelled=0)
    monkeypatch.setattr(order_planner, "SLICE_SECONDS", 0.0, raising=False)

    import_until_done(h, store)

    used = calls(h)
    assert used.get("createReport") == 1  # the one report, its document read again by the following slices
    runs = [r.counts.as_dict() for r in h.runs(store)]
    assert max(r.get("orders_from_report", 0) for r in runs) == 1
    assert max(r.get("orders_fetched", 0) for r in runs) == 1
    assert (
        sum(1 for r in runs if r.get("order_report_rows_left"))
        == len(orders["fba"]) + len(orders["shipped"]) - 1
    )
    held = {o.amazon_order_id: o for o in support.orders_of(store)}
    assert set(held) == {*orders["open"], *orders["fba"], *orders["shipped"]}
    assert all(held[o].status == "open" and held[o].has_address for o in orders["open"])
    from_rows = len(orders["fba"]) + len(orders["shipped"])
    assert sum(r.get("orders_created", 0) for r in runs) == FBM_OPEN + from_rows  # each order once
    assert support.level(support.MERCHANT, fbm[0]) == (1_000, FBM_OPEN)  # stock allocated once
