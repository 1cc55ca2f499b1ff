"""Orders v2026 fulfilment fields: read from Amazon's JSON (a bad field is an error naming it), the late-shipment
risk, and what the stored order keeps (storesync.dal.order_queries) - plain Python, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from storesync.amazon.orders import INCLUDED_DATA, OrderDataError, parse_amazon_order
from storesync.dal import order_queries
from storesync.dal.orders import Order
from storesync.domain.orders import (
    AT_RISK,
    LATE,
    AssociatedOrder,
    CancellationRequest,
    GiftOption,
    awaiting_shipment,
    late_shipment_risk,
)

NOW = datetime(2026, 7, 2, 12, 0, tzinfo=UTC)


def full_json() -> dict[str, Any]:
    return {
        "orderId": "111-0000001-0000001",
        "createdTime": "2026-07-01T09:00:00Z",
        "lastUpdatedTime": "2026-07-01T10:00:00Z",
        "programs": ["PRIME", "AMAZON_BUSINESS"],
        "associatedOrders": [{"orderId": "111-0000000-0000009", "associationType": "EXCHANGE_ORIGINAL_ID"}],
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
        "buyer": {
            "buyerName": "Ada Buyer",
            "buyerEmail": "x@marketplace.amazon.com",
            "buyerCompanyName": "Acme",
            "buyerPurchaseOrderNumber": "PO-1",
        },
        "fulfillment": {
            "fulfillmentStatus": "UNSHIPPED",
            "fulfilledBy": "MERCHANT",
            "fulfillmentServiceLevel": "SECOND_DAY",
            "shipByWindow": {
                "earliestDateTime": "2026-07-01T12:00:00Z",
                "latestDateTime": "2026-07-03T00:00:00Z",
            },
            "deliverByWindow": {
                "earliestDateTime": "2026-07-04T00:00:00Z",
                "latestDateTime": "2026-07-05T00:00:00Z",
            },
        },
        "orderItems": [
            {
                "orderItemId": "OI1",
                "quantityOrdered": 1,
                "programs": ["TRANSPARENCY"],
                "product": {
                    "sellerSku": "SKU-1",
                    "customization": {"customizedUrl": "https://c.example/1.zip"},
                },
                "cancellation": {
                    "cancellationRequest": {"requester": "BUYER", "cancelReason": "found cheaper"}
                },
                "fulfillment": {
                    "quantityFulfilled": 0,
                    "packing": {"giftOption": {"giftMessage": "Enjoy!", "giftWrapLevel": "PREMIUM"}},
                    "shipping": {
                        "shippingConstraints": {"cashOnDelivery": "MANDATORY", "palletDelivery": "MANDATORY"}
                    },
                },
            },
            {"orderItemId": "OI2", "quantityOrdered": 1, "product": {"sellerSku": "SKU-2"}},
        ],
    }


def test_every_fulfilment_field_is_read():
    order = parse_amazon_order(full_json())
    assert order.programs == ("PRIME", "AMAZON_BUSINESS")
    assert order.service_level == "SECOND_DAY"
    assert (order.ship_by_start, order.ship_by) == ("2026-07-01T12:00:00Z", "2026-07-03T00:00:00Z")
    assert (order.deliver_by_start, order.deliver_by) == ("2026-07-04T00:00:00Z", "2026-07-05T00:00:00Z")
    assert (order.buyer_company, order.buyer_po_number) == ("Acme", "PO-1")
    assert order.associated_orders == (AssociatedOrder("111-0000000-0000009", "EXCHANGE_ORIGINAL_ID"),)
    first, second = order.items
    assert first.programs == ("TRANSPARENCY",) and first.customized_url == "https://c.example/1.zip"
    assert first.gift == GiftOption("Enjoy!", "PREMIUM")
    assert first.shipping_constraints == ("palletDelivery", "cashOnDelivery")  # the model's order
    assert first.cancellation_request == CancellationRequest("BUYER", "found cheaper")
    assert order.buyer_cancellation == CancellationRequest("BUYER", "found cheaper")
    assert order.gift_options == {"OI1": GiftOption("Enjoy!", "PREMIUM")}
    assert second.programs == () and second.gift is None and second.cancellation_request is None
    assert "BUYER" in INCLUDED_DATA and "CANCELLATION" in INCLUDED_DATA


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.update(programs="PRIME"), "programs"),
        (lambda o: o.update(programs=[1]), "programs"),
        (lambda o: o.update(associatedOrders={"orderId": "1"}), "associatedOrders"),
        (lambda o: o["associatedOrders"][0].pop("orderId"), "associatedOrders[0].orderId"),
        (lambda o: o.update(buyer="Acme"), "buyer"),
        (lambda o: o["buyer"].update(buyerPurchaseOrderNumber=17), "buyer.buyerPurchaseOrderNumber"),
        (lambda o: o["fulfillment"].update(fulfillmentServiceLevel=2), "fulfillment.fulfillmentServiceLevel"),
        (
            lambda o: o["fulfillment"]["shipByWindow"].update(latestDateTime="soon"),
            "fulfillment.shipByWindow.latestDateTime",
        ),
        (lambda o: o["orderItems"][0].update(programs="X"), "orderItems[0].programs"),
        (
            lambda o: o["orderItems"][0]["product"].update(customization=[]),
            "orderItems[0].product.customization",
        ),
        (
            lambda o: o["orderItems"][0]["fulfillment"]["packing"]["giftOption"].update(giftMessage=1),
            "orderItems[0].fulfillment.packing.giftOption.giftMessage",
        ),
        (
            lambda o: o["orderItems"][0]["fulfillment"]["shipping"].update(shippingConstraints="all"),
            "orderItems[0].fulfillment.shipping.shippingConstraints",
        ),
        (
            lambda o: o["orderItems"][0]["cancellation"].update(cancellationRequest=True),
            "orderItems[0].cancellation.cancellationRequest",
        ),
    ],
)
def test_a_bad_fulfilment_field_is_an_error_naming_it(mutate, field):
    data = full_json()
    mutate(data)
    with pytest.raises(OrderDataError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_amazon_order(data)


def test_late_shipment_risk():
    ship_by = "2026-07-03T00:00:00Z"  # 12 hours after NOW
    risk = late_shipment_risk("FBM", "open", ship_by, NOW)
    assert risk is not None and risk.level == AT_RISK and "12 h" in risk.message
    assert late_shipment_risk("FBM", "partially_shipped", ship_by, NOW + timedelta(hours=12)).level == LATE  # type: ignore[union-attr]
    assert late_shipment_risk("FBM", "open", ship_by, NOW - timedelta(hours=13)) is None  # 25 h left
    assert late_shipment_risk("FBA", "open", ship_by, NOW) is None  # Amazon ships it
    assert late_shipment_risk("FBM", "pending", ship_by, NOW) is None  # not released: cannot ship yet
    assert late_shipment_risk("FBM", "shipped", ship_by, NOW + timedelta(days=3)) is None
    assert late_shipment_risk("FBM", "open", None, NOW) is None


def test_awaiting_shipment():
    assert awaiting_shipment("FBM", "open") and awaiting_shipment("FBM", "pending")
    assert not awaiting_shipment("FBA", "open") and not awaiting_shipment("FBM", "cancelled")


def stored_order(status: str = "open", channel: str = "FBM") -> Order:
    order = Order("st1", "111-0000001-0000001", merchant_id="m1", channel=channel, status=status)
    order.items = [order_queries.order_item(i) for i in parse_amazon_order(full_json()).items]
    return order


def test_the_stored_order_keeps_the_fields_but_never_the_gift_message_or_buyer_name():
    order = stored_order()
    incoming = parse_amazon_order(full_json())
    order_queries.apply_order_fields(order, incoming)
    order_queries.index_awaiting_shipment(order)
    assert order.programs == ["PRIME", "AMAZON_BUSINESS"] and order.service_level == "SECOND_DAY"
    assert (order.buyer_company, order.buyer_po_number) == ("Acme", "PO-1")
    assert order.associated_orders[0].amazon_order_id == "111-0000000-0000009"
    item = order.items[0]
    assert item.gift is True and item.cancellation_reason == "found cheaper"
    assert item.shipping_constraints == ["palletDelivery", "cashOnDelivery"]
    stored = str(order.serialize(null_check=False))
    assert "Enjoy!" not in stored and "Ada" not in stored and "x@marketplace" not in stored
    assert order.awaiting_merchant == "m1"
    assert order.ship_by_key == "2026-07-03T00:00:00Z#st1#111-0000001-0000001"


def test_a_later_answer_without_windows_or_buyer_keeps_them_and_a_copied_item_keeps_its_fields():
    order = stored_order()
    order_queries.apply_order_fields(order, parse_amazon_order(full_json()))
    bare = full_json()
    bare.pop("buyer")
    bare["fulfillment"].pop("shipByWindow")
    order_queries.apply_order_fields(order, parse_amazon_order(bare))
    assert order.ship_by == "2026-07-03T00:00:00Z" and order.buyer_po_number == "PO-1"
    copy = order_queries.order_item(order.items[0], [("wh", 1)])
    assert copy.programs == ["TRANSPARENCY"] and copy.customized_url == "https://c.example/1.zip"
    assert copy.cancellation_requester == "BUYER" and copy.gift is True


@pytest.mark.parametrize(("status", "channel"), [("shipped", "FBM"), ("cancelled", "FBM"), ("open", "FBA")])
def test_an_order_not_to_ship_leaves_the_awaiting_index(status, channel):
    order = stored_order(status, channel)
    order_queries.apply_order_fields(order, parse_amazon_order(full_json()))
    order_queries.index_awaiting_shipment(order)
    assert order.awaiting_merchant is None and order.ship_by_key is not None
