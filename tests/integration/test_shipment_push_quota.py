"""The confirmShipment quota (2 req/s, burst 10) is the seller's: two stores of one seller share it through the
DynamoDB token bucket; a backlog larger than one invocation continues in the next."""

from __future__ import annotations

import boto3
from fixtures_stores import connected_store, sim_stack
from shipment_push_support import (
    CA,
    SELLER,
    US,
    amazon_order,
    amazon_packages,
    confirm_calls,
    fbm_skus,
    import_order,
    push_event,
    ship,
    shipments_of,
)
from spapi_simulator.testing import admin
from storesync.dal.quota import QuotaBucket


def orders_with_shipments(sim, store, count):
    sku = fbm_skus(sim, SELLER, store.marketplace_id)[0]
    orders = []
    for n in range(count):
        sim_order = amazon_order(sim, store, [(sku, 1)])
        orders.append(import_order(store, sim_order))
        ship(
            store,
            sim_order["order_id"],
            [{"sku": sku, "quantity": 1}],
            tracking=f"{store.marketplace_id}-{n}",
        )
    return orders


def test_two_stores_of_one_seller_share_the_quota(
    make_stack, spapi_sim_factory, load_function, lambda_context
):
    sim = spapi_sim_factory(quota_scale=1.0)  # Amazon's real confirmShipment quota: 2 per second, burst 10
    stack = sim_stack(make_stack, sim)
    us = connected_store(sim, stack, SELLER, US)
    ca = connected_store(sim, stack, SELLER, CA)
    orders = orders_with_shipments(sim, us, 7) + orders_with_shipments(sim, ca, 7)

    handler = load_function("ShipmentPushFunction")
    assert handler(push_event(us, ca), lambda_context) == {"batchItemFailures": []}

    # 14 calls, more than the burst: the shared bucket paced them, Amazon never throttled.
    stats = admin(sim, "GET", "stats")
    assert stats["calls"]["confirmShipment"] == 14
    assert stats["throttled"].get("confirmShipment", 0) == 0
    assert all(s.push_state == "confirmed" for o in orders for s in shipments_of(o))
    assert all(len(amazon_packages(sim, o.amazon_order_id)) == 1 for o in orders)
    buckets = [b.bucket_key for b in QuotaBucket.scan() if b.bucket_key.endswith("#confirmShipment")]
    assert buckets == [f"{SELLER}#NA#confirmShipment"]


def test_a_backlog_continues_in_the_next_invocation(
    make_stack, spapi_sim, load_function, lambda_context, monkeypatch
):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, SELLER, US)
    orders = orders_with_shipments(spapi_sim, store, 5)
    monkeypatch.setenv("SHIPMENT_PUSH_MAX_PER_RUN", "2")
    handler = load_function("ShipmentPushFunction")
    queue_url = stack.queue_url("ShipmentPushQueue")
    sqs = boto3.client("sqs")

    def delayed() -> int:
        """Continuations queued so far (delayed or already visible)."""
        names = ["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages"]
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        return sum(int(attrs[name]) for name in names)

    def confirmed() -> int:
        return sum(s.push_state == "confirmed" for o in orders for s in shipments_of(o))

    assert handler(push_event(store), lambda_context) == {"batchItemFailures": []}
    assert (confirmed(), delayed()) == (2, 1)  # two done, its continuation queued
    assert handler(push_event(store, trigger="continuation"), lambda_context) == {"batchItemFailures": []}
    assert (confirmed(), delayed()) == (4, 2)
    assert handler(push_event(store, trigger="continuation"), lambda_context) == {"batchItemFailures": []}
    assert (confirmed(), delayed()) == (5, 2)  # done: no further continuation
    assert confirm_calls(spapi_sim) == 5
    # Oldest first: the tracking numbers reached Amazon in creation order.
    tracking = [amazon_packages(spapi_sim, o.amazon_order_id)[0]["tracking_number"] for o in orders]
    assert tracking == [f"{US}-{n}" for n in range(5)]
