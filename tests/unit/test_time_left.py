"""The invocation's remaining time as the use cases see it: a plain callable, from Lambda's context; the margin
that each long job keeps (a setting)."""

from __future__ import annotations

import math
import time

import pytest
from storesync.settings import (
    InventoryPushSettings,
    ProductImportSettings,
    SettingsError,
    ShipmentPushSettings,
)
from storesync.usecases.time_left import InvocationTime, from_context, unlimited
from storesync_local.functions import FakeLambdaContext


def test_the_remaining_seconds_come_from_the_context_and_count_down() -> None:
    context = FakeLambdaContext("f", timeout_seconds=60, started=time.monotonic() - 50)
    remaining = from_context(context)
    assert 9.0 <= remaining() <= 10.0
    assert InvocationTime(remaining, margin_seconds=15).running_out()
    assert not InvocationTime(remaining, margin_seconds=5).running_out()


def test_no_context_means_no_invocation_limit() -> None:
    assert from_context(None)() == math.inf == unlimited()
    assert not InvocationTime().running_out()


def test_a_context_a_test_reuses_keeps_its_full_timeout() -> None:
    assert from_context(FakeLambdaContext("f", timeout_seconds=30))() == 30.0


def test_the_margin_is_a_setting_of_each_long_job_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"TABLE_PREFIX": "p", "KMS_KEY_ID": "k", "LWA_SECRET_ID": "l",
                        "PRODUCT_IMPORT_QUEUE_URL": "q", "INVENTORY_PUSH_QUEUE_URL": "q",
                        "SHIPMENT_PUSH_QUEUE_URL": "q"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for settings in (ProductImportSettings, InventoryPushSettings, ShipmentPushSettings):
        assert settings.load().remaining_time_margin_seconds == 15.0
    monkeypatch.setenv("REMAINING_TIME_MARGIN_SECONDS", "20")
    assert ShipmentPushSettings.load().remaining_time_margin_seconds == 20.0
    monkeypatch.setenv("REMAINING_TIME_MARGIN_SECONDS", "0")
    with pytest.raises(SettingsError, match="REMAINING_TIME_MARGIN_SECONDS"):
        InventoryPushSettings.load()
