"""The console's progress bars and the packer's orders pages in a real browser (issue 17 parts 3 and 4).

Same local runtime and Chromium as test_console_browser.py (its fixtures and helpers are reused): a store's
import shows its step on the store page and on the Stores page while it runs, then goes away; the orders page
filters by status, hold, channel and store; an order page shows its lines, holds and why, shipments and
tracking, the sync events that touched it, and the fields it does not know under "Details".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import test_console_browser as console_tests
from playwright.sync_api import Page, expect
from storesync_local.runtime import LocalRuntime
from test_console_browser import ACME, US, api_get, connect_store, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
browser = console_tests.browser  # the same Chromium fixtures (a page per test, JavaScript errors fail it)
page_factory = console_tests.page_factory
page = console_tests.page
SLOW = 2.0  # simulated seconds per real second: the import's 30 s wait for Amazon's report lasts 15 s


@pytest.fixture
def runtime(local_runtime_factory: Callable[..., LocalRuntime]) -> LocalRuntime:
    return local_runtime_factory(run_schedules=False, orders=30, speed=SLOW, quota_scale=1000.0)


@pytest.fixture
def fast_runtime(local_runtime_factory: Callable[..., LocalRuntime]) -> LocalRuntime:
    return local_runtime_factory(run_schedules=False, orders=30)


def api_post(runtime: LocalRuntime, merchant: str, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        runtime.api_url + path,
        json=body,
        headers={"Authorization": f"Bearer {runtime.dev_token(merchant)}"},
        timeout=10,
    )


def test_a_new_store_first_import_shows_its_progress_on_the_store_and_stores_pages(
    page: Page, runtime: LocalRuntime
) -> None:
    sign_in(page, runtime, "merchant-progress")
    store_id = connect_store(page, runtime, "Acme US", US, ACME)
    expect(page.locator("#in-progress")).to_be_hidden()

    page.get_by_role("button", name="Sync products now").click()
    item = page.locator('#in-progress li[data-job="products"]')
    expect(item).to_contain_text(
        "First import of products: Waiting for Amazon's listings report (step 1 of 2)"
    )
    expect(item.locator("progress")).to_be_visible()
    screenshot(page, "20-store-page-import-in-progress")
    answer = api_get(runtime, "merchant-progress", f"/stores/{store_id}/runs")
    running = [p for p in answer["in_progress"] if p["job"] == "products"]
    if running:  # the API says what the page shows (unless the import finished in between)
        assert running[0]["first_import"] is True and running[0]["steps"] == 2

    page.get_by_role("link", name="Stores", exact=True).click()
    card = page.locator(f'li[data-store-id="{store_id}"]')
    expect(card.locator('.progress-item[data-job="products"]')).to_contain_text("First import of products")
    screenshot(page, "21-stores-page-first-import")
    # the Stores page follows the import until it is done: the bar goes, the last run shows
    expect(card.locator(".progress-item")).to_have_count(0, timeout=60_000)
    expect(card.locator('.runs [data-job="products"]')).not_to_contain_text("Not run yet")
    assert api_get(runtime, "merchant-progress", f"/stores/{store_id}/runs")["in_progress"] == []


def test_the_packer_filters_orders_and_reads_an_order_page(page: Page, fast_runtime: LocalRuntime) -> None:
    runtime = fast_runtime
    merchant = "merchant-packer"
    sign_in(page, runtime, merchant)
    store_id = connect_store(page, runtime, "Acme US", US, ACME)
    page.get_by_role("button", name="Sync orders now").click()  # products unknown yet: unknown-SKU holds
    expect(page.locator('#sync-log tr[data-job="orders"]')).to_have_count(1, timeout=60_000)
    orders = api_get(runtime, merchant, "/orders?limit=200")["orders"]
    assert orders, "the simulator's seller has orders"

    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders")
    rows = page.locator("#order-list tbody tr")
    expect(rows).to_have_count(min(len(orders), 50))
    screenshot(page, "22-orders-page")

    held = [o for o in orders if "unknown_sku" in o["holds"]]
    page.get_by_label("Hold").select_option("unknown_sku")
    page.get_by_label("Store").select_option(store_id)
    page.get_by_role("button", name="Show orders").click()
    expect(page).to_have_url(
        f"{runtime.console_url.rstrip('/')}/#/orders?hold=unknown_sku&store_id={store_id}"
    )
    if held:
        expect(rows).to_have_count(min(len(held), 50))
        for cell in rows.locator("td:nth-child(4)").all():
            expect(cell).to_contain_text("Unknown SKU")
    else:
        expect(page.locator("#no-orders")).to_be_visible()

    for channel in ("FBA", "FBM"):
        page.get_by_label("Hold").select_option("")
        page.get_by_label("Channel").select_option(channel)
        page.get_by_role("button", name="Show orders").click()
        expected = [o for o in orders if o["channel"] == channel]
        expect(page.locator("#order-list tbody tr, #no-orders")).to_have_count(max(1, min(len(expected), 50)))
        if expected:
            expect(rows.locator("td:nth-child(5)")).to_have_text([channel] * min(len(expected), 50))

    page.get_by_label("Channel").select_option("")
    page.get_by_label("Status").select_option("cancelled")
    page.get_by_role("button", name="Show orders").click()
    cancelled = [o for o in orders if o["status"] == "cancelled"]
    if cancelled:
        expect(rows).to_have_count(len(cancelled))
    else:
        expect(page.locator("#no-orders")).to_have_text("No order matches these filters.")
    refused = requests.get(
        f"{runtime.api_url}/orders?status=lost",
        headers={"Authorization": f"Bearer {runtime.dev_token(merchant)}"},
        timeout=10,
    )
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "status"

    # an order on the unknown-SKU hold: its lines, the hold and why, the sync events, the details
    order = held[0] if held else orders[0]
    page.goto(f"{runtime.console_url.rstrip('/')}/#/orders/{order['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order['amazon_order_id']}")
    for item in order["items"]:
        expect(page.locator(f'#order-lines tr[data-sku="{item["sku"]}"]')).to_contain_text(
            str(item["quantity"])
        )
    if held:
        hold = page.locator('#order-holds li[data-hold="unknown_sku"]')
        expect(hold).to_contain_text("storesync does not know yet")
        skus = ", ".join(sorted({i["sku"] for i in order["items"]}))  # no product imported: every SKU unknown
        expect(hold).to_contain_text(f"Waiting for: {skus}.")
    expect(page.locator('#order-events li[data-kind="imported"]')).to_contain_text("Imported from Amazon")
    if held:
        expect(page.locator('#order-events li[data-kind="sync_log"]').first).to_contain_text("unknown SKU")
    expect(page.locator('#order-details dd[data-field="amazon_last_updated"]')).to_have_text(
        order["amazon_last_updated"]
    )
    expect(page.locator("#order-shipments")).to_contain_text("No shipment yet.")
    screenshot(page, "23-order-page-held")


def test_an_order_page_shows_its_shipment_and_tracking(page: Page, fast_runtime: LocalRuntime) -> None:
    runtime, merchant = fast_runtime, "merchant-shipper"
    sign_in(page, runtime, merchant)
    store_id = connect_store(page, runtime, "Acme US", US, ACME)
    page.get_by_role("button", name="Sync products now").click()  # the SKUs known: orders are open, not held
    expect(page.locator('#sync-log tr[data-job="products"]').first).to_be_visible(timeout=60_000)
    expect(page.locator("#in-progress")).to_be_hidden(timeout=60_000)
    assert api_get(runtime, merchant, f"/stores/{store_id}/runs")["in_progress"] == []
    page.get_by_role("button", name="Sync orders now").click()
    expect(page.locator('#sync-log tr[data-job="orders"]')).to_have_count(1, timeout=60_000)
    orders = api_get(runtime, merchant, "/orders?channel=FBM&status=open&limit=200")["orders"]
    assert orders, "the simulator's seller has open FBM orders"
    order = orders[0]
    item = order["items"][0]
    stocked = requests.put(
        f"{runtime.api_url}/inventory/primary/{item['sku']}",
        json={"on_hand": 50},
        headers={"Authorization": f"Bearer {runtime.dev_token(merchant)}"},
        timeout=10,
    )
    assert stocked.status_code == 200, stocked.text
    created = api_post(
        runtime,
        merchant,
        f"/orders/{order['id']}/shipments",
        {"carrier": "UPS", "shipping_method": "Ground", "tracking_number": "1Z999AA10123456784",
         "items": [{"order_item_id": item["order_item_id"], "quantity": item["quantity"]}]},
    )  # fmt: skip
    assert created.status_code == 201, created.text

    page.goto(f"{runtime.console_url.rstrip('/')}/#/orders/{order['id']}")
    shipment = page.locator("#order-shipments li")
    expect(shipment).to_have_count(1)
    expect(shipment).to_contain_text("UPS Ground: tracking 1Z999AA10123456784")
    expect(page.locator('#order-events li[data-kind="shipment_created"]')).to_contain_text(
        "1Z999AA10123456784"
    )
    screenshot(page, "24-order-page-shipped")
