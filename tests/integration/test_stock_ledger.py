"""The stock ledger on moto: the only writer of stock. Idempotency key, conflicts read again, nothing below
zero, adjustment batches all or nothing, DynamoDB's 100-item limit, starting inventory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from pynamodb.exceptions import TransactWriteError
from storesync.dal import stock_ledger
from storesync.dal.inventory import InventoryItem, Warehouse, warehouse_key
from storesync.dal.stock_ledger import (
    MAX_TRANSACTION_ITEMS,
    StockCommit,
    StockConflict,
    StockUnavailable,
    apply_adjustments,
    apply_starting_inventory,
    available_by_sku,
    available_in_range,
    read_levels,
    retry_on_conflict,
    set_on_hand,
)
from storesync.dal.warehouses import ensure_primary_warehouse
from storesync.domain.allocation import Adjustment, AdjustmentRefused, StockDelta, StockLevel

MERCHANT = "merchant-1"
P = "primary"


@pytest.fixture(autouse=True)
def _tables(stack: Any) -> None:
    ensure_primary_warehouse(MERCHANT)


def put(sku: str, on_hand: int, allocated: int = 0, warehouse: str = P) -> None:
    InventoryItem(
        warehouse_key(MERCHANT, warehouse), sku, merchant_id=MERCHANT, warehouse_id=warehouse,
        on_hand=on_hand, allocated=allocated, updated_at=datetime.now(UTC),
    ).save()  # fmt: skip


def level(sku: str, warehouse: str = P) -> StockLevel | None:
    return read_levels(MERCHANT, [(warehouse, sku)]).get((warehouse, sku))


class IdempotencyWindow:
    """Records every TransactWriteItems' ClientRequestToken and answers a token seen before as DynamoDB does
    within its idempotency window (success, nothing applied): moto ignores the token."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def __call__(self, params: dict[str, Any], **_: Any) -> Any:
        token = json.loads(params["body"]).get("ClientRequestToken")
        seen = token in self.tokens
        self.tokens.append(token)
        return (AWSResponse("", 200, {}, None), {}) if seen else None


@pytest.fixture
def window() -> Iterator[IdempotencyWindow]:
    events = stock_ledger.connection().client.meta.events
    hook = IdempotencyWindow()
    events.register("before-call.dynamodb.TransactWriteItems", hook)
    yield hook
    events.unregister("before-call.dynamodb.TransactWriteItems", hook)


def test_one_connection_per_endpoint() -> None:
    assert stock_ledger.connection() is stock_ledger.connection()


def test_the_same_cause_committed_twice_is_applied_once(window: IdempotencyWindow) -> None:
    put("A", 10)
    commit = StockCommit(MERCHANT, "order st.1 v0")
    commit.read_stock([(P, "A")])
    commit.move([StockDelta(P, "A", allocated=3)])
    events = stock_ledger.connection().client.meta.events

    def answer_lost(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="dynamodb")  # DynamoDB applied it; its answer never arrived

    events.register("after-call.dynamodb.TransactWriteItems", answer_lost)
    try:
        with pytest.raises(TransactWriteError):
            commit.commit()
    finally:
        events.unregister("after-call.dynamodb.TransactWriteItems", answer_lost)
    assert commit.commit() == [StockDelta(P, "A", allocated=3)]  # the call retried: the same request and key
    assert level("A") == StockLevel(10, 3)  # applied once
    assert len(window.tokens) == 2 and window.tokens[0] and window.tokens[0] == window.tokens[1]
    assert len(window.tokens[0]) <= 36  # DynamoDB's limit

    again = StockCommit(MERCHANT, "order st.1 v1")  # a new decision on fresh stock: a new key
    again.read_stock([(P, "A")])
    again.move([StockDelta(P, "A", allocated=-3)])
    again.commit()
    assert window.tokens[2] != window.tokens[0]
    assert level("A") == StockLevel(10, 0)


def test_a_commit_on_stale_stock_conflicts_and_is_decided_again() -> None:
    put("A", 10)
    commit = StockCommit(MERCHANT, "order st.2 v0")
    commit.read_stock([(P, "A")])
    put("A", 4)  # someone else moved the stock meanwhile
    commit.move([StockDelta(P, "A", allocated=3)])
    with pytest.raises(StockConflict):
        commit.commit()
    assert level("A") == StockLevel(4, 0)  # nothing written

    attempts = []

    def attempt() -> list[StockDelta]:
        retry = StockCommit(MERCHANT, "order st.2 v0")
        stock = retry.read_stock([(P, "A")])
        if not attempts:
            put("A", 2, 1)  # the first attempt loses the race again
        attempts.append(stock[(P, "A")])
        retry.move([StockDelta(P, "A", allocated=stock[(P, "A")].available)])  # allocate what is free
        return retry.commit()

    assert retry_on_conflict(attempt) == [StockDelta(P, "A", allocated=1)]
    assert attempts == [StockLevel(4, 0), StockLevel(2, 1)]
    assert level("A") == StockLevel(2, 2)


def test_a_new_row_is_created_only_if_it_still_does_not_exist() -> None:
    commit = StockCommit(MERCHANT, "stock count")
    commit.read_stock([(P, "NEW")])
    put("NEW", 1)
    commit.count(P, "NEW", 5)
    with pytest.raises(StockConflict):
        commit.commit()
    assert set_on_hand(MERCHANT, P, "NEW", 5) == StockLevel(5, 0)


def test_nothing_goes_below_zero_and_nothing_is_written() -> None:
    put("A", 2, 1)
    put("B", 5)
    commit = StockCommit(MERCHANT, "shipment st#3 000001")
    commit.read_stock([(P, "A"), (P, "B")])
    commit.move([StockDelta(P, "B", on_hand=-1), StockDelta(P, "A", on_hand=-3, allocated=-1)])
    with pytest.raises(StockUnavailable) as below:
        commit.commit()
    assert below.value.delta == StockDelta(P, "A", on_hand=-3, allocated=-1)
    unfree = StockCommit(MERCHANT, "shipment st#3 000002")
    unfree.read_stock([(P, "A")])
    unfree.move([StockDelta(P, "A", on_hand=-2)])  # 2 units leave, only 1 is free
    with pytest.raises(StockUnavailable):
        unfree.commit()
    assert (level("A"), level("B")) == (StockLevel(2, 1), StockLevel(5, 0))


def test_a_stock_count_is_always_applied() -> None:
    put("A", 5, 4)
    assert set_on_hand(MERCHANT, P, "A", 1) == StockLevel(1, 4)  # below allocated: available reads 0
    assert available_by_sku(MERCHANT, [P], ["A", "NONE"]) == {"A": 0, "NONE": 0}
    assert set_on_hand(MERCHANT, P, "ZERO", 0) == StockLevel(0, 0)
    assert level("ZERO") == StockLevel(0, 0)  # the count is recorded even at 0


def test_an_adjustment_batch_is_applied_whole_or_refused_naming_the_line() -> None:
    put("A", 5, 1)
    put("B", 3, 2)
    with pytest.raises(AdjustmentRefused) as refused:
        apply_adjustments(MERCHANT, [Adjustment(P, "A", -2, "damaged"), Adjustment(P, "B", -2, "lost")])
    assert refused.value.index == 1
    assert (level("A"), level("B")) == (StockLevel(5, 1), StockLevel(3, 2))  # not even line 0
    applied = apply_adjustments(
        MERCHANT,
        [Adjustment(P, "A", -2, "damaged"), Adjustment(P, "B", -1, "lost"), Adjustment(P, "C", 4, "found")],
    )
    assert applied == {(P, "A"): StockLevel(3, 1), (P, "B"): StockLevel(2, 2), (P, "C"): StockLevel(4, 0)}
    assert (level("A"), level("B"), level("C")) == (StockLevel(3, 1), StockLevel(2, 2), StockLevel(4, 0))


def test_an_adjustment_reads_again_after_a_concurrent_change(monkeypatch: pytest.MonkeyPatch) -> None:
    put("A", 10)
    real = stock_ledger.read_levels
    raced: list[bool] = []

    def read_then_race(merchant_id: str, keys: Any) -> dict[Any, StockLevel]:
        levels = real(merchant_id, keys)
        if not raced:
            raced.append(True)
            put("A", 12, 9)  # a stock count and an allocation land between our read and our write
        return levels

    monkeypatch.setattr(stock_ledger, "read_levels", read_then_race)
    applied = apply_adjustments(MERCHANT, [Adjustment(P, "A", -3, "damaged")])
    assert applied == {(P, "A"): StockLevel(9, 9)}
    assert level("A") == StockLevel(9, 9)
    raced.clear()
    with pytest.raises(AdjustmentRefused) as refused:  # decided again on fresh stock: nothing is free now
        apply_adjustments(MERCHANT, [Adjustment(P, "A", -1, "damaged")])
    assert refused.value.index == 0


def test_a_commit_over_100_items_is_refused() -> None:
    commit = StockCommit(MERCHANT, "too big")
    commit.move(StockDelta(P, f"S{i:03}", on_hand=1) for i in range(MAX_TRANSACTION_ITEMS + 1))
    with pytest.raises(StockUnavailable, match="100 items at most"):
        commit.commit()
    assert available_in_range(MERCHANT, [P], "S000", "S999") == {}
    lines = [Adjustment(P, f"S{i:03}", 1, "receipt") for i in range(MAX_TRANSACTION_ITEMS + 1)]
    with pytest.raises(AdjustmentRefused) as refused:
        apply_adjustments(MERCHANT, lines)
    assert refused.value.index is None


def test_starting_inventory_sets_the_primary_and_clears_the_others() -> None:
    Warehouse(MERCHANT, "east", name="East", is_primary=False, created_at=datetime.now(UTC)).save()
    put("A", 7, 2)
    put("A", 3, warehouse="east")
    quantities = {f"S{i:03}": i % 4 for i in range(150)} | {"A": 5}  # more rows than one transaction holds
    written = apply_starting_inventory(MERCHANT, quantities)
    assert written == 1 + 1 + sum(1 for i in range(150) if i % 4)  # A in both warehouses + the non-zero SKUs
    assert level("A") == StockLevel(5, 2)  # allocated untouched
    assert level("A", "east") == StockLevel(0, 0)
    assert level("S001") == StockLevel(1, 0) and level("S004") is None
    assert available_in_range(MERCHANT, [P, "east"], "S000", "S003") == {"S001": 1, "S002": 2, "S003": 3}
    assert apply_starting_inventory(MERCHANT, quantities) == 0  # a repeated slice writes nothing
