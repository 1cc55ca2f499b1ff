"""The local runtime's state on disk (storesync_local/state.py): moto's backends and the simulator's world go to
bytes and come back whole; the gate gives a moment with no request in flight; one folder serves one runtime.

moto's backends are global to the process (the session's moto server shares them), so these tests work in a
region no other test uses and put fresh backends there to stand for a new process."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend
from spapi_simulator.state import SimulatorConfig, SimulatorState
from spapi_simulator.world import UNSHIPPED
from storesync_local.state import (
    MOTO_SERVICES,
    Persistence,
    SnapshotGate,
    StateDir,
    default_state_dir,
    dumps,
    loads,
    moto_request_changes,
    moto_state,
    reset,
    restore_moto_state,
)
from storesync_local.template import ACCOUNT_ID, provision

REGION = "eu-south-2"  # no other test provisions here


def _fresh_region() -> None:
    """What a new process has: empty backends in REGION."""
    restore_moto_state(
        ACCOUNT_ID,
        REGION,
        {s: type(moto_state(ACCOUNT_ID, REGION, [s])[s])(REGION, ACCOUNT_ID) for s in MOTO_SERVICES},
    )


def _clients(endpoint: str) -> dict[str, Any]:
    session = boto3.session.Session(region_name=REGION)
    names = ("dynamodb", "sqs", "kms", "secretsmanager", "events")
    return {name: session.client(name, endpoint_url=endpoint) for name in names}  # type: ignore[call-overload]


def test_moto_state_survives_a_new_process_keys_and_ciphertexts_included(moto_endpoint: str) -> None:
    _fresh_region()
    stack = f"st{uuid.uuid4().hex[:8]}"
    prov = provision(
        moto_endpoint, stack_name=stack, region=REGION, secrets={"LwaCredentialsSecret": '{"a": 1}'}
    )
    aws = _clients(moto_endpoint)
    table = (
        prov.physical["StoresTable"]
        if "StoresTable" in prov.physical
        else next(v for k, v in prov.physical.items() if k.endswith("Table"))
    )
    key_schema = aws["dynamodb"].describe_table(TableName=table)["Table"]["KeySchema"]
    item = {k["AttributeName"]: {"S": f"v-{k['AttributeName']}"} for k in key_schema}
    aws["dynamodb"].put_item(TableName=table, Item={**item, "extra": {"S": "kept"}})
    key_id = prov.physical["DataKey"]
    blob = aws["kms"].encrypt(KeyId=key_id, Plaintext=b"buyer address")["CiphertextBlob"]
    queue = next(url for url in prov.physical.values() if url.startswith("http"))
    aws["sqs"].send_message(QueueUrl=queue, MessageBody="in the queue")
    aws["events"].create_event_bus(Name=f"{stack}-bus")

    saved = dumps(moto_state(ACCOUNT_ID, REGION))
    _fresh_region()  # the process ended: nothing is there any more
    assert table not in aws["dynamodb"].list_tables()["TableNames"]
    with pytest.raises(ClientError):  # the key is gone with the process
        aws["kms"].decrypt(CiphertextBlob=blob)

    restore_moto_state(ACCOUNT_ID, REGION, loads(saved))
    assert aws["dynamodb"].get_item(TableName=table, Key=item)["Item"]["extra"] == {"S": "kept"}
    assert aws["kms"].decrypt(CiphertextBlob=blob)["Plaintext"] == b"buyer address"
    received = aws["sqs"].receive_message(QueueUrl=queue, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in received] == ["in the queue"]
    assert f"{stack}-bus" in [b["Name"] for b in aws["events"].list_event_buses()["EventBuses"]]
    secret = aws["secretsmanager"].get_secret_value(SecretId=prov.physical["LwaCredentialsSecret"])
    assert json.loads(secret["SecretString"]) == {"a": 1}

    # the next start provisions again: the same key, tables, queues and secrets, data untouched
    again = provision(
        moto_endpoint, stack_name=stack, region=REGION, secrets={"LwaCredentialsSecret": '{"a": 2}'}
    )
    assert again.physical == prov.physical and again.arns == prov.arns
    assert aws["dynamodb"].get_item(TableName=table, Key=item)["Item"]["extra"] == {"S": "kept"}
    secret = aws["secretsmanager"].get_secret_value(SecretId=prov.physical["LwaCredentialsSecret"])
    assert json.loads(secret["SecretString"]) == {"a": 2}  # a given value is the current one
    _fresh_region()


def test_restoring_one_region_leaves_the_others_alone(moto_endpoint: str) -> None:
    other = get_backend("dynamodb")[ACCOUNT_ID]["us-east-1"]
    _fresh_region()
    restore_moto_state(ACCOUNT_ID, REGION, loads(dumps(moto_state(ACCOUNT_ID, REGION))))
    assert get_backend("dynamodb")[ACCOUNT_ID]["us-east-1"] is other


def _simulator(seed: int = 3) -> SimulatorState:
    return SimulatorState(SimulatorConfig(seed=seed, skus=5, orders=4))


def test_the_simulator_world_survives_sellers_grants_orders_shipments_listings_clock() -> None:
    before = _simulator()
    world = before.world
    grant = world.issue_grant("A2NASELLER0002")
    order = next(o for o in world.orders.by_id.values() if o.seller_id == "A2NASELLER0002")
    world.change_status(order, "CANCELLED")
    sku = world.catalog.listings("A2NASELLER0002", "ATVPDKIKX0DER")[0].sku
    world.catalog.set_quantity("A2NASELLER0002", "ATVPDKIKX0DER", sku, 77)
    before.clock.advance(7200)
    world.catalog.schedule_quantity("A2NASELLER0002", "ATVPDKIKX0DER", sku, 5, delay=3600)
    token = world.issue_access_token("A2NASELLER0002", grant=grant.refresh_token)
    world.revoke_grants("A4FESELLER0004")
    number = world.next_number()

    data = dumps(before.saved_state())
    after = _simulator(seed=99)  # what the next start generates is replaced by what was saved
    after.load_saved_state(loads(data))

    w2 = after.world
    assert abs(after.clock.offset - before.clock.offset) < 1e-6
    assert w2.grants[grant.refresh_token].seller_id == "A2NASELLER0002"
    assert w2.resolve_access_token(token.token, grantless=False, ttl_override=None) == "A2NASELLER0002"
    assert set(w2.orders.by_id) == set(world.orders.by_id)
    assert w2.orders.by_id[order.order_id].status == "CANCELLED"
    assert [o.order_id for o in w2.orders.scan("A2NASELLER0002", "updated", 0)][-1] == order.order_id
    assert w2.catalog.get("A2NASELLER0002", "ATVPDKIKX0DER", sku).quantity == 77
    assert w2.catalog.clock is after.clock  # the live clock, not a copy
    after.clock.advance(3601)
    w2.tick()
    assert w2.catalog.get("A2NASELLER0002", "ATVPDKIKX0DER", sku).quantity == 5  # the due change came along
    assert w2.next_number() > number  # ids go on, never repeat
    # the new world works: listeners still fire, locks are usable
    seen: list[str] = []
    w2.order_listeners.append(lambda o, previous: seen.append(o.order_id))
    w2.change_status(w2.orders.by_id[order.order_id], UNSHIPPED)
    assert seen == [order.order_id]


def test_the_gate_waits_for_requests_in_flight_and_holds_new_ones_back() -> None:
    gate = SnapshotGate("test")
    in_flight = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def request(name: str, hold: threading.Event | None = None) -> None:
        with gate.request():
            in_flight.set()
            if hold is not None:
                hold.wait(5)
            order.append(name)

    first = threading.Thread(target=request, args=("first", release))
    first.start()
    assert in_flight.wait(5)
    closer_done = threading.Event()

    def close() -> None:
        with gate.closed():
            order.append("snapshot")
            time.sleep(0.2)
        closer_done.set()

    closer = threading.Thread(target=close)
    closer.start()
    time.sleep(0.1)
    late = threading.Thread(target=request, args=("late",))
    late.start()
    time.sleep(0.1)
    assert order == []  # the snapshot waits for the first request
    release.set()
    for thread in (first, closer, late):
        thread.join(5)
    assert order == ["first", "snapshot", "late"]


def test_the_gate_gives_up_when_a_request_does_not_end() -> None:
    gate = SnapshotGate("test")
    with (
        gate.request(),
        pytest.raises(TimeoutError, match="requests still running"),
        gate.closed(timeout=0.1),
    ):
        pass
    with gate.request():  # open again
        pass


def test_reads_do_not_call_for_a_new_snapshot() -> None:
    def changes(body: bytes = b"{}", **environ: str) -> bool:
        return moto_request_changes(environ, [body])

    assert not changes(HTTP_X_AMZ_TARGET="DynamoDB_20120810.GetItem")
    assert not changes(HTTP_X_AMZ_TARGET="AmazonSQS.GetQueueAttributes")
    assert changes(HTTP_X_AMZ_TARGET="DynamoDB_20120810.TransactWriteItems")
    assert not changes(HTTP_X_AMZ_TARGET="AmazonSQS.ReceiveMessage")  # an empty long poll
    assert changes(b'{"Messages": [{"ReceiptHandle": "r"}]}', HTTP_X_AMZ_TARGET="AmazonSQS.ReceiveMessage")
    assert changes(QUERY_STRING="Action=SendMessage&Version=2012-11-05")
    assert not changes(QUERY_STRING="Action=GetQueueUrl")


def test_one_folder_serves_one_runtime_and_reset_waits_for_it(tmp_path: Path) -> None:
    path = tmp_path / "state"
    first = StateDir(path).open()
    with pytest.raises(RuntimeError, match="in use by another storesync local runtime"):
        StateDir(path).open()
    with pytest.raises(RuntimeError, match="in use"):
        reset(path)
    first.write(b"snapshot")
    assert first.read() == b"snapshot" and not list(path.glob("*.tmp"))
    first.close()
    assert reset(path) is True and not path.exists()
    assert reset(path) is False


def test_the_folder_comes_from_the_environment(tmp_path: Path) -> None:
    assert default_state_dir({"STORESYNC_STATE_DIR": str(tmp_path / "a")}) == tmp_path / "a"
    assert default_state_dir({}).name == ".storesync-state"


def test_a_snapshot_is_taken_only_when_something_changed_and_reads_back(
    tmp_path: Path, moto_endpoint: str
) -> None:
    persistence = Persistence(StateDir(tmp_path).open(), ACCOUNT_ID, REGION)
    persistence.simulator = _simulator()
    persistence.runtime_state = {"jwt_secret": "s"}
    assert persistence.take(only_if_changed=True) is True
    assert persistence.take(only_if_changed=True) is False
    persistence.simulator_gate.changes += 1  # a POST reached the simulator
    assert persistence.take(only_if_changed=True) is True
    snapshot = persistence.load()
    assert snapshot is not None and snapshot.runtime == {"jwt_secret": "s"}
    restored = _simulator(seed=5)
    persistence.restore_simulator(snapshot, restored)
    assert set(restored.world.orders.by_id) == set(persistence.simulator.world.orders.by_id)
    (tmp_path / "state.pickle").write_bytes(dumps({"format": 999}))
    with pytest.raises(RuntimeError, match="--fresh"):
        persistence.load()
    persistence.state_dir.close()


def test_make_reset_removes_the_folder_unless_a_run_uses_it(tmp_path: Path) -> None:
    from storesync_local.state import main

    path = tmp_path / "state"
    in_use = StateDir(path).open()
    assert main(["reset", "--state-dir", str(path)]) == 1 and path.exists()
    in_use.close()
    assert main(["reset", "--state-dir", str(path)]) == 0 and not path.exists()


def test_a_background_snapshot_is_written_by_a_forked_copy_of_that_moment(
    tmp_path: Path, moto_endpoint: str
) -> None:
    _fresh_region()
    stack = f"bg{uuid.uuid4().hex[:8]}"
    prov = provision(moto_endpoint, stack_name=stack, region=REGION)
    aws = _clients(moto_endpoint)
    blob = aws["kms"].encrypt(KeyId=prov.physical["DataKey"], Plaintext=b"kept")["CiphertextBlob"]
    persistence = Persistence(StateDir(tmp_path).open(), ACCOUNT_ID, REGION)
    persistence.simulator = _simulator()
    assert persistence.take(in_background=True) is True
    assert persistence.last_bytes == (tmp_path / "state.pickle").stat().st_size > 0
    snapshot = persistence.load()
    assert snapshot is not None
    _fresh_region()
    persistence.restore_moto(snapshot)
    assert aws["kms"].decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
    restored = _simulator(seed=8)
    persistence.restore_simulator(snapshot, restored)
    assert set(restored.world.orders.by_id) == set(persistence.simulator.world.orders.by_id)
    persistence.state_dir.close()
    _fresh_region()


def test_the_simulators_reports_feeds_and_documents_survive_a_restart() -> None:
    from spapi_simulator.documents import documents_of
    from spapi_simulator.feeds_api import Feed, feeds_of
    from spapi_simulator.reports_api import Report, refreshed, reports_of

    before = _simulator()
    seller, market = "A2NASELLER0002", "ATVPDKIKX0DER"
    reports = reports_of(before)
    now = before.clock.time()
    done = Report(reports.new_id(), seller, "GET_MERCHANT_LISTINGS_ALL_DATA", [market], now - 60, 2.0)
    waiting = Report(reports.new_id(), seller, "GET_MERCHANT_LISTINGS_ALL_DATA", [market], now, 600.0)
    reports.by_id.update({done.report_id: done, waiting.report_id: waiting})
    refreshed(before, done)  # DONE: its document is made (written when it is downloaded)
    upload = documents_of(before).new(seller, "feed-input", "application/json", content=b'{"messages": []}')
    feeds = feeds_of(before)
    feed = Feed(feeds.new_id(), seller, "JSON_LISTINGS_FEED", [market], upload.document_id, now, 600.0)
    feeds.by_id[feed.feed_id] = feed
    sku = before.world.catalog.listings(seller, market)[0].sku

    after = _simulator(seed=99)
    after.load_saved_state(loads(dumps(before.saved_state())))

    kept = reports_of(after).by_id
    assert kept[done.report_id].status(after.clock.time()) == "DONE"
    assert kept[waiting.report_id].status(after.clock.time()) == "IN_QUEUE"  # followed after the restart
    document = documents_of(after).get(str(kept[done.report_id].document_id), seller)
    assert document is not None
    text = b"".join(document.chunks(after)).decode()
    assert text.startswith("item-name\t") and f"\t{sku}\t" in text  # produced from the restored catalog
    assert feeds_of(after).by_id[feed.feed_id].input_document_id == upload.document_id
    assert documents_of(after).get(upload.document_id) is not None
    assert reports_of(after).new_id() not in (done.report_id, waiting.report_id)  # ids go on
    assert feeds_of(after).new_id() != feed.feed_id
