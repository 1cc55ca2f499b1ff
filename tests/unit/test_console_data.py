"""The console's small answers: marketplaces grouped by region, orders imported per day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from storesync.api.routes_console_data import daily_counts, marketplaces_by_region
from storesync.marketplaces import MARKETPLACES


def test_every_marketplace_is_listed_once_under_its_region() -> None:
    regions = marketplaces_by_region()
    assert [(r["region"], r["name"]) for r in regions] == [
        ("NA", "North America"),
        ("EU", "Europe"),
        ("FE", "Far East"),
    ]
    listed = [m["marketplace_id"] for r in regions for m in r["marketplaces"]]
    assert sorted(listed) == sorted(m.marketplace_id for m in MARKETPLACES)
    japan = next(m for m in regions[2]["marketplaces"] if m["country_code"] == "JP")
    assert japan == {
        "marketplace_id": "A1VC38T7YXB528",
        "country_code": "JP",
        "country": "Japan",
        "currency": "JPY",
        "seller_central": "https://sellercentral.amazon.co.jp",
    }


def test_daily_counts_cover_every_day_oldest_first_including_empty_days() -> None:
    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 8, day, hour, tzinfo=UTC)

    moments = [at(10, 0), at(10, 23), at(12, 5), at(3, 1)]  # the 3rd is outside the window
    assert daily_counts(moments, date(2026, 8, 12), 4) == [
        {"date": "2026-08-09", "orders": 0},
        {"date": "2026-08-10", "orders": 2},
        {"date": "2026-08-11", "orders": 0},
        {"date": "2026-08-12", "orders": 1},
    ]


def test_daily_counts_of_a_store_without_orders_are_all_zero() -> None:
    days = daily_counts([], date(2026, 1, 1), 3)
    assert [d["date"] for d in days] == ["2025-12-30", "2025-12-31", "2026-01-01"]
    assert {d["orders"] for d in days} == {0}
