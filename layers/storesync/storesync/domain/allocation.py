"""Allocation of warehouse stock to orders, and the stock moves of releases and external fulfilments.

Plain Python: the caller reads the stock (on hand, allocated) of the warehouses that feed the store, this
module plans, and the data-access layer writes the plan in one transaction with the order (dal/stock.py).

Rules:
- only FBM orders allocate (the caller decides; FBA stock is Amazon's);
- warehouses are used in the order given (primary first);
- available = on hand - allocated and never goes below zero: demand beyond it is recorded as backorder;
- several lines of one SKU share the same stock (the plan consumes as it goes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from storesync.domain.inventory import available

StockKey = tuple[str, str]  # (warehouse_id, sku)


@dataclass(frozen=True)
class StockLevel:
    on_hand: int = 0
    allocated: int = 0

    @property
    def available(self) -> int:
        return available(self.on_hand, self.allocated)


@dataclass(frozen=True)
class StockDelta:
    """A change of one InventoryItem: units added to (positive) or taken from (negative) on hand / allocated."""

    warehouse_id: str
    sku: str
    on_hand: int = 0
    allocated: int = 0


@dataclass(frozen=True)
class DemandLine:
    sku: str
    quantity: int
    known: bool = True  # an unknown SKU allocates nothing: all of it is backorder


@dataclass
class LinePlan:
    sku: str
    allocations: list[tuple[str, int]] = field(default_factory=list)  # (warehouse_id, quantity)
    backorder: int = 0

    @property
    def allocated(self) -> int:
        return sum(q for _, q in self.allocations)


def plan_allocation(
    lines: Sequence[DemandLine], stock: Mapping[StockKey, StockLevel], warehouses: Sequence[str]
) -> list[LinePlan]:
    """One LinePlan per line (same order): what each warehouse gives, primary first, and the backorder."""
    free: dict[StockKey, int] = {key: level.available for key, level in stock.items()}
    plans: list[LinePlan] = []
    for line in lines:
        if line.quantity < 0:
            raise ValueError(f"quantity: must not be negative (SKU {line.sku})")
        plan = LinePlan(line.sku)
        wanted = line.quantity if line.known else 0
        for warehouse_id in warehouses:
            if wanted == 0:
                break
            key = (warehouse_id, line.sku)
            take = min(wanted, free.get(key, 0))
            if take > 0:
                plan.allocations.append((warehouse_id, take))
                free[key] -= take
                wanted -= take
        plan.backorder = line.quantity - plan.allocated
        plans.append(plan)
    return plans


def allocation_deltas(plans: Sequence[LinePlan]) -> list[StockDelta]:
    return [StockDelta(w, p.sku, allocated=q) for p in plans for w, q in p.allocations]


def release_deltas(allocations: Sequence[tuple[str, str, int]]) -> list[StockDelta]:
    """Give allocated units back: (sku, warehouse_id, quantity) per allocation."""
    return [StockDelta(w, sku, allocated=-q) for sku, w, q in allocations if q > 0]


def removal_deltas(
    lines: Sequence[tuple[str, int, Sequence[tuple[str, int]]]],
    stock: Mapping[StockKey, StockLevel],
    warehouses: Sequence[str],
) -> list[StockDelta]:
    """Units that left outside the WMS (shipped on Amazon, not by the WMS) leave on-hand stock.

    `lines` are (sku, quantity shipped, allocations [(warehouse_id, quantity)]). Allocated units leave first
    (on hand and allocated both drop); the rest leaves the free stock of the feeding warehouses, primary
    first, and never more than is free, so available never goes below zero.
    """
    free: dict[StockKey, int] = {key: level.available for key, level in stock.items()}
    deltas: list[StockDelta] = []
    for sku, quantity, allocations in lines:
        remaining = quantity
        for warehouse_id, allocated in allocations:
            take = min(remaining, allocated)
            if allocated > 0:
                # the whole allocation is given up; `take` units of it also leave on hand
                deltas.append(StockDelta(warehouse_id, sku, on_hand=-take, allocated=-allocated))
            remaining -= take
        for warehouse_id in warehouses:
            if remaining <= 0:
                break
            key = (warehouse_id, sku)
            take = min(remaining, free.get(key, 0))
            if take > 0:
                deltas.append(StockDelta(warehouse_id, sku, on_hand=-take))
                free[key] -= take
                remaining -= take
    return merge_deltas(deltas)


def merge_deltas(deltas: Sequence[StockDelta]) -> list[StockDelta]:
    """One delta per (warehouse, SKU), zero deltas dropped, in first-seen order."""
    merged: dict[StockKey, StockDelta] = {}
    for d in deltas:
        key = (d.warehouse_id, d.sku)
        prev = merged.get(key)
        merged[key] = (
            d
            if prev is None
            else StockDelta(d.warehouse_id, d.sku, prev.on_hand + d.on_hand, prev.allocated + d.allocated)
        )
    return [d for d in merged.values() if d.on_hand or d.allocated]
