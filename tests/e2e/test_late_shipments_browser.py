"""The Stores page counts a store's merchant orders late or at risk of shipping late (a real browser against the
local runtime): orders made on the simulator with a v2026 shipByWindow, imported by "Sync orders now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import Page, expect
from storesync.clock import iso
from storesync_local.runtime import LocalRuntime
from test_console_browser import (  # noqa: F401  (browser, page_factory, page and runtime are fixtures)
    ACME,
    US,
    api_get,
    browser,
    connect_store,
    page,
    page_factory,
    runtime,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _fbm_sku(spapi: LocalRuntime) -> str:
    answer = requests.get(
        f"{spapi.spapi_url}/_sim/listings",
        params={"seller_id": ACME, "marketplace_id": US, "limit": 50},
        timeout=10,
    ).json()
    return next(
        item["sku"]
        for item in answer["listings"]
        if item["fulfillment_channel"] == "DEFAULT" and item["status"] == "Active"
    )


def _order_shipping_by(spapi: LocalRuntime, sku: str, ship_by: datetime) -> str:
    window = {"earliestDateTime": iso(ship_by - timedelta(days=1)), "latestDateTime": iso(ship_by)}
    answer = requests.post(
        f"{spapi.spapi_url}/_sim/orders",
        json={
            "seller_id": ACME,
            "marketplace_id": US,
            "items": [{"sku": sku, "quantity": 1}],
            "order": {"programs": ["PRIME"], "fulfillment": {"shipByWindow": window}},
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["order_id"])


def test_the_stores_page_counts_late_and_at_risk_orders(page: Page, runtime: LocalRuntime) -> None:  # noqa: F811
    sign_in(page, runtime, "merchant-late")
    store_id = connect_store(page, runtime, "Acme US", US, ACME)
    sku = _fbm_sku(runtime)
    now = datetime.now(UTC)
    late_id = _order_shipping_by(runtime, sku, now - timedelta(hours=2))
    risky_id = _order_shipping_by(runtime, sku, now + timedelta(hours=5))
    _order_shipping_by(runtime, sku, now + timedelta(days=4))

    page.get_by_role("button", name="Sync orders now").click()
    expect(page.locator("#banner")).to_contain_text("Orders sync finished", timeout=40_000)
    late = api_get(runtime, "merchant-late", f"/orders/{store_id}.{late_id}")
    assert late["late_shipment_risk"]["level"] == "late" and late["programs"] == ["PRIME"]
    assert api_get(runtime, "merchant-late", f"/stores/{store_id}")["late_shipments"] == {
        "late": 1,
        "at_risk": 1,
    }
    by_ship_by = api_get(runtime, "merchant-late", "/orders?sort=ship_by&limit=2")["orders"]
    assert [o["amazon_order_id"] for o in by_ship_by] == [late_id, risky_id]

    page.get_by_role("link", name="← All stores").click()
    card = page.locator(f'li[data-store-id="{store_id}"]')
    expect(card.get_by_role("note", name="Warnings")).to_contain_text(
        "1 order past the ship-by date, 1 order at risk of shipping late: ship them first."
    )
    screenshot(page, "20-stores-late-shipments")
