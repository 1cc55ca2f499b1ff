"""WMS stock API: PUT on hand, atomic adjustments, GET /inventory; every bad input a 4xx naming the field."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from fixtures_stores import Api, connect_api, connected_store
from inventory_push_support import SELLER, US, mirror_listings
from storesync.clock import utcnow
from storesync.dal.products import Product
from storesync.jobs import JobMessage

MERCHANT = "merchant-1"


@pytest.fixture
def api(make_stack: Any, spapi_sim: Any, load_function: Any, lambda_context: Any) -> Api:
    api = connect_api(make_stack, spapi_sim, load_function, lambda_context)
    now = utcnow()
    for sku in ("SKU-A", "SKU-B"):
        Product(MERCHANT, sku, title=sku, created_at=now, updated_at=now).save()
    return api


def _stock(api: Api, sku: str) -> dict[str, Any]:
    found = api("GET", "/inventory", merchant=MERCHANT).json()["inventory"]
    return next(x for x in found if x["sku"] == sku)


def test_set_on_hand_then_adjust_atomically(api: Api) -> None:
    answer = api("PUT", "/inventory/primary/SKU-A", merchant=MERCHANT, body={"on_hand": 10})
    assert answer.status == 200, answer.text
    assert answer.json()["available"] == 10
    adjusted = api(
        "POST",
        "/inventory/adjustments",
        merchant=MERCHANT,
        body={"adjustments": [
            {"warehouse_id": "primary", "sku": "SKU-A", "delta": -3, "reason": "damaged"},
            {"warehouse_id": "primary", "sku": "SKU-B", "delta": 5, "reason": "found in a box"},
        ]},
    )  # fmt: skip
    assert adjusted.status == 200, adjusted.text
    assert _stock(api, "SKU-A")["warehouses"] == [
        {"warehouse_id": "primary", "on_hand": 7, "allocated": 0, "available": 7}
    ]
    assert _stock(api, "SKU-B")["available"] == 5


def test_an_adjustment_below_zero_applies_nothing(api: Api) -> None:
    api("PUT", "/inventory/primary/SKU-A", merchant=MERCHANT, body={"on_hand": 2})
    answer = api(
        "POST",
        "/inventory/adjustments",
        merchant=MERCHANT,
        body={"adjustments": [
            {"warehouse_id": "primary", "sku": "SKU-B", "delta": 4, "reason": "receipt"},
            {"warehouse_id": "primary", "sku": "SKU-A", "delta": -3, "reason": "count"},
        ]},
    )  # fmt: skip
    assert answer.status == 400
    assert answer.json()["error"]["field"] == "adjustments[1].delta"
    assert _stock(api, "SKU-A")["available"] == 2
    assert not any(
        x["sku"] == "SKU-B" for x in api("GET", "/inventory", merchant=MERCHANT).json()["inventory"]
    )


@pytest.mark.parametrize(
    ("path", "body", "field", "status"),
    [
        ("/inventory/primary/SKU-A", {"on_hand": -1}, "on_hand", 400),
        ("/inventory/primary/SKU-A", {"on_hand": 1.5}, "on_hand", 400),
        ("/inventory/primary/SKU-A", {"on_hand": "7"}, "on_hand", 400),
        ("/inventory/primary/SKU-A", {"on_hand": True}, "on_hand", 400),
        ("/inventory/primary/SKU-A", {}, "on_hand", 400),
        ("/inventory/nowhere/SKU-A", {"on_hand": 1}, "warehouse_id", 404),
        ("/inventory/primary/NOT-A-PRODUCT", {"on_hand": 1}, "sku", 404),
    ],
)
def test_bad_on_hand_names_the_field(api: Api, path: str, body: Any, field: str, status: int) -> None:
    answer = api("PUT", path, merchant=MERCHANT, body=body)
    assert (answer.status, answer.json()["error"]["field"]) == (status, field)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"delta": 1.5}, "adjustments[0].delta"),
        ({"delta": "x"}, "adjustments[0].delta"),
        ({"reason": ""}, "adjustments[0].reason"),
        ({"warehouse_id": "nowhere"}, "adjustments[0].warehouse_id"),
        ({"sku": "NOT-A-PRODUCT"}, "adjustments[0].sku"),
    ],
)
def test_bad_adjustments_name_the_field(api: Api, line: dict[str, Any], field: str) -> None:
    body = {"adjustments": [{"warehouse_id": "primary", "sku": "SKU-A", "delta": 1, "reason": "r", **line}]}
    answer = api("POST", "/inventory/adjustments", merchant=MERCHANT, body=body)
    assert answer.status == 400
    assert answer.json()["error"]["field"] == field


def test_stock_out_through_the_api_queues_the_fast_push_and_the_view_shows_the_store(api: Api) -> None:
    store = connected_store(api.sim, api.stack, SELLER, US, merchant_id=MERCHANT)
    sku = next(
        x.sku
        for x in mirror_listings(api.sim, store)
        if x.channel == "FBM" and (x.last_pushed_quantity or 0) > 0
    )
    api("PUT", f"/inventory/primary/{sku}", merchant=MERCHANT, body={"on_hand": 0})

    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=os.environ["INVENTORY_PUSH_QUEUE_URL"], MaxNumberOfMessages=10)
    messages = [JobMessage.model_validate_json(m["Body"]) for m in got.get("Messages", [])]
    assert [(m.mode, m.skus) for m in messages] == [("stockout", (sku,))]
    view = _stock(api, sku)
    assert view["available"] == 0
    assert view["stores"][0]["store_id"] == store.store_id
    assert view["stores"][0]["amazon_quantity"] > 0
