"""Sync health: cadences from the schedules, last success and lag, the warnings (late past twice the cadence,
failing after three failed runs in a row) and how the store view shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from storesync.api.views import store_view
from storesync.dal.stores import Store, StoreSettings
from storesync.domain.health import after_run, duration_words, job_health
from storesync.domain.notices import NoticeCode
from storesync.jobs import JobName, schedule_seconds
from storesync.settings import DispatchSettings, SettingsError

NOW = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
CADENCES = {
    JobName.PRODUCTS: 1800.0,
    JobName.ORDERS: 1800.0,
    JobName.INVENTORY: 1200.0,
    JobName.SHIPMENTS: 1800.0,
}


@pytest.mark.parametrize(
    ("expression", "minutes"),
    [
        ("rate(30 minutes)", 30),
        ("rate(1 hour)", 60),
        ("rate(2 days)", 2880),
        ("cron(0 0 * * ? *)", 1440),
        ("cron(0 0,6,12,18 * * ? *)", 360),
        ("cron(*/15 * * * ? *)", 15),
        ("cron(0 8-20/4 * * ? *)", 720),  # 8, 12, 16, 20: the night gap counts
    ],
)
def test_a_schedule_fires_every(expression: str, minutes: int) -> None:
    assert schedule_seconds(expression) == minutes * 60


def test_a_malformed_schedule_fails_the_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PRODUCT_IMPORT_QUEUE_URL", "ORDER_IMPORT_QUEUE_URL", "INVENTORY_PUSH_QUEUE_URL", "SHIPMENT_PUSH_QUEUE_URL"):  # fmt: skip
        monkeypatch.setenv(name, f"https://sqs/{name}")
    monkeypatch.setenv("TABLE_PREFIX", "unit")
    monkeypatch.setenv("INVENTORY_SCHEDULE", "rate(5 minutes)")
    monkeypatch.setenv("ORDERS_SCHEDULE", "rate(2 hours)")
    cadences = DispatchSettings.load().cadences()
    assert cadences == {
        JobName.PRODUCTS: 1800,  # the shortest of new (30 min) and full (daily)
        JobName.ORDERS: 2 * 3600,  # the shorter of every 2 hours and the catch-up every 6 hours
        JobName.INVENTORY: 300,
        JobName.SHIPMENTS: 1800,
    }
    monkeypatch.setenv("SHIPMENTS_SCHEDULE", "every 5 minutes")
    with pytest.raises(SettingsError, match="SHIPMENTS_SCHEDULE: .*every 5 minutes"):
        DispatchSettings.load()


def test_after_run_moves_the_success_and_counts_failures_in_a_row() -> None:
    first = after_run(None, "error", "Amazon failed", NOW)
    assert (first["succeeded_at"], first["failed_runs"]) == (None, 1)
    second = after_run(first, "failed", "gave up", NOW + timedelta(minutes=1))
    assert second["failed_runs"] == 2
    skipped = after_run(second, "skipped", "already running", NOW + timedelta(minutes=2))
    assert skipped["failed_runs"] == 2
    done = after_run(skipped, "partial", "imported: 3", NOW + timedelta(minutes=3))
    assert (done["succeeded_at"], done["failed_runs"], done["result"]) == (
        "2026-07-10T12:03:00Z",
        0,
        "partial",
    )
    assert after_run(done, "error", "x", NOW + timedelta(hours=1))["succeeded_at"] == "2026-07-10T12:03:00Z"


def test_an_entry_written_before_health_counts_its_own_success() -> None:
    old = {"at": "2026-07-10T11:40:00Z", "result": "ok", "summary": "imported: 1"}
    assert job_health("orders", old, 1800, NOW, since=NOW - timedelta(days=90)).lag_seconds == 20 * 60
    assert after_run(old, "error", "x", NOW)["succeeded_at"] == "2026-07-10T11:40:00Z"
    failed = {"at": "2026-07-10T11:40:00Z", "result": "error", "summary": "x"}
    assert job_health("orders", failed, 1800, NOW, since=NOW - timedelta(hours=2)).lag_seconds == 7200


def test_a_job_is_late_past_twice_its_cadence() -> None:
    entry = {"succeeded_at": "2026-07-10T11:00:00Z", "failed_runs": 0}
    on_time = job_health("orders", entry, 1800, NOW - timedelta(minutes=1), since=None)
    assert (on_time.state, on_time.warnings()) == ("ok", [])
    late = job_health("orders", entry, 1800, NOW + timedelta(minutes=1), since=None)
    assert late.state == "late" and late.lag_seconds == 61 * 60
    (warning,) = late.warnings()
    assert warning.code == NoticeCode.SYNC_LATE
    assert warning.message.startswith("Order import has not succeeded for 1 h 1 min (it runs every 30 min)")


def test_a_job_that_never_succeeded_lags_since_the_store_was_authorized() -> None:
    health = job_health("inventory", None, 1200, NOW, since=NOW - timedelta(minutes=30))
    assert health.last_success_at is None and health.lag_seconds == 1800 and health.state == "ok"
    health = job_health("inventory", None, 1200, NOW, since=NOW - timedelta(minutes=41))
    assert health.state == "late"


def test_three_failed_runs_in_a_row_make_a_failing_warning_with_the_last_reason() -> None:
    entry = {
        "succeeded_at": "2026-07-10T11:50:00Z",
        "failed_runs": 2,
        "summary": "Amazon failed on searchOrders",
    }
    assert job_health("orders", entry, 1800, NOW, since=None).warnings() == []
    entry["failed_runs"] = 3
    health = job_health("orders", entry, 1800, NOW, since=None)
    assert health.state == "failing"
    (warning,) = health.warnings()
    assert warning.code == NoticeCode.SYNC_FAILING
    assert (
        warning.message == "Order import failed 3 runs in a row. Last failure: Amazon failed on searchOrders"
    )


def test_a_paused_job_warns_of_nothing() -> None:
    entry = {"succeeded_at": "2026-07-01T00:00:00Z", "failed_runs": 9}
    health = job_health("orders", entry, 1800, NOW, since=None, watched=False)
    assert (health.state, health.warnings()) == ("paused", [])


def test_durations_in_plain_words() -> None:
    assert [duration_words(s) for s in (59, 60, 3600, 3660, 2 * 86400 + 3600)] == [
        "0 min", "1 min", "1 h", "1 h 1 min", "2 days 1 h",
    ]  # fmt: skip


def _store(status: str = "active", last_runs: dict[str, Any] | None = None, download: bool = True) -> Store:
    return Store(
        "m", "s", name="Shop", marketplace_id="ATVPDKIKX0DER", region="NA", status=status,
        settings=StoreSettings(download_products_and_orders=download), last_runs=last_runs or {},
        created_at=NOW - timedelta(days=3), authorized_at=NOW - timedelta(days=3),
    )  # fmt: skip


def test_the_store_view_shows_each_jobs_health_and_its_warnings() -> None:
    fresh = {
        "succeeded_at": "2026-07-10T11:50:00Z",
        "failed_runs": 0,
        "result": "ok",
        "summary": "",
        "at": "x",
    }
    runs = {
        "orders": {**fresh, "succeeded_at": "2026-07-10T10:00:00Z"},
        "inventory": {**fresh, "failed_runs": 4, "result": "failed", "summary": "Amazon failed"},
        "shipments": fresh,
    }
    view = store_view(_store(last_runs=runs, download=False), CADENCES, now=NOW)
    jobs = view["health"]["jobs"]
    assert jobs["orders"] == {
        "cadence_seconds": 1800,
        "last_success_at": "2026-07-10T10:00:00Z",
        "lag_seconds": 7200,
        "failed_runs": 0,
        "state": "late",
    }
    assert jobs["inventory"]["state"] == "failing" and jobs["shipments"]["state"] == "ok"
    assert jobs["products"]["state"] == "paused"  # the store does not download products
    assert [w["code"] for w in view["health"]["warnings"]] == ["sync_late", "sync_failing"]
    assert view["warnings"] == []  # the stored warnings stay apart

    paused = store_view(_store("needs_reauthorization", runs), CADENCES, now=NOW)
    assert paused["health"]["warnings"] == []
    assert {j["state"] for j in paused["health"]["jobs"].values()} == {"paused"}
