"""The stock model (StockKey, StockLevel, StockDelta) and its rules: allocation of warehouse stock to orders,
the stock moves of releases, external fulfilments, shipments, adjustments and stock counts.

Plain Python: the caller reads the stock (on hand, allocated) of the warehouses concerned, this module plans,
and the stock ledger (dal/stock_ledger.py) writes the plan in one transaction with the record that causes it.

Rules:
- only FBM orders allocate (the caller decides; FBA stock is Amazon's);
- warehouses are used in the order given (primary first);
- available = on hand - allocated and never goes below zero: demand beyond it is recorded as backorder;
- several lines of one SKU share the same stock (the plan consumes as it goes);
- nothing goes below zero, and no move takes available below 0 (`lowers_available_below_zero`: an adjustment
  or a shipment of unallocated units is refused instead); a stock count is the truth of the shelf and is
  always applied, even below what is allocated (available then reads 0, the shortfall stays visible).
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

    def after(self, delta: StockDelta) -> StockLevel:
        return StockLevel(self.on_hand + delta.on_hand, self.allocated + delta.allocated)


@dataclass(frozen=True)
class StockDelta:
    """A change of one stock row: units added to (positive) or taken from (negative) on hand / allocated."""

    warehouse_id: str
    sku: str
    on_hand: int = 0
    allocated: int = 0

    @property
    def key(self) -> StockKey:
        return (self.warehouse_id, self.sku)


def below_zero(level: StockLevel, delta: StockDelta) -> bool:
    """The move would take on hand or allocated below zero (never written)."""
    after = level.after(delta)
    return after.on_hand < 0 or after.allocated < 0


def lowers_available_below_zero(level: StockLevel, delta: StockDelta) -> bool:
    """The move lowers available and leaves on hand below allocated: it takes units that are not free."""
    after = level.after(delta)
    return delta.on_hand - delta.allocated < 0 and after.on_hand < after.allocated


def stock_count_delta(warehouse_id: str, sku: str, level: StockLevel, on_hand: int) -> StockDelta:
    """A stock count: on hand becomes `on_hand`, allocated untouched (always applied, see the module rules)."""
    return StockDelta(warehouse_id, sku, on_hand=on_hand - level.on_hand)


def ship_delta(warehouse_id: str, sku: str, quantity: int, allocated: int) -> StockDelta:
    """Units shipped from one warehouse leave on hand; the part that was allocated to the order leaves
    allocated too (the rest must come from free stock)."""
    return StockDelta(warehouse_id, sku, on_hand=-quantity, allocated=-allocated)


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


@dataclass(frozen=True)
class Adjustment:
    """A relative change of on hand with a reason (the WMS stock API)."""

    warehouse_id: str
    sku: str
    delta: int
    reason: str

    @property
    def stock_delta(self) -> StockDelta:
        return StockDelta(self.warehouse_id, self.sku, on_hand=self.delta)


class AdjustmentRefused(Exception):
    """The batch was not applied: one line would take available below 0 (index names it, None: the batch)."""

    def __init__(self, index: int | None, message: str) -> None:
        super().__init__(message)
        self.index = index


def merge_adjustments(adjustments: Sequence[Adjustment]) -> list[Adjustment]:
    """One line per (warehouse, SKU): deltas added, reasons joined (a transaction touches a row once)."""
    merged: dict[StockKey, Adjustment] = {}
    for adj in adjustments:
        key = (adj.warehouse_id, adj.sku)
        seen = merged.get(key)
        if seen is None:
            merged[key] = adj
        else:
            reasons = seen.reason if adj.reason in seen.reason.split("; ") else f"{seen.reason}; {adj.reason}"
            merged[key] = Adjustment(adj.warehouse_id, adj.sku, seen.delta + adj.delta, reasons)
    return list(merged.values())


def check_adjustments(lines: Sequence[Adjustment], stock: Mapping[StockKey, StockLevel]) -> None:
    """Refuse the whole batch when one (merged) line would take available below 0, naming that line."""
    for index, adj in enumerate(lines):
        level = stock.get((adj.warehouse_id, adj.sku)) or StockLevel()
        if lowers_available_below_zero(level, adj.stock_delta):
            raise AdjustmentRefused(
                index,
                f"{adj.sku} in warehouse {adj.warehouse_id}: {adj.delta} would take available stock "
                f"below 0 (on hand {level.on_hand}, allocated {level.allocated})",
            )
