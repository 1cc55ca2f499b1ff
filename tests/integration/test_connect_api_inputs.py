"""Every bad input to the store API is a 4xx JSON error naming the field (never a 500); sync now; sync log."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from fixtures_stores import ACME, US, Api, connect_api, connected_store
from storesync.dal.job_state import record_run
from storesync.dal.jobs import SyncRun
from storesync.dal.stores import Store
from storesync.domain.notices import NoticeCode, notice

GOOD = {"name": "Acme US", "marketplace_id": US}


@pytest.fixture
def api(make_stack, spapi_sim, load_function, lambda_context) -> Api:
    return connect_api(make_stack, spapi_sim, load_function, lambda_context)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        ("", "body"),
        ({"marketplace_id": US}, "name"),
        ({**GOOD, "name": ""}, "name"),
        ({**GOOD, "name": "   "}, "name"),
        ({**GOOD, "name": "x" * 101}, "name"),
        ({**GOOD, "name": 42}, "name"),
        ({**GOOD, "marketplace_id": "XX"}, "marketplace_id"),
        ({**GOOD, "marketplace_id": None}, "marketplace_id"),
        ({**GOOD, "download_products_and_orders": "yes"}, "download_products_and_orders"),
        ({**GOOD, "starting_inventory": "everything"}, "starting_inventory"),
        ({**GOOD, "colour": "blue"}, "colour"),
    ],
)
def test_bad_store_creation_names_the_field(api, body, field):
    answer = api("POST", "/stores", body=body)
    assert 400 <= answer.status < 500, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and error["message"].startswith(field)


def test_store_names_may_be_100_characters(api):
    assert api("POST", "/stores", body={**GOOD, "name": "x" * 100}).status == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"inventory_buffer": -1}, "inventory_buffer"),
        ({"inventory_buffer": 1.5}, "inventory_buffer"),
        ({"inventory_buffer": "2"}, "inventory_buffer"),
        ({"inventory_buffer": None}, "inventory_buffer"),
        ({"max_quantity": -5}, "max_quantity"),
        ({"max_quantity": "ten"}, "max_quantity"),
        ({"import_pending_orders": 1}, "import_pending_orders"),
        ({"warehouses": "primary"}, "warehouses"),
        ({"warehouses": ["primary", "primary"]}, "warehouses"),
        ({"warehouses": ["wh_nowhere"]}, "warehouses"),
        ({"name": "renamed"}, "name"),
        ("nope", "body"),
    ],
)
def test_bad_settings_name_the_field(api, body, field):
    store = connected_store(api.sim, api.stack, ACME, US)
    answer = api("PATCH", f"/stores/{store.store_id}/settings", body=body)
    assert 400 <= answer.status < 500, answer.text
    assert answer.json()["error"]["field"] == field


def test_settings_change_only_what_is_sent(api):
    store = connected_store(api.sim, api.stack, ACME, US, inventory_buffer=1)
    created = api("POST", "/warehouses", body={"name": "Overflow"})
    assert created.status == 201
    warehouse_id = created.json()["warehouse_id"]
    answer = api(
        "PATCH",
        f"/stores/{store.store_id}/settings",
        body={"import_pending_orders": True, "max_quantity": 50, "warehouses": ["primary", warehouse_id]},
    )
    assert answer.status == 200, answer.text
    settings = answer.json()["settings"]
    assert settings["import_pending_orders"] is True and settings["max_quantity"] == 50
    assert settings["inventory_buffer"] == 1 and settings["warehouses"] == ["primary", warehouse_id]
    cleared = api("PATCH", f"/stores/{store.store_id}/settings", body={"max_quantity": None}).json()
    assert (
        cleared["settings"]["max_quantity"] is None and cleared["settings"]["import_pending_orders"] is True
    )


def test_warehouses_primary_first_and_bad_input(api):
    listed = api("GET", "/warehouses").json()["warehouses"]
    assert [(w["warehouse_id"], w["is_primary"]) for w in listed] == [("primary", True)]
    assert api("POST", "/warehouses", body={"name": ""}).json()["error"]["field"] == "name"
    assert api("POST", "/warehouses", body={"name": "Primary warehouse"}).status == 409
    assert api("POST", "/warehouses", body={"name": "East"}).status == 201
    other = api("GET", "/warehouses", merchant="merchant-2").json()["warehouses"]
    assert [w["warehouse_id"] for w in other] == ["primary"]


def test_no_claims_is_401(api):
    answer = api("GET", "/stores", merchant=None)
    assert answer.status == 401 and answer.json()["error"]["code"] == "unauthorized"


def test_unknown_route_is_json_404(api):
    answer = api("GET", "/nowhere")
    assert answer.status == 404 and answer.json()["error"]["field"] == "path"


def test_sync_now_enqueues_a_manual_job(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    answer = api("POST", f"/stores/{store.store_id}/sync", body={"job": "orders", "mode": "catchup"})
    assert answer.status == 202, answer.text
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=api.stack.queue_url("OrderImportQueue"), MaxNumberOfMessages=10)
    bodies = [json.loads(m["Body"]) for m in messages["Messages"]]
    assert bodies == [
        {
            "job": "orders",
            "mode": "catchup",
            "merchant_id": "merchant-1",
            "store_id": store.store_id,
            "trigger": "manual",
            "skus": [],
            "attempt": 0,
        }
    ]
    default = api("POST", f"/stores/{store.store_id}/sync", body={"job": "inventory"}).json()
    assert default["queued"]["mode"] == "incremental"


def write_plain_texts(table_name: str, key: dict[str, str], attribute: str, *texts: str) -> None:
    """Set a list attribute of one row as rows written before notices had codes hold it: plain strings."""
    boto3.client("dynamodb").update_item(
        TableName=table_name,
        Key={name: {"S": value} for name, value in key.items()},
        UpdateExpression=f"SET {attribute} = :old",
        ExpressionAttributeValues={":old": {"L": [{"S": text} for text in texts]}},
    )


def test_old_rows_with_plain_text_warnings_and_log_entries_still_show(api):
    """Stores deployed before notices had codes hold plain strings: they read as `legacy` notices."""
    store = connected_store(api.sim, api.stack, ACME, US)
    warning = "Inventory: Amazon rejected SKU A1: The product type is wrong"
    store_key = {"merchant_id": store.merchant_id, "store_id": store.store_id}
    write_plain_texts(Store.Meta.table_name, store_key, "warnings", warning)
    run = record_run(
        store_id=store.store_id, merchant_id=store.merchant_id, job="orders", mode="incremental",
        trigger="schedule", started_at=time.time(), result="partial", counts={}, errors=[],
    )  # fmt: skip
    entry = "Order 111-1 could not be read: no items"
    write_plain_texts(
        SyncRun.Meta.table_name, {"store_id": run.store_id, "run_key": run.run_key}, "errors", entry
    )
    legacy_warning = {
        "code": "legacy",
        "params": {"text": warning, "was": "listing_rejected", "sku": "A1"},
        "message": warning,
    }
    assert api("GET", f"/stores/{store.store_id}").json()["warnings"] == [legacy_warning]
    assert [s["warnings"] for s in api("GET", "/stores").json()["stores"]] == [[legacy_warning]]
    runs = api("GET", f"/stores/{store.store_id}/runs").json()["runs"]
    assert runs[0]["errors"] == [{"code": "legacy", "params": {"text": entry}, "message": entry}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job": "everything"}, "job"),
        ({"job": 3}, "job"),
        ({"job": "orders", "mode": "full"}, "mode"),
        ({"job": "shipments", "mode": "catchup"}, "mode"),
        ({}, "job"),
    ],
)
def test_sync_now_bad_input(api, body, field):
    store = connected_store(api.sim, api.stack, ACME, US)
    answer = api("POST", f"/stores/{store.store_id}/sync", body=body)
    assert answer.status == 400 and answer.json()["error"]["field"] == field


REFUSED = notice(NoticeCode.QUANTITY_REJECTED, quantity=3, sku="A1", reason="Amazon refused the quantity")


def test_sync_log_newest_first_filtered_by_job(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    now = time.time()
    for age, job, result in [(300, "orders", "ok"), (200, "products", "error"), (100, "orders", "partial")]:
        record_run(
            store_id=store.store_id, merchant_id="merchant-1", job=job, mode="incremental", trigger="schedule",
            started_at=now - age, result=result, counts={"imported": 2},
            errors=[REFUSED] if result != "ok" else [],
        )  # fmt: skip
    runs = api("GET", f"/stores/{store.store_id}/runs").json()["runs"]
    assert len(runs) == 3
    orders = api("GET", f"/stores/{store.store_id}/runs", query={"job": "orders"}).json()["runs"]
    assert [r["result"] for r in orders] == ["partial", "ok"]
    assert orders[0]["counts"] == {"imported": 2}
    assert orders[0]["errors"] == [
        {
            "code": "quantity_rejected",
            "params": {"quantity": 3, "sku": "A1", "reason": "Amazon refused the quantity"},
            "message": "Amazon rejected quantity 3 for SKU A1: Amazon refused the quantity",
        }
    ]
    bad = api("GET", f"/stores/{store.store_id}/runs", query={"limit": "0"})
    assert bad.status == 400 and bad.json()["error"]["field"] == "limit"
    bad = api("GET", f"/stores/{store.store_id}/runs", query={"job": "x"})
    assert bad.status == 400 and bad.json()["error"]["field"] == "job"
