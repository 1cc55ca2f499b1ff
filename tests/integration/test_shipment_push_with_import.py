"""The whole path with the real order import: Amazon order -> OrderImportFunction (allocates) -> WMS shipment
(stock leaves) -> ShipmentPushFunction (Amazon confirms) -> the next import sees Amazon's SHIPPED and takes
no stock again, even with "remove stock for fulfillments created in Amazon"."""

from __future__ import annotations

from typing import Any

from order_import_support import MERCHANT, level, make_harness, new_order, sim_skus, stock, store_of, stored
from shipment_push_support import amazon_packages, push_event, ship


def test_imported_order_shipped_in_two_packages(make_stack: Any, spapi_sim_factory: Any, load_function: Any,
                                               lambda_context: Any) -> None:  # fmt: skip
    h = make_harness(make_stack, spapi_sim_factory(orders=0), load_function, subscribe=False)
    fbm, _ = sim_skus(h.sim)
    store = store_of(h, remove_stock_for_external_fulfillments=True)
    stock(MERCHANT, fbm[0], 10)
    order_id = new_order(h.sim, {fbm[0]: 3})
    h.advance()
    h.poll(store)
    order = stored(store, order_id)
    assert order.status == "open"
    assert level(MERCHANT, fbm[0]) == (10, 3)
    item_id = order.items[0].order_item_id

    ship(store, order_id, [{"order_item_id": item_id, "quantity": 1}], carrier="FedEx", tracking="F1")
    assert level(MERCHANT, fbm[0]) == (9, 2)
    push = load_function("ShipmentPushFunction")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    assert stored(store, order_id).status == "partially_shipped"

    # Amazon now says PARTIALLY_SHIPPED: the import keeps the rest allocated and moves no stock.
    h.advance()
    h.poll(store)
    assert level(MERCHANT, fbm[0]) == (9, 2)

    ship(store, order_id, [{"order_item_id": item_id, "quantity": 2}], carrier="FedEx", tracking="F2")
    assert push(push_event(store), lambda_context) == {"batchItemFailures": []}
    assert level(MERCHANT, fbm[0]) == (7, 0)
    assert stored(store, order_id).status == "shipped"
    assert sorted(p["tracking_number"] for p in amazon_packages(h.sim, order_id)) == ["F1", "F2"]

    # Amazon says SHIPPED: it was the WMS's shipment, so nothing leaves again and the status stays shipped.
    h.advance()
    h.poll(store)
    order = stored(store, order_id)
    assert order.status == "shipped"
    assert level(MERCHANT, fbm[0]) == (7, 0)
