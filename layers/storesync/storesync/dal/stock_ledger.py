"""The stock ledger: the ONLY code that writes stock (InventoryItem), and the reads of stock levels.

Every stock write is a `StockCommit`: the stock deltas (allocate, release, remove for an external fulfilment,
ship, adjust, stock count, starting inventory: all StockDeltas of storesync.domain.allocation) and the records
that cause them (order, address, shipment) written in ONE TransactWrite:
- every InventoryItem write carries an optimistic condition on the values read (consistent reads), and every
  saved model with a VersionAttribute (Order, Shipment) its version condition: a concurrent change makes the
  whole transaction fail with StockConflict, and the caller reads and decides again (`retry_on_conflict`);
- every commit carries an idempotency key naming its cause (order and version, shipment, adjustment, stock
  count...), its decision time and the stock it writes, sent as DynamoDB's ClientRequestToken: a call retried
  within DynamoDB's idempotency window (the SDK's retries after a timeout, a commit sent again) is applied once;
- nothing goes below zero and no move takes available below 0 (domain rules), except a stock count, which is
  the truth of the shelf and always applied.

Reads of available stock for the inventory push: one range query per warehouse (`available_in_range`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from storesync.clock import utcnow
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.dal.warehouses import PRIMARY_WAREHOUSE_ID, list_warehouses
from storesync.domain.allocation import (
    Adjustment,
    AdjustmentRefused,
    StockDelta,
    StockKey,
    StockLevel,
    below_zero,
    check_adjustments,
    lowers_available_below_zero,
    merge_adjustments,
    merge_deltas,
    stock_count_delta,
)

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit
CONFLICT_CODES = ("ConditionalCheckFailed", "TransactionConflict")
CONFLICT_RESPONSES = ("TransactionConflictException", "ConditionalCheckFailedException")
ATTEMPTS = 6
_TOKEN_NAMESPACE = uuid.UUID("5f0c3c9e-2d55-4a4e-9a55-3b0c6c1d2a10")  # ClientRequestToken: at most 36 chars


@cache
def _connection(region: str | None, host: str | None) -> Connection:
    """One connection (one botocore client) per endpoint: creating a client costs ~20 ms of CPU per order."""
    return Connection(region=region, host=host)


def connection() -> Connection:
    """The connection every stock commit uses (tests hook its botocore client's events)."""
    return _connection(InventoryItem.Meta.region, InventoryItem.Meta.host)


class StockConflict(RuntimeError):
    """Someone changed the stock or the record since we read it: read again and decide again."""


class StockUnavailable(RuntimeError):
    """A move would take stock below zero, or a commit holds too many items (never written)."""

    def __init__(self, message: str, delta: StockDelta | None = None) -> None:
        super().__init__(message)
        self.delta = delta


def _level(item: InventoryItem) -> StockLevel:
    return StockLevel(int(item.on_hand or 0), int(item.allocated or 0))


def read_levels(merchant_id: str, keys: Iterable[StockKey]) -> dict[StockKey, StockLevel]:
    """Current levels of the given (warehouse, SKU) pairs, read consistently (the commit's conditions compare
    against them); pairs with no stock row are absent."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    by_item = {(warehouse_key(merchant_id, w), sku): (w, sku) for w, sku in wanted}
    return {
        by_item[(item.warehouse_key, item.sku)]: _level(item)
        for item in InventoryItem.batch_get(list(by_item), consistent_read=True)
    }


def keys_for(warehouses: Sequence[str], skus: Iterable[str]) -> list[StockKey]:
    return [(w, s) for s in sorted(set(skus)) for w in warehouses]


def stock_levels(
    merchant_id: str, warehouse_ids: Sequence[str], skus: Iterable[str] | None = None
) -> dict[StockKey, StockLevel]:
    """Every stock row of those warehouses (skus None: the whole warehouse; else just those SKUs)."""
    if skus is not None:
        keys = [(warehouse_key(merchant_id, w), s) for w in warehouse_ids for s in sorted(set(skus))]
        return {(i.warehouse_id, i.sku): _level(i) for i in InventoryItem.batch_get(keys)}
    levels: dict[StockKey, StockLevel] = {}
    for warehouse_id in warehouse_ids:
        for item in InventoryItem.query(warehouse_key(merchant_id, warehouse_id)):
            levels[(item.warehouse_id, item.sku)] = _level(item)
    return levels


def available_by_sku(
    merchant_id: str, warehouse_ids: Sequence[str], skus: Iterable[str] | None = None
) -> dict[str, int]:
    """Available stock per SKU summed over the warehouses (a SKU asked for with no row has 0)."""
    wanted = None if skus is None else set(skus)
    totals: dict[str, int] = dict.fromkeys(wanted or (), 0)
    for (_, sku), level in stock_levels(merchant_id, warehouse_ids, wanted).items():
        totals[sku] = totals.get(sku, 0) + level.available
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
            totals[item.sku] = totals.get(item.sku, 0) + _level(item).available
    return totals


class StockCommit:
    """Stock deltas and the records that cause them, written in one TransactWrite (see the module docstring).

    Read the stock through `read_stock` (the conditions compare against what was read), add the deltas
    (`move`, `count`) and the records (`save`, `update`), then `commit` once.
    """

    def __init__(self, merchant_id: str, cause: str) -> None:
        self.merchant_id = merchant_id
        self.cause = cause  # names what causes the commit: part of the idempotency key
        self.now = utcnow()  # the rows' updated_at: one value, so committing again repeats the same request
        self.read: dict[StockKey, StockLevel] = {}
        self._deltas: list[StockDelta] = []
        self._counted: set[StockKey] = set()
        self._saves: list[tuple[Model, Any]] = []
        self._updates: list[tuple[Model, list[Action], Any]] = []

    def read_stock(self, keys: Iterable[StockKey]) -> dict[StockKey, StockLevel]:
        """Read (consistently) the levels this commit will change; returns them (absent: no row yet)."""
        self.read.update(read_levels(self.merchant_id, keys))
        return self.read

    def level(self, key: StockKey) -> StockLevel:
        return self.read.get(key) or StockLevel()

    def move(self, deltas: Iterable[StockDelta]) -> None:
        self._deltas.extend(deltas)

    def count(self, warehouse_id: str, sku: str, on_hand: int) -> StockDelta:
        """A stock count: on hand becomes `on_hand` (written even when unchanged: the row then exists)."""
        delta = stock_count_delta(warehouse_id, sku, self.level((warehouse_id, sku)), on_hand)
        self._deltas.append(delta)
        self._counted.add(delta.key)
        return delta

    def save(self, model: Model, condition: Any = None) -> None:
        self._saves.append((model, condition))

    def update(self, model: Model, actions: list[Action], condition: Any = None) -> None:
        self._updates.append((model, actions, condition))

    def _stock_writes(self) -> list[StockDelta]:
        merged = {d.key: d for d in merge_deltas(self._deltas)}
        for key in self._counted:
            merged.setdefault(key, StockDelta(*key))
        return list(merged.values())

    def commit(self) -> list[StockDelta]:
        """Write everything at once; returns the stock deltas written (merged, counts included).
        Raises StockConflict (read again and decide again) or StockUnavailable (nothing written)."""
        deltas = self._stock_writes()
        items = len(deltas) + len(self._saves) + len(self._updates)
        if items > MAX_TRANSACTION_ITEMS:
            raise StockUnavailable(f"a transaction may hold {MAX_TRANSACTION_ITEMS} items at most ({items})")
        for delta in deltas:
            self._check(delta)
        if not items:
            return []
        now = self.now
        try:
            with TransactWrite(connection=connection(), client_request_token=self._token(deltas, now)) as tx:
                for model, condition in self._saves:
                    tx.save(model, condition=condition)
                for model, actions, condition in self._updates:
                    # a copy: pynamodb appends the version action to the list it is given
                    tx.update(model, actions=list(actions), condition=condition)
                for delta in deltas:
                    self._write(tx, delta, now)
        except TransactWriteError as exc:
            reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or []) if r is not None]
            # not exc.cause_response_code: it fails on a cause without a response (a timeout, a lost connection)
            response = getattr(exc.cause, "response", None) or {}
            code = response.get("Error", {}).get("Code")
            if any(reason in CONFLICT_CODES for reason in reasons) or code in CONFLICT_RESPONSES:
                raise StockConflict(f"changed concurrently ({', '.join(filter(None, reasons))})") from exc
            raise
        return deltas

    def _check(self, delta: StockDelta) -> None:
        level = self.level(delta.key)
        counted = delta.key in self._counted
        if below_zero(level, delta) or (not counted and lowers_available_below_zero(level, delta)):
            after = level.after(delta)
            raise StockUnavailable(
                f"stock of {delta.sku} in {delta.warehouse_id} would go below zero or below what is allocated "
                f"(on hand {after.on_hand}, allocated {after.allocated})",
                delta,
            )

    def _token(self, deltas: Sequence[StockDelta], now: Any) -> str:
        """The idempotency key: the cause, when it was decided (this commit's `now`) and the stock it writes
        from which values read. Committing again (a retried call) sends the same key; a new decision after a
        conflict is a new StockCommit and a new key (DynamoDB refuses a key reused with other parameters).
        The records' content is left out: serializing them would cost more than the write's own encoding."""
        described = [self.cause, now.isoformat()]
        described += [f"{d.key} {self.read.get(d.key)} {d.on_hand} {d.allocated}" for d in deltas]
        described += [type(m).__name__ for m, _ in self._saves] + [
            type(m).__name__ for m, _, _ in self._updates
        ]
        return str(uuid.uuid5(_TOKEN_NAMESPACE, "\n".join(described)))

    def _write(self, tx: TransactWrite, delta: StockDelta, now: Any) -> None:
        before = self.read.get(delta.key)
        after = (before or StockLevel()).after(delta)
        item = InventoryItem(warehouse_key(self.merchant_id, delta.warehouse_id), delta.sku)
        if before is None:
            # no row was read: create it, only if it still does not exist
            item.merchant_id = self.merchant_id
            item.warehouse_id = delta.warehouse_id
            item.on_hand = after.on_hand
            item.allocated = after.allocated
            item.updated_at = now
            tx.save(item, condition=InventoryItem.sku.does_not_exist())
            return
        tx.update(
            item,
            actions=[
                InventoryItem.on_hand.set(after.on_hand),
                InventoryItem.allocated.set(after.allocated),
                InventoryItem.updated_at.set(now),
            ],
            condition=(InventoryItem.on_hand == before.on_hand)
            & (InventoryItem.allocated == before.allocated),
        )


def retry_on_conflict[T](attempt: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run `attempt` (read, decide, commit) again while it raises StockConflict."""
    for _ in range(attempts - 1):
        try:
            return attempt()
        except StockConflict:
            continue
    return attempt()


# the WMS stock API ----------------------------------------------------------------------------------------------
def set_on_hand(merchant_id: str, warehouse_id: str, sku: str, on_hand: int) -> StockLevel:
    """A stock count: on hand becomes `on_hand` (allocated untouched, always applied). Returns the new level."""

    def attempt() -> StockLevel:
        commit = StockCommit(merchant_id, f"stock count {warehouse_id} {sku} {on_hand}")
        commit.read_stock([(warehouse_id, sku)])
        delta = commit.count(warehouse_id, sku, on_hand)
        commit.commit()
        return commit.level(delta.key).after(delta)

    return retry_on_conflict(attempt)


def apply_adjustments(
    merchant_id: str, adjustments: Sequence[Adjustment], attempts: int = ATTEMPTS
) -> dict[StockKey, StockLevel]:
    """Apply every line or none, in one transaction; returns the new level per (merged) line, in order.

    Raises AdjustmentRefused: a line would take available below 0 (its index into the merged lines), more rows
    than one transaction holds, or the stock kept changing while it was applied.
    """
    lines = merge_adjustments(adjustments)
    if not lines:
        return {}
    if len(lines) > MAX_TRANSACTION_ITEMS:
        raise AdjustmentRefused(None, f"at most {MAX_TRANSACTION_ITEMS} stock rows per request")
    cause = "adjustment " + "; ".join(f"{a.warehouse_id} {a.sku} {a.delta} {a.reason}" for a in lines)

    def attempt() -> dict[StockKey, StockLevel]:
        commit = StockCommit(merchant_id, cause)
        levels = commit.read_stock([(a.warehouse_id, a.sku) for a in lines])
        check_adjustments(lines, levels)
        commit.move(a.stock_delta for a in lines)
        commit.commit()
        return {
            (a.warehouse_id, a.sku): commit.level((a.warehouse_id, a.sku)).after(a.stock_delta) for a in lines
        }

    try:
        return retry_on_conflict(attempt, attempts)
    except StockConflict:
        raise AdjustmentRefused(
            None, "stock kept changing while the adjustment was applied: try again"
        ) from None


# starting inventory (the product import) -------------------------------------------------------------------------
def apply_starting_inventory(merchant_id: str, quantities: dict[str, int]) -> int:
    """The primary warehouse's on hand of each SKU becomes `quantities[sku]`; other warehouses hold 0 of it.

    Stock counts (allocated untouched), committed up to 100 rows at a time; setting (not adding) makes a
    repeated slice harmless. Rows already right are not written. Returns the number of rows written.
    """
    if not quantities:
        return 0
    targets = {
        (w.warehouse_id, sku): quantity if w.warehouse_id == PRIMARY_WAREHOUSE_ID else 0
        for w in list_warehouses(merchant_id)
        for sku, quantity in quantities.items()
    }
    keys = list(targets)
    written = 0
    for start in range(0, len(keys), MAX_TRANSACTION_ITEMS):
        chunk = keys[start : start + MAX_TRANSACTION_ITEMS]

        def attempt(chunk: list[StockKey] = chunk) -> int:
            commit = StockCommit(merchant_id, f"starting inventory {chunk[0]}..{chunk[-1]}")
            levels = commit.read_stock(chunk)
            for warehouse_id, sku in chunk:
                target = targets[(warehouse_id, sku)]
                if levels.get((warehouse_id, sku), StockLevel()).on_hand != target:
                    commit.count(warehouse_id, sku, target)
            return len(commit.commit())

        written += retry_on_conflict(attempt)
    return written
