"""The local runtime end to end: HTTP through the gateway, schedules on the fast clock, SQS pollers, clean stop."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from storesync_local.client import StoresyncClient
from storesync_local.demo import Demo
from storesync_local.runtime import ExternalSpApi, LocalRuntime
from storesync_local.waiting import wait_for

pytestmark = pytest.mark.e2e

ACME, US = "A1NASELLER0001", "ATVPDKIKX0DER"


class Recorder:
    """A stand-in function: records every event; fails the records whose body says "poison"."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.events.append(event)
        failures = [
            {"itemIdentifier": r["messageId"]} for r in event.get("Records", []) if "poison" in r["body"]
        ]
        return {"batchItemFailures": failures}

    def records(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for e in self.events for r in e.get("Records", [])]


def connect_acme(runtime: LocalRuntime, merchant: str = "merchant-e2e") -> tuple[StoresyncClient, str]:
    client = StoresyncClient.signed_in(runtime.api_url, merchant)
    store_id, landing = client.connect_store(
        ACME, US, "Acme US", download_products_and_orders=True, starting_inventory="match_amazon"
    )
    assert dict(parse_qsl(urlsplit(landing).query)).get("outcome") == "connected", landing
    return client, store_id


def test_connect_a_store_over_http_through_the_gateway(local_runtime: LocalRuntime) -> None:
    api = local_runtime.api_url
    assert requests.get(f"{api}/stores", timeout=10).status_code == 401
    bad = requests.get(f"{api}/stores", headers={"Authorization": "Bearer not-a-jwt"}, timeout=10)
    assert bad.status_code == 401 and bad.json() == {"message": "Unauthorized"}
    assert requests.get(f"{api}/no/such/route", timeout=10).json() == {"message": "Not Found"}

    client = StoresyncClient.signed_in(api, "merchant-e2e")
    created = client.post("/stores", {"name": "Acme US", "marketplace_id": US})
    consent = urlsplit(created["consent_url"])
    assert consent.geturl().startswith(local_runtime.spapi_url + "/apps/authorize/consent")
    redirect_uri = dict(parse_qsl(consent.query))["redirect_uri"]
    assert redirect_uri == f"{api}/amazon/callback"
    assert client.get(f"/stores/{created['store_id']}")["status"] == "pending_authorization"

    store_id, landing = client.connect_store(ACME, US, "Acme US again")
    assert dict(parse_qsl(urlsplit(landing).query)) == {"outcome": "connected", "store_id": store_id}
    assert client.get(f"/stores/{store_id}")["status"] == "active"
    other = StoresyncClient.signed_in(api, "someone-else")
    assert [s["store_id"] for s in other.get("/stores")["stores"]] == []
    other.get(f"/stores/{store_id}", expect=(404,))


def test_development_token_is_checked_like_the_jwt_authorizer(local_runtime: LocalRuntime) -> None:
    token = requests.get(
        f"{local_runtime.api_url}/local/token", params={"merchant": "m-1"}, timeout=10
    ).json()
    assert token["merchant_id"] == "m-1"
    ok = requests.get(
        f"{local_runtime.api_url}/stores", headers={"Authorization": f"Bearer {token['token']}"}, timeout=10
    )
    assert ok.status_code == 200 and ok.json()["stores"] == []
    tampered = token["token"][:-2] + ("AA" if not token["token"].endswith("AA") else "BB")
    denied = requests.get(
        f"{local_runtime.api_url}/stores", headers={"Authorization": f"Bearer {tampered}"}, timeout=10
    )
    assert denied.status_code == 401
    missing = requests.get(f"{local_runtime.api_url}/local/token", timeout=10)
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "merchant"


def test_schedule_tick_dispatches_and_the_job_runs_through_the_poller(
    local_runtime_factory: Callable[..., LocalRuntime],
) -> None:
    shipments = Recorder()
    runtime = local_runtime_factory(function_overrides={"ShipmentPushFunction": shipments})
    _, store_id = connect_acme(runtime)

    # rate(30 minutes) at one simulated hour per real second: the real DispatchFunction fires, one message per
    # active store lands on the shipment queue, and the poller hands it to the function as Lambda would.
    record = wait_for(lambda: shipments.records(), what="a shipment job")[0]
    message = json.loads(record["body"])
    assert message["job"] == "shipments" and message["store_id"] == store_id
    assert message["trigger"] == "schedule"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith("-ShipmentPushQueue")
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"messageId", "receiptHandle", "md5OfBody", "messageAttributes"} <= set(record)
    assert runtime.scheduler is not None
    assert runtime.scheduler.by_name("Shipments").fired >= 1
    assert wait_for(lambda: runtime.queue_depths()["ShipmentPushQueue"] == 0 or None, what="queue drained")


def test_partial_batch_failure_redelivers_only_the_failed_message_then_the_dlq_takes_it(
    local_runtime_factory: Callable[..., LocalRuntime],
) -> None:
    orders = Recorder()
    runtime = local_runtime_factory(function_overrides={"OrderImportFunction": orders}, run_schedules=False)
    assert runtime.provisioned is not None
    queue = runtime.provisioned.queue_url("OrderNotificationsQueue")
    dlq = runtime.provisioned.queue_url("OrderNotificationsDeadLetterQueue")
    runtime.sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "a", "MessageBody": json.dumps({"n": "good-1"})},
            {"Id": "b", "MessageBody": json.dumps({"n": "poison"})},
            {"Id": "c", "MessageBody": json.dumps({"n": "good-2"})},
        ],
    )
    # maxReceiveCount 5: the poisoned message is received five times (visibility timeout 360 s, on the
    # simulated clock 0.1 s, rounded up to SQS's 1 s), then moto moves it to the DLQ on the next receive.
    dead = wait_for(
        lambda: runtime.sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"]).get("Messages"),
        timeout=60,
        what="the poisoned message in the DLQ",
    )
    assert [json.loads(m["Body"]) for m in dead] == [{"n": "poison"}]
    bodies = [json.loads(r["body"])["n"] for r in orders.records()]
    assert bodies.count("good-1") == 1 and bodies.count("good-2") == 1
    assert bodies.count("poison") == 5
    poison_counts = [
        int(r["attributes"]["ApproximateReceiveCount"]) for r in orders.records() if "poison" in r["body"]
    ]
    assert poison_counts == [1, 2, 3, 4, 5]
    depths = runtime.queue_depths()
    assert depths["OrderNotificationsQueue"] == 0


def test_stop_frees_every_port_and_thread(local_runtime_factory: Callable[..., LocalRuntime]) -> None:
    runtime = local_runtime_factory()
    ports = [urlsplit(u).port for u in (runtime.api_url, runtime.spapi_url, runtime.moto_url)]
    assert requests.get(f"{runtime.spapi_url}/_sim/sellers", timeout=10).status_code == 200
    runtime.stop()
    for port in ports:
        assert port is not None
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # as a restarted server would (SO_REUSEADDR: closed connections in TIME_WAIT do not count)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))  # raises if anything still listens
            probe.listen()
    leftovers = [
        t.name for t in threading.enumerate() if t.name.startswith(("poll-", "storesync-", "spapi-"))
    ]
    assert leftovers == []
    with pytest.raises(requests.ConnectionError):
        requests.get(runtime.api_url + "/", timeout=2)
    api_port, spapi_port, moto_port = ports
    again = local_runtime_factory(api_port=api_port, spapi_port=spapi_port, moto_port=moto_port)
    assert again.api_url == runtime.api_url and again.moto_url == runtime.moto_url
    assert (
        requests.get(f"{again.api_url}/local/token", params={"merchant": "m"}, timeout=10).status_code == 200
    )


def test_the_demo_walk_ends_with_storesync_and_amazon_agreeing(
    local_runtime_factory: Callable[..., LocalRuntime], capsys: pytest.CaptureFixture[str]
) -> None:
    """Connect, import, orders (pending then released, FBA, cancelled, shipped outside), push, ship: the real jobs
    through the gateway, schedules and pollers, then storesync's tables against the simulator's ground truth."""
    runtime = local_runtime_factory(speed=60.0)  # the demo's pace: schedules fire beside the manual syncs
    demo = Demo(runtime.api_url, runtime.spapi_url, runtime.moto_url, runtime.config.stack_name, timeout=90)
    assert demo.run() is True, capsys.readouterr().out
    rows = {row[0].split(" (")[0]: row for row in demo.rows}
    assert rows["listings imported"][1] == rows["listings imported"][2]
    statuses = {  # Amazon's column: "<history ending in the status> · <channel> ..."
        label: row[2].split(" · ")[0].split(" -> ")[-1]
        for row in demo.rows
        for label in demo.orders
        if f"({label})" in row[0]
    }
    assert statuses["cancelled"] == "CANCELLED" and statuses["shipped outside the WMS"] == "SHIPPED"
    assert statuses["pending, then released"] == "UNSHIPPED"
    assert len([r for r in demo.rows if r[0].startswith("stock ")]) == 2


def test_pointed_at_another_amazon_it_starts_no_simulator(
    local_runtime_factory: Callable[..., LocalRuntime], spapi_sim_factory: Callable[..., Any]
) -> None:
    other = spapi_sim_factory()
    external = ExternalSpApi.from_env(
        {
            "SPAPI_ENDPOINT": other.url,
            "SPAPI_LWA_URL": other.url + "/auth/o2/token",
            "SPAPI_CONSENT_URL": other.url,
        }
    )
    runtime = local_runtime_factory(external_spapi=external, run_schedules=False)
    assert runtime.simulator is None and runtime.spapi_url == other.url
    connect_acme(runtime)
    assert any(g.seller_id == ACME for g in other.world.grants.values())
    with pytest.raises(ValueError, match="SPAPI_LWA_URL, SPAPI_CONSENT_URL"):
        ExternalSpApi.from_env({"SPAPI_ENDPOINT": other.url})
    assert ExternalSpApi.from_env({}) is None


def test_a_message_the_real_job_function_cannot_read_ends_in_its_dlq(
    local_runtime_factory: Callable[..., LocalRuntime],
) -> None:
    runtime = local_runtime_factory(run_schedules=False)
    assert runtime.provisioned is not None
    queue = runtime.provisioned.queue_url("ProductImportQueue")
    dlq = runtime.provisioned.queue_url("ProductImportDeadLetterQueue")
    runtime.sqs.send_message(QueueUrl=queue, MessageBody='{"job": "products", "store_id": ')
    dead = wait_for(
        lambda: runtime.sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"]).get("Messages"),
        timeout=60,
        what="the unreadable job message in the DLQ",
    )
    assert dead[0]["Body"] == '{"job": "products", "store_id": '
    assert runtime.functions["ProductImportFunction"].invocations == 5
