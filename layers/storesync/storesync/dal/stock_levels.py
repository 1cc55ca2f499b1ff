"""Stock levels for the WMS stock API and the inventory push: reading available stock per SKU over a set of
warehouses, setting on hand, and relative adjustments applied atomically.

Rule on going below zero (decided here, one place): an adjustment never takes available (on hand minus
allocated) below 0: a negative delta is conditional on `on_hand - allocated >= -delta`, and the whole batch
fails if one line would. Setting on hand (a stock count) is the truth of the shelf, so it is always applied,
even below what is allocated: available then reads 0 (never negative, see domain.inventory.available) and
the shortfall stays visible as allocated > on hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from storesync.clock import utcnow
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.domain.inventory import available

BATCH_GET_LIMIT = 100
TRANSACT_LIMIT = 100


@dataclass(frozen=True)
class StockLevel:
    warehouse_id: str
    sku: str
    on_hand: int
    allocated: int

    @property
    def available(self) -> int:
        return available(self.on_hand, self.allocated)


def _level(item: InventoryItem) -> StockLevel:
    return StockLevel(item.warehouse_id, item.sku, int(item.on_hand or 0), int(item.allocated or 0))


def stock_levels(
    merchant_id: str, warehouse_ids: Sequence[str], skus: Iterable[str] | None = None
) -> list[StockLevel]:
    """Every stock row of those warehouses (skus None: the whole warehouse; else just those SKUs)."""
    levels: list[StockLevel] = []
    if skus is None:
        for warehouse_id in warehouse_ids:
            levels.extend(_level(i) for i in InventoryItem.query(warehouse_key(merchant_id, warehouse_id)))
        return levels
    keys = [(warehouse_key(merchant_id, w), s) for w in warehouse_ids for s in sorted(set(skus))]
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        levels.extend(_level(i) for i in InventoryItem.batch_get(keys[start : start + BATCH_GET_LIMIT]))
    return levels


def available_by_sku(
    merchant_id: str, warehouse_ids: Sequence[str], skus: Iterable[str] | None = None
) -> dict[str, int]:
    """Available stock per SKU summed over the warehouses (a SKU with no row has 0)."""
    wanted = None if skus is None else set(skus)
    totals: dict[str, int] = {s: 0 for s in wanted or ()}
    for level in stock_levels(merchant_id, warehouse_ids, wanted):
        totals[level.sku] = totals.get(level.sku, 0) + level.available
    return totals


def available_in_range(
    merchant_id: str, warehouse_ids: Sequence[str], first_sku: str, last_sku: str
) -> dict[str, int]:
    """Available stock per SKU summed over the warehouses, for the SKUs between first_sku and last_sku
    (inclusive): one paginated range query per warehouse (stock rows are sorted by SKU like listings, so a
    page of listings reads its stock in one query, no per-SKU read). A SKU with no row is absent (0)."""
    totals: dict[str, int] = {}
    for warehouse_id in warehouse_ids:
        rows = InventoryItem.query(
            warehouse_key(merchant_id, warehouse_id), InventoryItem.sku.between(first_sku, last_sku)
        )
        for item in rows:
            level = _level(item)
            totals[level.sku] = totals.get(level.sku, 0) + level.available
    return totals


def set_on_hand(merchant_id: str, warehouse_id: str, sku: str, on_hand: int) -> StockLevel:
    """A stock count: on hand becomes `on_hand` (allocated untouched). Returns the new level."""
    item = InventoryItem(warehouse_key(merchant_id, warehouse_id), sku)
    item.update(
        actions=[
            InventoryItem.on_hand.set(on_hand),
            InventoryItem.allocated.set(InventoryItem.allocated | 0),
            InventoryItem.merchant_id.set(merchant_id),
            InventoryItem.warehouse_id.set(warehouse_id),
            InventoryItem.updated_at.set(utcnow()),
        ]
    )
    return _level(item)


@dataclass(frozen=True)
class Adjustment:
    warehouse_id: str
    sku: str
    delta: int
    reason: str


class AdjustmentRefused(Exception):
    """The batch was not applied: one line would take available below 0 (index names it)."""

    def __init__(self, index: int | None, message: str) -> None:
        super().__init__(message)
        self.index = index


def merge_adjustments(adjustments: Sequence[Adjustment]) -> list[Adjustment]:
    """One line per (warehouse, SKU): deltas added, reasons joined (a transaction touches an item once)."""
    merged: dict[tuple[str, str], Adjustment] = {}
    for adj in adjustments:
        key = (adj.warehouse_id, adj.sku)
        seen = merged.get(key)
        if seen is None:
            merged[key] = adj
        else:
            reasons = seen.reason if adj.reason in seen.reason.split("; ") else f"{seen.reason}; {adj.reason}"
            merged[key] = Adjustment(adj.warehouse_id, adj.sku, seen.delta + adj.delta, reasons)
    return list(merged.values())


def apply_adjustments(
    merchant_id: str, adjustments: Sequence[Adjustment], attempts: int = 5
) -> list[StockLevel]:
    """Apply every line or none, in one TransactWrite. Returns the new levels.

    DynamoDB conditions cannot do arithmetic, so the check "available stays >= 0" is optimistic: read the rows
    (consistently), refuse a line that would go below 0, then write on the condition that on hand is still what
    was read and allocated still leaves room (allocated <= on hand + delta). A concurrent change makes the
    transaction fail; it is read and checked again (a few attempts), so nothing is applied twice or half.
    """
    lines = merge_adjustments(adjustments)
    if not lines:
        return []
    if len(lines) > TRANSACT_LIMIT:
        raise AdjustmentRefused(None, f"at most {TRANSACT_LIMIT} stock rows per request")
    for _ in range(attempts):
        current = _read_levels(merchant_id, [(a.warehouse_id, a.sku) for a in lines])
        for index, adj in enumerate(lines):
            level = current[(adj.warehouse_id, adj.sku)]
            if adj.delta < 0 and level.on_hand + adj.delta < level.allocated:
                raise AdjustmentRefused(
                    index,
                    f"{adj.sku} in warehouse {adj.warehouse_id}: {adj.delta} would take available stock "
                    f"below 0 (on hand {level.on_hand}, allocated {level.allocated})",
                )
        now = utcnow()
        try:
            with TransactWrite(connection=Connection()) as transaction:
                for adj in lines:
                    level = current[(adj.warehouse_id, adj.sku)]
                    new_on_hand = level.on_hand + adj.delta
                    if level.exists:
                        condition = InventoryItem.on_hand == level.on_hand
                        if adj.delta < 0:  # allocations may move meanwhile, as long as they still fit
                            condition &= InventoryItem.allocated <= new_on_hand
                    else:
                        condition = InventoryItem.sku.does_not_exist()
                    transaction.update(
                        InventoryItem(warehouse_key(merchant_id, adj.warehouse_id), adj.sku),
                        actions=[
                            InventoryItem.on_hand.set(new_on_hand),
                            InventoryItem.allocated.set(InventoryItem.allocated | 0),
                            InventoryItem.merchant_id.set(merchant_id),
                            InventoryItem.warehouse_id.set(adj.warehouse_id),
                            InventoryItem.updated_at.set(now),
                        ],
                        condition=condition,
                    )
        except TransactWriteError as exc:
            if _conflict(exc):
                continue  # someone changed one of the rows meanwhile: read again
            raise
        fresh = _read_levels(merchant_id, [(a.warehouse_id, a.sku) for a in lines])
        return [fresh[(a.warehouse_id, a.sku)].level for a in lines]
    raise AdjustmentRefused(None, "stock kept changing while the adjustment was applied: try again")


@dataclass(frozen=True)
class _Read:
    level: StockLevel
    exists: bool

    @property
    def on_hand(self) -> int:
        return self.level.on_hand

    @property
    def allocated(self) -> int:
        return self.level.allocated


def _read_levels(merchant_id: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], _Read]:
    out = {key: _Read(StockLevel(key[0], key[1], 0, 0), False) for key in keys}
    db_keys = [(warehouse_key(merchant_id, w), s) for w, s in keys]
    for start in range(0, len(db_keys), BATCH_GET_LIMIT):
        for item in InventoryItem.batch_get(db_keys[start : start + BATCH_GET_LIMIT], consistent_read=True):
            out[(item.warehouse_id, item.sku)] = _Read(_level(item), True)
    return out


def _conflict(exc: TransactWriteError) -> bool:
    codes = {getattr(r, "code", None) for r in (getattr(exc, "cancellation_reasons", None) or []) if r}
    return bool(codes & {"ConditionalCheckFailed", "TransactionConflict"})
