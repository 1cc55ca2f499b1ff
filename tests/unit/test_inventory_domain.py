"""The quantity rules, delta planning and the patch-vs-feed crossover (plain Python)."""

from __future__ import annotations

import pytest
from storesync.amazon.quotas import USAGE_PLANS, UsagePlan
from storesync.domain.inventory import (
    QuantityChange,
    available,
    choose_transport,
    is_stockout,
    patch_feed_crossover,
    plan_changes,
    quantity_to_show,
)
from storesync.usecases.inventory_push import PATCH_FEED_CROSSOVER


@pytest.mark.parametrize(("on_hand", "allocated", "expected"), [(10, 3, 7), (3, 3, 0), (2, 5, 0), (0, 0, 0)])
def test_available_is_on_hand_minus_allocated_never_negative(
    on_hand: int, allocated: int, expected: int
) -> None:
    assert available(on_hand, allocated) == expected


@pytest.mark.parametrize(
    ("available_sum", "buffer", "cap", "expected"),
    [
        (10, 0, None, 10),
        (10, 3, None, 7),
        (10, 3, 5, 5),
        (2, 3, None, 0),
        (100, 0, 0, 0),
        (7, None, 20, 7),
    ],
)
def test_quantity_to_show_applies_buffer_then_cap(
    available_sum: int, buffer: int | None, cap: int | None, expected: int
) -> None:
    assert quantity_to_show(available_sum, buffer, cap) == expected


def test_plan_changes_keeps_only_what_differs_from_last_accepted_stockouts_first() -> None:
    desired = {"A": 5, "B": 0, "C": 3, "D": 0, "E": 0}
    last = {"A": 5, "B": 4, "C": 2, "D": None, "E": 0}
    changes = plan_changes(desired, last)
    assert changes == [
        QuantityChange("B", 0, 4),  # stock-out first
        QuantityChange("C", 3, 2),
        QuantityChange("D", 0, None),  # never pushed: pushed
    ]


def test_is_stockout_only_when_amazon_still_shows_units() -> None:
    assert is_stockout(0, 3)
    assert not is_stockout(0, 0)
    assert not is_stockout(0, None)
    assert not is_stockout(1, 3)


def test_crossover_is_derived_from_the_patch_quota() -> None:
    patch = USAGE_PLANS["patchListingsItem"]
    assert patch.burst + int(patch.rate * 30) == PATCH_FEED_CROSSOVER
    # a faster patch quota moves the crossover up; a quick feed moves it down
    assert patch_feed_crossover(UsagePlan(10, 5)) > PATCH_FEED_CROSSOVER
    assert patch_feed_crossover(patch, feed_latency_seconds=10) == patch.burst + int(patch.rate * 10)


def test_choose_transport_by_volume() -> None:
    assert choose_transport(1, PATCH_FEED_CROSSOVER) == "patch"
    assert choose_transport(PATCH_FEED_CROSSOVER, PATCH_FEED_CROSSOVER) == "patch"
    assert choose_transport(PATCH_FEED_CROSSOVER + 1, PATCH_FEED_CROSSOVER) == "feed"
    assert choose_transport(10_000, PATCH_FEED_CROSSOVER) == "feed"
    assert choose_transport(3, crossover=2) == "feed"
