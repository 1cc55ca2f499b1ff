"""Allocation plans (storesync.domain.allocation): primary first, backorder, never below zero."""

from __future__ import annotations

from storesync.domain.allocation import (
    DemandLine,
    StockDelta,
    StockLevel,
    allocation_deltas,
    merge_deltas,
    plan_allocation,
    release_deltas,
    removal_deltas,
)


def test_primary_first_then_the_next_warehouse_then_backorder():
    stock = {("primary", "A"): StockLevel(3, 1), ("east", "A"): StockLevel(5, 0)}
    [plan] = plan_allocation([DemandLine("A", 10)], stock, ["primary", "east"])
    assert plan.allocations == [("primary", 2), ("east", 5)]
    assert plan.backorder == 3


def test_lines_of_one_sku_share_stock_and_available_never_goes_negative():
    stock = {("primary", "A"): StockLevel(2, 5)}  # over-allocated already: nothing is available
    plans = plan_allocation([DemandLine("A", 1), DemandLine("A", 1)], stock, ["primary"])
    assert [p.backorder for p in plans] == [1, 1]
    stock = {("primary", "A"): StockLevel(3, 0)}
    plans = plan_allocation([DemandLine("A", 2), DemandLine("A", 2)], stock, ["primary"])
    assert [(p.allocated, p.backorder) for p in plans] == [(2, 0), (1, 1)]


def test_unknown_sku_allocates_nothing():
    stock = {("primary", "A"): StockLevel(9, 0)}
    [plan] = plan_allocation([DemandLine("A", 2, known=False)], stock, ["primary"])
    assert plan.allocations == [] and plan.backorder == 2


def test_deltas_for_allocation_and_release():
    plans = plan_allocation([DemandLine("A", 2)], {("primary", "A"): StockLevel(5, 0)}, ["primary"])
    assert allocation_deltas(plans) == [StockDelta("primary", "A", allocated=2)]
    assert release_deltas([("A", "primary", 2)]) == [StockDelta("primary", "A", allocated=-2)]


def test_removal_takes_allocated_units_first_then_free_stock_never_more_than_free():
    stock = {("primary", "A"): StockLevel(3, 1), ("east", "A"): StockLevel(1, 0)}
    deltas = removal_deltas([("A", 5, [("primary", 1)])], stock, ["primary", "east"])
    # 1 allocated unit leaves (on hand and allocated), then 2 free in primary, 1 free in east; 1 unit unmet
    assert deltas == [
        StockDelta("primary", "A", on_hand=-3, allocated=-1),
        StockDelta("east", "A", on_hand=-1),
    ]


def test_merge_drops_zero_deltas():
    merged = merge_deltas([StockDelta("w", "A", allocated=2), StockDelta("w", "A", allocated=-2)])
    assert merged == []
