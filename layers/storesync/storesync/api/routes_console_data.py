"""Small read-only answers the merchant console needs: the marketplaces by region and orders imported per day.

GET /marketplaces: every marketplace storesync can connect (storesync.marketplaces), grouped by region.
GET /stores/{id}/orders/daily?days=14: how many orders of the store were imported on each of the last days
(UTC), oldest first, days with none included.
GET /orders/{id}/activity: the packer's order page: the order's holds (what each blocks, the SKUs an
unknown-SKU hold waits for) and the sync events that touched it, from the order, its shipments and the store's
sync log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from storesync.api.auth import merchant_id
from storesync.api.errors import NotFound
from storesync.api.params import OrderId, StoreId
from storesync.api.store_access import merchant_store
from storesync.clock import iso, utcnow
from storesync.dal.job_state import latest_runs
from storesync.dal.jobs import SyncRun
from storesync.dal.order_queries import api_order_id, get_order, order_import_times, skus_waited_for
from storesync.dal.orders import Order
from storesync.dal.shipments import Shipment
from storesync.domain.orders import HOLD_RULES, HOLDS, Hold
from storesync.marketplaces import MARKETPLACES, Region
from storesync.usecases.shipment_create import list_shipments

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


# a packer's order page ------------------------------------------------------------------------------------------
ACTIVITY_RUNS = (
    500  # the store's latest sync-log entries searched for notices naming the order (30 days kept)
)


def hold_view(hold: str, order: Order) -> dict[str, Any]:
    """One hold of an order and what it does; the console says why in plain words (words.js, by hold)."""
    rule = HOLD_RULES.get(Hold(hold)) if hold in HOLDS else None
    return {
        "hold": hold,
        "blocks_shipping": rule.blocks_shipping if rule else None,
        "blocks_automation": bool(rule and rule.blocks_automation),
        "unknown_skus": skus_waited_for(order) if hold == Hold.UNKNOWN_SKU else [],
    }


def order_events(order: Order, shipments: list[Shipment], runs: Iterable[SyncRun]) -> list[dict[str, Any]]:
    """What storesync did with the order, newest first: imported, last changed, each shipment sent and Amazon's
    answer, and every sync-log notice that names the order (a run that could not store it, unknown SKUs...)."""
    events: list[dict[str, Any]] = [
        {"at": iso(order.created_at), "kind": "imported", "job": "orders", "message": "Imported from Amazon"},
    ]
    if order.updated_at and order.updated_at > order.created_at:
        events.append({"at": iso(order.updated_at), "kind": "updated", "job": "orders",
                       "message": f"Last changed (Amazon's last update {order.amazon_last_updated})"})  # fmt: skip
    for shipment in shipments:
        package = shipment.package_reference_id
        events.append({"at": iso(shipment.created_at), "kind": "shipment_created", "job": "shipments",
                       "message": f"Shipment {package} created in the WMS ({shipment.carrier}, "
                                  f"tracking {shipment.tracking_number})"})  # fmt: skip
        if shipment.confirmed_at:
            events.append({"at": iso(shipment.confirmed_at), "kind": "shipment_confirmed", "job": "shipments",
                           "message": f"Amazon confirmed shipment {package}"})  # fmt: skip
        elif shipment.push_state == "refused":
            events.append({"at": iso(shipment.created_at), "kind": "shipment_refused", "job": "shipments",
                           "message": f"Amazon refused shipment {package}: {shipment.amazon_message}"})  # fmt: skip
    for run in runs:
        for entry in run.errors or []:
            if entry.params.get("order_id") == order.amazon_order_id:
                events.append({"at": run.finished_at, "kind": "sync_log", "job": run.job, "message": entry.message,
                               "code": entry.code.value, "result": run.result})  # fmt: skip
    return sorted(events, key=lambda e: e["at"] or "", reverse=True)


@router.get(
    "/orders/<id>/activity",
    summary="An order's holds and why, and the sync events that touched it (newest first)",
)
def order_activity(order_id: OrderId) -> dict[str, Any]:
    store = merchant_store(router, order_id.store_id)
    found = get_order(store.store_id, order_id.amazon_order_id)
    if found is None:
        raise NotFound(f"id: no order {api_order_id(*order_id)!r}", "id")
    shipments = list_shipments(store.merchant_id, store.store_id, found.amazon_order_id)
    runs = latest_runs(store.store_id, limit=ACTIVITY_RUNS)
    return {
        "id": api_order_id(store.store_id, found.amazon_order_id),
        "holds": [hold_view(hold, found) for hold in found.holds or []],
        "events": order_events(found, shipments, runs),
    }
