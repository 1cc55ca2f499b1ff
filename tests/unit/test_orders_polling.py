"""The polling use case's cursor rules with fakes (no AWS, no HTTP): sweeps, overlap, pagination tokens,
throttling mid-sweep, refused (expired) tokens, pages that cannot be read, unreadable orders re-read with
getOrder, the unknown-SKU hold re-evaluation of every run, and pending orders left out of the search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from storesync.amazon.errors import AmazonAnswerInvalid, AmazonRejected, Throttled
from storesync.amazon.orders import AmazonOrders
from storesync.dal.notices import NoticesAttribute
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.notices import NoticeCode
from storesync.domain.orders import AmazonOrder
from storesync.jobs import JobMessage
from storesync.usecases.order_import import (
    MAX_RETRY_ATTEMPTS,
    MAX_WINDOW_RESTARTS,
    OrderImport,
    OrderImportDeps,
    refused_page_token,
)
from storesync.usecases.order_upsert import HoldRelease, UpsertResult
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
        self.get_calls: list[str] = []
        self.broken_in_get: set[str] = set()  # getOrder answers these orders without their items

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

    def get_order(self, order_id: str, **params: Any) -> dict[str, Any]:
        self.get_calls.append(order_id)
        order = amazon(order_id)
        if order_id in self.broken_in_get:
            del order["orderItems"]
        return {"order": order}


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


def run(amazon_: FakeAmazon, cursor: dict[str, Any], mode: str = "incremental", pending: bool = False,
        release_holds: Any = None, saved: list[dict[str, Any]] | None = None,
        ) -> tuple[Any, MemoryContext, Stored]:  # fmt: skip
    store = Store("m", "s", name="s", marketplace_id="ATVPDKIKX0DER", region="NA", status="active",
                  settings=StoreSettings(import_pending_orders=pending), created_at=NOW)  # fmt: skip
    ctx = MemoryContext(
        JobMessage(job="orders", mode=mode, merchant_id="m", store_id="s"), store, "me", cursor
    )
    ctx.saved = [] if saved is None else saved
    stored = Stored()
    deps = OrderImportDeps(
        stored, lambda _s: AmazonOrders(amazon_), timedelta(minutes=5), timedelta(days=3), clock=lambda: NOW,
        release_holds=release_holds,
    )  # type: ignore[arg-type]  # fmt: skip
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


WINDOW = {"after": "2026-07-10T09:00:00Z", "before": "2026-07-10T09:30:00Z", "token": "1"}


@pytest.mark.parametrize(
    "message",
    ["paginationToken: expired (tokens are valid 24 hours)", "nextToken: expired", "The NextToken is invalid",
     "Invalid pagination_token"],
)  # fmt: skip
def test_a_refused_token_restarts_its_window_from_its_own_after_with_the_same_bound(message: str):
    expired = AmazonRejected("searchOrders", 400, "InvalidInput", message)
    assert refused_page_token(expired)
    fake = FakeAmazon([["1"], ["2"]], failures={1: expired})
    outcome, ctx, stored = run(fake, {"incremental": dict(WINDOW)})
    restart = fake.calls[1]
    assert "paginationToken" not in restart and restart["lastUpdatedAfter"] == "2026-07-10T09:00:00Z"
    assert restart["lastUpdatedBefore"] == "2026-07-10T09:30:00Z"  # the same window, not a bigger one
    assert stored.ids == ["1", "2"] and ctx.cursor["incremental"] is None  # every page read: window done
    assert ctx.cursor["last_complete"] == "2026-07-10T09:30:00Z" and outcome.counts["windows_restarted"] == 1


def test_other_refusals_are_not_taken_for_a_refused_token():
    other = AmazonRejected("searchOrders", 400, "InvalidInput", "lastUpdatedBefore: must be two minutes ago")
    assert not refused_page_token(other)
    assert not refused_page_token(AmazonRejected("searchOrders", 403, "Unauthorized", "paginationToken"))
    fake = FakeAmazon([["1"], ["2"]], failures={1: other})
    ctx_cursor = {"incremental": dict(WINDOW)}
    with pytest.raises(AmazonRejected):
        run(fake, ctx_cursor)


def test_a_token_refused_again_and_again_fails_the_run_and_the_next_run_reads_the_window_again():
    expired = AmazonRejected("searchOrders", 400, "InvalidInput", "paginationToken: expired")
    # every call that sends a token back is refused (calls 2, 4, 6...: each restart reads page 1 again)
    fake = FakeAmazon([["1"], ["2"]], failures={n: expired for n in range(2, 40, 2)})
    saved: list[dict[str, Any]] = []
    with pytest.raises(AmazonRejected):
        run(fake, {"incremental": dict(WINDOW, token=None)}, saved=saved)
    assert sum("paginationToken" in c for c in fake.calls) == MAX_WINDOW_RESTARTS + 1
    assert all(c["lastUpdatedAfter"] == "2026-07-10T09:00:00Z" for c in fake.calls)
    kept = saved[-1]["incremental"]  # the window is neither skipped nor done: read again next run
    assert (kept["after"], kept["before"], kept["token"]) == (WINDOW["after"], WINDOW["before"], None)
    assert "last_complete" not in saved[-1] and not kept.get("restarts")
    fake.failures.clear()
    _, ctx, stored = run(fake, saved[-1])
    assert stored.ids == ["1", "2"] and ctx.cursor["incremental"] is None
    assert ctx.cursor["last_complete"] == WINDOW["before"]


def test_a_page_that_cannot_be_read_leaves_the_cursor_where_it_was():
    invalid = AmazonAnswerInvalid("searchOrders: the answer is not JSON (request id r-1)")
    fake = FakeAmazon([["1"], ["2"], ["3"]], failures={2: invalid})
    saved: list[dict[str, Any]] = []
    with pytest.raises(AmazonAnswerInvalid):
        run(fake, {"last_complete": "2026-07-10T11:00:00Z"}, saved=saved)
    # page 1 was stored and the cursor points at page 2, which is read again by the next run (not skipped)
    assert saved[-1]["incremental"]["token"] == "1" and saved[-1]["last_complete"] == "2026-07-10T11:00:00Z"
    _, ctx, stored = run(fake, saved[-1])
    assert fake.calls[-2]["paginationToken"] == "1" and stored.ids == ["2", "3"]
    assert ctx.cursor["last_complete"] == "2026-07-10T11:58:00Z"


def test_a_failing_first_page_saves_nothing():
    invalid = AmazonAnswerInvalid("searchOrders: orders: missing")
    saved: list[dict[str, Any]] = []
    with pytest.raises(AmazonAnswerInvalid):
        run(
            FakeAmazon([["1"]], failures={1: invalid}), {"last_complete": "2026-07-10T11:00:00Z"}, saved=saved
        )
    assert saved == []  # the cursor stays where it was


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
    fake = FakeAmazonWithUnreadableOrder([["1", "2"]])
    fake.broken_in_get.add("2")
    outcome, _, stored = run(fake, {})
    assert stored.ids == ["1"]
    [error] = outcome.errors
    assert error.code == NoticeCode.ORDER_UNREADABLE
    assert error.params == {"order_id": "2", "reason": "order 2: orderItems: missing or empty"}
    NoticesAttribute().serialize(outcome.errors)  # params are stored as they are: str, not the exception


def test_an_unreadable_order_is_never_forgotten_getorder_reads_it_again():
    outcome, ctx, stored = run(FakeAmazonWithUnreadableOrder([["1", "2"]]), {})
    assert stored.ids == ["1", "2"]  # order 2 re-read with getOrder in the same run
    assert outcome.counts["orders_failed"] == 1 and outcome.counts["orders_retried"] == 1
    assert ctx.cursor["retry"] == {}


def test_an_order_that_stays_unreadable_is_retried_then_given_up_visibly():
    fake = FakeAmazonWithUnreadableOrder([["1", "2"]])
    fake.broken_in_get.add("2")
    outcome, ctx, stored = run(fake, {})
    assert stored.ids == ["1"] and ctx.cursor["retry"] == {"2": 1} and fake.get_calls == ["2"]
    for _ in range(MAX_RETRY_ATTEMPTS - 1):
        outcome, ctx, stored = run(_getter(fake), ctx.cursor)
    assert ctx.cursor["retry"] == {}
    assert [e.code for e in outcome.errors] == [NoticeCode.ORDER_GIVEN_UP]


def _getter(broken: FakeAmazon) -> FakeAmazon:
    """An empty sweep whose getOrder still answers order 2 without its items."""
    fake = FakeAmazon([[]])
    fake.broken_in_get = set(broken.broken_in_get)
    return fake


def test_an_order_without_even_its_id_is_a_failed_step_in_the_sync_log():
    class NoId(FakeAmazon):
        def search_orders(self, **params: Any) -> dict[str, Any]:
            body = super().search_orders(**params)
            del body["orders"][0]["orderId"]
            return body

    outcome, ctx, _ = run(NoId([["1", "2"]]), {})
    assert outcome.counts["orders_failed"] == 1 and outcome.final_result() == "partial"
    assert [e.code for e in outcome.errors] == [NoticeCode.ORDER_UNREADABLE] and not ctx.cursor.get("retry")


def test_every_run_re_evaluates_the_unknown_sku_holds_first():
    calls: list[str] = []

    def release(store: Store) -> HoldRelease:
        calls.append(store.store_id)
        return HoldRelease(checked=3, released=["a", "b"], failed={"c": "StockConflict"})

    fake = FakeAmazon([[]], failures={1: Throttled("searchOrders", 5.0)})
    with pytest.raises(Throttled):  # even a run Amazon throttles at once has re-evaluated them
        run(fake, {}, release_holds=release)
    assert calls == ["s"]
    outcome, _, _ = run(FakeAmazon([[]]), {}, release_holds=release)
    assert outcome.counts["holds_released"] == 2 and outcome.counts["orders_failed"] == 1
    assert [(e.code, e.params["order_id"]) for e in outcome.errors] == [(NoticeCode.ORDER_NOT_STORED, "c")]


def test_a_broken_hold_re_evaluation_never_blocks_the_sweep():
    def release(store: Store) -> HoldRelease:
        raise RuntimeError("table unavailable")

    outcome, ctx, stored = run(FakeAmazon([["1"]]), {}, release_holds=release)
    assert stored.ids == ["1"] and ctx.cursor["incremental"] is None
    assert [e.code for e in outcome.errors] == [NoticeCode.ORDER_NOT_STORED]
