"""The merchant console in a real browser (Debian's Chromium, headless) against the local runtime.

Each test starts its own local runtime (moto, the SP-API simulator, the gateway; schedules off, so every run in
the sync log comes from the test) and drives the console as a merchant does. Screenshots of every page go to
test-artifacts/console/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect, sync_playwright
from storesync.dal.store_queries import get_store, mark_needs_reauthorization, set_warnings
from storesync.domain.notices import legacy_notice
from storesync_local.runtime import LocalRuntime

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 740}
US, CA, UK = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1F83G8C2ARO7P"
ACME, CONTOSO = "A1NASELLER0001", "A3EUSELLER0003"
TIMEOUT_MS = 20_000
BOTH_CHANNELS_WARNING = (
    "SKU-00003 is sold both as FBA and as FBM in this marketplace: only FBM quantities are pushed."
)
RESULT_WORDS = {
    "ok": "Succeeded",
    "partial": "Partly succeeded: some records had problems",
    "error": "Failed",
    "throttled": "Amazon asked to slow down: continuing shortly",
    "skipped": "Skipped",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def runtime(local_runtime_factory: Callable[..., LocalRuntime]) -> LocalRuntime:
    return local_runtime_factory(run_schedules=False, orders=30)


@pytest.fixture
def page_factory(browser: Browser) -> Iterator[Callable[..., Page]]:
    contexts: list[Any] = []

    def make(viewport: ViewportSize | None = None) -> Page:
        context = browser.new_context(viewport=viewport or DESKTOP, locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        # the console's Content-Security-Policy blocks nothing the console needs (a refusal is logged so)
        page.on(
            "console",
            lambda msg: page_errors.extend([msg.text] if "Content Security Policy" in msg.text else []),
        )
        return page

    page_errors: list[str] = []
    yield make
    for context in contexts:
        context.close()
    assert not page_errors, f"JavaScript errors in the console: {page_errors}"


@pytest.fixture
def page(page_factory: Callable[..., Page]) -> Page:
    return page_factory()


def screenshot(page: Page, name: str) -> None:
    """Save the page, after checking it shows no leaked programming values."""
    shown = page.locator("body").inner_text()
    leaked = re.findall(r"\b(?:undefined|null|NaN)\b|\[object Object\]", shown)
    assert not leaked, f"{name}: the page shows {leaked}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, runtime: LocalRuntime, merchant: str) -> None:
    """Through the sign-in page's development token form, as a merchant does locally."""
    page.goto(runtime.console_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    screenshot(page, "00-sign-in")
    page.get_by_label("Merchant id").fill(merchant)
    page.get_by_role("button", name="Get a development token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stores")
    expect(page.locator("#account-link")).to_have_text(f"Account ({merchant})")


def connect_store(
    page: Page, runtime: LocalRuntime, name: str, marketplace_id: str, seller_id: str, shots: str = ""
) -> str:
    """Add a store on the console, approve it on the simulator's consent page; returns the store id."""
    page.get_by_role("link", name="+ Add a New Store").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a New Store")
    page.get_by_label("Store name").fill(name)
    page.get_by_label("Marketplace").select_option(marketplace_id)
    if shots:
        screenshot(page, f"{shots}-connect-form")
    page.get_by_role("button", name="Connect").click()
    page.wait_for_url(re.compile(re.escape(runtime.spapi_url) + r"/apps/authorize/consent\?"))
    if shots:
        screenshot(page, f"{shots}-amazon-consent")
    page.select_option("#selling_partner_id", seller_id)
    page.click("#approve")
    page.wait_for_url(re.compile(r"#/stores/st_[0-9a-f]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return page.url.rsplit("/", 1)[1]


def approve_on_amazon(page: Page, runtime: LocalRuntime, seller_id: str, store_id: str) -> None:
    """On the simulator's consent page the console sent the browser to, approve as the seller; back on the
    store's page."""
    page.wait_for_url(re.compile(re.escape(runtime.spapi_url)))
    page.select_option("#selling_partner_id", seller_id)
    page.click("#approve")
    page.wait_for_url(re.compile(f"#/stores/{store_id}$"))


def expect_field_error(page: Page, field: Locator, name: str, message: str) -> None:
    """The API's refusal shown next to the form field `name`: the message, the field marked invalid and focused."""
    expect(page.locator(f"#{name}-error")).to_have_text(message)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()


def api_get(runtime: LocalRuntime, merchant: str, path: str) -> Any:
    answer = requests.get(
        runtime.api_url + path, headers={"Authorization": f"Bearer {runtime.dev_token(merchant)}"}, timeout=10
    )
    answer.raise_for_status()
    return answer.json()


def test_add_a_store_approve_it_on_amazon_and_see_it_active(page: Page, runtime: LocalRuntime) -> None:
    sign_in(page, runtime, "merchant-connect")
    expect(page.locator("main")).to_contain_text("No Amazon store is connected yet")
    screenshot(page, "01-stores-empty")

    store_id = connect_store(page, runtime, "Acme US", US, ACME, shots="02")

    banner = page.locator("#banner")
    expect(banner).to_have_attribute("data-kind", "success")
    expect(banner).to_contain_text("connected and active")
    expect(page.locator("#store-status")).to_have_text("Active")
    expect(page.locator("#status-todo")).to_contain_text("Nothing to do")
    expect(page.locator("main")).to_contain_text("United States (US) · North America")
    expect(page.locator("main")).to_contain_text(f"Amazon seller {ACME}")
    assert page.evaluate("document.activeElement.tagName") == "H1"  # focus moved to the new page
    screenshot(page, "03-store-page-active")

    page.get_by_role("link", name="← All stores").click()
    card = page.locator(f'li[data-store-id="{store_id}"]')
    expect(card.locator("[data-status]")).to_have_text("Active")
    expect(card).to_contain_text("United States (US) · North America")
    expect(card.locator('[data-job="orders"]')).to_contain_text("Not run yet")
    screenshot(page, "04-stores-one-active")
    assert api_get(runtime, "merchant-connect", f"/stores/{store_id}")["status"] == "active"


def test_denied_consent_then_authorize_again_then_needs_reauthorization(
    page: Page, runtime: LocalRuntime
) -> None:
    sign_in(page, runtime, "merchant-deny")
    page.get_by_role("link", name="+ Add a New Store").click()
    page.get_by_label("Store name").fill("Contoso UK")
    page.get_by_label("Marketplace").select_option(UK)
    page.get_by_role("button", name="Connect").click()
    page.wait_for_url(re.compile(re.escape(runtime.spapi_url)))
    page.click("#deny")
    page.wait_for_url(re.compile(r"#/stores/st_[0-9a-f]+$"))
    banner = page.locator("#banner")
    expect(banner).to_have_attribute("data-kind", "error")
    expect(banner).to_contain_text("Amazon authorization was not granted")
    expect(page.locator("#store-status")).to_have_text("Waiting for Amazon authorization")
    expect(page.get_by_role("button", name="Authorize with Amazon")).to_be_visible()
    assert "outcome=" not in page.url  # the outcome is shown once, not kept in the address
    screenshot(page, "05-store-page-denied")
    store_id = page.url.rsplit("/", 1)[1]

    page.get_by_role("button", name="Authorize with Amazon").click()
    approve_on_amazon(page, runtime, CONTOSO, store_id)
    expect(page.locator("#store-status")).to_have_text("Active")
    expect(page.locator("#banner")).to_contain_text("connected and active")

    # Amazon revokes the grant: the store says so and what to do, and Reauthorize leads the actions.
    store = get_store("merchant-deny", store_id)
    assert store is not None
    mark_needs_reauthorization(store, "Amazon refused the store's authorization (invalid_grant).")
    set_warnings(store, [legacy_notice(BOTH_CHANNELS_WARNING)])
    page.reload()
    expect(page.get_by_role("note", name="Warnings")).to_have_text(BOTH_CHANNELS_WARNING)
    expect(page.locator("#store-status")).to_have_text("Needs reauthorization")
    expect(page.locator("#status-todo")).to_contain_text("choose “Reauthorize”")
    expect(page.locator("main")).to_contain_text("Amazon refused the store's authorization")
    expect(page.get_by_role("button", name="Reauthorize")).to_have_class(re.compile("primary"))
    expect(page.get_by_role("button", name="Sync orders now")).to_be_disabled()
    screenshot(page, "05b-store-page-needs-reauthorization")
    page.get_by_role("link", name="← All stores").click()
    card = page.locator(f'li[data-store-id="{store_id}"]')
    expect(card.locator("[data-status]")).to_have_text("Needs reauthorization")
    expect(card.get_by_role("note", name="Warnings")).to_have_text(BOTH_CHANNELS_WARNING)
    screenshot(page, "05c-stores-needs-reauthorization")
    card.get_by_role("link", name="Contoso UK").click()
    page.get_by_role("button", name="Reauthorize").click()
    approve_on_amazon(page, runtime, CONTOSO, store_id)
    expect(page.locator("#banner")).to_contain_text("authorized again")
    expect(page.locator("#store-status")).to_have_text("Active")


def test_a_changed_setting_is_kept_after_a_reload(page: Page, runtime: LocalRuntime) -> None:
    sign_in(page, runtime, "merchant-settings")
    store_id = connect_store(page, runtime, "Acme Canada", CA, ACME)
    form = page.locator("#settings-form")
    expect(form.get_by_label("Import pending orders")).not_to_be_checked()
    form.get_by_label("Import pending orders").check()
    form.get_by_label("Remove stock for fulfillments created in Amazon and not in the WMS").check()
    form.get_by_label("Inventory buffer").fill("3")
    form.get_by_label("Maximum quantity").fill("250")
    form.get_by_role("button", name="Save settings").click()
    expect(page.locator("#banner")).to_have_text(re.compile("Settings saved"))

    page.reload()
    form = page.locator("#settings-form")
    expect(form.get_by_label("Import pending orders")).to_be_checked()
    expect(
        form.get_by_label("Remove stock for fulfillments created in Amazon and not in the WMS")
    ).to_be_checked()
    expect(form.get_by_label("Inventory buffer")).to_have_value("3")
    expect(form.get_by_label("Maximum quantity")).to_have_value("250")
    expect(form.get_by_label("Primary warehouse (primary)")).to_be_checked()
    settings = api_get(runtime, "merchant-settings", f"/stores/{store_id}")["settings"]
    assert settings["import_pending_orders"] is True
    assert settings["remove_stock_for_external_fulfillments"] is True
    assert (settings["inventory_buffer"], settings["max_quantity"]) == (3, 250)

    # A value the API refuses is shown next to its field, and nothing is saved.
    form.get_by_label("Inventory buffer").fill("-2")
    form.get_by_role("button", name="Save settings").click()
    buffer = form.get_by_label("Inventory buffer")
    expect_field_error(page, buffer, "inventory_buffer", "Enter 0 or more.")
    assert "inventory_buffer-error" in (buffer.get_attribute("aria-describedby") or "")
    screenshot(page, "06-store-settings-error")
    assert api_get(runtime, "merchant-settings", f"/stores/{store_id}")["settings"]["inventory_buffer"] == 3


def test_sync_now_shows_the_run_in_the_sync_log(page: Page, runtime: LocalRuntime) -> None:
    sign_in(page, runtime, "merchant-sync")
    store_id = connect_store(page, runtime, "Acme US", US, ACME)
    expect(page.locator("#sync-log")).to_contain_text("No runs yet.")

    page.get_by_role("button", name="Sync orders now").click()
    run = page.locator('#sync-log tr[data-job="orders"]')
    expect(run).to_have_count(1, timeout=40_000)
    expect(run).to_contain_text("Sync now")
    expect(page.locator("#banner")).to_contain_text("Orders sync finished")
    runs = api_get(runtime, "merchant-sync", f"/stores/{store_id}/runs")["runs"]
    assert [(r["job"], r["trigger"]) for r in runs] == [("orders", "manual")]
    expect(run.locator("td").nth(2)).to_have_text(RESULT_WORDS[runs[0]["result"]])
    for problem in runs[0]["errors"]:
        expect(run.locator("td").nth(4)).to_contain_text(problem["message"])

    page.reload()
    daily = api_get(runtime, "merchant-sync", f"/stores/{store_id}/orders/daily?days=14")["days"]
    imported_today = daily[-1]["orders"]
    bars = page.locator("#orders-chart rect.bar")
    expect(bars).to_have_count(14)
    expect(bars.last).to_have_attribute("data-orders", str(imported_today))
    expect(page.locator("#orders-chart figcaption")).to_contain_text(f"{imported_today} today")
    expect(page.locator('.runs [data-job="orders"]').first).not_to_contain_text("Not run yet")
    screenshot(page, "07-store-page-after-sync")

    headers = {"Authorization": f"Bearer {runtime.dev_token('merchant-sync')}"}
    refused = requests.get(
        f"{runtime.api_url}/stores/{store_id}/orders/daily?days=0", headers=headers, timeout=10
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "days"
    other = requests.get(
        f"{runtime.api_url}/stores/{store_id}/orders/daily",
        headers={"Authorization": f"Bearer {runtime.dev_token('someone-else')}"},
        timeout=10,
    )
    assert other.status_code == 404  # another merchant's store does not exist for them


def test_an_empty_store_name_shows_the_api_error_next_to_the_field(page: Page, runtime: LocalRuntime) -> None:
    sign_in(page, runtime, "merchant-errors")
    page.get_by_role("link", name="+ Add a New Store").click()
    page.get_by_label("Marketplace").select_option(US)
    page.get_by_role("button", name="Connect").click()
    name = page.get_by_label("Store name")
    expect_field_error(page, name, "name", "This cannot be empty.")
    expect(page.locator("#banner")).to_contain_text("Please correct the form")
    screenshot(page, "08-connect-form-name-error")

    # Fixing the name clears the error on the next try, and the API's next refusal lands on its own field.
    name.fill("Acme US")
    page.get_by_label("Marketplace").select_option("")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#name-error")).to_have_count(0)
    expect(page.locator("#marketplace_id-error")).to_have_text("Choose a marketplace.")
    expect(page.get_by_label("Marketplace")).to_be_focused()
    assert api_get(runtime, "merchant-errors", "/stores")["stores"] == []


def test_the_connect_form_works_with_the_keyboard_alone(page: Page, runtime: LocalRuntime) -> None:
    sign_in(page, runtime, "merchant-keys")

    def tab_to(selector: str, limit: int = 15) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#add-store")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a New Store")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Store name")).to_be_focused()
    page.keyboard.type("Acme Canada")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Marketplace")).to_be_focused()
    page.keyboard.type("Canada")
    expect(page.get_by_label("Marketplace")).to_have_value(CA)
    expect(page.locator("#account-reminder")).to_contain_text("sells in Canada (CA)")
    page.keyboard.press("Tab")
    download = page.get_by_label("Download products and orders that are created in Amazon")
    expect(download).to_be_focused()
    page.keyboard.press("Space")
    expect(download).not_to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Leave stock as it is")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.get_by_label("Match what is in Amazon")).to_be_checked()
    screenshot(page, "09-connect-form-keyboard")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Connect")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(runtime.spapi_url) + r"/apps/authorize/consent\?"))

    [store] = api_get(runtime, "merchant-keys", "/stores")["stores"]
    assert (store["name"], store["marketplace_id"], store["status"]) == (
        "Acme Canada",
        CA,
        "pending_authorization",
    )
    assert store["settings"]["download_products_and_orders"] is False
    assert store["settings"]["starting_inventory"] == "match_amazon"


def test_the_console_fits_a_phone_screen(page_factory: Callable[..., Page], runtime: LocalRuntime) -> None:
    page = page_factory(PHONE)
    sign_in(page, runtime, "merchant-phone")
    store_id = connect_store(page, runtime, "Contoso Germany", "A1PA6795UKMFR9", CONTOSO)

    def fits() -> bool:
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))

    assert fits(), "the store page scrolls sideways on a phone"
    connect_button = page.get_by_role("button", name="Sync orders now")
    box = connect_button.bounding_box()
    assert box is not None and box["height"] >= 44  # large enough to tap
    screenshot(page, "10-phone-store-page")

    page.get_by_role("link", name="Stores", exact=True).click()
    expect(page.locator(f'li[data-store-id="{store_id}"] [data-status]')).to_have_text("Active")
    assert fits(), "the stores page scrolls sideways on a phone"
    screenshot(page, "11-phone-stores")

    page.get_by_role("link", name="+ Add a New Store").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a New Store")
    assert fits(), "the connect form scrolls sideways on a phone"
    screenshot(page, "12-phone-connect-form")


def test_disconnect_asks_for_confirmation_first(page: Page, runtime: LocalRuntime) -> None:
    sign_in(page, runtime, "merchant-disconnect")
    store_id = connect_store(page, runtime, "Acme US", US, ACME)
    page.get_by_role("button", name="Disconnect…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Orders already imported and the sync log are kept")
    screenshot(page, "13-disconnect-dialog")
    dialog.get_by_role("button", name="Keep the store").click()
    expect(dialog).to_be_hidden()
    assert api_get(runtime, "merchant-disconnect", f"/stores/{store_id}")["status"] == "active"

    page.get_by_role("button", name="Disconnect…").click()
    page.get_by_role("dialog").get_by_role("button", name="Disconnect", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stores")
    card = page.locator(f'li[data-store-id="{store_id}"]')
    expect(card.locator("[data-status]")).to_have_text("Disconnected")
    expect(card).to_contain_text("add a new store")
    assert api_get(runtime, "merchant-disconnect", f"/stores/{store_id}")["status"] == "disconnected"
