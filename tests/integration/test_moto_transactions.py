"""The moto transaction fix (`storesync_local.moto_transactions`) keeps moto's TransactWriteItems semantics, backs up
only the touched items, and isolates a transaction from other requests.

The semantics cases follow moto's own suite (tests/test_dynamodb/test_dynamodb_transact.py and
exceptions/test_dynamodb_transactions.py), rewritten here; each runs twice: against moto's original method and
against the fix, so a difference between them fails here.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from storesync_local import moto_transactions

REGION = "us-east-1"


@pytest.fixture(params=["moto", "fixed"])
def flavour(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    moto_transactions.install()
    method = moto_transactions.ORIGINAL_TRANSACT_WRITE_ITEMS if request.param == "moto" else None
    if method is not None:
        monkeypatch.setattr(DynamoDBBackend, "transact_write_items", method)
    return str(request.param)


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # in-process moto, not the session's server
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def _table(ddb: Any, *, range_key: bool = False, stream: bool = False, gsi: bool = False) -> str:
    name = f"T{uuid.uuid4().hex}"
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "S"})
    extra: dict[str, Any] = {}
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if gsi:
        attrs.append({"AttributeName": "gk", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [
            {"IndexName": "by_gk", "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}}
        ]  # fmt: skip
    ddb.create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST", **extra
    )
    return name


def _items(ddb: Any, table: str) -> list[dict[str, Any]]:
    return sorted(
        ddb.scan(TableName=table)["Items"], key=lambda i: (i["pk"]["S"], i.get("sk", {}).get("S", ""))
    )


def _cancelled(ddb: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        ddb.transact_write_items(TransactItems=items)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return dict(exc.value.response)


# --- moto's semantics, on the original and on the fix --------------------------------------------------------------


def test_put_several_items(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"p{i}"}, "v": {"S": "x"}}}} for i in range(5)
        ]
    )
    assert [i["pk"]["S"] for i in _items(ddb, table)] == [f"p{i}" for i in range(5)]


def test_failed_put_condition_cancels_every_put(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "p2"}})
    response = _cancelled(
        ddb,
        [
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"p{i}"}, "v": {"S": "x"}},
                     "ConditionExpression": "#k <> :k", "ExpressionAttributeNames": {"#k": "pk"},
                     "ExpressionAttributeValues": {":k": {"S": "p2"}}}}
            for i in range(5)
        ],
    )  # fmt: skip
    assert response["Error"]["Code"] == "TransactionCanceledException"
    reasons = response["CancellationReasons"]
    assert len(reasons) == 5
    assert {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"} in reasons
    assert {"Code": "None"} in reasons
    assert _items(ddb, table) == [{"pk": {"S": "p2"}}]


@pytest.mark.parametrize("operation", ["ConditionCheck", "Put", "Delete", "Update"])
def test_failure_returns_the_old_item_when_asked(flavour: str, ddb: Any, operation: str) -> None:
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "p2"}})
    items = []
    for i in range(5):
        op: dict[str, Any] = {
            "TableName": table, "Key": {"pk": {"S": f"p{i}"}}, "ConditionExpression": "#k <> :k",
            "ExpressionAttributeNames": {"#k": "pk"}, "ExpressionAttributeValues": {":k": {"S": "p2"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }  # fmt: skip
        if operation == "Update":
            op["UpdateExpression"] = "SET v = :k"
        elif operation == "Put":
            op["Item"] = {"pk": op.pop("Key")["pk"], "v": {"S": "x"}}
        items.append({operation: op})
    response = _cancelled(ddb, items)
    reasons = response["CancellationReasons"]
    assert len(reasons) == 5
    assert {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
            "Item": {"pk": {"S": "p2"}}} in reasons  # fmt: skip
    assert _items(ddb, table) == [{"pk": {"S": "p2"}}]


def test_condition_check_passes_then_put(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "email": {"S": "a@x"}})
    ddb.transact_write_items(
        TransactItems=[
            {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "a"}},
                                "ConditionExpression": "attribute_exists(email)"}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}, "email": {"S": "b@x"}}}},
        ]
    )  # fmt: skip
    assert _items(ddb, table) == [
        {"pk": {"S": "a"}, "email": {"S": "a@x"}},
        {"pk": {"S": "b"}, "email": {"S": "b@x"}},
    ]


def test_condition_check_fails_nothing_written(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    response = _cancelled(
        ddb,
        [
            {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "a"}},
                                "ConditionExpression": "attribute_exists(email)"}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}}}},
        ],
    )  # fmt: skip
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert _items(ddb, table) == [{"pk": {"S": "a"}}]


def test_delete_with_and_without_condition(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "email": {"S": "b@x"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}})
    ddb.transact_write_items(TransactItems=[{"Delete": {"TableName": table, "Key": {"pk": {"S": "a"}}}}])
    not_email = {"ConditionExpression": "attribute_not_exists(email)"}
    ddb.transact_write_items(
        TransactItems=[{"Delete": {"TableName": table, "Key": {"pk": {"S": "c"}}, **not_email}}]
    )
    response = _cancelled(ddb, [{"Delete": {"TableName": table, "Key": {"pk": {"S": "b"}}, **not_email}}])
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert _items(ddb, table) == [{"pk": {"S": "b"}, "email": {"S": "b@x"}}]


def test_update_and_failed_update(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    set_email = {"UpdateExpression": "SET email = :v", "ExpressionAttributeValues": {":v": {"S": "a@x"}}}
    ddb.transact_write_items(
        TransactItems=[{"Update": {"TableName": table, "Key": {"pk": {"S": "a"}}, **set_email}}]
    )
    assert _items(ddb, table) == [{"pk": {"S": "a"}, "email": {"S": "a@x"}}]
    again = {"UpdateExpression": "SET email = :v", "ExpressionAttributeValues": {":v": {"S": "new@x"}},
             "ConditionExpression": "attribute_not_exists(email)"}  # fmt: skip
    _cancelled(ddb, [{"Update": {"TableName": table, "Key": {"pk": {"S": "a"}}, **again}}])
    assert _items(ddb, table) == [{"pk": {"S": "a"}, "email": {"S": "a@x"}}]


def test_cancellation_message_lists_every_reason_and_first_update_is_undone(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    update = {"UpdateExpression": "SET k = :v", "ConditionExpression": "attribute_exists(pk)",
              "ExpressionAttributeValues": {":v": {"S": "value"}}}  # fmt: skip
    response = _cancelled(
        ddb,
        [
            {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}}, **update}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "missing"}}, **update}},
        ],
    )
    assert response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    )
    assert _items(ddb, table) == [{"pk": {"S": "a"}}]


def test_table_arn_as_table_name(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": arn, "Item": {"pk": {"S": "a"}}}}])
    got = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": arn, "Key": {"pk": {"S": "a"}}}}])
    assert got["Responses"] == [{"Item": {"pk": {"S": "a"}}}]


def test_two_operations_on_one_item_rejected(flavour: str, ddb: Any) -> None:
    table = _table(ddb, range_key=True)
    response = _cancelled(
        ddb,
        [
            {"Put": {"TableName": table, "Item": {"pk": {"S": "p"}, "sk": {"S": "s"}, "v": {"S": "x"}}}},
            # the same key, attributes in the other order
            {"Delete": {"TableName": table, "Key": {"sk": {"S": "s"}, "pk": {"S": "p"}}}},
        ],
    )
    assert response["Error"]["Code"] == "ValidationException"
    assert (
        response["Error"]["Message"] == "Transaction request cannot include multiple operations on one item"
    )
    assert _items(ddb, table) == []  # the Put before the rejected Delete is undone


def test_validation_error_mid_transaction_undoes_earlier_writes(flavour: str, ddb: Any) -> None:
    table = _table(ddb, gsi=True)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "gk": {"S": "g"}})
    response = _cancelled(
        ddb,
        [
            {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}, "gk": {"S": "changed"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}, "gk": {"S": "g"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "c"}, "gk": {"S": ""}}}},  # empty index key
        ],
    )
    assert response["Error"]["Code"] == "ValidationException"
    assert "IndexKey: gk" in response["Error"]["Message"]
    assert _items(ddb, table) == [{"pk": {"S": "a"}, "gk": {"S": "g"}}]
    by_gk = ddb.query(TableName=table, IndexName="by_gk", KeyConditionExpression="gk = :g",
                      ExpressionAttributeValues={":g": {"S": "g"}})["Items"]  # fmt: skip
    assert by_gk == [{"pk": {"S": "a"}, "gk": {"S": "g"}}]


def test_one_entry_with_two_operations_rejected(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    response = _cancelled(
        ddb,
        [{"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}},
          "Delete": {"TableName": table, "Key": {"pk": {"S": "a"}}}}],
    )  # fmt: skip
    assert response["Error"]["Code"] == "ValidationException"
    assert (
        response["Error"]["Message"] == "TransactItems can only contain one of Check, Put, Update or Delete"
    )


def test_more_than_100_operations_rejected(flavour: str, ddb: Any) -> None:
    table = _table(ddb)
    response = _cancelled(
        ddb, [{"Put": {"TableName": table, "Item": {"pk": {"S": f"p{i}"}}}} for i in range(101)]
    )
    assert response["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 100" in response["Error"]["Message"]
    assert _items(ddb, table) == []


def test_rollback_on_range_key_table_across_two_tables(flavour: str, ddb: Any) -> None:
    """Inserted items disappear, updated and deleted ones come back as they were, in both tables."""
    orders, ledger = _table(ddb, range_key=True), _table(ddb)
    ddb.put_item(TableName=orders, Item={"pk": {"S": "o"}, "sk": {"S": "1"}, "n": {"N": "1"}})
    ddb.put_item(TableName=orders, Item={"pk": {"S": "o"}, "sk": {"S": "2"}, "tags": {"SS": ["a"]}})
    ddb.put_item(TableName=ledger, Item={"pk": {"S": "sku"}, "qty": {"N": "5"}})
    response = _cancelled(
        ddb,
        [
            {"Update": {"TableName": orders, "Key": {"pk": {"S": "o"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Update": {"TableName": orders, "Key": {"pk": {"S": "o"}, "sk": {"S": "2"}},
                        "UpdateExpression": "ADD tags :b", "ExpressionAttributeValues": {":b": {"SS": ["b"]}}}},
            {"Put": {"TableName": orders, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
            {"Delete": {"TableName": ledger, "Key": {"pk": {"S": "sku"}}}},
            {"ConditionCheck": {"TableName": ledger, "Key": {"pk": {"S": "other"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ],
    )  # fmt: skip
    assert [r["Code"] for r in response["CancellationReasons"]] == ["None"] * 4 + ["ConditionalCheckFailed"]
    assert _items(ddb, orders) == [
        {"pk": {"S": "o"}, "sk": {"S": "1"}, "n": {"N": "1"}},
        {"pk": {"S": "o"}, "sk": {"S": "2"}, "tags": {"SS": ["a"]}},
    ]
    assert _items(ddb, ledger) == [{"pk": {"S": "sku"}, "qty": {"N": "5"}}]
    assert ddb.describe_table(TableName=orders)["Table"]["ItemCount"] == 2


def test_cancelled_transaction_leaves_no_stream_record(flavour: str, ddb: Any) -> None:
    table = _table(ddb, stream=True)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    _cancelled(
        ddb,
        [
            {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "zz"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ],
    )  # fmt: skip
    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(table).stream_shard
    assert shard is not None
    assert [(r.record["eventName"], r.record["dynamodb"]["Keys"]["pk"]["S"]) for r in shard.items] == [
        ("INSERT", "a")
    ]


# --- what the fix adds -----------------------------------------------------------------------------------------------


def test_fix_is_installed_for_the_moto_fixtures(moto_endpoint: str) -> None:
    assert moto_transactions.installed()
    assert DynamoDBBackend.transact_write_items is moto_transactions.transact_write_items


def test_transaction_never_copies_a_table(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost of a transaction does not depend on the size of the tables it touches (moto's original method
    deep-copies each table once per operation: this test fails on it)."""
    moto_transactions.install()
    table = _table(ddb, range_key=True)
    for i in range(50):
        ddb.put_item(TableName=table, Item={"pk": {"S": "o"}, "sk": {"S": f"{i:03}"}})

    def refuse(self: Table, memo: Any) -> Table:
        raise AssertionError("a transaction deep-copied a whole table")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    ddb.transact_write_items(
        TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": {"S": "o"}, "sk": {"S": "001"}},
                        "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "o"}, "sk": {"S": "new"}}}},
        ]
    )  # fmt: skip
    _cancelled(
        ddb,
        [
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "o"}, "sk": {"S": "002"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "o"}, "sk": {"S": "zzz"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ],
    )  # fmt: skip
    assert len(_items(ddb, table)) == 51


def test_rollback_keeps_other_items_written_meanwhile(ddb: Any) -> None:
    """Restoring puts back only the transaction's items: an item of the same table written before the failure
    (here by a put inside the transaction's own run, as another request would) stays."""
    moto_transactions.install()
    table = _table(ddb)
    original_update = DynamoDBBackend.update_item

    def update_then_someone_else_writes(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        result = original_update(self, *args, **kwargs)
        self.put_item(table, {"pk": {"S": "other"}})
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DynamoDBBackend, "update_item", update_then_someone_else_writes)
        _cancelled(
            ddb,
            [
                {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET v = :v",
                            "ExpressionAttributeValues": {":v": {"S": "x"}}}},
                {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "zz"}},
                                    "ConditionExpression": "attribute_exists(pk)"}},
            ],
        )  # fmt: skip
    assert _items(ddb, table) == [{"pk": {"S": "other"}}]


def test_readers_never_see_half_a_transaction(ddb: Any) -> None:
    """A transaction paused after its first write: a GetItem and a TransactGetItems from another thread wait for
    it and see both writes (without the lock they read the first write alone)."""
    moto_transactions.install()
    table = _table(ddb)
    for key in ("a", "b"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": "0"}})
    first_written, go_on = threading.Event(), threading.Event()
    original_update = DynamoDBBackend.update_item

    def pausing_update(self: DynamoDBBackend, table_name: str, key: dict[str, Any], **kwargs: Any) -> Any:
        result = original_update(self, table_name, key, **kwargs)
        if key["pk"]["S"] == "a":
            first_written.set()
            go_on.wait(timeout=10)
        return result

    increment = {"UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}
    seen: list[Any] = []

    def read() -> None:
        reader = boto3.client("dynamodb", region_name=REGION)
        seen.append(reader.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["n"]["N"])
        got = reader.transact_get_items(
            TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"S": k}}}} for k in ("a", "b")]
        )
        seen.append([r["Item"]["n"]["N"] for r in got["Responses"]])

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DynamoDBBackend, "update_item", pausing_update)
        writer = threading.Thread(
            target=lambda: ddb.transact_write_items(
                TransactItems=[
                    {"Update": {"TableName": table, "Key": {"pk": {"S": k}}, **increment}} for k in ("a", "b")
                ]  # fmt: skip
            )
        )
        writer.start()
        assert first_written.wait(timeout=10)
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=0.5)
        blocked = reader.is_alive()
        go_on.set()
        writer.join(timeout=10)
        reader.join(timeout=10)
    assert blocked, "the reader did not wait for the transaction"
    assert seen == ["1", ["1", "1"]]


def test_concurrent_conditional_transactions_are_serialised(ddb: Any) -> None:
    """Eight threads each take 25 units from a stock of 100 with a condition `qty >= :n` and write a record per
    take: exactly four succeed, and stock and records agree."""
    moto_transactions.install()
    stock, takes = _table(ddb), _table(ddb)
    ddb.put_item(TableName=stock, Item={"pk": {"S": "sku"}, "qty": {"N": "100"}})
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def take(i: int) -> None:
        client = boto3.client("dynamodb", region_name=REGION)
        barrier.wait()
        try:
            client.transact_write_items(
                TransactItems=[
                    {"Update": {"TableName": stock, "Key": {"pk": {"S": "sku"}},
                                "UpdateExpression": "SET qty = qty - :n", "ConditionExpression": "qty >= :n",
                                "ExpressionAttributeValues": {":n": {"N": "25"}}}},
                    {"Put": {"TableName": takes, "Item": {"pk": {"S": f"take{i}"}}}},
                ]
            )  # fmt: skip
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["TransactionCanceledException"] * 4 + ["ok"] * 4
    assert _items(ddb, stock) == [{"pk": {"S": "sku"}, "qty": {"N": "0"}}]
    assert len(_items(ddb, takes)) == 4
