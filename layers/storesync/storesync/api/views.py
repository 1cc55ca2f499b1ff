"""What the API shows of its records (never a token)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from storesync.clock import iso, utcnow
from storesync.dal.inventory import Warehouse
from storesync.dal.jobs import SyncRun
from storesync.dal.order_queries import api_order_id
from storesync.dal.orders import Order
from storesync.dal.products import Listing, Product
from storesync.dal.shipments import Shipment
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.dal.stores import Store
from storesync.domain.health import health_warnings, job_health
from storesync.domain.orders import Hold, buyer_data_visible, late_shipment_risk
from storesync.domain.stores import reauthorization_notice
from storesync.jobs import JobName
from storesync.marketplaces import marketplace


def _when(value: datetime | None) -> str | None:
    return iso(value) if value else None


def settings_view(store: Store) -> dict[str, Any]:
    s = store.settings
    return {
        "download_products_and_orders": bool(s.download_products_and_orders),
        "starting_inventory": s.starting_inventory,
        "import_pending_orders": bool(s.import_pending_orders),
        "remove_stock_for_external_fulfillments": bool(s.remove_stock_for_external_fulfillments),
        "inventory_buffer": int(s.inventory_buffer or 0),
        "max_quantity": None if s.max_quantity is None else int(s.max_quantity),
        "warehouses": list(s.warehouses or []),
    }


def health_view(
    store: Store, last_runs: Mapping[str, Any], cadences: Mapping[JobName, float], now: datetime
) -> dict[str, Any]:
    """Per job: cadence, last success, lag, failed runs in a row and state (ok|late|failing|paused); and the
    warnings in plain words when a job is late (lag > 2 cadences) or failing (3 failed runs in a row)."""
    since = store.authorized_at or store.created_at
    jobs = [
        job_health(
            job.value,
            last_runs.get(job.value),
            cadence,
            now,
            since,
            watched=store.status == STATUS_ACTIVE
            and (job != JobName.PRODUCTS or bool(store.settings.download_products_and_orders)),
        )
        for job, cadence in cadences.items()
    ]
    return {
        "jobs": {h.job: h.to_dict() for h in jobs},
        "warnings": [w.to_dict() for w in health_warnings(jobs)],
    }


def store_view(
    store: Store,
    cadences: Mapping[JobName, float],
    now: datetime | None = None,
    late_shipments: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A store as the API shows it; `cadences` (seconds between two runs of each job, from the settings)
    make its sync health. Its warnings include the yearly reauthorization warning (30 days ahead).
    `late_shipments`: its orders to ship that are late and at risk of shipping late (counted by the caller)."""
    mkt = marketplace(store.marketplace_id)
    now = now or utcnow()
    warnings = list(store.warnings or [])
    if store.status == STATUS_ACTIVE:
        yearly = reauthorization_notice(store.authorized_at, now)
        warnings += [yearly] if yearly else []
    last_runs = (
        store.last_runs.as_dict() if hasattr(store.last_runs, "as_dict") else dict(store.last_runs or {})
    )
    return {
        "store_id": store.store_id,
        "name": store.name,
        "marketplace_id": store.marketplace_id,
        "marketplace": {"country_code": mkt.country_code, "country": mkt.country, "currency": mkt.currency},
        "region": store.region,
        "status": store.status,
        "status_reason": store.status_reason,
        "selling_partner_id": store.selling_partner_id,
        "settings": settings_view(store),
        "last_runs": last_runs,
        "warnings": [w.to_dict() for w in warnings],
        "health": health_view(store, last_runs, cadences, now),
        "late_shipments": {
            "late": int((late_shipments or {}).get("late", 0)),
            "at_risk": int((late_shipments or {}).get("at_risk", 0)),
        },
        "created_at": _when(store.created_at),
        "authorized_at": _when(store.authorized_at),
        "disconnected_at": _when(store.disconnected_at),
    }


def warehouse_view(warehouse: Warehouse) -> dict[str, Any]:
    return {
        "warehouse_id": warehouse.warehouse_id,
        "name": warehouse.name,
        "is_primary": bool(warehouse.is_primary),
        "created_at": _when(warehouse.created_at),
    }


def run_view(run: SyncRun) -> dict[str, Any]:
    return {
        "job": run.job,
        "mode": run.mode,
        "trigger": run.trigger,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_ms": int(run.duration_ms),
        "result": run.result,
        "counts": {k: int(v) for k, v in (run.counts.as_dict() if run.counts else {}).items()},
        "errors": [e.to_dict() for e in run.errors or []],
    }


def progress_view(job: str, progress: Mapping[str, Any]) -> dict[str, Any]:
    """A job's run chain in progress (dal.job_state.progress_of): its step and the items of that step done;
    `expected` only where Amazon says it (else null), `percent` only then."""
    done = int(progress.get("done") or 0)
    expected = progress.get("expected")
    expected = None if expected is None else int(expected)
    return {
        "job": job,
        "mode": progress.get("mode"),
        "trigger": progress.get("trigger"),
        "first_import": bool(progress.get("first_import")),
        "step": progress.get("step"),
        "label": progress.get("label"),
        "step_number": int(progress.get("step_number") or 1),
        "steps": int(progress.get("steps") or 1),
        "done": done,
        "expected": expected,
        "percent": min(100, round(100 * done / expected)) if expected else None,
        "unit": progress.get("unit") or "items",
        "started_at": progress.get("started_at"),
        "updated_at": progress.get("updated_at"),
    }


def shipment_view(shipment: Shipment) -> dict[str, Any]:
    """A shipment as the API shows it: what the WMS sent, what went to Amazon, and Amazon's answer."""
    return {
        "id": shipment.shipment_id,
        "order_id": api_order_id(shipment.store_id, shipment.amazon_order_id),
        "package_reference_id": shipment.package_reference_id,
        "carrier": shipment.carrier,
        "amazon_carrier_code": shipment.carrier_code,
        "amazon_carrier_name": shipment.carrier_name,
        "shipping_method": shipment.shipping_method,
        "tracking_number": shipment.tracking_number,
        "ship_date": shipment.ship_date,
        "items": [
            {"order_item_id": i.order_item_id, "sku": i.sku, "quantity": int(i.quantity)}
            for i in shipment.items or []
        ],
        "push_state": shipment.push_state,
        "attempts": int(shipment.attempts or 0),
        "next_attempt_at": shipment.next_attempt_at.isoformat() if shipment.next_attempt_at else None,
        "amazon_message": shipment.amazon_message,
        "confirmed_at": shipment.confirmed_at.isoformat() if shipment.confirmed_at else None,
        "created_at": shipment.created_at.isoformat(),
    }


def hold_reasons(order: Order) -> dict[str, str]:
    """Why the order is on each of its holds, in plain words."""
    reasons: dict[str, str] = {}
    for hold in order.holds or []:
        if hold == Hold.PAYMENT:
            reasons[hold] = "pending on Amazon: the payment is not through yet"
        elif hold == Hold.UNKNOWN_SKU:
            skus = ", ".join(order.unknown_skus or []) or "some SKUs"
            reasons[hold] = f"waits for SKUs the WMS does not know: {skus}"
        elif hold == Hold.BUYER_CANCELLATION:
            why = order.buyer_cancellation_reason
            reasons[hold] = (
                "the buyer asked to cancel"
                + (f": {why}" if why else "")
                + (" (wait for Amazon to cancel it, or ship it anyway)")
            )
    return reasons


def order_view(order: Order, now: datetime | None = None) -> dict[str, Any]:
    """An order as the API shows it, with every fulfilment field of Orders v2026 storesync keeps, and its
    late-shipment risk (None: none). The gift messages (buyer data) only in GET /orders/{id}."""
    risk = late_shipment_risk(order.channel, order.status, order.ship_by, now or utcnow())
    return {
        "id": api_order_id(order.store_id, order.amazon_order_id),
        "store_id": order.store_id,
        "amazon_order_id": order.amazon_order_id,
        "marketplace_id": order.marketplace_id,
        "status": order.status,
        "amazon_status": order.amazon_status,
        "channel": order.channel,
        "holds": list(order.holds or []),
        "hold_reasons": hold_reasons(order),
        "automation_blocked": bool(order.automation_blocked),
        "purchase_date": order.purchase_date,
        "ship_by": order.ship_by,
        "deliver_by": order.deliver_by,
        "ship_by_window": {"earliest": order.ship_by_start, "latest": order.ship_by},
        "deliver_by_window": {"earliest": order.deliver_by_start, "latest": order.deliver_by},
        "late_shipment_risk": risk.to_dict() if risk else None,
        "programs": list(order.programs or []),
        "service_level": order.service_level,
        "business_buyer": (
            {"company": order.buyer_company, "purchase_order_number": order.buyer_po_number}
            if order.buyer_company or order.buyer_po_number
            else None
        ),
        "associated_orders": [
            {"amazon_order_id": a.amazon_order_id, "association_type": a.association_type}
            for a in order.associated_orders or []
        ],
        "buyer_cancellation_reason": order.buyer_cancellation_reason,
        "amazon_last_updated": order.amazon_last_updated,
        # an address past its retention is gone for the API even before DynamoDB's TTL sweep deletes it
        "has_address": bool(order.has_address) and buyer_data_visible(None, order.closed_at, utcnow()),
        "stock_removed_externally": bool(order.stock_removed_externally),
        "shipped_at": iso(order.shipped_at) if order.shipped_at else None,
        "items": [
            {
                "order_item_id": i.order_item_id,
                "sku": i.sku,
                "quantity": int(i.quantity),
                "quantity_shipped": int(i.quantity_shipped or 0),
                "price": i.price,
                "currency": i.currency,
                "allocations": [
                    {"warehouse_id": a.warehouse_id, "quantity": int(a.quantity)}
                    for a in (i.allocations or [])
                ],
                "backorder": int(i.backorder or 0),
                "programs": list(i.programs or []),
                "customized_url": i.customized_url,
                "gift": bool(i.gift),
                "shipping_constraints": list(i.shipping_constraints or []),
                "cancellation_request": (
                    {"requester": i.cancellation_requester, "reason": i.cancellation_reason}
                    if i.cancellation_requester
                    else None
                ),
            }
            for i in order.items
        ],
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


def listing_view(item: Listing) -> dict[str, Any]:
    return {
        "store_id": item.store_id,
        "sku": item.sku,
        "asin": item.asin,
        "title": item.title,
        "price": item.price,
        "channel": item.channel,
        "status": item.status,
        "amazon_status": item.amazon_status,
        "amazon_quantity": None if item.amazon_quantity is None else int(item.amazon_quantity),
        "product_type": item.product_type,
        "last_pushed_quantity": None if item.last_pushed_quantity is None else int(item.last_pushed_quantity),
        "updated_at": iso(item.updated_at),
    }


def product_view(item: Product) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "title": item.title,
        "asin": item.asin,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }
