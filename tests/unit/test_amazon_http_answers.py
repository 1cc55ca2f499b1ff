"""Every SP-API HTTP answer is checked before storesync acts on it. python-amazon-sp-api alone reads an empty,
HTML or truncated body as `{}` and a 5xx/429 without a JSON `errors` list as a success; storesync's clients
(clients.checked_client_class) raise instead, and the quota gate turns each shape into a failed call naming the
operation and Amazon's request id. No network: the answers are httpx.Response objects handed to the clients'
`_check_response`, the step that runs right after the library's HTTP request."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fakes import FakeTime
from sp_api.api import OrdersV0, OrdersV20260101
from sp_api.auth.exceptions import AuthorizationError
from storesync.amazon.clients import LwaCredentials, SpApiConfig, SpApiFactory
from storesync.amazon.errors import (
    AccessDenied,
    AmazonAnswerInvalid,
    AmazonError,
    AmazonRejected,
    AuthorizationRevoked,
    BadAnswer,
    Throttled,
    TransientAmazonError,
    check_http_answer,
)
from storesync.amazon.orders import AmazonOrders
from storesync.amazon.quota_gate import RETRY_DELAYS, RETRY_JITTER, InMemoryBucketStore, QuotaGate
from storesync.amazon.quotas import usage_plan

US = "ATVPDKIKX0DER"
HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
PAGE = b'{"orders": [], "pagination": {}, "lastUpdatedBefore": "2026-07-10T11:58:00Z"}'


def answer(
    status: int, body: bytes = b"", request_id: str | None = "rid-1", **headers: str
) -> httpx.Response:
    if request_id:
        headers["x-amzn-RequestId"] = request_id
    return httpx.Response(status, content=body, headers=headers)


def factory() -> SpApiFactory:
    return SpApiFactory(SpApiConfig(), LwaCredentials("client", "secret"))


def read(response: httpx.Response, api: type = OrdersV20260101, no_data: bool = False) -> Any:
    """What a storesync client makes of `response` (as after its HTTP request)."""
    client: Any = factory().client(api, US, "refresh-token")
    client.method = "POST" if no_data else "GET"
    return client._check_response(response, no_data)


def library_reads(response: httpx.Response) -> Any:
    """What python-amazon-sp-api alone makes of `response`."""
    client: Any = OrdersV20260101(
        refresh_token="r", credentials={"lwa_app_id": "c", "lwa_client_secret": "s"}
    )
    client.method = "GET"
    return client._check_response(response)


@pytest.mark.parametrize(
    "response",
    [answer(200), answer(200, b'{"orders": [{"orderId": "1"'), answer(502, HTML), answer(429)],
    ids=["empty", "truncated", "html-502", "429-without-anything"],
)
def test_the_library_alone_reads_a_broken_answer_as_an_empty_success(response: httpx.Response) -> None:
    assert library_reads(response).payload == {}  # why storesync checks every answer itself


@pytest.mark.parametrize(
    ("response", "kind", "detail"),
    [
        (answer(200), "invalid", "an empty body"),
        (answer(200, b"   \n"), "invalid", "an empty body"),
        (answer(200, b'{"orders": [{"orderId": "1"'), "invalid", "not valid JSON"),
        (answer(200, HTML, **{"content-type": "text/html"}), "invalid", "an HTML page"),
        (answer(200, b"null"), "invalid", "not an object"),
        (answer(502, HTML), "server", "an HTML page"),
        (answer(503, b""), "server", "an empty body"),
        (answer(500, b'{"errors": [{"code": "InternalFailure", "message": "boom"}]}'), "server", "boom"),
        (answer(429), "throttled", "quota exceeded"),
        (answer(401, b'{"errors": [{"code": "Unauthorized", "message": "no"}]}'), "unauthorized", "no"),
        (answer(403, HTML), "unauthorized", "access denied"),
        (answer(404, HTML), "rejected", "HTTP 404"),
        (answer(400, b'{"errors": [{"code": "InvalidInput", "message": "x: bad"}]}'), "rejected", "x: bad"),
    ],
)
def test_each_broken_answer_is_named(response: httpx.Response, kind: str, detail: str) -> None:
    with pytest.raises(BadAnswer) as found:
        check_http_answer(response)
    assert (found.value.kind, found.value.status) == (kind, response.status_code)
    assert detail in found.value.detail and found.value.request_id == "rid-1"


def test_good_answers_pass_and_an_operation_without_data_accepts_any_2xx_body() -> None:
    assert read(answer(200, PAGE)).payload["orders"] == []
    assert read(answer(200, b'{"orders": [], "extraField": {"x": 1}}')).payload["extraField"] == {"x": 1}
    for body in (b"", b"<html>", b'{"trunc'):  # confirmShipment answers 204 without a body
        assert read(answer(204, body), OrdersV0, no_data=True) is not None
    check_http_answer(answer(200, b"", request_id=None), no_data=True)


def test_the_clients_storesync_builds_check_their_answers() -> None:
    with pytest.raises(BadAnswer, match="empty body"):
        read(answer(200))
    with pytest.raises(BadAnswer, match="HTML"):
        read(answer(503, HTML), OrdersV0, no_data=True)


class Scripted:
    """A library call that answers the given HTTP responses in turn, through a storesync client's check."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses: Iterator[httpx.Response] = iter(responses)
        self.client: Any = factory().client(OrdersV20260101, US, "refresh-token")
        self.client.method = "GET"
        self.count = 0

    def __call__(self) -> Any:
        self.count += 1
        return self.client._check_response(next(self.responses))


def gate(time: FakeTime, on_access_denied: Callable[[], None] | None = None) -> QuotaGate:
    return QuotaGate(
        "A1#NA", InMemoryBucketStore(), clock=time.clock, sleep=time.sleep, on_access_denied=on_access_denied
    )


class Session:
    """Just what AmazonOrders needs of an SP-API session: its marketplace, gate and Orders client."""

    def __init__(self, quota: QuotaGate, call: Scripted) -> None:
        self.marketplace_id = US
        self.gate = quota
        self._call = call

    def orders(self) -> Any:
        call = self._call

        class Client:
            def search_orders(self, **params: Any) -> Any:
                return call()

        return Client()


def search(quota: QuotaGate, call: Scripted) -> Any:
    return AmazonOrders(Session(quota, call)).search_orders(after="2026-07-10T10:00:00Z")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("broken", "error", "words"),
    [
        (answer(200, b"", "rid-e"), AmazonAnswerInvalid, "searchOrders: Amazon answered an empty body"),
        (answer(200, b'{"orders": [{"ord', "rid-t"), AmazonAnswerInvalid, "not valid JSON"),
        (answer(502, HTML, "rid-h"), TransientAmazonError, "HTTP 502: an HTML page"),
        (answer(200, b'{"pagination": {}}', "rid-m"), AmazonAnswerInvalid, "searchOrders: orders: missing"),
    ],
    ids=["empty", "truncated", "html-502", "no-orders-list"],
)
def test_a_broken_page_is_read_again_and_never_taken_for_an_empty_one(
    broken: httpx.Response, error: type[AmazonError], words: str
) -> None:
    time = FakeTime()
    quota = gate(time)
    call = Scripted(broken, answer(200, PAGE))
    page = search(quota, call)
    assert page.orders == () and page.last_updated_before == "2026-07-10T11:58:00Z" and call.count == 2
    assert quota.failures == {"searchOrders": 1} and quota.calls == {"searchOrders": 2}

    always = Scripted(*[broken] * 10)
    with pytest.raises(error) as failed:
        search(quota, always)
    assert words in str(failed.value)
    request_id = broken.headers["x-amzn-RequestId"]
    assert failed.value.request_id == request_id and f"x-amzn-RequestId {request_id}" in str(failed.value)
    assert failed.value.operation == "searchOrders" and always.count == len(RETRY_DELAYS) + 1
    assert quota.failures == {"searchOrders": 1 + always.count} and quota.gave_up == {"searchOrders": 1}


def test_retries_sleep_less_than_three_seconds_in_all() -> None:
    time = FakeTime()
    with pytest.raises(AmazonAnswerInvalid):
        search(gate(time), Scripted(*[answer(200)] * 10))
    assert sum(RETRY_DELAYS) * (1 + RETRY_JITTER) <= 3.0
    assert len(time.slept) == len(RETRY_DELAYS) and sum(time.slept) <= 3.0


def test_a_429_without_rate_limit_headers_is_throttled_for_the_plans_wait() -> None:
    time = FakeTime()
    quota = gate(time)
    call = Scripted(answer(429, b"", "rid-q"))
    with pytest.raises(Throttled) as throttled:
        search(quota, call)
    plan = usage_plan("searchOrders")
    assert throttled.value.retry_after == pytest.approx(1 / plan.rate) and call.count == 1
    assert throttled.value.request_id == "rid-q" and quota.throttles == {"searchOrders": 1}
    assert quota.wait_time("searchOrders") == pytest.approx(1 / plan.rate)


def test_a_refused_access_token_is_dropped_and_tried_once_more() -> None:
    time = FakeTime()
    dropped: list[int] = []
    quota = gate(time, on_access_denied=lambda: dropped.append(1))
    refused = answer(403, b'{"errors": [{"code": "Unauthorized", "message": "expired"}]}', "rid-a")
    page = search(quota, Scripted(refused, answer(200, PAGE)))
    assert page.orders == () and dropped == [1] and quota.access_refreshed == {"searchOrders": 1}
    with pytest.raises(AuthorizationRevoked, match="fresh access token") as revoked:
        search(quota, Scripted(refused, answer(401, b"", "rid-b")))
    assert revoked.value.request_id == "rid-b" and dropped == [1, 1]
    assert "searchOrders" not in quota.failures  # an authorization problem is not a broken answer


def test_a_rejection_is_neither_retried_nor_counted_as_a_failure() -> None:
    quota = gate(FakeTime())
    call = Scripted(answer(400, b'{"errors": [{"code": "InvalidInput", "message": "nextToken: expired"}]}'))
    with pytest.raises(AmazonRejected, match="nextToken: expired") as rejected:
        search(quota, call)
    assert rejected.value.status == 400 and call.count == 1 and quota.failures == {}


@pytest.mark.parametrize(
    ("failure", "expected", "words"),
    [
        (AuthorizationError("invalid_grant", "revoked", 400), AuthorizationRevoked, "invalid_grant"),
        (AuthorizationError("invalid_client", "bad secret", 401), AmazonRejected, "invalid_client"),
        (
            AuthorizationError(None, None, 503),
            TransientAmazonError,
            r"Login with Amazon failed \(503\) for confirmShipment",
        ),
        (json.JSONDecodeError("Expecting value", "<html>", 0), TransientAmazonError, "not JSON"),
    ],
    ids=["invalid-grant", "invalid-client", "lwa-5xx", "lwa-html"],
)
def test_login_with_amazon_failures(failure: Exception, expected: type[AmazonError], words: str) -> None:
    """Raised while the library fetches an access token, before the SP-API request leaves."""
    quota = gate(FakeTime())

    def call() -> None:
        raise failure

    with pytest.raises(expected, match=words) as failed:
        quota.call("confirmShipment", call)
    retried = expected is TransientAmazonError  # never sent: safe to repeat even confirmShipment
    assert quota.calls == {"confirmShipment": len(RETRY_DELAYS) + 1 if retried else 1}
    assert not isinstance(failed.value, AccessDenied)
