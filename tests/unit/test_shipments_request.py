"""The confirmShipment body built from a stored shipment, and how Amazon's own record is recognised."""

from __future__ import annotations

from datetime import UTC, datetime

from storesync.amazon.shipments import AmazonPackage
from storesync.dal.shipments import Shipment, ShipmentItem
from storesync.usecases.shipment_push import confirm_request, on_amazon

US = "ATVPDKIKX0DER"


def shipment(**over: object) -> Shipment:
    values: dict[str, object] = {
        "store_id": "st1",
        "merchant_id": "m1",
        "amazon_order_id": "111-0000001-0000001",
        "package_reference_id": "2",
        "carrier": "UPS",
        "carrier_code": "UPS",
        "carrier_name": None,
        "shipping_method": "Ground",
        "tracking_number": "1Z1",
        "ship_date": "2026-11-28T10:00:00Z",
        "items": [ShipmentItem(order_item_id="OI-1", sku="A", quantity=2)],
        "created_key": "k",
        "created_at": datetime(2026, 11, 28, tzinfo=UTC),
    }
    values.update(over)
    return Shipment("st1#111-0000001-0000001", "000002", **values)


def test_the_body_follows_the_ordersv0_model() -> None:
    assert confirm_request(shipment(), US) == {
        "marketplaceId": US,
        "packageDetail": {
            "packageReferenceId": "2",
            "carrierCode": "UPS",
            "shippingMethod": "Ground",
            "trackingNumber": "1Z1",
            "shipDate": "2026-11-28T10:00:00Z",
            "orderItems": [{"orderItemId": "OI-1", "quantity": 2}],
        },
    }


def test_other_carries_the_carrier_name_and_an_empty_method_is_left_out() -> None:
    body = confirm_request(
        shipment(carrier="Speedy", carrier_code="Other", carrier_name="Speedy", shipping_method=""), US
    )
    detail = body["packageDetail"]
    assert (detail["carrierCode"], detail["carrierName"]) == ("Other", "Speedy")
    assert "shippingMethod" not in detail


def test_amazons_package_is_ours_only_with_the_same_reference_and_tracking() -> None:
    mine = shipment()
    assert on_amazon(mine, [AmazonPackage(package_reference_id="2", tracking_number="1Z1")])
    assert not on_amazon(mine, [AmazonPackage(package_reference_id="2", tracking_number="OTHER")])
    assert not on_amazon(mine, [AmazonPackage(package_reference_id="1", tracking_number="1Z1")])
    assert not on_amazon(mine, [])
