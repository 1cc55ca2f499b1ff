"""Small read-only answers the merchant console needs: the marketplaces by region and orders imported per day.

GET /marketplaces: every marketplace storesync can connect (storesync.marketplaces), grouped by region.
GET /stores/{id}/orders/daily?days=14: how many orders of the store were imported on each of the last days
(UTC), oldest first, days with none included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from storesync.api.auth import merchant_id
from storesync.api.errors import BadRequest
from storesync.api.store_access import merchant_store
from storesync.clock import utcnow
from storesync.dal.orders import Order
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


@router.get("/marketplaces")
def list_marketplaces() -> dict[str, Any]:
    merchant_id(router)
    return {"regions": marketplaces_by_region()}


@router.get("/stores/<store_id>/orders/daily")
def orders_per_day(store_id: str) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    days_text = (router.current_event.query_string_parameters or {}).get("days", str(DEFAULT_DAYS))
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        raise BadRequest(f"days: a whole number from 1 to {MAX_DAYS}", "days")
    days = int(days_text)
    today = utcnow().date()
    since = today - timedelta(days=days - 1)
    imported = (
        order.created_at
        for order in Order.query(store.store_id, attributes_to_get=["created_at"])
        if order.created_at.date() >= since
    )
    return {"store_id": store.store_id, "days": daily_counts(imported, today, days)}
