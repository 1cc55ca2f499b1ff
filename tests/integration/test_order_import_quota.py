"""Two stores of one seller (US and CA) share the seller's searchOrders quota across Lambdas: the quota gate
keeps Amazon's 429 counter at 0 and turns an empty bucket into a delayed continuation, never a sleep."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import order_import_support as support
from spapi_simulator.simulator import Simulator


def test_two_stores_of_one_seller_share_the_quota(
    make_stack: Callable[..., Any], spapi_sim_factory: Callable[..., Simulator], load_function
):
    # Amazon's own quota: searchOrders refills one token every 180 s, burst 20. The gate reads the wall clock,
    # so a faster refill (scale 10: one every 18 s) let a token come back while 26 sweeps ran on a loaded box
    sim = spapi_sim_factory(orders=0, quota_scale=1.0)
    h = support.make_harness(make_stack, sim, load_function, subscribe=False)
    second_lambda = load_function("OrderImportFunction")  # another container, same DynamoDB quota gate
    us, ca = support.store_of(h, support.US), support.store_of(h, support.CA)
    fbm_us, _ = support.sim_skus(sim, support.US)
    fbm_ca, _ = support.sim_skus(sim, support.CA)
    support.stock(support.MERCHANT, fbm_us[0], 50)
    us_orders = {support.new_order(sim, {fbm_us[0]: 1}, marketplace_id=support.US) for _ in range(3)}
    ca_orders = {support.new_order(sim, {fbm_ca[0]: 1}, marketplace_id=support.CA) for _ in range(3)}
    h.advance()

    for _ in range(13):  # 26 sweeps of one page each: more than the burst of 20
        h.handler(h.job_event(us), h.context)
        second_lambda(h.job_event(ca), h.context)

    stats = support.admin(sim, "GET", "stats")
    assert stats["throttled"].get("searchOrders", 0) == 0  # Amazon never answered 429
    # the burst, shared by both stores; the order import is background work: it leaves a third of the burst
    # (7 of 20) to the ORDER_CHANGE notifications, whose gate is not background
    assert stats["calls"]["searchOrders"] == 13
    results = [r.result for store in (us, ca) for r in h.runs(store)]
    assert results.count("throttled") == 13 and results.count("ok") == 13
    attributes = h.sqs.get_queue_attributes(
        QueueUrl=h.stack.queue_url("OrderImportQueue"), AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert int(attributes["ApproximateNumberOfMessagesDelayed"]) == 13  # each throttled run continues later
    assert {o.amazon_order_id for o in support.orders_of(us)} == us_orders
    assert {o.amazon_order_id for o in support.orders_of(ca)} == ca_orders
