"""Notifications: destinations, ORDER_CHANGE subscriptions and delivery to an SQS queue in moto."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from jsonschema import Draft7Validator
from moto.server import ThreadedMotoServer
from spapi_simulator import Simulator
from spapi_simulator.schemas import MODELS_DIR, operation, validate_response
from spapi_simulator.testing import Authorized, admin, authorize, fault_mode, lwa_token

MODEL = "notifications.json"
ORDER_CHANGE_SCHEMA = json.loads((MODELS_DIR / "notifications" / "OrderChangeNotification.json").read_text())
US = "ATVPDKIKX0DER"


@pytest.fixture
def sqs_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def wired(
    sqs_endpoint: str, spapi_sim_factory: Callable[..., Simulator]
) -> tuple[Simulator, Authorized, Any, str]:
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=sqs_endpoint)
    queue_url = sqs.create_queue(QueueName=f"order-change-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sim = spapi_sim_factory(sqs_endpoint_url=sqs_endpoint)
    auth = authorize(sim)
    grantless = lwa_token(
        sim, grant_type="client_credentials", scope="sellingpartnerapi::notifications"
    ).json()
    app_headers = {"x-amz-access-token": grantless["access_token"]}
    created = requests.post(f"{sim.url}/notifications/v1/destinations", headers=app_headers,
                            json={"name": "storesync", "resourceSpecification": {"sqs": {"arn": arn}}})  # fmt: skip
    assert created.status_code == 200, created.text
    validate_response(MODEL, "createDestination", 200, created.json())
    destination_id = created.json()["payload"]["destinationId"]
    listed = requests.get(f"{sim.url}/notifications/v1/destinations", headers=app_headers)
    validate_response(MODEL, "getDestinations", 200, listed.json())
    assert [d["destinationId"] for d in listed.json()["payload"]] == [destination_id]
    subscribed = requests.post(f"{sim.url}/notifications/v1/subscriptions/ORDER_CHANGE", headers=auth.headers,
                               json={"payloadVersion": "1.0", "destinationId": destination_id})  # fmt: skip
    assert subscribed.status_code == 200, subscribed.text
    validate_response(MODEL, "createSubscription", 200, subscribed.json())
    return sim, auth, sqs, queue_url


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def summary(message: dict[str, Any]) -> tuple[str, str]:
    change = message["Payload"]["OrderChangeNotification"]
    return change["AmazonOrderId"], change["Summary"]["OrderStatus"]


def new_order(sim: Simulator, status: str = "PENDING") -> dict[str, Any]:
    body = {"seller_id": "A1NASELLER0001", "marketplace_id": US, "status": status,
            "items": [{"sku": "SKU-00001", "quantity": 2}]}  # fmt: skip
    return admin(sim, "POST", "orders", body)  # type: ignore[no-any-return]


def test_order_changes_arrive_in_the_queue_shaped_as_the_model(
    wired: tuple[Simulator, Authorized, Any, str],
) -> None:
    sim, auth, sqs, queue_url = wired
    order = new_order(sim)
    admin(sim, "POST", f"orders/{order['order_id']}/release")
    item = order["items"][0]["order_item_id"]
    shipped = requests.post(
        f"{sim.url}/orders/v0/orders/{order['order_id']}/shipmentConfirmation", headers=auth.headers,
        json={"marketplaceId": US, "packageDetail": {"packageReferenceId": "1", "carrierCode": "UPS",
              "trackingNumber": "1Z9", "shipDate": "2026-01-02T10:00:00Z",
              "orderItems": [{"orderItemId": item, "quantity": 1}]}},
    )  # fmt: skip
    assert shipped.status_code == 204
    other = new_order(sim, "UNSHIPPED")
    admin(sim, "POST", f"orders/{other['order_id']}/cancel")
    messages = drain(sqs, queue_url)
    for message in messages:
        assert list(Draft7Validator(ORDER_CHANGE_SCHEMA).iter_errors(message)) == []
        assert message["Payload"]["OrderChangeNotification"]["SellerId"] == "A1NASELLER0001"
        assert "Address" not in json.dumps(message)
    assert [summary(m) for m in messages] == [
        (order["order_id"], "Pending"), (order["order_id"], "Unshipped"), (order["order_id"], "PartiallyShipped"),
        (other["order_id"], "Unshipped"), (other["order_id"], "Canceled"),
    ]  # fmt: skip
    assert len({m["NotificationMetadata"]["NotificationId"] for m in messages}) == 5
    subscription = requests.get(
        f"{sim.url}/notifications/v1/subscriptions/ORDER_CHANGE", headers=auth.headers
    )
    validate_response(MODEL, "getSubscription", 200, subscription.json())
    assert (
        subscription.json()["payload"]["subscriptionId"]
        == messages[0]["NotificationMetadata"]["SubscriptionId"]
    )


def test_unsubscribed_sellers_send_nothing(wired: tuple[Simulator, Authorized, Any, str]) -> None:
    sim, _, sqs, queue_url = wired
    admin(
        sim, "POST", "orders", {"seller_id": "A2NASELLER0002", "items": [{"sku": "SKU-00001", "quantity": 1}]}
    )
    assert drain(sqs, queue_url) == []
    other = authorize(sim, "A2NASELLER0002")
    missing = requests.get(f"{sim.url}/notifications/v1/subscriptions/ORDER_CHANGE", headers=other.headers)
    assert missing.status_code == 404


def test_duplicated_notifications_keep_their_notification_id(
    wired: tuple[Simulator, Authorized, Any, str],
) -> None:
    sim, _, sqs, queue_url = wired
    admin(sim, "POST", "faults", {"duplicate_notifications": 1.0})
    order = new_order(sim)
    messages = drain(sqs, queue_url)
    assert [summary(m) for m in messages] == [(order["order_id"], "Pending")] * 2
    assert len({m["NotificationMetadata"]["NotificationId"] for m in messages}) == 1


def test_shuffled_notifications_arrive_out_of_order(wired: tuple[Simulator, Authorized, Any, str]) -> None:
    sim, _, sqs, queue_url = wired
    admin(sim, "POST", "faults", {"shuffle_notifications": True})
    first = new_order(sim)
    assert admin(sim, "GET", "notifications")["held"] == 1 and drain(sqs, queue_url) == []
    admin(sim, "POST", f"orders/{first['order_id']}/release")
    sent = admin(sim, "GET", "notifications")["sent"]
    assert [(s["order_id"], s["order_status"]) for s in sent] == [(first["order_id"], "Unshipped"),
                                                                   (first["order_id"], "Pending")]  # fmt: skip
    assert sorted(summary(m) for m in drain(sqs, queue_url)) == sorted(
        [(first["order_id"], "Unshipped"), (first["order_id"], "Pending")]
    )
    second = new_order(sim)
    admin(sim, "POST", "faults", {"shuffle_notifications": False})  # switching off delivers what is held
    assert [summary(m) for m in drain(sqs, queue_url)] == [(second["order_id"], "Pending")]


def test_destination_and_subscription_rules(wired: tuple[Simulator, Authorized, Any, str]) -> None:
    sim, auth, _, _ = wired
    again = requests.post(f"{sim.url}/notifications/v1/subscriptions/ORDER_CHANGE", headers=auth.headers,
                          json={"payloadVersion": "1.0", "destinationId": "nope"})  # fmt: skip
    assert again.status_code == 404
    seller_token_on_grantless = requests.get(f"{sim.url}/notifications/v1/destinations", headers=auth.headers)
    assert seller_token_on_grantless.status_code == 403
    bad_arn = requests.post(
        f"{sim.url}/notifications/v1/destinations",
        headers={"x-amz-access-token": lwa_token(sim, grant_type="client_credentials",
                                                 scope="sellingpartnerapi::notifications").json()["access_token"]},
        json={"name": "x", "resourceSpecification": {"sqs": {"arn": "not-an-arn"}}},
    )  # fmt: skip
    assert bad_arn.status_code == 400 and "arn" in bad_arn.json()["errors"][0]["message"]


def test_answers_have_the_shape_of_the_sandbox_examples(
    wired: tuple[Simulator, Authorized, Any, str],
) -> None:
    sim, auth, _, _ = wired
    grantless = lwa_token(
        sim, grant_type="client_credentials", scope="sellingpartnerapi::notifications"
    ).json()
    ours = {
        "getDestinations": requests.get(f"{sim.url}/notifications/v1/destinations",
                                        headers={"x-amz-access-token": grantless["access_token"]}).json(),
        "getSubscription": requests.get(f"{sim.url}/notifications/v1/subscriptions/ORDER_CHANGE",
                                        headers=auth.headers).json(),
    }  # fmt: skip
    for operation_id, body in ours.items():
        example = operation(MODEL, operation_id).spec["responses"]["200"]["x-amzn-api-sandbox"]["static"][0]
        validate_response(MODEL, operation_id, 200, example["response"])
        validate_response(MODEL, operation_id, 200, body)
        expected, got = example["response"]["payload"], body["payload"]
        if isinstance(expected, list):
            expected, got = expected[0], got[0]
        assert set(got) == set(expected), operation_id


# the fault modes (POST /_sim/faults {"modes": {...}}) --------------------------------------------------------
def test_mode_notifications_duplicate(wired: tuple[Simulator, Authorized, Any, str]) -> None:
    sim, _, sqs, queue_url = wired
    fault_mode(sim, "notifications_duplicate", 1.0, ["ORDER_CHANGE"])
    order = new_order(sim)
    messages = drain(sqs, queue_url)
    assert [summary(m) for m in messages] == [(order["order_id"], "Pending")] * 2
    assert len({m["NotificationMetadata"]["NotificationId"] for m in messages}) == 1
    assert admin(sim, "GET", "stats")["faults"]["notifications_duplicate"] == 1


def test_mode_notifications_out_of_order(wired: tuple[Simulator, Authorized, Any, str]) -> None:
    sim, _, sqs, queue_url = wired
    fault_mode(sim, "notifications_out_of_order", 1.0, ["ORDER_CHANGE"])
    order = new_order(sim)
    assert admin(sim, "GET", "notifications")["held"] == 1 and drain(sqs, queue_url) == []
    admin(sim, "POST", f"orders/{order['order_id']}/release")
    assert [summary(m) for m in drain(sqs, queue_url)] == [
        (order["order_id"], "Unshipped"), (order["order_id"], "Pending"),
    ]  # fmt: skip
    other = new_order(sim)  # held again
    fault_mode(sim, "notifications_out_of_order", 0.0)  # switching off delivers it
    assert [summary(m) for m in drain(sqs, queue_url)] == [(other["order_id"], "Pending")]
    assert admin(sim, "GET", "stats")["faults"]["notifications_out_of_order"] == 2


def test_mode_notifications_late(wired: tuple[Simulator, Authorized, Any, str]) -> None:
    sim, _, sqs, queue_url = wired
    fault_mode(sim, "notifications_late", 0.5)
    created = [new_order(sim)["order_id"] for _ in range(12)]
    held = admin(sim, "GET", "notifications")["held"]
    assert admin(sim, "POST", "notifications/flush") == {"flushed": held}
    arrived = [summary(m)[0] for m in drain(sqs, queue_url)]
    assert sorted(arrived) == sorted(created)  # nothing lost, nothing twice
    late = admin(sim, "GET", "stats")["faults"]["notifications_late"]
    assert late >= 2 and arrived != created
    overtaken = [
        o for o in created if any(created.index(p) > created.index(o) for p in arrived[: arrived.index(o)])
    ]
    assert 1 <= len(overtaken) <= late  # late messages arrive after those of later changes
