"""Re-authorization: Amazon revokes the grant, a job marks the store, the merchant re-authorizes it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from fixtures_stores import ACME, BRIGHT, US, Api, connect_api, connected_store, consent, error_page_message
from spapi_simulator.testing import clear_sp_api_caches
from storesync.dal.store_queries import get_store
from storesync.jobs import JobMessage
from storesync.settings import ProductImportSettings
from storesync.usecases.runner import JobContext, JobOutcome, StoreJobRunner
from storesync.wiring import build_services


@pytest.fixture
def api(make_stack, spapi_sim, load_function, lambda_context) -> Api:
    return connect_api(make_stack, spapi_sim, load_function, lambda_context)


def _participations_job(services):
    def work(ctx: JobContext) -> JobOutcome:
        amazon = services.store_amazon(ctx.store)
        amazon.gate.call("getMarketplaceParticipations", amazon.sellers().get_marketplace_participation)
        return JobOutcome(result="ok")

    return work


def _run_job(store) -> JobOutcome:
    services = build_services(ProductImportSettings.load())
    message = JobMessage(job="products", merchant_id=store.merchant_id, store_id=store.store_id)
    return StoreJobRunner(services.queue).run(message, _participations_job(services))


def test_revoked_grant_then_reauthorize_reactivates_the_same_store(api):
    store_id, answer = api.connect(ACME, US)
    assert answer.status == 302
    assert _run_job(get_store("merchant-1", store_id)).final_result() == "ok"

    requests.post(f"{api.sim.url}/_sim/grants/{ACME}/revoke", timeout=5).raise_for_status()
    clear_sp_api_caches()  # the cached access token would live on for up to an hour, as at Amazon
    outcome = _run_job(get_store("merchant-1", store_id))
    assert outcome.final_result() == "error"
    shown = api("GET", f"/stores/{store_id}").json()
    assert shown["status"] == "needs_reauthorization"
    assert shown["status_reason"]

    reauth = api("POST", f"/stores/{store_id}/reauthorize")
    assert reauth.status == 200, reauth.text
    answer = api.callback(consent(reauth.json()["consent_url"], ACME))
    assert answer.status == 302
    assert dict(parse_qsl(urlsplit(answer.headers["location"]).query)) == {
        "outcome": "reauthorized",
        "store_id": store_id,
    }
    shown = api("GET", f"/stores/{store_id}").json()
    assert shown["status"] == "active" and shown["status_reason"] is None
    assert len(api("GET", "/stores").json()["stores"]) == 1
    assert _run_job(get_store("merchant-1", store_id)).final_result() == "ok"


def test_reauthorizing_with_another_seller_is_refused(api):
    store_id, _ = api.connect(ACME, US)
    reauth = api("POST", f"/stores/{store_id}/reauthorize").json()
    answer = api.callback(consent(reauth["consent_url"], BRIGHT))
    assert answer.status == 409
    assert "belongs to the Amazon seller account A1NASELLER0001" in error_page_message(answer)
    store = get_store("merchant-1", store_id)
    assert store.selling_partner_id == ACME and store.status == "active"


def test_disconnect_deletes_token_keeps_store_and_stops_jobs(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    answer = api("DELETE", f"/stores/{store.store_id}")
    assert answer.status == 200
    assert answer.json()["status"] == "disconnected"
    saved = get_store("merchant-1", store.store_id)
    assert saved.refresh_token_encrypted is None and saved.seller_key is None
    assert saved.selling_partner_id == ACME  # history stays
    assert _run_job(saved).result == "skipped"
    assert api("POST", f"/stores/{store.store_id}/reauthorize").status == 409
    assert api("POST", f"/stores/{store.store_id}/sync", body={"job": "orders"}).status == 409
    assert api("DELETE", f"/stores/{store.store_id}").status == 200  # idempotent


@pytest.fixture(autouse=True)
def _no_default_marketplace(monkeypatch):
    monkeypatch.delenv("SP_API_DEFAULT_MARKETPLACE", raising=False)
