"""Orders that arrive before their products, against the simulator + moto through the real handlers: an order for
a SKU the WMS does not know yet is held (unknown-SKU hold); a product import that brings the SKU, or the next
order run once the SKU is known, allocates it and lifts the hold, and the next inventory push sends the reduced
quantity. The store's unknown SKUs and the orders waiting for them through GET /stores/{id}/unknown-skus."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import inventory_push_support as push
import order_import_support as support
from fixtures_stores import Api
from product_import_support import ProductImportDriver
from spapi_simulator.sellers import APPLICATION_ID
from spapi_simulator.simulator import Simulator
from storesync.dal.order_queries import orders_on_unknown_sku_hold, unknown_skus_waiting
from storesync.usecases.order_upsert import release_unknown_sku_holds


def held_ids(store: Any) -> list[str]:
    return [o.amazon_order_id for o in orders_on_unknown_sku_hold(store.store_id)]


def assert_held(store: Any, order_id: str, sku: str, units: int) -> None:
    order = support.stored(store, order_id)
    assert order.holds == ["unknown_sku"] and order.unknown_skus == [sku]
    assert order.unknown_sku_store == store.store_id and held_ids(store) == [order_id]
    line = next(i for i in order.items if i.sku == sku)
    assert not line.allocations and line.backorder == units


def assert_released(store: Any, order_id: str, sku: str, units: int) -> None:
    order = support.stored(store, order_id)
    assert order.holds == [] and order.status == "open" and not order.automation_blocked
    assert order.unknown_skus is None and order.unknown_sku_store is None and held_ids(store) == []
    line = next(i for i in order.items if i.sku == sku)
    assert sum(int(a.quantity) for a in line.allocations) == units and line.backorder == 0


def test_a_product_import_that_brings_the_sku_allocates_the_waiting_order_and_the_push_sends_the_rest(
    h: support.OrderImportHarness, lambda_context: Any, load_function: Callable[[str], Any]
) -> None:
    fbm, _ = support.sim_skus(h.sim)
    sku = fbm[1]
    store = support.store_of(h, starting_inventory="match_amazon")
    order_id = support.new_order(h.sim, {sku: 2})
    h.advance()
    h.poll(store)
    assert_held(store, order_id, sku, 2)

    ProductImportDriver(h.sim, h.stack, load_function, lambda_context).deliver(store, mode="full")

    assert_released(store, order_id, sku, 2)
    on_hand, allocated = support.level(support.MERCHANT, sku)
    assert on_hand >= 2 and allocated == 2  # the starting inventory (Amazon's count) and the reservation

    handler = load_function("InventoryPushFunction")
    answer = push.deliver(handler, lambda_context, push.push_message(store))
    assert answer == {"batchItemFailures": []}
    assert push.amazon_quantity(h.sim, store, sku) == on_hand - 2  # the reserved units are not offered

    h.advance()
    h.poll(store)  # the next order run changes nothing: allocated once
    assert support.level(support.MERCHANT, sku) == (on_hand, 2)


def test_the_order_run_releases_the_hold_once_the_sku_is_known(
    h: support.OrderImportHarness, lambda_context: Any, load_function: Callable[[str], Any]
) -> None:
    store, fbm = support.stocked_store(h, 5)
    known, unknown = fbm[0], fbm[1]
    order_id = support.new_order(h.sim, {known: 1, unknown: 2})
    h.advance()
    h.poll(store)
    order = support.stored(store, order_id)
    assert order.holds == ["unknown_sku"] and order.unknown_skus == [unknown]
    assert support.level(support.MERCHANT, known) == (5, 1)

    h.advance()
    h.poll(store)  # still unknown: nothing moves
    assert held_ids(store) == [order_id] and support.level(support.MERCHANT, known) == (5, 1)

    support.stock(support.MERCHANT, unknown, 6)  # the WMS learns the SKU (product and stock)
    push.mirror_listings(h.sim, store, [unknown])
    h.advance()
    h.poll(store)

    assert_released(store, order_id, unknown, 2)
    assert support.level(support.MERCHANT, unknown) == (6, 2)
    assert support.level(support.MERCHANT, known) == (5, 1)  # the line allocated at import is left as it was
    run = h.runs(store)[-1]
    assert run.counts["holds_released"] == 1

    handler = load_function("InventoryPushFunction")
    assert push.deliver(handler, lambda_context, push.push_message(store)) == {"batchItemFailures": []}
    assert push.amazon_quantity(h.sim, store, unknown) == 4

    h.advance()
    h.poll(store)
    assert support.level(support.MERCHANT, unknown) == (6, 2)  # never allocated twice


def test_a_sku_known_without_stock_lifts_the_hold_and_backorders(h: support.OrderImportHarness) -> None:
    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[1]: 3})
    h.advance()
    h.poll(store)
    push.mirror_listings(h.sim, store, [fbm[1]])  # listed in the store, nothing on the shelf
    h.advance()
    h.poll(store)
    order = support.stored(store, order_id)
    assert order.holds == [] and [int(i.backorder) for i in order.items] == [3]
    assert held_ids(store) == []


def test_a_cancelled_order_leaves_the_hold_and_takes_nothing(h: support.OrderImportHarness) -> None:
    store, fbm = support.stocked_store(h, 5)
    order_id = support.new_order(h.sim, {fbm[1]: 1})
    h.advance()
    h.poll(store)
    support.admin(h.sim, "POST", f"orders/{order_id}/cancel")
    h.advance()
    h.poll(store)  # sees the cancellation, then (next run) drops the hold: nothing waits for the SKU
    h.advance()
    h.poll(store)
    order = support.stored(store, order_id)
    assert (order.status, order.holds) == ("cancelled", []) and held_ids(store) == []


def test_unknown_skus_api_lists_the_skus_and_the_waiting_orders(
    make_stack: Callable[..., Any], spapi_sim_factory: Callable[..., Simulator], load_function, lambda_context
) -> None:
    sim = spapi_sim_factory(orders=0)
    h = support.make_harness(make_stack, sim, load_function, SpApiApplicationId=APPLICATION_ID)
    api = Api(load_function("ApiFunction"), lambda_context, sim, h.stack)
    store, fbm = support.stocked_store(h, 10)
    first = support.new_order(sim, {fbm[0]: 1, fbm[1]: 2})
    second = support.new_order(sim, {fbm[1]: 1, fbm[2]: 4})
    h.advance()
    h.poll(store)

    answer = api("GET", f"/stores/{store.store_id}/unknown-skus")
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["store_id"] == store.store_id
    assert [item["sku"] for item in body["skus"]] == sorted([fbm[1], fbm[2]])
    by_sku = {item["sku"]: (sorted(item["orders"]), item["units"]) for item in body["skus"]}
    ids = {order_id: f"{store.store_id}.{order_id}" for order_id in (first, second)}
    assert by_sku == {fbm[1]: (sorted([ids[first], ids[second]]), 3), fbm[2]: ([ids[second]], 4)}
    assert [w.sku for w in unknown_skus_waiting(store.store_id)] == sorted([fbm[1], fbm[2]])

    assert api("GET", "/stores/st_nope/unknown-skus").status == 404


def test_releases_racing_allocate_once_and_skus_narrow_what_is_looked_at(
    h: support.OrderImportHarness,
) -> None:
    store, fbm = support.stocked_store(h, 5)
    waits_b = support.new_order(h.sim, {fbm[1]: 2})
    waits_c = support.new_order(h.sim, {fbm[2]: 1})
    h.advance()
    h.poll(store)
    assert sorted(held_ids(store)) == sorted([waits_b, waits_c])
    support.stock(support.MERCHANT, fbm[1], 4)
    support.stock(support.MERCHANT, fbm[2], 4)

    only_c = release_unknown_sku_holds(store, [fbm[2]])  # a product import that brought fbm[2] only
    assert (only_c.checked, only_c.released) == (1, [waits_c])
    assert held_ids(store) == [waits_b]

    # repeated releases, one after another: moto applies a TransactWrite without isolation (a failed one
    # restores whole tables, undoing a concurrent winner), so threads here would test moto; on DynamoDB the
    # conditions on the order's version and the stock rows decide between racing releases
    results: list[Any] = [release_unknown_sku_holds(store) for _ in range(3)]
    assert sum(len(r.released) for r in results) == 1 and not any(r.failed for r in results)
    assert support.level(support.MERCHANT, fbm[1]) == (4, 2)  # allocated once, however many raced
    assert_released(store, waits_b, fbm[1], 2)
