"""Exactly once against the simulator with the real handler: Amazon's refusal (order cancelled meanwhile) is
kept and not retried, duplicate deliveries confirm once, a crash right after Amazon accepted does not confirm
twice, transient failures retry with backoff."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
import shipment_push_support as support
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from fixtures_stores import connected_store, sim_stack
from spapi_simulator.testing import admin
from storesync.clock import utcnow
from storesync.dal import shipment_writes
from storesync.dal.jobs import SyncRun


@pytest.fixture
def shop(make_stack, spapi_sim):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, support.SELLER, support.US)
    return stack, store, support.fbm_skus(spapi_sim, support.SELLER, support.US)


def runs(store):
    return sorted(SyncRun.query(store.store_id), key=lambda r: r.run_key)


def test_amazons_refusal_is_kept_shown_and_not_retried(shop, spapi_sim, load_function, lambda_context):
    _, store, skus = shop
    sim_order = support.amazon_order(spapi_sim, store, [(skus[0], 1)])
    order = support.import_order(store, sim_order)
    support.ship(store, sim_order["order_id"], [{"sku": skus[0], "quantity": 1}])
    admin(spapi_sim, "POST", f"orders/{sim_order['order_id']}/cancel")  # the buyer cancelled meanwhile

    handler = load_function("ShipmentPushFunction")
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}

    [shipment] = support.shipments_of(order)
    assert shipment.push_state == "refused"
    assert "cancelled" in shipment.amazon_message
    assert shipment.pending_store_id is None
    assert support.amazon_packages(spapi_sim, sim_order["order_id"]) == []
    [run] = runs(store)
    assert run.result == "partial"
    assert any(sim_order["order_id"] in e.message and "cancelled" in e.message for e in run.errors)
    assert support.fresh(order).status == "open"  # the order import, not the push, turns it cancelled

    calls = support.confirm_calls(spapi_sim)
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}
    assert support.confirm_calls(spapi_sim) == calls  # never retried


def test_duplicate_deliveries_confirm_once(shop, spapi_sim, load_function, lambda_context):
    _, store, skus = shop
    sim_order = support.amazon_order(spapi_sim, store, [(skus[0], 2)])
    support.import_order(store, sim_order)
    support.ship(store, sim_order["order_id"], [{"sku": skus[0], "quantity": 1}], tracking="T-1")
    support.ship(store, sim_order["order_id"], [{"sku": skus[0], "quantity": 1}], tracking="T-2")

    handler = load_function("ShipmentPushFunction")
    event = support.push_event(store, store)  # the same store twice in one batch
    assert handler(event, lambda_context) == {"batchItemFailures": []}
    assert handler(event, lambda_context) == {"batchItemFailures": []}  # and the batch delivered again
    assert support.confirm_calls(spapi_sim) == 2
    packages = support.amazon_packages(spapi_sim, sim_order["order_id"])
    assert sorted((p["package_reference_id"], p["tracking_number"]) for p in packages) == [
        ("1", "T-1"),
        ("2", "T-2"),
    ]


def test_a_crash_after_amazon_accepted_does_not_confirm_twice(
    shop, spapi_sim, load_function, lambda_context, monkeypatch
):
    _, store, skus = shop
    sim_order = support.amazon_order(spapi_sim, store, [(skus[0], 1)])
    order = support.import_order(store, sim_order)
    support.ship(store, sim_order["order_id"], [{"sku": skus[0], "quantity": 1}], tracking="CRASH-1")

    real = shipment_writes.mark_confirmed

    def crash(*args, **kwargs):
        raise SystemError("Lambda died right after Amazon accepted")

    monkeypatch.setattr(shipment_writes, "mark_confirmed", crash)
    handler = load_function("ShipmentPushFunction")
    event = support.push_event(store)
    with pytest.raises(BatchProcessingError):  # the invocation fails: SQS will deliver the message again
        handler(event, lambda_context)
    assert support.confirm_calls(spapi_sim) == 1
    [shipment] = support.shipments_of(order)
    assert shipment.push_state == "sending"

    monkeypatch.setattr(shipment_writes, "mark_confirmed", real)
    assert handler(event, lambda_context) == {"batchItemFailures": []}  # the redelivery
    assert support.confirm_calls(spapi_sim) == 1  # Amazon's record was read, nothing sent again
    [package] = support.amazon_packages(spapi_sim, sim_order["order_id"])
    assert package["tracking_number"] == "CRASH-1"
    [shipment] = support.shipments_of(order)
    assert shipment.push_state == "confirmed"
    assert support.fresh(order).status == "shipped"


def test_the_same_package_sent_again_is_not_shipped_twice_by_amazon(shop, spapi_sim):
    """The simulator answers a repeated packageReferenceId as Amazon does: the same package is a success that
    ships nothing more, a different package under a used reference is refused."""
    from fixtures_stores import sim_factory
    from storesync.amazon.errors import AmazonRejected
    from storesync.amazon.shipments import SpApiShipmentConfirmer
    from storesync.usecases.shipment_push import confirm_request

    _, store, skus = shop
    sim_order = support.amazon_order(spapi_sim, store, [(skus[0], 2)])
    order = support.import_order(store, sim_order)
    shipment = support.ship(store, sim_order["order_id"], [{"sku": skus[0], "quantity": 1}], tracking="SAME")
    amazon = SpApiShipmentConfirmer(
        sim_factory(spapi_sim).for_store(support.US, support.SELLER, _refresh_token(spapi_sim))
    )
    request = confirm_request(shipment, support.US)
    amazon.confirm(order.amazon_order_id, request)
    amazon.confirm(order.amazon_order_id, request)
    assert [i["shipped"] for i in admin(spapi_sim, "GET", f"orders/{order.amazon_order_id}")["items"]] == [1]
    request["packageDetail"]["trackingNumber"] = "DIFFERENT"
    with pytest.raises(AmazonRejected, match="already confirmed"):
        amazon.confirm(order.amazon_order_id, request)
    assert [p.package_reference_id for p in amazon.packages(order.amazon_order_id)] == ["1"]


def _refresh_token(sim):
    from fixtures_stores import issue_refresh_token

    return issue_refresh_token(sim, support.SELLER)


def test_transient_failures_retry_with_backoff(shop, spapi_sim, load_function, lambda_context):
    stack, store, skus = shop
    sim_order = support.amazon_order(spapi_sim, store, [(skus[0], 1)])
    order = support.import_order(store, sim_order)
    support.ship(store, sim_order["order_id"], [{"sku": skus[0], "quantity": 1}])
    admin(spapi_sim, "POST", "faults", json={"error_rate_503": 1.0, "operations": ["confirmShipment"]})

    handler = load_function("ShipmentPushFunction")
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}
    [shipment] = support.shipments_of(order)
    assert (shipment.push_state, shipment.attempts) == ("sending", 1)
    assert shipment.next_attempt_at is not None and shipment.next_attempt_at > utcnow()
    assert shipment.pending_store_id == store.store_id
    [run] = runs(store)
    assert run.result == "partial" and "retrying" in run.errors[0].message
    # The retry is due in a minute: a continuation is queued for it.
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.queue_url("ShipmentPushQueue"), AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    assert support.drain(stack.queue_url("ShipmentPushQueue")) == []  # delayed, not visible yet

    # Not due yet: nothing is sent.
    calls = support.confirm_calls(spapi_sim)
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}
    assert support.confirm_calls(spapi_sim) == calls

    # Amazon is back and the minute has passed.
    admin(spapi_sim, "POST", "faults", json={"error_rate_503": 0.0, "operations": None})
    shipment.update(actions=[type(shipment).next_attempt_at.set(utcnow() - timedelta(seconds=1))])
    assert handler(support.push_event(store), lambda_context) == {"batchItemFailures": []}
    [shipment] = support.shipments_of(order)
    assert (shipment.push_state, shipment.attempts) == ("confirmed", 2)
    assert len(support.amazon_packages(spapi_sim, sim_order["order_id"])) == 1
