"""Dispatch through moto: a schedule event -> one SQS message per store that should run the job."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from shipment_push_support import drain
from storesync.dal.stores import Store, StoreSettings

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _store(merchant: str, store_id: str, status: str = "active", download: bool = True) -> Store:
    store = Store(
        merchant,
        store_id,
        name=f"Store {store_id}",
        marketplace_id="ATVPDKIKX0DER",
        region="NA",
        status=status,
        settings=StoreSettings(download_products_and_orders=download),
        created_at=datetime.now(UTC),
    )
    store.save()
    return store


def test_schedule_dispatches_one_message_per_active_store(stack, load_function, lambda_context):
    _store("m1", "s1")
    _store("m1", "s2", download=False)
    _store("m2", "s3")
    _store("m2", "s4", status="pending_authorization")
    _store("m2", "s5", status="disconnected")
    _store("m2", "s6", status="needs_reauthorization")  # paused until reauthorized: no job, no retry loop
    handler = load_function("DispatchFunction")

    event = json.loads((EVENTS / "schedule_orders.json").read_text())
    assert handler(event, lambda_context)["dispatched"] == 3
    orders = drain(stack.queue_url("OrderImportQueue"))
    assert sorted(m["store_id"] for m in orders) == ["s1", "s2", "s3"]
    assert {m["mode"] for m in orders} == {"incremental"}

    # Product imports only go to stores whose download setting is on (B5).
    result = handler({"job": "products", "mode": "full"}, lambda_context)
    assert result["dispatched"] == 2
    products = drain(stack.queue_url("ProductImportQueue"))
    assert sorted(m["store_id"] for m in products) == ["s1", "s3"]
    assert {m["mode"] for m in products} == {"full"}


def test_dispatch_refuses_an_unknown_job(stack, load_function, lambda_context):
    handler = load_function("DispatchFunction")
    try:
        handler({"job": "teleport", "mode": "incremental"}, lambda_context)
    except Exception as exc:  # pydantic ValidationError names the field
        assert "job" in str(exc)
    else:
        raise AssertionError("an unknown job must be refused")
