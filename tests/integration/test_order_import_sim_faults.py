"""The order import under the simulator's fault modes (its README, "Fault modes"), through the real handlers:
expired page tokens restart their window and lose nothing, pages repeating orders store each order once, and
notifications duplicated, late and out of order leave every order as Amazon has it, with its stock moved once."""

from __future__ import annotations

from typing import Any

import order_import_support as support
import pytest
import storesync.usecases.order_import as order_import
from storesync.dal.job_state import load_cursor


def fault_mode(h: support.OrderImportHarness, mode: str, share: float, operations: Any = None) -> None:
    support.admin(h.sim, "POST", "faults", {"modes": {mode: {"share": share, "operations": operations}}})


def faults_injected(h: support.OrderImportHarness, mode: str) -> int:
    return int(support.admin(h.sim, "GET", "stats")["faults"][mode])


def test_expired_page_tokens_restart_the_window_and_no_order_is_skipped(
    h: support.OrderImportHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(order_import, "PAGE_SIZE", 5)
    store, fbm = support.stocked_store(h, 50)
    ids = [support.new_order(h.sim, {fbm[0]: 1}) for _ in range(12)]
    h.advance()
    fault_mode(h, "expired_page_tokens", 1.0, ["searchOrders"])
    # every token refused: restarts, then the run fails visibly (recorded "failed", no retry: the runner)
    (answer,) = h.poll(store, follow=False)
    assert answer["batchItemFailures"] == []

    assert faults_injected(h, "expired_page_tokens") == order_import.MAX_WINDOW_RESTARTS + 1
    cursor = load_cursor(store.store_id, "orders")
    assert cursor["incremental"]["token"] is None and "last_complete" not in cursor  # the window is kept
    assert h.runs(store)[-1].result == "failed"
    assert len(support.orders_of(store)) == 5  # the first page, stored once however often it was read
    assert support.level(support.MERCHANT, fbm[0]) == (50, 5)

    fault_mode(h, "expired_page_tokens", 0.0)
    h.poll(store)
    assert {o.amazon_order_id for o in support.orders_of(store)} == set(ids)
    assert support.level(support.MERCHANT, fbm[0]) == (50, 12)
    assert load_cursor(store.store_id, "orders")["incremental"] is None


def test_a_token_expiring_now_and_then_restarts_its_window_and_completes(
    h: support.OrderImportHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(order_import, "PAGE_SIZE", 5)
    store, fbm = support.stocked_store(h, 50)
    ids = [support.new_order(h.sim, {fbm[0]: 1}) for _ in range(12)]
    h.advance()
    fault_mode(h, "expired_page_tokens", 1.0, ["searchOrders"])
    calls = {"n": 0}
    real = order_import.OrderImport._restart_window

    def restart_then_heal(self: Any, *args: Any) -> Any:
        calls["n"] += 1
        fault_mode(h, "expired_page_tokens", 0.0)  # Amazon refused one token; the next ones are good
        return real(self, *args)

    monkeypatch.setattr(order_import.OrderImport, "_restart_window", restart_then_heal)
    h.poll(store)
    assert calls["n"] == 1 and faults_injected(h, "expired_page_tokens") == 1
    assert {o.amazon_order_id for o in support.orders_of(store)} == set(ids)
    assert support.level(support.MERCHANT, fbm[0]) == (50, 12)
    run = h.runs(store)[-1]
    assert run.result == "ok" and run.counts["windows_restarted"] == 1


def test_pages_repeating_orders_store_each_order_once(
    h: support.OrderImportHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(order_import, "PAGE_SIZE", 5)
    store, fbm = support.stocked_store(h, 50)
    ids = [support.new_order(h.sim, {fbm[0]: 2}) for _ in range(12)]
    h.advance()
    fault_mode(h, "repeat_across_pages", 1.0, ["searchOrders"])
    h.poll(store)
    assert faults_injected(h, "repeat_across_pages") >= 2
    orders = support.orders_of(store)
    assert sorted(o.amazon_order_id for o in orders) == sorted(ids)
    assert all(int(o.version) == 1 for o in orders)  # the repeats changed nothing
    assert support.level(support.MERCHANT, fbm[0]) == (50, 24)
    counts = h.runs(store)[-1].counts
    assert counts["orders_created"] == 12 and counts["orders_unchanged"] >= 2


EXPECTED_STATUS = {
    "PENDING": "pending",
    "UNSHIPPED": "open",
    "CANCELLED": "cancelled",
    "SHIPPED": "shipped_externally",
}


def test_notifications_duplicated_late_and_out_of_order_leave_every_order_as_amazon_has_it(
    h: support.OrderImportHarness,
) -> None:
    store, fbm = support.stocked_store(h, 100, import_pending_orders=True)
    for mode in ("notifications_duplicate", "notifications_late", "notifications_out_of_order"):
        fault_mode(h, mode, 0.5)
    pending = [support.new_order(h.sim, {fbm[0]: 1}, status="PENDING") for _ in range(4)]
    opened = [support.new_order(h.sim, {fbm[0]: 2}) for _ in range(4)]
    h.deliver_notifications()
    for order_id in pending[:3]:
        support.admin(h.sim, "POST", f"orders/{order_id}/release")
        h.deliver_notifications()
    for order_id in (pending[0], opened[0], opened[1]):
        support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
        h.deliver_notifications()
    for order_id in (pending[1], opened[2]):
        support.admin(h.sim, "POST", f"orders/{order_id}/ship")
        h.deliver_notifications()
    for mode in ("notifications_duplicate", "notifications_late", "notifications_out_of_order"):
        fault_mode(h, mode, 0.0)  # the held messages go out now
    h.deliver_notifications()
    injected = support.admin(h.sim, "GET", "stats")["faults"]
    assert (
        sum(
            injected[m]
            for m in ("notifications_duplicate", "notifications_late", "notifications_out_of_order")
        )
        > 0
    )

    def check() -> None:
        reserved = 0
        for order_id in pending + opened:
            amazon = support.admin(h.sim, "GET", f"orders/{order_id}")
            order = support.stored(store, order_id)
            assert order.status == EXPECTED_STATUS[amazon["status"]], (order_id, amazon["status"])
            if order.status in ("pending", "open"):
                reserved += sum(int(i.quantity) for i in order.items)
        assert support.level(support.MERCHANT, fbm[0]) == (100, reserved)

    check()
    versions = {o.amazon_order_id: int(o.version) for o in support.orders_of(store)}
    h.advance()
    h.poll(store)  # the poll agrees: nothing moves
    check()
    assert {o.amazon_order_id: int(o.version) for o in support.orders_of(store)} == versions
