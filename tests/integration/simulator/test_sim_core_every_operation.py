"""Every SP-API operation the simulator serves: Amazon's usage plan from the model, quota, faults, expiry.

The wrapper applies faults, then the access token, then the quota, then validation, so requests here need
not be valid: each check holds whatever the operation's body or parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import requests
from spapi_simulator import Simulator, schemas, server
from spapi_simulator.quotas import usage_plan_from_description
from spapi_simulator.testing import admin, authorize, lwa_token

server.load_api_modules()
ROUTES = sorted({(r.operation_id, r) for r in server.SP_API_ROUTES}, key=lambda pair: pair[0])
OPERATIONS = [route for _, route in ROUTES]


def url_of(sim: Simulator, route: server.SpApiRoute) -> str:
    return sim.url + re.sub(r"<(?:path:)?(\w+)>", r"X\1", route.rule)


def headers_for(sim: Simulator, route: server.SpApiRoute) -> dict[str, str]:
    if route.grantless:
        form = {"grant_type": "client_credentials", "scope": "sellingpartnerapi::notifications"}
        token = lwa_token(sim, **form).json()["access_token"]
        return {"x-amz-access-token": token}
    return authorize(sim).headers


def call(
    sim: Simulator, route: server.SpApiRoute, headers: dict[str, str], timeout: float = 10
) -> requests.Response:
    return requests.request(route.method, url_of(sim, route), headers=headers, json={}, timeout=timeout)


def test_every_operation_of_the_issue_is_served() -> None:
    served = {r.operation_id for r in OPERATIONS}
    assert served >= {
        "getMarketplaceParticipations", "searchOrders", "getOrder", "confirmShipment", "createDestination",
        "createSubscription", "createReport", "getReport", "getReportDocument", "searchListingsItems",
        "getListingsItem", "patchListingsItem", "createFeedDocument", "createFeed", "getFeed", "getFeedDocument",
        "getInventorySummaries",
    }  # fmt: skip


@pytest.mark.parametrize("route", OPERATIONS, ids=lambda r: r.operation_id)
def test_usage_plan_is_the_models_table(route: server.SpApiRoute) -> None:
    described = usage_plan_from_description(schemas.operation(route.model, route.operation_id).description)
    assert described is not None, f"{route.model} has no usage plan for {route.operation_id}"
    assert server.usage_plan(route) == described


def test_every_operation_has_its_own_bucket_burst_then_429(
    spapi_sim_factory: Callable[..., Simulator],
) -> None:
    sim = spapi_sim_factory(quota_scale=1e-9)  # buckets practically never refill during the test
    for route in OPERATIONS:
        rate, burst = server.usage_plan(route)
        headers = headers_for(sim, route)
        answers = [call(sim, route, headers) for _ in range(burst + 1)]
        assert all(a.status_code != 429 for a in answers[:-1]), route.operation_id
        assert answers[-1].status_code == 429, (route.operation_id, answers[-1].text)
        assert schemas.response_errors(route.model, route.operation_id, 429, answers[-1].json()) == []
    throttled = admin(sim, "GET", "stats")["throttled"]
    assert throttled == {r.operation_id: 1 for r in OPERATIONS}


def test_faults_reach_every_operation(spapi_sim_factory: Callable[..., Simulator]) -> None:
    sim = spapi_sim_factory(quota_scale=1e6)
    for route in OPERATIONS:
        headers = headers_for(sim, route)
        only = {"operations": [route.operation_id]}
        for rate, status in (("error_rate_500", 500), ("error_rate_503", 503)):
            admin(sim, "POST", "faults", {rate: 1.0, **only})
            answer = call(sim, route, headers)
            assert answer.status_code == status, route.operation_id
            assert schemas.response_errors(route.model, route.operation_id, status, answer.json()) == []
            admin(sim, "POST", "faults", {rate: 0.0})
        admin(sim, "POST", "faults", {"drop_rate": 1.0, **only})
        with pytest.raises(requests.ConnectionError):
            call(sim, route, headers)
        admin(sim, "POST", "faults", {"drop_rate": 0.0, "latency_ms": 2000})
        with pytest.raises(requests.ReadTimeout):  # a slow answer: the client gives up first
            call(sim, route, headers, timeout=0.2)
        admin(sim, "POST", "faults", {"latency_ms": 0, "token_ttl_seconds": 0})
        expired = call(sim, route, headers)
        assert expired.status_code == 403, route.operation_id
        assert expired.json()["errors"][0]["details"] == "The access token you provided has expired."
        assert schemas.response_errors(route.model, route.operation_id, 403, expired.json()) == []
        admin(sim, "POST", "faults", {"token_ttl_seconds": None, "operations": None})
        assert call(sim, route, headers).status_code not in (403, 500, 503), route.operation_id
