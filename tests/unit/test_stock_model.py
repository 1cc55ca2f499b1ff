"""The one stock model: levels, deltas and the rules every stock write follows (domain.allocation)."""

from __future__ import annotations

import pytest
from storesync.domain.allocation import (
    Adjustment,
    AdjustmentRefused,
    StockDelta,
    StockLevel,
    below_zero,
    check_adjustments,
    lowers_available_below_zero,
    merge_adjustments,
    ship_delta,
    stock_count_delta,
)


def test_a_level_after_a_delta() -> None:
    assert StockLevel(5, 2).after(StockDelta("w", "A", on_hand=-1, allocated=3)) == StockLevel(4, 5)
    assert StockLevel(2, 5).available == 0  # over-allocated: available never reads below 0
    assert StockDelta("w", "A").key == ("w", "A")


def test_nothing_goes_below_zero() -> None:
    assert below_zero(StockLevel(2, 0), StockDelta("w", "A", on_hand=-3))
    assert below_zero(StockLevel(2, 1), StockDelta("w", "A", allocated=-2))
    assert not below_zero(StockLevel(2, 1), StockDelta("w", "A", on_hand=-2, allocated=-1))


@pytest.mark.parametrize(
    ("level", "delta", "refused"),
    [
        (StockLevel(5, 2), StockDelta("w", "A", on_hand=-3), False),  # takes all that is free
        (StockLevel(5, 2), StockDelta("w", "A", on_hand=-4), True),  # one unit more than is free
        (StockLevel(5, 2), StockDelta("w", "A", allocated=4), True),  # allocates more than is free
        (StockLevel(5, 2), ship_delta("w", "A", 4, 2), False),  # 2 allocated + 2 free units leave
        (StockLevel(5, 2), ship_delta("w", "A", 5, 1), True),  # 4 unallocated units, 3 free
        (StockLevel(2, 5), StockDelta("w", "A", on_hand=1), False),  # raising available is always fine
        (
            StockLevel(2, 5),
            ship_delta("w", "A", 2, 2),
            False,
        ),  # allocated units may leave when over-allocated
        (StockLevel(2, 5), StockDelta("w", "A", allocated=-5), False),  # a release
    ],
)
def test_no_move_takes_available_below_zero(level: StockLevel, delta: StockDelta, refused: bool) -> None:
    assert lowers_available_below_zero(level, delta) is refused


def test_a_stock_count_sets_on_hand_and_leaves_allocated() -> None:
    delta = stock_count_delta("w", "A", StockLevel(7, 4), 1)
    assert delta == StockDelta("w", "A", on_hand=-6)
    assert StockLevel(7, 4).after(delta) == StockLevel(1, 4)  # below allocated: the shelf is the truth


def test_ship_delta_takes_the_allocated_part_off_allocated() -> None:
    assert ship_delta("w", "A", 3, 2) == StockDelta("w", "A", on_hand=-3, allocated=-2)


def test_adjustments_merge_per_row_with_their_reasons() -> None:
    merged = merge_adjustments([
        Adjustment("w", "A", 2, "receipt"),
        Adjustment("w", "B", -1, "damaged"),
        Adjustment("w", "A", -1, "damaged"),
        Adjustment("w", "A", 1, "receipt"),
    ])  # fmt: skip
    assert merged == [Adjustment("w", "A", 2, "receipt; damaged"), Adjustment("w", "B", -1, "damaged")]
    assert merged[0].stock_delta == StockDelta("w", "A", on_hand=2)


def test_an_adjustment_batch_is_refused_naming_the_line() -> None:
    stock = {("w", "A"): StockLevel(5, 0), ("w", "B"): StockLevel(3, 2)}
    check_adjustments([Adjustment("w", "A", -5, "count"), Adjustment("w", "B", -1, "lost")], stock)
    with pytest.raises(AdjustmentRefused) as refused:
        check_adjustments([Adjustment("w", "A", -1, "lost"), Adjustment("w", "B", -2, "lost")], stock)
    assert refused.value.index == 1
    assert "B in warehouse w: -2 would take available stock below 0 (on hand 3, allocated 2)" in str(
        refused.value
    )
    with pytest.raises(AdjustmentRefused) as missing:  # no row: nothing to take
        check_adjustments([Adjustment("w", "C", -1, "lost")], stock)
    assert missing.value.index == 0
