"""Order rules (storesync.domain.orders): which orders are created and how they change. Plain Python."""

from __future__ import annotations

from typing import Any

import pytest
from storesync.amazon.orders import OrderDataError, parse_amazon_order
from storesync.domain.orders import (
    CREATE,
    IGNORE,
    UPDATE,
    Hold,
    ImportRules,
    OrderSnapshot,
    OrderStatus,
    decide,
)


def amazon_json(status: str = "UNSHIPPED", by: str = "MERCHANT", updated: str = "2026-07-01T10:00:00Z",
                address: bool = True) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {
        "orderId": "111-0000001-0000001",
        "createdTime": "2026-07-01T09:00:00Z",
        "lastUpdatedTime": updated,
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
        "fulfillment": {
            "fulfillmentStatus": status,
            "fulfilledBy": by,
            "shipByWindow": {"latestDateTime": "2026-07-03T00:00:00Z"},
        },
        "orderItems": [
            {
                "orderItemId": "OI1",
                "quantityOrdered": 2,
                "product": {
                    "sellerSku": "SKU-1",
                    "price": {"unitPrice": {"amount": "9.99", "currencyCode": "USD"}},
                },
                "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": 2},
            }
        ],
    }
    if address:
        body["recipient"] = {"deliveryAddress": {"name": "A Buyer", "city": "Seattle"}}
    return body


def snap(status: str = "open", amazon_status: str = "UNSHIPPED", **kw: Any) -> OrderSnapshot:
    values: dict[str, Any] = {"channel": "FBM", "amazon_last_updated": "2026-07-01T10:00:00Z", "holds": ()}
    values.update(kw)
    return OrderSnapshot(
        amazon_order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus(status),
        amazon_status=amazon_status,
        **values,
    )


def test_parse_reads_items_prices_dates_and_address():
    order = parse_amazon_order(amazon_json())
    assert order.channel == "FBM" and order.status == "UNSHIPPED" and order.released
    assert order.items[0].sku == "SKU-1" and order.items[0].quantity == 2
    assert order.items[0].price == "9.99" and order.items[0].currency == "USD"
    assert order.ship_by == "2026-07-03T00:00:00Z"
    assert order.address == {"name": "A Buyer", "city": "Seattle"}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.pop("fulfillment"), "fulfillment"),
        (lambda o: o["orderItems"][0]["product"].pop("sellerSku"), "orderItems[0].product.sellerSku"),
        (lambda o: o.update(lastUpdatedTime="yesterday"), "lastUpdatedTime"),
        (lambda o: o["orderItems"][0].update(quantityOrdered="2"), "orderItems[0].quantityOrdered"),
        (lambda o: o.update(orderItems=[]), "orderItems"),
    ],
)
def test_parse_names_the_bad_field(mutate, field):
    data = amazon_json()
    mutate(data)
    with pytest.raises(OrderDataError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_amazon_order(data)


def test_released_fbm_order_is_created_and_allocates():
    d = decide(None, parse_amazon_order(amazon_json()), ImportRules())
    assert (d.action, d.status, d.allocate, d.store_address, d.holds) == (CREATE, "open", True, True, ())


def test_pending_fbm_order_waits_unless_pending_orders_are_imported():
    pending = parse_amazon_order(amazon_json("PENDING", address=False))
    assert decide(None, pending, ImportRules()).action == IGNORE
    d = decide(None, pending, ImportRules(import_pending=True))
    assert (d.action, d.status, d.holds, d.automation_blocked, d.allocate, d.store_address) == (
        CREATE, "pending", (Hold.PAYMENT,), True, True, False,
    )  # fmt: skip


def test_release_lifts_the_hold_and_fills_the_address():
    existing = snap("pending", "PENDING", holds=(Hold.PAYMENT,))
    d = decide(existing, parse_amazon_order(amazon_json(updated="2026-07-01T11:00:00Z")), ImportRules())
    assert (d.action, d.status, d.holds, d.automation_blocked, d.store_address) == (
        UPDATE,
        "open",
        (),
        False,
        True,
    )
    assert not d.release_allocation and not d.remove_stock


def test_fba_orders_are_created_whatever_their_status_and_take_no_stock():
    for status in ("PENDING", "UNSHIPPED", "SHIPPED"):
        d = decide(None, parse_amazon_order(amazon_json(status, by="AMAZON")), ImportRules())
        assert d.action == CREATE and not d.allocate and not d.remove_stock
    shipped = decide(None, parse_amazon_order(amazon_json("SHIPPED", by="AMAZON")), ImportRules())
    assert shipped.status == "shipped"


def test_first_seen_cancelled_is_never_created_and_downloads_off_creates_nothing():
    assert decide(None, parse_amazon_order(amazon_json("CANCELLED")), ImportRules()).action == IGNORE
    off = ImportRules(download_orders=False)
    assert decide(None, parse_amazon_order(amazon_json()), off).action == IGNORE
    # ... but changes of existing orders still flow (B13)
    d = decide(snap(), parse_amazon_order(amazon_json("CANCELLED", updated="2026-07-02T00:00:00Z")), off)
    assert (d.action, d.status, d.release_allocation) == (UPDATE, "cancelled", True)


def test_first_seen_shipped_fbm_is_shipped_externally_and_removes_stock_only_with_the_setting():
    order = parse_amazon_order(amazon_json("SHIPPED"))
    off = decide(None, order, ImportRules())
    on = decide(None, order, ImportRules(remove_stock_for_external=True))
    assert off.status == on.status == "shipped_externally"
    assert (off.remove_stock, on.remove_stock, on.allocate) == (False, True, False)


def test_shipped_on_amazon_without_wms_shipment_removes_stock_once():
    later = parse_amazon_order(amazon_json("SHIPPED", updated="2026-07-02T00:00:00Z"))
    rules = ImportRules(remove_stock_for_external=True)
    d = decide(snap(), later, rules)
    assert (d.status, d.remove_stock, d.release_allocation, d.closes) == (
        "shipped_externally",
        True,
        False,
        True,
    )
    again = decide(snap("shipped_externally", "SHIPPED", stock_removed_externally=True, has_address=True,
                        amazon_last_updated="2026-07-02T00:00:00Z"), later, rules)  # fmt: skip
    assert again.action == IGNORE and not again.remove_stock
    without = decide(snap(), later, ImportRules())
    assert (without.remove_stock, without.release_allocation) == (False, True)


def test_shipped_with_a_wms_shipment_is_just_shipped():
    later = parse_amazon_order(amazon_json("SHIPPED", updated="2026-07-02T00:00:00Z"))
    d = decide(snap(has_wms_shipment=True), later, ImportRules(remove_stock_for_external=True))
    assert (d.status, d.remove_stock, d.release_allocation) == ("shipped", False, False)


def test_an_older_update_never_overwrites_a_newer_one():
    newer = snap("cancelled", "CANCELLED", amazon_last_updated="2026-07-05T00:00:00Z")
    older = parse_amazon_order(amazon_json("UNSHIPPED", updated="2026-07-01T10:00:00Z"))
    assert decide(newer, older, ImportRules()).action == IGNORE


def test_the_same_update_twice_changes_nothing():
    order = parse_amazon_order(amazon_json())
    assert decide(snap(has_address=True), order, ImportRules()).action == IGNORE


def test_unknown_sku_gives_a_hold():
    d = decide(None, parse_amazon_order(amazon_json()), ImportRules(), ["SKU-1"])
    assert d.action == CREATE and d.holds == (Hold.UNKNOWN_SKU,) and d.unknown_skus == ("SKU-1",)
