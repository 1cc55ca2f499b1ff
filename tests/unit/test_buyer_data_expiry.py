"""When a buyer's data expires (storesync.domain.orders): 30 days after Amazon's ship or cancel time, never
storesync's clock; FBA orders keep none; an expired address is never shown, even before DynamoDB sweeps it.
Plain Python, plus the parse of Amazon's package ship times (storesync.amazon.orders)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from storesync.amazon.orders import INCLUDED_DATA, parse_amazon_order
from storesync.domain.orders import (
    UPDATE,
    AmazonItem,
    AmazonOrder,
    ImportRules,
    OrderLine,
    OrderSnapshot,
    OrderStatus,
    amazon_close_time,
    buyer_data_expiry,
    buyer_data_visible,
    follow_amazon,
    import_new,
    legacy_address_expiry,
    wms_close_time,
)

ADDRESS = {"name": "A Buyer", "addressLine1": "1 Main St", "city": "Seattle"}
UPDATED = "2026-07-10T10:00:00Z"


def incoming(status: str, channel: str = "FBM", shipped_time: str | None = None) -> AmazonOrder:
    return AmazonOrder(
        order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        channel=channel,
        created="2026-07-01T09:00:00Z",
        last_updated=UPDATED,
        items=(AmazonItem("OI-1", "SKU-1", 1),),
        address=ADDRESS,
        shipped_time=shipped_time,
    )


def stored(
    channel: str = "FBM", status: OrderStatus = OrderStatus.OPEN, has_address: bool = False
) -> OrderSnapshot:
    return OrderSnapshot(
        amazon_order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        channel=channel,
        status=status,
        amazon_status="UNSHIPPED",
        amazon_last_updated="2026-07-01T10:00:00Z",
        lines=(OrderLine("OI-1", "SKU-1", 1),),
        has_address=has_address,
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_shipped_order_closes_at_its_latest_package_ship_time() -> None:
    order = incoming("SHIPPED", shipped_time="2026-07-08T15:30:00Z")
    assert amazon_close_time(order) == at("2026-07-08T15:30:00Z")
    assert buyer_data_expiry(amazon_close_time(order)) == at("2026-08-07T15:30:00Z")


def test_without_a_ship_time_or_when_cancelled_the_close_is_amazons_last_update() -> None:
    assert amazon_close_time(incoming("SHIPPED")) == at(UPDATED)  # FBA: Amazon gives no package
    assert amazon_close_time(incoming("SHIPPED", channel="FBA")) == at(UPDATED)
    # Orders v2026-01-01 has no cancellation time: a ship time on a cancelled order is not a close time
    assert amazon_close_time(incoming("CANCELLED", shipped_time="2026-07-02T00:00:00Z")) == at(UPDATED)


def test_a_ship_time_after_amazons_last_update_is_not_believed() -> None:
    assert amazon_close_time(incoming("SHIPPED", shipped_time="2026-07-20T00:00:00Z")) == at(UPDATED)


def test_the_wms_close_is_the_latest_confirmed_ship_date_never_after_the_confirmation() -> None:
    confirmed = at("2026-07-09T12:00:00Z")
    dates = ["2026-07-05T08:00:00Z", "2026-07-07T08:00:00Z"]
    assert wms_close_time(dates, confirmed) == at("2026-07-07T08:00:00Z")
    assert wms_close_time(["2026-07-11T00:00:00Z"], confirmed) == confirmed  # dated ahead: the confirmation
    assert wms_close_time([], confirmed) == confirmed


@pytest.mark.parametrize("status", ["UNSHIPPED", "SHIPPED", "UNFULFILLABLE"])
def test_an_fba_order_never_stores_the_buyers_address(status: str) -> None:
    new = import_new(incoming(status, channel="FBA"), ImportRules())
    assert new.action == "create" and not new.store_address
    later = follow_amazon(stored(channel="FBA"), incoming(status, channel="FBA"), ImportRules())
    assert not later.store_address
    # an FBA address stored before this rule still expires when its order closes
    assert later.expire_buyer_data == (status == "SHIPPED")


def test_an_fbm_order_first_seen_shipped_stores_its_address_with_its_expiry() -> None:
    d = import_new(incoming("SHIPPED", shipped_time="2026-07-08T15:30:00Z"), ImportRules())
    assert d.store_address and d.closes and d.expire_buyer_data


@pytest.mark.parametrize("status", ["SHIPPED", "CANCELLED"])
def test_an_open_fbm_order_that_closes_expires_its_address(status: str) -> None:
    d = follow_amazon(stored(has_address=True), incoming(status), ImportRules())
    assert d.action == UPDATE and d.closes and d.expire_buyer_data and not d.store_address


def test_an_address_past_its_expiry_or_its_retention_is_not_shown() -> None:
    now = at("2026-08-01T00:00:00Z")
    assert buyer_data_visible(None, None, now)  # open order
    assert buyer_data_visible(now + timedelta(seconds=1), None, now)
    assert not buyer_data_visible(now, None, now)  # expired, TTL not swept yet
    assert not buyer_data_visible(now - timedelta(days=1), None, now)
    # closed over 30 days ago, the address stored before its expiry was set: gone all the same
    assert not buyer_data_visible(None, now - timedelta(days=30), now)
    assert buyer_data_visible(None, now - timedelta(days=29), now)


def amazon_json(**extra: Any) -> dict[str, Any]:
    return {
        "orderId": "111-0000001-0000001",
        "createdTime": "2026-07-01T09:00:00Z",
        "lastUpdatedTime": UPDATED,
        "salesChannel": {"marketplaceId": "ATVPDKIKX0DER"},
        "fulfillment": {"fulfillmentStatus": "SHIPPED", "fulfilledBy": "MERCHANT"},
        "orderItems": [{"orderItemId": "OI-1", "quantityOrdered": 1, "product": {"sellerSku": "SKU-1"}}],
        **extra,
    }


def test_the_parse_reads_the_latest_package_ship_time_and_the_import_asks_for_packages() -> None:
    assert "PACKAGES" in INCLUDED_DATA
    packages = [
        {"packageReferenceId": "1", "shipTime": "2026-07-05T08:00:00Z"},
        {"packageReferenceId": "2", "shipTime": "2026-07-08T15:30:00+00:00"},
        {"packageReferenceId": "3", "shipTime": "not a time"},
        {"packageReferenceId": "4"},
        "not a package",
    ]
    assert parse_amazon_order(amazon_json(packages=packages)).shipped_time == "2026-07-08T15:30:00+00:00"
    assert parse_amazon_order(amazon_json()).shipped_time is None
    assert parse_amazon_order(amazon_json(packages="garbled")).shipped_time is None


def test_a_legacy_address_expires_from_its_orders_close_at_once_for_fba_and_never_while_open() -> None:
    now = at("2026-09-01T00:00:00Z")
    shipped_at = at("2026-07-09T00:00:00Z")
    closed = stored(status=OrderStatus.SHIPPED_EXTERNALLY, has_address=True)
    assert legacy_address_expiry(closed, shipped_at, now) == shipped_at + timedelta(days=30)
    cancelled = stored(status=OrderStatus.CANCELLED, has_address=True)  # no close time recorded
    assert legacy_address_expiry(cancelled, None, now) == at("2026-07-31T10:00:00Z")  # lastUpdatedTime + 30
    assert legacy_address_expiry(stored(channel="FBA", has_address=True), None, now) == now
    assert legacy_address_expiry(None, None, now) == now  # the order is gone
    assert legacy_address_expiry(stored(has_address=True), None, now) is None  # open: expires when it closes
