"""A fix for moto's DynamoDB transactions: back up only the items a transaction touches, and isolate it.

moto 5.2.5's `DynamoDBBackend.transact_write_items` deep-copies every table a TransactWriteItems touches, once per
item of the transaction, before doing anything: the cost of one transaction grows with the size of the tables
(storing orders slowed from 20 a second to about 1 by the 2,500th order, and memory grew to 16 GB). It also
applies the transaction without any lock, so in moto's threaded server two transactions (or a transaction and a
single-item write, or a scan) interleave, and a rolled-back transaction restores whole tables over other
requests' writes.

`install()` replaces it with the same algorithm (same checks, same errors, same order, same answers) that:

- backs up, just before it writes an item, that item alone (a deep copy of it, or "absent"), and on rollback
  puts back only those items (and drops the stream records the transaction added);
- holds one re-entrant lock for the whole transaction; the item-level operations (GetItem, PutItem,
  UpdateItem, DeleteItem, Query, Scan, TransactGetItems) take the same lock, so each of them sees a
  transaction either wholly applied or not at all, as DynamoDB's serializable transactions do.

It is written to go upstream as is: `transact_write_items` is moto's method with the backup/rollback lines
changed, and the lock would become an attribute of the backend. The lock is one module-level lock (not an
attribute) so that moto's backends stay picklable/deep-copyable.

`install()` is idempotent and patches the classes, so it holds for every moto backend in this process, whether
used in server mode (`ThreadedMotoServer`) or with `mock_aws`.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any, cast

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

__all__ = ["LOCK", "ORIGINAL_TRANSACT_WRITE_ITEMS", "install", "installed", "transact_write_items"]

# One lock for every DynamoDB backend of the process: re-entrant because the transaction calls get_item,
# put_item... which take it too.
LOCK = threading.RLock()


# Backend methods that read or write items: each runs under the lock, so none sees half a transaction.
_LOCKED_BACKEND_METHODS = ("get_item", "put_item", "update_item", "delete_item", "query", "scan")
# TransactGetItems lives in moto's responses layer (a loop of get_item): it runs whole under the lock.
_LOCKED_HANDLER_METHODS = ("transact_get_items",)

_MARK = "_storesync_locked"

# moto's own method, kept so tests can run the same cases against it and against the fix.
ORIGINAL_TRANSACT_WRITE_ITEMS = DynamoDBBackend.transact_write_items


def _locked[F: Callable[..., Any]](method: F) -> F:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return method(*args, **kwargs)

    setattr(wrapper, _MARK, True)
    return cast(F, wrapper)


class _ItemBackup:
    """The items a transaction has touched, as they were before it, and each table's stream length."""

    def __init__(self) -> None:
        # (table, hash key, range key or None, the item before the transaction or None if it did not exist)
        self._items: list[tuple[Table, DynamoType, DynamoType | None, Item | None]] = []
        self._stream_lengths: dict[int, tuple[Table, int]] = {}

    def remember(self, backend: DynamoDBBackend, table_name: str, key: dict[str, Any]) -> None:
        """Save the item at `key` (called before the transaction writes it; a bad key saves nothing: the
        operation then fails before writing)."""
        try:
            table = backend.get_table(table_name)
            hash_value, range_value = backend.get_keys_value(table, key)
            current = table.get_item(hash_value, range_value)
        except Exception:  # noqa: BLE001 - the operation itself reports the error
            return
        if id(table) not in self._stream_lengths:
            shard = table.stream_shard
            self._stream_lengths[id(table)] = (table, len(shard.items) if shard is not None else 0)
        self._items.append((table, hash_value, range_value, copy.deepcopy(current)))

    def restore(self) -> None:
        """Put every touched item back as it was (latest first), without stream records, and drop the stream
        records the transaction added."""
        for table, hash_value, range_value, before in reversed(self._items):
            if range_value is not None:
                hash_set = table.items[hash_value]
                if before is None:
                    hash_set.pop(range_value, None)
                    if not hash_set:
                        table.items.pop(hash_value, None)
                else:
                    hash_set[range_value] = before
            elif before is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = before  # type: ignore[assignment]  # hash-only: Item, not dict
        for table, length in self._stream_lengths.values():
            shard = table.stream_shard
            if shard is not None and len(shard.items) > length:
                del shard.items[length:]


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's `transact_write_items`, backing up only the touched items, under the lock."""
    with LOCK:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        # Backup of the items the transaction writes, taken just before each is written
        backup = _ItemBackup()

        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        errors: list[
            tuple[str, str, dict[str, Any]] | tuple[None, None, None]
        ] = []  # [(Code, Message, Item), ..]
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            # Check transact writes are not performing multiple operations on the same item
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException

            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")

                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

                if op_type == "Put":
                    attrs = op["Item"]
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]

                check_unicity(table_name, key)

                current = self.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(
                        condition_expression,
                        expression_attribute_names,
                        expression_attribute_values,
                    )
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type in {"Put", "Delete", "Update"}:
                    backup.remember(self, table_name, key)
                if op_type == "Put":
                    attrs = op["Item"]
                    self.put_item(
                        table_name,
                        attrs,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        table_name,
                        key,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Update":
                    update_expression = op["UpdateExpression"]
                    self.update_item(
                        table_name,
                        key,
                        update_expression=update_expression,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                # Rollback to the original state, and reraise the error
                backup.restore()
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:  # noqa: BLE001 - moto collects every other error as the item's reason
                # For other exceptions, capture their details
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

        if any(code is not None for code, _, _ in errors):
            # Rollback to the original state, and reraise the errors
            backup.restore()
            raise TransactionCanceledException(errors)


def installed() -> bool:
    """True when moto's DynamoDB runs with this fix."""
    return getattr(DynamoDBBackend.transact_write_items, _MARK, False) is True


def install() -> None:
    """Patch moto's DynamoDB (every backend of this process) with the fix. Idempotent."""
    with LOCK:
        if installed():
            return
        for name in _LOCKED_BACKEND_METHODS:
            setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
        for name in _LOCKED_HANDLER_METHODS:
            setattr(DynamoHandler, name, _locked(getattr(DynamoHandler, name)))
        setattr(transact_write_items, _MARK, True)
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
