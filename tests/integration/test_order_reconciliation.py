"""The catch-up as a reconciliation against the simulator + moto, through the real OrderImportFunction handler:
one order report for the window, only the orders that differ fetched (getOrder), no searchOrders page; and a
report that ends CANCELLED or FATAL never counts as "nothing changed" (the window is swept in the end)."""

from __future__ import annotations

from typing import Any

import order_import_support as support
import pytest
from spapi_simulator.testing import fault_mode
from storesync.dal import job_state


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
