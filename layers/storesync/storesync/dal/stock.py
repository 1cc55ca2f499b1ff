"""Stock moves written in ONE DynamoDB transaction with the record that causes them (order, shipment).

The building blocks:
- `read_stock(merchant_id, keys)`: the current InventoryItems (consistent reads) as StockLevels;
- `StockTransaction`: collects the stock deltas (allocate, release, remove, ship: all are StockDeltas from
  storesync.domain.allocation) plus the records to save, and commits them together. Every InventoryItem
  update carries an optimistic condition on the values read, and every saved model with a VersionAttribute
  (Order, Shipment) its version condition, so a retried or duplicated message can never move stock twice:
  a concurrent change makes the whole transaction fail with StockConflict, and the caller re-reads and
  decides again (`retry_on_conflict`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from storesync.clock import utcnow
from storesync.dal.inventory import InventoryItem, warehouse_key
from storesync.domain.allocation import StockDelta, StockKey, StockLevel, merge_deltas

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit
CONFLICT_CODES = ("ConditionalCheckFailed", "TransactionConflict")


@cache
def _connection(region: str | None, host: str | None) -> Connection:
    """One connection (one botocore client) per endpoint: creating a client costs ~20 ms of CPU per order."""
    return Connection(region=region, host=host)


class StockConflict(RuntimeError):
    """Someone changed the stock or the record since we read it: read again and decide again."""


class StockUnavailable(RuntimeError):
    """A delta would take on hand or allocated below zero (a planning bug, never written)."""


def read_stock(merchant_id: str, keys: Iterable[StockKey]) -> dict[StockKey, StockLevel]:
    """Current levels of the given (warehouse, SKU) pairs; pairs with no InventoryItem are absent."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    by_item = {(warehouse_key(merchant_id, w), sku): (w, sku) for w, sku in wanted}
    found: dict[StockKey, StockLevel] = {}
    # consistent reads: the optimistic conditions of the transaction compare against the latest values
    for item in InventoryItem.batch_get(list(by_item), consistent_read=True):
        found[by_item[(item.warehouse_key, item.sku)]] = StockLevel(
            int(item.on_hand or 0), int(item.allocated or 0)
        )
    return found


@dataclass
class StockTransaction:
    merchant_id: str
    read: dict[StockKey, StockLevel]
    deltas: list[StockDelta] = field(default_factory=list)
    _saves: list[tuple[Model, Any]] = field(default_factory=list)
    _updates: list[tuple[Model, list[Action], Any]] = field(default_factory=list)

    def move(self, deltas: Iterable[StockDelta]) -> None:
        self.deltas.extend(deltas)

    def save(self, model: Model, condition: Any = None) -> None:
        self._saves.append((model, condition))

    def update(self, model: Model, actions: list[Action], condition: Any = None) -> None:
        self._updates.append((model, actions, condition))

    @property
    def skus(self) -> list[str]:
        return sorted({d.sku for d in merge_deltas(self.deltas)})

    def commit(self) -> list[StockDelta]:
        """Write everything at once; returns the (merged) stock deltas written. Raises StockConflict."""
        deltas = merge_deltas(self.deltas)
        if len(deltas) + len(self._saves) + len(self._updates) > MAX_TRANSACTION_ITEMS:
            raise StockUnavailable(f"a transaction may hold {MAX_TRANSACTION_ITEMS} items at most")
        connection = _connection(InventoryItem.Meta.region, InventoryItem.Meta.host)
        now = utcnow()
        try:
            with TransactWrite(connection=connection) as tx:
                for model, condition in self._saves:
                    tx.save(model, condition=condition)
                for model, actions, condition in self._updates:
                    tx.update(model, actions=actions, condition=condition)
                for delta in deltas:
                    self._stock_update(tx, delta, now)
        except TransactWriteError as exc:
            reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or []) if r is not None]
            if any(code in CONFLICT_CODES for code in reasons) or exc.cause_response_code in (
                "TransactionConflictException",
                "ConditionalCheckFailedException",
            ):
                raise StockConflict(f"changed concurrently ({', '.join(filter(None, reasons))})") from exc
            raise
        return deltas

    def _stock_update(self, tx: TransactWrite, delta: StockDelta, now: Any) -> None:
        key = (delta.warehouse_id, delta.sku)
        level = self.read.get(key)
        before = level or StockLevel()
        on_hand = before.on_hand + delta.on_hand
        allocated = before.allocated + delta.allocated
        if on_hand < 0 or allocated < 0:
            raise StockUnavailable(
                f"stock of {delta.sku} in {delta.warehouse_id} would go below zero "
                f"(on hand {on_hand}, allocated {allocated})"
            )
        item = InventoryItem(warehouse_key(self.merchant_id, delta.warehouse_id), delta.sku)
        if level is None:
            # no item was read: create it, only if it still does not exist
            item.merchant_id = self.merchant_id
            item.warehouse_id = delta.warehouse_id
            item.on_hand = on_hand
            item.allocated = allocated
            item.updated_at = now
            tx.save(item, condition=InventoryItem.sku.does_not_exist())
            return
        tx.update(
            item,
            actions=[
                InventoryItem.on_hand.set(on_hand),
                InventoryItem.allocated.set(allocated),
                InventoryItem.updated_at.set(now),
            ],
            condition=(InventoryItem.on_hand == before.on_hand)
            & (InventoryItem.allocated == before.allocated),
        )


def retry_on_conflict[T](attempt: Callable[[], T], attempts: int = 6) -> T:
    """Run `attempt` (read, decide, commit) again while it raises StockConflict."""
    for _ in range(attempts - 1):
        try:
            return attempt()
        except StockConflict:
            continue
    return attempt()


def keys_for(warehouses: Sequence[str], skus: Iterable[str]) -> list[StockKey]:
    return [(w, s) for s in sorted(set(skus)) for w in warehouses]
