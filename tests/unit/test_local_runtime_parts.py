"""The local runtime's pure parts: schedule expressions, the template's schedules/routes/queues, events, tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from storesync_local.devtokens import JwtConfig, TokenError, authorizer_claims
from storesync_local.gateway import Gateway, Route, template_routes
from storesync_local.pollers import failed_ids, sqs_event, template_sqs_sources
from storesync_local.scheduler import (
    Cron,
    Rate,
    ScheduleError,
    Scheduler,
    SimulatedClock,
    parse_expression,
    template_schedules,
)
from storesync_local.template import load_template, parameter_values
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

T0 = datetime(2026, 11, 28, 7, 29, 29, tzinfo=UTC)
SECRET = "unit-test-secret-" + "x" * 32
OTHER_SECRET = "other-secret-" + "y" * 32


def test_rate_ticks_every_period_after_the_rule_starts() -> None:
    rate = parse_expression("rate(20 minutes)")
    assert rate == Rate(1200)
    assert rate.next_after(T0, T0) == T0 + timedelta(minutes=20)
    assert rate.next_after(T0 + timedelta(minutes=45), T0) == T0 + timedelta(minutes=60)
    assert parse_expression("rate(1 day)") == Rate(86400)


def test_cron_follows_aws_syntax_in_utc() -> None:
    catchup = parse_expression("cron(0 0,6,12,18 * * ? *)")
    assert catchup.next_after(T0) == datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert catchup.next_after(datetime(2026, 11, 28, 18, 0, tzinfo=UTC)) == datetime(
        2026, 11, 29, 0, 0, tzinfo=UTC
    )
    daily = parse_expression("cron(0 0 * * ? *)")
    assert daily.next_after(T0) == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    every_15 = parse_expression("cron(0/15 * * * ? *)")
    assert every_15.next_after(T0) == datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
    # day-of-week 1 = Sunday; 2026-11-28 is a Saturday
    mondays = parse_expression("cron(30 9 ? * MON *)")
    assert mondays.next_after(T0) == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    assert parse_expression("cron(0 8 ? * 2-6 *)").next_after(T0) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert isinstance(mondays, Cron)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("every 5 minutes", "expected rate"),
        ("rate(0 minutes)", "positive"),
        ("cron(0 0 * * *)", "six fields"),
        ("cron(0 0 * * * *)", "exactly one"),
        ("cron(61 0 * * ? *)", "minutes"),
        ("cron(0 0 L * ? *)", "day-of-month"),
    ],
)
def test_bad_schedule_expressions_are_refused_with_the_field(expression: str, problem: str) -> None:
    with pytest.raises(ScheduleError, match=problem):
        parse_expression(expression)


def test_template_schedules_resolve_parameters_and_inputs() -> None:
    template = load_template()
    schedules = {s.name: s for s in template_schedules(template, parameter_values(template))}
    orders = schedules["DispatchFunction.Orders"]
    assert orders.expression == "rate(30 minutes)"
    assert orders.input == {"job": "orders", "mode": "incremental"}
    assert schedules["DispatchFunction.OrdersCatchup"].input == {"job": "orders", "mode": "catchup"}
    overridden = parameter_values(template, {"InventorySchedule": "rate(5 minutes)"})
    inventory = {s.name: s for s in template_schedules(template, overridden)}["DispatchFunction.Inventory"]
    assert inventory.rule == Rate(300)


def test_scheduler_fires_due_schedules_once_per_passing_and_hands_over_the_input() -> None:
    template = load_template()
    clock = SimulatedClock(speed=1.0, start=T0)
    calls: list[tuple[str, dict[str, Any]]] = []
    schedules = template_schedules(template, parameter_values(template))
    relay = [s for s in schedules if s.function == "EventRelayFunction"]
    assert [s.rule for s in relay] == [Rate(60)]  # the event relay's minute: left out of the counts below
    dispatch = [s for s in schedules if s.function == "DispatchFunction"]
    scheduler = Scheduler(dispatch, clock, lambda f, e: calls.append((f, e)))
    assert scheduler.run_due() == 0
    clock.advance(20 * 60)
    assert scheduler.run_due() == 1
    assert calls == [("DispatchFunction", {"job": "inventory", "mode": "incremental"})]
    clock.advance(10 * 60)
    scheduler.run_due()
    fired = sorted(e["job"] for _, e in calls[1:])
    assert fired == ["orders", "products", "shipments"]
    clock.advance(5 * 3600)  # many missed ticks coalesce into one each
    scheduler.run_due()
    assert scheduler.by_name("Inventory").fired == 2
    assert scheduler.by_name("OrdersCatchup").fired == 1


def test_routes_come_from_the_template_most_specific_first() -> None:
    routes = template_routes(load_template())
    keys = [r.route_key for r in routes]
    assert "ANY /stores/{proxy+}" in keys and "GET /amazon/callback" in keys
    callback = next(r for r in routes if r.path == "/amazon/callback")
    assert callback.authorized is False
    stores = next(r for r in routes if r.route_key == "ANY /stores")
    assert stores.authorized is True
    proxy = Route("ANY", "/stores/{proxy+}", "ApiFunction", True)
    assert proxy.match("PATCH", "/stores/s1/settings") == {"proxy": "s1/settings"}
    assert proxy.match("GET", "/stores") is None
    assert Route("GET", "/orders/{id}", "F", True).match("GET", "/orders/a/b") is None
    assert Route("GET", "/", "F", False).match("GET", "/") == {}
    assert keys.index("GET /amazon/callback") < keys.index("ANY /stores/{proxy+}")


def make_gateway(calls: list[dict[str, Any]], answer: Any) -> Gateway:
    def invoke(function: str, event: dict[str, Any]) -> Any:
        calls.append(event)
        return answer

    routes = [Route("ANY", "/stores/{proxy+}", "ApiFunction", True), Route("GET", "/", "ApiFunction", False)]
    return Gateway(routes, invoke, JwtConfig(SECRET, "storesync-local", ("storesync",)))


def request(path: str, method: str = "GET", **kwargs: Any) -> Request:
    return Request(
        EnvironBuilder(path=path, method=method, base_url="http://127.0.0.1:3000", **kwargs).get_environ()
    )


def test_request_becomes_an_http_api_v2_event_with_the_authorizer_claims() -> None:
    calls: list[dict[str, Any]] = []
    gateway = make_gateway(calls, {"statusCode": 201, "headers": {"x-a": "1"}, "body": '{"ok": true}'})
    token = gateway.jwt_config.issue("merchant-7")
    response = gateway.handle(
        request(
            "/stores/s1/settings",
            "PATCH",
            query_string="a=1&a=2&b=",
            headers={"Authorization": f"Bearer {token}", "Cookie": "c1=x; c2=y", "X-Thing": "v"},
            json={"inventory_buffer": 2},
        )
    )
    assert response.status_code == 201 and response.headers["x-a"] == "1"
    event = calls[0]
    assert event["version"] == "2.0" and event["routeKey"] == "ANY /stores/{proxy+}"
    assert event["rawPath"] == "/stores/s1/settings" and event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"proxy": "s1/settings"}
    assert event["cookies"] == ["c1=x", "c2=y"] and "cookie" not in event["headers"]
    assert event["headers"]["x-thing"] == "v"
    assert json.loads(event["body"]) == {"inventory_buffer": 2} and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "PATCH" and context["stage"] == "$default"
    assert context["domainName"] == "127.0.0.1:3000"
    claims = context["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "merchant-7" and claims["iss"] == "storesync-local" and claims["exp"].isdigit()


def test_missing_bad_or_foreign_tokens_get_401_before_the_function_runs() -> None:
    calls: list[dict[str, Any]] = []
    gateway = make_gateway(calls, {"statusCode": 200})
    foreign = JwtConfig(OTHER_SECRET, "storesync-local", ("storesync",)).issue("m")
    wrong_audience = JwtConfig(SECRET, "storesync-local", ("elsewhere",)).issue("m")
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": f"Bearer {foreign}"},
                    {"Authorization": f"Bearer {wrong_audience}"}):  # fmt: skip
        answer = gateway.handle(request("/stores/x", headers=headers))
        assert answer.status_code == 401 and answer.get_json() == {"message": "Unauthorized"}
    assert calls == []
    assert gateway.handle(request("/nowhere")).status_code == 404
    assert gateway.handle(request("/")).status_code == 200 and "authorizer" not in calls[0]["requestContext"]


def test_binary_bodies_travel_base64_both_ways() -> None:
    calls: list[dict[str, Any]] = []
    payload = bytes(range(256))
    answer = {"statusCode": 200, "body": base64.b64encode(payload).decode(), "isBase64Encoded": True,
              "headers": {"content-type": "application/octet-stream"}, "cookies": ["a=1", "b=2"]}  # fmt: skip
    gateway = make_gateway(calls, answer)
    response = gateway.handle(request("/", "GET", data=payload, content_type="application/octet-stream"))
    assert calls[0]["isBase64Encoded"] is True and base64.b64decode(calls[0]["body"]) == payload
    assert response.get_data() == payload
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    bare = Gateway.to_response({"stores": []})
    assert bare.status_code == 200 and bare.get_json() == {"stores": []}


def test_dev_tokens_and_claims_as_api_gateway_passes_them() -> None:
    config = JwtConfig(SECRET, "iss", ("aud",))
    assert config.verify(config.issue("m-1"))["sub"] == "m-1"
    with pytest.raises(TokenError, match="merchant"):
        config.issue(" ")
    assert authorizer_claims({"aud": ["a", "b"], "exp": 5, "admin": True}) == {
        "aud": "[a b]",
        "exp": "5",
        "admin": "true",
    }


def test_sqs_sources_and_the_lambda_sqs_event_shape() -> None:
    template = load_template()
    queues = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"]
    arns = {lid: f"arn:aws:sqs:us-east-1:123456789012:s-{lid}" for lid in queues}
    urls = {lid: f"http://q/{lid}" for lid in queues}
    sources = {(s.function, s.event_name): s for s in template_sqs_sources(template, arns, urls)}
    notifications = sources[("OrderImportFunction", "Notifications")]
    assert notifications.batch_size == 10 and notifications.report_failures
    assert notifications.queue_url == "http://q/OrderNotificationsQueue"
    assert sources[("ShipmentPushFunction", "Jobs")].batch_size == 1
    message = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "MD5OfBody": "x",
               "Attributes": {"ApproximateReceiveCount": "2"},
               "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}}}  # fmt: skip
    record = sqs_event([message], notifications.queue_arn, "us-east-1")["Records"][0]
    assert record["messageAttributes"]["k"]["stringValue"] == "v"
    assert record["attributes"]["ApproximateReceiveCount"] == "2" and record["eventSource"] == "aws:sqs"


def test_batch_item_failures_are_read_as_lambda_reads_them() -> None:
    assert failed_ids(None, ["a"]) == set()
    assert failed_ids({"batchItemFailures": []}, ["a"]) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, ["a", "b"]) == {"a"}
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ["a"]) is None
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ["a"]) is None
    assert failed_ids({"batchItemFailures": "nope"}, ["a"]) is None


def test_raw_path_keeps_the_percent_encoding_as_received() -> None:
    calls: list[dict[str, Any]] = []
    gateway = make_gateway(calls, {"statusCode": 204})
    token = gateway.jwt_config.issue("m")
    environ = EnvironBuilder(path="/stores/a%20b", headers={"Authorization": f"Bearer {token}"}).get_environ()
    environ["RAW_URI"] = "/stores/a%20b?x=1"
    assert gateway.handle(Request(environ)).status_code == 204
    assert calls[0]["rawPath"] == "/stores/a%20b" and calls[0]["pathParameters"] == {"proxy": "a b"}
