"""The events for the WMS in the local runtime (issue 16 part 5): the runtime creates the template's bus on moto
with a rule -> SQS queue; a store connected over HTTP imports its orders on the fast clock and each order's
Order Imported arrives on that queue once, valid against its schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from jsonschema import Draft4Validator, FormatChecker
from storesync_local.client import StoresyncClient
from storesync_local.runtime import LocalRuntime
from storesync_local.template import LOCAL_EVENTS_QUEUE
from storesync_local.waiting import wait_for

pytestmark = pytest.mark.e2e

ACME, US = "A1NASELLER0001", "ATVPDKIKX0DER"
SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"


def test_the_local_bus_delivers_storesync_events_to_the_wms_queue(local_runtime: LocalRuntime) -> None:
    client = StoresyncClient.signed_in(local_runtime.api_url, "merchant-events")
    store_id, landing = client.connect_store(
        ACME, US, "Acme US", download_products_and_orders=True, starting_inventory="match_amazon"
    )
    assert dict(parse_qsl(urlsplit(landing).query)).get("outcome") == "connected", landing
    assert local_runtime.provisioned is not None
    url = local_runtime.provisioned.queue_url(LOCAL_EVENTS_QUEUE)
    received: list[dict[str, Any]] = []

    def imported() -> list[dict[str, Any]]:
        answer = local_runtime.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages") or []:
            received.append(json.loads(message["Body"]))
            local_runtime.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [
            e for e in received if e["detail-type"] == "Order Imported" and e["detail"]["storeId"] == store_id
        ]

    first = wait_for(imported, what="an Order Imported event on the WMS queue", timeout=120)
    order_id = first[0]["detail"]["amazonOrderId"]
    order = client.get(f"/orders/{store_id}.{order_id}")
    assert order["status"] == first[0]["detail"]["status"]  # committed before it was told
    for event in received:
        schema = json.loads((SCHEMAS / (event["detail-type"].replace(" ", "") + ".json")).read_text())
        Draft4Validator(schema, format_checker=FormatChecker()).validate(event)
    ids = [e["detail"]["eventId"] for e in imported()]
    assert len(ids) == len(set(ids))  # each order imported once
