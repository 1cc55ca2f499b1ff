"""Long work under Amazon's failures, end to end: the real handlers, moto, the simulator's fault modes.

- A listings report ending CANCELLED or FATAL fails the import visibly; no product is changed or deactivated.
- An empty, truncated or HTML-5xx FBA inventory answer never sets a quantity (never 0); once Amazon answers,
  it is read; unknown extra fields are read as usual.
- confirmShipment performed but its answer lost: confirmed once on Amazon, marked confirmed in storesync.
- patchListingsItem / createFeed performed but their answers lost, empty or cut short: Amazon and storesync
  converge, nothing is marked accepted without Amazon's answer, no stock moves.
- A Lambda with little time left imports, pushes and confirms in more, smaller slices and never overruns.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import inventory_push_support as inventory
import product_import_support as products
import pytest
import shipment_push_support as shipments
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from fixtures_stores import connected_store, sim_stack
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import admin, fault_mode
from storesync.clock import utcnow
from storesync.dal import job_state
from storesync.dal.store_queries import get_store
from storesync_local.functions import FakeLambdaContext

SELLER, US = "A2NASELLER0002", "ATVPDKIKX0DER"


def injected(sim: Simulator, mode: str) -> int:
    return int(admin(sim, "GET", "stats")["faults"][mode])


def import_through(driver: products.ProductImportDriver, store: Any, mode: str, limit: int = 40) -> None:
    """One message, then continuations delivered at once (a retry after a failed attempt waits on the queue
    with a delay of a minute or more) until the store has no import in progress."""
    driver.invoke(products.sqs_event(driver.message(store, mode)))
    for _ in range(limit):
        driver.receive()  # continuations already visible: replaced by the one delivered here
        if "import" not in job_state.load_cursor(store.store_id, "products"):
            return
        driver.invoke(products.sqs_event(driver.message(store, mode, trigger="continuation")))
    raise AssertionError("the import did not end")


@pytest.fixture
def shop(make_stack: Callable[..., Any], spapi_sim: Simulator) -> tuple[Any, Any]:
    stack = sim_stack(make_stack, spapi_sim)
    return stack, connected_store(spapi_sim, stack, SELLER, US, starting_inventory="match_amazon")


# product import -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["report_cancelled", "report_fatal"])
def test_a_report_ending_cancelled_or_fatal_fails_the_import_and_changes_no_product(
    shop: Any, spapi_sim: Simulator, load_function: Any, lambda_context: Any, mode: str
) -> None:
    stack, store = shop
    driver = products.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
    fault_mode(spapi_sim, mode, 1.0)

    import_through(driver, store, "full")  # the store's first import: every report ends without listings

    assert injected(spapi_sim, mode) == 3  # asked three times
    assert products.listings(store) == {} and products.on_hand(store.merchant_id) == {}
    cursor = job_state.load_cursor(store.store_id, "products")
    assert not cursor.get("starting_inventory_done") and "import" not in cursor  # nothing left in progress
    fresh = get_store(store.merchant_id, store.store_id)
    assert fresh is not None and fresh.last_runs["products"]["result"] == "failed"
    assert "failed" in fresh.last_runs["products"]["summary"]

    fault_mode(spapi_sim, mode, 0.0)
    import_through(
        driver, store, "full"
    )  # Amazon answers again: the first import, with its starting inventory
    amazon = products.amazon_listings(spapi_sim, store)
    assert set(products.listings(store)) == set(amazon)
    assert job_state.load_cursor(store.store_id, "products")["starting_inventory_done"] is True
    stock = products.on_hand(store.merchant_id)

    fault_mode(spapi_sim, mode, 1.0)
    import_through(driver, store, "full")  # a later full import that gets no report deactivates nothing
    after = products.listings(store)
    assert set(after) == set(amazon) and all(x.status == "active" for x in after.values())
    assert products.on_hand(store.merchant_id) == stock
    fresh = get_store(store.merchant_id, store.store_id)
    assert fresh is not None and fresh.last_runs["products"]["result"] == "failed"
    assert "no listing was deactivated" in fresh.last_runs["products"]["summary"]


@pytest.mark.parametrize("mode", ["empty_body", "truncated_body", "html_5xx"])
def test_an_unreadable_fba_answer_never_sets_a_quantity(
    shop: Any, spapi_sim: Simulator, load_function: Any, lambda_context: Any, mode: str
) -> None:
    stack, store = shop
    driver = products.ProductImportDriver(spapi_sim, stack, load_function, lambda_context)
    driver.deliver(store, "incremental")
    amazon = products.amazon_listings(spapi_sim, store)
    fba = sorted(sku for sku, item in amazon.items() if item["fulfillment_channel"] != "DEFAULT")
    before = {sku: products.listings(store)[sku].amazon_quantity for sku in fba}
    assert fba and all(q is not None for q in before.values())
    moved = fba[0]
    admin(spapi_sim, "POST", "listings", json={"seller_id": SELLER, "marketplace_id": US, "sku": moved,
                                                "quantity": int(before[moved] or 0) + 5})  # fmt: skip
    fault_mode(spapi_sim, mode, 1.0, ["getInventorySummaries"])

    driver.deliver(store, "full")  # the rows are written, the FBA phase fails and waits for a retry

    assert injected(spapi_sim, mode) >= 2
    stored = products.listings(store)
    assert {sku: stored[sku].amazon_quantity for sku in fba} == before  # untouched: never 0
    last = products.product_runs(store)[0]
    assert last.result == "error"
    assert any("getInventorySummaries" in e.message or "FBA" in e.message for e in last.errors)

    fault_mode(spapi_sim, mode, 0.0)
    driver.invoke(products.sqs_event(driver.message(store, "full", trigger="continuation")))  # the retry
    driver.drain()
    stored = products.listings(store)
    assert stored[moved].amazon_quantity == int(before[moved] or 0) + 5
    assert products.product_runs(store)[0].result == "ok"


def test_unknown_extra_fields_in_the_fba_answer_are_read_as_usual(
    shop: Any, spapi_sim: Simulator, load_function: Any, lambda_context: Any
) -> None:
    stack, store = shop
    fault_mode(spapi_sim, "extra_fields", 1.0, ["getInventorySummaries", "getReport", "searchListingsItems"])
    products.ProductImportDriver(spapi_sim, stack, load_function, lambda_context).deliver(
        store, "incremental"
    )

    assert injected(spapi_sim, "extra_fields") >= 3
    amazon = products.amazon_listings(spapi_sim, store)
    stored = products.listings(store)
    assert {sku: stored[sku].amazon_quantity for sku in amazon} == {
        sku: item["quantity"] for sku, item in amazon.items()
    }
    assert products.product_runs(store)[0].result == "ok"


def test_a_lambda_short_of_time_imports_in_smaller_slices_and_finishes(
    make_stack: Callable[..., Any], spapi_sim_factory: Callable[..., Simulator], load_function: Any
) -> None:
    sim = spapi_sim_factory(skus=250)
    stack = sim_stack(make_stack, sim)
    store = connected_store(sim, stack, SELLER, US)
    short = FakeLambdaContext("ProductImportFunction", 60, started=time.monotonic() - 50)  # 10 s left < 15
    driver = products.ProductImportDriver(sim, stack, load_function, short)

    driver.deliver(store, "incremental")

    assert set(products.listings(store)) == set(products.amazon_listings(sim, store))
    new_per_run = [products.run_counts(run).get("new", 0) for run in products.product_runs(store)]
    assert max(new_per_run) <= 100 and sum(new_per_run) == 250  # one chunk of rows a slice


# shipment push ------------------------------------------------------------------------------------------------
def test_a_confirmation_whose_answer_is_lost_is_confirmed_once(
    make_stack: Callable[..., Any], spapi_sim: Simulator, load_function: Any, lambda_context: Any
) -> None:
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, shipments.SELLER, shipments.US)
    sku = shipments.fbm_skus(spapi_sim, shipments.SELLER, shipments.US)[0]
    sim_order = shipments.amazon_order(spapi_sim, store, [(sku, 1)])
    order = shipments.import_order(store, sim_order)
    shipments.ship(store, sim_order["order_id"], [{"sku": sku, "quantity": 1}], tracking="LOST-1")
    fault_mode(spapi_sim, "lost_answer", 1.0, ["confirmShipment"])
    handler = load_function("ShipmentPushFunction")

    assert handler(shipments.push_event(store), lambda_context) == {"batchItemFailures": []}

    assert injected(spapi_sim, "lost_answer") >= 1
    [package] = shipments.amazon_packages(spapi_sim, sim_order["order_id"])  # Amazon did it, once
    assert package["tracking_number"] == "LOST-1"
    [shipment] = shipments.shipments_of(order)
    assert shipment.push_state == "sending"  # storesync does not know yet: it will check before resending

    fault_mode(spapi_sim, "lost_answer", 0.0)
    shipment.update(actions=[type(shipment).next_attempt_at.set(utcnow() - timedelta(seconds=1))])
    calls = shipments.confirm_calls(spapi_sim)
    assert handler(shipments.push_event(store), lambda_context) == {"batchItemFailures": []}

    assert shipments.confirm_calls(spapi_sim) == calls  # Amazon's packages were read: nothing sent again
    [shipment] = shipments.shipments_of(order)
    assert shipment.push_state == "confirmed"
    assert len(shipments.amazon_packages(spapi_sim, sim_order["order_id"])) == 1
    assert shipments.fresh(order).status == "shipped"
    assert shipments.amazon_status(spapi_sim, sim_order["order_id"]) == "SHIPPED"


# inventory push -----------------------------------------------------------------------------------------------
@pytest.fixture
def pushing(make_stack: Callable[..., Any], spapi_sim: Simulator) -> Iterator[Callable[[str], Any]]:
    stack = sim_stack(make_stack, spapi_sim)

    def setup(crossover: str) -> Any:
        os.environ["INVENTORY_FEED_CROSSOVER"] = crossover
        store = connected_store(spapi_sim, stack, inventory.SELLER, inventory.US)
        inventory.mirror_listings(spapi_sim, store)
        return store

    yield setup
    os.environ.pop("INVENTORY_FEED_CROSSOVER", None)


@pytest.mark.parametrize(
    ("mode", "operation", "crossover"),
    [
        ("lost_answer", "patchListingsItem", "100"),
        ("lost_answer", "createFeed", "0"),
        ("empty_body", "patchListingsItem", "100"),
        ("truncated_body", "createFeed", "0"),
    ],
)
def test_lost_or_unreadable_patch_and_feed_answers_converge_without_moving_stock(
    pushing: Any,
    spapi_sim: Simulator,
    load_function: Any,
    lambda_context: Any,
    mode: str,
    operation: str,
    crossover: str,
) -> None:
    store = pushing(crossover)
    handler = load_function("InventoryPushFunction")
    skus = inventory.fbm_skus(spapi_sim, inventory.SELLER, inventory.US)[:3]
    for n, sku in enumerate(skus):
        inventory.set_stock(store.merchant_id, sku, on_hand=30 + n)
    stock = {sku: inventory.listing(store, sku).last_pushed_quantity for sku in skus}
    fault_mode(spapi_sim, mode, 1.0, [operation])

    # performed, answers unusable: the run fails (the runner's retry, or SQS's redelivery: either way)
    with contextlib.suppress(BatchProcessingError):
        inventory.deliver(handler, lambda_context, inventory.push_message(store))

    assert injected(spapi_sim, mode) >= 1
    for sku in skus:  # nothing marked accepted without Amazon's answer
        assert inventory.listing(store, sku).last_pushed_quantity == stock[sku]
        assert inventory.listing(store, sku).last_push_status != "accepted"

    fault_mode(spapi_sim, mode, 0.0)
    for _ in range(3):  # the next runs (and, for a feed, the run that reads its report)
        inventory.deliver(handler, lambda_context, inventory.push_message(store))
        inventory.advance(spapi_sim, 120)
    for n, sku in enumerate(skus):
        assert inventory.amazon_quantity(spapi_sim, store, sku) == 30 + n
        row = inventory.listing(store, sku)
        assert (row.last_pushed_quantity, row.last_push_status) == (30 + n, "accepted")
    on_hand = products.on_hand(store.merchant_id)
    assert {sku: on_hand[sku] for sku in skus} == {sku: 30 + n for n, sku in enumerate(skus)}  # unmoved


# a Lambda short of time, through the real handlers -------------------------------------------------------------
def short_context(name: str) -> FakeLambdaContext:
    return FakeLambdaContext(name, 60, started=time.monotonic() - 50)  # 10 s left: below the 15 s margin


def queued(stack: Any, queue: str, wait: float = 3.0) -> list[dict[str, Any]]:
    """The messages on the queue (continuations are delayed by a second: waited for up to `wait` s)."""
    deadline = time.monotonic() + wait
    while True:
        found = shipments.drain(stack.queue_url(queue))
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_the_pushes_short_of_time_do_one_unit_a_slice_and_continue_through_their_queue(
    make_stack: Callable[..., Any], spapi_sim: Simulator, load_function: Any
) -> None:
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, inventory.SELLER, inventory.US)
    for listing in inventory.mirror_listings(spapi_sim, store):  # in stock as Amazon shows: nothing to send
        inventory.set_stock(store.merchant_id, listing.sku, on_hand=int(listing.amazon_quantity or 0))
    skus = inventory.fbm_skus(spapi_sim, inventory.SELLER, inventory.US)[:3]
    for n, sku in enumerate(skus):
        inventory.set_stock(store.merchant_id, sku, on_hand=40 + n)
    inventory_push = load_function("InventoryPushFunction")
    context = short_context("InventoryPushFunction")

    inventory.deliver(inventory_push, context, inventory.push_message(store))
    assert inventory.amazon_quantity(spapi_sim, store, skus[0]) == 40  # one patch went out
    assert inventory.amazon_quantity(spapi_sim, store, skus[1]) != 41
    for _ in range(len(skus) - 1):  # each continuation sends one more
        [body] = queued(stack, "InventoryPushQueue")
        assert body["trigger"] == "continuation"
        inventory_push(inventory.sqs_event(inventory.JobMessage.model_validate(body)), context)
    assert [inventory.amazon_quantity(spapi_sim, store, sku) for sku in skus] == [40, 41, 42]
    assert queued(stack, "InventoryPushQueue") == []  # the pass reached the store's end

    sim_order = shipments.amazon_order(spapi_sim, store, [(skus[0], 2)])
    shipments.import_order(store, sim_order)
    for n in range(2):
        shipments.ship(store, sim_order["order_id"], [{"sku": skus[0], "quantity": 1}], tracking=f"T-{n}")
    shipment_push = load_function("ShipmentPushFunction")
    context = short_context("ShipmentPushFunction")

    shipment_push(shipments.push_event(store), context)
    assert len(shipments.amazon_packages(spapi_sim, sim_order["order_id"])) == 1
    [body] = queued(stack, "ShipmentPushQueue")
    shipment_push(shipments.push_event(store, trigger="continuation"), context)
    assert len(shipments.amazon_packages(spapi_sim, sim_order["order_id"])) == 2
    assert body["trigger"] == "continuation"
