"""Small read-only answers the merchant console needs: the marketplaces by region and orders imported per day.

GET /marketplaces: every marketplace storesync can connect (storesync.marketplaces), grouped by region.
GET /stores/{id}/orders/daily?days=14: how many orders of the store were imported on each of the last days
(UTC), oldest first, days with none included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from storesync.api.auth import merchant_id
from storesync.api.params import StoreId
from storesync.api.store_access import merchant_store
from storesync.clock import utcnow
from storesync.dal.order_queries import order_import_times
from storesync.marketplaces import MARKETPLACES, Region

router = Router()
REGION_NAMES: dict[Region, str] = {Region.NA: "North America", Region.EU: "Europe", Region.FE: "Far East"}
DEFAULT_DAYS = 14
MAX_DAYS = 90


def marketplaces_by_region() -> list[dict[str, Any]]:
    return [
        {
            "region": region.value,
            "name": REGION_NAMES[region],
            "marketplaces": [
                {
                    "marketplace_id": m.marketplace_id,
                    "country_code": m.country_code,
                    "country": m.country,
                    "currency": m.currency,
                    "seller_central": m.seller_central,
                }
                for m in MARKETPLACES
                if m.region == region
            ],
        }
        for region in Region
    ]


def daily_counts(moments: Iterable[datetime], today: date, days: int) -> list[dict[str, Any]]:
    """One entry per day of the `days` days ending `today` (oldest first): {"date": "YYYY-MM-DD", "orders": n}."""
    per_day = Counter(moment.date() for moment in moments)
    first = today - timedelta(days=days - 1)
    return [
        {"date": (first + timedelta(days=n)).isoformat(), "orders": per_day.get(first + timedelta(days=n), 0)}
        for n in range(days)
    ]


@router.get("/marketplaces", summary="Every marketplace storesync can connect, by region")
def list_marketplaces() -> dict[str, Any]:
    merchant_id(router)
    return {"regions": marketplaces_by_region()}


@router.get("/stores/<store_id>/orders/daily", summary="Orders of a store imported on each of the last days")
def orders_per_day(
    store_id: StoreId, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS
) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    today = utcnow().date()
    since = today - timedelta(days=days - 1)
    imported = (moment for moment in order_import_times(store.store_id) if moment.date() >= since)
    return {"store_id": store.store_id, "days": daily_counts(imported, today, days)}
