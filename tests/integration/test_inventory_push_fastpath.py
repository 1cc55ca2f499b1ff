"""Stock-outs pushed at once, unified accounts, duplicate SQS delivery (simulator + moto, real handler)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
import inventory_push_support as support
import pytest
from fixtures_stores import connected_store, sim_stack
from spapi_simulator.simulator import Simulator
from storesync.dal.store_queries import get_store
from storesync.dal.stores import Store
from storesync.jobs import JobMessage
from storesync.queues import SqsJobQueue
from storesync.usecases.stock_watch import after_stock_change
from storesync_local.functions import Handler


@pytest.fixture
def us_store(make_stack: Callable[..., Any], spapi_sim: Simulator) -> Store:
    """The seller's US store, its listings mirrored from the simulator."""
    store = connected_store(spapi_sim, sim_stack(make_stack, spapi_sim), support.SELLER, support.US)
    support.mirror_listings(spapi_sim, store)
    return store


@pytest.fixture
def push_handler(load_function: Callable[[str], Handler]) -> Handler:
    return load_function("InventoryPushFunction")


def _queued_inventory_messages() -> list[JobMessage]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = os.environ["INVENTORY_PUSH_QUEUE_URL"]
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [JobMessage.model_validate_json(m["Body"]) for m in found.get("Messages", [])]


def test_a_stockout_is_queued_and_pushed_alone_right_away(
    us_store: Store, spapi_sim: Simulator, push_handler: Handler, lambda_context: Any
) -> None:
    store, handler = us_store, push_handler
    skus = support.fbm_skus(spapi_sim, support.SELLER, support.US)
    for sku in skus:
        support.set_stock(store.merchant_id, sku, on_hand=5)
    support.deliver(handler, lambda_context, support.push_message(store))
    gone, other = skus[0], skus[1]
    assert support.amazon_quantity(spapi_sim, store, gone) == 5
    _queued_inventory_messages()  # drain what the first run left (nothing expected)

    support.set_stock(store.merchant_id, gone, on_hand=5, allocated=5)  # last units allocated
    support.set_stock(store.merchant_id, other, on_hand=9)  # an ordinary change waits for the schedule
    queue = SqsJobQueue(
        boto3.client("sqs", region_name="us-east-1"), {"inventory": os.environ["INVENTORY_PUSH_QUEUE_URL"]}
    )
    after_stock_change(store.merchant_id, [gone, other], queue)

    queued = _queued_inventory_messages()
    assert [(m.mode, m.trigger, m.store_id, m.skus) for m in queued] == [
        ("stockout", "stockout", store.store_id, (gone,))
    ]
    support.reset_stats(spapi_sim)
    support.deliver(handler, lambda_context, queued[0])

    assert support.amazon_quantity(spapi_sim, store, gone) == 0
    assert support.amazon_quantity(spapi_sim, store, other) == 5
    assert support.sim_calls(spapi_sim) == {"patchListingsItem": 1}


def test_no_stockout_message_when_amazon_already_shows_zero(
    make_stack: Callable[..., Any], spapi_sim: Simulator
) -> None:
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, support.SELLER, support.US)
    rows = support.mirror_listings(spapi_sim, store)
    sku = next(r.sku for r in rows if r.channel == "FBM")
    row = support.listing(store, sku)
    row.last_pushed_quantity = 0
    row.save()
    queue = SqsJobQueue(
        boto3.client("sqs", region_name="us-east-1"), {"inventory": os.environ["INVENTORY_PUSH_QUEUE_URL"]}
    )
    after_stock_change(store.merchant_id, [sku], queue)
    assert _queued_inventory_messages() == []


def test_unified_account_sku_is_pushed_once_with_the_lowest_quantity_and_a_warning(
    make_stack: Callable[..., Any],
    spapi_sim: Simulator,
    load_function: Callable[[str], Any],
    lambda_context: Any,
) -> None:
    stack = sim_stack(make_stack, spapi_sim)
    us = connected_store(spapi_sim, stack, support.SELLER, support.US, name="US store")
    ca = connected_store(spapi_sim, stack, support.SELLER, support.CA, name="CA store", inventory_buffer=2)
    shared = sorted(
        set(support.fbm_skus(spapi_sim, support.SELLER, support.US))
        & set(support.fbm_skus(spapi_sim, support.SELLER, support.CA))
    )[0]
    support.mirror_listings(spapi_sim, us, [shared])
    support.mirror_listings(spapi_sim, ca, [shared])
    support.set_stock(us.merchant_id, shared, on_hand=10)
    handler = load_function("InventoryPushFunction")
    support.reset_stats(spapi_sim)

    support.deliver(handler, lambda_context, support.push_message(us))
    support.deliver(handler, lambda_context, support.push_message(ca))

    assert support.sim_calls(spapi_sim) == {"patchListingsItem": 1}
    assert support.amazon_quantity(spapi_sim, us, shared) == 8  # the CA store's buffer of 2 wins: the lowest
    assert support.listing(us, shared).last_pushed_quantity == 8
    assert support.listing(ca, shared).last_pushed_quantity == 8
    for store in (us, ca):
        warnings = get_store(store.merchant_id, store.store_id).warnings  # type: ignore[union-attr]
        assert any("same Amazon seller account" in w.message for w in warnings), warnings


def test_duplicate_delivery_pushes_once(
    us_store: Store, spapi_sim: Simulator, push_handler: Handler, lambda_context: Any
) -> None:
    store, handler = us_store, push_handler
    skus = support.fbm_skus(spapi_sim, support.SELLER, support.US)[:4]
    for sku in support.fbm_skus(spapi_sim, support.SELLER, support.US):
        support.set_stock(store.merchant_id, sku, on_hand=3)
    support.deliver(handler, lambda_context, support.push_message(store))
    for n, sku in enumerate(skus):
        support.set_stock(store.merchant_id, sku, on_hand=40 + n)
    support.reset_stats(spapi_sim)

    message = support.push_message(store)
    event = support.sqs_event(message, message)  # the same message twice in one batch
    answer = handler(event, lambda_context)
    handler(json.loads(json.dumps(event)), lambda_context)  # and delivered again

    assert answer == {"batchItemFailures": []}
    assert support.sim_calls(spapi_sim) == {"patchListingsItem": len(skus)}
    for n, sku in enumerate(skus):
        assert support.amazon_quantity(spapi_sim, store, sku) == 40 + n
