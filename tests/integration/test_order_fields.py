"""Every fulfilment field of Orders v2026, from the simulator (POST /_sim/orders with a partial `order` and per
item `item`) through the real OrderImportFunction (ORDER_CHANGE notification, getOrder) to GET /orders/{id},
the order list (filters by program and ship-by, sort by ship-by) and the late-shipment counts of GET /stores.
The gift message is buyer data: only encrypted in DynamoDB, shown to the owning merchant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import requests
from fixtures_stores import Api
from order_import_support import (
    SELLER,
    US,
    OrderImportHarness,
    admin,
    sim_skus,
    stocked_store,
    stored,
)
from spapi_simulator.schemas import response_errors
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import authorize
from storesync.clock import iso
from storesync.dal.order_queries import get_address
from storesync.dal.orders import Order

GIFT_MESSAGE = "Happy birthday, Ada! From your favourite nephew"


def _order(
    sim: Simulator, sku: str, order: dict[str, Any] | None = None, item: dict[str, Any] | None = None
) -> str:
    body: dict[str, Any] = {
        "seller_id": SELLER,
        "marketplace_id": US,
        "items": [{"sku": sku, "quantity": 1, **({"item": item} if item else {})}],
    }
    if order:
        body["order"] = order
    return str(admin(sim, "POST", "orders", body)["order_id"])


def _window(start: datetime, hours: float) -> dict[str, str]:
    return {"earliestDateTime": iso(start - timedelta(hours=hours)), "latestDateTime": iso(start)}


def test_every_fulfilment_field_reaches_the_api(app_h: OrderImportHarness, orders_api: Api):
    h, sim, api = app_h, app_h.sim, orders_api
    store, fbm = stocked_store(h, 20)
    now = datetime.now(UTC)
    original_id = _order(sim, fbm[0])
    business_id = _order(
        sim,
        fbm[0],
        order={
            "programs": ["PRIME", "AMAZON_BUSINESS"],
            "buyer": {"buyerCompanyName": "Acme Tools Ltd", "buyerPurchaseOrderNumber": "PO-4711"},
            "fulfillment": {
                "fulfillmentServiceLevel": "NEXT_DAY",
                "shipByWindow": _window(now + timedelta(hours=3), 24),  # at risk
                "deliverByWindow": _window(now + timedelta(days=2), 24),
            },
            "associatedOrders": [{"orderId": original_id, "associationType": "REPLACEMENT_ORIGINAL_ID"}],
        },
        item={
            "programs": ["TRANSPARENCY"],
            "product": {"customization": {"customizedUrl": "https://zme-caps.amazon.com/t/abc/custom.zip"}},
            "fulfillment": {
                "packing": {"giftOption": {"giftMessage": GIFT_MESSAGE, "giftWrapLevel": "PREMIUM"}},
                "shipping": {
                    "shippingConstraints": {
                        "signatureConfirmation": "MANDATORY",
                        "recipientAgeVerification": "MANDATORY",
                    }
                },
            },
        },
    )
    late_id = _order(
        sim, fbm[0], order={"fulfillment": {"shipByWindow": _window(now - timedelta(hours=1), 24)}}
    )
    later_id = _order(
        sim,
        fbm[0],
        order={"programs": ["PRIME"], "fulfillment": {"shipByWindow": _window(now + timedelta(days=5), 24)}},
    )
    h.deliver_notifications()

    # the simulator's answer is the model's
    raw = requests.get(
        f"{sim.url}/_sim/orders/{business_id}", timeout=30
    ).json()  # ground truth keeps the partial as given
    assert raw["order"]["buyer"]["buyerPurchaseOrderNumber"] == "PO-4711"

    body = api("GET", f"/orders/{store.store_id}.{business_id}").json()
    assert body["programs"] == ["PRIME", "AMAZON_BUSINESS"]
    assert body["service_level"] == "NEXT_DAY"
    assert body["business_buyer"] == {"company": "Acme Tools Ltd", "purchase_order_number": "PO-4711"}
    assert body["ship_by_window"]["latest"] == iso(now + timedelta(hours=3))
    assert body["deliver_by_window"]["earliest"] == iso(now + timedelta(days=1))
    assert body["late_shipment_risk"]["level"] == "at_risk"
    assert body["associated_orders"] == [
        {
            "amazon_order_id": original_id,
            "association_type": "REPLACEMENT_ORIGINAL_ID",
            "id": f"{store.store_id}.{original_id}",  # linked to the original storesync holds
        }
    ]
    [item] = body["items"]
    assert item["programs"] == ["TRANSPARENCY"]
    assert item["customized_url"] == "https://zme-caps.amazon.com/t/abc/custom.zip"
    assert item["shipping_constraints"] == ["signatureConfirmation", "recipientAgeVerification"]
    assert item["gift"] is True
    assert item["gift_message"] == GIFT_MESSAGE and item["gift_wrap_level"] == "PREMIUM"
    assert item["cancellation_request"] is None
    assert api("GET", f"/orders/{store.store_id}.{late_id}").json()["late_shipment_risk"]["level"] == "late"
    assert api("GET", f"/orders/{store.store_id}.{later_id}").json()["late_shipment_risk"] is None
    assert api("GET", f"/orders/{store.store_id}.{original_id}").json()["programs"] == []

    # the gift message is buyer data: encrypted, never in the clear in any table
    dynamodb = boto3.client("dynamodb", endpoint_url=h.stack.endpoint_url, region_name=h.stack.region)
    for table in (h.stack.physical["OrdersTable"], h.stack.physical["OrderAddressesTable"]):
        for row in dynamodb.scan(TableName=table)["Items"]:
            assert "Ada" not in str(row)

    # the list: filter by program, by ship-by; sort by ship-by (orders to ship, earliest first)
    listed = api("GET", "/orders", query={"program": "PRIME"}).json()["orders"]
    assert {o["amazon_order_id"] for o in listed} == {business_id, later_id}
    assert "gift_message" not in listed[0]["items"][0]  # buyer data only on the order itself
    window = {"ship_by_from": iso(now - timedelta(hours=2)), "ship_by_to": iso(now + timedelta(days=1))}
    assert {o["amazon_order_id"] for o in api("GET", "/orders", query=window).json()["orders"]} == {
        business_id,
        late_id,
    }
    by_ship_by = api("GET", "/orders", query={"sort": "ship_by"}).json()["orders"]
    assert [o["amazon_order_id"] for o in by_ship_by] == [
        late_id,
        business_id,
        later_id,
    ]  # no window: not listed
    first = api("GET", "/orders", query={"sort": "ship_by", "limit": "2"}).json()
    rest = api(
        "GET", "/orders", query={"sort": "ship_by", "limit": "2", "next_token": first["next_token"]}
    ).json()
    assert [o["amazon_order_id"] for o in first["orders"] + rest["orders"]] == [
        late_id,
        business_id,
        later_id,
    ]
    in_window = api("GET", "/orders", query={"sort": "ship_by", **window}).json()["orders"]
    assert [o["amazon_order_id"] for o in in_window] == [late_id, business_id]
    bad = api("GET", "/orders", query={"program": "FREE_LUNCH"})
    assert bad.status == 400 and bad.json()["error"]["field"] == "program"
    bad = api("GET", "/orders", query={"ship_by_to": "next tuesday"})
    assert bad.status == 400 and bad.json()["error"]["field"] == "ship_by_to"

    # the Stores page counts the store's late and at-risk orders
    stores = api("GET", "/stores").json()["stores"]
    assert [s["late_shipments"] for s in stores if s["store_id"] == store.store_id] == [
        {"late": 1, "at_risk": 1}
    ]
    assert api("GET", f"/stores/{store.store_id}").json()["late_shipments"] == {"late": 1, "at_risk": 1}

    # shipped in Amazon: no longer to ship, no longer at risk
    admin(sim, "POST", f"orders/{business_id}/ship")
    h.deliver_notifications()
    assert api("GET", f"/orders/{store.store_id}.{business_id}").json()["late_shipment_risk"] is None
    assert [
        o["amazon_order_id"] for o in api("GET", "/orders", query={"sort": "ship_by"}).json()["orders"]
    ] == [
        late_id,
        later_id,
    ]
    assert api("GET", f"/stores/{store.store_id}").json()["late_shipments"] == {"late": 1, "at_risk": 0}

    # the gift message expires like the address: 30 days after the close, gone for the API too
    address = get_address(store.store_id, business_id)
    assert address is not None and address.expires_at is not None and address.gift_options_encrypted
    closed = stored(store, business_id)
    closed.update(actions=[Order.closed_at.set(now - timedelta(days=31))])
    gone = api("GET", f"/orders/{store.store_id}.{business_id}").json()
    assert gone["address"] is None
    assert gone["items"][0]["gift_message"] is None and gone["items"][0]["gift_wrap_level"] is None


def test_the_simulator_merges_partial_orders_and_refuses_what_it_owns(
    spapi_sim_factory: Callable[..., Simulator],
):
    sim = spapi_sim_factory(orders=0)
    fbm, _ = sim_skus(sim)

    def create(order: Any = None, item: Any = None) -> requests.Response:
        line: dict[str, Any] = {"sku": fbm[0], "quantity": 1}
        if item is not None:
            line["item"] = item
        body: dict[str, Any] = {"seller_id": SELLER, "items": [line]}
        if order is not None:
            body["order"] = order
        return requests.post(f"{sim.url}/_sim/orders", json=body, timeout=30)

    for order, item, field in (
        ({"orderId": "1"}, None, "order.orderId"),
        ({"fulfillment": {"fulfillmentStatus": "SHIPPED"}}, None, "order.fulfillment.fulfillmentStatus"),
        ({"nonsense": 1}, None, "order.nonsense"),
        ("PRIME", None, "order"),
        (None, {"quantityOrdered": 3}, "items[0].item.quantityOrdered"),
        (None, {"programs": "TRANSPARENCY"}, "order: the merged order breaks"),
        ({"fulfillment": {"shipByWindow": {"latestDateTime": 5}}}, None, "order: the merged order breaks"),
    ):
        answer = create(order, item)
        assert answer.status_code == 400, (order, item, answer.text)
        assert field in answer.text, answer.text

    made = create({"programs": ["PREORDER"]}, {"programs": ["SUBSCRIBE_AND_SAVE"]})
    assert made.status_code == 201, made.text
    order_id = made.json()["order_id"]
    got = requests.get(
        f"{sim.url}/orders/2026-01-01/orders/{order_id}",
        params={"includedData": "FULFILLMENT,BUYER,CANCELLATION"},
        headers=authorize(sim).headers,
        timeout=30,
    )
    assert got.status_code == 200, got.text
    assert response_errors("orders_2026-01-01.json", "getOrder", 200, got.json()) == []
    rendered = got.json()["order"]
    assert rendered["programs"] == ["PREORDER"] and rendered["orderItems"][0]["programs"] == [
        "SUBSCRIBE_AND_SAVE"
    ]
    assert rendered["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"  # merged over, not replaced
