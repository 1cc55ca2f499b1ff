"""The polling use case's cursor rules with fakes (no AWS, no HTTP): sweeps, overlap, pagination tokens,
throttling mid-sweep, an expired token, and pending orders left out of the search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from storesync.amazon.errors import AmazonRejected, Throttled
from storesync.amazon.orders import AmazonOrders
from storesync.dal.notices import NoticesAttribute
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.notices import NoticeCode
from storesync.domain.orders import AmazonOrder
from storesync.jobs import JobMessage
from storesync.usecases.order_import import OrderImport, OrderImportDeps
from storesync.usecases.order_upsert import UpsertResult
from storesync.usecases.runner import JobContext

NOW = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)


def amazon(order_id: str) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "createdTime": "2026-07-10T10:00:00Z",
        "lastUpdatedTime": "2026-07-10T10:00:00Z",
        "salesChannel": {"marketplaceId": "ATVPDKIKX0DER"},
        "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
        "orderItems": [{"orderItemId": "1", "quantityOrdered": 1, "product": {"sellerSku": "A"}}],
    }


class FakeAmazon:
    """searchOrders over `pages` (a list of order-id lists); raises what `failures` says, call by call."""

    def __init__(self, pages: list[list[str]], failures: dict[int, Exception] | None = None) -> None:
        self.pages = pages
        self.failures = failures or {}
        self.calls: list[dict[str, Any]] = []
        self.gate = self
        self.marketplace_id = "ATVPDKIKX0DER"

    # the quota gate
    def call(self, operation: str, fn: Any, parse: Any = None) -> Any:
        return fn() if parse is None else parse(fn())

    def wait_time(self, operation: str) -> float:
        return 7.0

    # the Orders client
    def orders(self) -> FakeAmazon:
        return self

    def search_orders(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        failure = self.failures.pop(len(self.calls), None)
        if failure is not None:
            raise failure
        index = int(params.get("paginationToken", "0"))
        body: dict[str, Any] = {
            "orders": [amazon(i) for i in self.pages[index]],
            "lastUpdatedBefore": "2026-07-10T11:58:00Z",
        }
        if index + 1 < len(self.pages):
            body["pagination"] = {"nextToken": str(index + 1)}
        return body


class Stored:
    def __init__(self) -> None:
        self.ids: list[str] = []

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        self.ids.append(incoming.order_id)
        return UpsertResult(incoming.order_id, "create", "new order", "open")


class MemoryContext(JobContext):
    saved: list[dict[str, Any]]

    def save_cursor(self, cursor: dict[str, Any]) -> None:
        self.saved.append(dict(cursor))
        self.cursor = dict(cursor)


def run(amazon_: FakeAmazon, cursor: dict[str, Any], mode: str = "incremental", pending: bool = False) -> tuple[Any, MemoryContext, Stored]:  # fmt: skip
    store = Store("m", "s", name="s", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
                  settings=StoreSettings(import_pending_orders=pending), created_at=NOW)  # fmt: skip
    ctx = MemoryContext(
        JobMessage(job="orders", mode=mode, merchant_id="m", store_id="s"), store, "me", cursor
    )
    ctx.saved = []
    stored = Stored()
    deps = OrderImportDeps(
        stored, lambda _s: AmazonOrders(amazon_), timedelta(minutes=5), timedelta(days=3), clock=lambda: NOW
    )  # type: ignore[arg-type]
    return OrderImport(deps, ctx).run(), ctx, stored


def test_first_sweep_reads_the_catchup_window_and_leaves_the_upper_bound_to_amazon():
    fake = FakeAmazon([["1", "2"]])
    outcome, ctx, stored = run(fake, {})
    assert (
        fake.calls[0]["lastUpdatedAfter"] == "2026-07-07T12:00:00Z"
        and "lastUpdatedBefore" not in fake.calls[0]
    )
    assert fake.calls[0]["fulfillmentStatuses"] and "PENDING" not in fake.calls[0]["fulfillmentStatuses"]
    assert stored.ids == ["1", "2"] and outcome.continue_after is None
    assert ctx.cursor["last_complete"] == "2026-07-10T11:58:00Z" and ctx.cursor["incremental"] is None


def test_next_sweep_starts_overlap_before_the_last_end():
    fake = FakeAmazon([[]])
    run(fake, {"last_complete": "2026-07-10T11:00:00Z"})
    assert fake.calls[0]["lastUpdatedAfter"] == "2026-07-10T10:55:00Z"


def test_pending_orders_are_searched_when_they_are_imported():
    fake = FakeAmazon([[]])
    run(fake, {}, pending=True)
    assert "fulfillmentStatuses" not in fake.calls[0]


def test_the_cursor_moves_after_each_page_and_keeps_the_token_and_upper_bound():
    fake = FakeAmazon([["1"], ["2"], ["3"]], failures={3: Throttled("searchOrders", 42.0)})
    outcome, ctx, stored = run(fake, {})
    assert stored.ids == ["1", "2"] and outcome.continue_after == 42.0
    sweep = ctx.cursor["incremental"]
    assert sweep["token"] == "2" and sweep["before"] == "2026-07-10T11:58:00Z"
    # the continuation resumes from the token with the same bounds
    fake.failures.clear()
    outcome, ctx, stored = run(fake, ctx.cursor)
    assert (
        fake.calls[-1]["paginationToken"] == "2"
        and fake.calls[-1]["lastUpdatedBefore"] == "2026-07-10T11:58:00Z"
    )
    assert stored.ids == ["3"] and ctx.cursor["incremental"] is None


def test_throttled_before_any_page_goes_to_the_runner():
    fake = FakeAmazon([["1"]], failures={1: Throttled("searchOrders", 9.0)})
    with pytest.raises(Throttled):
        run(fake, {})


def test_an_expired_token_restarts_the_sweep():
    cursor = {
        "incremental": {"after": "2026-07-10T09:00:00Z", "before": "2026-07-10T09:30:00Z", "token": "1"}
    }
    expired = AmazonRejected("searchOrders", 400, "InvalidInput", "paginationToken: expired")
    fake = FakeAmazon([["1"], ["2"]], failures={1: expired})
    _, ctx, stored = run(fake, cursor)
    assert (
        "paginationToken" not in fake.calls[1] and fake.calls[1]["lastUpdatedAfter"] == "2026-07-10T09:00:00Z"
    )
    assert stored.ids == ["1", "2"] and ctx.cursor["incremental"] is None


def test_catchup_keeps_its_own_sweep_and_never_moves_the_cursor_back():
    fake = FakeAmazon([["1"]])
    cursor = {
        "last_complete": "2026-07-10T11:59:00Z",
        "incremental": {"after": "x", "before": None, "token": "5"},
    }
    _, ctx, _ = run(fake, cursor, mode="catchup")
    assert fake.calls[0]["lastUpdatedAfter"] == "2026-07-07T12:00:00Z"
    assert ctx.cursor["last_complete"] == "2026-07-10T11:59:00Z"  # Amazon's bound was earlier: kept
    assert ctx.cursor["incremental"]["token"] == "5"  # the incremental sweep in progress is untouched


class FakeAmazonWithUnreadableOrder(FakeAmazon):
    """As FakeAmazon, but order "2" comes without its items."""

    def search_orders(self, **params: Any) -> dict[str, Any]:
        body = super().search_orders(**params)
        for order in body["orders"]:
            if order["orderId"] == "2":
                del order["orderItems"]
        return body


def test_an_unreadable_order_is_a_notice_with_the_error_text_that_the_sync_log_can_store():
    outcome, _, stored = run(FakeAmazonWithUnreadableOrder([["1", "2"]]), {})
    assert stored.ids == ["1"]
    [error] = outcome.errors
    assert error.code == NoticeCode.ORDER_UNREADABLE
    assert error.params == {"order_id": "2", "reason": "order 2: orderItems: missing or empty"}
    NoticesAttribute().serialize(outcome.errors)  # params are stored as they are: str, not the exception
