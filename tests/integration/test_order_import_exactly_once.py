"""Nothing lost, nothing twice: duplicate and shuffled notifications, stale updates, racing writers, a crash
between the order write and the cursor write, and a pagination token that survives across invocations."""

from __future__ import annotations

import json
import threading
from typing import Any

import order_import_support as support
import pytest
import storesync.usecases.order_import as order_import
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from fakes import RecordingJobQueue
from fixtures_stores import stack_cipher
from storesync.dal.job_state import load_cursor
from storesync.usecases.order_upsert import OrderUpserter
from storesync.usecases.runner import JobContext


def test_duplicate_and_shuffled_notifications_change_the_order_once(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 10, import_pending_orders=True)
    support.admin(h.sim, "POST", "faults", {"duplicate_notifications": 1.0, "shuffle_notifications": True})
    order_id = support.new_order(h.sim, {fbm[0]: 2}, status="PENDING")
    support.admin(h.sim, "POST", f"orders/{order_id}/release")
    support.admin(h.sim, "POST", "faults", {"shuffle_notifications": False})  # flushes the held one
    bodies = h.drain("OrderNotificationsQueue")
    ids = [json.loads(b)["NotificationMetadata"]["NotificationId"] for b in bodies]
    assert len(bodies) == 4 and len(set(ids)) == 2  # every notification twice, out of order

    calls_before = support.admin(h.sim, "GET", "stats")["calls"].get("getOrder", 0)
    for body in bodies:  # one by one, as separate deliveries
        assert h.handler(h.notification_event([body]), h.context) == {"batchItemFailures": []}
    assert h.handler(h.notification_event(bodies), h.context) == {"batchItemFailures": []}  # and all again
    assert (
        support.admin(h.sim, "GET", "stats")["calls"]["getOrder"] - calls_before == 2
    )  # one per NotificationId

    order = support.stored(store, order_id)
    assert (order.status, order.holds, order.has_address) == ("open", [], True)
    assert support.level(support.MERCHANT, fbm[0]) == (10, 2)
    assert len(support.orders_of(store)) == 1


def test_an_older_update_never_overwrites_a_newer_one(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 10)
    order_id = support.new_order(h.sim, {fbm[0]: 2})
    h.deliver_notifications()
    old = support.fetch_amazon_order(store, order_id)
    h.advance(60)
    support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
    h.deliver_notifications()
    assert support.stored(store, order_id).status == "cancelled" and support.level(
        support.MERCHANT, fbm[0]
    ) == (10, 0)

    result = OrderUpserter(stack_cipher(h.stack), RecordingJobQueue()).upsert(
        store, old
    )  # a late, stale copy
    assert (result.action, result.reason) == ("ignore", "older than what is stored")
    assert support.stored(store, order_id).status == "cancelled" and support.level(
        support.MERCHANT, fbm[0]
    ) == (10, 0)


def test_racing_writers_of_one_new_order_allocate_once(h: support.OrderImportHarness):
    store, fbm = support.stocked_store(h, 10)
    order_id = support.new_order(h.sim, {fbm[0]: 3})
    h.drain("OrderNotificationsQueue")
    incoming = support.fetch_amazon_order(store, order_id)
    upserter = OrderUpserter(stack_cipher(h.stack), RecordingJobQueue())
    actions: list[str] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            actions.append(upserter.upsert(store, incoming).action)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(actions) == ["create", "ignore", "ignore", "ignore"]
    assert support.level(support.MERCHANT, fbm[0]) == (10, 3)


def test_a_crash_between_the_order_write_and_the_cursor_write_duplicates_nothing(
    h: support.OrderImportHarness, monkeypatch: pytest.MonkeyPatch
):
    store, fbm = support.stocked_store(h, 20)
    ids = [support.new_order(h.sim, {fbm[0]: 2}) for _ in range(3)]
    h.drain("OrderNotificationsQueue")  # only the poll sees them
    h.advance()

    real_save = JobContext.save_cursor
    crashed: list[bool] = []

    def crash_once(self: JobContext, cursor: dict[str, Any]) -> None:
        if not crashed:
            crashed.append(True)
            raise RuntimeError("Lambda killed after the orders were written")
        real_save(self, cursor)

    monkeypatch.setattr(JobContext, "save_cursor", crash_once)
    with pytest.raises(BatchProcessingError):  # the whole batch failed: SQS redelivers the message
        h.poll(store, follow=False)
    assert {o.amazon_order_id for o in support.orders_of(store)} == set(ids)  # written before the crash
    assert load_cursor(store.store_id, "orders").get("last_complete") is None  # the cursor did not move

    h.poll(store)  # SQS redelivers the message: the same page again
    assert sorted(o.amazon_order_id for o in support.orders_of(store)) == sorted(ids)
    assert support.level(support.MERCHANT, fbm[0]) == (20, 6)  # allocated once
    assert load_cursor(store.store_id, "orders").get("last_complete")


def test_the_pagination_token_survives_across_invocations(
    h: support.OrderImportHarness, monkeypatch: pytest.MonkeyPatch
):
    store, fbm = support.stocked_store(h, 1000)
    ids = {support.new_order(h.sim, {fbm[0]: 1}) for _ in range(25)}
    h.drain("OrderNotificationsQueue")
    h.advance()
    monkeypatch.setattr(order_import, "PAGE_SIZE", 10)
    monkeypatch.setattr(order_import, "MAX_PAGES_PER_SLICE", 1)

    h.poll(store, follow=False)
    cursor = load_cursor(store.store_id, "orders")
    assert cursor.get("incremental"), (cursor, [(r.counts, r.result, r.errors) for r in h.runs(store)])
    assert cursor["incremental"]["token"] and cursor["incremental"]["before"]
    assert len(support.orders_of(store)) == 10
    h.poll(store)  # the continuations the runner enqueued carry on from the saved token
    cursor = load_cursor(store.store_id, "orders")
    assert cursor["incremental"] is None and cursor["last_complete"]
    assert {o.amazon_order_id for o in support.orders_of(store)} == ids
    assert support.level(support.MERCHANT, fbm[0]) == (1000, 25)

    # the next sweep starts at the last one's end minus the overlap and re-reads only that
    later = support.new_order(h.sim, {fbm[0]: 1})
    h.advance()
    h.poll(store)
    assert later in {o.amazon_order_id for o in support.orders_of(store)}
    assert support.level(support.MERCHANT, fbm[0]) == (1000, 26)


def test_one_bad_order_never_blocks_the_rest(h: support.OrderImportHarness, monkeypatch: pytest.MonkeyPatch):
    store, fbm = support.stocked_store(h, 10)
    bad, *good = [support.new_order(h.sim, {fbm[0]: 1}) for _ in range(4)]
    h.drain("OrderNotificationsQueue")
    h.advance()
    real_upsert = OrderUpserter.upsert

    def failing(self: OrderUpserter, store_: Any, incoming: Any) -> Any:
        if incoming.order_id == bad:
            raise RuntimeError("storage hiccup on one order")
        return real_upsert(self, store_, incoming)

    monkeypatch.setattr(OrderUpserter, "upsert", failing)
    h.poll(store)
    assert {o.amazon_order_id for o in support.orders_of(store)} == set(good)
    run = h.runs(store)[-1]
    assert run.result == "partial" and any(
        bad in e.message and "will be retried" in e.message for e in run.errors
    )
    assert load_cursor(store.store_id, "orders")["retry"] == {bad: 0}

    monkeypatch.setattr(OrderUpserter, "upsert", real_upsert)  # fixed: the next run re-reads it with getOrder
    h.poll(store)
    assert {o.amazon_order_id for o in support.orders_of(store)} == {bad, *good}
    assert load_cursor(store.store_id, "orders")["retry"] == {}
    assert support.level(support.MERCHANT, fbm[0]) == (10, 4)
