"""ORDER_CHANGE edge cases through the real handler: a bad message fails alone (partial batch failure), an
order Amazon does not know is skipped, and a notification without a matching store changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import order_import_support as support
from spapi_simulator.simulator import Simulator


def test_notification_edge_cases(
    make_stack: Callable[..., Any], spapi_sim_factory: Callable[..., Simulator], load_function
):
    h = support.make_harness(make_stack, spapi_sim_factory(orders=0), load_function)
    fbm, _ = support.sim_skus(h.sim)
    store = support.store_of(h)
    support.stock(support.MERCHANT, fbm[0], 5)
    order_id = support.new_order(h.sim, {fbm[0]: 1})
    [good] = h.drain("OrderNotificationsQueue")

    template = json.loads((support.EVENTS / "sqs_order_change_notification.json").read_text())["Records"][0]
    unknown = json.loads(template["body"])  # the sample event: an order id the simulator never created
    broken = json.loads(good)
    broken["NotificationMetadata"]["NotificationId"] = "broken-1"
    del broken["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    other_seller = json.loads(good)
    other_seller["NotificationMetadata"]["NotificationId"] = "other-seller-1"
    other_seller["Payload"]["OrderChangeNotification"]["SellerId"] = "A2NASELLER0002"

    event = h.notification_event([json.dumps(unknown), json.dumps(broken), good, json.dumps(other_seller)])
    answer = h.handler(event, h.context)
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    assert failed == {event["Records"][1]["messageId"]}  # only the broken one goes back to SQS
    assert [o.amazon_order_id for o in support.orders_of(store)] == [order_id]
