"""The buyer's name and address leave 30 days after the order closes, whichever way it closes, counted from
Amazon's ship or cancel time (never storesync's clock): shipped through the WMS (the shipment push confirms the
last package: its ship date), shipped outside the WMS, cancelled, first seen already shipped (Amazon's
lastUpdatedTime of the answer that shows it closed, which is also the shipTime of the simulator's package), first
seen cancelled (never stored), and FBA orders (never stored). DynamoDB's TTL attribute `expires_at` of the
OrderAddress carries the date; after each path every table of the stack is scanned: the buyer's name and
address are nowhere in plain text, and every address row has its expiry once its order closed. The API never
shows an address past its expiry (DynamoDB's sweep may lag by days)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from fakes import RecordingJobQueue
from fixtures_stores import Api
from order_import_support import (
    MERCHANT,
    SELLER,
    US,
    OrderImportHarness,
    admin,
    make_harness,
    sim_skus,
    stock,
    store_of,
    stored,
)
from shipment_push_support import push_event
from spapi_simulator.sellers import APPLICATION_ID
from storesync.clock import utcnow
from storesync.dal.order_queries import get_address, get_order
from storesync.dal.orders import Order, OrderAddress
from storesync.dal.stores import Store
from storesync.usecases.buyer_data_backfill import BackfillResult, backfill_address_expiry
from storesync.usecases.shipment_create import create_shipment

RETENTION = timedelta(days=30)
BUYER = "Zelda Quuxbuyer"
STREET = "742 Evergreen Terrace Qz"
ADDRESS = {
    "name": BUYER,
    "addressLine1": STREET,
    "city": "Seattle",
    "stateOrRegion": "WA",
    "postalCode": "98101",
    "countryCode": "US",
}


def sim_order(h: OrderImportHarness, sku: str, quantity: int = 1, fulfilled_by: str = "MERCHANT") -> str:
    body = {
        "seller_id": SELLER,
        "marketplace_id": US,
        "fulfilled_by": fulfilled_by,
        "items": [{"sku": sku, "quantity": quantity}],
        "address": ADDRESS,
        "buyer_name": BUYER,
    }
    return str(admin(h.sim, "POST", "orders", body)["order_id"])


def amazon_updated(h: OrderImportHarness, order_id: str) -> datetime:
    """The order's lastUpdatedTime as Amazon answers it (whole seconds)."""
    return datetime.fromtimestamp(int(h.sim.world.orders.by_id[order_id].updated), tz=UTC)


def expiry_of(store_id: str, order_id: str) -> datetime | None:
    address = get_address(store_id, order_id)
    assert address is not None, "the buyer's address was stored on import"
    return address.expires_at


def assert_expires_from_amazons_time(store: Store, order_id: str, closed_at: datetime) -> None:
    """The TTL is exactly Amazon's close time + 30 days, and storesync's clock would have given another."""
    expires_at = expiry_of(store.store_id, order_id)
    assert expires_at == closed_at + RETENTION
    assert abs((utcnow() + RETENTION - expires_at).total_seconds()) > 60  # not counted from storesync's now
    assert stored(store, order_id).closed_at == closed_at


def assert_no_buyer_data_without_expiry(h: OrderImportHarness) -> None:
    """Scan every table of the stack: the buyer's name and street are in no record in plain text; every
    address row whose order closed expires, within the retention of its order's close."""
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=h.stack.endpoint_url)
    # ListTables answers 100 names a page, and earlier tests' stacks share this moto: read every page
    names = client.get_paginator("list_tables").paginate().build_full_result()["TableNames"]
    tables = [t for t in names if t.startswith(h.stack.stack_name)]
    address_table = OrderAddress.Meta.table_name
    assert address_table in tables
    for table in tables:
        if table == address_table:
            continue
        items = client.get_paginator("scan").paginate(TableName=table).build_full_result()["Items"]
        text = json.dumps(items, default=str)
        assert BUYER not in text and STREET not in text, f"buyer data in {table}"
    for address in OrderAddress.scan():
        order = get_order(address.store_id, address.amazon_order_id)
        assert order is not None
        assert order.channel == "FBM", "an FBA order keeps no buyer data"
        if order.status in ("shipped", "shipped_externally", "cancelled"):
            assert order.closed_at is not None and address.expires_at is not None
            assert address.expires_at <= order.closed_at + RETENTION


def harness(make_stack: Any, spapi_sim_factory: Any, load_function: Any) -> tuple[OrderImportHarness, Store]:
    h = make_harness(
        make_stack,
        spapi_sim_factory(orders=0),
        load_function,
        subscribe=False,
        SpApiApplicationId=APPLICATION_ID,
    )
    return h, store_of(h)


def imported(h: OrderImportHarness, store: Store, quantity: int = 1) -> str:
    """One FBM order imported: its buyer's address stored, with no expiry yet."""
    fbm, _ = sim_skus(h.sim)
    stock(MERCHANT, fbm[0], 10)
    order_id = sim_order(h, fbm[0], quantity)
    h.advance()
    h.poll(store)
    assert stored(store, order_id).has_address and expiry_of(store.store_id, order_id) is None
    return order_id


def ship_in_wms(store: Store, order_id: str, ship_date: datetime, tracking: str) -> None:
    item_id = stored(store, order_id).items[0].order_item_id
    body = {
        "carrier": "UPS",
        "shipping_method": "Ground",
        "tracking_number": tracking,
        "ship_date": ship_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "items": [{"order_item_id": item_id, "quantity": 1}],
    }
    create_shipment(store.merchant_id, store.store_id, order_id, body, RecordingJobQueue())


def test_shipped_through_the_wms_expires_30_days_after_the_last_packages_ship_date(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any, lambda_context: Any
) -> None:
    h, store = harness(make_stack, spapi_sim_factory, load_function)
    order_id = imported(h, store, quantity=2)
    push = load_function("ShipmentPushFunction")
    now = utcnow().replace(microsecond=0)

    ship_in_wms(store, order_id, now - timedelta(days=2), "P1")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    assert stored(store, order_id).status == "partially_shipped"
    assert expiry_of(store.store_id, order_id) is None  # still open: the buyer's data stays

    last_ship_date = now - timedelta(hours=6)
    ship_in_wms(store, order_id, last_ship_date, "P2")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    assert stored(store, order_id).status == "shipped"
    assert_expires_from_amazons_time(store, order_id, last_ship_date)
    assert_no_buyer_data_without_expiry(h)

    # Amazon's SHIPPED reaches the import afterwards: the order stays shipped and the expiry stays.
    h.advance()
    h.poll(store)
    assert stored(store, order_id).status == "shipped"
    assert expiry_of(store.store_id, order_id) == last_ship_date + RETENTION


@pytest.mark.parametrize(
    ("amazon_action", "closed_status"), [("ship", "shipped_externally"), ("cancel", "cancelled")]
)
def test_shipped_outside_the_wms_or_cancelled_expires_30_days_after_amazons_time(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any, amazon_action: str, closed_status: str
) -> None:
    h, store = harness(make_stack, spapi_sim_factory, load_function)
    order_id = imported(h, store)

    h.advance(3600)  # Amazon closes it an hour on: its time runs ahead of storesync's
    admin(h.sim, "POST", f"orders/{order_id}/{amazon_action}")
    closed_at = amazon_updated(h, order_id)
    h.advance()
    h.poll(store)
    assert stored(store, order_id).status == closed_status
    assert_expires_from_amazons_time(store, order_id, closed_at)
    assert_no_buyer_data_without_expiry(h)


def test_first_seen_already_shipped_stores_the_address_with_its_expiry(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any
) -> None:
    h, store = harness(make_stack, spapi_sim_factory, load_function)
    fbm, _ = sim_skus(h.sim)
    order_id = sim_order(h, fbm[0])
    h.advance(3600)
    admin(h.sim, "POST", f"orders/{order_id}/ship")  # shipped outside the WMS before storesync saw it
    closed_at = amazon_updated(h, order_id)
    h.advance()
    h.poll(store)
    order = stored(store, order_id)
    assert (order.status, order.has_address) == ("shipped_externally", True)
    assert_expires_from_amazons_time(store, order_id, closed_at)
    assert_no_buyer_data_without_expiry(h)


def test_first_seen_cancelled_stores_nothing(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any
) -> None:
    h, store = harness(make_stack, spapi_sim_factory, load_function)
    fbm, _ = sim_skus(h.sim)
    order_id = sim_order(h, fbm[0])
    admin(h.sim, "POST", f"orders/{order_id}/cancel")
    h.advance()
    h.poll(store)
    assert get_address(store.store_id, order_id) is None
    assert not [o for o in OrderAddress.scan()]
    assert_no_buyer_data_without_expiry(h)


def test_an_fba_order_keeps_no_buyer_data(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any, lambda_context: Any
) -> None:
    h, store = harness(make_stack, spapi_sim_factory, load_function)
    _, fba = sim_skus(h.sim)
    order_id = sim_order(h, fba[0], fulfilled_by="AMAZON")
    h.advance()
    h.poll(store)
    assert (stored(store, order_id).channel, stored(store, order_id).has_address) == ("FBA", False)
    admin(h.sim, "POST", f"orders/{order_id}/ship")  # Amazon ships it
    closed_at = amazon_updated(h, order_id)
    h.advance()
    h.poll(store)
    order = stored(store, order_id)
    assert (order.status, order.has_address, order.closed_at) == ("shipped", False, closed_at)
    assert get_address(store.store_id, order_id) is None
    assert_no_buyer_data_without_expiry(h)

    api = Api(load_function("ApiFunction"), lambda_context, h.sim, h.stack)
    assert api("GET", f"/orders/{store.store_id}.{order_id}").json()["address"] is None


def test_the_api_never_shows_an_address_past_its_expiry(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any, lambda_context: Any
) -> None:
    h, store = harness(make_stack, spapi_sim_factory, load_function)
    order_id = imported(h, store)
    api = Api(load_function("ApiFunction"), lambda_context, h.sim, h.stack)
    path = f"/orders/{store.store_id}.{order_id}"
    assert api("GET", path).json()["address"]["addressLine1"] == STREET

    admin(h.sim, "POST", f"orders/{order_id}/ship")
    h.advance()
    h.poll(store)
    assert api("GET", path).json()["address"]["name"] == BUYER  # shipped: kept up to 30 days

    # the expiry passed and DynamoDB's TTL has not swept the row yet: the API shows no address
    address = get_address(store.store_id, order_id)
    assert address is not None
    address.update(actions=[OrderAddress.expires_at.set(utcnow() - timedelta(seconds=1))])
    answer = api("GET", path)
    assert answer.status == 200 and answer.json()["address"] is None

    # closed more than 30 days ago: the order (and the order list) no longer says it has an address
    order = get_order(store.store_id, order_id)
    assert order is not None and answer.json()["has_address"] is True
    order.update(actions=[Order.closed_at.set(utcnow() - timedelta(days=31))])
    assert api("GET", path).json()["has_address"] is False
    listed = api("GET", "/orders", query={"store_id": store.store_id}).json()["orders"]
    assert [o["has_address"] for o in listed if o["amazon_order_id"] == order_id] == [False]


def test_the_backfill_gives_legacy_addresses_their_expiry_once(
    make_stack: Any, spapi_sim_factory: Any, load_function: Any
) -> None:
    h, store = harness(make_stack, spapi_sim_factory, load_function)
    open_id = imported(h, store)
    shipped_id = imported(h, store)
    _, fba = sim_skus(h.sim)
    fba_id = sim_order(h, fba[0], fulfilled_by="AMAZON")
    admin(h.sim, "POST", f"orders/{shipped_id}/ship")
    h.advance()
    h.poll(store)
    # as stored before every path set an expiry: the shipped order's address has none and no close time is
    # recorded; an FBA order's address was stored; a row outlived its order
    legacy = get_address(store.store_id, shipped_id)
    assert legacy is not None
    legacy.update(actions=[OrderAddress.expires_at.remove()])
    shipped = stored(store, shipped_id)
    shipped.update(actions=[Order.closed_at.remove()])
    for order_id in (fba_id, "111-9999999-9999999"):
        OrderAddress(store.store_id, order_id, merchant_id=MERCHANT, address_encrypted=b"x").save()

    before = utcnow()
    assert backfill_address_expiry() == BackfillResult(expired=3, kept_open=1)
    assert expiry_of(store.store_id, open_id) is None  # open: expires when it closes
    assert shipped.shipped_at is not None
    assert expiry_of(store.store_id, shipped_id) == shipped.shipped_at.replace(microsecond=0) + RETENTION
    for order_id in (fba_id, "111-9999999-9999999"):  # keep none: gone with DynamoDB's next sweep
        expires_at = expiry_of(store.store_id, order_id)
        assert expires_at is not None and before - timedelta(seconds=1) <= expires_at <= utcnow()
    assert backfill_address_expiry() == BackfillResult(expired=0, kept_open=1)  # once
