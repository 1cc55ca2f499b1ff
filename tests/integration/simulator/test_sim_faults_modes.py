"""The fault modes of POST /_sim/faults {"modes": {...}}: Amazon's real failure shapes, one test per mode.

Each test asserts the shape of the failure (over HTTP, and for some through python-amazon-sp-api, to show
what a client built on it sees) and that the answers that are not faulted stay valid against the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import requests
from sp_api.api import Orders, Sellers
from sp_api.base import SellingApiForbiddenException, SellingApiRequestThrottledException
from sp_api.base.exceptions import SellingApiBadRequestException
from spapi_simulator import Simulator
from spapi_simulator.faults import MODES
from spapi_simulator.schemas import response_errors, validate_response
from spapi_simulator.testing import Authorized, admin, authorize, fault_mode, lwa_token
from test_sim_core_spapi_client import client_kwargs

SELLER, US = "A1NASELLER0001", "ATVPDKIKX0DER"
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
SEARCH = "/orders/2026-01-01/orders"
ORDERS_MODEL, V0_MODEL, SELLERS_MODEL = "orders_2026-01-01.json", "ordersV0.json", "sellers.json"
REPORTS_MODEL, FEEDS_MODEL = "reports_2021-06-30.json", "feeds_2021-06-30.json"
LISTINGS_MODEL, FBA_MODEL = "listingsItems_2021-08-01.json", "fbaInventory.json"
SINCE = "2000-01-01T00:00:00Z"
QUOTA_BODY = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                          "details": ""}]}  # fmt: skip


def injected(sim: Simulator, mode: str) -> int:
    return int(admin(sim, "GET", "stats")["faults"][mode])


def participations(sim: Simulator, auth: Authorized) -> requests.Response:
    return requests.get(sim.url + PARTICIPATIONS, headers=auth.headers, timeout=10)


def search(sim: Simulator, auth: Authorized, **params: Any) -> requests.Response:
    return requests.get(sim.url + SEARCH, params=params, headers=auth.headers, timeout=10)


def new_order(sim: Simulator) -> dict[str, Any]:
    body = {"seller_id": SELLER, "marketplace_id": US, "items": [{"sku": "SKU-00001", "quantity": 2}]}
    return admin(sim, "POST", "orders", body)  # type: ignore[no-any-return]


def confirm(sim: Simulator, auth: Authorized, order: dict[str, Any]) -> requests.Response:
    item = order["items"][0]["order_item_id"]
    body = {"marketplaceId": US, "packageDetail": {"packageReferenceId": "1", "carrierCode": "UPS",
            "trackingNumber": "1Z1", "shipDate": "2026-01-02T10:00:00Z",
            "orderItems": [{"orderItemId": item, "quantity": 2}]}}  # fmt: skip
    url = f"{sim.url}/orders/v0/orders/{order['order_id']}/shipmentConfirmation"
    return requests.post(url, json=body, headers=auth.headers, timeout=10)


# the switch ------------------------------------------------------------------------------------------------
def test_modes_are_listed_validated_and_kept_when_not_given(spapi_sim: Simulator) -> None:
    listed = admin(spapi_sim, "GET", "faults")["modes"]
    assert sorted(listed) == sorted(MODES)
    assert all(m == {"share": 0.0, "operations": None} for m in listed.values())
    bad = {
        "modes.nope: unknown mode": {"nope": {"share": 1}},
        "modes.empty_body.share: a number between 0 and 1 is required": {"empty_body": {"share": 2}},
        "modes.empty_body.operations: null or a list of operationIds": {"empty_body": {"operations": "x"}},
        "modes.empty_body.operations: 'explode' is not an operation": {
            "empty_body": {"operations": ["explode"]}
        },
        "modes.odd_page_tokens.operations: 'getOrder' is not": {
            "odd_page_tokens": {"operations": ["getOrder"]}
        },
        "modes.html_5xx.rate: unknown field": {"html_5xx": {"rate": 1}},
        "modes.lost_answer: an object": {"lost_answer": 0.5},
    }
    for message, modes in bad.items():
        answer = requests.post(f"{spapi_sim.url}/_sim/faults", json={"modes": modes}, timeout=10)
        assert answer.status_code == 400, modes
        assert answer.json()["errors"][0]["message"].startswith(message), answer.text
    fault_mode(spapi_sim, "empty_body", 0.25, ["getOrder"])
    kept = admin(spapi_sim, "POST", "faults", {"modes": {"empty_body": {"share": 0.5}}, "latency_ms": 0})
    assert kept["modes"]["empty_body"] == {"share": 0.5, "operations": ["getOrder"]}
    assert kept["modes"]["html_5xx"] == {"share": 0.0, "operations": None}
    stats = admin(spapi_sim, "GET", "stats")
    assert set(stats["faults"]) >= set(MODES) and set(stats["faults"].values()) == {0}


# answers of any operation ----------------------------------------------------------------------------------
def test_empty_body(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "empty_body", 1.0, ["getMarketplaceParticipations"])
    empty = participations(spapi_sim, auth)
    assert (empty.status_code, empty.content) == (200, b"")
    assert empty.headers["Content-Type"] == "application/json"
    assert empty.headers["x-amzn-RequestId"] and empty.headers["x-amzn-RateLimit-Limit"]
    seen = Sellers(**client_kwargs(spapi_sim, auth)).get_marketplace_participation()
    assert seen.payload == {} and seen.errors is None  # the library raises nothing: the caller must check
    untouched = search(spapi_sim, auth, lastUpdatedAfter=SINCE)  # not a listed operation
    assert response_errors(ORDERS_MODEL, "searchOrders", 200, untouched.json()) == []
    assert injected(spapi_sim, "empty_body") == 2


def test_empty_body_only_spoils_successful_answers(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "empty_body", 1.0)
    missing = requests.get(f"{spapi_sim.url}{SEARCH}/111-1111111-1111111", headers=auth.headers, timeout=10)
    assert missing.status_code == 404 and response_errors(ORDERS_MODEL, "getOrder", 404, missing.json()) == []
    shipped = confirm(spapi_sim, auth, new_order(spapi_sim))  # 204: nothing to empty
    assert shipped.status_code == 204 and injected(spapi_sim, "empty_body") == 0


def test_truncated_body(spapi_sim_factory: Callable[..., Simulator]) -> None:
    spapi_sim = spapi_sim_factory(quota_scale=1e6)
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "truncated_body", 0.5, ["searchOrders"])
    answers = [search(spapi_sim, auth, lastUpdatedAfter=SINCE, maxResultsPerPage=5) for _ in range(30)]
    whole = [a for a in answers if a.content.endswith(b"}")]
    cut = [a for a in answers if not a.content.endswith(b"}")]
    assert whole and cut and len(cut) == injected(spapi_sim, "truncated_body")
    full_length = len(whole[0].content)
    for answer in cut:
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
        assert answer.headers["x-amzn-RequestId"]
        assert whole[0].content[:1000] == answer.content[:1000]
        assert abs(len(answer.content) - full_length // 2) < 10  # cut at half (token digits vary)
        with pytest.raises(ValueError):
            json.loads(answer.content)
    for answer in whole:
        assert answer.status_code == 200
        assert response_errors(ORDERS_MODEL, "searchOrders", 200, answer.json()) == []


def test_html_5xx_is_a_gateway_page_and_the_call_is_not_performed(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    order = new_order(spapi_sim)
    fault_mode(spapi_sim, "html_5xx", 1.0, ["confirmShipment", "getMarketplaceParticipations"])
    statuses = set()
    for _ in range(12):
        page = confirm(spapi_sim, auth, order)
        statuses.add(page.status_code)
        assert page.headers["Content-Type"].startswith("text/html") and page.headers["x-amzn-RequestId"]
        assert page.text.lstrip().startswith("<!DOCTYPE HTML") and f"<title>{page.status_code} " in page.text
        assert "x-amzn-RateLimit-Limit" not in page.headers
    assert statuses <= {502, 503, 504} and len(statuses) > 1
    assert admin(spapi_sim, "GET", "shipments", order_id=order["order_id"]) == []  # never performed
    seen = Sellers(**client_kwargs(spapi_sim, auth)).get_marketplace_participation()
    assert seen.payload == {}  # the library does not look at the status of a non-JSON answer
    assert injected(spapi_sim, "html_5xx") == 13
    assert admin(spapi_sim, "GET", "stats")["errors"]["confirmShipment"] == 12
    fault_mode(spapi_sim, "html_5xx", 0.0)
    assert confirm(spapi_sim, auth, order).status_code == 204


def test_throttle_without_rate_limit_headers(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "throttle_no_headers", 1.0, ["getMarketplaceParticipations"])
    throttled = participations(spapi_sim, auth)
    assert throttled.status_code == 429 and throttled.json() == QUOTA_BODY
    assert "x-amzn-RateLimit-Limit" not in throttled.headers and throttled.headers["x-amzn-RequestId"]
    assert response_errors(SELLERS_MODEL, "getMarketplaceParticipations", 429, throttled.json()) == []
    with pytest.raises(SellingApiRequestThrottledException) as raised:
        Sellers(**client_kwargs(spapi_sim, auth)).get_marketplace_participation()
    assert raised.value.code == 429 and "x-amzn-RateLimit-Limit" not in raised.value.headers
    stats = admin(spapi_sim, "GET", "stats")
    assert (
        stats["throttled"]["getMarketplaceParticipations"] == 2
        and stats["faults"]["throttle_no_headers"] == 2
    )
    fault_mode(spapi_sim, "throttle_no_headers", 0.0)
    assert participations(spapi_sim, auth).status_code == 200  # the bucket was never touched


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [o for v in value for o in _objects(v)]
    if isinstance(value, dict):
        return [value, *(o for v in value.values() for o in _objects(v))]
    return []


def test_extra_fields_in_every_object_and_still_valid(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "extra_fields", 1.0)
    answer = search(spapi_sim, auth, lastUpdatedAfter=SINCE, maxResultsPerPage=10,
                    includedData="BUYER,RECIPIENT,FULFILLMENT,PROCEEDS,PACKAGES")  # fmt: skip
    body = answer.json()
    objects = _objects(body)
    assert len(objects) > 50 and all("simulatorExtraField" in o for o in objects)
    assert response_errors(ORDERS_MODEL, "searchOrders", 200, body) == []
    listings = requests.get(f"{spapi_sim.url}/listings/2021-08-01/items/{SELLER}", headers=auth.headers,
                            params={"marketplaceIds": US, "includedData": "summaries,attributes,offers"},
                            timeout=10).json()  # fmt: skip
    assert response_errors(LISTINGS_MODEL, "searchListingsItems", 200, listings) == []
    attributes = listings["items"][0]["attributes"]
    assert attributes["simulatorExtraField"] == []  # a map of lists gets a list
    assert injected(spapi_sim, "extra_fields") == 2


def test_lost_answer_performs_the_call_then_drops_the_connection(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    order = new_order(spapi_sim)
    fault_mode(spapi_sim, "lost_answer", 1.0, ["confirmShipment", "patchListingsItem"])
    with pytest.raises(requests.ConnectionError):
        confirm(spapi_sim, auth, order)
    shipped = admin(spapi_sim, "GET", "shipments", order_id=order["order_id"])
    assert [s["tracking_number"] for s in shipped] == ["1Z1"]  # Amazon did it
    listing = admin(spapi_sim, "GET", "listings", seller_id=SELLER, marketplace_id=US, sku="SKU-00003")
    product_type = listing["listings"][0]["product_type"]
    patch = {"productType": product_type, "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
             "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 77}]}]}  # fmt: skip
    with pytest.raises(requests.ConnectionError):
        requests.patch(f"{spapi_sim.url}/listings/2021-08-01/items/{SELLER}/SKU-00003", json=patch,
                       params={"marketplaceIds": US}, headers=auth.headers, timeout=10)  # fmt: skip
    after = admin(spapi_sim, "GET", "listings", seller_id=SELLER, marketplace_id=US, sku="SKU-00003")
    assert after["listings"][0]["quantity"] == 77
    fault_mode(spapi_sim, "lost_answer", 0.0)
    again = confirm(spapi_sim, auth, order)  # the retry of the same package ships nothing twice
    assert (
        again.status_code == 204
        and len(admin(spapi_sim, "GET", "shipments", order_id=order["order_id"])) == 1
    )
    stats = admin(spapi_sim, "GET", "stats")
    assert stats["faults"]["lost_answer"] == 2 and stats["errors"]["confirmShipment"] == 1


def test_lost_answer_of_create_feed_still_creates_the_feed(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    created = requests.post(f"{spapi_sim.url}/feeds/2021-06-30/documents", json={"contentType": "application/json"},
                            headers=auth.headers, timeout=10).json()  # fmt: skip
    document = {"header": {"sellerId": SELLER, "version": "2.0"}, "messages": []}
    requests.put(
        created["url"], data=json.dumps(document), headers={"Content-Type": "application/json"}, timeout=10
    )
    fault_mode(spapi_sim, "lost_answer", 1.0, ["createFeed"])
    spec = {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": [US],
        "inputFeedDocumentId": created["feedDocumentId"],
    }
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{spapi_sim.url}/feeds/2021-06-30/feeds", json=spec, headers=auth.headers, timeout=10)
    feeds = admin(spapi_sim, "GET", "feeds", seller_id=SELLER)["feeds"]
    assert len(feeds) == 1 and feeds[0]["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS", "DONE")
    assert injected(spapi_sim, "lost_answer") == 1


# page tokens -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pager:
    operation_id: str
    model: str
    path: str
    params: dict[str, Any]
    token_parameter: str

    def items(self, body: dict[str, Any]) -> list[str]:
        if self.operation_id == "searchOrders":
            return [o["orderId"] for o in body["orders"]]
        if self.operation_id == "searchListingsItems":
            return [i["sku"] for i in body["items"]]
        return [s["sellerSku"] for s in body["payload"]["inventorySummaries"]]

    def get(self, sim: Simulator, auth: Authorized, token: str | None = None) -> requests.Response:
        params = {**self.params, **({self.token_parameter: token} if token else {})}
        return requests.get(sim.url + self.path, params=params, headers=auth.headers, timeout=10)

    def pages(self, sim: Simulator, auth: Authorized) -> tuple[list[list[str]], list[str]]:
        """Every page (item ids) and every token, each answer checked against the model."""
        pages: list[list[str]] = []
        tokens: list[str] = []
        token: str | None = None
        while True:
            answer = self.get(sim, auth, token)
            assert answer.status_code == 200, answer.text
            validate_response(self.model, self.operation_id, 200, answer.json())
            pages.append(self.items(answer.json()))
            token = answer.json().get("pagination", {}).get("nextToken")
            if not token:
                return pages, tokens
            tokens.append(token)


PAGERS = (
    Pager("searchOrders", ORDERS_MODEL, SEARCH, {"lastUpdatedAfter": SINCE, "maxResultsPerPage": 7},
          "paginationToken"),
    Pager("searchListingsItems", LISTINGS_MODEL, f"/listings/2021-08-01/items/{SELLER}",
          {"marketplaceIds": US, "pageSize": 9, "sortBy": "sku", "sortOrder": "ASC"}, "pageToken"),
    Pager("getInventorySummaries", FBA_MODEL, "/fba/inventory/v1/summaries",
          {"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US}, "nextToken"),
)  # fmt: skip


@pytest.fixture
def paged(spapi_sim_factory: Callable[..., Simulator]) -> tuple[Simulator, Authorized]:
    sim = spapi_sim_factory(skus=400, quota_scale=1e6)  # more than one page of FBA summaries (50 a page)
    return sim, authorize(sim)


@pytest.mark.parametrize("pager", PAGERS, ids=lambda p: p.operation_id)
def test_odd_page_tokens_carry_slash_plus_and_equals_and_work_url_encoded(
    paged: tuple[Simulator, Authorized], pager: Pager
) -> None:
    sim, auth = paged
    plain_pages, _ = pager.pages(sim, auth)
    fault_mode(sim, "odd_page_tokens", 1.0, [pager.operation_id])
    odd_pages, tokens = pager.pages(sim, auth)  # requests URL-encodes the parameters
    assert odd_pages == plain_pages and len(tokens) >= 1
    assert all("/" in t and "+" in t and t.endswith("=") for t in tokens)
    assert injected(sim, "odd_page_tokens") == len(tokens)
    first = pager.get(sim, auth).json()["pagination"]["nextToken"]
    raw_query = "&".join(f"{k}={quote(str(v))}" for k, v in pager.params.items())
    unencoded = requests.get(f"{sim.url}{pager.path}?{raw_query}&{pager.token_parameter}={first}",
                             headers=auth.headers, timeout=10)  # fmt: skip
    assert unencoded.status_code == 400  # "+" arrives as a space: the token is not the one given
    assert unencoded.json()["errors"][0]["message"].startswith(pager.token_parameter)


def test_odd_page_tokens_through_python_amazon_sp_api(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "odd_page_tokens", 1.0)
    orders = Orders(version="2026-01-01", **client_kwargs(spapi_sim, auth))
    page = orders.search_orders(lastUpdatedAfter=SINCE, maxResultsPerPage=10)
    seen = [o["orderId"] for o in page.payload["orders"]]
    while page.next_token:
        assert "+" in page.next_token and "/" in page.next_token
        page = orders.search_orders(paginationToken=page.next_token)
        seen.extend(o["orderId"] for o in page.payload["orders"])
    truth = admin(spapi_sim, "GET", "orders", seller_id=SELLER, marketplace_id=US)
    assert sorted(seen) == sorted(o["order_id"] for o in truth)


@pytest.mark.parametrize("pager", PAGERS, ids=lambda p: p.operation_id)
def test_expired_page_tokens_are_refused_naming_the_parameter(
    paged: tuple[Simulator, Authorized], pager: Pager
) -> None:
    sim, auth = paged
    fault_mode(sim, "expired_page_tokens", 1.0, [pager.operation_id])
    first = pager.get(sim, auth)  # no token given: nothing to refuse
    assert first.status_code == 200
    validate_response(pager.model, pager.operation_id, 200, first.json())
    refused = pager.get(sim, auth, first.json()["pagination"]["nextToken"])
    assert refused.status_code == 400 and refused.headers["x-amzn-RequestId"]
    error = refused.json()["errors"][0]
    assert error["code"] == "InvalidInput" and error["message"].startswith(
        f"{pager.token_parameter}: expired"
    )
    assert response_errors(pager.model, pager.operation_id, 400, refused.json()) == []
    assert injected(sim, "expired_page_tokens") == 1
    fault_mode(sim, "expired_page_tokens", 0.0)  # starting again works
    pages, _ = pager.pages(sim, auth)
    assert len(pages) > 1


def test_expired_page_token_through_python_amazon_sp_api(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "expired_page_tokens", 1.0)
    orders = Orders(version="2026-01-01", **client_kwargs(spapi_sim, auth))
    page = orders.search_orders(lastUpdatedAfter=SINCE, maxResultsPerPage=5)
    with pytest.raises(SellingApiBadRequestException) as raised:
        orders.search_orders(paginationToken=page.next_token)
    assert raised.value.code == 400 and raised.value.message.startswith("paginationToken: expired")


@pytest.mark.parametrize("pager", PAGERS, ids=lambda p: p.operation_id)
def test_repeat_across_pages(paged: tuple[Simulator, Authorized], pager: Pager) -> None:
    sim, auth = paged
    plain_pages, _ = pager.pages(sim, auth)
    fault_mode(sim, "repeat_across_pages", 1.0, [pager.operation_id])
    pages, tokens = pager.pages(sim, auth)
    for previous, page in zip(pages, pages[1:], strict=False):
        assert page[:2] == previous[-2:]  # the end of a page comes again
    flat = [item for page in pages for item in page]
    assert len(flat) > len(set(flat)) and set(flat) == {i for page in plain_pages for i in page}
    assert injected(sim, "repeat_across_pages") == len(tokens)


# reports ---------------------------------------------------------------------------------------------------
def _report(sim: Simulator, auth: Authorized) -> dict[str, Any]:
    spec = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [US]}
    created = requests.post(
        f"{sim.url}/reports/2021-06-30/reports", json=spec, headers=auth.headers, timeout=10
    )
    assert created.status_code == 202
    report_id = created.json()["reportId"]
    admin(sim, "POST", "clock/advance", {"seconds": 5})
    answer = requests.get(
        f"{sim.url}/reports/2021-06-30/reports/{report_id}", headers=auth.headers, timeout=10
    )
    validate_response(REPORTS_MODEL, "getReport", 200, answer.json())
    return dict(answer.json())


def test_report_cancelled(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "report_cancelled", 1.0, ["getReport"])
    report = _report(spapi_sim, auth)
    assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report
    assert report["processingEndTime"] and injected(spapi_sim, "report_cancelled") == 1
    fault_mode(spapi_sim, "report_cancelled", 0.0)
    assert _report(spapi_sim, auth)["processingStatus"] == "DONE"


def test_report_fatal_carries_an_error_document(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "report_fatal", 1.0)
    report = _report(spapi_sim, auth)
    assert report["processingStatus"] == "FATAL" and injected(spapi_sim, "report_fatal") == 1
    meta = requests.get(f"{spapi_sim.url}/reports/2021-06-30/documents/{report['reportDocumentId']}",
                        headers=auth.headers, timeout=10)  # fmt: skip
    validate_response(REPORTS_MODEL, "getReportDocument", 200, meta.json())
    error = requests.get(meta.json()["url"], timeout=10)
    assert error.headers["Content-Type"] == "application/json" and "fatal" in error.json()["errorDetails"]


# revoked grants --------------------------------------------------------------------------------------------
def test_revoked_grant_refuses_its_access_tokens_and_a_new_consent_works(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    other = authorize(spapi_sim, "A2NASELLER0002")
    library = Sellers(**client_kwargs(spapi_sim, auth))
    assert library.get_marketplace_participation().payload  # caches an access token of the grant
    assert participations(spapi_sim, auth).status_code == 200
    assert admin(spapi_sim, "POST", f"grants/{SELLER}/revoke") == {"seller_id": SELLER, "revoked": 1}
    refused = participations(spapi_sim, auth)
    assert refused.status_code == 403 and refused.headers["x-amzn-RequestId"]
    assert refused.json() == {
        "errors": [
            {
                "code": "Unauthorized",
                "message": "Access to requested resource is denied.",
                "details": "The access token you provided is revoked, malformed or invalid.",
            }
        ]
    }
    assert response_errors(SELLERS_MODEL, "getMarketplaceParticipations", 403, refused.json()) == []
    with pytest.raises(SellingApiForbiddenException):
        library.get_marketplace_participation()  # its cached token, issued before the revoke
    refresh = lwa_token(spapi_sim, grant_type="refresh_token", refresh_token=auth.refresh_token)
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    assert participations(spapi_sim, other).status_code == 200  # other sellers keep theirs
    again = authorize(spapi_sim)  # the seller consents again: a new grant
    assert again.refresh_token != auth.refresh_token and participations(spapi_sim, again).status_code == 200
    fresh = lwa_token(spapi_sim, grant_type="refresh_token", refresh_token=again.refresh_token).json()
    assert participations(spapi_sim, Authorized(SELLER, again.refresh_token, fresh["access_token"])).ok


@pytest.mark.parametrize("mode", ["empty_body", "truncated_body", "html_5xx"])
def test_python_amazon_sp_api_takes_unreadable_answers_for_empty_payloads(
    spapi_sim: Simulator, mode: str
) -> None:
    """What the connector's adapter must catch: the library raises nothing and answers an empty payload."""
    auth = authorize(spapi_sim)
    client = Sellers(**client_kwargs(spapi_sim, auth))
    assert client.get_marketplace_participation().payload  # a real answer first
    fault_mode(spapi_sim, mode, 1.0, ["getMarketplaceParticipations"])
    seen = client.get_marketplace_participation()
    assert (seen.payload, seen.errors, seen.next_token) == ({}, None, None)
    assert seen.headers["x-amzn-RequestId"].startswith("sim-")


def test_python_amazon_sp_api_sees_a_lost_answer_as_a_connection_error(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    fault_mode(spapi_sim, "lost_answer", 1.0, ["getMarketplaceParticipations"])
    with pytest.raises(httpx.RemoteProtocolError):  # the library speaks httpx, not requests
        Sellers(**client_kwargs(spapi_sim, auth)).get_marketplace_participation()


# every mode at once ----------------------------------------------------------------------------------------
def _shape(answer: requests.Response | None, model: str, operation_id: str) -> str:
    """What an answer is: "valid" (matches the model) or the fault it shows; anything else fails the test."""
    if answer is None:
        return "lost"
    if answer.status_code in (502, 503, 504) and answer.headers["Content-Type"].startswith("text/html"):
        return "html_5xx"
    assert answer.headers["x-amzn-RequestId"], operation_id
    if answer.status_code == 429:
        assert answer.json() == QUOTA_BODY
        return "throttled"
    if answer.status_code < 300 and not answer.content and operation_id != "confirmShipment":
        return "empty_body"
    try:
        body = answer.json() if answer.content else None
    except ValueError:
        assert answer.status_code < 300, operation_id
        return "truncated_body"
    if answer.status_code == 400 and "expired" in body["errors"][0]["message"]:
        return "expired_page_tokens"
    assert answer.status_code < 300, (operation_id, answer.status_code, answer.text)
    assert response_errors(model, operation_id, answer.status_code, body) == [], operation_id
    return "valid"


def test_every_mode_at_once_gives_only_known_shapes(spapi_sim_factory: Callable[..., Simulator]) -> None:
    sim = spapi_sim_factory(skus=200, quota_scale=1e6)
    auth = authorize(sim)
    admin(sim, "POST", "faults", {"modes": {mode: {"share": 0.15} for mode in MODES}})
    shapes: dict[str, int] = {}

    def note(
        request: Callable[[], requests.Response], model: str, operation_id: str
    ) -> requests.Response | None:
        try:
            answer: requests.Response | None = request()
        except requests.ConnectionError:
            answer = None
        shape = _shape(answer, model, operation_id)
        shapes[shape] = shapes.get(shape, 0) + 1
        return answer if shape == "valid" else None

    for pager in PAGERS:
        token: str | None = None
        for _ in range(12):
            answer = note(partial(pager.get, sim, auth, token), pager.model, pager.operation_id)
            token = answer.json().get("pagination", {}).get("nextToken") if answer is not None else None
    spec = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [US]}
    reports = f"{sim.url}/reports/2021-06-30/reports"
    for _ in range(8):
        note(partial(confirm, sim, auth, new_order(sim)), V0_MODEL, "confirmShipment")
        create = partial(requests.post, reports, json=spec, headers=auth.headers, timeout=10)
        note(create, REPORTS_MODEL, "createReport")
    admin(sim, "POST", "clock/advance", {"seconds": 5})
    for report in admin(sim, "GET", "reports", seller_id=SELLER)["reports"]:
        get = partial(requests.get, f"{reports}/{report['reportId']}", headers=auth.headers, timeout=10)
        note(get, REPORTS_MODEL, "getReport")
    faults = admin(sim, "GET", "stats")["faults"]
    assert shapes["valid"] > 20
    for shape in ("html_5xx", "empty_body", "truncated_body", "expired_page_tokens"):
        assert shapes.get(shape, 0) == faults[shape], shape  # every fault counted was seen, and only those
    assert shapes.get("lost", 0) == faults["lost_answer"]
    assert shapes.get("throttled", 0) == faults["throttle_no_headers"]
    assert sum(shapes.values()) - shapes["valid"] >= 5
    statuses = {r["processingStatus"] for r in admin(sim, "GET", "reports", seller_id=SELLER)["reports"]}
    assert statuses <= {"DONE", "CANCELLED", "FATAL"}
