"""Job messages (one mode rule), the typed SQS record models, and one settings model per function."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import sqs_record
from pydantic import ValidationError
from storesync.jobs import JOB_MODES, JobMessage, JobMode, JobName, ScheduleInput
from storesync.settings import (
    ApiSettings,
    DispatchSettings,
    FunctionSettings,
    InventoryPushSettings,
    OrderImportSettings,
    ProductImportSettings,
    SettingsError,
    ShipmentPushSettings,
)
from storesync.sqs_jobs import JobRecord
from storesync.usecases.order_notifications import OrderChange, OrderChangeRecord, handle_order_change_batch
from storesync_local.template import load_template

STORE = {"merchant_id": "m1", "store_id": "s1"}


def test_a_missing_or_null_mode_is_the_jobs_first() -> None:
    for job, modes in JOB_MODES.items():
        assert JobMessage(job=job, **STORE).mode == modes[0]
        assert JobMessage.model_validate({"job": job.value, "mode": None, **STORE}).mode == modes[0]
        assert ScheduleInput.model_validate({"job": job.value}).mode == modes[0]


def test_the_job_and_its_modes_are_enums_with_todays_strings() -> None:
    message = JobMessage.model_validate_json(
        '{"job": "orders", "mode": "catchup", "merchant_id": "m", "store_id": "s"}'
    )
    assert (message.job, message.mode) == (JobName.ORDERS, JobMode.CATCHUP)
    assert json.loads(message.model_dump_json())["mode"] == "catchup"
    assert [j.value for j in JobName] == ["products", "orders", "inventory", "shipments"]


@pytest.mark.parametrize("model", [JobMessage, ScheduleInput])
def test_a_mode_the_job_does_not_accept_is_refused_naming_the_field(model: Any) -> None:
    with pytest.raises(ValidationError, match="mode: shipments accepts incremental, not full"):
        model.model_validate({"job": "shipments", "mode": "full", **(STORE if model is JobMessage else {})})
    with pytest.raises(ValidationError, match="mode"):
        model.model_validate({"job": "orders", "mode": "sometimes", **(STORE if model is JobMessage else {})})
    with pytest.raises(ValidationError, match="job"):
        model.model_validate({"job": "returns", **(STORE if model is JobMessage else {})})


def test_a_job_record_body_is_a_validated_job_message() -> None:
    record = JobRecord.model_validate(
        sqs_record('{"job": "inventory", "mode": "stockout", "merchant_id": "m", "store_id": "s"}')
    )
    assert record.body == JobMessage(
        job=JobName.INVENTORY, mode=JobMode.STOCKOUT, merchant_id="m", store_id="s"
    )
    with pytest.raises(ValidationError) as bad:
        JobRecord.model_validate(sqs_record('{"job": "inventory", "merchant_id": "m", "store_id": ""}'))
    assert [e["loc"] for e in bad.value.errors()] == [("body", "store_id")]


NOTIFICATION = {
    "NotificationType": "ORDER_CHANGE",
    "NotificationMetadata": {"NotificationId": "n-1"},
    "Payload": {
        "OrderChangeNotification": {
            "SellerId": "A1SELLER",
            "AmazonOrderId": "111-1",
            "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": "Unshipped"},
        }
    },
}


def test_a_malformed_notification_fails_alone_and_its_failure_names_the_field() -> None:
    broken = json.loads(json.dumps(NOTIFICATION))
    del broken["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    seen: list[OrderChange] = []
    event = {
        "Records": [
            sqs_record(json.dumps(NOTIFICATION), message_id="good"),
            sqs_record(json.dumps(broken), message_id="bad"),
            sqs_record("{", message_id="not-json"),
        ]
    }
    answer = handle_order_change_batch(event, None, seen.append)
    assert answer["batchItemFailures"] == [{"itemIdentifier": "bad"}, {"itemIdentifier": "not-json"}]
    assert seen == [OrderChange("n-1", "A1SELLER", "111-1", "ATVPDKIKX0DER", "Unshipped")]
    with pytest.raises(ValidationError) as bad:
        OrderChangeRecord.model_validate(sqs_record(json.dumps(broken)))
    assert [e["loc"] for e in bad.value.errors()] == [
        ("body", "Payload", "OrderChangeNotification", "AmazonOrderId")
    ]


# Each function's settings model; template.yaml must give it exactly these variables.
FUNCTION_SETTINGS: dict[str, type[FunctionSettings]] = {
    "DispatchFunction": DispatchSettings,
    "ProductImportFunction": ProductImportSettings,
    "OrderImportFunction": OrderImportSettings,
    "InventoryPushFunction": InventoryPushSettings,
    "ShipmentPushFunction": ShipmentPushSettings,
    "ApiFunction": ApiSettings,
}
LAMBDA_GIVES = {"aws_region", "aws_endpoint_url"}  # the Lambda runtime / AWS SDK, not the template
LOCAL_ONLY = {"spapi_quota_scale", "local_dev_tokens", "local_jwt_secret"}  # the local runtime sets these


@pytest.mark.parametrize("logical_id", sorted(FUNCTION_SETTINGS))
def test_each_function_gets_exactly_the_variables_of_its_settings(logical_id: str) -> None:
    template = load_template()
    env = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    env.update(template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {}))
    given = {name.lower() for name in env if not name.startswith("POWERTOOLS_")}
    settings = FUNCTION_SETTINGS[logical_id]
    fields = set(settings.model_fields) - LAMBDA_GIVES
    required = {name for name, field in settings.model_fields.items() if field.is_required()}
    assert required <= given, f"{logical_id} lacks {sorted(required - given)}"
    assert given <= fields, f"{logical_id} is given {sorted(given - fields)} it does not read"
    assert fields - given <= LOCAL_ONLY | {n for n, f in settings.model_fields.items() if not f.is_required()}


def test_a_missing_variable_fails_the_start_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_PREFIX", "unit")
    for name in ("PRODUCT_IMPORT_QUEUE_URL", "ORDER_IMPORT_QUEUE_URL", "INVENTORY_PUSH_QUEUE_URL"):
        monkeypatch.setenv(name, f"https://sqs/{name}")
    monkeypatch.delenv("SHIPMENT_PUSH_QUEUE_URL", raising=False)
    with pytest.raises(SettingsError, match="DispatchSettings: SHIPMENT_PUSH_QUEUE_URL: Field required"):
        DispatchSettings.load()
    monkeypatch.setenv("SHIPMENT_PUSH_QUEUE_URL", "https://sqs/shipments")
    monkeypatch.delenv("KMS_KEY_ID", raising=False)
    settings = DispatchSettings.load()  # dispatch needs no KMS key, no LWA secret
    assert settings.queue_urls()[JobName.SHIPMENTS] == "https://sqs/shipments"
    monkeypatch.setenv("ORDERS_CATCHUP_DAYS", "0")
    with pytest.raises(SettingsError, match="ORDERS_CATCHUP_DAYS"):
        OrderImportSettings.load()


def test_a_function_names_only_the_queues_it_sends_to() -> None:
    settings = ShipmentPushSettings(
        table_prefix="p", kms_key_id="k", lwa_secret_id="l", shipment_push_queue_url="u"
    )
    assert settings.queue_urls() == {JobName.SHIPMENTS: "u"}


def test_the_orders_overlap_takes_fractions_of_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local runtime at speed S gives storesync 5 / S real minutes (its clock is real, its schedules S times
    faster): a whole number of minutes would make every sweep re-read hours of simulated orders."""
    monkeypatch.setenv("TABLE_PREFIX", "unit")
    for name in ("ORDER_IMPORT_QUEUE_URL", "INVENTORY_PUSH_QUEUE_URL"):
        monkeypatch.setenv(name, f"https://sqs/{name}")
    monkeypatch.setenv("KMS_KEY_ID", "key")
    monkeypatch.setenv("LWA_SECRET_ID", "lwa")
    monkeypatch.setenv("ORDERS_OVERLAP_MINUTES", "0.138889")
    assert OrderImportSettings.load().orders_overlap_minutes == pytest.approx(5 / 36, rel=1e-4)
    monkeypatch.setenv("ORDERS_OVERLAP_MINUTES", "-1")
    with pytest.raises(SettingsError, match="ORDERS_OVERLAP_MINUTES"):
        OrderImportSettings.load()
