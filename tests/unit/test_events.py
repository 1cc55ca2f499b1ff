"""Events for the WMS without AWS (issue 16 part 5): what each order transition tells, the dedup ids, every event
valid against its JSON Schema in events/schemas/, the template registering exactly those schemas, and the
EventBridge adapter's retries of the entries the bus did not take."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from storesync.domain import events as ev
from storesync.domain.orders import Hold, OrderLine, OrderSnapshot, OrderStatus
from storesync.event_bus import EventBridgePublisher, EventsNotPublished
from storesync_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "events" / "schemas"
AT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
BUYER_HOLD = cast(Hold, ev.BUYER_CANCELLATION_HOLD)  # the hold `fields` adds to the state machine


def snapshot(**over: Any) -> OrderSnapshot:
    base = OrderSnapshot(
        amazon_order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        channel="FBM",
        status=OrderStatus.OPEN,
        amazon_status="UNSHIPPED",
        amazon_last_updated="2026-12-04T09:00:00Z",
        lines=(OrderLine("i1", "SKU-1", 2, 0),),
    )
    return replace(base, **over)


def transition(before: OrderSnapshot | None, after: OrderSnapshot, version: int = 2) -> list[ev.Event]:
    return ev.order_transition_events("m1", "s1", before, after, version, AT)


def envelope(event: ev.Event) -> dict[str, Any]:
    """The event as a subscriber receives it from EventBridge (the parts the schemas describe)."""
    return {"source": event.source, "detail-type": event.detail_type, "detail": dict(event.detail)}


def validate(event: ev.Event) -> None:
    schema = json.loads((SCHEMAS / f"{ev.schema_name(event.detail_type)}.json").read_text())
    Draft4Validator(schema, format_checker=FormatChecker()).validate(envelope(event))


def test_a_new_order_is_imported() -> None:
    events = transition(None, snapshot(), version=1)
    assert [e.detail_type for e in events] == [ev.ORDER_IMPORTED]
    detail = events[0].detail
    assert (detail["status"], detail["channel"], detail["version"], detail["storeId"]) == (
        "open",
        "FBM",
        1,
        "s1",
    )
    assert detail["occurredAt"] == "2026-12-04T10:00:00Z"


def test_a_cancellation_is_order_cancelled_only() -> None:
    after = snapshot(status=OrderStatus.CANCELLED, amazon_status="CANCELLED")
    events = transition(snapshot(), after)
    assert [e.detail_type for e in events] == [ev.ORDER_CANCELLED]
    assert (events[0].detail["previousStatus"], events[0].detail["status"]) == ("open", "cancelled")


def test_the_buyer_cancellation_hold_is_buyer_requested_cancellation() -> None:
    after = snapshot(holds=(BUYER_HOLD,))
    events = transition(snapshot(), after)
    assert [e.detail_type for e in events] == [ev.BUYER_REQUESTED_CANCELLATION]
    assert events[0].detail["holds"] == ["buyer_requested_cancellation"]
    # the hold ends: Amazon cancels (Order Cancelled), or it lifts another way (Order Changed)
    cancelled = snapshot(status=OrderStatus.CANCELLED, amazon_status="CANCELLED")
    assert [e.detail_type for e in transition(after, cancelled, 3)] == [ev.ORDER_CANCELLED]
    assert [e.detail_type for e in transition(after, snapshot(), 3)] == [ev.ORDER_CHANGED]
    # still on the hold at the next change: not asked again
    moved = replace(after, amazon_status="PARTIALLY_SHIPPED", status=OrderStatus.PARTIALLY_SHIPPED)
    assert [e.detail_type for e in transition(after, moved, 3)] == [ev.ORDER_CHANGED]


def test_status_holds_or_amazon_status_changes_are_order_changed_and_nothing_else_is() -> None:
    pending = snapshot(status=OrderStatus.PENDING, amazon_status="PENDING", holds=(Hold.PAYMENT,))
    released = transition(pending, snapshot())
    assert [e.detail_type for e in released] == [ev.ORDER_CHANGED]
    assert (released[0].detail["previousHolds"], released[0].detail["holds"]) == (["payment_hold"], [])
    assert transition(snapshot(), snapshot(amazon_last_updated="2026-12-04T09:30:00Z")) == []
    assert transition(snapshot(), snapshot(has_address=True)) == []
    shipped = snapshot(status=OrderStatus.SHIPPED_EXTERNALLY, amazon_status="SHIPPED")
    assert [e.detail_type for e in transition(snapshot(), shipped)] == [ev.ORDER_CHANGED]


def test_the_same_change_has_the_same_id_and_another_change_another() -> None:
    after = snapshot(status=OrderStatus.CANCELLED, amazon_status="CANCELLED")
    first, again = transition(snapshot(), after, 4), transition(snapshot(), after, 4)
    assert first[0].event_id == again[0].event_id
    assert transition(snapshot(), after, 5)[0].event_id != first[0].event_id
    other_store = ev.order_transition_events("m1", "s2", snapshot(), after, 4, AT)
    assert other_store[0].event_id != first[0].event_id
    later = ev.order_transition_events("m1", "s1", snapshot(), after, 4, AT + timedelta(hours=1))
    assert later[0].event_id == first[0].event_id  # the time of publication is not part of the change


def every_kind_of_event() -> list[ev.Event]:
    cancelled = snapshot(status=OrderStatus.CANCELLED, amazon_status="CANCELLED")
    return [
        *transition(None, snapshot(), 1),
        *transition(
            snapshot(), snapshot(status=OrderStatus.PARTIALLY_SHIPPED, amazon_status="PARTIALLY_SHIPPED")
        ),
        *transition(snapshot(), cancelled),
        *transition(snapshot(), snapshot(holds=(BUYER_HOLD,))),
        ev.shipment_confirmed("m1", "s1", "111-1", "sh-1", "1", "UPS", "1Z999", {"i1": 2, "i2": 1}, AT),
        *ev.stock_pushed("m1", "s1", "run-1", [("SKU-1", 3), ("SKU-2", 0)], AT),
        ev.store_needs_reauthorization("m1", "s1", "Amazon refused the grant", AT - timedelta(days=3), AT),
        ev.sync_lagging("m1", "s1", "orders", 7200.4, 1800, "2026-12-04T08:00:00Z", AT),
        ev.sync_lagging("m1", "s1", "inventory", 7200, 1200, None, AT),
    ]


def test_every_event_is_valid_against_its_schema_and_every_detail_type_is_built() -> None:
    built = every_kind_of_event()
    assert {e.detail_type for e in built} == set(ev.DETAIL_TYPES)
    for event in built:
        validate(event)


def test_the_schemas_refuse_what_is_not_an_event() -> None:
    event = transition(None, snapshot(), 1)[0]
    broken = {**event.detail, "status": "lost"}
    with pytest.raises(ValidationError):
        validate(ev.Event(event.detail_type, broken))
    without_id = {k: v for k, v in event.detail.items() if k != "eventId"}
    with pytest.raises(ValidationError):
        validate(ev.Event(event.detail_type, without_id))
    with pytest.raises(ValidationError):  # nothing unknown slips in (e.g. buyer data)
        validate(ev.Event(event.detail_type, {**event.detail, "buyerName": "x"}))


def test_stock_pushed_comes_in_parts_with_their_own_ids() -> None:
    accepted = [(f"SKU-{n:04d}", n) for n in range(1201)]
    parts = ev.stock_pushed("m1", "s1", "run-7", accepted, AT)
    assert [(p.detail["part"], p.detail["parts"], len(p.detail["items"])) for p in parts] == [
        (1, 3, 500),
        (2, 3, 500),
        (3, 3, 201),
    ]
    assert len({p.event_id for p in parts}) == 3
    assert ev.stock_pushed("m1", "s1", "run-7", [], AT) == []


def test_the_template_registers_exactly_the_schema_files() -> None:
    resources = load_template()["Resources"]
    registered = {
        r["Properties"]["SchemaName"]: json.loads(r["Properties"]["Content"])
        for r in resources.values()
        if r["Type"] == "AWS::EventSchemas::Schema"
    }
    files = {f"storesync@{f.stem}": json.loads(f.read_text()) for f in SCHEMAS.glob("*.json")}
    assert registered == files
    assert set(files) == {f"storesync@{ev.schema_name(t)}" for t in ev.DETAIL_TYPES}
    for resource in resources.values():
        if resource["Type"] == "AWS::EventSchemas::Schema":
            assert resource["Properties"]["Type"] == "JSONSchemaDraft4"
    for name, schema in files.items():
        Draft4Validator.check_schema(schema)
        assert ev.schema_name(schema["properties"]["detail-type"]["enum"][0]) == name.split("@")[1]


def test_the_functions_that_publish_know_the_bus_and_may_put_events() -> None:
    template = load_template()
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["EVENT_BUS_NAME"] == {"Ref": "StoresyncEventBus"}
    resources = template["Resources"]
    assert resources["StoresyncEventBus"]["Type"] == "AWS::Events::EventBus"
    for function in (
        "ProductImportFunction",
        "OrderImportFunction",
        "InventoryPushFunction",
        "ShipmentPushFunction",
    ):
        policies = resources[function]["Properties"]["Policies"]
        allowed = [p["EventBridgePutEventsPolicy"] for p in policies if "EventBridgePutEventsPolicy" in p]
        assert allowed == [{"EventBusName": {"Ref": "StoresyncEventBus"}}], function
        # the events' outbox rows are written with the change they report, and deleted once published
        tables = [p["DynamoDBCrudPolicy"]["TableName"] for p in policies if "DynamoDBCrudPolicy" in p]
        assert {"Ref": "EventOutboxTable"} in tables, function


def test_the_relay_runs_every_minute_on_the_outbox_and_its_age_has_an_alarm() -> None:
    template = load_template()
    resources = template["Resources"]
    relay = resources["EventRelayFunction"]["Properties"]
    assert relay["CodeUri"] == "functions/event_relay/"
    (schedule,) = [e["Properties"] for e in relay["Events"].values() if e["Type"] == "Schedule"]
    assert schedule["Schedule"] == {"Ref": "EventRelaySchedule"}
    assert template["Parameters"]["EventRelaySchedule"]["Default"] == "rate(1 minute)"
    policies = relay["Policies"]
    assert {"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "StoresyncEventBus"}}} in policies
    assert {"DynamoDBCrudPolicy": {"TableName": {"Ref": "EventOutboxTable"}}} in policies
    table = resources["EventOutboxTable"]["Properties"]
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    alarm = resources["OutboxAgeAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "storesync",
        "outbox_oldest_event_age_seconds",
        "Maximum",
    )
    assert alarm["Threshold"] == {"Ref": "OutboxAgeAlarmSeconds"}
    source = (Path(__file__).resolve().parents[2] / "functions" / "event_relay" / "app.py").read_text()
    assert '"outbox_oldest_event_age_seconds"' in source  # the metric the relay publishes
    from storesync.dal.outbox import ROW_TTL
    from storesync.usecases.event_relay import RELAY_MIN_AGE

    assert ROW_TTL >= 1000 * RELAY_MIN_AGE  # rows outlive the relay's reach by far


class FakeEventBridge:
    """put_events that refuses the entries named in `refuse` (by detail type) a number of times each."""

    def __init__(self, refuse: dict[str, int] | None = None) -> None:
        self.refuse = dict(refuse or {})
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls.append(Entries)
        results: list[dict[str, Any]] = []
        for entry in Entries:
            left = self.refuse.get(entry["DetailType"], 0)
            if left:
                self.refuse[entry["DetailType"]] = left - 1
                results.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"})
            else:
                results.append({"EventId": f"eb-{len(self.calls)}-{len(results)}"})
        return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


def test_the_adapter_sends_batches_of_ten_and_resends_only_what_the_bus_refused() -> None:
    client = FakeEventBridge(refuse={ev.STOCK_PUSHED: 1})
    publisher = EventBridgePublisher(client, "shop-events", sleep=lambda s: None)
    events = [*transition(None, snapshot(), 1)] * 11 + ev.stock_pushed("m1", "s1", "r", [("A", 1)], AT)
    publisher.publish(events)
    assert [len(c) for c in client.calls] == [10, 2, 1]  # the refused entry alone, again
    resent = client.calls[2][0]
    assert resent["DetailType"] == ev.STOCK_PUSHED and resent["EventBusName"] == "shop-events"
    assert json.loads(resent["Detail"])["eventId"] == events[-1].event_id  # the same id: dedupable
    assert resent["Source"] == "storesync"


def test_the_adapter_raises_when_the_bus_keeps_refusing() -> None:
    client = FakeEventBridge(refuse={ev.ORDER_IMPORTED: 5})
    publisher = EventBridgePublisher(client, "shop-events", attempts=3, sleep=lambda s: None)
    with pytest.raises(EventsNotPublished, match="Order Imported: ThrottlingException"):
        publisher.publish(transition(None, snapshot(), 1))
    assert len(client.calls) == 3
    with pytest.raises(ValueError, match="bus_name"):
        EventBridgePublisher(client, "")
