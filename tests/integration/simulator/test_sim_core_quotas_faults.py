"""Quotas (token buckets per seller and operation) and switchable faults, over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from spapi_simulator import Simulator
from spapi_simulator.schemas import response_errors
from spapi_simulator.testing import admin, authorize, lwa_token

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
QUOTA_BODY = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                          "details": ""}]}  # fmt: skip


def test_burst_then_rate_then_429(spapi_sim_factory: Callable[..., Simulator]) -> None:
    sim = spapi_sim_factory(quota_scale=1.0)
    auth = authorize(sim)
    url = sim.url + PARTICIPATIONS
    answers = [requests.get(url, headers=auth.headers, timeout=10) for _ in range(16)]
    assert [a.status_code for a in answers] == [200] * 15 + [429]  # burst 15
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "0.016"
    assert answers[-1].json() == QUOTA_BODY and "x-amzn-RateLimit-Limit" not in answers[-1].headers
    assert response_errors("sellers.json", "getMarketplaceParticipations", 429, answers[-1].json()) == []
    admin(sim, "POST", "clock/advance", {"seconds": 62.6})  # 0.016/s: one token after 62.5 s
    assert requests.get(url, headers=auth.headers).status_code == 200
    assert requests.get(url, headers=auth.headers).status_code == 429
    other_seller = authorize(sim, "A2NASELLER0002")  # buckets are per seller
    assert requests.get(url, headers=other_seller.headers).status_code == 200
    stats = admin(sim, "GET", "stats")
    assert stats["calls"]["getMarketplaceParticipations"] == 19
    assert stats["throttled"]["getMarketplaceParticipations"] == 2
    reset = admin(sim, "POST", "stats/reset")
    assert {k: reset[k] for k in ("calls", "throttled", "errors")} == {
        "calls": {},
        "throttled": {},
        "errors": {},
    }
    assert set(reset["faults"].values()) == {0}


def test_scale_factor_speeds_every_bucket(spapi_sim_factory: Callable[..., Simulator]) -> None:
    sim = spapi_sim_factory(quota_scale=60.0)
    auth = authorize(sim)
    url = sim.url + PARTICIPATIONS
    assert [requests.get(url, headers=auth.headers).status_code for _ in range(16)][-1] == 429
    admin(sim, "POST", "clock/advance", {"seconds": 1.05})  # 0.016 * 60 = 0.96/s
    ok = requests.get(url, headers=auth.headers)
    assert ok.status_code == 200 and float(ok.headers["x-amzn-RateLimit-Limit"]) == pytest.approx(0.96)
    assert requests.get(url, headers=auth.headers).status_code == 429


def test_error_share_500_and_503_limited_to_listed_operations(
    spapi_sim_factory: Callable[..., Simulator],
) -> None:
    spapi_sim = spapi_sim_factory(quota_scale=1e6)
    auth = authorize(spapi_sim)
    admin(spapi_sim, "POST", "faults", {"error_rate_500": 0.3, "error_rate_503": 0.3,
                                        "operations": ["getMarketplaceParticipations"]})  # fmt: skip
    url = spapi_sim.url + PARTICIPATIONS
    codes = [requests.get(url, headers=auth.headers).status_code for _ in range(60)]
    assert {200, 500, 503} == set(codes) and codes.count(200) < 50
    for status in (500, 503):
        answer = next(
            a for a in (requests.get(url, headers=auth.headers) for _ in range(50)) if a.status_code == status
        )
        assert answer.json()["errors"][0]["code"] in ("InternalFailure", "ServiceUnavailable")
    search = requests.get(spapi_sim.url + "/orders/2026-01-01/orders", headers=auth.headers,
                          params={"lastUpdatedAfter": "2026-01-01T00:00:00Z"})  # fmt: skip
    assert search.status_code == 200  # not in the listed operations
    admin(spapi_sim, "POST", "faults", {"error_rate_500": 0.0, "error_rate_503": 0.0, "operations": None})
    assert all(requests.get(url, headers=auth.headers).status_code == 200 for _ in range(10))
    assert admin(spapi_sim, "GET", "stats")["errors"]["getMarketplaceParticipations"] >= 10


def test_dropped_connections(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    admin(spapi_sim, "POST", "faults", {"drop_rate": 1.0})
    with pytest.raises(requests.ConnectionError):
        requests.get(spapi_sim.url + PARTICIPATIONS, headers=auth.headers, timeout=10)
    admin(spapi_sim, "POST", "faults", {"drop_rate": 0.0})
    assert requests.get(spapi_sim.url + PARTICIPATIONS, headers=auth.headers, timeout=10).status_code == 200


def test_early_token_expiry(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    admin(spapi_sim, "POST", "faults", {"token_ttl_seconds": 30})
    assert requests.get(spapi_sim.url + PARTICIPATIONS, headers=auth.headers).status_code == 200
    admin(spapi_sim, "POST", "clock/advance", {"seconds": 31})
    expired = requests.get(spapi_sim.url + PARTICIPATIONS, headers=auth.headers)
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["details"] == "The access token you provided has expired."
    fresh = lwa_token(spapi_sim, grant_type="refresh_token", refresh_token=auth.refresh_token).json()
    assert fresh["expires_in"] == 3600  # Amazon still announces an hour: the expiry is early
    assert requests.get(
        spapi_sim.url + PARTICIPATIONS, headers={"x-amz-access-token": fresh["access_token"]}
    ).ok


def test_latency_and_fault_validation(spapi_sim: Simulator) -> None:
    answer = requests.post(f"{spapi_sim.url}/_sim/faults", json={"error_rate_500": 2})
    assert answer.status_code == 400 and "error_rate_500" in answer.json()["errors"][0]["message"]
    answer = requests.post(f"{spapi_sim.url}/_sim/faults", json={"explode": True})
    assert answer.status_code == 400 and "explode" in answer.json()["errors"][0]["message"]
    assert admin(spapi_sim, "POST", "faults", {"latency_ms": 5})["latency_ms"] == 5
    assert admin(spapi_sim, "GET", "faults")["latency_ms"] == 5
