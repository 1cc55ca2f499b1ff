"""Shipment push against the simulator with the real ShipmentPushFunction handler: full and partial
shipments, several packages per order, the unknown-carrier fallback, and the order following Amazon."""

from __future__ import annotations

import shipment_push_support as support
from fixtures_stores import connected_store, sim_stack


def test_partial_then_full_shipment_in_several_packages(make_stack, spapi_sim, load_function, lambda_context):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, support.SELLER, support.US)
    sku_a, sku_b = support.fbm_skus(spapi_sim, support.SELLER, support.US)[:2]
    sim_order = support.amazon_order(spapi_sim, store, [(sku_a, 3), (sku_b, 1)])
    order_id = sim_order["order_id"]
    item_a, item_b = (line["order_item_id"] for line in sim_order["items"])
    order = support.import_order(store, sim_order, spare=5)
    assert support.stock(store.merchant_id, sku_a) == (8, 3)

    first = support.ship(
        store, order_id, [{"order_item_id": item_a, "quantity": 2}], carrier="usps", tracking="9400111"
    )
    # The stock left with the shipment, in the same transaction.
    assert support.stock(store.merchant_id, sku_a) == (6, 1)
    assert (first.package_reference_id, first.carrier_code, first.push_state) == ("1", "USPS", "pending")

    handler = load_function("ShipmentPushFunction")
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}

    packages = support.amazon_packages(spapi_sim, order_id)
    assert [(p["package_reference_id"], p["carrier_code"], p["tracking_number"]) for p in packages] == [
        ("1", "USPS", "9400111")
    ]
    assert packages[0]["items"] == [{"orderItemId": item_a, "quantity": 2}]
    assert support.amazon_status(spapi_sim, order_id) == "PARTIALLY_SHIPPED"
    order = support.fresh(order)
    assert order.status == "partially_shipped"
    assert {i.order_item_id: i.quantity_shipped for i in order.items} == {item_a: 2, item_b: 0}

    # Two more packages: the rest of A by SKU with FedEx, and B with a carrier Amazon does not list.
    support.ship(store, order_id, [{"sku": sku_a, "quantity": 1}], carrier="FedEx", tracking="7777")
    support.ship(store, order_id, [{"order_item_id": item_b, "quantity": 1}], carrier="Speedy Couriers", tracking="SC-1",
         method="Next day")  # fmt: skip
    assert support.stock(store.merchant_id, sku_a) == (5, 0)
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}

    packages = {p["package_reference_id"]: p for p in support.amazon_packages(spapi_sim, order_id)}
    assert sorted(packages) == ["1", "2", "3"]
    assert (packages["2"]["carrier_code"], packages["2"]["tracking_number"]) == ("FedEx", "7777")
    other = packages["3"]
    assert (other["carrier_code"], other["carrier_name"], other["shipping_method"]) == (
        "Other",
        "Speedy Couriers",
        "Next day",
    )
    assert support.amazon_status(spapi_sim, order_id) == "SHIPPED"
    order = support.fresh(order)
    assert order.status == "shipped" and order.shipped_at is not None
    assert {i.order_item_id: i.quantity_shipped for i in order.items} == {item_a: 3, item_b: 1}
    states = {
        s.package_reference_id: (s.push_state, s.carrier_code, s.carrier_name)
        for s in support.shipments_of(order)
    }
    assert states == {
        "1": ("confirmed", "USPS", None),
        "2": ("confirmed", "FedEx", None),
        "3": ("confirmed", "Other", "Speedy Couriers"),
    }
    assert all(s.pending_store_id is None for s in support.shipments_of(order))

    # Nothing left: a further run sends nothing.
    calls = support.confirm_calls(spapi_sim)
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}
    assert support.confirm_calls(spapi_sim) == calls


def test_a_full_shipment_in_one_package(make_stack, spapi_sim, load_function, lambda_context):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, support.SELLER, support.US)
    sku = support.fbm_skus(spapi_sim, support.SELLER, support.US)[0]
    sim_order = support.amazon_order(spapi_sim, store, [(sku, 2)])
    order = support.import_order(store, sim_order)
    support.ship(
        store, sim_order["order_id"], [{"sku": sku, "quantity": 2}], carrier="Royal Mail", tracking="RM1"
    )

    handler = load_function("ShipmentPushFunction")
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}

    # Royal Mail is a UK code: on amazon.com it goes as Other with Amazon's spelling of the name.
    [package] = support.amazon_packages(spapi_sim, sim_order["order_id"])
    assert (package["carrier_code"], package["carrier_name"], package["tracking_number"]) == (
        "Other",
        "Royal Mail",
        "RM1",
    )
    assert support.fresh(order).status == "shipped"
    assert support.amazon_status(spapi_sim, sim_order["order_id"]) == "SHIPPED"
