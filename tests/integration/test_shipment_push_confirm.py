"""Shipment push against the simulator with the real ShipmentPushFunction handler: full and partial
shipments, several packages per order, the unknown-carrier fallback, and the order following Amazon."""

from __future__ import annotations

from fixtures_stores import connected_store, sim_stack
from shipment_push_support import (
    SELLER,
    US,
    amazon_order,
    amazon_packages,
    amazon_status,
    confirm_calls,
    fbm_skus,
    fresh,
    import_order,
    push_event,
    ship,
    shipments_of,
    stock,
)


def test_partial_then_full_shipment_in_several_packages(make_stack, spapi_sim, load_function, lambda_context):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US)
    sku_a, sku_b = fbm_skus(spapi_sim, SELLER, US)[:2]
    sim_order = amazon_order(spapi_sim, store, [(sku_a, 3), (sku_b, 1)])
    order_id = sim_order["order_id"]
    item_a, item_b = (line["order_item_id"] for line in sim_order["items"])
    order = import_order(store, sim_order, spare=5)
    assert stock(store.merchant_id, sku_a) == (8, 3)

    first = ship(
        store, order_id, [{"order_item_id": item_a, "quantity": 2}], carrier="usps", tracking="9400111"
    )
    # The stock left with the shipment, in the same transaction.
    assert stock(store.merchant_id, sku_a) == (6, 1)
    assert (first.package_reference_id, first.carrier_code, first.push_state) == ("1", "USPS", "pending")

    handler = load_function("ShipmentPushFunction")
    assert handler(push_event(store), lambda_context) == {"batchItemFailures": []}

    packages = amazon_packages(spapi_sim, order_id)
    assert [(p["package_reference_id"], p["carrier_code"], p["tracking_number"]) for p in packages] == [
        ("1", "USPS", "9400111")
    ]
    assert packages[0]["items"] == [{"orderItemId": item_a, "quantity": 2}]
    assert amazon_status(spapi_sim, order_id) == "PARTIALLY_SHIPPED"
    order = fresh(order)
    assert order.status == "partially_shipped"
    assert {i.order_item_id: i.quantity_shipped for i in order.items} == {item_a: 2, item_b: 0}

    # Two more packages: the rest of A by SKU with FedEx, and B with a carrier Amazon does not list.
    ship(store, order_id, [{"sku": sku_a, "quantity": 1}], carrier="FedEx", tracking="7777")
    ship(store, order_id, [{"order_item_id": item_b, "quantity": 1}], carrier="Speedy Couriers", tracking="SC-1",
         method="Next day")  # fmt: skip
    assert stock(store.merchant_id, sku_a) == (5, 0)
    assert handler(push_event(store), lambda_context) == {"batchItemFailures": []}

    packages = {p["package_reference_id"]: p for p in amazon_packages(spapi_sim, order_id)}
    assert sorted(packages) == ["1", "2", "3"]
    assert (packages["2"]["carrier_code"], packages["2"]["tracking_number"]) == ("FedEx", "7777")
    other = packages["3"]
    assert (other["carrier_code"], other["carrier_name"], other["shipping_method"]) == (
        "Other",
        "Speedy Couriers",
        "Next day",
    )
    assert amazon_status(spapi_sim, order_id) == "SHIPPED"
    order = fresh(order)
    assert order.status == "shipped" and order.shipped_at is not None
    assert {i.order_item_id: i.quantity_shipped for i in order.items} == {item_a: 3, item_b: 1}
    states = {
        s.package_reference_id: (s.push_state, s.carrier_code, s.carrier_name) for s in shipments_of(order)
    }
    assert states == {
        "1": ("confirmed", "USPS", None),
        "2": ("confirmed", "FedEx", None),
        "3": ("confirmed", "Other", "Speedy Couriers"),
    }
    assert all(s.pending_store_id is None for s in shipments_of(order))

    # Nothing left: a further run sends nothing.
    calls = confirm_calls(spapi_sim)
    assert handler(push_event(store), lambda_context) == {"batchItemFailures": []}
    assert confirm_calls(spapi_sim) == calls


def test_a_full_shipment_in_one_package(make_stack, spapi_sim, load_function, lambda_context):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US)
    sku = fbm_skus(spapi_sim, SELLER, US)[0]
    sim_order = amazon_order(spapi_sim, store, [(sku, 2)])
    order = import_order(store, sim_order)
    ship(store, sim_order["order_id"], [{"sku": sku, "quantity": 2}], carrier="Royal Mail", tracking="RM1")

    handler = load_function("ShipmentPushFunction")
    assert handler(push_event(store), lambda_context) == {"batchItemFailures": []}

    # Royal Mail is a UK code: on amazon.com it goes as Other with Amazon's spelling of the name.
    [package] = amazon_packages(spapi_sim, sim_order["order_id"])
    assert (package["carrier_code"], package["carrier_name"], package["tracking_number"]) == (
        "Other",
        "Royal Mail",
        "RM1",
    )
    assert fresh(order).status == "shipped"
    assert amazon_status(spapi_sim, sim_order["order_id"]) == "SHIPPED"
