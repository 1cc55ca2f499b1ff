"""Amazon misbehaving around orders, on moto with the real OrderUpserter: pages that repeat orders, notifications
duplicated (under new ids), late and out of order, stale getOrder answers. Nothing moves backwards and no stock
moves twice."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import order_import_support as support
from fakes import RecordingJobQueue
from fixtures_stores import stack_cipher
from storesync.amazon.orders import OrdersPage
from storesync.domain.orders import AmazonItem, AmazonOrder
from storesync.jobs import JobMessage
from storesync.usecases.order_import import OrderImport, OrderImportDeps
from storesync.usecases.order_notifications import OrderChange, OrderChangeHandler
from storesync.usecases.order_upsert import OrderUpserter
from storesync.usecases.runner import JobContext


class MemoryContext(JobContext):
    def save_cursor(self, cursor: dict[str, Any]) -> None:
        self.cursor = dict(cursor)


def amazon_order(
    order_id: str, sku: str, quantity: int, updated: str = "2026-07-10T10:00:00Z"
) -> AmazonOrder:
    return AmazonOrder(
        order_id=order_id,
        marketplace_id=support.US,
        status="UNSHIPPED",
        channel="FBM",
        created="2026-07-10T09:00:00Z",
        last_updated=updated,
        items=(AmazonItem(f"{order_id}-1", sku, quantity),),
    )


class RepeatingPages:
    """searchOrders whose every page repeats the last orders of the previous one (as Amazon sometimes does)."""

    def __init__(self, pages: list[list[AmazonOrder]]) -> None:
        self.pages = pages
        self.calls = 0

    def search_orders(self, *, after: str, before: str | None = None, token: str | None = None,
                      statuses: Any = None, page_size: int = 100, fulfilled_by: Any = None) -> OrdersPage:  # fmt: skip
        self.calls += 1
        index = int(token or 0)
        more = index + 1 < len(self.pages)
        return OrdersPage(
            tuple(self.pages[index]), (), str(index + 1) if more else None, "2026-07-10T11:58:00Z"
        )

    def search_wait_time(self) -> float:
        return 0.0

    def get_order(self, amazon_order_id: str) -> AmazonOrder:
        raise AssertionError("no order is retried here")


def test_pages_repeating_orders_allocate_each_order_once(h: support.OrderImportHarness) -> None:
    store, fbm = support.stocked_store(h, 20)
    sku = fbm[0]
    a, b, c, d = (amazon_order(f"111-000000{n}-0000001", sku, n) for n in (1, 2, 3, 4))
    amazon = RepeatingPages([[a, b], [b, c], [c, b, d], [d]])
    upserter = OrderUpserter(stack_cipher(h.stack), RecordingJobQueue())
    message = JobMessage(
        job="orders", mode="incremental", merchant_id=store.merchant_id, store_id=store.store_id
    )
    for _ in range(2):  # and the whole sweep again (a restarted window reads every page again)
        ctx = MemoryContext(message, store, "me", {})
        outcome = OrderImport(OrderImportDeps(upserter, lambda _s: amazon), ctx).run()
        assert "orders_failed" not in outcome.counts and ctx.cursor["incremental"] is None
    assert {o.amazon_order_id for o in support.orders_of(store)} == {o.order_id for o in (a, b, c, d)}
    assert support.level(support.MERCHANT, sku) == (20, 1 + 2 + 3 + 4)
    for order in support.orders_of(store):
        assert int(order.version) == 1  # written once: every repeat was "no change"


def test_duplicated_late_and_out_of_order_notifications_never_move_an_order_back(
    h: support.OrderImportHarness,
) -> None:
    store, fbm = support.stocked_store(h, 10)
    order_id = support.new_order(h.sim, {fbm[0]: 3})
    created = h.drain("OrderNotificationsQueue")
    h.advance(60)
    support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
    cancelled = h.drain("OrderNotificationsQueue")
    assert len(created) == 1 and len(cancelled) == 1

    def again(body: str, n: int) -> str:  # the same change under another NotificationId (idempotency misses)
        copy = json.loads(body)
        copy["NotificationMetadata"]["NotificationId"] += f"-again-{n}"
        return json.dumps(copy)

    # out of order (the cancellation first), then the creation late, then duplicates of both
    for body in [
        cancelled[0],
        created[0],
        again(created[0], 1),
        again(cancelled[0], 2),
        again(created[0], 3),
    ]:
        assert h.handler(h.notification_event([body]), h.context) == {"batchItemFailures": []}
        assert support.orders_of(store) == [] or support.stored(store, order_id).status == "cancelled"
    assert support.level(support.MERCHANT, fbm[0]) == (10, 0)  # never allocated: first seen cancelled

    # the same with an order the WMS holds already: created (allocates), then shuffled changes
    second = support.new_order(h.sim, {fbm[0]: 2})
    h.deliver_notifications()
    assert support.level(support.MERCHANT, fbm[0]) == (10, 2)
    first_seen = h.drain("OrderNotificationsQueue")
    h.advance(60)
    support.admin(h.sim, "POST", f"orders/{second}/cancel")
    later = h.drain("OrderNotificationsQueue")
    for body in [*later, *first_seen, again(later[0], 4)]:
        assert h.handler(h.notification_event([body]), h.context) == {"batchItemFailures": []}
    assert support.stored(store, second).status == "cancelled"
    assert support.level(support.MERCHANT, fbm[0]) == (10, 0)  # released once, never allocated again


def test_a_stale_getorder_answer_to_a_late_notification_is_ignored(h: support.OrderImportHarness) -> None:
    store, fbm = support.stocked_store(h, 10)
    order_id = support.new_order(h.sim, {fbm[0]: 2})
    h.deliver_notifications()
    stale = support.fetch_amazon_order(store, order_id)
    h.advance(60)
    support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
    h.deliver_notifications()
    assert support.level(support.MERCHANT, fbm[0]) == (10, 0)

    class StaleAmazon:
        def get_order(self, amazon_order_id: str) -> AmazonOrder:
            return stale  # Amazon's read lags behind: the open order of a minute ago

    handler = OrderChangeHandler(
        OrderUpserter(stack_cipher(h.stack), RecordingJobQueue()),
        lambda _s: StaleAmazon(),  # type: ignore[arg-type,return-value]
        lambda _c: [store],
    )
    change = support_change(order_id)
    assert handler.handle(change)["results"] == {store.store_id: "ignore"}
    # an answer as new as the stored one that still says UNSHIPPED: a closed order never reopens
    same_time = replace(stale, last_updated=support.stored(store, order_id).amazon_last_updated)
    OrderUpserter(stack_cipher(h.stack), RecordingJobQueue()).upsert(store, same_time)
    order = support.stored(store, order_id)
    assert order.status == "cancelled" and support.level(support.MERCHANT, fbm[0]) == (10, 0)


def support_change(order_id: str) -> OrderChange:
    return OrderChange("n-stale", support.SELLER, order_id, support.US, "Unshipped")
